#!/usr/bin/env bash
# bench/exit-instructions: user-space instructions per MMIO exit, counted by
# callgrind for bare_kvm and cvisor in one run. Unlike cycles, the count is
# exact and repeatable (same binary, same guest), so it shows what a change
# to the exit path costs even where timing is noisy (the nested machine).
# Two runs of the mmio-latency workload, 20 000 and 40 000 writes; the
# difference divided by 20 000 leaves out startup and teardown.
#   NESTED=1 bench/exit-instructions.sh
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
need_kvm
command -v valgrind >/dev/null || { echo "SKIP: valgrind is missing"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

# total instructions of one run under callgrind: peer, writes, command…
count() {
	local out="$tmp/cg.$1.$2"
	shift 2
	timeout 600 valgrind --tool=callgrind --callgrind-out-file="$out" \
		--vgdb=no "$@" >/dev/null 2>&1 || true
	grep -m1 '^summary:' "$out" | awk '{ print $2 }'
}

per_exit() {
	local peer=$1 a b
	shift
	a=$(count "$peer" 20000 "$@" "mmio-latency n=20000 addr=0xfeb00000")
	b=$(count "$peer" 40000 "$@" "mmio-latency n=40000 addr=0xfeb00000")
	[ -n "$a" ] && [ -n "$b" ] || { echo "FAIL: $peer did not run" >&2; exit 1; }
	awk -v a="$a" -v b="$b" 'BEGIN { printf "%.0f", (b - a) / 20000 }'
}

# cvisor's command line ends with its cmdline value, added by per_exit
cv=$(per_exit cvisor $BUILD/cvisor ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev ser8250 hostdev '>-' vdev debug-exit vdev testdev cmdline)
bare=$(per_exit bare $BUILD/bench/bare_kvm -m 64 "$GUEST" -c)
printf '%-8s %22s\n' peer instructions_per_exit
printf '%-8s %22s\n' bare "$bare" cvisor "$cv"
echo "cvisor - bare: $((cv - bare)) instructions per exit"

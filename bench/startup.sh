#!/usr/bin/env bash
# bench/startup: exec -> guest exit for the test guest's `hello`, for the
# bare-KVM limit, cvisor and QEMU microvm (PVH: QEMU 7.2 prefers multiboot
# whenever a header exists, so it gets testguest-pvh.elf, the same code
# without the multiboot header), interleaved in
# one run. Reports median/min wall time, median peak RSS and the ratios.
#   N=20 bench/startup.sh
#
# FAKE=1 runs bare and cvisor against the fake /dev/kvm of the tests (the
# guest "exits" at its first KVM_RUN): that isolates the host-side cost —
# config, memory, devices, firmware tables, threads, teardown — on machines
# without KVM. It says nothing about guest execution; QEMU is left out.
#
# PHASES=1 adds, for bare and cvisor, the median time of each startup
# phase (config, seccomp, VM, irqchip, memory, ..., guest run, teardown).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
N=${N:-20}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
if [ "${FAKE:-0}" = 1 ]; then
	[ -f "$BUILD/tests/fakekvm.so" ] || { echo "build the tests first (make unit)"; exit 1; }
	export LD_PRELOAD=$BUILD/tests/fakekvm.so FAKEKVM_SCRIPT="out 0xf4 1 0"
	echo "fake KVM: host-side cost only (no guest code runs)"
else
	need_kvm
fi

# The trivial guest of issue 12: 5 bytes loaded raw at 1 MiB, `mov al,0;
# out 0xf4,al; hlt` (any CPU mode runs them): what cvisor itself costs
# from exec to exit, nearly nothing of it in the guest; without the PIT,
# which it does not use (its destruction is most of the teardown).
printf '\xb0\x00\xe6\xf4\xf4' >"$tmp/exit.bin"
declare -A cmd=(
	[bare]="$BUILD/bench/bare_kvm -m 64 -c hello $GUEST"
	[cvisor]="$BUILD/cvisor ram 0,0xa0000 ram 1m,63m load $GUEST cmdline hello vdev ser8250 vdev debug-exit"
	[trivial]="$BUILD/cvisor ram 1m,63m reserve loc io:0x40,4 load 0x100000,$tmp/exit.bin vdev debug-exit mode plain"
	[qemu]="qemu-system-x86_64 -M microvm -accel kvm -m 64 -nodefaults -nographic -serial stdio -device isa-debug-exit,iobase=0xf4 -kernel ${GUEST%.elf}-pvh.elf -append hello"
)
peers="bare cvisor trivial qemu"
if ! command -v qemu-system-x86_64 >/dev/null || [ "${FAKE:-0}" = 1 ]; then
	peers="bare cvisor trivial"
fi

# Interleave the peers so that drift in the machine hits all alike.
for i in $(seq "$N"); do
	for p in $peers; do
		# PHASES=1: bare and cvisor stamp their startup phases
		# (src/vm/vm_phases.h); the runner's wall time ends it
		[ "${PHASES:-0}" = 1 ] && export CVISOR_PHASES=$tmp/$p.phases
		# shellcheck disable=SC2086
		$RUNNER 1 ${cmd[$p]} >>"$tmp/$p"
		[ -f "$tmp/$p.phases" ] &&
			echo "$p exit $(tail -1 "$tmp/$p" | awk '{print $1}')" >>"$tmp/$p.phases"
	done
done
unset CVISOR_PHASES

# Per phase, the median over the runs of the time since the previous
# stamp: what each step costs, from the runner's fork (main: exec and
# the dynamic linker) to its wait4 (exit: the kernel's teardown).
phase_table() {
	awk '$2 == "main" { prev = 0 }
	     { if (!($2 in idx)) idx[$2] = ++n
	       print idx[$2], $2, $3 - prev; prev = $3 }' "$1" |
	sort -k1,1n -k3,3g |
	awk 'function out() { if (m) printf "  %-16s %8.3f\n", name,
				 m % 2 ? v[(m + 1) / 2] : (v[m / 2] + v[m / 2 + 1]) / 2 }
	     $1 != cur { out(); cur = $1; name = $2; m = 0 }
	     { v[++m] = $3 } END { out() }'
}

printf '%-8s %10s %10s %8s %12s %8s %s\n' peer median_ms min_ms cpu_ms peak_rss_kib status ratio_to_bare
bare_ms=$(median 1 <"$tmp/bare")
bare_rss=$(median 2 <"$tmp/bare")
for p in $peers; do
	ms=$(median 1 <"$tmp/$p"); rss=$(median 2 <"$tmp/$p")
	min=$(sort -n "$tmp/$p" | head -1 | awk '{print $1}')
	st=$(awk '{print $3}' "$tmp/$p" | sort -u | tr '\n' ' ')
	cpu=$(median 4 <"$tmp/$p")
	printf '%-8s %10.2f %10.2f %8.2f %12d %8s %s\n' "$p" "$ms" "$min" "$cpu" "$rss" "$st" "$(ratio "$ms" "$bare_ms")"
done
for p in $peers; do
	[ -f "$tmp/$p.phases" ] || continue
	echo "$p: median ms per phase (since the previous stamp)"
	phase_table "$tmp/$p.phases"
done
cv_ms=$(median 1 <"$tmp/cvisor"); cv_rss=$(median 2 <"$tmp/cvisor")
echo "cvisor on the trivial raw guest: $(median 1 <"$tmp/trivial") ms median wall (goal < 5)"
echo "cvisor/bare wall: $(ratio "$cv_ms" "$bare_ms")x (goal <= 1.2, issue 12)"
echo "cvisor-bare peak RSS: $(( (cv_rss - bare_rss) )) KiB (goal <= 1024, issue 12)"
if [ -f "$tmp/qemu" ]; then
	echo "qemu/cvisor wall: $(ratio "$(median 1 <"$tmp/qemu")" "$cv_ms")x (goal >= 10)"
fi

#!/usr/bin/env bash
# bench/scsi: the LSI 53C895A under cvisor and under QEMU (-device
# lsi53c895a with scsi-hd), both driven by the test guest's scsi-bench
# (guest/scsi_bench.c: its own SCRIPTS driver, one command at a time), with
# cvisor's virtio-blk (blk-bench, qd 1) beside them for scale, in one run:
#   1 MiB sequential read and write, 4 KiB random read and write.
# Medians over N runs, interleaved so drift hits every peer alike, the
# peers' order rotated each round, and the image flushed before each write
# run: every writer starts from clean page-cache pages with no write-back
# of the previous run's under way (without this the seqwrite numbers were
# the host's write-back state, not the device: cvisor 0.16x QEMU one night,
# 2.6x the next, same code).
#   N=3 SIZE_MB=256 bench/scsi.sh
#
# The same image (build/bench-scsi.img, SIZE_MB MiB, written in full once)
# through the host's page cache everywhere: cvisor's lsi53c895a has no
# O_DIRECT option, QEMU runs with cache=writeback, virtio-blk without
# `dio`. Both VMMs use KVM, 64 MiB and the multiboot/PVH test guest.
# MB = 10^6 bytes. Goal (issue 16): cvisor >= 1.2x QEMU on each case.
# Exits to userspace per command (boot included) beside the rates: what a
# loaded host does not blur, since on kvm_pvm each costs tens of us
# (cvisor's own count, --stats; QEMU's from `perf stat -e
# kvm:kvm_userspace_exit` where perf may trace it, else nan).
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
need_kvm
N=${N:-3}
SIZE_MB=${SIZE_MB:-256}
SEQ_MB=${SEQ_MB:-64}              # bytes moved per sequential run
RAND_IOS=${RAND_IOS:-2000}        # requests per random run
QEMU=${QEMU:-qemu-system-x86_64}
IMG=${IMG:-$BUILD/bench-scsi.img}
CVISOR=$BUILD/cvisor
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

[ -f "$GUEST" ] || { echo "build the guest first (make guest)"; exit 1; }
if [ ! -f "$IMG" ] || [ "$(stat -c %s "$IMG")" != $((SIZE_MB << 20)) ]; then
	echo "writing $IMG ($SIZE_MB MiB)"
	dd if=/dev/zero of="$IMG" bs=1M count="$SIZE_MB" conv=fsync status=none
fi

cases="seqread seqwrite randread randwrite"
args() {   # args CASE: the workload's parameters
	case $1 in
	seq*) echo "mode=$1 bs=1048576 mb=$SEQ_MB" ;;
	*) echo "mode=$1 bs=4096 ios=$RAND_IOS" ;;
	esac
}

# QEMU's exits counted by perf, when it can trace KVM here.
PERF=
perf stat -x, -e kvm:kvm_userspace_exit -o /dev/null true 2>/dev/null &&
	PERF="perf stat -x, -e kvm:kvm_userspace_exit -o $tmp/perf"

# run PEER CASE: one run; prints "mbps iops exits-per-command" (nan when
# unknown)
run() {
	local peer=$1 c=$2 a out cmds exits=
	a=$(args "$c")
	cmds=$RAND_IOS; case $c in seq*) cmds=$SEQ_MB ;; esac
	case $c in *write) sync "$IMG" ;; esac
	rm -f "$tmp/perf"
	case $peer in
	cvisor) out=$(timeout 600 "$CVISOR" --stats ram 0,0xa0000 ram 1m,63m load "$GUEST" \
		vdev ser8250 hostdev '>-' vdev debug-exit mode plain \
		cmdline "scsi-bench $a" vdev lsi53c895a hostdev "$IMG" </dev/null 2>&1) ;;
	virtio) out=$(timeout 600 "$CVISOR" --stats ram 0,0xa0000 ram 1m,63m load "$GUEST" \
		vdev ser8250 hostdev '>-' vdev debug-exit mode plain \
		cmdline "blk-bench $a qd=1 transport=pci" vdev virtio-blk hostdev "$IMG" </dev/null 2>&1) ;;
	qemu) out=$(timeout 600 $PERF "$QEMU" -M pc -accel "${ACCEL:-kvm}" -m 64 -nodefaults \
		-nographic -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
		-kernel "$GUEST" -append "scsi-bench $a" -device lsi53c895a,id=scsi0 \
		-drive "file=$IMG,if=none,format=raw,id=d0,cache=writeback" \
		-device scsi-hd,drive=d0,bus=scsi0.0,scsi-id=0 </dev/null 2>&1 | tr -d '\r')
		[ -f "$tmp/perf" ] && exits=$(grep -a kvm_userspace_exit "$tmp/perf" | cut -d, -f1) ;;
	esac
	[ "$peer" = qemu ] ||
		exits=$(grep -aE '^vcpu [0-9]+: [0-9]+ exits' <<<"$out" | awk '{ s += $3 } END { print s }')
	printf '%s %s\n' "$(grep -a '^RESULT' <<<"$out" |
		sed -E 's/.*mbps=([0-9.]+) iops=([0-9]+).*/\1 \2/' |
		grep -E '^[0-9.]+ [0-9]+$' || echo "nan nan")" "$(ratio "${exits:-0}" "$cmds" |
		sed 's/^0\.00$/nan/')"
}

peers="cvisor virtio"
command -v "$QEMU" >/dev/null && peers="cvisor qemu virtio"
rotate() {   # rotate WORD...: the list with its first word last
	local first=$1
	shift
	echo "$* $first"
}
for i in $(seq "$N"); do
	for c in $cases; do
		for p in $peers; do
			echo "$(run "$p" "$c")" >>"$tmp/$p.$c"
		done
	done
	peers=$(rotate $peers)
	echo "round $i of $N done" >&2
done

med() {   # med PEER CASE [COLUMN]: the median of the case's own unit
	[ -f "$tmp/$1.$2" ] || { echo nan; return; }
	if [ -n "${3:-}" ]; then
		grep -v nan <<<"$(awk '{ print $3 }' "$tmp/$1.$2")" | median 1
		return
	fi
	case $2 in
	seq*) median 1 <"$tmp/$1.$2" ;;
	*) median 2 <"$tmp/$1.$2" ;;
	esac
}

echo "LSI 53C895A: cvisor vs QEMU (scsi-bench, one command at a time), virtio-blk qd 1 beside; page cache; medians of $N"
printf '%-10s %6s %10s %10s %12s %11s %14s %12s %12s\n' case unit cvisor qemu cvisor/qemu virtio-blk virtio/cvisor \
	exits:cvisor exits:qemu
for c in $cases; do
	u=IOPS; case $c in seq*) u=MB/s ;; esac
	cv=$(med cvisor "$c") q=$(med qemu "$c") v=$(med virtio "$c")
	printf '%-10s %6s %10s %10s %12s %11s %14s %12s %12s\n' "$c" "$u" "$cv" "$q" \
		"$(ratio "$cv" "$q")" "$v" "$(ratio "$v" "$cv")" \
		"$(med cvisor "$c" 3)" "$(med qemu "$c" 3)"
done
echo "exits: to userspace per command (boot included; QEMU's through perf, else nan)"
echo "goal: cvisor >= 1.2x QEMU on each case"

#!/usr/bin/env bash
# bench/blk: virtio-blk throughput and IOPS of the test guest's blk-bench
# under cvisor and QEMU (virtio-pci and virtio-mmio each), next to the
# host doing the same I/O on the same image file with fio (the limit), in
# one run:
#   1 MiB sequential read and write (qd 1), 4 KiB random read at qd 1 and 32.
# Medians over N runs, interleaved so drift hits every peer alike.
#   N=3 SIZE_MB=256 bench/blk.sh
#
# Cache mode, the same everywhere: O_DIRECT on the image. cvisor `dio
# enable`; QEMU `cache=none,aio=io_uring` (AIO=native to change); fio
# `--ioengine=io_uring --direct=1` with registered files and buffers, the
# same block size and queue depth (sequential: consecutive blocks; random:
# uniform over the disk, no random map), the best the host does with this
# file. The image (build/bench-disk.img, SIZE_MB MiB) is written in full
# once, so no read hits a hole. MB = 10^6 bytes.
#
# fio's buffers for the 1 MiB cases are huge pages (--iomem=shmhuge) when
# the host has a hugetlb pool, or when the bench may reserve one (root: 4
# pages, given back at the end): a guest's 1 MiB buffer is in THP-backed
# RAM, one or two physical segments, while fio's page-sized buffers need
# 256 and the host's disk then takes half the rate (on the development
# machine: 1.5-1.7 GB/s against 3.1-3.2 GB/s): the limit is the best the
# host does.
#
# POLL_US=N gives cvisor `poll-us N` (default: the device's default).
# QEMU_IOTHREAD=1 adds qemu-iot-pci and qemu-iot-mmio: QEMU with the disk
# in an iothread, which polls (poll-max-ns 32768 by default) as cvisor's
# poll-us does.
# BASE=DIR adds base-pci and base-mmio: DIR/cvisor, an older build, run the
# same way in the same run (before/after comparisons).
#
# Guests: cvisor boots testguest.elf through PVH; QEMU gets testguest.elf on
# pc (multiboot, SeaBIOS assigns the BARs) and testguest-pvh.elf on microvm
# with version-2 virtio-mmio. Both VMMs use KVM and 64 MiB.
# QEMU option lists contain commas by nature:
# shellcheck disable=SC2054
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
need_kvm
N=${N:-3}
SIZE_MB=${SIZE_MB:-256}
SEQ_MB=${SEQ_MB:-$SIZE_MB}        # bytes moved per sequential run
RAND_IOS=${RAND_IOS:-20000}       # requests per random run
AIO=${AIO:-io_uring}
QEMU=${QEMU:-qemu-system-x86_64}
IMG=${IMG:-$BUILD/bench-disk.img}
MMIO=0xd0000000
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

[ -f "$GUEST" ] || { echo "build the guest first (make guest)"; exit 1; }
if [ ! -f "$IMG" ] || [ "$(stat -c %s "$IMG")" != $((SIZE_MB << 20)) ]; then
	echo "writing $IMG ($SIZE_MB MiB)"
	dd if=/dev/zero of="$IMG" bs=1M count="$SIZE_MB" conv=fsync status=none
fi

command -v fio >/dev/null || { echo "fio is missing (scripts/deps.sh bench)"; exit 1; }
# The TSC rate in kHz, for the guests' tsc_khz=, so every peer converts
# cycles to time alike (a KVM guest's TSC runs at the host's rate).
cat >"$tmp/tsc.c" <<'EOF'
#include <stdint.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>
static uint64_t ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}
static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}
int main(void)
{
	uint64_t t0 = ns(), c0 = rdtsc();
	usleep(200000);
	uint64_t t1 = ns(), c1 = rdtsc();
	printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000 / (t1 - t0)));
	return 0;
}
EOF
cc -O2 -o "$tmp/tsc" "$tmp/tsc.c"
TSC_KHZ=${TSC_KHZ:-$("$tmp/tsc")}

# case name -> guest parameters
cases="seqread seqwrite randread-qd1 randread-qd32"
declare -A gargs=(
	[seqread]="mode=seqread bs=1048576 qd=1 mb=$SEQ_MB"
	[seqwrite]="mode=seqwrite bs=1048576 qd=1 mb=$SEQ_MB"
	[randread-qd1]="mode=randread bs=4096 qd=1 ios=$RAND_IOS"
	[randread-qd32]="mode=randread bs=4096 qd=32 ios=$((RAND_IOS * 4))"
)
# fio's rw= bs iodepth and amount (--io_size= bytes or --number_ios=)
declare -A fargs=(
	[seqread]="read 1048576 1 --io_size=${SEQ_MB}m"
	[seqwrite]="write 1048576 1 --io_size=${SEQ_MB}m"
	[randread-qd1]="randread 4096 1 --number_ios=$RAND_IOS"
	[randread-qd32]="randread 4096 32 --number_ios=$((RAND_IOS * 4))"
)

# Huge pages for fio's sequential buffers (see the top): the pool there
# is, or 4 pages reserved here and given back at the exit.
hugemem=
huge_free() { awk '/^HugePages_Free:/ { n = $2 } END { print n + 0 }' /proc/meminfo; }
if [ "$(huge_free)" -lt 1 ] && [ -w /proc/sys/vm/nr_hugepages ]; then
	huge_was=$(cat /proc/sys/vm/nr_hugepages)
	trap 'echo "$huge_was" >/proc/sys/vm/nr_hugepages; rm -rf "$tmp"' EXIT
	echo $((huge_was + 4)) >/proc/sys/vm/nr_hugepages
fi
[ "$(huge_free)" -ge 1 ] && hugemem=--iomem=shmhuge

# run_fio CASE: "MB/s IOPS" of fio on the image (terse v3: read KiB/s
# and IOPS in fields 7 and 8, write in 48 and 49).
run_fio() {
	local rw bs qd amount out mem=
	read -r rw bs qd amount <<<"${fargs[$1]}"
	case $1 in seq*) mem=$hugemem ;; esac
	# $mem is empty or one word.
	# shellcheck disable=SC2086
	out=$(fio --name=limit --filename="$IMG" --ioengine=io_uring $mem \
		--direct=1 --fixedbufs=1 --registerfiles=1 --rw="$rw" --bs="$bs" \
		--iodepth="$qd" "$amount" --norandommap --randrepeat=0 \
		--output-format=terse --terse-version=3 2>"$tmp/err") || true
	awk -F';' -v w="$rw" 'NF > 50 { bw = w == "write" ? $48 : $7;
		io = w == "write" ? $49 : $8
		printf "%.1f %d\n", bw * 1024 / 1e6, io; ok = 1 }
		END { if (!ok) print "nan nan" }' <<<"$out"
}

base="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >- vdev debug-exit mode plain"
qemu=("$QEMU" -accel "${ACCEL:-kvm}" -m 64 -nodefaults -nographic -serial stdio
	-no-reboot -device isa-debug-exit,iobase=0xf4
	-drive "file=$IMG,if=none,id=d0,format=raw,cache=none,aio=$AIO")
# peer_argv PEER GUESTARGS: sets argv to the command for one run.
peer_argv() {
	local a="blk-bench $2 tsc_khz=$TSC_KHZ"
	# $base is split into tokens on purpose.
	# shellcheck disable=SC2206
	case $1 in
	cvisor-pci) argv=("$BUILD/cvisor" $base cmdline "$a transport=pci"
		vdev virtio-blk hostdev "$IMG" dio enable $poll) ;;
	cvisor-mmio) argv=("$BUILD/cvisor" $base cmdline "$a transport=mmio mmio=$MMIO"
		vdev virtio-blk loc "$MMIO" intr ioapic:10 hostdev "$IMG" dio enable $poll) ;;
	base-pci) argv=("$BASE/cvisor" $base cmdline "$a transport=pci"
		vdev virtio-blk hostdev "$IMG" dio enable) ;;
	base-mmio) argv=("$BASE/cvisor" $base cmdline "$a transport=mmio mmio=$MMIO"
		vdev virtio-blk loc "$MMIO" intr ioapic:10 hostdev "$IMG" dio enable) ;;
	qemu-pci) argv=("${qemu[@]}" -M pc -kernel "$GUEST" -append "$a transport=pci"
		-device virtio-blk-pci,drive=d0,disable-legacy=on) ;;
	qemu-mmio) argv=("${qemu[@]}" -M microvm -global virtio-mmio.force-legacy=false
		-kernel "${GUEST%.elf}-pvh.elf" -append "$a transport=mmio"
		-device virtio-blk-device,drive=d0) ;;
	qemu-iot-pci) argv=("${qemu[@]}" -M pc -kernel "$GUEST" -append "$a transport=pci"
		-object iothread,id=io0
		-device virtio-blk-pci,drive=d0,disable-legacy=on,iothread=io0) ;;
	qemu-iot-mmio) argv=("${qemu[@]}" -M microvm -global virtio-mmio.force-legacy=false
		-kernel "${GUEST%.elf}-pvh.elf" -append "$a transport=mmio"
		-object iothread,id=io0 -device virtio-blk-device,drive=d0,iothread=io0) ;;
	esac
}

poll=${POLL_US:+poll-us $POLL_US}
peers=${PEERS:-cvisor-pci cvisor-mmio}
if [ -z "${PEERS:-}" ] && [ -n "${BASE:-}" ]; then
	peers="$peers base-pci base-mmio"
fi
if [ -z "${PEERS:-}" ] && command -v "$QEMU" >/dev/null; then
	peers="$peers qemu-pci qemu-mmio"
	[ "${QEMU_IOTHREAD:-0}" = 1 ] && peers="$peers qemu-iot-pci qemu-iot-mmio"
fi
field() { grep -ao "$1=[0-9.]*" | head -1 | cut -d= -f2; }

# run_peer PEER GUESTARGS: prints "MB/s IOPS" of one run ("nan nan" if it
# failed, with the reason on stderr).
run_peer() {
	local argv line
	peer_argv "$1" "$2"
	line=$(timeout 600 "${argv[@]}" </dev/null 2>"$tmp/err" | tr -d '\r' |
		grep -a '^RESULT blk-bench') || true
	if [ -z "$line" ]; then
		echo "  $1: no result; stderr: $(tail -2 "$tmp/err")" >&2
		echo "nan nan"
		return
	fi
	echo "$(field mbps <<<"$line") $(field iops <<<"$line")"
}

for i in $(seq "$N"); do
	for c in $cases; do
		for p in $peers; do
			run_peer "$p" "${gargs[$c]}" >>"$tmp/$c.$p"
		done
		run_fio "$c" >>"$tmp/$c.fio"
	done
	echo "run $i/$N done" >&2
done

echo "virtio-blk, O_DIRECT everywhere (cvisor dio enable${poll:+ $poll}, QEMU cache=none,aio=$AIO, fio io_uring${hugemem:+, huge-page buffers for seq*}), image $SIZE_MB MiB, medians of $N, guest tsc_khz=$TSC_KHZ"
# spread COL <FILE: "min-max" of column COL
spread() { sort -n -k"$1" | awk -v c="$1" 'NR == 1 { lo = $c } { hi = $c }
	END { print (NR ? lo "-" hi : "nan") }'; }
printf '%-14s %-12s %10s %10s %20s\n' case peer MB/s IOPS "spread (min-max)"
for c in $cases; do
	col=1
	case $c in randread*) col=2 ;; esac
	for p in $peers fio; do
		printf '%-14s %-12s %10s %10s %20s\n' "$c" "$p" \
			"$(median 1 <"$tmp/$c.$p")" "$(median 2 <"$tmp/$c.$p")" \
			"$(spread $col <"$tmp/$c.$p")"
	done
done
echo
printf '%-14s %16s %16s %14s %14s %14s %14s\n' case pci/qemu-pci mmio/qemu-mmio pci/fio mmio/fio pci/base mmio/base
for c in $cases; do
	col=1
	case $c in randread*) col=2 ;; esac   # IOPS for random, MB/s otherwise
	med() { if [ -f "$tmp/$c.$1" ]; then median $col <"$tmp/$c.$1"; else echo nan; fi; }
	cp=$(med cvisor-pci) cm=$(med cvisor-mmio) h=$(med fio)
	qp=$(med qemu-pci) qm=$(med qemu-mmio) bp=$(med base-pci) bm=$(med base-mmio)
	printf '%-14s %16s %16s %14s %14s %14s %14s\n' "$c" "$(ratio "$cp" "$qp")" \
		"$(ratio "$cm" "$qm")" "$(ratio "$cp" "$h")" "$(ratio "$cm" "$h")" \
		"$(ratio "$cp" "$bp")" "$(ratio "$cm" "$bm")"
done
if [ "${QEMU_IOTHREAD:-0}" = 1 ]; then
	echo
	printf '%-14s %20s %20s\n' case pci/qemu-iot-pci mmio/qemu-iot-mmio
	for c in $cases; do
		col=1
		case $c in randread*) col=2 ;; esac
		printf '%-14s %20s %20s\n' "$c" \
			"$(ratio "$(med cvisor-pci)" "$(med qemu-iot-pci)")" \
			"$(ratio "$(med cvisor-mmio)" "$(med qemu-iot-mmio)")"
	done
fi
echo "goals: cvisor >= 1.2x QEMU on each; sequential >= 0.90 of fio"

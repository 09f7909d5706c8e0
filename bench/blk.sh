#!/usr/bin/env bash
# bench/blk: virtio-blk throughput and IOPS of the test guest's blk-bench
# under cvisor and QEMU (virtio-pci and virtio-mmio each), next to the host
# doing the same I/O on the same image file, in one run:
#   1 MiB sequential read and write (qd 1), 4 KiB random read at qd 1 and 32.
# Medians over N runs, interleaved so drift hits every peer alike.
#   N=3 SIZE_MB=256 bench/blk.sh
#
# Cache mode, the same everywhere: O_DIRECT on the image. cvisor `dio
# enable`; QEMU `cache=none,aio=io_uring` (AIO=native to change); the host
# tool opens the file O_DIRECT. The image (build/bench-disk.img, SIZE_MB
# MiB) is written in full once, so no read hits a hole.
#
# The host side is a small C program compiled here (fio is not assumed):
# QD threads each doing synchronous pread/pwrite of BS bytes, the same
# offsets pattern as the guest (sequential: consecutive blocks; random:
# uniform over the disk), timing each request. MB = 10^6 bytes.
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

cat >"$tmp/hostio.c" <<'EOF'
/* hostio FILE MODE BS QD IOS: the guest's blk-bench, on the host. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int fd, wr, rnd;
static uint64_t bs, nblocks, ios, *lat;
static uint64_t next_io;   /* atomic ticket: which request is next */

static uint64_t now_ns(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *worker(void *arg)
{
	uint64_t seed = (uintptr_t)arg * 0x9E3779B97F4A7C15ull | 1;
	void *buf;
	if (posix_memalign(&buf, 4096, bs))
		abort();
	memset(buf, 0x5a, bs);
	for (;;) {
		uint64_t i = __atomic_fetch_add(&next_io, 1, __ATOMIC_RELAXED);
		if (i >= ios)
			break;
		seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
		uint64_t off = (rnd ? seed % nblocks : i % nblocks) * bs;
		uint64_t t0 = now_ns();
		ssize_t n = wr ? pwrite(fd, buf, bs, (off_t)off)
			       : pread(fd, buf, bs, (off_t)off);
		if (n != (ssize_t)bs) {
			perror("hostio");
			exit(1);
		}
		lat[i] = now_ns() - t0;
	}
	free(buf);
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

int main(int argc, char **argv)
{
	/* hostio --tsc: the TSC rate in kHz, for the guests' tsc_khz=, so
	 * every peer converts cycles to time alike (a KVM guest's TSC runs
	 * at the host's rate). */
	if (argc == 2 && !strcmp(argv[1], "--tsc")) {
		uint64_t t0 = now_ns(), c0 = rdtsc();
		usleep(200000);
		uint64_t t1 = now_ns(), c1 = rdtsc();
		printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000 / (t1 - t0)));
		return 0;
	}
	if (argc != 6)
		return 2;
	wr = strstr(argv[2], "write") != NULL;
	rnd = strncmp(argv[2], "rand", 4) == 0;
	bs = strtoull(argv[3], 0, 0);
	int qd = atoi(argv[4]);
	ios = strtoull(argv[5], 0, 0);
	fd = open(argv[1], (wr ? O_RDWR : O_RDONLY) | O_DIRECT);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	nblocks = (uint64_t)lseek(fd, 0, SEEK_END) / bs;
	lat = calloc(ios, sizeof(*lat));
	pthread_t th[256];
	if (qd < 1 || qd > 256 || !nblocks || !lat)
		return 2;
	uint64_t t0 = now_ns();
	for (int i = 0; i < qd; i++)
		pthread_create(&th[i], NULL, worker, (void *)(uintptr_t)(i + 1));
	for (int i = 0; i < qd; i++)
		pthread_join(th[i], NULL);
	if (wr)
		fdatasync(fd);   /* the guest's writes are not flushed either,
				    but O_DIRECT already reached the device */
	double s = (now_ns() - t0) / 1e9;
	qsort(lat, ios, sizeof(*lat), cmp);
	printf("RESULT host mode=%s bs=%s qd=%d mbps=%.1f iops=%.0f "
	       "lat_p50_us=%.1f lat_p99_us=%.1f\n", argv[2], argv[3], qd,
	       ios * bs / s / 1e6, ios / s, lat[(ios - 1) / 2] / 1e3,
	       lat[(ios - 1) * 99 / 100] / 1e3);
	return 0;
}
EOF
cc -O2 -pthread -o "$tmp/hostio" "$tmp/hostio.c"
TSC_KHZ=${TSC_KHZ:-$("$tmp/hostio" --tsc)}

# case name -> guest parameters and the host tool's (mode bs qd ios)
cases="seqread seqwrite randread-qd1 randread-qd32"
declare -A gargs=(
	[seqread]="mode=seqread bs=1048576 qd=1 mb=$SEQ_MB"
	[seqwrite]="mode=seqwrite bs=1048576 qd=1 mb=$SEQ_MB"
	[randread-qd1]="mode=randread bs=4096 qd=1 ios=$RAND_IOS"
	[randread-qd32]="mode=randread bs=4096 qd=32 ios=$((RAND_IOS * 4))"
)
declare -A hargs=(
	[seqread]="seqread 1048576 1 $SEQ_MB"
	[seqwrite]="seqwrite 1048576 1 $SEQ_MB"
	[randread-qd1]="randread 4096 1 $RAND_IOS"
	[randread-qd32]="randread 4096 32 $((RAND_IOS * 4))"
)

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
		vdev virtio-blk hostdev "$IMG" dio enable) ;;
	cvisor-mmio) argv=("$BUILD/cvisor" $base cmdline "$a transport=mmio mmio=$MMIO"
		vdev virtio-blk loc "$MMIO" intr ioapic:10 hostdev "$IMG" dio enable) ;;
	qemu-pci) argv=("${qemu[@]}" -M pc -kernel "$GUEST" -append "$a transport=pci"
		-device virtio-blk-pci,drive=d0,disable-legacy=on) ;;
	qemu-mmio) argv=("${qemu[@]}" -M microvm -global virtio-mmio.force-legacy=false
		-kernel "${GUEST%.elf}-pvh.elf" -append "$a transport=mmio"
		-device virtio-blk-device,drive=d0) ;;
	esac
}

peers=${PEERS:-cvisor-pci cvisor-mmio}
if [ -z "${PEERS:-}" ] && command -v "$QEMU" >/dev/null; then
	peers="$peers qemu-pci qemu-mmio"
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
		# shellcheck disable=SC2086
		line=$("$tmp/hostio" "$IMG" ${hargs[$c]})
		echo "$(field mbps <<<"$line") $(field iops <<<"$line")" >>"$tmp/$c.host"
	done
	echo "run $i/$N done" >&2
done

echo "virtio-blk, O_DIRECT everywhere (cvisor dio enable, QEMU cache=none,aio=$AIO), image $SIZE_MB MiB, medians of $N, guest tsc_khz=$TSC_KHZ"
printf '%-14s %-12s %10s %10s\n' case peer MB/s IOPS
for c in $cases; do
	for p in $peers host; do
		printf '%-14s %-12s %10s %10s\n' "$c" "$p" \
			"$(median 1 <"$tmp/$c.$p")" "$(median 2 <"$tmp/$c.$p")"
	done
done
echo
printf '%-14s %18s %18s %16s %16s\n' case cvisor/qemu-pci cvisor/qemu-mmio pci/host mmio/host
for c in $cases; do
	col=1
	case $c in randread*) col=2 ;; esac   # IOPS for random, MB/s otherwise
	med() { if [ -f "$tmp/$c.$1" ]; then median $col <"$tmp/$c.$1"; else echo nan; fi; }
	cp=$(med cvisor-pci) cm=$(med cvisor-mmio) h=$(med host)
	qp=$(med qemu-pci) qm=$(med qemu-mmio)
	printf '%-14s %18s %18s %16s %16s\n' "$c" "$(ratio "$cp" "$qp")" \
		"$(ratio "$cm" "$qm")" "$(ratio "$cp" "$h")" "$(ratio "$cm" "$h")"
done
echo "goals: cvisor >= 1.2x QEMU on each; sequential >= 0.80 of the host"

# blk-bench smoke test: every mode on both transports completes and
# reports its numbers (bench/blk.sh does the measuring).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
truncate -s 64M "$TMP/disk.img"
re='mbps=[0-9]+\.[0-9] iops=[0-9]+ lat_p50_us=[0-9]+\.[0-9] lat_p99_us=[0-9]+\.[0-9]$'
for t in pci mmio; do
	if [ $t = pci ]; then dev="vdev virtio-blk hostdev $TMP/disk.img"
	else dev="vdev virtio-blk loc 0xd0000000 intr ioapic:10 hostdev $TMP/disk.img"; fi
	for m in "seqread bs=1048576 qd=1 mb=16" "seqwrite bs=1048576 qd=1 mb=16" \
		 "randread bs=4096 qd=1 ios=2000" "randread bs=4096 qd=32 ios=4000" \
		 "randwrite bs=4096 qd=8 ios=2000"; do
		# shellcheck disable=SC2086
		run_guest "blk-bench transport=$t mmio=0xd0000000 mode=$m" $dev
		expect_status 0
		# shellcheck disable=SC2086
		set -- $m
		expect_out "^RESULT blk-bench mode=$1 $2 $3 $re"
	done
done

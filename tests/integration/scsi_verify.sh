# scsi-verify through the LSI 53C895A (vdev lsi53c895a): the test guest's
# own SCRIPTS driver (guest/lsi.c) writes blk-verify's pattern across a
# disk, flushes, reads it back, checks CHECK CONDITION and sense for an LBA
# past the end and an unknown opcode, reads a CD-ROM's capacity and TOC
# and is refused a write to it; the host then checks the image. The same
# workload runs under QEMU's -device lsi53c895a (whose targets disconnect
# and reselect, which cvisor's never do) when QEMU is installed, and both
# must give the same RESULT line and image.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 for the image check"
check_image() {
	python3 "$(dirname "$0")/blk_check.py" "$@" >"$TMP/check" 2>&1 ||
		fail "host-side image check: $(cat "$TMP/check")"
}

truncate -s 64M "$TMP/disk.img"
truncate -s 8M "$TMP/cd.iso"
run_guest "scsi-verify cdrom=2" vdev lsi53c895a hostdev "$TMP/disk.img" \
	hostdev "<$TMP/cd.iso" target 2 cdrom
expect_status 0
expect_out '^lsi: 00:0[0-9a-f]\.0 regs 0x'
expect_out "^scsi-verify: inquiry type=0 vendor='CVISOR  ' product='VIRTUAL DISK    '$"
expect_out '^scsi-verify: read past the end status=2 sense=052100$'
expect_out '^scsi-verify: opcode 0x02 status=2 sense=052000$'
expect_out '^scsi-verify: cdrom target=2 type=5 blocks=4096 block=2048$'
expect_out '^scsi-verify: cdrom write status=2 sense=072700$'
expect_out '^RESULT scsi-verify blocks=16 capacity=131072 ok=1$'
check_image "$TMP/disk.img"
cvisor_result=$(grep '^RESULT' "$TMP/out")

# Another target and LUN, an odd size, another seed.
truncate -s 40M "$TMP/odd.img"
run_guest "scsi-verify target=5 lun=1 blocks=21 seed=0x5eed" \
	vdev lsi53c895a loc pci:0:6.0 hostdev "$TMP/odd.img" target 5 lun 1
expect_status 0
expect_out '^lsi: 00:06\.0 '
expect_out '^RESULT scsi-verify blocks=21 capacity=81920 ok=1$'
check_image "$TMP/odd.img" 21 0x5eed

# A read-only disk: MODE SENSE says write-protected, the guest refuses.
run_guest "scsi-verify blocks=2" vdev lsi53c895a hostdev "<$TMP/disk.img"
expect_status 1
expect_out '^scsi-verify: mode sense status=0 len=44 wp=1$'
expect_out '^RESULT scsi-verify blocks=2 capacity=131072 ok=0$'

# No target there: selection timeout, reported.
run_guest "scsi-verify target=3" vdev lsi53c895a hostdev "$TMP/disk.img"
expect_status 1
expect_out '^scsi-verify: target 3: no such target$'

# The bundled example, on build/disk.img as its comment says.
if [ "$(cd "$(dirname "$CVISOR")" && pwd)" = "$(pwd)/build" ]; then
	img=build/disk.img cd=build/hostile.img
	[ -f "$img" ] || truncate -s 64M "$img"
	[ -f "$cd" ] || truncate -s 128M "$cd"
	timeout 60 "$CVISOR" @examples/scsi.qvmconf </dev/null >"$TMP/out" 2>"$TMP/err"
	# shellcheck disable=SC2034 # read by expect_status
	STATUS=$?
	expect_status 0
	expect_out '^RESULT scsi-verify .* ok=1$'
	check_image "$img"
else
	echo "part 'examples/scsi.qvmconf' skipped: it runs build/'s files, and this is $BUILD"
fi

# The same under QEMU's lsi53c895a (TCG: no KVM needed there; not inside
# the nested machine, itself emulated, where it would take minutes).
qemu=${QEMU:-qemu-system-x86_64}
[ -z "${NESTED_KVM:-}" ] ||
	{ echo "part 'QEMU comparison' skipped: in the nested machine (emulated: minutes); it runs outside"; exit 0; }
command -v "$qemu" >/dev/null ||
	{ echo "part 'QEMU comparison' skipped: $qemu not installed"; exit 0; }
truncate -s 0 "$TMP/disk.img"
truncate -s 64M "$TMP/disk.img"
timeout 120 "$qemu" -M pc -accel tcg -nodefaults -nographic -serial stdio \
	-no-reboot -m 64 -device isa-debug-exit,iobase=0xf4 \
	-kernel "$GUEST" -append "scsi-verify cdrom=2" \
	-device lsi53c895a,id=scsi0 \
	-drive "file=$TMP/disk.img,if=none,format=raw,id=d0" \
	-device scsi-hd,drive=d0,bus=scsi0.0,scsi-id=0 \
	-drive "file=$TMP/cd.iso,if=none,format=raw,id=c0,media=cdrom,readonly=on" \
	-device scsi-cd,drive=c0,bus=scsi0.0,scsi-id=2 \
	</dev/null 2>&1 | tr -d '\r' >"$TMP/qemu"
qstatus=${PIPESTATUS[0]}
[ "$qstatus" -eq 1 ] || fail "QEMU: exit status $qstatus (want 1, isa-debug-exit's 0): $(tail -20 "$TMP/qemu")"
grep -q "^scsi-verify: inquiry type=0 vendor='QEMU    '" "$TMP/qemu" ||
	fail "QEMU: not its disk: $(tail -20 "$TMP/qemu")"
qemu_result=$(grep -a '^RESULT' "$TMP/qemu")
[ "$qemu_result" = "$cvisor_result" ] ||
	fail "QEMU says '$qemu_result', cvisor '$cvisor_result'"
check_image "$TMP/disk.img"

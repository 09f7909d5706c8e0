# Firmware boot on any KVM (kvm_pvm included: SeaBIOS's real-mode and
# 32-bit code run there, unlike GRUB's): SeaBIOS from Debian's seabios
# package boots the MBR of a virtio-blk disk through PCI. Each disk's boot
# sector prints its name through the BIOS (int 10h, which SeaBIOS sends to
# the 16550), so the console says which disk the BIOS chose:
#  - QNX's way, `rom` at the top of 4 GiB + `load` of the BIOS file, two
#    disks, the second with `bootindex 1` (fw_cfg bootorder): disk b
#    (SeaBIOS's own order boots the first disk, a);
#  - a reset (`cvisor ctl reset`) re-enters the firmware: a second banner
#    and a second boot of b;
#  - a second, short run: SeaBIOS's own LSI 53C895A driver (SCRIPTS
#    written for QEMU's chip) finds two disks on `vdev lsi53c895a`, and
#    boots the one at target 3 whose `bootindex 1` comes before a
#    virtio-blk disk's 2 (SeaBIOS's own order boots another).
# (`firmware seabios` itself: seabios_disk.sh.) A SeaBIOS start costs
# 5-15 s on kvm_pvm (its 32-bit code is emulated there), under a second
# under a native KVM: three starts here.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
bios=/usr/share/seabios/bios-256k.bin
[ -r $bios ] || skip "SKIP: no $bios (Debian package seabios)"
need_kvm
pid=
SOCKDIR=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TMP" "$SOCKDIR"' EXIT

# mbr FILE PORT VALUE NAME: a 1 MiB disk whose boot sector prints NAME
# with int 10h/0Eh, writes VALUE to PORT, and halts.
mbr() {
	{
		# xor ax,ax; mov ds,ax; mov si,0x7c19
		printf '\x31\xc0\x8e\xd8\xbe\x19\x7c'
		# 1: lodsb; test al,al; jz 2f; mov ah,0xe; int 0x10; jmp 1b
		printf '\xac\x84\xc0\x74\x06\xb4\x0e\xcd\x10\xeb\xf5'
		# 2: mov al,VALUE; out PORT,al; 3: hlt; jmp 3b
		printf "\\xb0\\x$3\\xe6\\x$2\\xf4\\xeb\\xfd"
		printf '%s\r\n\0' "$4"
	} >"$1.code"
	truncate -s 1M "$1"
	dd if="$1.code" of="$1" conv=notrunc status=none
	printf '\x55\xaa' | dd of="$1" bs=1 seek=510 conv=notrunc status=none
}
mbr "$TMP/a.img" 80 0a cvisor-mbr-a
mbr "$TMP/b.img" 80 0b cvisor-mbr-b
mbr "$TMP/s.img" 80 0c cvisor-mbr-scsi

# One run, two firmware starts (each costs seconds on kvm_pvm): QNX's way
# to give the BIOS, the second disk first by its bootindex, then a reset.
ctl_sockdir
con=$TMP/console
"$CVISOR" ram 0,0xa0000 ram 1m,127m rom 0xfffc0000,0x40000 \
	load "0xfffc0000,$bios" \
	vdev virtio-blk hostdev "$TMP/a.img" bootindex 2 \
	vdev virtio-blk hostdev "$TMP/b.img" bootindex 1 \
	vdev ser8250 hostdev ">$con" --api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
booted() { [ "$(grep -ac "cvisor-mbr-" "$con")" -ge "$1" ]; }
wait_for booted 1
grep -qa "SeaBIOS (version" "$con" || fail "no SeaBIOS banner on the serial console"
grep -qa "cvisor-mbr-b" "$con" ||
	fail "SeaBIOS booted $(grep -ao "cvisor-mbr-." "$con"), not the disk with bootindex 1"
echo "rom + load of the BIOS: SeaBIOS booted the disk with bootindex 1 (the second)"

# The reset: the firmware again, from its reset vector, and the disk again.
CTL "$SOCK" reset | grep -q "^state: resetting" || fail "ctl reset"
wait_for booted 2
[ "$(grep -ac "SeaBIOS (version" "$con")" -ge 2 ] || fail "no second SeaBIOS banner after the reset"
[ "$(grep -ac "cvisor-mbr-b" "$con")" -ge 2 ] || fail "the second boot chose another disk"
CTL "$SOCK" stop >/dev/null
wait "$pid"
STATUS=$?
pid=
expect_status 0
echo "a reset re-entered SeaBIOS, which booted the same disk again"

# The LSI: SeaBIOS resets the chip, scans targets 0-6 (REPORT LUNS,
# TEST UNIT READY, INQUIRY, READ CAPACITY) and reads the boot sector
# through it, from the disk at target 3 that bootorder names first
# (/pci@i0cf8/scsi@SLOT/channel@0/disk@3,0).
con=$TMP/console-scsi
"$CVISOR" ram 0,0xa0000 ram 1m,127m rom 0xfffc0000,0x40000 \
	load "0xfffc0000,$bios" \
	vdev virtio-blk hostdev "$TMP/a.img" bootindex 2 \
	vdev lsi53c895a hostdev "$TMP/b.img" \
		hostdev "$TMP/s.img" target 3 bootindex 1 \
	vdev ser8250 hostdev ">$con" --api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for booted 1
grep -qa "cvisor-mbr-scsi" "$con" ||
	fail "SeaBIOS booted $(grep -ao "cvisor-mbr-." "$con"), not the LSI disk with bootindex 1"
CTL "$SOCK" stop >/dev/null
wait "$pid"
STATUS=$?
pid=
expect_status 0
echo "SeaBIOS booted the LSI 53C895A's disk at target 3, by its bootindex"

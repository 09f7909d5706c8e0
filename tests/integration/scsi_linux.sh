# Linux's own driver for the LSI 53C895A: Debian's generic kernel (the one
# scripts/nested-kvm.sh boots; the cloud kernel of linux_boot.sh has no
# sym53c8xx) loads sym53c8xx from a busybox initramfs, finds the
# controller, and its disks appear (target 0's with the image's size; as
# sda or sdb, whichever probe ends first) and the CD-ROM as /dev/sr0, one
# command at a time (queue depth 1: the target never disconnects, so
# INQUIRY says CmdQue=0 and the driver queues no tags); /init writes 1 MiB
# at 4 MiB through target 0's disk
# and fsync, drops the page cache, reads it back and compares, mounts the
# CD-ROM's ISO 9660 image (genisoimage) and compares a file in it, makes a
# file system on a second disk (busybox's mke2fs) and writes and reads
# back a file in it through the ext4 driver, and resets the VM. The host
# then checks the image, runs e2fsck on the file system and finds the file
# in it.
# Needs KVM that runs guest kernel mode natively: on kvm_pvm hosts
# tests/run.sh runs it in its nested machine (one boot of its own, the
# other Linux tests boot the cloud kernel, which has no sym53c8xx): 60-135
# s there, 23-35 s of it the VM, on the loaded 2-core development host.
#   tests/run.sh BUILD --only scsi_linux    # real KVM
#   tests/run.sh BUILD --nested scsi_linux  # else
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
need_kvm
if [ -d /sys/module/kvm_pvm ]; then
	skip "needs /dev/kvm that runs guest kernel mode natively (this one is kvm_pvm)"
fi
[ -x "$CVISOR" ] || fail "$CVISOR not built"
gen=$(ls "$BUILD"/nest-cache/root/boot/vmlinuz-* "$top"/build/nest-cache/root/boot/vmlinuz-* 2>/dev/null | head -1)
[ -n "$gen" ] || skip "no generic Debian kernel (scripts/nested-kvm.sh's cache)"
mods=$(ls -d "${gen%/boot/*}"/lib/modules/*/ | head -1)
bb=/usr/bin/busybox
file -L "$bb" 2>/dev/null | grep -q 'statically linked' ||
	bb=$(BUILD=$BUILD "$top/scripts/fetch-linux.sh" busybox) ||
	skip "no busybox-static for the initramfs"
command -v genisoimage >/dev/null ||
	skip "needs genisoimage for the CD-ROM's ISO image (scripts/deps.sh test)"

cat >"$TMP/init" <<'EOF_INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do
	insmod /mods/$m.ko || echo "SCSI-INIT: insmod $m failed"
done
i=0
while [ ! -e /sys/block/sda ] || [ ! -e /sys/block/sdb ] || [ ! -e /sys/block/sr0 ]; do
	i=$((i + 1)); [ $i -gt 120 ] && break; sleep 0.5
done
# The disks by their SCSI address: sd's names follow the order its
# asynchronous probes end in, so target 0 is sdb now and then (the host
# then found the pattern missing from target 0's image: Linux had
# written it to target 1's, and made the file system on target 0's).
d0=$(ls /sys/bus/scsi/devices/*:0:0:0/block 2>/dev/null)
d1=$(ls /sys/bus/scsi/devices/*:0:1:0/block 2>/dev/null)
echo "SCSI-INIT: target 0 is ${d0:-none}, target 1 is ${d1:-none}"
show() {
	[ -n "$2" ] && [ -e /sys/block/$2 ] || { echo "SCSI-INIT: no $1"; return; }
	echo "SCSI-INIT: $1 size=$(cat /sys/block/$2/size) type=$(cat /sys/block/$2/device/type) model=$(cat /sys/block/$2/device/model)"
}
show disk0 "$d0"
show sr0 sr0
echo "SCSI-INIT: disk0 queue_depth=$(cat /sys/block/$d0/device/queue_depth)"
yes CVISOR-SCSI-LINUX | head -c 1048576 >/p
dd if=/p of=/dev/$d0 bs=65536 seek=64 conv=fsync 2>/dev/null &&
	echo "SCSI-INIT: written"
sync
echo 3 >/proc/sys/vm/drop_caches
dd if=/dev/$d0 bs=65536 skip=64 count=16 2>/dev/null | cmp - /p &&
	echo "SCSI-INIT: read back ok"
mkdir -p /cd
mount -t iso9660 -o ro /dev/sr0 /cd && cmp /cd/pattern /p &&
	echo "SCSI-INIT: iso mounted, file ok"
umount /cd
# A file system on the second disk: made, mounted by the ext4 driver,
# written, unmounted, mounted again from a cold cache and read back.
mkdir -p /mnt
mke2fs /dev/$d1 >/dev/null 2>&1 && echo "SCSI-INIT: mke2fs ok"
mount -t ext4 /dev/$d1 /mnt && cp /p /mnt/pattern && umount /mnt &&
	echo "SCSI-INIT: ext4 written"
echo 3 >/proc/sys/vm/drop_caches
mount -t ext4 -o ro /dev/$d1 /mnt && cmp /mnt/pattern /p &&
	echo "SCSI-INIT: ext4 read back ok"
umount /mnt
# The kernel's log stays off the serial console (quiet: each byte is a
# port write, slow in the nested machine); what the host looks for is here.
dmesg | grep -E 'sym|scsi|sd |sr |Oops|BUG:'
reboot -f
EOF_INIT

. "$top/scripts/cpio.sh"
# One walk of the module tree (each is slow over the nested machine's 9p).
kos=$(find "$mods" -name '*.ko')
: >"$TMP/order"
{
	for d in bin dev proc sys mods; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$bb"
	cpio_entry init $((0100755)) "$TMP/init"
	for m in crct10dif_common crct10dif_generic crc-t10dif crc64 \
		 crc64_rocksoft_generic crc64-rocksoft t10-pi scsi_common \
		 scsi_mod scsi_transport_spi sym53c8xx sd_mod cdrom sr_mod \
		 crc16 crc32c_generic mbcache jbd2 ext4 isofs; do
		f=$(grep -m1 "/$m\.ko\$" <<<"$kos")
		[ -n "$f" ] || fail "no $m.ko in $mods"
		echo "$m" >>"$TMP/order"
		cpio_entry "mods/$m.ko" $((0100644)) "$f"
	done
	cpio_entry mods/order $((0100644)) "$TMP/order"
	cpio_entry TRAILER!!! 0 ""
} >"$TMP/initrd.img" || fail "cannot write the initramfs"

truncate -s 64M "$TMP/disk.img"
truncate -s 64M "$TMP/fs.img"
# The CD-ROM: an ISO 9660 image holding the pattern, padded to 4 MiB (the
# file system ignores what follows it) so sr0's size is known.
mkdir "$TMP/iso"
yes CVISOR-SCSI-LINUX | head -c 1048576 >"$TMP/iso/pattern"
genisoimage -quiet -V CVISOR -o "$TMP/cd.iso" "$TMP/iso" ||
	fail "genisoimage failed"
truncate -s 4M "$TMP/cd.iso"
t0=$(date +%s)
timeout -s INT 600 "$CVISOR" ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,255m cpu \
	load "$gen" initrd load "$TMP/initrd.img" \
	cmdline "console=ttyS0 panic=-1 rdinit=/init quiet" reboot exit \
	vdev ser8250 hostdev ">$TMP/console" \
	vdev lsi53c895a hostdev "$TMP/disk.img" hostdev "$TMP/fs.img" \
	hostdev "<$TMP/cd.iso" target 2 cdrom \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
[ "$STATUS" = 34 ] || fail "status $STATUS, not 34 (reset); console: $(tail -30 "$TMP/console"); stderr: $(tail -5 "$TMP/err")"
for m in "sym0: <895a> rev 0x0 at pci 0000:00:0[0-9a-f].0" "scsi host0: sym-" \
	 "Direct-Access +CVISOR +VIRTUAL DISK" "CD-ROM +CVISOR +VIRTUAL CD-ROM" \
	 "\[sd[ab]\] 131072 512-byte logical blocks" \
	 "SCSI-INIT: target 0 is sd[ab], target 1 is sd[ab]" \
	 "SCSI-INIT: disk0 size=131072 type=0 model=VIRTUAL DISK" \
	 "SCSI-INIT: sr0 size=8192 type=5 model=VIRTUAL CD-ROM" \
	 "SCSI-INIT: disk0 queue_depth=1" \
	 "SCSI-INIT: written" "SCSI-INIT: read back ok" \
	 "SCSI-INIT: iso mounted, file ok" "SCSI-INIT: mke2fs ok" \
	 "SCSI-INIT: ext4 written" "SCSI-INIT: ext4 read back ok"; do
	grep -qE -- "$m" "$TMP/console" || fail "no /$m/ in the console: $(grep -E 'sym|scsi|sd |sr |SCSI-INIT' "$TMP/console" | tail -40)"
done
! grep -E "Oops|BUG:|sym0: .*(timeout|error|failed)|SCSI-INIT: insmod" "$TMP/console" ||
	fail "the kernel complained (above)"
want=$(yes CVISOR-SCSI-LINUX | head -c 1048576 | md5sum)
got=$(dd if="$TMP/disk.img" bs=65536 skip=64 count=16 2>/dev/null | md5sum)
[ "$want" = "$got" ] || fail "the image does not hold what Linux wrote"
if command -v debugfs >/dev/null && command -v e2fsck >/dev/null; then
	e2fsck -fn "$TMP/fs.img" >"$TMP/fsck" 2>&1 || fail "e2fsck: $(cat "$TMP/fsck")"
	debugfs -R "dump /pattern $TMP/pattern" "$TMP/fs.img" >/dev/null 2>&1
	[ "$(md5sum <"$TMP/pattern")" = "$want" ] || fail "the file Linux wrote is not in the file system"
fi
echo "sym53c8xx: $(grep -a -o 'target 0 is sd[a-z]*, target 1 is sd[a-z]*' "$TMP/console"), sr0 (ISO 9660); 1 MiB written and read back, ext4 on target 1; the VM $(( $(date +%s) - t0 )) s, the test ${SECONDS} s"

#!/usr/bin/env bash
# Make a BIOS-bootable disk image with GRUB, a Linux kernel and an initrd,
# as an installed distribution's disk looks to firmware: an MBR with GRUB's
# boot.img, GRUB's core.img in the gap before the first partition, and one
# ext4 partition with /boot/{vmlinuz,initrd.img,grub/grub.cfg}.
#
#   scripts/mk-grub-disk.sh OUT KERNEL INITRD [CMDLINE]
#
# Needs no root, no loop device and no partitioning tool: the partition is
# made in a file with mkfs.ext4 -d (e2fsprogs), copied in at 1 MiB, the
# partition table entry written with printf, and boot.img/core.img from
# Debian's grub-pc-bin put in place with dd (what grub-install does on a
# real disk, with the blocklist defaults: core.img from sector 1).
# GRUB talks on the serial console (COM1, 115200) and boots the one entry
# after 1 s. Exit 77 with a reason when a tool is missing.
set -eu
[ $# -ge 3 ] || { echo "usage: $0 OUT KERNEL INITRD [CMDLINE]" >&2; exit 64; }
out=$1 kernel=$2 initrd=$3
# quiet: the kernel's log at 115200 baud is an exit per character, most
# of a boot's time in the nested machine
cmdline=${4:-console=ttyS0 panic=-1 rdinit=/init quiet}
grubdir=/usr/lib/grub/i386-pc
PATH=$PATH:/usr/sbin:/sbin

for t in grub-mkimage mkfs.ext4; do
	command -v $t >/dev/null || { echo "SKIP: no $t (Debian: grub-pc-bin, e2fsprogs)"; exit 77; }
done
[ -r $grubdir/boot.img ] || { echo "SKIP: no $grubdir/boot.img (Debian: grub-pc-bin)"; exit 77; }

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/root/boot/grub"
cp "$kernel" "$work/root/boot/vmlinuz"
cp "$initrd" "$work/root/boot/initrd.img"
cat >"$work/root/boot/grub/grub.cfg" <<EOF
serial --unit=0 --speed=115200
terminal_input serial
terminal_output serial
set timeout=1
menuentry 'cvisor: Linux from the GRUB disk' {
	echo 'cvisor-grub: loading the kernel'
	linux /boot/vmlinuz $cmdline
	echo 'cvisor-grub: loading the initrd'
	initrd /boot/initrd.img
	echo 'cvisor-grub: starting Linux'
}
EOF

# The modules the boot needs are in core.img itself, so nothing is loaded
# from the file system before grub.cfg.
grub-mkimage -O i386-pc -o "$work/core.img" -p '(hd0,msdos1)/boot/grub' \
	biosdisk part_msdos ext2 normal linux serial terminal terminfo \
	configfile echo test boot
[ "$(stat -c %s "$work/core.img")" -lt $((2047 * 512)) ] ||
	{ echo "core.img does not fit before the partition" >&2; exit 1; }

# The partition: the files plus 8 MiB, from sector 2048 (1 MiB) on.
kib=$(du -sk "$work/root" | cut -f1)
part_mib=$(( kib / 1024 + 8 ))
mkfs.ext4 -q -F -L cvboot -d "$work/root" "$work/part.img" "${part_mib}M"
disk_mib=$(( part_mib + 1 ))
rm -f "$out.tmp"
truncate -s "${disk_mib}M" "$out.tmp"

le32() {
	printf '\\x%02x\\x%02x\\x%02x\\x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) \
		$((($1 >> 16) & 255)) $((($1 >> 24) & 255))
}
# Entry 1 at 446: active, type 0x83 (Linux), LBA start and length (the
# CHS fields say "use LBA"); the 0x55AA signature at 510.
entry="\\x80\\xfe\\xff\\xff\\x83\\xfe\\xff\\xff$(le32 2048)$(le32 $((part_mib * 2048)))"
# shellcheck disable=SC2059
printf "$entry" | dd of="$out.tmp" bs=1 seek=446 conv=notrunc status=none
printf '\x55\xaa' | dd of="$out.tmp" bs=1 seek=510 conv=notrunc status=none
dd if="$work/part.img" of="$out.tmp" bs=1M seek=1 conv=notrunc status=none
# boot.img's code only (440 bytes): the partition table stays.
dd if=$grubdir/boot.img of="$out.tmp" bs=440 count=1 conv=notrunc status=none
dd if="$work/core.img" of="$out.tmp" bs=512 seek=1 conv=notrunc status=none
mv "$out.tmp" "$out"

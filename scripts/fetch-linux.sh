#!/usr/bin/env bash
# Fetch what the Linux boot tests need from Debian 12, into a cache under
# the build directory (never committed):
#   scripts/fetch-linux.sh kernel     newest linux-image-6.1.0-*-cloud-amd64,
#                                     linked as $cache/bzImage
#   scripts/fetch-linux.sh busybox    busybox-static
#   scripts/fetch-linux.sh initramfs  $cache/initrd.img: busybox, /init
#                                     that prints a marker and powers off
# Prints the path of the kernel (/boot/vmlinuz-*), busybox or the
# initramfs on stdout. examples/linux.qvmconf loads $cache/bzImage and
# $cache/initrd.img of the default build directory.
# Exit 0 on success, 77 with a one-line reason when it cannot (no apt, no
# network): the callers skip, they never fail for lack of a download.
#
# The cache is $LINUX_CACHE, default ${BUILD:-build}/linux-cache.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${LINUX_CACHE:-$top/${BUILD:-build}/linux-cache}
what=${1:-kernel}

skip() { echo "SKIP: $*"; exit 77; }

cached() {
	case $what in
	kernel)  ls "$cache"/root/boot/vmlinuz-* 2>/dev/null | sort -V | tail -1 ;;
	busybox) ls "$cache"/root/bin/busybox 2>/dev/null ;;
	esac
}

# The newest cloud kernel: what the metapackage depends on, else the
# highest ABI number apt knows.
kernel_pkg() {
	local p
	p=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-cloud-amd64\)$/\1/p' |
		head -1)
	[ -n "$p" ] || p=$(apt-cache search --names-only \
		'^linux-image-6\.1\.0-[0-9]+-cloud-amd64$' 2>/dev/null |
		awk '{print $1}' | sort -V | tail -1)
	echo "$p"
}

package() {
	case $what in
	kernel)  kernel_pkg ;;
	busybox) apt-cache show busybox-static >/dev/null 2>&1 && echo busybox-static ;;
	esac
}

. "$top/scripts/cpio.sh"

# The kernel's virtio modules, in load order, when the kernel has been
# fetched: /init loads them and reads the first bytes of each virtio disk,
# which takes the transports' interrupts (the cloud kernel has them as
# modules).
virtio_mods="virtio_ring virtio virtio_mmio virtio_pci_modern_dev
virtio_pci_legacy_dev virtio_pci virtio_blk"

initramfs() {
	local bb init=$cache/init.sh out=$cache/initrd.img m f mdir
	bb=$("$0" busybox) || { echo "$bb"; exit 77; }
	mdir=$(ls -d "$cache"/root/lib/modules/*/ 2>/dev/null | head -1)
	cat >"$init" <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	mount -t proc proc /proc
	mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	for m in $(cat /mods/order 2>/dev/null); do
		insmod /mods/$m.ko || echo "CVISOR-INIT: insmod $m failed"
	done
	echo "CVISOR-INIT: busybox up, $(nproc) CPUs"
	# Each virtio disk's first bytes: the read completes only if the
	# device's interrupt reaches the driver.
	for d in /sys/block/vd*; do
		[ -e "$d" ] || continue
		n=${d##*/}
		echo "CVISOR-INIT: $n $(cat $d/device/modalias) $(head -c 32 /dev/$n | tr -d '\000')"
	done
	# cvisor.end=reboot|panic on the command line: end that way instead
	case " $(cat /proc/cmdline) " in
	*" cvisor.end=reboot "*) echo "CVISOR-INIT: reboot"; reboot -f ;;
	# the panic's marker through printk: a panic flushes the kernel's
	# log to the console, not what the tty still buffers (an echo to
	# the console was lost once in the nested machine)
	*" cvisor.end=panic "*) echo "<2>CVISOR-INIT: panic" >/dev/kmsg
		echo c >/proc/sysrq-trigger ;;
	esac
	poweroff -f
	EOF
	: >"$cache/mods.order"
	{
		for d in bin dev proc sys mods; do cpio_entry $d $((0040755)) ""; done
		cpio_entry dev/console $((0020600)) "" 5 1
		cpio_entry bin/busybox $((0100755)) "$bb"
		cpio_entry init $((0100755)) "$init"
		if [ -n "$mdir" ]; then
			for m in $virtio_mods; do
				f=$(find "$mdir" -name "$m.ko" | head -1)
				[ -n "$f" ] || continue
				echo "$m" >>"$cache/mods.order"
				cpio_entry "mods/$m.ko" $((0100644)) "$f"
			done
		fi
		cpio_entry mods/order $((0100644)) "$cache/mods.order"
		cpio_entry TRAILER!!! 0 ""
	} >"$out.tmp" && mv "$out.tmp" "$out" || skip "cannot write $out"
	echo "$out"
	exit 0
}

case $what in kernel|busybox|initramfs) ;; *) skip "unknown item '$what'" ;; esac
mkdir -p "$cache" || skip "cannot create $cache"
[ "$what" = initramfs ] && initramfs
p=$(cached)
if [ -n "$p" ]; then
	[ "$what" = kernel ] && ln -sf "${p#"$cache"/}" "$cache/bzImage"
	echo "$p"
	exit 0
fi
command -v apt-get >/dev/null && command -v dpkg-deb >/dev/null ||
	skip "apt-get/dpkg-deb not available (not a Debian system)"

pkg=$(package)
# apt's lists may never have been downloaded; root may do it once.
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
	apt-get update -qq >/dev/null 2>&1 || skip "apt-get update failed (no network?)"
	pkg=$(package)
fi
[ -n "$pkg" ] || skip "no $what package known to apt (run apt-get update)"

mkdir -p "$cache/debs" "$cache/root" || skip "cannot create $cache"
(cd "$cache/debs" && timeout 600 apt-get download -q "$pkg" >/dev/null 2>&1) ||
	skip "apt-get download $pkg failed (no network?)"
deb=$(ls "$cache"/debs/"$pkg"_*.deb 2>/dev/null | sort -V | tail -1)
[ -n "$deb" ] || skip "apt-get download left no $pkg .deb"
dpkg-deb -x "$deb" "$cache/root" || skip "dpkg-deb -x $deb failed"
p=$(cached)
[ -n "$p" ] || skip "$deb has no $what file"
[ "$what" = kernel ] && ln -sf "${p#"$cache"/}" "$cache/bzImage"
echo "$p"

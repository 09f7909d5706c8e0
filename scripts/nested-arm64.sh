#!/usr/bin/env bash
# Run a command on an emulated arm64 machine that has a working /dev/kvm.
#
#   scripts/nested-arm64.sh [-t SECONDS] [-f HOSTFILE[=PATH]]... COMMAND [ARGS...]
#   scripts/nested-arm64.sh --fetch      (prints the cache folder)
#
# The arm64 sibling of nested-kvm.sh (issue 15). qemu-system-aarch64 with
# TCG emulates a `virt` board with EL2 (virtualization=on) and a GICv3,
# and boots Debian 12's arm64 kernel, which has KVM, the GICv3 and the PL011
# built in: /dev/kvm there is the real KVM/arm64 with its in-kernel vGIC.
# Nothing of this host is shared with it: the initramfs carries an arm64
# static busybox, the files given with -f (at PATH, default /work/NAME)
# and, always, the kernel itself as /rig/Image and busybox as /rig/busybox
# (so that a test can boot the same kernel under cvisor in there).
# COMMAND runs in busybox sh in /work; its output comes back on this
# script's stdout, and its exit status is this script's.
#
# -t: the whole run's limit (default 600 s). pauth=off: with pointer
# authentication emulated (QEMU's default for -cpu max) the same boot
# takes 4-5 times longer.
#
# Needs qemu-system-aarch64 (Debian's qemu-system-arm) and the packages
# linux-image-6.1.0-*-arm64 and busybox-static for arm64, fetched with
# apt-get download into $ARM64_CACHE (default build/arm64-cache; root adds
# the arm64 architecture to dpkg once for that). Exits 77 with a reason
# when the rig cannot be had here.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${ARM64_CACHE:-$top/${BUILD:-build}/arm64-cache}
timeout_s=600
files=()
skip() { echo "SKIP: $*"; exit 77; }

fetch_only=
while [ $# -gt 0 ]; do
	case $1 in
	-t) timeout_s=$2; shift 2 ;;
	-f) files+=("$2"); shift 2 ;;
	--fetch) fetch_only=1; shift ;;
	*) break ;;
	esac
done
[ -n "$fetch_only" ] || [ $# -gt 0 ] ||
	{ echo "usage: $0 [-t SECONDS] [-f FILE[=PATH]]... COMMAND [ARGS...]" >&2; exit 64; }

# --- the packages: Debian 12's arm64 kernel and static busybox ------------
have_arm64_lists() {
	apt-cache show linux-image-arm64:arm64 >/dev/null 2>&1
}
kernel_pkg() {
	apt-cache depends linux-image-arm64:arm64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-arm64\)\(:arm64\)\{0,1\}$/\1/p' |
		head -1
}
fetch() {
	local pkg deb
	ls "$cache"/root/boot/vmlinuz-* >/dev/null 2>&1 &&
		[ -x "$cache/root/bin/busybox" ] && return 0
	if ! have_arm64_lists; then
		[ "$(id -u)" = 0 ] || skip "apt knows no arm64 packages (as root: dpkg --add-architecture arm64 && apt-get update)"
		dpkg --add-architecture arm64 || skip "dpkg --add-architecture arm64 failed"
		apt-get update -qq >/dev/null 2>&1
		have_arm64_lists || skip "apt-get update brought no arm64 package lists"
	fi
	pkg=$(kernel_pkg)
	[ -n "$pkg" ] || skip "no linux-image-6.1.0-*-arm64 package known to apt"
	mkdir -p "$cache/debs" "$cache/root" || skip "cannot create $cache"
	(cd "$cache/debs" && timeout 600 apt-get download -q "$pkg:arm64" \
		busybox-static:arm64 >/dev/null 2>&1) ||
		skip "apt-get download $pkg:arm64 busybox-static:arm64 failed"
	for deb in "$cache"/debs/"$pkg"_*.deb "$cache"/debs/busybox-static_*.deb; do
		[ -f "$deb" ] || skip "no $deb after apt-get download"
		dpkg-deb -x "$deb" "$cache/root" || skip "dpkg-deb -x $deb failed"
	done
}

fetch
if [ -n "$fetch_only" ]; then
	echo "$cache"
	exit 0
fi
command -v qemu-system-aarch64 >/dev/null ||
	skip "qemu-system-aarch64 not installed (Debian: qemu-system-arm)"
kernel=$(ls "$cache"/root/boot/vmlinuz-* | sort -V | tail -1)

# --- the initramfs ---------------------------------------------------------
. "$top/scripts/cpio.sh"
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT

cat >"$tmpd/init" <<-'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /dev/pts /tmp; mount -t devpts devpts /dev/pts
ln -s /proc/self/fd /dev/fd
echo "RIG: ready, $(nproc) CPUs, $(ls /dev/kvm 2>&1)"
cd /work
HOME=/tmp PATH=/work:/bin sh /rig/cmd </dev/console >/dev/console 2>&1
echo "RIG-EXIT: $?"
poweroff -f
EOF
# The command, quoted for sh.
{ printf '%q ' "$@"; echo; } >"$tmpd/cmd"

# dirs_of PATH: each parent folder of PATH, outermost first.
dirs_of() {
	local d=${1%/*} acc=
	local IFS=/
	for p in $d; do
		[ -n "$p" ] || continue
		acc=$acc/$p
		echo "${acc#/}"
	done
}

{
	for d in bin dev proc sys tmp rig work; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$cache/root/bin/busybox"
	cpio_entry init $((0100755)) "$tmpd/init"
	cpio_entry rig/cmd $((0100644)) "$tmpd/cmd"
	cpio_entry rig/Image $((0100644)) "$kernel"
	cpio_entry rig/busybox $((0100755)) "$cache/root/bin/busybox"
	seen=" bin dev proc sys tmp rig work "
	for f in "${files[@]}"; do
		src=${f%%=*}; dst=${f#*=}
		[ "$dst" != "$f" ] || dst=/work/$(basename "$src")
		[ -f "$src" ] || { echo "RIG: no file $src" >&2; exit 66; }
		dst=${dst#/}
		for d in $(dirs_of "$dst"); do
			case $seen in *" $d "*) continue ;; esac
			seen="$seen$d "
			cpio_entry "$d" $((0040755)) ""
		done
		mode=0100644; [ -x "$src" ] && mode=0100755
		cpio_entry "$dst" $((mode)) "$src"
	done
	cpio_entry TRAILER!!! 0 ""
} >"$tmpd/initrd.img" || exit $?

log=$tmpd/console
timeout "$timeout_s" qemu-system-aarch64 \
	-M virt,virtualization=on,gic-version=3 -cpu max,pauth=off \
	-smp "${ARM64_CPUS:-2}" -m "${ARM64_MEM:-1024}" \
	-accel tcg,thread=multi -nodefaults -nographic -no-reboot \
	-serial stdio -kernel "$kernel" -initrd "$tmpd/initrd.img" \
	-append "console=ttyAMA0 loglevel=${ARM64_LOGLEVEL:-1} panic=-1 rdinit=/init" \
	</dev/null | tr -d '\r' | tee "$log" | awk -v all="${ARM64_VERBOSE:-}" '
		all != "" { print; fflush(); next }
		/RIG-EXIT: / { on = 0; next }
		on { print; fflush(); next }
		/RIG: ready/ { on = 1 }
		/RIG: / { sub(/.*RIG: /, "RIG: "); print; fflush() }'
st=$(sed -n 's/^RIG-EXIT: \([0-9]*\)$/\1/p' "$log" | tail -1)
[ -n "$st" ] || { echo "RIG: the arm64 machine did not report an exit status" >&2; exit 70; }
exit "$st"

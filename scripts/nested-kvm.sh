#!/usr/bin/env bash
# Run a command where /dev/kvm is real, on a host that has none.
#
#   scripts/nested-kvm.sh [-t SECONDS] [-s SECONDS] [--iommu-edu] COMMAND [ARGS...]
#
# -t: the whole run's limit (default 1800 s). -s: stop the machine when its
# console has been silent that long (the machine's /init prints a
# heartbeat every 20 s, hidden from the output): the emulated machine has
# been seen to freeze, rarely, with a nested guest running, and a frozen
# machine never reaches -t's end soon; a CPU in soft lockup for 150 s (or
# -s) stops it too.
# --iommu-edu: the machine also gets an emulated Intel IOMMU with interrupt
# remapping, QEMU's edu test device and an e1000e (MSI-X, an I/O BAR, a
# ROM), the kernel intel_iommu=on iommu=pt and the VFIO modules, and /init
# binds both to vfio-pci ("NEST: 0x11e8 BDF bound to vfio-pci, group N"),
# for the pass-through tests (tests/integration/pass_*.sh,
# docs/passthrough.md).
#
# Boots Debian 12's generic kernel under QEMU TCG with an emulated AMD SVM
# CPU (TCG implements SVM with nested paging), loads kvm-amd there, and runs
# COMMAND in a chroot of this host's own file system (shared read-only over
# virtio-9p, the source tree shared read-write), so the command sees the
# same tools, the same tree and a working /dev/kvm.  The exit status is the
# command's.  Everything runs under emulation: correctness, not speed, is
# what this can show (numbers taken here are labelled "nested TCG").
#
# Needs qemu-system-x86 and the kernel package (fetched with apt-get
# download into $NEST_CACHE, default build/nest-cache).  Exits 77 with a
# reason when the nest cannot be built here.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${NEST_CACHE:-$top/${BUILD:-build}/nest-cache}
timeout_s=1800
stall_s=
iommu=
while [ $# -gt 0 ]; do
	case $1 in
	-t) timeout_s=$2; shift 2 ;;
	-s) stall_s=$2; shift 2 ;;
	--iommu-edu) iommu=1; shift ;;
	*) break ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: $0 [-t SECONDS] [-s SECONDS] COMMAND [ARGS...]" >&2; exit 64; }

skip() { echo "SKIP: $*" >&2; exit 77; }
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86_64 not installed"

# --- the kernel: Debian's generic one has kvm-amd and 9p as modules -------
kernel_pkg() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-image-6\.1\.0-[0-9]*-amd64\)$/\1/p' | head -1
}
fetch_kernel() {
	local pkg deb
	ls "$cache"/root/boot/vmlinuz-* >/dev/null 2>&1 && return 0
	pkg=$(kernel_pkg)
	if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
		apt-get update -qq >/dev/null 2>&1; pkg=$(kernel_pkg)
	fi
	[ -n "$pkg" ] || skip "no linux-image-*-amd64 package known to apt"
	mkdir -p "$cache/debs" "$cache/root" || skip "cannot create $cache"
	(cd "$cache/debs" && timeout 600 apt-get download -q "$pkg" >/dev/null 2>&1) ||
		skip "apt-get download $pkg failed"
	deb=$(ls "$cache"/debs/"$pkg"_*.deb | sort -V | tail -1)
	dpkg-deb -x "$deb" "$cache/root" || skip "dpkg-deb -x $deb failed"
}

# --- the initramfs: busybox, the modules, and an /init that chroots -------
# Modules in load order (each after what it depends on); tun for the tests
# that make taps.
mods="virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
netfs fscache 9pnet 9pnet_virtio 9p irqbypass kvm ccp kvm-amd tun"
# --iommu-edu: VFIO after kvm-amd, in this order. Its files get names of
# their own: a default run at the same time keeps its initramfs.
variant=
if [ -n "$iommu" ]; then
	mods="$mods vfio vfio_iommu_type1 vfio_virqfd vfio-pci-core vfio-pci"
	variant=-iommu
fi

. "$top/scripts/cpio.sh"

write_init() {
	cat <<-'EOF'
	#!/bin/busybox sh
	/bin/busybox --install -s /bin
	mount -t proc proc /proc; mount -t sysfs sys /sys
	mount -t devtmpfs dev /dev
	ln -s /proc/self/fd /dev/fd
	ln -s fd/0 /dev/stdin; ln -s fd/1 /dev/stdout; ln -s fd/2 /dev/stderr
	for m in $(cat /mods/order); do insmod /mods/$m.ko || { echo "NEST: insmod $m failed"; dmesg | tail -3; }; done
	[ -c /dev/kvm ] || echo "NEST: no /dev/kvm"
	# --iommu-edu: QEMU's edu (1234:11e8) and e1000e (8086:10d3, for
	# MSI-X) to vfio-pci, as a user would
	if grep -q nestiommu=1 /proc/cmdline; then
		for d in /sys/bus/pci/devices/*; do
			case "$(cat $d/vendor):$(cat $d/device)" in
			0x1234:0x11e8|0x8086:0x10d3) ;;
			*) continue ;;
			esac
			echo vfio-pci > $d/driver_override
			echo ${d##*/} > /sys/bus/pci/drivers_probe
			echo "NEST: $(cat $d/device) ${d##*/} bound to $(basename "$(readlink $d/driver)"), group $(basename "$(readlink $d/iommu_group)")"
		done
	fi
	mkdir -p /host
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,ro hostroot /host
	top=$(cat /etc/nest-top)
	cmd=$(sed -n 's/.* nestcmd=\([^ ]*\).*/\1/p' /proc/cmdline)
	mount -t proc proc /host/proc; mount -t sysfs sys /host/sys
	mount -o bind /dev /host/dev; mkdir -p /dev/pts; mount -t devpts devpts /host/dev/pts
	# /tmp from the host too: tmpfs (6.1) has no O_DIRECT, which tests use
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none tmp /host/tmp
	mount -t tmpfs run /host/run
	# The tree last: it may live under /tmp (a CI clone), which would hide it.
	mkdir -p /host$top
	mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=none work /host$top
	echo "NEST: ready, $(nproc) CPUs, $(ls /dev/kvm)"
	# A heartbeat for -s: a command may be silent for minutes (a test
	# prints its line when it ends), a frozen machine is silent for good
	( while sleep 20; do echo "NEST-HB"; done ) >/dev/console 2>&1 &
	hb=$!
	chroot /host /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
		HOME=/tmp TERM=dumb NESTED_KVM=1 /bin/bash "$cmd" </dev/console >/dev/console 2>&1
	st=$?
	kill $hb
	echo "NEST-EXIT: $st"
	sync
	poweroff -f
	EOF
}

build_initramfs() {
	local kver m f bb out=$cache/initrd$variant.img
	kver=$(basename "$(ls -d "$cache"/root/lib/modules/*/ | head -1)")
	bb=$("$top/scripts/fetch-linux.sh" busybox) || skip "busybox-static: $bb"
	write_init >"$cache/init$variant"
	echo "$top" >"$cache/top"
	: >"$cache/order$variant"
	{
		for d in bin dev proc sys tmp mods etc; do cpio_entry $d $((0040755)) ""; done
		cpio_entry dev/console $((0020600)) "" 5 1
		cpio_entry bin/busybox $((0100755)) "$bb"
		cpio_entry init $((0100755)) "$cache/init$variant"
		cpio_entry etc/nest-top $((0100644)) "$cache/top"
		for m in $mods; do
			f=$(find "$cache/root/lib/modules/$kver" -name "$m.ko" | head -1)
			[ -n "$f" ] || { echo "no module $m" >&2; exit 77; }
			echo "$m" >>"$cache/order$variant"
			cpio_entry "mods/$m.ko" $((0100644)) "$f"
		done
		cpio_entry mods/order $((0100644)) "$cache/order$variant"
		cpio_entry TRAILER!!! 0 ""
	} >"$out.tmp" && mv "$out.tmp" "$out"
}

fetch_kernel
build_initramfs
kernel=$(ls "$cache"/root/boot/vmlinuz-* | sort -V | tail -1)

# The command, as a script in the shared tree (the only place both sides see).
cmdfile=$(mktemp "$top/.nest-cmd.XXXXXX")
# The chroot starts with an empty environment: carry over the variables
# the tests and benchmarks read.
{
	printf 'cd %q || exit 70\n' "$PWD"
	for v in $(compgen -v | grep -E '^(BUILD|N|SIZE_MB|SEQ_MB|AIO|QD|BS|CVISOR_.*|LINUX_.*)$'); do
		printf 'export %s=%q\n' "$v" "${!v}"
	done
	printf '%q ' "$@"; echo
} >"$cmdfile"
tmpd=$(mktemp -d)
trap 'rm -rf "$cmdfile" "$tmpd"' EXIT

# What the command printed, without the firmware's and the kernel's chatter
# around it (NEST_VERBOSE=1 shows the whole console).
console_filter() {
	if [ -n "${NEST_VERBOSE:-}" ]; then cat; return; fi
	tr -d '\r' | awk '/NEST-HB/ { next }
		/NEST-EXIT: /{ on = 0; next }
		on { print; fflush(); next }
		/NEST: ready/ { on = 1; next }
		/NEST: / { sub(/.*NEST: /, "NEST: "); print; fflush() }'
}

# -s: watch the console log's size; the QEMU to stop is the one whose
# command line names this run's command file.
watch_stall() {
	local last=-1 size quiet=0 stuck lockup_s=$((stall_s < 150 ? stall_s : 150))
	while sleep 5; do
		size=$(stat -c %s "$log" 2>/dev/null) || return
		if [ "$size" = "$last" ]; then
			quiet=$((quiet + 5))
		else
			quiet=0; last=$size
		fi
		if [ "$quiet" -ge "$stall_s" ]; then
			echo "NEST: no console output for $stall_s s; stopping the nested machine" >&2
			pkill -f "nestcmd=$cmdfile" && return
		fi
		# A frozen machine's own kernel may keep the console busy with
		# soft-lockup reports, every 26 s with a growing count: a CPU
		# stuck for 150 s (or -s, if shorter) is a stall too. A busy
		# but healthy TCG machine reports 22 s or 48 s now and then.
		stuck=$(grep -ao 'soft lockup - CPU#[0-9]* stuck for [0-9]*s' "$log" |
			tail -1 | sed 's/.* for \([0-9]*\)s/\1/')
		if [ "${stuck:-0}" -ge "$lockup_s" ]; then
			echo "NEST: its CPUs stuck for $stuck s (soft lockup); stopping the nested machine" >&2
			pkill -f "nestcmd=$cmdfile" && return
		fi
	done
}

# --iommu-edu: the devices go before the -virtfs ones, and the kernel
# turns the IOMMU on (pt: the 9p devices keep untranslated DMA).
iommu_dev=() iommu_args=
if [ -n "$iommu" ]; then
	iommu_dev=(-device intel-iommu,intremap=on -device edu -device e1000e)
	iommu_args=" intel_iommu=on iommu=pt nestiommu=1"
fi

log=$(mktemp)
watcher=
if [ -n "$stall_s" ]; then
	watch_stall &
	watcher=$!
fi
timeout "$timeout_s" qemu-system-x86_64 -accel tcg,thread=multi -M q35 \
	-cpu max,vendor=AuthenticAMD,+svm,+npt -smp "${NEST_CPUS:-2}" \
	-m "${NEST_MEM:-3G}" -nodefaults -nographic -no-reboot \
	-serial stdio -kernel "$kernel" -initrd "$cache/initrd$variant.img" \
	-append "console=ttyS0 loglevel=${NEST_LOGLEVEL:-1} panic=-1 rdinit=/init nestcmd=$cmdfile$iommu_args" \
	"${iommu_dev[@]}" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$top",mount_tag=work,security_model=none \
	-virtfs local,path="$tmpd",mount_tag=tmp,security_model=none \
	</dev/null | tee "$log" | console_filter
[ -n "$watcher" ] && kill "$watcher" 2>/dev/null
st=$(sed -n 's/.*NEST-EXIT: \([0-9]*\).*/\1/p' "$log" | tail -1)
rm -f "$log"
[ -n "$st" ] || { echo "NEST: the nested machine did not report an exit status" >&2; exit 70; }
exit "$st"

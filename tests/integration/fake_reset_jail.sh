# A guest reset inside the jail (issue 9, defect 2 with --chroot): the VM
# is rebuilt in an empty chroot, where no path of the host is reachable,
# from what the process kept: /dev/kvm, the boot image, the disk's image,
# the chardevs. Before, the rebuild reread the image by its path and
# failed with 65 in the jail. Against the fake KVM, as root.
. "$(dirname "$0")/lib.sh"
need_fake
[ "$(id -u)" -eq 0 ] || skip "SKIP: needs root for --chroot"
jail=$TMP/jail
mkdir -p "$jail/tmp"
disk=$TMP/disk.img
truncate -s 1M "$disk"
# The fake opens its log by path at each VM: the first VM's goes to
# /tmp/NAME on the host, the rebuilt one's to the jail's /tmp/NAME.
name=cvisor-jail-$$.log
trap 'rm -rf "$TMP" "/tmp/$name"' EXIT
FAKEKVM_SCRIPT="outs 0x3f8 one;reset;outs 0x3f8 two;out 0xf4 1 7" \
FAKEKVM_LOG=/tmp/$name LD_PRELOAD=$FAKEKVM \
ASAN_OPTIONS=verify_asan_link_order=0:detect_leaks=0 \
	timeout 60 "$CVISOR" --chroot "$jail" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev ser8250 hostdev ">$TMP/console" vdev debug-exit mode plain \
	vdev mc146818 vdev virtio-blk hostdev "$disk" \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 7
[ "$(cat "$TMP/console")" = onetwo ] || fail "console across the reset: '$(cat "$TMP/console")'"
grep -q "create vm" "$jail/tmp/$name" || fail "the VM was not rebuilt in the jail"

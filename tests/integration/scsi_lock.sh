# lsi53c895a disk images are locked like virtio-blk's (config/disk_lock.c,
# an OFD lock): while one cvisor has an image as a writable disk, a second
# one is refused by check and by a run, as a disk, as a `<FILE` and as a
# `cdrom` (read locks conflict with the writer), unless its vdev says
# `shared`; two VMs may both read one CD-ROM image. Against the fake KVM.
. "$(dirname "$0")/lib.sh"
need_fake
truncate -s 1M "$TMP/disk.img" "$TMP/cd.img" "$TMP/other.img"
g="ram 64m load $GUEST"
# the first VM holds disk.img (writable) and cd.img (read) until stopped
# shellcheck disable=SC2086
FAKEKVM_SCRIPT=block FAKEKVM_LOG=$TMP/log1 LD_PRELOAD=$FAKEKVM \
ASAN_OPTIONS=verify_asan_link_order=0 \
	timeout 60 "$CVISOR" $g vdev lsi53c895a hostdev "$TMP/disk.img" \
	hostdev "$TMP/cd.img" target 1 cdrom </dev/null >"$TMP/out1" 2>"$TMP/err1" &
pid=$!
until grep -q '^boot ' "$TMP/log1" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || fail "the first cvisor ended early: $(cat "$TMP/err1")"
	sleep 0.01
done
# shellcheck disable=SC2086
"$CVISOR" check $g vdev lsi53c895a hostdev "$TMP/other.img" \
	hostdev "$TMP/disk.img" target 3 2>"$TMP/err"
[ $? -eq 65 ] || fail "check of a locked image: not refused: $(cat "$TMP/err")"
grep -q "disk image '$TMP/disk.img' is in use by another process" "$TMP/err" ||
	fail "check: $(cat "$TMP/err")"
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev lsi53c895a hostdev "$TMP/disk.img"
expect_status 65
grep -q "add 'shared'" "$TMP/err" || fail "run: $(cat "$TMP/err")"
# a reader conflicts with the writer, as `<FILE` and as a cdrom
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev lsi53c895a hostdev "<$TMP/disk.img"
expect_status 65
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev lsi53c895a hostdev "$TMP/disk.img" cdrom
expect_status 65
grep -q "locked for writing" "$TMP/err" || fail "cdrom: $(cat "$TMP/err")"
# a writer conflicts with the first VM's CD-ROM reader; a second reader not
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev lsi53c895a hostdev "$TMP/cd.img"
expect_status 65
# shellcheck disable=SC2086
run_fake "poweroff" $g vdev lsi53c895a hostdev "$TMP/cd.img" cdrom
expect_status 0
# shared: no lock taken, none looked at
# shellcheck disable=SC2086
"$CVISOR" check $g vdev lsi53c895a shared hostdev "$TMP/disk.img" 2>"$TMP/err" ||
	fail "check with shared: status $?: $(cat "$TMP/err")"
# shellcheck disable=SC2086
run_fake "poweroff" $g vdev lsi53c895a shared hostdev "$TMP/disk.img"
expect_status 0
kill -INT $pid
wait $pid
st=$?
[ $st -eq 3 ] || fail "the first cvisor: status $st, want 3"
# free again once the first one is gone
# shellcheck disable=SC2086
run_fake "poweroff" $g vdev lsi53c895a hostdev "$TMP/disk.img"
expect_status 0
echo "lsi53c895a images locked like virtio-blk's: disk, <FILE and cdrom refused while another VM writes; shared allowed; free after exit"

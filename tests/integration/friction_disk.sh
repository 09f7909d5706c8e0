# Friction item 9: a second cvisor opening a disk image another one has
# open writable is refused (an OFD lock, as QEMU), by check and by a run,
# unless its vdev says `shared`; a read-only user conflicts with a writer
# too. Against the fake KVM.
. "$(dirname "$0")/lib.sh"
need_fake
truncate -s 1M "$TMP/disk.img"
g="ram 64m load $GUEST"
# the first VM holds the image until we stop it
# shellcheck disable=SC2086
FAKEKVM_SCRIPT=block FAKEKVM_LOG=$TMP/log1 LD_PRELOAD=$FAKEKVM \
ASAN_OPTIONS=verify_asan_link_order=0 \
	timeout 60 "$CVISOR" $g vdev virtio-blk hostdev "$TMP/disk.img" \
	</dev/null >"$TMP/out1" 2>"$TMP/err1" &
pid=$!
until grep -q '^boot ' "$TMP/log1" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || fail "the first cvisor ended early: $(cat "$TMP/err1")"
	sleep 0.01
done
# shellcheck disable=SC2086
"$CVISOR" check $g vdev virtio-blk hostdev "$TMP/disk.img" 2>"$TMP/err"
[ $? -eq 65 ] || fail "check of a locked image: not refused: $(cat "$TMP/err")"
grep -q "is in use by another process" "$TMP/err" || fail "check: $(cat "$TMP/err")"
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev virtio-blk hostdev "$TMP/disk.img"
expect_status 65
grep -q "add 'shared'" "$TMP/err" || fail "run: $(cat "$TMP/err")"
# shellcheck disable=SC2086
run_fake "out 0xf4 1 0" $g vdev virtio-blk hostdev "<$TMP/disk.img"
expect_status 65
# shellcheck disable=SC2086
"$CVISOR" check $g vdev virtio-blk shared hostdev "$TMP/disk.img" 2>"$TMP/err" ||
	fail "check with shared: status $?: $(cat "$TMP/err")"
# shellcheck disable=SC2086
run_fake "poweroff" $g vdev virtio-blk shared hostdev "$TMP/disk.img"
expect_status 0
kill -INT $pid
wait $pid
[ $? -eq 3 ] || fail "the first cvisor: status $?, want 3"
# free again once the first one is gone
# shellcheck disable=SC2086
run_fake "poweroff" $g vdev virtio-blk hostdev "$TMP/disk.img"
expect_status 0
echo "locked image refused by check and run; shared allowed; free after exit"

# Backend faults become VIRTIO_BLK_S_IOERR while cvisor keeps running, on
# both block engines: a full file system (ENOSPC: a 1 MiB tmpfs), which
# then gets space back; a file system that turns read-only under the
# running VM (EROFS: loop-mounted ext4 with errors=remount-ro, an error
# triggered through sysfs). The guest (blk-fault) writes in two phases,
# the host breaks or mends the disk between them (blk_fault_run.py), and
# the guest reads everything back: blocks whose last write completed OK
# must be intact. EIO from a failing device: blk_fault_dm.sh.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3"
[ "$(id -u)" = 0 ] || skip "needs root (mounts a tmpfs and a loop-mounted ext4)"
here=$(dirname "$0")
mnts=()
cleanup() {
	for m in "${mnts[@]}"; do umount "$m" 2>/dev/null || umount -l "$m"; done
	rm -rf "$TMP"
}
trap cleanup EXIT

# drive CMDLINE DISK [ACTION...]: blk-fault on DISK, ACTIONs between phases.
drive() {
	local cmdline=$1 disk=$2
	shift 2
	python3 "$here/blk_fault_run.py" "$TMP/out" "$TMP/err" "$@" -- \
		"$CVISOR" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
		vdev ser8250 hostdev - vdev debug-exit mode plain \
		cmdline "$cmdline" vdev virtio-blk hostdev "$disk"
	# shellcheck disable=SC2034 # read by expect_status
	STATUS=$?
}
expect_err() {
	grep -qE "$1" "$TMP/err" || fail "stderr lacks /$1/: $(tail -5 "$TMP/err")"
}
# phase N: the guest's counters for that phase, as "written=.. ioerr=.. ..."
phase() { sed -n "s/^blk-fault: phase=$1 //p" "$TMP/out"; }
uring_missing() {
	[ "$engine" = uring ] && grep -q 'io_uring unavailable' "$TMP/err" &&
		no_uring=$(grep 'io_uring unavailable' "$TMP/err" | tail -1)
}
no_uring=

mkdir "$TMP/small" "$TMP/ext4"
mount -t tmpfs -o size=1m tmpfs "$TMP/small" || skip "cannot mount a tmpfs here"
mnts+=("$TMP/small")

for engine in uring sync; do
	export CVISOR_BLOCK_ENGINE=$engine
	# --- ENOSPC: room for 4 of the 16 blocks, then all the room back.
	rm -f "$TMP/small"/*
	truncate -s 8M "$TMP/small/disk.img"
	dd if=/dev/zero of="$TMP/small/fill" bs=4k 2>/dev/null
	truncate -s -16k "$TMP/small/fill"
	drive "blk-fault blocks=16 phases=2 seed=0x77 timeout_ms=600000" "$TMP/small/disk.img" \
		"rm $TMP/small/fill"
	uring_missing && continue
	expect_status 0
	p0=$(phase 0)
	w=$(sed -n 's/^written=\([0-9]*\) ioerr=\([0-9]*\) .*/\1 \2/p' <<<"$p0")
	read -r written ioerr <<<"$w"
	if [ -z "$written" ] || [ "$written" -lt 1 ] || [ "$ioerr" -lt 1 ] ||
	   [ $((written + ioerr)) -ne 16 ]; then
		fail "$engine: full tmpfs: expected some writes OK and the rest IOERR: $p0"
	fi
	[ "$(phase 1)" = "written=16 ioerr=0 other=0 flush_ok=1 flush_err=0" ] ||
		fail "$engine: space back, yet: $(phase 1)"
	expect_out '^RESULT blk-fault phases=2 .* read_ok=16 read_err=0 mismatch=0 status=0xf ok=1$'
	expect_err 'No space left on device'
	python3 "$here/blk_check.py" "$TMP/small/disk.img" 16 0x78 >"$TMP/check" ||
		fail "$engine: image after ENOSPC: $(cat "$TMP/check")"

	# --- EROFS: ext4 remounts itself read-only on an error, under the
	# running VM (a plain `mount -o remount,ro` is refused while cvisor
	# holds the image open for writing).
	rm -f "$TMP/ext4.img"
	truncate -s 64M "$TMP/ext4.img"
	mkfs.ext4 -q -F "$TMP/ext4.img" >/dev/null 2>&1 || skip "mkfs.ext4 failed"
	mount -o loop,errors=remount-ro "$TMP/ext4.img" "$TMP/ext4" ||
		skip "cannot loop-mount ext4 here"
	mnts+=("$TMP/ext4")
	dev=$(basename "$(findmnt -no SOURCE "$TMP/ext4")")
	trigger=/sys/fs/ext4/$dev/trigger_fs_error
	[ -w "$trigger" ] || skip "no $trigger (kernel too old?)"
	truncate -s 8M "$TMP/ext4/disk.img"
	drive "blk-fault blocks=16 phases=2 flushes=2 seed=0x99 timeout_ms=600000" "$TMP/ext4/disk.img" \
		"! mount -o remount,ro $TMP/ext4 2>/dev/null && echo cvisor-test >$trigger && grep -q ro, <(findmnt -no OPTIONS $TMP/ext4)"
	expect_status 0
	[ "$(phase 0)" = "written=16 ioerr=0 other=0 flush_ok=2 flush_err=0" ] ||
		fail "$engine: ext4 before the error: $(phase 0)"
	[ "$(phase 1)" = "written=0 ioerr=16 other=0 flush_ok=0 flush_err=2" ] ||
		fail "$engine: read-only ext4: writes and flushes must fail: $(phase 1)"
	expect_out '^RESULT blk-fault phases=2 .* read_ok=16 read_err=0 mismatch=0 status=0xf ok=1$'
	expect_err 'Read-only file system'
	python3 "$here/blk_check.py" "$TMP/ext4/disk.img" 16 0x99 >"$TMP/check" ||
		fail "$engine: phase-0 data after EROFS: $(cat "$TMP/check")"
	umount "$TMP/ext4" || fail "umount ext4"
	unset 'mnts[-1]'
done
[ -z "$no_uring" ] || skip "sync engine passed; io_uring engine not tested: $no_uring"

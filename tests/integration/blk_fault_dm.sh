# EIO from a failing device becomes VIRTIO_BLK_S_IOERR, cvisor keeps
# running, and a failed flush stays failed: a device-mapper disk (linear
# over a loop device) whose second half is switched to the `error` target
# between the guest's two blk-fault phases: buffered on both block engines,
# O_DIRECT on the default one (uring; each run costs ~15 s under TCG). Where this kernel has no device mapper (the development
# machine's), the test runs itself in the nested machine
# (scripts/nested-kvm.sh), loading dm-mod from the nested kernel's package.
. "$(dirname "$0")/lib.sh"
need_guest
command -v python3 >/dev/null || skip "needs python3"
command -v dmsetup >/dev/null || skip "needs dmsetup (dmsetup package)"
[ "$(id -u)" = 0 ] || skip "needs root (device mapper, loop devices)"
here=$(dirname "$0")

# The nested kernel's own modules (scripts/nested-kvm.sh unpacks them).
load_module() {
	local f
	for f in "${NEST_CACHE:-$BUILD/nest-cache}" "build/nest-cache"; do
		f=$f/root/lib/modules/$(uname -r)/kernel/$1
		# finit_module(2): the chroot has no kmod, python3 is there.
		[ -f "$f" ] && python3 -c 'import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open(sys.argv[1], os.O_RDONLY)
sys.exit(0 if libc.syscall(313, fd, b"", 0) == 0 or ctypes.get_errno() == 17 else 1)' "$f" &&
			return 0
	done
	return 1
}
dm_ready() { dmsetup version >/dev/null 2>&1; }
if ! dm_ready; then
	modprobe dm-mod 2>/dev/null
	[ -n "${NESTED_KVM:-}" ] && ! dm_ready && load_module drivers/md/dm-mod.ko
fi
if ! dm_ready; then
	[ -z "${NESTED_KVM:-}" ] || skip "the nested machine's kernel ($(uname -r)) has no usable dm-mod module"
	[ -x scripts/nested-kvm.sh ] || skip "no device mapper here and no scripts/nested-kvm.sh"
	[ "${CVISOR_NESTED:-1}" != 0 ] ||
		skip "no device mapper here, and CVISOR_NESTED=0 (the sanitizer pass of make check) turns the nested machine off"
	# Under tests/run.sh's whole suite, the suite's one nested machine
	# takes this test (no machine of its own to boot).
	[ -z "${CVISOR_RUN_NESTS:-}" ] ||
		skip "no device mapper in this kernel: runs in the nested machine"
	echo "blk_fault_dm: no device mapper in this kernel; running in the nested machine"
	scripts/nested-kvm.sh -t 900 -s 300 bash "$0" >"$TMP/nest" 2>&1
	rc=$?
	cat "$TMP/nest"
	[ $rc -eq 77 ] && skip "nested: $(grep -v '^$' "$TMP/nest" | tail -1)"
	exit $rc
fi
need_kvm
[ -e /dev/loop-control ] || [ -z "${NESTED_KVM:-}" ] || load_module drivers/block/loop.ko

name=cvisor-fault-$$
lo=
cleanup() {
	dmsetup --noudevsync remove "$name" >/dev/null 2>&1
	[ -n "$lo" ] && losetup -d "$lo"
	rm -rf "$TMP"
}
trap cleanup EXIT
truncate -s 8M "$TMP/back.img"
lo=$(losetup -f --show "$TMP/back.img") || skip "no loop device"
good="0 16384 linear $lo 0"
half="0 8192 linear $lo 0
8192 8192 error"
# No udev in the nested machine: no cookies to wait for, nodes by hand.
dms() { dmsetup --noudevsync "$@"; }
dms create "$name" --table "$good" || fail "dmsetup create"
dms mknodes "$name"
dev=/dev/mapper/$name
[ -b "$dev" ] || fail "$dev missing"
break_it="dmsetup --noudevsync suspend $name && dmsetup load $name --table '$half' && dmsetup --noudevsync resume $name"

drive() {
	local cmdline=$1
	shift
	python3 "$here/blk_fault_run.py" "$TMP/out" "$TMP/err" "$break_it" -- \
		"$CVISOR" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
		vdev ser8250 hostdev - vdev debug-exit mode plain \
		cmdline "$cmdline" vdev virtio-blk hostdev "$dev" "$@"
	# shellcheck disable=SC2034 # read by expect_status
	STATUS=$?
}
phase() { sed -n "s/^blk-fault: phase=$1 //p" "$TMP/out"; }
expect_err() {
	grep -qE "$1" "$TMP/err" || fail "stderr lacks /$1/: $(tail -5 "$TMP/err")"
}
no_uring=

# 16 blocks over 8 MiB: blocks 0-7 lie in the first half, 8-15 in the
# half that fails.
for engine in uring sync; do
	export CVISOR_BLOCK_ENGINE=$engine
	modes="buffered direct"
	[ "$engine" = sync ] && modes=buffered
	for mode in $modes; do
		{ dms suspend "$name" && dms load "$name" --table "$good" &&
			dms resume "$name"; } || fail "dmsetup reload"
		if [ "$mode" = direct ]; then
			drive "blk-fault blocks=16 phases=2 flushes=2 timeout_ms=600000" dio enable
		else
			drive "blk-fault blocks=16 phases=2 flushes=2 timeout_ms=600000"
		fi
		if [ $engine = uring ] && grep -q 'io_uring unavailable' "$TMP/err"; then
			no_uring=$(grep 'io_uring unavailable' "$TMP/err" | tail -1)
			break
		fi
		echo "$engine $mode: $(phase 1)"
		expect_status 0
		[ "$(phase 0)" = "written=16 ioerr=0 other=0 flush_ok=2 flush_err=0" ] ||
			fail "$engine $mode: healthy disk: $(phase 0)"
		expect_out '^RESULT blk-fault .* mismatch=0 status=0xf ok=1$'
		expect_err 'Input/output error'
		if [ "$mode" = direct ]; then
			# Each write reaches the device: the failing half's fail.
			phase 1 | grep -q '^written=8 ioerr=8 other=0 ' ||
				fail "$engine direct: $(phase 1)"
			expect_out ' read_ok=8 read_err=8 mismatch=0 '
		else
			# Writes land in the page cache; the flush finds out,
			# and so must every flush after it (the kernel tells
			# only the first fdatasync).
			phase 1 | grep -q ' flush_ok=0 flush_err=2$' ||
				fail "$engine buffered: both flushes after the failure must fail: $(phase 1)"
		fi
	done
done
[ -z "$no_uring" ] || skip "sync engine passed; io_uring engine not tested: $no_uring"

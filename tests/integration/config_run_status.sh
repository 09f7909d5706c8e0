# A run refuses a bad config as `cvisor check` does: exit 65 with
# `FILE:LINE:COL: message`, also for what is found while building the VM
# (it was 64, "fatal before the guest started"); and a config that check
# accepts runs: a vdev without a loc no longer takes a PCI slot that a
# later vdev names (that run failed with EBUSY, exit 64).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

conf() {   # conf FILE LINE...: the test guest's machine and LINEs
	local f=$1; shift
	{
		echo "ram 0,0xa0000"
		echo "ram 1m,63m"
		echo "load $PWD/$GUEST"
		echo 'cmdline "hello"'
		echo "vdev ser8250 hostdev >-"
		echo "vdev debug-exit mode plain"
		printf '%s\n' "$@"
	} >"$f"
}

# expect_refused FILE LINE:COL REGEX: check and a run, both 65, same place
expect_refused() {
	local f=$1 at=$2 re=$3 st
	"$CVISOR" check "@$f" >/dev/null 2>"$TMP/err"
	st=$?
	[ $st -eq 65 ] || fail "check $f: status $st, expected 65: $(cat "$TMP/err")"
	grep -qE "^$f:$at: $re" "$TMP/err" || fail "check $f: wanted $at /$re/, got: $(cat "$TMP/err")"
	timeout 60 "$CVISOR" "@$f" </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 65
	grep -qE "$f:$at: $re" "$TMP/err" || fail "run $f: wanted $at /$re/, got: $(cat "$TMP/err")"
}

truncate -s 1M "$TMP/d.img"

# Slot 1 is named after the vdev that has no loc: that one goes to slot 2.
conf "$TMP/slots.qvmconf" "vdev virtio-entropy" "vdev virtio-entropy loc pci:0:1.0"
"$CVISOR" check "@$TMP/slots.qvmconf" 2>"$TMP/err" || fail "check: $(cat "$TMP/err")"
timeout 60 "$CVISOR" -v "@$TMP/slots.qvmconf" </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^RESULT hello ok=1'

# 32 functions for 31 slots: refused at the one that finds none.
lines=()
for i in $(seq 32); do lines+=("vdev virtio-entropy"); done
conf "$TMP/full.qvmconf" "${lines[@]}"
expect_refused "$TMP/full.qvmconf" 38:6 "vdev virtio-entropy: no free pci slot"

# virtio's `legacy`, and a virtio-blk without its one disk image.
conf "$TMP/legacy.qvmconf" "vdev virtio-blk legacy hostdev $TMP/d.img"
expect_refused "$TMP/legacy.qvmconf" 7:17 "vdev virtio-blk: legacy \(virtio 0.9.5\) is not supported"
conf "$TMP/cons.qvmconf" "vdev virtio-console legacy hostdev >-"
expect_refused "$TMP/cons.qvmconf" 7:21 "vdev virtio-console: legacy"
conf "$TMP/rng.qvmconf" "vdev virtio-entropy legacy"
expect_refused "$TMP/rng.qvmconf" 7:21 "vdev virtio-entropy: legacy"
conf "$TMP/nodisk.qvmconf" "vdev virtio-blk"
expect_refused "$TMP/nodisk.qvmconf" 7:6 "vdev virtio-blk: needs a disk image"
conf "$TMP/twodisks.qvmconf" "vdev virtio-blk hostdev $TMP/d.img hostdev $TMP/d.img"
expect_refused "$TMP/twodisks.qvmconf" "7:[0-9]+" "vdev virtio-blk: takes one hostdev"

# virtio-mmio has one interrupt line.
conf "$TMP/intrs.qvmconf" "vdev virtio-entropy loc 0x10000000 intr ioapic:5,ioapic:6"
expect_refused "$TMP/intrs.qvmconf" 7:41 "vdev virtio-entropy takes one interrupt"

# A constructor's refusal of its options while the VM is built: 65 too.
conf "$TMP/rtc.qvmconf" "vdev mc146818 reg 0x0c,1"
timeout 60 "$CVISOR" "@$TMP/rtc.qvmconf" </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 65
grep -q "rtc.qvmconf:7:6: vdev mc146818" "$TMP/err" || fail "rtc: no position: $(cat "$TMP/err")"
"$CVISOR" check "@$TMP/rtc.qvmconf" >/dev/null 2>&1
STATUS=$?
expect_status 65
echo "config_run_status: ok"

# ACPI S3, suspend to RAM (docs/devices.md): the test guest's s3 workload
# puts a real-mode waking stub in memory, writes its address into the
# FACS, sets the RTC alarm and enters S3 through PM1a_CNT; the stub, run
# from the waking vector, checks WAK_STS, RTC_STS and a marker in memory
# and reports. Then: the control socket's `suspended` state, `wakeup`
# and `powerdown` waking a sleeping guest, and a guest that left no
# waking vector ending as a triple fault (status 32), never running
# garbage. Each run takes about a second.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 (to read the JSON answers)"
ctl_sockdir
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TMP" "$SOCKDIR"' EXIT

# the RTC alarm wakes it, through PM1's RTC_STS
run_guest "s3 secs=1" vdev mc146818
expect_status 0
expect_out '^s3: FACS 0xf1000 vector 0x7000 \(read back 0x7000\)'
expect_out '^RESULT s3 woke=1 code=0$'

# no waking vector: the boot vCPU has nowhere to go, a triple fault
run_guest "s3 secs=1 vector=0" vdev mc146818
expect_status 32
grep -q "no usable waking vector" "$TMP/err" || fail "no message: $(tail -5 "$TMP/err")"
grep -q "RESULT s3" "$TMP/out" && fail "the guest ran on: $(cat "$TMP/out")"

state() {
	CTL --json "$SOCK" status | python3 -c '
import json, sys
print(json.load(sys.stdin)["result"]["state"])'
}

# no alarm: asleep until the operator wakes it
start() {   # [CMDLINE]  ($V: -v, for the info lines)
	# shellcheck disable=SC2046,SC2086
	"$CVISOR" ${V:-} $(base_args) cmdline "${1:-s3 secs=0}" vdev mc146818 \
		vdev testdev --api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_for test -S "$SOCK"
}
is_suspended() { [ "$(state)" = suspended ]; }

start
wait_for is_suspended
CTL "$SOCK" help | grep -q "^wakeup" || fail "help has no wakeup"
CTL "$SOCK" wakeup >"$TMP/w" || fail "wakeup failed: $(cat "$TMP/w")"
wait $pid; STATUS=$?; pid=
expect_status 0
expect_out '^RESULT s3 woke=1 code=0$'

start
wait_for is_suspended
# awake already: nothing to wake (QEMU says the same)
CTL "$SOCK" pause >/dev/null || fail "pause while suspended"
[ "$(state)" = paused ] || fail "state $(state), expected paused"
CTL "$SOCK" resume >/dev/null || fail "resume"
[ "$(state)" = suspended ] || fail "state $(state) after resume, expected suspended"
CTL "$SOCK" powerdown >"$TMP/p" || fail "powerdown failed: $(cat "$TMP/p")"
wait $pid; STATUS=$?; pid=
expect_status 0
expect_out '^RESULT s3 woke=1 code=0$'

V=-v start
wait_for is_suspended
kill -TERM $pid
wait $pid; STATUS=$?; pid=
# SIGTERM stops a suspended guest at once (3): a press would only wake
# it (the test guest's stub would then end it with 0: the status tells)
expect_status 3
grep -q "SIGTERM: stopping the VM (it is suspended to RAM)" "$TMP/err" ||
	fail "SIGTERM while suspended: $(tail -3 "$TMP/err")"

# a guest that never sleeps (ctl.sh's endless MMIO loop): nothing to wake
start "mmio-latency n=1000000000000"
CTL "$SOCK" wakeup 2>"$TMP/w2" && fail "wakeup of a running guest succeeded"
grep -q "busy.*running" "$TMP/w2" || fail "wakeup: $(cat "$TMP/w2")"
CTL "$SOCK" stop >/dev/null || fail "stop"
wait $pid; STATUS=$?; pid=
expect_status 0
exit 0

# The control socket with the test guest (docs/control.md): status, stats,
# pause, resume, reset, powerdown's deadline, SIGUSR1 and stop (exit 0).
# The guest runs mmio-latency without end: every write to the testdev is
# an MMIO exit that the vCPU's stats count, so the count is the guest's
# progress. Paused, it must not move between two reads (however long they
# are apart); resumed, it must move again.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 (to read the JSON answers)"
ctl_sockdir
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TMP" "$SOCKDIR"' EXIT

# the guest's MMIO exits so far, from `stats --json`
mmio_count() {
	CTL --json "$SOCK" stats | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
print(sum(v["exits_by_reason"].get("mmio", 0) for v in r["vcpus"]))'
}

start() {
	# shellcheck disable=SC2046
	"$CVISOR" $(base_args) cmdline "mmio-latency n=1000000000000" \
		vdev testdev "$@" --api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_for test -S "$SOCK"
}

start
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK"), expected 600"
# a second cvisor on the same path is refused while this one serves it
# shellcheck disable=SC2046
"$CVISOR" $(base_args) cmdline hello --api "$SOCK" </dev/null >/dev/null 2>"$TMP/err2"
STATUS=$?
[ $STATUS -ne 0 ] || fail "a second cvisor took a live socket"
grep -q "another process is serving it" "$TMP/err2" || fail "second cvisor: $(cat "$TMP/err2")"

CTL "$SOCK" status >"$TMP/st" || fail "status failed"
for m in "^state: running" "^vcpu 0: running" "^memory: ram 0x0 640 KiB" \
	 "ser8250 +io +loc io:0x3f8 +intr ioapic:4" "testdev +mmio"; do
	grep -qE "$m" "$TMP/st" || fail "status lacks /$m/: $(cat "$TMP/st")"
done
has_mmio() { [ "$(mmio_count)" -gt 0 ]; }
wait_for has_mmio

# pause: every vCPU parked, the count frozen
CTL "$SOCK" pause | grep -q "^state: paused" || fail "pause did not answer paused"
a=$(mmio_count)
CTL "$SOCK" status >"$TMP/st"
grep -q "^vcpu 0: paused" "$TMP/st" || fail "vCPU not paused: $(cat "$TMP/st")"
for i in 1 2 3 4 5; do CTL "$SOCK" status >/dev/null; done
b=$(mmio_count)
# numbers, and past has_mmio's 0: two empty answers are no evidence
for c in "$a" "$b"; do
	[[ $c =~ ^[0-9]+$ ]] && [ "$c" -gt 0 ] ||
		fail "not an MMIO exit count > 0 while paused: '$a', '$b'"
done
[ "$a" = "$b" ] || fail "the guest ran while paused: $a then $b MMIO exits"
# pausing twice is fine; powerdown is refused while paused
CTL "$SOCK" pause | grep -q "^state: paused" || fail "second pause"
CTL "$SOCK" powerdown 2>"$TMP/e" && fail "powerdown accepted while paused"
grep -q "busy" "$TMP/e" || fail "powerdown while paused: $(cat "$TMP/e")"
# SIGUSR1: the status on stderr
kill -USR1 $pid
has_status() { grep -q "^vcpu 0: paused" "$TMP/err"; }
wait_for has_status

CTL "$SOCK" resume | grep -q "^state: running" || fail "resume"
moved() { [ "$(mmio_count)" -gt "$b" ]; }
wait_for moved
echo "paused at $b MMIO exits; running again after resume"

# errors: a JSON error object and exit status 1
CTL --json "$SOCK" no-such-command >"$TMP/e"
[ $? -eq 1 ] || fail "an error answer must exit 1"
grep -q '"code":"unknown-command"' "$TMP/e" || fail "error answer: $(cat "$TMP/e")"

# reset: the guest boots again, the socket stays
CTL "$SOCK" reset | grep -q "^state: resetting" || fail "reset"
booted_twice() { [ "$(grep -c "booted via" "$TMP/out")" -ge 2 ]; }
wait_for booted_twice
CTL "$SOCK" status | grep -q "^state: running" || fail "status after reset"
CTL "$SOCK" stats | grep -qE "^vcpu 0: [0-9]+ exits" || fail "stats after reset"

# stop: exit 0 now, the socket file removed
CTL "$SOCK" stop >/dev/null || fail "stop"
wait $pid
STATUS=$?
pid=
expect_status 0
[ -e "$SOCK" ] && fail "the socket file is still there after exit"

# powerdown with a guest that does not listen for the button: it has
# --shutdown-timeout, then is stopped (3, terminated)
start --shutdown-timeout 1
CTL "$SOCK" powerdown >"$TMP/pd" || fail "powerdown: $(cat "$TMP/pd")"
grep -q "^listening: false" "$TMP/pd" || fail "powerdown: $(cat "$TMP/pd")"
wait $pid
STATUS=$?
pid=
expect_status 3
grep -q "did not power off within 1 s" "$TMP/err" || fail "no deadline message: $(tail -3 "$TMP/err")"
echo "powerdown without a listener: stopped after the 1 s deadline, status 3"

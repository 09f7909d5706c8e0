# The harness's `timeout` (lib.sh) passes a signal on to its command
# without the SIGCONT that GNU timeout otherwise sends after it. That
# SIGCONT, arriving while LeakSanitizer's exit-time tracer attaches to a
# sanitizer build of cvisor, cancels the tracer's SIGSTOP and hangs the
# process (see lib.sh). Shown with a stopped command: a SIGCONT would
# wake it. No cvisor needed.
. "$(dirname "$0")/lib.sh"
# counter NAME PID: a field of /proc/PID/status
counter() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$2/status"; }
# guard: until CMD succeeds, a hang guard of 10 s
guard() {
	local i
	for i in $(seq 1000); do
		"$@" && return 0
		sleep 0.01
	done
	return 1
}
state() { awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null; }
child_of() { child=$(pgrep -P "$1" -x sleep); }
# a function, looked at on each round: a SIGSTOP takes effect when the
# process next runs, not when kill returns
stopped() { [ "$(state "$child")" = T ]; }

timeout 60 sleep 1000 &
tpid=$!
guard child_of $tpid || fail "timeout did not start its command"
kill -STOP "$child"
guard stopped || fail "the command did not stop"
# timeout's signal handler sends whatever it sends, then timeout sleeps
# again: one more voluntary context switch, counted from a moment it
# sleeps (its one sleep: waiting for its command or a signal), says it
# is done. A SIGCONT would end both at once (the command dies of the
# SIGINT).
asleep() { [ "$(state $tpid)" = S ]; }
guard asleep || fail "timeout never went to sleep"
switches=$(counter voluntary_ctxt_switches $tpid)
kill -INT $tpid
slept() {
	local n
	n=$(counter voluntary_ctxt_switches $tpid 2>/dev/null) || return 0
	[ -z "$n" ] || [ "$n" -gt "$switches" ]
}
guard slept || fail "timeout did not go back to sleep after SIGINT"
[ "$(state "$child")" = T ] || fail "the command was continued: timeout sent SIGCONT"
pending=$(counter ShdPnd "$child")
[ $((0x$pending & 2)) -ne 0 ] || fail "SIGINT was not passed on (pending: $pending)"
kill -CONT "$child"
wait $tpid
st=$?
[ $st -eq 130 ] || fail "timeout's status $st, want 130 (its command's SIGINT)"
echo "a signal through the harness's timeout reaches the command without a SIGCONT"

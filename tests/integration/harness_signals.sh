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
# timeout's signal handler passes the SIGINT on (it shows pending in
# the stopped command), sends whatever else it sends, then timeout waits
# in sigsuspend again: once both are seen, the handler is done. (A
# SIGCONT would end the command at once: it dies of the SIGINT.)
waiting() { grep -q sigsuspend "/proc/$tpid/wchan" 2>/dev/null; }
int_pending() {
	local p
	p=$(counter ShdPnd "$child" 2>/dev/null) || return 0
	[ -z "$p" ] || [ $((0x$p & 2)) -ne 0 ]
}
guard waiting || fail "timeout never waited for its command"
kill -INT $tpid
guard int_pending || fail "SIGINT was not passed on"
guard waiting || [ ! -e "/proc/$tpid" ] ||
	fail "timeout did not go back to waiting after SIGINT"
[ "$(state "$child")" = T ] || fail "the command was continued: timeout sent SIGCONT"
kill -CONT "$child"
wait $tpid
st=$?
[ $st -eq 130 ] || fail "timeout's status $st, want 130 (its command's SIGINT)"
# The alias reaches only a command's first word: a timeout after `exec`
# (`ip netns exec NS` too: nsx), `env`, `setsid` or the like needs
# --foreground written out, as stop_signals.sh and net_bench.sh lacked
# it. Comment lines aside. (`command timeout` is the way to say the group
# kill is wanted.)
wrapped='(^|[[:space:];(&|])(exec([[:space:]]+"?[$]?[[:alnum:]_{}]+"?)?|nsx|env|sudo|setsid|nohup)([[:space:]]+[[:alnum:]_]+=[^[:space:]]*)*[[:space:]]+timeout([[:space:]]|$)'
bad=$(grep -nE "$wrapped" "$(dirname "$0")"/*.sh |
	grep -vE '^[^:]*:[0-9]+:[[:space:]]*#' |
	grep -vE 'timeout[[:space:]]+--foreground') &&
	fail "timeouts the harness's alias does not reach: $bad"
echo "a signal through the harness's timeout reaches the command without a SIGCONT"

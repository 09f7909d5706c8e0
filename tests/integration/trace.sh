# The exit trace (docs/trace.md): --trace FILE and the control socket's
# trace-start/trace-stop; `cvisor trace report` and `decode` on the file.
# mmio-latency writes its loop counter (0, 1, 2...) to the testdev, one
# MMIO exit per write: the trace must hold each write once, in order,
# with its value, and as many records as the exits --stats counts.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 (to read the JSON answers)"
ctl_sockdir
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TMP" "$SOCKDIR"' EXIT

# hex("0x1f") for awks without strtonum (mawk)
AWK_HEX='function hex(s,  i, v) { v = 0; s = tolower(substr(s, 3));
	for (i = 1; i <= length(s); i++) v = v * 16 + index("0123456789abcdef", substr(s, i, 1)) - 1
	return v }'

# 1. --trace with a known workload
run_guest "mmio-latency n=2000" vdev testdev --stats --trace "$TMP/t1"
expect_status 0
"$CVISOR" trace report "$TMP/t1" >"$TMP/rep" || fail "trace report failed"
grep -qE "^mmio +2000 +[0-9.]+ +[0-9.]+ +[0-9.]+$" "$TMP/rep" ||
	fail "report: $(cat "$TMP/rep")"
grep -qE "^mmio +0xfeb00000 +write +2000$" "$TMP/rep" ||
	fail "report addresses: $(cat "$TMP/rep")"
total=$(sed -nE 's/^vcpu 0: ([0-9]+) exits.*/\1/p' "$TMP/err")
grep -qE "^total +$total$" "$TMP/rep" ||
	fail "$total exits counted, report: $(cat "$TMP/rep")"
grep -q lost "$TMP/rep" && fail "records lost: $(cat "$TMP/rep")"
"$CVISOR" trace decode "$TMP/t1" >"$TMP/dec" || fail "decode failed"
[ "$(wc -l <"$TMP/dec")" = "$total" ] || fail "decode: $(wc -l <"$TMP/dec") lines, $total exits"
"$CVISOR" trace decode --csv "$TMP/t1" >"$TMP/csv" || fail "decode --csv failed"
head -1 "$TMP/csv" | grep -q "^time,vcpu,event,addr,size,dir,value,time_in_cvisor$" ||
	fail "CSV header: $(head -1 "$TMP/csv")"
# the testdev writes: values 0..1999 in order
awk -F, "$AWK_HEX"'
$3 == "mmio" && $4 == "0xfeb00000" && $5 == 4 && $6 == "w" {
	if (hex($7) != n) { print "record " n ": " $0; exit 1 } n++ }
	END { if (n != 2000) { print n " writes"; exit 1 } }' "$TMP/csv" ||
	fail "the MMIO writes in the trace are not 0..1999"
grep -q ",io,0xf4,4,w," "$TMP/csv" || fail "no debug-exit write in the trace"

# 2. trace-start / trace-stop on a running VM. Started and stopped while
# the VM is paused, so the records are exactly the exits in between.
exits() {
	CTL --json "$SOCK" stats | python3 -c '
import json, sys
print(sum(v["exits"] for v in json.load(sys.stdin)["result"]["vcpus"]))'
}
# shellcheck disable=SC2046
"$CVISOR" $(base_args) cmdline "mmio-latency n=1000000000000" vdev testdev \
	--api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
wait_for test -S "$SOCK"
CTL "$SOCK" trace-stop 2>"$TMP/e" && fail "trace-stop with no trace on succeeded"
grep -q "no trace is on" "$TMP/e" || fail "trace-stop: $(cat "$TMP/e")"
CTL "$SOCK" trace-start 2>/dev/null && fail "trace-start without a file succeeded"
CTL "$SOCK" pause | grep -q "^state: paused" || fail "pause"
a=$(exits)
CTL "$SOCK" trace-start "$TMP/t2" | grep -q "^active: true" || fail "trace-start"
CTL "$SOCK" trace-start "$TMP/t3" 2>"$TMP/e" && fail "a second trace-start succeeded"
grep -q "a trace is on already" "$TMP/e" || fail "second trace-start: $(cat "$TMP/e")"
CTL "$SOCK" resume >/dev/null || fail "resume"
moved() { [ "$(exits)" -gt "$((a + 100))" ]; }
wait_for moved
CTL "$SOCK" pause | grep -q "^state: paused" || fail "second pause"
b=$(exits)
CTL "$SOCK" trace-stop >"$TMP/stop" || fail "trace-stop"
grep -q "^active: false" "$TMP/stop" || fail "trace-stop: $(cat "$TMP/stop")"
grep -q "^records: $((b - a))$" "$TMP/stop" ||
	fail "$((b - a)) exits while tracing, trace-stop says $(cat "$TMP/stop")"
"$CVISOR" trace report "$TMP/t2" >"$TMP/rep2" || fail "report of t2"
grep -qE "^total +$((b - a))$" "$TMP/rep2" || fail "t2 report: $(cat "$TMP/rep2")"
# consecutive loop counters: no write missing
"$CVISOR" trace decode --csv "$TMP/t2" | awk -F, "$AWK_HEX"'
$3 == "mmio" {
	v = hex($7); if (n && v != last + 1) { print "gap at " v; exit 1 }
	last = v; n++ } END { if (n < 100) exit 1 }' || fail "t2 MMIO writes not consecutive"
CTL "$SOCK" stats | grep -q "^trace: off $TMP/t2, $((b - a)) records, 0 lost$" ||
	fail "stats: $(CTL "$SOCK" stats)"
CTL "$SOCK" stop >/dev/null
wait $pid
STATUS=$?; pid=
expect_status 0
# 3. A trace file that stops taking data: a FIFO whose reader holds it
# open and does not read. The drain thread once held the tracer's lock
# across its blocked write: `stats` (and trace-stop, and the VM's stop)
# waited on it for good.
mkfifo "$TMP/fifo"
# the drain thread waiting for room (poll, or ppoll): seen in /proc
waiting_on_file() {
	local t nr _
	for t in /proc/"$pid"/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = cvisor-trace ] || continue
		read -r nr _ <"$t/syscall" 2>/dev/null || return 1
		[ "$nr" = 7 ] || [ "$nr" = 271 ]
		return
	done
	return 1
}
start_traced() {
	# shellcheck disable=SC2046
	"$CVISOR" $(base_args) cmdline "mmio-latency n=1000000000000" \
		vdev testdev --api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" 3>&- 4>&- &
	pid=$!
	wait_for test -S "$SOCK"
	CTL "$SOCK" trace-start "$TMP/fifo" | grep -q "^active: true" ||
		fail "trace-start into a FIFO"
}
# 3a. The stall outlasts the test (CVISOR_TRACE_STALL_MS): while the
# thread waits for room, the socket answers and a trace-stop waits in
# the background; once the reader reads, the stop completes the file.
exec 3<>"$TMP/fifo"
CVISOR_TRACE_STALL_MS=600000 start_traced
wait_for waiting_on_file
timeout 10 "$CVISOR" ctl "$SOCK" stats >"$TMP/stats" ||
	fail "stats with the trace file full did not answer in 10 s"
grep -q "^trace: on $TMP/fifo" "$TMP/stats" || fail "stats: $(cat "$TMP/stats")"
# The trace-stop comes from a client that shuts down its side at once
# (`echo ... | socat`): the reply, which comes long after that EOF, must
# still reach it (it was dropped at the EOF, unanswered).
timeout 120 python3 - "$SOCK" >"$TMP/stop" <<'EOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b'{"cmd": "trace-stop", "id": 7}\n')
s.shutdown(socket.SHUT_WR)
got = b""
while True:
    b = s.recv(4096)
    if not b:
        break
    got += b
print(got.decode().replace(" ", ""))
EOF
stop_pid=$!
# pending: a trace-start (refused anyway while the trace is on) says so
# instead of "a trace is on already"
stop_pending() {
	CTL "$SOCK" trace-start "$TMP/t6" 2>&1 | grep -q "a trace-start or trace-stop is in progress"
}
wait_for stop_pending
timeout 10 "$CVISOR" ctl "$SOCK" stats >"$TMP/stats" ||
	fail "stats with a trace-stop pending did not answer in 10 s"
grep -q "^trace: on $TMP/fifo" "$TMP/stats" || fail "stats: $(cat "$TMP/stats")"
# a reader of its own, then the test's writer end closed: cat sees the
# end when cvisor closes the file
exec 4<"$TMP/fifo"
exec 3>&-
cat <&4 >"$TMP/t4" &
cat_pid=$!
exec 4<&-
wait $stop_pid || fail "trace-stop once the reader read: $(cat "$TMP/stop")"
grep -q '"active":false.*"id":7' "$TMP/stop" ||
	fail "trace-stop from a half-closed client: '$(cat "$TMP/stop")'"
wait $cat_pid
"$CVISOR" trace report "$TMP/t4" >"$TMP/rep4" || fail "report of the FIFO's trace"
grep -q "no end record" "$TMP/rep4" && fail "the FIFO's trace is not complete: $(cat "$TMP/rep4")"
CTL "$SOCK" stop >/dev/null
wait $pid
STATUS=$?; pid=
expect_status 0
# 3b. The default stall limit (TRACE_STALL_MS, 2 s) ends the trace.
exec 3<>"$TMP/fifo"
start_traced
stalled() { grep -q "trace $TMP/fifo: the file took nothing for 2000 ms; the trace stops" "$TMP/err"; }
wait_for stalled
CTL "$SOCK" stats | grep -q "^trace: off $TMP/fifo, [0-9]* records, [0-9]* lost, 1 write errors$" ||
	fail "stats after the stall: $(CTL "$SOCK" stats)"
CTL "$SOCK" trace-stop 2>"$TMP/e" && fail "trace-stop after the stall succeeded"
grep -q "no trace is on" "$TMP/e" || fail "trace-stop after the stall: $(cat "$TMP/e")"
[ "$(head -c 7 <&3)" = CVTRACE ] || fail "the FIFO does not begin with a trace header"
CTL "$SOCK" stop >/dev/null
wait $pid
STATUS=$?; pid=
expect_status 0
exec 3<&-
# a trace file that cannot be made: refused before the guest starts
run_guest hello --trace "$TMP/no-such-dir/t"
expect_status 64
grep -q -- "--trace $TMP/no-such-dir/t: No such file or directory" "$TMP/err" ||
	fail "--trace into a missing folder: $(cat "$TMP/err")"
# a file that is not a trace
echo "hello" >"$TMP/bad"
"$CVISOR" trace report "$TMP/bad" 2>"$TMP/e" && fail "report of a non-trace succeeded"
grep -q "not a cvisor trace" "$TMP/e" || fail "bad file: $(cat "$TMP/e")"
exit 0

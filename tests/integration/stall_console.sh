# A console consumer that stops reading stalls neither the guest nor the
# stop (issue 9, defect 1). The guest floods a virtio-console whose host
# side is `|sleep 1000` (never reads) while it keeps a virtio-rng busy and
# prints ticks on COM1: the console's `sent` must stand still while the
# ticks (rng completions, served by the event loop) go on. Then SIGTERM
# must end cvisor with status 3 through the stop path itself: the stop
# watchdog (src/core/watchdog.c, the 2 s STOP_DEADLINE_MS) must not have
# had to end it, which it says on stderr ("... did not finish within N ms")
# and would give the same status 3 (fake_stop.sh checks that message). No
# clock of our own decides: a stop that never ends fails at the 60 s hang
# guard. Before the fix the event loop sat in write() on the pipe: no tick
# came after the stall and SIGTERM did nothing.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
: >"$TMP/out"
"$CVISOR" $(base_args) cmdline "console-flood total=0 transport=pci" \
	vdev virtio-console hostdev '>"|exec sleep 1000"' vdev virtio-rng \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
# cvisor is there and not yet a zombie (kill -0 succeeds on one, until
# the wait below reaps it)
running() {
	kill -0 $pid 2>/dev/null && ! grep -q '^State:.*zombie' /proc/$pid/status 2>/dev/null
}
# Three ticks in a row with the same `sent`: the console is stalled and
# the guest and the loop still run. No deadline of our own: a dead cvisor
# ends the wait, run.sh's limit a hung one.
stalled() {
	tr -d '\r' <"$TMP/out" | grep -E '^tick ' | awk '
		{ s = $3; if (s == last) n++; else n = 1; last = s }
		END { exit !(n >= 3 && last != "sent=0") }'
}
until stalled; do
	running || fail "cvisor ended: $(tail -5 "$TMP/err"); $(tail -5 "$TMP/out")"
	sleep 0.2
done
grep -E '^tick ' "$TMP/out" | tail -3
cmd_pid=$(pgrep -P $pid -x sleep) || fail "no console command running"
kill -TERM $pid
# A hang guard only (the watchdog ends a stuck stop after 2 s).
for _ in $(seq 600); do
	running || break
	sleep 0.1
done
if running; then
	kill -KILL $pid
	fail "cvisor did not stop within 60 s of SIGTERM: $(tail -5 "$TMP/err")"
fi
wait $pid
STATUS=$?
expect_status 3
# ended by the stop path, not by its watchdog
! grep -q "did not finish within" "$TMP/err" ||
	fail "the stop needed its watchdog: $(grep "did not finish within" "$TMP/err")"
echo "stopped by SIGTERM, status 3, without the stop watchdog"
# the `|sleep 1000` command is gone too, reaped by cvisor
kill -0 "$cmd_pid" 2>/dev/null && fail "the console command outlived cvisor"
exit 0

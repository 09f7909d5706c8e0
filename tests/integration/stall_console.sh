# A console consumer that stops reading stalls neither the guest nor the
# stop (issue 9, defect 1). The guest floods a virtio-console whose host
# side is `|sleep 1000` (never reads) while it keeps a virtio-rng busy and
# prints ticks on COM1: the console's `sent` must stand still while the
# ticks (rng completions, served by the event loop) go on. Then SIGTERM
# must end cvisor with status 3, within cvisor's stop deadline (2 s; the
# test allows 5 s on a loaded machine). Before the fix the event loop sat in
# write() on the pipe: no tick came after the stall and SIGTERM did nothing.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
: >"$TMP/out"
"$CVISOR" $(base_args) cmdline "console-flood total=0 transport=pci" \
	vdev virtio-console hostdev '>"|exec sleep 1000"' vdev virtio-rng \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
# Three ticks in a row with the same `sent`: the console is stalled and
# the guest and the loop still run. No deadline of our own: a dead cvisor
# ends the wait, run.sh's limit a hung one.
stalled() {
	tr -d '\r' <"$TMP/out" | grep -E '^tick ' | awk '
		{ s = $3; if (s == last) n++; else n = 1; last = s }
		END { exit !(n >= 3 && last != "sent=0") }'
}
until stalled; do
	kill -0 $pid 2>/dev/null || fail "cvisor ended: $(tail -5 "$TMP/err"); $(tail -5 "$TMP/out")"
	sleep 0.2
done
grep -E '^tick ' "$TMP/out" | tail -3
cmd_pid=$(pgrep -P $pid -x sleep) || fail "no console command running"
t0=$(date +%s%N)
kill -TERM $pid
wait $pid
STATUS=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stopped in $ms ms after SIGTERM"
expect_status 3
[ "$ms" -lt 5000 ] || fail "took $ms ms to stop after SIGTERM"
# the `|sleep 1000` command is gone too, reaped by cvisor
kill -0 "$cmd_pid" 2>/dev/null && fail "the console command outlived cvisor"
exit 0

# Against the fake KVM: a VM whose vCPUs sit in KVM_RUN stops on SIGTERM
# and on Ctrl-A x, every time: the kick cannot be lost (kvmtool hangs in
# ~18% of 2-vCPU shutdowns here). 30 rounds with 4 vCPUs.
. "$(dirname "$0")/lib.sh"
need_fake
# -k: a process that ignores the TERM is killed, and the round fails at
# once instead of the whole test at 300 s. (The sanitizer pass's leak
# check hung here now and then until lib.sh's timeout stopped sending a
# SIGCONT after the TERM it passes on.)
for i in $(seq 30); do
	FAKEKVM_SCRIPT=block FAKEKVM_LOG=$TMP/log LD_PRELOAD=$FAKEKVM \
	ASAN_OPTIONS=verify_asan_link_order=0 \
		timeout -k 5 20 "$CVISOR" ram 64m load "$GUEST" cpu cpu cpu cpu \
		vdev ser8250 </dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	# wait for the four vCPU threads of cvisor ($pid is timeout's), then
	# stop the VM; a VM that never gets there is stopped all the same
	for _ in $(seq 500); do
		vmm=$(pgrep -P $pid -x cvisor)
		[ -n "$vmm" ] && [ "$(ls /proc/$vmm/task 2>/dev/null | wc -l)" -ge 6 ] && break
		sleep 0.01
	done
	kill -TERM $pid
	wait $pid
	STATUS=$?
	[ $STATUS -eq 124 ] && fail "round $i: cvisor hung after SIGTERM"
	expect_status 3
done
# Ctrl-A x on stdin (hostdev -: stdin and stdout)
printf '\001x' >"$TMP/in"
STDIN=$TMP/in run_fake "block" ram 64m load "$GUEST" cpu cpu vdev ser8250 hostdev -
expect_status 3
# A vCPU that never comes back from KVM_RUN (wedged in the kernel) cannot
# hold the stop: the stop deadline (2 s) ends the process with the status
# the stop was going to return, and says why.
rm -f "$TMP/log"          # the run above left a boot line in it
FAKEKVM_SCRIPT=stuck FAKEKVM_LOG=$TMP/log LD_PRELOAD=$FAKEKVM \
ASAN_OPTIONS=verify_asan_link_order=0 \
	timeout 60 "$CVISOR" ram 64m load "$GUEST" cpu cpu vdev ser8250 \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
until grep -q '^boot ' "$TMP/log" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || fail "cvisor ended early: $(cat "$TMP/err")"
	sleep 0.01
done
kill -TERM $pid
wait $pid
STATUS=$?
[ $STATUS -eq 124 ] && fail "cvisor hung after SIGTERM with a stuck vCPU"
expect_status 3
grep -q "stopping the VM did not finish within 2000 ms" "$TMP/err" ||
	fail "no deadline message: $(cat "$TMP/err")"

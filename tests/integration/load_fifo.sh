# A boot image that is a FIFO with no writer: `cvisor check` (read_file)
# and a run (the descriptor vm/vm_kept.c keeps for resets) both refuse it
# with the load's position and exit 65. The run's blocking open hung for
# good, SIGTERM or not: -k lets timeout's SIGKILL end that as a failure.
. "$(dirname "$0")/lib.sh"
need_kvm
[ -x "$CVISOR" ] || fail "$CVISOR not built"
mkfifo "$TMP/fifo"
printf 'ram 1m,63m\nload %s\n' "$TMP/fifo" >"$TMP/fifo.qvmconf"
want="$TMP/fifo.qvmconf:2:6: $TMP/fifo: cannot read: Invalid argument"
for how in check run; do
	args=("@$TMP/fifo.qvmconf")
	[ "$how" = check ] && args=(check "${args[@]}")
	timeout -k 5 30 "$CVISOR" "${args[@]}" </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] || [ "$STATUS" -eq 137 ] &&
		fail "$how: cvisor hung on the FIFO (status $STATUS)"
	expect_status 65
	grep -qxF "$want" "$TMP/err" || fail "$how: stderr lacks '$want': $(cat "$TMP/err")"
done

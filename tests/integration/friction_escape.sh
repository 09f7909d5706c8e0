# Friction item 7: the console's Ctrl-A keys. Ctrl-A h lists them, Ctrl-A s
# prints the statistics (or says there are none), Ctrl-A x says
# "cvisor: terminated" on a line of its own before exiting with 3.
# Against the fake KVM, with the keys on stdin (hostdev -).
. "$(dirname "$0")/lib.sh"
need_fake
printf 'a\001hb\001s\001x' >"$TMP/in"
STDIN=$TMP/in run_fake "block" ram 64m load "$GUEST" vdev ser8250 hostdev -
expect_status 3
grep -q "^cvisor: Ctrl-A x  quit" "$TMP/err" || fail "Ctrl-A h listed no keys: $(cat "$TMP/err")"
grep -q "^cvisor: Ctrl-A s  statistics" "$TMP/err" || fail "Ctrl-A h did not list s: $(cat "$TMP/err")"
grep -q "^state: running" "$TMP/err" || fail "Ctrl-A s printed nothing: $(cat "$TMP/err")"
grep -qx "cvisor: terminated" "$TMP/err" || fail "Ctrl-A x did not say so: $(cat "$TMP/err")"
echo "Ctrl-A h, s and x each answered"

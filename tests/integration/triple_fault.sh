# A triple fault stops the VM with a register dump and status 32.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "triple-fault"
expect_status 32
grep -q 'triple fault' "$TMP/err" || fail "no triple-fault message: $(cat "$TMP/err")"
grep -q 'rip=' "$TMP/err" || fail "no register dump: $(cat "$TMP/err")"
grep -q '^RESULT' "$TMP/out" && fail "triple-fault guest reported a result"
exit 0

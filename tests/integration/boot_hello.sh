# The demo: examples/hello.qvmconf prints the greeting and exits 0.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
timeout 60 "$CVISOR" @examples/hello.qvmconf </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^cvisor test guest: hello from ring 3'
expect_out '^RESULT hello ok=1'
grep -q 'via pvh' "$TMP/out" || fail "guest did not boot through PVH"

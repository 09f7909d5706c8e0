# debug-exit: plain mode passes the value through; qemu mode is (v<<1)|1.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "exit status=5"
expect_status 5
timeout 60 "$CVISOR" ram 0,0xa0000 ram 1m,63m load "$GUEST" cmdline "exit status=5" \
	vdev ser8250 vdev debug-exit </dev/null >/dev/null 2>"$TMP/err"
STATUS=$?
expect_status 11
# A guest image that is not an image: a configuration error, 65.
head -c 4096 /dev/urandom >"$TMP/junk.bin"
"$CVISOR" ram 64m load "$TMP/junk.bin" </dev/null >/dev/null 2>"$TMP/err"
STATUS=$?
expect_status 65
grep -q "junk.bin" "$TMP/err" || fail "error does not name the image: $(cat "$TMP/err")"

# Against the fake KVM under valgrind: teardown frees everything and closes
# every descriptor, on a normal exit and on a reset-and-rebuild.
. "$(dirname "$0")/lib.sh"
need_fake
command -v valgrind >/dev/null || skip "needs valgrind"
grep -q __asan_init "$CVISOR" && skip "sanitizer build: valgrind cannot run it (ASan checks leaks itself)"
for script in "out 0xf4 1 0" "reset;out 0xf4 1 0"; do
	FAKEKVM_SCRIPT=$script LD_PRELOAD=$FAKEKVM timeout 120 valgrind -q --vgdb=no \
		--leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--track-fds=yes "$CVISOR" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
		cpu cpu vdev ser8250 hostdev ">$TMP/serial" vdev debug-exit mode plain \
		vdev pckeyboard </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 0
	leaked=$(awk '/Open file descriptor/ { fd = $0; getline; if ($0 !~ /inherited/) print fd }' "$TMP/err")
	[ -z "$leaked" ] || fail "descriptors left open: $leaked"
done

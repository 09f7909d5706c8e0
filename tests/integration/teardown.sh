# Teardown under valgrind: no leaks, no fd left open, every thread joined
# (CVISOR_FULL_TEARDOWN=1: the KVM fds and guest memory too, which a
# normal exit leaves to the kernel; see vm_destroy_at_exit).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v valgrind >/dev/null || skip "needs valgrind"
grep -q __asan_init "$CVISOR" && skip "sanitizer build: valgrind cannot run it (ASan checks leaks itself)"
# shellcheck disable=SC2046
CVISOR_FULL_TEARDOWN=1 timeout 300 valgrind -q --vgdb=no --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--track-fds=yes "$CVISOR" $(base_args) cmdline hello \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
# --track-fds lists open descriptors at exit: only stdio may remain.
leaked=$(awk '/Open file descriptor/ { fd = $0; getline; if ($0 !~ /inherited/) print fd }' "$TMP/err")
[ -z "$leaked" ] || fail "descriptors left open: $leaked"

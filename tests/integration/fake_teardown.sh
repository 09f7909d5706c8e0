# Against the fake KVM under valgrind: teardown frees everything and closes
# every descriptor, on a normal exit and on a reset-and-rebuild, with
# CVISOR_FULL_TEARDOWN=1. Without it a normal exit leaves the VM's and the
# vCPUs' descriptors (the fake's memfds) and the guest memory to the
# kernel (vm_destroy_at_exit): still no leak, and those descriptors open.
. "$(dirname "$0")/lib.sh"
need_fake
command -v valgrind >/dev/null || skip "needs valgrind"
grep -q __asan_init "$CVISOR" && skip "sanitizer build: valgrind cannot run it (ASan checks leaks itself)"
for script in "out 0xf4 1 0" "reset;out 0xf4 1 0"; do
	CVISOR_FULL_TEARDOWN=1 FAKEKVM_SCRIPT=$script LD_PRELOAD=$FAKEKVM \
		timeout 120 valgrind -q --vgdb=no \
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

FAKEKVM_SCRIPT="out 0xf4 1 0" LD_PRELOAD=$FAKEKVM timeout 120 valgrind -q \
	--vgdb=no --leak-check=full --show-leak-kinds=definite,indirect \
	--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
	--track-fds=yes "$CVISOR" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	cpu cpu vdev ser8250 hostdev ">$TMP/serial" vdev debug-exit mode plain \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
kvm_fds=$(grep -A1 'Open file descriptor' "$TMP/err" | grep -c memfd_create)
[ "$kvm_fds" -ge 3 ] ||
	fail "exit: $kvm_fds KVM descriptors (fake memfds) left to the kernel, expected the VM's and 2 vCPUs': $(cat "$TMP/err")"
echo "exit: the VM's and vCPUs' $kvm_fds descriptors left to the kernel, no leak"

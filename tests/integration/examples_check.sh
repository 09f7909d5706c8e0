# Every bundled example configuration is valid.
. "$(dirname "$0")/lib.sh"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
# The examples name the default build's guest (../build/guest/...).
[ -f build/guest/testguest.elf ] || make -s guest BUILD=build >/dev/null || fail "cannot build the guest"
n=0
for f in examples/*.qvmconf; do
	# linux.qvmconf names a kernel and an initramfs that
	# scripts/fetch-linux.sh makes in the build directory (the Linux
	# tests make them, maybe after this test): until both exist, check
	# must stop at the missing one.
	if [ "$f" = examples/linux.qvmconf ] &&
	   { [ ! -f build/linux-cache/bzImage ] || [ ! -f build/linux-cache/initrd.img ]; }; then
		"$CVISOR" check "@$f" 2>"$TMP/err"
		grep -qE 'linux-cache/(bzImage|initrd\.img)' "$TMP/err" || fail "$f: $(cat "$TMP/err")"
		n=$((n + 1))
		continue
	fi
	# seabios-disk.qvmconf: the disk image tests/integration/seabios_disk.sh
	# makes there (in the nested pass where KVM cannot run it here).
	if [ "$f" = examples/seabios-disk.qvmconf ] &&
	   [ ! -f build/linux-cache/seabios-disk.img ]; then
		"$CVISOR" check "@$f" 2>"$TMP/err"
		grep -q 'linux-cache/seabios-disk\.img' "$TMP/err" || fail "$f: $(cat "$TMP/err")"
		n=$((n + 1))
		continue
	fi
	# pass-edu.qvmconf: the edu device of the pass-through rig
	# (pass_edu.sh), which a host without one does not have.
	if [ "$f" = examples/pass-edu.qvmconf ] &&
	   ! grep -qs 0x11e8 /sys/bus/pci/devices/*/device; then
		"$CVISOR" check "@$f" 2>"$TMP/err"
		grep -q 'pass: no PCI device 1234:11e8' "$TMP/err" || fail "$f: $(cat "$TMP/err")"
		n=$((n + 1))
		continue
	fi
	"$CVISOR" check "@$f" 2>"$TMP/err" || fail "$f: $(cat "$TMP/err")"
	n=$((n + 1))
done
[ $n -ge 4 ] || fail "only $n examples found"

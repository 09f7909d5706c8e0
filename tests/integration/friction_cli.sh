# Friction items 1, 3, 4, 5, 6 and 8, each as a new user would meet it.
. "$(dirname "$0")/lib.sh"
need_fake
C=$CVISOR
g="ram 64m load $GUEST"

# 6: --help lists options, vdev types and exit statuses; help vdev TYPE;
# -V; options after `check`; --dump-acpi creates its directory
"$C" --help >"$TMP/help" || fail "--help: status $?"
for w in -- "--log FILE" "--dump-acpi DIR" "virtio-blk" "ser8250" "65  configuration error" "3   terminated"; do
	[ "$w" = -- ] && continue
	grep -qF -- "$w" "$TMP/help" || fail "--help lacks '$w': $(cat "$TMP/help")"
done
"$C" help vdev virtio-blk >"$TMP/hv" || fail "help vdev: status $?"
grep -q "threads N" "$TMP/hv" || fail "help vdev virtio-blk lacks threads: $(cat "$TMP/hv")"
"$C" help vdev ser8520 2>"$TMP/err" && fail "help vdev of an unknown type succeeded"
grep -q "did you mean 'ser8250'" "$TMP/err" || fail "no suggestion: $(cat "$TMP/err")"
v=$("$C" -V) || fail "-V: status $?"
[ "$v" = "$("$C" --version)" ] || fail "-V and --version differ"
case $v in "cvisor "?*) ;; *) fail "version: $v" ;; esac
# shellcheck disable=SC2086
"$C" check -q $g || fail "options after check: status $?"
# shellcheck disable=SC2086
"$C" --dump-acpi "$TMP/acpi/new" $g || fail "--dump-acpi into a new directory: status $?"
[ -s "$TMP/acpi/new/DSDT.dat" ] || fail "--dump-acpi wrote no DSDT.dat"

# expect_check ERROR_TEXT TOKENS...: check exits 65 and says ERROR_TEXT
expect_check() {
	local want=$1; shift
	"$C" check "$@" >/dev/null 2>"$TMP/err"
	local rc=$?
	[ $rc -eq 65 ] || fail "check $*: status $rc, want 65: $(cat "$TMP/err")"
	grep -qF -- "$want" "$TMP/err" || fail "check $*: want '$want', got: $(cat "$TMP/err")"
}

# 1: the shell ate `>-`: the error says to quote it
# shellcheck disable=SC2086
expect_check "write hostdev '>-'" $g vdev ser8250 hostdev
# shellcheck disable=SC2086
expect_check "write hostdev '>-'" $g vdev ser8250 hostdev vdev debug-exit

# 3: a config file without its @; did you mean
cp "$(dirname "$0")/../configs/good/minimal.qvmconf" "$TMP/vm.qvmconf"
expect_check "write '@$TMP/vm.qvmconf'" "$TMP/vm.qvmconf"
# shellcheck disable=SC2086
expect_check "did you mean 'ram'?" rma 64m load "$GUEST"
# shellcheck disable=SC2086
expect_check "did you mean 'ser8250'?" $g vdev ser8520
# shellcheck disable=SC2086
expect_check "did you mean 'hostdev'?" $g vdev ser8250 hostdve -
# shellcheck disable=SC2086
expect_check "did you mean 'threads'?" $g vdev virtio-blk thread 2 hostdev "$TMP/disk"

# 4: check refuses what the run refuses
# shellcheck disable=SC2086
expect_check "$TMP/missing.img" $g vdev virtio-blk hostdev "$TMP/missing.img"
truncate -s 1M "$TMP/disk.img"
# shellcheck disable=SC2086
expect_check "legacy" $g vdev virtio-blk legacy hostdev "$TMP/disk.img"
head -c 4096 /dev/zero >"$TMP/raw.bin"
expect_check "raw image with a load address" ram 64m load "$TMP/raw.bin"
expect_check "cannot open it for reading" $g vdev ser8250 hostdev "<$TMP/nonexistent"

# 8: a runmask naming a host CPU that does not exist
# shellcheck disable=SC2086
expect_check "which does not exist" $g cpu runmask 1000

# 5: `ram 4g` with a PCI device is split around the PCI hole; -v says so
"$C" check -v ram 4g load "$GUEST" vdev virtio-entropy 2>"$TMP/err" || fail "ram 4g with PCI: status $?: $(cat "$TMP/err")"
grep -q "ram split around" "$TMP/err" || fail "no split in -v: $(cat "$TMP/err")"
grep -q "memory 0x0100000000-0x014fffffff ram" "$TMP/err" || fail "-v does not show RAM from 4 GiB: $(cat "$TMP/err")"
grep -q "boot: PVH, entry" "$TMP/err" || fail "-v does not show the boot protocol: $(cat "$TMP/err")"
grep -q "vdev virtio-entropy: pci" "$TMP/err" || fail "-v does not show the device: $(cat "$TMP/err")"

# 8: a pty console says where it is
run_fake "out 0xf4 1 0" ram 64m load "$GUEST" vdev ser8250 hostdev pty vdev debug-exit mode plain
expect_status 0
grep -Eq "^cvisor: vdev ser8250: console on /dev/pts/[0-9]+$" "$TMP/err" || fail "pty: $(cat "$TMP/err")"
echo "help, version, check options, did-you-mean, check = run, ram split, runmask, pty name"

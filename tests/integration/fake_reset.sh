# Against the fake KVM: a guest reset rebuilds the VM (reboot reset, the
# default) or exits with 34 (reboot exit); i8042 0xFE and KVM's reset event
# both count as reset requests.
. "$(dirname "$0")/lib.sh"
need_fake
args="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 vdev debug-exit mode plain vdev pckeyboard"
# shellcheck disable=SC2086
{
run_fake "reset;out 0xf4 1 7" $args
expect_status 7
[ "$(grep -c '^create vm$' "$TMP/log")" -eq 2 ] || fail "VM not rebuilt: $(cat "$TMP/log")"
[ "$(grep -c '^close vm$' "$TMP/log")" -eq 2 ] || fail "old VM not closed"

run_fake "reset" $args reboot exit
expect_status 34

run_fake "out 0x64 1 0xfe" $args reboot exit
expect_status 34
run_fake "out 0x64 1 0xfe;out 0xf4 1 9" $args
expect_status 9
[ "$(grep -c '^create vm$' "$TMP/log")" -eq 2 ] || fail "i8042 reset did not rebuild"
}

# ACPI (hardware-reduced registers from the FADT): S5 powers off with 0,
# the reset register resets, other sleep types are ignored.
# shellcheck disable=SC2086
{
run_fake "out 0x601 1 0x80;out 0x600 1 0x34" $args
expect_status 0
run_fake "out 0x600 1 0x2c;out 0xf4 1 4" $args
expect_status 4
run_fake "out 0x602 1 1" $args reboot exit
expect_status 34
}

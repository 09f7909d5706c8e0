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
# The old VM is closed before the new one is made; the last one is left
# to the process exit (vm_destroy_at_exit), unless CVISOR_FULL_TEARDOWN.
[ "$(grep -E '^(create|close) vm$' "$TMP/log" | tr '\n' ,)" = "create vm,close vm,create vm," ] ||
	fail "old VM not closed before the new one: $(grep -E '^(create|close) vm$' "$TMP/log")"
CVISOR_FULL_TEARDOWN=1 run_fake "reset;out 0xf4 1 7" $args
expect_status 7
[ "$(grep -c '^close vm$' "$TMP/log")" -eq 2 ] || fail "CVISOR_FULL_TEARDOWN=1: not both VMs closed"

run_fake "reset" $args reboot exit
expect_status 34

run_fake "out 0x64 1 0xfe" $args reboot exit
expect_status 34
run_fake "out 0x64 1 0xfe;out 0xf4 1 9" $args
expect_status 9
[ "$(grep -c '^create vm$' "$TMP/log")" -eq 2 ] || fail "i8042 reset did not rebuild"
}

# ACPI (hardware-reduced registers from the FADT): S5 powers off with 0,
# the reset register resets, sleep types but S3, S4 and S5 are ignored (S3
# suspends: tests/integration/s3.sh).
# shellcheck disable=SC2086
{
run_fake "out 0x601 1 0x80;out 0x600 1 0x34" $args
expect_status 0
run_fake "out 0x600 1 0x24;out 0x600 1 0x38;out 0xf4 1 4" $args
expect_status 4
run_fake "out 0x602 1 1" $args reboot exit
expect_status 34
}

# A reset keeps the host side (issue 9, defect 2): the `>FILE` log is
# appended to, not reopened and truncated; a `|cmd` is not respawned; CMOS
# NVRAM (byte 0x50) and the guest's clock survive, as on a PC.
log=$TMP/console.txt spawns=$TMP/spawns piped=$TMP/piped
script="outs 0x3f8 before-reset;outs 0x2f8 one;out 0x70 1 0x50;out 0x71 1 0xa5"
script="$script;reset;outs 0x3f8 after-reset;outs 0x2f8 two"
script="$script;out 0x70 1 0x50;in 0x71 1;out 0xf4 1 0"
# shellcheck disable=SC2086
run_fake "$script" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev ser8250 hostdev ">$log" \
	vdev ser8250 loc 0x2f8 intr ioapic:3 hostdev ">\"|echo x >>$spawns; cat >$piped\"" \
	vdev mc146818 vdev debug-exit mode plain
expect_status 0
[ "$(grep -c '^create vm$' "$TMP/log")" -eq 2 ] || fail "VM not rebuilt: $(cat "$TMP/log")"
[ "$(cat "$log")" = before-resetafter-reset ] ||
	fail "console log across the reset: '$(cat "$log")'"
[ "$(wc -l <"$spawns")" -eq 1 ] || fail "the |cmd ran $(wc -l <"$spawns") times"
[ "$(cat "$piped")" = onetwo ] || fail "the |cmd got '$(cat "$piped")'"
expect_log '^in 0x71 = 0xa5$'

# Against the fake KVM: every exit reason gets its documented outcome.
. "$(dirname "$0")/lib.sh"
need_fake
args="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >- vdev debug-exit mode plain"
# shellcheck disable=SC2086
{
run_fake "outs 0x3f8 hello from the fake;out 0x3f8 1 10;out 0xf4 4 0" $args
expect_status 0
grep -qx 'hello from the fake' "$TMP/out" || fail "serial output: $(cat "$TMP/out")"

run_fake "out 0xf4 1 5" $args
expect_status 5
run_fake "out 0xf4 4 5" ram 64m load "$GUEST" vdev debug-exit
expect_status 11

run_fake "shutdown" $args
expect_status 32
grep -q 'triple fault' "$TMP/err" || fail "no triple fault message"
grep -q 'rip=' "$TMP/err" || fail "no register dump"

run_fake "internal" $args
expect_status 7
grep -q 'internal error, suberror 1 0xdead' "$TMP/err" || fail "internal error not reported: $(cat "$TMP/err")"

run_fake "failentry" $args
expect_status 7
grep -q 'entry failed, reason 0x21' "$TMP/err" || fail "entry failure not reported"

run_fake "unknown 99" $args
expect_status 5

run_fake "poweroff" $args
expect_status 0

run_fake "crash" $args
expect_status 96

# unclaimed port: all-ones, logged (rate-limited), guest goes on
run_fake "in 0x1234 1;in 0x1234 4;mmior 0xd0000000 4;out 0xf4 1 0" $args
expect_status 0
expect_log '^in 0x1234 = 0xff$'
expect_log '^in 0x1234 = 0xffffffff$'
expect_log '^mmior 0xd0000000 = 0xffffffff$'
grep -q 'unclaimed port read at 0x1234' "$TMP/err" || fail "unclaimed access not logged"
# ...but an OS probing the PC's ISA ports and PCI mechanism #1 for absent
# hardware is normal: all-ones, and no warning (only with -v)
run_fake "in 0x2f9 1;out 0xcf8 4 0x80000000;in 0xcfc 4;out 0xf4 1 0" $args
expect_status 0
expect_log '^in 0x2f9 = 0xff$'
expect_log '^in 0xcfc = 0xffffffff$'
grep -q 'unclaimed' "$TMP/err" && fail "a PC probe port was logged as a warning: $(cat "$TMP/err")"
# 16550 LSR after reset: THRE and TEMT
run_fake "in 0x3fd 1;out 0xf4 1 0" $args
expect_log '^in 0x3fd = 0x60$'
}

# triplefault reset: a triple fault is a reset request (Linux reboot=t),
# which `reboot` turns into a rebuild or an exit with 34
# shellcheck disable=SC2086
{
run_fake "shutdown;out 0xf4 1 6" $args triplefault reset
expect_status 6
grep -q 'triple fault' "$TMP/err" || fail "no register dump on a triple fault reset"
run_fake "shutdown" $args triplefault reset reboot exit
expect_status 34
}

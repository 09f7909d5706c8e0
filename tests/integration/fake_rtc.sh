# The CMOS RTC (vdev mc146818) against the fake KVM: register D reads VRT,
# the century byte reads the host's century in BCD, and the 8192 Hz
# periodic interrupt reaches KVM_IRQ_LINE on GSI 8 and drops when register
# C is read. Also: `cvisor check` takes the QNX `reg` preset option.
. "$(dirname "$0")/lib.sh"
need_fake

"$CVISOR" check ram 64m load "$GUEST" vdev mc146818 >/dev/null 2>&1 ||
	fail "cvisor check rejects 'vdev mc146818'"
"$CVISOR" check ram 64m load "$GUEST" vdev mc146818 reg 0x0b,0x02 reg 0x40,1,2 \
	>/dev/null 2>&1 ||
	fail "cvisor check rejects 'vdev mc146818 reg 0x0b,0x02'"
"$CVISOR" check ram 64m load "$GUEST" vdev mc146818 reg 0x0b,x >/dev/null 2>&1
[ $? -eq 65 ] || fail "cvisor check accepts 'reg 0x0b,x'"

century=$(printf '0x%d' $(( $(date -u +%Y) / 100 )))
script="out 0x70 1 0x0d;in 0x71 1;out 0x70 1 0x32;in 0x71 1;"
# 8192 Hz with PIE; wait for the interrupt, then read C.
script+="out 0x70 1 0x0a;out 0x71 1 0x23;out 0x70 1 0x0b;out 0x71 1 0x42;"
script+="irqwait 8;out 0x70 1 0x0c;in 0x71 1;out 0x70 1 0x0b;out 0x71 1 0x02;"
script+="out 0xf4 1 0"
run_fake "$script" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev mc146818 vdev debug-exit mode plain
expect_status 0
expect_log '^in 0x71 = 0x80$'
expect_log "^in 0x71 = $century\$"
expect_log '^irq 8 level 1$'
expect_log '^irqwait 8 1 ok$'
expect_log '^in 0x71 = 0x[cd]0$'   # IRQF PF, and UF if a second passed
# the register C read lowered the line after raising it
grep -A100 '^irq 8 level 1$' "$TMP/log" | grep -q '^irq 8 level 0$' ||
	fail "IRQ 8 never dropped: $(cat "$TMP/log")"
exit 0

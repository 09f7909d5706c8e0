# Against the fake KVM: a virtio-rng on virtio-mmio, driven end to end as a
# Linux driver would (spec 3.1.1): identification, feature negotiation, one
# queue set up in guest memory, a kick, the used ring filled by the device
# on the event loop, InterruptStatus and the level on the IOAPIC pin, ack,
# reset. With dev_env.ioeventfd wired to KVM_IOEVENTFD the kick never
# exits (the fake signals the eventfd as KVM would).
. "$(dirname "$0")/lib.sh"
need_fake

B=0xd0000000
DEV="vdev virtio-rng loc $B intr ioapic:10"
# shellcheck disable=SC2086
if ! "$CVISOR" check ram 0,0xa0000 ram 1m,63m load "$GUEST" $DEV >"$TMP/check" 2>&1; then
	grep -q "not supported" "$TMP/check" &&
		skip "no virtio-rng device type yet: $(head -1 "$TMP/check")"
	fail "cvisor check: $(cat "$TMP/check")"
fi

r() { printf 'mmior %#x 4;' $((B + $1)); }
w() { printf 'mmiow %#x 4 %s;' $((B + $1)) "$2"; }
DESC=0x3000000 AVAIL=0x3001000 USED=0x3002000 BUF=0x3003000

s=$(r 0x000)$(r 0x004)$(r 0x008)$(r 0x00c)
# reset, ACKNOWLEDGE, DRIVER, accept VERSION_1 only, FEATURES_OK
s+=$(w 0x070 0)$(w 0x070 1)$(w 0x070 3)
s+=$(w 0x014 1)$(r 0x010)
s+=$(w 0x024 0)$(w 0x020 0)$(w 0x024 1)$(w 0x020 1)
s+=$(w 0x070 0xb)$(r 0x070)
# queue 0: 8 entries, rings at DESC/AVAIL/USED
s+=$(w 0x030 0)$(r 0x034)$(w 0x038 8)
s+=$(w 0x080 $DESC)$(w 0x084 0)$(w 0x090 $AVAIL)$(w 0x094 0)
s+=$(w 0x0a0 $USED)$(w 0x0a4 0)$(w 0x044 1)$(r 0x044)
s+=$(w 0x070 0xf)
# one 64-byte device-writable buffer, made available, then the kick
s+="memfill $DESC 0x3000 0;memfill $BUF 64 0;"
s+="memw $DESC 8 $BUF;memw $((DESC + 8)) 4 64;memw $((DESC + 12)) 2 2;"
s+="memw $((AVAIL + 4)) 2 0;memw $((AVAIL + 2)) 2 1;"
s+=$(w 0x050 0)
s+="memwait $((USED + 2)) 2 1;memr $((USED + 4)) 4;memr $((USED + 8)) 4;"
s+="memr $BUF 8;irqwait 10;"
s+=$(r 0x060)$(w 0x064 1)$(r 0x060)
# reset: queue not ready, status 0; then the guest exits
s+=$(w 0x070 0)$(r 0x070)$(r 0x044)
s+="out 0xf4 1 0"

# shellcheck disable=SC2086
run_fake "$s" ram 0,0xa0000 ram 1m,63m load "$GUEST" $DEV \
	vdev debug-exit mode plain
expect_status 0
expect_log '^mmior 0xd0000000 = 0x74726976$'
expect_log '^mmior 0xd0000004 = 0x2$'
expect_log '^mmior 0xd0000008 = 0x4$'
expect_log '^mmior 0xd000000c = 0x554d4551$'
expect_log '^mmior 0xd0000010 = 0x1$'          # VERSION_1 offered
expect_log '^mmior 0xd0000070 = 0xb$'          # FEATURES_OK stuck
expect_log '^mmior 0xd0000044 = 0x1$'          # queue ready
expect_log "^memwait $(printf %#x $((USED + 2))) = 0x1 ok$"
expect_log "^memr $(printf %#x $((USED + 4))) = 0$"     # id 0
expect_log "^memr $(printf %#x $((USED + 8))) = 0x40$"  # 64 bytes
if grep -qE "^memr $(printf %#x $BUF) = 0$" "$TMP/log"; then
	fail "the buffer is still zero: $(cat "$TMP/log")"
fi
expect_log '^mmior 0xd0000060 = 0x1$'          # used buffer interrupt
expect_log '^irq 10 level 1$'
expect_log '^irq 10 level 0$'                  # after InterruptACK
expect_log '^mmior 0xd0000060 = 0$'
expect_log '^irqwait 10 1 ok$'
# the kick never exits: KVM_IOEVENTFD signals the queue's eventfd
expect_log '^ioeventfd assign mmio 0xd0000050 len 4 datamatch 0$'
expect_log '^ioeventfd kick 0xd0000050 = 0$'
expect_log '^ioeventfd deassign mmio 0xd0000050 len 4 datamatch 0$'


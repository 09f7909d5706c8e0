# The PL011 model driven by the guest: IDs, loopback and RX interrupt.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "pl011 base=0xfe001000 irq=5" vdev pl011 loc 0xfe001000 intr ioapic:5 hostdev ">$TMP/pl011.out"
expect_status 0
expect_out '^RESULT pl011 id=ok loopback=ok irq=ok'
grep -q 'pl011: hello' "$TMP/pl011.out" || fail "PL011 output did not reach its hostdev"

# pc-testdev: QEMU's ISA test device under the test guest's pc-testdev
# workload (scratch ports in every width, the IORAM by MMIO, an interrupt
# line raised through 0x2000+N and taken through the IOAPIC), on an
# ISA line and on an IOAPIC-only one; without the device the workload
# fails.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

run_guest "pc-testdev" vdev pc-testdev
expect_status 0
expect_out '^RESULT pc-testdev scratch=1 ioram=1 irq=5 irqs=2 ok=1$'
run_guest "pc-testdev irq=18" vdev pc-testdev
expect_status 0
expect_out '^RESULT pc-testdev scratch=1 ioram=1 irq=18 irqs=2 ok=1$'

run_guest "pc-testdev"
expect_status 1
expect_out '^pc-testdev: scratch dword: got 0xffffffff, want 0x12345678$'
exit 0

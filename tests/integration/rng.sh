# rng: virtio-entropy (and its alias virtio-rng) on both transports.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "rng transport=pci" vdev virtio-entropy
expect_status 0
expect_out '^virtio: pci 00:'
expect_out '^RESULT rng bytes=4096 ok=1$'
run_guest "rng transport=mmio mmio=0xd0000000 bytes=100000" \
	vdev virtio-rng loc 0xd0000000 intr ioapic:10
expect_status 0
expect_out '^RESULT rng bytes=100000 ok=1$'

# blk-verify on both transports: the guest writes its pattern across the
# disk, flushes, reads back and compares; then the host checks the image
# (tests/integration/blk_check.py documents the pattern and positions).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 for the image check"
check_image() {
	python3 "$(dirname "$0")/blk_check.py" "$@" >"$TMP/check" 2>&1 ||
		fail "host-side image check: $(cat "$TMP/check")"
}

# virtio-pci (the builder places the BARs; the guest enumerates bus 0).
truncate -s 64M "$TMP/pci.img"
run_guest "blk-verify transport=pci" vdev virtio-blk hostdev "$TMP/pci.img" name pci-disk
expect_status 0
expect_out '^virtio: pci 00:'
expect_out "^blk-verify: get_id status=0 id='pci-disk'$"
expect_out '^RESULT blk-verify sectors=128 capacity=131072 flush=1 ok=1$'
check_image "$TMP/pci.img"

# virtio-mmio version 2 at an explicit address, odd-sized disk, O_DIRECT.
truncate -s 40M "$TMP/mmio.img"
run_guest "blk-verify transport=mmio mmio=0xd0000000 blocks=21 seed=0x5eed" \
	vdev virtio-blk loc 0xd0000000 intr ioapic:10 hostdev "$TMP/mmio.img" dio enable
expect_status 0
expect_out '^virtio: mmio 0xd0000000 type 2$'
expect_out '^RESULT blk-verify sectors=168 capacity=81920 flush=1 ok=1$'
check_image "$TMP/mmio.img" 21 0x5eed

# Direct descriptor chains instead of indirect tables.
truncate -s 16M "$TMP/direct.img"
run_guest "blk-verify indirect=0 blocks=5 seed=3" vdev virtio-blk hostdev "$TMP/direct.img"
expect_status 0
expect_out '^RESULT blk-verify sectors=40 capacity=32768 flush=1 ok=1$'
check_image "$TMP/direct.img" 5 3

# A read-only disk: the guest sees VIRTIO_BLK_F_RO and refuses to write.
run_guest "blk-verify" vdev virtio-blk hostdev "<$TMP/direct.img"
expect_status 1
expect_out 'ro=1'

# The bundled examples, on build/disk.img as their comments say (they
# name ../build/...: only the default build runs them as they are).
img=$(dirname "$CVISOR")/disk.img
[ "$(cd "$(dirname "$CVISOR")" && pwd)" = "$(pwd)/build" ] ||
	{ echo "part 'examples/blk*.qvmconf' skipped: they run build/'s files, and this is $BUILD"; exit 0; }
[ -f "$img" ] || truncate -s 64M "$img"
for ex in blk blk-mmio; do
	timeout 60 "$CVISOR" "@examples/$ex.qvmconf" </dev/null >"$TMP/out" 2>"$TMP/err"
	# shellcheck disable=SC2034 # read by expect_status
	STATUS=$?
	expect_status 0
	expect_out '^RESULT blk-verify .* flush=1 ok=1$'
	check_image "$img"
done

# Against the fake KVM: a VM with virtio devices on PCI has the host bridge
# at 00:00.0 and the devices in slots 1.. (config mechanism #1), their BARs
# decoding where the BAR registers say, and the MSI-X table programming a
# KVM MSI route.
. "$(dirname "$0")/lib.sh"
need_fake
truncate -s 16M "$TMP/disk.img"
cfg() { printf 'out 0xcf8 4 %#x;in 0xcfc 4;' $((0x80000000 | ($1 << 11) | $2)); }
s=$(cfg 0 0)$(cfg 1 0)$(cfg 2 0)$(cfg 1 0x20)$(cfg 1 0x14)
s+="out 0xf4 1 0"
run_fake "$s" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev virtio-blk hostdev "$TMP/disk.img" vdev virtio-rng \
	vdev debug-exit mode plain
expect_status 0
expect_log '^in 0xcfc = 0x81b36$'          # 1b36:0008 host bridge
expect_log '^in 0xcfc = 0x10421af4$'       # virtio-blk, modern
expect_log '^in 0xcfc = 0x10441af4$'       # virtio-rng, modern
# BAR4 (0x20, 64-bit, low half) and BAR1 (0x14) of slot 1 are placed in the PCI window
bar4=$(grep '^in 0xcfc' "$TMP/log" | sed -n 4p | awk '{print $4}')
bar1=$(grep '^in 0xcfc' "$TMP/log" | sed -n 5p | awk '{print $4}')
[ $((bar4 & ~0xf)) -ge $((0xc0000000)) ] || fail "BAR4 at $bar4"
[ $((bar1 & ~0xf)) -ge $((0xc0000000)) ] || fail "BAR1 at $bar1"
# the common config (BAR4 + 0) answers at the BAR's address: device
# feature select 0 reads back 0
base=$((bar4 & ~0xf))
run_fake "$(printf 'mmior %#x 4;mmior %#x 2;out 0xf4 1 0' $base $((base + 0x12)))" \
	ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev virtio-blk hostdev "$TMP/disk.img" vdev virtio-rng vdev debug-exit mode plain
expect_status 0
expect_log "^mmior $(printf %#x $((base + 0x12))) = 0x1$"   # num_queues

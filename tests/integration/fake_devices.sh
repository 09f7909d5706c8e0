# Against the fake KVM: MMIO and port accesses reach the right device model
# through the bus (PL011 IDs/data/interrupt, testdev, i8042 self-test, port
# 0x80), and a device's interrupt reaches KVM_IRQ_LINE on its configured pin.
. "$(dirname "$0")/lib.sh"
need_fake
script="mmior 0xfe001fe0 4;mmior 0xfe001ff0 4;mmiow 0xfe001030 4 0x301;"
script+="mmiow 0xfe001000 4 0x41;mmiow 0xfe001000 4 0x0a;"
script+="mmiow 0xfe001038 4 0x20;mmiow 0xfe001000 4 0x42;"
script+="mmiow 0xfeb00000 4 1;mmiow 0xfeb00000 4 1;mmior 0xfeb00000 4;mmior 0xfeb00008 4;"
script+="out 0x64 1 0xaa;in 0x60 1;out 0x80 1 0x55;in 0x80 1;out 0xf4 1 0"
run_fake "$script" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev pl011 loc 0xfe001000 intr ioapic:5 hostdev ">$TMP/pl011" \
	vdev testdev vdev pckeyboard vdev debug-exit mode plain
expect_status 0
expect_log '^mmior 0xfe001fe0 = 0x11$'
expect_log '^mmior 0xfe001ff0 = 0xd$'
expect_log '^mmior 0xfeb00000 = 0x2$'
expect_log '^mmior 0xfeb00008 = 0x74736574$'
expect_log '^in 0x60 = 0x55$'
expect_log '^in 0x80 = 0xff$'
expect_log '^irq 5 level 1$'
[ "$(head -c 3 "$TMP/pl011")" = "A
B" ] || fail "PL011 output: $(od -c "$TMP/pl011" | head -3)"

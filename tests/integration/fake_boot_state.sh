# Against the fake KVM: the builder hands KVM exactly the configured memory,
# the irqchip and PIT, and a boot vCPU in the PVH entry state with a correct
# hvm_start_info (magic, command line, memory map equal to the config).
. "$(dirname "$0")/lib.sh"
need_fake
# The PVH entry from the ELF note (name "Xen", type 0x12), read with readelf.
hex=$(readelf -n "$GUEST" | awk '/Unknown note type: \(0x00000012\)/ { f = 1; next }
	f && /description data:/ { print $6 $5 $4 $3; exit }')
[ -n "$hex" ] || fail "no PVH note in $GUEST"
entry=$(printf '%#x' "0x$hex")
run_fake "out 0xf4 4 0" ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	cmdline "hello world" vdev ser8250 vdev debug-exit mode plain
expect_status 0
expect_log '^create vm$'
expect_log '^irqchip$'
expect_log '^pit2 flags=0x1$'
expect_log '^slot 0 gpa=0 size=0xa0000 flags=0$'
# the BIOS area for the ACPI/MP tables, read-only, since the config left it free
expect_log '^slot 1 gpa=0xe0000 size=0x20000 flags=0x2$'
expect_log '^slot 2 gpa=0x100000 size=0x3f00000 flags=0$'
expect_log '^vcpu 0 lint0 mode 7$'
expect_log "^boot rip=$entry rax=0"
expect_log '^boot rip=0x[0-9a-f]+ rax=0 rbx=0x[0-9a-f]+ cr0=0x11 efer=0 cs.db=1 cs.l=0 cs.limit=0xffffffff$'
expect_log "^pvh version=1 nr_modules=0 cmdline='hello world' memmap_entries=3$"
expect_log '^pvh memmap 0 0xa0000 1$'
expect_log '^pvh memmap 0xe0000 0x20000 2$'
expect_log "^pvh rsdp=0xf0000 sig='RSD PTR '$"
expect_log '^pvh memmap 0x100000 0x3f00000 1$'
# the last VM's fds are left to the process exit (vm_destroy_at_exit)
grep -q '^close vm$' "$TMP/log" && fail "the VM fd was closed before the exit"

# The PIT's ports reserved: no in-kernel PIT (bench/startup's trivial guest).
run_fake "out 0xf4 1 0" ram 1m,63m reserve loc io:0x40,4 \
	load 0x100000,"$GUEST" vdev debug-exit mode plain
expect_status 0
expect_log '^irqchip$'
grep -q '^pit2' "$TMP/log" && fail "a PIT although its ports are reserved"

# ROM: a read-only slot, filled by a `data load` inside it.
head -c 4096 /dev/zero | tr '\0' '\220' >"$TMP/rom.bin"
run_fake "out 0xf4 1 0" ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,63m \
	load "$GUEST" data load 0xc0000,"$TMP/rom.bin" vdev debug-exit mode plain
expect_status 0
expect_log '^slot 1 gpa=0xc0000 size=0x40000 flags=0x2$'
# a raw image at an address starts in flat 32-bit mode at that address
run_fake "out 0xf4 1 0" ram 0,0xa0000 ram 1m,63m load 0x200000,"$TMP/rom.bin" \
	vdev debug-exit mode plain
expect_status 0
expect_log '^boot rip=0x200000 rax=0 rbx=0 cr0=0x11'

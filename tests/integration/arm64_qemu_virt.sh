# The AArch64 test guest under QEMU's virt board (TCG, no KVM needed), the
# reference for what it does under cvisor in the arm64 rig: the same
# workloads over virtio-pci on QEMU's ECAM host bridge, with MSI-X vectors
# mapped through QEMU's emulated GICv3 ITS (guest/arch/arm64/its.c), so a
# guest-side ITS or ECAM bug shows up here and not only in the rig.
# Then the GICv2 board: the timer and PL031 interrupts through a GICv2's
# memory-mapped CPU interface (what the rig cannot run: its KVM makes no
# vGICv2), and virtio-pci without an ITS (polled, no MSI-X).
# 2-3 s on an idle host (the PL031's match is a second away, twice).
. "$(dirname "$0")/lib.sh"
VGUEST=$BUILD/guest/testguest-arm64-virt.bin
[ -f "$VGUEST" ] || skip "no AArch64 test guest (needs gcc-aarch64-linux-gnu: scripts/deps.sh test)"
command -v qemu-system-aarch64 >/dev/null ||
	skip "qemu-system-aarch64 not installed (Debian: qemu-system-arm)"
truncate -s 4M "$TMP/disk.img"
virt() {   # virt GIC-VERSION BOOTARGS
	timeout 120 qemu-system-aarch64 -M virt,gic-version=$1 -cpu cortex-a57 -smp 2 -m 128 \
		-nographic -no-reboot -monitor none \
		-drive file="$TMP/disk.img",if=none,id=d,format=raw \
		-device virtio-blk-pci,drive=d,disable-legacy=on \
		-device virtio-rng-pci,disable-legacy=on \
		-kernel "$VGUEST" -append "$2" </dev/null >"$TMP/out" 2>&1
	rc=$?
	tr -d '\r' <"$TMP/out" >"$TMP/o"
}
want() { grep -qE "$1" "$TMP/o" || fail "no /$1/ (qemu status $rc) in: $(tail -30 "$TMP/o")"; }
virt 2 "hello smp timer pl031 rng blk-verify"
want '^RESULT hello cpus=2 el=1 ok=1$'
want '^RESULT smp cpus=2 psci=0x[0-9a-f]+ ok=1$'
want '^RESULT timer irqs=1 intid=27 ok=1$'
want '^RESULT pl031 loaded=100[0-2] irqs=1 ok=1$'
want '^RESULT rng bytes=4096 ok=1$'
want '^RESULT blk-verify sectors=128 capacity=8192 flush=1 ok=1$'
want '^DONE failures=0$'
grep -q '^its:' "$TMP/o" && fail "GICv2: an ITS was used: $(grep '^its' "$TMP/o")"
virt 3 "hello smp timer pl031 rng blk-verify its"
want '^RESULT hello cpus=2 el=1 ok=1$'
want '^RESULT smp cpus=2 psci=0x[0-9a-f]+ ok=1$'
want '^RESULT timer irqs=1 intid=27 ok=1$'
want '^RESULT pl031 loaded=100[0-2] irqs=1 ok=1$'
want '^virtio: pci 00:0[0-9]\.0 1af4:1044 type 4 '
want '^RESULT rng bytes=4096 ok=1$'
want '^virtio: pci 00:0[0-9]\.0 1af4:1042 type 2 '
want '^RESULT blk-verify sectors=128 capacity=8192 flush=1 ok=1$'
want '^its: devid 0x[0-9a-f]+ event 0 -> LPI 8192$'
want '^its: devices=2 lpis=[1-9][0-9]* last=819[23]$'
want '^RESULT its devices=2 lpis_seen=1 ok=1$'
want '^DONE failures=0$'
echo "arm64 test guest under qemu -M virt: GICv2 (timer, pl031, virtio-pci polled) and GICv3 (the same, MSI-X through the ITS)"

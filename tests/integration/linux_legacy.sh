# Linux on the legacy PC (issue 13's found defects): two boots, each ending
# in a reset that `reboot exit` makes status 34.
#  1. noapic (the 8259 alone) with the cloud kernel of linux_boot.sh,
#     busybox `reboot -f` with the documented command line: Linux programs
#     the PIC (the FADT is not hardware-reduced: before, the 8259 stayed in
#     KVM's reset state and IRQ 4 came in as vector 4, an "overflow" oops)
#     and resets through the FADT's RESET_REG (before, it took the EFI and
#     then the BIOS path and hung at the empty reset vector); the mmio
#     disk's IRQ 10 through the PIC.
#  2. acpi=off with Debian's generic kernel (the cloud one lacks MP table
#     support; the nested machine boots the generic one, so it is at hand
#     there): both CPUs from the MP table, the PCI disk's INTx from its I/O
#     interrupt entries (before: "can't find IRQ for PCI INT A; probably
#     buggy MP table"), the TSC-deadline timer offered (before, Linux
#     verified the LAPIC timer against the PIT, which fails in the nested
#     machine: "APIC timer disabled due to verification failure", QEMU's
#     guest too without TSC deadline), and a panic with panic=-1 and
#     reboot=b: Linux jumps to the BIOS reset vector in real mode, where
#     cvisor's stub must reset (before: nothing there, it hung). (Without
#     reboot=b and with ACPI off, Linux would get there too, but only after
#     polling the i8042 tens of thousands of times: minutes when nested.)
# Kernel complaints (overflow:, Oops, BUG:, can't find IRQ, verification
# failure) fail it. Needs a KVM that runs guest kernel mode natively
# (elsewhere it skips and tests/run.sh runs it in the nested machine).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s)
limit=${LINUX_LEGACY_TIMEOUT:-130}    # per boot, s: a hang guard

fetch() {
	BUILD=$BUILD "$top/scripts/fetch-linux.sh" "$1"
}
# What linux_boot.sh (run before this one) left in the cache is taken as
# it is: fetch-linux.sh's checks take minutes in a loaded nested machine.
cache=$BUILD/linux-cache
kernel=${CVISOR_LINUX_KERNEL:-}
[ -n "$kernel" ] || [ ! -r "$cache/bzImage" ] || kernel=$cache/bzImage
[ -n "$kernel" ] || kernel=$(fetch kernel) || skip "$(tail -1 <<<"$kernel")"
[ -r "$kernel" ] || skip "SKIP: kernel $kernel is not readable"
bb=$cache/root/bin/busybox
[ -x "$bb" ] || bb=$(fetch busybox) || skip "SKIP: no busybox-static for the initramfs"
initrd=$cache/initrd.img
# an initramfs whose /init knows cvisor.end= (else it is made again)
grep -q "CVISOR-INIT: panic\" >/dev/kmsg" "$cache/init.sh" 2>/dev/null && [ -r "$initrd" ] ||
	initrd=$(fetch initramfs) || skip "SKIP: no initramfs: $(tail -1 <<<"$initrd")"
if [ ! -e /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "SKIP: needs /dev/kvm"
fi
if [ -d /sys/module/kvm_pvm ] && [ -z "${LINUX_BOOT_ON_PVM:-}" ]; then
	skip "SKIP: needs /dev/kvm that runs guest kernel mode natively (this one is kvm_pvm)"
fi
[ -x "$CVISOR" ] || fail "$CVISOR not built"

for t in mmio pci; do
	printf 'cvisor-linux-disk-%s' "$t" >"$TMP/$t.img"
	truncate -s 1M "$TMP/$t.img"
done

legacy() {  # legacy NAME KERNEL INITRD CMDLINE [tokens...]
	local name=$1 k=$2 rd=$3 cl=$4 t1
	shift 4
	t1=$(date +%s)
	: >"$TMP/$name.console"
	timeout -s INT -k 10 "$limit" "$CVISOR" \
		ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,511m cpu cpu \
		load "$k" initrd load "$rd" cmdline "$cl" reboot exit \
		vdev ser8250 hostdev ">$TMP/$name.console" vdev mc146818 "$@" \
		</dev/null >"$TMP/$name.out" 2>"$TMP/$name.err"
	STATUS=$?
	echo "--- $name: console (tail) ---"; tail -8 "$TMP/$name.console"
	[ "$STATUS" = 34 ] || fail "$name: status $STATUS, not 34 (reset); stderr: $(tail -5 "$TMP/$name.err")"
	if grep -E "overflow: |Oops|BUG:|can't find IRQ|verification failure" "$TMP/$name.console"; then
		fail "$name: the kernel complained (above)"
	fi
	SECS=$(( $(date +%s) - t1 ))
}

echo "kernel, busybox and initramfs at hand in $(( $(date +%s) - t0 )) s"
# loglevel=5: warnings and worse only (what is checked for); a console
# emulated under TCG makes every line slow.
legacy noapic "$kernel" "$initrd" "console=ttyS0 loglevel=5 noapic panic=-1 rdinit=/init cvisor.end=reboot" \
	vdev virtio-blk loc 0xfe000000 intr ioapic:10 hostdev "<$TMP/mmio.img"
# (with noapic the disk's interrupt can only have come through the 8259)
for m in "CVISOR-INIT: busybox up, 2 CPUs" "CVISOR-INIT: vda .* cvisor-linux-disk-mmio" \
	 "CVISOR-INIT: reboot" "reboot: Restarting system"; do
	grep -qE -- "$m" "$TMP/noapic.console" || fail "noapic: no '$m' in the kernel log"
done
echo "noapic: the 8259 alone, reboot -f reset the VM (status 34) in $SECS s"

# The generic kernel and its virtio modules, from the nested machine's
# cache (scripts/nested-kvm.sh), beside fetch-linux.sh's busybox /init.
gen=$(ls "$BUILD"/nest-cache/root/boot/vmlinuz-* "$top"/build/nest-cache/root/boot/vmlinuz-* 2>/dev/null | head -1)
ginit=${initrd%/*}/init.sh
[ -n "$gen" ] || skip "SKIP: no generic Debian kernel (scripts/nested-kvm.sh's cache) for the acpi=off boot; the noapic boot passed"
[ -r "$ginit" ] || fail "no $ginit beside $initrd"
gmods=$(ls -d "${gen%/boot/*}"/lib/modules/*/ | head -1)
. "$top/scripts/cpio.sh"
: >"$TMP/gorder"
{
	for d in bin dev proc sys mods; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$bb"
	cpio_entry init $((0100755)) "$ginit"
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci virtio_blk; do
		# named, not searched: find over the whole tree on the nested
		# machine's 9p mount takes minutes
		f=$gmods/kernel/drivers/virtio/$m.ko
		[ "$m" = virtio_blk ] && f=$gmods/kernel/drivers/block/$m.ko
		[ -r "$f" ] || continue
		echo "$m" >>"$TMP/gorder"
		cpio_entry "mods/$m.ko" $((0100644)) "$f"
	done
	cpio_entry mods/order $((0100644)) "$TMP/gorder"
	cpio_entry TRAILER!!! 0 ""
} >"$TMP/generic.img" || fail "cannot write the generic kernel's initramfs"
echo "the generic kernel's initramfs written at $(( $(date +%s) - t0 )) s"
legacy acpioff "$gen" "$TMP/generic.img" "console=ttyS0 loglevel=5 acpi=off panic=-1 reboot=b rdinit=/init cvisor.end=panic" \
	vdev virtio-blk hostdev "<$TMP/pci.img"
# (with acpi=off only the MP table can have given the second CPU)
for m in "CVISOR-INIT: busybox up, 2 CPUs" "CVISOR-INIT: vda .* cvisor-linux-disk-pci" \
	 "CVISOR-INIT: panic" "Kernel panic"; do
	grep -qE -- "$m" "$TMP/acpioff.console" || fail "acpioff: no '$m' in the kernel log"
done
echo "acpi=off: MP table CPUs and PCI INTx, panic reset through the reset vector (status 34) in $SECS s"
echo "both boots in $(( $(date +%s) - t0 )) s"

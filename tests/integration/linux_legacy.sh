# Linux on the legacy PC (issue 13's found defects), with the cloud kernel
# of linux_boot.sh booted with noapic (the 8259 alone) and ending in
# busybox `reboot -f` with the documented command line, which `reboot
# exit` makes status 34: Linux programs the PIC (the FADT is not
# hardware-reduced: before, the 8259 stayed in KVM's reset state and IRQ 4
# came in as vector 4, an "overflow" oops) and resets through the FADT's
# RESET_REG (before, it took the EFI and then the BIOS path and hung at the
# empty reset vector); the mmio disk's IRQ 10 through the PIC.
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
grep -q "cvisor.end=reboot" "$cache/init.sh" 2>/dev/null && [ -r "$initrd" ] ||
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

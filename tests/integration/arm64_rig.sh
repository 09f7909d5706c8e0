# cvisor on AArch64 KVM (issue 15), in the emulated arm64 machine
# (scripts/nested-arm64.sh: QEMU TCG with EL2 and a GICv3, Debian's arm64
# kernel with KVM). One boot of it runs, with the cross-built cvisor
# (make arm64):
#  - the AArch64 test guest: hello, pl011 (ID registers), smp (PSCI
#    CPU_ON), timer (the virtual timer's PPI 27 through the in-kernel
#    vGICv3), and the x86 guest's virtio workloads over virtio-mmio
#    (guest/virtio.c in the AArch64 build): rng, blk-verify (written,
#    flushed, read back), console-echo (a file in, a file out),
#    mmio-latency (the testdev), ns16550 (an MMIO 16550 with reg-shift 2:
#    SCR, LSR, a line out), pl031 (IDs, the host's date, RTCLR, a masked
#    match, then the match interrupt taken as INTID 44 through the vGICv3)
#    -> PSCI SYSTEM_OFF,
#    exit 0; rng and blk-verify over virtio-pci (ECAM from the tree) with
#    each function's MSI-X vector mapped by the guest's ITS driver and
#    its LPIs taken (its), exit 0; pl031-reset (RTCLR, a reset that
#    rebuilds the VM, the time kept), exit 0; exception (an undefined instruction) -> PSCI SYSTEM_RESET
#    under `reboot exit`, exit 34; the same guest as an ELF file, exit 0;
#    a load pair from the PL011 (no syndrome: KVM_EXIT_ARM_NISV, said,
#    and a synchronous external abort that the guest takes, EC 0x25 DFSC
#    0x10 at the PL011's address, and runs on: exit 0); `vdev gic version 2`: refused with the reason where KVM
#    cannot make a vGICv2 (the rig's TCG GICv3 has no GICv2 compatible
#    CPU interface), else hello and smp on it;
#  - the machine's own Debian kernel under cvisor, 2 vCPUs, 256 MiB: the
#    boot lines (physical CPU, GICv3, arch_timer, ttyAMA0 on the PL011),
#    /init with 2 CPUs, a virtio-mmio disk on gic:300 read (again after
#    the PCI disk's MSI-X replaced KVM's routing table: every SPI keeps
#    its route), ttyS0 on the MMIO 16550
#    (written to), /dev/rtc0 from the PL031 with the host's date, a
#    virtio-pci disk on the ECAM host bridge (pci-host-generic) read
#    with MSI-X through the in-kernel ITS (ITS-MSI in /proc/interrupts,
#    with deliveries), `poweroff -f` -> exit 0; booted again with
#    pci=nomsi, the disk read with its INTx (INTID 203, level).
# About 6 s on an idle 2-core host (the rig's own boot is most of it; the
# guest Linux takes ~2 s with loglevel=1); 30-130 s on a loaded one.
# ci: background: it boots an emulated machine of its own, which make
# check runs beside the sanitizer pass (scripts/check.sh).
. "$(dirname "$0")/lib.sh"
[ -z "${CVISOR_SAN_PASS:-}" ] ||
	skip "the arm64 rig runs in the normal pass (a static cross build has no sanitizers)"
[ -z "${NESTED_KVM:-}" ] || skip "not inside the x86 nested machine"
A64=$BUILD/arm64/cvisor
AGUEST=$BUILD/guest/testguest-arm64.bin
[ -x "$A64" ] && [ -f "$AGUEST" ] ||
	skip "no arm64 build (make arm64; needs gcc-aarch64-linux-gnu: scripts/deps.sh test)"
cache=$(scripts/nested-arm64.sh --fetch | tail -1) || skip "${cache#SKIP: }"
[ -d "$cache/root/lib/modules" ] || fail "no modules in $cache"
command -v qemu-system-aarch64 >/dev/null ||
	skip "qemu-system-aarch64 not installed (Debian: qemu-system-arm)"

# The inner Linux's initramfs: busybox, the virtio-mmio and virtio-blk
# modules, an /init that reports and powers off.
. scripts/cpio.sh
mdir=$(ls -d "$cache"/root/lib/modules/*/ | head -1)
cat >"$TMP/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in virtio_mmio virtio_blk virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci; do
	insmod /mods/$m.ko || echo "CVISOR-INIT: insmod $m failed"
done
echo "CVISOR-INIT: busybox up, $(nproc) CPUs"
dmesg | grep -E 'Booting Linux on physical CPU|GICv3: [0-9]+ SPIs|arch_timer: cp15|ttyAMA0|ttyS0|rtc-pl031|ITS@|pci-host-generic|PCI host bridge|hw perfevents' |
	sed 's/^\[[^]]*\] /CVISOR-DMESG: /'
for d in /sys/block/vd*; do
	[ -e "$d" ] || continue
	echo "CVISOR-INIT: ${d##*/} $(head -c 24 /dev/${d##*/})"
done
# read after virtio_pci's MSI-X replaced KVM's routing table (768 KiB in:
# past what the partition scan read ahead), so it needs the interrupt
# line of gic:300 still routed
for d in /sys/block/vd*; do
	[ -e "$d" ] || continue
	echo "CVISOR-INIT: ${d##*/} late $(dd if=/dev/${d##*/} bs=4096 skip=192 count=1 2>/dev/null | head -c 24)"
done
for d in /sys/bus/pci/devices/*; do
	[ -e "$d" ] || continue
	echo "CVISOR-PCI: ${d##*/} $(cat $d/vendor):$(cat $d/device) irq=$(cat $d/irq) msi_irqs=$(ls $d/msi_irqs 2>/dev/null | wc -l)"
done
grep virtio /proc/interrupts | sed 's/^ */CVISOR-IRQ: /'
[ -c /dev/rtc0 ] && echo "CVISOR-INIT: rtc0 $(cat /sys/class/rtc/rtc0/name) since_epoch=$(cat /sys/class/rtc/rtc0/since_epoch)"
echo "linux on ttyS0" >/dev/ttyS0 && echo "CVISOR-INIT: ttyS0 written"
poweroff -f
INIT
{
	for d in bin proc sys dev mods; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$cache/root/bin/busybox"
	cpio_entry init $((0100755)) "$TMP/init"
	for m in virtio_mmio virtio_blk virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci; do
		f=$(find "$mdir" -name "$m.ko" | head -1)
		[ -n "$f" ] || fail "no $m.ko in $mdir"
		cpio_entry mods/$m.ko $((0100644)) "$f"
	done
	cpio_entry TRAILER!!! 0 ""
} >"$TMP/inner.cpio"
printf 'cvisor-arm64-disk-marker' >"$TMP/disk.img"
truncate -s 1M "$TMP/disk.img"
printf 'cvisor-arm64-late-marker' |
	dd of="$TMP/disk.img" bs=4096 seek=192 conv=notrunc 2>/dev/null
printf 'cvisor-arm64-pci-disk-marker' >"$TMP/pdisk.img"
truncate -s 1M "$TMP/pdisk.img"

cat >"$TMP/guest.qvmconf" <<'EOF2'
arch arm64
ram 0x80000000,64m
cpu
cpu
vdev pl011 loc 0x1c090000 intr gic:37 hostdev >-
vdev virtio-entropy loc 0x1c0b0000 intr gic:40
reboot exit
EOF2
# The x86 guest's virtio workloads over virtio-mmio (guest/virtio.c's
# driver in the AArch64 build): a disk, a console fed from a file, and
# the testdev as mmio-latency's sink.
cat >"$TMP/virtio.qvmconf" <<'EOF2'
vdev virtio-blk loc 0x1c0c0000 intr gic:41 hostdev /work/gdisk.img
vdev virtio-console loc 0x1c0d0000 intr gic:42 hostdev </work/con.in hostdev >/work/con.out
vdev testdev loc 0x1c0f0000
vdev ser8250 loc 0x1c0a0000 intr gic:43 regshift 2 hostdev >/work/uart.out
vdev pl031 loc 0x1c170000 intr gic:44
EOF2
printf 'hello virtio console.trailing' >"$TMP/con.in"
truncate -s 4M "$TMP/gdisk.img"
cat >"$TMP/linux.qvmconf" <<'EOF2'
arch arm64
ram 0x80000000,256m
cpu
cpu
load /rig/Image
initrd load /work/inner.cpio
cmdline "console=ttyAMA0 loglevel=1 rdinit=/init panic=-1"
vdev pl011 loc 0x1c090000 intr gic:37 hostdev >-
vdev virtio-blk loc 0x1c0b0000 intr gic:300 hostdev /work/disk.img
vdev ser8250 loc 0x1c0a0000 intr gic:43 regshift 2 hostdev >/work/linux-uart.out
vdev pl031 loc 0x1c170000 intr gic:44
vdev virtio-blk loc pci:0:3.0 hostdev /work/pdisk.img
vdev pmu
reboot exit
EOF2
cat >"$TMP/run.sh" <<'EOF2'
timeout 60 ./cvisor @guest.qvmconf @virtio.qvmconf load /work/testguest-arm64.bin \
	cmdline "hello pl011 smp timer rng blk-verify console-echo mmio-latency addr=0x1c0f0000 n=2000 ns16550 pl031"
echo "A64-STATUS guest $?"
echo "A64-ECHO $(cat /work/con.out)"
echo "A64-UART $(cat /work/uart.out)"
# virtio-pci: a disk and an entropy source on the ECAM bridge, each
# with an MSI-X vector the guest maps through the ITS (its.c)
timeout 60 ./cvisor @guest.qvmconf load /work/testguest-arm64.bin \
	vdev virtio-blk hostdev /work/gdisk.img vdev virtio-entropy loc pci:0:4.0 \
	cmdline "hello rng blk-verify its"
echo "A64-STATUS pci $?"
# the PL031's time across a reset: the guest loads RTCLR and resets
# (reboot reset: cvisor rebuilds the VM), the next boot reads it back
timeout 30 ./cvisor arch arm64 ram 0x80000000,64m load /work/testguest-arm64.bin \
	vdev pl011 loc 0x1c090000 intr gic:37 hostdev ">-" \
	vdev pl031 loc 0x1c170000 intr gic:44 reboot reset cmdline "pl031-reset"
echo "A64-STATUS pl031-reset $?"
timeout 60 ./cvisor @guest.qvmconf load /work/testguest-arm64.bin cmdline "hello exception"
echo "A64-STATUS exception $?"
timeout 60 ./cvisor @guest.qvmconf load /work/testguest-arm64.elf cmdline "hello"
echo "A64-STATUS elf $?"
# stderr apart: cvisor's report would interleave with the guest's line
timeout 60 ./cvisor @guest.qvmconf load /work/testguest-arm64.bin cmdline "mmio-pair" 2>pair.err
echo "A64-STATUS mmio-pair $?"
cat pair.err
timeout 60 ./cvisor @guest.qvmconf vdev gic version 2 load /work/testguest-arm64.bin cmdline "hello smp"
echo "A64-STATUS gicv2 $?"
timeout 180 ./cvisor @linux.qvmconf
echo "A64-STATUS linux $?"
echo "A64-LUART $(cat /work/linux-uart.out)"
# again with pci=nomsi: the PCI disk's INTx through the tree's
# interrupt-map (slot 3's INTA: INTID 203) instead of MSI-X
sed 's/panic=-1/panic=-1 pci=nomsi/' linux.qvmconf >intx.qvmconf
timeout 180 ./cvisor @intx.qvmconf >intx.out 2>&1
echo "A64-STATUS intx $?"
sed -n 's/^CVISOR-\(IRQ\|INIT: vd\)/A64-INTX-\1/p' intx.out
EOF2
t0=$SECONDS
scripts/nested-arm64.sh -t 280 -f "$A64" -f "$AGUEST" -f "${AGUEST%.bin}.elf" -f "$TMP/inner.cpio" \
	-f "$TMP/disk.img" -f "$TMP/pdisk.img" -f "$TMP/guest.qvmconf" -f "$TMP/linux.qvmconf" \
	-f "$TMP/virtio.qvmconf" -f "$TMP/con.in" -f "$TMP/gdisk.img" \
	-f "$TMP/run.sh" sh run.sh >"$TMP/out" 2>&1
rc=$?
[ -n "${ARM64_SHOW:-}" ] && cat "$TMP/out"
[ -n "${ARM64_SAVE:-}" ] && cp "$TMP/out" "$ARM64_SAVE"
[ $rc -eq 77 ] && skip "$(tail -1 "$TMP/out")"
[ $rc -eq 0 ] || fail "the arm64 machine: status $rc: $(tail -30 "$TMP/out")"
tr -d '\r' <"$TMP/out" >"$TMP/o"
want() { grep -qE "$1" "$TMP/o" || fail "no /$1/ in: $(tail -40 "$TMP/o")"; }
want '^cvisor arm64 test guest: hello from EL1$'
want '^RESULT hello cpus=2 el=1 ok=1$'
want '^RESULT pl011 periphid=0x141011 cellid=0xb105f00d ok=1$'
want '^RESULT smp cpus=2 psci=0x[0-9a-f]+ ok=1$'
want '^RESULT timer irqs=1 intid=27 ok=1$'
want '^RESULT rng bytes=4096 ok=1$'
want '^virtio: mmio 0x1c0c0000 type 2$'
want '^RESULT blk-verify sectors=128 capacity=8192 flush=1 ok=1$'
want '^RESULT console-echo bytes=21$'
want '^A64-ECHO hello virtio console\.$'
want '^RESULT mmio-latency n=2000 ns_per_exit=[0-9]+ cycles_per_exit=[0-9]+$'
want '^RESULT ns16550 scr=0x5a lsr=0x60 ok=1$'
want '^A64-UART ns16550 over mmio'
want '^pl031: periphid=0x141031 date=[0-9]+ loaded=100[0-2] match_now=1/0 cleared=1 irqs=1 intid=44 ris=1$'
want '^RESULT pl031 loaded=100[0-2] irqs=1 ok=1$'
want '^DONE failures=0$'
want '^A64-STATUS guest 0$'
want '^EXCEPTION kind=4 ec=0x0 '
want '^A64-STATUS exception 34$'
want '^pl031-reset: date=1[6-9][0-9]{8}, loading 1000 and resetting$'
want '^RESULT pl031-reset dr=10[0-9][0-9] kept=1 ok=1$'
want '^A64-STATUS pl031-reset 0$'
want '^A64-STATUS elf 0$'
want '^RESULT mmio-pair loading$'
want '^mmio-pair: esr=0x9[46]000010 far=0x1c090000$'
want '^RESULT mmio-pair ec=0x25 dfsc=0x10 ok=1$'
want '^cvisor: ([0-9.]+ )?warning: vcpu 0: an access to 0x1c090000 that KVM cannot decode .*: external abort raised in the guest$'
want '^A64-STATUS mmio-pair 0$'
# virtio-pci with MSI-X through the ITS: the guest found both functions
# over ECAM, mapped requester IDs 0x08 (00:01.0) and 0x20 (00:04.0) to
# LPIs, and took LPIs while the workloads ran
want '^virtio: pci 00:04\.0 1af4:1044 type 4 '
want '^virtio: pci 00:01\.0 1af4:1042 type 2 '
[ "$(grep -c '^RESULT blk-verify sectors=128 capacity=8192 flush=1 ok=1$' "$TMP/o")" = 2 ] ||
	fail "not 2 blk-verify results (virtio-mmio, virtio-pci): $(grep RESULT "$TMP/o")"
[ "$(grep -c '^RESULT rng bytes=4096 ok=1$' "$TMP/o")" = 2 ] ||
	fail "not 2 rng results (virtio-mmio, virtio-pci): $(grep RESULT "$TMP/o")"
want '^its: devid 0x20 event 0 -> LPI 819[23]$'
want '^its: devid 0x8 event 0 -> LPI 819[23]$'
want '^virtio: pci msix vector 0: 0x8090040 data 0x0$'
want '^its: devices=2 lpis=[1-9][0-9]* last=819[23]$'
want '^RESULT its devices=2 lpis_seen=1 ok=1$'
want '^A64-STATUS pci 0$'
[ "$(grep -c '^RESULT hello cpus=2 el=1 ok=1$' "$TMP/o")" = 4 ] ||
	fail "not 4 hello results (Image, Image, Image, ELF): $(grep RESULT "$TMP/o")"
# vdev gic version 2: KVM makes a vGICv2 only on a host GICv3 with the
# GICv2 compatible CPU interface, which QEMU's TCG GICv3 lacks: there it
# must be refused with the reason; elsewhere the guest runs on it.
if grep -q '^A64-STATUS gicv2 0$' "$TMP/o"; then
	gicv2="a vGICv2 (hello, smp ran on it)"
	[ "$(grep -c '^RESULT smp cpus=2 ' "$TMP/o")" = 2 ] || fail "smp on the vGICv2: $(grep RESULT "$TMP/o")"
else
	gicv2="no vGICv2 here (KVM: ENODEV, refused with the reason)"
	want "KVM cannot make a vGICv2 on this host \(its GIC has no GICv2 compatible CPU interface\)"
	grep -qE '^A64-STATUS gicv2 (0|34)$' "$TMP/o" && fail "gicv2: the VM ran: $(tail -40 "$TMP/o")"
fi
want '^CVISOR-DMESG: Booting Linux on physical CPU 0x0+ '
want '^CVISOR-DMESG: GICv3: [0-9]+ SPIs implemented'
want '^CVISOR-DMESG: arch_timer: cp15 timer\(s\) running at'
want '^CVISOR-DMESG: hw perfevents: enabled with armv8_pmuv3(_0)? PMU driver, [0-9]+ counters available'
want '^CVISOR-DMESG: 1c090000.pl011: ttyAMA0 at MMIO 0x1c090000 \(irq = [0-9]+'
want '^CVISOR-INIT: busybox up, 2 CPUs$'
want '^CVISOR-INIT: vda cvisor-arm64-disk-marker$'
want '^CVISOR-INIT: vda late cvisor-arm64-late-marker$'
want '^A64-STATUS linux 0$'
want '^CVISOR-DMESG: 1c0a0000.serial: ttyS0 at MMIO 0x1c0a0000 \(irq = [0-9]+, base_baud = [0-9]+\) is a 16550A$'
want '^CVISOR-DMESG: rtc-pl031 1c170000.pl031: registered as rtc0$'
want '^CVISOR-INIT: rtc0 rtc-pl031 1c170000.pl031 since_epoch=1[6-9][0-9]{8}$'
want '^CVISOR-INIT: ttyS0 written$'
want '^A64-LUART linux on ttyS0'
# The PCI host bridge from the tree, the ITS, and the virtio-pci disk at
# 00:03.0 read with its MSI-X vectors taken through the ITS as LPIs.
want '^CVISOR-DMESG: pci-host-generic 3f000000.pcie: ECAM at \[mem 0x3f000000-0x3f0fffff\] for \[bus 00\]$'
want '^CVISOR-DMESG: pci-host-generic 3f000000.pcie: +MEM 0x0020000000\.\.0x003effffff -> 0x0020000000$'
want '^CVISOR-DMESG: ITS@0x0000000008080000: allocated [0-9]+ Devices'
want '^CVISOR-PCI: 0000:00:03.0 0x1af4:0x1042 irq=[0-9]+ msi_irqs=[1-9]'
want '^CVISOR-INIT: vd[a-z] cvisor-arm64-pci-disk-ma$'
want '^CVISOR-IRQ: [0-9]+: +([1-9][0-9]* +[0-9]+|[0-9]+ +[1-9][0-9]*) +ITS-MSI [0-9]+ Edge +virtio[0-9]+-req\.0$'
# pci=nomsi: the same disk read with its INTx, a level SPI (INTID 203)
want '^A64-STATUS intx 0$'
want '^A64-INTX-INIT: vd[a-z] cvisor-arm64-pci-disk-ma$'
want '^A64-INTX-IRQ: [0-9]+: +([1-9][0-9]* +[0-9]+|[0-9]+ +[1-9][0-9]*) +GICv3 +203 Level +virtio[0-9]+$'
echo "arm64 rig: test guest (hello pl011 smp timer rng blk-verify console-echo mmio-latency ns16550 pl031 exception mmio-pair), $gicv2, and Linux, in $((SECONDS - t0)) s"

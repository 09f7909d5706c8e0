# Linux boot: a Debian 12 cloud kernel (scripts/fetch-linux.sh, cached under
# $BUILD/linux-cache) with a busybox initramfs.
#  (a) always, when the kernel is at hand or can be fetched: the loader on
#      the real bzImage (build/tests/test_linux_real), and cvisor against
#      the fake KVM: the boot vCPU is in long mode at the 64-bit entry;
#  (b) with /dev/kvm: boot it, 2 vCPUs and 512 MiB, wait for the kernel
#      log markers of docs/linux-guests.md, then for the initramfs, which
#      checks the devices and powers off. Without KVM: "SKIP: needs
#      /dev/kvm", status 77, after (a) passed. A kernel that has not run
#      /init within the limit (emulated too slowly) skips too, after the
#      early markers passed: the device checks are this part's point.
# CVISOR_LINUX_KERNEL / CVISOR_LINUX_INITRD override the downloads;
# LINUX_BOOT_TIMEOUT (s, default 280) bounds (b).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s)
CMDLINE="console=ttyS0 earlyprintk=serial panic=-1 rdinit=/init"

fetch() {
	local out
	out=$(BUILD=$BUILD "$top/scripts/fetch-linux.sh" "$1") || { echo "$out"; return 1; }
	echo "$out"
}

kernel=${CVISOR_LINUX_KERNEL:-}
if [ -z "$kernel" ]; then
	kernel=$(fetch kernel) || skip "$(tail -1 <<<"$kernel")"
fi
[ -r "$kernel" ] || skip "SKIP: kernel $kernel is not readable"
# The busybox initramfs, or a placeholder when busybox cannot be had.
initrd=${CVISOR_LINUX_INITRD:-}
[ -n "$initrd" ] || initrd=$(fetch initramfs) || initrd=
if [ -z "$initrd" ] || [ ! -r "$initrd" ]; then
	echo "note: no busybox initramfs; a placeholder initrd for (a)"
	initrd=$TMP/placeholder.img
	head -c 100000 /dev/urandom >"$initrd"
	no_busybox=1
fi

# --- (a) the loader on the real kernel -------------------------------------
real=$BUILD/tests/test_linux_real
[ -x "$real" ] || fail "$real not built (make unit)"
CVISOR_LINUX_KERNEL=$kernel CVISOR_LINUX_INITRD=$initrd "$real" >"$TMP/real" 2>&1
grep -q '^\[  PASSED  \] 1 test' "$TMP/real" || fail "test_linux_real: $(cat "$TMP/real")"
grep -E '^(kernel:|boot protocol|initrd:)' "$TMP/real"

machine() {
	echo "ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,511m cpu cpu"
}
if [ -x "$CVISOR" ] && [ -f "$FAKEKVM" ]; then
	# shellcheck disable=SC2046
	run_fake "out 0xf4 4 0" $(machine) load "$kernel" initrd load "$initrd" \
		cmdline "$CMDLINE" vdev ser8250 vdev debug-exit mode plain
	expect_status 0
	expect_log '^slot 2 gpa=0x100000 size=0x1ff00000 flags=0$'
	expect_log '^boot rip=0x100200 rax=0 rbx=0 cr0=0x80000031 efer=0x500 cs.db=0 cs.l=1 cs.limit=0xffffffff$'
	echo "fake KVM: boot vCPU in long mode at 0x100200"
fi

# --- (b) a real boot --------------------------------------------------------
if [ ! -e /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	echo "structure checks passed in $(( $(date +%s) - t0 )) s"
	skip "SKIP: needs /dev/kvm"
fi
# kvm_pvm (DESIGN.md) emulates guest kernel mode and cannot run every
# instruction a stock kernel uses (it stops on `lock cmpxchg16b` with a KVM
# internal error): the boot needs a KVM that runs ring 0 natively, so this
# part goes to the nested machine, as on a machine without /dev/kvm.
if [ -d /sys/module/kvm_pvm ] && [ -z "${LINUX_BOOT_ON_PVM:-}" ]; then
	echo "structure checks passed in $(( $(date +%s) - t0 )) s"
	skip "SKIP: needs /dev/kvm that runs guest kernel mode natively (this one is kvm_pvm)"
fi
[ -x "$CVISOR" ] || fail "$CVISOR not built"
[ -z "${no_busybox:-}" ] || skip "SKIP: no busybox-static for the initramfs"

console=$TMP/console
day0=$(date -u +%Y-%m-%d)    # the RTC's date, read by Linux, is checked
: >"$console"
# A virtio-blk disk on each transport, each with its own first bytes, which
# the initramfs prints: Linux finds the mmio one through the DSDT and the
# pci one by enumeration, and reads through their interrupts (a level
# line as an irqfd with resampling; MSI-X).
for t in mmio pci; do
	printf 'cvisor-linux-disk-%s' "$t" >"$TMP/$t.img"
	truncate -s 1M "$TMP/$t.img"
done
# shellcheck disable=SC2046
"$CVISOR" $(machine) load "$kernel" initrd load "$initrd" cmdline "$CMDLINE" \
	vdev ser8250 hostdev ">$console" vdev pckeyboard vdev mc146818 \
	vdev virtio-blk loc 0xfe000000 intr ioapic:10 hostdev "<$TMP/mmio.img" \
	vdev virtio-blk hostdev "<$TMP/pci.img" \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!

markers=(
	"Linux version "
	"Command line: $CMDLINE"
	"BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable"
	"BIOS-e820: [mem 0x00000000000c0000-0x00000000000fffff] reserved"
	"BIOS-e820: [mem 0x0000000000100000-0x000000001fffffff] usable"
	"ACPI: RSDP "
	"ACPI: XSDT "
	"ACPI: FACP "
	"ACPI: APIC "
	"ACPI: DSDT "
	"Allowing 2 CPUs"
	"Memory: "
)
missing() {
	for m in "${markers[@]}"; do
		grep -qF -- "$m" "$console" || { echo "$m"; return 0; }
	done
	return 1
}
# Where kernel code runs at a useful speed the boot goes on to the
# initramfs, whose /init prints its marker and powers off (ACPI S5): then
# cvisor must exit 0 by itself. Where it is emulated slowly (DESIGN.md) the
# kernel may not get that far in time: the markers above must still all be
# there (a failure if not), and the test then skips, saying so, since the
# device checks never ran. Once the kernel runs /init, though, the rest is
# a second of guest time and must happen: a hang there (a lost disk
# interrupt, say) is a failure.
limit=${LINUX_BOOT_TIMEOUT:-280}
wait_exit() {
	while [ $(( $(date +%s) - t0 )) -lt "$1" ] && kill -0 "$pid" 2>/dev/null; do
		sleep 1
	done
}
wait_exit "$limit"
ran_init=
grep -q "Run /init as init process" "$console" && ran_init=1
[ -n "$ran_init" ] && wait_exit $((limit + 60))
# SIGINT: stop now (SIGTERM would press the power button and wait)
exited=1
kill -0 "$pid" 2>/dev/null && { exited=0; kill -INT "$pid"; }
wait "$pid"
STATUS=$?
echo "--- console (tail) ---"; tail -40 "$console"
[ $exited = 0 ] && [ -n "$ran_init" ] &&
	fail "the kernel ran /init but did not power off: $(tail -3 "$console")"
if m=$(missing); then
	fail "marker not reached in $(( $(date +%s) - t0 )) s: '$m'; stderr: $(tail -5 "$TMP/err")"
fi
grep -E '^\[ *[0-9.]+\] Memory: ' "$console" | head -1
if [ $exited = 1 ]; then
	expect_status 0
	grep -q "CVISOR-INIT: busybox up, 2 CPUs" "$console" ||
		fail "cvisor exited before the initramfs ran: $(tail -3 "$console")"
	grep -q "reboot: Power down" "$console" || fail "no ACPI power-off in the log"
	# The emulated devices, as Linux's own drivers found them in the DSDT.
	for m in "ttyS0 at I/O 0x3f8 .* is a 16550A" "serio: i8042 KBD port at 0x60,0x64" \
		 "rtc_cmos 00:0[0-9]: registered as rtc0" "rtc_cmos .*: setting system clock to ($day0|$(date -u +%Y-%m-%d))" \
		 "smpboot: Total of 2 processors activated" \
		 "CVISOR-INIT: vd[ab] .* cvisor-linux-disk-mmio" \
		 "CVISOR-INIT: vd[ab] .* cvisor-linux-disk-pci"; do
		grep -q -E -- "$m" "$console" || fail "no '$m' in the kernel log"
	done
	echo "booted to the initramfs and powered off (S5, status 0) in $(( $(date +%s) - t0 )) s"
else
	echo "all early markers reached in $(( $(date +%s) - t0 )) s; the kernel was still booting at ${limit} s"
	skip "SKIP: the kernel did not run /init within ${limit} s (kernel mode emulated slowly?): the early boot markers passed, the device checks (serial, i8042, RTC, SMP, both disks, power-off) did not run"
fi

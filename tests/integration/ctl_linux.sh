# A Linux guest shut down cleanly by the ACPI power button (docs/control.md):
# the Debian cloud kernel (scripts/fetch-linux.sh) with a busybox initramfs
# whose /init loads evdev and the ACPI button driver, waits for the "Power
# Button" input device's first event, then powers off (ACPI S5). Twice:
#  1. `cvisor ctl SOCK reset` reboots it (the /init runs again); then
#     `powerdown` answers listening: true (the guest's GED driver unmasked
#     the interrupt), the guest powers off, exit 0;
#  2. with cvisor.s3=1, /init first suspends to RAM as `rtcwake -m mem
#     -s 3` does (ACPI S3, mem_sleep deep: the RTC alarm wakes
#     it through PM1's RTC_STS, the kernel resumes from the FACS waking
#     vector) and checks the kernel's log for the S3 resume; then SIGTERM
#     powers it off as in 1., exit 0 (the button works after the resume).
# Needs a KVM that runs guest kernel mode natively: elsewhere (kvm_pvm, no
# /dev/kvm) it skips and tests/run.sh runs it in the nested machine.
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
# quiet: a TCG-emulated serial port makes every kernel message slow
CMDLINE="console=ttyS0 quiet panic=-1 rdinit=/init"
limit=${CTL_LINUX_BOOT_TIMEOUT:-130}    # per boot, s: a hang guard

fetch() {
	BUILD=$BUILD "$top/scripts/fetch-linux.sh" "$1"
}
kernel=${CVISOR_LINUX_KERNEL:-}
[ -n "$kernel" ] || kernel=$(fetch kernel) || skip "$(tail -1 <<<"$kernel")"
[ -r "$kernel" ] || skip "SKIP: kernel $kernel is not readable"
bb=$(fetch busybox) || skip "SKIP: no busybox-static for the initramfs"
if [ ! -e /dev/kvm ] || [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	skip "SKIP: needs /dev/kvm"
fi
if [ -d /sys/module/kvm_pvm ] && [ -z "${LINUX_BOOT_ON_PVM:-}" ]; then
	skip "SKIP: needs /dev/kvm that runs guest kernel mode natively (this one is kvm_pvm)"
fi
[ -x "$CVISOR" ] || fail "$CVISOR not built"
mdir=$(ls -d "$BUILD"/linux-cache/root/lib/modules/*/ 2>/dev/null | head -1)
evdev=$(find "$mdir" -name evdev.ko 2>/dev/null | head -1)
button=$(find "$mdir" -path '*acpi/button.ko' 2>/dev/null | head -1)

# --- the initramfs ----------------------------------------------------------
. "$top/scripts/cpio.sh"
cat >"$TMP/init" <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in evdev button; do
	[ -e /mods/$m.ko ] && { insmod /mods/$m.ko || echo "CVISOR-INIT: insmod $m failed"; }
done
ev=
for i in /sys/class/input/input*; do
	[ "$(cat $i/name 2>/dev/null)" = "Power Button" ] || continue
	for e in $i/event*; do [ -e "$e" ] && ev=${e##*/}; done
done
if [ -z "$ev" ]; then
	echo "CVISOR-INIT: no power button input device"
	poweroff -f
fi
if grep -q cvisor.s3=1 /proc/cmdline; then
	echo deep >/sys/power/mem_sleep 2>/dev/null
	t0=$(date +%s)
	# what rtcwake -m mem -s 3 does (Debian's busybox has no rtcwake)
	echo 0 >/sys/class/rtc/rtc0/wakealarm
	echo +3 >/sys/class/rtc/rtc0/wakealarm ||
		echo "CVISOR-INIT: no RTC wake alarm: $(ls /dev/rtc* /sys/class/rtc)"
	echo mem >/sys/power/state || echo "CVISOR-INIT: suspend failed ($(cat /sys/power/mem_sleep))"
	if dmesg | grep -q "Waking up from system sleep state S3"; then
		echo "CVISOR-INIT: S3 resumed after $(($(date +%s) - t0)) s ($(cat /sys/power/mem_sleep))"
	else
		echo "CVISOR-INIT: no S3 resume: $(dmesg | grep -i -e 'PM:' -e 'suspend' | tail -5)"
	fi
fi
echo "CVISOR-INIT: waiting for the power button on $ev"
# one input event (24 bytes on x86_64): the button's KEY_POWER
dd if=/dev/input/$ev of=/dev/null bs=24 count=1 2>/dev/null
echo "CVISOR-INIT: power button pressed; powering off"
poweroff -f
EOF
{
	for d in bin dev proc sys mods; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$bb"
	cpio_entry init $((0100755)) "$TMP/init"
	[ -n "$evdev" ] && cpio_entry mods/evdev.ko $((0100644)) "$evdev"
	[ -n "$button" ] && cpio_entry mods/button.ko $((0100644)) "$button"
	cpio_entry TRAILER!!! 0 ""
} >"$TMP/initrd.img" || fail "cannot write the initramfs"

# --- the runs -----------------------------------------------------------------
# A UNIX socket needs a local file system: the nested machine's /tmp is 9p.
SOCKDIR=$(mktemp -d /run/cvisor-ctl.XXXXXX 2>/dev/null || mktemp -d)
SOCK=$SOCKDIR/api.sock
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; rm -rf "$TMP" "$SOCKDIR"' EXIT
console=$TMP/console

boot() {   # [EXTRA]: more of the kernel's command line
	: >"$console"
	"$CVISOR" ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,255m cpu \
		load "$kernel" initrd load "$TMP/initrd.img" \
		cmdline "$CMDLINE${1:+ $1}" vdev mc146818 \
		vdev ser8250 hostdev ">$console" --api "$SOCK" \
		</dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_listener 1
}

# wait_listener N: until the N-th boot's /init waits for the button
wait_listener() {
	local t0=$SECONDS
	until [ "$(grep -c "CVISOR-INIT: waiting for the power button" "$console")" -ge "$1" ]; do
		grep -q "CVISOR-INIT: no power button" "$console" &&
			fail "the guest found no power button: $(tail -20 "$console")"
		kill -0 $pid 2>/dev/null || fail "cvisor ended during the boot: $(tail -5 "$TMP/err"); console: $(tail -10 "$console")"
		[ $((SECONDS - t0)) -lt "$limit" ] || fail "no power-button listener after $limit s: $(tail -10 "$console")"
		sleep 1
	done
	echo "booted in $((SECONDS - t0)) s: $(grep -o 'waiting for the power button on .*' "$console" | tail -1)"
}

finish() {   # the guest powers off by itself: exit 0 within the limit
	local t0=$SECONDS
	while kill -0 $pid 2>/dev/null && [ $((SECONDS - t0)) -lt "$limit" ]; do
		sleep 1
	done
	kill -0 $pid 2>/dev/null && fail "$1: the guest did not power off: $(tail -5 "$console")"
	wait $pid
	STATUS=$?
	pid=
	expect_status 0
	grep -q "CVISOR-INIT: power button pressed" "$console" ||
		fail "$1: exit 0 but the guest saw no press: $(tail -5 "$console")"
	echo "$1: the guest powered off in $((SECONDS - t0)) s, exit 0"
}

boot
timeout 60 "$CVISOR" ctl "$SOCK" reset | grep -q "^state: resetting" || fail "reset"
wait_listener 2
echo "reset: the guest booted again"
timeout 60 "$CVISOR" ctl "$SOCK" powerdown >"$TMP/pd" || fail "powerdown: $(cat "$TMP/pd")"
grep -q "^listening: true" "$TMP/pd" || fail "powerdown: the guest does not listen: $(cat "$TMP/pd")"
finish powerdown

boot cvisor.s3=1
grep -q "CVISOR-INIT: S3 resumed after [1-9]" "$console" ||
	fail "S3: $(grep -e CVISOR-INIT -e 'PM:' "$console" | tail -5)"
grep -o "S3 resumed after .*" "$console"
kill -TERM $pid
finish SIGTERM

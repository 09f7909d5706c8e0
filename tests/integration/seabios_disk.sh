# Firmware boot from a disk: SeaBIOS (firmware seabios) -> GRUB's MBR ->
# GRUB's menu on the serial console -> Linux -> the busybox /init -> ACPI
# power-off, status 0. The disk is made here (scripts/mk-grub-disk.sh: GRUB
# from grub-pc-bin, ext4, the Debian kernel and initramfs of
# scripts/fetch-linux.sh), cached beside them in the Linux cache.
#  (a) everywhere: `cvisor check` accepts the machine, and refuses a kernel
#      load beside `firmware` at its file:line:col (65);
#  (b) with /dev/kvm: SeaBIOS finds the virtio-blk disk through PCI and
#      runs its boot sector ("GRUB loading"). On kvm_pvm, which emulates
#      guest kernel mode, GRUB's own code stops there: the rest runs in the
#      nested machine (tests/run.sh);
#  (c) with a KVM that runs kernel mode natively: the whole chain, with
#      GRUB's menu seen, and the times from exec to the menu and to /init.
# SEABIOS_DISK_QEMU=1 also boots the same image under QEMU -M pc (KVM) and
# prints its times (docs/firmware.md's comparison).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
t0=$(date +%s)
[ -x "$CVISOR" ] || fail "$CVISOR not built"

bios=/usr/share/seabios/bios-256k.bin
[ -r $bios ] || skip "SKIP: no $bios (Debian package seabios)"

# --- (a) the configuration --------------------------------------------------
cat >"$TMP/bad.qvmconf" <<EOF
ram 0,0xa0000 ram 1m,255m
firmware seabios
load $top/$CVISOR
EOF
"$CVISOR" check "@$TMP/bad.qvmconf" >"$TMP/out" 2>&1 && fail "check accepted a load beside firmware"
[ $? = 65 ] || fail "check: status $? for a load beside firmware"
grep -q "bad.qvmconf:3:6: .*firmware boots from a disk" "$TMP/out" ||
	fail "no file:line:col error: $(cat "$TMP/out")"

fetch() {
	BUILD=$BUILD "$top/scripts/fetch-linux.sh" "$1"
}
kernel=${CVISOR_LINUX_KERNEL:-}
[ -n "$kernel" ] || kernel=$(fetch kernel) || skip "$(tail -1 <<<"$kernel")"
cache=${LINUX_CACHE:-$top/$BUILD/linux-cache}
disk=$cache/seabios-disk.img
# Made once per kernel and recipe (fetch-linux.sh writes the initramfs
# anew at every call, so its time says nothing): the stamp names both.
stamp="$kernel ${CVISOR_LINUX_INITRD:-} $(cat "$top/scripts/mk-grub-disk.sh" \
	"$top/scripts/fetch-linux.sh" "$top/scripts/cpio.sh" | md5sum)"
if [ ! -s "$disk" ] || [ "$(cat "$disk.stamp" 2>/dev/null)" != "$stamp" ]; then
	initrd=${CVISOR_LINUX_INITRD:-}
	[ -n "$initrd" ] || initrd=$(fetch initramfs) || skip "$(tail -1 <<<"$initrd")"
	out=$("$top/scripts/mk-grub-disk.sh" "$disk" "$kernel" "$initrd" 2>&1)
	case $? in 0) ;; 77) skip "$(tail -1 <<<"$out")" ;; *) fail "mk-grub-disk: $out" ;; esac
	echo "$stamp" >"$disk.stamp"
fi
# Read-only (`<`): runs of the same cache share it (a read lock), and
# nothing is copied (over 9p in the nested machine, 40 MiB are slow).
machine() {
	echo "ram 0,0xa0000 ram 1m,511m firmware seabios vdev ser8250 hostdev >$1"
	echo "vdev mc146818 vdev pckeyboard vdev virtio-blk hostdev <$disk"
}
# shellcheck disable=SC2046
"$CVISOR" check $(machine "$TMP/console") >"$TMP/out" 2>&1 ||
	fail "check refused the firmware machine: $(cat "$TMP/out")"
echo "(a) check: firmware machine accepted, a kernel load beside it refused at 3:6"

# --- (b), (c) the boot ------------------------------------------------------
need_kvm
console=$TMP/console
: >"$console"
start=$(date +%s.%N)
# With the default build's cache this is issue 13's acceptance command
# itself, examples/seabios-disk.qvmconf (its console is stdout); with
# another build's cache the same machine on that cache's disk.
example=$top/examples/seabios-disk.qvmconf
if [ "$disk" -ef "$top/build/linux-cache/seabios-disk.img" ]; then
	echo "(b) running $CVISOR @examples/seabios-disk.qvmconf"
	"$CVISOR" "@$example" </dev/null >"$console" 2>"$TMP/err" &
else
	# shellcheck disable=SC2046
	"$CVISOR" $(machine "$console") </dev/null >"$TMP/out" 2>"$TMP/err" &
fi
pid=$!
seen() { grep -qaF -- "$1" "$console"; }
# Times are taken by looking every 0.1 s: they are reports, not checks.
deadline=$(( $(date +%s) + ${SEABIOS_DISK_TIMEOUT:-240} ))
stamp() {
	while ! seen "$1"; do
		kill -0 "$pid" 2>/dev/null || return 1
		[ "$(date +%s)" -lt $deadline ] || { kill -INT "$pid"; return 1; }
		sleep 0.1
	done
	echo "$(date +%s.%N) - $start" | bc
}
stamp "GRUB loading" >/dev/null ||
	fail "SeaBIOS did not boot the disk: $(tail -c 400 "$console" | tr -d '\033'); $(tail -3 "$TMP/err")"
grep -qa "SeaBIOS (version" "$console" || fail "no SeaBIOS banner on the serial console"
echo "(b) SeaBIOS booted the virtio-blk disk's MBR: GRUB loading"
if [ -d /sys/module/kvm_pvm ] && [ -z "${SEABIOS_ON_PVM:-}" ]; then
	kill -INT "$pid"; wait "$pid"
	skip "SKIP: needs /dev/kvm that runs guest kernel mode natively (kvm_pvm stops in GRUB's core after SeaBIOS ran it)"
fi
menu=$(stamp "GNU GRUB") || fail "no GRUB menu: $(tail -c 400 "$console" | tr -d '\033')"
init=$(stamp "CVISOR-INIT: busybox up") || fail "Linux did not reach /init: $(tail -5 "$console")"
limit=$(( $(date +%s) + 120 ))
while kill -0 "$pid" 2>/dev/null && [ "$(date +%s)" -lt $limit ]; do sleep 0.2; done
kill -0 "$pid" 2>/dev/null && { kill -INT "$pid"; fail "no power-off within 120 s of /init"; }
wait "$pid"
STATUS=$?
expect_status 0
for m in "GNU GRUB" "cvisor: Linux from the GRUB disk" \
	 "CVISOR-INIT: vda virtio:d00000002v00001AF4" "reboot: Power down"; do
	seen "$m" || fail "no '$m' on the console"
done
off=$(echo "$(date +%s.%N) - $start" | bc)
printf '(c) cvisor: exec -> GRUB menu %.1f s, -> /init %.1f s, -> exit %.1f s; test %s s\n' \
	"$menu" "$init" "$off" "$(( $(date +%s) - t0 ))"

[ -n "${SEABIOS_DISK_QEMU:-}" ] || exit 0
command -v qemu-system-x86_64 >/dev/null || { echo "no QEMU for the comparison"; exit 0; }
: >"$console"
start=$(date +%s.%N)
qemu-system-x86_64 -M pc -accel kvm -m 512 -nographic -no-reboot \
	-serial "file:$console" -monitor none \
	-drive "file=$disk,if=virtio,format=raw,readonly=on" >/dev/null 2>&1 &
pid=$!
menu=$(stamp "GNU GRUB") || fail "QEMU: no GRUB menu"
init=$(stamp "CVISOR-INIT: busybox up") || fail "QEMU: no /init"
wait "$pid"
off=$(echo "$(date +%s.%N) - $start" | bc)
printf 'QEMU -M pc: exec -> GRUB menu %.1f s, -> /init %.1f s, -> exit %.1f s\n' "$menu" "$init" "$off"

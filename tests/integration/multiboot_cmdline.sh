# The multiboot command line starts with the image's path, as GRUB and
# QEMU pass it: the test guest, booted through its multiboot entry (a copy
# whose PVH note is renamed, so that cvisor does not prefer PVH), takes the
# first word as argv[0] and still finds its workload and parameters.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

# Rename the PVH note's owner ("Xen" -> "Xex"): cvisor then loads the
# image by its multiboot header.
cp "$GUEST" "$TMP/mb.elf"
off=$(LC_ALL=C grep -obUaP '\x04\x00\x00\x00\x04\x00\x00\x00\x12\x00\x00\x00Xen\x00' \
	"$TMP/mb.elf" | head -1 | cut -d: -f1)
[ -n "$off" ] || fail "no PVH note found in $GUEST"
printf 'x' | dd of="$TMP/mb.elf" bs=1 seek=$((off + 14)) conv=notrunc status=none

timeout 60 "$CVISOR" ram 0,0xa0000 ram 1m,63m load "$TMP/mb.elf" \
	vdev ser8250 hostdev '>-' vdev debug-exit mode plain \
	cmdline "exit status=7" </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 7
expect_out '^testguest: booted via multiboot mem=63MiB$'
expect_out '^RESULT exit status=7$'

# Without arguments the command line is the path alone: the default
# workload.
timeout 60 "$CVISOR" ram 0,0xa0000 ram 1m,63m load "$TMP/mb.elf" \
	vdev ser8250 hostdev '>-' vdev debug-exit mode plain \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^RESULT hello ok=1$'
exit 0

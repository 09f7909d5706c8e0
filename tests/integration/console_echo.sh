# console-echo: a virtio-console (one port, no MULTIPORT) on both
# transports; the host input comes from a file, the echo goes to a file.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
printf 'hello virtio console.trailing' >"$TMP/in"
for t in pci mmio; do
	loc=
	[ $t = mmio ] && loc="loc 0xd0000000 intr ioapic:10"
	rm -f "$TMP/con.out"
	# shellcheck disable=SC2086
	run_guest "console-echo transport=$t mmio=0xd0000000" \
		vdev virtio-console $loc hostdev "<$TMP/in" hostdev ">$TMP/con.out"
	expect_status 0
	expect_out '^RESULT console-echo bytes=21$'
	[ "$(cat "$TMP/con.out")" = "hello virtio console." ] ||
		fail "$t: echo was '$(cat "$TMP/con.out" 2>/dev/null)'"
done

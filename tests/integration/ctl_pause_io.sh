# A paused VM's devices are quiet too (issue 11: "I/O threads
# quiesced"): input that arrives while paused is not written into the
# guest's buffers until resume, and then none of it is lost. The test
# guest echoes a virtio-console (console-echo) fed from a FIFO; once it
# has echoed "ab", the VM is paused and "cd" written. The console's
# counters (stats: bytes_to_guest, requests) must not move while paused.
# Two `stats` calls after the write make that deterministic: the event
# loop serves the FIFO and the socket, and the FIFO was readable before
# the first call was sent, so by the second it has been handled.
# Resumed, the guest must echo "cd" as well. On both transports.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null || skip "needs python3 (to read the JSON answers)"
ctl_sockdir
pid=
trap '[ -n "$pid" ] && kill -9 $pid 2>/dev/null; exec 3>&-; rm -rf "$TMP" "$SOCKDIR"' EXIT

# "bytes requests" of the console, from `stats --json`
console_counts() {
	CTL --json "$SOCK" stats | python3 -c '
import json, sys
r = json.load(sys.stdin)["result"]
c = [d for d in r["virtio"] if d["type"] == "virtio-console"][0]
print(c["bytes_to_guest"], c["requests"])'
}

echoed() { [ "$(cat "$TMP/con.out" 2>/dev/null)" = "$1" ]; }

for t in pci mmio; do
	loc=
	[ $t = mmio ] && loc="loc 0xd0000000 intr ioapic:10"
	rm -f "$TMP/in" "$TMP/con.out" "$SOCK"
	mkfifo "$TMP/in"
	# read-write: never blocks, whatever cvisor does (a cvisor that
	# dies before opening the FIFO must fail the test, not hang it)
	exec 3<>"$TMP/in"
	# shellcheck disable=SC2046,SC2086
	"$CVISOR" $(base_args) cmdline "console-echo transport=$t mmio=0xd0000000 timeout_ms=600000" \
		vdev virtio-console $loc hostdev "<$TMP/in" hostdev ">$TMP/con.out" \
		--api "$SOCK" </dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_for test -S "$SOCK"
	printf ab >&3
	wait_for echoed ab
	CTL "$SOCK" pause | grep -q "^state: paused" || fail "$t: pause"
	before=$(console_counts)
	printf cd >&3
	console_counts >/dev/null
	during=$(console_counts)
	[ "$before" = "$during" ] ||
		fail "$t: the console took input while paused: bytes/requests $before, then $during"
	echoed ab || fail "$t: echo while paused: $(cat "$TMP/con.out")"
	CTL "$SOCK" resume | grep -q "^state: running" || fail "$t: resume"
	wait_for echoed abcd
	after=$(console_counts)
	[ "${after% *}" -eq $((${before% *} + 2)) ] ||
		fail "$t: after resume: bytes/requests $before, then $after"
	printf . >&3            # console-echo ends at '.'
	exec 3>&-
	wait "$pid"
	STATUS=$?
	pid=
	expect_status 0
	expect_out '^RESULT console-echo bytes=5$'
	echo "$t: paused with console counters $during; after resume $after"
done

# The LSI 53C895A holds too (devices/quiesce.h): a disk completion that
# comes while paused runs no SCRIPTS (no DMA into guest memory, no
# interrupt) until the resume, and is not lost. scsi-bench reads 4 KiB
# at random, one command after the other, and the VM is paused and
# resumed under it; wherever each pause falls (a command with the disk
# or not: test_lsi's test_pause_holds makes that case deterministic),
# every command must complete (a completion held and never resumed times
# the guest out) and each pause must come back paused.
truncate -s 64M "$TMP/disk.img"
# lsi_run IOS: sets n, the pauses made before the guest was done
lsi_run() {
	rm -f "$SOCK"
	# shellcheck disable=SC2046
	"$CVISOR" $(base_args) cmdline "scsi-bench mode=randread bs=4096 ios=$1" \
		vdev lsi53c895a hostdev "$TMP/disk.img" --api "$SOCK" \
		</dev/null >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	wait_for grep -q '^lsi: ' "$TMP/out"
	n=0
	while [ $n -lt 5 ]; do
		if ! CTL "$SOCK" pause >"$TMP/ctl" 2>&1; then
			# the guest may have finished first (fast hosts)
			grep -q '^RESULT' "$TMP/out" && break
			fail "lsi: pause: $(cat "$TMP/ctl")"
		fi
		grep -q "^state: paused" "$TMP/ctl" || fail "lsi: pause: $(cat "$TMP/ctl")"
		CTL "$SOCK" resume | grep -q "^state: running" || fail "lsi: resume"
		n=$((n + 1))
	done
	wait "$pid"
	STATUS=$?
	pid=
	expect_status 0
	expect_out "^scsi-bench: ios=$1 errors=0 "
	expect_out '^RESULT scsi-bench mode=randread bs=4096 '
}
# A host fast enough to finish before the first pause gets a longer run:
# no pause, nothing tested.
for ios in 3000 30000 300000; do
	lsi_run $ios
	[ $n -gt 0 ] && break
done
[ $n -gt 0 ] || fail "lsi: the guest finished each run before a pause"
echo "lsi: $n pauses and resumes under scsi-bench, every command completed"

# --stats (docs/trace.md): the counters match a workload with a known
# number of exits exactly. mmio-latency n=2000 writes the testdev 2000
# times (one MMIO exit each, nothing else in this machine is MMIO); the
# test guest does port I/O one access per instruction, so the I/O exits
# are the accesses the port devices counted.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "mmio-latency n=2000" vdev testdev --stats
expect_status 0
expect_out '^RESULT mmio-latency n=2000 '
grep -q "^device testdev mmio 0xfeb00000: 0 reads, 2000 writes$" "$TMP/err" ||
	fail "testdev accesses: $(grep -i device "$TMP/err")"
line=$(grep "^vcpu 0: " "$TMP/err") || fail "no vcpu line: $(cat "$TMP/err")"
echo "$line" | grep -qE "[(, ]mmio 2000[,)]" || fail "MMIO exits: $line"
total=$(echo "$line" | sed -E 's/^vcpu 0: ([0-9]+) exits.*/\1/')
io=$(echo "$line" | grep -oE "[(, ]io [0-9]+" | grep -oE "[0-9]+")
[ -n "$io" ] || fail "no I/O exits: $line"
# every reason adds up to the total
sum=$(echo "$line" | grep -oE "[a-z_]+ [0-9]+" | awk '{s+=$2} END {print s}')
[ "$sum" = "$total" ] || fail "reasons add up to $sum, total $total: $line"
# every I/O exit is one access of a port device (none unclaimed here)
acc=$(grep -E "^device [a-z0-9-]+ io " "$TMP/err" |
	sed -E 's/.*: ([0-9]+) reads, ([0-9]+) writes/\1 \2/' |
	awk '{s+=$1+$2} END {print s}')
[ "$acc" = "$io" ] || fail "$io I/O exits but $acc port accesses: $(cat "$TMP/err")"
grep -q "^unclaimed: 0 io, 0 mmio$" "$TMP/err" || fail "unclaimed: $(grep unclaimed "$TMP/err")"
grep -qE "^  mmio +2000 exits, in cvisor: mean [0-9.]+ us, p50 < [0-9.]+ us, p99 < [0-9.]+ us$" "$TMP/err" ||
	fail "no time histogram line: $(cat "$TMP/err")"
# virtio counters: the rng workload asks once for 4096 bytes, on PCI and
# on virtio-mmio; the mmio device comes second in the configuration
# shellcheck disable=SC2046
timeout 60 "$CVISOR" --stats $(base_args) cmdline "rng bytes=4096" \
	vdev virtio-rng vdev virtio-rng loc 0xfe100000 intr ioapic:10 \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
grep -qE "^virtio 0 virtio-(rng|entropy): [1-9][0-9]* notifies, 1 requests, 4096 bytes to the guest, [0-9]+ interrupts$" "$TMP/err" ||
	fail "virtio counters of the rng: $(grep -E '^virtio' "$TMP/err")"
grep -qE "^virtio 1 virtio-(rng|entropy): 0 notifies, 0 requests, 0 bytes to the guest, 0 interrupts$" "$TMP/err" ||
	fail "the unused rng on mmio: $(grep -E '^virtio' "$TMP/err")"
# line interrupts (issue 11: interrupts injected per device): uart-irq
# takes one byte of COM1 input by its receive interrupt, so the UART's
# line 4 is asserted exactly once; the idle mmio rng's line 10 never.
printf x >"$TMP/in"
timeout 60 "$CVISOR" --stats ram 0,0xa0000 ram 1m,63m load "$GUEST" \
	vdev ser8250 hostdev "<$TMP/in" hostdev ">-" vdev debug-exit mode plain \
	vdev virtio-rng loc 0xfe100000 intr ioapic:10 cmdline uart-irq \
	</dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out '^RESULT uart-irq irqs=1 bytes=1$'
grep -q "^line 4 (ser8250): 1 interrupts$" "$TMP/err" ||
	fail "line interrupts of the UART: $(grep -E '^line' "$TMP/err")"
grep -qE "^line 10 \(virtio-(rng|entropy)\): 0 interrupts$" "$TMP/err" ||
	fail "the unused rng's line: $(grep -E '^line' "$TMP/err")"
# without --stats: no statistics
run_guest "mmio-latency n=10" vdev testdev
expect_status 0
grep -q "^device " "$TMP/err" && fail "statistics printed without --stats"
exit 0

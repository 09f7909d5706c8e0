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
# without --stats: no statistics
run_guest "mmio-latency n=10" vdev testdev
expect_status 0
grep -q "^device " "$TMP/err" && fail "statistics printed without --stats"
exit 0

# net-tx-bench / net-rx-bench smoke test (bench/net.sh does the
# measuring): over user networking on both transports, the guest sends
# frames to bench/nethost's UDP sink and takes a flood from its flooder,
# and reports its rates; as root, once more over a tap in a network
# namespace this test creates (raw frames to and from the host kernel).
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
NH=$BUILD/bench/nethost
[ -x "$NH" ] || fail "$NH not built"

pids=()
ns=
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so that the EXIT trap stops the servers

# server NAME CMD...: runs it, waits for $TMP/NAME.port; sets $port.
server() {
	local name=$1
	shift
	"$@" >"$TMP/$name.log" 2>&1 &
	pids+=($!)
	until [ -s "$TMP/$name.port" ]; do
		kill -0 "${pids[-1]}" 2>/dev/null ||
			fail "nethost $name did not start: $(cat "$TMP/$name.log")"
		sleep 0.1
	done
	port=$(cat "$TMP/$name.port")
}
server sink "$NH" udp-sink "$TMP/sink.port"
sink=$port
server flood "$NH" udp-flood "$TMP/flood.port"
flood=$port

rate='ns=[0-9]+ pps=[1-9][0-9]* gbps=[0-9]+\.[0-9]{3}$'
for t in pci mmio; do
	if [ $t = pci ]; then dev=(vdev virtio-net)
	else dev=(vdev virtio-net loc 0xd0000000 intr ioapic:10); fi
	sel="transport=$t mmio=0xd0000000"
	for size in 64 1514; do
		echo "net_bench: $t tx $size"
		run_guest "net-tx-bench $sel size=$size count=5000 port=$sink" "${dev[@]}"
		expect_status 0
		expect_out "^RESULT net-tx-bench size=$size frames=5000 $rate"
		echo "net_bench: $t rx $size"
		run_guest "net-rx-bench $sel size=$size secs=1 port=$flood" "${dev[@]}"
		expect_status 0
		expect_out "^RESULT net-rx-bench size=$size frames=[1-9][0-9]* $rate"
	done
done
# The sink saw the guest's datagrams (how many: UDP on loopback may drop).
kill "${pids[0]}"
wait "${pids[0]}"
grep -qE '^nethost udp-sink: datagrams=[1-9][0-9]* ' "$TMP/sink.log" ||
	fail "the sink got nothing: $(cat "$TMP/sink.log")"
# Bad parameters are refused.
run_guest "net-tx-bench size=59 port=$sink" vdev virtio-net
expect_status 2

# The tap part: the user-networking part above passed whatever comes of
# it, so where it cannot run the test still passes, and says so.
[ "$(id -u)" -eq 0 ] || { echo "part 'tap' skipped: needs root"; exit 0; }
# shellcheck disable=SC2046
"$CVISOR" check $(base_args) vdev virtio-net hostdev tap:x >"$TMP/check" 2>&1 ||
	{ echo "part 'tap' skipped: cvisor check refuses a tap backend: $(tail -1 "$TMP/check")"; exit 0; }
if [ ! -c /dev/net/tun ] || ! command -v ip >/dev/null 2>&1; then
	echo "part 'tap' skipped: needs /dev/net/tun and ip (iproute2)"
	exit 0
fi
ns=cvnb$$
ip netns add "$ns" || fail "ip netns add"
nsx() { ip netns exec "$ns" "$@"; }
nsx ip tuntap add dev nbtap0 mode tap || fail "ip tuntap add"
nsx ip link set nbtap0 up || fail "nbtap0 up"
# Not through nsx: a function in the background is a subshell, whose pid
# is not the flooder's. ip netns exec execs it in its own place.
ip netns exec "$ns" "$NH" pkt-flood nbtap0 >"$TMP/pkt.log" 2>&1 &
pids+=($!)
stat=/sys/class/net/nbtap0/statistics/rx_packets
before=$(nsx cat $stat)
echo "net_bench: tap tx"
# shellcheck disable=SC2046
nsx timeout --foreground 60 "$CVISOR" $(base_args) cmdline "net-tx-bench raw=1 size=64 count=5000" \
	vdev virtio-net hostdev tap:nbtap0 </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out "^RESULT net-tx-bench size=64 frames=5000 $rate"
after=$(nsx cat $stat)
[ "$after" -gt "$before" ] || fail "no frame reached the tap's far end ($before, $after)"
echo "net_bench: tap rx"
# shellcheck disable=SC2046
nsx timeout --foreground 60 "$CVISOR" $(base_args) cmdline "net-rx-bench raw=1 size=1514 secs=1" \
	vdev virtio-net hostdev tap:nbtap0 </dev/null >"$TMP/out" 2>"$TMP/err"
STATUS=$?
expect_status 0
expect_out "^RESULT net-rx-bench size=1514 frames=[1-9][0-9]* $rate"
grep -q '^RESULT nethost pkt-flood size=1514 frames=[1-9]' "$TMP/pkt.log" ||
	fail "the flooder did not flood: $(cat "$TMP/pkt.log")"

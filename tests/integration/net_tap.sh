# net_tap: virtio-net on `hostdev tap:NAME` inside a network namespace this
# test creates (and always removes): the tap's host side has 10.77.0.1/24,
# the test guest is 10.77.0.2. On PCI and virtio-mmio: net-ping to the
# host side and net-udp-echo against a UDP echo server in the namespace
# (every echo checked byte for byte by the guest). The tap exists before
# cvisor starts (attached); once more cvisor creates it itself, and it
# must be gone when cvisor exits. Multiqueue: `queues 2` and `4`, the
# guest's driver on one pair and on all of them (pairs=). Checksum
# offload both ways with the guest's csum=1; TSO of 64 KiB frames. A guest reset (fake KVM)
# keeps the tap cvisor created.
# Every net-udp-echo run passes stall_ms=30000: how long the guest waits
# for the next echo before it gives up (its default, 2 s, decided the
# result on a loaded host); net-ping timeout_ms=30000 (its whole run, 10 s
# by default). Each wait ends as soon as what it waits for comes; 30 s
# still lets the guest report before net_run's 60 s limit.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
[ "$(id -u)" -eq 0 ] || skip "needs root (ip netns, a tap device)"
[ -c /dev/net/tun ] || skip "needs /dev/net/tun"
command -v ip >/dev/null 2>&1 || skip "needs ip (iproute2)"
command -v python3 >/dev/null 2>&1 || skip "needs python3 (the UDP echo server)"

ns=cvtap$$
tap=cvtap0
echo_pid=
cleanup() {
	[ -n "$echo_pid" ] && kill "$echo_pid" 2>/dev/null
	ip netns del "$ns" 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM   # so that the EXIT trap runs
ip netns add "$ns" || skip "cannot create a network namespace (ip netns add)"
nsx() { ip netns exec "$ns" "$@"; }
nsx ip link set lo up || fail "lo up in the namespace"

make_tap() {   # a persistent tap with the host side's address
	nsx ip tuntap add dev $tap mode tap ${1:+$1} || fail "ip tuntap add"
	nsx ip addr add 10.77.0.1/24 dev $tap || fail "address on $tap"
	nsx ip link set $tap up || fail "$tap up"
}
make_tap

# The echo server binds a free port and writes it to a file once bound.
# (ip netns exec execs python3 in its place: echo_pid is the server's.)
ip netns exec "$ns" python3 -c '
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)
' "$TMP/port" &
echo_pid=$!
for _ in $(seq 100); do
	[ -s "$TMP/port" ] && break
	kill -0 $echo_pid 2>/dev/null || fail "the UDP echo server did not start"
	sleep 0.1
done
[ -s "$TMP/port" ] || fail "the UDP echo server wrote no port in 10 s"
port=$(cat "$TMP/port")

# run_guest inside the namespace; says which run a failure belongs to.
net_run() {
	local cmdline=$1; shift
	echo "net_tap: $cmdline $*"
	# shellcheck disable=SC2046
	timeout 60 ip netns exec "$ns" "$CVISOR" $(base_args) \
		cmdline "$cmdline" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "cvisor did not finish in 60 s: $(tail -5 "$TMP/err")"
	return 0
}

addr="ip=10.77.0.2 gw=10.77.0.1 dst=10.77.0.1"
echo_re='received=([0-9]+) bad=0 lost=0 '
for t in pci mmio; do
	if [ $t = pci ]; then
		dev=(vdev virtio-net hostdev tap:$tap)
		sel="transport=pci"
	else
		dev=(vdev virtio-net loc 0xd0000000 intr ioapic:10 hostdev tap:$tap)
		sel="transport=mmio mmio=0xd0000000"
	fi
	net_run "net-ping count=5 timeout_ms=30000 $addr $sel" "${dev[@]}"
	expect_status 0
	expect_out '^RESULT net-ping dst=10\.77\.0\.1 sent=5 replies=5 bad=0 '
	net_run "net-udp-echo stall_ms=30000 port=$port count=5000 $addr $sel" "${dev[@]}"
	expect_status 0
	expect_out "^RESULT net-udp-echo sent=5000 $echo_re"
	net_run "net-udp-echo stall_ms=30000 port=$port count=1000 size=1472 rxbuf=256 $addr $sel" \
		"${dev[@]}"
	expect_status 0
	expect_out "^RESULT net-udp-echo sent=1000 $echo_re"
done
nsx ip link show $tap >/dev/null 2>&1 || fail "cvisor removed the persistent $tap"

# Checksum offload (the guest's csum=1: CSUM and GUEST_CSUM): its UDP
# datagrams leave with NEEDS_CSUM and the pseudo-header sum, and every one
# reaches the host's socket (the kernel took the header); the host's
# answers come with NEEDS_CSUM (the tap was told GUEST_CSUM through
# TUNSETOFFLOAD, under the seccomp filter), the guest completes them and
# checks each (bad=0).
for t in pci mmio; do
	sel="transport=pci"; dev=(vdev virtio-net hostdev tap:$tap)
	if [ $t = mmio ]; then
		sel="transport=mmio mmio=0xd0000000"
		dev=(vdev virtio-net loc 0xd0000000 intr ioapic:10 hostdev tap:$tap)
	fi
	net_run "net-udp-echo stall_ms=30000 port=$port count=2000 size=1000 csum=1 $addr $sel" \
		"${dev[@]}"
	expect_status 0
	expect_out ' csum=1 tso=0$'
	expect_out "^RESULT net-udp-echo sent=2000 $echo_re"
	expect_out '^net: csum offload: tx=200[0-9] rx_completed=[1-9]'
done

# TSO (the guest's tso=1: HOST_TSO4 and CSUM): 64 KiB TCP frames leave
# with GSO_TCPV4, headers in one descriptor and the payload in a second,
# and reach the tap's kernel whole: its receive counters grow by one
# packet per frame (not per 1460-byte segment) and by every byte. The
# frames are addressed to an address nobody has: the kernel drops them
# after taking them in.
stat() { nsx cat "/sys/class/net/$tap/statistics/$1"; }
for t in pci mmio; do
	sel="transport=pci"; dev=(vdev virtio-net hostdev tap:$tap)
	if [ $t = mmio ]; then
		sel="transport=mmio mmio=0xd0000000"
		dev=(vdev virtio-net loc 0xd0000000 intr ioapic:10 hostdev tap:$tap)
	fi
	p0=$(stat rx_packets) b0=$(stat rx_bytes)
	net_run "net-tx-bench raw=1 tso=1 size=65536 count=100 $sel" "${dev[@]}"
	expect_status 0
	expect_out ' tso=1$'
	expect_out '^RESULT net-tx-bench size=65536 frames=100 '
	expect_out '^net: tso frames sent: 100$'
	dp=$(($(stat rx_packets) - p0)) db=$(($(stat rx_bytes) - b0))
	[ "$dp" -ge 100 ] && [ "$dp" -le 110 ] ||
		fail "tso ($t): the tap took $dp packets for 100 frames of 64 KiB"
	[ "$db" -ge $((100 * 65536)) ] ||
		fail "tso ($t): the tap took $db bytes for 100 frames of 64 KiB"
done

# Multiqueue: a thread per pair. A driver without MQ uses the first pair
# only, so the other fds are detached from the tap (its flows all come
# there). One with pairs=P enables them (VQ_PAIRS_SET), serves every
# receive queue and transmits on pair txpair= only: the tap sends a
# flow's answers to the queue it came from (its automatic steering), so
# they arrive on that pair, through that pair's thread.
nsx ip link del $tap || fail "ip link del $tap"
make_tap multi_queue
mq_pci=(vdev virtio-net queues 2 hostdev tap:$tap)
mq_mmio=(vdev virtio-net loc 0xd0000000 intr ioapic:10 queues 4 hostdev tap:$tap)
net_run "net-udp-echo stall_ms=30000 port=$port count=2000 $addr transport=pci" "${mq_pci[@]}"
expect_status 0
expect_out "^RESULT net-udp-echo sent=2000 $echo_re"
net_run "net-udp-echo stall_ms=30000 port=$port count=2000 pairs=2 $addr transport=pci" \
	"${mq_pci[@]}"
expect_status 0
expect_out '^net: pairs=2 of 2 txpair=1$'
expect_out "^RESULT net-udp-echo sent=2000 $echo_re"
expect_out '^net: rx per pair: [0-9]+ (19[0-9][0-9]|2[0-9]{3}) 0 0$'
net_run "net-udp-echo stall_ms=30000 port=$port count=2000 pairs=4 txpair=2 $addr transport=mmio mmio=0xd0000000" \
	"${mq_mmio[@]}"
expect_status 0
expect_out '^net: pairs=4 of 4 txpair=2$'
expect_out "^RESULT net-udp-echo sent=2000 $echo_re"
expect_out '^net: rx per pair: [0-9]+ [0-9]+ (19[0-9][0-9]|2[0-9]{3}) [0-9]+$'
# Jailed: the pairs' threads exist when the jail drops the user (glibc has
# each thread change its ids: their filter allows the jail's), and the
# offload and queue ioctls still work on the fds opened before.
net_run "net-udp-echo stall_ms=30000 port=$port count=1000 pairs=2 csum=1 $addr transport=pci" \
	"${mq_pci[@]}" --user 65534:65534
expect_status 0
expect_out "^RESULT net-udp-echo sent=1000 $echo_re"
expect_out '^net: csum offload: tx=100[0-9] rx_completed=[1-9]'
nsx ip link del $tap || fail "ip link del $tap"
make_tap

# Created by cvisor: gone afterwards. The address goes on once cvisor has
# made it (the guest's first ARP requests wait for that, and retry).
nsx ip link del $tap || fail "ip link del $tap"
(
	for _ in $(seq 200); do
		nsx ip link show $tap >/dev/null 2>&1 && break
		sleep 0.05
	done
	nsx ip addr add 10.77.0.1/24 dev $tap && nsx ip link set $tap up
) &
conf_pid=$!
net_run "net-ping count=5 timeout_ms=30000 $addr transport=pci" \
	vdev virtio-net hostdev tap:$tap
wait $conf_pid || fail "could not configure the tap cvisor created"
expect_status 0
expect_out '^RESULT net-ping dst=10\.77\.0\.1 sent=5 replies=5 bad=0 '
nsx ip link show $tap >/dev/null 2>&1 && fail "$tap outlived cvisor"

# A guest reset keeps the tap cvisor created (its fds are kept for the
# rebuilt device): against the fake KVM, a reset and then the exit; the
# tap is made once, taken over after the reset, and gone at the exit.
if [ -f "$FAKEKVM" ]; then
	# shellcheck disable=SC2046
	FAKEKVM_SCRIPT="reset;out 0xf4 1 7" FAKEKVM_LOG=$TMP/log \
	LD_PRELOAD=$FAKEKVM ASAN_OPTIONS=verify_asan_link_order=0 \
		timeout 30 ip netns exec "$ns" "$CVISOR" -v $(base_args) \
		vdev virtio-net hostdev tap:cvtap1 </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 7
	[ "$(grep -c '^create vm$' "$TMP/log")" -eq 2 ] || fail "no reset: $(cat "$TMP/log")"
	[ "$(grep -c 'tap:cvtap1: created' "$TMP/err")" -eq 1 ] &&
	[ "$(grep -c 'tap:cvtap1: kept across the guest reset' "$TMP/err")" -eq 1 ] ||
		fail "the tap was not kept across the reset: $(grep tap: "$TMP/err")"
	nsx ip link show cvtap1 >/dev/null 2>&1 && fail "cvtap1 outlived cvisor"
fi

# A name that is not an interface name: refused by check, with its place.
# shellcheck disable=SC2046
"$CVISOR" check $(base_args) vdev virtio-net hostdev tap:a/b >"$TMP/out" 2>&1
[ $? -eq 65 ] || fail "check accepted tap:a/b: $(cat "$TMP/out")"
grep -q ":1:[0-9]*: .*interface name" "$TMP/out" || fail "no position: $(cat "$TMP/out")"
# Several queue pairs need a tap: check refuses them on user networking
# (as a run would), at the option.
# shellcheck disable=SC2046
"$CVISOR" check $(base_args) vdev virtio-net queues 2 >"$TMP/out" 2>&1
[ $? -eq 65 ] || fail "check accepted queues 2 without tap: $(cat "$TMP/out")"
grep -q ":1:[0-9]*: .*queues > 1 needs a tap" "$TMP/out" || fail "no position: $(cat "$TMP/out")"
# shellcheck disable=SC2046
"$CVISOR" check $(base_args) vdev virtio-net queues 2 hostdev tap:$tap >"$TMP/out" 2>&1 ||
	fail "check refused queues 2 on a tap: $(cat "$TMP/out")"
echo "net_tap: ok"

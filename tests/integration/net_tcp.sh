# net_tcp: the test guest's TCP client (net-tcp) over user networking
# (libslirp, no root), on PCI and virtio-mmio: a stream to a server this
# test runs on 127.0.0.1 (the guest reaches it as 10.0.2.2) and a stream
# from it. The server checks every byte against the pattern and prints
# the stream's CRC-32, which must equal the one the guest prints: the
# guest's is computed over what it sent (dir=tx) or received, checked
# byte by byte too (dir=rx). Also: simulated segment loss both ways
# (retransmission, duplicate ACKs, out-of-order segments), and a refused
# connection (the guest sees the reset and fails).
#
# Deadlines are hang guards only (the nested machine is slow): 240 s a run.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
command -v python3 >/dev/null 2>&1 || skip "needs python3 (the TCP server)"

# shellcheck disable=SC2046
if ! "$CVISOR" check $(base_args) vdev virtio-net >"$TMP/check" 2>&1; then
	grep -q "not supported" "$TMP/check" &&
		skip "SKIP: cvisor has no virtio-net yet"
	fail "cvisor check refuses vdev virtio-net: $(cat "$TMP/check")"
fi

server_py=$(dirname "$0")/net_tcp_server.py

srv_pid=
trap '[ -n "$srv_pid" ] && kill $srv_pid 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM   # so that the EXIT trap stops the server

# start_server DIR BYTES: sets $port.
start_server() {
	rm -f "$TMP/port"
	python3 "$server_py" "$1" "$TMP/port" "$2" >"$TMP/srv" 2>&1 &
	srv_pid=$!
	until [ -s "$TMP/port" ]; do
		kill -0 $srv_pid 2>/dev/null ||
			fail "the TCP server did not start: $(cat "$TMP/srv")"
		sleep 0.1
	done
	port=$(cat "$TMP/port")
}

# guest CMDLINE TOKENS...: like run_guest, with a longer hang guard.
guest() {
	local cmdline=$1; shift
	# shellcheck disable=SC2046
	timeout 240 "$CVISOR" $(base_args) cmdline "$cmdline" "$@" \
		</dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "cvisor did not finish in 240 s: $(tail -5 "$TMP/out")"
	return 0
}

# tcp NAME DIR BYTES GUESTARGS TOKENS...: one stream, both ends checked.
tcp() {
	local name=$1 dir=$2 bytes=$3 args=$4 g s
	shift 4
	echo "net_tcp: $name"
	start_server "$dir" "$bytes"
	guest "net-tcp port=$port dir=$dir bytes=$bytes $args" "$@"
	expect_status 0
	# The server ends by itself once the stream is through (the guard
	# is for a guest that failed).
	for _ in $(seq 600); do
		kill -0 $srv_pid 2>/dev/null || break
		sleep 0.1
	done
	kill $srv_pid 2>/dev/null
	wait $srv_pid
	srv_pid=
	g=$(grep -a '^RESULT net-tcp ' "$TMP/out")
	s=$(grep -a '^server: ' "$TMP/srv") ||
		fail "$name: the server printed no result: $(cat "$TMP/srv")"
	echo "  guest:  $g"
	echo "  $s"
	grep -q " bytes=$bytes crc32=[0-9a-f]* pattern_ok=1 ok=1 " <<<"$g" ||
		fail "$name: guest: $g"
	grep -q "^server: dir=$dir bytes=$bytes crc32=[0-9a-f]* pattern_ok=1$" <<<"$s" ||
		fail "$name: server: $s"
	[ "$(grep -o 'crc32=[0-9a-f]*' <<<"$g")" = "$(grep -o 'crc32=[0-9a-f]*' <<<"$s")" ] ||
		fail "$name: the CRCs differ: guest $g, server $s"
}

mmio=(vdev virtio-net loc 0xd0000000 intr ioapic:10)
mmio_sel="transport=mmio mmio=0xd0000000"

tcp "pci tx 16 MiB" tx $((16 << 20)) "transport=pci" vdev virtio-net
tcp "pci rx 16 MiB" rx $((16 << 20)) "transport=pci" vdev virtio-net
tcp "mmio tx 4 MiB mrg=0" tx $((4 << 20)) "$mmio_sel mrg=0" "${mmio[@]}"
tcp "mmio rx 4 MiB over 256-byte merged buffers" rx $((4 << 20)) \
	"$mmio_sel rxbuf=256" "${mmio[@]}"
expect_out 'merged_bufs=[1-9]'

# Every 10th data segment the guest sends is not sent: slirp sees gaps
# and answers with duplicate ACKs; the guest goes back on three of them
# or on its timeout.
tcp "pci tx 2 MiB, every 10th segment lost" tx $((2 << 20)) "loss=10" \
	vdev virtio-net
expect_out 'net-tcp: .* rexmit=[1-9][0-9]* .* lost=[1-9]'
# Every 40th new segment from slirp is ignored: the guest keeps what
# follows the gap, ACKs at once (slirp retransmits after three duplicate
# ACKs) and then takes the stored segments. Sparse on purpose: each loss
# is then followed by enough segments for three duplicate ACKs.
tcp "pci rx 2 MiB, every 40th segment lost" rx $((2 << 20)) "loss=40" \
	vdev virtio-net
expect_out 'net-tcp: .* ooo=[1-9][0-9]* .* lost=[1-9]'
# Every 10th: some losses only slirp's retransmission timer can repair.
# Its TCP timers run inside slirp_pollfds_poll, which the user backend
# once skipped while slirp watched no socket: this stalled for good.
tcp "pci rx 256 KiB, every 10th segment lost" rx $((256 << 10)) "loss=10" \
	vdev virtio-net
expect_out 'net-tcp: .* lost=[1-9]'

# Nobody listens on the last server's port now: slirp's connect fails
# and it answers the SYN with a reset.
echo "net_tcp: refused connection"
guest "net-tcp port=$port timeout_ms=60000" vdev virtio-net
expect_status 1
expect_out '^net-tcp: connection reset after 0 bytes'
expect_out '^RESULT net-tcp dir=tx bytes=0 .* ok=0 '

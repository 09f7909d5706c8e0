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

# tcp_server.py DIR PORTFILE BYTES: one connection. tx: reads to EOF;
# rx: sends BYTES of the pattern, then half-closes and reads to EOF.
# The pattern is guest/net_tcp.c's: little-endian 64-bit words
# 0x5a5a5a5a5a5a5a5a + k * 0x9e3779b1.
cat >"$TMP/tcp_server.py" <<'EOF'
import array, os, socket, sys, zlib
mode, portfile, nbytes = sys.argv[1], sys.argv[2], int(sys.argv[3])
BASE, MUL = 0x5A5A5A5A5A5A5A5A, 0x9E3779B1
assert sys.byteorder == "little"

def pattern(off, n):
    k0, k1 = off // 8, (off + n + 7) // 8
    w = array.array("Q", range(BASE + k0 * MUL, BASE + k1 * MUL, MUL)).tobytes()
    return w[off % 8:off % 8 + n]

s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(1)
with open(portfile + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(portfile + ".tmp", portfile)
c, _ = s.accept()
s.close()
crc = n = 0
ok = True
if mode == "tx":
    while True:
        d = c.recv(1 << 16)
        if not d:
            break
        ok = ok and d == pattern(n, len(d))
        crc = zlib.crc32(d, crc)
        n += len(d)
else:
    while n < nbytes:
        d = pattern(n, min(1 << 16, nbytes - n))
        c.sendall(d)
        crc = zlib.crc32(d, crc)
        n += len(d)
    c.shutdown(socket.SHUT_WR)
    while c.recv(1 << 16):
        pass
c.close()
print("server: dir=%s bytes=%d crc32=%08x pattern_ok=%d" % (mode, n, crc, ok),
      flush=True)
EOF

srv_pid=
trap '[ -n "$srv_pid" ] && kill $srv_pid 2>/dev/null; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM   # so that the EXIT trap stops the server

# start_server DIR BYTES: sets $port.
start_server() {
	rm -f "$TMP/port"
	python3 "$TMP/tcp_server.py" "$1" "$TMP/port" "$2" >"$TMP/srv" 2>&1 &
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
	wait $srv_pid
	srv_pid=
	expect_status 0
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
# is then followed by enough segments for three duplicate ACKs. (A loss
# only slirp's retransmission timer can repair stalls for good today:
# the user backend runs slirp's TCP timers only from slirp_pollfds_poll,
# which it skips while slirp watches no socket.)
tcp "pci rx 2 MiB, every 40th segment lost" rx $((2 << 20)) "loss=40" \
	vdev virtio-net
expect_out 'net-tcp: .* ooo=[1-9][0-9]* .* lost=[1-9]'

# Nobody listens on the last server's port now: slirp's connect fails
# and it answers the SYN with a reset.
echo "net_tcp: refused connection"
guest "net-tcp port=$port timeout_ms=60000" vdev virtio-net
expect_status 1
expect_out '^net-tcp: connection reset after 0 bytes'
expect_out '^RESULT net-tcp dir=tx bytes=0 .* ok=0 '

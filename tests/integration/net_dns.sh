# net_dns: DNS through user networking. The guest's net-dns asks
# 10.0.2.3 (the DNS server of its DHCP lease); cvisor forwards the query
# to the host's resolver. Under the default `--seccomp on` cvisor's own
# forwarder (backends/net_dns.c) does it, with `--seccomp off` libslirp's.
# The host's resolver is a small server of this test
# (dns_server.py: NAME.test -> 192.0.2.len(NAME), else NXDOMAIN), on
# 127.0.0.1 and then on ::1, named by an /etc/resolv.conf bind-mounted in
# private network and mount namespaces: nothing on the host changes and
# no real DNS is needed.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
here=$(cd "$(dirname "$0")" && pwd)
command -v python3 >/dev/null 2>&1 || skip "SKIP: needs python3 (the DNS server)"
command -v unshare >/dev/null 2>&1 || skip "SKIP: needs unshare (util-linux)"

if [ -z "${NET_DNS_INSIDE:-}" ]; then
	# Root gets plain namespaces; anyone else a user namespace too.
	ns=(-nm)
	[ "$(id -u)" -eq 0 ] || ns=(-rnm)
	unshare "${ns[@]}" true 2>/dev/null ||
		skip "SKIP: cannot create network and mount namespaces (unshare ${ns[*]})"
	rm -rf "$TMP"     # the shell below makes its own
	NET_DNS_INSIDE=1 BUILD=$BUILD exec unshare "${ns[@]}" bash "$0" "$@"
fi

ip link set lo up 2>/dev/null || python3 - <<'PY' || fail "cannot bring lo up"
import fcntl, socket, struct
s = socket.socket()
ifr = struct.pack('16sH', b'lo', 0)
flags = struct.unpack('16sH', fcntl.ioctl(s, 0x8913, ifr))[1]
fcntl.ioctl(s, 0x8914, struct.pack('16sH', b'lo', flags | 1))
PY

server_pid=
cleanup() {
	[ -n "$server_pid" ] && kill $server_pid 2>/dev/null
	while umount /etc/resolv.conf 2>/dev/null; do :; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# start_server ADDR: the DNS server on ADDR:53, named by resolv.conf.
start_server() {
	[ -n "$server_pid" ] && kill $server_pid 2>/dev/null && wait $server_pid 2>/dev/null
	: >"$TMP/dns.log"
	python3 "$here/dns_server.py" "$1" 53 >"$TMP/dns.log" 2>&1 &
	server_pid=$!
	for _ in $(seq 100); do
		grep -q '^ready' "$TMP/dns.log" && break
		kill -0 $server_pid 2>/dev/null ||
			fail "the DNS server did not start: $(cat "$TMP/dns.log")"
		sleep 0.1
	done
	grep -q '^ready' "$TMP/dns.log" || fail "the DNS server was not ready in 10 s"
	echo "nameserver $1" >"$TMP/resolv.conf"
	mount --bind "$TMP/resolv.conf" /etc/resolv.conf ||
		fail "cannot bind-mount a resolv.conf"
}

# resolve MODE: net-dns for hello.test (an answer) and nope.example
# (NXDOMAIN) with --seccomp MODE.
resolve() {
	echo "net_dns: --seccomp $1, resolver $2"
	# shellcheck disable=SC2046
	timeout 60 "$CVISOR" --seccomp "$1" $(base_args) \
		cmdline "net-dns name=hello.test" vdev virtio-net \
		</dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 0
	expect_out '^RESULT net-dns name=hello\.test server=10\.0\.2\.3 addr=192\.0\.2\.5$'
	# shellcheck disable=SC2046
	timeout 60 "$CVISOR" --seccomp "$1" $(base_args) \
		cmdline "net-dns name=nope.example" vdev virtio-net \
		</dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	expect_status 1
	expect_out '^RESULT net-dns name=nope\.example server=10\.0\.2\.3 rcode=3$'
	grep -q '^query nope.example type 1$' "$TMP/dns.log" ||
		fail "the resolver saw no query: $(cat "$TMP/dns.log")"
}

start_server 127.0.0.1
resolve on 127.0.0.1
resolve off 127.0.0.1
start_server ::1
resolve on ::1
echo "net_dns: passed"

# linux_net: Linux's own virtio-net driver over user networking (in a
# machine whose KVM runs a stock kernel: here, or in the nested machine).
# The Debian cloud kernel of linux_boot with a busybox initramfs built
# here: /init loads virtio_net, takes a DHCP lease from slirp (10.0.2.15),
# resolves web.test through 10.0.2.3 (cvisor forwards it to the host's
# resolver: a server of this test, in private network and mount
# namespaces, which answers 10.0.2.2 = the host's 127.0.0.1), downloads
# 1 MiB from an HTTP server of this test with wget and posts it back (as
# base64: busybox wget posts text); the
# MD5 both ways is checked. Runs under the default `--seccomp on`.
# A second virtio-net on a tap (hostdev tap:cvtap0, made here in the
# private namespace with 192.168.77.1): the guest's eth1 gets
# 192.168.77.2, `ethtool -k` must show the checksum and TSO offloads
# negotiated, and the same 1 MiB goes both ways over it (TSO/GSO frames
# with the virtio header through the tap).
. "$(dirname "$0")/lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/tests/integration
t0=$(date +%s)
SIZE=1048576

fetch() {
	local out
	out=$(BUILD=$BUILD "$top/scripts/fetch-linux.sh" "$1") || { echo "$out"; return 1; }
	echo "$out"
}
kernel=${CVISOR_LINUX_KERNEL:-}
[ -n "$kernel" ] || kernel=$(fetch kernel) || skip "$(tail -1 <<<"$kernel")"
bb=$(fetch busybox) || skip "$(tail -1 <<<"$bb")"
need_kvm
if [ -d /sys/module/kvm_pvm ] && [ -z "${LINUX_BOOT_ON_PVM:-}" ]; then
	skip "SKIP: needs /dev/kvm that runs guest kernel mode natively (this one is kvm_pvm)"
fi
need_guest
command -v python3 >/dev/null 2>&1 || skip "SKIP: needs python3 (the DNS and HTTP servers)"
command -v unshare >/dev/null 2>&1 || skip "SKIP: needs unshare (util-linux)"
ethtool=$(command -v ethtool) || skip "SKIP: needs ethtool (scripts/deps.sh test installs it) for the guest"
[ -c /dev/net/tun ] || skip "SKIP: needs /dev/net/tun (the tap)"

if [ -z "${LINUX_NET_INSIDE:-}" ]; then
	ns=(-nm)
	[ "$(id -u)" -eq 0 ] || ns=(-rnm)
	unshare "${ns[@]}" true 2>/dev/null ||
		skip "SKIP: cannot create network and mount namespaces (unshare ${ns[*]})"
	rm -rf "$TMP"
	LINUX_NET_INSIDE=1 BUILD=$BUILD CVISOR_LINUX_KERNEL=$kernel \
		exec unshare "${ns[@]}" bash "$0" "$@"
fi
ip link set lo up || fail "cannot bring lo up"
ip tuntap add cvtap0 mode tap && ip addr add 192.168.77.1/24 dev cvtap0 &&
	ip link set cvtap0 up || fail "cannot make the tap cvtap0"

pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	while umount /etc/resolv.conf 2>/dev/null; do :; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# --- the initramfs ------------------------------------------------------
. "$top/scripts/cpio.sh"
mdir=$(ls -d "$(dirname "$(dirname "$kernel")")"/lib/modules/*/ 2>/dev/null | head -1)
[ -n "$mdir" ] || skip "SKIP: no kernel modules next to $kernel"
cat >"$TMP/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /mods/order); do
	insmod /mods/$m.ko || echo "CVISOR-NET: insmod $m failed"
done
port=$(sed -n 's/.*cvnet_port=\([0-9]*\).*/\1/p' /proc/cmdline)
ip link set lo up
ip link set eth0 up || echo "CVISOR-NET: no eth0"
udhcpc -i eth0 -n -q -t 10 -T 1 -s /udhcpc.sh || echo "CVISOR-NET: no lease"
addr=$(nslookup web.test 2>&1 | sed -n 's/^Address[^:]*: *\([0-9.]*\)$/\1/p' | tail -1)
echo "CVISOR-NET: resolved web.test ${addr:-nothing}"
if wget -q -O /tmp/f "http://web.test:$port/file"; then
	echo "CVISOR-NET: get $(md5sum /tmp/f | cut -d' ' -f1) $(wc -c </tmp/f)"
	# as text: busybox wget posts a file up to its first NUL byte
	base64 /tmp/f >/tmp/f.b64
	echo "CVISOR-NET: put $(wget -q -O - --post-file /tmp/f.b64 "http://web.test:$port/up")"
else
	echo "CVISOR-NET: wget failed"
fi
if [ -e /sys/class/net/eth1 ]; then
	ip addr add 192.168.77.2/24 dev eth1
	ip link set eth1 up
	ethtool -k eth1 | sed -n 's/^\(tx-checksumming\|rx-checksumming\|tcp-segmentation-offload\|scatter-gather\): \(o[nf]*\).*/CVISOR-NET: eth1 \1 \2/p'
	ping -c 2 -W 10 192.168.77.1 >/dev/null && echo "CVISOR-NET: tap ping ok"
	if wget -q -O /tmp/g "http://192.168.77.1:$port/file"; then
		echo "CVISOR-NET: tap get $(md5sum /tmp/g | cut -d' ' -f1) $(wc -c </tmp/g)"
		base64 /tmp/g >/tmp/g.b64
		echo "CVISOR-NET: tap put $(wget -q -O - --post-file /tmp/g.b64 "http://192.168.77.1:$port/up")"
	else
		echo "CVISOR-NET: tap wget failed"
	fi
fi
poweroff -f
INIT
cat >"$TMP/udhcpc.sh" <<'SCRIPT'
#!/bin/sh
case "$1" in
bound|renew)
	ip addr add "$ip/${mask:-24}" dev "$interface"
	[ -n "$router" ] && ip route add default via "${router%% *}"
	: >/etc/resolv.conf
	for d in $dns; do echo "nameserver $d" >>/etc/resolv.conf; done
	echo "CVISOR-NET: lease $ip router $router dns $dns"
	;;
esac
SCRIPT
: >"$TMP/order"
{
	for d in bin dev proc sys mods tmp etc; do cpio_entry $d $((0040755)) ""; done
	cpio_entry dev/console $((0020600)) "" 5 1
	cpio_entry bin/busybox $((0100755)) "$bb"
	cpio_entry init $((0100755)) "$TMP/init"
	cpio_entry udhcpc.sh $((0100755)) "$TMP/udhcpc.sh"
	# ethtool and the libraries it links, from this host (Debian 12's
	# glibc, as the guest's busybox needs none)
	for d in usr usr/sbin lib lib64 lib/x86_64-linux-gnu; do
		cpio_entry $d $((0040755)) ""
	done
	cpio_entry usr/sbin/ethtool $((0100755)) "$ethtool"
	for l in $(ldd "$ethtool" | grep -o '/[^ ]*'); do
		cpio_entry "${l#/}" $((0100755)) "$l"
	done
	for m in virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev \
		 virtio_pci failover net_failover virtio_net; do
		f=$(find "$mdir" -name "$m.ko" | head -1)
		[ -n "$f" ] || continue
		echo "$m" >>"$TMP/order"
		cpio_entry "mods/$m.ko" $((0100644)) "$f"
	done
	cpio_entry mods/order $((0100644)) "$TMP/order"
	cpio_entry TRAILER!!! 0 ""
} >"$TMP/initrd.img" || fail "cannot write the initramfs"

# --- the host side: a resolver and an HTTP server -------------------------
python3 "$here/dns_server.py" 127.0.0.1 53 web.test=10.0.2.2 >"$TMP/dns.log" 2>&1 &
pids+=($!)
python3 "$here/http_server.py" "$TMP/port" $SIZE 0.0.0.0 >"$TMP/http.log" 2>&1 &
pids+=($!)
for _ in $(seq 200); do
	grep -q '^ready' "$TMP/dns.log" && [ -s "$TMP/port" ] && break
	sleep 0.1
done
grep -q '^ready' "$TMP/dns.log" || fail "the DNS server did not start: $(cat "$TMP/dns.log")"
[ -s "$TMP/port" ] || fail "the HTTP server did not start: $(cat "$TMP/http.log")"
echo "nameserver 127.0.0.1" >"$TMP/resolv.conf"
mount --bind "$TMP/resolv.conf" /etc/resolv.conf || fail "cannot bind-mount a resolv.conf"
port=$(cat "$TMP/port")
md5=$(sed -n 's/^md5 //p' "$TMP/http.log")

# --- the guest ------------------------------------------------------------
console=$TMP/console
: >"$console"
# loglevel=4: the kernel's info lines (link up, ...) would land in the
# middle of /init's on the same console
cmdline="console=ttyS0 loglevel=4 panic=-1 rdinit=/init cvnet_port=$port"
"$CVISOR" ram 0,0xa0000 rom 0xc0000,0x40000 ram 1m,255m cpu \
	load "$kernel" initrd load "$TMP/initrd.img" cmdline "$cmdline" \
	vdev ser8250 hostdev ">$console" vdev virtio-net \
	vdev virtio-net hostdev tap:cvtap0 \
	</dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
pids+=($pid)
limit=${LINUX_BOOT_TIMEOUT:-240}
while [ $(( $(date +%s) - t0 )) -lt "$limit" ] && kill -0 $pid 2>/dev/null; do
	sleep 1
done
# SIGINT: stop now (SIGTERM would press the power button and wait)
exited=1
kill -0 $pid 2>/dev/null && { exited=0; kill -INT $pid; }
wait $pid
STATUS=$?
tr -d '\r' <"$console" >"$console.txt"    # the serial console's CRLFs
console=$console.txt
echo "--- console (CVISOR-NET lines) ---"
grep -a 'CVISOR-NET\|virtio_net\|eth0' "$console" | head -20
[ $exited = 1 ] || fail "no power-off in $limit s: $(tail -5 "$console")"
expect_status 0
# a line's end, or a kernel message written onto it
end='$|\['
grep -q 'CVISOR-NET: lease 10\.0\.2\.15 router 10\.0\.2\.2 dns 10\.0\.2\.3' "$console" ||
	fail "no DHCP lease: $(grep -a CVISOR-NET "$console")"
grep -qE "CVISOR-NET: resolved web\.test 10\.0\.2\.2($end)" "$console" ||
	fail "web.test not resolved: $(grep -a CVISOR-NET "$console"); resolver: $(cat "$TMP/dns.log")"
grep -qE "CVISOR-NET: get $md5 $SIZE($end)" "$console" ||
	fail "download: $(grep -a CVISOR-NET "$console"); server: $(tail -3 "$TMP/http.log")"
grep -qE "CVISOR-NET: put $md5 $SIZE($end)" "$console" ||
	fail "upload: $(grep -a CVISOR-NET "$console"); server: $(tail -3 "$TMP/http.log")"
for f in tx-checksumming rx-checksumming tcp-segmentation-offload scatter-gather; do
	grep -qE "CVISOR-NET: eth1 $f on($end)" "$console" ||
		fail "ethtool -k eth1: $f not on: $(grep -a 'CVISOR-NET: eth1' "$console")"
done
grep -q 'CVISOR-NET: tap ping ok' "$console" || fail "no ping over the tap"
grep -qE "CVISOR-NET: tap get $md5 $SIZE($end)" "$console" ||
	fail "download over the tap: $(grep -a 'CVISOR-NET: tap' "$console")"
grep -qE "CVISOR-NET: tap put $md5 $SIZE($end)" "$console" ||
	fail "upload over the tap: $(grep -a 'CVISOR-NET: tap' "$console")"
grep -a 'CVISOR-NET: eth1' "$console"
echo "Linux: DHCP, DNS and 1 MiB each way over HTTP through slirp, and over a tap with offloads, in $(( $(date +%s) - t0 )) s"

#!/usr/bin/env bash
# bench/net: virtio-net packets/s at 64-byte frames and Gbit/s at 1514-byte
# frames (a 1500-byte MTU), guest TX and RX, and on the tap Gbit/s of guest
# TX in 64 KiB TCP frames with TSO, for cvisor and QEMU (each on
# virtio-pci and virtio-mmio: QEMU pc's virtio-net-pci, microvm's
# virtio-net-device) on the same backend, plus the host limit on the tap,
# in one run. Medians over N runs, interleaved.
#   N=3 COUNT=200000 SECS=2 bench/net.sh
#   BACKENDS=user bench/net.sh            # only user networking
#   BACKENDS=tap CASES=tx64k bench/net.sh # only TSO on the tap
#
# Backends:
#   user  cvisor `hostdev user` and QEMU `-netdev user`, both libslirp.
#         The guest sends UDP datagrams to a sink on the host's 127.0.0.1
#         (10.0.2.2 for the guest) or receives the flood of a flooder
#         there (bench/nethost udp-sink / udp-flood).
#   tap   cvisor `hostdev tap:NAME` and QEMU `-netdev tap` (vhost=off:
#         both VMMs move frames in user space), on a tap in a network
#         namespace this script creates and always removes. The guest
#         sends raw frames (type 0x88b5) to the tap's far end, the host
#         kernel, which drops them; or receives those an AF_PACKET flooder
#         on the tap sends (nethost pkt-flood). The limit is nethost
#         tap-tx / tap-rx: the same frames written to / read from the tap
#         fd by a program that does nothing else. Needs root.
# Guest TX sends COUNT frames; guest RX takes the flood for SECS seconds
# (a flood the guest cannot keep up with is dropped by the backend or the
# kernel; the rate is what reached the guest). Rates are by the guest's
# clock, with tsc_khz= measured on the host, the same for every peer.
# A frame's size is the Ethernet frame without FCS or virtio header; the
# 64-byte case sends 64-byte frames. The TSO case (tap only: neither VMM's
# user networking takes GSO frames) sends TSO_COUNT (default COUNT/20)
# TCP/IPv4 frames of 65536 bytes with GSO_TCPV4 (MSS 1460), which the
# tap's kernel takes whole (it drops them after routing: the addresses
# are not its own); the limit writes the same frames and header. TSO is
# a transmit offload: receiving 64 KiB frames (GUEST_TSO4) is not
# measured, since a flooder cannot hand the tap whole GSO frames here (a
# packet socket's are marked dodgy and cut into segments before the tap,
# which lacks GSO_ROBUST; UDP GSO into a tap needs Linux 6.2's USO), and
# a host TCP sender would need a TCP receiver in the test guest.
# QEMU option lists contain commas by nature:
# shellcheck disable=SC2054
set -eu
cd "$(dirname "$0")/.."
. bench/lib.sh
need_kvm
N=${N:-3}
COUNT=${COUNT:-200000}
SECS=${SECS:-2}
TSO_COUNT=${TSO_COUNT:-$((COUNT / 20))}
QEMU=${QEMU:-qemu-system-x86_64}
BACKENDS=${BACKENDS:-user tap}
NH=$BUILD/bench/nethost
MMIO=0xd0000000
NS=cvbench$$
TAP=cvbtap0
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	ip netns del "$NS" 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ -f "$GUEST" ] || { echo "build the guest first (make guest)"; exit 1; }
[ -x "$BUILD/cvisor" ] || { echo "build cvisor first (make)"; exit 1; }
[ -x "$NH" ] || make -s BUILD="$BUILD" "$NH"
TSC_KHZ=${TSC_KHZ:-$("$NH" --tsc)}

# A server in the background whose port file appears once it is bound.
# start_server PORTFILE CMD...: sets $srv_port.
start_server() {
	local pf=$1
	shift
	rm -f "$pf"
	"$@" >>"$tmp/servers.log" 2>&1 &
	pids+=($!)
	until [ -s "$pf" ]; do
		kill -0 "${pids[-1]}" 2>/dev/null ||
			{ echo "server $* failed: $(tail -3 "$tmp/servers.log")"; exit 1; }
		sleep 0.05
	done
	srv_port=$(cat "$pf")
}

base="ram 0,0xa0000 ram 1m,63m load $GUEST vdev ser8250 hostdev >- vdev debug-exit mode plain"
backends=
for b in $BACKENDS; do
	case $b in
	user)
		start_server "$tmp/sink.port" "$NH" udp-sink "$tmp/sink.port"
		sink_port=$srv_port
		start_server "$tmp/flood.port" "$NH" udp-flood "$tmp/flood.port"
		flood_port=$srv_port
		backends="$backends user" ;;
	tap)
		why=
		# $base is split into tokens on purpose.
		# shellcheck disable=SC2086
		if [ "$(id -u)" != 0 ]; then why="needs root"
		elif [ ! -c /dev/net/tun ]; then why="no /dev/net/tun"
		elif ! "$BUILD/cvisor" check $base vdev virtio-net hostdev tap:x >/dev/null 2>&1; then
			why="this cvisor has no tap backend"
		elif ! ip netns add "$NS" 2>/dev/null; then why="ip netns add failed"
		elif ! { ip netns exec "$NS" ip tuntap add dev $TAP mode tap &&
			 ip netns exec "$NS" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 &&
			 ip netns exec "$NS" ip link set $TAP up; } 2>"$tmp/tap.err"; then
			why="tap set-up failed: $(cat "$tmp/tap.err")"
		fi
		if [ -n "$why" ]; then
			echo "tap backend skipped: $why" >&2
			continue
		fi
		ip netns exec "$NS" "$NH" pkt-flood $TAP >>"$tmp/servers.log" 2>&1 &
		pids+=($!)
		backends="$backends tap" ;;
	*) echo "unknown backend $b"; exit 2 ;;
	esac
done
[ -n "$backends" ] || { echo "no backend to measure"; exit 77; }

peers=${PEERS:-cvisor-pci cvisor-mmio}
if [ -z "${PEERS:-}" ] && command -v "$QEMU" >/dev/null; then
	peers="$peers qemu-pci qemu-mmio"
fi
# cases_of BACKEND: the cases measured on it (those of CASES=, if given).
cases_of() {
	local c all="tx64 tx1500 rx64 rx1500"
	[ "$1" = tap ] && all="$all tx64k"
	for c in $all; do
		case " ${CASES:-$all} " in *" $c "*) echo "$c" ;; esac
	done
}
size_of() { case $1 in *64) echo 64 ;; *64k) echo 65536 ;; *) echo 1514 ;; esac; }

qemu=("$QEMU" -accel "${ACCEL:-kvm}" -m 64 -nodefaults -nographic -serial stdio
	-no-reboot -device isa-debug-exit,iobase=0xf4)

# guest_args BACKEND CASE: the workload and its parameters.
guest_args() {
	local size
	size=$(size_of "$2")
	case $1/$2 in
	user/tx*) echo "net-tx-bench size=$size count=$COUNT port=$sink_port" ;;
	user/rx*) echo "net-rx-bench size=$size secs=$SECS port=$flood_port" ;;
	tap/tx64k) echo "net-tx-bench raw=1 tso=1 size=$size count=$TSO_COUNT" ;;
	tap/tx*) echo "net-tx-bench raw=1 size=$size count=$COUNT" ;;
	tap/rx*) echo "net-rx-bench raw=1 size=$size secs=$SECS" ;;
	esac
}

# peer_argv PEER BACKEND GUESTARGS: sets argv to the command for one run.
peer_argv() {
	local a="$3 tsc_khz=$TSC_KHZ" hd=() nd=(-netdev user,id=n0) pre=()
	if [ "$2" = tap ]; then
		hd=(hostdev "tap:$TAP")
		nd=(-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off")
		pre=(ip netns exec "$NS")
	fi
	# $base is split into tokens on purpose.
	# shellcheck disable=SC2206
	case $1 in
	cvisor-pci) argv=("${pre[@]}" "$BUILD/cvisor" $base cmdline "$a transport=pci"
		vdev virtio-net "${hd[@]}") ;;
	cvisor-mmio) argv=("${pre[@]}" "$BUILD/cvisor" $base
		cmdline "$a transport=mmio mmio=$MMIO"
		vdev virtio-net loc "$MMIO" intr ioapic:10 "${hd[@]}") ;;
	qemu-pci) argv=("${pre[@]}" "${qemu[@]}" -M pc -kernel "$GUEST"
		-append "$a transport=pci" "${nd[@]}"
		-device virtio-net-pci,netdev=n0,disable-legacy=on) ;;
	qemu-mmio) argv=("${pre[@]}" "${qemu[@]}" -M microvm
		-global virtio-mmio.force-legacy=false
		-kernel "${GUEST%.elf}-pvh.elf" -append "$a transport=mmio"
		"${nd[@]}" -device virtio-net-device,netdev=n0) ;;
	esac
}

field() { grep -ao "$1=[0-9.]*" | head -1 | cut -d= -f2; }

# run_peer PEER BACKEND CASE: prints "pps gbps" of one run ("nan nan" if
# it failed, with the reason on stderr).
run_peer() {
	local argv line
	peer_argv "$1" "$2" "$(guest_args "$2" "$3")"
	timeout 300 "${argv[@]}" </dev/null 2>"$tmp/err" | tr -d '\r' >"$tmp/out" || true
	line=$(grep -a '^RESULT net-' "$tmp/out") || true
	if [ -z "$line" ]; then
		echo "  $1 $2 $3: no result: $(tail -2 "$tmp/out"); stderr: $(grep -v 'host doesn.t support requested feature' "$tmp/err" | tail -2)" >&2
		echo "nan nan"
		return
	fi
	echo "$(field pps <<<"$line") $(field gbps <<<"$line")"
}

# run_limit CASE: the host program on the tap.
run_limit() {
	local size line
	size=$(size_of "$1")
	case $1 in
	tx64k) line=$(ip netns exec "$NS" "$NH" tap-tx $TAP "$size" "$TSO_COUNT") ;;
	tx*) line=$(ip netns exec "$NS" "$NH" tap-tx $TAP "$size" "$COUNT") ;;
	rx*) line=$(ip netns exec "$NS" "$NH" tap-rx $TAP "$size" "$SECS") ;;
	esac
	echo "$(field pps <<<"$line") $(field gbps <<<"$line")"
}

for i in $(seq "$N"); do
	for b in $backends; do
		for c in $(cases_of "$b"); do
			for p in $peers; do
				run_peer "$p" "$b" "$c" >>"$tmp/$b.$c.$p"
			done
			[ "$b" = tap ] && run_limit "$c" >>"$tmp/$b.$c.limit"
		done
	done
	echo "run $i/$N done" >&2
done

# med BACKEND CASE PEER: the case's metric (kpps at 64 bytes, Gbit/s at
# 1514), median over the runs that gave a result (failures were said).
med() {
	local f=$tmp/$1.$2.$3
	grep -qv nan "$f" 2>/dev/null || { echo nan; return; }
	case $2 in
	*64) grep -v nan "$f" | median 1 | awk '{ printf "%.1f", $1 / 1000 }' ;;
	*) grep -v nan "$f" | median 2 ;;
	esac
}

echo "virtio-net, medians of $N; TX $COUNT frames, RX ${SECS} s floods; guest tsc_khz=$TSC_KHZ"
echo "kpps at 64-byte frames, Gbit/s at 1514-byte and 64 KiB TSO frames; limit = host program on the tap"
printf '%-6s %-8s' backend case
for p in $peers limit; do printf ' %12s' "$p"; done
echo
for b in $backends; do
	for c in $(cases_of "$b"); do
		printf '%-6s %-8s' "$b" "$c"
		for p in $peers limit; do printf ' %12s' "$(med "$b" "$c" "$p")"; done
		echo
	done
done
echo
printf '%-6s %-8s %14s %14s %14s %14s\n' backend case pci/qemu-pci \
	mmio/qemu-mmio pci/limit mmio/limit
for b in $backends; do
	for c in $(cases_of "$b"); do
		cp=$(med "$b" "$c" cvisor-pci) cm=$(med "$b" "$c" cvisor-mmio)
		qp=$(med "$b" "$c" qemu-pci) qm=$(med "$b" "$c" qemu-mmio)
		l=$(med "$b" "$c" limit)
		printf '%-6s %-8s %14s %14s %14s %14s\n' "$b" "$c" \
			"$(ratio "$cp" "$qp")" "$(ratio "$cm" "$qm")" \
			"$(ratio "$cp" "$l")" "$(ratio "$cm" "$l")"
	done
done
echo "goals: cvisor >= 1.2x QEMU on tap, >= QEMU on user; tap TX >= 0.70 of the limit"

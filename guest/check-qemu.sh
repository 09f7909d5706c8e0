#!/usr/bin/env bash
# Boot the test guest under QEMU (TCG is enough) on both entry paths and
# check every workload QEMU can exercise. Usage:
#   guest/check-qemu.sh [BUILD_DIR_OR_ELF]
# BUILD_DIR defaults to $BUILD/guest when BUILD is set, else build/guest at
# the top of the tree. Exit 0 all passed, 1 some failed, 77 no QEMU.
#
# QEMU's -kernel tries multiboot before PVH on every machine type, so the
# PVH entry is checked with testguest-pvh.elf, the same guest without the
# multiboot header; testguest.elf boots as multiboot on both machines.
set -u
here=$(cd "$(dirname "$0")" && pwd)
qemu=${QEMU:-qemu-system-x86_64}
if ! command -v "$qemu" >/dev/null 2>&1; then
	echo "SKIP: $qemu not installed"
	exit 77
fi

dir=${1:-}
if [ -z "$dir" ]; then
	if [ -n "${BUILD:-}" ]; then dir=$BUILD/guest; else dir=$here/../build/guest; fi
fi
[ -f "$dir" ] && dir=$(dirname "$dir")
if [ ! -f "$dir/testguest.elf" ] || [ ! -f "$dir/testguest-pvh.elf" ]; then
	mkdir -p "$dir"
	make -s -C "$here" BUILD="$(cd "$dir" && pwd)" >/dev/null || exit 1
fi
mb=$dir/testguest.elf
pvh=$dir/testguest-pvh.elf

pass=0 fail=0
out= rc=
tmp=$(mktemp)
wd=$(mktemp -d)
trap 'rm -f "$tmp"; rm -rf "$wd"' EXIT
blk_check=$here/../tests/integration/blk_check.py

# run MACHINE IMAGE APPEND [extra qemu args...]; sets $out and $rc.
run() {
	local machine=$1 image=$2 append=$3
	shift 3
	timeout 60 "$qemu" -M "$machine" -accel tcg -nodefaults \
		-nographic -serial stdio -no-reboot \
		-device isa-debug-exit,iobase=0xf4 \
		-kernel "$image" -append "$append" "$@" </dev/null >"$tmp" 2>&1
	rc=$?
	out=$(tr -d '\r' <"$tmp")
}

# check NAME WANT_RC PATTERN... : each pattern must match a line (grep -E).
check() {
	local name=$1 want=$2 ok=1 p
	shift 2
	[ "$rc" = "$want" ] || ok=0
	for p in "$@"; do
		if [ "${p#!}" != "$p" ]; then
			grep -qaE -- "${p#!}" <<<"$out" && ok=0
		else
			grep -qaE -- "$p" <<<"$out" || ok=0
		fi
	done
	if [ $ok = 1 ]; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name (exit $rc, want $want)"
		sed 's/^/     | /' <<<"$out" | tail -15
	fi
}

greeting='^cvisor test guest: hello from ring 3$'

run microvm "$pvh" ""
check "microvm pvh hello" 1 '^testguest: booted via pvh mem=[0-9]+MiB$' \
	"$greeting" '^RESULT hello ok=1$'
run microvm "$mb" ""
check "microvm testguest.elf hello" 1 '^testguest: booted via ' "$greeting" \
	'^RESULT hello ok=1$'
run pc "$mb" ""
check "pc multiboot hello" 1 'testguest: booted via multiboot mem=[0-9]+MiB$' \
	"$greeting" '^RESULT hello ok=1$'
run pc "$pvh" "hello"
check "pc pvh hello" 1 'testguest: booted via pvh ' "$greeting"

run microvm "$pvh" "smp" -smp 2
check "microvm pvh smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run microvm "$mb" "smp" -smp 2
check "microvm smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run pc "$mb" "smp" -smp 2
check "pc multiboot smp 2" 1 '^RESULT smp cpus=2 checked_in=2$'
run pc "$mb" "smp"
check "pc multiboot smp 1" 1 '^RESULT smp cpus=1 checked_in=1$'
run pc "$mb" "smp cpus=3 timeout_ms=500" -smp 2
check "pc smp cpus=3 mismatch fails" 3 '^RESULT smp cpus=3 checked_in=2$'

run pc "$mb" "mmio-latency n=1000"
check "pc mmio-latency" 1 \
	'^RESULT mmio-latency n=1000 ns_per_exit=[0-9]+ cycles_per_exit=[0-9]+$'
run microvm "$pvh" "mmio-latency n=1000 tsc_khz=1000000"
check "microvm pvh mmio-latency" 1 \
	'^RESULT mmio-latency n=1000 ns_per_exit=[0-9]+ cycles_per_exit=[0-9]+$'

# A triple fault resets the machine; with -no-reboot QEMU exits 0, which a
# debug-exit can never produce (its statuses are odd).
run pc "$mb" "triple-fault"
check "pc triple-fault" 0 '^triple-fault: ' '!RESULT'
run microvm "$pvh" "triple-fault"
check "microvm pvh triple-fault" 0 '^triple-fault: ' '!RESULT'

run pc "$mb" "exit status=5"
check "pc exit status=5" 11 '^RESULT exit status=5$'
run microvm "$pvh" "exit status=0x2a"
check "microvm exit status=0x2a" 85
run microvm "$pvh" "fault"
check "microvm fault" 7 '^testguest: exception vector=14 error=0x4 '
run microvm "$pvh" "no-such-workload"
check "unknown workload fails" 3 "unknown workload 'no-such-workload'"

# Echo: microvm only; SeaBIOS on pc may eat early input bytes.
printf 'ab.' | timeout 60 "$qemu" -M microvm -accel tcg -nodefaults \
	-nographic -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
	-kernel "$pvh" -append "echo" >"$tmp" 2>&1
rc=$?
out=$(tr -d '\r' <"$tmp")
check "microvm echo" 1 '^ab\.$' '^RESULT echo bytes=3$'

# The IOAPIC -> LAPIC -> ring-3-interrupted -> EOI path the pl011 test
# uses, driven by COM1's receive interrupt instead (QEMU x86 has no PL011).
printf 'x' | timeout 60 "$qemu" -M microvm -accel tcg -nodefaults \
	-nographic -serial stdio -no-reboot -device isa-debug-exit,iobase=0xf4 \
	-kernel "$pvh" -append "uart-irq" >"$tmp" 2>&1
rc=$?
out=$(tr -d '\r' <"$tmp")
check "microvm uart-irq" 1 '^RESULT uart-irq irqs=[1-9][0-9]* bytes=[1-9]'

# fw_cfg (QEMU's own, which cvisor's is checked against) and pc-testdev:
# a file by DMA and by the data port against the host's CRC-32 (gzip's
# trailer), the CPU count, the RAM size against the boot memory map; the
# test device's ports, IORAM and an interrupt line.
head -c 5000 /dev/urandom >"$wd/fwblob"
fwcrc=$(gzip -c "$wd/fwblob" | tail -c8 | od -An -tx4 -N4 | tr -d ' \n')
run pc "$mb" "fw-cfg" -fw_cfg "name=opt/cvisor/test,file=$wd/fwblob"
check "pc fw-cfg" 1 \
	"^RESULT fw-cfg sig=QEMU id=0x3 cpus=1 max_cpus=1 ram=([0-9]+) top=\\1 files=[0-9]+ size=5000 crc32=$fwcrc ok=1$"
run pc "$mb" "fw-cfg cpus=2 file=etc/e820" -smp 2
check "pc fw-cfg smp 2" 1 '^RESULT fw-cfg .* cpus=2 max_cpus=2 .* ok=1$'
run pc "$mb" "pc-testdev" -device pc-testdev
check "pc pc-testdev" 1 '^RESULT pc-testdev scratch=1 ioram=1 irq=5 irqs=2 ok=1$'
# The ACPI PM timer through SeaBIOS's FADT (PIIX4's: 24 bits at 0x608),
# against the TSC, as tests/integration/pmtimer.sh does on cvisor's. QEMU
# gives the guest no TSC rate (cvisor does, in CPUID 0x40000010), and the
# guest's own PIT calibration is off by tens of percent when the host is
# loaded: the rate measured on the host (the guest's TSC is the host's
# under KVM) goes in tsc_khz= where bench/nethost is built.
tsc=
nethost=${BUILD:-$here/../build}/bench/nethost
[ -x "$nethost" ] && tsc=$("$nethost" --tsc 2>/dev/null)
run pc "$mb" "pmtimer${tsc:+ tsc_khz=$tsc}"
check "pc pmtimer" 1 '^RESULT pmtimer port=0x608 bits=24 .* ok=1$'

# ---- virtio: the driver speaks virtio 1.x only, so PCI devices are
# modern (disable-legacy=on, or transitional ones with the modern caps, as
# q35 gets by default) and microvm's virtio-mmio must be version 2.
mmio2=(-global virtio-mmio.force-legacy=false)
disk=$wd/disk.img
newdisk() { rm -f "$disk"; truncate -s "$1" "$disk"; }
blkdrv() { echo "-drive file=$disk,if=none,id=d0,format=raw,cache=writeback"; }

# host_check NAME ARGS...: the image must hold blk-verify's pattern.
host_check() {
	local name=$1
	shift
	if ! command -v python3 >/dev/null 2>&1; then
		echo "skip $name (no python3)"
		return
	fi
	if python3 "$blk_check" "$disk" "$@" >"$tmp" 2>&1; then
		pass=$((pass + 1))
		echo "ok   $name"
	else
		fail=$((fail + 1))
		echo "FAIL $name"
		sed 's/^/     | /' "$tmp" | tail -10
	fi
}

verify_re='^RESULT blk-verify sectors=[0-9]+ capacity=[0-9]+ flush=1 ok=1$'
newdisk 64M
# shellcheck disable=SC2046
run pc "$mb" "blk-verify" $(blkdrv) -device virtio-blk-pci,drive=d0,disable-legacy=on
check "pc virtio-blk-pci blk-verify" 1 '^virtio: pci 00:' \
	'^RESULT blk-verify sectors=128 capacity=131072 flush=1 ok=1$'
host_check "pc blk-verify image on the host"
newdisk 48M
# shellcheck disable=SC2046
run q35 "$mb" "blk-verify transport=pci blocks=33 seed=0x1234" $(blkdrv) \
	-device virtio-blk-pci,drive=d0
check "q35 transitional virtio-blk-pci blk-verify" 1 'virtio: pci .* 1af4:1001 ' \
	"$verify_re"
host_check "q35 blk-verify image on the host" 33 0x1234
newdisk 32M
# shellcheck disable=SC2046
run microvm "$pvh" "blk-verify" $(blkdrv) "${mmio2[@]}" \
	-device virtio-blk-device,drive=d0
check "microvm virtio-mmio blk-verify (probed)" 1 '^virtio: mmio 0xfeb0' \
	'^RESULT blk-verify sectors=128 capacity=65536 flush=1 ok=1$'
host_check "microvm blk-verify image on the host"
newdisk 33M
# shellcheck disable=SC2046
run microvm "$pvh" "blk-verify transport=mmio mmio=0xfeb02e00 blocks=1 seed=7" \
	$(blkdrv) "${mmio2[@]}" -device virtio-blk-device,drive=d0
check "microvm blk-verify mmio=0xfeb02e00" 1 '^virtio: mmio 0xfeb02e00 type 2$' \
	"$verify_re"
host_check "microvm mmio= image on the host" 1 7
# shellcheck disable=SC2046
run microvm "$pvh" "blk-verify" $(blkdrv) -device virtio-blk-device,drive=d0
check "microvm legacy virtio-mmio refused" 3 'version 1 \(legacy\) skipped' \
	'no blk device found'
run pc "$mb" "blk-verify transport=mmio"
check "pc blk-verify transport=mmio, no device" 3 'no blk device found' '!RESULT'

newdisk 64M
bench_re='mbps=[0-9]+\.[0-9] iops=[0-9]+ lat_p50_us=[0-9]+\.[0-9] lat_p99_us=[0-9]+\.[0-9]$'
for m in "seqread bs=1048576 mb=8 qd=1" "seqwrite bs=1048576 mb=8 qd=1" \
	 "randread bs=4096 ios=1000 qd=1" "randread bs=4096 ios=2000 qd=32" \
	 "randwrite bs=4096 ios=500 qd=4"; do
	# shellcheck disable=SC2046,SC2086
	run pc "$mb" "blk-bench mode=$m" $(blkdrv) \
		-device virtio-blk-pci,drive=d0,disable-legacy=on
	# shellcheck disable=SC2086
	set -- $m
	check "pc blk-bench $m" 1 \
		"^RESULT blk-bench mode=$1 $2 qd=${4#qd=} $bench_re"
done
# Direct chains (3 descriptors a request): qd is clamped to 128 / 3.
# shellcheck disable=SC2046
run microvm "$pvh" "blk-bench mode=randwrite ios=1000 qd=64 indirect=0" \
	$(blkdrv) "${mmio2[@]}" -device virtio-blk-device,drive=d0
check "microvm blk-bench randwrite direct chains qd=64->42" 1 \
	'qd=64 exceeds what the queue holds, using 42' \
	"^RESULT blk-bench mode=randwrite bs=4096 qd=42 $bench_re"
# shellcheck disable=SC2046
run microvm "$pvh" "blk-verify indirect=0" $(blkdrv) "${mmio2[@]}" \
	-device virtio-blk-device,drive=d0
check "microvm blk-verify direct chains" 1 "$verify_re"
host_check "microvm direct-chain image on the host"

run pc "$mb" "rng" -device virtio-rng-pci,disable-legacy=on
check "pc virtio-rng-pci rng" 1 '^RESULT rng bytes=4096 ok=1$'
run q35 "$mb" "rng bytes=100" -device virtio-rng-pci
check "q35 transitional virtio-rng-pci rng" 1 '^RESULT rng bytes=100 ok=1$'
run microvm "$pvh" "rng bytes=10000" "${mmio2[@]}" -device virtio-rng-device
check "microvm virtio-rng-device rng" 1 '^RESULT rng bytes=10000 ok=1$'

# console-echo: the virtconsole is on stdio, COM1 in a file. Without
# MULTIPORT QEMU's virtio-serial opens port 0 at DRIVER_OK.
# console MACHINE IMAGE INPUT APPEND SERIAL_DEVICE [qemu args]
console() {
	local machine=$1 image=$2 input=$3 append=$4
	shift 4
	rm -f "$wd/com1"
	printf '%s' "$input" | timeout 60 "$qemu" -M "$machine" -accel tcg \
		-nodefaults -nographic -no-reboot \
		-device isa-debug-exit,iobase=0xf4 -kernel "$image" \
		-append "$append" -serial "file:$wd/com1" -chardev stdio,id=c0 \
		"$@" -device virtconsole,chardev=c0 >"$wd/con" 2>&1
	rc=$?
	out=$(cat "$wd/com1" 2>/dev/null; echo; echo "console: $(cat "$wd/con")")
}
console pc "$mb" 'hello virtio.' "console-echo" \
	-device virtio-serial-pci,disable-legacy=on,max_ports=1
check "pc virtio-serial-pci console-echo" 1 '^RESULT console-echo bytes=13$' \
	'^console: hello virtio\.$'
console microvm "$pvh" 'abc.def' "console-echo" "${mmio2[@]}" \
	-device virtio-serial-device,max_ports=1
check "microvm virtio-serial-device console-echo" 1 \
	'^RESULT console-echo bytes=4$' '^console: abc\.$'
console microvm "$pvh" 'xy' "console-echo timeout_ms=500" "${mmio2[@]}" \
	-device virtio-serial-device,max_ports=1
check "microvm console-echo timeout" 3 '^RESULT console-echo bytes=2$'

# ---- virtio-net over QEMU's user networking (libslirp: 10.0.2.15 by
# DHCP, gateway 10.0.2.2 = the host's loopback, DNS 10.0.2.3), modern
# virtio-net-pci on pc and virtio-net-device on microvm.
netpci=(-netdev user,id=n0 -device virtio-net-pci,netdev=n0,disable-legacy=on)
netmmio=("${mmio2[@]}" -netdev user,id=n0 -device virtio-net-device,netdev=n0)
dhcp_re='^RESULT net-dhcp ip=10\.0\.2\.15 gw=10\.0\.2\.2 dns=10\.0\.2\.3$'
run pc "$mb" "net-dhcp" "${netpci[@]}"
check "pc virtio-net-pci net-dhcp" 1 '^net: mac=52:54:00:12:34:56 mrg=1 ' \
	"$dhcp_re"
run microvm "$pvh" "net-dhcp mrg=0" "${netmmio[@]}"
check "microvm virtio-net-device net-dhcp mrg=0" 1 '^virtio: mmio 0xfeb0' \
	'^net: .* mrg=0 ' "$dhcp_re"
run q35 "$mb" "net-dhcp transport=pci rxbuf=64" -netdev user,id=n0 \
	-device virtio-net-pci,netdev=n0
check "q35 transitional virtio-net-pci net-dhcp rxbuf=64" 1 \
	'merged_bufs=[1-9]' "$dhcp_re"
run pc "$mb" "net-ping count=5" "${netpci[@]}"
check "pc net-ping gateway" 1 \
	'^RESULT net-ping dst=10\.0\.2\.2 sent=5 replies=5 bad=0 '
run microvm "$pvh" "net-ping count=3 dhcp=1 dst=10.0.2.3 mrg=0" "${netmmio[@]}"
check "microvm net-ping dns dhcp=1 mrg=0" 1 \
	'^RESULT net-ping dst=10\.0\.2\.3 sent=3 replies=3 bad=0 '
run microvm "$pvh" "net-ping count=2 dst=10.0.2.99 timeout_ms=1500" "${netmmio[@]}"
check "microvm net-ping to nobody fails" 3 'no ARP reply for 10\.0\.2\.99'
run pc "$mb" "net-dhcp transport=mmio"
check "pc net-dhcp transport=mmio, no device" 3 'no virtio-net device' \
	'^RESULT net-dhcp ok=0$'

# net-udp-echo: a UDP echo server on the host's 127.0.0.1, which slirp's
# 10.0.2.2 reaches. It writes its port to a file once it is bound.
udp_echo_py='
import os, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 0))
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write("%d\n" % s.getsockname()[1])
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while True:
    d, a = s.recvfrom(65536)
    s.sendto(d, a)
'
if command -v python3 >/dev/null 2>&1; then
	python3 -c "$udp_echo_py" "$wd/port" &
	echo_pid=$!
	trap 'kill $echo_pid ${peer_pid:-} 2>/dev/null; rm -f "$tmp"; rm -rf "$wd"' EXIT
	trap 'exit 1' INT TERM   # so that the EXIT trap stops the server
	for _ in $(seq 100); do
		[ -s "$wd/port" ] || ! kill -0 $echo_pid 2>/dev/null && break
		sleep 0.1
	done
	port=$(cat "$wd/port" 2>/dev/null)
	echo_re='received=([0-9]+) bad=0 lost=0 pps=[0-9]+$'
	run pc "$mb" "net-udp-echo port=$port count=10000" "${netpci[@]}"
	check "pc net-udp-echo 10000 datagrams" 1 \
		'^RESULT net-udp-echo sent=10000 received=10000 bad=0 lost=0 '
	run microvm "$pvh" "net-udp-echo port=$port count=2000 rxbuf=256 size=1472 window=32" \
		"${netmmio[@]}"
	check "microvm net-udp-echo 1472 bytes merged rx" 1 'merged_bufs=[1-9]' \
		"^RESULT net-udp-echo sent=2000 $echo_re"
	run microvm "$pvh" "net-udp-echo port=$port count=3000 mrg=0 dhcp=1" \
		"${netmmio[@]}"
	check "microvm net-udp-echo mrg=0 dhcp=1" 1 \
		"^RESULT net-udp-echo sent=3000 $echo_re"
	kill $echo_pid 2>/dev/null
	wait $echo_pid 2>/dev/null
	# Nobody there: slirp's host socket gets ICMP port unreachable.
	run microvm "$pvh" "net-udp-echo port=$port count=10 stall_ms=500" \
		"${netmmio[@]}"
	check "microvm net-udp-echo without a server fails" 3 \
		'^RESULT net-udp-echo sent=10 received=0 '

	# A hostile far end (net_peer.py over -netdev socket): between the
	# echoes it sends frames the stack must drop (short, bad lengths and
	# checksums, fragments, other ports and addresses, oversized) and an
	# ARP request and a ping the guest must answer correctly.
	for m in "microvm $pvh" "pc $mb rxbuf=64" "pc $mb mrg=0"; do
		# shellcheck disable=SC2086
		set -- $m
		rm -f "$wd/peerport"
		python3 "$here/net_peer.py" "$wd/peerport" >"$wd/peer" 2>&1 &
		peer_pid=$!
		for _ in $(seq 100); do
			[ -s "$wd/peerport" ] || ! kill -0 $peer_pid 2>/dev/null && break
			sleep 0.1
		done
		if [ "$1" = microvm ]; then
			nic=("${mmio2[@]}" -device virtio-net-device,netdev=n0)
		else
			nic=(-device virtio-net-pci,netdev=n0,disable-legacy=on)
		fi
		# stall_ms: the peer answers every echo, so a late answer is
		# the loaded host's (a python peer not scheduled for 2 s),
		# not a loss; the default 2 s failed the check under load
		run "$1" "$2" "net-udp-echo port=7 count=300 stall_ms=60000 ${3:-}" \
			-netdev "socket,id=n0,connect=127.0.0.1:$(cat "$wd/peerport")" \
			"${nic[@]}"
		wait $peer_pid
		out="$out
$(cat "$wd/peer")"
		check "$1 net-udp-echo against a hostile peer${3:+ $3}" 1 \
			'rx_bad=[1-9][0-9]* rx_oversize=[1-9]' 'bad_csum=[1-9]' \
			'arp_replies=1 echo_replies=1 ' \
			'^RESULT net-udp-echo sent=300 received=300 bad=0 lost=0 ' \
			'^peer: echoed=300 junk=300 arp_reply=1 echo_reply=1$'
	done
else
	echo "skip net-udp-echo (no python3)"
fi

# net-tcp: a 1 MiB TCP stream each way through slirp to the server of
# tests/integration/net_tcp.sh, which checks every byte and prints the
# stream's CRC-32; the guest's must be the same.
tcp_srv=$here/../tests/integration/net_tcp_server.py
if command -v python3 >/dev/null 2>&1 && [ -f "$tcp_srv" ]; then
	trap 'kill ${echo_pid:-} ${peer_pid:-} ${tcp_pid:-} 2>/dev/null; rm -f "$tmp"; rm -rf "$wd"' EXIT
	trap 'exit 1' INT TERM
	for m in "pc $mb tx" "microvm $pvh rx"; do
		# shellcheck disable=SC2086
		set -- $m
		rm -f "$wd/tcpport"
		python3 "$tcp_srv" "$3" "$wd/tcpport" 1048576 >"$wd/tcpsrv" 2>&1 &
		tcp_pid=$!
		for _ in $(seq 100); do
			[ -s "$wd/tcpport" ] || ! kill -0 $tcp_pid 2>/dev/null && break
			sleep 0.1
		done
		if [ "$1" = microvm ]; then nic=("${netmmio[@]}"); else nic=("${netpci[@]}"); fi
		run "$1" "$2" "net-tcp port=$(cat "$wd/tcpport" 2>/dev/null) dir=$3 bytes=1048576" \
			"${nic[@]}"
		# It ends by itself once the stream is through; the guard is
		# for a guest that failed.
		for _ in $(seq 300); do
			kill -0 $tcp_pid 2>/dev/null || break
			sleep 0.1
		done
		kill $tcp_pid 2>/dev/null
		wait $tcp_pid 2>/dev/null
		crc=$(grep -ao 'crc32=[0-9a-f]*' "$wd/tcpsrv")
		out="$out
$(cat "$wd/tcpsrv")"
		check "$1 net-tcp dir=$3 1 MiB" 1 \
			"^RESULT net-tcp dir=$3 bytes=1048576 ${crc:-nocrc} pattern_ok=1 ok=1 " \
			"^server: dir=$3 bytes=1048576 crc32=[0-9a-f]+ pattern_ok=1$"
	done
else
	echo "skip net-tcp (no python3)"
fi

echo "check-qemu: $pass passed, $fail failed"
[ $fail = 0 ]

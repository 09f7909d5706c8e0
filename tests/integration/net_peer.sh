# net_peer: two cvisor processes joined by a virtio-net `peer PATH` link
# (a UNIX socket, no root) run the test guest's net-peer: each pings the
# other and both exit 0. Once with A started first (PCI, no offloads),
# once with B first (A on PCI, B on virtio-mmio, checksum offload on both
# sides). Then a restart: A waits while B is started, killed (SIGKILL:
# its socket file stays behind) and started again; A's link goes down and
# comes back, and both finish.
#
# Nothing here waits for a time: the second VM may start before or after
# the first has its link, frames sent while the other side is not up are
# re-sent by the guest, and the kill happens once A's guest says it has
# its replies (from the first B). The deadlines only turn a hang into a
# failure.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

SOCK=$TMP/link.sock
pids=()
trap 'for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null; done; rm -rf "$TMP"' EXIT
trap 'exit 1' INT TERM

# start NAME CMDLINE TOKENS...: a VM in the background, -v for the
# link's messages; its pid in $PID, output in $TMP/NAME.out/.err.
start() {
	local name=$1 cmdline=$2; shift 2
	# shellcheck disable=SC2046
	timeout 200 "$CVISOR" -v $(base_args) system "$name" \
		cmdline "$cmdline link_ms=180000 timeout_ms=180000" "$@" \
		</dev/null >"$TMP/$name.out" 2>"$TMP/$name.err" &
	PID=$!
	pids+=("$PID")
}

# finish NAME PID: waits, expects status 0 and a good RESULT line.
finish() {
	local name=$1 pid=$2 st=0
	wait "$pid" || st=$?
	[ "$st" -eq 0 ] || fail "$name: exit status $st; stderr: $(tail -20 "$TMP/$name.err"); stdout: $(tail -20 "$TMP/$name.out")"
	grep -qE '^RESULT net-peer dst=10\.0\.0\.[12] sent=[0-9]+ replies=20 .* ok=1$' \
		"$TMP/$name.out" || fail "$name: no good RESULT: $(tail -5 "$TMP/$name.out")"
}

# wait_for FILE REGEX: until FILE has a line matching REGEX (hang guard:
# 180 s, or the process gone).
wait_for() {
	local file=$1 re=$2 pid=$3
	for _ in $(seq 1800); do
		grep -qE "$re" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || fail "$(basename "$file"): gone before /$re/: $(tail -5 "$file")"
		sleep 0.1
	done
	fail "$(basename "$file"): no /$re/ in 180 s: $(tail -5 "$file")"
}

# B1 and B (b3 and b4 below) have one MAC, as one VM restarted would: A's ARP cache holds it.
a_dev=(vdev virtio-net mac 02:00:00:00:00:01 peer "$SOCK")
b1_dev=(vdev virtio-net mac 02:00:00:00:00:02 peer "$SOCK")
b_dev=(vdev virtio-net loc 0xd0000000 intr ioapic:10 mac 02:00:00:00:00:02
       peer "$SOCK")
A="net-peer ip=10.0.0.1 dst=10.0.0.2 count=20"
B="net-peer ip=10.0.0.2 dst=10.0.0.1 count=20 transport=mmio mmio=0xd0000000"

# Each VM has its own files: a background start truncates them later
# than the next line of this script may read them.
echo "net_peer: A first, no offloads"
start a1 "$A" "${a_dev[@]}"; pa=$PID
start b1 "$B" "${b_dev[@]}"; pb=$PID
finish a1 "$pa"
finish b1 "$pb"
grep -q 'link up' "$TMP/a1.err" || fail "a1: no 'link up' message: $(cat "$TMP/a1.err")"
# The listener removed the socket file once it had its peer.
[ ! -e "$SOCK" ] || fail "$SOCK left behind"

echo "net_peer: B first, peerfeats 0x3 on both sides"
start b2 "$B" "${b_dev[@]}" peerfeats 0x3; pb=$PID
start a2 "$A" "${a_dev[@]}" peerfeats 0x3; pa=$PID
finish b2 "$pb"
finish a2 "$pa"

echo "net_peer: B killed and started again while A waits"
start a3 "$A" "${a_dev[@]}"; pa=$PID
# B1 answers A's pings but never finishes: its own go to an address
# nobody has.
start b3 "net-peer ip=10.0.0.2 dst=10.0.0.99 count=20" "${b1_dev[@]}"
pb1=$PID
wait_for "$TMP/a3.out" '^net-peer: all 20 replies in' "$pa"
# $pb1 is timeout's pid: the crash is cvisor's own.
vmm=$(pgrep -P "$pb1") || fail "b3: no cvisor under timeout"
kill -9 "$vmm"
wait "$pb1" 2>/dev/null
grep -q 'net-peer: the other side is done' "$TMP/a3.out" &&
	fail "a3: B1 cannot have finished"
start b4 "$B" "${b_dev[@]}"; pb=$PID
finish b4 "$pb"
finish a3 "$pa"
grep -q 'link down' "$TMP/a3.err" || fail "a3: no 'link down': $(cat "$TMP/a3.err")"
[ "$(grep -c 'link up' "$TMP/a3.err")" -eq 2 ] ||
	fail "a3: the link did not come up twice: $(cat "$TMP/a3.err")"
echo "net_peer: ok"

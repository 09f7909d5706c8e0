# Every device, a reset and a stop, with the seccomp filters on (the
# default, given explicitly): the workloads pass, no filter refuses a call,
# and every thread of the running VMM is under a filter.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

# Devices every run has, used or not: created, reset and freed under the
# filters (RTC timers, PS/2, PL011, virtio-rng and -console on PCI).
extra="vdev mc146818 vdev pckeyboard vdev pl011 loc 0xfe001000 intr ioapic:5
	hostdev >$TMP/pl011.out vdev virtio-entropy
	vdev virtio-console hostdev >$TMP/con.out"

run_sc() {   # run_sc CMDLINE TOKENS...: run_guest under --seccomp on
	local cmdline=$1; shift
	# shellcheck disable=SC2046,SC2086
	timeout 60 "$CVISOR" --seccomp on $(base_args) cmdline "$cmdline" \
		$extra "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "$cmdline: did not finish in 60 s"
	grep -q 'seccomp' "$TMP/err" && fail "$cmdline: $(grep seccomp "$TMP/err")"
	return 0
}

truncate -s 16M "$TMP/disk.img"
# virtio-blk on PCI with the threaded engine: the block workers' filter
CVISOR_BLOCK_ENGINE=sync run_sc "blk-verify transport=pci" \
	vdev virtio-blk hostdev "$TMP/disk.img"
expect_status 0
expect_out '^RESULT blk-verify .*flush=1 ok=1$'
# ... and on virtio-mmio with io_uring and O_DIRECT
run_sc "blk-verify transport=mmio mmio=0xfeb00000 blocks=5" \
	vdev virtio-blk loc 0xfeb00000 intr ioapic:10 hostdev "$TMP/disk.img" dio enable
expect_status 0
expect_out '^RESULT blk-verify .*flush=1 ok=1$'
run_sc "rng transport=pci"
expect_status 0
expect_out '^RESULT rng bytes=4096 ok=1$'
run_sc "rng transport=mmio mmio=0xfeb00000" vdev virtio-rng loc 0xfeb00000 intr ioapic:10
expect_status 0
expect_out '^RESULT rng bytes=4096 ok=1$'
printf 'hello virtio console.' >"$TMP/in"
run_sc "console-echo transport=mmio mmio=0xfeb00000" \
	vdev virtio-console loc 0xfeb00000 intr ioapic:10 hostdev "<$TMP/in" hostdev ">$TMP/con2.out"
expect_status 0
expect_out '^RESULT console-echo bytes=21$'
run_sc "pl011 base=0xfe001000 irq=5"
expect_status 0
expect_out '^RESULT pl011 id=ok loopback=ok irq=ok'
run_sc "smp cpus=2" cpu cpu
expect_status 0
expect_out '^RESULT smp cpus=2 checked_in=2'
run_sc "exit status=5"
expect_status 5

# A reset rebuilds the VM on the main thread under its filter (triple
# faults as resets: the guest faults again after every rebuild), then
# SIGTERM stops it with 3.
rm -f "$TMP/err"     # counted below: only this run's lines
# shellcheck disable=SC2046,SC2086
CVISOR_BLOCK_ENGINE=sync timeout 60 "$CVISOR" --seccomp on $(base_args) $extra \
	vdev virtio-blk hostdev "$TMP/disk.img" triplefault reset \
	cmdline triple-fault </dev/null >"$TMP/out" 2>"$TMP/err" &
pid=$!
# (grep -c on a pipe: a count even before the job made the file)
resets() { [ "$(cat "$TMP/err" 2>/dev/null | grep -c 'triple fault')" -ge 3 ]; }
wait_for resets
kill -TERM $pid
wait $pid
STATUS=$?
expect_status 3
grep -q 'seccomp' "$TMP/err" && fail "reset: $(grep seccomp "$TMP/err")"

# (a stale boot line must not count: the job truncates $TMP/out only
# once it runs)
rm -f "$TMP/out"
# A running VM: every thread of ours (main, event loop, vCPUs, block
# workers) is under a filter.
# shellcheck disable=SC2046,SC2086
CVISOR_BLOCK_ENGINE=sync timeout 60 "$CVISOR" --seccomp on $(base_args) $extra \
	cpu cpu vdev virtio-blk hostdev "$TMP/disk.img" \
	cmdline "echo timeout_ms=600000" >"$TMP/out" 2>"$TMP/err" < <(sleep 120) &
pid=$!
until grep -q testguest "$TMP/out" 2>/dev/null; do
	kill -0 $pid 2>/dev/null || fail "cvisor ended before the guest booted: $(tail -5 "$TMP/err")"
	sleep 0.1
done
vmm=$(pgrep -P $pid -x cvisor) || fail "no cvisor process under timeout: $(tail -5 "$TMP/err")"
# main, event loop, 2 vCPUs, 4 block workers: all of ours are named
# cvisor* (a thread not yet renamed by its creator is "cvisor"); wait until
# all 8 exist and each has loaded its filter (a thread's first step)
filtered() {
	local n=0 st name
	for st in /proc/"$vmm"/task/*/status; do
		name=$(sed -n 's/^Name:\t//p' "$st" 2>/dev/null)
		case $name in cvisor*) ;; *) continue ;; esac   # kernel workers
		grep -q '^Seccomp:\s*2$' "$st" || return 1
		n=$((n + 1))
	done
	[ $n -ge 8 ]
}
until filtered; do
	kill -0 "$vmm" 2>/dev/null || fail "cvisor ended with threads unfiltered or missing: $(tail -5 "$TMP/err")"
	sleep 0.1
done
kill -TERM $pid
wait $pid
STATUS=$?
expect_status 3
exit 0

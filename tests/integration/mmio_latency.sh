# mmio-latency: the guest times writes to the testdev and reports them.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
run_guest "mmio-latency n=2000" vdev testdev
expect_status 0
expect_out '^RESULT mmio-latency n=2000 ns_per_exit=[0-9.]+ cycles_per_exit=[0-9.]+'

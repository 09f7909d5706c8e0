# SMP: every configured vCPU is started by the guest with INIT/SIPI.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
for n in 1 2 4; do
	cpus=$(for i in $(seq $n); do printf 'cpu '; done)
	# shellcheck disable=SC2086
	run_guest "smp cpus=$n" $cpus
	expect_status 0
	expect_out "^RESULT smp cpus=$n checked_in=$n"
done

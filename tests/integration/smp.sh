# SMP: every configured vCPU is started by the guest with INIT/SIPI.
# timeout_ms: how long the guest waits for the APs to check in (its
# default, 5 s, decided the result on a loaded host). The wait ends as
# soon as all have; 45 s is a hang guard that still lets the guest say
# how many came before run_guest's own 60 s limit.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest
for n in 1 2 4; do
	cpus=$(for i in $(seq $n); do printf 'cpu '; done)
	# shellcheck disable=SC2086
	run_guest "smp cpus=$n timeout_ms=45000" $cpus
	expect_status 0
	expect_out "^RESULT smp cpus=$n checked_in=$n"
done

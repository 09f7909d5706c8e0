#!/usr/bin/env bash
# Run every test: cmocka unit tests (one BUILD/tests/test_X for each
# tests/unit/test_X.c: one not built is a failure, as is one that has not
# ended in 300 s), then the shell integration tests
# (tests/integration/*.sh). Prints one closing line
# "N passed, N failed, N skipped" and exits non-zero if anything failed.
#
# Integration tests report with exit status: 0 pass, 77 skip (the reason on
# stdout), anything else fail. A test that passed with a part of it not run
# says so in a line "part 'WHAT' skipped: WHY", shown under its pass.
#
# Where /dev/kvm is missing, the tests that skipped for want of it run again
# in one nested machine that has it (scripts/nested-kvm.sh: QEMU TCG with an
# emulated AMD SVM CPU), and count with their result there. CVISOR_NESTED=0
# turns that off; a machine without QEMU keeps them skipped. A test whose
# skip reason says "runs in the nested machine" joins them too.
#
# CVISOR_NESTED_DEFER=FILE leaves the nested pass to the caller: the names
# of the tests that wanted it go into FILE's first line (they count as
# skipped here), and the caller runs `tests/run.sh BUILD --nested NAME...`
# when it likes (scripts/check.sh: beside the sanitizer pass, which does
# not need it). Tests whose header has a line "# ci: background" (those
# that boot an emulated rig of their own) are not run here then: their
# names go into FILE's second line, for the caller to run with --only.
#
# An integration test may take 300 s; one whose header has a line
# "# time limit: N" (a firmware boot in the emulated machine, whose speed
# follows the host's load) N seconds.
#
#   tests/run.sh [BUILD]                  everything
#   tests/run.sh BUILD --only NAME...     only these integration tests
#   tests/run.sh BUILD --nested NAME...   only these, in the nested machine
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pass=0 fail=0 skip=0
failed=()
needs_kvm=()

# run_integration NAME: runs tests/integration/NAME.sh, prints one line.
run_integration() {
	local name=$1 out rc t0=$SECONDS limit
	limit=$(sed -n 's/^# time limit: \([0-9]*\)$/\1/p' "tests/integration/$name.sh" | head -1)
	out=$(BUILD="$build" timeout "${limit:-300}" bash "tests/integration/$name.sh" 2>&1)
	rc=$?
	case $rc in
	0)  pass=$((pass + 1)); printf '%-40s pass (%d s)\n' "$name" $((SECONDS - t0))
	    grep -E "^part '.*' skipped: " <<<"$out" | sed 's/^/    /' ;;
	77) skip=$((skip + 1)); printf '%-40s SKIP: %s\n' "$name" "$(tail -1 <<<"$out")"
	    grep -qE 'needs /dev/kvm|runs in the nested machine' <<<"$(tail -1 <<<"$out")" &&
		needs_kvm+=("$name") ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf '%-40s FAIL (status %d)\n' "$name" "$rc"
	    printf '%s\n' "$out" | tail -30 | sed 's/^/    /' ;;
	esac
}

finish() {
	[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
	echo "$pass passed, $fail failed, $skip skipped"
	[ "$fail" -eq 0 ]
	exit
}

if [ "${2:-}" = --only ]; then
	shift 2
	for name in "$@"; do run_integration "$name"; done
	finish
fi

# The nested pass: one machine for all the tests that wanted /dev/kvm.
# Runs the named tests there; leaves the log in $log and the status in $rc.
nested_run() {
	log=$(mktemp)
	scripts/nested-kvm.sh -t 1500 -s 120 bash tests/run.sh "$build" --only "$@" \
		>"$log" 2>&1
	rc=$?
}

# A test's own line in the nested log, without the name (the serial
# console ends lines with \r\n); empty if it never finished.
nested_result() {
	tr -d '\r' <"$log" | grep -a -E "^$1 +(pass|SKIP|FAIL)" | tail -1 |
		sed 's/^[^ ]* *//'
}

# The nested pass over needs_kvm: each test's result there replaces its
# skip here.
nested_pass() {
	echo "--- ${#needs_kvm[@]} tests again, in a nested machine with /dev/kvm (scripts/nested-kvm.sh) ---"
	nested_run "${needs_kvm[@]}"
	if [ $rc -eq 77 ]; then
		echo "nested machine unavailable: $(grep SKIP: "$log" | tail -1)"
	else
		declare -A result
		unfinished=()
		for name in "${needs_kvm[@]}"; do
			result[$name]=$(nested_result "$name")
			[ -n "${result[$name]}" ] || unfinished+=("$name")
		done
		# The emulated machine itself can freeze (rarely; the stall
		# watchdog then stops it): the tests it never finished get one
		# more machine. A test that hangs by itself hangs there too.
		if [ ${#unfinished[@]} -gt 0 ] && [ $rc -eq 70 ]; then
			tr -d '\r' <"$log" | grep -a '^NEST:' | tail -2
			echo "--- ${#unfinished[@]} unfinished tests once more, in a new nested machine ---"
			first_log=$log
			nested_run "${unfinished[@]}"
			for name in "${unfinished[@]}"; do
				result[$name]=$(nested_result "$name")
			done
			cat "$first_log" >>"$log"
			rm -f "$first_log"
		fi
		# A guest that died inside the emulated machine gets one more
		# machine too (seen once in about ten runs: Linux triple-faulting
		# early in its boot under TCG's SVM emulation, not reproduced in
		# a second machine). Said loudly, with the first failure's
		# details below; failing twice is a failure.
		failed_once=()
		for name in "${needs_kvm[@]}"; do
			case ${result[$name]} in FAIL*) failed_once+=("$name") ;; esac
		done
		if [ ${#failed_once[@]} -gt 0 ]; then
			echo "--- ${#failed_once[@]} tests failed in the nested machine: once more, in a new one ---"
			first_log=$log
			nested_run "${failed_once[@]}"
			for name in "${failed_once[@]}"; do
				result[$name]=$(nested_result "$name")
				case ${result[$name]} in pass*)
					echo "NOTE: $name failed in the first nested machine and passed in a second (details of the failure below)" ;;
				esac
			done
			cat "$first_log" >>"$log"
			rm -f "$first_log"
		fi
		for name in "${needs_kvm[@]}"; do
			line=${result[$name]}
			case $line in
			pass*)  skip=$((skip - 1)); pass=$((pass + 1)) ;;
			FAIL*)  skip=$((skip - 1)); fail=$((fail + 1)); failed+=("$name (nested)") ;;
			SKIP*)  ;;
			*)         skip=$((skip - 1)); fail=$((fail + 1)); failed+=("$name (nested: no result)") ;;
			esac
			printf '%-40s %s\n' "$name (nested)" "${line:-no result}"
		done
		# The failures' details.
		tr -d '\r' <"$log" | awk '/ FAIL \(status/{p=1; print; next} /^[a-z_0-9]+ +(pass|SKIP)/{p=0} p && /^    /' 
		if [ $rc -ne 0 ] && [ $rc -ne 1 ]; then
			echo "nested machine: status $rc"
			# its own kernel's last words, if it died (a panic's
			# reason is far above the stack dump's tail)
			tr -d '\r' <"$log" | grep -a -m 4 -A 3 -E 'Kernel panic|BUG:|Oops|general protection|RIP:'
			tail -20 "$log"
		fi
	fi
	rm -f "$log"
}

if [ "${2:-}" = --nested ]; then
	shift 2
	needs_kvm=("$@")
	skip=$#
	nested_pass
	finish
fi

# Whether this run will give the tests that want it a nested machine
# (tests that would start one of their own leave it to us then).
nests=
[ "${CVISOR_NESTED:-1}" != 0 ] && [ -z "${NESTED_KVM:-}" ] && nests=1
export CVISOR_RUN_NESTS=$nests

for src in tests/unit/test_*.c; do
	t=$build/tests/$(basename "$src" .c)
	if [ ! -x "$t" ]; then
		fail=$((fail + 1)); failed+=("$(basename "$t")")
		printf '%-40s FAIL: %s not built (make unit)\n' "$(basename "$t")" "$t"
		continue
	fi
	# A hang guard: a binary that has not ended in 300 s is stopped
	# (KILLed 10 s after the TERM) and fails.
	t0=$SECONDS
	out=$(timeout -k 10 300 "$t" 2>&1)
	rc=$?
	if [ $rc -eq 124 ] || { [ $rc -eq 137 ] && [ $((SECONDS - t0)) -ge 300 ]; }; then
		fail=$((fail + 1)); failed+=("$(basename "$t")")
		printf '%-40s FAIL: did not end within 300 s (stopped, status %d); its last lines:\n' \
			"$(basename "$t")" "$rc"
		printf '%s\n' "$out" | tail -10 | sed 's/^/    /'
		continue
	fi
	# a binary may run several cmocka groups: add them all up
	p=$(grep -E '^\[  PASSED  \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	f=$(grep -E '^\[  FAILED  \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${k:-0}))
	# no cmocka summary at all: it ran no test (or died before saying)
	[ -z "${p:-}${f:-}${k:-}" ] && [ $rc -eq 0 ] && rc=1 &&
		echo "$(basename "$t"): no cmocka summary line: $(tail -3 <<<"$out")"
	if [ $rc -ne 0 ] || [ -n "${f:-}" ]; then
		[ -z "${f:-}" ] && fail=$((fail + 1))
		failed+=("$(basename "$t")")
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -20
	fi
	printf '%-40s %s passed%s%s\n' "$(basename "$t")" "${p:-0}" \
		"$([ -n "${k:-}" ] && echo ", $k skipped")" \
		"$([ -n "${f:-}" ] && echo ", $f FAILED")"
done

background=()
for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	if [ -n "${CVISOR_NESTED_DEFER:-}" ] && grep -q '^# ci: background' "$t"; then
		background+=("$(basename "$t" .sh)")
		printf '%-40s %s\n' "$(basename "$t" .sh)" "later, in the background"
		continue
	fi
	run_integration "$(basename "$t" .sh)"
done

if [ -n "${CVISOR_NESTED_DEFER:-}" ]; then
	[ -n "$nests" ] || needs_kvm=()
	[ ${#needs_kvm[@]} -gt 0 ] &&
		echo "--- ${#needs_kvm[@]} tests left for the nested machine: ${needs_kvm[*]} ---"
	printf '%s\n%s\n' "${needs_kvm[*]}" "${background[*]}" >"$CVISOR_NESTED_DEFER"
elif [ ${#needs_kvm[@]} -gt 0 ] && [ -n "$nests" ]; then
	nested_pass
fi
finish

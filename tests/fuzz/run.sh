#!/usr/bin/env bash
# Run libFuzzer targets one after the other (what `make fuzz` calls):
#   tests/fuzz/run.sh FUZZ_BUILD SECONDS TARGET...
# For each TARGET: first every saved crash in tests/fuzz/regressions/TARGET/
# runs once (a fixed bug must stay fixed), then the fuzzer runs for SECONDS
# from tests/fuzz/corpus/TARGET/ (new inputs go to FUZZ_BUILD/corpus/TARGET,
# not into the tree) with tests/fuzz/TARGET.dict, and one line reports
# executions, executions/s and coverage (cov = edges, ft = features, from
# libFuzzer's final status line). A crash, leak, timeout or OOM input is
# copied into tests/fuzz/regressions/TARGET/ and the run fails.
# FUZZ_NICE=N runs the fuzzers under `nice -n N`.
set -u
fb=$1 secs=$2
shift 2
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
fails=()

# The fuzzer's log for a failed run: the sanitizer's summary and the first
# frames of the stack, enough to recognise the bug.
show_crash() {
	grep -E '^(==[0-9]+==ERROR|SUMMARY|    #[0-9] |.*runtime error:)' "$1" |
		head -14 | sed 's/^/    /'
}

for t in "$@"; do
	bin=$fb/fuzz_$t
	reg=tests/fuzz/regressions/$t
	log=$fb/logs/$t.log
	art=$fb/artifacts/$t
	mkdir -p "$fb/corpus/$t" "$fb/logs" "$art"
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: $bin is not built"; fails+=("$t"); continue
	fi
	opts=(-print_final_stats=1 -close_fd_mask=2 -timeout=10
	      -rss_limit_mb=2048 -artifact_prefix="$art/")
	[ -f "tests/fuzz/$t.dict" ] && opts+=(-dict="tests/fuzz/$t.dict")

	regs=()
	[ -d "$reg" ] && while IFS= read -r f; do regs+=("$f"); done \
		< <(find "$reg" -type f ! -name '.*' | sort)
	if [ ${#regs[@]} -gt 0 ] &&
	   ! "$bin" "${opts[@]}" "${regs[@]}" >"$log" 2>&1; then
		echo "fuzz $t: FAIL: a saved regression input crashes again ($reg)"
		show_crash "$log"
		fails+=("$t"); continue
	fi

	rm -f "$art"/*
	nice -n "${FUZZ_NICE:-0}" "$bin" "${opts[@]}" -max_total_time="$secs" \
		"$fb/corpus/$t" "tests/fuzz/corpus/$t" >"$log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	last=$(grep -E '^#[0-9]+' "$log" | tail -1)
	cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
	ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
	corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
	# The final stats can be cut short at exit: the status line has both.
	[ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*/\1/p' <<<"$last")
	[ -n "$rate" ] || rate=$(sed -n 's/.* exec\/s: \([0-9]*\).*/\1/p' <<<"$last")
	printf 'fuzz %-8s %9s execs %7s exec/s  cov %5s  ft %6s  corpus %5s  (%d regression inputs)\n' \
		"$t" "${execs:-?}" "$rate" "${cov:-?}" "${ft:-?}" "${corp:-?}" \
		"${#regs[@]}"
	if [ $rc -ne 0 ]; then
		mkdir -p "$reg"
		saved=$(find "$art" -type f | head -5)
		for f in $saved; do cp "$f" "$reg/"; done
		echo "fuzz $t: FAIL (status $rc), input saved to: $(
			for f in $saved; do printf '%s ' "$reg/${f##*/}"; done)"
		show_crash "$log"
		echo "    full log: $log"
		fails+=("$t")
	fi
done
[ ${#fails[@]} -eq 0 ] || { echo "fuzz: failed: ${fails[*]}"; exit 1; }
echo "fuzz: ${#@} targets, no crash in ${secs} s each"

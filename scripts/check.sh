#!/usr/bin/env bash
# The whole suite, as `make check` runs it (and so CI):
#  1. every test on the normal build (tests/run.sh BUILD);
#  2. the tests that need a KVM (or a kernel) this machine lacks, on the
#     normal build in the nested machine, then the tests that boot an
#     emulated rig of their own ("# ci: background"), started in the
#     background as soon as pass 1 has named them: emulated machines are
#     the slowest part of CI, and the sanitizer pass runs beside them;
#  3. every test again on an ASan+UBSan build (BUILD-san), without a second
#     nested machine (CHECK_SAN=0 leaves this pass out).
# Ends with one line "N passed, N failed, N skipped" for both passes, and
# exits non-zero if anything failed.
set -u
build=${1:-build}
cd "$(dirname "$0")/.." || exit 1
pass=0 fail=0 skip=0

# count LOG: adds the closing line of a tests/run.sh log to the totals.
count() {
	local line p f s
	line=$(grep -aE '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -1)
	if [ -z "$line" ]; then
		echo "no closing line: the run died"
		fail=$((fail + 1))
		return
	fi
	p=$(sed -E 's/^([0-9]+) passed.*/\1/' <<<"$line")
	f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	s=$(sed -nE 's/.* ([0-9]+) skipped.*/\1/p' <<<"$line")
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + ${s:-0}))
}

# A pass's own closing line is kept, but as a subtotal: only the last line
# of the whole run is the suite's.
subtotal() {
	sed -u -E "s/^([0-9]+ passed, [0-9]+ failed.*)$/subtotal of the $1: \\1/"
}

log=$(mktemp) defer=$(mktemp) nlog=$(mktemp) rlog=$(mktemp)
npid=
trap '[ -n "$npid" ] && kill "$npid" 2>/dev/null; rm -f "$log" "$defer" "$nlog" "$rlog"' EXIT
CVISOR_NESTED_DEFER=$defer tests/run.sh "$build" 2>&1 | tee "$log" |
	subtotal "normal build"
count "$log"
nested=() rigs=()
{ read -ra nested; read -ra rigs; } <"$defer"
# The nested ones counted as skipped above; their results come from the
# nested pass instead. The rigs' tests were not counted at all.
skip=$((skip - ${#nested[@]}))
if [ $((${#nested[@]} + ${#rigs[@]})) -gt 0 ]; then
	echo "--- in the background: the nested machine for ${nested[*]:-nothing}; rigs: ${rigs[*]:-none} ---"
	{
		[ ${#nested[@]} -eq 0 ] ||
			tests/run.sh "$build" --nested "${nested[@]}" >"$nlog" 2>&1
		[ ${#rigs[@]} -eq 0 ] ||
			tests/run.sh "$build" --only "${rigs[@]}" >"$rlog" 2>&1
	} &
	npid=$!
fi

if [ "${CHECK_SAN:-1}" != 0 ]; then
	echo "--- the whole suite again, built with ASan and UBSan ($build-san) ---"
	# shellcheck disable=SC2086 # JOBS: "" or "-jN" from the Makefile
	if make --no-print-directory ${JOBS:-} SAN=1 BUILD="$build-san" check-build \
		>"$log" 2>&1; then
		CVISOR_NESTED=0 CVISOR_SAN_PASS=1 tests/run.sh "$build-san" 2>&1 |
			tee "$log" | subtotal "sanitizer build" | sed -u 's/^/san: /'
		count "$log"
	else
		tail -30 "$log"
		echo "the sanitizer build failed"
		fail=$((fail + 1))
	fi
fi
if [ -n "$npid" ]; then
	wait "$npid"
	npid=
	if [ ${#nested[@]} -gt 0 ]; then
		echo "--- the nested machine (normal build) ---"
		subtotal "nested machine" <"$nlog"
		count "$nlog"
	fi
	if [ ${#rigs[@]} -gt 0 ]; then
		echo "--- the tests with rigs of their own (normal build) ---"
		subtotal "rigs" <"$rlog"
		count "$rlog"
	fi
fi
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

#!/usr/bin/env bash
# Run every test: cmocka unit tests (build/tests/test_*), then the shell
# integration tests (tests/integration/*.sh). Prints one closing line
# "N passed, N failed, N skipped" and exits non-zero if anything failed.
#
# Integration tests report with exit status: 0 pass, 77 skip (the reason on
# stdout), anything else fail.
set -u
build=${1:-build}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
pass=0 fail=0 skip=0
failed=()

for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$("$t" 2>&1)
	rc=$?
	# a binary may run several cmocka groups: add them all up
	p=$(grep -E '^\[  PASSED  \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	f=$(grep -E '^\[  FAILED  \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	k=$(grep -E '^\[  SKIPPED \] [0-9]+ test' <<<"$out" | awk '{n += $4} END {if (NR) print n}')
	pass=$((pass + ${p:-0})); fail=$((fail + ${f:-0})); skip=$((skip + ${k:-0}))
	if [ $rc -ne 0 ] || [ -n "${f:-}" ]; then
		[ -z "${f:-}" ] && fail=$((fail + 1))
		failed+=("$(basename "$t")")
		printf '%s\n' "$out" | grep -E 'FAILED|ERROR|error|Assert' | head -20
	fi
	printf '%-40s %s passed%s%s\n' "$(basename "$t")" "${p:-0}" \
		"$([ -n "${k:-}" ] && echo ", $k skipped")" \
		"$([ -n "${f:-}" ] && echo ", $f FAILED")"
done

for t in tests/integration/*.sh; do
	[ -f "$t" ] || continue
	[ "$(basename "$t")" = lib.sh ] && continue
	name=$(basename "$t" .sh)
	out=$(BUILD="$build" timeout 300 bash "$t" 2>&1)
	rc=$?
	case $rc in
	0)  pass=$((pass + 1)); printf '%-40s pass\n' "$name" ;;
	77) skip=$((skip + 1)); printf '%-40s SKIP: %s\n' "$name" "$(tail -1 <<<"$out")" ;;
	*)  fail=$((fail + 1)); failed+=("$name")
	    printf '%-40s FAIL (status %d)\n' "$name" "$rc"
	    printf '%s\n' "$out" | tail -30 | sed 's/^/    /' ;;
	esac
done

[ ${#failed[@]} -gt 0 ] && echo "failed: ${failed[*]}"
echo "$pass passed, $fail failed, $skip skipped"
[ "$fail" -eq 0 ]

# The hostile guest (examples/hostile.qvmconf): the test guest's `hostile`
# workload attacks every device of the machine, checks each one still
# works, then runs blk-verify and rng. Every attack named in
# guest/hostile.h must report ok, cvisor must exit 0, and its stderr must
# hold no sanitizer report (what a SAN=1 build would print for an
# out-of-bounds access or undefined behaviour the attacks provoke).
# Then the reset requests (i8042 0xFE, ACPI reset register, 0xCF9), after
# the attacks on those devices, must end the run with `reboot exit`'s 34.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

top=$(cd "$(dirname "$0")/../.." && pwd)
ex=$top/examples/hostile.qvmconf
guest=$(cd "$(dirname "$GUEST")" && pwd)/$(basename "$GUEST")

# The example with this build's guest and a disk of our own.
truncate -s 128M "$TMP/hostile.img"   # sparse
sed -e "s#\.\./build/guest/testguest\.elf#$guest#g" \
    -e "s#\.\./build/hostile\.img#$TMP/hostile.img#g" "$ex" >"$TMP/hostile.qvmconf"
grep -q "$TMP/hostile.img" "$TMP/hostile.qvmconf" || fail "examples/hostile.qvmconf names no ../build/hostile.img"

# run_conf FILE [EXTRA...]: like run_guest, on a configuration file.
run_conf() {
	timeout 300 "$CVISOR" "$@" </dev/null >"$TMP/out" 2>"$TMP/err"
	STATUS=$?
	[ "$STATUS" -eq 124 ] && fail "cvisor did not finish in 300 s: $(tail -5 "$TMP/out")"
	return 0
}

no_sanitizer_report() {
	! grep -qE 'ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer' "$TMP/err" ||
		fail "sanitizer report on stderr: $(grep -m5 -E 'Sanitizer|runtime error' "$TMP/err")"
}

# Every attack in the guest's table, '_' as '-'.
attacks=$(sed -n '/define HOSTILE_ATTACKS/,/^$/p' "$top/guest/hostile.h" |
	grep -oE 'X\([a-z0-9_]+\)' | sed -E 's/X\((.*)\)/\1/; s/_/-/g')
n=$(wc -w <<<"$attacks")
[ "$n" -ge 40 ] || fail "only $n attacks in guest/hostile.h"

check_full_run() {
	expect_status 0
	no_sanitizer_report
	! grep -q '^RESULT hostile-.* FAIL' "$TMP/out" || fail "$(grep '^RESULT hostile-.* FAIL' "$TMP/out")"
	for a in $attacks; do
		grep -qE "^RESULT hostile-$a (ok|skipped known-bad)$" "$TMP/out" ||
			fail "no result for attack $a: $(tail -5 "$TMP/out")"
	done
	expect_out '^RESULT hostile-sweep ok$'
	expect_out '^RESULT blk-verify sectors=128 capacity=262144 flush=1 ok=1$'
	expect_out '^RESULT rng bytes=4096 ok=1$'
	expect_out "^RESULT hostile attacks=[0-9]+ failed=0 well_behaved=ok$"
}

run_conf "@$TMP/hostile.qvmconf"
check_full_run
# The host's view of what blk-verify wrote after the attacks (when there
# is a python3 to run the checker).
if command -v python3 >/dev/null; then
	python3 "$(dirname "$0")/blk_check.py" "$TMP/hostile.img" >"$TMP/check" 2>&1 ||
		fail "the disk after the attacks and blk-verify: $(cat "$TMP/check")"
else
	echo "part 'host-side disk check' skipped: needs python3 (blk_check.py)"
fi

# Reset requests: after the attacks on their device, each must reset the
# machine, which `reboot exit` turns into status 34.
for how in kbd:kbd-garbage,kbd-missing-data acpi:acpi-pm cf9:pci-command; do
	sed "s#^cmdline .*#cmdline \"hostile only=${how#*:} reset=${how%%:*} hmmio=0xfe100000\"#" \
		"$TMP/hostile.qvmconf" >"$TMP/reset.qvmconf"
	run_conf "@$TMP/reset.qvmconf"
	expect_status 34
	no_sanitizer_report
	expect_out "^RESULT hostile attacks=[12] failed=0 well_behaved=ok$"
	expect_out "^hostile: asking for a reset through ${how%%:*}$"
	! grep -q 'survived' "$TMP/out" || fail "reset via ${how%%:*} ignored"
done

# The example itself, as its comment says, in the default build (the
# attacks above ran on this build, from the same file).
[ "$(cd "$(dirname "$CVISOR")" && pwd)" = "$top/build" ] ||
	{ echo "part 'examples/hostile.qvmconf as it is' skipped: it runs build/'s files, and this is $BUILD"; exit 0; }
truncate -s '>128M' "$top/build/hostile.img"   # creates it, or grows an old one
run_conf "@$ex"
check_full_run

# The power button in the ACPI tables (docs/control.md): the DSDT has
# \_SB.PWRB (PNP0C0C) and \_SB.GED0 (ACPI0013) with a level, active-high
# interrupt on the first free pin among 23..20, the event register at port
# 0x603 and an _EVT that notifies the button; `iasl -d` disassembles it
# cleanly, the disassembly recompiles, acpiexec runs _EVT. A config that
# uses pins 20-23 gets no GED (and powerdown says `unsupported`).
. "$(dirname "$0")/lib.sh"
command -v iasl >/dev/null || skip "needs iasl (apt-get install acpica-tools)"
command -v acpiexec >/dev/null || skip "needs acpiexec (apt-get install acpica-tools)"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
cv=$(realpath "$CVISOR")
base="ram 0,0xa0000 ram 1m,63m load /dev/null vdev ser8250"

dump() {   # dump DIR TOKENS...: the tables of that machine, DSDT disassembled
	local d=$1; shift
	# shellcheck disable=SC2086
	"$cv" --dump-acpi "$TMP/$d" $base "$@" >"$TMP/$d.log" 2>&1 ||
		fail "--dump-acpi: $(cat "$TMP/$d.log")"
	(cd "$TMP/$d" && iasl -d DSDT.dat >iasl.log 2>&1) || fail "iasl -d: $(cat "$TMP/$d/iasl.log")"
	grep -qiE "error|warning" "$TMP/$d/iasl.log" && fail "iasl -d: $(cat "$TMP/$d/iasl.log")"
	return 0
}

dump plain
dsl=$TMP/plain/DSDT.dsl
for m in 'Device \(PWRB\)' 'EisaId \("PNP0C0C"\)' 'Device \(GED0\)' '"ACPI0013"' \
	 'Interrupt \(ResourceConsumer, Level, ActiveHigh, Exclusive' '0x00000017,' \
	 'OperationRegion \(GEDR, SystemIO, 0x0603, One\)' 'GEVT, +8' \
	 'Method \(_EVT, 1, Serialized\)' 'If \(\(GEVT & One\)\)' \
	 'Notify \(\\_SB.PWRB, 0x80\)'; do
	grep -qE "$m" "$dsl" || fail "DSDT lacks /$m/: $(sed -n '/PWRB/,$p' "$dsl" | head -40)"
done
# the disassembly compiles back without a warning, and _EVT runs
(cd "$TMP/plain" && iasl -p recompiled DSDT.dsl >recompile.log 2>&1) ||
	fail "iasl DSDT.dsl: $(cat "$TMP/plain/recompile.log")"
grep -qE "[1-9][0-9]* (Errors|Warnings)" "$TMP/plain/recompile.log" &&
	fail "recompile: $(grep -E 'Error|Warning' "$TMP/plain/recompile.log")"
(cd "$TMP/plain" && timeout 120 acpiexec -b 'evaluate \_SB.GED0._EVT 23' DSDT.dat FACP.dat APIC.dat >exec.log 2>&1) ||
	fail "acpiexec: $(tail -20 "$TMP/plain/exec.log")"
grep -qE "AE_[A-Z_]+ *\(|Exception|Fault" "$TMP/plain/exec.log" &&
	fail "acpiexec: $(grep -E 'AE_|Exception|Fault' "$TMP/plain/exec.log" | head -5)"
grep -q "Evaluating \\\\_SB.GED0._EVT" "$TMP/plain/exec.log" || fail "acpiexec did not run _EVT"
echo "GED0 on GSI 23 with _EVT notifying PWRB: ok"

# pin 23 taken by a device: the GED moves to 22
dump taken vdev virtio-entropy loc 0xd0000000 intr ioapic:23
grep -q "0x00000016," "$TMP/taken/DSDT.dsl" || fail "GED not on 22 when 23 is used: $(grep -A3 'Interrupt (' "$TMP/taken/DSDT.dsl")"
# 20-23 all reserved: no GED, no button
dump full reserve intr 20 reserve intr 21 reserve intr 22 reserve intr 23
grep -qE "GED0|PWRB" "$TMP/full/DSDT.dsl" && fail "a GED without a free pin"
echo "pin 23 taken: GED on 22; 20-23 taken: no GED"

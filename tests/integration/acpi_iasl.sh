#!/usr/bin/env bash
# The ACPI tables cvisor builds for a representative machine (4 vCPUs, two
# 16550s, i8042, PL011, RTC, virtio-mmio: see tests/unit/test_acpi_dump.c)
# disassemble cleanly with `iasl -d` (acpica-tools): exit 0, no errors or
# warnings, and the DSDT names every device.
. "$(dirname "$0")/lib.sh"

command -v iasl >/dev/null || skip "needs iasl (apt-get install acpica-tools)"
dumper=$BUILD/tests/test_acpi_dump
[ -x "$dumper" ] || fail "$dumper not built (make unit)"

ACPI_DUMP_DIR=$TMP "$dumper" >"$TMP/dump.log" 2>&1 ||
	fail "test_acpi_dump failed: $(tail -5 "$TMP/dump.log")"
cd "$TMP" || fail "cd $TMP"

# Sum of the first $2 bytes of file $1, modulo 256.
sum_bytes() {
	od -An -v -tu1 -N "$2" "$1" | tr -s ' ' '\n' |
		awk 'NF { s += $1 } END { print s % 256 }'
}

# iasl of 2020 refuses a lone RSDP ("does not contain a valid ACPI table");
# newer ones disassemble it. Either way, check it here too.
check_rsdp() {
	[ "$(head -c 8 RSDP.dat)" = "RSD PTR " ] || fail "RSDP signature"
	[ "$(stat -c %s RSDP.dat)" -eq 36 ] || fail "RSDP is not 36 bytes"
	[ "$(sum_bytes RSDP.dat 20)" -eq 0 ] || fail "RSDP checksum"
	[ "$(sum_bytes RSDP.dat 36)" -eq 0 ] || fail "RSDP extended checksum"
}

check_rsdp
for f in *.dat; do
	sig=${f%.dat}
	iasl -d "$f" >"$sig.log" 2>&1
	rc=$?
	if [ "$sig" = RSDP ] && grep -q "does not contain a valid ACPI table" "$sig.log"; then
		echo "RSDP: this iasl cannot disassemble a lone RSDP; checked above"
		continue
	fi
	[ $rc -eq 0 ] || fail "iasl -d $f: status $rc: $(cat "$sig.log")"
	grep -qiE "error|warning" "$sig.log" && fail "iasl -d $f: $(cat "$sig.log")"
	[ -s "$sig.dsl" ] || fail "iasl -d $f wrote no $sig.dsl"
	grep -qiE "error|warning|incorrect" "$sig.dsl" && fail "$sig.dsl: $(grep -iE 'error|warning|incorrect' "$sig.dsl")"
	echo "$sig: ok"
done

for want in 'Device (C003)' 'Device (COM0)' 'Device (COM1)' 'EisaId ("PNP0501")' \
	    'Device (PS2K)' 'EisaId ("PNP0303")' 'Device (URT0)' '"ARMH0011"' \
	    'Device (RTC)' 'EisaId ("PNP0B00")' 'Device (VR00)' '"LNRO0005"' \
	    'Name (\_S5, Package (0x04)'; do
	grep -qF "$want" DSDT.dsl || fail "DSDT.dsl lacks $want"
done
grep -q "Hardware Reduced (V5) : 1" FACP.dsl || fail "FADT is not hardware-reduced"
[ "$(grep -c 'Processor Local APIC' APIC.dsl)" -eq 4 ] || fail "MADT: not 4 local APICs"
grep -q "Interrupt Source Override" APIC.dsl || fail "MADT: no IRQ0 override"
# ACPICA's own interpreter (acpiexec, same package) loads the tables as a
# kernel would, and enters S5 through the hardware-reduced sleep registers.
if command -v acpiexec >/dev/null; then
	timeout 60 acpiexec -b "Sleep 5; Resources \_SB.VR00; Resources \_SB.COM0" \
		DSDT.dat FACP.dat APIC.dat >acpiexec.log 2>&1 ||
		fail "acpiexec: $(tail -20 acpiexec.log)"
	grep -qE "Error|Warning|AE_[A-Z_]+ *\(|Exception|Fault" acpiexec.log &&
		fail "acpiexec: $(grep -E 'Error|Warning|Exception|Fault' acpiexec.log | head -5)"
	grep -q "Sleep-A: 05" acpiexec.log || fail "acpiexec: no S5 sleep type"
	grep -q "HwExtendedSleep" acpiexec.log || fail "acpiexec: S5 did not use the sleep registers"
	grep -q "Dword00 : 0000000A" acpiexec.log || fail "acpiexec: VR00 interrupt"
	echo "acpiexec: tables load, S5 via sleep control register"
fi
echo "iasl $(iasl -v 2>/dev/null | grep -o 'version [0-9]*'): all tables clean"

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
	grep -qiE "error|warning" "$sig.dsl" && fail "$sig.dsl: $(grep -iE 'error|warning' "$sig.dsl")"
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
echo "iasl $(iasl -v 2>/dev/null | grep -o 'version [0-9]*'): all tables clean"

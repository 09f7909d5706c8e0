#!/usr/bin/env bash
# The ACPI tables cvisor builds for a representative machine (4 vCPUs, two
# 16550s, i8042, PL011, RTC, virtio-mmio: see tests/unit/test_acpi_dump.c)
# disassemble cleanly with `iasl -d` (acpica-tools): exit 0, no errors or
# warnings, and the DSDT names every device. Then the same for a machine
# with PCI (`cvisor --dump-acpi` with virtio-blk on PCI): MCFG, \_SB.PCI0
# with its windows and _PRT, the ECAM's PNP0C02 device; the disassembled
# DSDT recompiles without warnings, and acpiexec loads and evaluates it.
. "$(dirname "$0")/lib.sh"

command -v iasl >/dev/null || skip "needs iasl (apt-get install acpica-tools)"
dumper=$BUILD/tests/test_acpi_dump
[ -x "$dumper" ] || fail "$dumper not built (make unit)"
[ -x "$CVISOR" ] || fail "$CVISOR not built"
cvisor_abs=$(realpath "$CVISOR")     # the tests below run in $TMP

ACPI_DUMP_DIR=$TMP "$dumper" >"$TMP/dump.log" 2>&1 ||
	fail "test_acpi_dump failed: $(tail -5 "$TMP/dump.log")"
cd "$TMP" || fail "cd $TMP"

# Sum of the first $2 bytes of file $1, modulo 256.
sum_bytes() {
	od -An -v -tu1 -N "$2" "$1" | tr -s ' ' '\n' |
		awk 'NF { s += $1 } END { print s % 256 }'
}

# iasl -d every table in the current directory: clean output or fail.
disassemble_all() {
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
}

# acpiexec -b COMMANDS TABLES...: output in acpiexec.log, clean or fail.
run_acpiexec() {
	local cmds=$1; shift
	timeout 240 acpiexec -b "$cmds" "$@" >acpiexec.log 2>&1 ||
		fail "acpiexec: $(tail -20 acpiexec.log)"
	# acpiexec's own self tests (aetests) assume its built-in FADT's
	# GPE numbers and a PM2 block: with a real fixed-hardware FADT they
	# report "Unexpected AE_BAD_... from Acpi...(aetests-N)"; not ours.
	grep -v "(aetests-[0-9]*)$" acpiexec.log >acpiexec.ours
	grep -qE "Error|Warning|AE_[A-Z_]+ *\(|Exception|Fault" acpiexec.ours &&
		fail "acpiexec: $(grep -E 'Error|Warning|Exception|Fault' acpiexec.ours | head -5)"
	return 0
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
disassemble_all

for want in 'Device (C003)' 'Device (COM0)' 'Device (COM1)' 'EisaId ("PNP0501")' \
	    'Device (PS2K)' 'EisaId ("PNP0303")' 'Device (URT0)' '"ARMH0011"' \
	    'Device (RTC)' 'EisaId ("PNP0B00")' 'Device (VR00)' '"LNRO0005"' \
	    'Name (\_S3, Package (0x04)' 'Name (\_S5, Package (0x04)'; do
	grep -qF "$want" DSDT.dsl || fail "DSDT.dsl lacks $want"
done
# A full PC platform (acpi_fadt.c): fixed hardware, PM timer, FACS
grep -q "Hardware Reduced (V5) : 0" FACP.dsl || fail "FADT is hardware-reduced"
grep -q "PM Timer Block Address : 0000060C" FACP.dsl || fail "FADT: PM timer block"
grep -q "PM Timer Block Length : 04" FACP.dsl || fail "FADT: PM timer length"
grep -q "32-bit PM Timer (V1) : 1" FACP.dsl || fail "FADT: 32-bit PM timer"
# test_acpi_dump's config has a pl011 on IRQ 9: the SCI takes the next free one
grep -q "SCI Interrupt : 000B" FACP.dsl || fail "FADT: SCI not on IRQ 11"
grep -q "Signature : \"FACS\"" FACS.dsl || fail "no FACS"
[ "$(grep -c 'Processor Local APIC' APIC.dsl)" -eq 4 ] || fail "MADT: not 4 local APICs"
grep -q "Interrupt Source Override" APIC.dsl || fail "MADT: no IRQ0 override"
# ACPICA's own interpreter (acpiexec, same package) loads the tables as a
# kernel would, and enters S5 through PM1a_CNT (the FADT's fixed hardware).
if command -v acpiexec >/dev/null; then
	run_acpiexec "Sleep 5; Resources \_SB.VR00; Resources \_SB.COM0" \
		DSDT.dat FACP.dat APIC.dat
	grep -q "Sleep-A: 05" acpiexec.log || fail "acpiexec: no S5 sleep type"
	grep -q "HwLegacySleep" acpiexec.log || fail "acpiexec: S5 did not use PM1a_CNT"
	grep -q "on interrupt 0xB (SCI)" acpiexec.log || fail "acpiexec: GPE0 not on the SCI"
	grep -q "Dword00 : 0000000A" acpiexec.log || fail "acpiexec: VR00 interrupt"
	echo "acpiexec: tables load, S5 via PM1a_CNT"
fi
[ -f MCFG.dat ] && fail "MCFG without PCI"
grep -q "PNP0A08" DSDT.dsl && fail "PCI0 without PCI"

# ---- a machine with PCI: virtio-blk on a scratch file, on PCI by default.
mkdir "$TMP/pci" && cd "$TMP/pci" || fail "mkdir $TMP/pci"
echo x >image && truncate -s 1M disk.img || fail "scratch files"
"$cvisor_abs" --dump-acpi . ram 0,0xa0000 ram 1m,63m load image \
	vdev ser8250 vdev virtio-blk hostdev disk.img >dump.log 2>&1 ||
	fail "cvisor --dump-acpi with PCI: $(cat dump.log)"
check_rsdp
[ -f MCFG.dat ] || fail "no MCFG with PCI"
disassemble_all
grep -q "Base Address : 00000000B0000000" MCFG.dsl || fail "MCFG base"
grep -q "End Bus Number : 00" MCFG.dsl || fail "MCFG bus range"
# FACP, APIC, MCFG (unit tests check that the third is the MCFG)
[ "$(grep -c 'ACPI Table Address' XSDT.dsl)" -eq 3 ] || fail "XSDT lacks the MCFG"
for want in 'Device (PCI0)' 'EisaId ("PNP0A08")' 'EisaId ("PNP0A03")' \
	    'Name (_SEG, Zero)' 'Name (_BBN, Zero)' 'WordBusNumber (ResourceProducer' \
	    '0x0CF7,             // Range Maximum' '0x0D00,             // Range Minimum' \
	    '0xC0000000,         // Range Minimum' '0xFBFFFFFF,         // Range Maximum' \
	    'Name (_PRT, Package (0x7C)' 'Device (ECAM)' 'EisaId ("PNP0C02")' \
	    '0xB0000000,         // Address Base'; do
	grep -qF "$want" DSDT.dsl || fail "PCI DSDT.dsl lacks $want"
done
# The disassembly compiles back without a warning (e.g. _HID with _ADR).
iasl -p recompiled DSDT.dsl >recompile.log 2>&1 || fail "iasl DSDT.dsl: $(cat recompile.log)"
grep -q "0 Errors, 0 Warnings" recompile.log || fail "iasl DSDT.dsl: $(grep -iE 'error|warning' recompile.log)"
if command -v acpiexec >/dev/null; then
	run_acpiexec "Resources \_SB.PCI0; Resources \_SB.ECAM; Evaluate \_SB.PCI0._PRT" \
		DSDT.dat FACP.dat APIC.dat MCFG.dat
	[ "$(grep -c '\[Package\] Contains 4 Elements' acpiexec.log)" -eq 124 ] ||
		fail "acpiexec: _PRT does not have 124 entries"
	grep -q "Resource Type : Bus Number Range" acpiexec.log || fail "acpiexec: PCI0 bus range"
	grep -qE "^ +Address : B0000000" acpiexec.log || fail "acpiexec: ECAM resource"
	echo "acpiexec: PCI0 and ECAM resources, 124 _PRT entries"
fi
echo "iasl $(iasl -v 2>/dev/null | grep -o 'version [0-9]*'): all tables clean, with and without PCI"

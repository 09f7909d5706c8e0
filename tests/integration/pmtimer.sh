# The ACPI PM timer of the full FADT: the test guest's pmtimer workload
# finds it through RSDP -> XSDT -> FACP (X_PM_TMR_BLK, TMR_VAL_EXT) and
# measures its rate against the TSC: 3.579545 MHz within 1 %, 32 bits, at
# the port firmware.h gives it. (guest/check-qemu.sh runs the same
# workload under QEMU -M pc, whose timer is PIIX4's, 24 bits at 0x608.)
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

run_guest "pmtimer"
expect_status 0
expect_out '^RESULT pmtimer port=0x60c bits=32 hz=[0-9]+ ppm=[0-9]+ .* ok=1$'
# a tolerance no timer meets fails: the check can fail
run_guest "pmtimer ms=50 tol_ppm=0 tsc_khz=1000"
expect_status 1
expect_out '^RESULT pmtimer .* ok=0$'
exit 0

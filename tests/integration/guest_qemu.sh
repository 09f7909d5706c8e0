# The test guest is a fair guest: the same binary boots under QEMU microvm
# (PVH) and pc (multiboot). Runs with TCG where there is no KVM.
. "$(dirname "$0")/lib.sh"
[ -f "$GUEST" ] || fail "$GUEST not built"
# Nothing of cvisor runs here: the sanitizer pass of make check has
# nothing to add to what the normal pass checked.
[ -z "${CVISOR_SAN_PASS:-}" ] || skip "SKIP: runs the guest under QEMU only (no cvisor code): checked in the normal pass"
BUILD=$BUILD exec bash guest/check-qemu.sh

# The test guest is a fair guest: the same binary boots under QEMU microvm
# (PVH) and pc (multiboot). Runs with TCG where there is no KVM.
. "$(dirname "$0")/lib.sh"
[ -f "$GUEST" ] || fail "$GUEST not built"
BUILD=$BUILD exec bash guest/check-qemu.sh

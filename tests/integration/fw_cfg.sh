# fw_cfg: the test guest's fw-cfg workload reads the signature, the CPU
# count, the RAM size (against its boot memory map) and a file the test
# passes with `vdev fw-cfg file opt/...`, by DMA and by the data port; its
# CRC-32 must be the host's. Without the vdev an x86 VM still has the
# device (QEMU's pc does); `reserve loc io:0x510,12` takes it away.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

# crc32 FILE: zlib's CRC-32, from gzip's trailer (little-endian).
crc32() {
	gzip -c "$1" | tail -c8 | od -An -tx4 -N4 | tr -d ' \n'
}

head -c 5000 /dev/urandom >"$TMP/blob"
crc=$(crc32 "$TMP/blob")
run_guest "fw-cfg" vdev fw-cfg file "opt/cvisor/test,$TMP/blob"
expect_status 0
expect_out "^RESULT fw-cfg sig=QEMU id=0x3 cpus=1 max_cpus=1 ram=67108864 top=67108864 files=[0-9]+ size=5000 crc32=$crc ok=1$"

# A string item (no NUL) and two vCPUs.
printf hello >"$TMP/hello"
run_guest "fw-cfg file=opt/s cpus=2" cpu cpu vdev fw-cfg string opt/s,hello
expect_status 0
expect_out "^RESULT fw-cfg .* cpus=2 max_cpus=2 .* size=5 crc32=$(crc32 "$TMP/hello") ok=1$"

# No vdev: the implicit device, with the machine's own files.
run_guest "fw-cfg file=etc/e820"
expect_status 0
expect_out '^RESULT fw-cfg sig=QEMU .* size=(40|60|80) crc32=[0-9a-f]{8} ok=1$'
run_guest "fw-cfg file=etc/table-loader"
expect_status 0
expect_out '^RESULT fw-cfg .* ok=1$'

# Reserved ports: no device, the probe reads all-ones and fails.
run_guest "fw-cfg" reserve loc io:0x510,12
expect_status 1
expect_out '^fw-cfg: signature: got 0xffffffff, want 0x554d4551$'
exit 0

# The LSI 53C895A's DSA through coalesced MMIO (vm/coalesced_mmio.c): the
# test guest's driver writes DSA, then DSP, for every command; the DSA
# write must not exit but still reach the chip before the DSP write
# starts the SCRIPTS (every command would fail otherwise). --stats counts
# the writes that did not exit: at least one per command.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

truncate -s 8M "$TMP/disk.img"
# shellcheck disable=SC2046
timeout 60 "$CVISOR" --stats $(base_args) \
	cmdline "scsi-bench mode=randwrite bs=4096 ios=300" \
	vdev lsi53c895a hostdev "$TMP/disk.img" </dev/null >"$TMP/out" 2>&1
STATUS=$?
expect_status 0
expect_out '^scsi-bench: ios=300 errors=0 '
line=$(grep -E '^vcpu 0: [0-9]+ exits' "$TMP/out") ||
	fail "no vcpu line in --stats: $(tail -5 "$TMP/out")"
n=$(sed -nE 's/.*, ([0-9]+) writes coalesced$/\1/p' <<<"$line")
[ -n "$n" ] || fail "no coalesced writes: $line"
[ "$n" -ge 300 ] || fail "$n writes coalesced for 300 commands: $line"
# Counted as the device's writes all the same (DSA and DSP per command).
w=$(sed -nE 's/^device lsi53c895a mmio [^:]*: [0-9]+ reads, ([0-9]+) writes$/\1/p' "$TMP/out")
[ "${w:-0}" -ge 600 ] || fail "lsi53c895a mmio writes ${w:-none} < 600"

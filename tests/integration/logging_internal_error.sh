# A KVM internal error names the instruction bytes, the guest's RIP and
# mode in words, and a hint, not just "suberror 1". Against the fake KVM
# (its internal error comes at the test guest's PVH entry point).
. "$(dirname "$0")/lib.sh"
need_fake
run_fake "internal" ram 64m load "$GUEST"
expect_status 7
grep -q "KVM internal error, suberror 1" "$TMP/err" || fail "no internal error: $(cat "$TMP/err")"
grep -Eq "KVM internal error at rip 0x[0-9a-f]+ .* in 32-bit protected mode, ring 0; instruction bytes: ([0-9a-f]{2} ){14}[0-9a-f]{2}$" "$TMP/err" ||
	fail "no RIP, mode and instruction bytes: $(cat "$TMP/err")"
grep -q "hint: " "$TMP/err" || fail "no hint: $(cat "$TMP/err")"
echo "RIP, mode, 15 instruction bytes and a hint"

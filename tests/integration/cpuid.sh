# The `cpuid` statement (cvisor extension): the test guest's cpuid workload
# sees x2APIC (leaf 1 ECX bit 21) and CX16 (bit 13) as KVM offers them,
# then gone with `cpuid -x2apic,-cx16`, with XSAVE (bit 26) left as it was;
# a raw LEAF:SUB.REG.BIT edit and vendor= change what it sees too.
. "$(dirname "$0")/lib.sh"
need_kvm; need_guest

field() {  # field NAME: the value of NAME= in the RESULT line
	sed -n "s/^RESULT cpuid .*\b$1=\([^ ]*\).*/\1/p" "$TMP/out"
}
bit() { echo $(( ($1 >> $2) & 1 )); }

run_guest "cpuid leaf=1"
expect_status 0
ecx=$(field ecx)
[ -n "$ecx" ] || fail "no RESULT line: $(cat "$TMP/out")"
[ "$(bit "$ecx" 21)" = 1 ] || fail "x2APIC not offered without cpuid (ecx=$ecx)"
xsave=$(bit "$ecx" 26)
vendor=$(field vendor)

run_guest "cpuid leaf=1" cpuid -x2apic,-cx16
expect_status 0
ecx2=$(field ecx)
[ "$(bit "$ecx2" 21)" = 0 ] || fail "x2APIC still set with -x2apic (ecx=$ecx2)"
[ "$(bit "$ecx2" 13)" = 0 ] || fail "CX16 still set with -cx16 (ecx=$ecx2)"
[ "$(bit "$ecx2" 26)" = "$xsave" ] || fail "XSAVE changed (ecx $ecx -> $ecx2)"
echo "leaf 1 ecx: $ecx without, $ecx2 with cpuid -x2apic,-cx16"

# the raw form and the vendor string; a bit that KVM does not offer set
# in leaf 0x80000007 EDX (invariant TSC) with + is seen set
run_guest "cpuid leaf=0x80000007" cpuid +0x80000007.edx.8 cpuid vendor=CvisorTestVM
expect_status 0
[ "$(bit "$(field edx)" 8)" = 1 ] || fail "leaf 0x80000007 edx bit 8 not set: $(cat "$TMP/out")"
[ "$(field vendor)" = CvisorTestVM ] || fail "vendor is '$(field vendor)', not CvisorTestVM (was $vendor)"
exit 0

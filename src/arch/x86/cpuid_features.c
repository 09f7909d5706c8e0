/* The named CPUID bits (Intel SDM vol. 2A, CPUID; AMD APM vol. 3, E.3;
 * KVM's Documentation/virt/kvm/x86/cpuid.rst for the 0x40000001 leaf). */
#include <ctype.h>
#include <string.h>

#include "arch/x86/cpuid_features.h"
#include "core/util.h"

#define F(n, l, s, r, b) { n, l, s, CPUID_##r, b }

static const struct cpuid_feature features[] = {
	/* leaf 1, ECX */
	F("sse3", 1, 0, ECX, 0), F("pclmulqdq", 1, 0, ECX, 1),
	F("dtes64", 1, 0, ECX, 2), F("monitor", 1, 0, ECX, 3),
	F("ds-cpl", 1, 0, ECX, 4), F("vmx", 1, 0, ECX, 5),
	F("smx", 1, 0, ECX, 6), F("est", 1, 0, ECX, 7),
	F("tm2", 1, 0, ECX, 8), F("ssse3", 1, 0, ECX, 9),
	F("cid", 1, 0, ECX, 10), F("fma", 1, 0, ECX, 12),
	F("cx16", 1, 0, ECX, 13), F("xtpr", 1, 0, ECX, 14),
	F("pdcm", 1, 0, ECX, 15), F("pcid", 1, 0, ECX, 17),
	F("dca", 1, 0, ECX, 18), F("sse4-1", 1, 0, ECX, 19),
	F("sse4-2", 1, 0, ECX, 20), F("x2apic", 1, 0, ECX, 21),
	F("movbe", 1, 0, ECX, 22), F("popcnt", 1, 0, ECX, 23),
	F("tsc-deadline", 1, 0, ECX, 24), F("aes", 1, 0, ECX, 25),
	F("xsave", 1, 0, ECX, 26), F("osxsave", 1, 0, ECX, 27),
	F("avx", 1, 0, ECX, 28), F("f16c", 1, 0, ECX, 29),
	F("rdrand", 1, 0, ECX, 30), F("hypervisor", 1, 0, ECX, 31),
	/* leaf 1, EDX */
	F("fpu", 1, 0, EDX, 0), F("vme", 1, 0, EDX, 1), F("de", 1, 0, EDX, 2),
	F("pse", 1, 0, EDX, 3), F("tsc", 1, 0, EDX, 4), F("msr", 1, 0, EDX, 5),
	F("pae", 1, 0, EDX, 6), F("mce", 1, 0, EDX, 7), F("cx8", 1, 0, EDX, 8),
	F("apic", 1, 0, EDX, 9), F("sep", 1, 0, EDX, 11),
	F("mtrr", 1, 0, EDX, 12), F("pge", 1, 0, EDX, 13),
	F("mca", 1, 0, EDX, 14), F("cmov", 1, 0, EDX, 15),
	F("pat", 1, 0, EDX, 16), F("pse36", 1, 0, EDX, 17),
	F("clflush", 1, 0, EDX, 19), F("ds", 1, 0, EDX, 21),
	F("acpi", 1, 0, EDX, 22), F("mmx", 1, 0, EDX, 23),
	F("fxsr", 1, 0, EDX, 24), F("sse", 1, 0, EDX, 25),
	F("sse2", 1, 0, EDX, 26), F("ss", 1, 0, EDX, 27),
	F("ht", 1, 0, EDX, 28), F("tm", 1, 0, EDX, 29),
	F("pbe", 1, 0, EDX, 31),
	/* leaf 6, EAX */
	F("arat", 6, 0, EAX, 2),
	/* leaf 7.0, EBX */
	F("fsgsbase", 7, 0, EBX, 0), F("tsc-adjust", 7, 0, EBX, 1),
	F("sgx", 7, 0, EBX, 2), F("bmi1", 7, 0, EBX, 3),
	F("hle", 7, 0, EBX, 4), F("avx2", 7, 0, EBX, 5),
	F("smep", 7, 0, EBX, 7), F("bmi2", 7, 0, EBX, 8),
	F("erms", 7, 0, EBX, 9), F("invpcid", 7, 0, EBX, 10),
	F("rtm", 7, 0, EBX, 11), F("mpx", 7, 0, EBX, 14),
	F("avx512f", 7, 0, EBX, 16), F("avx512dq", 7, 0, EBX, 17),
	F("rdseed", 7, 0, EBX, 18), F("adx", 7, 0, EBX, 19),
	F("smap", 7, 0, EBX, 20), F("avx512ifma", 7, 0, EBX, 21),
	F("clflushopt", 7, 0, EBX, 23), F("clwb", 7, 0, EBX, 24),
	F("intel-pt", 7, 0, EBX, 25), F("avx512pf", 7, 0, EBX, 26),
	F("avx512er", 7, 0, EBX, 27), F("avx512cd", 7, 0, EBX, 28),
	F("sha-ni", 7, 0, EBX, 29), F("avx512bw", 7, 0, EBX, 30),
	F("avx512vl", 7, 0, EBX, 31),
	/* leaf 7.0, ECX */
	F("avx512vbmi", 7, 0, ECX, 1), F("umip", 7, 0, ECX, 2),
	F("pku", 7, 0, ECX, 3), F("ospke", 7, 0, ECX, 4),
	F("waitpkg", 7, 0, ECX, 5), F("avx512vbmi2", 7, 0, ECX, 6),
	F("gfni", 7, 0, ECX, 8), F("vaes", 7, 0, ECX, 9),
	F("vpclmulqdq", 7, 0, ECX, 10), F("avx512vnni", 7, 0, ECX, 11),
	F("avx512bitalg", 7, 0, ECX, 12),
	F("avx512-vpopcntdq", 7, 0, ECX, 14), F("la57", 7, 0, ECX, 16),
	F("rdpid", 7, 0, ECX, 22), F("cldemote", 7, 0, ECX, 25),
	F("movdiri", 7, 0, ECX, 27), F("movdir64b", 7, 0, ECX, 28),
	/* leaf 7.0, EDX */
	F("fsrm", 7, 0, EDX, 4), F("md-clear", 7, 0, EDX, 10),
	F("serialize", 7, 0, EDX, 14), F("tsx-ldtrk", 7, 0, EDX, 16),
	F("arch-lbr", 7, 0, EDX, 19), F("avx512-fp16", 7, 0, EDX, 23),
	F("spec-ctrl", 7, 0, EDX, 26), F("stibp", 7, 0, EDX, 27),
	F("flush-l1d", 7, 0, EDX, 28), F("arch-capabilities", 7, 0, EDX, 29),
	F("core-capability", 7, 0, EDX, 30), F("ssbd", 7, 0, EDX, 31),
	/* leaf 0xd.1, EAX */
	F("xsaveopt", 0xd, 1, EAX, 0), F("xsavec", 0xd, 1, EAX, 1),
	F("xgetbv1", 0xd, 1, EAX, 2), F("xsaves", 0xd, 1, EAX, 3),
	/* KVM's features leaf, EAX */
	F("kvmclock", 0x40000001, 0, EAX, 0),
	F("kvm-nopiodelay", 0x40000001, 0, EAX, 1),
	F("kvm-mmu", 0x40000001, 0, EAX, 2),
	F("kvmclock2", 0x40000001, 0, EAX, 3),
	F("kvm-asyncpf", 0x40000001, 0, EAX, 4),
	F("kvm-steal-time", 0x40000001, 0, EAX, 5),
	F("kvm-pv-eoi", 0x40000001, 0, EAX, 6),
	F("kvm-pv-unhalt", 0x40000001, 0, EAX, 7),
	F("kvm-pv-tlb-flush", 0x40000001, 0, EAX, 9),
	F("kvm-asyncpf-vmexit", 0x40000001, 0, EAX, 10),
	F("kvm-pv-ipi", 0x40000001, 0, EAX, 11),
	F("kvm-poll-control", 0x40000001, 0, EAX, 12),
	F("kvm-pv-sched-yield", 0x40000001, 0, EAX, 13),
	F("kvm-asyncpf-int", 0x40000001, 0, EAX, 14),
	F("kvm-msi-ext-dest-id", 0x40000001, 0, EAX, 15),
	F("kvmclock-stable-bit", 0x40000001, 0, EAX, 24),
	/* leaf 0x80000001, ECX */
	F("lahf-lm", 0x80000001, 0, ECX, 0), F("cmp-legacy", 0x80000001, 0, ECX, 1),
	F("svm", 0x80000001, 0, ECX, 2), F("extapic", 0x80000001, 0, ECX, 3),
	F("cr8legacy", 0x80000001, 0, ECX, 4), F("abm", 0x80000001, 0, ECX, 5),
	F("sse4a", 0x80000001, 0, ECX, 6), F("misalignsse", 0x80000001, 0, ECX, 7),
	F("3dnowprefetch", 0x80000001, 0, ECX, 8), F("osvw", 0x80000001, 0, ECX, 9),
	F("ibs", 0x80000001, 0, ECX, 10), F("xop", 0x80000001, 0, ECX, 11),
	F("skinit", 0x80000001, 0, ECX, 12), F("wdt", 0x80000001, 0, ECX, 13),
	F("lwp", 0x80000001, 0, ECX, 15), F("fma4", 0x80000001, 0, ECX, 16),
	F("tce", 0x80000001, 0, ECX, 17), F("tbm", 0x80000001, 0, ECX, 21),
	F("topoext", 0x80000001, 0, ECX, 22),
	F("perfctr-core", 0x80000001, 0, ECX, 23),
	F("perfctr-nb", 0x80000001, 0, ECX, 24),
	/* leaf 0x80000001, EDX */
	F("syscall", 0x80000001, 0, EDX, 11), F("nx", 0x80000001, 0, EDX, 20),
	F("mmxext", 0x80000001, 0, EDX, 22), F("fxsr-opt", 0x80000001, 0, EDX, 25),
	F("pdpe1gb", 0x80000001, 0, EDX, 26), F("rdtscp", 0x80000001, 0, EDX, 27),
	F("lm", 0x80000001, 0, EDX, 29), F("3dnowext", 0x80000001, 0, EDX, 30),
	F("3dnow", 0x80000001, 0, EDX, 31),
	/* leaf 0x80000007, EDX */
	F("invtsc", 0x80000007, 0, EDX, 8),
};

static bool same_name(const char *table, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && table[i]; i++) {
		char c = (char)tolower((unsigned char)s[i]);

		if (c == '_' || c == '.')
			c = '-';
		if (c != table[i])
			return false;
	}
	return i == len && !table[i];
}

const struct cpuid_feature *x86_cpuid_feature_find(const char *name,
						   size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(features); i++)
		if (same_name(features[i].name, name, len))
			return &features[i];
	return NULL;
}

const struct cpuid_feature *x86_cpuid_features(size_t *nr)
{
	*nr = ARRAY_SIZE(features);
	return features;
}

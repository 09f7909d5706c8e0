/* CPUID adjustments: topology consistent with the vCPU count, hypervisor
 * bit, and the timing leaf, checked on a synthetic "supported" table. */
#include <linux/kvm.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/arch.h"

struct table {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[16];
};

static void fill(struct table *t)
{
	memset(t, 0, sizeof(*t));
	t->e[0] = (struct kvm_cpuid_entry2){ .function = 1, .ebx = 0x00ff0800,
					     .edx = 1u << 28 };
	t->e[1] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	t->e[2] = (struct kvm_cpuid_entry2){ .function = 0xb, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX };
	t->e[3] = (struct kvm_cpuid_entry2){ .function = 0x40000000,
					     .eax = 0x40000001 };
	t->e[4] = (struct kvm_cpuid_entry2){ .function = 4, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX,
		.eax = (1u << 5) | 1 | (0x3fu << 26) };
	t->c.nent = 5;
}

static void test_topology(void **state)
{
	struct table t;

	(void)state;
	fill(&t);
	x86_cpuid_adjust(&t.c, 3, 4, 2000000);
	assert_int_equal(t.e[0].ebx >> 24, 3);             /* APIC id */
	assert_int_equal((t.e[0].ebx >> 16) & 0xff, 4);    /* logical count */
	assert_true(t.e[0].ecx & (1u << 31));              /* hypervisor */
	assert_int_equal(t.e[1].edx, 3);                   /* x2APIC id */
	assert_int_equal(t.e[1].ebx, 1);                   /* 1 thread/core */
	assert_int_equal(t.e[2].ebx, 4);                   /* 4 cores */
	assert_int_equal(t.e[2].eax, 2);                   /* id shift */
	assert_int_equal(t.e[4].eax >> 26, 3);             /* cores - 1 */
}

static void test_single_cpu_clears_htt(void **state)
{
	struct table t;

	(void)state;
	fill(&t);
	x86_cpuid_adjust(&t.c, 0, 1, 0);
	assert_false(t.e[0].edx & (1u << 28));
	assert_int_equal(t.e[0].ebx >> 16, 0);
	assert_int_equal(t.c.nent, 5);   /* no TSC rate: no timing leaf */
}

static void test_timing_leaf(void **state)
{
	struct table t;

	(void)state;
	fill(&t);
	x86_cpuid_adjust(&t.c, 0, 2, 2100000);
	assert_int_equal(t.c.nent, 6);
	assert_int_equal(t.e[5].function, 0x40000010);
	assert_int_equal(t.e[5].eax, 2100000);
	assert_int_equal(t.e[3].eax, 0x40000010);
	/* a second pass must not add it twice */
	x86_cpuid_adjust(&t.c, 0, 2, 2100000);
	assert_int_equal(t.c.nent, 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_topology),
		cmocka_unit_test(test_single_cpu_clears_htt),
		cmocka_unit_test(test_timing_leaf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

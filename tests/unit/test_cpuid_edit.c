/* The `cpuid` statement: parsing (names, the raw form, vendor, errors at
 * file:line:col) and its edits applied to a synthetic CPUID table. */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/arch.h"
#include "arch/x86/cpuid_features.h"
#include "config/config.h"

#define BASE "ram 1m\nload /dev/null\n"

struct table {
	struct kvm_cpuid2 c;
	struct kvm_cpuid_entry2 e[8];
};

static void fill(struct table *t)
{
	memset(t, 0, sizeof(*t));
	t->e[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
	t->e[1] = (struct kvm_cpuid_entry2){ .function = 1,
		.ecx = (1u << 21) | (1u << 26) | (1u << 13) | (1u << 31),
		.edx = 1u << 9 };
	t->e[2] = (struct kvm_cpuid_entry2){ .function = 7, .index = 0,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 1u << 5 };
	t->e[3] = (struct kvm_cpuid_entry2){ .function = 7, .index = 1,
		.flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX, .ebx = 1u << 5 };
	t->c.nent = 4;
}

static void parse_ok(struct vm_config *cfg, const char *text)
{
	struct cfg_error err;

	if (config_from_string(cfg, "t.qvmconf", text, &err)) {
		fprintf(stderr, "%u:%u: %s\n", err.pos.line, err.pos.col,
			err.msg);
		fail();
	}
}

static void parse_bad(const char *text, unsigned line, unsigned col,
		      const char *msg)
{
	struct vm_config cfg;
	struct cfg_error err;

	assert_int_equal(config_from_string(&cfg, "t.qvmconf", text, &err), -1);
	assert_string_equal(err.msg, msg);
	assert_int_equal(err.pos.line, line);
	assert_int_equal(err.pos.col, col);
}

static void test_names(void **state)
{
	struct vm_config cfg;

	(void)state;
	parse_ok(&cfg, BASE "cpuid -x2apic,-XSAVE,-cx16\ncpuid +sse4_1,-sse4.2\n");
	assert_int_equal(cfg.nr_cpuid, 5);
	assert_int_equal(cfg.cpuid[0].leaf, 1);
	assert_int_equal(cfg.cpuid[0].reg, CPUID_ECX);
	assert_int_equal(cfg.cpuid[0].bit, 21);
	assert_false(cfg.cpuid[0].set);
	assert_int_equal(cfg.cpuid[1].bit, 26);
	assert_int_equal(cfg.cpuid[2].bit, 13);
	assert_true(cfg.cpuid[3].set);
	assert_int_equal(cfg.cpuid[3].bit, 19);
	assert_int_equal(cfg.cpuid[4].bit, 20);
	/* the positions of the items inside the token */
	assert_int_equal(cfg.cpuid[1].pos.col, 15);
	assert_int_equal(cfg.cpuid[4].pos.line, 4);
	config_free(&cfg);
}

static void test_raw_and_vendor(void **state)
{
	struct vm_config cfg;

	(void)state;
	parse_ok(&cfg, BASE "cpuid -0x7:0.ebx.5,+0x80000001.EDX.31,"
		 "vendor=AuthenticAMD\n");
	assert_int_equal(cfg.nr_cpuid, 2);
	assert_int_equal(cfg.cpuid[0].leaf, 7);
	assert_int_equal(cfg.cpuid[0].subleaf, 0);
	assert_int_equal(cfg.cpuid[0].reg, CPUID_EBX);
	assert_int_equal(cfg.cpuid[0].bit, 5);
	assert_int_equal(cfg.cpuid[1].leaf, 0x80000001);
	assert_int_equal(cfg.cpuid[1].reg, CPUID_EDX);
	assert_true(cfg.cpuid[1].set);
	assert_string_equal(cfg.cpuid_vendor, "AuthenticAMD");
	config_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	parse_bad(BASE "cpuid -x2apic,-x2apci\n", 3, 15,
		  "cpuid: unknown feature 'x2apci'; did you mean 'x2apic'?");
	parse_bad(BASE "cpuid -nosuchthing\n", 3, 7,
		  "cpuid: unknown feature 'nosuchthing' (cvisor help cpuid "
		  "lists them; LEAF[:SUB].REG.BIT names any bit)");
	parse_bad(BASE "cpuid -1.exx.3\n", 3, 7,
		  "cpuid: '1.exx.3': expected LEAF[:SUBLEAF].REG.BIT, REG "
		  "one of eax, ebx, ecx, edx and BIT 0-31");
	parse_bad(BASE "cpuid -1.ecx.32\n", 3, 7,
		  "cpuid: '1.ecx.32': expected LEAF[:SUBLEAF].REG.BIT, REG "
		  "one of eax, ebx, ecx, edx and BIT 0-31");
	parse_bad(BASE "cpuid vendor=Intel\n", 3, 7,
		  "cpuid: vendor 'Intel' is not 12 characters long "
		  "(GenuineIntel, AuthenticAMD)");
	parse_bad(BASE "cpuid -x2apic,,-xsave\n", 3, 15,
		  "cpuid: empty feature name");
	parse_bad(BASE "cpuid\n", 3, 1, "expected -FEATURE, +FEATURE or "
		  "vendor=STRING after 'cpuid'");
}

static void test_apply(void **state)
{
	struct vm_config cfg;
	struct table t;

	(void)state;
	parse_ok(&cfg, BASE "cpuid -x2apic,-cx16,-0x7:0.ebx.5,"
		 "+0x80000007.edx.8,vendor=GenuineIntel,-0x12.eax.1\n");
	fill(&t);
	assert_int_equal(x86_cpuid_apply_config(&t.c, 8, &cfg), 0);
	assert_false(t.e[1].ecx & (1u << 21));
	assert_false(t.e[1].ecx & (1u << 13));
	assert_true(t.e[1].ecx & (1u << 26));          /* untouched */
	assert_true(t.e[1].ecx & (1u << 31));
	assert_false(t.e[2].ebx & (1u << 5));          /* subleaf 0 only */
	assert_true(t.e[3].ebx & (1u << 5));
	/* a set bit in a leaf that was not there adds it; clearing a bit
	 * of a missing leaf adds nothing */
	assert_int_equal(t.c.nent, 5);
	assert_int_equal(t.e[4].function, 0x80000007);
	assert_int_equal(t.e[4].edx, 1u << 8);
	assert_memory_equal(&t.e[0].ebx, "Genu", 4);
	assert_memory_equal(&t.e[0].edx, "ineI", 4);
	assert_memory_equal(&t.e[0].ecx, "ntel", 4);
	assert_int_equal(t.e[0].eax, 0xd);
	/* no room: the edit that would add a leaf fails */
	fill(&t);
	assert_int_equal(x86_cpuid_apply_config(&t.c, 4, &cfg), -1);
	assert_false(t.e[1].ecx & (1u << 21));
	config_free(&cfg);
}

static void test_table(void **state)
{
	size_t nr;
	const struct cpuid_feature *f = x86_cpuid_features(&nr);

	(void)state;
	assert_true(nr > 100);
	/* names unique, lower case, bits in range */
	for (size_t i = 0; i < nr; i++) {
		assert_true(f[i].bit < 32);
		assert_ptr_equal(x86_cpuid_feature_find(f[i].name,
							strlen(f[i].name)),
				 &f[i]);
		for (const char *s = f[i].name; *s; s++)
			assert_false(*s >= 'A' && *s <= 'Z');
	}
	assert_null(x86_cpuid_feature_find("x2api", 5));
	assert_non_null(x86_cpuid_feature_find("X2APIC", 6));
}

/* Without x2APIC a guest can only use xAPIC entries with 8-bit ids: the
 * MADT of the largest config has nothing else. */
static void test_madt_without_x2apic(void **state)
{
	struct vm_config cfg;
	struct fw_buf b;
	char text[512] = BASE "cpuid -x2apic\n";
	unsigned lapics = 0;

	(void)state;
	for (unsigned i = 0; i < CFG_MAX_CPUS; i++)
		strcat(text, "cpu ");
	parse_ok(&cfg, text);
	fw_buf_init(&b);
	acpi_madt_build(&b, &cfg);
	for (size_t off = 44; off < b.len; off += b.data[off + 1]) {
		assert_true(b.data[off + 1] >= 2);
		assert_int_not_equal(b.data[off], 9);    /* x2APIC */
		assert_int_not_equal(b.data[off], 10);   /* x2APIC NMI */
		if (b.data[off] == 0) {
			assert_true(b.data[off + 3] < 0xff);
			lapics++;
		}
	}
	assert_int_equal(lapics, CFG_MAX_CPUS);
	fw_buf_free(&b);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_raw_and_vendor),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_apply),
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_madt_without_x2apic),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

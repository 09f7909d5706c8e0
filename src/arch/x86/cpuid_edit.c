/* The `cpuid` statement's edits (config.h's struct cpuid_edit and
 * cpuid_vendor) applied to one vCPU's CPUID table, after cvisor's own
 * adjustments (cpuid.c): the user has the last word. */
#include <linux/kvm.h>
#include <string.h>

#include "arch/x86/arch.h"
#include "config/config.h"

static bool index_significant(uint32_t leaf, uint32_t subleaf)
{
	/* the leaves with subleaves that a named bit lives in */
	return subleaf || leaf == 7 || leaf == 0xd;
}

static struct kvm_cpuid_entry2 *entry(struct kvm_cpuid2 *c, unsigned max,
				      uint32_t leaf, uint32_t subleaf,
				      bool create)
{
	struct kvm_cpuid_entry2 *e;

	for (uint32_t i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == leaf &&
		    (!(e->flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == subleaf))
			return e;
	}
	if (!create || c->nent >= max)
		return NULL;
	e = &c->entries[c->nent++];
	*e = (struct kvm_cpuid_entry2){ .function = leaf, .index = subleaf };
	if (index_significant(leaf, subleaf))
		e->flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
	return e;
}

static uint32_t *reg(struct kvm_cpuid_entry2 *e, enum cpuid_reg r)
{
	switch (r) {
	case CPUID_EAX: return &e->eax;
	case CPUID_EBX: return &e->ebx;
	case CPUID_ECX: return &e->ecx;
	default:        return &e->edx;
	}
}

static void set_vendor(struct kvm_cpuid2 *c, unsigned max, const char *v)
{
	struct kvm_cpuid_entry2 *e = entry(c, max, 0, 0, true);

	if (!e || strlen(v) != 12)
		return;
	/* "GenuineIntel": EBX "Genu", EDX "ineI", ECX "ntel" */
	memcpy(&e->ebx, v, 4);
	memcpy(&e->edx, v + 4, 4);
	memcpy(&e->ecx, v + 8, 4);
}

int x86_cpuid_apply_config(struct kvm_cpuid2 *c, unsigned max,
			   const struct vm_config *cfg)
{
	int missing = 0;

	if (!cfg)
		return 0;
	if (cfg->cpuid_vendor[0])
		set_vendor(c, max, cfg->cpuid_vendor);
	for (unsigned i = 0; i < cfg->nr_cpuid; i++) {
		const struct cpuid_edit *ed = &cfg->cpuid[i];
		struct kvm_cpuid_entry2 *e = entry(c, max, ed->leaf,
						   ed->subleaf, ed->set);

		if (!e) {
			/* clearing a bit of a leaf that is not there: done */
			missing += ed->set;
			continue;
		}
		if (ed->set)
			*reg(e, ed->reg) |= 1u << ed->bit;
		else
			*reg(e, ed->reg) &= ~(1u << ed->bit);
	}
	return missing ? -1 : 0;
}

/* The power button's interrupt line (see firmware.h): which IOAPIC pin the
 * Generic Event Device gets, and whether the guest listens on it. The DSDT
 * (acpi/acpi_ged.c) and the VM (vm/lifecycle.c) both ask here, so the
 * table and the line the device raises cannot disagree.
 */
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/firmware.h"
#include "core/util.h"

/* Above the PCI INTx lines (16-19): level-triggered, active-high pins
 * with no ISA meaning, so no MADT override is needed. */
static const uint32_t ged_candidates[] = { 23, 22, 21, 20 };

static bool line_used(const struct vm_config *cfg, uint32_t line)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		for (unsigned k = 0; k < cfg->vdevs[i].nr_intrs; k++)
			if (!cfg->vdevs[i].intrs[k].is_apic &&
			    cfg->vdevs[i].intrs[k].line == line)
				return true;
	for (unsigned i = 0; i < cfg->nr_pass; i++)
		for (unsigned k = 0; k < cfg->passes[i].nr_intrs; k++)
			if (cfg->passes[i].intrs[k].line == line)
				return true;
	for (unsigned i = 0; i < cfg->nr_reserve; i++)
		if (cfg->reserve[i].kind == RESERVE_INTR &&
		    cfg->reserve[i].intr.line == line)
			return true;
	return false;
}

int x86_acpi_ged_gsi(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < ARRAY_SIZE(ged_candidates); i++)
		if (!line_used(cfg, ged_candidates[i]))
			return (int)ged_candidates[i];
	return -1;
}

int x86_acpi_sci_irq(const struct vm_config *cfg)
{
	static const uint32_t sci_candidates[] = { 9, 11, 10, 5, 7, 3 };

	for (unsigned i = 0; i < ARRAY_SIZE(sci_candidates); i++)
		if (!line_used(cfg, sci_candidates[i]))
			return (int)sci_candidates[i];
	return -1;
}

bool x86_gsi_unmasked(int vm_fd, uint32_t gsi)
{
#if defined(__x86_64__) || defined(__i386__)
	struct kvm_irqchip chip;

	memset(&chip, 0, sizeof(chip));
	chip.chip_id = KVM_IRQCHIP_IOAPIC;
	if (gsi >= KVM_IOAPIC_NUM_PINS ||
	    ioctl(vm_fd, KVM_GET_IRQCHIP, &chip) < 0)
		return false;
	return !chip.chip.ioapic.redirtbl[gsi].fields.mask;
#else
	return false;   /* no IOAPIC: cvisor built for arm64 */
#endif
}

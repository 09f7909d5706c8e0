/* `ram SIZE` without a START goes after the previous region; when that
 * would cross the window below 4 GiB that belongs to devices (the PCI hole
 * when the VM has PCI, the IOAPIC/HPET/LAPIC window otherwise), the region
 * is split around it, as Firecracker and Cloud Hypervisor lay out RAM: the
 * part that fits stays below, the rest starts at 4 GiB. `ram 4g` then
 * just works; an explicit START is taken as written (and checked for
 * overlaps as before). */
#include <string.h>

#include "bus/pci.h"
#include "config/cfg_internal.h"
#include "core/log.h"
#include "core/util.h"

#define DEV_WINDOW_NO_PCI 0xfec00000ULL     /* IOAPIC and above */
#define FOUR_GIB          (4ULL * GiB)

/* Where an implicit region i starts: after every region written before
 * it (what the parser computed, redone because a split moves regions). */
static uint64_t top_before(const struct vm_config *cfg, unsigned i)
{
	uint64_t top = 0;

	for (unsigned j = 0; j < i; j++)
		top = MAX(top, cfg->ram[j].start + cfg->ram[j].size);
	for (unsigned j = 0; j < cfg->nr_rom; j++)
		if (cfg->rom[j].pos.seq < cfg->ram[i].pos.seq)
			top = MAX(top, cfg->rom[j].start + cfg->rom[j].size);
	return top;
}

static int split(struct vm_config *cfg, unsigned i, uint64_t hole,
		 struct cfg_error *err)
{
	struct ram_config *r = &cfg->ram[i];
	uint64_t below = hole - r->start;

	if (cfg->nr_ram >= CFG_MAX_RAM)
		return cfg_err(err, &r->pos, "ram crosses the device window at "
			       "%#llx and splitting it needs one more region "
			       "than the %d allowed", (unsigned long long)hole,
			       CFG_MAX_RAM);
	memmove(&cfg->ram[i + 2], &cfg->ram[i + 1],
		(cfg->nr_ram - i - 1) * sizeof(cfg->ram[0]));
	cfg->nr_ram++;
	cfg->ram[i + 1] = *r;
	cfg->ram[i + 1].start = FOUR_GIB;
	cfg->ram[i + 1].size = r->size - below;
	cfg->ram[i + 1].implicit = false;      /* placed: stays at 4 GiB */
	r->size = below;
	pr_info("%s:%u:%u: ram split around the device window "
		"%#llx-%#llx: %llu MiB below, %llu MiB from 4 GiB",
		r->pos.file, r->pos.line, r->pos.col, (unsigned long long)hole,
		(unsigned long long)FOUR_GIB - 1,
		(unsigned long long)(below >> 20),
		(unsigned long long)(cfg->ram[i + 1].size >> 20));
	return 0;
}

int place_implicit_ram(struct vm_config *cfg, struct cfg_error *err)
{
	uint64_t hole = vm_config_has_pci(cfg) ? PCI_ECAM_BASE_DEFAULT
					       : DEV_WINDOW_NO_PCI;

	for (unsigned i = 0; i < cfg->nr_ram; i++) {
		struct ram_config *r = &cfg->ram[i];

		if (!r->implicit)
			continue;
		r->start = top_before(cfg, i);
		if (r->start >= hole && r->start < FOUR_GIB)
			r->start = FOUR_GIB;
		if (r->start < hole && r->start + r->size > hole) {
			if (split(cfg, i, hole, err))
				return -1;
			i++;
		}
	}
	return 0;
}

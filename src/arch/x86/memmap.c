/* The guest's e820 map, straight from the configuration: `ram` is RAM, `rom`
 * and `reserve loc` of memory are reserved. Like QEMU and Firecracker we add
 * nothing of our own (no LAPIC/IOAPIC entries): the map must equal the
 * config so that what Linux prints can be checked against it. The one
 * addition is the BIOS area that holds the ACPI and MP tables when the
 * config leaves 0xE0000-0xFFFFF unmapped: the builder maps it read-only,
 * and the guest is told it is reserved, as on every PC.
 *
 * PCI adds nothing either. Linux uses the MCFG's ECAM only when that range
 * is reserved in e820 or by an ACPI motherboard resource; we take the
 * second way (a PNP0C02 device in the DSDT, acpi_pci.c), as QEMU's DSDT
 * does, so that e820 stays equal to the config. The PCI hole is left out
 * of the map: the validator keeps RAM, ROM and reserves out of it. */
#include "arch/x86/boot.h"
#include "arch/x86/firmware.h"
#include "core/util.h"

#define MEMMAP_SOURCES (CFG_MAX_RAM + CFG_MAX_ROM + CFG_MAX_RESERVE + 1)

static void add(struct e820_entry *t, unsigned *n, uint64_t addr,
		uint64_t size, uint32_t type)
{
	if (!size)
		return;
	/* Clip a range that would wrap; the validator refuses those anyway. */
	if (!range_ok(addr, size))
		size = 0 - addr;
	t[(*n)++] = (struct e820_entry){ .addr = addr, .size = size,
					 .type = type };
}

static unsigned collect(const struct vm_config *cfg, struct e820_entry *t)
{
	unsigned n = 0;

	for (unsigned i = 0; i < cfg->nr_ram && i < CFG_MAX_RAM; i++)
		add(t, &n, cfg->ram[i].start, cfg->ram[i].size, E820_RAM);
	for (unsigned i = 0; i < cfg->nr_rom && i < CFG_MAX_ROM; i++)
		add(t, &n, cfg->rom[i].start, cfg->rom[i].size, E820_RESERVED);
	for (unsigned i = 0; i < cfg->nr_reserve && i < CFG_MAX_RESERVE; i++) {
		const struct reserve_config *r = &cfg->reserve[i];

		if (r->kind != RESERVE_LOC || r->loc.space != LOC_MEM)
			continue;
		/* Without a length the validator counts one byte; say the
		 * same thing to the guest. */
		add(t, &n, r->loc.addr, r->loc.has_len ? r->loc.len : 1,
		    E820_RESERVED);
	}
	if (x86_firmware_needs_bios_area(cfg))
		add(t, &n, X86_BIOS_AREA_START, X86_BIOS_AREA_LEN,
		    E820_RESERVED);
	return n;
}

static void sort(struct e820_entry *t, unsigned n)
{
	for (unsigned i = 1; i < n; i++) {
		struct e820_entry e = t[i];
		unsigned j = i;

		for (; j > 0 && t[j - 1].addr > e.addr; j--)
			t[j] = t[j - 1];
		t[j] = e;
	}
}

/* Merge same-type entries that touch or overlap. */
static unsigned merge(struct e820_entry *t, unsigned n)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n; i++) {
		struct e820_entry *last = out ? &t[out - 1] : NULL;
		uint64_t last_end = last ? last->addr + last->size : 0;

		if (last && last->type == t[i].type && t[i].addr <= last_end) {
			uint64_t end = t[i].addr + t[i].size;

			if (end > last_end || end < t[i].addr)
				last->size = end - last->addr;
			continue;
		}
		t[out++] = t[i];
	}
	return out;
}

int x86_memmap_build(const struct vm_config *cfg, struct e820_entry *out,
		     unsigned max)
{
	struct e820_entry t[MEMMAP_SOURCES];
	unsigned n = collect(cfg, t);

	sort(t, n);
	n = merge(t, n);
	if (n > max)
		return -1;
	for (unsigned i = 0; i < n; i++)
		out[i] = t[i];
	return (int)n;
}

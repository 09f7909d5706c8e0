#include <stdlib.h>
#include <string.h>

#include "arch/x86/elf_load.h"
#include "arch/x86/pvh.h"
#include "mem/guest_mem.h"

_Static_assert(sizeof(struct hvm_start_info) == 56, "start_info v1 ABI");
_Static_assert(sizeof(struct hvm_modlist_entry) == 32, "modlist ABI");
_Static_assert(sizeof(struct hvm_memmap_table_entry) == 24, "memmap ABI");

int pvh_find_entry(const struct elf_file *ef, uint64_t *entry)
{
	const uint8_t *desc;
	uint32_t descsz;
	uint64_t v = 0;
	int r;

	r = elf_find_note(ef, "Xen", XEN_ELFNOTE_PHYS32_ENTRY, &desc, &descsz);
	if (r <= 0)
		return r;
	/* Linux writes a 4-byte .long; some producers a 64-bit quad. */
	if (descsz != 4 && descsz != 8)
		return boot_file_err(ef->f, "PVH entry note has a %u-byte value (expected 4 or 8)",
				     descsz);
	for (unsigned i = descsz; i > 0; i--)
		v = v << 8 | desc[i - 1];
	if (v >= BOOT_ADDR_LIMIT)
		return boot_file_err(ef->f, "PVH entry point 0x%llx is above 4 GiB",
				     (unsigned long long)v);
	*entry = v;
	return 1;
}

/* Offsets inside the boot-information area, from its base. */
struct pvh_layout {
	uint64_t modlist, memmap, cmdline, strings, total;
};

static void pvh_layout(const struct boot_ctx *c, struct pvh_layout *l)
{
	l->modlist = ALIGN_UP(sizeof(struct hvm_start_info), 16);
	l->memmap = l->modlist + c->nr_mods * sizeof(struct hvm_modlist_entry);
	l->cmdline = l->memmap + c->nr_map * sizeof(struct hvm_memmap_table_entry);
	l->strings = l->cmdline + c->cmdline_size;
	l->total = l->strings;
	for (unsigned i = 0; i < c->nr_mods; i++)
		l->total += strlen(c->mods[i].load->path) + 1;
}

uint64_t pvh_info_size(const struct boot_ctx *c)
{
	struct pvh_layout l;

	pvh_layout(c, &l);
	return l.total;
}

/* Module list; each module's command line is its path, as with multiboot. */
static void fill_modules(const struct boot_ctx *c, uint8_t *buf,
			 const struct pvh_layout *l, uint64_t base)
{
	uint64_t str = l->strings;

	for (unsigned i = 0; i < c->nr_mods; i++) {
		const struct boot_module *m = &c->mods[i];
		struct hvm_modlist_entry e = {
			.paddr = m->addr,
			.size = m->file.size,
			.cmdline_paddr = base + str,
		};
		size_t n = strlen(m->load->path) + 1;

		memcpy(buf + l->modlist + i * sizeof(e), &e, sizeof(e));
		memcpy(buf + str, m->load->path, n);
		str += n;
	}
}

static void fill_memmap(const struct boot_ctx *c, uint8_t *buf,
			const struct pvh_layout *l)
{
	for (unsigned i = 0; i < c->nr_map; i++) {
		struct hvm_memmap_table_entry e = {
			.addr = c->map[i].addr,
			.size = c->map[i].size,
			.type = c->map[i].type,
		};
		memcpy(buf + l->memmap + i * sizeof(e), &e, sizeof(e));
	}
}

int pvh_write_info(struct boot_ctx *c, uint64_t base)
{
	struct pvh_layout l;
	struct hvm_start_info si = {
		.magic = XEN_HVM_START_MAGIC_VALUE,
		.version = HVM_START_INFO_VERSION,
		.nr_modules = c->nr_mods,
		.memmap_entries = c->nr_map,
	};
	uint8_t *buf;
	int r;

	pvh_layout(c, &l);
	buf = calloc(1, l.total);
	if (!buf)
		return boot_err(c->err, c->image.pos, "out of memory");
	si.modlist_paddr = c->nr_mods ? base + l.modlist : 0;
	si.memmap_paddr = base + l.memmap;
	si.cmdline_paddr = base + l.cmdline;
	si.rsdp_paddr = c->plat.rsdp_addr;
	memcpy(buf, &si, sizeof(si));
	fill_modules(c, buf, &l, base);
	fill_memmap(c, buf, &l);
	memcpy(buf + l.cmdline, c->cmdline, c->cmdline_size);
	r = guest_mem_write(c->mem, base, buf, l.total);
	free(buf);
	if (r)
		return boot_err(c->err, c->image.pos,
				"boot information at 0x%llx is outside guest RAM",
				(unsigned long long)base);
	return 0;
}

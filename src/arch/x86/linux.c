/* Linux boot, second half: once the kernel and every fixed-address blob are
 * in place, claim the boot area (zero page, page tables, GDT, stack,
 * command line), put the initrd as high as the kernel allows, and fill the
 * zero page. See linux.h for the area's layout.
 */
#include <inttypes.h>
#include <string.h>

#include "arch/x86/linux.h"
#include "mem/guest_mem.h"

#define PTE_P   (1ULL << 0)
#define PTE_RW  (1ULL << 1)
#define PTE_PS  (1ULL << 7)   /* 2 MiB page in a page directory */

/* Flat 4 GiB descriptors matching what regs.c loads into CS (0x10) and
 * DS/ES/SS (0x18): code is 64-bit (L=1, D=0), data 32-bit writable. */
#define GDT_CODE64 0x00af9b000000ffffULL
#define GDT_DATA   0x00cf93000000ffffULL

static struct boot_params *zero_page(struct boot_ctx *c)
{
	return (struct boot_params *)c->zero_page;
}

static int check_cmdline_len(const struct boot_ctx *c)
{
	size_t n = c->cmdline_size - 1;

	if (n <= c->cmdline_max)
		return 0;
	return boot_err(c->err, c->cfg->cmdline_pos,
			"command line is %zu bytes long, more than the %" PRIu32 " the kernel accepts (cmdline_size)",
			n, c->cmdline_max);
}

/* Low memory when it is free RAM, else the first room below 4 GiB. */
static int claim_area(struct boot_ctx *c)
{
	uint64_t a = LINUX_AREA_LOW;

	if (!guest_mem_ptr_rw(c->mem, a, LINUX_AREA_SIZE) ||
	    boot_overlap(c, a, LINUX_AREA_SIZE)) {
		if (boot_find_room(c, 0, LINUX_AREA_SIZE, &a))
			return boot_file_err(&c->image, "no room for the zero page, page tables and command line (0x%x bytes) in guest RAM below 4 GiB",
					     (unsigned)LINUX_AREA_SIZE);
	}
	c->linux_area = a;
	boot_use(c, a, LINUX_AREA_SIZE, "the Linux zero page and page tables");
	return 0;
}

/* A fixed address is the user's choice, but the kernel's limit holds. */
static int check_fixed_initrd(const struct boot_ctx *c,
			      const struct boot_module *m)
{
	uint64_t last = m->addr + MAX(m->file.size, 1) - 1;

	if (last <= c->initrd_max)
		return 0;
	return boot_file_err(&m->file, "initrd at 0x%" PRIx64 " (size 0x%zx) ends above the kernel's initrd_addr_max 0x%" PRIx32,
			     m->addr, m->file.size, c->initrd_max);
}

/* As high as possible: below initrd_addr_max and the top of RAM, page
 * aligned, clear of the kernel, as other loaders do so that the kernel's
 * own allocations below never collide with it. */
static int place_initrd(struct boot_ctx *c)
{
	struct boot_module *m = &c->mods[0];
	uint64_t len = MAX(m->file.size, 1), limit = (uint64_t)c->initrd_max + 1;

	if (!c->nr_mods)
		return 0;
	if (m->load->has_addr)
		return check_fixed_initrd(c, m);
	if (boot_find_room_high(c, limit, len, &m->addr))
		return boot_file_err(&m->file, "initrd (size 0x%zx) does not fit in guest RAM below 0x%" PRIx64 " (initrd_addr_max or 4 GiB) beside the kernel",
				     m->file.size, (uint64_t)MIN(limit, BOOT_ADDR_LIMIT));
	guest_mem_write(c->mem, m->addr, m->file.data, m->file.size);
	boot_use(c, m->addr, len, m->file.path);
	return 0;
}

static void fill_e820(const struct boot_ctx *c, struct boot_params *zp)
{
	/* x86_memmap_build caps the map at 64 entries, below the 128 here. */
	_Static_assert(X86_MEMMAP_MAX <= LINUX_E820_MAX, "zero page e820");
	for (unsigned i = 0; i < c->nr_map; i++) {
		zp->e820_table[i].addr = c->map[i].addr;
		zp->e820_table[i].size = c->map[i].size;
		zp->e820_table[i].type = c->map[i].type;
	}
	zp->e820_entries = (uint8_t)c->nr_map;
}

static void fill_zero_page(struct boot_ctx *c, uint64_t cmdline)
{
	struct boot_params *zp = zero_page(c);
	struct setup_header *h = &zp->hdr;

	h->type_of_loader = LINUX_TYPE_OF_LOADER;
	h->vid_mode = 0xffff;                 /* "normal": no mode switch */
	h->loadflags |= LINUX_CAN_USE_HEAP;
	h->heap_end_ptr = LINUX_HEAP_END;
	h->cmd_line_ptr = (uint32_t)cmdline;
	zp->ext_cmd_line_ptr = (uint32_t)(cmdline >> 32);
	if (c->nr_mods) {
		const struct boot_module *m = &c->mods[0];

		h->ramdisk_image = (uint32_t)m->addr;
		zp->ext_ramdisk_image = (uint32_t)(m->addr >> 32);
		h->ramdisk_size = (uint32_t)m->file.size;
		zp->ext_ramdisk_size = (uint32_t)((uint64_t)m->file.size >> 32);
	}
	fill_e820(c, zp);
	/* Older kernels would not look; protocol 2.14 added the field. */
	if (h->version >= 0x020e)
		zp->acpi_rsdp_addr = c->plat.rsdp_addr;
}

/* Identity map of the first 4 GiB: one PML4 entry, four PDPT entries,
 * four page directories of 2 MiB pages. The 64-bit entry needs the kernel,
 * zero page and command line mapped; all of them are below 4 GiB. */
static void fill_page_tables(uint8_t *area, uint64_t base)
{
	uint64_t *pml4 = (uint64_t *)(area + LINUX_PML4_OFF);
	uint64_t *pdpt = (uint64_t *)(area + LINUX_PDPT_OFF);
	uint64_t *pd = (uint64_t *)(area + LINUX_PD_OFF);

	pml4[0] = (base + LINUX_PDPT_OFF) | PTE_P | PTE_RW;
	for (unsigned i = 0; i < LINUX_PD_COUNT; i++)
		pdpt[i] = (base + LINUX_PD_OFF + i * BOOT_PAGE) | PTE_P | PTE_RW;
	for (uint64_t j = 0; j < LINUX_PD_COUNT * 512ULL; j++)
		pd[j] = j * 2 * MiB | PTE_P | PTE_RW | PTE_PS;
}

static void fill_gdt(uint8_t *area)
{
	uint64_t gdt[4] = { 0, 0, GDT_CODE64, GDT_DATA };

	memcpy(area + LINUX_GDT_OFF, gdt, sizeof(gdt));
}

int linux_finish(struct boot_ctx *c, uint64_t *zp)
{
	uint64_t base;
	uint8_t *area;

	if (check_cmdline_len(c) || claim_area(c) || place_initrd(c))
		return -1;
	base = c->linux_area;
	/* claim_area made sure the whole area is one piece of RAM. */
	area = guest_mem_ptr_rw(c->mem, base, LINUX_AREA_SIZE);
	memset(area, 0, LINUX_AREA_SIZE);
	fill_gdt(area);
	fill_page_tables(area, base);
	fill_zero_page(c, base + LINUX_CMDLINE_OFF);
	memcpy(area + LINUX_ZP_OFF, c->zero_page, sizeof(c->zero_page));
	memcpy(area + LINUX_CMDLINE_OFF, c->cmdline, c->cmdline_size);
	*zp = base + LINUX_ZP_OFF;
	return 0;
}

void linux_set_cpu(const struct boot_ctx *c, struct x86_boot_state *cpu)
{
	uint64_t base = c->linux_area;

	cpu->mode = X86_MODE_LONG64;
	cpu->rip = c->entry;
	cpu->rsi = base + LINUX_ZP_OFF;
	cpu->rsp = base + LINUX_STACK_OFF + BOOT_PAGE;
	cpu->cr3 = base + LINUX_PML4_OFF;
	cpu->gdt_base = base + LINUX_GDT_OFF;
}

/* Internals shared by the x86 boot loaders (boot.c, elf_load.c, pvh.c,
 * multiboot.c, raw.c). Not part of the layer contract: only boot.h is.
 */
#ifndef CVISOR_ARCH_X86_BOOT_PRIV_H
#define CVISOR_ARCH_X86_BOOT_PRIV_H

#include <stddef.h>
#include <stdint.h>

#include "arch/x86/boot.h"
#include "core/util.h"

#define BOOT_FILE_MAX      (1ULL * GiB)  /* guest image, initrd, data */
#define BOOT_CMDLINE_MAX   4096          /* bytes, including the NUL */
#define BOOT_PAGE          4096ULL
/* Boot information goes here when this is RAM: below the EBDA/VGA hole,
 * above the BDA and real-mode IVT, where QEMU puts PVH start_info too. */
#define BOOT_INFO_LOW      0x6000ULL
#define BOOT_INFO_LOW_END  0xA0000ULL
/* Both protocols hand addresses over in 32-bit registers and fields. */
#define BOOT_ADDR_LIMIT    (4ULL * GiB)

/* One file read from the host, with what is needed to blame it. */
struct boot_file {
	const char *path;
	const uint8_t *data;
	size_t size;
	struct cfg_pos pos;
	struct cfg_error *err;
};

/* A guest-physical range the loader already filled. */
struct boot_range {
	uint64_t start, end;   /* [start, end) */
	const char *what;
};

struct boot_module {
	const struct load_config *load;
	struct boot_file file;
	uint64_t addr;
};

struct boot_ctx {
	const struct vm_config *cfg;
	struct guest_mem *mem;
	struct cfg_error *err;
	struct boot_platform plat;         /* zeroed when the caller gave none */

	const struct load_config *guest;
	struct boot_file image;
	uint64_t image_start, image_end;
	uint64_t entry;
	uint32_t mb_flags;                 /* multiboot header flags */

	struct boot_range used[CFG_MAX_LOADS + 2];
	unsigned nr_used;
	struct boot_module mods[CFG_MAX_LOADS];
	unsigned nr_mods;
	struct e820_entry map[X86_MEMMAP_MAX];
	unsigned nr_map;
	const char *cmdline;               /* never NULL */
	size_t cmdline_size;               /* strlen + 1 */

	/* Linux (linux*.c): the zero page being built, and what it says. */
	uint8_t zero_page[4096] __attribute__((aligned(8)));
	uint32_t initrd_max;               /* last byte the initrd may use */
	uint32_t cmdline_max;              /* longest command line, no NUL */
	uint64_t linux_area;               /* base of zero page, tables, GDT */
};

/* Fill err (at pos) and return -1. The *_file_* form prefixes "path: ". */
int boot_err(struct cfg_error *err, struct cfg_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int boot_file_err(const struct boot_file *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Remember [start, start+len) as filled. */
void boot_use(struct boot_ctx *c, uint64_t start, uint64_t len,
	      const char *what);
/* The filled range that [start, start+len) overlaps, or NULL. */
const struct boot_range *boot_overlap(const struct boot_ctx *c,
				      uint64_t start, uint64_t len);
/* Lowest page-aligned address >= from where len bytes fit in one RAM region
 * below BOOT_ADDR_LIMIT without overlapping a filled range; 0 on success. */
int boot_find_room(const struct boot_ctx *c, uint64_t from, uint64_t len,
		   uint64_t *addr);

/* Highest page-aligned address where len bytes fit in one RAM region and
 * end at or below limit, without overlapping a filled range; 0 on success. */
int boot_find_room_high(const struct boot_ctx *c, uint64_t limit,
			uint64_t len, uint64_t *addr);

/* Copy a whole file image to guest RAM or ROM (raw.c). */
int raw_load(struct boot_ctx *c, uint64_t addr);

#endif

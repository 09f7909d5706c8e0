#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/multiboot.h"
#include "mem/guest_mem.h"

_Static_assert(sizeof(struct multiboot_info) == 88, "multiboot_info ABI");
_Static_assert(sizeof(struct multiboot_mod) == 16, "multiboot mod ABI");
_Static_assert(sizeof(struct multiboot_mmap_entry) == 24, "mmap entry ABI");

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static int check_flags(const struct boot_file *f, uint32_t flags)
{
	uint32_t unsupported = flags & 0xffff & ~MB_HF_SUPPORTED;

	if (unsupported & MB_HF_VIDEO_MODE)
		return boot_file_err(f, "multiboot header requires a video mode (flag 2), which cvisor does not provide");
	if (unsupported)
		return boot_file_err(f, "multiboot header requires unsupported features (flags 0x%x)",
				     unsupported);
	return 0;
}

static int read_header(const struct boot_file *f, uint64_t off,
		       struct multiboot_header *h)
{
	const uint8_t *p = f->data + off;

	h->magic = rd32(p);
	h->flags = rd32(p + 4);
	h->checksum = rd32(p + 8);
	if ((uint32_t)(h->magic + h->flags + h->checksum))
		return boot_file_err(f, "multiboot header at offset 0x%llx has a bad checksum",
				     (unsigned long long)off);
	if (check_flags(f, h->flags))
		return -1;
	if (!(h->flags & MB_HF_ADDRESS))
		return 1;
	if (f->size - off < sizeof(*h))
		return boot_file_err(f, "truncated multiboot header at offset 0x%llx",
				     (unsigned long long)off);
	h->header_addr = rd32(p + 12);
	h->load_addr = rd32(p + 16);
	h->load_end_addr = rd32(p + 20);
	h->bss_end_addr = rd32(p + 24);
	h->entry_addr = rd32(p + 28);
	return 1;
}

int mb_find_header(const struct boot_file *f, struct multiboot_header *hdr,
		   uint64_t *off)
{
	uint64_t end = MIN((uint64_t)f->size, MB_SEARCH);

	memset(hdr, 0, sizeof(*hdr));
	for (uint64_t o = 0; o + 12 <= end; o += 4) {
		if (rd32(f->data + o) != MB_HEADER_MAGIC)
			continue;
		*off = o;
		return read_header(f, o, hdr);
	}
	return 0;
}

/* The address fields describe the file as a flat binary: the header sits at
 * header_addr, so file offset 0 of the text is off - (header_addr - load_addr). */
int mb_load_by_address(struct boot_ctx *c, const struct multiboot_header *h,
		       uint64_t off)
{
	const struct boot_file *f = &c->image;
	uint64_t start, text, mem_end;
	uint8_t *dst;

	if (h->load_addr > h->header_addr ||
	    h->header_addr - h->load_addr > off)
		return boot_file_err(f, "multiboot load_addr 0x%x does not fit header_addr 0x%x at offset 0x%llx",
				     h->load_addr, h->header_addr,
				     (unsigned long long)off);
	start = off - (h->header_addr - h->load_addr);
	if (!h->load_end_addr)
		text = f->size - start;
	else if (h->load_end_addr < h->load_addr)
		return boot_file_err(f, "multiboot load_end_addr 0x%x is below load_addr 0x%x",
				     h->load_end_addr, h->load_addr);
	else
		text = h->load_end_addr - h->load_addr;
	if (text > f->size - start)
		return boot_file_err(f, "truncated: multiboot image needs 0x%llx bytes from offset 0x%llx, the file has %zu",
				     (unsigned long long)text,
				     (unsigned long long)start, f->size);
	mem_end = (uint64_t)h->load_addr + text;
	if (h->bss_end_addr && h->bss_end_addr < mem_end)
		return boot_file_err(f, "multiboot bss_end_addr 0x%x is below the end of the image 0x%llx",
				     h->bss_end_addr, (unsigned long long)mem_end);
	if (h->bss_end_addr)
		mem_end = h->bss_end_addr;
	if (mem_end == h->load_addr)
		return boot_file_err(f, "multiboot image is empty");
	dst = guest_mem_ptr_rw(c->mem, h->load_addr, mem_end - h->load_addr);
	if (!dst)
		return boot_file_err(f, "multiboot image at 0x%x (size 0x%llx) is outside guest RAM",
				     h->load_addr,
				     (unsigned long long)(mem_end - h->load_addr));
	memcpy(dst, f->data + start, text);
	if (mem_end - h->load_addr > text &&
	    guest_mem_zero(c->mem, h->load_addr + text,
			   mem_end - h->load_addr - text))
		return -EFAULT;      /* not reached: the range was checked */
	c->image_start = h->load_addr;
	c->image_end = mem_end;
	c->entry = h->entry_addr;
	boot_use(c, c->image_start, mem_end - c->image_start, f->path);
	return 0;
}

/* Offsets inside the boot-information area, from its base. */
struct mb_layout {
	uint64_t mods, mmap, cmdline, name, strings, total;
};

static const char loader_name[] = "cvisor";

/* The command line the kernel sees starts with its own path, as GRUB's
 * `multiboot PATH ARGS` and QEMU's `-kernel PATH -append ARGS` pass it:
 * multiboot kernels split it into argv with argv[0] their name. No
 * arguments: the path alone. Bytes with the NUL. */
static size_t mb_cmdline_size(const struct boot_ctx *c)
{
	size_t n = strlen(c->image.path) + 1;

	return c->cmdline[0] ? n + c->cmdline_size : n;
}

static void mb_cmdline_fill(const struct boot_ctx *c, char *dst)
{
	size_t n = strlen(c->image.path);

	memcpy(dst, c->image.path, n);
	if (c->cmdline[0]) {
		dst[n++] = ' ';
		memcpy(dst + n, c->cmdline, c->cmdline_size);
	} else {
		dst[n] = '\0';
	}
}

static void mb_layout(const struct boot_ctx *c, struct mb_layout *l)
{
	l->mods = ALIGN_UP(sizeof(struct multiboot_info), 16);
	l->mmap = l->mods + c->nr_mods * sizeof(struct multiboot_mod);
	l->cmdline = l->mmap + c->nr_map * sizeof(struct multiboot_mmap_entry);
	l->name = l->cmdline + mb_cmdline_size(c);
	l->strings = l->name + sizeof(loader_name);
	l->total = l->strings;
	for (unsigned i = 0; i < c->nr_mods; i++)
		l->total += strlen(c->mods[i].load->path) + 1;
}

uint64_t mb_info_size(const struct boot_ctx *c)
{
	struct mb_layout l;

	mb_layout(c, &l);
	return l.total;
}

/* mem_lower/mem_upper: KiB of the RAM runs that start at 0 and at 1 MiB,
 * read from the merged map so split `ram` lines still add up. */
static void fill_mem(const struct boot_ctx *c, struct multiboot_info *mi)
{
	for (unsigned i = 0; i < c->nr_map; i++) {
		const struct e820_entry *e = &c->map[i];
		uint64_t end = e->addr + e->size;

		if (e->type != E820_RAM)
			continue;
		if (e->addr == 0)
			mi->mem_lower = MIN(end, 640 * KiB) / KiB;
		if (e->addr <= 1 * MiB && end > 1 * MiB)
			mi->mem_upper = MIN((end - 1 * MiB) / KiB, UINT32_MAX);
	}
}

static void fill_mods(const struct boot_ctx *c, uint8_t *buf,
		      const struct mb_layout *l, uint32_t base)
{
	uint64_t str = l->strings;

	for (unsigned i = 0; i < c->nr_mods; i++) {
		const struct boot_module *m = &c->mods[i];
		struct multiboot_mod e = {
			.mod_start = (uint32_t)m->addr,
			.mod_end = (uint32_t)(m->addr + m->file.size),
			.string = (uint32_t)(base + str),
		};
		size_t n = strlen(m->load->path) + 1;

		memcpy(buf + l->mods + i * sizeof(e), &e, sizeof(e));
		memcpy(buf + str, m->load->path, n);
		str += n;
	}
}

static void fill_mmap(const struct boot_ctx *c, uint8_t *buf,
		      const struct mb_layout *l)
{
	for (unsigned i = 0; i < c->nr_map; i++) {
		struct multiboot_mmap_entry e = {
			.size = sizeof(e) - sizeof(e.size),
			.addr = c->map[i].addr,
			.len = c->map[i].size,
			.type = c->map[i].type,
		};
		memcpy(buf + l->mmap + i * sizeof(e), &e, sizeof(e));
	}
}

int mb_write_info(struct boot_ctx *c, uint64_t base)
{
	struct multiboot_info mi = {
		.flags = MB_INFO_MEMORY | MB_INFO_CMDLINE | MB_INFO_MODS |
			 MB_INFO_MMAP | MB_INFO_LOADER_NAME,
		.mods_count = c->nr_mods,
	};
	struct mb_layout l;
	uint8_t *buf;
	int r;

	/* boot.c places the area below BOOT_ADDR_LIMIT. */
	mb_layout(c, &l);
	buf = calloc(1, l.total);
	if (!buf)
		return boot_err(c->err, c->image.pos, "out of memory");
	fill_mem(c, &mi);
	mi.cmdline = (uint32_t)(base + l.cmdline);
	mi.mods_addr = (uint32_t)(base + l.mods);
	mi.mmap_addr = (uint32_t)(base + l.mmap);
	mi.mmap_length = c->nr_map * sizeof(struct multiboot_mmap_entry);
	mi.boot_loader_name = (uint32_t)(base + l.name);
	memcpy(buf, &mi, sizeof(mi));
	fill_mods(c, buf, &l, (uint32_t)base);
	fill_mmap(c, buf, &l);
	mb_cmdline_fill(c, (char *)buf + l.cmdline);
	memcpy(buf + l.name, loader_name, sizeof(loader_name));
	r = guest_mem_write(c->mem, base, buf, l.total);
	free(buf);
	if (r)
		return boot_err(c->err, c->image.pos,
				"boot information at 0x%llx is outside guest RAM",
				(unsigned long long)base);
	return 0;
}

/* x86_boot_load: find the one guest image, recognise its protocol (PVH ELF,
 * multiboot, raw), load it, place the modules and data blobs, and write the
 * boot information. The order matters: the image and every blob with a fixed
 * address go first, then the boot information claims its low-memory spot,
 * then modules without an address fill in page by page after the image.
 * Whatever the guest sees (modules, information) stays below 4 GiB.
 */
#include <elf.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot_priv.h"
#include "arch/x86/elf_load.h"
#include "arch/x86/firmware_boot.h"
#include "arch/x86/linux.h"
#include "arch/x86/multiboot.h"
#include "arch/x86/pvh.h"
#include "mem/guest_mem.h"

/* cfg_error carries its own copy of the file name (cfg_error_print reads
 * err->file), so the error outlives the config. */
static void set_pos(struct cfg_error *err, struct cfg_pos pos)
{
	snprintf(err->file, sizeof(err->file), "%s",
		 pos.file ? pos.file : "<config>");
	err->pos = pos;
	err->pos.file = err->file;
}

int boot_err(struct cfg_error *err, struct cfg_pos pos, const char *fmt, ...)
{
	va_list ap;

	set_pos(err, pos);
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

int boot_file_err(const struct boot_file *f, const char *fmt, ...)
{
	struct cfg_error *err = f->err;
	va_list ap;
	int n;

	set_pos(err, f->pos);
	n = snprintf(err->msg, sizeof(err->msg), "%s: ", f->path);
	if (n < 0 || (size_t)n >= sizeof(err->msg))
		return -1;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
	return -1;
}

void boot_use(struct boot_ctx *c, uint64_t start, uint64_t len,
	      const char *what)
{
	if (!len || c->nr_used == ARRAY_SIZE(c->used))
		return;
	c->used[c->nr_used++] = (struct boot_range){
		.start = start, .end = start + len, .what = what };
}

const struct boot_range *boot_overlap(const struct boot_ctx *c,
				      uint64_t start, uint64_t len)
{
	for (unsigned i = 0; i < c->nr_used; i++) {
		const struct boot_range *u = &c->used[i];

		if (ranges_overlap(start, len, u->start, u->end - u->start))
			return u;
	}
	return NULL;
}

/* First RAM region that ends above a. */
static const struct guest_region *ram_from(const struct guest_mem *m,
					   uint64_t a)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct guest_region *r = &m->regions[i];

		if (r->kind == GUEST_RAM && r->gpa + r->size > a)
			return r;
	}
	return NULL;
}

int boot_find_room(const struct boot_ctx *c, uint64_t from, uint64_t len,
		   uint64_t *addr)
{
	/* Every step moves a up to a region or range boundary, so this many
	 * steps see them all. */
	unsigned steps = 2 * (GUEST_MEM_MAX_REGIONS + ARRAY_SIZE(c->used)) + 2;
	uint64_t a = from;

	if (!len)
		len = 1;
	while (steps--) {
		const struct guest_region *r;
		const struct boot_range *u;

		if (a > BOOT_ADDR_LIMIT)
			return -1;
		a = ALIGN_UP(a, BOOT_PAGE);
		if (a >= BOOT_ADDR_LIMIT || len > BOOT_ADDR_LIMIT - a)
			return -1;
		r = ram_from(c->mem, a);
		if (!r)
			return -1;
		if (r->gpa > a) {
			a = r->gpa;
			continue;
		}
		if (len > r->gpa + r->size - a) {
			a = r->gpa + r->size;
			continue;
		}
		u = boot_overlap(c, a, len);
		if (!u) {
			*addr = a;
			return 0;
		}
		a = u->end;
	}
	return -1;
}

/* Highest RAM region that starts below end. */
static const struct guest_region *ram_below(const struct guest_mem *m,
					    uint64_t end)
{
	for (unsigned i = m->nr; i > 0; i--) {
		const struct guest_region *r = &m->regions[i - 1];

		if (r->kind == GUEST_RAM && r->gpa < end)
			return r;
	}
	return NULL;
}

int boot_find_room_high(const struct boot_ctx *c, uint64_t limit,
			uint64_t len, uint64_t *addr)
{
	/* Every step lowers end to a region or range start. */
	unsigned steps = 2 * (GUEST_MEM_MAX_REGIONS + ARRAY_SIZE(c->used)) + 2;
	uint64_t end = MIN(limit, BOOT_ADDR_LIMIT), top, a;

	if (!len)
		len = 1;
	while (steps--) {
		const struct guest_region *r = ram_below(c->mem, end);
		const struct boot_range *u;

		if (!r)
			return -1;
		top = MIN(end, r->gpa + r->size);
		a = top - r->gpa >= len ? ALIGN_DOWN(top - len, BOOT_PAGE) : 0;
		if (top - r->gpa < len || a < r->gpa) {
			end = r->gpa;
			continue;
		}
		u = boot_overlap(c, a, len);
		if (!u) {
			*addr = a;
			return 0;
		}
		end = u->start;
	}
	return -1;
}

/* Files from plat.read_file belong to the provider. */
static void blob_free(struct boot_ctx *c, const void *data)
{
	if (!c->plat.read_file)
		free((void *)data);
}

static int read_blob(struct boot_ctx *c, const struct load_config *l,
		     struct boot_file *f)
{
	size_t len = 0;
	void *p;

	*f = (struct boot_file){ .path = l->path, .pos = l->pos,
				 .err = c->err };
	if (c->plat.read_file)
		p = (void *)c->plat.read_file(c->plat.read_ctx, l,
					      BOOT_FILE_MAX, &len);
	else
		p = read_file(l->path, BOOT_FILE_MAX, &len);
	if (!p && errno == EFBIG)
		return boot_file_err(f, "file is larger than 1 GiB");
	if (!p)
		return boot_file_err(f, "cannot read: %s", strerror(errno));
	f->data = p;
	f->size = len;
	return 0;
}

static const char *blob_name(enum blob_type t)
{
	switch (t) {
	case BLOB_ACPI: return "acpi";
	case BLOB_FDT:  return "fdt";
	default:        return "this";
	}
}

/* One pass over the loads: exactly one guest, nothing we cannot do. */
static int check_loads(struct boot_ctx *c)
{
	const struct vm_config *cfg = c->cfg;

	for (unsigned i = 0; i < cfg->nr_loads && i < CFG_MAX_LOADS; i++) {
		const struct load_config *l = &cfg->loads[i];

		switch (l->type) {
		case BLOB_GUEST:
			if (c->guest)
				return boot_err(c->err, l->pos, "%s: a second guest image (%s is already the guest); only one load may be the guest",
						l->path, c->guest->path);
			c->guest = l;
			break;
		case BLOB_INITRD:
			c->mods[c->nr_mods++].load = l;
			break;
		case BLOB_DATA:
			if (!l->has_addr)
				return boot_err(c->err, l->pos, "%s: a data blob needs an address (data load ADDR,path)",
						l->path);
			break;
		default:
			return boot_err(c->err, l->pos, "%s: %s blobs are not supported yet",
					l->path, blob_name(l->type));
		}
	}
	if (!c->guest)
		return boot_err(c->err, cfg->nr_loads ? cfg->loads[0].pos :
				(struct cfg_pos){ .file = "<config>" },
				"no guest image: one load without a blob type (or guest load) is required");
	return 0;
}

static int check_cmdline(struct boot_ctx *c)
{
	const char *s = c->cfg->cmdline ? c->cfg->cmdline : "";
	size_t n = strlen(s);

	if (n >= BOOT_CMDLINE_MAX)
		return boot_err(c->err, c->cfg->cmdline_pos,
				"command line is %zu bytes long, more than the %d allowed",
				n, BOOT_CMDLINE_MAX - 1);
	c->cmdline = s;
	c->cmdline_size = n + 1;
	return 0;
}

static int build_map(struct boot_ctx *c)
{
	int n = x86_memmap_build(c->cfg, c->map, ARRAY_SIZE(c->map));

	if (n < 0)
		return boot_err(c->err, c->guest->pos,
				"the memory map has more than %d entries",
				X86_MEMMAP_MAX);
	c->nr_map = (unsigned)n;
	return 0;
}

static int load_elf_multiboot(struct boot_ctx *c, const struct elf_file *ef)
{
	if (elf_load_segments(c, ef))
		return -1;
	c->entry = elf_entry_paddr(ef);
	if (c->entry >= BOOT_ADDR_LIMIT)
		return boot_file_err(&c->image, "multiboot entry point 0x%" PRIx64 " is above 4 GiB",
				     c->entry);
	return 0;
}

/* Returns the protocol, or -1. PVH first: a file with both entries boots
 * the 64-bit-capable way, as QEMU microvm does. Then multiboot, a Linux
 * bzImage, a Linux vmlinux (any other ELF64), and raw last. */
static int detect_and_load(struct boot_ctx *c)
{
	const struct boot_file *f = &c->image;
	struct multiboot_header mh;
	struct elf_file ef;
	bool is_elf = elf_is_elf(f);
	uint64_t off;
	int r;

	if (is_elf) {
		if (elf_parse(f, &ef))
			return -1;
		r = pvh_find_entry(&ef, &c->entry);
		if (r < 0)
			return -1;
		if (r)
			return elf_load_segments(c, &ef) ? -1 : BOOT_PVH;
	}
	r = mb_find_header(f, &mh, &off);
	if (r < 0)
		return -1;
	if (r) {
		c->mb_flags = mh.flags;
		if (mh.flags & MB_HF_ADDRESS)
			r = mb_load_by_address(c, &mh, off);
		else if (is_elf)
			r = load_elf_multiboot(c, &ef);
		else
			r = boot_file_err(f, "multiboot header without address fields (flag 16) in a file that is not ELF");
		return r ? -1 : BOOT_MULTIBOOT;
	}
	if (!is_elf && linux_is_bzimage(f))
		return linux_load_bzimage(c) ? -1 : BOOT_LINUX;
	if (is_elf && ef.is64 && ef.machine == EM_X86_64)
		return linux_load_vmlinux(c, &ef) ? -1 : BOOT_LINUX;
	if (is_elf)
		return boot_file_err(f, "ELF image has neither a PVH note nor a multiboot header, and is not a 64-bit x86 kernel (vmlinux)");
	if (c->guest->has_addr)
		return raw_load(c, c->guest->addr) ? -1 : BOOT_RAW;
	return boot_file_err(f, "not a kernel: neither an ELF image, a multiboot image, a Linux bzImage, nor a raw image with a load address");
}

static int load_data(struct boot_ctx *c, const struct load_config *l)
{
	const struct boot_range *u;
	struct boot_file f;
	int r = 0;

	if (read_blob(c, l, &f))
		return -1;
	u = boot_overlap(c, l->addr, f.size);
	if (!range_ok(l->addr, f.size) ||
	    guest_mem_find(c->mem, l->addr, f.size) == NULL)
		r = boot_file_err(&f, "data at 0x%" PRIx64 " (size 0x%zx) is outside guest memory",
				  l->addr, f.size);
	else if (u)
		r = boot_file_err(&f, "data at 0x%" PRIx64 " (size 0x%zx) overlaps %s",
				  l->addr, f.size, u->what);
	else if (f.size)
		r = guest_mem_load(c->mem, l->addr, f.data, f.size);
	if (!r)
		boot_use(c, l->addr, f.size, l->path);
	blob_free(c, f.data);
	return r;
}

static int load_all_data(struct boot_ctx *c)
{
	for (unsigned i = 0; i < c->cfg->nr_loads && i < CFG_MAX_LOADS; i++)
		if (c->cfg->loads[i].type == BLOB_DATA &&
		    load_data(c, &c->cfg->loads[i]))
			return -1;
	return 0;
}

/* Multiboot hands modules over in 32-bit fields; PVH has 64 bits, but
 * keeping everything below 4 GiB is what Xen does too. */
static int put_module(struct boot_ctx *c, struct boot_module *m, uint64_t a)
{
	uint64_t len = MAX(m->file.size, 1);
	const struct boot_range *u = boot_overlap(c, a, len);

	if (c->mb_flags & MB_HF_PAGE_ALIGN && !IS_ALIGNED(a, BOOT_PAGE))
		return boot_file_err(&m->file, "module at 0x%" PRIx64 " is not page-aligned as the multiboot header requires",
				     a);
	if (!guest_mem_ptr_rw(c->mem, a, len) || a + len > BOOT_ADDR_LIMIT)
		return boot_file_err(&m->file, "module at 0x%" PRIx64 " (size 0x%zx) is outside guest RAM below 4 GiB",
				     a, m->file.size);
	if (u)
		return boot_file_err(&m->file, "module at 0x%" PRIx64 " (size 0x%zx) overlaps %s",
				     a, m->file.size, u->what);
	guest_mem_write(c->mem, a, m->file.data, m->file.size);
	m->addr = a;
	boot_use(c, a, len, m->file.path);
	return 0;
}

static int read_modules(struct boot_ctx *c)
{
	for (unsigned i = 0; i < c->nr_mods; i++) {
		struct boot_module *m = &c->mods[i];

		if (read_blob(c, m->load, &m->file))
			return -1;
		if (m->load->has_addr && put_module(c, m, m->load->addr))
			return -1;
	}
	return 0;
}

/* Modules without an address: page by page after the image, or anywhere
 * low when the image sits at the top of the 4 GiB space. */
static int place_modules(struct boot_ctx *c, uint64_t *next)
{
	uint64_t a;

	*next = c->image_end;
	for (unsigned i = 0; i < c->nr_mods; i++) {
		struct boot_module *m = &c->mods[i];
		uint64_t len = MAX(m->file.size, 1);

		if (m->load->has_addr)
			continue;
		if (boot_find_room(c, *next, len, &a) &&
		    boot_find_room(c, 0, len, &a))
			return boot_file_err(&m->file, "no room for the module (size 0x%zx) in guest RAM below 4 GiB",
					     m->file.size);
		if (put_module(c, m, a))
			return -1;
		*next = a + len;
	}
	return 0;
}

static bool low_info_ok(const struct boot_ctx *c, uint64_t size)
{
	return size <= BOOT_INFO_LOW_END - BOOT_INFO_LOW &&
	       guest_mem_ptr_rw(c->mem, BOOT_INFO_LOW, size) &&
	       !boot_overlap(c, BOOT_INFO_LOW, size);
}

static uint64_t info_size(const struct boot_ctx *c, int proto)
{
	return proto == BOOT_PVH ? pvh_info_size(c) : mb_info_size(c);
}

/* Linux takes one initrd; its place is the loader's choice (linux.c). */
static int place_linux(struct boot_ctx *c, uint64_t *info)
{
	if (c->nr_mods > 1)
		return boot_err(c->err, c->mods[1].load->pos, "%s: Linux takes one initrd (%s is already the initrd)",
				c->mods[1].load->path, c->mods[0].load->path);
	if (read_modules(c))
		return -1;
	return linux_finish(c, info);
}

/* Modules and boot information; the raw protocol has no information. */
static int place_the_rest(struct boot_ctx *c, int proto, uint64_t *info)
{
	uint64_t size, next;
	bool low;

	/* Fixed addresses first: the information is ours to move. */
	*info = 0;
	if (proto == BOOT_LINUX)
		return place_linux(c, info);
	size = info_size(c, proto);
	if (read_modules(c))
		return -1;
	low = proto != BOOT_RAW && low_info_ok(c, size);
	if (low)
		boot_use(c, BOOT_INFO_LOW, size, "the boot information");
	if (place_modules(c, &next))
		return -1;
	if (proto == BOOT_RAW)
		return 0;
	if (low)
		*info = BOOT_INFO_LOW;
	else if (boot_find_room(c, next, size, info) &&
		 boot_find_room(c, 0, size, info))
		return boot_file_err(&c->image, "no room for the boot information (0x%" PRIx64 " bytes) in guest RAM below 4 GiB",
				     size);
	return proto == BOOT_PVH ? pvh_write_info(c, *info) :
				   mb_write_info(c, *info);
}

static int check_entry(struct boot_ctx *c, int proto)
{
	if (proto == BOOT_RAW || guest_mem_ptr_rw(c->mem, c->entry, 1))
		return 0;
	return boot_file_err(&c->image, "entry point 0x%" PRIx64 " is outside guest RAM",
			     c->entry);
}

static void set_cpu(const struct boot_ctx *c, int proto, uint64_t info,
		    struct boot_result *res)
{
	res->proto = (enum boot_proto)proto;
	if (proto == BOOT_LINUX) {
		linux_set_cpu(c, &res->cpu);
	} else {
		res->cpu.mode = X86_MODE_PROT32;
		res->cpu.rip = c->entry;
		res->cpu.rbx = info;
	}
	if (proto == BOOT_MULTIBOOT)
		res->cpu.rax = MB_BOOTLOADER_MAGIC;
	res->image_start = c->image_start;
	res->image_end = c->image_end;
	res->info_addr = info;
}

static int boot_load(struct boot_ctx *c, struct boot_result *res)
{
	uint64_t info;
	int proto;

	if (check_loads(c) || check_cmdline(c) || build_map(c))
		return -1;
	if (read_blob(c, c->guest, &c->image))
		return -1;
	proto = detect_and_load(c);
	if (proto < 0 || check_entry(c, proto))
		return -1;
	if (load_all_data(c) || place_the_rest(c, proto, &info))
		return -1;
	set_cpu(c, proto, info, res);
	return 0;
}

int x86_boot_load(const struct vm_config *cfg, struct guest_mem *mem,
		  const struct boot_platform *plat, struct boot_result *res,
		  struct cfg_error *err)
{
	struct boot_ctx *c;
	int r;

	if (x86_fwboot_image(cfg))
		return x86_fwboot_load(cfg, mem, plat, res, err);
	c = xcalloc(1, sizeof(*c));
	c->cfg = cfg;
	if (plat)
		c->plat = *plat;
	c->mem = mem;
	c->err = err;
	memset(res, 0, sizeof(*res));
	r = boot_load(c, res);
	blob_free(c, c->image.data);
	for (unsigned i = 0; i < c->nr_mods; i++)
		blob_free(c, c->mods[i].file.data);
	free(c);
	return r;
}

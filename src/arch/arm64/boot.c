/* arm64 boot: the guest image (an AArch64 ELF executable, a Linux arm64
 * Image by its header, else a raw binary entered at its first byte), the
 * initrd and the device tree placed in the first RAM region; the boot
 * vCPU starts at the image's entry with x0 = the tree's address
 * (Documentation/arm64/booting.rst).
 * Pure data work, unit-testable without KVM. */
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/arm64.h"
#include "core/util.h"

#define A64_FILE_MAX   (1ULL << 30)
#define A64_DTB_MAX    (2 * MiB)      /* the boot protocol's limit */
#define A64_IMAGE_ALIGN (2 * MiB)

static int a64_err(struct cfg_error *err, struct cfg_pos pos,
		   const char *fmt, ...)
{
	va_list ap;

	snprintf(err->file, sizeof(err->file), "%s",
		 pos.file ? pos.file : "<config>");
	err->pos = pos;
	err->pos.file = err->file;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* The RAM region with the lowest address: the image, initrd and tree go
 * there. */
static const struct ram_config *first_ram(const struct vm_config *cfg)
{
	const struct ram_config *r = NULL;

	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (!r || cfg->ram[i].start < r->start)
			r = &cfg->ram[i];
	return r;
}

struct a64_ctx {
	const struct vm_config *cfg;
	struct guest_mem *mem;
	const void *(*read)(void *, const struct load_config *, size_t,
			    size_t *);
	void *read_ctx;
	struct cfg_error *err;
};

static int load_file(struct a64_ctx *c, const struct load_config *l,
		     uint64_t gpa, uint64_t *len_out, const void **data_out)
{
	size_t len;
	const void *p = c->read ? c->read(c->read_ctx, l, A64_FILE_MAX, &len)
				: read_file(l->path, A64_FILE_MAX, &len);
	int ret = 0;

	if (!p)
		return a64_err(c->err, l->pos, "%s: %s", l->path,
			       strerror(errno));
	if (data_out) {
		*data_out = p;        /* the caller places it and frees it */
		*len_out = len;
		return 0;
	}
	if (guest_mem_load(c->mem, gpa, p, len) < 0)
		ret = a64_err(c->err, l->pos, "%s: %zu bytes do not fit in RAM "
			      "at %#llx", l->path, len,
			      (unsigned long long)gpa);
	*len_out = len;
	if (!c->read)
		free((void *)p);
	return ret;
}

static void release(struct a64_ctx *c, const void *p)
{
	if (!c->read)
		free((void *)p);
}

/* The guest image: an Image at ram (2 MiB aligned) + text_offset, or a
 * raw binary at its address (default: the start of RAM). */
static int load_guest(struct a64_ctx *c, const struct load_config *l,
		      const struct ram_config *ram, struct arm64_boot *b)
{
	const struct arm64_image_header *h;
	const void *p;
	uint64_t len, text, size, base;

	if (load_file(c, l, 0, &len, &p))
		return -1;
	h = p;
	if (arm64_is_elf(p, len)) {
		const char *why = arm64_elf_load(c->mem, p, len, b);

		release(c, p);
		if (why)
			return a64_err(c->err, l->pos, "%s: %s", l->path, why);
		b->elf = true;
		return 0;
	}
	if (len >= sizeof(*h) && h->magic == ARM64_IMAGE_MAGIC) {
		text = h->image_size ? h->text_offset : 0x80000;
		size = h->image_size ? h->image_size : len;
		if (size < len || text >= A64_IMAGE_ALIGN || (text & 0xfff)) {
			release(c, p);
			return a64_err(c->err, l->pos, "%s: arm64 Image header "
				       "with text_offset %#llx, image_size "
				       "%#llx: not a valid kernel", l->path,
				       (unsigned long long)text,
				       (unsigned long long)size);
		}
		base = l->has_addr ? l->addr :
		       (ram->start + A64_IMAGE_ALIGN - 1) & ~(A64_IMAGE_ALIGN - 1);
		if (base & (A64_IMAGE_ALIGN - 1)) {
			release(c, p);
			return a64_err(c->err, l->pos, "an arm64 Image must be "
				       "loaded at a 2 MiB boundary, not %#llx",
				       (unsigned long long)base);
		}
		b->linux_image = true;
		b->image_start = base + text;
		b->image_end = b->image_start + size; /* its BSS included */
	} else {
		b->image_start = l->has_addr ? l->addr : ram->start;
		b->image_end = b->image_start + len;
	}
	b->pc = b->image_start;
	if (!guest_mem_ptr(c->mem, b->image_start,
			   b->image_end - b->image_start) ||
	    guest_mem_load(c->mem, b->image_start, p, len) < 0) {
		release(c, p);
		return a64_err(c->err, l->pos, "%s: %#llx-%#llx is not all "
			       "RAM", l->path,
			       (unsigned long long)b->image_start,
			       (unsigned long long)b->image_end);
	}
	release(c, p);
	return 0;
}

/* The tree in the last 2 MiB of the first RAM region, the initrd right
 * below it (4 KiB aligned), both above the image. The alignment is
 * checked too: an image end that is not 4 KiB aligned would otherwise
 * lose up to 4095 bytes to an initrd rounded down into it. */
static int place_initrd(struct a64_ctx *c, const struct load_config *l,
			struct arm64_boot *b)
{
	const void *p;
	uint64_t len, start;

	if (load_file(c, l, 0, &len, &p))
		return -1;
	start = (b->dtb_addr - len) & ~0xfffULL;
	if (len > b->dtb_addr - b->image_end || start < b->image_end) {
		release(c, p);
		return a64_err(c->err, l->pos, "%s: %llu bytes do not fit "
			       "between the image and the device tree (%#llx-"
			       "%#llx, the initrd 4 KiB aligned)", l->path,
			       (unsigned long long)len,
			       (unsigned long long)b->image_end,
			       (unsigned long long)b->dtb_addr);
	}
	b->initrd_start = start;
	b->initrd_end = b->initrd_start + len;
	if (guest_mem_load(c->mem, b->initrd_start, p, len) < 0) {
		release(c, p);
		return a64_err(c->err, l->pos, "%s: cannot place it at %#llx",
			       l->path, (unsigned long long)b->initrd_start);
	}
	release(c, p);
	return 0;
}

/* `fdt load PATH`: the config's own tree replaces the generated one (its
 * chosen node, initrd range included, is then the user's business). */
static int load_fdt(struct a64_ctx *c, const struct load_config *l,
		    void *dst)
{
	const void *p;
	uint64_t len;
	int ret = 0;

	if (load_file(c, l, 0, &len, &p))
		return -1;
	if (len < 40 || fdt_check_header(p) || fdt_totalsize(p) > len ||
	    fdt_totalsize(p) > A64_DTB_MAX)
		ret = a64_err(c->err, l->pos, "%s: not a flattened device tree "
			      "of at most 2 MiB", l->path);
	else
		memcpy(dst, p, fdt_totalsize(p));
	release(c, p);
	return ret;
}

int arm64_boot_load(const struct vm_config *cfg, struct guest_mem *mem,
		    const void *(*read)(void *ctx, const struct load_config *l,
					size_t max, size_t *len),
		    void *read_ctx, struct arm64_boot *b,
		    struct cfg_error *err)
{
	struct a64_ctx c = { cfg, mem, read, read_ctx, err };
	const struct ram_config *ram = first_ram(cfg);
	static const struct cfg_pos nowhere;
	const struct load_config *guest = NULL;
	uint64_t len;
	void *dtb;
	int ret;

	memset(b, 0, sizeof(*b));
	memset(err, 0, sizeof(*err));
	if (!ram || ram->size < 2 * A64_DTB_MAX)
		return a64_err(err, ram ? ram->pos : nowhere, "arm64 needs a "
			       "RAM region of at least 4 MiB (image and "
			       "device tree)");
	for (unsigned i = 0; i < cfg->nr_loads; i++)
		if (cfg->loads[i].type == BLOB_GUEST && !guest)
			guest = &cfg->loads[i];
	if (!guest)
		return a64_err(err, nowhere, "no guest image ('load PATH')");
	if (load_guest(&c, guest, ram, b))
		return -1;
	b->dtb_addr = (ram->start + ram->size - A64_DTB_MAX) & ~(A64_DTB_MAX - 1);
	if (b->dtb_addr < b->image_end)
		return a64_err(err, guest->pos, "the image leaves no room for "
			       "the device tree in the first RAM region");
	for (unsigned i = 0; i < cfg->nr_loads; i++) {
		const struct load_config *l = &cfg->loads[i];

		if (l->type == BLOB_INITRD && !b->initrd_end)
			ret = place_initrd(&c, l, b);
		else if (l->type == BLOB_DATA && l->has_addr)
			ret = load_file(&c, l, l->addr, &len, NULL);
		else
			ret = 0;
		if (ret)
			return -1;
	}
	dtb = guest_mem_ptr_rw(mem, b->dtb_addr, A64_DTB_MAX);
	if (!dtb)
		return a64_err(err, ram->pos, "device tree at %#llx: not RAM",
			       (unsigned long long)b->dtb_addr);
	for (unsigned i = 0; i < cfg->nr_loads; i++)
		if (cfg->loads[i].type == BLOB_FDT) {
			b->dtb_size = A64_DTB_MAX;
			b->x0 = b->dtb_addr;
			return load_fdt(&c, &cfg->loads[i], dtb);
		}
	ret = arm64_fdt_build(cfg, b, dtb, A64_DTB_MAX);
	if (ret)
		return a64_err(err, nowhere, "device tree: %s",
			       strerror(-ret));
	b->dtb_size = A64_DTB_MAX;
	b->x0 = b->dtb_addr;
	return 0;
}

unsigned arm64_gic_lines(const struct vm_config *cfg)
{
	unsigned max = 0, n;

	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		for (unsigned j = 0; j < cfg->vdevs[i].nr_intrs; j++)
			if (cfg->vdevs[i].intrs[j].line > max)
				max = cfg->vdevs[i].intrs[j].line;
	n = (max + 32) & ~31u;          /* lines 0..max, a multiple of 32 */
	return n < 256 ? 256 : n;
}

/* More lines than KVM has never make a vGIC (arch_vm_init refuses). */
unsigned arm64_spi_routes(const struct vm_config *cfg)
{
	unsigned lines = arm64_gic_lines(cfg);

	if (lines > ARM64_GIC_KVM_LINES)
		lines = ARM64_GIC_KVM_LINES;
	return lines - ARM64_GIC_FIRST_SPI;
}

/* Linux kernel images: a bzImage (real-mode setup + protected-mode kernel)
 * or an uncompressed vmlinux ELF64. Both are entered at their 64-bit entry
 * point, so the setup code is never loaded: only its header, which becomes
 * the zero page's hdr.
 */
#include <inttypes.h>
#include <stddef.h>
#include <string.h>

#include "arch/x86/elf_load.h"
#include "arch/x86/linux.h"
#include "mem/guest_mem.h"

_Static_assert(sizeof(struct setup_header) == 0x26c - 0x1f1, "setup_header ABI");
_Static_assert(sizeof(struct boot_params) == 4096, "boot_params ABI");
_Static_assert(offsetof(struct boot_params, hdr) == LINUX_HDR_OFFSET,
	       "boot_params.hdr");
_Static_assert(offsetof(struct boot_params, e820_table) == 0x2d0,
	       "boot_params.e820_table");
_Static_assert(offsetof(struct boot_params, acpi_rsdp_addr) == 0x70,
	       "boot_params.acpi_rsdp_addr");

/* Values a vmlinux gets in its made-up header, as Firecracker does. */
#define VMLINUX_VERSION      0x020f
#define VMLINUX_ALIGN        0x1000000
#define VMLINUX_INITRD_MAX   0x7fffffff

static uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)rd16(p) | (uint32_t)rd16(p + 2) << 16;
}

static struct boot_params *zero_page(struct boot_ctx *c)
{
	return (struct boot_params *)c->zero_page;
}

bool linux_is_bzimage(const struct boot_file *f)
{
	return f->size >= 0x206 && rd16(f->data + 0x1fe) == LINUX_BOOT_FLAG &&
	       rd32(f->data + 0x202) == LINUX_HDR_MAGIC;
}

/* Fields the boot protocol has the loader write, whatever the file holds
 * there: the file's values would point the kernel at an initrd or a
 * setup_data list that is not there (any guest memory, read as one).
 * linux_finish() sets the ramdisk ones when there is an initrd; cvisor
 * passes no setup_data (the e820 map and the RSDP go in the zero page). */
static void clear_loader_fields(struct setup_header *h)
{
	h->ramdisk_image = 0;
	h->ramdisk_size = 0;
	h->setup_data = 0;
}

/* Copy the header as the file has it: from 0x1f1 to 0x202 + the jump's
 * displacement byte. The zero page has room up to 0x290 for it; a newer
 * header than that would overwrite fields the kernel reads elsewhere. */
static int copy_header(struct boot_ctx *c)
{
	const struct boot_file *f = &c->image;
	size_t end = 0x202 + (size_t)f->data[0x201];

	if (end > f->size)
		return boot_file_err(f, "truncated: the setup header ends at 0x%zx, past the end of the file (%zu bytes)",
				     end, f->size);
	if (end < offsetof(struct boot_params, hdr.cmdline_size) + 4)
		return boot_file_err(f, "kernel too old: its setup header ends at 0x%zx (boot protocol 2.06 needs 0x23c)",
				     end);
	end = MIN(end, offsetof(struct boot_params, edd_mbr_sig_buffer));
	memcpy(c->zero_page + LINUX_HDR_OFFSET, f->data + LINUX_HDR_OFFSET,
	       end - LINUX_HDR_OFFSET);
	clear_loader_fields(&zero_page(c)->hdr);
	return 0;
}

static int check_header(const struct boot_ctx *c, const struct setup_header *h)
{
	const struct boot_file *f = &c->image;

	if (h->version < LINUX_MIN_VERSION)
		return boot_file_err(f, "kernel too old (boot protocol %u.%02u, need 2.06)",
				     h->version >> 8, h->version & 0xff);
	if (!(h->loadflags & LINUX_LOADED_HIGH))
		return boot_file_err(f, "not a bzImage: the kernel loads low (LOADED_HIGH is not set in loadflags)");
	/* xloadflags exists from 2.12 on; before, no 64-bit entry. */
	if (h->version < 0x020c || !(h->xloadflags & LINUX_XLF_KERNEL_64))
		return boot_file_err(f, "kernel has no 64-bit entry point (xloadflags)");
	return 0;
}

/* Where the kernel decompresses itself and how much RAM that takes:
 * arch/x86/boot/compressed/head_64.S uses the load address rounded up to
 * kernel_alignment, but never below LOAD_PHYSICAL_ADDR (= pref_address),
 * and needs init_size bytes from there. */
static void runtime_span(const struct setup_header *h, uint64_t load,
			 uint64_t *start, uint64_t *len)
{
	uint64_t a = load;
	uint32_t align = h->kernel_alignment;

	/* A non-power-of-two alignment is nonsense; ignore it. */
	if (h->relocatable_kernel && align && !(align & (align - 1)))
		a = ALIGN_UP(load, (uint64_t)align);
	*start = MAX(a, h->pref_address);
	*len = h->init_size;
}

static int check_fit(struct boot_ctx *c, const struct setup_header *h,
		     uint64_t load, uint64_t size)
{
	const struct boot_file *f = &c->image;
	uint64_t start, len;

	if (!guest_mem_ptr_rw(c->mem, load, size))
		return boot_file_err(f, "kernel at 0x%" PRIx64 " (size 0x%" PRIx64 ") is outside guest RAM",
				     load, size);
	runtime_span(h, load, &start, &len);
	if (len && !guest_mem_ptr_rw(c->mem, start, len))
		return boot_file_err(f, "kernel does not fit in guest RAM: it needs 0x%" PRIx64 " bytes at 0x%" PRIx64 " to decompress (init_size)",
				     len, start);
	boot_use(c, load, size, f->path);
	boot_use(c, start, len, "the kernel's decompression area (init_size)");
	return 0;
}

int linux_load_bzimage(struct boot_ctx *c)
{
	const struct boot_file *f = &c->image;
	struct setup_header *h = &zero_page(c)->hdr;
	uint64_t setup, size, load = LINUX_LOAD_ADDR;

	if (copy_header(c) || check_header(c, h))
		return -1;
	setup = ((uint64_t)(h->setup_sects ? h->setup_sects : 4) + 1) * 512;
	if (setup >= f->size)
		return boot_file_err(f, "truncated: the setup code (0x%" PRIx64 " bytes) reaches the end of the file (%zu bytes)",
				     setup, f->size);
	size = f->size - setup;
	if ((uint64_t)h->syssize * 16 > size)
		return boot_file_err(f, "truncated: the kernel is 0x%" PRIx64 " bytes (syssize) but the file has 0x%" PRIx64 " after the setup code",
				     (uint64_t)h->syssize * 16, size);
	if (size <= LINUX_ENTRY64_OFF)
		return boot_file_err(f, "truncated: the kernel (0x%" PRIx64 " bytes) ends before its 64-bit entry point",
				     size);
	if (check_fit(c, h, load, size))
		return -1;
	guest_mem_write(c->mem, load, f->data + setup, size);
	h->code32_start = (uint32_t)load;
	c->image_start = load;
	c->image_end = load + size;
	c->entry = load + LINUX_ENTRY64_OFF;
	c->initrd_max = h->initrd_addr_max ? h->initrd_addr_max :
					     LINUX_OLD_INITRD_MAX;
	c->cmdline_max = h->cmdline_size;
	return 0;
}

/* The header a vmlinux lacks: what the 64-bit entry path reads. */
static void vmlinux_header(struct boot_ctx *c)
{
	struct setup_header *h = &zero_page(c)->hdr;

	h->boot_flag = LINUX_BOOT_FLAG;
	h->header = LINUX_HDR_MAGIC;
	h->version = VMLINUX_VERSION;
	h->loadflags = LINUX_LOADED_HIGH;
	h->kernel_alignment = VMLINUX_ALIGN;
	h->initrd_addr_max = VMLINUX_INITRD_MAX;
	h->cmdline_size = LINUX_CMDLINE_SIZE - 1;
	c->initrd_max = VMLINUX_INITRD_MAX;
	c->cmdline_max = LINUX_CMDLINE_SIZE - 1;
}

int linux_load_vmlinux(struct boot_ctx *c, const struct elf_file *ef)
{
	if (elf_load_segments(c, ef))
		return -1;
	/* The page tables map 4 GiB; the kernel must start inside them. */
	c->entry = elf_entry_paddr(ef);
	if (c->entry >= BOOT_ADDR_LIMIT || c->image_end > BOOT_ADDR_LIMIT)
		return boot_file_err(ef->f, "vmlinux at 0x%" PRIx64 "-0x%" PRIx64 " (entry 0x%" PRIx64 ") is not below 4 GiB",
				     c->image_start, c->image_end, c->entry);
	vmlinux_header(c);
	return 0;
}

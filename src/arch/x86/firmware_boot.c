/* Firmware boot (see firmware_boot.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/boot_priv.h"
#include "arch/x86/firmware_boot.h"
#include "core/util.h"

#define FOUR_GIB ((uint64_t)1 << 32)

/* QNX: a guest load into a rom that ends at 4 GiB is a BIOS. */
static bool in_top_rom(const struct vm_config *cfg, const struct load_config *l)
{
	for (unsigned i = 0; i < cfg->nr_rom; i++) {
		const struct rom_config *r = &cfg->rom[i];

		if (r->start + r->size == FOUR_GIB && l->addr >= r->start &&
		    l->addr < FOUR_GIB)
			return true;
	}
	return false;
}

const struct load_config *x86_fwboot_image(const struct vm_config *cfg)
{
	if (cfg->firmware.path)
		return &cfg->firmware;
	for (unsigned i = 0; i < cfg->nr_loads && i < CFG_MAX_LOADS; i++) {
		const struct load_config *l = &cfg->loads[i];

		if (l->type == BLOB_GUEST && l->has_addr && in_top_rom(cfg, l))
			return l;
	}
	return NULL;
}

/* RAM over the whole shadow already (`ram 0,1m ...`), or nothing there:
 * then it is ours to map. A ROM or a device there is the config's
 * choice, and the BIOS, which writes its data there, will not run. */
static uint64_t shadow_len(uint64_t image_size)
{
	return MIN(image_size, X86_FWBOOT_SHADOW_MAX);
}

static int map_shadow(struct guest_mem *mem, uint64_t len)
{
	uint64_t start = X86_FWBOOT_SHADOW_END - len;
	const struct guest_region *r = guest_mem_find(mem, start, len);

	if (r && r->kind == GUEST_RAM)
		return 0;
	if (r) {
		errno = EROFS;
		return -1;
	}
	return guest_mem_add(mem, start, len, GUEST_RAM) ? 0 : -1;
}

/* The image's size: the firmware statement took it; QNX's load is the
 * rest of its rom (the load checks that the file fills it). */
static uint64_t image_size(const struct vm_config *cfg,
			   const struct load_config *fw)
{
	if (fw == &cfg->firmware)
		return cfg->firmware_size;
	return FOUR_GIB - fw->addr;
}

int x86_fwboot_setup_memory(const struct vm_config *cfg,
			    struct guest_mem *mem)
{
	const struct load_config *fw = x86_fwboot_image(cfg);

	if (!fw)
		return 0;
	if (fw == &cfg->firmware &&
	    !guest_mem_add(mem, fw->addr, cfg->firmware_size, GUEST_ROM))
		return -1;
	return map_shadow(mem, shadow_len(image_size(cfg, fw)));
}

/* Firmware boots what its disks hold: a kernel, an initrd or a command
 * line of cvisor's would go nowhere. Data blobs at fixed addresses are
 * still loaded (a table the guest looks for, say). */
static int check_config(const struct vm_config *cfg,
			const struct load_config *fw, struct cfg_error *err)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "%s", fw == &cfg->firmware ?
		 "the firmware statement" : "the BIOS image");
	for (unsigned i = 0; i < cfg->nr_loads && i < CFG_MAX_LOADS; i++) {
		const struct load_config *l = &cfg->loads[i];

		if (l == fw || l->type == BLOB_DATA)
			continue;
		return boot_err(err, l->pos, "%s: %s boots from a disk; a "
				"kernel or initrd load cannot be used with it "
				"(boot the kernel from the disk, or drop the "
				"firmware)", l->path, buf);
	}
	if (cfg->cmdline)
		return boot_err(err, cfg->cmdline_pos, "cmdline: with "
				"firmware, the boot loader on the disk passes "
				"the kernel's command line");
	return 0;
}

static const void *read_image(const struct load_config *fw,
			      const struct boot_platform *plat, size_t *len)
{
	if (plat && plat->read_file)
		return plat->read_file(plat->read_ctx, fw, 16u << 20, len);
	return read_file(fw->path, 16u << 20, len);
}

static int load_data(const struct vm_config *cfg, struct guest_mem *mem,
		     const struct boot_platform *plat, struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_loads && i < CFG_MAX_LOADS; i++) {
		const struct load_config *l = &cfg->loads[i];
		const void *d;
		size_t len;
		int r;

		if (l->type != BLOB_DATA)
			continue;
		d = read_image(l, plat, &len);
		if (!d)
			return boot_err(err, l->pos, "%s: cannot read: %s",
					l->path, strerror(errno));
		r = guest_mem_load(mem, l->addr, d, len);
		if (!plat || !plat->read_file)
			free((void *)d);
		if (r)
			return boot_err(err, l->pos, "%s: data at 0x%" PRIx64
					" is outside guest memory", l->path,
					l->addr);
	}
	return 0;
}

/* The image at the top of 4 GiB and its end in the shadow: a BIOS
 * jumps from the reset vector to F000:xxxx at once, and finds its code
 * below 1 MiB. */
static int place(const struct load_config *fw, struct guest_mem *mem,
		 const void *d, size_t len, struct cfg_error *err)
{
	uint64_t n = shadow_len(len);

	if (len < 0x20000 || len % 0x10000)
		return boot_err(err, fw->pos, "%s: a BIOS image is a whole "
				"number of 64 KiB blocks, at least 128 KiB "
				"(this one is %zu bytes)", fw->path, len);
	if (fw->addr + len != FOUR_GIB)
		return boot_err(err, fw->pos, "%s: a BIOS image ends at 4 GiB "
				"(load it at 0x%" PRIx64 ")", fw->path,
				FOUR_GIB - len);
	if (guest_mem_load(mem, fw->addr, d, len))
		return boot_err(err, fw->pos, "%s: 0x%" PRIx64 "-0xffffffff is "
				"not all guest memory", fw->path, fw->addr);
	if (guest_mem_load(mem, X86_FWBOOT_SHADOW_END - n,
			   (const uint8_t *)d + len - n, n))
		return boot_err(err, fw->pos, "%s: no memory at 0x%llx-0xfffff "
				"for the BIOS shadow", fw->path,
				(unsigned long long)(0x100000 - n));
	return 0;
}

int x86_fwboot_load(const struct vm_config *cfg, struct guest_mem *mem,
		    const struct boot_platform *plat, struct boot_result *res,
		    struct cfg_error *err)
{
	const struct load_config *fw = x86_fwboot_image(cfg);
	const void *d;
	size_t len = 0;
	int r;

	memset(res, 0, sizeof(*res));
	if (!fw)
		return boot_err(err, (struct cfg_pos){ .file = "<config>" },
				"no firmware image");
	if (check_config(cfg, fw, err) || load_data(cfg, mem, plat, err))
		return -1;
	d = read_image(fw, plat, &len);
	if (!d)
		return boot_err(err, fw->pos, "%s: cannot read: %s", fw->path,
				strerror(errno));
	r = place(fw, mem, d, len, err);
	if (!plat || !plat->read_file)
		free((void *)d);
	if (r)
		return -1;
	res->proto = BOOT_FIRMWARE;
	res->cpu.mode = X86_MODE_RESET;
	res->cpu.rip = 0xfff0;
	res->image_start = fw->addr;
	res->image_end = FOUR_GIB;
	return 0;
}

/* `firmware seabios|PATH` (cvisor extension): boot through a PC BIOS
 * instead of loading a kernel. `seabios` is Debian's build of SeaBIOS
 * (package seabios); a PATH is any BIOS image. The image is mapped as ROM
 * ending at 4 GiB, as on a PC, and its size is taken here so that
 * `cvisor check` and the builder map the same range. Whether the rest of
 * the config fits (no kernel `load`) is checked where the image is loaded,
 * arch/x86/firmware_boot.c, which `cvisor check` runs too. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arch/x86/firmware_boot.h"
#include "config/cfg_internal.h"
#include "core/util.h"

/* Debian's seabios package: the 256 KiB build first (the one QEMU uses
 * for -M pc since 4.0), the 128 KiB one for older installs. */
static const char *const seabios_paths[] = {
	"/usr/share/seabios/bios-256k.bin",
	"/usr/share/seabios/bios.bin",
};

/* The firmware ROM: a whole number of 64 KiB blocks (what a memory slot
 * and the BIOS's own layout expect), at least the 128 KiB that are also
 * shadowed below 1 MiB, at most 16 MiB (QEMU's limit for -bios). */
#define FW_MIN  (128ULL << 10)
#define FW_MAX  (16ULL << 20)
#define FW_ALIGN (64ULL << 10)

static const char *find_seabios(void)
{
	for (unsigned i = 0; i < ARRAY_SIZE(seabios_paths); i++)
		if (!access(seabios_paths[i], R_OK))
			return seabios_paths[i];
	return NULL;
}

static char *fw_path(struct parser *p, const struct token *a)
{
	if (!strcmp(a->text, "seabios")) {
		const char *s = find_seabios();

		return s ? arena_strdup(p->arena, s) : NULL;
	}
	if (!a->dir || a->text[0] == '/' || !strcmp(a->dir, "."))
		return arena_strdup(p->arena, a->text);
	return arena_printf(p->arena, "%s/%s", a->dir, a->text);
}

static int check_size(struct parser *p, const struct token *a,
		      const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) || access(path, R_OK))
		return cfg_err(p->err, &a->pos, "firmware: cannot read '%s': "
			       "%s", path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		return cfg_err(p->err, &a->pos, "firmware: '%s' is not a "
			       "regular file", path);
	if ((uint64_t)st.st_size < FW_MIN || (uint64_t)st.st_size > FW_MAX ||
	    st.st_size % FW_ALIGN)
		return cfg_err(p->err, &a->pos, "firmware: '%s' is %lld bytes; "
			       "a BIOS image is 128 KiB to 16 MiB, in 64 KiB "
			       "blocks", path, (long long)st.st_size);
	*size = (uint64_t)st.st_size;
	return 0;
}

int st_firmware(struct parser *p, const struct token *kw)
{
	const struct token *a = next_arg(p, kw, "'seabios' or the path of a "
					 "BIOS image");
	struct vm_config *c = p->cfg;
	char buf[POS_STR_MAX];
	uint64_t size = 0;
	char *path;

	if (!a)
		return -1;
	if (c->firmware.path)
		return cfg_err(p->err, &kw->pos, "firmware given twice (first "
			       "at %s)", pos_str(&c->firmware.pos, buf,
						 sizeof(buf)));
	path = fw_path(p, a);
	if (!path)
		return cfg_err(p->err, &a->pos, "firmware seabios: no SeaBIOS "
			       "image (%s); install Debian's seabios package",
			       seabios_paths[0]);
	if (check_size(p, a, path, &size))
		return -1;
	c->firmware = (struct load_config){
		.type = BLOB_GUEST, .has_addr = true,
		.addr = (1ULL << 32) - size, .path = path, .pos = a->pos };
	c->firmware_size = size;
	return 0;
}

/* The BIOS copy below 1 MiB (arch/x86/firmware_boot.h) must be RAM:
 * SeaBIOS keeps its data there, and a `rom` would silently stop it. */
static int check_shadow(const struct vm_config *cfg, struct cfg_error *err)
{
	const struct load_config *fw = x86_fwboot_image(cfg);
	uint64_t size, start;

	if (!fw)
		return 0;
	size = fw == &cfg->firmware ? cfg->firmware_size :
	       X86_FWBOOT_FOUR_GIB - fw->addr;
	start = X86_FWBOOT_SHADOW_END - MIN(size, X86_FWBOOT_SHADOW_MAX);
	for (unsigned i = 0; i < cfg->nr_rom; i++) {
		const struct rom_config *r = &cfg->rom[i];

		if (r->start < X86_FWBOOT_SHADOW_END &&
		    r->start + r->size > start)
			return cfg_err(err, &r->pos, "rom: firmware boot copies "
				       "the BIOS into RAM at %#llx-0xfffff, "
				       "where it keeps its data: leave that "
				       "range out of any rom",
				       (unsigned long long)start);
	}
	return 0;
}

int validate_firmware(const struct vm_config *cfg, struct cfg_error *err)
{
	const struct load_config *fw = &cfg->firmware;

	if (cfg->arch == CFG_ARCH_X86 && check_shadow(cfg, err))
		return -1;
	if (!fw->path)
		return 0;
	if (cfg->arch != CFG_ARCH_X86)
		return cfg_err(err, &fw->pos, "firmware: a PC BIOS needs "
			       "arch x86");
	for (unsigned i = 0; i < cfg->nr_loads; i++) {
		const struct load_config *l = &cfg->loads[i];

		if (l->type == BLOB_GUEST || l->type == BLOB_INITRD)
			return cfg_err(err, &l->pos, "%s: firmware boots from "
				       "a disk; a %s load cannot be used with "
				       "it (boot the kernel from the disk, or "
				       "drop the firmware statement)", l->path,
				       l->type == BLOB_GUEST ? "kernel" :
				       "initrd");
	}
	if (cfg->cmdline)
		return cfg_err(err, &cfg->cmdline_pos, "cmdline: with firmware, "
			       "the boot loader on the disk passes the kernel's "
			       "command line");
	return 0;
}

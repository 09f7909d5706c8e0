/* What can only be checked on this host, for `cvisor check` as for a run:
 * the host CPUs a runmask names, the files the backends will open, the
 * devices as their constructors see them, and the boot image as the
 * loader sees it (format, addresses, fit). The devices and the image go
 * through the run's own code against guest memory and an event loop of
 * their own, without KVM: so check refuses exactly what the run would
 * refuse before the guest starts. Chardevs are not opened (that would
 * truncate output files, spawn `|cmd` pipes, allocate ptys): their paths
 * are checked for access instead.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arch/arm64/arm64.h"
#include "arch/x86/boot.h"
#include "arch/x86/firmware.h"
#include "arch/x86/firmware_boot.h"
#include "bus/pci.h"
#include "config/cfg_internal.h"
#include "config/host_check.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "mem/guest_mem.h"
#include "vfio/vfio.h"

static const struct cfg_pos nowhere;

static int fill_file(struct cfg_error *err)
{
	/* The boot loader's errors (boot_err) have their own copy already,
	 * with pos.file pointing at it: copying err->file onto itself is
	 * undefined, and glibc's snprintf emptied it, so that `cvisor check`
	 * printed every boot image error without its position. */
	if (err->pos.file == err->file)
		return -1;
	snprintf(err->file, sizeof(err->file), "%s",
		 err->pos.file ? err->pos.file : "");
	return -1;
}

static int check_runmasks(const struct vm_config *cfg, struct cfg_error *err)
{
	long n = sysconf(_SC_NPROCESSORS_CONF);

	for (unsigned i = 0; n > 0 && i < cfg->nr_cpus; i++) {
		const struct cpu_config *c = &cfg->cpus[i];

		if (!c->has_runmask)
			continue;
		for (long h = n; h < CPU_SETSIZE; h++)
			if (CPU_ISSET(h, &c->runmask))
				return cfg_err(err, &c->pos, "cpu runmask names "
					       "host CPU %ld, which does not "
					       "exist (this host has CPUs "
					       "0-%ld)", h, n - 1);
	}
	return 0;
}

/* The types whose hostdevs are character backends (not opened here). */
static bool is_chardev_type(const struct vdev_type *t)
{
	return t == &ser8250_type || t == &pl011_type ||
	       t == &virtio_console_type;
}

static int access_err(struct cfg_error *err, const struct cfg_hostdev *hd,
		      const char *path, const char *how)
{
	return cfg_err(err, &hd->pos, "hostdev '%s': cannot open it %s: %s",
		       path, how, strerror(errno));
}

static int check_chardev_path(const struct cfg_hostdev *hd,
			      struct cfg_error *err)
{
	const char *p = hd->path;
	char dir[4096];

	if (hd->is_pipe || !strcmp(p, "-") || !strcmp(p, "pty"))
		return 0;
	if (hd->dir == HOSTDEV_IN)
		return access(p, R_OK) ? access_err(err, hd, p, "for reading")
				       : 0;
	if (!access(p, F_OK)) {
		int mode = hd->dir == HOSTDEV_OUT ? W_OK : R_OK | W_OK;

		return access(p, mode) ? access_err(err, hd, p, hd->dir ==
						    HOSTDEV_OUT ? "for writing" :
						    "for reading and writing")
				       : 0;
	}
	/* Created by the run: its directory must take it. */
	snprintf(dir, sizeof(dir), "%s", p);
	if (access(dirname(dir), W_OK | X_OK))
		return access_err(err, hd, p, "(cannot create it)");
	return 0;
}

static int stub_ioeventfd(void *ctx, enum bus_space space, uint64_t addr,
			  unsigned len, int fd, bool datamatch, uint64_t match,
			  bool assign)
{
	return -ENOSYS;
}

static void stub_irq(void *ctx, uint32_t gsi, int level)
{
}

static void stub_power(void *ctx, enum power_request req, int status)
{
}

/* Every device through its constructor, as the builder calls it. */
static int dry_devices(const struct vm_config *cfg, struct guest_mem *mem,
		       struct cfg_error *err)
{
	struct event_loop *loop = event_loop_new();
	struct dev_env env = { .mem = mem, .loop = loop, .irq_set = stub_irq,
			       .power = stub_power,
			       .ioeventfd = stub_ioeventfd,
			       .system = cfg->system };
	struct vdev_config *copy = xcalloc(1, sizeof(*copy));
	int ret = 0;

	for (unsigned i = 0; loop && !ret && i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];
		struct device *dev = NULL;

		if (!vc->type->create)
			continue;
		*copy = *vc;
		if (is_chardev_type(vc->type)) {
			for (unsigned h = 0; !ret && h < vc->nr_hostdevs; h++)
				ret = check_chardev_path(&vc->hostdevs[h], err);
			copy->nr_hostdevs = 0;
		}
		if (!ret)
			ret = vc->type->create(copy, &env, &dev);
		if (ret > 0 || (!ret && !dev))
			ret = -EINVAL;
		if (ret < 0 && !err->msg[0])
			cfg_err(err, &vc->pos, "vdev %s: %s",
				vc->type->name, strerror(-ret));
		if (dev)
			dev->ops->free(dev);
	}
	free(copy);
	if (loop)
		event_loop_free(loop);
	else
		ret = cfg_err(err, &nowhere, "event loop: %s", strerror(errno));
	return ret ? -1 : 0;
}

static int add_memory(const struct vm_config *cfg, struct guest_mem *mem,
		      struct cfg_error *err)
{
	char why[256];

	/* The run's backing, without prealloc: check must not touch it all
	 * (huge pages are reserved at mmap time, so their lack shows). */
	guest_mem_set_backing(mem, cfg->mem_hugepages ? GUEST_MEM_HUGETLB : 0);
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (!guest_mem_add(mem, cfg->ram[i].start, cfg->ram[i].size,
				   GUEST_RAM))
			return cfg_err(err, &cfg->ram[i].pos, "ram: %s",
				       guest_mem_strerror(mem, errno,
							  cfg->ram[i].size,
							  why, sizeof(why)));
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		if (!guest_mem_add(mem, cfg->rom[i].start, cfg->rom[i].size,
				   GUEST_ROM))
			return cfg_err(err, &cfg->rom[i].pos, "rom: %s",
				       strerror(errno));
	if (cfg->arch == CFG_ARCH_X86 && x86_fwboot_setup_memory(cfg, mem))
		return cfg_err(err, x86_fwboot_image(cfg) ?
			       &x86_fwboot_image(cfg)->pos : &nowhere,
			       "firmware memory: %s", strerror(errno));
	if (cfg->arch == CFG_ARCH_X86 && x86_firmware_needs_bios_area(cfg) &&
	    !guest_mem_add(mem, X86_BIOS_AREA_START, X86_BIOS_AREA_LEN,
			   GUEST_ROM))
		return cfg_err(err, &nowhere, "BIOS area: %s", strerror(errno));
	return 0;
}

static const char *const proto_name[] = {
	[BOOT_PVH] = "PVH", [BOOT_MULTIBOOT] = "multiboot",
	[BOOT_RAW] = "raw", [BOOT_LINUX] = "Linux boot protocol",
	[BOOT_FIRMWARE] = "firmware",
};

static const char *const mode_name[] = {
	[X86_MODE_REAL] = "real mode", [X86_MODE_PROT32] = "32-bit protected "
	"mode", [X86_MODE_LONG64] = "64-bit long mode",
	[X86_MODE_RESET] = "real mode at the reset vector",
};

/* arm64: the image, initrd and device tree, as arch/arm64 places them. */
static int dry_boot_arm64(const struct vm_config *cfg, struct guest_mem *mem,
			  struct cfg_error *err)
{
	struct arm64_boot b;

	if (arm64_boot_load(cfg, mem, NULL, NULL, &b, err) < 0)
		return -1;
	pr_info("boot: %s at %#llx-%#llx, device tree at %#llx",
		b.linux_image ? "arm64 Linux Image" : b.elf ? "ELF" : "raw image",
		(unsigned long long)b.image_start,
		(unsigned long long)b.image_end,
		(unsigned long long)b.dtb_addr);
	return 0;
}

/* Firmware tables and the boot image, as the builder's setup_boot. */
static int dry_boot(const struct vm_config *cfg, struct guest_mem *mem,
		    struct cfg_error *err)
{
	struct x86_firmware_pci fw_pci;
	struct x86_firmware fw;
	struct boot_platform plat;
	struct boot_result res;
	struct pci_layout l;
	bool pci = vm_config_has_pci(cfg);
	int ret;

	if (cfg->arch == CFG_ARCH_ARM64)
		return dry_boot_arm64(cfg, mem, err);

	if (pci) {
		pci_layout_default(&l, guest_mem_ram_end(mem), 0);
		x86_firmware_pci_init(&fw_pci, &l);
	}
	ret = x86_firmware_build(cfg, mem, pci ? &fw_pci : NULL, &fw);
	if (ret)
		return cfg_err(err, &nowhere, "firmware tables: %s",
			       strerror(-ret));
	plat = (struct boot_platform){ .rsdp_addr = fw.rsdp_addr };
	if (x86_boot_load(cfg, mem, &plat, &res, err) < 0)
		return -1;
	pr_info("boot: %s, entry %#llx in %s, image %#llx-%#llx",
		proto_name[res.proto], (unsigned long long)res.cpu.rip,
		mode_name[res.cpu.mode], (unsigned long long)res.image_start,
		(unsigned long long)res.image_end);
	return 0;
}

/* The host devices `pass` names, as vfio_pass_create finds them, and
 * their ROM files, as vfio_rom_init reads them (the run's limit). */
static int check_passes(const struct vm_config *cfg, struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_pass; i++) {
		const struct pass_config *pc = &cfg->passes[i];
		struct vfio_host_dev host;
		char lookup[1024];
		const char *why;
		size_t len = 0;
		void *rom;

		if (pc->romfile) {
			rom = read_file(pc->romfile, VFIO_ROM_FILE_MAX, &len);
			why = rom ? "empty" : strerror(errno);
			free(rom);
			if (!len)
				return cfg_err(err, &pc->rom_pos, "romfile "
					       "%s: %s", pc->romfile, why);
		}
		if (vfio_find_device("/sys", pc, &host, lookup,
				     sizeof(lookup)))
			return cfg_err(err, &pc->pos, "pass: %s", lookup);
	}
	return 0;
}

int config_check_host(const struct vm_config *cfg, unsigned what,
		      struct cfg_error *err)
{
	struct guest_mem mem;
	int ret;

	memset(err, 0, sizeof(*err));
	if (check_runmasks(cfg, err) || check_passes(cfg, err) ||
	    lock_disk_images(cfg, what & HOST_CHECK_LOCK, err))
		return fill_file(err);
	config_describe(cfg);
	if (!(what & (HOST_CHECK_DEVICES | HOST_CHECK_BOOT)))
		return 0;
	guest_mem_init(&mem);
	ret = add_memory(cfg, &mem, err);
	if (!ret && (what & HOST_CHECK_DEVICES))
		ret = dry_devices(cfg, &mem, err);
	if (!ret && (what & HOST_CHECK_BOOT))
		ret = dry_boot(cfg, &mem, err);
	guest_mem_free(&mem);
	return ret ? fill_file(err) : 0;
}

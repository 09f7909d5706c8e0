/* What a PC's fw_cfg tells firmware and guests about the machine, as
 * QEMU's pc does: the RAM size, the CPU counts, the memory map
 * (etc/e820: cvisor's own, the one the boot loaders hand over), the boot
 * order, the serial console firmware should use (etc/sercon-port) and the
 * ACPI tables with their loader script (fw_cfg_acpi.c).
 *
 * An x86 VM has the device whether or not the config asks for it: QEMU's
 * pc, q35 and microvm always do, firmware and test suites written for them
 * probe port 0x510 without checking, and a guest that reads all-ones from
 * an absent one believes in 65535 CPUs. It steps aside when the config
 * puts another device on its ports or reserves them
 * (`reserve loc io:0x510,12`), which is how a config turns it off.
 */
#include <errno.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/fw_cfg.h"
#include "devices/registry.h"

static bool on_ports(const struct cfg_loc *l, uint64_t dflt_len)
{
	uint64_t len = l->has_len && l->len ? l->len : dflt_len;

	return l->space == LOC_IO &&
	       ranges_overlap(l->addr, len ? len : 1, FW_CFG_IO_BASE,
			      FW_CFG_IO_LEN);
}

bool fw_cfg_implicit(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		if (vc->type == &fw_cfg_type)
			return false;       /* the vdev is the device */
		for (unsigned j = 0; j < vc->nr_locs; j++)
			if (on_ports(&vc->locs[j], vc->type->region_len))
				return false;
	}
	for (unsigned i = 0; i < cfg->nr_reserve; i++)
		if (cfg->reserve[i].kind == RESERVE_LOC &&
		    on_ports(&cfg->reserve[i].loc, 1))
			return false;
	for (unsigned i = 0; i < cfg->nr_pass; i++)
		for (unsigned j = 0; j < cfg->passes[i].nr_locs; j++)
			if (on_ports(&cfg->passes[i].locs[j], 1))
				return false;
	return true;
}

uint64_t fw_cfg_ram_size(const struct vm_config *cfg)
{
	const uint64_t four_g = 4 * GiB;
	uint64_t below = 0, above = 0;

	for (unsigned i = 0; i < cfg->nr_ram; i++) {
		uint64_t start = cfg->ram[i].start;
		uint64_t end = start + cfg->ram[i].size;

		if (start < four_g)
			below = MAX(below, MIN(end, four_g));
		if (end > four_g)
			above += end - MAX(start, four_g);
	}
	return below + above;
}

/* etc/e820: packed { u64 address; u64 length; u32 type; }, little-endian. */
static int add_e820(struct fw_cfg *s, const struct vm_config *cfg)
{
	struct e820_entry map[X86_MEMMAP_MAX];
	uint8_t buf[X86_MEMMAP_MAX * 20];
	int n = x86_memmap_build(cfg, map, X86_MEMMAP_MAX);

	if (n < 0)
		return -ENOSPC;
	for (int i = 0; i < n; i++) {
		uint8_t *p = buf + i * 20;

		for (unsigned b = 0; b < 8; b++) {
			p[b] = (uint8_t)(map[i].addr >> (8 * b));
			p[8 + b] = (uint8_t)(map[i].size >> (8 * b));
		}
		for (unsigned b = 0; b < 4; b++)
			p[16 + b] = (uint8_t)(map[i].type >> (8 * b));
	}
	return fw_cfg_add_file(s, "etc/e820", buf, (size_t)n * 20);
}

/* SeaBIOS's serial console: the first 16550's port (a 2-byte integer,
 * which is what its romfile_loadint() takes). */
static int add_sercon(struct fw_cfg *s, const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];
		uint8_t port[2];

		if (vc->type != &ser8250_type || !vc->nr_locs ||
		    vc->locs[0].space != LOC_IO)
			continue;
		port[0] = (uint8_t)vc->locs[0].addr;
		port[1] = (uint8_t)(vc->locs[0].addr >> 8);
		return fw_cfg_add_file(s, "etc/sercon-port", port, 2);
	}
	return 0;
}

int fw_cfg_add_pc_items(struct fw_cfg *s, const struct vm_config *cfg,
			const struct x86_firmware_pci *pci,
			const char *bootorder)
{
	unsigned cpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
	int ret;

	ret = fw_cfg_add_u64(s, FW_CFG_RAM_SIZE, fw_cfg_ram_size(cfg));
	if (!ret)
		ret = fw_cfg_add_u16(s, FW_CFG_NB_CPUS, (uint16_t)cpus);
	/* No CPU hotplug: as many possible as present. */
	if (!ret)
		ret = fw_cfg_add_u16(s, FW_CFG_MAX_CPUS, (uint16_t)cpus);
	if (!ret)
		ret = fw_cfg_add_u16(s, FW_CFG_NOGRAPHIC, 1);
	if (!ret)
		ret = add_e820(s, cfg);
	/* Empty unless a device has a bootindex; QEMU always has the
	 * file, and firmware then boots in its own order. */
	if (!ret)
		ret = fw_cfg_add_file(s, "bootorder", bootorder ? bootorder : "",
				      bootorder ? strlen(bootorder) : 0);
	if (!ret)
		ret = add_sercon(s, cfg);
	if (ret) {
		pr_err("fw-cfg: machine items: %s", strerror(-ret));
		return ret;
	}
	return fw_cfg_add_acpi(s, cfg, pci);
}

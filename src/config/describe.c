/* -v: the VM as the config resolved it, so that defaults (device
 * locations and interrupts, the RAM split around the PCI hole) are
 * visible without reading the source. */
#include <stdio.h>
#include <string.h>

#include "arch/x86/boot.h"
#include "config/cfg_internal.h"
#include "config/host_check.h"
#include "core/log.h"
#include "devices/registry.h"

#define DESCRIBE_MAX_E820 64

static const char *e820_name(uint32_t type)
{
	switch (type) {
	case E820_RAM: return "ram";
	case E820_ACPI: return "acpi";
	case E820_NVS: return "nvs";
	case E820_UNUSABLE: return "unusable";
	default: return "reserved";
	}
}

static void describe_memory(const struct vm_config *cfg)
{
	struct e820_entry e[DESCRIBE_MAX_E820];
	int n = 0;

	/* arm64 has no e820 and no BIOS area: its RAM as configured */
	if (cfg->arch == CFG_ARCH_ARM64)
		for (unsigned i = 0; i < cfg->nr_ram && n < DESCRIBE_MAX_E820; i++)
			e[n++] = (struct e820_entry){ cfg->ram[i].start,
						      cfg->ram[i].size, E820_RAM };
	else
		n = x86_memmap_build(cfg, e, DESCRIBE_MAX_E820);

	for (int i = 0; i < n; i++) {
		bool mib = !(e[i].size & ((1u << 20) - 1));

		pr_info("memory 0x%010llx-0x%010llx %-8s %llu %s",
			(unsigned long long)e[i].addr,
			(unsigned long long)(e[i].addr + e[i].size - 1),
			e820_name(e[i].type),
			(unsigned long long)(e[i].size >> (mib ? 20 : 10)),
			mib ? "MiB" : "KiB");
	}
}

static void where_text(const struct vdev_config *vc, char *buf, size_t len)
{
	const struct cfg_loc *l = vc->nr_locs ? &vc->locs[0] : NULL;

	if (vc->on_pci && (!l || l->space != LOC_PCI || l->pci_by_id))
		snprintf(buf, len, "pci (first free slot)");
	else if (!l)
		snprintf(buf, len, "in-kernel");
	else if (l->space == LOC_PCI)
		snprintf(buf, len, "pci %02x:%02x.%x", l->bus, l->dev, l->fn);
	else
		snprintf(buf, len, "%s %#llx", space_name(l->space),
			 (unsigned long long)l->addr);
}

static void intr_text(const struct vdev_config *vc, char *buf, size_t len)
{
	size_t k = 0;

	buf[0] = 0;
	if (vc->on_pci) {
		snprintf(buf, len, ", MSI-X or INTx");
		return;
	}
	for (unsigned i = 0; i < vc->nr_intrs && k < len; i++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s:%u",
				      i ? "," : ", intr ", vc->intrs[i].pic,
				      vc->intrs[i].line);
}

static void backend_text(const struct vdev_config *vc, char *buf, size_t len)
{
	static const char *const dir[] = { [HOSTDEV_BOTH] = "",
		[HOSTDEV_IN] = "<", [HOSTDEV_OUT] = ">" };
	size_t k = 0;

	buf[0] = 0;
	for (unsigned i = 0; i < vc->nr_hostdevs && k < len; i++) {
		const struct cfg_hostdev *h = &vc->hostdevs[i];

		k += (size_t)snprintf(buf + k, len - k, "%s%s%s%s",
				      i ? " " : ", hostdev ", dir[h->dir],
				      h->is_pipe ? "|" : "", h->path);
	}
}

static void describe_devices(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];
		char loc[64], intr[128], be[300];

		where_text(vc, loc, sizeof(loc));
		intr_text(vc, intr, sizeof(intr));
		backend_text(vc, be, sizeof(be));
		pr_info("vdev %s%s%s: %s%s%s", vc->type->name,
			vc->name[0] ? " name " : "", vc->name, loc, intr, be);
	}
}

void config_describe(const struct vm_config *cfg)
{
	if (!log_enabled(LOG_INFO))
		return;
	describe_memory(cfg);
	describe_devices(cfg);
	pr_info("%u vCPU%s", cfg->nr_cpus ? cfg->nr_cpus : 1,
		cfg->nr_cpus > 1 ? "s" : "");
}

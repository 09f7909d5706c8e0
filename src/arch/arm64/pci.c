/* arm64's PCI host bridge, data side: where src/bus/pci_host.c's bridge
 * sits in the arm64 memory map (an ECAM window for bus 0 and a 32-bit
 * BAR window, no I/O port space), its INTx lines on the GIC, the ITS frame
 * its MSI-X messages go to, and the bridge's device-tree node
 * (`pci-host-ecam-generic`, the interrupt-map for INTx, msi-map to the
 * ITS). The bridge itself is the x86 one, unchanged. */
#include <libfdt.h>
#include <stdio.h>

#include "arch/arm64/arm64.h"
#include "bus/pci.h"

#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_; } while (0)

/* PCI phys.hi cells: the space code of a 32-bit memory range. */
#define OF_PCI_MEM32 0x02000000u

/* Only a VM with PCI gets one: nothing else sends MSIs. */
bool arm64_has_its(const struct vm_config *cfg)
{
	return arm64_gic_version(cfg) == 3 && vm_config_has_pci(cfg);
}

void arm64_pci_layout(const struct vm_config *cfg, struct pci_layout *l)
{
	pci_layout_default(l, 0, 0);
	l->hole_base = 0;            /* RAM is where the config says */
	l->ecam_base = ARM64_PCI_ECAM_BASE;
	l->ecam_size = ARM64_PCI_ECAM_SIZE;
	l->mmio32_base = ARM64_PCI_MMIO32_BASE;
	l->mmio32_size = ARM64_PCI_MMIO32_SIZE;
	l->mmio64_base = l->mmio64_size = 0;
	l->io_base = l->io_size = 0;  /* no port I/O on arm64 */
	l->intx_base = ARM64_PCI_INTX_BASE;
	l->msi_base = arm64_has_its(cfg) ? ARM64_ITS_TRANSLATER_PAGE : 0;
	l->msi_size = arm64_has_its(cfg) ? ARM64_ITS_TRANSLATER_LEN : 0;
}

static void put_cells(fdt32_t *v, unsigned *n, const uint32_t *c,
		      unsigned nc)
{
	for (unsigned i = 0; i < nc; i++)
		v[(*n)++] = cpu_to_fdt32(c[i]);
}

/* INTx: slots 0-3 by pin (the mask keeps the slot's low two bits, the
 * swizzle repeats every 4 slots), each to its level-high SPI. The GIC's
 * unit address is 2 cells (the ITS is its child) or none (GICv2). */
static int add_intx_map(void *f, unsigned gic_addr_cells, uint32_t ph_gic)
{
	const uint32_t mask[4] = { 0x1800, 0, 0, 7 };
	fdt32_t v[16 * 10];
	unsigned n = 0;
	const struct pci_layout l = { .intx_base = ARM64_PCI_INTX_BASE };

	for (unsigned slot = 0; slot < 4; slot++)
		for (unsigned pin = 1; pin <= 4; pin++) {
			const uint32_t child[4] = { slot << 11, 0, 0, pin };
			const uint32_t zero[2] = { 0, 0 };
			const uint32_t spi[3] = {
				0, pci_layout_intx(&l, slot, pin) -
				   ARM64_GIC_FIRST_SPI, 4 };

			put_cells(v, &n, child, 4);
			put_cells(v, &n, &ph_gic, 1);
			put_cells(v, &n, zero, gic_addr_cells);
			put_cells(v, &n, spi, 3);
		}
	TRY(fdt_property(f, "interrupt-map", v, n * sizeof(v[0])));
	return arm64_fdt_cells(f, "interrupt-map-mask", mask, 4);
}

int arm64_fdt_pci(void *f, const struct vm_config *cfg, uint32_t ph_gic,
		  uint32_t ph_its)
{
	const uint32_t ranges[7] = {
		OF_PCI_MEM32, 0, (uint32_t)ARM64_PCI_MMIO32_BASE,
		0, (uint32_t)ARM64_PCI_MMIO32_BASE,
		0, (uint32_t)ARM64_PCI_MMIO32_SIZE,
	};
	const uint32_t bus_range[2] = { 0, 0 };
	char name[40];

	if (!vm_config_has_pci(cfg))
		return 0;
	snprintf(name, sizeof(name), "pcie@%llx",
		 (unsigned long long)ARM64_PCI_ECAM_BASE);
	TRY(fdt_begin_node(f, name));
	TRY(fdt_property_string(f, "compatible", "pci-host-ecam-generic"));
	TRY(fdt_property_string(f, "device_type", "pci"));
	TRY(fdt_property_u32(f, "#address-cells", 3));
	TRY(fdt_property_u32(f, "#size-cells", 2));
	TRY(fdt_property_u32(f, "#interrupt-cells", 1));
	TRY(arm64_fdt_cells(f, "bus-range", bus_range, 2));
	TRY(fdt_property_u32(f, "linux,pci-domain", 0));
	TRY(arm64_fdt_u64x2(f, "reg", ARM64_PCI_ECAM_BASE,
			    ARM64_PCI_ECAM_SIZE));
	TRY(arm64_fdt_cells(f, "ranges", ranges, 7));
	TRY(fdt_property(f, "dma-coherent", NULL, 0));
	TRY(add_intx_map(f, arm64_has_its(cfg) ? 2 : 0, ph_gic));
	if (arm64_has_its(cfg)) {
		/* requester ID n is the ITS's device ID n */
		const uint32_t map[4] = { 0, ph_its, 0, 0x10000 };

		TRY(arm64_fdt_cells(f, "msi-map", map, 4));
	}
	return fdt_end_node(f);
}

/* The arm64 VM's device tree, generated with libfdt from the config:
 * memory, the cpus with PSCI, the GIC (v3 or v2), the architected timer,
 * chosen, each MMIO vdev (PL011, 16550, PL031, virtio-mmio) and the PCI
 * host bridge with the GICv3's ITS (pci.c). Linux
 * and the test guest read it; `--dump-dtb` writes it for dtc. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/arm64.h"
#include "devices/registry.h"
#include "devices/serial8250.h"
#include "virtio/mmio.h"

#define PH_GIC 1
#define PH_CLK 2
#define PH_ITS 3

/* An error of libfdt ends the build: FDT_ERR_NOSPACE is the likely one. */
#define TRY(x) do { int r_ = (x); if (r_ < 0) return r_ == -FDT_ERR_NOSPACE ? -ENOSPC : -EINVAL; } while (0)

int arm64_fdt_u64x2(void *f, const char *name, uint64_t a, uint64_t b)
{
	fdt64_t v[2] = { cpu_to_fdt64(a), cpu_to_fdt64(b) };

	return fdt_property(f, name, v, sizeof(v));
}

int arm64_fdt_cells(void *f, const char *name, const uint32_t *c,
		    unsigned n)
{
	fdt32_t v[12];

	for (unsigned i = 0; i < n && i < 12; i++)
		v[i] = cpu_to_fdt32(c[i]);
	return fdt_property(f, name, v, n * sizeof(v[0]));
}

static int add_memory(void *f, const struct vm_config *cfg)
{
	char name[48];

	for (unsigned i = 0; i < cfg->nr_ram; i++) {
		snprintf(name, sizeof(name), "memory@%llx",
			 (unsigned long long)cfg->ram[i].start);
		TRY(fdt_begin_node(f, name));
		TRY(fdt_property_string(f, "device_type", "memory"));
		TRY(arm64_fdt_u64x2(f, "reg", cfg->ram[i].start, cfg->ram[i].size));
		TRY(fdt_end_node(f));
	}
	return 0;
}

static int add_cpus(void *f, unsigned n)
{
	char name[24];

	TRY(fdt_begin_node(f, "psci"));
	TRY(fdt_property(f, "compatible", "arm,psci-0.2\0arm,psci",
			 sizeof("arm,psci-0.2\0arm,psci")));
	TRY(fdt_property_string(f, "method", "hvc"));
	TRY(fdt_end_node(f));
	TRY(fdt_begin_node(f, "cpus"));
	TRY(fdt_property_u32(f, "#address-cells", 1));
	TRY(fdt_property_u32(f, "#size-cells", 0));
	for (unsigned i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cpu@%u", i);
		TRY(fdt_begin_node(f, name));
		TRY(fdt_property_string(f, "device_type", "cpu"));
		TRY(fdt_property_string(f, "compatible", "arm,arm-v8"));
		TRY(fdt_property_u32(f, "reg", i));
		TRY(fdt_property_string(f, "enable-method", "psci"));
		TRY(fdt_end_node(f));
	}
	return fdt_end_node(f);
}

/* GICv3: the distributor and the redistributors' frames; GICv2: the
 * distributor and the CPU interface (Linux's binding names the GICv2 by
 * its first implementation, the Cortex-A15's). */
/* The ITS, the GICv3's child: PCI's MSI controller. */
static int add_its(void *f)
{
	char name[32];

	snprintf(name, sizeof(name), "its@%llx",
		 (unsigned long long)ARM64_ITS_BASE);
	TRY(fdt_begin_node(f, name));
	TRY(fdt_property_string(f, "compatible", "arm,gic-v3-its"));
	TRY(fdt_property(f, "msi-controller", NULL, 0));
	TRY(fdt_property_u32(f, "#msi-cells", 1));
	TRY(arm64_fdt_u64x2(f, "reg", ARM64_ITS_BASE, ARM64_ITS_SIZE));
	TRY(fdt_property_u32(f, "phandle", PH_ITS));
	return fdt_end_node(f);
}

static int add_gic(void *f, unsigned version, unsigned ncpus, bool its)
{
	fdt64_t reg[4] = {
		cpu_to_fdt64(ARM64_GICD_BASE), cpu_to_fdt64(ARM64_GICD_SIZE),
		cpu_to_fdt64(ARM64_GICR_BASE),
		cpu_to_fdt64(ARM64_GICR_STRIDE * ncpus),
	};

	if (version == 2) {
		reg[1] = cpu_to_fdt64(ARM64_GICV2_DIST_LEN);
		reg[2] = cpu_to_fdt64(ARM64_GICC_BASE);
		reg[3] = cpu_to_fdt64(ARM64_GICV2_CPU_LEN);
	}
	TRY(fdt_begin_node(f, "intc@8000000"));
	TRY(fdt_property_string(f, "compatible", version == 2 ?
				"arm,cortex-a15-gic" : "arm,gic-v3"));
	TRY(fdt_property_u32(f, "#interrupt-cells", 3));
	TRY(fdt_property(f, "interrupt-controller", NULL, 0));
	if (its) {
		TRY(fdt_property_u32(f, "#address-cells", 2));
		TRY(fdt_property_u32(f, "#size-cells", 2));
		TRY(fdt_property(f, "ranges", NULL, 0));
	} else {
		TRY(fdt_property_u32(f, "#address-cells", 0)); /* no children */
	}
	TRY(fdt_property(f, "reg", reg, sizeof(reg)));
	TRY(fdt_property_u32(f, "phandle", PH_GIC));
	if (its)
		TRY(add_its(f));
	return fdt_end_node(f);
}

/* A PPI's flags cell (PPI numbers count from 16); 4: level high. A
 * GICv2's PPI cells also name the CPUs that have it (bits 8-15); a
 * GICv3's have no such mask, 0xf04 is the customary value there. */
static uint32_t ppi_flags(unsigned version, unsigned ncpus)
{
	return version == 2 ? ((1u << ncpus) - 1) << 8 | 4 : 0xf04;
}

static int add_gic_timer(void *f, unsigned version, unsigned ncpus,
			 bool its)
{
	uint32_t fl = ppi_flags(version, ncpus);
	const uint32_t timer[] = {
		1, ARM64_PPI_SEC_PHYS - 16, fl, 1, ARM64_PPI_PHYS - 16, fl,
		1, ARM64_PPI_VIRT - 16, fl, 1, ARM64_PPI_HYP - 16, fl,
	};

	TRY(add_gic(f, version, ncpus, its));
	TRY(fdt_begin_node(f, "timer"));
	TRY(fdt_property_string(f, "compatible", "arm,armv8-timer"));
	TRY(arm64_fdt_cells(f, "interrupts", timer, 12));
	TRY(fdt_property(f, "always-on", NULL, 0));
	TRY(fdt_end_node(f));
	/* The PL011's clocks (Linux's amba bus wants one). */
	TRY(fdt_begin_node(f, "apb-pclk"));
	TRY(fdt_property_string(f, "compatible", "fixed-clock"));
	TRY(fdt_property_u32(f, "#clock-cells", 0));
	TRY(fdt_property_u32(f, "clock-frequency", 24000000));
	TRY(fdt_property_string(f, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_u32(f, "phandle", PH_CLK));
	return fdt_end_node(f);
}

/* `vdev pmu`: Linux's perf finds KVM's PMUv3 by this node, its overflow
 * interrupt the PPI kvm_host.c gives each vCPU (flags as the timer's). */
static int add_pmu(void *f, unsigned version, unsigned ncpus)
{
	const uint32_t irq[] = { 1, ARM64_PPI_PMU - 16,
				 ppi_flags(version, ncpus) };

	TRY(fdt_begin_node(f, "pmu"));
	TRY(fdt_property_string(f, "compatible", "arm,armv8-pmuv3"));
	TRY(arm64_fdt_cells(f, "interrupts", irq, 3));
	return fdt_end_node(f);
}

/* One MMIO vdev; *console set to its path when it is the first UART. */
static int add_vdev(void *f, const struct vdev_config *vc, char *console,
		    size_t cap)
{
	const char *t = vc->type->name;
	const char *node, *compat;
	size_t clen;
	uint64_t len;
	uint32_t irq[3] = { 0, 0, 4 };
	char name[64];

	if (!vc->nr_locs || vc->locs[0].space != LOC_MEM || vc->on_pci)
		return 0;
	if (!strcmp(t, "pl011")) {
		node = "pl011"; compat = "arm,pl011\0arm,primecell";
		clen = sizeof("arm,pl011\0arm,primecell"); len = 0x1000;
	} else if (!strcmp(t, "ser8250")) {
		node = "serial"; compat = "ns16550a"; clen = sizeof("ns16550a");
		len = 8u << ser8250_reg_shift(vc);
	} else if (!strcmp(t, "pl031")) {
		node = "pl031"; compat = "arm,pl031\0arm,primecell";
		clen = sizeof("arm,pl031\0arm,primecell"); len = 0x1000;
	} else if (!strncmp(t, "virtio-", 7)) {
		node = "virtio_mmio"; compat = "virtio,mmio";
		clen = sizeof("virtio,mmio"); len = VIRTIO_MMIO_REGION_LEN;
		irq[2] = 1;	/* edge: virtio-mmio's irqfd */
	} else {
		return 0;
	}
	if (vc->locs[0].has_len && vc->locs[0].len)
		len = vc->locs[0].len;
	snprintf(name, sizeof(name), "%s@%llx", node,
		 (unsigned long long)vc->locs[0].addr);
	TRY(fdt_begin_node(f, name));
	TRY(fdt_property(f, "compatible", compat, (int)clen));
	TRY(arm64_fdt_u64x2(f, "reg", vc->locs[0].addr, len));
	if (vc->nr_intrs && vc->intrs[0].line >= ARM64_GIC_FIRST_SPI) {
		irq[1] = vc->intrs[0].line - ARM64_GIC_FIRST_SPI;
		TRY(arm64_fdt_cells(f, "interrupts", irq, 3));
	}
	if (!strcmp(node, "pl011")) {
		const uint32_t clk[2] = { PH_CLK, PH_CLK };

		TRY(arm64_fdt_cells(f, "clocks", clk, 2));
		TRY(fdt_property(f, "clock-names", "uartclk\0apb_pclk",
				 sizeof("uartclk\0apb_pclk")));
	} else if (!strcmp(node, "pl031")) {
		TRY(fdt_property_u32(f, "clocks", PH_CLK));
		TRY(fdt_property_string(f, "clock-names", "apb_pclk"));
	} else if (!strcmp(node, "serial")) {
		unsigned shift = ser8250_reg_shift(vc);

		TRY(fdt_property_u32(f, "clock-frequency", 1843200));
		if (shift) {
			TRY(fdt_property_u32(f, "reg-shift", shift));
			TRY(fdt_property_u32(f, "reg-io-width", 1u << shift));
		}
	} else {
		TRY(fdt_property(f, "dma-coherent", NULL, 0));
	}
	TRY(fdt_end_node(f));
	if (!console[0] && (!strcmp(node, "pl011") || !strcmp(node, "serial")))
		snprintf(console, cap, "/%s", name);
	return 0;
}

static int add_chosen(void *f, const struct vm_config *cfg,
		      const struct arm64_boot *b, const char *console)
{
	TRY(fdt_begin_node(f, "chosen"));
	if (cfg->cmdline)
		TRY(fdt_property_string(f, "bootargs", cfg->cmdline));
	if (console[0])
		TRY(fdt_property_string(f, "stdout-path", console));
	if (b && b->initrd_end > b->initrd_start) {
		TRY(fdt_property_u64(f, "linux,initrd-start", b->initrd_start));
		TRY(fdt_property_u64(f, "linux,initrd-end", b->initrd_end));
	}
	return fdt_end_node(f);
}

int arm64_fdt_build(const struct vm_config *cfg, const struct arm64_boot *b,
		    void *buf, size_t cap)
{
	unsigned ncpus = cfg->nr_cpus ? cfg->nr_cpus : 1;
	char console[80] = "";

	if (cap > INT32_MAX)
		cap = INT32_MAX;
	TRY(fdt_create(buf, (int)cap));
	TRY(fdt_finish_reservemap(buf));
	TRY(fdt_begin_node(buf, ""));
	TRY(fdt_property_string(buf, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_string(buf, "model", "cvisor arm64"));
	TRY(fdt_property_u32(buf, "#address-cells", 2));
	TRY(fdt_property_u32(buf, "#size-cells", 2));
	TRY(fdt_property_u32(buf, "interrupt-parent", PH_GIC));
	TRY(add_memory(buf, cfg));
	TRY(add_cpus(buf, ncpus));
	TRY(add_gic_timer(buf, arm64_gic_version(cfg), ncpus,
			  arm64_has_its(cfg)));
	if (arm64_has_pmu(cfg))
		TRY(add_pmu(buf, arm64_gic_version(cfg), ncpus));
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		TRY(add_vdev(buf, &cfg->vdevs[i], console, sizeof(console)));
	TRY(arm64_fdt_pci(buf, cfg, PH_GIC, PH_ITS));
	TRY(add_chosen(buf, cfg, b, console));
	TRY(fdt_end_node(buf));
	TRY(fdt_finish(buf));
	return 0;
}

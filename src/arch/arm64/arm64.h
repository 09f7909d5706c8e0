/* arm64: the machine cvisor builds on AArch64 KVM (issue 15) and its
 * data side (boot images, the device tree), which is built on every host
 * so that `cvisor check --arch arm64` works anywhere. The KVM side is
 * kvm_host.c (arch/arch.h's implementation on arm64 hosts).
 *
 * The memory map: the GICv3 distributor and redistributors at QEMU virt's
 * addresses, RAM and devices where the config puts them (QNX's examples:
 * ram 0x80000000, a PL011 at 0x1c090000 with intr gic:37). */
#ifndef CVISOR_ARCH_ARM64_ARM64_H
#define CVISOR_ARCH_ARM64_ARM64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "mem/guest_mem.h"

#define ARM64_GICD_BASE      0x08000000ULL
#define ARM64_GICD_SIZE      0x10000ULL
#define ARM64_GICR_BASE      0x080a0000ULL
#define ARM64_GICR_STRIDE    0x20000ULL     /* RD_base + SGI_base frames */
#define ARM64_GICR_MAX_CPUS  123            /* up to 0x09000000 */
/* INTIDs: SGIs 0-15, PPIs 16-31, SPIs from 32; 1020-1023 are special. */
#define ARM64_GIC_FIRST_SPI  32
#define ARM64_GIC_MAX_INTID  1019
/* GICv2 (`vdev gic version 2`): the distributor at the same base, the
 * CPU interface right after it; at most 8 CPUs. */
#define ARM64_GICC_BASE      0x08010000ULL
#define ARM64_GICV2_DIST_LEN 0x1000ULL
#define ARM64_GICV2_CPU_LEN  0x2000ULL
#define ARM64_GICV2_MAX_CPUS 8
/* The GICv3's ITS (MSI-X for PCI; none with a GICv2): QEMU virt's
 * frame, between the distributor and the redistributors. Devices write
 * GITS_TRANSLATER in its second 64 KiB page. */
#define ARM64_ITS_BASE       0x08080000ULL
#define ARM64_ITS_SIZE       0x20000ULL
#define ARM64_ITS_TRANSLATER_PAGE (ARM64_ITS_BASE + 0x10000)
#define ARM64_ITS_TRANSLATER_LEN  0x10000ULL
/* The PCI host bridge (when some device is on PCI): ECAM for bus 0 and
 * the 32-bit BAR window below the 1 GiB line (QNX's examples put RAM at
 * 0x80000000 and devices around 0x1c000000), no I/O space; INTA-INTD
 * swizzled onto INTIDs 200-203. */
#define ARM64_PCI_MMIO32_BASE 0x20000000ULL
#define ARM64_PCI_MMIO32_SIZE 0x1f000000ULL
#define ARM64_PCI_ECAM_BASE   0x3f000000ULL
#define ARM64_PCI_ECAM_SIZE   0x100000ULL    /* 1 MiB: bus 0 */
#define ARM64_PCI_INTX_BASE   200
/* KVM's vGIC has at most 992 lines (a multiple of 32 below 1024). */
#define ARM64_GIC_KVM_LINES  992

/* The architected timer's PPIs, as INTIDs. */
#define ARM64_PPI_SEC_PHYS   29
#define ARM64_PPI_PHYS       30
#define ARM64_PPI_VIRT       27
#define ARM64_PPI_HYP        26
/* The PMU's overflow interrupt (`vdev pmu`), QEMU virt's PPI. */
#define ARM64_PPI_PMU        23

/* The boot vCPU's state: where it starts and its x0 (the tree). */
struct arm64_boot {
	uint64_t pc, x0;
	uint64_t image_start, image_end;
	uint64_t dtb_addr, dtb_size;
	uint64_t initrd_start, initrd_end;
	bool linux_image, elf;
};

/* The Linux arm64 Image header (Documentation/arm64/booting.rst). */
struct arm64_image_header {
	uint32_t code0, code1;
	uint64_t text_offset;   /* little-endian */
	uint64_t image_size;    /* little-endian; 0: an old kernel */
	uint64_t flags;
	uint64_t res2, res3, res4;
	uint32_t magic;         /* "ARM\x64" */
	uint32_t res5;
};
#define ARM64_IMAGE_MAGIC 0x644d5241u

/* ELF64 AArch64 executables (elf.c): load into mem, fill b's pc and
 * image range; NULL, or why the file was refused. */
bool arm64_is_elf(const void *p, size_t len);
const char *arm64_elf_load(struct guest_mem *mem, const void *data,
			   size_t len, struct arm64_boot *b);

/* The GIC's architecture: 2 or 3 (`vdev gic version N`, default 3). */
unsigned arm64_gic_version(const struct vm_config *cfg);
/* `vdev pmu`: KVM's PMUv3 on every vCPU (pmu.c). */
bool arm64_has_pmu(const struct vm_config *cfg);

/* The VM has an ITS (a GICv3 and PCI devices): their MSI-X goes there. */
bool arm64_has_its(const struct vm_config *cfg);
/* pci.c: where the PCI host bridge sits, its INTx lines and MSI window;
 * its device-tree node under the root (nothing without PCI devices). */
struct pci_layout;
void arm64_pci_layout(const struct vm_config *cfg, struct pci_layout *l);
/* fdt.c: a property of n (at most 12) 32-bit cells; of two 64-bit ones. */
int arm64_fdt_cells(void *f, const char *name, const uint32_t *c,
		    unsigned n);
int arm64_fdt_u64x2(void *f, const char *name, uint64_t a, uint64_t b);
int arm64_fdt_pci(void *fdt, const struct vm_config *cfg, uint32_t ph_gic,
		  uint32_t ph_its);

/* The GIC's lines a config uses, and how many lines the vGIC needs. */
unsigned arm64_gic_lines(const struct vm_config *cfg);
/* The SPIs of that vGIC (at most ARM64_GIC_KVM_LINES' worth): the routes
 * a GSI routing table must keep (arch_irqchip_routes). */
unsigned arm64_spi_routes(const struct vm_config *cfg);

/* Build the device tree for cfg into buf (size cap); dtb_boot gives the
 * initrd's range (0, 0: none). 0 or a negative errno. */
int arm64_fdt_build(const struct vm_config *cfg, const struct arm64_boot *b,
		    void *buf, size_t cap);

/* Load the guest image and initrd of cfg into mem, build the device tree
 * and place it; fill b. read_file as struct boot_platform's (NULL: from
 * disk). Errors at the load's cfg position; -1. */
int arm64_boot_load(const struct vm_config *cfg, struct guest_mem *mem,
		    const void *(*read_file)(void *ctx,
					     const struct load_config *l,
					     size_t max, size_t *len),
		    void *read_ctx, struct arm64_boot *b,
		    struct cfg_error *err);

/* abort.c (KVM side): accesses KVM cannot decode come back to cvisor,
 * which raises an external abort in the guest; where KVM cannot, said
 * once and left as before (KVM_RUN's ENOSYS stops the VM). */
struct vm;
void arm64_nisv_setup(struct vm *vm);

/* --dump-dtb: the tree of cfg's VM into the file path. 0, or -1 with
 * err set (err->pos.line 0: no config position). */
int arm64_dtb_dump(const struct vm_config *cfg, const char *path,
		   struct cfg_error *err);

#endif

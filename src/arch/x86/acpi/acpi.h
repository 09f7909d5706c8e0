/* ACPI tables for an x86 guest, built from the vm_config alone. Each table
 * is built into its own buffer; acpi_build() gives every table its guest
 * address, links them (RSDP -> XSDT/RSDT -> FADT -> DSDT, FACS, MADT, MCFG) and
 * fixes the checksums. Nothing here touches guest memory: firmware.c copies
 * the result, and the --dump-acpi path writes it to files.
 *
 * Layouts are those of the ACPI 6.5 specification, chapter 5.2.
 */
#ifndef CVISOR_ARCH_X86_ACPI_ACPI_H
#define CVISOR_ARCH_X86_ACPI_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include "arch/x86/acpi/fw_buf.h"
#include "arch/x86/firmware.h"
#include "config/config.h"

#define ACPI_OEM_ID        "CVISOR"
#define ACPI_OEM_TABLE_ID  "CVISORVM"
#define ACPI_OEM_REVISION  1
#define ACPI_CREATOR_ID    "CVSR"
#define ACPI_CREATOR_REV   1

#define X86_LAPIC_BASE     0xfee00000u
#define X86_IOAPIC_BASE    0xfec00000u
#define X86_IOAPIC_VERSION 0x11    /* what KVM's IOAPIC reports */

/* System description table header (ACPI 5.2.6), 36 bytes. */
struct acpi_header {
	char signature[4];
	uint32_t length;
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	char creator_id[4];
	uint32_t creator_revision;
} __attribute__((packed));

/* Generic Address Structure (ACPI 5.2.3.2), 12 bytes. */
struct acpi_gas {
	uint8_t space_id;          /* 0 memory, 1 system I/O */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;       /* 1 byte, 2 word, 3 dword, 4 qword */
	uint64_t address;
} __attribute__((packed));

#define ACPI_GAS_IO        1
#define ACPI_ACCESS_BYTE   1

/* The interrupt controller numbering that the MADT and the MP table share:
 * LAPIC id = ACPI processor UID = vCPU index; the IOAPIC's id follows the
 * last LAPIC id so that no two APICs share one. */
static inline unsigned acpi_nr_cpus(const struct vm_config *cfg)
{
	return cfg->nr_cpus ? cfg->nr_cpus : 1;
}

static inline uint8_t acpi_ioapic_id(const struct vm_config *cfg)
{
	return (uint8_t)acpi_nr_cpus(cfg);
}

/* Start a table: a zeroed header with the signature and our OEM fields;
 * acpi_table_finish() sets length and checksum once the body is written. */
void acpi_table_start(struct fw_buf *b, const char sig[4], uint8_t revision);
void acpi_table_finish(struct fw_buf *b);

/* The tables, each built into b (which must be empty). pci may be NULL. */
void acpi_dsdt_build(struct fw_buf *b, const struct vm_config *cfg,
		     const struct x86_firmware_pci *pci);
/* \_SB.PCI0 and the ECAM's motherboard resource, inside \_SB (acpi_pci.c). */
void acpi_dsdt_add_pci(struct fw_buf *b, const struct x86_firmware_pci *pci);
/* \_SB.PWRB and \_SB.GED0, the power button, inside \_SB (acpi_ged.c);
 * nothing when no interrupt line is free for it. */
void acpi_dsdt_add_ged(struct fw_buf *b, const struct vm_config *cfg);
void acpi_fadt_build(struct fw_buf *b, const struct vm_config *cfg,
		     uint64_t dsdt_addr, uint64_t facs_addr);
/* The FACS: no header checksum; 64-byte aligned in memory. */
#define ACPI_FACS_LEN 64
void acpi_facs_build(struct fw_buf *b);
void acpi_madt_build(struct fw_buf *b, const struct vm_config *cfg);
void acpi_mcfg_build(struct fw_buf *b, uint64_t ecam_base, uint16_t segment,
		     uint8_t bus_start, uint8_t bus_end);
void acpi_xsdt_build(struct fw_buf *b, const uint64_t *addrs, unsigned n);
void acpi_rsdt_build(struct fw_buf *b, const uint64_t *addrs, unsigned n);
/* RSDP revision 2 (36 bytes) with both checksums. */
void acpi_rsdp_build(struct fw_buf *b, uint64_t rsdt_addr, uint64_t xsdt_addr);

/* What the configuration puts in the FADT's IA-PC boot flags. */
uint16_t acpi_iapc_boot_arch(const struct vm_config *cfg);
bool acpi_has_vdev(const struct vm_config *cfg, const char *type_name);

/* ---- the whole set ---- */

#define ACPI_MAX_TABLES 9

struct acpi_table {
	char sig[5];               /* "FACP", "RSDP" for the RSDP */
	uint64_t addr;             /* guest-physical */
	struct fw_buf b;
};

struct acpi_tables {
	struct acpi_table t[ACPI_MAX_TABLES]; /* t[0] is the RSDP */
	unsigned nr;
	uint64_t end;              /* first guest address after the tables */
};

/* Build every table: the RSDP at rsdp_addr (16-byte aligned), the others
 * from tables_addr up, each 16-byte aligned. pci NULL: no PCI (no MCFG,
 * no PCI0); otherwise its windows must be complete (firmware.c fills in
 * the defaults). */
void acpi_build(struct acpi_tables *t, const struct vm_config *cfg,
		const struct x86_firmware_pci *pci, uint64_t rsdp_addr,
		uint64_t tables_addr);
void acpi_tables_free(struct acpi_tables *t);
const struct acpi_table *acpi_find(const struct acpi_tables *t,
				   const char *sig);

#endif

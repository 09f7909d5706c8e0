/* MADT (ACPI 5.2.12), revision 5: one enabled Processor Local APIC per vCPU,
 * KVM's in-kernel IOAPIC, the ISA IRQ0 -> GSI 2 override that every PC
 * has (the PIT is wired to IOAPIC pin 2, as in QEMU and KVM's routing),
 * the SCI's override (its ISA IRQ, level, active high, as QEMU's), and
 * LINT1 as NMI on every processor. Processors are xAPIC entries with
 * 8-bit ids (at most 64 vCPUs), so a `cpuid -x2apic` guest can use them. PCAT_COMPAT says an 8259 pair
 * exists, which is true: KVM's in-kernel PIC is there. PCI INTx needs
 * nothing here: its GSIs 16-19 are not ISA IRQs, and a _PRT GSI entry is
 * level-triggered, active low by definition (acpi_pci.c). */
#include "arch/x86/acpi/acpi.h"

#define MADT_PCAT_COMPAT     1u

#define MADT_LAPIC           0
#define MADT_IOAPIC          1
#define MADT_ISO             2
#define MADT_LAPIC_NMI       4

#define MADT_LAPIC_ENABLED   1u
/* MPS INTI flags: active high (01), level-triggered (11 << 2): the SCI
 * as the acpi-pm device drives it (ISA's default would be edge) */
#define MADT_SCI_FLAGS       0x000d
#define MADT_ALL_PROCESSORS  0xff

static void lapic(struct fw_buf *b, uint8_t uid, uint8_t apic_id)
{
	fw_buf_u8(b, MADT_LAPIC);
	fw_buf_u8(b, 8);
	fw_buf_u8(b, uid);
	fw_buf_u8(b, apic_id);
	fw_buf_u32(b, MADT_LAPIC_ENABLED);
}

static void ioapic(struct fw_buf *b, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	fw_buf_u8(b, MADT_IOAPIC);
	fw_buf_u8(b, 12);
	fw_buf_u8(b, id);
	fw_buf_u8(b, 0);
	fw_buf_u32(b, addr);
	fw_buf_u32(b, gsi_base);
}

/* flags 0: polarity and trigger "conform to the bus" (ISA: edge, high). */
static void iso(struct fw_buf *b, uint8_t irq, uint32_t gsi, uint16_t flags)
{
	fw_buf_u8(b, MADT_ISO);
	fw_buf_u8(b, 10);
	fw_buf_u8(b, 0);                   /* bus: ISA */
	fw_buf_u8(b, irq);
	fw_buf_u32(b, gsi);
	fw_buf_u16(b, flags);
}

static void lapic_nmi(struct fw_buf *b, uint8_t uid, uint8_t lint)
{
	fw_buf_u8(b, MADT_LAPIC_NMI);
	fw_buf_u8(b, 6);
	fw_buf_u8(b, uid);
	fw_buf_u16(b, 0);
	fw_buf_u8(b, lint);
}

void acpi_madt_build(struct fw_buf *b, const struct vm_config *cfg)
{
	unsigned n = acpi_nr_cpus(cfg);
	int sci = x86_acpi_sci_irq(cfg);

	acpi_table_start(b, "APIC", 5);
	fw_buf_u32(b, X86_LAPIC_BASE);
	fw_buf_u32(b, MADT_PCAT_COMPAT);
	for (unsigned i = 0; i < n; i++)
		lapic(b, (uint8_t)i, (uint8_t)i);
	ioapic(b, acpi_ioapic_id(cfg), X86_IOAPIC_BASE, 0);
	iso(b, 0, 2, 0);
	if (sci >= 0)
		iso(b, (uint8_t)sci, (uint32_t)sci, MADT_SCI_FLAGS);
	lapic_nmi(b, MADT_ALL_PROCESSORS, 1);
	acpi_table_finish(b);
}

/* MP tables (Intel MP Specification 1.4, chapter 4). Entries, in the order
 * the spec asks (sorted by type): one processor per vCPU (the BSP flagged),
 * the buses (PCI bus 0 as bus id 0 when the VM has PCI, since Linux takes
 * a PCI bus's id for its number; then ISA), the IOAPIC, ISA IRQs 0-15 but
 * 2 on IOAPIC pins (IRQ0 on pin 2, as the MADT's override says; the SCI
 * level and active high, as the MADT's), every PCI slot's INTA-INTD on
 * the pins bus/pci.h's swizzle gives them (level, active low: what Linux
 * needs to route INTx with acpi=off), then ExtINT on LINT0 and NMI on
 * LINT1. */
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "arch/x86/mptable.h"
#include "bus/pci.h"

struct mp_floating {
	char signature[4];         /* "_MP_" */
	uint32_t physptr;          /* configuration table */
	uint8_t length;            /* in 16-byte units: 1 */
	uint8_t spec_rev;          /* 4: version 1.4 */
	uint8_t checksum;
	uint8_t feature[5];        /* 0: a configuration table exists;
				      IMCRP clear: virtual wire mode */
} __attribute__((packed));

struct mp_config {
	char signature[4];         /* "PCMP" */
	uint16_t length;           /* header + entries */
	uint8_t spec_rev;
	uint8_t checksum;
	char oem_id[8];
	char product_id[12];
	uint32_t oem_table;
	uint16_t oem_table_size;
	uint16_t entry_count;
	uint32_t lapic_addr;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
} __attribute__((packed));

_Static_assert(sizeof(struct mp_floating) == MP_FLOATING_LEN, "MP FPS size");
_Static_assert(sizeof(struct mp_config) == 44, "MP config header size");

enum { MP_PROCESSOR, MP_BUS, MP_IOAPIC, MP_IOINTR, MP_LINTR };
enum { MP_INT, MP_NMI, MP_SMI, MP_EXTINT };

#define MP_SPEC_REV      4
#define MP_CPU_ENABLED   1
#define MP_CPU_BSP       2
#define MP_CPU_SIGNATURE 0x600     /* family 6: what a modern CPU says */
#define MP_CPU_FEATURES  0x201     /* CPUID.1 EDX: FPU, APIC */
#define MP_LAPIC_VERSION 0x14      /* KVM's local APIC */
#define MP_ALL_LAPICS    0xff
#define MP_PCI_BUS       0
#define MP_PCI_SLOTS     32
#define MP_PCI_PINS      4
/* I/O interrupt flags: polarity (bits 0-1) and trigger (bits 2-3);
 * 0 = conforms to the bus (ISA: edge, high) */
#define MP_FLAGS_BUS     0x0
#define MP_FLAGS_LEVEL_HIGH 0xd
#define MP_FLAGS_LEVEL_LOW  0xf

static void processor(struct fw_buf *b, uint8_t id, bool bsp)
{
	fw_buf_u8(b, MP_PROCESSOR);
	fw_buf_u8(b, id);
	fw_buf_u8(b, MP_LAPIC_VERSION);
	fw_buf_u8(b, MP_CPU_ENABLED | (bsp ? MP_CPU_BSP : 0));
	fw_buf_u32(b, MP_CPU_SIGNATURE);
	fw_buf_u32(b, MP_CPU_FEATURES);
	fw_buf_zero(b, 8);
}

static void bus(struct fw_buf *b, uint8_t id, const char type[6])
{
	fw_buf_u8(b, MP_BUS);
	fw_buf_u8(b, id);
	fw_buf_put(b, type, 6);
}

static void ioapic(struct fw_buf *b, uint8_t id)
{
	fw_buf_u8(b, MP_IOAPIC);
	fw_buf_u8(b, id);
	fw_buf_u8(b, X86_IOAPIC_VERSION);
	fw_buf_u8(b, 1);                   /* enabled */
	fw_buf_u32(b, X86_IOAPIC_BASE);
}

/* I/O (type 3) and local (type 4) interrupt entries share one layout. */
static void intr(struct fw_buf *b, uint8_t entry, uint8_t kind,
		 uint16_t flags, uint8_t src_bus, uint8_t src_irq,
		 uint8_t dst_id, uint8_t dst_pin)
{
	fw_buf_u8(b, entry);
	fw_buf_u8(b, kind);
	fw_buf_u16(b, flags);
	fw_buf_u8(b, src_bus);
	fw_buf_u8(b, src_irq);
	fw_buf_u8(b, dst_id);
	fw_buf_u8(b, dst_pin);
}

static uint16_t isa_irqs(struct fw_buf *b, const struct vm_config *cfg,
			 uint8_t isa, uint8_t io_id)
{
	int sci = x86_acpi_sci_irq(cfg);
	uint16_t count = 0;

	for (uint8_t irq = 0; irq < 16; irq++) {
		if (irq == 2)              /* the cascade: nothing there */
			continue;
		intr(b, MP_IOINTR, MP_INT, irq == sci ? MP_FLAGS_LEVEL_HIGH :
		     MP_FLAGS_BUS, isa, irq, io_id, irq ? irq : 2);
		count++;
	}
	return count;
}

/* Source bus IRQ of a PCI interrupt: slot << 2 | pin (0 = INTA). */
static uint16_t pci_irqs(struct fw_buf *b, uint8_t io_id)
{
	uint16_t count = 0;

	for (unsigned slot = 1; slot < MP_PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < MP_PCI_PINS; pin++, count++)
			intr(b, MP_IOINTR, MP_INT, MP_FLAGS_LEVEL_LOW,
			     MP_PCI_BUS, (uint8_t)(slot << 2 | pin), io_id,
			     (uint8_t)pci_intx_gsi(slot, pin + 1));
	return count;
}

static uint16_t entries(struct fw_buf *b, const struct vm_config *cfg)
{
	unsigned n = acpi_nr_cpus(cfg);
	uint8_t io_id = acpi_ioapic_id(cfg);
	bool pci = vm_config_has_pci(cfg);
	uint8_t isa = pci ? MP_PCI_BUS + 1 : 0;
	uint16_t count = 0;

	for (unsigned i = 0; i < n; i++, count++)
		processor(b, (uint8_t)i, i == 0);
	if (pci) {
		bus(b, MP_PCI_BUS, "PCI   ");
		count++;
	}
	bus(b, isa, "ISA   ");
	ioapic(b, io_id);
	count += 2;
	count += isa_irqs(b, cfg, isa, io_id);
	if (pci)
		count += pci_irqs(b, io_id);
	intr(b, MP_LINTR, MP_EXTINT, MP_FLAGS_BUS, isa, 0, MP_ALL_LAPICS, 0);
	intr(b, MP_LINTR, MP_NMI, MP_FLAGS_BUS, isa, 0, MP_ALL_LAPICS, 1);
	return count + 2;
}

void mptable_build(const struct vm_config *cfg, struct fw_buf *fp,
		   struct fw_buf *table, uint64_t table_addr)
{
	struct mp_floating f = { .physptr = (uint32_t)table_addr, .length = 1,
				 .spec_rev = MP_SPEC_REV };
	struct mp_config h = { .spec_rev = MP_SPEC_REV,
			       .lapic_addr = X86_LAPIC_BASE };
	struct mp_config *hp;

	memcpy(h.signature, "PCMP", 4);
	memcpy(h.oem_id, "CVISOR  ", 8);
	memcpy(h.product_id, "CVISORVM    ", 12);
	fw_buf_put(table, &h, sizeof(h));
	h.entry_count = entries(table, cfg);
	hp = (struct mp_config *)table->data;
	hp->entry_count = h.entry_count;
	hp->length = (uint16_t)table->len;
	hp->checksum = fw_checksum(table->data, table->len);

	memcpy(f.signature, "_MP_", 4);
	f.checksum = fw_checksum(&f, sizeof(f));
	fw_buf_put(fp, &f, sizeof(f));
}

/* Intel MultiProcessor Specification 1.4 tables, for guests built without
 * ACPI: the MP floating pointer structure ("_MP_", 16 bytes, which a guest
 * finds by scanning 0xF0000-0xFFFFF on 16-byte boundaries) and the MP
 * configuration table ("PCMP") it points to. The APIC numbering is the
 * MADT's: LAPIC id = vCPU index, IOAPIC id = number of vCPUs. */
#ifndef CVISOR_ARCH_X86_MPTABLE_H
#define CVISOR_ARCH_X86_MPTABLE_H

#include <stdint.h>

#include "arch/x86/acpi/fw_buf.h"
#include "config/config.h"

#define MP_FLOATING_LEN 16

/* Fill fp (empty) with the floating pointer that will live at fp_addr and
 * table (empty) with the configuration table for table_addr. */
void mptable_build(const struct vm_config *cfg, struct fw_buf *fp,
		   struct fw_buf *table, uint64_t table_addr);

#endif

/* MCFG (PCI Firmware Specification 3.0, 4.1.2): where the ECAM window of
 * each PCI segment lies. Built only when PCI exists (acpi_build's pci). */
#include "arch/x86/acpi/acpi.h"

void acpi_mcfg_build(struct fw_buf *b, uint64_t ecam_base, uint16_t segment,
		     uint8_t bus_start, uint8_t bus_end)
{
	acpi_table_start(b, "MCFG", 1);
	fw_buf_zero(b, 8);                 /* reserved */
	fw_buf_u64(b, ecam_base);          /* address of bus 0, not bus_start */
	fw_buf_u16(b, segment);
	fw_buf_u8(b, bus_start);
	fw_buf_u8(b, bus_end);
	fw_buf_u32(b, 0);                  /* reserved */
	acpi_table_finish(b);
}

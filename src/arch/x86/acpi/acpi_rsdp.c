/* The root of the tables: RSDP (ACPI 5.2.5), XSDT (5.2.8) and RSDT (5.2.7).
 * The RSDT is there for ACPI 1.0 guests that ignore the XSDT; both list the
 * same tables, and every table lives below 4 GiB so the 32-bit pointers
 * are exact (ACPICA prefers the XSDT and does not compare them). */
#include <string.h>

#include "arch/x86/acpi/acpi.h"

struct acpi_rsdp {
	char signature[8];         /* "RSD PTR " */
	uint8_t checksum;          /* of the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;          /* 2: ACPI 2.0+ layout, XSDT valid */
	uint32_t rsdt_address;
	uint32_t length;           /* 36 */
	uint64_t xsdt_address;
	uint8_t extended_checksum; /* of all 36 bytes */
	uint8_t reserved[3];
} __attribute__((packed));

_Static_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");

void acpi_rsdp_build(struct fw_buf *b, uint64_t rsdt_addr, uint64_t xsdt_addr)
{
	struct acpi_rsdp r = { .revision = 2, .rsdt_address = (uint32_t)rsdt_addr,
			       .length = sizeof(r), .xsdt_address = xsdt_addr };

	memcpy(r.signature, "RSD PTR ", 8);
	memcpy(r.oem_id, ACPI_OEM_ID, 6);
	r.checksum = fw_checksum(&r, 20);
	r.extended_checksum = fw_checksum(&r, sizeof(r));
	fw_buf_put(b, &r, sizeof(r));
}

void acpi_xsdt_build(struct fw_buf *b, const uint64_t *addrs, unsigned n)
{
	acpi_table_start(b, "XSDT", 1);
	for (unsigned i = 0; i < n; i++)
		fw_buf_u64(b, addrs[i]);
	acpi_table_finish(b);
}

void acpi_rsdt_build(struct fw_buf *b, const uint64_t *addrs, unsigned n)
{
	acpi_table_start(b, "RSDT", 1);
	for (unsigned i = 0; i < n; i++)
		fw_buf_u32(b, (uint32_t)addrs[i]);
	acpi_table_finish(b);
}

/* Header, checksum and the config questions several tables ask. */
#include <string.h>

#include "arch/x86/acpi/acpi.h"
#include "devices/registry.h"

void acpi_table_start(struct fw_buf *b, const char sig[4], uint8_t revision)
{
	struct acpi_header h = { .revision = revision,
				 .oem_revision = ACPI_OEM_REVISION,
				 .creator_revision = ACPI_CREATOR_REV };

	memcpy(h.signature, sig, 4);
	memcpy(h.oem_id, ACPI_OEM_ID, 6);
	memcpy(h.oem_table_id, ACPI_OEM_TABLE_ID, 8);
	memcpy(h.creator_id, ACPI_CREATOR_ID, 4);
	fw_buf_put(b, &h, sizeof(h));
}

void acpi_table_finish(struct fw_buf *b)
{
	struct acpi_header *h = (struct acpi_header *)b->data;

	h->length = (uint32_t)b->len;
	h->checksum = 0;
	h->checksum = fw_checksum(b->data, b->len);
}

bool acpi_has_vdev(const struct vm_config *cfg, const char *type_name)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (!strcmp(cfg->vdevs[i].type->name, type_name))
			return true;
	return false;
}

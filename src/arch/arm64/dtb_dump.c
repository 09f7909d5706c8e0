/* --dump-dtb FILE: the device tree an arm64 config's VM would get, built
 * as at boot (the image and initrd placed in a scratch guest memory, so
 * chosen's initrd range is the real one), written for dtc to read. */
#include <errno.h>
#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#include "arch/arm64/arm64.h"

int arm64_dtb_dump(const struct vm_config *cfg, const char *path,
		   struct cfg_error *err)
{
	struct guest_mem mem;
	struct arm64_boot b;
	const void *dtb;
	FILE *f;
	int ret = -1;

	memset(err, 0, sizeof(*err));
	guest_mem_init(&mem);
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		if (!guest_mem_add(&mem, cfg->ram[i].start, cfg->ram[i].size,
				   GUEST_RAM)) {
			snprintf(err->msg, sizeof(err->msg), "ram: %s",
				 strerror(errno));
			goto out;
		}
	if (arm64_boot_load(cfg, &mem, NULL, NULL, &b, err) < 0)
		goto out;
	dtb = guest_mem_ptr(&mem, b.dtb_addr, b.dtb_size);
	f = fopen(path, "wb");
	if (!dtb || !f || fwrite(dtb, 1, fdt_totalsize(dtb), f) !=
	    fdt_totalsize(dtb) || fclose(f)) {
		snprintf(err->msg, sizeof(err->msg), "%s: %s", path,
			 strerror(errno));
		goto out;
	}
	ret = 0;
out:
	guest_mem_free(&mem);
	return ret;
}

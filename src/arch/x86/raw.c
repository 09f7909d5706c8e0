/* Raw images: the file's bytes at the address the `load` gave, entered at
 * that address in flat protected mode. Also used for `data` blobs. */
#include <inttypes.h>

#include "arch/x86/boot_priv.h"
#include "mem/guest_mem.h"

int raw_load(struct boot_ctx *c, uint64_t addr)
{
	const struct boot_file *f = &c->image;

	if (!f->size)
		return boot_file_err(f, "image is empty");
	/* ROM is fine: a raw image may well be firmware. */
	if (guest_mem_load(c->mem, addr, f->data, f->size))
		return boot_file_err(f, "image at 0x%" PRIx64 " (size 0x%zx) is outside guest memory",
				     addr, f->size);
	c->image_start = addr;
	c->image_end = addr + f->size;
	c->entry = addr;
	boot_use(c, addr, f->size, f->path);
	return 0;
}

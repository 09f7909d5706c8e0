/* Port 0x80: the POST-code port that firmware and Linux (for I/O delays)
 * write to. Writes are dropped; reads return 0xff, like QEMU and like most
 * chipsets, where the port is write-only. Every x86 VM has one; without it
 * each `outb 0x80` would count and log as an unclaimed access.
 */
#include <stdlib.h>

#include "core/util.h"
#include "devices/registry.h"

static uint64_t p80_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	return size >= 8 ? ~0ULL : (1ULL << (8 * size)) - 1;
}

static void p80_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
}

static void p80_reset(struct device *dev)
{
}

static void p80_free(struct device *dev)
{
	free(dev);
}

static const struct device_ops port80_ops = {
	.read = p80_read,
	.write = p80_write,
	.reset = p80_reset,
	.free = p80_free,
};

struct device *port80_create(void)
{
	struct device *d = xcalloc(1, sizeof(*d));

	d->ops = &port80_ops;
	d->name = "port80";
	device_add_region(d, BUS_PIO, 0x80, 1);
	return d;
}

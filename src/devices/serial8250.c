/* PLACEHOLDER: the device model is being written; only its vdev type
 * descriptor (used by the config validator) is final. */
#include <errno.h>

#include "devices/registry.h"


static bool ser8250_default_loc(unsigned index, uint64_t *addr)
{
	static const uint16_t com[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

	if (index >= 4)
		return false;
	*addr = com[index];
	return true;
}

static bool ser8250_default_intr(unsigned index, uint32_t *line)
{
	static const uint8_t irq[] = { 4, 3, 4, 3 };

	if (index >= 4)
		return false;
	*line = irq[index];
	return true;
}

static const struct devopt_spec ser8250_opts[] = {
	{ .key = "batch", .kind = DEVOPT_NUM, .min = 0, .max = 1000000 },
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "sched", .kind = DEVOPT_NUM, .min = 1, .max = 99 },
	{ 0 },
};

static int ser8250_create(const struct vdev_config *vc,
			  const struct dev_env *env, struct device **out)
{
	return -ENOSYS;
}

const struct vdev_type ser8250_type = {
	.name = "ser8250",
	.aliases = (const char *const[]){ "8250", "16550", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.allow_hostdev = true,
	.loc_space = LOC_IO,
	.region_len = 8,
	.default_loc = ser8250_default_loc,
	.default_intr = ser8250_default_intr,
	.opts = ser8250_opts,
	.create = ser8250_create,
};

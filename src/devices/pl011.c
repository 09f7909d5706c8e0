/* PLACEHOLDER: the device model is being written; only its vdev type
 * descriptor (used by the config validator) is final. */
#include <errno.h>

#include "devices/registry.h"


static const struct devopt_spec pl011_opts[] = {
	{ .key = "batch", .kind = DEVOPT_NUM, .min = 0, .max = 1000000 },
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "sched", .kind = DEVOPT_NUM, .min = 1, .max = 99 },
	{ 0 },
};

static int pl011_create(const struct vdev_config *vc,
			const struct dev_env *env, struct device **out)
{
	return -ENOSYS;
}

/* No default location: QNX requires loc and intr for MMIO devices. */
const struct vdev_type pl011_type = {
	.name = "pl011",
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.allow_hostdev = true,
	.loc_space = LOC_MEM,
	.region_len = 0x1000,
	.opts = pl011_opts,
	.create = pl011_create,
};

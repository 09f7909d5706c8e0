/* PLACEHOLDER: the device model is being written; only its vdev type
 * descriptor (used by the config validator) is final. */
#include <errno.h>

#include "devices/registry.h"


static bool testdev_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0xfeb00000;
	return index == 0;
}

static int testdev_create(const struct vdev_config *vc,
			  const struct dev_env *env, struct device **out)
{
	return -ENOSYS;
}

/* cvisor extension: a 4 KiB MMIO region for exit-cost measurements. */
const struct vdev_type testdev_type = {
	.name = "testdev",
	.class = VDEV_PLATFORM,
	.supported = true,
	.loc_space = LOC_MEM,
	.region_len = 0x1000,
	.default_loc = testdev_default_loc,
	.create = testdev_create,
};

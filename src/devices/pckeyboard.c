/* PLACEHOLDER: the device model is being written; only its vdev type
 * descriptor (used by the config validator) is final. */
#include <errno.h>

#include "devices/registry.h"


static bool pckeyboard_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0x60;
	return index == 0;
}

static int pckeyboard_create(const struct vdev_config *vc,
			     const struct dev_env *env, struct device **out)
{
	return -ENOSYS;
}

/* The i8042 decodes 0x60 and 0x64; loc names the data port. */
const struct vdev_type pckeyboard_type = {
	.name = "pckeyboard",
	.aliases = (const char *const[]){ "i8042", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = 1,
	.default_loc = pckeyboard_default_loc,
	.create = pckeyboard_create,
};

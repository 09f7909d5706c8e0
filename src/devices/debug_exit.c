/* PLACEHOLDER: the device model is being written; only its vdev type
 * descriptor (used by the config validator) is final. */
#include <errno.h>

#include "devices/registry.h"


static bool debug_exit_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0xf4;
	return index == 0;
}

static const struct devopt_spec debug_exit_opts[] = {
	/* qemu: exit status (v << 1) | 1, as isa-debug-exit; plain: v */
	{ .key = "mode", .kind = DEVOPT_ENUM, .choices = "qemu|plain" },
	{ 0 },
};

static int debug_exit_create(const struct vdev_config *vc,
			     const struct dev_env *env, struct device **out)
{
	return -ENOSYS;
}

const struct vdev_type debug_exit_type = {
	.name = "debug-exit",
	.aliases = (const char *const[]){ "isa-debug-exit", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = 4,
	.default_loc = debug_exit_default_loc,
	.opts = debug_exit_opts,
	.create = debug_exit_create,
};

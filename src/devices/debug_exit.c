/* debug-exit (`vdev debug-exit`, QEMU's isa-debug-exit): a write ends the
 * VM with a status derived from the value, so a test guest can report
 * pass/fail as the process exit status.
 *
 * mode qemu (default): status = (v << 1) | 1, as QEMU, so that a guest
 * exiting this way is never mistaken for cvisor's own (even) statuses.
 * mode plain: status = v. Both are masked to 8 bits, as exit() would.
 * No state, hence no lock: the power request is the whole behaviour.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "devices/registry.h"

struct debug_exit {
	struct device dev;
	struct dev_env env;
	bool plain;
};

static struct debug_exit *to_dbg(struct device *d)
{
	return container_of(d, struct debug_exit, dev);
}

static uint64_t dbg_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	return ~0ULL;
}

static void dbg_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct debug_exit *d = to_dbg(dev);
	int status = d->plain ? value & 0xff : ((value << 1) | 1) & 0xff;

	if (d->env.power)
		d->env.power(d->env.ctx, POWER_EXIT, status);
}

static void dbg_reset(struct device *dev)
{
}

static void dbg_free(struct device *dev)
{
	free(to_dbg(dev));
}

static const struct device_ops debug_exit_ops = {
	.read = dbg_read,
	.write = dbg_write,
	.reset = dbg_reset,
	.free = dbg_free,
};

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
	const struct cfg_devopt *mode = vdev_opt(vc, "mode");
	struct debug_exit *d = xcalloc(1, sizeof(*d));

	d->env = *env;
	d->plain = mode && mode->value && !strcmp(mode->value, "plain");
	d->dev.ops = &debug_exit_ops;
	d->dev.name = "debug-exit";
	device_add_region(&d->dev, BUS_PIO, vc->locs[0].addr, 4);
	*out = &d->dev;
	return 0;
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

/* testdev (`vdev testdev`, a cvisor extension): the cheapest possible MMIO
 * device, for measuring the cost of an exit. Offset 0: a write counts, a
 * read returns the count (low 32 bits); offset 8 reads 'test'. The access
 * path takes no lock, allocates nothing and logs nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

#include "core/util.h"
#include "devices/registry.h"

#define TESTDEV_MAGIC 0x74736574u      /* "test" in little-endian bytes */

struct testdev {
	struct device dev;
	atomic_uint_fast64_t count;
};

static struct testdev *to_td(struct device *d)
{
	return container_of(d, struct testdev, dev);
}

static uint64_t td_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	switch (off) {
	case 0:
		return (uint32_t)atomic_load_explicit(&to_td(dev)->count,
						      memory_order_relaxed);
	case 8:
		return TESTDEV_MAGIC;
	}
	return 0;
}

static void td_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	if (off == 0)
		atomic_fetch_add_explicit(&to_td(dev)->count, 1,
					  memory_order_relaxed);
}

static void td_reset(struct device *dev)
{
	atomic_store(&to_td(dev)->count, 0);
}

static void td_free(struct device *dev)
{
	free(to_td(dev));
}

static const struct device_ops testdev_ops = {
	.read = td_read,
	.write = td_write,
	.reset = td_reset,
	.free = td_free,
};

static bool testdev_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0xfeb00000;
	return index == 0;
}

static int testdev_create(const struct vdev_config *vc,
			  const struct dev_env *env, struct device **out)
{
	struct testdev *t = xcalloc(1, sizeof(*t));

	atomic_init(&t->count, 0);
	t->dev.ops = &testdev_ops;
	t->dev.name = "testdev";
	device_add_region(&t->dev, BUS_MMIO, vc->locs[0].addr, 0x1000);
	*out = &t->dev;
	return 0;
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

/* A device's chardev, kept across guest resets when the VM keeps
 * backends (env->persist): the first VM opens it from the vdev's hostdev
 * options, every VM after a reset gets the same one back, bound to its own
 * event loop. Without a persist table (unit tests) the device owns it. */
#include "backends/chardev.h"
#include "core/persist.h"
#include "devices/dev_chardev.h"
#include "devices/device.h"

static void close_kept(void *obj)
{
	chardev_close(obj);
}

struct chardev *dev_chardev_get(const struct dev_env *env,
				const struct vdev_config *vc)
{
	struct chardev *c = persist_get(env->persist, vc, PERSIST_CHARDEV);

	if (c) {
		chardev_attach_loop(c, env->loop);
		return c;
	}
	c = chardev_open(vc->hostdevs, vc->nr_hostdevs, env->loop);
	if (!c || !env->persist)
		return c;
	if (persist_put(env->persist, vc, PERSIST_CHARDEV, c, close_kept)) {
		chardev_close(c);
		return NULL;
	}
	chardev_keep(c);
	return c;
}

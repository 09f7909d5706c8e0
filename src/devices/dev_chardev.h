/* The chardev behind a vdev, kept across guest resets (dev_chardev.c).
 * A device gives it back with chardev_put(). */
#ifndef CVISOR_DEVICES_DEV_CHARDEV_H
#define CVISOR_DEVICES_DEV_CHARDEV_H

#include "config/config.h"

struct chardev;
struct dev_env;

struct chardev *dev_chardev_get(const struct dev_env *env,
				const struct vdev_config *vc);

#endif

/* The glue between a virtio `vdev` line and a transport: a device type's
 * create() builds its struct virtio_dev and hands it here, which puts it
 * on virtio-pci or virtio-mmio as the config says (QNX's rule, resolved
 * by the validator into vc->on_pci).
 *
 *	static int rng_create(const struct vdev_config *vc,
 *			      const struct dev_env *env, struct device **out)
 *	{
 *		struct rng *r = xcalloc(1, sizeof(*r));
 *
 *		if (virtio_dev_init(&r->vdev, "virtio-rng", VIRTIO_ID_RNG,
 *				    &rng_ops, env->mem, 0, NULL, 0, 1, 256)) {
 *			free(r);
 *			return -EINVAL;
 *		}
 *		return virtio_vdev_create(vc, env, &r->vdev, rng_release, out);
 *	}
 *
 * rng_release(vdev) stops the backend, calls virtio_dev_uninit() and frees
 * r; it runs when the device is freed, or before virtio_vdev_create()
 * returns an error. Either way the caller gives vdev away.
 */
#ifndef CVISOR_VIRTIO_VDEV_H
#define CVISOR_VIRTIO_VDEV_H

#include "config/config.h"
#include "devices/device.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

/* What every virtio type refuses, for its check_vdev hook (so that
 * `cvisor check` and a run refuse it at config time, with its position):
 * `legacy`, the virtio 0.9.5 interface, which cvisor does not offer.
 * NULL, or why with *at on the culprit. */
const char *virtio_check_vdev(const struct vdev_config *vc,
			      const struct cfg_pos **at);

/* 0 and *out (a struct device with its regions, ready to be placed), or
 * -errno with a message naming the config position; -EINVAL for a config
 * it refuses (virtio_check_vdev's, checked again). */
int virtio_vdev_create(const struct vdev_config *vc, const struct dev_env *env,
		       struct virtio_dev *vdev, virtio_release_fn release,
		       struct device **out);

#endif

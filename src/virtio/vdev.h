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

/* 0 and *out (a struct device with its regions, ready to be placed), or
 * -errno with a message naming the config position. -ENOTSUP for the
 * legacy (virtio 0.9.5) interface, which cvisor does not offer. */
int virtio_vdev_create(const struct vdev_config *vc, const struct dev_env *env,
		       struct virtio_dev *vdev, virtio_release_fn release,
		       struct device **out);

#endif

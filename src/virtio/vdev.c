/* vdev config → virtio transport. See vdev.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "core/log.h"
#include "devices/registry.h"
#include "bus/pci.h"
#include "virtio/pci.h"
#include "virtio/vdev.h"

static void vdev_err(const struct vdev_config *vc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void vdev_err(const struct vdev_config *vc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s:%u:%u: vdev %s: %s", vc->pos.file, vc->pos.line,
	       vc->pos.col, vc->type->name, msg);
}

/* virtio-pci: the slot is the builder's business (it attaches the
 * function with pci_host_attach), but a `loc` that can never work is
 * refused here, with the config position: only pci:0:D.F on bus 0, and
 * not slot 0, which is the host bridge. Without a loc the builder takes
 * the first free slot. */
static int pci_create(const struct vdev_config *vc, const struct dev_env *env,
		      struct virtio_dev *vdev, virtio_release_fn release,
		      struct device **out)
{
	const struct cfg_loc *loc = vc->nr_locs ? &vc->locs[0] : NULL;

	if (loc && (loc->space != LOC_PCI || loc->pci_by_id || loc->bus ||
		    !loc->dev || loc->dev >= PCI_MAX_SLOTS ||
		    loc->fn >= PCI_MAX_FNS)) {
		vdev_err(vc, "virtio-pci takes 'loc pci:0:D.F' with D in "
			 "1..%u and F in 0..%u", PCI_MAX_SLOTS - 1,
			 PCI_MAX_FNS - 1);
		release(vdev);
		return -EINVAL;
	}
	return virtio_pci_create(vdev, env, release, out);
}

static int mmio_create(const struct vdev_config *vc, const struct dev_env *env,
		       struct virtio_dev *vdev, virtio_release_fn release,
		       struct device **out)
{
	const struct cfg_loc *loc = &vc->locs[0];
	struct virtio_mmio_place at = {
		.base = loc->addr,
		.len = loc->has_len && loc->len ? loc->len :
		       VIRTIO_MMIO_REGION_LEN,
	};

	/* The validator guarantees a mem loc and an intr; check anyway,
	 * since a wrong guess here would place a device nobody asked for. */
	if (!vc->nr_locs || loc->space != LOC_MEM || !vc->nr_intrs ||
	    vc->intrs[0].is_apic) {
		vdev_err(vc, "virtio-mmio needs 'loc ADDR' and 'intr PIC:N'");
		release(vdev);
		return -EINVAL;
	}
	if (at.len < VIRTIO_MMIO_REGION_LEN) {
		vdev_err(vc, "virtio-mmio decodes %#x bytes; 'loc' gives "
			 "only %#llx", VIRTIO_MMIO_REGION_LEN,
			 (unsigned long long)at.len);
		release(vdev);
		return -EINVAL;
	}
	at.gsi = vc->intrs[0].line;
	return virtio_mmio_create(vdev, env, &at, release, out);
}

const char *virtio_check_vdev(const struct vdev_config *vc,
			      const struct cfg_pos **at)
{
	const struct cfg_devopt *o = vdev_opt(vc, "legacy");

	/* The core is modern-only (VERSION_1 required). */
	if (!o)
		return NULL;
	*at = &o->pos;
	return "legacy (virtio 0.9.5) is not supported: cvisor's virtio "
	       "devices are modern only";
}

int virtio_vdev_create(const struct vdev_config *vc, const struct dev_env *env,
		       struct virtio_dev *vdev, virtio_release_fn release,
		       struct device **out)
{
	const struct cfg_pos *at = &vc->pos;
	const char *why = virtio_check_vdev(vc, &at);

	if (why) {
		pr_err("%s:%u:%u: vdev %s: %s", at->file, at->line, at->col,
		       vc->type->name, why);
		release(vdev);
		return -EINVAL;
	}
	if (vc->on_pci)
		return pci_create(vc, env, vdev, release, out);
	return mmio_create(vc, env, vdev, release, out);
}

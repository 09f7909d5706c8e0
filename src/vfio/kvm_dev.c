/* The kvm-vfio pseudo device: KVM is told of each VFIO group the VM uses,
 * so it can treat DMA as non-coherent when the IOMMU says so (wbinvd
 * emulation) and let the device's owners check the pairing. A KVM without
 * it still works, so failure is only logged. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/log.h"
#include "vfio/vfio_priv.h"

int vfio_kvm_add_group(struct vfio_ctx *c, int group_fd, bool add)
{
	struct kvm_device_attr attr = {
		.group = KVM_DEV_VFIO_GROUP,
		.attr = add ? KVM_DEV_VFIO_GROUP_ADD : KVM_DEV_VFIO_GROUP_DEL,
		.addr = (uintptr_t)&group_fd,
	};

	if (c->kvm_dev < 0 && add) {
		struct kvm_create_device cd = { .type = KVM_DEV_TYPE_VFIO };

		if (c->vm_fd < 0 || ioctl(c->vm_fd, KVM_CREATE_DEVICE, &cd)) {
			pr_warn("pass: no kvm-vfio device: %s",
				strerror(c->vm_fd < 0 ? EBADF : errno));
			return -ENODEV;
		}
		c->kvm_dev = (int)cd.fd;
	}
	if (c->kvm_dev < 0)
		return -ENODEV;
	if (ioctl(c->kvm_dev, KVM_SET_DEVICE_ATTR, &attr)) {
		pr_warn("pass: kvm-vfio group %s: %s", add ? "add" : "del",
			strerror(errno));
		return -errno;
	}
	return 0;
}

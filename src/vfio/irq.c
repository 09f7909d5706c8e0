/* VFIO_DEVICE_SET_IRQS with eventfds: n fds from vector 0 for an action
 * of an interrupt index, or (n == 0) that action turned off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "vfio/vfio_priv.h"

int vfio_set_irqs(int dev_fd, unsigned index, unsigned action,
		  const int *fds, unsigned n)
{
	struct {
		struct vfio_irq_set s;
		int32_t fds[VFIO_MSI_MAX];
	} req;

	if (n > VFIO_MSI_MAX || dev_fd < 0)
		return -EINVAL;
	memset(&req, 0, sizeof(req));
	req.s.argsz = sizeof(req.s) + n * sizeof(int32_t);
	req.s.flags = action | (n ? VFIO_IRQ_SET_DATA_EVENTFD :
				    VFIO_IRQ_SET_DATA_NONE);
	req.s.index = index;
	req.s.start = 0;
	req.s.count = n;
	for (unsigned i = 0; i < n; i++)
		req.fds[i] = fds[i];
	return ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, &req) ? -errno : 0;
}

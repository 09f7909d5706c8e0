/* VFIO_DEVICE_SET_IRQS with eventfds: n fds from vector 0 for an action
 * of an interrupt index, or (n == 0) that action turned off. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "core/util.h"
#include "vfio/vfio_priv.h"

int vfio_set_irqs(int dev_fd, unsigned index, unsigned action,
		  const int *fds, unsigned n)
{
	size_t len = sizeof(struct vfio_irq_set) + n * sizeof(int32_t);
	struct vfio_irq_set *s;
	int ret;

	if (n > PCI_MSIX_MAX_VECTORS || dev_fd < 0)
		return -EINVAL;
	s = xcalloc(1, len);
	s->argsz = (uint32_t)len;
	s->flags = action | (n ? VFIO_IRQ_SET_DATA_EVENTFD :
			     VFIO_IRQ_SET_DATA_NONE);
	s->index = index;
	s->count = n;
	if (n)
		memcpy(s->data, fds, n * sizeof(int32_t));
	ret = ioctl(dev_fd, VFIO_DEVICE_SET_IRQS, s) ? -errno : 0;
	free(s);
	return ret;
}

/* INTx of a passed device, with no exit to cvisor: VFIO signals an
 * eventfd when the device raises its line (and masks it), KVM's irqfd
 * turns that into the level of the slot's IOAPIC input; the guest's EOI
 * makes KVM lower the line and signal the resample eventfd, which is
 * VFIO's unmask: a line still up fires again. */
#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "devices/device.h"
#include "vfio/vfio_priv.h"

static void close_fds(struct vfio_pass *p)
{
	if (p->intx_efd >= 0)
		close(p->intx_efd);
	if (p->intx_rfd >= 0)
		close(p->intx_rfd);
	p->intx_efd = p->intx_rfd = -1;
}

int vfio_intx_enable(struct vfio_pass *p)
{
	const struct dev_env *env = p->f.env;
	int ret;

	if (p->intx_on || !p->pin)
		return 0;
	if (!env || !env->line_irqfd) {
		pr_err("pass %s: INTx needs KVM's resampling irqfds",
		       p->host.name);
		return -ENOTSUP;
	}
	p->intx_efd = eventfd(0, EFD_CLOEXEC);
	p->intx_rfd = eventfd(0, EFD_CLOEXEC);
	if (p->intx_efd < 0 || p->intx_rfd < 0) {
		close_fds(p);
		return -errno;
	}
	ret = env->line_irqfd(env->ctx, p->f.intx.gsi, p->intx_efd,
			      p->intx_rfd, true);
	if (!ret)
		ret = vfio_set_irqs(p->fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, &p->intx_efd, 1);
	if (!ret)
		ret = vfio_set_irqs(p->fd, VFIO_PCI_INTX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_UNMASK, &p->intx_rfd, 1);
	if (ret) {
		log_ratelimited(LOG_ERR, "pass %s: INTx on gsi %u: %s",
				p->host.name, p->f.intx.gsi, strerror(-ret));
		vfio_set_irqs(p->fd, VFIO_PCI_INTX_IRQ_INDEX,
			      VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
		env->line_irqfd(env->ctx, p->f.intx.gsi, p->intx_efd,
				p->intx_rfd, false);
		close_fds(p);
		return ret;
	}
	p->intx_on = true;
	return 0;
}

void vfio_intx_disable(struct vfio_pass *p)
{
	const struct dev_env *env = p->f.env;

	if (!p->intx_on)
		return;
	vfio_set_irqs(p->fd, VFIO_PCI_INTX_IRQ_INDEX,
		      VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
	env->line_irqfd(env->ctx, p->f.intx.gsi, p->intx_efd, p->intx_rfd,
			false);
	close_fds(p);
	p->intx_on = false;
}

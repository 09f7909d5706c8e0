/* A level-triggered interrupt line driven through KVM without an ioctl
 * per edge: an irqfd with a resample eventfd (KVM_IRQFD_FLAG_RESAMPLE).
 *
 * Writing efd asserts the line; KVM keeps it asserted until the guest's
 * EOI, then lowers it and signals rfd. The device's resample callback runs
 * on the event loop and asserts the line again if the device still wants
 * it, which is exactly a level line's behaviour, with no ioctl to raise it
 * and none to lower it (the guest's acknowledgement costs nothing).
 */
#ifndef CVISOR_DEVICES_LINE_IRQFD_H
#define CVISOR_DEVICES_LINE_IRQFD_H

#include <stdint.h>

#include "devices/device.h"

struct line_irqfd {
	struct dev_env env;
	uint32_t gsi;
	int efd, rfd;                  /* -1 when closed */
	void (*resample)(void *opaque);
	void *opaque;
};

/* 0, or -errno when the VM offers no resampling irqfd (the device then
 * drives the line with env->irq_set). resample runs on env->loop. */
int line_irqfd_open(struct line_irqfd *l, const struct dev_env *env,
		    uint32_t gsi, void (*resample)(void *opaque),
		    void *opaque);
/* Assert the line; any thread, any lock. */
void line_irqfd_assert(struct line_irqfd *l);
/* Unbind and close; the event loop must not be running the callback. */
void line_irqfd_close(struct line_irqfd *l);

static inline bool line_irqfd_active(const struct line_irqfd *l)
{
	return l->efd >= 0;
}

#endif

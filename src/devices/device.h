/* A device: register behaviour behind a set of regions, plus interrupt lines.
 * A device knows nothing about KVM or about who calls it: the builder places
 * its regions on the bus, and the vCPU threads call read/write through it.
 * Everything a device needs from the VM arrives in struct dev_env.
 */
#ifndef CVISOR_DEVICES_DEVICE_H
#define CVISOR_DEVICES_DEVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"

struct guest_mem;
struct event_loop;
struct vdev_config;

#define DEV_MAX_REGIONS 4

/* An interrupt line into the VM (an IOAPIC/PIC pin, a GIC SPI...). */
struct irq_line {
	void (*set_level)(void *ctx, uint32_t gsi, int level);
	void *ctx;
	uint32_t gsi;
};

static inline void irq_line_set(const struct irq_line *l, int level)
{
	if (l->set_level)
		l->set_level(l->ctx, l->gsi, level);
}

enum power_request {
	POWER_OFF,        /* orderly power off, status given */
	POWER_RESET,      /* guest asked for a reset */
	POWER_EXIT,       /* exit with a status now (debug-exit) */
	POWER_SUSPEND,    /* the guest entered S3: stop the vCPUs */
	POWER_WAKE,       /* leave S3 through the FACS waking vector */
	POWER_RTC_ALARM,  /* the RTC's interrupt rose: an S3 wake source */
};

/* What the VM lends a device. The builder fills it; unit tests fake it. */
struct dev_env {
	struct guest_mem *mem;
	struct event_loop *loop;
	void (*irq_set)(void *ctx, uint32_t gsi, int level);
	void (*power)(void *ctx, enum power_request req, int status);
	/* Optional, NULL when unavailable (KVM_IOEVENTFD). assign: from now
	 * on a guest write of exactly `len` (1, 2, 4 or 8) bytes to `addr`
	 * in `space` signals the eventfd `fd` (adds 1) instead of exiting to
	 * userspace; with `datamatch` only writes of the value `match` do.
	 * !assign: remove the registration made with the same arguments.
	 * Returns 0 or -errno; on failure the access keeps exiting to the
	 * device, which must still handle it. Thread-safe: called from vCPU
	 * threads (register writes) and from create/free. */
	int (*ioeventfd)(void *ctx, enum bus_space space, uint64_t addr,
			 unsigned len, int fd, bool datamatch, uint64_t match,
			 bool assign);
	/* Optional, NULL when unavailable (KVM_REGISTER_COALESCED_MMIO).
	 * on: from now on a guest write wholly inside the MMIO range
	 * addr..addr+len does not exit; KVM queues it and the next vCPU to
	 * exit applies it through the bus, in order, before that exit's own
	 * access (vm/coalesced_mmio.c): the ordering of a posted PCI write.
	 * Only for registers whose write starts nothing the guest could
	 * wait for without accessing the device again. !on: remove the
	 * zone. Returns 0 or -errno; on failure the writes keep exiting. */
	int (*coalesce)(void *ctx, uint64_t addr, unsigned len, bool on);
	/* MSI delivery for PCI MSI-X (src/bus/pci_msix.c); NULL where the VM
	 * has none. msi_route: program a route carrying message (addr, data)
	 * from the function whose requester ID is devid (bus << 8 | devfn:
	 * arm64's ITS translates by it; x86 ignores it); route < 0 allocates
	 * one, otherwise that route is updated in place.
	 * Returns the route id (>= 0; a GSI on KVM) or -errno. Called from
	 * vCPU threads (guest table writes) under the function's MSI-X lock. */
	int (*msi_route)(void *ctx, int route, uint64_t addr, uint32_t data,
			 uint32_t devid);
	/* Bind (assign) or unbind eventfd efd to route (KVM_IRQFD): while
	 * bound, a write to efd delivers the route's message. Unbinding is
	 * synchronous: once it returns, writes no longer reach the guest.
	 * NULL: no irqfds; MSI-X then delivers through msi_signal. */
	int (*msi_irqfd)(void *ctx, int route, int efd, bool assign);
	void (*msi_route_free)(void *ctx, int route);   /* device freed */
	/* Bind (assign) or unbind a level line to irqfd efd with resample
	 * eventfd rfd (KVM_IRQFD_FLAG_RESAMPLE, see devices/line_irqfd.h).
	 * 0 or -errno; NULL where the VM cannot (irq_set is used instead). */
	int (*line_irqfd)(void *ctx, uint32_t gsi, int efd, int rfd,
			  bool assign);
	/* Deliver one message now (KVM_SIGNAL_MSI); the slow path. */
	int (*msi_signal)(void *ctx, uint64_t addr, uint32_t data,
			  uint32_t devid);
	void *ctx;
	/* Backends and state that outlive a guest reset (core/persist.h);
	 * NULL: the device owns everything it opens (unit tests). */
	struct persist *persist;
	/* The VM's `system` name ("" when none): stable per-VM defaults
	 * such as a virtio-net MAC address. May be NULL (unit tests). */
	const char *system;
};

struct device;

struct device_ops {
	/* size is 1, 2, 4 or 8; offset is relative to the region's base and
	 * always inside it (the bus checks offset + size <= len). */
	uint64_t (*read)(struct device *dev, unsigned region, uint64_t offset,
			 unsigned size);
	void (*write)(struct device *dev, unsigned region, uint64_t offset,
		      unsigned size, uint64_t value);
	void (*reset)(struct device *dev);   /* back to power-on state */
	void (*free)(struct device *dev);    /* release everything */
};

struct dev_region {
	enum bus_space space;
	uint64_t base, len;
};

struct device {
	const struct device_ops *ops;
	const char *name;          /* type name, for messages */
	const struct vdev_config *vdev; /* the vdev it was made from, or NULL */
	struct dev_region regions[DEV_MAX_REGIONS];
	unsigned nr_regions;
};

static inline void device_add_region(struct device *d, enum bus_space sp,
				     uint64_t base, uint64_t len)
{
	if (d->nr_regions < DEV_MAX_REGIONS)
		d->regions[d->nr_regions++] =
			(struct dev_region){ .space = sp, .base = base,
					     .len = len };
}

#endif

/* The KVM side of the fast paths devices use: ioeventfds for guest
 * notifications, and MSI routes + irqfds for interrupts back.
 *
 * KVM_SET_GSI_ROUTING replaces the whole table, so the table we keep holds
 * KVM's default irqchip routes (arch_irqchip_routes: x86's PIC on GSIs
 * 0-15, IOAPIC on 0-23; arm64's every SPI the vGIC has) plus one MSI route per live vector, from
 * arch_first_msi_gsi (x86: 24) up. The table only changes when
 * the guest programs MSI-X (a handful of times per boot), never per I/O.
 * Where KVM translates messages by the sender (arm64's ITS: the VM says
 * KVM_CAP_MSI_DEVID once an ITS exists, and the architecture sets
 * need_devid), routes and KVM_SIGNAL_MSI carry the requester ID.
 */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "core/log.h"
#include "core/util.h"
#include "vm/irq_routing.h"
#include "vm/vm.h"

#define FIRST_MSI_GSI ((int)arch_first_msi_gsi)

int vm_ioeventfd(void *ctx, enum bus_space space, uint64_t addr,
		 unsigned len, int fd, bool datamatch, uint64_t match,
		 bool assign)
{
	struct vm *vm = ctx;
	struct kvm_ioeventfd e = {
		.datamatch = match, .addr = addr, .len = len, .fd = fd,
		.flags = (space == BUS_PIO ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
			 (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &e) < 0 ? -errno : 0;
}

/* Push the whole table to KVM; called with the routing lock held. */
static int commit(struct vm *vm)
{
	struct irq_routing *rt = &vm->routing;
	unsigned max = ARCH_MAX_IRQCHIP_ROUTES + VM_MAX_MSI_ROUTES;
	struct kvm_irq_routing *t = xcalloc(1, sizeof(*t) +
					    max * sizeof(t->entries[0]));
	unsigned n = arch_irqchip_routes(vm, t->entries);
	bool devid = rt->need_devid;
	int ret = 0;

	for (unsigned i = 0; i < VM_MAX_MSI_ROUTES; i++) {
		if (!rt->used[i])
			continue;
		t->entries[n++] = (struct kvm_irq_routing_entry){
			.gsi = FIRST_MSI_GSI + i, .type = KVM_IRQ_ROUTING_MSI,
			.flags = devid ? KVM_MSI_VALID_DEVID : 0,
			.u.msi = { .address_lo = (uint32_t)rt->addr[i],
				   .address_hi = rt->addr[i] >> 32,
				   .data = rt->data[i],
				   .devid = devid ? rt->devid[i] : 0 } };
	}
	t->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, t) < 0)
		ret = -errno;
	free(t);
	return ret;
}

int vm_msi_route(void *ctx, int route, uint64_t addr, uint32_t data,
		 uint32_t devid)
{
	struct vm *vm = ctx;
	struct irq_routing *rt = &vm->routing;
	int slot = route - FIRST_MSI_GSI, ret;
	uint64_t old_addr;
	uint32_t old_data, old_devid;

	pthread_mutex_lock(&rt->lock);
	if (route < 0) {
		for (slot = 0; slot < VM_MAX_MSI_ROUTES && rt->used[slot];
		     slot++)
			;
		if (slot == VM_MAX_MSI_ROUTES) {
			ret = -ENOSPC;
			goto out;
		}
	} else if (slot < 0 || slot >= VM_MAX_MSI_ROUTES || !rt->used[slot]) {
		ret = -EINVAL;
		goto out;
	}
	old_addr = rt->addr[slot];
	old_data = rt->data[slot];
	old_devid = rt->devid[slot];
	rt->used[slot] = true;
	rt->addr[slot] = addr;
	rt->data[slot] = data;
	rt->devid[slot] = devid;
	ret = commit(vm);
	/* Refused: the table as it was, or one entry KVM will not take
	 * would fail every later commit, every device's. */
	if (ret && route < 0)
		rt->used[slot] = false;
	if (ret && route >= 0) {
		rt->addr[slot] = old_addr;
		rt->data[slot] = old_data;
		rt->devid[slot] = old_devid;
	}
	if (!ret)
		ret = FIRST_MSI_GSI + slot;
out:
	pthread_mutex_unlock(&rt->lock);
	return ret;
}

void vm_msi_route_free(void *ctx, int route)
{
	struct vm *vm = ctx;
	struct irq_routing *rt = &vm->routing;
	int slot = route - FIRST_MSI_GSI;

	if (slot < 0 || slot >= VM_MAX_MSI_ROUTES)
		return;
	pthread_mutex_lock(&rt->lock);
	if (rt->used[slot]) {
		rt->used[slot] = false;
		if (commit(vm))
			pr_warn("MSI route %d: cannot drop it", route);
	}
	pthread_mutex_unlock(&rt->lock);
}

int vm_msi_irqfd(void *ctx, int route, int efd, bool assign)
{
	struct vm *vm = ctx;
	struct kvm_irqfd f = { .fd = efd, .gsi = route,
			       .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int vm_line_irqfd(void *ctx, uint32_t gsi, int efd, int rfd, bool assign)
{
	struct vm *vm = ctx;
	struct kvm_irqfd f = { .fd = efd, .gsi = arch_line_gsi(gsi),
			       .resamplefd = rfd,
			       .flags = assign ? KVM_IRQFD_FLAG_RESAMPLE :
					KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int vm_msi_signal(void *ctx, uint64_t addr, uint32_t data, uint32_t devid)
{
	struct vm *vm = ctx;
	struct kvm_msi m = { .address_lo = (uint32_t)addr,
			     .address_hi = addr >> 32, .data = data };

	if (vm->routing.need_devid) {
		m.flags = KVM_MSI_VALID_DEVID;
		m.devid = devid;
	}

	/* 1: delivered, 0: blocked by the guest; both are not errors */
	return ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &m) < 0 ? -errno : 0;
}

void irq_routing_init(struct irq_routing *rt)
{
	memset(rt, 0, sizeof(*rt));
	pthread_mutex_init(&rt->lock, NULL);
}

void irq_routing_destroy(struct irq_routing *rt)
{
	pthread_mutex_destroy(&rt->lock);
}

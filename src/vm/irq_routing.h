/* KVM ioeventfds, MSI routes and irqfds behind struct dev_env's hooks. */
#ifndef CVISOR_VM_IRQ_ROUTING_H
#define CVISOR_VM_IRQ_ROUTING_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"

#define VM_MAX_MSI_ROUTES 512

struct irq_routing {
	pthread_mutex_t lock;
	bool used[VM_MAX_MSI_ROUTES];
	uint64_t addr[VM_MAX_MSI_ROUTES];
	uint32_t data[VM_MAX_MSI_ROUTES];
	uint32_t devid[VM_MAX_MSI_ROUTES];
	/* Messages carry their requester ID (KVM_MSI_VALID_DEVID): set by
	 * the architecture before any vCPU runs (arm64, with an ITS). */
	bool need_devid;
};

void irq_routing_init(struct irq_routing *rt);
void irq_routing_destroy(struct irq_routing *rt);

int vm_ioeventfd(void *vm, enum bus_space space, uint64_t addr, unsigned len,
		 int fd, bool datamatch, uint64_t match, bool assign);
int vm_msi_route(void *vm, int route, uint64_t addr, uint32_t data,
		 uint32_t devid);
int vm_msi_irqfd(void *vm, int route, int efd, bool assign);
int vm_line_irqfd(void *vm, uint32_t gsi, int efd, int rfd, bool assign);
void vm_msi_route_free(void *vm, int route);
int vm_msi_signal(void *vm, uint64_t addr, uint32_t data, uint32_t devid);

#endif

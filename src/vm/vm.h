/* The one object per process: a running VM. The builder (builder.c) turns a
 * validated vm_config into it in a fixed order; lifecycle.c runs and stops
 * it. Nothing here is global: unit tests can build several.
 */
#ifndef CVISOR_VM_VM_H
#define CVISOR_VM_VM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "config/config.h"
#include "devices/device.h"
#include "mem/guest_mem.h"
#include "vm/irq_routing.h"

struct vcpu;
struct event_loop;
struct pci_host;

enum vm_stop_reason {
	VM_RUNNING,
	VM_STOP_EXIT,      /* exit with vm->exit_status */
	VM_STOP_RESET,     /* rebuild the VM and run again */
};

#define VM_MAX_DEVICES (CFG_MAX_VDEVS + 8)

struct vm {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd;
	bool kvm_fd_kept;  /* kvm_fd belongs to the persist table */
	int vcpu_mmap_size;
	struct guest_mem mem;
	struct bus pio, mmio;
	struct event_loop *loop;
	struct dev_env env;
	struct irq_routing routing;
	struct pci_host *pci;          /* NULL when no device is on PCI */
	struct device *devices[VM_MAX_DEVICES];
	unsigned nr_devices;
	struct vcpu **vcpus;
	unsigned nr_vcpus;

	/* Stopping: any thread calls vm_request_stop(); the main thread wakes
	 * on stop_fd, kicks the vCPUs and joins them. */
	pthread_mutex_t stop_lock;
	enum vm_stop_reason _Atomic stop;
	int exit_status;
	int stop_fd;       /* eventfd, readable once a stop is requested */
	bool stopping;     /* vm_stop_threads() armed the stop deadline */
};

/* Build everything; on failure returns NULL with a message logged and
 * *status set to the exit status to use (64, 65...). */
/* persist (NULL: none) keeps backends and state across the VMs a guest's
 * resets build in turn (core/persist.h). */
struct vm *vm_create(const struct vm_config *cfg, struct persist *persist,
		     int *status);
void vm_destroy(struct vm *vm);

/* Start the event loop and the vCPU threads. */
int vm_start(struct vm *vm);
/* First request wins; later ones are ignored. Safe from any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status);
/* Kick and join every vCPU and the event loop (main thread). */
void vm_stop_threads(struct vm *vm);

#endif

/* The one object per process: a running VM. The builder (builder.c) turns a
 * validated vm_config into it in a fixed order; lifecycle.c runs and stops
 * it. Nothing here is global: unit tests can build several.
 */
#ifndef CVISOR_VM_VM_H
#define CVISOR_VM_VM_H

#include <linux/kvm.h>
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

/* Every vdev and pass, the PCI host and the platform's own (x86: fw_cfg,
 * port 80, port 92, ACPI PM), with room to spare. */
#define VM_MAX_DEVICES (CFG_MAX_VDEVS + CFG_MAX_PASS + 8)
#define VM_IRQ_LINES   1024     /* wired lines counted (irq_count.c) */

/* What the guest is doing, for the control socket (src/ctl/). */
enum vm_run_state {
	VM_STATE_RUNNING,
	VM_STATE_PAUSING,   /* vCPUs asked to park, not all there yet */
	VM_STATE_PAUSED,    /* every vCPU parked, the guest clock saved */
};

struct vm {
	const struct vm_config *cfg;
	int kvm_fd, vm_fd;
	int irqchip_fd;    /* a KVM device fd for the interrupt controller
			      (arm64: the vGIC), -1: none; this VM's own */
	bool kvm_fd_kept;  /* kvm_fd belongs to the persist table */
	bool leave_to_exit; /* vm_destroy_at_exit: KVM fds, memory stay */
	int vcpu_mmap_size;
	/* Coalesced MMIO (coalesced_mmio.c): the ring's offset in the vCPU
	 * mapping (0: none), its entries, and the lock that orders drains. */
	size_t coalesced_off;
	uint32_t coalesced_max;
	pthread_mutex_t coalesced_lock;
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

	/* Pausing (lifecycle.c): vm_pause() sets pause_req and kicks every
	 * vCPU; each parks outside KVM_RUN (vcpu.c); the last one to park
	 * queues the end of the pause on the event loop, which saves the
	 * guest clock and calls on_state. Resuming restores the clock, then
	 * wakes them. pause_lock guards nr_parked and the wake-up. */
	pthread_mutex_t pause_lock;
	pthread_cond_t pause_cond;
	bool pause_ready;            /* the two above are initialised */
	bool _Atomic pause_req;
	unsigned nr_parked;
	enum vm_run_state _Atomic run_state;
	struct kvm_clock_data clock; /* KVM_GET_CLOCK when the pause ended */
	bool clock_saved;
	/* While the devices' requests already out complete (lifecycle.c):
	 * a timerfd polling for them, and when the wait began (0: none). */
	int pause_fd;
	uint64_t pause_io_since;
	/* Per wired line: its level and its assertions (irq_count.c). */
	bool irq_high[VM_IRQ_LINES];
	uint64_t irq_asserted[VM_IRQ_LINES];
	/* Called on the event loop thread after each state change (paused,
	 * running); set by the control socket. */
	void (*on_state)(void *opaque);
	void *on_state_opaque;
	uint64_t start_ns;           /* CLOCK_MONOTONIC at vm_start */

	/* Powerdown (vm_powerdown): the ACPI power button was pressed and the
	 * guest has shutdown_timeout_s to power off; then shutdown_fd (a
	 * timerfd the main thread polls) fires and the VM is stopped. */
	int shutdown_fd;
	unsigned shutdown_timeout_s;
	bool _Atomic powering_down;

	/* ACPI S3 (suspend.c): the guest suspended to RAM. The vCPUs park
	 * as for a pause (under pause_lock) until a wake event clears it. */
	bool _Atomic suspended;
	/* A wake event came while some vCPU had not parked yet: the last
	 * one to park finishes the wake (vm_s3_parked), so that no vCPU runs
	 * on from before the suspend and none keeps a stale wake. */
	bool s3_wake_pending;
};

/* Build everything; on failure returns NULL with a message logged and
 * *status set to the exit status to use (64, 65...). */
/* persist (NULL: none) keeps backends and state across the VMs a guest's
 * resets build in turn (core/persist.h). */
struct vm *vm_create(const struct vm_config *cfg, struct persist *persist,
		     int *status);
void vm_destroy(struct vm *vm);
/* The same when the process exits next: the devices are released as by
 * vm_destroy (disks flushed, terminals restored), the KVM fds and the
 * guest memory are left to the exit (see lifecycle.c). The environment
 * variable CVISOR_FULL_TEARDOWN=1 makes it a vm_destroy (the valgrind
 * test proves that everything is released). */
void vm_destroy_at_exit(struct vm *vm);

/* For the architecture's builder (arch/arch.h): put a device on its
 * buses; make vCPUs 0..n-1; the boot platform's read_file, which keeps
 * the boot images across resets (ctx: the persist table). */
int vm_place_device(struct vm *vm, struct device *dev);
int vm_create_vcpus(struct vm *vm, unsigned n);
struct load_config;
const void *vm_kept_file(void *ctx, const struct load_config *l,
			 size_t max, size_t *len);
/* The kept files' mappings dropped once a build has loaded them. */
void vm_kept_files_unmap(struct vm *vm);

/* Start the event loop and the vCPU threads. */
int vm_start(struct vm *vm);
/* First request wins; later ones are ignored. Safe from any thread. */
void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status);
/* Kick and join every vCPU and the event loop (main thread). */
void vm_stop_threads(struct vm *vm);

/* The devices' irq_set (dev_env): counts the line's assertions, then
 * arch_irq_set. */
void vm_irq_set(void *vm, uint32_t line, int level);
uint64_t vm_irq_count(const struct vm *vm, uint32_t line);

/* Pause every vCPU and quiesce the devices (event loop thread). 1:
 * paused already; 0: pausing, on_state is called once all are parked and
 * the devices' requests out have completed; -EBUSY: the VM is stopping. */
int vm_pause(struct vm *vm);
/* ACPI S3 (suspend.c), from any thread. suspend: the guest entered S3;
 * every vCPU parks outside KVM_RUN, memory and devices stay. wake: the
 * acpi-pm device saw a wake event; each vCPU restarts as after S3
 * (arch_vcpu_s3_wake) when it next runs. rtc_alarm: the RTC's interrupt
 * rose, a wake source. wakeup: the operator's `wakeup`; -EBUSY when
 * the guest is not suspended, -ENODEV without the acpi-pm device. */
void vm_s3_suspend(struct vm *vm);
void vm_s3_wake(struct vm *vm);
void vm_s3_rtc_alarm(struct vm *vm);
/* vcpu.c's park, pause_lock held, when the last vCPU parked. */
void vm_s3_parked(struct vm *vm);
int vm_wakeup(struct vm *vm);
/* Resume a paused VM (event loop thread). 0, or -EAGAIN while a pause is
 * still in progress, -EBUSY when stopping. Running already is 0. */
int vm_resume(struct vm *vm);
/* vcpu.c: the last vCPU has parked (under pause_lock). */
void vm_all_parked(struct vm *vm);
/* Press the ACPI power button and arm the shutdown deadline. 0, or
 * -ENODEV (no power button: no free interrupt line for it), -EBUSY
 * (stopping or paused). *listening: the guest's OS has enabled the
 * button's interrupt, so a press will be seen. Any thread. */
int vm_powerdown(struct vm *vm, bool *listening);
/* "running", "pausing", "paused", "powering-down", "stopping". */
const char *vm_state_name(const struct vm *vm);
/* coalesced_mmio.c: whether KVM has the ring (after open_kvm), and
 * dev_env.coalesce. */
void vm_coalesced_probe(struct vm *vm);
int vm_coalesce(void *ctx, uint64_t addr, unsigned len, bool on);

#endif

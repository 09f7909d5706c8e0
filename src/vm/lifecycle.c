/* Running, pausing and stopping a VM, and tearing it down. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "arch/arch.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "core/watchdog.h"
#include "devices/acpi_pm.h"
#include "devices/device.h"
#include "devices/quiesce.h"
#include "event/loop.h"
#include "vcpu/vcpu.h"
#include "virtio/virtio.h"
#include "vm/vm.h"
#include "vm/vm_phases.h"
#include "vm/vm_reaper.h"

/* A pause waits this long for the I/O requests already out (polling
 * every millisecond on the event loop), then pauses with them in flight:
 * a backend that never answers must not stall the pause forever. */
#define PAUSE_IO_DEADLINE_NS (5 * 1000000000ull)
#define PAUSE_IO_POLL_NS     1000000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The pause and powerdown state lives here rather than in the builder:
 * set up once, before any thread of the VM runs. */
static void pause_complete(void *opaque);

static void pause_poll(void *opaque, uint32_t events)
{
	struct vm *vm = opaque;
	uint64_t expired;

	(void)events;
	if (read(vm->pause_fd, &expired, sizeof(expired)) > 0)
		pause_complete(vm);
}

static int runtime_init(struct vm *vm)
{
	pthread_mutex_init(&vm->pause_lock, NULL);
	pthread_cond_init(&vm->pause_cond, NULL);
	vm->pause_ready = true;
	vm->run_state = VM_STATE_RUNNING;
	vm->start_ns = now_ns();
	vm->shutdown_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	vm->pause_fd = timerfd_create(CLOCK_MONOTONIC,
				      TFD_CLOEXEC | TFD_NONBLOCK);
	if (vm->shutdown_fd < 0 || vm->pause_fd < 0) {
		pr_err("timerfd: %s", strerror(errno));
		return -errno;
	}
	return event_loop_add(vm->loop, vm->pause_fd, EPOLLIN, pause_poll, vm);
}

int vm_start(struct vm *vm)
{
	int ret = runtime_init(vm);

	if (!ret)
		ret = event_loop_start(vm->loop);
	vm_phase("event-thread");
	for (unsigned i = 0; !ret && i < vm->nr_vcpus; i++)
		ret = vcpu_start(vm->vcpus[i]);
	vm_phase("vcpu-threads");
	return ret;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	uint64_t one = 1;

	/* A guest that resets rather than powering off after the power
	 * button: the rebuilt VM would have no deadline, and a guest that
	 * always resets would outlive every SIGTERM. It stops, with the
	 * status of a reset the config turns into an exit (34). */
	if (why == VM_STOP_RESET &&
	    vm->powering_down) {
		pr_warn("the guest reset instead of powering off; stopping it");
		why = VM_STOP_EXIT;
		status = CV_EXIT_REBOOT;
	}
	pthread_mutex_lock(&vm->stop_lock);
	/* An exit asked for while a reset is under way wins: the run loop
	 * reads vm->stop only once the threads are down, and a stop signal
	 * that arrived during a reset would otherwise be lost with the old
	 * VM (the rebuilt one would run on). */
	if (vm->stop == VM_RUNNING ||
	    (vm->stop == VM_STOP_RESET && why == VM_STOP_EXIT)) {
		vm->exit_status = status;
		vm->stop = why;
		if (write(vm->stop_fd, &one, sizeof(one)) < 0)
			pr_err("stop request lost");
	}
	pthread_mutex_unlock(&vm->stop_lock);
}

void vm_stop_threads(struct vm *vm)
{
	/* Whatever hangs from here on (a vCPU stuck in the kernel, a disk
	 * that never completes), the process ends in time; vm_destroy()
	 * disarms it when the teardown is done. */
	if (!vm->stopping) {
		vm->stopping = true;
		/* A reset that cannot finish is no clean exit: not 0. */
		watchdog_arm(STOP_DEADLINE_MS,
			     vm->stop == VM_STOP_RESET ? CV_EXIT_UNEXPECTED
						       : vm->exit_status,
			     vm->stop == VM_STOP_RESET ? "the reset"
						       : "stopping the VM");
	}
	/* stop is set before the kicks, and a kick is never lost (see
	 * vcpu.h), so every vCPU thread sees it and returns. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	/* Parked vCPUs wait on the condition, not in KVM_RUN: stop is set,
	 * so they leave once woken (the lock orders this after their check
	 * of stop). */
	if (vm->pause_ready) {
		pthread_mutex_lock(&vm->pause_lock);
		pthread_cond_broadcast(&vm->pause_cond);
		pthread_mutex_unlock(&vm->pause_lock);
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(vm->vcpus[i]);
	if (vm->loop)
		event_loop_stop(vm->loop);
}

/* Closing the VM's fds with its memory still mapped makes KVM tear the
 * VM down page by page: up to 16 ms of close() on a 64 MiB guest, most of
 * a trivial guest's run (issue 12). The process exit does the same work
 * faster, address space first, then the fds, as the bare KVM program
 * does by just exiting; nothing the guest wrote depends on it, since the
 * devices (disks, consoles) are still released in order here. Even so the
 * exit would wait for the VM's destruction (SRCU grace periods: 10-70 ms
 * with the PIT on kvm_pvm), so a reaper (vm_reaper.c) holds the VM and
 * the address space past our exit. */
void vm_destroy_at_exit(struct vm *vm)
{
	const char *full = getenv("CVISOR_FULL_TEARDOWN");
	unsigned n = 0;
	int *keep;

	if (!vm)
		return;
	vm->leave_to_exit = !(full && *full && strcmp(full, "0"));
	if (!vm->leave_to_exit || vm->cfg->nr_pass || vm->cfg->mem_hugepages) {
		/* `pass`: the kvm-vfio device holds the VFIO group until the
		 * VM is gone; `memory hugepages`: the guest memory holds the
		 * host's huge pages until the address space goes. A VMM
		 * started right after must find them free, so that VM goes
		 * down in our own exit. */
		vm_destroy(vm);
		return;
	}
	/* What holds the VM (vm_reaper.c): its fd, the vCPUs', the
	 * irqchip device's. */
	keep = xcalloc(vm->nr_vcpus + 2, sizeof(*keep));
	keep[n++] = vm->vm_fd;
	keep[n++] = vm->irqchip_fd;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		keep[n++] = vm->vcpus[i]->fd;
	vm_destroy(vm);
	vm_reaper_start(keep, n);
	free(keep);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->stop == VM_RUNNING)
		vm_request_stop(vm, VM_STOP_EXIT, 0);
	vm_stop_threads(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		if (vm->leave_to_exit) {
			vm->vcpus[i]->run = NULL;    /* unmapped by the exit */
			vm->vcpus[i]->fd = -1;       /* closed by the exit */
		}
		vcpu_destroy(vm->vcpus[i]);
	}
	free(vm->vcpus);
	for (unsigned i = vm->nr_devices; i > 0; i--) {
		struct device *d = vm->devices[i - 1];
		if (d->ops->free)
			d->ops->free(d);
	}
	event_loop_free(vm->loop);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (!vm->leave_to_exit) {
		if (vm->irqchip_fd >= 0)
			close(vm->irqchip_fd);
		if (vm->vm_fd >= 0)
			close(vm->vm_fd);
		if (vm->kvm_fd >= 0 && !vm->kvm_fd_kept)
			close(vm->kvm_fd);
		/* after the VM fd: KVM drops its references to the memory
		 * first */
		guest_mem_free(&vm->mem);
	}
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	irq_routing_destroy(&vm->routing);
	pthread_mutex_destroy(&vm->stop_lock);
	pthread_mutex_destroy(&vm->coalesced_lock);
	if (vm->pause_ready) {
		pthread_mutex_destroy(&vm->pause_lock);
		pthread_cond_destroy(&vm->pause_cond);
		if (vm->shutdown_fd >= 0)
			close(vm->shutdown_fd);
		if (vm->pause_fd >= 0)
			close(vm->pause_fd);
	}
	if (vm->stopping)
		watchdog_disarm();
	free(vm);
}

static void notify_state(struct vm *vm)
{
	if (vm->on_state)
		vm->on_state(vm->on_state_opaque);
}

/* The guest's kvmclock stands still while paused, as QEMU does it: the
 * clock is read when the last vCPU has parked and written back before
 * the first one runs again, so the guest sees no time pass. */
static void save_clock(struct vm *vm)
{
	memset(&vm->clock, 0, sizeof(vm->clock));
	vm->clock_saved = ioctl(vm->vm_fd, KVM_GET_CLOCK, &vm->clock) == 0;
	if (!vm->clock_saved)
		pr_debug("KVM_GET_CLOCK: %s; the guest clock runs on while "
			 "paused", strerror(errno));
}

static void restore_clock(struct vm *vm)
{
	struct kvm_clock_data c = { .clock = vm->clock.clock };

	if (vm->clock_saved && ioctl(vm->vm_fd, KVM_SET_CLOCK, &c) < 0)
		pr_warn("KVM_SET_CLOCK: %s", strerror(errno));
	vm->clock_saved = false;
}

/* Every device held with the VM (on) or let go: virtio's and the others
 * (devices/quiesce.h). The requests they still have out. */
static unsigned quiesce_devices(bool on)
{
	unsigned out = virtio_quiesce_all(on);

	return out + dev_quiesce_all(on);
}

/* Every vCPU is parked: the devices stop taking work from the guest
 * (virtio/quiesce.c, devices/quiesce.h) and the requests already out
 * complete before the VM counts as paused, so that guest memory stays as
 * it is while paused and no completion is lost. True once paused; false
 * while waiting for them (pause_fd brings us back). Event loop thread. */
static bool try_finish_pause(struct vm *vm)
{
	struct itimerspec t = { .it_value.tv_nsec = PAUSE_IO_POLL_NS };
	unsigned out = quiesce_devices(true);
	uint64_t now = now_ns();

	if (!vm->pause_io_since)
		vm->pause_io_since = now;
	if (out && now - vm->pause_io_since < PAUSE_IO_DEADLINE_NS) {
		if (timerfd_settime(vm->pause_fd, 0, &t, NULL) == 0)
			return false;
		pr_err("pause timer: %s", strerror(errno));
	}
	if (out)
		pr_warn("pause: %u I/O requests still out after %llu s; "
			"paused with them in flight", out,
			PAUSE_IO_DEADLINE_NS / 1000000000ull);
	vm->pause_io_since = 0;
	save_clock(vm);
	vm->run_state = VM_STATE_PAUSED;
	return true;
}

/* On the event loop: queued by the last vCPU to park, or pause_fd's
 * poll while requests are out. */
static void pause_complete(void *opaque)
{
	struct vm *vm = opaque;
	bool done;

	pthread_mutex_lock(&vm->pause_lock);
	done = vm->pause_req && vm->nr_parked == vm->nr_vcpus;
	pthread_mutex_unlock(&vm->pause_lock);
	if (!done || vm->run_state != VM_STATE_PAUSING)
		return;
	if (try_finish_pause(vm))
		notify_state(vm);
}

void vm_all_parked(struct vm *vm)
{
	if (event_loop_call(vm->loop, pause_complete, vm))
		pr_err("pause: cannot reach the event loop");
}

int vm_pause(struct vm *vm)
{
	bool parked;

	if (vm->stop != VM_RUNNING || !vm->pause_ready)
		return -EBUSY;
	if (vm->run_state == VM_STATE_PAUSED)
		return 1;
	if (vm->run_state == VM_STATE_PAUSING)
		return 0;
	vm->run_state = VM_STATE_PAUSING;
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_req = true;
	/* Still parked from a resume they have not woken up from yet: then
	 * nobody parks anew and the pause is complete already. */
	parked = vm->nr_parked == vm->nr_vcpus;
	pthread_mutex_unlock(&vm->pause_lock);
	if (parked)
		return try_finish_pause(vm) ? 1 : 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	return 0;
}

int vm_resume(struct vm *vm)
{
	if (vm->stop != VM_RUNNING || !vm->pause_ready)
		return -EBUSY;
	if (vm->run_state == VM_STATE_RUNNING)
		return 0;
	if (vm->run_state == VM_STATE_PAUSING)
		return -EAGAIN;
	/* The devices first: the guest's first access finds them live. */
	quiesce_devices(false);
	restore_clock(vm);
	pthread_mutex_lock(&vm->pause_lock);
	vm->pause_req = false;
	pthread_cond_broadcast(&vm->pause_cond);
	pthread_mutex_unlock(&vm->pause_lock);
	vm->run_state = VM_STATE_RUNNING;
	return 0;
}

static struct device *find_device(struct vm *vm, const char *name)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (!strcmp(vm->devices[i]->name, name))
			return vm->devices[i];
	return NULL;
}

int vm_powerdown(struct vm *vm, bool *listening)
{
	struct itimerspec t = { .it_value.tv_sec = vm->shutdown_timeout_s };
	struct device *pm = find_device(vm, ACPI_PM_NAME);
	int gsi;

	*listening = false;
	/* Suspended (S3) counts as running: the press wakes the guest, as
	 * on a PC (acpi_pm_sleep.c), and the deadline runs from it. */
	if (vm->stop != VM_RUNNING || !vm->pause_ready ||
	    vm->run_state != VM_STATE_RUNNING)
		return -EBUSY;
	gsi = pm ? arch_power_button(vm, listening) : -ENODEV;
	if (gsi < 0)
		return -ENODEV;
	acpi_pm_power_button(pm, (uint32_t)gsi);
	/* A second press does not extend the deadline of the first. */
	if (!vm->powering_down) {
		vm->powering_down = true;      /* _Atomic */
		if (!t.it_value.tv_sec)
			t.it_value.tv_nsec = 1;    /* 0 would disarm it */
		if (timerfd_settime(vm->shutdown_fd, 0, &t, NULL) < 0)
			pr_err("shutdown deadline: %s", strerror(errno));
	}
	pr_info("power button pressed; the guest has %u s to power off%s",
		vm->shutdown_timeout_s, *listening ? "" :
		" (it has not enabled the button's interrupt)");
	return 0;
}

const char *vm_state_name(const struct vm *vm)
{
	enum vm_run_state st = vm->run_state;

	if (vm->stop != VM_RUNNING)
		return "stopping";
	switch (st) {
	case VM_STATE_PAUSING:
		return "pausing";
	case VM_STATE_PAUSED:
		return "paused";
	default:
		if (vm->suspended)
			return "suspended";
		return vm->powering_down ? "powering-down" : "running";
	}
}

/* ACPI S3, suspend to RAM, for the VM as a whole: the acpi-pm device
 * (devices/acpi_pm_sleep.c) decides when the guest sleeps and when it
 * wakes; this stops and restarts the vCPUs.
 *
 * Suspended, every vCPU waits outside KVM_RUN as for a pause (vcpu.c's
 * park, under pause_lock), but nothing is quiesced and the guest clock
 * runs on: a sleeping PC's RTC keeps time, and the guest's drivers
 * quiesced their devices before the guest slept. A pause and S3 are
 * independent: a suspended VM can be paused (and resumed, to suspended
 * again), and a wake event while paused takes effect at the resume.
 *
 * What survives S3, decided per device as a PC's power wells would:
 *  - memory, the RTC/CMOS (battery) and the acpi-pm registers (the resume
 *    well: PM1 enables, SCI_EN, the wake status the guest reads) stay;
 *  - the vCPUs lose their state: the boot vCPU restarts at the FACS
 *    waking vector and the others wait for INIT/SIPI (arch_vcpu_s3_wake),
 *    which is what the guest's resume code expects to find;
 *  - every other device (UARTs, virtio, PCI functions, the in-kernel
 *    interrupt controllers and PIT) keeps its state. A PC loses it, but
 *    there firmware runs first and re-initialises the chipset; a guest
 *    OS restores or resets each device on resume anyway (Linux: PCI
 *    config space, virtio's freeze/restore reset the device, the IOAPIC
 *    and 8259 are reprogrammed), and QEMU's reset-on-wake relies on
 *    SeaBIOS to bring the platform back, which a kernel loaded by cvisor
 *    does not have.
 */
#include <errno.h>
#include <string.h>

#include "core/log.h"
#include "devices/acpi_pm.h"
#include "event/loop.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static struct device *pm_device(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (!strcmp(vm->devices[i]->name, ACPI_PM_NAME))
			return vm->devices[i];
	return NULL;
}

/* On the event loop: the control socket says the new state. */
static void state_changed(void *opaque)
{
	struct vm *vm = opaque;

	if (vm->on_state)
		vm->on_state(vm->on_state_opaque);
}

static void notify(struct vm *vm)
{
	if (vm->loop && event_loop_call(vm->loop, state_changed, vm))
		pr_warn("S3: cannot reach the event loop");
}

/* On the event loop (a vCPU thread's seccomp list has no tgkill): the
 * other vCPUs leave KVM_RUN at the kick (never lost: vcpu.c) and park;
 * one that woke meanwhile just runs on. */
static void kick_all(void *opaque)
{
	struct vm *vm = opaque;

	/* (a wake pending is still suspended: its vCPUs must park first) */
	if (vm->suspended)
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vcpu_kick(vm->vcpus[i]);
	state_changed(vm);
}

void vm_s3_suspend(struct vm *vm)
{
	if (!vm->pause_ready || vm->stop != VM_RUNNING)
		return;
	pthread_mutex_lock(&vm->pause_lock);
	vm->suspended = true;
	pthread_mutex_unlock(&vm->pause_lock);
	/* The vCPU that wrote SLP_EN parks on its way back to KVM_RUN. */
	pr_info("the guest suspended to RAM (ACPI S3)");
	if (vm->loop && event_loop_call(vm->loop, kick_all, vm))
		pr_warn("S3: cannot reach the event loop");
}

/* pause_lock held, every vCPU parked. The wake flags are set before any
 * vCPU can run: each applies its own on its thread (KVM's vCPU ioctls
 * belong there). */
static void finish_wake_locked(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vm->vcpus[i]->s3_wake = true;
	vm->suspended = false;
	vm->s3_wake_pending = false;
	pthread_cond_broadcast(&vm->pause_cond);
}

/* A wake takes effect only once every vCPU has parked: one still in
 * KVM_RUN (kick_all has not reached it yet, or the event came at
 * SLP_EN) would otherwise run on from before the suspend, or keep its
 * wake flag and be reset long after, in the middle of the resumed OS. */
void vm_s3_wake(struct vm *vm)
{
	bool woke = false;

	if (!vm->pause_ready)
		return;
	pthread_mutex_lock(&vm->pause_lock);
	if (vm->suspended && !vm->s3_wake_pending) {
		if (vm->nr_parked == vm->nr_vcpus) {
			finish_wake_locked(vm);
			woke = true;
		} else {
			vm->s3_wake_pending = true;
		}
	}
	pthread_mutex_unlock(&vm->pause_lock);
	if (woke) {
		pr_info("the guest wakes from S3");
		notify(vm);
	}
}

void vm_s3_parked(struct vm *vm)
{
	if (!vm->suspended || !vm->s3_wake_pending)
		return;
	finish_wake_locked(vm);
	pr_info("the guest wakes from S3");
	notify(vm);
}

void vm_s3_rtc_alarm(struct vm *vm)
{
	struct device *pm;

	/* Awake too: acpi-pm latches RTC_STS, a wake source for a suspend
	 * that follows (checked under its lock, not here). */
	pm = pm_device(vm);
	if (pm)
		acpi_pm_wake_event(pm, ACPI_PM_WAKE_RTC);
}

int vm_wakeup(struct vm *vm)
{
	struct device *pm = pm_device(vm);

	if (!pm)
		return -ENODEV;
	if (vm->stop != VM_RUNNING || !acpi_pm_wake_event(pm, ACPI_PM_WAKE_OTHER))
		return -EBUSY;
	return 0;
}

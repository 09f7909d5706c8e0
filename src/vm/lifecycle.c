/* Running and stopping a VM, and tearing it down. */
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/log.h"
#include "core/watchdog.h"
#include "devices/device.h"
#include "event/loop.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

int vm_start(struct vm *vm)
{
	int ret = event_loop_start(vm->loop);

	for (unsigned i = 0; !ret && i < vm->nr_vcpus; i++)
		ret = vcpu_start(vm->vcpus[i]);
	return ret;
}

void vm_request_stop(struct vm *vm, enum vm_stop_reason why, int status)
{
	uint64_t one = 1;

	pthread_mutex_lock(&vm->stop_lock);
	if (vm->stop == VM_RUNNING) {
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
		watchdog_arm(STOP_DEADLINE_MS, vm->exit_status,
			     vm->stop == VM_STOP_RESET ? "the reset"
						       : "stopping the VM");
	}
	/* stop is set before the kicks, and a kick is never lost (see
	 * vcpu.h), so every vCPU thread sees it and returns. */
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_kick(vm->vcpus[i]);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_join(vm->vcpus[i]);
	if (vm->loop)
		event_loop_stop(vm->loop);
}

void vm_destroy(struct vm *vm)
{
	if (!vm)
		return;
	if (vm->stop == VM_RUNNING)
		vm_request_stop(vm, VM_STOP_EXIT, 0);
	vm_stop_threads(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		vcpu_destroy(vm->vcpus[i]);
	free(vm->vcpus);
	for (unsigned i = vm->nr_devices; i > 0; i--) {
		struct device *d = vm->devices[i - 1];
		if (d->ops->free)
			d->ops->free(d);
	}
	event_loop_free(vm->loop);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0 && !vm->kvm_fd_kept)
		close(vm->kvm_fd);
	/* after the VM fd: KVM drops its references to the memory first */
	guest_mem_free(&vm->mem);
	if (vm->stop_fd >= 0)
		close(vm->stop_fd);
	irq_routing_destroy(&vm->routing);
	pthread_mutex_destroy(&vm->stop_lock);
	if (vm->stopping)
		watchdog_disarm();
	free(vm);
}

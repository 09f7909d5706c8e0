/* Guest accesses KVM cannot decode. A data abort on an address without
 * memory whose syndrome says nothing of the access (ESR_EL2.ISV = 0: a
 * load/store pair, a writeback form, a SIMD register) leaves KVM nothing
 * to emulate. By default KVM_RUN then fails with ENOSYS, which ends the
 * VM: guest user space with a device page mapped could stop it at will.
 * With KVM_CAP_ARM_NISV_TO_USER the access comes back as
 * KVM_EXIT_ARM_NISV instead, and cvisor answers it as QEMU does: a
 * synchronous external data abort for the guest to handle, as from a
 * bus that refused the access (KVM_CAP_ARM_INJECT_EXT_DABT). */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/arm64/arm64.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

/* The capability that is missing, or NULL once the exit is on. */
static const char *nisv_enable(struct vm *vm)
{
	struct kvm_enable_cap cap = { .cap = KVM_CAP_ARM_NISV_TO_USER };

	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_ARM_NISV_TO_USER) <= 0)
		return "KVM_CAP_ARM_NISV_TO_USER";
	/* Without the injection the exit could only end the VM too. */
	if (ioctl(vm->vm_fd, KVM_CHECK_EXTENSION,
		  KVM_CAP_ARM_INJECT_EXT_DABT) <= 0)
		return "KVM_CAP_ARM_INJECT_EXT_DABT";
	if (ioctl(vm->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
		return "KVM_ENABLE_CAP(KVM_CAP_ARM_NISV_TO_USER)";
	return NULL;
}

void arm64_nisv_setup(struct vm *vm)
{
	static bool said;       /* once a process: a reset rebuilds the VM */
	const char *missing = nisv_enable(vm);

	if (!missing || said)
		return;
	said = true;
	pr_warn("KVM lacks %s: a guest access to MMIO that KVM cannot decode "
		"(a load/store pair, say) stops the VM instead of raising an "
		"external abort in the guest", missing);
}

/* The abort is injected for the instruction that faulted (KVM has not
 * moved the PC past it); the guest's handler decides what follows. */
static bool inject_ext_dabt(struct vcpu *v)
{
	struct kvm_vcpu_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.exception.ext_dabt_pending = 1;
	return ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) == 0;
}

bool arch_vcpu_exit(struct vcpu *v, bool *go_on)
{
	struct kvm_run *r = v->run;
	int err;

	if (r->exit_reason != KVM_EXIT_ARM_NISV)
		return false;
	/* On the vCPU's thread with no device lock held; a guest can
	 * repeat it at will, hence the limit. */
	log_ratelimited(LOG_WARN, "vcpu %u: an access to %#llx that KVM "
			"cannot decode (ISS %#llx: a load/store pair, "
			"writeback or SIMD access to MMIO?): external abort "
			"raised in the guest", v->id,
			(unsigned long long)r->arm_nisv.fault_ipa,
			(unsigned long long)r->arm_nisv.esr_iss);
	*go_on = inject_ext_dabt(v);
	if (*go_on)
		return true;
	err = errno;
	pr_err("vcpu %u: KVM_SET_VCPU_EVENTS (external abort): %s", v->id,
	       strerror(err));
	vcpu_dump(v, "an access KVM cannot decode, no abort raised");
	vm_request_stop(v->vm, VM_STOP_EXIT, CV_EXIT_POSTSTART);
	return true;
}

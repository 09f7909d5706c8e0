/* Leaving ACPI S3 on x86 (arch_vcpu_s3_wake, called on the vCPU's own
 * thread by vcpu.c): the state a PC's firmware leaves the CPUs in when it
 * hands over to the OS's waking vector. The boot vCPU runs from the FACS
 * waking vector (acpi/acpi_wake.c): in real mode, or in flat 32-bit
 * protected mode for X_Firmware_Waking_Vector; the others are back in
 * wait-for-SIPI (INIT received), so that the OS starts them as at boot.
 * Nothing pending survives: no exception, interrupt or NMI in flight. */
#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/arch.h"
#include "arch/x86/acpi/acpi_wake.h"
#include "arch/x86/firmware.h"
#include "core/log.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)

static struct kvm_segment seg(uint16_t sel, uint64_t base, uint32_t limit,
			      uint8_t type, bool big)
{
	return (struct kvm_segment){ .base = base, .limit = limit,
				     .selector = sel, .type = type,
				     .present = 1, .s = 1, .db = big,
				     .g = big };
}

/* Power-on-like system state with CS as given: real mode unless prot32
 * (then flat 4 GiB segments). */
static void base_sregs(struct kvm_sregs *s, struct kvm_segment cs,
		       bool prot32)
{
	struct kvm_segment data = prot32 ? seg(0x18, 0, 0xffffffff, 3, true)
					 : seg(0, 0, 0xffff, 3, false);

	s->cs = cs;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->tr = (struct kvm_segment){ .limit = 0xffff, .type = 0xb,
				      .present = 1 };
	s->ldt = (struct kvm_segment){ .limit = 0xffff, .type = 2,
				       .present = 1 };
	s->gdt.base = s->idt.base = 0;
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = CR0_ET | (prot32 ? CR0_PE : 0);
	s->cr2 = s->cr3 = s->cr4 = 0;
	s->efer = 0;
	memset(s->interrupt_bitmap, 0, sizeof(s->interrupt_bitmap));
}

static int set_state(struct vcpu *v, struct kvm_segment cs, bool prot32,
		     uint64_t rip, uint32_t mp)
{
	struct kvm_sregs s;
	struct kvm_regs regs = { .rflags = 0x2, .rip = rip };
	struct kvm_vcpu_events ev = { .flags = KVM_VCPUEVENT_VALID_NMI_PENDING };
	struct kvm_mp_state mps = { .mp_state = mp };

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return -errno;
	base_sregs(&s, cs, prot32);
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	if (ioctl(v->fd, KVM_SET_VCPU_EVENTS, &ev) < 0)
		pr_debug("vcpu %u: S3: KVM_SET_VCPU_EVENTS: %s", v->id,
			 strerror(errno));
	if (ioctl(v->fd, KVM_SET_MP_STATE, &mps) < 0)
		return -errno;
	return 0;
}

static int wake_boot_vcpu(struct vcpu *v)
{
	struct x86_acpi_wake w;
	uint64_t facs;
	int err = x86_acpi_find_facs(&v->vm->mem, X86_FW_RSDP_ADDR, &facs);

	if (!err)
		err = x86_acpi_wake_decode(&v->vm->mem, facs, &w);
	if (err) {
		pr_err("S3 resume: the guest left no usable waking vector in "
		       "its FACS (%s)", strerror(-err));
		return err;
	}
	if (w.prot32)
		return set_state(v, seg(0x10, 0, 0xffffffff, 0xb, true), true,
				 w.ip, KVM_MP_STATE_RUNNABLE);
	return set_state(v, seg(w.cs, (uint64_t)w.cs << 4, 0xffff, 0xb, false),
			 false, w.ip, KVM_MP_STATE_RUNNABLE);
}

int arch_vcpu_s3_wake(struct vcpu *v)
{
	int err;

	if (v->id == 0)
		return wake_boot_vcpu(v);
	/* The reset vector's CS until the SIPI replaces it. */
	err = set_state(v, seg(0xf000, 0xffff0000, 0xffff, 0xb, false), false,
			0xfff0, KVM_MP_STATE_INIT_RECEIVED);
	if (err)
		pr_err("vcpu %u: S3 resume: %s", v->id, strerror(-err));
	return err;
}

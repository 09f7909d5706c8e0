#include <errno.h>
#include <linux/kvm.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/arch.h"
#include "config/config.h"
#include "core/log.h"
#include "vm/vm.h"

/* The in-kernel 8254 PIT, which every PC has, unless the configuration
 * keeps its ports free (`reserve loc io:0x40,4`): guests that never use
 * it (KVM's clock and the local APIC timer serve Linux, the test guest)
 * then do without it, and so does cvisor's exit: destroying the PIT
 * (its worker thread, its I/O bus devices) is 16-23 ms of the VM's
 * teardown on a kvm_pvm host, against 0.4 ms for the rest of the VM. */
static bool pit_wanted(const struct vm_config *cfg)
{
	for (unsigned i = 0; cfg && i < cfg->nr_reserve; i++) {
		const struct cfg_loc *l = &cfg->reserve[i].loc;
		uint64_t len = l->has_len && l->len ? l->len : 1;

		if (cfg->reserve[i].kind == RESERVE_LOC &&
		    l->space == LOC_IO && l->addr < 0x44 && l->addr + len > 0x40)
			return false;
	}
	return true;
}

int x86_vm_init(struct vm *vm)
{
	uint64_t ident = X86_KVM_IDENTITY_MAP;
	struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

	/* Intel needs both before the first KVM_RUN for real-mode guests;
	 * AMD ignores them. */
	if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &ident) < 0) {
		pr_err("KVM_SET_IDENTITY_MAP_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)X86_KVM_TSS) < 0) {
		pr_err("KVM_SET_TSS_ADDR: %s", strerror(errno));
		return -errno;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP) < 0) {
		pr_err("KVM_CREATE_IRQCHIP: %s", strerror(errno));
		return -errno;
	}
	if (pit_wanted(vm->cfg) && ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
		pr_err("KVM_CREATE_PIT2: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

void x86_irq_set(void *opaque, uint32_t gsi, int level)
{
	struct vm *vm = opaque;
	struct kvm_irq_level irq = { .irq = gsi, .level = !!level };
	static struct ratelimit rl = RATELIMIT_INIT(5, 5);

	if (ioctl(vm->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		pr_warn_ratelimited(&rl, "KVM_IRQ_LINE %u: %s", gsi,
				    strerror(errno));
}

/* Interrupts injected through the VM's wired lines (IOAPIC/PIC pins, GIC
 * SPIs), for `stats`: every device that raises a line calls the VM's
 * irq_set (dev_env), which counts the line's assertions (a change from
 * low to high; a device that pulses counts once per pulse, one that
 * re-asserts a line already high not again) and passes the level on.
 * Lines that devices drive through an irqfd (virtio-mmio, pass-through)
 * bypass this: virtio counts its own interrupts.
 */
#include "arch/arch.h"
#include "vm/vm.h"

void vm_irq_set(void *opaque, uint32_t line, int level)
{
	struct vm *vm = opaque;

	if (line < VM_IRQ_LINES) {
		bool was = __atomic_exchange_n(&vm->irq_high[line], level != 0,
					       __ATOMIC_RELAXED);

		if (level && !was)
			__atomic_fetch_add(&vm->irq_asserted[line], 1,
					   __ATOMIC_RELAXED);
	}
	arch_irq_set(vm, line, level);
}

uint64_t vm_irq_count(const struct vm *vm, uint32_t line)
{
	return line < VM_IRQ_LINES ?
		__atomic_load_n(&vm->irq_asserted[line], __ATOMIC_RELAXED) : 0;
}

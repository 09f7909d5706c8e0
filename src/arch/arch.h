/* The architecture interface: what the layers above (the VM builder, the
 * vCPU layer, the lifecycle) ask of the CPU architecture KVM runs on.
 * Exactly one implementation is linked, chosen by the Makefile's ARCH:
 * src/arch/x86/host.c or src/arch/arm64/kvm_host.c. The data side of
 * every architecture (image loaders, tables, device trees) is built on
 * all hosts, so that `cvisor check --arch` works anywhere. */
#ifndef CVISOR_ARCH_ARCH_H
#define CVISOR_ARCH_ARCH_H

#include <stdbool.h>
#include <stdint.h>

struct vm;
struct vcpu;
struct kvm_irq_routing_entry;

struct arch_cap {
	long cap;
	const char *name;
};

/* The KVM capabilities the architecture needs (KVM_CHECK_EXTENSION). */
extern const struct arch_cap arch_required_caps[];
extern const unsigned arch_nr_required_caps;
/* The first GSI of MSI routes (the wired lines' GSIs are below it). */
extern const unsigned arch_first_msi_gsi;
/* At most this many routes come from arch_irqchip_routes: arm64's
 * every SPI of the largest vGIC KVM makes (992 lines, INTIDs 32-991);
 * x86 needs 40 (PIC and IOAPIC). */
#define ARCH_MAX_IRQCHIP_ROUTES 960

/* KVM_CREATE_VM's type argument (arm64: the IPA size). Negative errno
 * when the host cannot give what the config needs. */
long arch_vm_type(struct vm *vm);
/* Right after KVM_CREATE_VM: the interrupt controller and what the
 * platform needs before memory exists (x86: TSS, irqchip, PIT). */
int arch_vm_init(struct vm *vm);
/* Guest memory the platform adds to the config's (x86: the BIOS area),
 * before the memory slots are made. */
int arch_setup_memory(struct vm *vm);
/* Devices every VM of the architecture has, after the config's ones
 * (x86: port 0x80, the ACPI power registers, fw_cfg). */
int arch_setup_devices(struct vm *vm);
/* Tables, the boot image and the vCPUs with their boot state. *status
 * is the exit status on failure. */
int arch_setup_boot(struct vm *vm, int *status);
/* After the vCPUs exist (arm64: the vGIC's redistributors need them). */
int arch_vm_finish(struct vm *vm);

/* Drive a wired interrupt line (struct dev_env's irq_set). */
void arch_irq_set(void *vm, uint32_t line, int level);
/* The GSI of a wired line for KVM_IRQFD (x86: the same; arm64: the
 * SPI's index, INTID - 32). */
uint32_t arch_line_gsi(uint32_t line);
/* The interrupt controller's routes that every routing table repeats
 * (KVM's default table for vm, which KVM_SET_GSI_ROUTING replaces);
 * returns how many were written to e (at most ARCH_MAX_IRQCHIP_ROUTES). */
unsigned arch_irqchip_routes(const struct vm *vm,
			     struct kvm_irq_routing_entry *e);

/* An exit only this architecture has (arm64: KVM_EXIT_ARM_NISV, an MMIO
 * access KVM could not decode, answered with an external abort): false
 * when the exit is not one of those; else *go_on says whether the vCPU
 * runs on. On the vCPU's thread. */
bool arch_vcpu_exit(struct vcpu *v, bool *go_on);
/* KVM_RUN failed with err: what it means on this architecture, to
 * stderr (arm64: ENOSYS is an MMIO access KVM could not decode, where
 * KVM cannot hand it to cvisor: arch/arm64/abort.c). */
void arch_explain_run_error(struct vcpu *v, int err);
/* Registers to stderr. */
void arch_vcpu_dump(struct vcpu *v);
/* A KVM internal error explained (instruction, mode, hint). */
void arch_explain_internal_error(struct vcpu *v);

/* Leaving ACPI S3 (vm/suspend.c), on the vCPU's own thread before it
 * runs again: the vCPU's state as the platform's wake-up leaves it (x86:
 * the boot vCPU at the FACS waking vector, the others waiting for
 * INIT/SIPI). 0, or -errno when the guest left nothing to wake up to
 * (the vCPU then counts as triple-faulted). */
int arch_vcpu_s3_wake(struct vcpu *v);

/* The power button's line, or -ENODEV when the platform has none;
 * *listening: the guest has enabled its interrupt. */
int arch_power_button(struct vm *vm, bool *listening);

#endif

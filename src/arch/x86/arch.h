/* The KVM side of x86: what the builder and the vCPU layer ask of the
 * architecture. (boot.h is the data side: images and boot structures.) */
#ifndef CVISOR_ARCH_X86_ARCH_H
#define CVISOR_ARCH_X86_ARCH_H

#include <stdint.h>

#include "arch/x86/boot.h"

struct vm;
struct vcpu;

/* KVM places its real-mode TSS and identity page table here, just below a
 * BIOS ROM at the top of 4 GiB; the validator keeps configs off it. */
#define X86_KVM_IDENTITY_MAP 0xfffbc000ULL
#define X86_KVM_TSS          0xfffbd000ULL
#define X86_KVM_PRIVATE_LEN  0x4000ULL

/* TSS/identity map, in-kernel PIC+IOAPIC+LAPIC and PIT. */
int x86_vm_init(struct vm *vm);
/* CPUID, LAPIC LINT pins and FPU of one vCPU (all, BSP and APs). */
int x86_vcpu_init(struct vcpu *v, unsigned nr_cpus);
/* Registers of the boot vCPU as the loader described them. */
int x86_vcpu_set_boot_state(struct vcpu *v, const struct x86_boot_state *s);
/* Drive an IOAPIC/PIC input (struct dev_env's irq_set). */
void x86_irq_set(void *vm, uint32_t gsi, int level);
/* Registers to stderr. */
void x86_vcpu_dump(struct vcpu *v);

/* KVM_SET_CPUID2 from the host's supported set, adjusted. */
int x86_vcpu_set_cpuid(struct vcpu *v, unsigned nr_cpus);

/* CPUID adjustments, split out so they can be tested without KVM. */
struct kvm_cpuid2;
void x86_cpuid_adjust(struct kvm_cpuid2 *c, unsigned apic_id,
		      unsigned nr_cpus, uint32_t tsc_khz);
/* The config's `cpuid` edits and vendor (cpuid_edit.c); c has room for
 * max entries (a set bit of a missing leaf adds one). -1 when a bit could
 * not be set for lack of room. */
struct vm_config;
int x86_cpuid_apply_config(struct kvm_cpuid2 *c, unsigned max,
			   const struct vm_config *cfg);

#endif

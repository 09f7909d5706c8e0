/* Explaining a KVM internal error: what the guest was executing, where,
 * in which mode, and what is likely wrong (internal_error.c). */
#ifndef CVISOR_ARCH_X86_INTERNAL_ERROR_H
#define CVISOR_ARCH_X86_INTERNAL_ERROR_H

#include <stddef.h>
#include <stdint.h>

struct vcpu;

/* The CPU mode in words, from CR0, EFER and the CS attributes. */
const char *x86_mode_words(uint64_t cr0, uint64_t efer, int cs_l, int cs_db);

/* A hint for the instruction in bytes[0..n) KVM failed on under
 * suberror, or NULL. */
const char *x86_internal_error_hint(uint32_t suberror, const uint8_t *bytes,
				    size_t n, int long_mode);

/* Log the instruction bytes, RIP, mode and a hint for v's internal error
 * exit (vCPU thread, before the register dump). */
void x86_explain_internal_error(struct vcpu *v);

#endif

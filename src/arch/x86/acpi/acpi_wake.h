/* Where an x86 guest wakes from ACPI S3: the FACS waking vector, found as
 * firmware finds it (RSDP -> XSDT/RSDT -> FACP -> FACS) in guest memory,
 * which the guest may have scribbled over: every read is bounds-checked
 * and every field range-checked. Pure data work (unit-tested); the vCPU
 * side is arch/x86/s3_wake.c. */
#ifndef CVISOR_ARCH_X86_ACPI_WAKE_H
#define CVISOR_ARCH_X86_ACPI_WAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "mem/guest_mem.h"

struct x86_acpi_wake {
	uint64_t facs;     /* where the FACS was found */
	/* X_Firmware_Waking_Vector set: 32-bit protected mode, flat
	 * segments, paging off, EIP = ip (ACPI 5.2.10; no 64-bit wake:
	 * the FACS does not offer 64BIT_WAKE_SUPPORTED_F). Otherwise real
	 * mode at CS:IP = vector >> 4 : vector & 0xf, as SeaBIOS jumps. */
	bool prot32;
	uint16_t cs;
	uint32_t ip;
};

/* The FACS of the tables whose RSDP is at rsdp: 0 and *facs, or -EINVAL
 * (-EFAULT: outside guest memory) when a table is missing or bad. */
int x86_acpi_find_facs(const struct guest_mem *m, uint64_t rsdp,
		       uint64_t *facs);
/* The waking state the FACS at facs asks for: 0, or -EINVAL when it has
 * no usable vector (0, or beyond what the mode reaches). */
int x86_acpi_wake_decode(const struct guest_mem *m, uint64_t facs,
			 struct x86_acpi_wake *w);

#endif

/* The CPUID feature bits a `cpuid` statement names (cvisor extension,
 * docs/config.md): QEMU's names (`-cpu host,-x2apic`), the same bits Linux
 * lists in /proc/cpuinfo. Plain data; the config layer checks names with
 * it and cpuid_edit.c applies the result. */
#ifndef CVISOR_ARCH_X86_CPUID_FEATURES_H
#define CVISOR_ARCH_X86_CPUID_FEATURES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

struct cpuid_feature {
	const char *name;
	uint32_t leaf, subleaf;
	enum cpuid_reg reg;
	uint8_t bit;
};

/* The feature called name (name[0..len)), or NULL. Case does not matter,
 * and '_' or '.' match '-' (sse4_1, sse4.1 and sse4-1 are one bit). */
const struct cpuid_feature *x86_cpuid_feature_find(const char *name,
						   size_t len);
/* The table, for `cvisor help` and the tests. */
const struct cpuid_feature *x86_cpuid_features(size_t *nr);

#endif

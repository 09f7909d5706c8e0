/* The filters compiled when cvisor was built (tools/seccomp_gen.c writes
 * $(BUILD)/gen/seccomp_prebuilt.c, which defines the table). */
#ifndef CVISOR_SECCOMP_PREBUILT_H
#define CVISOR_SECCOMP_PREBUILT_H

#include <linux/filter.h>

#include "sandbox/sandbox_priv.h"

struct sandbox_prebuilt {
	const struct sock_filter *insns;
	unsigned short len;              /* 0: none in this build */
};

/* SANDBOX_NR_KINDS entries, by kind */
extern const struct sandbox_prebuilt sandbox_prebuilt[];

#endif

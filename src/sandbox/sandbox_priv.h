/* Inside the sandbox: the allowlists (seccomp_lists.c) as data, so that
 * seccomp.c builds every thread kind's filter the same way. */
#ifndef CVISOR_SANDBOX_PRIV_H
#define CVISOR_SANDBOX_PRIV_H

#include <seccomp.h>

#include "sandbox/sandbox.h"

/* One allowed call: the syscall, and at most one argument condition
 * (several rules for one syscall are alternatives). */
struct sc_rule {
	int nr;
	unsigned argc;               /* 0 or 1 */
	struct scmp_arg_cmp arg;
};

struct sc_list {
	const char *what;
	const struct sc_rule *rules;
	unsigned n;
};

/* The lists each kind is made of, NULL-terminated. */
const struct sc_list *const *sc_lists_for(enum sandbox_kind kind);

#endif

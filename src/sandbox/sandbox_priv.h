/* Inside the sandbox: the allowlists (seccomp_lists.c) as data, so that
 * seccomp.c builds every thread kind's filter the same way. */
#ifndef CVISOR_SANDBOX_PRIV_H
#define CVISOR_SANDBOX_PRIV_H

#include <seccomp.h>
#include <stddef.h>
#include <stdint.h>

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

/* Async-signal-safe formatting for the SIGSYS handler (seccomp.c). */
size_t sandbox_put(char *buf, size_t at, size_t cap, const char *s);
size_t sandbox_put_hex(char *buf, size_t at, size_t cap, uintptr_t v);

/* where.c: the loaded objects' code, mapped beforehand (snapshot), and
 * the refused call's origin printed from it in the handler. */
void sandbox_where_snapshot(void);
void sandbox_where_print(int fd, uintptr_t pc, const uintptr_t *sp);

/* The lists each kind is made of, NULL-terminated. */
const struct sc_list *const *sc_lists_for(enum sandbox_kind kind);

#endif

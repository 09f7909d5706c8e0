/* Inside the sandbox: the allowlists (seccomp_lists.c) as data, so that
 * seccomp.c builds every thread kind's filter the same way. */
#ifndef CVISOR_SANDBOX_PRIV_H
#define CVISOR_SANDBOX_PRIV_H

#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* seccomp_build.c: kind's filter for mode, with the setid rules for the
 * jail's ids (NULL: none), compiled to BPF in out->filter (malloc'd). 0
 * or -errno. */
struct sandbox_ids {
	uid_t uid;
	gid_t gid;
};
struct sock_fprog;
int sandbox_build_filter(enum sandbox_kind kind, enum sandbox_mode mode,
			 const struct sandbox_ids *ids, struct sock_fprog *out);

/* The filters of mode on without a jail's ids, compiled when cvisor was
 * built (seccomp_gen.c): false when this build has none (a cross build)
 * or not this kind. out->filter is then not ours to free. */
bool sandbox_prebuilt_filter(enum sandbox_kind kind, struct sock_fprog *out);

#endif

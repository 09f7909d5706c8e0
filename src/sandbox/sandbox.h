/* The sandbox: seccomp-BPF allowlists per thread kind, and the jail
 * (namespaces, pivot_root, rlimits, dropped user) for the whole process.
 * See docs/sandbox.md for the order of things and the reasons.
 */
#ifndef CVISOR_SANDBOX_SANDBOX_H
#define CVISOR_SANDBOX_SANDBOX_H

#include <stdbool.h>
#include <sys/types.h>

/* What a thread does decides what it may ask the kernel for. */
enum sandbox_kind {
	SANDBOX_CONTROL,   /* main thread: signals, stop, joins, VM rebuilds */
	SANDBOX_VCPU,      /* KVM_RUN and the devices it exits into */
	SANDBOX_EVENTS,    /* the epoll loop: consoles, ioeventfds, timers */
	SANDBOX_BLOCK,     /* the sync block engine's preadv/pwritev workers */
	SANDBOX_NR_KINDS
};

enum sandbox_mode {
	SANDBOX_OFF,       /* no filters (the library default: unit tests) */
	SANDBOX_ON,        /* a refused call prints a line and kills (SIGSYS) */
	SANDBOX_LOG,       /* refused calls run, and the kernel logs them */
};

/* "on", "log", "off" -> mode; -1 for anything else. */
int sandbox_parse_mode(const char *s);

/* Set the mode for every later sandbox_enter(). For SANDBOX_ON it installs
 * the SIGSYS handler; on_kill (may be NULL) runs in it before the process
 * dies, and must be async-signal-safe (e.g. restoring the terminal). */
void sandbox_configure(enum sandbox_mode mode, void (*on_kill)(void));
enum sandbox_mode sandbox_mode(void);

/* Load the calling thread's filter for its kind (once per thread; threads
 * it creates inherit it). A no-op when the mode is off. A filter that
 * cannot be loaded ends the process (exit 64): never run unconfined when
 * asked to be confined. */
void sandbox_enter(enum sandbox_kind kind);
const char *sandbox_kind_name(enum sandbox_kind kind);

/* Tell the filters which ids the jail drops to: glibc makes every thread
 * alive at setuid() time call setresuid itself (the block workers exist
 * then), so their filters allow exactly these ids. */
void sandbox_allow_setid(uid_t uid, gid_t gid);

/* --- the jail (jail.c) --------------------------------------------------- */

struct jail_config {
	bool has_user;
	uid_t uid;
	gid_t gid;
	const char *chroot_dir;      /* NULL: none */
};

static inline bool jail_wanted(const struct jail_config *j)
{
	return j->has_user || j->chroot_dir;
}

/* "UID:GID" (numbers) -> j; -1 on a malformed value. */
int jail_parse_user(const char *s, struct jail_config *j);

/* Before any thread or file exists: new mount, IPC, UTS and PID
 * namespaces when root. The PID namespace takes a fork: the caller's
 * process stays outside as a small supervisor that forwards stop signals
 * and exits as the child does (this function returns only in the child,
 * or in the one process when no namespace was made). Returns -1 on a
 * fatal error, after printing why. */
int jail_prepare(const struct jail_config *j);

/* After every file is open and before any thread but the block workers is
 * started: pivot_root into the directory, rlimits, drop to the user.
 * What it cannot do without root, it says and skips. -1 on a fatal error
 * (a step that root should have been able to do). Only the first call
 * acts: later ones (a rebuilt VM) return 0. */
int jail_enter(const struct jail_config *j);

#endif

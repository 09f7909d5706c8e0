/* Loading the seccomp filters (the lists are in seccomp_lists.c) and
 * telling the user when one refused a call.
 *
 * A refused call traps (SECCOMP_RET_TRAP): the SIGSYS handler prints one
 * line naming the thread kind and the system call, restores the terminal,
 * then makes the same call again with the same arguments. The filter
 * refuses it again while SIGSYS is blocked in its own handler, and the
 * kernel then kills the whole process with SIGSYS: the handler never
 * needs a call of its own to die, and cannot be talked out of it.
 */
#include <errno.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "sandbox/sandbox_priv.h"

#define SC_NAMES 512

static enum sandbox_mode mode = SANDBOX_OFF;
static void (*kill_hook)(void);
static bool have_ids;
static uid_t jail_uid;
static gid_t jail_gid;
/* Names of system calls by number, resolved before any filter exists:
 * the SIGSYS handler may not allocate. */
static const char *sc_names[SC_NAMES];
static __thread int thread_kind = -1;
/* sandbox_configure's compiled filters (or why one could not be built) */
static struct sock_fprog progs[SANDBOX_NR_KINDS];
static bool prog_owned[SANDBOX_NR_KINDS];      /* not a prebuilt one */
static int prog_err[SANDBOX_NR_KINDS];

static const char *const kind_names[SANDBOX_NR_KINDS] = {
	[SANDBOX_CONTROL] = "control", [SANDBOX_VCPU] = "vcpu",
	[SANDBOX_EVENTS] = "event loop", [SANDBOX_BLOCK] = "block worker",
};

const char *sandbox_kind_name(enum sandbox_kind kind)
{
	return kind < SANDBOX_NR_KINDS ? kind_names[kind] : "unknown";
}

int sandbox_parse_mode(const char *s)
{
	if (!strcmp(s, "on"))
		return SANDBOX_ON;
	if (!strcmp(s, "log"))
		return SANDBOX_LOG;
	if (!strcmp(s, "off"))
		return SANDBOX_OFF;
	return -1;
}

enum sandbox_mode sandbox_mode(void)
{
	return mode;
}

void sandbox_allow_setid(uid_t uid, gid_t gid)
{
	jail_uid = uid;
	jail_gid = gid;
	have_ids = true;
}

/* Async-signal-safe string building for the handler. */
size_t sandbox_put(char *buf, size_t at, size_t cap, const char *s)
{
	while (*s && at + 1 < cap)
		buf[at++] = *s++;
	return at;
}

size_t sandbox_put_hex(char *buf, size_t at, size_t cap, uintptr_t v)
{
	char tmp[2 * sizeof(v)];
	int n = 0;

	do
		tmp[n++] = "0123456789abcdef"[v & 15];
	while ((v >>= 4) && n < (int)sizeof(tmp));
	while (n && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

static size_t put_num(char *buf, size_t at, size_t cap, long v)
{
	char tmp[24];
	int n = 0;
	unsigned long u = v < 0 ? -(unsigned long)v : (unsigned long)v;

	do
		tmp[n++] = (char)('0' + u % 10);
	while ((u /= 10) && n < 22);
	if (v < 0)
		tmp[n++] = '-';
	while (n && at + 1 < cap)
		buf[at++] = tmp[--n];
	return at;
}

static void sigsys_handler(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	int nr = si->si_syscall;
	char line[256];
	size_t n = 0;

	(void)sig;
	n = sandbox_put(line, n, sizeof(line), "cvisor: seccomp: ");
	if (thread_kind < 0) {
		n = sandbox_put(line, n, sizeof(line), "a new thread (under its "
			"creator's filter)");
	} else {
		n = sandbox_put(line, n, sizeof(line), "the ");
		n = sandbox_put(line, n, sizeof(line), sandbox_kind_name(
			(enum sandbox_kind)thread_kind));
		n = sandbox_put(line, n, sizeof(line), " thread");
	}
	n = sandbox_put(line, n, sizeof(line), " made system call ");
	n = put_num(line, n, sizeof(line), nr);
	if (nr >= 0 && nr < SC_NAMES && sc_names[nr]) {
		n = sandbox_put(line, n, sizeof(line), " (");
		n = sandbox_put(line, n, sizeof(line), sc_names[nr]);
		n = sandbox_put(line, n, sizeof(line), ")");
	}
	n = sandbox_put(line, n, sizeof(line), ", which its filter does not allow: "
		"killing the process (--seccomp log to find all such calls)\n");
	if (write(STDERR_FILENO, line, n) < 0)
		n = 0;            /* nothing better to do */
	/* Where it came from (often a library: libslirp, glibc). */
#if defined(__aarch64__)
	sandbox_where_print(STDERR_FILENO, uc->uc_mcontext.pc,
			    (const uintptr_t *)uc->uc_mcontext.sp);
#else
	sandbox_where_print(STDERR_FILENO,
			    (uintptr_t)uc->uc_mcontext.gregs[REG_RIP],
			    (const uintptr_t *)uc->uc_mcontext.gregs[REG_RSP]);
#endif
	if (kill_hook)
		kill_hook();
	/* Refused again with SIGSYS blocked: the kernel kills us. */
#if defined(__aarch64__)
	{
		const unsigned long long *g = uc->uc_mcontext.regs;

		syscall(nr, g[0], g[1], g[2], g[3], g[4], g[5]);
	}
#else
	{
		greg_t *g = uc->uc_mcontext.gregs;

		syscall(nr, g[REG_RDI], g[REG_RSI], g[REG_RDX], g[REG_R10],
			g[REG_R8], g[REG_R9]);
	}
#endif
	_exit(CV_EXIT_UNEXPECTED);  /* not reached */
}

static bool compile_all(void);

static void resolve_names(void)
{
	for (int nr = 0; nr < SC_NAMES; nr++)
		if (!sc_names[nr])
			sc_names[nr] = seccomp_syscall_resolve_num_arch(
				SCMP_ARCH_NATIVE, nr);
}

/* A kernel without seccomp filters (or valgrind, which does not emulate
 * the call) answers ENOSYS: nothing can be confined, so say so and run,
 * as the jail does without root. Any other answer means it is there. */
static bool seccomp_present(void)
{
	uint32_t act = SECCOMP_RET_TRAP;

	if (syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &act) == 0 ||
	    errno != ENOSYS)
		return true;
	pr_warn("seccomp: not available here (no seccomp system call): "
		"every thread runs without a filter");
	return false;
}

void sandbox_configure(enum sandbox_mode m, void (*on_kill)(void))
{
	struct sigaction sa = { .sa_sigaction = sigsys_handler,
				.sa_flags = SA_SIGINFO };

	mode = m;
	kill_hook = on_kill;
	if (m != SANDBOX_OFF && !seccomp_present()) {
		mode = SANDBOX_OFF;
		return;
	}
	if (m == SANDBOX_OFF)
		return;
	/* The heap pages libseccomp's work freed, if it ran, given back
	 * now: nothing reuses all of them, and the trim threshold below
	 * would keep them resident (issue 12: -20 KiB of peak RSS). */
	if (compile_all())
		malloc_trim(0);
	if (m != SANDBOX_ON)
		return;
	/* The first time glibc shrinks a thread arena's heap (a free() on
	 * any thread after a burst of allocations, e.g. the event loop's
	 * network buffers) it reads /proc/sys/vm/overcommit_memory with
	 * openat, which no filtered thread may call. Thread heaps are not
	 * trimmed below this much free top memory, so that never happens;
	 * large blocks are still mmap'd and given back on free. */
	mallopt(M_TRIM_THRESHOLD, 1 << 30);
	resolve_names();
	sandbox_where_snapshot();
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSYS, &sa, NULL);
}

/* Every kind's filter, built and compiled to BPF on the main thread before
 * any filter exists: libseccomp's work (a few hundred KiB of allocations
 * per filter) is done once, not again in each new thread, where it would
 * leave a malloc arena of its own resident behind; a thread then makes
 * just the two calls that install its filter. */
static bool compile_all(void)
{
	struct sandbox_ids ids = { jail_uid, jail_gid };
	bool compiled = false;

	for (int k = 0; k < SANDBOX_NR_KINDS; k++) {
		if (prog_owned[k])
			free(progs[k].filter);
		progs[k] = (struct sock_fprog){ 0 };
		prog_owned[k] = false;
		/* The usual case was compiled when cvisor was built
		 * (tools/seccomp_gen.c): 1.3 ms of libseccomp at every
		 * start saved (issue 12). */
		if (mode == SANDBOX_ON && !have_ids &&
		    sandbox_prebuilt_filter((enum sandbox_kind)k, &progs[k])) {
			prog_err[k] = 0;
			continue;
		}
		prog_err[k] = sandbox_build_filter((enum sandbox_kind)k, mode,
						   have_ids ? &ids : NULL,
						   &progs[k]);
		prog_owned[k] = !prog_err[k];
		compiled = true;
	}
	return compiled;
}

static int load(enum sandbox_kind kind)
{
	if (prog_err[kind])
		return prog_err[kind];
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) ||
	    syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &progs[kind]))
		return -errno;
	return 0;
}

void sandbox_enter(enum sandbox_kind kind)
{
	int rc;

	if (mode == SANDBOX_OFF || thread_kind >= 0)
		return;
	sandbox_where_snapshot();      /* objects dlopen'd since */
	rc = load(kind);
	if (rc) {
		pr_err("seccomp: cannot load the %s thread's filter: %s "
		       "(--seccomp off runs without)", sandbox_kind_name(kind),
		       strerror(-rc));
		if (kill_hook)
			kill_hook();
		_exit(CV_EXIT_USAGE);
	}
	thread_kind = kind;
}

/* The reaper: who pays for destroying the VM at exit.
 *
 * When the last reference to a KVM VM goes, the kernel destroys it, and
 * on some hosts that is most of a short run: every in-kernel device that
 * unregisters a notifier waits for an SRCU grace period (the PIT two of
 * them, the MMU notifier one more), 10-70 ms on the kvm_pvm development
 * host, all of it sleeping. A process that merely exits pays it between
 * its exit_group() and its parent's wait4() returning, since the fds
 * and the address space are released before the parent is told.
 *
 * So at exit the main thread clones a reaper that shares the address
 * space (CLONE_VM, so our exit does not tear the guest memory down
 * either) but has its own copy of the descriptor table, in which it
 * keeps only the KVM descriptors: stdio, sockets, disk images and their
 * locks and everything else are closed before we go on (we wait for
 * that), so nobody waiting for EOF or a lock waits for the reaper. It asks to be killed when we die
 * (PR_SET_PDEATHSIG), and the kernel then destroys the VM in its exit,
 * after ours has been reported. Our exit status, output and the devices'
 * release (done before, in vm_destroy) are as without it.
 *
 * The reaper runs on a stack of its own but with this thread's TLS, so
 * it only makes raw system calls (syscall(2): no libc state, no
 * cancellation points) and is not instrumented by the sanitizers.
 */
#include <linux/futex.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "vm/vm_reaper.h"

/* Valgrind cannot run a clone that shares the address space without
 * being a thread: under it the exit destroys the VM, as before. */
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#else
#define RUNNING_ON_VALGRIND 0
#endif

#define REAPER_STACK (64 * 1024)
#define REAPER_MAX_KEEP 300

struct reaper_args {
	pid_t parent;
	int closed;                    /* futex: the reaper's copies closed */
	unsigned nr_keep;
	int keep[REAPER_MAX_KEEP];     /* ascending */
};

#ifdef __clang__
#define NO_SANITIZE __attribute__((no_sanitize("address", "undefined")))
#else
#define NO_SANITIZE __attribute__((no_sanitize_address, \
				     no_sanitize_undefined))
#endif

/* close_range over every gap between the descriptors kept */
NO_SANITIZE static void close_all_but(const struct reaper_args *a)
{
	unsigned from = 0;

	for (unsigned i = 0; i < a->nr_keep; i++) {
		unsigned k = (unsigned)a->keep[i];

		if (k > from)
			syscall(SYS_close_range, from, k - 1, 0);
		from = k + 1;
	}
	syscall(SYS_close_range, from, ~0u, 0);
}

NO_SANITIZE static int reaper(void *arg)
{
	struct reaper_args *a = arg;

	close_all_but(a);
	__atomic_store_n(&a->closed, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, &a->closed, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
	syscall(SYS_prctl, PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	/* Gone before the prctl: the signal will not come. */
	if (syscall(SYS_getppid) == a->parent)
		syscall(SYS_ppoll, NULL, 0, NULL, NULL, 0);
	syscall(SYS_exit_group, 0);
	return 0;
}

static int cmp_fd(const void *x, const void *y)
{
	return *(const int *)x - *(const int *)y;
}

bool vm_reaper_start(const int *keep, unsigned nr_keep)
{
	const struct timespec poll = { .tv_nsec = 100 * 1000 * 1000 };
	struct reaper_args *a;
	void *stack;
	unsigned n = 0;
	pid_t pid;

	if (nr_keep > REAPER_MAX_KEEP || RUNNING_ON_VALGRIND)
		return false;
	/* Never freed: the reaper runs on them until it is killed. */
	stack = mmap(NULL, REAPER_STACK, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return false;
	a = stack;
	a->parent = getpid();
	for (unsigned i = 0; i < nr_keep; i++)
		if (keep[i] >= 0)
			a->keep[n++] = keep[i];
	a->nr_keep = n;
	qsort(a->keep, n, sizeof(a->keep[0]), cmp_fd);
	pid = clone(reaper, (char *)stack + REAPER_STACK, CLONE_VM | SIGCHLD,
		    a);
	if (pid < 0) {
		pr_debug("teardown reaper: clone: %m; the exit destroys the "
			 "VM");
		munmap(stack, REAPER_STACK);
		return false;
	}
	/* Until the reaper has closed its copies, it holds what we are
	 * about to release: a disk image's lock, stdout. Whoever runs next
	 * (a VMM on the same disk, a shell reading our output) must find
	 * them released when we have exited. */
	while (!__atomic_load_n(&a->closed, __ATOMIC_ACQUIRE)) {
		/* killed before it got there: it holds nothing any more */
		if (waitpid(pid, NULL, WNOHANG | __WALL) == pid)
			return false;
		syscall(SYS_futex, &a->closed, FUTEX_WAIT_PRIVATE, 0, &poll,
			NULL, 0);
	}
	return true;
}

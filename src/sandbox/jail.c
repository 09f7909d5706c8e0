/* The jail: what Firecracker's jailer does from outside, done inside the
 * one process, in two steps around the opening of every file.
 *
 * jail_prepare(), first thing, before any thread or file: new mount, IPC,
 * UTS and PID namespaces. A process cannot enter a PID namespace itself,
 * only its children can: so the process forks once, the child (PID 1 in
 * the new namespace) goes on to be the VMM, and the parent stays outside
 * as a supervisor that only forwards stop signals and exits as the child
 * did. The fork is before /dev/kvm is opened: a VM belongs to the memory
 * of the process that created it.
 *
 * jail_enter(), once the VM is built (every file open) and before its
 * threads start: pivot_root into the prepared directory (in the private
 * mount namespace, so the host's mounts never change), rlimits, then the
 * user and group. Without root none of this is possible: the program runs
 * the same and says what it did not do.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <grp.h>

#include "core/log.h"
#include "sandbox/sandbox.h"

/* Descriptors: guest fds (eventfds, irqfds, vCPUs) are made after the
 * drop too; 4096 is far above a VM's needs and far below a host's. */
#define JAIL_NOFILE 4096
/* Locked memory: io_uring rings are charged to it on older kernels. */
#define JAIL_MEMLOCK (16ULL << 20)

/* A mount namespace of our own whose mounts are all private. */
static bool have_mnt_ns;

static bool is_root(void)
{
	return geteuid() == 0;
}

int jail_parse_user(const char *s, struct jail_config *j)
{
	char *end;
	unsigned long uid, gid;

	errno = 0;
	uid = strtoul(s, &end, 10);
	if (end == s || *end != ':' || errno || uid >= (uid_t)-1)
		return -1;
	s = end + 1;
	gid = strtoul(s, &end, 10);
	if (end == s || *end || errno || gid >= (gid_t)-1)
		return -1;
	j->has_user = true;
	j->uid = (uid_t)uid;
	j->gid = (gid_t)gid;
	return 0;
}

/* The parent outside the PID namespace: forward stop signals, then exit
 * as the child did (the same status, or the same signal). */
static void __attribute__((noreturn)) supervise(pid_t child,
						 const sigset_t *set)
{
	struct rlimit no_core = { 0, 0 };
	int st = 0, sig;

	for (;;) {
		sig = sigwaitinfo(set, NULL);
		if (sig > 0 && sig != SIGCHLD) {
			kill(child, sig);
			continue;
		}
		if (waitpid(child, &st, WNOHANG) == child)
			break;
	}
	if (WIFEXITED(st))
		_exit(WEXITSTATUS(st));
	sig = WTERMSIG(st);
	/* Die of the same signal, without a second core dump. */
	setrlimit(RLIMIT_CORE, &no_core);
	signal(sig, SIG_DFL);
	sigprocmask(SIG_UNBLOCK, set, NULL);
	raise(sig);
	_exit(128 + sig);
}

static void say_not_root(const struct jail_config *j)
{
	bool user = j->has_user && (j->uid != getuid() || j->gid != getgid());

	pr_warn("jail: not running as root: no mount/PID/IPC/UTS namespaces, "
		"no rlimits%s%s; the VM runs without them",
		j->chroot_dir ? ", no pivot_root" : "",
		user ? ", no change of user" : "");
}

/* Mount, IPC and UTS namespaces; false only on a fatal error. */
static bool new_namespaces(void)
{
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS) < 0) {
		pr_warn("jail: no new mount/IPC/UTS namespaces (%s): --chroot "
			"falls back to chroot(2)", strerror(errno));
		return true;
	}
	/* Nothing we mount or unmount may reach the host. In a chroot, "/"
	 * is no mount point (EINVAL): then we mount nothing and --chroot
	 * uses chroot(2). */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0) {
		have_mnt_ns = true;
	} else if (errno == EINVAL) {
		pr_warn("jail: / is not a mount point (running in a chroot?): "
			"--chroot uses chroot(2)");
	} else {
		pr_err("jail: making mounts private: %s", strerror(errno));
		return false;
	}
	if (sethostname("cvisor", 6) < 0)
		pr_warn("jail: sethostname: %s", strerror(errno));
	return true;
}

/* A PID namespace: only children enter it, so fork; the parent becomes
 * the supervisor and never returns. 0 in the child (or without one). */
static int fork_into_pid_ns(void)
{
	sigset_t set, old;
	pid_t pid;

	if (unshare(CLONE_NEWPID) < 0) {
		pr_warn("jail: no new PID namespace: %s", strerror(errno));
		return 0;
	}
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	sigaddset(&set, SIGCHLD);
	/* Blocked before the fork: no exit or signal is missed. */
	sigprocmask(SIG_BLOCK, &set, &old);
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		pr_err("jail: fork into the PID namespace: %s",
		       strerror(errno));
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	if (pid > 0)
		supervise(pid, &set);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return 0;
}

int jail_prepare(const struct jail_config *j)
{
	if (!jail_wanted(j))
		return 0;
	if (!is_root()) {
		say_not_root(j);
		return 0;
	}
	if (j->has_user)
		sandbox_allow_setid(j->uid, j->gid);
	if (!new_namespaces())
		return -1;
	return fork_into_pid_ns();
}

/* pivot_root(dir, dir) stacks the old root under the new one, then a lazy
 * unmount of "." drops it (pivot_root(2), "new_root and put_old may be the
 * same directory"). dir must be a mount point: bind it onto itself. */
static int enter_root(const char *dir)
{
	if (!have_mnt_ns) {
		if (chroot(dir) < 0 || chdir("/") < 0)
			goto fail;
		return 0;
	}
	if (mount(dir, dir, NULL, MS_BIND | MS_REC, NULL) < 0 || chdir(dir) < 0)
		goto fail;
	if (syscall(SYS_pivot_root, ".", ".") < 0 ||
	    umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		goto fail;
	return 0;
fail:
	pr_err("jail: cannot make %s the root: %s", dir, strerror(errno));
	return -1;
}

static void lower_limit(int res, rlim_t to, const char *name)
{
	struct rlimit r;

	if (getrlimit(res, &r) < 0)
		return;
	if (r.rlim_max != RLIM_INFINITY && r.rlim_max < to)
		to = r.rlim_max;
	r.rlim_cur = r.rlim_max = to;
	if (setrlimit(res, &r) < 0)
		pr_warn("jail: rlimit %s: %s", name, strerror(errno));
}

static int drop_user(const struct jail_config *j)
{
	if (setgroups(0, NULL) < 0 || setresgid(j->gid, j->gid, j->gid) < 0 ||
	    setresuid(j->uid, j->uid, j->uid) < 0) {
		pr_err("jail: cannot become %u:%u: %s", (unsigned)j->uid,
		       (unsigned)j->gid, strerror(errno));
		return -1;
	}
	return 0;
}

int jail_enter(const struct jail_config *j)
{
	static bool done;

	if (done || !jail_wanted(j))
		return 0;
	done = true;
	if (!is_root())
		return 0;          /* said in jail_prepare() */
	if (j->chroot_dir && enter_root(j->chroot_dir))
		return -1;
	lower_limit(RLIMIT_NOFILE, JAIL_NOFILE, "nofile");
	lower_limit(RLIMIT_MEMLOCK, JAIL_MEMLOCK, "memlock");
	/* A core dump would hold the guest's memory. */
	lower_limit(RLIMIT_CORE, 0, "core");
	if (j->has_user && drop_user(j))
		return -1;
	pr_info("jail: pid %d%s%s%s", (int)getpid(),
		j->chroot_dir ? ", root " : "",
		j->chroot_dir ? j->chroot_dir : "",
		!j->chroot_dir ? "" : have_mnt_ns ? " (pivot_root)" :
		" (chroot)");
	return 0;
}

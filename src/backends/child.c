/* Commands that consume or feed a character backend (`>"|cmd"`).
 *
 * The command is the user's, but it runs beside a VMM that holds
 * /dev/kvm, guest memory and disk images open: so it gets none of our file
 * descriptors, a small fixed environment instead of ours, the default
 * signal state, and dies with us (PR_SET_PDEATHSIG) even when we are
 * killed with SIGKILL. At close it is given a moment to finish, then
 * stopped, and always reaped: a stopping VM never hangs on it and never
 * leaves it behind.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backends/child.h"
#include "core/util.h"

/* Passed through when set; everything else in our environment stays ours
 * (it may hold credentials, sockets' paths, LD_PRELOAD...). */
static const char *const env_keep[] = { "PATH", "HOME", "LANG", "LC_ALL",
					"TERM", "TZ" };
#define DEFAULT_PATH "PATH=/usr/local/bin:/usr/bin:/bin"

static void build_env(char **envp, char *store, size_t store_len)
{
	unsigned n = 0;
	size_t used = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(env_keep); i++) {
		const char *v = getenv(env_keep[i]);
		int w;

		if (!v)
			continue;
		w = snprintf(store + used, store_len - used, "%s=%s",
			     env_keep[i], v);
		if (w < 0 || (size_t)w >= store_len - used)
			continue;       /* absurdly long: leave it out */
		envp[n++] = store + used;
		used += w + 1;
	}
	if (!getenv("PATH"))
		envp[n++] = DEFAULT_PATH;
	envp[n] = NULL;
}

static void close_from_3(void)
{
	if (syscall(SYS_close_range, 3U, ~0U, 0U) == 0)
		return;
	for (int fd = 3; fd < 4096; fd++)   /* kernels before 5.9 */
		close(fd);
}

/* In the child of fork(): only async-signal-safe calls until execve. */
static void child_exec(int fd, int target, pid_t parent, char **envp,
		       const char *cmd)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };
	sigset_t none;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(127);
	/* its own process group, so that stopping it stops what it started
	 * (a pipeline) too */
	setpgid(0, 0);
	if (dup2(fd, target) < 0)
		_exit(127);
	close_from_3();
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &dfl, NULL);     /* SIGPIPE was ignored */
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve("/bin/sh", (char *[]){ "sh", "-c", (char *)cmd, NULL }, envp);
	_exit(127);
}

pid_t child_spawn(const char *cmd, int fd, int target)
{
	char *envp[ARRAY_SIZE(env_keep) + 2];
	char store[8192];
	pid_t parent = getpid(), pid;

	build_env(envp, store, sizeof(store));
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0)
		child_exec(fd, target, parent, envp, cmd);
	return pid;
}

/* Wait up to ms for pid to exit; true when it did (and is reaped). */
static bool wait_exit(pid_t pid, int pidfd, int ms)
{
	struct pollfd p = { .fd = pidfd, .events = POLLIN };
	pid_t r;

	if (pidfd >= 0)
		poll(&p, 1, ms);
	else
		for (int i = 0; i < ms / 10 && !waitpid(pid, NULL, WNOHANG); i++)
			usleep(10000);
	do
		r = waitpid(pid, NULL, WNOHANG);
	while (r < 0 && errno == EINTR);
	return r == pid || (r < 0 && errno == ECHILD);
}

void child_reap(pid_t pid, int grace_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

	if (!wait_exit(pid, pidfd, grace_ms)) {
		kill(-pid, SIGTERM);
		if (!wait_exit(pid, pidfd, grace_ms)) {
			kill(-pid, SIGKILL);
			wait_exit(pid, pidfd, grace_ms);
		}
	}
	if (pidfd >= 0)
		close(pidfd);
}

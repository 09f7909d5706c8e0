/* Turning hostdev options into file descriptors: stdio, files, ptys and
 * pipes to a command. chardev.c does the I/O on them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "backends/chardev_priv.h"
#include "core/log.h"

extern char **environ;

/* stdin can feed only one device; the second one asking gets an error
 * (explicit `-`/`<-`) or silently no input (`>-`). */
static atomic_bool stdin_claimed;

static const char *hd_where(const struct cfg_hostdev *hd)
{
	static __thread char where[96];

	if (hd->pos.file)
		snprintf(where, sizeof(where), "%s:%u:%u", hd->pos.file,
			 hd->pos.line, hd->pos.col);
	else
		snprintf(where, sizeof(where), "hostdev");
	return where;
}

static int set_in(struct chardev *c, int fd, bool ours)
{
	if (c->in_fd >= 0) {
		pr_err("chardev: more than one input hostdev");
		if (ours)
			close(fd);
		return -EINVAL;
	}
	c->in_fd = fd;
	c->close_in = ours;
	return 0;
}

static int set_out(struct chardev *c, int fd, bool ours)
{
	if (c->out_fd >= 0) {
		pr_err("chardev: more than one output hostdev");
		if (ours)
			close(fd);
		return -EINVAL;
	}
	c->out_fd = fd;
	c->close_out = ours;
	return 0;
}

/* Input from stdin goes through our own open file description where we
 * can: setting O_NONBLOCK on fd 0 itself would also make stdout
 * non-blocking when both are the same terminal. */
static int reopen_stdin(void)
{
	int fd = open("/proc/self/fd/0",
		      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	/* A socket cannot be reopened: use it blocking. The loop reads once
	 * per readiness report, which does not block in practice. */
	return fcntl(0, F_DUPFD_CLOEXEC, 3);
}

int chardev_attach_stdin(struct chardev *c, bool explicit)
{
	bool expected = false;
	int fd, err;

	if (!atomic_compare_exchange_strong(&stdin_claimed, &expected, true)) {
		if (!explicit)
			return 0;
		pr_err("chardev: stdin is already the input of another device");
		return -EBUSY;
	}
	fd = reopen_stdin();
	if (fd < 0) {
		err = -errno;
		atomic_store(&stdin_claimed, false);
		pr_err("chardev: stdin: %s", strerror(errno));
		return err;
	}
	err = set_in(c, fd, true);
	if (err) {
		atomic_store(&stdin_claimed, false);
		return err;
	}
	c->in_stdin = true;
	if (isatty(0) && chardev_term_raw(0, true) == 0)
		c->raw_fd = 0;
	return 0;
}

static int attach_stdio(struct chardev *c, const struct cfg_hostdev *hd)
{
	int err = 0;

	if (hd->dir != HOSTDEV_IN)
		err = set_out(c, 1, false);
	if (!err && hd->dir == HOSTDEV_OUT)
		c->want_stdin = isatty(0);     /* interactive `>-` console */
	if (!err && hd->dir != HOSTDEV_OUT)
		err = chardev_attach_stdin(c, true);
	return err;
}

static int attach_pty(struct chardev *c, const struct cfg_hostdev *hd)
{
	struct termios tio;
	char name[64];
	int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	int s = -1;

	if (m < 0 || grantpt(m) < 0 || unlockpt(m) < 0 ||
	    ptsname_r(m, name, sizeof(name)) != 0)
		goto fail;
	/* Keep a slave open ourselves: without one the master reports HUP
	 * in a tight loop until a user connects. Raw, so the line discipline
	 * neither echoes guest output back as input nor rewrites it. */
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 || tcgetattr(s, &tio) < 0)
		goto fail;
	cfmakeraw(&tio);
	if (tcsetattr(s, TCSANOW, &tio) < 0 ||
	    fcntl(m, F_SETFL, O_NONBLOCK) < 0)
		goto fail;
	if (set_in(c, m, true) < 0 || set_out(c, m, false) < 0) {
		close(s);
		return -EINVAL;
	}
	c->pty_slave = s;
	c->out_drop_full = true;
	fprintf(stderr, "cvisor: %s: %s\n", hd_where(hd), name);
	return 0;
fail:
	pr_err("chardev: pty: %s", strerror(errno));
	if (s >= 0)
		close(s);
	if (m >= 0)
		close(m);
	return -EIO;
}

/* `>"|cmd"`: output goes to `/bin/sh -c cmd` on its stdin (and `<"|cmd"`
 * reads its stdout). posix_spawn, not fork: we are multi-threaded. */
static int attach_pipe(struct chardev *c, const struct cfg_hostdev *hd)
{
	const char *cmd = hd->path;
	bool out = hd->dir != HOSTDEV_IN;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	int p[2], err;

	if (*cmd == '|')
		cmd++;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, out ? p[0] : p[1], out ? 0 : 1);
	posix_spawnattr_init(&attr);
	/* We ignore SIGPIPE; the command should not inherit that. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK |
					POSIX_SPAWN_SETSIGDEF);
	err = posix_spawn(&c->child, "/bin/sh", &fa, &attr,
			  (char *[]){ "sh", "-c", (char *)cmd, NULL }, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out ? p[0] : p[1]);
	if (err) {
		c->child = 0;
		close(out ? p[1] : p[0]);
		pr_err("chardev: %s: cannot run /bin/sh: %s", hd_where(hd),
		       strerror(err));
		return -err;
	}
	return out ? set_out(c, p[1], true) : set_in(c, p[0], true);
}

static int attach_path(struct chardev *c, const struct cfg_hostdev *hd)
{
	static const int flags[] = {
		/* `path` both ways: a tty or a FIFO, never our ctty */
		[HOSTDEV_BOTH] = O_RDWR | O_NOCTTY | O_NONBLOCK,
		[HOSTDEV_IN] = O_RDONLY | O_NOCTTY | O_NONBLOCK,
		/* a fresh log per run, as a shell's `>` does */
		[HOSTDEV_OUT] = O_WRONLY | O_CREAT | O_TRUNC | O_NOCTTY,
	};
	int fd = open(hd->path, flags[hd->dir] | O_CLOEXEC, 0644);

	if (fd < 0) {
		int err = -errno;

		pr_err("chardev: %s: %s: %s", hd_where(hd), hd->path,
		       strerror(errno));
		return err;
	}
	if (hd->dir == HOSTDEV_OUT)
		return set_out(c, fd, true);
	if (set_in(c, fd, true) < 0)
		return -EINVAL;
	if (hd->dir == HOSTDEV_BOTH) {
		if (set_out(c, fd, false) < 0)
			return -EINVAL;
		/* A serial line to somebody's terminal: bytes, not lines. */
		if (isatty(fd) && chardev_term_raw(fd, false) == 0)
			c->raw_fd = fd;
	}
	return 0;
}

int chardev_attach(struct chardev *c, const struct cfg_hostdev *hd)
{
	if (!hd->path || !*hd->path) {
		pr_err("chardev: %s: empty hostdev", hd_where(hd));
		return -EINVAL;
	}
	if (hd->is_pipe) {
		if (hd->dir == HOSTDEV_BOTH) {
			pr_err("chardev: %s: a command pipe is one-way: use "
			       ">\"|cmd\"", hd_where(hd));
			return -EINVAL;
		}
		return attach_pipe(c, hd);
	}
	if (!strcmp(hd->path, "-"))
		return attach_stdio(c, hd);
	if (!strcmp(hd->path, "pty") && hd->dir == HOSTDEV_BOTH)
		return attach_pty(c, hd);
	return attach_path(c, hd);
}

/* Give the command a moment to finish its output after EOF, then stop it:
 * closing a VM must not hang on a command that ignores its input. */
static void reap_child(pid_t pid)
{
	struct timespec ts = { 0, 10 * 1000 * 1000 };

	for (int i = 0; i < 100; i++) {
		pid_t r = waitpid(pid, NULL, WNOHANG);

		if (r == pid || (r < 0 && errno != EINTR))
			return;
		nanosleep(&ts, NULL);
	}
	kill(pid, SIGTERM);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

void chardev_detach(struct chardev *c)
{
	if (c->raw_fd >= 0)
		chardev_term_restore(c->raw_fd);
	if (c->in_fd >= 0 && c->close_in)
		close(c->in_fd);
	if (c->out_fd >= 0 && c->close_out && c->out_fd != c->in_fd)
		close(c->out_fd);
	if (c->pty_slave >= 0)
		close(c->pty_slave);
	if (c->in_stdin)
		atomic_store(&stdin_claimed, false);
	if (c->child > 0)
		reap_child(c->child);
	c->in_fd = c->out_fd = c->raw_fd = c->pty_slave = -1;
	c->child = 0;
}

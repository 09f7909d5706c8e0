/* Turning hostdev options into file descriptors: stdio, files, ptys and
 * pipes to a command. chardev.c does the I/O on them.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
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
#include "backends/child.h"
#include "core/log.h"

/* How long a `|cmd` gets to finish its output after its input closed (and
 * again after SIGTERM): bounds the stop path. */
#define CHILD_GRACE_MS 250

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

	/* A terminal we are in the background of stops us (SIGTTIN) at the
	 * first read: no console input then, rather than a stopped VM. */
	if (isatty(0) && !chardev_term_foreground(0)) {
		pr_warn("chardev: stdin is a terminal and cvisor is not its "
			"foreground job: no console input");
		return 0;
	}
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
	if (isatty(0) && chardev_term_raw(0, true, false) == 0)
		c->raw_fd = 0;
	return 0;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Output to stdout through an fd that never blocks. O_NONBLOCK lives in
 * the open file description, which stdout shares with the shell and every
 * other process on the terminal or pipe: so a description of our own is
 * opened through /proc. A regular file never blocks (and must keep sharing
 * its offset with stderr when `>log 2>&1`), so it is used as it is; a
 * socket cannot be reopened, and is written with MSG_DONTWAIT. */
static int attach_stdout(struct chardev *c)
{
	struct stat st;
	int fd;

	if (fstat(1, &st) < 0)
		return -errno;
	if (S_ISREG(st.st_mode))
		return set_out(c, 1, false);
	if (S_ISSOCK(st.st_mode)) {
		c->out_sock = true;
		return set_out(c, 1, false);
	}
	fd = open("/proc/self/fd/1", O_WRONLY | O_NONBLOCK | O_NOCTTY |
		  O_CLOEXEC);
	if (fd < 0) {
		pr_err("chardev: stdout: cannot reopen it non-blocking: %s",
		       strerror(errno));
		return -errno;
	}
	return set_out(c, fd, true);
}

static int attach_stdio(struct chardev *c, const struct cfg_hostdev *hd)
{
	int err = 0;

	if (hd->dir != HOSTDEV_IN)
		err = attach_stdout(c);
	if (!err && hd->dir == HOSTDEV_OUT)
		/* interactive `>-` console, when we are the foreground job */
		c->want_stdin = isatty(0) && chardev_term_foreground(0);
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
	/* Said whatever the log level: the user needs it to connect. */
	fprintf(stderr, "cvisor: %s: console on %s\n",
		hd->owner ? hd->owner : hd_where(hd), name);
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
 * reads its stdout); child.c keeps the command from inheriting our fds,
 * environment and signal state, and from outliving us. */
static int attach_pipe(struct chardev *c, const struct cfg_hostdev *hd)
{
	const char *cmd = hd->path;
	bool out = hd->dir != HOSTDEV_IN;
	int p[2], ours, theirs;
	pid_t pid;

	if (*cmd == '|')
		cmd++;
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	ours = out ? p[1] : p[0];
	theirs = out ? p[0] : p[1];
	pid = child_spawn(cmd, theirs, out ? 0 : 1);
	close(theirs);
	if (pid < 0 || set_nonblock(ours) < 0) {
		close(ours);
		if (pid > 0)
			child_reap(pid, 0);
		pr_err("chardev: %s: cannot run /bin/sh: %s", hd_where(hd),
		       strerror(pid < 0 ? (int)-pid : errno));
		return pid < 0 ? (int)pid : -EIO;
	}
	c->child = pid;
	return out ? set_out(c, ours, true) : set_in(c, ours, true);
}

static int attach_path(struct chardev *c, const struct cfg_hostdev *hd)
{
	static const int flags[] = {
		/* `path` both ways: a tty or a FIFO, never our ctty */
		[HOSTDEV_BOTH] = O_RDWR | O_NOCTTY | O_NONBLOCK,
		[HOSTDEV_IN] = O_RDONLY | O_NOCTTY | O_NONBLOCK,
		/* a fresh log per run of cvisor, as a shell's `>` does; it is
		 * opened once, so guest resets append to it. Blocking open: a
		 * FIFO waits for its reader here, before the guest runs. */
		[HOSTDEV_OUT] = O_WRONLY | O_CREAT | O_TRUNC | O_APPEND |
				O_NOCTTY,
	};
	int fd = open(hd->path, flags[hd->dir] | O_CLOEXEC, 0644);

	if (fd < 0) {
		int err = -errno;

		pr_err("chardev: %s: %s: %s", hd_where(hd), hd->path,
		       strerror(errno));
		return err;
	}
	if (hd->dir == HOSTDEV_OUT) {
		/* a FIFO or a tty: writes must not block (chardev_out.c) */
		if (set_nonblock(fd) < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		return set_out(c, fd, true);
	}
	if (set_in(c, fd, true) < 0)
		return -EINVAL;
	if (hd->dir == HOSTDEV_BOTH) {
		if (set_out(c, fd, false) < 0)
			return -EINVAL;
		/* A serial line to somebody's terminal: bytes, not lines. */
		if (isatty(fd) && chardev_term_raw(fd, false, true) == 0)
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
		child_reap(c->child, CHILD_GRACE_MS);
	c->in_fd = c->out_fd = c->raw_fd = c->pty_slave = -1;
	c->child = 0;
}

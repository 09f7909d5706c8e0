/* Raw terminal mode for chardevs, and putting terminals back at exit.
 *
 * chardev_restore_terminals() is called from fatal signal handlers, so it
 * only walks a fixed array and calls tcsetattr() (async-signal-safe); the
 * array is only changed under a mutex, from ordinary threads.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "backends/chardev.h"
#include "backends/chardev_priv.h"
#include "core/log.h"

#define MAX_TERMS 8

struct saved_term {
	volatile sig_atomic_t fd;      /* -1: free slot */
	struct termios tio;
};

static struct saved_term terms[MAX_TERMS] = {
	[0 ... MAX_TERMS - 1] = { .fd = -1 },
};
static pthread_mutex_t terms_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t atexit_once = PTHREAD_ONCE_INIT;

static void restore_at_exit(void)
{
	chardev_restore_terminals();
}

static void register_atexit(void)
{
	atexit(restore_at_exit);
}

void chardev_restore_terminals(void)
{
	for (unsigned i = 0; i < MAX_TERMS; i++)
		if (terms[i].fd >= 0)
			tcsetattr(terms[i].fd, TCSANOW, &terms[i].tio);
}

static void make_raw(struct termios *t, bool keep_opost)
{
	/* As cfmakeraw(), but output processing may stay on (see below) and
	 * ISIG stays off so Ctrl-C/Ctrl-Z/Ctrl-\ reach the guest; the user
	 * leaves with the Ctrl-A x escape instead. */
	tcflag_t oflag = t->c_oflag;

	cfmakeraw(t);
	/* A console guest writes "\n" alone more often than "\r\n"; keeping
	 * OPOST/ONLCR avoids staircase output and costs a harmless extra
	 * "\r" before guests that already send "\r\n". */
	if (keep_opost)
		t->c_oflag = oflag;
	t->c_cc[VMIN] = 1;
	t->c_cc[VTIME] = 0;
}

bool chardev_term_foreground(int fd)
{
	pid_t fg = tcgetpgrp(fd);

	return fg >= 0 && fg == getpgrp();
}

int chardev_term_raw(int fd, bool keep_opost, bool named)
{
	struct termios saved, raw;
	pid_t fg = tcgetpgrp(fd);
	int slot = -1;

	/* A background process (`timeout cvisor ...`, `cvisor ... &`) that
	 * changes its terminal is stopped by SIGTTOU until someone brings it
	 * to the foreground, which for `timeout` is never: the terminal
	 * belongs to the foreground job, leave it as it is. A terminal the
	 * config names (a serial line, a pty: opened O_NOCTTY) is nobody's
	 * controlling terminal (tcgetpgrp: ENOTTY) and is ours to set: it
	 * stayed cooked before (echo to the peer, line-buffered input,
	 * Ctrl-C a signal). Not so a stdin that is not our controlling
	 * terminal (`setsid cvisor` from a shell): it is the shell's. */
	if (fg >= 0 ? fg != getpgrp() : !(named && errno == ENOTTY))
		return -ENOTTY;
	if (tcgetattr(fd, &saved) < 0)
		return -errno;
	pthread_once(&atexit_once, register_atexit);
	pthread_mutex_lock(&terms_lock);
	for (unsigned i = 0; i < MAX_TERMS; i++) {
		if (terms[i].fd == fd) {      /* already raw: keep the original */
			pthread_mutex_unlock(&terms_lock);
			return 0;
		}
		if (terms[i].fd < 0 && slot < 0)
			slot = i;
	}
	if (slot >= 0) {
		terms[slot].tio = saved;
		__atomic_thread_fence(__ATOMIC_RELEASE);
		terms[slot].fd = fd;
	}
	pthread_mutex_unlock(&terms_lock);
	if (slot < 0) {
		pr_warn("chardev: too many terminals, not switching fd %d to raw",
			fd);
		return -ENOSPC;
	}
	raw = saved;
	make_raw(&raw, keep_opost);
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return -errno;
	return 0;
}

void chardev_term_restore(int fd)
{
	pthread_mutex_lock(&terms_lock);
	for (unsigned i = 0; i < MAX_TERMS; i++) {
		if (terms[i].fd != fd)
			continue;
		tcsetattr(fd, TCSANOW, &terms[i].tio);
		terms[i].fd = -1;
	}
	pthread_mutex_unlock(&terms_lock);
}

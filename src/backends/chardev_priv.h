/* Private to the chardev backend: terminal handling shared by chardev.c
 * and chardev_term.c. Not part of the device-facing contract. */
#ifndef CVISOR_BACKENDS_CHARDEV_PRIV_H
#define CVISOR_BACKENDS_CHARDEV_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/chardev.h"

#define CHARDEV_BUF 256

struct chardev {
	struct event_loop *loop;
	int in_fd, out_fd;          /* -1 when absent */
	bool close_in, close_out;   /* ours to close (not stdin/stdout) */
	bool in_stdin;              /* input is stdin: escape handling */
	bool in_file;               /* not pollable (regular file): fed by
				       loop calls instead of epoll */
	bool want_stdin;            /* `>-`: take stdin too if it is a tty */
	bool out_drop_full;         /* pty: drop output nobody reads */
	int raw_fd;                 /* terminal we put in raw mode, or -1 */
	int pty_slave;              /* held open so the master never HUPs */
	pid_t child;                /* `>"|cmd"`, reaped at close */

	chardev_rx_fn rx;
	void *rx_opaque;
	chardev_quit_fn quit;
	void *quit_opaque;

	/* Input state: touched only on the event loop thread. */
	bool registered;            /* fd is in the epoll set */
	bool started;               /* chardev_set_rx() enabled input */
	bool eof;
	bool esc;                   /* Ctrl-A seen, waiting for the next */
	uint8_t buf[CHARDEV_BUF];
	size_t head, len;           /* bytes not yet taken by the device */

	/* Output. */
	pthread_mutex_t out_lock;
	bool out_failed;            /* reported once, output dropped */
};

/* chardev_open.c: parse the hostdev forms into fds. */
int chardev_attach(struct chardev *c, const struct cfg_hostdev *hd);
int chardev_attach_stdin(struct chardev *c, bool explicit);
void chardev_detach(struct chardev *c);

/* Put the terminal on fd in raw mode, remembering its settings so that
 * chardev_restore_terminals() (and an atexit handler) can put them back. */
int chardev_term_raw(int fd, bool keep_opost);
/* Restore one terminal now and forget it (chardev close). */
void chardev_term_restore(int fd);

#endif

/* Private to the chardev backend: terminal handling shared by chardev.c
 * and chardev_term.c. Not part of the device-facing contract. */
#ifndef CVISOR_BACKENDS_CHARDEV_PRIV_H
#define CVISOR_BACKENDS_CHARDEV_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backends/chardev.h"
#include "core/log.h"

#define CHARDEV_BUF 256
/* Output buffered per backend while the consumer is slow: a kernel's whole
 * boot log fits, a consumer that stopped reading costs at most this. */
#define CHARDEV_OUT_BUF (256u * 1024)

struct chardev {
	struct event_loop *loop;
	int in_fd, out_fd;          /* -1 when absent */
	bool close_in, close_out;   /* ours to close (not stdin/stdout) */
	bool in_stdin;              /* input is stdin: escape handling */
	bool in_file;               /* not pollable (regular file): fed by
				       loop calls instead of epoll */
	bool want_stdin;            /* `>-`: take stdin too if it is a tty */
	bool out_sock;              /* out_fd is a socket: send(MSG_DONTWAIT) */
	int out_poll_fd;            /* out_fd, or a dup of it when it is also
				       in_fd (epoll keys on the fd number) */
	int raw_fd;                 /* terminal we put in raw mode, or -1 */
	int pty_slave;              /* held open so the master never HUPs */
	pid_t child;                /* `>"|cmd"`, reaped at close */
	bool kept;                  /* outlives its device (chardev_keep) */

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

	/* Output (chardev_out.c), under out_lock. */
	pthread_mutex_t out_lock;
	uint8_t *obuf;              /* CHARDEV_OUT_BUF ring, allocated lazily */
	size_t ohead, olen;
	bool flush_queued;          /* flush_cb is queued on the loop */
	bool out_waiting;           /* fd full: waiting for EPOLLOUT */
	bool out_failed;            /* reported once, output dropped */
	bool fail_reported;
	int out_err;
	uint64_t dropped, dropped_reported;
	struct ratelimit drop_rl;
	chardev_tx_ready_fn tx_ready;
	void *tx_ready_opaque;
	bool tx_waiting;            /* a write_some came up short */
};

/* chardev_out.c */
void chardev_out_flush(struct chardev *c, int timeout_ms);
void chardev_out_detach_loop(struct chardev *c);
void chardev_out_attach_loop(struct chardev *c, struct event_loop *loop);

/* chardev_open.c: parse the hostdev forms into fds. */
int chardev_attach(struct chardev *c, const struct cfg_hostdev *hd);
int chardev_attach_stdin(struct chardev *c, bool explicit);
void chardev_detach(struct chardev *c);

/* Put the terminal on fd in raw mode, remembering its settings so that
 * chardev_restore_terminals() (and an atexit handler) can put them back.
 * named: the config names it (not stdin), so a terminal that is not our
 * controlling one is ours to set too. */
int chardev_term_raw(int fd, bool keep_opost, bool named);
/* fd is the terminal of our process group's foreground job: only then may
 * it be read (SIGTTIN) or switched to raw (SIGTTOU). */
bool chardev_term_foreground(int fd);
/* Restore one terminal now and forget it (chardev close). */
void chardev_term_restore(int fd);

#endif

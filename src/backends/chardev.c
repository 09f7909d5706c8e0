/* Character backends: the byte streams behind UARTs.
 *
 * Output is buffered and drained by the event loop (chardev_out.c).
 * Input is read on the event loop thread into a small buffer and offered to
 * the device's rx hook; what the device does not take is kept, and the fd
 * leaves the epoll set until the device calls chardev_rx_ready(). That is
 * the whole flow control: a guest that does not read its UART stops the
 * host side from reading, and nothing typed or piped in is lost.
 *
 * On stdin, Ctrl-A is an escape: Ctrl-A x asks to quit, Ctrl-A h lists
 * the keys, Ctrl-A s prints the statistics, Ctrl-A Ctrl-A sends one
 * Ctrl-A, Ctrl-A and anything else sends both bytes.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/chardev_priv.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"

#define CTRL_A 0x01

static void input_start(struct chardev *c);
static void resume_cb(void *opaque);

struct chardev *chardev_open(const struct cfg_hostdev *hd, unsigned nr,
			     struct event_loop *loop)
{
	struct chardev *c = xcalloc(1, sizeof(*c));

	c->loop = loop;
	c->in_fd = c->out_fd = c->raw_fd = c->pty_slave = -1;
	c->out_poll_fd = -1;
	c->drop_rl = (struct ratelimit)RATELIMIT_INIT(10, 1);
	pthread_mutex_init(&c->out_lock, NULL);
	for (unsigned i = 0; i < nr; i++) {
		if (chardev_attach(c, &hd[i]) < 0) {
			chardev_close(c);
			return NULL;
		}
	}
	/* `>-` alone on a terminal: the user expects a console to type in. */
	if (c->want_stdin && c->in_fd < 0 && chardev_attach_stdin(c, false)) {
		chardev_close(c);
		return NULL;
	}
	/* One fd both ways (a pty, a tty path) is watched for input and for
	 * room independently: epoll takes a dup as a second entry. */
	c->out_poll_fd = c->out_fd;
	if (c->out_fd >= 0 && c->out_fd == c->in_fd)
		c->out_poll_fd = fcntl(c->out_fd, F_DUPFD_CLOEXEC, 3);
	if (c->out_fd >= 0 && c->out_poll_fd < 0) {
		pr_err("chardev: %s", strerror(errno));
		chardev_close(c);
		return NULL;
	}
	return c;
}

static void input_stop(struct chardev *c)
{
	if (c->registered)
		event_loop_del(c->loop, c->in_fd);
	c->registered = false;
}

/* The longest a closing backend waits for a slow consumer to take what is
 * still buffered: the stop path has a deadline. */
#define CHARDEV_CLOSE_FLUSH_MS 250

void chardev_close(struct chardev *c)
{
	if (!c)
		return;
	/* The owner stops the loop (or knows it is idle) before closing:
	 * a queued resume_cb must not outlive c. */
	chardev_release(c);
	chardev_out_flush(c, CHARDEV_CLOSE_FLUSH_MS);
	if (c->out_poll_fd >= 0 && c->out_poll_fd != c->out_fd)
		close(c->out_poll_fd);
	chardev_detach(c);
	pthread_mutex_destroy(&c->out_lock);
	free(c->obuf);
	free(c);
}

void chardev_release(struct chardev *c)
{
	if (c->loop && c->in_fd >= 0)
		input_stop(c);
	if (c->loop && c->out_waiting)
		event_loop_del(c->loop, c->out_poll_fd);
	c->rx = NULL;
	c->quit = NULL;
	c->started = false;
	chardev_set_tx_ready(c, NULL, NULL);
	chardev_out_detach_loop(c);
}

void chardev_attach_loop(struct chardev *c, struct event_loop *loop)
{
	chardev_out_attach_loop(c, loop);
}

void chardev_keep(struct chardev *c)
{
	c->kept = true;
}

void chardev_put(struct chardev *c)
{
	if (c && c->kept)
		chardev_release(c);
	else
		chardev_close(c);
}

void chardev_set_rx(struct chardev *c, chardev_rx_fn fn, void *opaque)
{
	c->rx = fn;
	c->rx_opaque = opaque;
	/* Input starts once someone can take it; the loop lock in
	 * event_loop_add/call orders these stores before the first read. */
	if (fn && !c->started && c->in_fd >= 0 && c->loop) {
		c->started = true;
		event_loop_call(c->loop, resume_cb, c);
	}
}

void chardev_set_quit(struct chardev *c, chardev_quit_fn fn, void *opaque)
{
	c->quit = fn;
	c->quit_opaque = opaque;
}

bool chardev_has_input(const struct chardev *c)
{
	return c->in_fd >= 0;
}

void chardev_rx_ready(struct chardev *c)
{
	if (c->loop && c->started)
		event_loop_call(c->loop, resume_cb, c);
}

static void (*_Atomic stats_hook)(void *opaque);
static void *_Atomic stats_opaque;

void chardev_set_stats_hook(void (*fn)(void *opaque), void *opaque)
{
	atomic_store(&stats_opaque, opaque);
	atomic_store(&stats_hook, fn);
}

/* The terminal is raw: what we say starts on a line of its own. One
 * write each, so a line is never split by other threads' output. */
static void say(const char *s)
{
	if (write(2, s, strlen(s)) < 0)
		return;
}

static void escape_help(void)
{
	say("\ncvisor: Ctrl-A x  quit (exit status 3)\n"
	    "cvisor: Ctrl-A s  statistics\n"
	    "cvisor: Ctrl-A h  these keys\n"
	    "cvisor: Ctrl-A Ctrl-A  send Ctrl-A to the guest\n");
}

static void escape_stats(void)
{
	void (*fn)(void *) = atomic_load(&stats_hook);

	say("\n");
	if (fn)
		fn(atomic_load(&stats_opaque));
	else
		say("cvisor: no statistics in this build\n");
}

/* Ctrl-A handling; out has room for n + 1 bytes (a Ctrl-A held over from
 * the previous read comes out together with the byte after it). */
static size_t filter_escape(struct chardev *c, const uint8_t *in, size_t n,
			    uint8_t *out)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		uint8_t b = in[i];

		if (!c->esc) {
			if (b == CTRL_A)
				c->esc = true;
			else
				out[k++] = b;
			continue;
		}
		c->esc = false;
		if (b == 'x') {
			say("\ncvisor: terminated\n");
			if (c->quit)
				c->quit(c->quit_opaque);
			continue;
		}
		if (b == 'h' || b == 's') {
			if (b == 'h')
				escape_help();
			else
				escape_stats();
			continue;
		}
		out[k++] = CTRL_A;
		if (b != CTRL_A)
			out[k++] = b;
	}
	return k;
}

/* Offer the buffered bytes; returns true when all were taken. */
static bool deliver(struct chardev *c)
{
	while (c->len && c->rx) {
		size_t took = c->rx(c->rx_opaque, c->buf + c->head, c->len);

		if (!took)
			break;
		took = MIN(took, c->len);
		c->head += took;
		c->len -= took;
	}
	if (c->len)
		return false;
	c->head = 0;
	return true;
}

static void input_eof(struct chardev *c, int err)
{
	if (err)
		pr_warn("chardev: input: %s", strerror(err));
	input_stop(c);
	c->eof = true;
}

/* Read one chunk into the (empty) buffer. Returns false when there was
 * nothing to read now, or at end of input. */
static bool fill(struct chardev *c)
{
	uint8_t raw[CHARDEV_BUF - 1];
	ssize_t n = read(c->in_fd, raw, sizeof(raw));

	if (!c->in_stdin && n > 0) {
		memcpy(c->buf, raw, n);
		c->len = n;
		return true;
	}
	if (n > 0) {
		c->len = filter_escape(c, raw, n, c->buf);
		return true;
	}
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return false;
	/* A pty master says EIO when its last slave closed: that is an
	 * end of input like any other. */
	input_eof(c, n < 0 && errno != EIO ? errno : 0);
	return false;
}

static void on_input(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;

	if (c->len || !fill(c))
		return;
	if (!deliver(c))
		input_stop(c);          /* until chardev_rx_ready() */
}

/* A regular file is always readable and epoll refuses it: read it chunk
 * by chunk through loop calls, pausing while the device is full. */
static void feed_file(struct chardev *c)
{
	if (!c->len && !fill(c))
		return;
	if (deliver(c))
		event_loop_call(c->loop, resume_cb, c);
}

static void input_start(struct chardev *c)
{
	int err;

	if (c->in_file) {
		feed_file(c);
		return;
	}
	if (c->registered)
		return;
	err = event_loop_add(c->loop, c->in_fd, EPOLLIN, on_input, c);
	if (err == -EPERM) {
		c->in_file = true;
		feed_file(c);
	} else if (err) {
		input_eof(c, -err);
	} else {
		c->registered = true;
	}
}

/* On the loop thread: the device has room (or input was just enabled). */
static void resume_cb(void *opaque)
{
	struct chardev *c = opaque;

	if (c->eof || c->in_fd < 0)
		return;
	if (!deliver(c))
		return;
	input_start(c);
}

/* Character backend output: a bounded buffer per backend, drained by the
 * event loop.
 *
 * Devices write from vCPU threads while holding their register lock, and
 * virtio-console writes from the event loop itself. A host consumer that
 * stops reading (a paused terminal, a full pipe, `|sleep 1000`) must stall
 * neither: so a device write only copies into this buffer, the loop thread
 * does the write() on a non-blocking fd, and when the fd is full it waits
 * for EPOLLOUT instead of retrying. What does not fit is dropped and
 * counted (a UART is a cable: nobody listening loses bytes, not time);
 * virtio-console asks first how much fits and holds its chain otherwise.
 *
 * Without a loop (unit tests, tools) a write is flushed at once, still
 * without blocking.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "backends/chardev_priv.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"

static void flush_cb(void *opaque);

static size_t out_room(const struct chardev *c)
{
	return CHARDEV_OUT_BUF - c->olen;
}

/* Copy up to len bytes into the ring; returns how many fit. */
static size_t ring_put(struct chardev *c, const uint8_t *p, size_t len)
{
	size_t n = MIN(len, out_room(c)), tail, first;

	if (!n)
		return 0;
	if (!c->obuf)
		c->obuf = xcalloc(1, CHARDEV_OUT_BUF);
	tail = (c->ohead + c->olen) % CHARDEV_OUT_BUF;
	first = MIN(n, CHARDEV_OUT_BUF - tail);
	memcpy(c->obuf + tail, p, first);
	memcpy(c->obuf, p + first, n - first);
	c->olen += n;
	return n;
}

/* Under out_lock: make sure the loop will drain what is buffered. Returns
 * true when the caller must queue flush_cb (outside the lock). */
static bool need_flush(struct chardev *c)
{
	if (!c->olen || c->flush_queued || c->out_waiting || !c->loop)
		return false;
	c->flush_queued = true;
	return true;
}

static ssize_t out_write(struct chardev *c, const uint8_t *p, size_t len)
{
	if (c->out_sock)
		return send(c->out_fd, p, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	return write(c->out_fd, p, len);
}

/* Under out_lock: the backend is gone; drop what is buffered, once. */
static void out_fail(struct chardev *c, int err)
{
	c->out_failed = true;
	c->out_err = err;
	c->dropped += c->olen;
	c->olen = 0;
	c->ohead = 0;
}

/* Write what the fd takes now. Returns 0 when the buffer is empty,
 * -EAGAIN when the fd is full, another -errno when it failed. Called with
 * out_lock held; with `unlocked`, the write() itself runs without it, so a
 * device writing (a memcpy under its own register lock) never waits for a
 * host write: only the one drainer moves ohead, and writers only append
 * past ohead + olen, so the bytes being written stay put. */
static int drain(struct chardev *c, bool unlocked)
{
	while (c->olen && !c->out_failed) {
		size_t n = MIN(c->olen, CHARDEV_OUT_BUF - c->ohead);
		const uint8_t *p = c->obuf + c->ohead;
		ssize_t w;
		int err;

		if (unlocked)
			pthread_mutex_unlock(&c->out_lock);
		w = out_write(c, p, n);
		err = errno;
		if (unlocked)
			pthread_mutex_lock(&c->out_lock);
		if (w < 0 && err == EINTR)
			continue;
		if (w < 0 && err == EAGAIN)
			return -EAGAIN;
		if (w <= 0) {
			out_fail(c, w < 0 ? err : EPIPE);
			return -c->out_err;
		}
		c->ohead = (c->ohead + w) % CHARDEV_OUT_BUF;
		c->olen -= w;
	}
	if (!c->olen)
		c->ohead = 0;
	return c->out_failed ? -c->out_err : 0;
}

static void report(struct chardev *c)
{
	if (c->out_failed && !c->fail_reported) {
		c->fail_reported = true;
		pr_warn("chardev: output: %s; dropping further output",
			strerror(c->out_err));
	}
	if (c->dropped > c->dropped_reported) {
		pr_warn_ratelimited(&c->drop_rl, "chardev: output: consumer "
				    "not reading, %llu bytes dropped so far",
				    (unsigned long long)c->dropped);
		c->dropped_reported = c->dropped;
	}
}

static void tell_tx_ready(struct chardev *c)
{
	if (c->tx_waiting && c->tx_ready && !c->out_waiting) {
		c->tx_waiting = false;
		c->tx_ready(c->tx_ready_opaque);
	}
}

/* The fd is writable again (loop thread). */
static void on_writable(void *opaque, uint32_t events)
{
	struct chardev *c = opaque;

	event_loop_del(c->loop, c->out_poll_fd);
	pthread_mutex_lock(&c->out_lock);
	c->out_waiting = false;
	c->flush_queued = true;
	pthread_mutex_unlock(&c->out_lock);
	flush_cb(c);
}

/* Loop thread: drain; when the fd is full, sleep on EPOLLOUT. */
static void flush_cb(void *opaque)
{
	struct chardev *c = opaque;
	bool wait = false;
	int err;

	pthread_mutex_lock(&c->out_lock);
	c->flush_queued = false;
	err = drain(c, true);
	if (err == -EAGAIN && c->loop) {
		c->out_waiting = true;
		wait = true;
	}
	pthread_mutex_unlock(&c->out_lock);
	if (wait && event_loop_add(c->loop, c->out_poll_fd, EPOLLOUT,
				   on_writable, c) < 0) {
		/* Not pollable (cannot happen for the fds we open as
		 * non-blocking): give up on it rather than spin. */
		pthread_mutex_lock(&c->out_lock);
		c->out_waiting = false;
		out_fail(c, EIO);
		pthread_mutex_unlock(&c->out_lock);
	}
	report(c);
	tell_tx_ready(c);
}

static size_t put_locked(struct chardev *c, const void *buf, size_t len,
			 bool all, bool *queue)
{
	size_t took;

	*queue = false;
	if (c->out_failed)
		return len;             /* dropped: the backend is gone */
	took = ring_put(c, buf, len);
	if (all) {
		c->dropped += len - took;
		took = len;
	} else if (took < len) {
		c->tx_waiting = true;
	}
	if (!c->loop)
		drain(c, false);
	*queue = need_flush(c);
	return took;
}

static size_t put(struct chardev *c, const void *buf, size_t len, bool all)
{
	bool queue;
	size_t took;

	if (c->out_fd < 0)
		return len;             /* a sink */
	pthread_mutex_lock(&c->out_lock);
	took = put_locked(c, buf, len, all, &queue);
	pthread_mutex_unlock(&c->out_lock);
	if (queue)
		event_loop_call(c->loop, flush_cb, c);
	else if (!c->loop)
		report(c);
	return took;
}

ssize_t chardev_write(struct chardev *c, const void *buf, size_t len)
{
	size_t took = put(c, buf, len, true);

	return c->out_failed ? -EPIPE : (ssize_t)took;
}

size_t chardev_write_some(struct chardev *c, const void *buf, size_t len)
{
	return put(c, buf, len, false);
}

void chardev_set_tx_ready(struct chardev *c, chardev_tx_ready_fn fn,
			  void *opaque)
{
	pthread_mutex_lock(&c->out_lock);
	c->tx_ready = fn;
	c->tx_ready_opaque = opaque;
	c->tx_waiting = false;
	pthread_mutex_unlock(&c->out_lock);
}

uint64_t chardev_dropped(struct chardev *c)
{
	uint64_t n;

	pthread_mutex_lock(&c->out_lock);
	n = c->dropped;
	pthread_mutex_unlock(&c->out_lock);
	return n;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Owner's thread, loop stopped or detached: write what is buffered,
 * waiting for the consumer at most timeout_ms in all, then drop the rest.
 * A stopping VM must not hang on a consumer that went away. */
void chardev_out_flush(struct chardev *c, int timeout_ms)
{
	int64_t end = now_ms() + timeout_ms;

	if (c->out_fd < 0)
		return;
	pthread_mutex_lock(&c->out_lock);
	while (drain(c, false) == -EAGAIN) {
		struct pollfd p = { .fd = c->out_fd, .events = POLLOUT };
		int64_t left = end - now_ms();

		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			break;
	}
	c->dropped += c->olen;
	c->olen = c->ohead = 0;
	pthread_mutex_unlock(&c->out_lock);
	report(c);
}

/* The loop is going away (VM reset): forget its registrations; output
 * buffered meanwhile is drained by the next loop. */
void chardev_out_detach_loop(struct chardev *c)
{
	pthread_mutex_lock(&c->out_lock);
	c->flush_queued = false;
	c->out_waiting = false;
	c->loop = NULL;
	pthread_mutex_unlock(&c->out_lock);
}

void chardev_out_attach_loop(struct chardev *c, struct event_loop *loop)
{
	bool queue;

	pthread_mutex_lock(&c->out_lock);
	c->loop = loop;
	queue = need_flush(c);
	pthread_mutex_unlock(&c->out_lock);
	if (queue)
		event_loop_call(loop, flush_cb, c);
}

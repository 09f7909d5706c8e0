/* virtio-console (virtio 1.2 section 5.3): one port, no MULTIPORT, no
 * SIZE. receiveq (0) carries host input to the guest, transmitq (1) guest
 * output to the host. The host side is a chardev, opened from `hostdev`
 * exactly as for the UARTs.
 *
 * Input is flow-controlled end to end: the chardev's rx callback takes only
 * what fits in the guest's posted receive buffers, and when the guest
 * posts more we call chardev_rx_ready() so the chardev offers the rest.
 * Both the rx callback and queue notifications run on the event loop
 * thread; the receive queue's lock serialises them with a reset.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "backends/chardev.h"
#include "devices/dev_chardev.h"
#include "core/iov.h"
#include "core/util.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "virtio/vdev.h"
#include "virtio/virtio.h"

#define CONS_RXQ	0
#define CONS_TXQ	1
#define CONS_QUEUE_SIZE	128
#define CONS_MAX_IOV	64
/* Receive buffers with nothing writable given back per call before the
 * rest waits for the loop's next round: a guest reposting them from
 * another vCPU kept the loop in one call for ever. */
#define CONS_RX_SKIP	32


struct virtio_console_config {
	uint16_t cols, rows;
	uint32_t max_nr_ports;
	uint32_t emerg_wr;
} __attribute__((packed));

struct virtio_console {
	struct virtio_dev vdev;
	struct virtio_console_config cfg;
	struct chardev *cd;
	/* receive side, under the rxq lock */
	struct iovec rx_iov[CONS_MAX_IOV];
	struct virtq_req rx;          /* a popped receive buffer, or none */
	bool rx_held;
	uint32_t rx_used;             /* bytes already put in it */
	/* transmit side, under the txq lock: a chain the chardev had no
	 * room for is held, not completed, until chardev_tx_ready */
	struct iovec tx_iov[CONS_MAX_IOV];
	struct virtq_req tx;
	bool tx_held;
	uint64_t tx_off;              /* bytes of it already written */
	struct event_loop *loop;      /* to come back for more output */
};

/* Guest output handled per kick before the loop serves others: a guest
 * with a full ring must not keep block completions and input waiting. */
#define CONS_TX_BUDGET (256u * 1024)

struct virtio_dev *virtio_console_new(struct guest_mem *mem,
				      struct chardev *cd);
void virtio_console_release(struct virtio_dev *d);

static struct virtio_console *to_cons(struct virtio_dev *d)
{
	return container_of(d, struct virtio_console, vdev);
}

/* rxq lock held: hand a partly filled buffer to the guest. */
static void rx_complete(struct virtio_console *c)
{
	if (!c->rx_held)
		return;
	virtq_push(virtio_dev_vq(&c->vdev, CONS_RXQ), &c->rx, c->rx_used);
	c->rx_held = false;
	c->rx_used = 0;
	virtio_queue_interrupt(&c->vdev, CONS_RXQ);
}

static bool rx_get_buffer(struct virtio_console *c)
{
	unsigned skipped = 0;

	if (c->rx_held)
		return true;
	for (;;) {
		c->rx = (struct virtq_req){ .iov = c->rx_iov,
					    .max_iov = CONS_MAX_IOV };
		if (virtio_queue_pop(&c->vdev, CONS_RXQ, &c->rx) <= 0)
			return false;
		if (c->rx.nr_write)
			break;
		/* Nothing writable to put input in: give it straight back. */
		virtq_push(virtio_dev_vq(&c->vdev, CONS_RXQ), &c->rx, 0);
		/* (the queue's handler, run again, asks for the input) */
		if (++skipped == CONS_RX_SKIP &&
		    virtio_queue_requeue(&c->vdev, CONS_RXQ))
			return false;
	}
	c->rx_held = true;
	c->rx_used = 0;
	return true;
}

/* Copy into the held buffer after rx_used; returns bytes taken. */
static size_t rx_copy(struct virtio_console *c, const uint8_t *buf,
		      size_t len)
{
	size_t done = iov_from_buf(c->rx.iov + c->rx.nr_read, c->rx.nr_write,
				   c->rx_used, buf, len);

	c->rx_used += (uint32_t)done;
	return done;
}

/* chardev input, event loop thread. Fill as many guest buffers as there
 * are; a buffer goes back as soon as this burst of input ends (console
 * input is interactive: no waiting for a buffer to fill up). */
static size_t cons_rx(void *opaque, const uint8_t *buf, size_t len)
{
	struct virtio_console *c = opaque;
	size_t done = 0;

	virtio_queue_lock(&c->vdev, CONS_RXQ);
	while (done < len && virtio_dev_running(&c->vdev) &&
	       rx_get_buffer(c)) {
		size_t n = rx_copy(c, buf + done, len - done);

		done += n;
		if (!n || c->rx_used >= c->rx.write_len)
			rx_complete(c);
	}
	rx_complete(c);
	virtio_queue_unlock(&c->vdev, CONS_RXQ);
	return done;
}

static void cons_tx_more(void *opaque)
{
	struct virtio_console *c = opaque;

	virtio_queue_notify(&c->vdev, CONS_TXQ);
}

/* txq lock held: write the held chain from tx_off on. Returns true when
 * the chardev took all of it; otherwise it calls cons_tx_more when it has
 * room, and the chain stays held (the guest sees its output slow down, as
 * on a real console, instead of losing it). */
static bool tx_write_chain(struct virtio_console *c)
{
	uint64_t skip = c->tx_off;

	for (unsigned i = 0; i < c->tx.nr_read; i++) {
		size_t n = c->tx.iov[i].iov_len, took;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		took = chardev_write_some(c->cd,
					  (uint8_t *)c->tx.iov[i].iov_base + skip,
					  n - skip);
		c->tx_off += took;
		if (took < n - skip)
			return false;
		skip = 0;
	}
	return true;
}

/* Guest output: hand the readable bytes to the chardev, up to the budget;
 * the rest waits for the next round of the event loop, or for room in the
 * chardev. Each chain costs at least one unit, so empty chains count. */
static void cons_tx(struct virtio_console *c)
{
	struct virtq *vq = virtio_dev_vq(&c->vdev, CONS_TXQ);
	uint64_t done = 0;
	bool more = false;

	/* A chain held from before the queue was turned off and on again
	 * (QueueReady 0 tells the device nothing): not the guest's now. */
	if (c->tx_held && !virtq_req_current(vq, &c->tx))
		c->tx_held = false;
	for (;;) {
		uint64_t before;

		if (c->loop && done >= CONS_TX_BUDGET) {
			more = true;
			break;
		}
		if (!c->tx_held) {
			c->tx = (struct virtq_req){ .iov = c->tx_iov,
						    .max_iov = CONS_MAX_IOV };
			if (virtio_queue_pop(&c->vdev, CONS_TXQ, &c->tx) <= 0)
				break;
			c->tx_held = true;
			c->tx_off = 0;
		}
		before = c->tx_off;
		if (!tx_write_chain(c))
			break;          /* full: chardev_tx_ready resumes */
		done += c->tx_off - before + 1;
		virtq_fill(vq, &c->tx, 0);
		c->tx_held = false;
	}
	virtq_flush(vq);
	virtio_queue_interrupt(&c->vdev, CONS_TXQ);
	if (more)
		event_loop_call(c->loop, cons_tx_more, c);
}

static void cons_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_console *c = to_cons(d);

	if (q == CONS_TXQ)
		cons_tx(c);
	else
		chardev_rx_ready(c->cd);   /* new receive buffers: more input */
}

/* Reset: forget held buffers (their rings are going away). */
static void cons_reset(struct virtio_dev *d)
{
	struct virtio_console *c = to_cons(d);

	virtio_queue_lock(d, CONS_RXQ);
	c->rx_held = false;
	c->rx_used = 0;
	virtio_queue_unlock(d, CONS_RXQ);
	virtio_queue_lock(d, CONS_TXQ);
	c->tx_held = false;
	virtio_queue_unlock(d, CONS_TXQ);
}

static int cons_activate(struct virtio_dev *d)
{
	chardev_rx_ready(to_cons(d)->cd);
	return 0;
}

static const struct virtio_dev_ops cons_ops = {
	.activate = cons_activate,
	.reset = cons_reset,
	.queue_notify = cons_queue_notify,
};

struct virtio_dev *virtio_console_new(struct guest_mem *mem,
				      struct chardev *cd)
{
	struct virtio_console *c = xcalloc(1, sizeof(*c));

	c->cd = cd;
	if (virtio_dev_init(&c->vdev, "virtio-console", VIRTIO_ID_CONSOLE,
			    &cons_ops, mem, 0, &c->cfg, sizeof(c->cfg), 2,
			    CONS_QUEUE_SIZE)) {
		free(c);
		return NULL;
	}
	chardev_set_rx(cd, cons_rx, c);
	chardev_set_tx_ready(cd, cons_tx_more, c);
	return &c->vdev;
}

/* Frees the device and gives its chardev back (chardev_put). */
void virtio_console_release(struct virtio_dev *d)
{
	struct virtio_console *c = to_cons(d);

	chardev_set_rx(c->cd, NULL, NULL);
	chardev_put(c->cd);
	virtio_dev_uninit(d);
	free(c);
}

static const struct devopt_spec cons_opts[] = {
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "legacy", .kind = DEVOPT_FLAG },
	{ .key = "sched", .kind = DEVOPT_NUM, .min = 1, .max = 255 },
	{ 0 },
};

/* `legacy` is refused by check_vdev (virtio_check_vdev), at config time,
 * before the chardev is opened; virtio_vdev_create checks it again. */
static int cons_create(const struct vdev_config *vc,
		       const struct dev_env *env, struct device **out)
{
	struct chardev *cd;
	struct virtio_dev *d;

	cd = dev_chardev_get(env, vc);
	if (!cd)
		return -EIO;
	d = virtio_console_new(env->mem, cd);
	if (!d) {
		chardev_put(cd);
		return -ENOMEM;
	}
	container_of(d, struct virtio_console, vdev)->loop = env->loop;
	return virtio_vdev_create(vc, env, d, virtio_console_release, out);
}

const struct vdev_type virtio_console_type = {
	.name = "virtio-console",
	.class = VDEV_VIRTIO,
	.supported = true,
	.allow_hostdev = true,
	.region_len = 0x200,
	.opts = cons_opts,
	.check_vdev = virtio_check_vdev,
	.create = cons_create,
};

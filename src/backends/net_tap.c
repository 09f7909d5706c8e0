/* `hostdev tap:NAME`: a host tap device. An existing tap is attached to;
 * one that does not exist is created (not persistent: the kernel deletes
 * it when cvisor's last fd closes, so it never outlives the VM).
 *
 * Frames carry the 12-byte virtio 1.0 header (IFF_VNET_HDR,
 * TUNSETVNETHDRSZ), so checksum and segmentation offloads pass through
 * untouched both ways: the guest's TX header goes to the kernel as it is
 * (the device validated it), and the kernel hands us GSO frames only for
 * the offloads the driver accepted (TUNSETOFFLOAD from set_offloads).
 *
 * One fd per queue pair (IFF_MULTI_QUEUE when there are several), each on
 * its pair's event loop. RX: reads up to TAP_RX_BUDGET frames per wake-up
 * into a buffer, each handed to the device, which copies it into the
 * guest's buffers; when the device says it has no room the fd is taken
 * out of epoll until rx_resume. TX: one writev of header and chain per
 * frame.
 *
 * Failures drop frames with a rate-limited warning; the tap deleted under
 * us (EBADFD) also shows the guest its link down. A host side that is
 * down (EIO on write) only costs the frames sent meanwhile.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "backends/net.h"
#include "core/log.h"
#include "core/persist.h"
#include "core/util.h"
#include "event/loop.h"

#define TAP_HDR_LEN	12          /* struct virtio_net_hdr, virtio 1.0 */
/* Where a frame read from the tap starts in the queue's buffer: the
 * kernel's copy (`rep movsb`) into a destination that is not 64-byte
 * aligned runs several times slower on some hosts (kvm_pvm on AMD EPYC:
 * 1514 bytes 1.46 against 0.69 us, 64 KiB 38 against 4.3 us), and the
 * header before the frame would leave it at 12 past a boundary. */
#define TAP_FRAME_OFF	64
#define TAP_RX_BUDGET	64          /* frames per wake-up, per queue */
#define TAP_TX_IOV	1024        /* UIO_MAXIOV */

struct net_tap;

struct tap_queue {
	struct net_tap *t;
	unsigned index;
	int fd;
	struct event_loop *loop;
	bool added;
	bool paused;                    /* the loop thread's own */
	bool dead;                      /* the tap is gone (loop thread) */
	struct ratelimit rl;
	/* Work for the queue's loop from other threads, posted: it
	 * cannot be refused (a lost resume left the queue paused). */
	struct loop_work dead_work;     /* a send found the tap gone */
	struct loop_work resume_work;   /* rx_resume */
	uint8_t *mem;                   /* TAP_FRAME_OFF + NET_MAX_FRAME */
	uint8_t *buf;                   /* in mem: header, then the frame */
	struct iovec tx[TAP_TX_IOV];
};

/* The fds kept across guest resets (PERSIST_NET): a tap cvisor created
 * would vanish with them, and its host side's addresses with it; a
 * jailed cvisor could not open it again. */
struct tap_kept {
	int fd[NET_MAX_QUEUE_PAIRS];
	unsigned nr;
};

struct net_tap {
	struct net_backend be;
	char name[IFNAMSIZ];
	struct tap_kept *kept;          /* owns the fds, or NULL */
	bool reused;                    /* kept from before a guest reset */
	unsigned nr_q;
	unsigned offloads;              /* wanted (atomic), NET_OFF_* */
	unsigned applied;               /* in the kernel (queue 0's loop) */
	unsigned want_q;                /* queues in use: wanted (atomic) */
	unsigned attached;              /* attached (queue 0's loop) */
	struct loop_work offload_work, queues_work;     /* on queue 0's */
	struct tap_queue q[NET_MAX_QUEUE_PAIRS];
};

static struct net_tap *to_tap(struct net_backend *be)
{
	return container_of(be, struct net_tap, be);
}

const char *net_tap_check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len)
		return "expected tap:NAME (a network interface name)";
	if (len >= IFNAMSIZ)
		return "an interface name has at most 15 characters";
	if (!strcmp(name, ".") || !strcmp(name, ".."))
		return "'.' and '..' are not interface names";
	for (const char *c = name; *c; c++)
		if (*c == '/' || *c == ':' || *c <= ' ' || *c == 0x7f)
			return "an interface name has no '/', ':' or blanks";
	return NULL;
}

/* The tap is gone (deleted, or the fd broke): stop watching it (EPOLLERR
 * would wake the loop for ever) and show the guest its link down. */
static void queue_dead(struct tap_queue *q, int err)
{
	struct net_tap *t = q->t;

	if (q->dead)
		return;
	q->dead = true;
	if (q->added) {
		event_loop_del(q->loop, q->fd);
		q->added = false;
	}
	pr_warn("net tap:%s: queue %u: %s; its frames are dropped", t->name,
		q->index, strerror(err));
	if (__atomic_exchange_n(&t->be.link_up, false, __ATOMIC_ACQ_REL) &&
	    t->be.client.link)
		t->be.client.link(t->be.client.opaque, false);
}

/* On the queue's loop, outside the device's locks: the send that found
 * the tap gone runs under the TX queue's lock, and the link change takes
 * the device's, which a vCPU takes before a queue's (virtio.h). */
static void dead_work(void *opaque)
{
	queue_dead(opaque, EBADFD);
}

static bool deliver(struct tap_queue *q, size_t n)
{
	const struct net_backend_client *c = &q->t->be.client;
	struct iovec iov = { q->buf + TAP_HDR_LEN, n - TAP_HDR_LEN };

	if (c->rx_hdr)
		return c->rx_hdr(c->opaque, q->index, q->buf, &iov, 1,
				 iov.iov_len);
	if (c->rx)
		return c->rx(c->opaque, &iov, 1, iov.iov_len);
	return true;
}

static void pause_queue(struct tap_queue *q)
{
	q->paused = true;
	if (q->added && event_loop_mod(q->loop, q->fd, 0))
		pr_warn_ratelimited(&q->rl, "net tap:%s: cannot pause queue "
				    "%u", q->t->name, q->index);
}

/* The queue's loop thread: frames from the host for the guest. */
static void on_readable(void *opaque, uint32_t events)
{
	struct tap_queue *q = opaque;
	const struct net_backend_client *c = &q->t->be.client;
	bool delivered = false;

	/* A tun fd reports an error only once its device is gone; a paused
	 * fd still does (epoll always reports errors). */
	if (events & (EPOLLERR | EPOLLHUP)) {
		queue_dead(q, EBADFD);
		return;
	}
	for (unsigned i = 0; i < TAP_RX_BUDGET && !q->paused; i++) {
		ssize_t n = read(q->fd, q->buf, TAP_HDR_LEN + NET_MAX_FRAME);

		if (n < 0) {
			if (errno == EBADFD || errno == ENXIO)
				queue_dead(q, errno);
			else if (errno != EAGAIN && errno != EINTR)
				pr_warn_ratelimited(&q->rl, "net tap:%s: read: "
						    "%s", q->t->name,
						    strerror(errno));
			break;
		}
		if ((size_t)n < TAP_HDR_LEN + 14)
			continue;               /* runt: nothing to deliver */
		delivered = true;
		if (!deliver(q, (size_t)n))
			pause_queue(q);
	}
	/* One used-index update and interrupt for the burst. If the budget
	 * was spent, epoll (level-triggered) brings the rest on the next
	 * round, after the loop's other handlers. */
	if (delivered && c->rx_flush)
		c->rx_flush(c->opaque, q->index);
}

static void resume_call(void *opaque)
{
	struct tap_queue *q = opaque;

	if (!q->paused || q->dead)
		return;
	q->paused = false;
	if (q->added && event_loop_mod(q->loop, q->fd, EPOLLIN))
		pr_warn_ratelimited(&q->rl, "net tap:%s: cannot resume queue "
				    "%u", q->t->name, q->index);
}

/* Any thread (a device reset runs on a vCPU): the change happens on the
 * queue's own loop, so pause and resume never race. */
static void tap_rx_resume_qp(struct net_backend *be, unsigned qp)
{
	struct net_tap *t = to_tap(be);

	if (qp < t->nr_q)
		event_loop_post(t->q[qp].loop, &t->q[qp].resume_work);
}

static void tap_rx_resume(struct net_backend *be)
{
	for (unsigned i = 0; i < to_tap(be)->nr_q; i++)
		tap_rx_resume_qp(be, i);
}

static int tap_send_qp(struct net_backend *be, unsigned qp, const void *hdr,
		       const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_tap *t = to_tap(be);
	struct tap_queue *q = &t->q[qp < t->nr_q ? qp : 0];
	static const uint8_t no_hdr[TAP_HDR_LEN];
	ssize_t n;

	if (cnt + 1 > TAP_TX_IOV)
		return -E2BIG;
	q->tx[0] = (struct iovec){ (void *)(hdr ? hdr : no_hdr), TAP_HDR_LEN };
	memcpy(&q->tx[1], iov, cnt * sizeof(*iov));
	n = writev(q->fd, q->tx, (int)cnt + 1);
	if (n >= 0)
		return 0;
	n = -errno;
	/* EIO is the host side being down (ip link set down): frames are
	 * dropped until it is up again. EBADFD: the tap is gone. */
	if (n == -EBADFD || n == -ENXIO) {
		if (!q->dead)
			event_loop_post(q->loop, &q->dead_work);
	} else {
		pr_warn_ratelimited(&q->rl, "net tap:%s: write: %s", t->name,
				    strerror(errno));
	}
	return (int)n;
}

static int tap_send(struct net_backend *be, const void *hdr,
		    const struct iovec *iov, unsigned cnt, size_t len)
{
	return tap_send_qp(be, 0, hdr, iov, cnt, len);
}

static unsigned tun_flags(unsigned off)
{
	unsigned f = 0;

	if (!(off & NET_OFF_CSUM))
		return 0;               /* GSO needs partial checksums */
	f |= TUN_F_CSUM;
	if (off & NET_OFF_TSO4)
		f |= TUN_F_TSO4;
	if (off & NET_OFF_TSO6)
		f |= TUN_F_TSO6;
	if ((off & NET_OFF_ECN) && (off & (NET_OFF_TSO4 | NET_OFF_TSO6)))
		f |= TUN_F_TSO_ECN;
	if (off & NET_OFF_UFO)
		f |= TUN_F_UFO;
	return f;
}

/* Queue 0's loop: TUNSETOFFLOAD is per device, one fd is enough. */
static void offload_call(void *opaque)
{
	struct net_tap *t = opaque;
	unsigned want = __atomic_load_n(&t->offloads, __ATOMIC_ACQUIRE);
	unsigned f = tun_flags(want);

	if (want == t->applied)
		return;
	if (ioctl(t->q[0].fd, TUNSETOFFLOAD, f) < 0 &&
	    /* a kernel without UFO for tap: the rest still helps */
	    (!(f & TUN_F_UFO) ||
	     ioctl(t->q[0].fd, TUNSETOFFLOAD, f & ~TUN_F_UFO) < 0)) {
		pr_warn_ratelimited(&t->q[0].rl, "net tap:%s: TUNSETOFFLOAD "
				    "%#x: %s", t->name, f, strerror(errno));
		return;
	}
	t->applied = want;
}

static void tap_set_offloads(struct net_backend *be, unsigned off)
{
	struct net_tap *t = to_tap(be);

	__atomic_store_n(&t->offloads, off, __ATOMIC_RELEASE);
	event_loop_post(t->q[0].loop, &t->offload_work);
}

/* Queue 0's loop: a multiqueue tap spreads its flows over the attached
 * fds only, so the pairs the driver does not use are detached (their fds
 * stay open and quiet). */
static void queues_call(void *opaque)
{
	struct net_tap *t = opaque;
	unsigned want = __atomic_load_n(&t->want_q, __ATOMIC_ACQUIRE);

	for (unsigned i = 1; i < t->nr_q; i++) {
		struct ifreq ifr = { 0 };
		bool on = i < want;

		if (on == (i < t->attached))
			continue;
		ifr.ifr_flags = on ? IFF_ATTACH_QUEUE : IFF_DETACH_QUEUE;
		/* EINVAL: it was in that state already (a kept fd) */
		if (ioctl(t->q[i].fd, TUNSETQUEUE, &ifr) < 0 && errno != EINVAL)
			pr_warn_ratelimited(&t->q[0].rl, "net tap:%s: queue %u: "
					    "TUNSETQUEUE: %s", t->name, i,
					    strerror(errno));
	}
	t->attached = want;
}

static void tap_set_queues(struct net_backend *be, unsigned n)
{
	struct net_tap *t = to_tap(be);

	if (t->nr_q < 2)
		return;
	__atomic_store_n(&t->want_q, n < 1 ? 1 : n > t->nr_q ? t->nr_q : n,
			 __ATOMIC_RELEASE);
	event_loop_post(t->q[0].loop, &t->queues_work);
}

static void tap_free(struct net_backend *be)
{
	struct net_tap *t = to_tap(be);

	for (unsigned i = 0; i < NET_MAX_QUEUE_PAIRS; i++) {
		struct tap_queue *q = &t->q[i];

		if (q->added)
			event_loop_del(q->loop, q->fd);
		if (q->fd >= 0 && !t->kept)
			close(q->fd);
		free(q->mem);
	}
	free(t);
}

static const struct net_backend_ops tap_ops = {
	.send = tap_send,
	.rx_resume = tap_rx_resume,
	.free = tap_free,
	.send_qp = tap_send_qp,
	.rx_resume_qp = tap_rx_resume_qp,
	.set_offloads = tap_set_offloads,
	.set_queues = tap_set_queues,
};

/* One fd attached to the tap (created with the first). */
static int open_queue(struct net_tap *t, unsigned i, bool multi, char *err,
		      size_t errlen)
{
	struct tap_queue *q = &t->q[i];
	struct ifreq ifr = { 0 };
	int hdr_len = TAP_HDR_LEN;
	unsigned features = 0;

	q->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (q->fd < 0) {
		snprintf(err, errlen, "tap:%s: /dev/net/tun: %s", t->name,
			 strerror(errno));
		return -errno;
	}
	if (ioctl(q->fd, TUNGETFEATURES, &features) == 0 &&
	    (!(features & IFF_VNET_HDR) ||
	     (multi && !(features & IFF_MULTI_QUEUE)))) {
		snprintf(err, errlen, "tap:%s: the kernel's tun has no %s",
			 t->name, multi ? "IFF_MULTI_QUEUE" : "IFF_VNET_HDR");
		return -ENOTSUP;
	}
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
			(multi ? IFF_MULTI_QUEUE : 0);
	memcpy(ifr.ifr_name, t->name, strlen(t->name) + 1);
	if (ioctl(q->fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		snprintf(err, errlen, "tap:%s: %s%s", t->name, strerror(e),
			 e == EPERM ? " (creating or attaching a tap needs "
				      "CAP_NET_ADMIN, or a tap owned by this "
				      "user)" :
			 e == EINVAL ? " (a tap of that name with other flags: "
				       "multiqueue must match 'queues', and it "
				       "must be a tap, not a tun)" :
			 e == EBUSY ? " (in use by another process)" : "");
		return -e;
	}
	if (ioctl(q->fd, TUNSETVNETHDRSZ, &hdr_len) < 0) {
		snprintf(err, errlen, "tap:%s: vnet header: %s", t->name,
			 strerror(errno));
		return -errno;
	}
	return 0;
}

static void free_kept(void *obj)
{
	struct tap_kept *k = obj;

	for (unsigned i = 0; i < k->nr; i++)
		close(k->fd[i]);
	free(k);
}

/* Open the fds, or take those kept from before a guest reset. */
static int open_fds(struct net_tap *t, const struct net_backend_params *p,
		    unsigned nq, char *err, size_t errlen)
{
	struct tap_kept *k = p->persist ? persist_get(p->persist,
						      p->persist_owner,
						      PERSIST_NET) : NULL;
	int rc = 0;

	if (k && k->nr == nq) {
		for (unsigned i = 0; i < nq; i++)
			t->q[i].fd = k->fd[i];
		t->kept = k;
		t->reused = true;
		return 0;
	}
	for (unsigned i = 0; i < nq && !rc; i++)
		rc = open_queue(t, i, nq > 1, err, errlen);
	if (rc || !p->persist)
		return rc;
	k = xcalloc(1, sizeof(*k));
	for (unsigned i = 0; i < nq; i++)
		k->fd[i] = t->q[i].fd;
	k->nr = nq;
	if (persist_put(p->persist, p->persist_owner, PERSIST_NET, k,
			free_kept))
		free(k);        /* not kept: closed with the backend */
	else
		t->kept = k;
	return 0;
}

struct net_backend *net_tap_open(const struct net_backend_params *p,
				 struct event_loop *loop,
				 char *err, size_t errlen)
{
	struct net_tap *t = xcalloc(1, sizeof(*t));
	const char *name = p->spec + 4, *why = net_tap_check_name(name);
	unsigned nq = p->queues ? p->queues : 1;
	bool existed;
	int rc = 0;

	t->be = (struct net_backend){ .ops = &tap_ops, .kind = "tap",
				      .caps = NET_CAP_CSUM | NET_CAP_GSO |
					      NET_CAP_RX_BATCH,
				      .link_up = true };
	for (unsigned i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		t->q[i].fd = -1;
	t->offload_work = (struct loop_work){ .fn = offload_call, .opaque = t };
	t->queues_work = (struct loop_work){ .fn = queues_call, .opaque = t };
	if (why || nq > NET_MAX_QUEUE_PAIRS || !loop) {
		snprintf(err, errlen, "%s: %s", p->spec,
			 why ? why : "bad queue count or no event loop");
		free(t);
		errno = EINVAL;
		return NULL;
	}
	memcpy(t->name, name, strlen(name) + 1);
	t->attached = nq;
	t->want_q = 1;          /* a driver starts on its first pair */
	existed = if_nametoindex(name) != 0;
	t->nr_q = nq;
	rc = open_fds(t, p, nq, err, errlen);
	/* No receive offloads until a driver accepts some (a kept fd has
	 * the last guest's). */
	if (!rc && ioctl(t->q[0].fd, TUNSETOFFLOAD, 0) < 0) {
		rc = -errno;
		snprintf(err, errlen, "tap:%s: TUNSETOFFLOAD: %s", name,
			 strerror(errno));
	}
	for (unsigned i = 0; i < nq && !rc; i++) {
		struct tap_queue *q = &t->q[i];

		q->t = t;
		q->index = i;
		q->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
		q->dead_work = (struct loop_work){ .fn = dead_work,
						   .opaque = q };
		q->resume_work = (struct loop_work){ .fn = resume_call,
						     .opaque = q };
		q->mem = xmemalign(TAP_FRAME_OFF, TAP_FRAME_OFF + NET_MAX_FRAME);
		q->buf = q->mem + TAP_FRAME_OFF - TAP_HDR_LEN;
		q->loop = p->loops[i] ? p->loops[i] : loop;
		rc = event_loop_add(q->loop, q->fd, EPOLLIN, on_readable, q);
		q->added = !rc;
		if (rc)
			snprintf(err, errlen, "tap:%s: event loop: %s", name,
				 strerror(-rc));
	}
	if (rc) {
		tap_free(&t->be);
		errno = -rc;
		return NULL;
	}
	/* A kept fd's queue may be detached already: then TUNSETQUEUE
	 * fails with EINVAL, and what matters holds (queue 0 attached). */
	queues_call(t);
	pr_info("net tap:%s: %s, %u queue%s, vnet header", name,
		t->reused ? "kept across the guest reset" :
		existed ? "attached" : "created (removed at exit)", nq,
		nq > 1 ? "s" : "");
	return &t->be;
}

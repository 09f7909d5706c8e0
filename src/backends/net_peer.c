/* `peer PATH`: QNX's point-to-point link between two VMs' virtio-nets.
 * Two cvisor processes naming the same PATH exchange Ethernet frames over
 * a UNIX SOCK_SEQPACKET connection, one frame per message. No root.
 *
 * Rendezvous (either side may start first, or restart at any time): under
 * an flock on PATH.lock, connect to PATH; if nobody listens there (no
 * file, or one a dead process left), remove it, bind and listen, and
 * accept one peer. The lock makes "nobody listens" and "I listen now" one
 * step, so two starters never both listen. The listener removes PATH once
 * it has its peer (before closing the listening socket, so it never
 * removes another's). When the peer goes (EOF, ECONNRESET) the link goes
 * down and the rendezvous starts again. Everything runs on the event loop
 * thread without blocking: a busy lock or a full backlog is retried from
 * a timerfd, never by sleeping.
 *
 * Each side's first message is a hello (magic, version, its peerfeats, its
 * MTU). The link carries the offloads both sides named (the
 * intersection): with one, every frame is prefixed by the guest's 12-byte
 * virtio_net_hdr. A partial checksum whose header cannot travel is filled
 * in before sending; one that arrives goes to the guest as it is when the
 * guest takes partial checksums (GUEST_CSUM), else it is filled in. A hello
 * that is not ours, or none within PEER_HELLO_MS, closes the connection
 * and the rendezvous starts again after PEER_BACKOFF_MS.
 *
 * The guest's link status follows the connection. Sends never block: a
 * full socket drops the frame (counted, rate-limited warning). Receiving
 * takes at most PEER_RX_BUDGET frames a round and stops while the device
 * has no room (rx() false) until rx_resume.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "backends/net_peer.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"

#define PEER_RX_BUDGET		256     /* frames per round */
#define PEER_RX_BATCH		8       /* messages per recvmmsg */
#define PEER_TX_BATCH		32      /* the device flushes every 32 */
#define PEER_RETRY_MS		10      /* lock busy, backlog full */
#define PEER_BACKOFF_MS		1000    /* refused, or a failing call */
#define PEER_HELLO_MS		5000    /* a connection without a hello */
#define PEER_MAX_IOV		64      /* more segments: copied first */
#define PEER_MSG_MAX		(NET_PEER_HDR_LEN + NET_MAX_FRAME)
#define PEER_RX_ALIGN		64

#define HDR_F_NEEDS_CSUM	1
#define HDR_GSO_NONE		0

enum peer_state {
	PEER_IDLE,              /* between rendezvous: the timer is armed */
	PEER_LISTEN,            /* lfd waits for the peer */
	PEER_HELLO,             /* cfd connected, the peer's hello not yet in */
	PEER_UP,
};

struct net_peer {
	struct net_backend be;
	struct event_loop *loop;
	char *path, *lock_path;
	struct sockaddr_un addr;
	int lock_fd, tfd, efd;          /* lock file, timer, resume eventfd */
	int lfd, cfd;                   /* listening, connected */
	bool tfd_added, efd_added;
	enum peer_state state;
	bool paused;                    /* the device has no room */
	unsigned feats;                 /* ours: NET_PEER_FEATS_* */
	unsigned offloads;              /* NET_OFF_* the guest takes (atomic) */
	unsigned link_feats;            /* agreed on this connection */
	unsigned mtu;
	struct net_peer_stats st;
	struct ratelimit rl;
	struct iovec iov[PEER_MAX_IOV + 1];
	uint8_t txbuf[NET_MAX_FRAME];   /* frames copied to fill a checksum */
	/* Frames send() took, sent by tx_flush with one sendmmsg: their
	 * iovecs point into the guest's chains, which the device gives back
	 * only after that flush. */
	unsigned tx_count;
	unsigned tx_lost;               /* dropped since the last tx_flush */
	uint64_t tx_lost_bytes;
	struct mmsghdr tx_mm[PEER_TX_BATCH];
	struct {
		struct iovec iov[PEER_MAX_IOV + 1];
		uint8_t h[NET_PEER_HDR_LEN];
		size_t len;
	} tx[PEER_TX_BATCH];
	/* Messages come in batches (recvmmsg), each into its own slot at
	 * rx_at(). Those the device had no room for when it paused us,
	 * rx_next up to rx_count, go to it first on rx_resume. */
	unsigned rx_next, rx_count;
	uint8_t *rx_msg[PEER_RX_BATCH];
	size_t rx_len[PEER_RX_BATCH];
	bool rx_trunc[PEER_RX_BATCH];
	struct {
		uint8_t space[PEER_RX_ALIGN + PEER_MSG_MAX];
	} rx[PEER_RX_BATCH];
};

static struct net_peer *to_peer(struct net_backend *be)
{
	return container_of(be, struct net_peer, be);
}

static void rendezvous(struct net_peer *p);

/* Where a message goes in slot i: its frame, after the header when the
 * link carries one, on a 64-byte boundary. The kernel's copy into an
 * unaligned destination is several times slower on some hosts (see
 * net_tap.c); the struct itself is only malloc-aligned. */
static uint8_t *rx_at(struct net_peer *p, unsigned i)
{
	uintptr_t off = p->link_feats ? NET_PEER_HDR_LEN : 0;
	uintptr_t f = ((uintptr_t)p->rx[i].space + off + PEER_RX_ALIGN - 1) &
		      ~(uintptr_t)(PEER_RX_ALIGN - 1);

	return (uint8_t *)(f - off);
}

/* --- helpers --- */

static void arm(struct net_peer *p, unsigned ms)
{
	struct itimerspec its = { 0 };

	/* 0 would disarm: "now" is one nanosecond */
	its.it_value.tv_sec = ms / 1000;
	its.it_value.tv_nsec = ms ? (long)(ms % 1000) * 1000000 : 1;
	timerfd_settime(p->tfd, 0, &its, NULL);
}

static void disarm(struct net_peer *p)
{
	struct itimerspec its = { 0 };

	timerfd_settime(p->tfd, 0, &its, NULL);
}

static void unlock(struct net_peer *p)
{
	flock(p->lock_fd, LOCK_UN);
}

/* What the connection's events should be: the hello is always read; frames
 * only while the device has room (HUP and ERR come regardless). */
static uint32_t conn_events(const struct net_peer *p)
{
	return p->state == PEER_HELLO || !p->paused ? EPOLLIN : 0;
}

static void set_link(struct net_peer *p, bool up)
{
	if (p->be.link_up == up)
		return;
	p->be.link_up = up;
	if (p->be.client.link)
		p->be.client.link(p->be.client.opaque, up);
}

/* Fill in the partial checksum a header asks for (as the spec's
 * NEEDS_CSUM: the ones' complement sum from csum_start to the end, stored
 * at csum_start + csum_offset). false when the offsets do not fit. */
static bool csum_fill(uint8_t *f, size_t len, unsigned start, unsigned off)
{
	uint64_t sum = 0;
	size_t i;
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return false;
	for (i = start; i + 1 < len; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	if (i < len)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	if (!c)
		c = 0xffff;     /* UDP: 0 would mean "no checksum" */
	f[start + off] = (uint8_t)(c >> 8);
	f[start + off + 1] = (uint8_t)c;
	return true;
}

/* --- the connection --- */

static void close_conn(struct net_peer *p)
{
	p->rx_next = p->rx_count = 0;   /* what it had received goes too */
	/* (the device flushes within its TX round, so none wait here: the
	 * connection closes on this same thread, between rounds) */
	for (unsigned i = 0; i < p->tx_count; i++)
		p->tx_lost_bytes += p->tx[i].len;
	p->tx_lost += p->tx_count;
	p->st.tx_down += p->tx_count;
	p->tx_count = 0;
	if (p->cfd >= 0) {
		event_loop_del(p->loop, p->cfd);
		close(p->cfd);
		p->cfd = -1;
	}
	if (p->lfd >= 0) {
		event_loop_del(p->loop, p->lfd);
		close(p->lfd);
		p->lfd = -1;
	}
}

/* The peer went, or never said hello: link down, and meet again (at once,
 * or after backoff_ms). */
static void disconnect(struct net_peer *p, const char *why,
		       unsigned backoff_ms)
{
	bool was_up = p->state == PEER_UP;

	close_conn(p);
	p->state = PEER_IDLE;
	p->link_feats = 0;
	if (was_up) {
		pr_info("net peer %s: link down (%s)", p->path, why);
		set_link(p, false);
	}
	if (backoff_ms)
		arm(p, backoff_ms);
	else
		rendezvous(p);
}

static void refuse(struct net_peer *p, const char *why)
{
	p->st.refused++;
	pr_warn_ratelimited(&p->rl, "net peer %s: connection refused: %s; "
			    "trying again in %d ms", p->path, why,
			    PEER_BACKOFF_MS);
	disconnect(p, why, PEER_BACKOFF_MS);
}

static void hello_in(struct net_peer *p, const struct net_peer_hello *h,
		     ssize_t n)
{
	unsigned theirs, mtu;

	if (n != (ssize_t)sizeof(*h) ||
	    memcmp(h->magic, NET_PEER_MAGIC, sizeof(h->magic))) {
		refuse(p, "the other side is not a cvisor peer link");
		return;
	}
	if (le32toh(h->version) != NET_PEER_VERSION) {
		refuse(p, "the other side speaks another version of the "
		       "peer protocol");
		return;
	}
	theirs = le32toh(h->feats);
	mtu = le32toh(h->mtu);
	p->link_feats = p->feats & theirs & NET_PEER_FEATS_CSUM;
	if ((theirs & NET_PEER_FEATS_CSUM) != p->feats)
		pr_info("net peer %s: peerfeats %#x here, %#x there: the link "
			"carries %#x (checksums filled in where needed)",
			p->path, p->feats, theirs & NET_PEER_FEATS_CSUM,
			p->link_feats);
	if (mtu != p->mtu)
		pr_warn("net peer %s: mtu %u here, %u there: the larger "
			"frames will be dropped", p->path, p->mtu, mtu);
	disarm(p);
	p->state = PEER_UP;
	p->st.connects++;
	event_loop_mod(p->loop, p->cfd, conn_events(p));
	pr_info("net peer %s: link up", p->path);
	set_link(p, true);
}

/* One frame (with its header when the link carries one) for the device:
 * a partial checksum goes to the guest as it is when the guest takes
 * them (GUEST_CSUM: set_offloads), else it is filled in here. */
static bool frame_in(struct net_peer *p, uint8_t *m, size_t n)
{
	size_t off = p->link_feats ? NET_PEER_HDR_LEN : 0;
	unsigned taken = __atomic_load_n(&p->offloads, __ATOMIC_RELAXED);
	bool pass = false;
	struct iovec v;

	if (n < off + 14) {
		p->st.rx_runt++;
		return true;
	}
	if (off) {
		uint16_t start, coff;

		memcpy(&start, m + 6, 2);
		memcpy(&coff, m + 8, 2);
		start = le16toh(start);
		coff = le16toh(coff);
		pass = (m[0] & HDR_F_NEEDS_CSUM) && p->be.client.rx_hdr &&
		       (taken & NET_OFF_CSUM) && start < n - off &&
		       coff <= n - off - start && n - off - start - coff >= 2;
		if ((m[0] & ~HDR_F_NEEDS_CSUM) || m[1] != HDR_GSO_NONE ||
		    ((m[0] & HDR_F_NEEDS_CSUM) && !pass &&
		     !csum_fill(m + off, n - off, start, coff))) {
			p->st.rx_bad_hdr++;
			pr_warn_ratelimited(&p->rl, "net peer %s: frame with a bad "
					    "header dropped", p->path);
			return true;
		}
	}
	p->st.rx_frames++;
	if (!p->be.client.rx) {
		p->st.rx_unclaimed++;
		return true;
	}
	v = (struct iovec){ m + off, n - off };
	if (pass) {
		memset(m + 10, 0, 2);   /* num_buffers: the device's */
		return p->be.client.rx_hdr(p->be.client.opaque, 0, m, &v, 1,
					   n - off);
	}
	return p->be.client.rx(p->be.client.opaque, &v, 1, n - off);
}

/* Up to max messages into slots 0.., with one recvmmsg: how many (0:
 * the other side closed), or -1 with errno. A message of 0 bytes, which
 * is how a closed connection reads, ends the batch; the next read sees
 * the close again. */
static int rx_receive(struct net_peer *p, unsigned max)
{
	struct mmsghdr mm[PEER_RX_BATCH];
	struct iovec v[PEER_RX_BATCH];
	unsigned i;
	int n;

	for (i = 0; i < max; i++) {
		p->rx_msg[i] = rx_at(p, i);
		v[i] = (struct iovec){ p->rx_msg[i], PEER_MSG_MAX };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &v[i],
						       .msg_iovlen = 1 } };
	}
	n = recvmmsg(p->cfd, mm, max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return -1;
	p->st.rx_reads++;
	for (i = 0; i < (unsigned)n && mm[i].msg_len; i++) {
		p->rx_len[i] = mm[i].msg_len;
		p->rx_trunc[i] = mm[i].msg_hdr.msg_flags & MSG_TRUNC;
	}
	p->rx_next = 0;
	p->rx_count = i;
	return (int)i;
}

/* What was received and not yet taken, to the device in order; false
 * when it paused us (the rest waits for rx_resume). */
static bool rx_deliver(struct net_peer *p)
{
	while (p->rx_next < p->rx_count) {
		unsigned i = p->rx_next++;

		if (p->rx_trunc[i]) {
			p->st.rx_oversize++;
			pr_warn_ratelimited(&p->rl, "net peer %s: message over "
					    "%zu bytes dropped", p->path,
					    (size_t)PEER_MSG_MAX);
			continue;
		}
		if (!frame_in(p, p->rx_msg[i], p->rx_len[i]))
			return false;
	}
	return true;
}

static void pause_rx(struct net_peer *p)
{
	p->paused = true;
	event_loop_mod(p->loop, p->cfd, conn_events(p));
}

static void on_conn(void *opaque, uint32_t events)
{
	struct net_peer *p = opaque;
	unsigned budget = PEER_RX_BUDGET;

	while (budget) {
		int n;

		if (p->state == PEER_UP && p->paused) {
			/* Not reading: only a hang-up is worth acting on. */
			if (events & (EPOLLHUP | EPOLLERR))
				disconnect(p, "the other side closed", 0);
			return;
		}
		/* The hello alone: the frames after it are laid out by the
		 * features it brings. */
		n = rx_receive(p, p->state == PEER_HELLO ? 1 :
				  MIN(budget, PEER_RX_BATCH));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			disconnect(p, n ? strerror(errno)
					: "the other side closed", 0);
			return;
		}
		budget -= MIN(budget, (unsigned)n);
		if (p->state == PEER_HELLO) {
			/* (a truncated one has the wrong length) */
			p->rx_next = p->rx_count;
			hello_in(p, (const void *)p->rx_msg[0], p->rx_len[0]);
			if (p->state != PEER_UP)
				return;
			continue;
		}
		if (!rx_deliver(p)) {
			pause_rx(p);
			return;
		}
	}
}

static void start_hello(struct net_peer *p, int fd)
{
	struct net_peer_hello h = { .version = htole32(NET_PEER_VERSION),
				    .feats = htole32(p->feats),
				    .mtu = htole32(p->mtu) };
	int rc;

	memcpy(h.magic, NET_PEER_MAGIC, sizeof(h.magic));
	p->cfd = fd;
	p->state = PEER_HELLO;
	rc = event_loop_add(p->loop, fd, EPOLLIN, on_conn, p);
	if (rc) {
		close(fd);
		p->cfd = -1;
		p->state = PEER_IDLE;
		pr_warn("net peer %s: event loop: %s", p->path, strerror(-rc));
		arm(p, PEER_BACKOFF_MS);
		return;
	}
	if (send(fd, &h, sizeof(h), MSG_DONTWAIT | MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(h)) {
		disconnect(p, strerror(errno), PEER_BACKOFF_MS);
		return;
	}
	arm(p, PEER_HELLO_MS);
}

static void on_listen(void *opaque, uint32_t events)
{
	struct net_peer *p = opaque;
	int fd = accept4(p->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
		    errno != ECONNABORTED)
			pr_warn_ratelimited(&p->rl, "net peer %s: accept: %s",
					    p->path, strerror(errno));
		return;
	}
	/* Still listening, so PATH is ours: nobody else removes a socket
	 * someone listens on. Removed now, no stale file is left behind. */
	unlink(p->path);
	close_conn(p);
	start_hello(p, fd);
}

/* --- the rendezvous --- */

/* Nobody listens at PATH: listen there (lock held). */
static int listen_here(struct net_peer *p)
{
	struct stat sb;
	int fd, err;

	if (!lstat(p->path, &sb) && !S_ISSOCK(sb.st_mode)) {
		pr_warn_ratelimited(&p->rl, "net peer %s: exists and is not a "
				    "socket: not removed", p->path);
		return -EEXIST;
	}
	if (unlink(p->path) && errno != ENOENT)
		return -errno;
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&p->addr, sizeof(p->addr)) ||
	    listen(fd, 1)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = event_loop_add(p->loop, fd, EPOLLIN, on_listen, p);
	if (err) {
		unlink(p->path);
		close(fd);
		return err;
	}
	p->lfd = fd;
	p->state = PEER_LISTEN;
	return 0;
}

static void rendezvous(struct net_peer *p)
{
	int fd, err;

	if (p->state != PEER_IDLE)
		return;
	if (flock(p->lock_fd, LOCK_EX | LOCK_NB)) {
		/* The other side is in its rendezvous: a few calls. */
		arm(p, errno == EWOULDBLOCK ? PEER_RETRY_MS : PEER_BACKOFF_MS);
		return;
	}
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = errno;
		unlock(p);
		pr_warn_ratelimited(&p->rl, "net peer %s: socket: %s", p->path,
				    strerror(err));
		arm(p, PEER_BACKOFF_MS);
		return;
	}
	if (!connect(fd, (struct sockaddr *)&p->addr, sizeof(p->addr))) {
		unlock(p);
		start_hello(p, fd);
		return;
	}
	err = errno;
	close(fd);
	if (err == ECONNREFUSED || err == ENOENT) {
		err = -listen_here(p);
		unlock(p);
		if (!err)
			return;
		pr_warn_ratelimited(&p->rl, "net peer %s: cannot listen: %s",
				    p->path, strerror(err));
		arm(p, PEER_BACKOFF_MS);
		return;
	}
	unlock(p);
	if (err == EAGAIN) {
		arm(p, PEER_RETRY_MS);  /* a listener with a full backlog */
		return;
	}
	pr_warn_ratelimited(&p->rl, "net peer %s: connect: %s", p->path,
			    strerror(err));
	arm(p, PEER_BACKOFF_MS);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct net_peer *p = opaque;
	uint64_t v;

	if (read(p->tfd, &v, sizeof(v)) < 0)
		return;         /* disarmed meanwhile */
	if (p->state == PEER_IDLE)
		rendezvous(p);
	else if (p->state == PEER_HELLO)
		refuse(p, "no hello from the other side");
}

static void on_resume(void *opaque, uint32_t events)
{
	struct net_peer *p = opaque;
	uint64_t v;

	if (read(p->efd, &v, sizeof(v)) < 0 || !p->paused)
		return;
	p->paused = false;
	if (p->cfd < 0)
		return;
	/* What the last batch still holds goes first: the socket may have
	 * nothing new to wake us for it. */
	if (!rx_deliver(p)) {
		p->paused = true;
		return;
	}
	event_loop_mod(p->loop, p->cfd, conn_events(p));
}

/* --- backend ops --- */

/* The frame as iovecs in out, header first when the link carries one;
 * copied when a checksum must be filled in here or there are too many
 * pieces. */
static unsigned build_iov(struct net_peer *p, struct iovec *out,
			  const uint8_t *h, const struct iovec *iov,
			  unsigned cnt, size_t len, bool copy)
{
	unsigned n = 0;
	size_t off = 0;

	if (p->link_feats)
		out[n++] = (struct iovec){ (void *)h, NET_PEER_HDR_LEN };
	if (copy) {
		for (unsigned i = 0; i < cnt && off < len; i++) {
			size_t k = MIN(iov[i].iov_len, len - off);

			memcpy(p->txbuf + off, iov[i].iov_base, k);
			off += k;
		}
		out[n++] = (struct iovec){ p->txbuf, len };
		return n;
	}
	for (unsigned i = 0; i < cnt && off < len; i++) {
		size_t k = MIN(iov[i].iov_len, len - off);

		out[n++] = (struct iovec){ iov[i].iov_base, k };
		off += k;
	}
	return n;
}

/* n frames could not go (from a failed send call): counted, and said. */
static void tx_failed(struct net_peer *p, unsigned n, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
		p->st.tx_full += n;
		pr_warn_ratelimited(&p->rl, "net peer %s: the other side is not "
				    "reading: frames dropped", p->path);
	} else {
		/* Gone: the hang-up comes through the event loop. */
		p->st.tx_down += n;
	}
}

/* The batch goes out: as many sendmmsg calls as the socket takes, the
 * rest (a full socket, a connection gone) dropped, counted, and kept for
 * the device's tally (tx_lost, told at its flush). */
static void tx_send_batch(struct net_peer *p)
{
	unsigned done = 0, n = p->tx_count;

	p->tx_count = 0;
	while (done < n) {
		int r = sendmmsg(p->cfd, p->tx_mm + done, n - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			tx_failed(p, n - done, r < 0 ? errno : EAGAIN);
			for (unsigned i = done; i < n; i++)
				p->tx_lost_bytes += p->tx[i].len;
			p->tx_lost += n - done;
			break;
		}
		done += (unsigned)r;
	}
	p->st.tx_frames += done;
}

static unsigned peer_tx_flush(struct net_backend *be, unsigned qp,
			      uint64_t *bytes)
{
	struct net_peer *p = to_peer(be);
	unsigned lost;

	tx_send_batch(p);
	lost = p->tx_lost;
	*bytes = p->tx_lost_bytes;
	p->tx_lost = 0;
	p->tx_lost_bytes = 0;
	return lost;
}

static int peer_send(struct net_backend *be, const void *hdr,
		     const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_peer *p = to_peer(be);
	const uint8_t *gh = hdr;
	uint8_t h[NET_PEER_HDR_LEN] = { 0 };
	uint16_t start = 0, coff = 0;
	bool csum = gh && (gh[0] & HDR_F_NEEDS_CSUM);
	bool fill = csum && !p->link_feats;
	struct msghdr msg = { .msg_iov = p->iov };
	unsigned k;
	int e;

	if (p->state != PEER_UP) {
		p->st.tx_down++;
		return -ENOTCONN;
	}
	if (len < 14 || len > NET_MAX_FRAME) {
		p->st.tx_bad++;
		return -EMSGSIZE;
	}
	if (csum) {
		memcpy(&start, gh + 6, 2);
		memcpy(&coff, gh + 8, 2);
		start = le16toh(start);
		coff = le16toh(coff);
		if (start >= len || coff > len - start ||
		    len - start - coff < 2) {
			p->st.tx_bad++;
			return -EINVAL;
		}
		/* Only what the link defines travels (no GSO, no
		 * num_buffers). */
		h[0] = HDR_F_NEEDS_CSUM;
		memcpy(h + 6, gh + 6, 4);
	}
	if (fill || cnt > PEER_MAX_IOV) {
		/* Copied into the one txbuf: sent now, after what the batch
		 * holds, so that frames keep their order. */
		tx_send_batch(p);
		msg.msg_iovlen = build_iov(p, p->iov, h, iov, cnt, len, true);
		if (fill)
			csum_fill(p->txbuf, len, start, coff);
		if (sendmsg(p->cfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			e = errno;
			tx_failed(p, 1, e);
			return e == ENOBUFS || e == EWOULDBLOCK ? -EAGAIN : -e;
		}
		p->st.tx_frames++;
		return 0;
	}
	if (p->tx_count == PEER_TX_BATCH)
		tx_send_batch(p);       /* the device flushes before this */
	k = p->tx_count++;
	memcpy(p->tx[k].h, h, sizeof(h));
	p->tx[k].len = len;
	p->tx_mm[k] = (struct mmsghdr){ .msg_hdr = {
		.msg_iov = p->tx[k].iov,
		.msg_iovlen = build_iov(p, p->tx[k].iov, p->tx[k].h, iov, cnt,
					len, false) } };
	return 0;
}

/* Any thread (a device reset runs on a vCPU): through an eventfd, so
 * the loop does the work and nothing outlives the backend. */
static void peer_rx_resume(struct net_backend *be)
{
	struct net_peer *p = to_peer(be);
	uint64_t one = 1;

	if (write(p->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn_ratelimited(&p->rl, "net peer: resume: %s",
				    strerror(errno));
}

/* Any thread (DRIVER_OK, reset): read per frame on the loop. */
static void peer_set_offloads(struct net_backend *be, unsigned off)
{
	__atomic_store_n(&to_peer(be)->offloads, off, __ATOMIC_RELAXED);
}

static void peer_free(struct net_backend *be)
{
	struct net_peer *p = to_peer(be);

	/* A listening socket's file is ours (see on_listen). */
	if (p->lfd >= 0)
		unlink(p->path);
	close_conn(p);
	if (p->tfd_added)
		event_loop_del(p->loop, p->tfd);
	if (p->efd_added)
		event_loop_del(p->loop, p->efd);
	if (p->tfd >= 0)
		close(p->tfd);
	if (p->efd >= 0)
		close(p->efd);
	if (p->lock_fd >= 0)
		close(p->lock_fd);
	free(p->path);
	free(p->lock_path);
	free(p);
}

static const struct net_backend_ops peer_ops = {
	.send = peer_send,
	.rx_resume = peer_rx_resume,
	.free = peer_free,
	.set_offloads = peer_set_offloads,
	.tx_flush = peer_tx_flush,
};

/* What can be told at start: a path that fits, a lock file we can make,
 * and no other kind of file where the socket goes. */
static int check_path(struct net_peer *p, char *err, size_t errlen)
{
	struct stat sb;
	size_t n = strlen(p->path);

	if (!n || n >= sizeof(p->addr.sun_path)) {
		snprintf(err, errlen, "peer %s: the path must have 1 to %zu "
			 "bytes", p->path, sizeof(p->addr.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	if (!lstat(p->path, &sb) && !S_ISSOCK(sb.st_mode)) {
		snprintf(err, errlen, "peer %s: exists and is not a socket",
			 p->path);
		return -EEXIST;
	}
	p->lock_fd = open(p->lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	if (p->lock_fd < 0) {
		int e = errno;

		snprintf(err, errlen, "peer %s: cannot create %s: %s", p->path,
			 p->lock_path, strerror(e));
		return -e;
	}
	return 0;
}

struct net_backend *net_peer_open(const struct net_backend_params *prm,
				  struct event_loop *loop,
				  char *err, size_t errlen)
{
	struct net_peer *p = xcalloc(1, sizeof(*p));
	size_t n = strlen(prm->peer ? prm->peer : "");
	int rc;

	p->be = (struct net_backend){ .ops = &peer_ops, .kind = "peer" };
	p->loop = loop;
	p->lock_fd = p->tfd = p->efd = p->lfd = p->cfd = -1;
	p->path = xstrdup(prm->peer ? prm->peer : "");
	p->lock_path = xcalloc(1, n + 6);
	snprintf(p->lock_path, n + 6, "%s.lock", p->path);
	p->mtu = prm->mtu ? prm->mtu : NET_MTU_DEFAULT;
	p->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	p->feats = prm->peerfeats & NET_PEER_FEATS_CSUM ? NET_PEER_FEATS_CSUM
							: 0;
	if (p->feats)
		p->be.caps |= NET_CAP_CSUM;
	if (!loop) {
		rc = -EINVAL;
		snprintf(err, errlen, "peer: needs an event loop");
		goto fail;
	}
	if (prm->queues > 1) {
		rc = -EINVAL;
		snprintf(err, errlen, "peer %s: one queue pair only", p->path);
		goto fail;
	}
	p->addr.sun_family = AF_UNIX;
	rc = check_path(p, err, errlen);
	if (rc)
		goto fail;
	memcpy(p->addr.sun_path, p->path, strlen(p->path));
	if (prm->peerfeats & ~(uint64_t)NET_PEER_FEATS_CSUM)
		pr_info("net peer %s: peerfeats %#llx: the GSO bits are not "
			"carried (the guest is not offered GSO)", p->path,
			(unsigned long long)prm->peerfeats);
	p->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	p->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (p->tfd < 0 || p->efd < 0) {
		rc = -errno;
		snprintf(err, errlen, "peer %s: %s", p->path, strerror(errno));
		goto fail;
	}
	rc = event_loop_add(loop, p->tfd, EPOLLIN, on_timer, p);
	p->tfd_added = !rc;
	if (!rc) {
		rc = event_loop_add(loop, p->efd, EPOLLIN, on_resume, p);
		p->efd_added = !rc;
	}
	if (rc) {
		snprintf(err, errlen, "peer %s: event loop: %s", p->path,
			 strerror(-rc));
		goto fail;
	}
	/* The first rendezvous on the loop thread, as all the others. */
	arm(p, 0);
	return &p->be;
fail:
	peer_free(&p->be);
	errno = -rc;
	return NULL;
}

void net_peer_get_stats(struct net_backend *be, struct net_peer_stats *st)
{
	*st = to_peer(be)->st;
}

unsigned net_peer_link_feats(struct net_backend *be)
{
	return to_peer(be)->link_feats;
}

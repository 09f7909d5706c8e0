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
 * The guest's link status follows the connection. The frames themselves
 * are net_peer_data.c's: sent a TX round at a time, never blocking (a
 * full socket drops them, counted, rate-limited warning); received in
 * batches, at most PEER_RX_BUDGET a round, and not while the device has
 * no room (rx() false) until rx_resume.
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

#include "backends/net_peer_priv.h"
#include "event/loop.h"

static void rendezvous(struct net_peer *p);

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
uint32_t peer_conn_events(const struct net_peer *p)
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

/* --- the connection --- */

static void close_conn(struct net_peer *p)
{
	peer_data_drop(p);
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
void peer_disconnect(struct net_peer *p, const char *why,
		     unsigned backoff_ms)
{
	bool was_up = p->state == PEER_UP;

	close_conn(p);
	p->state = PEER_IDLE;
	p->link_feats = 0;
	if (was_up) {
		log_ratelimited(LOG_INFO, "net peer %s: link down (%s)",
				p->path, why);
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
	peer_disconnect(p, why, PEER_BACKOFF_MS);
}

void peer_hello_in(struct net_peer *p, const struct net_peer_hello *h,
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
		log_ratelimited(LOG_INFO, "net peer %s: peerfeats %#x here, "
				"%#x there: the link carries %#x (checksums "
				"filled in where needed)", p->path, p->feats,
				theirs & NET_PEER_FEATS_CSUM, p->link_feats);
	if (mtu != p->mtu)
		log_ratelimited(LOG_WARN, "net peer %s: mtu %u here, %u "
				"there: the larger frames will be dropped",
				p->path, p->mtu, mtu);
	disarm(p);
	p->state = PEER_UP;
	p->st.connects++;
	event_loop_mod(p->loop, p->cfd, peer_conn_events(p));
	/* Limited, as all this: the other side may connect and go in a
	 * loop. */
	log_ratelimited(LOG_INFO, "net peer %s: link up", p->path);
	set_link(p, true);
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
	rc = event_loop_add(p->loop, fd, EPOLLIN, peer_on_conn, p);
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
		peer_disconnect(p, strerror(errno), PEER_BACKOFF_MS);
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
	if (!peer_rx_deliver(p))
		p->paused = true;
	else if (p->rx_closed)
		peer_disconnect(p, "the other side closed", 0);
	else
		event_loop_mod(p->loop, p->cfd, peer_conn_events(p));
	peer_rx_flush(p);
}

/* --- backend ops --- */

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
	p->be.caps |= NET_CAP_RX_BATCH;
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

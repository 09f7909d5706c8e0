/* `hostdev user`: user-mode networking with libslirp, as QEMU's
 * `-netdev user`: 10.0.2.0/24, gateway and host 10.0.2.2, DNS 10.0.2.3
 * (forwarded to the host's resolver), DHCP from 10.0.2.15, IPv6 on
 * fec0::/64; outgoing connections become host sockets, `hostfwd` listens
 * on the host. No root needed.
 *
 * Everything runs on the event loop thread. slirp's sockets sit in an
 * epoll set of our own, watched by the loop as one fd; its timers and its
 * poll timeout share one timerfd. Each wake-up is a "step": run the due
 * timers, poll the sockets slirp asked for (a non-blocking poll(2) on
 * the set from the last fill), let slirp handle them, fill again, and
 * bring the epoll set and the timerfd up to date.
 *
 * Flow control: when the device says it has no room, sockets are filled
 * without POLLIN (their data stays in the kernel, TCP pushes back) until
 * rx_resume.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <slirp/libslirp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "backends/net.h"
#include "backends/net_dns.h"
#include "backends/slirp_lib.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"
#include "sandbox/sandbox.h"

#define SLIRP_MAX_STEP_TIMERS	64	/* timer runs per step */
#define SLIRP_STEP_ROUNDS	32	/* socket rounds per step */

struct slirp_timer {
	struct slirp_timer *next;
	SlirpTimerId id;
	void *cb_opaque;
	int64_t expire_ms;              /* -1: not armed */
};

struct watched {
	int fd;
	uint32_t events;
};

struct net_slirp {
	struct net_backend be;
	const struct slirp_lib *lib;
	Slirp *slirp;
	struct event_loop *loop;
	int epfd, tfd;
	bool epfd_added, tfd_added;
	struct slirp_timer *timers;
	struct pollfd *pfds;            /* the last fill */
	unsigned nr_pfds, cap_pfds;
	struct watched *w;              /* in epfd */
	unsigned nr_w;
	bool paused;                    /* the loop thread's own */
	struct loop_work resume;        /* rx_resume's, on the loop */
	bool unflushed;                 /* frames given since the last flush */
	struct net_dns *dns;            /* our DNS forwarding, or NULL */
	struct ratelimit rl;
	uint64_t rx_frames, tx_frames;
};

static struct net_slirp *to_slirp(struct net_backend *be)
{
	return container_of(be, struct net_slirp, be);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void resync_call(void *opaque);

/* --- slirp callbacks --- */

static ssize_t cb_send_packet(const void *buf, size_t len, void *opaque)
{
	struct net_slirp *s = opaque;
	struct iovec iov = { (void *)buf, len };

	const struct net_backend_client *c = &s->be.client;
	bool more;

	if (!c->rx)
		return (ssize_t)len;    /* no device yet: dropped */
	s->rx_frames++;
	/* In bursts where the device batches: flush() publishes them with
	 * one used-index update and at most one interrupt per step. */
	if (c->rx_hdr && c->rx_flush) {
		more = c->rx_hdr(c->opaque, 0, NULL, &iov, 1, len);
		s->unflushed = true;
	} else {
		more = c->rx(c->opaque, &iov, 1, len);
	}
	if (!more && !s->paused) {
		s->paused = true;
		/* Refill without POLLIN on the next round. */
		event_loop_call(s->loop, resync_call, s);
	}
	return (ssize_t)len;
}

/* The end of a burst of frames for the guest. */
static void flush(struct net_slirp *s)
{
	if (s->unflushed) {
		s->unflushed = false;
		s->be.client.rx_flush(s->be.client.opaque, 0);
	}
}

static void cb_guest_error(const char *msg, void *opaque)
{
	struct net_slirp *s = opaque;

	pr_warn_ratelimited(&s->rl, "net user: guest error: %s", msg);
}

static int64_t cb_clock_get_ns(void *opaque)
{
	return now_ns();
}

static void *cb_timer_new_opaque(SlirpTimerId id, void *cb_opaque,
				 void *opaque)
{
	struct net_slirp *s = opaque;
	struct slirp_timer *t = xcalloc(1, sizeof(*t));

	t->id = id;
	t->cb_opaque = cb_opaque;
	t->expire_ms = -1;
	t->next = s->timers;
	s->timers = t;
	return t;
}

static void cb_timer_free(void *timer, void *opaque)
{
	struct net_slirp *s = opaque;

	for (struct slirp_timer **p = &s->timers; *p; p = &(*p)->next)
		if (*p == timer) {
			*p = ((struct slirp_timer *)timer)->next;
			free(timer);
			return;
		}
}

static void arm(struct net_slirp *s, uint32_t timeout_ms);

static void cb_timer_mod(void *timer, int64_t expire_ms, void *opaque)
{
	((struct slirp_timer *)timer)->expire_ms = expire_ms;
	arm(opaque, UINT32_MAX);
}

static void cb_register_poll_fd(int fd, void *opaque)
{
}

static void cb_unregister_poll_fd(int fd, void *opaque)
{
}

static void cb_notify(void *opaque)
{
	struct net_slirp *s = opaque;

	event_loop_call(s->loop, resync_call, s);
}

static const SlirpCb callbacks = {
	.send_packet = cb_send_packet,
	.guest_error = cb_guest_error,
	.clock_get_ns = cb_clock_get_ns,
	.timer_free = cb_timer_free,
	.timer_mod = cb_timer_mod,
	.register_poll_fd = cb_register_poll_fd,
	.unregister_poll_fd = cb_unregister_poll_fd,
	.notify = cb_notify,
	.timer_new_opaque = cb_timer_new_opaque,
};

/* --- polling --- */

static int add_poll(int fd, int events, void *opaque)
{
	struct net_slirp *s = opaque;
	short ev = 0;

	if (s->nr_pfds == s->cap_pfds) {
		s->cap_pfds = s->cap_pfds ? 2 * s->cap_pfds : 16;
		s->pfds = realloc(s->pfds, s->cap_pfds * sizeof(*s->pfds));
		if (!s->pfds)
			abort();
	}
	if ((events & SLIRP_POLL_IN) && !s->paused)
		ev |= POLLIN;
	if (events & SLIRP_POLL_OUT)
		ev |= POLLOUT;
	if (events & SLIRP_POLL_PRI)
		ev |= POLLPRI;
	s->pfds[s->nr_pfds] = (struct pollfd){ .fd = fd, .events = ev };
	return (int)s->nr_pfds++;
}

static int get_revents(int idx, void *opaque)
{
	struct net_slirp *s = opaque;
	short r;
	int ev = 0;

	if (idx < 0 || (unsigned)idx >= s->nr_pfds)
		return 0;
	r = s->pfds[idx].revents;
	if (r & POLLIN)
		ev |= SLIRP_POLL_IN;
	if (r & POLLOUT)
		ev |= SLIRP_POLL_OUT;
	if (r & POLLPRI)
		ev |= SLIRP_POLL_PRI;
	if (r & POLLERR)
		ev |= SLIRP_POLL_ERR;
	if (r & POLLHUP)
		ev |= SLIRP_POLL_HUP;
	return ev;
}

static uint32_t to_epoll(short ev)
{
	return (ev & POLLIN ? EPOLLIN : 0) | (ev & POLLOUT ? EPOLLOUT : 0) |
	       (ev & POLLPRI ? EPOLLPRI : 0);
}

static int by_fd(const void *a, const void *b)
{
	const struct watched *x = a, *y = b;

	return (x->fd > y->fd) - (x->fd < y->fd);
}

/* Make epfd watch exactly the fds of the last fill, both lists sorted by
 * fd so that a guest with many connections costs O(n log n), not n^2.
 * A fd number slirp closed and reused meanwhile left the set when it was
 * closed, so every fd is MODded, and a MOD that fails with ENOENT becomes
 * an ADD. */
static void sync_epoll(struct net_slirp *s)
{
	struct watched *nw = xcalloc(s->nr_pfds + 1, sizeof(*nw));
	unsigned nr = 0, o = 0, kept = 0;

	for (unsigned i = 0; i < s->nr_pfds; i++)
		nw[i] = (struct watched){ s->pfds[i].fd,
					  to_epoll(s->pfds[i].events) };
	qsort(nw, s->nr_pfds, sizeof(*nw), by_fd);
	for (unsigned i = 0; i < s->nr_pfds; i++) {
		if (nr && nw[nr - 1].fd == nw[i].fd)
			nw[nr - 1].events |= nw[i].events;
		else
			nw[nr++] = nw[i];
	}
	for (unsigned i = 0; i < nr; i++) {
		struct epoll_event ev = { .events = nw[i].events,
					  .data.fd = nw[i].fd };

		while (o < s->nr_w && s->w[o].fd < nw[i].fd)
			epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->w[o++].fd, NULL);
		if (o < s->nr_w && s->w[o].fd == nw[i].fd)
			o++;
		if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, ev.data.fd, &ev) < 0 &&
		    epoll_ctl(s->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev) < 0)
			continue;          /* gone already, or no watch left */
		nw[kept++] = nw[i];
	}
	while (o < s->nr_w)
		epoll_ctl(s->epfd, EPOLL_CTL_DEL, s->w[o++].fd, NULL);
	free(s->w);
	s->w = nw;
	s->nr_w = kept;
}

/* The timerfd: the earliest slirp timer, or the fill's timeout. */
static void arm(struct net_slirp *s, uint32_t timeout_ms)
{
	struct itimerspec its = { 0 };
	int64_t now = now_ns(), due = INT64_MAX;

	if (timeout_ms != UINT32_MAX)
		due = now + (int64_t)timeout_ms * 1000000;
	for (struct slirp_timer *t = s->timers; t; t = t->next)
		if (t->expire_ms >= 0 && t->expire_ms * 1000000 < due)
			due = t->expire_ms * 1000000;
	if (due != INT64_MAX) {
		if (due <= now)
			due = now + 1;   /* 0 would disarm */
		its.it_value.tv_sec = due / 1000000000LL;
		its.it_value.tv_nsec = due % 1000000000LL;
	}
	timerfd_settime(s->tfd, TFD_TIMER_ABSTIME, &its, NULL);
}

static void run_timers(struct net_slirp *s)
{
	for (unsigned n = 0; n < SLIRP_MAX_STEP_TIMERS; n++) {
		int64_t now_ms = now_ns() / 1000000;
		struct slirp_timer *t;

		for (t = s->timers; t; t = t->next)
			if (t->expire_ms >= 0 && t->expire_ms <= now_ms)
				break;
		if (!t)
			return;
		t->expire_ms = -1;
		s->lib->handle_timer(s->slirp, t->id, t->cb_opaque);
	}
}

/* What slirp wants watched now, into pfds; its poll timeout. */
static uint32_t fill_pfds(struct net_slirp *s)
{
	uint32_t timeout = UINT32_MAX;

	s->nr_pfds = 0;
	s->lib->pollfds_fill(s->slirp, &timeout, add_poll, s);
	return timeout;
}

static void fill(struct net_slirp *s)
{
	uint32_t timeout = fill_pfds(s);

	sync_epoll(s);
	arm(s, timeout);
}

static void step(struct net_slirp *s)
{
	uint32_t timeout = UINT32_MAX;

	run_timers(s);
	/* The first round always, even with no socket to watch: slirp runs
	 * its TCP timers (retransmission towards the guest among them)
	 * inside this call, and a connection whose lost segment only a
	 * timer can repair would stall for good. Then more rounds while
	 * sockets are ready: slirp reads one datagram per socket and round,
	 * and bringing the epoll set and the timer up to date per datagram
	 * cost more than the datagram. Each round polls what a fresh fill
	 * asked for: slirp takes a POLLOUT it did not ask for as a socket
	 * that cannot send (a zero-byte write), and closes it. */
	for (unsigned round = 0; round < SLIRP_STEP_ROUNDS; round++) {
		int rc = s->nr_pfds ? poll(s->pfds, s->nr_pfds, 0) : 0;

		if (round && (rc <= 0 || s->paused))
			break;
		s->lib->pollfds_poll(s->slirp, rc < 0, get_revents, s);
		timeout = fill_pfds(s);
	}
	flush(s);
	sync_epoll(s);
	arm(s, timeout);
}

static void resync_call(void *opaque)
{
	fill(opaque);
}

static void on_sockets(void *opaque, uint32_t events)
{
	step(opaque);
}

static void on_timer(void *opaque, uint32_t events)
{
	struct net_slirp *s = opaque;
	uint64_t v;

	if (read(s->tfd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn_ratelimited(&s->rl, "net user: timerfd: %s",
				    strerror(errno));
	step(s);
}

/* --- backend ops --- */

static int slirp_send(struct net_backend *be, const void *hdr,
		      const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_slirp *s = to_slirp(be);
	static uint8_t buf[NET_MAX_FRAME];
	size_t off = 0;

	if (len > sizeof(buf))
		return -EMSGSIZE;
	for (unsigned i = 0; i < cnt && off < len; i++) {
		size_t n = MIN(iov[i].iov_len, len - off);

		memcpy(buf + off, iov[i].iov_base, n);
		off += n;
	}
	s->tx_frames++;
	if (s->dns && net_dns_intercept(s->dns, buf, off))
		return 0;
	s->lib->input(s->slirp, buf, (int)off);
	flush(s);    /* slirp's answers (ARP, ICMP, DHCP) */
	/* It may have opened sockets or armed timers: watch them. */
	event_loop_call(s->loop, resync_call, s);
	return 0;
}

/* On the loop, after the round that paused: a resume from a vCPU (a
 * driver reset) could land between the device refusing a frame and
 * cb_send_packet pausing, and was lost; it cannot be refused either. */
static void resume_work(void *opaque)
{
	struct net_slirp *s = opaque;

	s->paused = false;
	fill(s);
}

static void slirp_rx_resume(struct net_backend *be)
{
	struct net_slirp *s = to_slirp(be);

	event_loop_post(s->loop, &s->resume);
}

static void slirp_free(struct net_backend *be)
{
	struct net_slirp *s = to_slirp(be);

	if (s->epfd_added)
		event_loop_del(s->loop, s->epfd);
	if (s->tfd_added)
		event_loop_del(s->loop, s->tfd);
	net_dns_free(s->dns);
	if (s->slirp)
		s->lib->cleanup(s->slirp);
	while (s->timers)
		cb_timer_free(s->timers, s);
	if (s->epfd >= 0)
		close(s->epfd);
	if (s->tfd >= 0)
		close(s->tfd);
	free(s->pfds);
	free(s->w);
	free(s);
}

static const struct net_backend_ops slirp_ops = {
	.send = slirp_send,
	.rx_resume = slirp_rx_resume,
	.free = slirp_free,
};

static void addr4(struct in_addr *a, const char *s)
{
	inet_pton(AF_INET, s, a);
}

static void addr6(struct in6_addr *a, const char *s)
{
	inet_pton(AF_INET6, s, a);
}

static void deliver_dns(void *opaque, const void *frame, size_t len)
{
	cb_send_packet(frame, len, opaque);
	flush(opaque);
}

/* DNS forwarding of our own; without a nameserver queries go unanswered,
 * as they would with slirp's. */
static void start_dns(struct net_slirp *s, unsigned mtu)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int rc = net_dns_host_resolver(&ss, &len);

	if (rc) {
		pr_warn("net user: no nameserver in /etc/resolv.conf (%s): "
			"DNS queries to 10.0.2.3 go unanswered",
			strerror(-rc));
		return;
	}
	s->dns = net_dns_new(s->loop, (struct sockaddr *)&ss, len, mtu,
			     deliver_dns, s);
	if (!s->dns)
		pr_warn("net user: DNS forwarding: %s: DNS queries to "
			"10.0.2.3 go unanswered", strerror(errno));
}

static int add_fwds(struct net_slirp *s, const struct net_backend_params *p,
		    char *err, size_t errlen)
{
	for (unsigned i = 0; i < p->nr_fwd; i++) {
		const struct net_hostfwd *f = &p->fwd[i];
		struct in_addr h = { f->host_addr }, g = { f->guest_addr };
		char hs[INET_ADDRSTRLEN];

		if (!g.s_addr)
			addr4(&g, "10.0.2.15");
		if (s->lib->add_hostfwd(s->slirp, f->udp, h, f->host_port, g,
				      f->guest_port) < 0) {
			inet_ntop(AF_INET, &h, hs, sizeof(hs));
			snprintf(err, errlen, "hostfwd %s:%s:%u: cannot listen "
				 "(port in use?)", f->udp ? "udp" : "tcp", hs,
				 f->host_port);
			return -EADDRINUSE;
		}
	}
	return 0;
}

struct net_backend *net_slirp_open(const struct net_backend_params *p,
				   struct event_loop *loop,
				   char *err, size_t errlen)
{
	struct net_slirp *s = xcalloc(1, sizeof(*s));
	SlirpConfig c = { .version = 4 };
	int rc;

	s->be = (struct net_backend){ .ops = &slirp_ops, .kind = "user",
				      .caps = NET_CAP_RX_BATCH,
				      .link_up = true };
	s->loop = loop;
	s->tfd = s->epfd = -1;
	if (!loop) {
		rc = -EINVAL;
		snprintf(err, errlen, "user: needs an event loop");
		goto fail;
	}
	s->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	s->resume = (struct loop_work){ .fn = resume_work, .opaque = s };
	s->lib = slirp_lib(err, errlen);
	if (!s->lib) {
		rc = -ENOENT;
		goto fail;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	s->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (s->epfd < 0 || s->tfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "user: %s", strerror(errno));
		goto fail;
	}
	c.in_enabled = true;
	addr4(&c.vnetwork, "10.0.2.0");
	addr4(&c.vnetmask, "255.255.255.0");
	addr4(&c.vhost, "10.0.2.2");
	addr4(&c.vdhcp_start, "10.0.2.15");
	addr4(&c.vnameserver, "10.0.2.3");
	c.in6_enabled = true;
	addr6(&c.vprefix_addr6, "fec0::");
	c.vprefix_len = 64;
	addr6(&c.vhost6, "fec0::2");
	addr6(&c.vnameserver6, "fec0::3");
	c.vhostname = p->hostname;
	/* slirp re-reads /etc/resolv.conf (stat, open) on the event loop
	 * thread for each DNS query, which its seccomp filter refuses (it
	 * would kill cvisor): under `--seccomp on` we forward DNS ourselves
	 * (net_dns.c). */
	c.disable_dns = sandbox_mode() == SANDBOX_ON;
	if (c.disable_dns)
		start_dns(s, p->mtu);
	c.if_mtu = c.if_mru = p->mtu ? p->mtu : NET_MTU_DEFAULT;
	s->slirp = s->lib->new(&c, &callbacks, s);
	if (!s->slirp) {
		rc = -ENOMEM;
		snprintf(err, errlen, "user: libslirp would not start");
		goto fail;
	}
	rc = add_fwds(s, p, err, errlen);
	if (rc)
		goto fail;
	rc = event_loop_add(loop, s->epfd, EPOLLIN, on_sockets, s);
	s->epfd_added = !rc;
	if (!rc) {
		rc = event_loop_add(loop, s->tfd, EPOLLIN, on_timer, s);
		s->tfd_added = !rc;
	}
	if (rc) {
		snprintf(err, errlen, "user: event loop: %s", strerror(-rc));
		goto fail;
	}
	fill(s);
	return &s->be;
fail:
	slirp_free(&s->be);
	errno = -rc;
	return NULL;
}

/* DNS forwarding for `hostdev user` under `--seccomp on` (net_dns.h).
 *
 * The guest's query is a UDP packet to 10.0.2.3:53 (or [fec0::3]:53).
 * Its DNS message goes to the host's resolver over one connected,
 * non-blocking UDP socket, with the message ID replaced by a random one
 * of ours (so that two guest queries with the same ID, or a forged
 * answer, cannot be confused); the answer gets the guest's ID back and
 * travels to the guest in a frame built here, from the address the
 * guest asked. Everything the guest sent is checked before use: a bad
 * packet is dropped and counted, never forwarded.
 *
 * Queries over TCP are not forwarded (slirp's DNS is disabled in this
 * mode): an answer too large for the MTU is cut to its question with
 * TC set, as a DNS server does, and the guest may retry over TCP, which
 * fails. That is the same limit as slirp's own forwarding by UDP.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include "backends/net.h"
#include "backends/net_dns.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"

#define ETH_HLEN	14
#define IP4_HLEN	20
#define IP6_HLEN	40
#define UDP_HLEN	8
#define DNS_HLEN	12
#define HDR_ROOM	(ETH_HLEN + IP6_HLEN + UDP_HLEN)
#define DNS_MAX_MSG	65535
#define RECV_BUDGET	64      /* answers per wake-up */

static const uint8_t vdns4[4] = { 10, 0, 2, 3 };
static const uint8_t vdns6[16] = { 0xfe, 0xc0, [15] = 3 };

struct dns_query {
	bool used, v6;
	uint16_t our_id, guest_id, guest_port;
	uint8_t guest_mac[6], our_mac[6];
	uint8_t guest_ip[16], our_ip[16];
	uint64_t age;
};

struct net_dns {
	struct event_loop *loop;
	int fd;
	bool added;
	unsigned mtu;
	net_dns_deliver_fn *deliver;
	void *opaque;
	uint64_t rng, clock;
	uint16_t ip_id;
	struct dns_query q[NET_DNS_PENDING];
	struct net_dns_stats st;
	struct ratelimit rl;
	uint8_t pkt[HDR_ROOM + DNS_MAX_MSG];
};

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* One's complement sum of big-endian 16-bit words. */
static uint32_t sum16(const uint8_t *p, size_t n, uint32_t s)
{
	for (; n > 1; p += 2, n -= 2)
		s += get16(p);
	if (n)
		s += (uint32_t)p[0] << 8;
	return s;
}

static uint16_t fold(uint32_t s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

/* --- the host's resolver ------------------------------------------------ */

static int parse_nameserver(const char *a, struct sockaddr_storage *ss,
			    socklen_t *len)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, a, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(53);
		*len = sizeof(*s4);
		return 0;
	}
	/* A scoped link-local address (%eth0) is skipped: rare, and the
	 * scope would need an interface lookup. */
	if (inet_pton(AF_INET6, a, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(53);
		*len = sizeof(*s6);
		return 0;
	}
	return -EINVAL;
}

static int read_resolv_conf(struct sockaddr_storage *ss, socklen_t *len)
{
	FILE *f = fopen("/etc/resolv.conf", "re");
	char line[256], addr[128];
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (rc && fgets(line, sizeof(line), f))
		if (sscanf(line, " nameserver %127s", addr) == 1 &&
		    !parse_nameserver(addr, ss, len))
			rc = 0;
	fclose(f);
	return rc;
}

int net_dns_host_resolver(struct sockaddr_storage *ss, socklen_t *len)
{
	static struct sockaddr_storage cached;
	static socklen_t cached_len;
	static int cached_rc = 1;       /* 1: not read yet */

	if (cached_rc == 1)
		cached_rc = read_resolv_conf(&cached, &cached_len);
	if (!cached_rc) {
		*ss = cached;
		*len = cached_len;
	}
	return cached_rc;
}

/* --- queries from the guest -------------------------------------------- */

static uint16_t next_rand(struct net_dns *d)
{
	/* xorshift64: unpredictable enough from off-path, which is all an
	 * ID can be; the socket is connected, so only the resolver's
	 * address can answer at all. */
	d->rng ^= d->rng << 13;
	d->rng ^= d->rng >> 7;
	d->rng ^= d->rng << 17;
	return (uint16_t)(d->rng >> 24);
}

static struct dns_query *find(struct net_dns *d, uint16_t id)
{
	for (unsigned i = 0; i < NET_DNS_PENDING; i++)
		if (d->q[i].used && d->q[i].our_id == id)
			return &d->q[i];
	return NULL;
}

/* A free slot, or the oldest one. */
static struct dns_query *slot(struct net_dns *d)
{
	struct dns_query *best = &d->q[0];

	for (unsigned i = 0; i < NET_DNS_PENDING; i++) {
		if (!d->q[i].used)
			return &d->q[i];
		if (d->q[i].age < best->age)
			best = &d->q[i];
	}
	return best;
}

/* The UDP packet inside a guest frame, when it is addressed to the
 * virtual DNS server's port 53: *udp and *ulen (header included), the
 * guest's and the server's addresses into q. 1 when it is such a
 * packet and well formed, 0 when it is not for us, -1 when it is for us
 * but malformed. */
static int parse_v4(const uint8_t *f, size_t len, struct dns_query *q,
		    const uint8_t **udp, size_t *ulen)
{
	const uint8_t *ip = f + ETH_HLEN;
	size_t ihl, tot;

	if (len < ETH_HLEN + IP4_HLEN + UDP_HLEN || (ip[0] >> 4) != 4 ||
	    ip[9] != 17 || memcmp(ip + 16, vdns4, 4))
		return 0;
	ihl = (size_t)(ip[0] & 15) * 4;
	tot = get16(ip + 2);
	if (ihl < IP4_HLEN || tot > len - ETH_HLEN || tot < ihl + UDP_HLEN)
		return -1;
	if (get16(ip + ihl + 2) != 53)
		return 0;
	if (get16(ip + 6) & 0x3fff)     /* MF or an offset: a fragment */
		return -1;
	memcpy(q->guest_ip, ip + 12, 4);
	memcpy(q->our_ip, ip + 16, 4);
	q->v6 = false;
	*udp = ip + ihl;
	*ulen = tot - ihl;
	return 1;
}

static int parse_v6(const uint8_t *f, size_t len, struct dns_query *q,
		    const uint8_t **udp, size_t *ulen)
{
	const uint8_t *ip = f + ETH_HLEN;
	size_t plen;

	/* Extension headers are not followed: such a query goes to slirp,
	 * which drops it. */
	if (len < ETH_HLEN + IP6_HLEN + UDP_HLEN || (ip[0] >> 4) != 6 ||
	    ip[6] != 17 || memcmp(ip + 24, vdns6, 16))
		return 0;
	if (get16(ip + IP6_HLEN + 2) != 53)
		return 0;
	plen = get16(ip + 4);
	if (plen > len - ETH_HLEN - IP6_HLEN || plen < UDP_HLEN)
		return -1;
	memcpy(q->guest_ip, ip + 8, 16);
	memcpy(q->our_ip, ip + 24, 16);
	q->v6 = true;
	*udp = ip + IP6_HLEN;
	*ulen = plen;
	return 1;
}

static void drop(struct net_dns *d, const char *why)
{
	d->st.dropped++;
	pr_warn_ratelimited(&d->rl, "net user: DNS query dropped: %s", why);
}

static void forward(struct net_dns *d, const struct dns_query *nq,
		    const uint8_t *msg, size_t mlen)
{
	struct dns_query *q;
	uint8_t *out = d->pkt + HDR_ROOM;
	uint16_t id;

	do
		id = next_rand(d);
	while (find(d, id));
	memcpy(out, msg, mlen);
	put16(out, id);
	if (send(d->fd, out, mlen, MSG_DONTWAIT) < 0) {
		drop(d, strerror(errno));
		return;
	}
	q = slot(d);
	*q = *nq;
	q->used = true;
	q->our_id = id;
	q->guest_id = get16(msg);
	q->age = ++d->clock;
	d->st.forwarded++;
}

bool net_dns_intercept(struct net_dns *d, const uint8_t *f, size_t len)
{
	struct dns_query q = { 0 };
	const uint8_t *udp = NULL;
	size_t ulen = 0, dlen;
	uint16_t type;
	int rc;

	if (len < ETH_HLEN)
		return false;
	type = get16(f + 12);
	if (type == 0x0800)
		rc = parse_v4(f, len, &q, &udp, &ulen);
	else if (type == 0x86dd)
		rc = parse_v6(f, len, &q, &udp, &ulen);
	else
		return false;
	if (rc == 0)
		return false;
	if (rc < 0) {
		drop(d, "malformed IP header");
		return true;
	}
	dlen = get16(udp + 4);
	if (dlen < UDP_HLEN + DNS_HLEN || dlen > ulen) {
		drop(d, "bad UDP length");
		return true;
	}
	if (f[0] & 1) {
		drop(d, "sent to a multicast MAC address");
		return true;
	}
	memcpy(q.guest_mac, f + 6, 6);
	memcpy(q.our_mac, f, 6);
	q.guest_port = get16(udp);
	forward(d, &q, udp + UDP_HLEN, dlen - UDP_HLEN);
	return true;
}

/* --- answers ------------------------------------------------------------ */

/* The offset after the name at off, or 0 if it runs out. */
static size_t skip_name(const uint8_t *m, size_t len, size_t off)
{
	for (unsigned labels = 0; labels < 128 && off < len; labels++) {
		uint8_t l = m[off];

		if ((l & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		if (l & 0xc0)
			return 0;
		off += 1u + l;
		if (!l)
			return off;
	}
	return 0;
}

/* The end of the question section, or 0 if it does not parse. */
static size_t question_end(const uint8_t *m, size_t len)
{
	size_t off = DNS_HLEN;

	for (unsigned i = 0; i < get16(m + 4); i++) {
		off = skip_name(m, len, off);
		if (!off || off + 4 > len)
			return 0;
		off += 4;
	}
	return off;
}

/* An answer too large for one packet: its question, TC set. */
static size_t truncate_answer(uint8_t *m, size_t len, size_t max)
{
	size_t q = question_end(m, len);

	if (!q || q > max)
		return 0;
	m[2] |= 0x02;                   /* TC */
	memset(m + 6, 0, 6);            /* no answer, authority, additional */
	return q;
}

/* Ethernet, IP and UDP headers in front of the n-byte message at
 * d->pkt + HDR_ROOM; returns the frame's start. */
static uint8_t *build_v4(struct net_dns *d, const struct dns_query *q,
			 size_t n)
{
	uint8_t *udp = d->pkt + HDR_ROOM - UDP_HLEN;
	uint8_t *ip = udp - IP4_HLEN, *eth = ip - ETH_HLEN;
	uint32_t s;

	memcpy(eth, q->guest_mac, 6);
	memcpy(eth + 6, q->our_mac, 6);
	put16(eth + 12, 0x0800);
	memset(ip, 0, IP4_HLEN);
	ip[0] = 0x45;
	put16(ip + 2, (uint16_t)(IP4_HLEN + UDP_HLEN + n));
	put16(ip + 4, d->ip_id++);
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, q->our_ip, 4);
	memcpy(ip + 16, q->guest_ip, 4);
	put16(ip + 10, fold(sum16(ip, IP4_HLEN, 0)));
	put16(udp, 53);
	put16(udp + 2, q->guest_port);
	put16(udp + 4, (uint16_t)(UDP_HLEN + n));
	put16(udp + 6, 0);
	s = sum16(ip + 12, 8, 17 + UDP_HLEN + (uint32_t)n);
	s = fold(sum16(udp, UDP_HLEN + n, s));
	put16(udp + 6, s ? (uint16_t)s : 0xffff);
	return eth;
}

static uint8_t *build_v6(struct net_dns *d, const struct dns_query *q,
			 size_t n)
{
	uint8_t *udp = d->pkt + HDR_ROOM - UDP_HLEN;
	uint8_t *ip = udp - IP6_HLEN, *eth = ip - ETH_HLEN;
	uint32_t s;

	memcpy(eth, q->guest_mac, 6);
	memcpy(eth + 6, q->our_mac, 6);
	put16(eth + 12, 0x86dd);
	memset(ip, 0, IP6_HLEN);
	ip[0] = 0x60;
	put16(ip + 4, (uint16_t)(UDP_HLEN + n));
	ip[6] = 17;
	ip[7] = 64;
	memcpy(ip + 8, q->our_ip, 16);
	memcpy(ip + 24, q->guest_ip, 16);
	put16(udp, 53);
	put16(udp + 2, q->guest_port);
	put16(udp + 4, (uint16_t)(UDP_HLEN + n));
	put16(udp + 6, 0);
	s = sum16(ip + 8, 32, 17 + UDP_HLEN + (uint32_t)n);
	s = fold(sum16(udp, UDP_HLEN + n, s));
	put16(udp + 6, s ? (uint16_t)s : 0xffff);
	return eth;
}

static void answer(struct net_dns *d, size_t n)
{
	uint8_t *m = d->pkt + HDR_ROOM, *frame;
	struct dns_query *q;
	size_t max;

	if (n < DNS_HLEN || !(m[2] & 0x80) || !(q = find(d, get16(m)))) {
		d->st.stray++;
		return;
	}
	max = d->mtu - (q->v6 ? IP6_HLEN : IP4_HLEN) - UDP_HLEN;
	if (n > max) {
		n = truncate_answer(m, n, max);
		if (!n) {
			q->used = false;
			drop(d, "answer too large to truncate");
			return;
		}
		d->st.truncated++;
	}
	put16(m, q->guest_id);
	frame = q->v6 ? build_v6(d, q, n) : build_v4(d, q, n);
	q->used = false;
	d->st.answered++;
	d->deliver(d->opaque, frame,
		   (size_t)(m + n - frame));
}

void net_dns_poll(struct net_dns *d)
{
	for (unsigned i = 0; i < RECV_BUDGET; i++) {
		ssize_t n = recv(d->fd, d->pkt + HDR_ROOM, DNS_MAX_MSG,
				 MSG_DONTWAIT);

		if (n < 0) {
			/* ECONNREFUSED: no resolver listens (an ICMP port
			 * unreachable); the guest times out as it would. */
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED)
				pr_warn_ratelimited(&d->rl, "net user: DNS "
						    "socket: %s",
						    strerror(errno));
			if (errno != EINTR && errno != ECONNREFUSED)
				return;
			continue;
		}
		answer(d, (size_t)n);
	}
	/* More waiting: the loop calls again (level-triggered). */
}

static void on_readable(void *opaque, uint32_t events)
{
	net_dns_poll(opaque);
}

struct net_dns *net_dns_new(struct event_loop *loop,
			    const struct sockaddr *resolver, socklen_t len,
			    unsigned mtu, net_dns_deliver_fn *deliver,
			    void *opaque)
{
	struct net_dns *d = xcalloc(1, sizeof(*d));
	struct timespec ts;
	int rc;

	d->loop = loop;
	d->mtu = MAX(mtu ? mtu : NET_MTU_DEFAULT, NET_MTU_MIN);
	d->deliver = deliver;
	d->opaque = opaque;
	d->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	d->rng = ((uint64_t)ts.tv_nsec << 20 ^ (uint64_t)ts.tv_sec ^
		  (uintptr_t)d) | 1;
	d->fd = socket(resolver->sa_family,
		       SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (d->fd < 0 || connect(d->fd, resolver, len) < 0)
		goto fail;
	rc = event_loop_add(loop, d->fd, EPOLLIN, on_readable, d);
	if (rc) {
		errno = -rc;
		goto fail;
	}
	d->added = true;
	return d;
fail:
	rc = errno;
	net_dns_free(d);
	errno = rc;
	return NULL;
}

void net_dns_get_stats(const struct net_dns *d, struct net_dns_stats *st)
{
	*st = d->st;
}

void net_dns_free(struct net_dns *d)
{
	if (!d)
		return;
	if (d->added)
		event_loop_del(d->loop, d->fd);
	if (d->fd >= 0)
		close(d->fd);
	free(d);
}

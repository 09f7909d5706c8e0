/* The user-mode backend (libslirp) on a real event loop, with frames
 * crafted here: DHCP DISCOVER/REQUEST get an OFFER and an ACK for
 * 10.0.2.15 (router 10.0.2.2, DNS 10.0.2.3), ARP for the gateway is
 * answered, and so is an ICMP echo to it. No root, no network: slirp
 * answers all of these itself. UDP to a socket of ours on the host's
 * loopback and back, with flow control; a TCP hostfwd. Also the option parsers and a hostfwd on
 * a port that is taken. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "backends/net.h"
#include "event/loop.h"

static const uint8_t gmac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct frame {
	uint8_t b[2048];
	size_t len;
};

struct sfix {
	struct event_loop *loop;
	struct net_backend *be;
	struct frame got[32];
	unsigned nr;
	bool room;
	bool resume_in_refusal;         /* a vCPU's reset in that window */
};

static bool on_rx(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len)
{
	struct sfix *f = opaque;
	struct frame *fr = &f->got[f->nr % 32];
	size_t off = 0;

	for (unsigned i = 0; i < cnt; i++) {
		size_t n = iov[i].iov_len;

		if (off + n > sizeof(fr->b))
			n = sizeof(fr->b) - off;
		memcpy(fr->b + off, iov[i].iov_base, n);
		off += n;
	}
	fr->len = off;
	f->nr++;
	if (!f->room && f->resume_in_refusal) {
		f->resume_in_refusal = false;
		f->room = true;
		net_backend_rx_resume(f->be);
		return false;
	}
	return f->room;
}

static void on_link(void *opaque, bool up)
{
}

static int setup(void **state)
{
	struct sfix *f = calloc(1, sizeof(*f));
	struct net_backend_params p = { .spec = "user", .mtu = 1500,
					.hostname = "test" };
	struct net_backend_client c = { .rx = on_rx, .link = on_link,
					.opaque = f };
	char err[256] = "";

	f->loop = event_loop_new();
	f->room = true;
	f->be = net_backend_open(&p, f->loop, err, sizeof(err));
	if (!f->be)
		fail_msg("open: %s", err);
	assert_string_equal(f->be->kind, "user");
	assert_true(f->be->link_up);
	/* slirp cannot fill in checksums the guest left out */
	assert_false(f->be->caps & NET_CAP_CSUM);
	net_backend_set_client(f->be, &c);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct sfix *f = *state;

	net_backend_close(f->be);
	event_loop_free(f->loop);
	free(f);
	return 0;
}

static uint16_t csum(const void *p, size_t len)
{
	const uint8_t *b = p;
	uint32_t s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		s += (uint32_t)b[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static size_t eth(uint8_t *b, const uint8_t *dst, uint16_t type)
{
	memcpy(b, dst, 6);
	memcpy(b + 6, gmac, 6);
	b[12] = (uint8_t)(type >> 8);
	b[13] = (uint8_t)type;
	return 14;
}

/* IPv4 header at b (20 bytes) for a payload of len. */
static void ip4(uint8_t *b, uint8_t proto, const char *src, const char *dst,
		size_t len)
{
	uint16_t c, tot = htons((uint16_t)(20 + len));

	memset(b, 0, 20);
	b[0] = 0x45;
	memcpy(b + 2, &tot, 2);
	b[8] = 64;
	b[9] = proto;
	inet_pton(AF_INET, src, b + 12);
	inet_pton(AF_INET, dst, b + 16);
	c = htons(csum(b, 20));
	memcpy(b + 10, &c, 2);
}

static void send_frame(struct sfix *f, uint8_t *b, size_t len)
{
	struct iovec iov[2] = { { b, 10 }, { b + 10, len - 10 } };

	assert_int_equal(net_backend_send(f->be, NULL, iov, 2, len), 0);
}

/* Run the loop until a frame of ethertype type arrives (hang guard:
 * 10 s); returns it. */
static struct frame *wait_frame(struct sfix *f, unsigned from, uint16_t type)
{
	for (int i = 0; i < 1000; i++) {
		for (unsigned k = from; k < f->nr; k++) {
			struct frame *fr = &f->got[k % 32];

			if (fr->len >= 14 &&
			    (fr->b[12] << 8 | fr->b[13]) == type)
				return fr;
		}
		event_loop_poll(f->loop, 10);
	}
	fail_msg("no frame of type %#x", type);
	return NULL;
}

#define BOOTP_LEN	300

static size_t dhcp(uint8_t *b, uint8_t type)
{
	size_t o = eth(b, bcast, 0x0800);
	uint8_t *ip = b + o, *udp = ip + 20, *bp = udp + 8, *opt;
	uint16_t v;

	memset(bp, 0, BOOTP_LEN);
	bp[0] = 1;              /* BOOTREQUEST */
	bp[1] = 1;              /* Ethernet */
	bp[2] = 6;
	memcpy(bp + 4, "\x12\x34\x56\x78", 4);   /* xid */
	memcpy(bp + 28, gmac, 6);                 /* chaddr */
	memcpy(bp + 236, "\x63\x82\x53\x63", 4); /* magic cookie */
	opt = bp + 240;
	*opt++ = 53;
	*opt++ = 1;
	*opt++ = type;
	if (type == 3) {        /* REQUEST: the offered address, the server */
		*opt++ = 50;
		*opt++ = 4;
		inet_pton(AF_INET, "10.0.2.15", opt);
		opt += 4;
		*opt++ = 54;
		*opt++ = 4;
		inet_pton(AF_INET, "10.0.2.2", opt);
		opt += 4;
	}
	*opt = 255;
	v = htons(68);
	memcpy(udp, &v, 2);
	v = htons(67);
	memcpy(udp + 2, &v, 2);
	v = htons(8 + BOOTP_LEN);
	memcpy(udp + 4, &v, 2);
	memset(udp + 6, 0, 2);  /* no UDP checksum (IPv4 allows it) */
	ip4(ip, 17, "0.0.0.0", "255.255.255.255", 8 + BOOTP_LEN);
	return o + 20 + 8 + BOOTP_LEN;
}

/* The value of DHCP option code in a reply frame, or NULL. */
static const uint8_t *dhcp_opt(const struct frame *fr, uint8_t code)
{
	const uint8_t *bp = fr->b + 14 + 20 + 8, *p = bp + 240;
	const uint8_t *end = fr->b + fr->len;

	assert_memory_equal(bp + 236, "\x63\x82\x53\x63", 4);
	while (p + 2 <= end && *p != 255) {
		if (*p == 0) {
			p++;
			continue;
		}
		if (p[0] == code && p + 2 + p[1] <= end)
			return p + 2;
		p += 2 + p[1];
	}
	return NULL;
}

static void assert_ip(const uint8_t *p, const char *want)
{
	char s[INET_ADDRSTRLEN];

	assert_non_null(p);
	inet_ntop(AF_INET, p, s, sizeof(s));
	assert_string_equal(s, want);
}

static void test_dhcp(void **state)
{
	struct sfix *f = *state;
	static uint8_t b[1024];
	struct frame *fr;
	unsigned from;
	const uint8_t *bp;

	from = f->nr;
	send_frame(f, b, dhcp(b, 1));
	fr = wait_frame(f, from, 0x0800);
	bp = fr->b + 14 + 20 + 8;
	assert_int_equal(fr->b[14 + 9], 17);            /* UDP */
	assert_int_equal(bp[0], 2);                     /* BOOTREPLY */
	assert_memory_equal(bp + 4, "\x12\x34\x56\x78", 4);
	assert_ip(bp + 16, "10.0.2.15");                /* yiaddr */
	assert_int_equal(dhcp_opt(fr, 53)[0], 2);       /* OFFER */
	assert_ip(dhcp_opt(fr, 54), "10.0.2.2");

	from = f->nr;
	send_frame(f, b, dhcp(b, 3));
	fr = wait_frame(f, from, 0x0800);
	bp = fr->b + 14 + 20 + 8;
	assert_int_equal(dhcp_opt(fr, 53)[0], 5);       /* ACK */
	assert_ip(bp + 16, "10.0.2.15");
	assert_ip(dhcp_opt(fr, 3), "10.0.2.2");         /* router */
	assert_ip(dhcp_opt(fr, 6), "10.0.2.3");         /* DNS */
	assert_ip(dhcp_opt(fr, 1), "255.255.255.0");
	/* to our MAC, or broadcast (slirp answers a client with no
	 * address yet so), and chaddr is ours */
	assert_true(!memcmp(fr->b, gmac, 6) || !memcmp(fr->b, bcast, 6));
	assert_memory_equal(bp + 28, gmac, 6);
}

static size_t arp_request(uint8_t *b, const char *target)
{
	size_t o = eth(b, bcast, 0x0806);
	uint8_t *a = b + o;

	memcpy(a, "\x00\x01\x08\x00\x06\x04\x00\x01", 8);
	memcpy(a + 8, gmac, 6);
	inet_pton(AF_INET, "10.0.2.15", a + 14);
	memset(a + 18, 0, 6);
	inet_pton(AF_INET, target, a + 24);
	memset(a + 28, 0, 14);   /* pad to the 60-byte minimum */
	return o + 28 + 18;
}

static void test_arp_and_ping(void **state)
{
	struct sfix *f = *state;
	static uint8_t b[1024];
	uint8_t gw[6], *ip, *icmp;
	struct frame *fr;
	unsigned from = f->nr;
	size_t o;
	uint16_t c;

	send_frame(f, b, arp_request(b, "10.0.2.2"));
	fr = wait_frame(f, from, 0x0806);
	assert_int_equal(fr->b[14 + 7], 2);             /* reply */
	assert_ip(fr->b + 14 + 14, "10.0.2.2");         /* sender IP */
	memcpy(gw, fr->b + 14 + 8, 6);                  /* sender MAC */
	assert_memory_equal(fr->b, gmac, 6);

	/* echo request 10.0.2.15 -> 10.0.2.2, 56 bytes of payload */
	from = f->nr;
	o = eth(b, gw, 0x0800);
	ip = b + o;
	icmp = ip + 20;
	memset(icmp, 0, 64);
	icmp[0] = 8;
	memcpy(icmp + 4, "\x00\x2a\x00\x01", 4);        /* id 42, seq 1 */
	for (int i = 8; i < 64; i++)
		icmp[i] = (uint8_t)i;
	c = htons(csum(icmp, 64));
	memcpy(icmp + 2, &c, 2);
	ip4(ip, 1, "10.0.2.15", "10.0.2.2", 64);
	send_frame(f, b, o + 20 + 64);
	fr = wait_frame(f, from, 0x0800);
	ip = fr->b + 14;
	icmp = ip + 20;
	assert_int_equal(ip[9], 1);
	assert_ip(ip + 12, "10.0.2.2");
	assert_ip(ip + 16, "10.0.2.15");
	assert_int_equal(icmp[0], 0);                   /* echo reply */
	assert_memory_equal(icmp + 4, "\x00\x2a\x00\x01", 4);
	for (int i = 8; i < 64; i++)
		assert_int_equal(icmp[i], i);
	assert_int_equal(csum(icmp, 64), 0);
}

/* UDP from the guest to 10.0.2.2:port reaches a socket of ours on the
 * host's loopback; our answer comes back as a frame through the slirp
 * socket, driven by the event loop. While the device says it has no room
 * the answer stays in the host socket, and comes once it resumes. */
static size_t udp_frame(uint8_t *b, const uint8_t *dst_mac, uint16_t port,
			const char *payload)
{
	size_t o = eth(b, dst_mac, 0x0800), n = strlen(payload);
	uint8_t *ip = b + o, *udp = ip + 20;
	uint16_t v;

	v = htons(40000);
	memcpy(udp, &v, 2);
	v = htons(port);
	memcpy(udp + 2, &v, 2);
	v = htons((uint16_t)(8 + n));
	memcpy(udp + 4, &v, 2);
	memset(udp + 6, 0, 2);
	memcpy(udp + 8, payload, n);
	ip4(ip, 17, "10.0.2.15", "10.0.2.2", 8 + n);
	return o + 20 + 8 + n;
}

static unsigned udp_frames(struct sfix *f, unsigned from)
{
	unsigned n = 0;

	for (unsigned k = from; k < f->nr; k++)
		n += f->got[k % 32].b[12] == 0x08 &&
		     f->got[k % 32].b[13] == 0x00 &&
		     f->got[k % 32].b[14 + 9] == 17;
	return n;
}

/* A socket of ours on the host's loopback that the guest has sent
 * "ping" to through slirp; *to is slirp's side, for answers. */
static int udp_pinged(struct sfix *f, uint8_t *b, uint8_t gw[6],
		      struct sockaddr_in *to)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	uint8_t buf[64];
	struct frame *fr;
	unsigned from = f->nr;
	ssize_t n = -1;
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	send_frame(f, b, arp_request(b, "10.0.2.2"));
	fr = wait_frame(f, from, 0x0806);
	memcpy(gw, fr->b + 14 + 8, 6);

	send_frame(f, b, udp_frame(b, gw, ntohs(a.sin_port), "ping"));
	for (int i = 0; i < 1000 && n < 0; i++) {
		alen = sizeof(*to);
		n = recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)to,
			     &alen);
		if (n < 0)
			event_loop_poll(f->loop, 10);
	}
	assert_int_equal(n, 4);
	assert_memory_equal(buf, "ping", 4);
	return s;
}

/* The answer "pong" to the guest's ping: a UDP frame from 10.0.2.2. */
static void assert_pong(struct sfix *f, unsigned from)
{
	struct frame *fr = wait_frame(f, from, 0x0800);

	assert_int_equal(fr->b[14 + 9], 17);
	assert_ip(fr->b + 14 + 12, "10.0.2.2");
	assert_ip(fr->b + 14 + 16, "10.0.2.15");
	assert_memory_equal(fr->b + 14 + 20 + 8, "pong", 4);
}

/* The guest asks who has 10.0.2.3: slirp's answer meets a device with
 * no room (f->room false), which makes slirp stop reading its sockets. */
static void answer_refused(struct sfix *f, uint8_t *b)
{
	unsigned from = f->nr;

	f->room = false;
	send_frame(f, b, arp_request(b, "10.0.2.3"));
	wait_frame(f, from, 0x0806);
}

/* Our socket, pinged by the guest (udp_pinged), and what answers it. */
struct pong_rig {
	uint8_t b[512];
	struct sockaddr_in to;
	uint8_t gw[6];
	int s;
};

static void pong_rig_open(struct sfix *f, struct pong_rig *r)
{
	r->s = udp_pinged(f, r->b, r->gw, &r->to);
}

/* "pong" from our socket to the guest; returns where its frame will be
 * counted from. */
static unsigned send_pong(struct sfix *f, const struct pong_rig *r)
{
	unsigned from = f->nr;

	assert_int_equal(sendto(r->s, "pong", 4, 0,
				(const struct sockaddr *)&r->to,
				sizeof(r->to)), 4);
	return from;
}

static void test_udp_flow_control(void **state)
{
	struct sfix *f = *state;
	static struct pong_rig r;
	unsigned from;

	pong_rig_open(f, &r);
	answer_refused(f, r.b);
	for (int i = 0; i < 5; i++)
		event_loop_poll(f->loop, 0);
	from = send_pong(f, &r);
	for (int i = 0; i < 20; i++)
		event_loop_poll(f->loop, 10);
	assert_int_equal(udp_frames(f, from), 0);

	f->room = true;
	net_backend_rx_resume(f->be);
	assert_pong(f, from);
	close(r.s);
}

/* A resume that lands between the device refusing a frame and slirp
 * pausing (a driver reset on a vCPU) is not lost: slirp was left paused
 * for good, and the host's answer never came. */
static void test_resume_during_refusal(void **state)
{
	struct sfix *f = *state;
	static struct pong_rig r;

	pong_rig_open(f, &r);
	f->resume_in_refusal = true;
	answer_refused(f, r.b);
	assert_false(f->resume_in_refusal);
	assert_pong(f, send_pong(f, &r));
	close(r.s);
}

/* A free loopback port: bound, read and closed. Another process may take
 * it before the backend binds it, so callers retry with a new one. */
static uint16_t free_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	close(s);
	return ntohs(a.sin_port);
}

/* hostfwd tcp:127.0.0.1:PORT-:22: a host connection becomes a SYN to
 * 10.0.2.15:22 on the guest's side (after slirp asked who has it). The
 * listening socket and the accept are driven by the event loop. */
static void test_hostfwd_tcp(void **state)
{
	struct net_backend_params p = { .spec = "user", .nr_fwd = 1 };
	struct net_backend_client c = { .rx = on_rx, .link = on_link };
	struct sfix *f = calloc(1, sizeof(*f));
	struct sockaddr_in a = { .sin_family = AF_INET };
	static uint8_t b[256];
	struct frame *fr;
	char err[256] = "";
	uint8_t *ip, *tcp;
	unsigned from;
	int s;

	f->loop = event_loop_new();
	f->room = true;
	c.opaque = f;
	assert_null(net_parse_hostfwd("tcp:127.0.0.1:1-:22", &p.fwd[0]));
	for (int i = 0; i < 20 && !f->be; i++) {
		p.fwd[0].host_port = free_port();
		f->be = net_backend_open(&p, f->loop, err, sizeof(err));
	}
	if (!f->be)
		fail_msg("open: %s", err);
	net_backend_set_client(f->be, &c);
	/* tell slirp who 10.0.2.15 is (it learns from the request) */
	send_frame(f, b, arp_request(b, "10.0.2.2"));
	wait_frame(f, 0, 0x0806);

	s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	a.sin_port = htons(p.fwd[0].host_port);
	from = f->nr;
	assert_true(connect(s, (struct sockaddr *)&a, sizeof(a)) == 0 ||
		    errno == EINPROGRESS);
	fr = wait_frame(f, from, 0x0800);
	ip = fr->b + 14;
	tcp = ip + (ip[0] & 15) * 4;
	assert_int_equal(ip[9], 6);                      /* TCP */
	assert_ip(ip + 16, "10.0.2.15");
	assert_int_equal(tcp[2] << 8 | tcp[3], 22);      /* dst port */
	assert_true(tcp[13] & 0x02);                     /* SYN */
	assert_memory_equal(fr->b, gmac, 6);
	close(s);
	net_backend_close(f->be);
	event_loop_free(f->loop);
	free(f);
	(void)state;
}

static void test_hostfwd_port_taken(void **state)
{
	struct net_backend_params p = { .spec = "user", .nr_fwd = 1 };
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof(a);
	struct event_loop *l = event_loop_new();
	char err[256] = "";
	int s = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(s >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(s, 1), 0);
	assert_int_equal(getsockname(s, (struct sockaddr *)&a, &alen), 0);
	assert_null(net_parse_hostfwd("tcp:127.0.0.1:1-:22", &p.fwd[0]));
	p.fwd[0].host_port = ntohs(a.sin_port);
	assert_null(net_backend_open(&p, l, err, sizeof(err)));
	assert_non_null(strstr(err, "hostfwd"));
	close(s);
	event_loop_free(l);
	(void)state;
}

static void test_parsers(void **state)
{
	struct net_hostfwd fw;
	uint8_t mac[6];

	assert_null(net_parse_mac("02:aa:BB:cc:dd:0f", mac));
	assert_memory_equal(mac, "\x02\xaa\xbb\xcc\xdd\x0f", 6);
	assert_non_null(net_parse_mac("03:00:00:00:00:01", mac));   /* mcast */
	assert_non_null(net_parse_mac("00:00:00:00:00:00", mac));
	assert_non_null(net_parse_mac("02:00:00:00:00", mac));
	assert_non_null(net_parse_mac("02:00:00:00:00:0g", mac));
	assert_non_null(net_parse_mac("02:00:00:00:00:001", mac));

	assert_null(net_parse_hostfwd("tcp:127.0.0.1:2222-:22", &fw));
	assert_false(fw.udp);
	assert_int_equal(fw.host_port, 2222);
	assert_int_equal(fw.guest_port, 22);
	assert_int_equal(fw.host_addr, htonl(INADDR_LOOPBACK));
	assert_int_equal(fw.guest_addr, 0);
	assert_null(net_parse_hostfwd("udp::5555-10.0.2.15:7", &fw));
	assert_true(fw.udp);
	assert_int_equal(fw.host_addr, 0);
	assert_int_equal(fw.guest_addr, htonl(0x0a00020f));
	assert_null(net_parse_hostfwd(":80-:8080", &fw));
	assert_non_null(net_parse_hostfwd("tcp:127.0.0.1:2222", &fw));
	assert_non_null(net_parse_hostfwd("tcp:127.0.0.1:0-:22", &fw));
	assert_non_null(net_parse_hostfwd("tcp:127.0.0.1:70000-:22", &fw));
	assert_non_null(net_parse_hostfwd("tcp:1.2.3:22-:22", &fw));
	assert_non_null(net_parse_hostfwd("sctp::22-:22", &fw));
	assert_non_null(net_parse_hostfwd("tcp::22-:x", &fw));

	assert_null(net_check_backend("user"));
	assert_null(net_check_backend(NULL));
	assert_null(net_check_backend("tap:tap0"));      /* net_tap.c */
	assert_non_null(net_check_backend("/dev/net/tun"));
	(void)state;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_dhcp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_arp_and_ping, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_resume_during_refusal,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp_flow_control, setup,
						teardown),
		cmocka_unit_test(test_hostfwd_tcp),
		cmocka_unit_test(test_hostfwd_port_taken),
		cmocka_unit_test(test_parsers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

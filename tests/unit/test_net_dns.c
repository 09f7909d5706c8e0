/* The DNS forwarder of `hostdev user` under --seccomp on
 * (backends/net_dns.c), against a UDP socket of ours playing the
 * resolver on 127.0.0.1 / ::1: a guest query is forwarded with a fresh
 * ID, the answer comes back to the guest with its own ID in a frame
 * whose IP and UDP checksums verify, from the address it asked; frames
 * that are not DNS are left alone; malformed ones are dropped; stray and
 * forged answers never reach the guest; an answer larger than the MTU is
 * cut to its question with TC set; the pending table recycles its
 * oldest entry. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "unit.h"
#include "backends/net_dns.h"
#include "event/loop.h"

static const uint8_t gmac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
static const uint8_t smac[6] = { 0x52, 0x55, 0x0a, 0x00, 0x02, 0x02 };
static const uint8_t gip4[4] = { 10, 0, 2, 15 };
static const uint8_t dns4[4] = { 10, 0, 2, 3 };
static const uint8_t gip6[16] = { 0xfe, 0xc0, [15] = 0x15 };
static const uint8_t dns6[16] = { 0xfe, 0xc0, [15] = 3 };

struct dfix {
	struct event_loop *loop;
	struct net_dns *d;
	int srv;                        /* the "resolver" */
	bool v6;
	uint8_t got[70000];
	size_t got_len;
	unsigned nr;
};

static void deliver(void *opaque, const void *frame, size_t len)
{
	struct dfix *f = opaque;

	assert_true(len <= sizeof(f->got));
	memcpy(f->got, frame, len);
	f->got_len = len;
	f->nr++;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t sum(const uint8_t *p, size_t n, uint32_t s)
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
	return (uint16_t)s;
}

static int fix_new(struct dfix *f, bool v6, unsigned mtu)
{
	struct sockaddr_storage ss = { 0 };
	socklen_t len;

	memset(f, 0, sizeof(*f));
	f->v6 = v6;
	f->loop = event_loop_new();
	f->srv = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (v6) {
		struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;

		a->sin6_family = AF_INET6;
		a->sin6_addr = in6addr_loopback;
		len = sizeof(*a);
	} else {
		struct sockaddr_in *a = (struct sockaddr_in *)&ss;

		a->sin_family = AF_INET;
		a->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		len = sizeof(*a);
	}
	if (bind(f->srv, (struct sockaddr *)&ss, len) < 0)
		return -errno;     /* no IPv6 loopback here */
	getsockname(f->srv, (struct sockaddr *)&ss, &len);
	f->d = net_dns_new(f->loop, (struct sockaddr *)&ss, len, mtu,
			   deliver, f);
	assert_non_null(f->d);
	return 0;
}

static void fix_free(struct dfix *f)
{
	net_dns_free(f->d);
	close(f->srv);
	event_loop_free(f->loop);
}

/* A guest frame: UDP from gip:sport to the virtual DNS server's port 53,
 * carrying a query with id for "a.test". Returns its length. */
static size_t query(uint8_t *fr, bool v6, uint16_t id, uint16_t sport)
{
	static const uint8_t q[] = { 1, 'a', 4, 't', 'e', 's', 't', 0,
				     0, 1, 0, 1 };
	size_t ipl = v6 ? 40 : 20, dl = 12 + sizeof(q);
	uint8_t *ip = fr + 14, *udp = ip + ipl, *m = udp + 8;

	memset(fr, 0, 14 + ipl + 8 + dl);
	memcpy(fr, smac, 6);
	memcpy(fr + 6, gmac, 6);
	put16(fr + 12, v6 ? 0x86dd : 0x0800);
	if (v6) {
		ip[0] = 0x60;
		put16(ip + 4, (uint16_t)(8 + dl));
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, gip6, 16);
		memcpy(ip + 24, dns6, 16);
	} else {
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(20 + 8 + dl));
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, gip4, 4);
		memcpy(ip + 16, dns4, 4);
	}
	put16(udp, sport);
	put16(udp + 2, 53);
	put16(udp + 4, (uint16_t)(8 + dl));
	put16(m, id);
	m[2] = 1;
	m[5] = 1;
	memcpy(m + 12, q, sizeof(q));
	return 14 + ipl + 8 + dl;
}

/* What the resolver received: the message, its length, and who sent it. */
static ssize_t srv_recv(struct dfix *f, uint8_t *m, size_t cap,
			struct sockaddr_storage *from, socklen_t *flen)
{
	*flen = sizeof(*from);
	return recvfrom(f->srv, m, cap, MSG_DONTWAIT, (struct sockaddr *)from,
			flen);
}

/* Answers m (a query of n bytes) with one A record and extra bytes of
 * padding in the additional section's place. */
static void srv_answer(struct dfix *f, uint8_t *m, size_t n, size_t extra,
		       const struct sockaddr_storage *to, socklen_t tlen)
{
	static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60,
				      0, 4, 192, 0, 2, 1 };

	m[2] |= 0x80;
	put16(m + 6, 1);
	memcpy(m + n, rr, sizeof(rr));
	memset(m + n + sizeof(rr), 0xab, extra);
	assert_int_equal(sendto(f->srv, m, n + sizeof(rr) + extra, 0,
				(const struct sockaddr *)to, tlen),
			 (ssize_t)(n + sizeof(rr) + extra));
}

static void wait_answer(struct dfix *f, unsigned nr)
{
	for (int i = 0; i < 500 && f->nr < nr; i++)
		event_loop_poll(f->loop, 10);
	assert_int_equal(f->nr, nr);
}

/* The frame the guest got: addresses swapped, checksums verify, the
 * guest's id; returns the DNS message. */
static const uint8_t *check_frame(struct dfix *f, uint16_t id,
				  uint16_t sport, size_t *mlen)
{
	size_t ipl = f->v6 ? 40 : 20;
	const uint8_t *ip = f->got + 14, *udp = ip + ipl;
	size_t ulen;

	assert_memory_equal(f->got, gmac, 6);
	assert_memory_equal(f->got + 6, smac, 6);
	assert_true(f->got_len >= 14 + ipl + 8 + 12);
	ulen = get16(udp + 4);
	assert_int_equal(14 + ipl + ulen, f->got_len);
	if (f->v6) {
		assert_int_equal(get16(f->got + 12), 0x86dd);
		assert_memory_equal(ip + 8, dns6, 16);
		assert_memory_equal(ip + 24, gip6, 16);
		assert_int_equal(get16(ip + 4), ulen);
		assert_int_equal(fold(sum(udp, ulen, sum(ip + 8, 32,
						     17 + ulen))), 0xffff);
	} else {
		assert_int_equal(get16(f->got + 12), 0x0800);
		assert_memory_equal(ip + 12, dns4, 4);
		assert_memory_equal(ip + 16, gip4, 4);
		assert_int_equal(get16(ip + 2), 20 + ulen);
		assert_int_equal(fold(sum(ip, 20, 0)), 0xffff);
		assert_int_equal(fold(sum(udp, ulen, sum(ip + 12, 8,
						     17 + ulen))), 0xffff);
	}
	assert_int_equal(get16(udp), 53);
	assert_int_equal(get16(udp + 2), sport);
	assert_int_equal(get16(udp + 8), id);
	*mlen = ulen - 8;
	return udp + 8;
}

static void round_trip(bool v6)
{
	struct dfix f;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t fr[256], m[4096];
	size_t flen_q = query(fr, v6, 0x1234, 40053), mlen;
	ssize_t n;
	const uint8_t *a;
	struct net_dns_stats st;
	int rc = fix_new(&f, v6, 1500);

	if (rc) {
		print_message("SKIP: no IPv%d loopback here (bind to %s: %s)\n",
			      v6 ? 6 : 4, v6 ? "::1" : "127.0.0.1",
			      strerror(-rc));
		skip();
		return;
	}
	assert_true(net_dns_intercept(f.d, fr, flen_q));
	n = srv_recv(&f, m, sizeof(m), &from, &flen);
	assert_int_equal(n, 12 + 12);
	/* The query itself, but for the ID: a fresh one. */
	assert_memory_equal(m + 2, fr + flen_q - 22, 22);
	srv_answer(&f, m, (size_t)n, 0, &from, flen);
	wait_answer(&f, 1);
	a = check_frame(&f, 0x1234, 40053, &mlen);
	assert_int_equal(mlen, 24 + 16);
	assert_memory_equal(a + 24 + 12, "\xc0\x00\x02\x01", 4);
	net_dns_get_stats(f.d, &st);
	assert_int_equal(st.forwarded, 1);
	assert_int_equal(st.answered, 1);
	fix_free(&f);
}

static void test_round_trip_v4(void **state)
{
	round_trip(false);
}

static void test_round_trip_v6(void **state)
{
	round_trip(true);
}

/* Two queries with the same guest ID (two programs, one resolver) each
 * get their own answer, to the right port. */
static void test_same_guest_id(void **state)
{
	struct dfix f;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t fr[256], m1[512], m2[512];
	ssize_t n1, n2;
	size_t mlen;

	fix_new(&f, false, 1500);
	assert_true(net_dns_intercept(f.d, fr, query(fr, false, 7, 1111)));
	assert_true(net_dns_intercept(f.d, fr, query(fr, false, 7, 2222)));
	n1 = srv_recv(&f, m1, sizeof(m1), &from, &flen);
	n2 = srv_recv(&f, m2, sizeof(m2), &from, &flen);
	assert_int_equal(n1, 24);
	assert_int_equal(n2, 24);
	assert_int_not_equal(get16(m1), get16(m2));
	/* Answered in the other order. */
	srv_answer(&f, m2, (size_t)n2, 0, &from, flen);
	wait_answer(&f, 1);
	check_frame(&f, 7, 2222, &mlen);
	srv_answer(&f, m1, (size_t)n1, 0, &from, flen);
	wait_answer(&f, 2);
	check_frame(&f, 7, 1111, &mlen);
	fix_free(&f);
}

/* Not for the DNS server: left to slirp. */
static void test_not_dns(void **state)
{
	struct dfix f;
	uint8_t fr[256];
	size_t len;
	struct net_dns_stats st;

	fix_new(&f, false, 1500);
	len = query(fr, false, 1, 1000);
	put16(fr + 14 + 20 + 2, 54);            /* another port */
	assert_false(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	fr[14 + 16 + 3] = 2;                    /* to 10.0.2.2 */
	assert_false(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	fr[14 + 9] = 6;                         /* TCP */
	assert_false(net_dns_intercept(f.d, fr, len));
	put16(fr + 12, 0x0806);                 /* ARP */
	assert_false(net_dns_intercept(f.d, fr, len));
	assert_false(net_dns_intercept(f.d, fr, 10));
	net_dns_get_stats(f.d, &st);
	assert_int_equal(st.forwarded + st.dropped, 0);
	fix_free(&f);
}

/* Malformed queries to the DNS server: consumed, dropped, counted,
 * never forwarded. */
static void test_malformed(void **state)
{
	struct dfix f;
	uint8_t fr[256], m[512];
	struct sockaddr_storage from;
	socklen_t flen;
	size_t len;
	struct net_dns_stats st;

	fix_new(&f, false, 1500);
	len = query(fr, false, 1, 1000);
	put16(fr + 14 + 2, 2000);               /* IP length beyond frame */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	fr[14] = 0x4f;                          /* IHL 60 > total */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	put16(fr + 14 + 20 + 4, 300);           /* UDP length > IP's */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	put16(fr + 14 + 20 + 4, 8 + 11);        /* no room for a header */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	put16(fr + 14 + 6, 0x2000);             /* a fragment */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, false, 1, 1000);
	fr[0] = 0xff;                           /* broadcast */
	assert_true(net_dns_intercept(f.d, fr, len));
	len = query(fr, true, 1, 1000);
	put16(fr + 14 + 4, 4000);               /* IPv6 payload > frame */
	assert_true(net_dns_intercept(f.d, fr, len));
	net_dns_get_stats(f.d, &st);
	assert_int_equal(st.dropped, 7);
	assert_int_equal(st.forwarded, 0);
	assert_true(srv_recv(&f, m, sizeof(m), &from, &flen) < 0);
	fix_free(&f);
}

/* Answers nobody asked for (a wrong ID, a query instead of an answer,
 * a runt) never reach the guest; an answer is used once. */
static void test_stray_answers(void **state)
{
	struct dfix f;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t fr[256], m[512], copy[512];
	ssize_t n;
	struct net_dns_stats st;

	fix_new(&f, false, 1500);
	assert_true(net_dns_intercept(f.d, fr, query(fr, false, 9, 1000)));
	n = srv_recv(&f, m, sizeof(m), &from, &flen);
	assert_int_equal(n, 24);
	memcpy(copy, m, 24);
	put16(copy, (uint16_t)(get16(m) + 1));      /* wrong ID */
	srv_answer(&f, copy, 24, 0, &from, flen);
	memcpy(copy, m, 24);                         /* QR clear */
	sendto(f.srv, copy, 24, 0, (struct sockaddr *)&from, flen);
	sendto(f.srv, copy, 5, 0, (struct sockaddr *)&from, flen);
	memcpy(copy, m, 24);
	srv_answer(&f, m, 24, 0, &from, flen);       /* the real one */
	srv_answer(&f, copy, 24, 0, &from, flen);    /* and again */
	for (int i = 0; i < 500; i++) {
		net_dns_get_stats(f.d, &st);
		if (st.stray + st.answered == 5)
			break;
		event_loop_poll(f.loop, 10);
	}
	assert_int_equal(st.answered, 1);
	assert_int_equal(st.stray, 4);
	assert_int_equal(f.nr, 1);
	fix_free(&f);
}

/* An answer beyond the MTU: its question only, TC set; the guest's
 * frame stays within the MTU. */
static void test_truncated(void **state)
{
	struct dfix f;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t fr[256], m[4096];
	const uint8_t *a;
	size_t mlen;
	ssize_t n;
	struct net_dns_stats st;

	fix_new(&f, false, 576);
	assert_true(net_dns_intercept(f.d, fr, query(fr, false, 5, 1000)));
	n = srv_recv(&f, m, sizeof(m), &from, &flen);
	srv_answer(&f, m, (size_t)n, 1200, &from, flen);
	wait_answer(&f, 1);
	a = check_frame(&f, 5, 1000, &mlen);
	assert_int_equal(mlen, 24);
	assert_true(a[2] & 0x02);                   /* TC */
	assert_int_equal(get16(a + 4), 1);
	assert_int_equal(get16(a + 6), 0);
	assert_true(f.got_len <= 14 + 576);
	net_dns_get_stats(f.d, &st);
	assert_int_equal(st.truncated, 1);
	fix_free(&f);
}

/* More queries in flight than the table holds: the oldest is forgotten,
 * the newest still answered. */
static void test_pending_recycled(void **state)
{
	struct dfix f;
	struct sockaddr_storage from;
	socklen_t flen;
	uint8_t fr[256], first[64], m[64];
	ssize_t n;
	size_t mlen;
	struct net_dns_stats st;

	fix_new(&f, false, 1500);
	for (unsigned i = 0; i <= NET_DNS_PENDING; i++) {
		assert_true(net_dns_intercept(f.d, fr,
					      query(fr, false, (uint16_t)i,
						    (uint16_t)(1000 + i))));
		n = srv_recv(&f, i ? m : first, sizeof(m), &from, &flen);
		assert_int_equal(n, 24);
	}
	srv_answer(&f, first, 24, 0, &from, flen);  /* forgotten */
	srv_answer(&f, m, 24, 0, &from, flen);      /* the last one */
	wait_answer(&f, 1);
	check_frame(&f, NET_DNS_PENDING, 1000 + NET_DNS_PENDING, &mlen);
	net_dns_get_stats(f.d, &st);
	assert_int_equal(st.forwarded, NET_DNS_PENDING + 1);
	assert_int_equal(st.stray, 1);
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_v4),
		cmocka_unit_test(test_round_trip_v6),
		cmocka_unit_test(test_same_guest_id),
		cmocka_unit_test(test_not_dns),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_stray_answers),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_pending_recycled),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

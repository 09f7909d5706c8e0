/* The `peer PATH` backend on a real event loop in this process: two
 * backends on one path find each other whichever starts first, carry
 * frames both ways and come back after either side restarts; a stale
 * socket file is replaced, another kind of file refused. A raw socket
 * playing the other side checks the wire: the hello, a hello that is not
 * ours (refused, link stays down), oversized, runt and bad-header
 * messages (dropped, counted), the peerfeats intersection (a partial
 * checksum filled in on one side or the other, or passed to a guest
 * that takes it), flow control (nothing
 * read while the device is full, a hang-up still noticed), and sends while
 * down or into a full socket (dropped, counted).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "backends/net.h"
#include "backends/net_peer.h"
#include "core/log.h"
#include "event/loop.h"

#define HANG_GUARD_MS 10000     /* every wait is for an event; this only
				 * stops a broken test */

struct side {
	struct net_backend *be;
	uint8_t last[NET_MAX_FRAME];
	size_t last_len;
	unsigned nr;            /* frames received */
	unsigned nr_hdr;        /* of which with a header (rx_hdr) */
	bool misaligned;        /* a frame not on a 64-byte boundary */
	uint8_t first[64];      /* each frame's first byte, in order */
	uint8_t hdr[NET_PEER_HDR_LEN];
	bool up, room;
	unsigned ups, downs;
	unsigned unflushed, flushes;    /* a batching device's (rx_flush) */
};

struct fix {
	struct event_loop *loop;
	char dir[64], path[96];
	struct side a, b;
	int raw;
};

static bool on_rx(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len)
{
	struct side *s = opaque;
	size_t off = 0;

	s->misaligned |= cnt && (uintptr_t)iov[0].iov_base % 64;
	if (cnt && iov[0].iov_len && s->nr < sizeof(s->first))
		s->first[s->nr] = *(const uint8_t *)iov[0].iov_base;
	for (unsigned i = 0; i < cnt; i++) {
		memcpy(s->last + off, iov[i].iov_base, iov[i].iov_len);
		off += iov[i].iov_len;
	}
	assert_int_equal(off, len);
	s->last_len = len;
	s->nr++;
	return s->room;
}

static bool on_rx_hdr(void *opaque, unsigned qp, const void *hdr,
		      const struct iovec *iov, unsigned cnt, size_t len)
{
	struct side *s = opaque;

	assert_int_equal(qp, 0);
	assert_non_null(hdr);
	memcpy(s->hdr, hdr, NET_PEER_HDR_LEN);
	s->nr_hdr++;
	return on_rx(opaque, iov, cnt, len);
}

/* A device that batches: frames handed wait for its rx_flush. */
static bool on_rx_batch(void *opaque, unsigned qp, const void *hdr,
			const struct iovec *iov, unsigned cnt, size_t len)
{
	struct side *s = opaque;

	assert_int_equal(qp, 0);
	if (hdr)
		s->nr_hdr++;
	s->unflushed++;
	return on_rx(opaque, iov, cnt, len);
}

static void on_flush(void *opaque, unsigned qp)
{
	struct side *s = opaque;

	assert_int_equal(qp, 0);
	assert_true(s->unflushed > 0);          /* only after frames */
	s->unflushed = 0;
	s->flushes++;
}

static void on_link(void *opaque, bool up)
{
	struct side *s = opaque;

	s->up = up;
	if (up)
		s->ups++;
	else
		s->downs++;
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/cvisor-peer-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/link", f->dir);
	f->loop = event_loop_new();
	f->raw = -1;
	*state = f;
	return 0;
}

static void close_side(struct side *s)
{
	net_backend_close(s->be);
	s->be = NULL;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	char lock[128];

	close_side(&f->a);
	close_side(&f->b);
	if (f->raw >= 0)
		close(f->raw);
	event_loop_free(f->loop);
	/* (f->path may have been changed: the files are named here) */
	snprintf(lock, sizeof(lock), "%s/link.lock", f->dir);
	unlink(lock);
	snprintf(lock, sizeof(lock), "%s/link", f->dir);
	unlink(lock);
	assert_int_equal(rmdir(f->dir), 0);
	free(f);
	return 0;
}

static struct net_backend *open_be(struct fix *f, uint64_t feats,
				   char *err, size_t errlen)
{
	struct net_backend_params p = { .spec = "peer", .peer = f->path,
					.peerfeats = feats, .mtu = 1500,
					.queues = 1 };

	return net_backend_open(&p, f->loop, err, errlen);
}

static void open_side(struct fix *f, struct side *s, uint64_t feats)
{
	struct net_backend_client c = { .rx = on_rx, .rx_hdr = on_rx_hdr,
					.link = on_link, .opaque = s };
	char err[256] = "";

	memset(s, 0, sizeof(*s));
	s->room = true;
	s->be = open_be(f, feats, err, sizeof(err));
	if (!s->be)
		fail_msg("open: %s", err);
	assert_string_equal(s->be->kind, "peer");
	assert_false(s->be->link_up);   /* up only once connected */
	net_backend_set_client(s->be, &c);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Run the loop until cond holds (fails the test after the hang guard). */
#define PUMP_UNTIL(f, cond) do { \
	uint64_t end_ = now_ms() + HANG_GUARD_MS; \
	while (!(cond)) { \
		if (now_ms() > end_) \
			fail_msg("still not: %s", #cond); \
		event_loop_poll((f)->loop, 20); \
	} \
} while (0)

/* Rounds with nothing left to do: what is ready now has been handled. */
static void pump_idle(struct fix *f)
{
	for (int i = 0; i < 5; i++)
		event_loop_poll(f->loop, 0);
}

static struct net_peer_stats stats(struct side *s)
{
	struct net_peer_stats st;

	net_peer_get_stats(s->be, &st);
	return st;
}

/* An Ethernet frame of len bytes, its bytes a pattern of seed. */
static void make_frame(uint8_t *b, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		b[i] = (uint8_t)(seed * 31 + i * 7);
	b[12] = 0x88;           /* a local experimental EtherType */
	b[13] = 0xb5;
}

/* Frames from..to-1 (make_frame's seeds) from the raw side, 100 bytes;
 * fr gets the last. */
static void raw_send(struct fix *f, uint8_t *fr, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++) {
		make_frame(fr, 100, i);
		assert_int_equal(send(f->raw, fr, 100, 0), 100);
	}
}

static int send_frame(struct side *s, const void *hdr, const uint8_t *b,
		      size_t len)
{
	/* Two pieces, as a guest's chain may be. */
	struct iovec v[2] = { { (void *)b, len / 2 },
			      { (void *)(b + len / 2), len - len / 2 } };
	uint64_t bytes;
	int rc = net_backend_send(s->be, hdr, v, 2, len);

	/* as the device does before giving the chain back */
	if (!rc && net_backend_tx_flush(s->be, 0, &bytes)) {
		assert_int_equal(bytes, len);
		rc = -EAGAIN;
	}
	return rc;
}

static bool sock_exists(const char *path)
{
	struct stat sb;

	return !lstat(path, &sb) && S_ISSOCK(sb.st_mode);
}

static void link_both(struct fix *f, uint64_t fa, uint64_t fb)
{
	open_side(f, &f->a, fa);
	open_side(f, &f->b, fb);
	PUMP_UNTIL(f, f->a.up && f->b.up);
}

static void exchange(struct fix *f, unsigned seed)
{
	uint8_t fr[1514];
	unsigned na = f->a.nr, nb = f->b.nr;

	make_frame(fr, sizeof(fr), seed);
	assert_int_equal(send_frame(&f->a, NULL, fr, sizeof(fr)), 0);
	PUMP_UNTIL(f, f->b.nr == nb + 1);
	assert_int_equal(f->b.last_len, sizeof(fr));
	assert_memory_equal(f->b.last, fr, sizeof(fr));
	make_frame(fr, 60, seed + 1);
	assert_int_equal(send_frame(&f->b, NULL, fr, 60), 0);
	PUMP_UNTIL(f, f->a.nr == na + 1);
	assert_int_equal(f->a.last_len, 60);
	assert_memory_equal(f->a.last, fr, 60);
}

/* --- two backends ------------------------------------------------------ */

static void test_link_both_ways(void **state)
{
	struct fix *f = *state;
	uint8_t big[NET_MAX_FRAME];

	link_both(f, 0, 0);
	assert_true(f->a.be->link_up && f->b.be->link_up);
	assert_int_equal(f->a.be->caps & NET_CAP_CSUM, 0);
	/* The listener removed the socket file once it had its peer. */
	assert_false(sock_exists(f->path));
	exchange(f, 1);
	/* The largest frame goes through whole. */
	make_frame(big, sizeof(big), 9);
	assert_int_equal(send_frame(&f->a, NULL, big, sizeof(big)), 0);
	PUMP_UNTIL(f, f->b.nr == 2);
	assert_int_equal(f->b.last_len, NET_MAX_FRAME);
	assert_memory_equal(f->b.last, big, sizeof(big));
	assert_int_equal(stats(&f->a).connects, 1);
	assert_int_equal(stats(&f->b).connects, 1);
	assert_int_equal(stats(&f->a).tx_frames, 2);
	assert_int_equal(stats(&f->b).rx_frames, 2);
	/* received to a 64-byte boundary: the kernel's copy is slow
	 * otherwise (net_tap.c) */
	assert_false(f->a.misaligned || f->b.misaligned);
}

/* Either side goes away: the other's link goes down, it waits, and the
 * link comes back when the side starts again. */
static void test_restart_either_side(void **state)
{
	struct fix *f = *state;

	link_both(f, 0, 0);
	close_side(&f->b);
	PUMP_UNTIL(f, !f->a.up);
	assert_false(f->a.be->link_up);
	assert_int_equal(f->a.downs, 1);
	/* A listens now: its socket is there for B. */
	PUMP_UNTIL(f, sock_exists(f->path));
	open_side(f, &f->b, 0);
	PUMP_UNTIL(f, f->a.up && f->b.up);
	assert_int_equal(f->a.ups, 2);
	exchange(f, 3);
	/* Now the other one. */
	close_side(&f->a);
	PUMP_UNTIL(f, !f->b.up);
	open_side(f, &f->a, 0);
	PUMP_UNTIL(f, f->a.up && f->b.up);
	assert_int_equal(f->b.ups, 2);
	exchange(f, 5);
	/* A send while down was dropped and counted, not queued. */
	close_side(&f->b);
	PUMP_UNTIL(f, !f->a.up);
	{
		uint8_t fr[60];

		make_frame(fr, sizeof(fr), 7);
		assert_int_equal(send_frame(&f->a, NULL, fr, sizeof(fr)),
				 -ENOTCONN);
		assert_int_equal(stats(&f->a).tx_down, 1);
	}
}

/* A socket file a dead process left is replaced; any other file at PATH
 * is refused at start and left alone. */
static void test_stale_socket_and_bad_path(void **state)
{
	struct fix *f = *state;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	char err[256] = "";
	FILE *fp;

	strcpy(sa.sun_path, f->path);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);              /* the file stays, nobody listens */
	assert_true(sock_exists(f->path));
	link_both(f, 0, 0);
	exchange(f, 11);
	close_side(&f->a);
	close_side(&f->b);
	unlink(f->path);
	fp = fopen(f->path, "w");
	fputs("keep me", fp);
	fclose(fp);
	assert_null(open_be(f, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "is not a socket"));
	assert_int_equal(access(f->path, F_OK), 0);
	unlink(f->path);
	snprintf(f->path, sizeof(f->path), "%s/no/such/dir", f->dir);
	assert_null(open_be(f, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "cannot create"));
}

/* --- a raw socket as the other side ------------------------------------ */

static void raw_connect(struct fix *f)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	PUMP_UNTIL(f, sock_exists(f->path));    /* A listens */
	strcpy(sa.sun_path, f->path);
	f->raw = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	assert_int_equal(connect(f->raw, (struct sockaddr *)&sa, sizeof(sa)),
			 0);
}

static void raw_hello(struct fix *f, uint32_t feats)
{
	struct net_peer_hello h = { .version = NET_PEER_VERSION,
				    .feats = feats, .mtu = 1500 };

	memcpy(h.magic, NET_PEER_MAGIC, 8);
	assert_int_equal(send(f->raw, &h, sizeof(h), 0), sizeof(h));
}

/* A's hello, read by the raw side. */
static void raw_read_hello(struct fix *f, uint32_t want_feats)
{
	struct net_peer_hello h;

	PUMP_UNTIL(f, recv(f->raw, &h, sizeof(h), MSG_PEEK | MSG_DONTWAIT) >
		   0);
	assert_int_equal(recv(f->raw, &h, sizeof(h), 0), sizeof(h));
	assert_memory_equal(h.magic, NET_PEER_MAGIC, 8);
	assert_int_equal(h.version, NET_PEER_VERSION);
	assert_int_equal(h.feats, want_feats);
	assert_int_equal(h.mtu, 1500);
}

static void raw_link(struct fix *f, uint64_t a_feats, uint32_t raw_feats)
{
	open_side(f, &f->a, a_feats);
	raw_connect(f);
	raw_read_hello(f, (uint32_t)a_feats & NET_PEER_FEATS_CSUM);
	raw_hello(f, raw_feats);
	PUMP_UNTIL(f, f->a.up);
}

static uint64_t frozen_clock(void)
{
	return 1000000000ull;
}

/* A peer that connects, says hello and goes, in a loop: the link's
 * messages are limited (they were one each, for ever), the guest still
 * sees every change. The limiter's clock stands still, so that however
 * slowly this runs its window does not end. */
static void test_reconnect_loop_log(void **state)
{
	struct fix *f = *state;
	char log[128], line[512];
	unsigned ups = 0;
	FILE *in;

	snprintf(log, sizeof(log), "%s/log", f->dir);
	assert_int_equal(log_open_file(log), 0);
	log_set_threshold(LOG_INFO);
	log_clock_ns = frozen_clock;
	raw_link(f, 0, 0);
	for (unsigned i = 0; i < 2 * LOG_KIND_BURST; i++) {
		close(f->raw);
		f->raw = -1;
		PUMP_UNTIL(f, !f->a.up);
		raw_connect(f);
		raw_read_hello(f, 0);
		raw_hello(f, 0);
		PUMP_UNTIL(f, f->a.up);
	}
	log_clock_ns = NULL;
	log_reset();
	log_set_threshold(LOG_WARN);
	assert_int_equal(f->a.ups, 2 * LOG_KIND_BURST + 1);
	in = fopen(log, "r");
	assert_non_null(in);
	while (fgets(line, sizeof(line), in))
		ups += strstr(line, ": link up") && !strstr(line, "suppressed");
	fclose(in);
	unlink(log);
	assert_true(ups >= 1 && ups <= LOG_KIND_BURST);
}

static void test_hello_refused(void **state)
{
	struct fix *f = *state;
	struct net_peer_hello h = { .version = NET_PEER_VERSION + 1 };
	char junk[64] = "GET / HTTP/1.0\r\n\r\n";
	char c;

	open_side(f, &f->a, 0);
	raw_connect(f);
	raw_read_hello(f, 0);
	assert_int_equal(send(f->raw, junk, sizeof(junk), 0), sizeof(junk));
	PUMP_UNTIL(f, stats(&f->a).refused == 1);
	assert_false(f->a.up);
	assert_int_equal(f->a.ups, 0);
	/* A hung up on us ... */
	assert_int_equal(recv(f->raw, &c, 1, 0), 0);
	close(f->raw);
	/* ... and listens again after its backoff: a wrong version. */
	raw_connect(f);
	raw_read_hello(f, 0);
	memcpy(h.magic, NET_PEER_MAGIC, 8);
	assert_int_equal(send(f->raw, &h, sizeof(h), 0), sizeof(h));
	PUMP_UNTIL(f, stats(&f->a).refused == 2);
	assert_int_equal(f->a.ups, 0);
	assert_int_equal(stats(&f->a).connects, 0);
}

static void test_oversize_runt_bad_header(void **state)
{
	struct fix *f = *state;
	static uint8_t m[NET_PEER_HDR_LEN + NET_MAX_FRAME + 100];
	struct net_peer_stats st;

	raw_link(f, NET_PEER_FEATS_CSUM, NET_PEER_FEATS_CSUM);
	assert_int_equal(net_peer_link_feats(f->a.be), NET_PEER_FEATS_CSUM);
	memset(m, 0, sizeof(m));
	make_frame(m + NET_PEER_HDR_LEN, 200, 1);
	/* one byte over the largest frame, and far over */
	assert_int_equal(send(f->raw, m, NET_PEER_HDR_LEN + NET_MAX_FRAME + 1,
			      0), NET_PEER_HDR_LEN + NET_MAX_FRAME + 1);
	assert_int_equal(send(f->raw, m, sizeof(m), 0), sizeof(m));
	/* a header and 13 bytes; half a header */
	assert_int_equal(send(f->raw, m, NET_PEER_HDR_LEN + 13, 0),
			 NET_PEER_HDR_LEN + 13);
	assert_int_equal(send(f->raw, m, 6, 0), 6);
	/* GSO the link never agreed on */
	m[1] = 1;
	assert_int_equal(send(f->raw, m, NET_PEER_HDR_LEN + 200, 0),
			 NET_PEER_HDR_LEN + 200);
	/* a checksum to fill beyond the frame */
	m[0] = 1;
	m[1] = 0;
	m[6] = 190;             /* csum_start */
	m[8] = 9;               /* csum_offset: 199 + 2 > 200 */
	assert_int_equal(send(f->raw, m, NET_PEER_HDR_LEN + 200, 0),
			 NET_PEER_HDR_LEN + 200);
	/* and a good one, which must still come through */
	m[0] = m[6] = m[8] = 0;
	assert_int_equal(send(f->raw, m, NET_PEER_HDR_LEN + 200, 0),
			 NET_PEER_HDR_LEN + 200);
	PUMP_UNTIL(f, f->a.nr == 1);
	st = stats(&f->a);
	assert_int_equal(st.rx_oversize, 2);
	assert_int_equal(st.rx_runt, 2);
	assert_int_equal(st.rx_bad_hdr, 2);
	assert_int_equal(st.rx_frames, 1);
	assert_int_equal(f->a.last_len, 200);
	assert_memory_equal(f->a.last, m + NET_PEER_HDR_LEN, 200);
	assert_true(f->a.up);
}

/* An IPv4/UDP frame whose checksum field holds only the pseudo-header
 * sum, as a guest leaves it with NEEDS_CSUM (start 34, offset 6). */
#define UDP_FRAME 98
static void make_partial_udp(uint8_t *b)
{
	uint32_t sum;
	unsigned ulen = UDP_FRAME - 34;

	make_frame(b, UDP_FRAME, 4);
	b[12] = 0x08;
	b[13] = 0x00;
	b[14] = 0x45;
	b[23] = 17;                                     /* UDP */
	memcpy(b + 26, (uint8_t[]){ 10, 0, 0, 1, 10, 0, 0, 2 }, 8);
	b[38] = (uint8_t)(ulen >> 8);
	b[39] = (uint8_t)ulen;
	sum = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + ulen;
	b[40] = (uint8_t)(sum >> 8);
	b[41] = (uint8_t)sum;
}

/* The UDP checksum checks out (the pseudo-header included). */
static bool udp_csum_ok(const uint8_t *b)
{
	uint32_t s = 0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + (UDP_FRAME - 34);

	for (unsigned i = 34; i < UDP_FRAME; i += 2)
		s += (uint32_t)b[i] << 8 | b[i + 1];
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return s == 0xffff && (b[40] | b[41]);
}

static const uint8_t csum_hdr[NET_PEER_HDR_LEN] = { 1, 0, 0, 0, 0, 0,
						    34, 0, 6, 0, 0, 0 };

/* A carries checksums, B does not: the link carries none, and A fills
 * in the checksum before sending. */
static void test_feats_intersection(void **state)
{
	struct fix *f = *state;
	uint8_t fr[UDP_FRAME];

	link_both(f, 0x3, 0);
	assert_true(f->a.be->caps & NET_CAP_CSUM);
	assert_false(f->b.be->caps & NET_CAP_CSUM);
	assert_int_equal(net_peer_link_feats(f->a.be), 0);
	assert_int_equal(net_peer_link_feats(f->b.be), 0);
	make_partial_udp(fr);
	assert_false(udp_csum_ok(fr));
	assert_int_equal(send_frame(&f->a, csum_hdr, fr, sizeof(fr)), 0);
	PUMP_UNTIL(f, f->b.nr == 1);
	assert_true(udp_csum_ok(f->b.last));
	/* the guest's buffer is left as it was */
	assert_false(udp_csum_ok(fr));
	/* an offset beyond the frame is the guest's error: dropped */
	{
		uint8_t bad[NET_PEER_HDR_LEN];

		memcpy(bad, csum_hdr, sizeof(bad));
		bad[6] = UDP_FRAME - 1;
		assert_int_equal(send_frame(&f->a, bad, fr, sizeof(fr)),
				 -EINVAL);
		assert_int_equal(stats(&f->a).tx_bad, 1);
	}
}

/* Both carry checksums: the header travels, the receiver fills it in;
 * on the wire it is the guest's header without GSO or num_buffers. */
static void test_feats_both_and_wire(void **state)
{
	struct fix *f = *state;
	uint8_t fr[UDP_FRAME], m[NET_PEER_HDR_LEN + UDP_FRAME];
	uint8_t gh[NET_PEER_HDR_LEN];

	link_both(f, 0x3, 0x7fc3);
	assert_int_equal(net_peer_link_feats(f->a.be), 0x3);
	assert_int_equal(net_peer_link_feats(f->b.be), 0x3);
	make_partial_udp(fr);
	assert_int_equal(send_frame(&f->b, csum_hdr, fr, sizeof(fr)), 0);
	PUMP_UNTIL(f, f->a.nr == 1);
	assert_true(udp_csum_ok(f->a.last));
	assert_int_equal(f->a.nr_hdr, 0);
	/* A's guest takes partial checksums: the header goes to it as it
	 * is, the checksum left for the guest. */
	net_backend_set_offloads(f->a.be, NET_OFF_CSUM);
	assert_int_equal(send_frame(&f->b, csum_hdr, fr, sizeof(fr)), 0);
	PUMP_UNTIL(f, f->a.nr == 2);
	assert_int_equal(f->a.nr_hdr, 1);
	assert_memory_equal(f->a.hdr, csum_hdr, NET_PEER_HDR_LEN);
	assert_memory_equal(f->a.last, fr, sizeof(fr));
	assert_false(udp_csum_ok(f->a.last));
	assert_false(f->a.misaligned);  /* after the link's header too */
	close_side(&f->a);
	close_side(&f->b);

	raw_link(f, 0x3, 0x3);
	memcpy(gh, csum_hdr, sizeof(gh));
	gh[10] = 5;             /* num_buffers: not the link's business */
	assert_int_equal(send_frame(&f->a, gh, fr, sizeof(fr)), 0);
	assert_int_equal(recv(f->raw, m, sizeof(m), MSG_DONTWAIT), sizeof(m));
	assert_memory_equal(m, csum_hdr, NET_PEER_HDR_LEN);
	assert_memory_equal(m + NET_PEER_HDR_LEN, fr, sizeof(fr));
	/* no offload asked: a zero header */
	memset(gh, 0, sizeof(gh));
	assert_int_equal(send_frame(&f->a, gh, fr, 60), 0);
	assert_int_equal(recv(f->raw, m, sizeof(m), MSG_DONTWAIT),
			 NET_PEER_HDR_LEN + 60);
	assert_memory_equal(m, gh, NET_PEER_HDR_LEN);
}

/* The device has no room: nothing more is read until rx_resume, and the
 * other side's hang-up is still noticed meanwhile. */
static void test_flow_control(void **state)
{
	struct fix *f = *state;
	uint8_t fr[100];

	raw_link(f, 0, 0);
	f->a.room = false;
	raw_send(f, fr, 0, 3);
	PUMP_UNTIL(f, f->a.nr == 1);
	pump_idle(f);
	assert_int_equal(f->a.nr, 1);   /* frames 2 and 3 wait (backend) */
	f->a.room = true;
	net_backend_rx_resume(f->a.be);
	PUMP_UNTIL(f, f->a.nr == 3);
	assert_memory_equal(f->a.last, fr, sizeof(fr));
	/* full again, then the other side goes */
	f->a.room = false;
	assert_int_equal(send(f->raw, fr, sizeof(fr), 0), sizeof(fr));
	PUMP_UNTIL(f, f->a.nr == 4);
	close(f->raw);
	f->raw = -1;
	PUMP_UNTIL(f, !f->a.up);
	assert_int_equal(f->a.downs, 1);
}

/* Frames come a batch per receive call, in order; a device that runs out
 * of room in the middle of a batch gets the rest of it, in order, after
 * rx_resume, though the socket has nothing new by then. */
static void test_batches(void **state)
{
	struct fix *f = *state;
	uint8_t fr[100];
	uint64_t reads;

	raw_link(f, 0, 0);
	reads = stats(&f->a).rx_reads;          /* the hello's */
	raw_send(f, fr, 0, 20);
	PUMP_UNTIL(f, f->a.nr == 20);
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(f->a.first[i], (uint8_t)(i * 31));
	assert_true(stats(&f->a).rx_reads - reads <= 3);     /* 8 a call */
	assert_false(f->a.misaligned);
	/* no room after the first of five */
	f->a.room = false;
	raw_send(f, fr, 20, 25);
	PUMP_UNTIL(f, f->a.nr == 21);
	pump_idle(f);
	assert_int_equal(f->a.nr, 21);
	/* still none after a resume: one more, the rest wait */
	net_backend_rx_resume(f->a.be);
	PUMP_UNTIL(f, f->a.nr == 22);
	pump_idle(f);
	assert_int_equal(f->a.nr, 22);
	f->a.room = true;
	net_backend_rx_resume(f->a.be);
	PUMP_UNTIL(f, f->a.nr == 25);
	for (unsigned i = 20; i < 25; i++)
		assert_int_equal(f->a.first[i], (uint8_t)(i * 31));
	assert_int_equal(stats(&f->a).rx_frames, 25);
	/* and reading goes on */
	raw_send(f, fr, 25, 26);
	PUMP_UNTIL(f, f->a.nr == 26);
	assert_int_equal(f->a.first[25], (uint8_t)(25 * 31));
}

/* Where the device batches (rx_flush), what a round hands it is
 * published together: one flush per round at most, after its last frame,
 * on every way out of it: a drained socket, a pause, a resume. */
static void test_rx_flush(void **state)
{
	struct fix *f = *state;
	struct net_backend_client c = { .rx = on_rx, .rx_hdr = on_rx_batch,
					.rx_flush = on_flush,
					.link = on_link, .opaque = &f->a };
	uint8_t fr[100];
	uint64_t reads;

	raw_link(f, 0, 0);
	assert_true(f->a.be->caps & NET_CAP_RX_BATCH);
	net_backend_set_client(f->a.be, &c);
	reads = stats(&f->a).rx_reads;
	raw_send(f, fr, 0, 20);
	PUMP_UNTIL(f, f->a.nr == 20);
	assert_int_equal(f->a.unflushed, 0);
	assert_int_equal(f->a.nr_hdr, 0);       /* none on this link */
	assert_true(f->a.flushes >= 1);
	assert_true(f->a.flushes <= stats(&f->a).rx_reads - reads);
	assert_memory_equal(f->a.last, fr, 100);
	/* the frame that found no room is published too */
	f->a.room = false;
	raw_send(f, fr, 20, 25);
	PUMP_UNTIL(f, f->a.nr == 21);
	assert_int_equal(f->a.unflushed, 0);
	pump_idle(f);
	assert_int_equal(f->a.nr, 21);
	/* and what waited, once resumed */
	f->a.room = true;
	net_backend_rx_resume(f->a.be);
	PUMP_UNTIL(f, f->a.nr == 25);
	assert_int_equal(f->a.unflushed, 0);
	for (unsigned i = 20; i < 25; i++)
		assert_int_equal(f->a.first[i], (uint8_t)(i * 31));
}

/* Frames the device hands over in a round go out together at its flush,
 * in order, with one sendmmsg; a frame that must be copied (a checksum
 * to fill on a link without them) goes after those before it. */
static void test_tx_batch(void **state)
{
	struct fix *f = *state;
	uint8_t fr[10][100], m[200];
	struct iovec v[10];
	uint64_t bytes;

	raw_link(f, 0x3, 0);            /* A offers checksums, raw not */
	for (unsigned i = 0; i < 10; i++) {
		make_frame(fr[i], sizeof(fr[i]), i);
		v[i] = (struct iovec){ fr[i], sizeof(fr[i]) };
	}
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(net_backend_send(f->a.be, NULL, &v[i], 1,
						  100), 0);
	/* nothing before the flush: the chains are still the device's */
	assert_true(recv(f->raw, m, sizeof(m), MSG_DONTWAIT) < 0);
	/* a copied frame: the four go first */
	assert_int_equal(net_backend_send(f->a.be, csum_hdr, &v[4], 1, 100),
			 0);
	assert_int_equal(net_backend_send(f->a.be, NULL, &v[5], 1, 100), 0);
	assert_int_equal(net_backend_tx_flush(f->a.be, 0, &bytes), 0);
	assert_int_equal(bytes, 0);
	for (unsigned i = 0; i < 6; i++) {
		assert_int_equal(recv(f->raw, m, sizeof(m), MSG_DONTWAIT), 100);
		assert_int_equal(m[0], fr[i][0]);
		if (i != 4)
			assert_memory_equal(m, fr[i], 100);
	}
	assert_int_equal(stats(&f->a).tx_frames, 6);
	/* the other side gone: what the batch holds is counted lost */
	assert_int_equal(net_backend_send(f->a.be, NULL, &v[6], 1, 100), 0);
	assert_int_equal(net_backend_send(f->a.be, NULL, &v[7], 1, 100), 0);
	shutdown(f->raw, SHUT_RD);
	assert_int_equal(net_backend_tx_flush(f->a.be, 0, &bytes), 2);
	assert_int_equal(bytes, 200);
	assert_int_equal(stats(&f->a).tx_frames, 6);
	assert_int_equal(stats(&f->a).tx_down, 2);
}

/* An empty message (how a closed connection reads) in the middle of a
 * batch: the frames before it reach the device, and the link goes down,
 * as for a close. */
static void test_empty_message_mid_batch(void **state)
{
	struct fix *f = *state;
	uint8_t fr[100];

	raw_link(f, 0, 0);
	raw_send(f, fr, 1, 3);
	assert_int_equal(send(f->raw, fr, 0, 0), 0);
	PUMP_UNTIL(f, !f->a.up);
	assert_int_equal(f->a.nr, 2);
	assert_int_equal(f->a.first[1], (uint8_t)(2 * 31));
	assert_int_equal(f->a.downs, 1);
}

/* Frames with the link's header sent right behind the hello, before A
 * has read either: each is laid out by the features the hello brought. */
static void test_frames_behind_hello(void **state)
{
	struct fix *f = *state;
	uint8_t m[NET_PEER_HDR_LEN + 100];

	open_side(f, &f->a, 0x3);
	raw_connect(f);
	raw_read_hello(f, 0x3);
	raw_hello(f, 0x3);
	memset(m, 0, NET_PEER_HDR_LEN);
	for (unsigned i = 0; i < 3; i++) {
		make_frame(m + NET_PEER_HDR_LEN, 100, i);
		assert_int_equal(send(f->raw, m, sizeof(m), 0), sizeof(m));
	}
	PUMP_UNTIL(f, f->a.nr == 3);
	assert_true(f->a.up);
	assert_int_equal(f->a.last_len, 100);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(f->a.first[i], (uint8_t)(i * 31));
	assert_false(f->a.misaligned);
	assert_int_equal(stats(&f->a).rx_bad_hdr, 0);
}

/* The other side stops reading: sends fail at once, dropped and counted;
 * the link stays up. */
static void test_send_full(void **state)
{
	struct fix *f = *state;
	uint8_t fr[1514];
	int rc = 0;

	raw_link(f, 0, 0);
	make_frame(fr, sizeof(fr), 2);
	for (unsigned i = 0; i < 100000 && !rc; i++)
		rc = send_frame(&f->a, NULL, fr, sizeof(fr));
	assert_int_equal(rc, -EAGAIN);
	assert_int_equal(stats(&f->a).tx_full, 1);
	assert_true(stats(&f->a).tx_frames > 0);
	pump_idle(f);
	assert_true(f->a.up);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_link_both_ways, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_restart_either_side,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_socket_and_bad_path,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_hello_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_oversize_runt_bad_header,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_feats_intersection, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_feats_both_and_wire,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_flow_control, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_send_full, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_batches, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tx_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reconnect_loop_log, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_message_mid_batch,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_frames_behind_hello,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

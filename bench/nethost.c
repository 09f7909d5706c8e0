/* nethost: the host side of bench/net.sh.
 *
 *   nethost --tsc                      TSC rate in kHz (for tsc_khz=)
 *   nethost udp-sink PORTFILE          counts UDP datagrams on 127.0.0.1
 *   nethost udp-flood PORTFILE         answers the guest's request
 *                                      ("NBGO" size count secs) with a
 *                                      flood of UDP datagrams
 *   nethost pkt-flood IFNAME           the same over raw frames of type
 *                                      0x88b5 on IFNAME (a tap's far end)
 *   nethost tap-tx TAP SIZE COUNT      the limit: COUNT frames written to
 *                                      the tap as a VMM writes them; a
 *                                      SIZE above 1514 (up to 65536) is
 *                                      a TCP/IPv4 frame with GSO_TCPV4,
 *                                      as the guest's tso=1 sends it
 *   nethost tap-rx TAP SIZE SECS       the limit: a pkt-flood on the tap
 *                                      read back from its fd as a VMM
 *                                      reads it
 * The servers write PORTFILE once bound and stop on SIGTERM, printing
 * what they counted. Result lines: "RESULT nethost MODE size=S frames=N
 * ns=T pps=P gbps=G".
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/ethernet.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#define ETH_P_BENCH 0x88b5
#define BENCH_HDR   42     /* Ethernet + IPv4 + UDP headers */
#define FRAME_MAX   1514
#define TSO_MAX     65536
#define TSO_HDRS    (14 + 20 + 20)
#define TSO_SEQ     (14 + 20 + 4)   /* TCP's sequence number */

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void report(const char *mode, unsigned size, uint64_t frames,
		   uint64_t ns)
{
	double s = ns / 1e9;

	printf("RESULT nethost %s size=%u frames=%llu ns=%llu pps=%.0f "
	       "gbps=%.3f\n", mode, size, (unsigned long long)frames,
	       (unsigned long long)ns, s > 0 ? frames / s : 0,
	       s > 0 ? frames * size * 8 / s / 1e9 : 0);
	fflush(stdout);
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void catch_term(void)
{
	struct sigaction sa = { .sa_handler = on_term };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* A UDP socket on 127.0.0.1, its port written to portfile (atomically). */
static int udp_bound(const char *portfile)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t len = sizeof(a);
	char tmp[4096];
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	int big = 8 << 20;
	FILE *f;

	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &len) < 0)
		die("bind");
	snprintf(tmp, sizeof(tmp), "%s.tmp", portfile);
	f = fopen(tmp, "w");
	if (!f)
		die(tmp);
	fprintf(f, "%u\n", ntohs(a.sin_port));
	if (fclose(f) || rename(tmp, portfile))
		die(portfile);
	return fd;
}

static int udp_sink(const char *portfile)
{
	int fd = udp_bound(portfile);
	uint64_t frames = 0, bytes = 0, t0 = 0, t1 = 0;
	char buf[65536];

	catch_term();
	while (!stop) {
		ssize_t n = recv(fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		t1 = now_ns();
		if (!frames++)
			t0 = t1;
		bytes += (uint64_t)n;
	}
	printf("nethost udp-sink: datagrams=%llu bytes=%llu\n",
	       (unsigned long long)frames, (unsigned long long)bytes);
	report("udp-sink", frames ? (unsigned)(bytes / frames) + BENCH_HDR : 0,
	       frames > 1 ? frames - 1 : 0, t1 - t0);
	return 0;
}

struct request {
	unsigned size, count, secs;
};

/* "NBGO" size count secs, big-endian; false if p is not one. */
static int parse_request(const uint8_t *p, size_t len, struct request *r)
{
	uint32_t v[3];

	if (len < 16 || memcmp(p, "NBGO", 4))
		return 0;
	memcpy(v, p + 4, sizeof(v));
	r->size = ntohl(v[0]);
	r->count = ntohl(v[1]);
	r->secs = ntohl(v[2]);
	return r->size >= 60 && r->size <= FRAME_MAX && r->secs <= 3600;
}

/* Sends until count frames (0: no limit), secs seconds or SIGTERM. */
typedef int (*send_fn)(void *ctx, uint8_t *frame, unsigned size);

static uint64_t flood(send_fn fn, void *ctx, uint8_t *frame, unsigned size,
		      const struct request *r, unsigned off)
{
	uint64_t sent = 0, end = now_ns() + (uint64_t)r->secs * 1000000000u;

	while (!stop && (!r->count || sent < r->count)) {
		uint32_t seq = (uint32_t)sent;

		memcpy(frame + off, &seq, 4);
		if (fn(ctx, frame, size) == 0)
			sent++;
		/* The clock only every 256 frames: it is not free. */
		if ((sent & 255) == 0 && now_ns() >= end)
			break;
	}
	return sent;
}

struct udp_ctx {
	int fd;
	struct sockaddr_in to;
};

static int udp_send1(void *ctx, uint8_t *frame, unsigned size)
{
	struct udp_ctx *c = ctx;

	/* A full socket buffer on loopback is the receiver's drop, not
	 * ours: only errors other than ENOBUFS/EAGAIN count. */
	if (sendto(c->fd, frame + BENCH_HDR, size - BENCH_HDR, 0,
		   (struct sockaddr *)&c->to, sizeof(c->to)) < 0)
		return errno == ENOBUFS || errno == EAGAIN ? -1 : (die("sendto"), -1);
	return 0;
}

static int udp_flood(const char *portfile)
{
	struct udp_ctx c = { .fd = udp_bound(portfile) };
	socklen_t alen = sizeof(c.to);
	uint8_t buf[2048] = { 0 }, frame[FRAME_MAX] = { 0 };
	struct request r;
	uint64_t sent = 0;

	catch_term();
	while (!stop) {
		ssize_t n = recvfrom(c.fd, buf, sizeof(buf), 0,
				     (struct sockaddr *)&c.to, &alen);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recvfrom");
		}
		if (!parse_request(buf, (size_t)n, &r))
			continue;
		uint64_t t0 = now_ns();
		sent = flood(udp_send1, &c, frame, r.size, &r, BENCH_HDR);
		report("udp-flood", r.size, sent, now_ns() - t0);
		/* Requests the guest repeated meanwhile: not a new flood. */
		int fl = fcntl(c.fd, F_GETFL);
		fcntl(c.fd, F_SETFL, fl | O_NONBLOCK);
		while (recv(c.fd, buf, sizeof(buf), 0) > 0)
			;
		fcntl(c.fd, F_SETFL, fl);
	}
	return 0;
}

/* ---- raw frames on an interface (the far end of a tap) ---- */

struct pkt_ctx {
	int fd;
	struct sockaddr_ll to;
};

static int pkt_open(const char *ifname, struct pkt_ctx *c)
{
	c->fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_BENCH));
	if (c->fd < 0)
		die("socket(AF_PACKET)");
	memset(&c->to, 0, sizeof(c->to));
	c->to.sll_family = AF_PACKET;
	c->to.sll_protocol = htons(ETH_P_BENCH);
	c->to.sll_ifindex = (int)if_nametoindex(ifname);
	if (!c->to.sll_ifindex)
		die(ifname);
	if (bind(c->fd, (struct sockaddr *)&c->to, sizeof(c->to)) < 0)
		die("bind(AF_PACKET)");
	/* Our own flood must not be copied back to us. */
	int one = 1;
	setsockopt(c->fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof(one));
	return 0;
}

static int pkt_send1(void *ctx, uint8_t *frame, unsigned size)
{
	struct pkt_ctx *c = ctx;

	/* A full tap queue drops in the kernel; only hard errors stop. */
	if (sendto(c->fd, frame, size, 0, (struct sockaddr *)&c->to,
		   sizeof(c->to)) < 0)
		return errno == ENOBUFS || errno == EAGAIN ? -1 : (die("sendto"), -1);
	return 0;
}

/* A frame of type 0x88b5 from src to dst, size bytes. */
static void bench_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src,
			unsigned size)
{
	memset(f, 0, size);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = ETH_P_BENCH >> 8;
	f[13] = ETH_P_BENCH & 255;
}

/* Only the guest's requests reach the socket: a classic BPF filter keeps
 * frames whose payload does not start with "NBGO" in the kernel. The TX
 * cases send frames of the same type, hundreds of thousands a second,
 * and each one copied to this socket and a wake-up of this process took
 * a CPU from the guest and its VMM on a 2-core host: a VMM's 64-byte TX
 * rate there was half of what it was with no flooder listening, the
 * limit's a quarter lower (docs/benchmarks.md). */
static void listen_for_requests(int fd)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, 14),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x4e42474f, 0, 1), /* NBGO */
		BPF_STMT(BPF_RET | BPF_K, 0xffff),
		BPF_STMT(BPF_RET | BPF_K, 0),
	};
	struct sock_fprog p = { .len = 4, .filter = f };

	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &p, sizeof(p)) < 0)
		die("SO_ATTACH_FILTER");
}

static int pkt_flood(const char *ifname)
{
	static const uint8_t me[6] = { 0x02, 0, 0, 0, 0xbe, 0x01 };
	struct pkt_ctx c;
	uint8_t buf[2048], frame[FRAME_MAX];
	struct request r;

	pkt_open(ifname, &c);
	listen_for_requests(c.fd);
	catch_term();
	printf("nethost pkt-flood: waiting on %s\n", ifname);
	fflush(stdout);
	while (!stop) {
		ssize_t n = recv(c.fd, buf, sizeof(buf), 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv");
		}
		if (n < 14 + 16 || !parse_request(buf + 14, (size_t)n - 14, &r))
			continue;
		bench_frame(frame, buf + 6, me, r.size);
		uint64_t t0 = now_ns();
		uint64_t sent = flood(pkt_send1, &c, frame, r.size, &r, 14);
		report("pkt-flood", r.size, sent, now_ns() - t0);
	}
	return 0;
}

/* ---- the limit: a program doing a VMM's tap I/O, nothing else ---- */

/* The tap as a VMM opens it: no packet info, a 12-byte virtio_net_hdr
 * (VERSION_1 with num_buffers) before each frame. */
static int tap_open(const char *name)
{
	struct ifreq ifr = { 0 };
	int hdr = sizeof(struct virtio_net_hdr_mrg_rxbuf);
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		die("/dev/net/tun");
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		die("TUNSETIFF");
	if (ioctl(fd, TUNSETVNETHDRSZ, &hdr) < 0)
		die("TUNSETVNETHDRSZ");
	return fd;
}

static uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static uint16_t ip_hdr_csum(const uint8_t *p, unsigned len)
{
	uint32_t sum = 0;

	for (unsigned i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	return (uint16_t)~csum_fold(sum);
}

static void put16be(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* The guest's TSO frame (guest/net_bench.c build_tso): Ethernet, IPv4
 * 198.18.0.2 -> 198.18.0.1, TCP with the pseudo-header sum (no length)
 * in its checksum; h asks for GSO_TCPV4 segments of a 1500-byte MTU. */
static void tso_frame(uint8_t *f, const uint8_t *dst, const uint8_t *src,
		      unsigned size, struct virtio_net_hdr_mrg_rxbuf *h)
{
	static const uint8_t saddr[4] = { 198, 18, 0, 2 }, daddr[4] = { 198, 18, 0, 1 };
	uint8_t *ip = f + 14, *tcp = ip + 20;

	memset(f, 0, size);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16be(f + 12, 0x0800);
	ip[0] = 0x45;
	put16be(ip + 2, (uint16_t)(size - 14));
	put16be(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;
	memcpy(ip + 12, saddr, 4);
	memcpy(ip + 16, daddr, 4);
	put16be(ip + 10, ip_hdr_csum(ip, 20));
	put16be(tcp, 40001);
	put16be(tcp + 2, 9);
	tcp[12] = 5 << 4;
	tcp[13] = 0x18;
	put16be(tcp + 14, 65535);
	put16be(tcp + 16, csum_fold((198 << 8 | 18) * 2u + 2 + 1 + 6));
	h->hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	h->hdr.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	h->hdr.hdr_len = TSO_HDRS;
	h->hdr.gso_size = 1460;
	h->hdr.csum_start = 14 + 20;
	h->hdr.csum_offset = 16;
}

static int tap_tx(const char *name, unsigned size, uint64_t count)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t me[6] = { 0x02, 0, 0, 0, 0xbe, 0x02 };
	struct virtio_net_hdr_mrg_rxbuf h = { 0 };
	static uint8_t frame[TSO_MAX];
	int fd = tap_open(name);
	uint64_t sent = 0, t0;
	/* The sequence number: TCP's for a TSO frame, else the payload's
	 * first bytes (as the guest does). */
	unsigned seq_off = size > FRAME_MAX ? TSO_SEQ : 14;

	if (size > FRAME_MAX)
		tso_frame(frame, bcast, me, size, &h);
	else
		bench_frame(frame, bcast, me, size);
	t0 = now_ns();
	while (sent < count) {
		struct iovec iov[2] = { { &h, sizeof(h) }, { frame, size } };
		uint32_t seq = (uint32_t)sent;

		memcpy(frame + seq_off, &seq, 4);
		if (writev(fd, iov, 2) < 0) {
			if (errno == EINTR)
				continue;
			die("writev(tap)");
		}
		sent++;
	}
	report("tap-tx", size, sent, now_ns() - t0);
	close(fd);
	return 0;
}

struct rx_flooder {
	const char *ifname;
	unsigned size;
	volatile int done;
};

static void *rx_flooder_main(void *arg)
{
	static const uint8_t me[6] = { 0x02, 0, 0, 0, 0xbe, 0x01 };
	static const uint8_t guest[6] = { 0x02, 0, 0, 0, 0xbe, 0x03 };
	struct rx_flooder *fl = arg;
	struct request r = { .size = fl->size, .count = 0, .secs = 3600 };
	uint8_t frame[FRAME_MAX];
	struct pkt_ctx c;

	pkt_open(fl->ifname, &c);
	bench_frame(frame, guest, me, fl->size);
	while (!fl->done) {
		r.secs = 1;
		flood(pkt_send1, &c, frame, fl->size, &r, 14);
	}
	close(c.fd);
	return NULL;
}

static int tap_rx(const char *name, unsigned size, unsigned secs)
{
	struct rx_flooder fl = { .ifname = name, .size = size };
	uint8_t buf[sizeof(struct virtio_net_hdr_mrg_rxbuf) + 65536];
	int fd = tap_open(name);
	uint64_t frames = 0, first = 0, last = 0, end;
	pthread_t th;

	if (pthread_create(&th, NULL, rx_flooder_main, &fl))
		die("pthread_create");
	end = now_ns() + (uint64_t)secs * 1000000000u;
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	while (now_ns() < end) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0) {
			if (errno == EAGAIN)
				poll(&p, 1, 100);
			else if (errno != EINTR)
				die("read(tap)");
			continue;
		}
		if ((size_t)n != sizeof(struct virtio_net_hdr_mrg_rxbuf) + size)
			continue;   /* not the flood (IPv6 router solicits...) */
		last = now_ns();
		if (!frames++)
			first = last;
	}
	fl.done = 1;
	pthread_join(th, NULL);
	report("tap-rx", size, frames > 1 ? frames - 1 : 0, last - first);
	close(fd);
	return 0;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return (uint64_t)hi << 32 | lo;
}

static void usage(void)
{
	fprintf(stderr, "usage: nethost --tsc | udp-sink PORTFILE | "
		"udp-flood PORTFILE | pkt-flood IFNAME |\n"
		"       tap-tx TAP SIZE COUNT | tap-rx TAP SIZE SECS\n");
	exit(2);
}

static unsigned frame_size(const char *s, unsigned max)
{
	unsigned long v = strtoul(s, NULL, 0);

	if (v < 60 || v > max)
		usage();
	return (unsigned)v;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 2 && !strcmp(argv[1], "--tsc")) {
		uint64_t t0 = now_ns(), c0 = rdtsc();

		usleep(200000);
		uint64_t t1 = now_ns(), c1 = rdtsc();

		printf("%llu\n", (unsigned long long)((c1 - c0) * 1000000 / (t1 - t0)));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "udp-sink"))
		return udp_sink(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "udp-flood"))
		return udp_flood(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "pkt-flood"))
		return pkt_flood(argv[2]);
	if (argc == 5 && !strcmp(argv[1], "tap-tx"))
		return tap_tx(argv[2], frame_size(argv[3], TSO_MAX),
			      strtoull(argv[4], NULL, 0));
	if (argc == 5 && !strcmp(argv[1], "tap-rx"))
		return tap_rx(argv[2], frame_size(argv[3], FRAME_MAX),
			      (unsigned)strtoul(argv[4], NULL, 0));
	usage();
	return 2;
}

/* net-tx-bench / net-rx-bench: frames of size= bytes (the Ethernet frame
 * the device carries, without the virtio header or an FCS; 60..1514) as
 * fast as the guest can move them, rates by the guest clock.
 *
 *   net-tx-bench size=S [count=N | secs=T] [batch=B] ...
 *       sends N frames (default 200000), or for T seconds; kicks the
 *       device every B frames (default 32). Timed from the first frame
 *       to the device's return of the last one.
 *   net-rx-bench size=S [count=N] [secs=T] [idle_ms=I] ...
 *       asks the far end for a flood (a request frame, repeated until
 *       the flood starts), counts the frames of size S that arrive,
 *       until N (default unlimited) or I ms (default 500) without one.
 *       Timed from the first frame to the last.
 *
 *   net-tx-bench raw=1 tso=1 size=S [mss=M] ...
 *       TCP/IPv4 frames of up to 64 KiB (S up to 65536) handed to the
 *       device with GSO_TCPV4, for it (or its backend) to cut into
 *       segments of M payload bytes (default the MTU's): the headers are
 *       copied per frame, the payload is one buffer shared by all.
 *
 * Two kinds of far end:
 *   default  UDP to dst=:port= (default the gateway: under user
 *            networking the host's loopback, where bench/nethost runs a
 *            sink or a flooder); the guest's address as in net_wl.c.
 *   raw=1    raw Ethernet frames of type 0x88b5 (IEEE local
 *            experimental) to dmac= (default broadcast): for a tap, whose
 *            far end is the host's kernel; no IP, no ARP.
 * The rx request carries "NBGO", the frame size, count and secs (each a
 * big-endian u32), so the flooder needs no configuration of its own.
 *
 * Output: RESULT net-tx-bench|net-rx-bench size=S frames=N ns=T pps=P
 * gbps=G.GGG (gbps counts the frame bytes, size * 8 per frame).
 */
#include "net.h"

#define ETH_P_IP    0x0800
#define ETH_P_BENCH 0x88b5
#define BENCH_HDR   42     /* Ethernet + IPv4 + UDP headers */

static struct net the_net;
static struct netif the_nif;
static u8 frame[ETH_MAX_FRAME + 64];

/* dmac=xx:xx:xx:xx:xx:xx, default broadcast. */
static void param_mac(u8 mac[6])
{
	const char *s = param("dmac");
	memset(mac, 0xff, 6);
	for (u32 i = 0; s && i < 6; i++) {
		u32 v = 0;
		for (u32 k = 0; k < 2; k++, s++) {
			char c = *s;
			u32 d = c >= '0' && c <= '9' ? (u32)(c - '0') :
				c >= 'a' && c <= 'f' ? (u32)(c - 'a' + 10) :
				c >= 'A' && c <= 'F' ? (u32)(c - 'A' + 10) : 99;
			if (d > 15) {
				printf("net-bench: bad dmac=\n");
				exit(2);
			}
			v = v << 4 | d;
		}
		mac[i] = (u8)v;
		if (i < 5 && *s++ != ':') {
			printf("net-bench: bad dmac=\n");
			exit(2);
		}
	}
}

struct bench {
	bool raw, tso;
	u32 size;
	u32 dst;
	u16 sport, dport;
	u8 dmac[6];
	u64 deadline;
};

/* Opens the device; for UDP configures the address and resolves dst. */
static int bench_setup(struct bench *b, const char *wl)
{
	b->raw = param_u64("raw", 0) != 0;
	b->tso = param_u64("tso", 0) != 0;
	b->size = (u32)param_u64("size", 64);
	b->sport = (u16)param_u64("sport", 40001);
	u64 port = param_u64("port", 0);
	b->deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 120000));
	u32 max = b->tso ? NET_TSO_MAX : ETH_MAX_FRAME;
	if (b->size < ETH_MIN_FRAME || b->size > max ||
	    (!b->raw && (!port || port > 65535)) || (b->tso && !b->raw)) {
		printf("%s: want size=60..1514 (65536 with tso=1) and "
		       "port=1..65535 (or raw=1; tso=1 needs raw=1)\n", wl);
		exit(2);
	}
	b->dport = (u16)port;
	if (net_open(&the_net) < 0)
		return -1;
	struct netif *nif = &the_nif;
	netif_init(nif, &the_net);
	if (b->raw) {
		param_mac(b->dmac);
		return 0;
	}
	if (param_u64("dhcp", 0)) {
		if (dhcp_run(nif, b->deadline) < 0)
			return -1;
	} else {
		nif->ip = net_param_ip("net-bench", "ip", IP4(10, 0, 2, 15));
		nif->gw = net_param_ip("net-bench", "gw", IP4(10, 0, 2, 2));
		nif->mask = net_param_ip("net-bench", "mask", IP4(255, 255, 255, 0));
	}
	b->dst = net_param_ip("net-bench", "dst", nif->gw);
	if (!arp_resolve(nif, b->dst, b->dmac, b->deadline)) {
		printf("%s: no ARP reply\n", wl);
		return -1;
	}
	return 0;
}

/* Builds a frame of len bytes in f: Ethernet, and for UDP the IPv4 and
 * UDP headers (UDP checksum 0: none, so the payload may change without
 * a new one). Returns the payload offset. */
static u32 build(const struct bench *b, u8 *f, u32 len)
{
	memcpy(f, b->dmac, 6);
	memcpy(f + 6, the_net.mac, 6);
	memset(f + 14, 0, len - 14);
	if (b->raw) {
		put16(f + 12, ETH_P_BENCH);
		return 14;
	}
	put16(f + 12, ETH_P_IP);
	u8 *ip = f + 14;
	ip[0] = 0x45;
	put16(ip + 2, (u16)(len - 14));
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = IP_PROTO_UDP;
	put32(ip + 12, the_nif.ip);
	put32(ip + 16, b->dst);
	put16(ip + 10, ip_csum(ip, 20, 0));
	u8 *u = ip + 20;
	put16(u, b->sport);
	put16(u + 2, b->dport);
	put16(u + 4, (u16)(len - 34));
	return BENCH_HDR;
}

/* The Ethernet, IPv4 and TCP headers of a TSO frame of len bytes (to
 * dmac, between two addresses of RFC 2544's benchmark range, which the
 * far end does not own: its kernel drops them after taking them in).
 * The TCP checksum holds the pseudo-header sum without the length, as
 * GSO_TCPV4 expects. Returns the headers' length. */
#define TSO_HDRS (14 + 20 + 20)
static u32 build_tso(const struct bench *b, u8 *f, u32 len)
{
	memset(f, 0, TSO_HDRS);
	memcpy(f, b->dmac, 6);
	memcpy(f + 6, the_net.mac, 6);
	put16(f + 12, ETH_P_IP);
	u8 *ip = f + 14, *tcp = ip + 20;
	u32 src = IP4(198, 18, 0, 2), dst = IP4(198, 18, 0, 1);
	ip[0] = 0x45;
	put16(ip + 2, (u16)(len - 14));
	put16(ip + 6, 0x4000);
	ip[8] = 64;
	ip[9] = 6;               /* TCP */
	put32(ip + 12, src);
	put32(ip + 16, dst);
	put16(ip + 10, ip_csum(ip, 20, 0));
	put16(tcp, b->sport);
	put16(tcp + 2, 9);       /* discard */
	tcp[12] = 5 << 4;        /* data offset: 20 bytes */
	tcp[13] = 0x18;          /* PSH, ACK */
	put16(tcp + 14, 65535);
	u32 sum = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) + 6;
	put16(tcp + 16, (u16)~ip_csum(tcp, 0, sum));
	return TSO_HDRS;
}

/* net-tx-bench's loop with tso=1: returns the frames sent, or -1. */
static int64_t tx_tso_loop(struct bench *b, u64 count, u64 until, u64 batch)
{
	static u8 payload[NET_TSO_MAX];
	struct net *n = &the_net;
	u16 mss = (u16)param_u64("mss", n->mtu - 40u);
	u32 hlen = build_tso(b, frame, b->size);
	u64 sent = 0;
	for (;;) {
		if (until ? rdtsc() >= until : sent >= count)
			break;
		put32(frame + 14 + 20 + 4, (u32)sent * (b->size - hlen));
		if (net_send_tso(n, frame, hlen, payload, b->size - hlen,
				 mss) < 0)
			return -1;
		if (++sent % batch == 0)
			net_flush(n);
	}
	return (int64_t)sent;
}

static void report(const char *wl, u32 size, u64 frames, u64 ticks)
{
	u64 ns = ticks * 1000000 / (tsc_khz(NULL) ?: 1);
	u64 pps = ns ? frames * 1000000000ull / ns : 0;
	u64 mbps = ns ? frames * size * 8000ull / ns : 0;   /* Mbit/s */
	printf("RESULT %s size=%u frames=%lu ns=%lu pps=%lu gbps=%lu.%03lu\n",
	       wl, size, frames, ns, pps, mbps / 1000, mbps % 1000);
}

int wl_net_tx_bench(void)
{
	struct bench b;
	struct net *n = &the_net;
	u64 count = param_u64("count", 200000);
	u64 secs = param_u64("secs", 0);
	u64 batch = param_u64("batch", 32);
	if (!count || !batch || batch > VIRTQ_MAX_SIZE) {
		printf("net-tx-bench: want count>0 batch=1..%u\n", VIRTQ_MAX_SIZE);
		return 2;
	}
	if (bench_setup(&b, "net-tx-bench") < 0)
		return 1;
	if (b.tso && !n->tso) {
		printf("net-tx-bench: tso=1: the device offers no HOST_TSO4\n");
		return 1;
	}
	u32 off = b.tso ? 0 : build(&b, frame, b.size);
	u64 sent = 0;
	u64 t0 = rdtsc(), until = secs ? t0 + ms_to_tsc(secs * 1000) : 0;
	n->batch = true;
	if (b.tso) {
		int64_t r = tx_tso_loop(&b, count, until, batch);
		if (r < 0) {
			printf("net-tx-bench: the device stopped taking frames\n");
			return 1;
		}
		sent = (u64)r;
	}
	for (; !b.tso;) {
		if (secs ? rdtsc() >= until : sent >= count)
			break;
		memcpy(frame + off, &sent, 4);   /* a sequence number */
		if (net_send(n, frame, b.size) < 0) {
			printf("net-tx-bench: the device stopped taking frames "
			       "after %lu\n", sent);
			return 1;
		}
		if (++sent % batch == 0)
			net_flush(n);
	}
	net_flush(n);
	/* Done when the device has given back every frame. */
	while (n->tx.used->idx != n->tx.next_avail) {
		if (rdtsc() >= b.deadline) {
			printf("net-tx-bench: frames never came back\n");
			return 1;
		}
		cpu_relax();
	}
	u64 t1 = rdtsc();
	n->batch = false;
	printf("net-tx-bench: %s kicks_tx=%lu\n",
	       b.tso ? "tso" : b.raw ? "raw" : "udp", n->tx.kicks);
	report("net-tx-bench", b.size, sent, t1 - t0);
	net_close(n);
	return 0;
}

/* The flood request: "NBGO", size, count, secs. */
static int send_request(struct bench *b, u64 count, u64 secs)
{
	u8 *f = frame;
	u32 len = b->raw ? ETH_MIN_FRAME : BENCH_HDR + 16;
	u32 off = build(b, f, len);
	memcpy(f + off, "NBGO", 4);
	put32(f + off + 4, b->size);
	put32(f + off + 8, (u32)count);
	put32(f + off + 12, (u32)secs);
	if (net_send(&the_net, f, len) < 0)
		return -1;
	net_flush(&the_net);
	return 0;
}

/* A frame of the flood: the size asked for, the right type (and UDP
 * port). Checked by bytes, no parsing beyond that: the guest's cost per
 * frame is the copy. */
static bool is_flood(const struct bench *b, const u8 *f, int len)
{
	if (len != (int)b->size)
		return false;
	if (b->raw)
		return f[12] == ETH_P_BENCH >> 8 && f[13] == (ETH_P_BENCH & 255);
	return f[12] == 0x08 && f[13] == 0 && f[23] == IP_PROTO_UDP &&
	       f[36] == b->sport >> 8 && f[37] == (b->sport & 255);
}

int wl_net_rx_bench(void)
{
	struct bench b;
	static u8 rx[ETH_MAX_FRAME + 64];
	u64 count = param_u64("count", 0);
	u64 secs = param_u64("secs", 2);
	u64 idle = ms_to_tsc(param_u64("idle_ms", 500));
	if (bench_setup(&b, "net-rx-bench") < 0)
		return 1;
	u64 frames = 0, other = 0, first = 0, last = 0;
	u64 next_req = 0;
	for (;;) {
		u64 now = rdtsc();
		if (!frames && now >= next_req) {
			if (now >= b.deadline) {
				printf("net-rx-bench: no flood came\n");
				return 1;
			}
			if (send_request(&b, count, secs) < 0)
				return 1;
			next_req = now + ms_to_tsc(200);
		}
		int len = net_recv(&the_net, rx, sizeof(rx));
		if (len > 0 && is_flood(&b, rx, len)) {
			last = rdtsc();
			if (!frames++)
				first = last;
			if (count && frames >= count)
				break;
			continue;
		}
		if (len != 0)
			other++;
		if (frames && rdtsc() - last >= idle)
			break;
		if (rdtsc() >= b.deadline)
			break;
		if (!len)
			cpu_relax();
	}
	printf("net-rx-bench: %s other_frames=%lu rx_bad=%lu kicks_rx=%lu\n",
	       b.raw ? "raw" : "udp", other, the_net.rx_bad, the_net.rx.kicks);
	/* Rate over the intervals between the first and the last frame. */
	report("net-rx-bench", b.size, frames > 1 ? frames - 1 : 0, last - first);
	net_close(&the_net);
	return frames > 1 ? 0 : 1;
}

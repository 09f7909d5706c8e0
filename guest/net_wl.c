/* The net-* workloads on the virtio-net driver and the tiny IP stack:
 *   net-dhcp      a DHCP lease (user networking: 10.0.2.15 via 10.0.2.2)
 *   net-ping      ARP + ICMP echo to the gateway (or dst=), count= times
 *   net-dns       name=: an A query to the DHCP lease's DNS server (dns=)
 *   net-udp-echo  count= datagrams to dst=:port= with up to window= in
 *                 flight; every echo is checked byte for byte (loop=1:
 *                 the echo is a hostfwd back to us, no server)
 * All take transport=/mmio= (the device), mrg=0 and rxbuf= (the driver),
 * and, but for net-dhcp, either dhcp=1 or ip=/gw=/mask= (default
 * 10.0.2.15, 10.0.2.2, 255.255.255.0: QEMU's and libslirp's defaults).
 */
#include "net.h"

static struct net the_net;
static struct netif the_nif;

/* An address parameter, or dflt when absent; exits 2 when malformed. */
static void print_stats(const char *wl)
{
	struct net *n = &the_net;
	struct netif *nif = &the_nif;
	printf("%s: rx=%lu tx=%lu rx_bad=%lu rx_oversize=%lu merged_bufs=%lu "
	       "dropped=%lu bad_csum=%lu arp_replies=%lu echo_replies=%lu "
	       "kicks_rx=%lu kicks_tx=%lu\n", wl, n->rx_frames, n->tx_frames,
	       n->rx_bad, n->rx_oversize, n->rx_merged, nif->dropped,
	       nif->bad_csum, nif->arp_replied, nif->echo_replied, n->rx.kicks,
	       n->tx.kicks);
}

/* Opens the device and configures the interface (DHCP or static). */
static int net_setup(struct netif *nif, bool dhcp, u64 deadline)
{
	if (net_open(&the_net) < 0)
		return -1;
	netif_init(nif, &the_net);
	if (dhcp)
		return dhcp_run(nif, deadline);
	nif->ip = net_param_ip("net", "ip", IP4(10, 0, 2, 15));
	nif->gw = net_param_ip("net", "gw", IP4(10, 0, 2, 2));
	nif->mask = net_param_ip("net", "mask", IP4(255, 255, 255, 0));
	return 0;
}

int wl_net_dhcp(void)
{
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	char a[16], b[16], c[16];
	if (net_setup(&the_nif, true, deadline) < 0) {
		print_stats("net-dhcp");
		printf("RESULT net-dhcp ok=0\n");
		return 1;
	}
	print_stats("net-dhcp");
	printf("RESULT net-dhcp ip=%s gw=%s dns=%s\n", net_ip_str(the_nif.ip, a),
	       net_ip_str(the_nif.gw, b), net_ip_str(the_nif.dns, c));
	net_close(&the_net);
	return 0;
}

#define PING_ID   0x4356
#define PING_DATA 56

int wl_net_ping(void)
{
	struct netif *nif = &the_nif;
	u64 count = param_u64("count", 4);
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 10000));
	if (!count || count > 65535) {
		printf("net-ping: count=%lu: want 1..65535\n", count);
		return 2;
	}
	if (net_setup(nif, param_u64("dhcp", 0), deadline) < 0)
		return 1;
	u32 dst = net_param_ip("net", "dst", nif->gw);
	char a[16];
	u8 req[8 + PING_DATA];
	u64 replies = 0, bad = 0, rtt_sum = 0;
	for (u64 seq = 0; seq < count; seq++) {
		memset(req, 0, sizeof(req));
		req[0] = 8;   /* echo request */
		req[4] = PING_ID >> 8;
		req[5] = PING_ID & 255;
		req[6] = (u8)(seq >> 8);
		req[7] = (u8)seq;
		for (u32 i = 0; i < PING_DATA; i++)
			req[8 + i] = (u8)(seq * 13 + i);
		u16 c = ip_csum(req, sizeof(req), 0);
		req[2] = (u8)(c >> 8);
		req[3] = (u8)c;
		u64 t0 = rdtsc();
		if (ip_send(nif, dst, IP_PROTO_ICMP, req, sizeof(req), deadline) < 0)
			break;
		u64 end = t0 + ms_to_tsc(1000);
		struct ip_pkt p;
		while (ip_recv(nif, IP_PROTO_ICMP, 0, &p, end)) {
			if (p.src != dst || p.data[0] != 0 ||
			    p.data[4] != req[4] || p.data[5] != req[5])
				continue;   /* not ours */
			if (p.len != sizeof(req) || p.data[6] != req[6] ||
			    p.data[7] != req[7] ||
			    memcmp(p.data + 8, req + 8, PING_DATA)) {
				bad++;
				continue;
			}
			replies++;
			rtt_sum += rdtsc() - t0;
			break;
		}
	}
	u64 khz = tsc_khz(NULL);
	u64 rtt_us = replies && khz ? rtt_sum * 1000 / khz / replies : 0;
	print_stats("net-ping");
	printf("RESULT net-ping dst=%s sent=%lu replies=%lu bad=%lu rtt_us=%lu\n",
	       net_ip_str(dst, a), count, replies, bad, rtt_us);
	net_close(&the_net);
	return replies == count && !bad ? 0 : 1;
}

/* Datagram seq: size (4..1472; size=0 varies it) and contents: the
 * sequence number (little-endian) then a pattern of it. */
#define UDP_MAX_DATA 1472

static u32 dgram_size(u64 size, u32 seq)
{
	return size ? (u32)size : 4 + seq * 389u % (UDP_MAX_DATA - 3);
}

static u8 dgram_byte(u32 seq, u32 i)
{
	return (u8)(seq * 131u + i * 7u + 0x5a);
}

static void dgram_fill(u8 *b, u32 seq, u32 len)
{
	memcpy(b, &seq, 4);
	for (u32 i = 4; i < len; i++)
		b[i] = dgram_byte(seq, i);
}

static bool dgram_ok(const u8 *b, u32 seq, u32 len)
{
	for (u32 i = 4; i < len; i++)
		if (b[i] != dgram_byte(seq, i))
			return false;
	return true;
}

int wl_net_udp_echo(void)
{
	struct netif *nif = &the_nif;
	u64 count = param_u64("count", 10000);
	u64 size = param_u64("size", 0);
	u64 window = param_u64("window", 16);
	u64 port = param_u64("port", 0);
	u16 sport = (u16)param_u64("sport", 40000);
	/* loop=1: no echo server, the host's UDP stack is the loop: slirp
	 * sends our datagrams from a host socket to port= on the host,
	 * where a `hostfwd udp:127.0.0.1:PORT-:SPORT` hands them back to
	 * us, from that socket's port (learned from the first). */
	u32 rport = param_u64("loop", 0) ? 0 : (u32)port;
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 120000));
	u64 stall = ms_to_tsc(param_u64("stall_ms", 2000));
	if (!port || port > 65535 || !count || count > 10000000 ||
	    (size && (size < 4 || size > UDP_MAX_DATA)) || !window ||
	    window > 64) {
		printf("net-udp-echo: want port=1..65535 count=1..10^7 "
		       "size=0|4..1472 window=1..64\n");
		return 2;
	}
	u8 *got = heap_alloc(count, 8);
	static u8 buf[UDP_MAX_DATA];
	if (!got || net_setup(nif, param_u64("dhcp", 0), deadline) < 0)
		return 1;
	u32 dst = net_param_ip("net", "dst", nif->gw);
	u8 mac[6];
	char a[16];
	/* Resolve first: the sends below are batched (one kick a window). */
	if (!arp_resolve(nif, dst, mac, deadline)) {
		printf("net-udp-echo: no ARP reply for %s\n", net_ip_str(dst, a));
		return 1;
	}
	u64 sent = 0, received = 0, bad = 0, inflight = 0, bytes = 0;
	u64 t0 = rdtsc();
	bool stalled = false;
	while (sent < count || inflight) {
		the_net.batch = true;
		/* Refill once half the window has come back: fewer kicks
		 * (MMIO exits) than one datagram per echo. */
		while (sent < count && inflight < window &&
		       (inflight <= window / 2 || the_net.tx.unkicked)) {
			u32 len = dgram_size(size, (u32)sent);
			dgram_fill(buf, (u32)sent, len);
			if (udp_send(nif, dst, sport, (u16)port, buf, len,
				     deadline) < 0)
				goto out;
			sent++;
			inflight++;
		}
		the_net.batch = false;
		net_flush(&the_net);
		if (!inflight)
			break;
		struct ip_pkt p;
		u64 end = rdtsc() + stall;
		if (!ip_recv(nif, IP_PROTO_UDP, sport, &p, end < deadline ? end
								   : deadline)) {
			stalled = true;
			break;
		}
		u32 seq;
		if (!rport && p.src == dst)
			rport = p.sport;
		if (p.src != dst || p.sport != rport)
			continue;
		if (p.len < 4) {
			bad++;
			continue;
		}
		memcpy(&seq, p.data, 4);
		if (seq >= sent || got[seq]) {
			bad++;   /* never sent, or a duplicate */
			continue;
		}
		got[seq] = 1;
		inflight--;
		if (p.len == dgram_size(size, seq) && dgram_ok(p.data, seq, p.len)) {
			received++;
			bytes += p.len;
		} else {
			bad++;
		}
	}
out:;
	u64 ns = (rdtsc() - t0) * 1000000 / (tsc_khz(NULL) ?: 1);
	if (stalled)
		printf("net-udp-echo: no echo for %lu ms with %lu in flight\n",
		       param_u64("stall_ms", 2000), inflight);
	print_stats("net-udp-echo");
	printf("net-udp-echo: dst=%s port=%lu bytes=%lu ns=%lu\n",
	       net_ip_str(dst, a), port, bytes, ns);
	printf("RESULT net-udp-echo sent=%lu received=%lu bad=%lu lost=%lu "
	       "pps=%lu\n", sent, received, bad, inflight,
	       ns ? received * 1000000000ul / ns : 0);
	net_close(&the_net);
	return received == count && !bad ? 0 : 1;
}

/* --- net-dns: one A query through the DNS server DHCP gave us ------- */

#define DNS_PORT  53
#define DNS_SPORT 40053

/* A query for name (dotted, each label ≤ 63): header, QNAME, A, IN. */
static u32 dns_query(u8 *q, u32 cap, const char *name, u16 id)
{
	u32 len = 12;
	memset(q, 0, 12);
	q[0] = (u8)(id >> 8);
	q[1] = (u8)id;
	q[2] = 1;          /* RD */
	q[5] = 1;          /* QDCOUNT */
	while (*name) {
		const char *dot = name;
		while (*dot && *dot != '.')
			dot++;
		u32 l = (u32)(dot - name);
		if (!l || l > 63 || len + l + 1 + 5 > cap)
			return 0;
		q[len++] = (u8)l;
		memcpy(q + len, name, l);
		len += l;
		name = *dot ? dot + 1 : dot;
	}
	q[len++] = 0;
	q[len++] = 0; q[len++] = 1;      /* QTYPE A */
	q[len++] = 0; q[len++] = 1;      /* QCLASS IN */
	return len;
}

/* Skips a (possibly compressed) name at *off; false if it runs out. */
static bool dns_skip_name(const u8 *m, u32 len, u32 *off)
{
	for (u32 hops = 0; hops < 128 && *off < len; hops++) {
		u8 l = m[*off];
		if ((l & 0xc0) == 0xc0) {
			*off += 2;
			return *off <= len;
		}
		*off += 1u + l;
		if (!l)
			return *off <= len;
	}
	return false;
}

/* The first A record of a reply to id: 0 found, 1 no such record
 * (rcode in *rcode), -1 malformed or not ours. */
static int dns_answer(const u8 *m, u32 len, u16 id, u32 *addr, u32 *rcode)
{
	if (len < 12 || (m[0] << 8 | m[1]) != id || !(m[2] & 0x80))
		return -1;
	*rcode = m[3] & 15;
	u32 qd = (u32)(m[4] << 8 | m[5]), an = (u32)(m[6] << 8 | m[7]);
	u32 off = 12;
	for (u32 i = 0; i < qd; i++)
		if (!dns_skip_name(m, len, &off) || (off += 4) > len)
			return -1;
	for (u32 i = 0; i < an; i++) {
		if (!dns_skip_name(m, len, &off) || off + 10 > len)
			return -1;
		u32 type = (u32)(m[off] << 8 | m[off + 1]);
		u32 rdlen = (u32)(m[off + 8] << 8 | m[off + 9]);
		off += 10;
		if (off + rdlen > len)
			return -1;
		if (type == 1 && rdlen == 4) {
			*addr = (u32)m[off] << 24 | (u32)m[off + 1] << 16 |
				(u32)m[off + 2] << 8 | m[off + 3];
			return 0;
		}
		off += rdlen;
	}
	return 1;
}

/* net-dns name=NAME: resolves NAME through the DNS server of the DHCP
 * lease (or dns=), three tries a second apart, and prints its address. */
int wl_net_dns(void)
{
	struct netif *nif = &the_nif;
	const char *name = param("name");
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 20000));
	static u8 q[300];
	char a[16], b[16];
	u16 id = (u16)(rdtsc() | 1);
	u32 qlen = name ? dns_query(q, sizeof(q), name, id) : 0;
	if (!qlen) {
		printf("net-dns: want name=NAME (labels of 1..63 bytes)\n");
		return 2;
	}
	if (net_setup(nif, param_u64("dhcp", 1), deadline) < 0)
		return 1;
	u32 dns = net_param_ip("net", "dns", nif->dns ? nif->dns : IP4(10, 0, 2, 3));
	u32 addr = 0, rcode = 0;
	int rc = -1;
	for (int try = 0; try < 3 && rc < 0; try++) {
		if (udp_send(nif, dns, DNS_SPORT, DNS_PORT, q, qlen,
			     deadline) < 0)
			break;
		u64 end = rdtsc() + ms_to_tsc(1000);
		struct ip_pkt p;
		while (rc < 0 && ip_recv(nif, IP_PROTO_UDP, DNS_SPORT, &p,
					 end < deadline ? end : deadline))
			if (p.src == dns && p.sport == DNS_PORT)
				rc = dns_answer(p.data, p.len, id, &addr,
						&rcode);
	}
	print_stats("net-dns");
	if (rc < 0)
		printf("RESULT net-dns name=%s server=%s answer=none\n", name,
		       net_ip_str(dns, a));
	else if (rc)
		printf("RESULT net-dns name=%s server=%s rcode=%u\n", name,
		       net_ip_str(dns, a), rcode);
	else
		printf("RESULT net-dns name=%s server=%s addr=%s\n", name,
		       net_ip_str(dns, a), net_ip_str(addr, b));
	net_close(&the_net);
	return rc == 0 ? 0 : 1;
}

/* A tiny IPv4 stack for the net-* workloads: Ethernet II, ARP (cache,
 * requests, replies to requests for our address), IPv4 without options
 * on send and without fragments on receive, ICMP echo (we answer
 * requests), UDP with checksums, a DHCP client. Frames are parsed in
 * nif->rx and built in nif->tx; every length a frame claims is checked
 * against what arrived before anything behind it is read.
 */
#include "net.h"

#define ETH_P_IP  0x0800
#define ETH_P_ARP 0x0806
#define IP_HLEN   20
#define UDP_HLEN  8
#define IP_MAX_PAYLOAD (ETH_MAX_FRAME - ETH_HLEN - IP_HLEN)

static const u8 bcast_mac[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

/* Ones' complement sum of big-endian 16-bit words plus `sum`, folded
 * and complemented (RFC 1071). */
u16 ip_csum(const void *data, u32 len, u32 sum)
{
	const u8 *p = data;
	u64 s = sum;
	for (; len > 1; p += 2, len -= 2)
		s += get16(p);
	if (len)
		s += (u32)p[0] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)~s;
}

/* The UDP pseudo-header's contribution, unfolded. */
static u32 pseudo_sum(u32 src, u32 dst, u8 proto, u32 len)
{
	return (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
	       proto + len;
}

bool parse_ip4(const char *s, u32 *ip)
{
	u32 v = 0, part = 0, dots = 0, digits = 0;
	for (;; s++) {
		if (*s >= '0' && *s <= '9') {
			part = part * 10 + (u32)(*s - '0');
			if (part > 255 || ++digits > 3)
				return false;
		} else if ((*s == '.' || !*s) && digits) {
			v = v << 8 | part;
			part = digits = 0;
			if (!*s)
				break;
			if (++dots > 3)
				return false;
		} else {
			return false;
		}
	}
	*ip = v;
	return dots == 3;
}

void netif_init(struct netif *nif, struct net *n)
{
	memset(nif, 0, sizeof(*nif));
	nif->n = n;
	nif->mask = IP4(255, 255, 255, 0);
	nif->ip_id = 1;
}

/* ---- Ethernet and ARP ---- */

static int eth_send(struct netif *nif, u8 *f, const u8 dst[6], u16 type,
		    u32 len)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, nif->n->mac, 6);
	put16(f + 12, type);
	return net_send(nif->n, f, ETH_HLEN + len);
}

static void arp_learn(struct netif *nif, u32 ip, const u8 mac[6])
{
	for (u32 i = 0; i < ARP_ENTRIES; i++) {
		if (nif->arp[i].ip == ip) {
			memcpy(nif->arp[i].mac, mac, 6);
			return;
		}
	}
	struct arp_entry *e = &nif->arp[nif->arp_next++ % ARP_ENTRIES];
	e->ip = ip;
	memcpy(e->mac, mac, 6);
}

static const struct arp_entry *arp_lookup(struct netif *nif, u32 ip)
{
	for (u32 i = 0; i < ARP_ENTRIES; i++)
		if (ip && nif->arp[i].ip == ip)
			return &nif->arp[i];
	return NULL;
}

/* op 1 request, 2 reply. */
static int arp_send(struct netif *nif, u16 op, const u8 tha[6], u32 tpa)
{
	u8 *a = nif->arp_tx + ETH_HLEN;
	put16(a, 1);            /* Ethernet */
	put16(a + 2, ETH_P_IP);
	a[4] = 6;
	a[5] = 4;
	put16(a + 6, op);
	memcpy(a + 8, nif->n->mac, 6);
	put32(a + 14, nif->ip);
	memcpy(a + 18, op == 1 ? (const u8[6]){ 0 } : tha, 6);
	put32(a + 24, tpa);
	return eth_send(nif, nif->arp_tx, op == 1 ? bcast_mac : tha, ETH_P_ARP,
			28);
}

static void arp_input(struct netif *nif, const u8 *a, u32 len)
{
	if (len < 28 || get16(a) != 1 || get16(a + 2) != ETH_P_IP ||
	    a[4] != 6 || a[5] != 4) {
		nif->dropped++;
		return;
	}
	u16 op = get16(a + 6);
	u32 spa = get32(a + 14), tpa = get32(a + 24);
	u8 sha[6];
	memcpy(sha, a + 8, 6);
	if (spa)
		arp_learn(nif, spa, sha);
	if (op == 1 && nif->ip && tpa == nif->ip) {
		arp_send(nif, 2, sha, spa);
		net_flush(nif->n);
		nif->arp_replied++;
	}
}

/* ---- IPv4 receive ---- */

static void icmp_echo_reply(struct netif *nif, const struct ip_pkt *p,
			    const u8 mac[6]);

/* Parses the frame in nif->rx (len bytes). Returns true with *p filled
 * for an IPv4 packet worth giving to the caller. */
static bool frame_input(struct netif *nif, u32 len, struct ip_pkt *p)
{
	const u8 *f = nif->rx;
	u16 type = get16(f + 12);
	if (type == ETH_P_ARP) {
		arp_input(nif, f + ETH_HLEN, len - ETH_HLEN);
		return false;
	}
	if (type != ETH_P_IP ||
	    (memcmp(f, nif->n->mac, 6) && memcmp(f, bcast_mac, 6)))
		goto drop;
	const u8 *ip = f + ETH_HLEN;
	u32 avail = len - ETH_HLEN;
	if (avail < IP_HLEN || ip[0] >> 4 != 4)
		goto drop;
	u32 ihl = (ip[0] & 15) * 4u, tot = get16(ip + 2);
	/* Trailing bytes beyond tot are Ethernet padding. */
	if (ihl < IP_HLEN || tot < ihl || tot > avail)
		goto drop;
	if (ip_csum(ip, ihl, 0)) {
		nif->bad_csum++;
		goto drop;
	}
	if (get16(ip + 6) & 0x3fff)   /* MF or an offset: a fragment */
		goto drop;
	p->proto = ip[9];
	p->src = get32(ip + 12);
	p->dst = get32(ip + 16);
	/* Before DHCP has given us an address, take anything. */
	if (nif->ip && p->dst != nif->ip && p->dst != 0xffffffff &&
	    p->dst != (nif->ip | ~nif->mask))
		goto drop;
	p->data = ip + ihl;
	p->len = tot - ihl;
	p->sport = p->dport = 0;
	if (p->proto == IP_PROTO_UDP) {
		const u8 *u = p->data;
		if (p->len < UDP_HLEN)
			goto drop;
		u32 ulen = get16(u + 4);
		if (ulen < UDP_HLEN || ulen > p->len)
			goto drop;
		/* Checksum 0 = none sent (allowed for IPv4). */
		if (get16(u + 6) && ip_csum(u, ulen, pseudo_sum(p->src, p->dst,
					    IP_PROTO_UDP, ulen))) {
			nif->bad_csum++;
			goto drop;
		}
		p->sport = get16(u);
		p->dport = get16(u + 2);
		p->data = u + UDP_HLEN;
		p->len = ulen - UDP_HLEN;
	} else if (p->proto == IP_PROTO_ICMP) {
		if (p->len < 8 || ip_csum(p->data, p->len, 0)) {
			nif->bad_csum++;
			goto drop;
		}
		if (p->data[0] == 8 && nif->ip) {   /* echo request */
			icmp_echo_reply(nif, p, f + 6);
			return false;
		}
	}
	return true;
drop:
	nif->dropped++;
	return false;
}

bool ip_recv(struct netif *nif, u8 proto, u16 dport, struct ip_pkt *p,
	     u64 deadline)
{
	for (;;) {
		int len = net_recv(nif->n, nif->rx, ETH_MAX_FRAME);
		if (len > 0 && frame_input(nif, (u32)len, p)) {
			if (p->proto == proto &&
			    (proto != IP_PROTO_UDP || p->dport == dport))
				return true;
			nif->dropped++;
		}
		/* Checked even while unrelated frames keep coming. */
		if (rdtsc() >= deadline)
			return false;
		if (len == 0)
			cpu_relax();
	}
}

/* ---- IPv4 send ---- */

bool arp_resolve(struct netif *nif, u32 ip, u8 mac[6], u64 deadline)
{
	if (ip == 0xffffffff) {
		memcpy(mac, bcast_mac, 6);
		return true;
	}
	/* Off the subnet: the gateway's address. */
	if (nif->gw && (ip & nif->mask) != (nif->ip & nif->mask))
		ip = nif->gw;
	for (;;) {
		const struct arp_entry *e = arp_lookup(nif, ip);
		if (e) {
			memcpy(mac, e->mac, 6);
			return true;
		}
		if (rdtsc() >= deadline)
			return false;
		arp_send(nif, 1, NULL, ip);
		net_flush(nif->n);   /* even in batch mode */
		/* Wait up to 200 ms for the reply; other traffic meanwhile
		 * is dropped (the workloads resolve before they talk). */
		u64 end = rdtsc() + ms_to_tsc(200);
		if (end > deadline)
			end = deadline;
		struct ip_pkt p;
		while (!arp_lookup(nif, ip) && rdtsc() < end) {
			int len = net_recv(nif->n, nif->rx, ETH_MAX_FRAME);
			if (len > 0)
				frame_input(nif, (u32)len, &p);
			else
				cpu_relax();
		}
	}
}

static bool resolve(struct netif *nif, u32 dst, u8 mac[6], u64 deadline)
{
	if (arp_resolve(nif, dst, mac, deadline))
		return true;
	printf("net: no ARP reply for %u.%u.%u.%u\n", dst >> 24,
	       dst >> 16 & 255, dst >> 8 & 255, dst & 255);
	return false;
}

/* Builds the IPv4 header around the payload already at frame + 34 and
 * sends it to mac. */
static int ip_output(struct netif *nif, u8 *frame, const u8 mac[6], u32 dst,
		     u8 proto, u32 len)
{
	if (len > IP_MAX_PAYLOAD)
		return -1;
	u8 *ip = frame + ETH_HLEN;
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (u16)(IP_HLEN + len));
	put16(ip + 4, nif->ip_id++);
	put16(ip + 6, 0x4000);   /* DF */
	ip[8] = 64;
	ip[9] = proto;
	put16(ip + 10, 0);
	put32(ip + 12, nif->ip);
	put32(ip + 16, dst);
	put16(ip + 10, ip_csum(ip, IP_HLEN, 0));
	return eth_send(nif, frame, mac, ETH_P_IP, IP_HLEN + len);
}

int ip_send(struct netif *nif, u32 dst, u8 proto, const void *payload,
	    u32 len, u64 deadline)
{
	u8 mac[6];
	/* Resolve before building: ARP traffic meanwhile must not find a
	 * half-built frame (it uses arp_tx and reply, never tx). */
	if (len > IP_MAX_PAYLOAD || !resolve(nif, dst, mac, deadline))
		return -1;
	memcpy(nif->tx + ETH_HLEN + IP_HLEN, payload, len);
	return ip_output(nif, nif->tx, mac, dst, proto, len);
}

int udp_send(struct netif *nif, u32 dst, u16 sport, u16 dport,
	     const void *data, u32 len, u64 deadline)
{
	u8 mac[6];
	if (len > IP_MAX_PAYLOAD - UDP_HLEN || !resolve(nif, dst, mac, deadline))
		return -1;
	u8 *u = nif->tx + ETH_HLEN + IP_HLEN;
	u32 ulen = UDP_HLEN + len;
	put16(u, sport);
	put16(u + 2, dport);
	put16(u + 4, (u16)ulen);
	put16(u + 6, 0);
	memcpy(u + UDP_HLEN, data, len);
	u16 c = ip_csum(u, ulen, pseudo_sum(nif->ip, dst, IP_PROTO_UDP, ulen));
	put16(u + 6, c ? c : 0xffff);   /* 0 would mean "no checksum" */
	return ip_output(nif, nif->tx, mac, dst, IP_PROTO_UDP, ulen);
}

/* To the MAC the request came from: no ARP, so no receiving (and no
 * recursion) while a reply is built. */
static void icmp_echo_reply(struct netif *nif, const struct ip_pkt *p,
			    const u8 mac[6])
{
	if (p->len > IP_MAX_PAYLOAD)
		return;
	u8 *m = nif->reply + ETH_HLEN + IP_HLEN;
	memcpy(m, p->data, p->len);
	m[0] = 0;   /* echo reply */
	put16(m + 2, 0);
	put16(m + 2, ip_csum(m, p->len, 0));
	if (ip_output(nif, nif->reply, mac, p->src, IP_PROTO_ICMP, p->len) == 0)
		nif->echo_replied++;
	net_flush(nif->n);
}

const char *net_ip_str(u32 ip, char buf[16])
{
	fmt(buf, 16, "%u.%u.%u.%u", ip >> 24, ip >> 16 & 255, ip >> 8 & 255,
	    ip & 255);
	return buf;
}

u32 net_param_ip(const char *wl, const char *key, u32 dflt)
{
	const char *s = param(key);
	u32 ip;
	if (!s)
		return dflt;
	if (!parse_ip4(s, &ip)) {
		printf("%s: %s=%s: not an IPv4 address\n", wl, key, s);
		exit(2);
	}
	return ip;
}

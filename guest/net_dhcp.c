/* DHCP client (RFC 2131): DISCOVER, OFFER, REQUEST, ACK, broadcast from
 * 0.0.0.0:68 to 255.255.255.255:67. Options are parsed with every length
 * checked against the datagram; what we keep: message type, server id,
 * subnet mask, the first router and DNS server, the lease time.
 */
#include "net.h"

#define BOOTP_LEN    236   /* fixed part, before the magic cookie */
#define DHCP_OPTS    240
#define DHCP_MIN_LEN 300   /* BOOTP's minimum; some servers insist */
#define DHCP_COOKIE  0x63825363u

enum { DISCOVER = 1, OFFER = 2, REQUEST = 3, ACK = 5, NAK = 6 };

struct dhcp_reply {
	u32 yiaddr, server, mask, router, dns, lease;
	u8 type;
};

static u8 msg[DHCP_MIN_LEN + 64];

static void put32be(u8 *p, u32 v)
{
	p[0] = (u8)(v >> 24);
	p[1] = (u8)(v >> 16);
	p[2] = (u8)(v >> 8);
	p[3] = (u8)v;
}

static u32 get32be(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static int dhcp_send(struct netif *nif, u32 xid, u8 type, u32 req_ip,
		     u32 server, u64 deadline)
{
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;   /* BOOTREQUEST */
	msg[1] = 1;   /* Ethernet */
	msg[2] = 6;
	put32be(msg + 4, xid);
	msg[10] = 0x80;   /* broadcast flag: we cannot take unicast yet */
	memcpy(msg + 28, nif->n->mac, 6);
	put32be(msg + BOOTP_LEN, DHCP_COOKIE);
	u8 *o = msg + DHCP_OPTS;
	*o++ = 53; *o++ = 1; *o++ = type;
	if (req_ip) {
		*o++ = 50; *o++ = 4; put32be(o, req_ip); o += 4;
	}
	if (server) {
		*o++ = 54; *o++ = 4; put32be(o, server); o += 4;
	}
	/* Parameter request list: mask, router, DNS, lease, server id. */
	*o++ = 55; *o++ = 5; *o++ = 1; *o++ = 3; *o++ = 6; *o++ = 51; *o++ = 54;
	*o++ = 255;
	u32 len = (u32)(o - msg);
	if (len < DHCP_MIN_LEN)
		len = DHCP_MIN_LEN;
	return udp_send(nif, 0xffffffff, 68, 67, msg, len, deadline);
}

/* Parses a reply to xid; false if it is not one (or malformed). */
static bool dhcp_parse(struct netif *nif, const struct ip_pkt *p, u32 xid,
		       struct dhcp_reply *r)
{
	const u8 *d = p->data;
	u32 len = p->len;
	if (p->sport != 67 || len < DHCP_OPTS || d[0] != 2 || d[1] != 1 ||
	    d[2] != 6 || get32be(d + 4) != xid ||
	    memcmp(d + 28, nif->n->mac, 6) ||
	    get32be(d + BOOTP_LEN) != DHCP_COOKIE)
		return false;
	memset(r, 0, sizeof(*r));
	r->yiaddr = get32be(d + 16);
	for (u32 i = DHCP_OPTS; i < len;) {
		u8 code = d[i];
		if (code == 0) {
			i++;
			continue;
		}
		if (code == 255)
			break;
		if (i + 2 > len || i + 2 + d[i + 1] > len)
			return false;   /* an option running past the end */
		u8 olen = d[i + 1];
		const u8 *v = d + i + 2;
		if (code == 53 && olen >= 1)
			r->type = v[0];
		else if (code == 54 && olen >= 4)
			r->server = get32be(v);
		else if (code == 1 && olen >= 4)
			r->mask = get32be(v);
		else if (code == 3 && olen >= 4)
			r->router = get32be(v);
		else if (code == 6 && olen >= 4)
			r->dns = get32be(v);
		else if (code == 51 && olen >= 4)
			r->lease = get32be(v);
		i += 2u + olen;
	}
	return r->type != 0;
}

/* Sends `type` and waits up to a second for a reply of one of the two
 * wanted types, retrying until the deadline. */
static bool dhcp_exchange(struct netif *nif, u32 xid, u8 type, u32 req_ip,
			  u32 server, u8 want1, u8 want2,
			  struct dhcp_reply *r, u64 deadline)
{
	while (rdtsc() < deadline) {
		if (dhcp_send(nif, xid, type, req_ip, server, deadline) < 0)
			return false;
		u64 end = rdtsc() + ms_to_tsc(1000);
		if (end > deadline)
			end = deadline;
		struct ip_pkt p;
		while (ip_recv(nif, IP_PROTO_UDP, 68, &p, end)) {
			if (dhcp_parse(nif, &p, xid, r) &&
			    (r->type == want1 || r->type == want2))
				return true;
		}
	}
	return false;
}

int dhcp_run(struct netif *nif, u64 deadline)
{
	struct dhcp_reply offer, ack;
	/* Any xid will do; the TSC differs from run to run. */
	u32 xid = (u32)rdtsc() ^ 0x5a17c0deu;
	nif->ip = 0;
	if (!dhcp_exchange(nif, xid, DISCOVER, 0, 0, OFFER, OFFER, &offer,
			   deadline)) {
		printf("net-dhcp: no OFFER\n");
		return -1;
	}
	printf("net-dhcp: offer ip=%u.%u.%u.%u server=%u.%u.%u.%u\n",
	       offer.yiaddr >> 24, offer.yiaddr >> 16 & 255,
	       offer.yiaddr >> 8 & 255, offer.yiaddr & 255, offer.server >> 24,
	       offer.server >> 16 & 255, offer.server >> 8 & 255,
	       offer.server & 255);
	if (!offer.yiaddr) {
		printf("net-dhcp: OFFER without an address\n");
		return -1;
	}
	if (!dhcp_exchange(nif, xid, REQUEST, offer.yiaddr, offer.server, ACK,
			   NAK, &ack, deadline)) {
		printf("net-dhcp: no ACK\n");
		return -1;
	}
	if (ack.type == NAK || ack.yiaddr != offer.yiaddr) {
		printf("net-dhcp: %s\n", ack.type == NAK ? "NAK" :
		       "ACK for another address");
		return -1;
	}
	nif->ip = ack.yiaddr;
	nif->mask = ack.mask ? ack.mask : 0xffffff00u;
	nif->gw = ack.router;
	nif->dns = ack.dns;
	printf("net-dhcp: lease=%u s mask=%u.%u.%u.%u\n", ack.lease,
	       nif->mask >> 24, nif->mask >> 16 & 255, nif->mask >> 8 & 255,
	       nif->mask & 255);
	return 0;
}

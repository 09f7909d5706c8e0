/* net-peer: two VMs joined by a virtio-net `peer` link ping each other.
 * Params: ip= (ours), dst= (the other VM's), count=10, mask=255.255.255.0,
 * retry_ms=200, timeout_ms=120000; link_ms= (net_open's wait for the
 * link: give the other VM time to start).
 *
 * Each side sends count echo requests, one at a time, each re-sent every
 * retry_ms until its reply is in (a request sent while the other VM was
 * not up yet, or restarting, is lost). The stack answers the other side's
 * requests meanwhile. Neither side may stop while the other still needs
 * its answers, and neither can count the other's requests (re-sent ones
 * would count twice), so the two say when they are done: once all its
 * replies are in, a side sends DONE (an ICMP echo reply with id 'DN',
 * which nobody asked for) every retry_ms; it exits when it has its own
 * replies and the other's DONE, after one last DONE that has left the VM
 * (its TX buffer came back). So the last one to finish has the other's
 * DONE already, and the first waits for it: no step depends on timing,
 * retry_ms only sets how soon a loss is repaired; timeout_ms is only a
 * failure guard. RESULT net-peer ... ok=1.
 */
#include "net.h"

#define PING_ID   0x5045   /* "PE" */
#define DONE_ID   0x444e   /* "DN" */
#define PING_DATA 56

static struct net the_net;
static struct netif the_nif;

static bool get_ip(const char *key, u32 *ip)
{
	const char *s = param(key);
	if (!s || !parse_ip4(s, ip)) {
		printf("net-peer: %s=%s: want an IPv4 address\n", key,
		       s ? s : "(none)");
		return false;
	}
	return true;
}

static u8 pattern(u16 seq, u32 i)
{
	return (u8)(seq * 29u + i * 3u + 1);
}

/* An ICMP echo message of ours: a request (type 8) with id PING_ID, or a
 * DONE (type 0, id DONE_ID). */
static void icmp_build(u8 *m, u8 type, u16 id, u16 seq)
{
	memset(m, 0, 8 + PING_DATA);
	m[0] = type;
	m[4] = (u8)(id >> 8);
	m[5] = (u8)id;
	m[6] = (u8)(seq >> 8);
	m[7] = (u8)seq;
	for (u32 i = 0; i < PING_DATA; i++)
		m[8 + i] = pattern(seq, i);
	u16 c = ip_csum(m, 8 + PING_DATA, 0);
	m[2] = (u8)(c >> 8);
	m[3] = (u8)c;
}

/* The reply to our request seq, whole and unchanged. */
static bool is_reply(const struct ip_pkt *p, u16 seq)
{
	if (p->len != 8 + PING_DATA || p->data[0] != 0 ||
	    get16(p->data + 4) != PING_ID || get16(p->data + 6) != seq)
		return false;
	for (u32 i = 0; i < PING_DATA; i++)
		if (p->data[8 + i] != pattern(seq, i))
			return false;
	return true;
}

static bool is_done(const struct ip_pkt *p)
{
	return p->len >= 8 && p->data[0] == 0 &&
	       get16(p->data + 4) == DONE_ID;
}

/* Every frame handed to the device has come back: it left the VM. */
static bool tx_drained(struct net *n, u64 deadline)
{
	net_flush(n);
	while (n->tx.used->idx != n->tx.next_avail) {
		if (rdtsc() >= deadline)
			return false;
		cpu_relax();
	}
	return true;
}

int wl_net_peer(void)
{
	struct netif *nif = &the_nif;
	u64 count = param_u64("count", 10);
	u64 retry = ms_to_tsc(param_u64("retry_ms", 200));
	u64 deadline = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 120000));
	u32 ip, dst, mask = IP4(255, 255, 255, 0);
	u8 msg[8 + PING_DATA];

	if (!count || count > 65535) {
		printf("net-peer: count=%lu: want 1..65535\n", count);
		return 2;
	}
	if (!get_ip("ip", &ip) || !get_ip("dst", &dst) ||
	    (param("mask") && !get_ip("mask", &mask)))
		return 2;
	if (net_open(&the_net) < 0)
		return 1;
	netif_init(nif, &the_net);
	nif->ip = ip;
	nif->mask = mask;
	nif->gw = 0;            /* a point-to-point link: no router */

	u64 replies = 0, sent = 0, resent = 0, dones = 0, next_at = 0;
	bool tried = false, peer_done = false, ok = false;
	while (replies < count || !peer_done) {
		u64 now = rdtsc();
		if (now >= deadline)
			goto out;
		if (now >= next_at) {
			if (replies < count) {
				icmp_build(msg, 8, PING_ID, (u16)replies);
				resent += tried;
				tried = true;
				sent++;
			} else {
				icmp_build(msg, 0, DONE_ID, 0);
				dones++;
			}
			if (ip_send(nif, dst, IP_PROTO_ICMP, msg, sizeof(msg),
				    deadline) < 0)
				goto out;
			next_at = rdtsc() + retry;
		}
		struct ip_pkt p;
		if (!ip_recv(nif, IP_PROTO_ICMP, 0, &p,
			     next_at < deadline ? next_at : deadline) ||
		    p.src != dst)
			continue;
		if (replies < count && is_reply(&p, (u16)replies)) {
			replies++;
			tried = false;
			next_at = 0;    /* the next request now */
			if (replies == count)
				printf("net-peer: all %lu replies in\n",
				       count);
		} else if (is_done(&p) && !peer_done) {
			peer_done = true;
			printf("net-peer: the other side is done\n");
		}
	}
	/* The other side may have finished before our DONE reached it. */
	icmp_build(msg, 0, DONE_ID, 0);
	ok = ip_send(nif, dst, IP_PROTO_ICMP, msg, sizeof(msg), deadline) == 0 &&
	     tx_drained(&the_net, deadline);
	dones++;
out:;
	char a[16];
	fmt(a, sizeof(a), "%u.%u.%u.%u", dst >> 24, dst >> 16 & 255,
	    dst >> 8 & 255, dst & 255);
	if (!ok)
		printf("net-peer: gave up: replies=%lu/%lu peer_done=%d\n",
		       replies, count, peer_done);
	printf("net-peer: rx=%lu tx=%lu dropped=%lu bad_csum=%lu "
	       "arp_replies=%lu\n", the_net.rx_frames, the_net.tx_frames,
	       nif->dropped, nif->bad_csum, nif->arp_replied);
	printf("RESULT net-peer dst=%s sent=%lu replies=%lu resent=%lu "
	       "answered=%lu dones=%lu ok=%d\n", a, sent, replies, resent,
	       nif->echo_replied, dones, ok);
	net_close(&the_net);
	return ok ? 0 : 1;
}

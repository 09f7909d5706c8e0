/* Hostile virtio-net drivers, on the virtio-net of each transport (user
 * networking): TX headers claiming offloads that were not negotiated,
 * zero-length and oversized frames, broken TX and RX chains, RX buffers
 * too small for a frame, a driver that posts no RX buffers while frames
 * arrive, notify storms, malformed control commands and feature sets
 * that break the spec's dependencies. After each one the device is reset
 * and must answer a well-behaved ARP exchange with slirp's gateway.
 *
 * What makes the checks exact rather than timed: slirp answers an ARP
 * request synchronously, inside the TX handler, and the device publishes
 * the answer before the TX chain is given back. So once a TX chain is
 * used, the answer to it is in the RX ring or never will be: "this frame
 * was not sent" is "no answer to it once its chain came back". Frames
 * that must not go out ask for 10.0.2.3 (slirp's DNS address), the
 * well-behaved ones for 10.0.2.2 (the gateway).
 */
#include "hostile.h"

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND VIRTQ_DESC_F_INDIRECT

#define VIRTIO_ID_NET 1
#define NF_CSUM       (1ull << 0)
#define NF_GUEST_CSUM (1ull << 1)
#define NF_MAC        (1ull << 5)
#define NF_GUEST_TSO4 (1ull << 7)
#define NF_GUEST_ECN  (1ull << 9)
#define NF_HOST_TSO4  (1ull << 11)
#define NF_HOST_ECN   (1ull << 13)
#define NF_MRG_RXBUF  (1ull << 15)
#define NF_STATUS     (1ull << 16)
#define NF_CTRL_VQ    (1ull << 17)
#define NF_CTRL_RX    (1ull << 18)
#define NF_MQ         (1ull << 22)
#define NF_CTRL_MAC   (1ull << 23)

#define NHDR 12              /* virtio_net_hdr with num_buffers */
#define HF_NEEDS_CSUM 1
#define HF_DATA_VALID 2
#define GSO_TCPV4 1
#define GSO_UDP   3
#define GSO_TCPV6 4
#define GSO_ECN   0x80

/* Per device: three rings of NQ entries, an indirect table, a control
 * command, 16 TX buffers of 4 KiB, a 68 KiB buffer for the largest
 * frames, small RX buffers with guards, and NQ RX buffers of RXB. */
#define NQ        64
#define RING(q)   ((u32)(q) * 0x3000)
#define NM_TABLE  0x9000
#define NM_CTRL   0xa000
#define NM_SMALL  0xc000
#define NM_TX     0x10000
#define NM_BIG    0x20000
#define NM_RX     0x40000
#define RXB       2048
#define NM_SIZE   (NM_RX + NQ * RXB)
#define BIG_MAX   0x11000

#define RXQ 0
#define TXQ 1
#define CTQ 2

static const u8 ip_gw[4] = { 10, 0, 2, 2 };
static const u8 ip_dns[4] = { 10, 0, 2, 3 };
static const u8 ip_me[4] = { 10, 0, 2, 15 };

struct nq {
	u16 avail_idx, used_seen;
	u64 notify;
};

struct hn {
	struct hdev *h;
	u8 *mem;
	struct nq q[3];
	u8 mac[6];
	u16 tx_next;
	/* ARP answers seen on RX since net_up: from 10.0.2.2, 10.0.2.3 */
	u32 gw, dns, other, bad_len;
};

static struct hn nets[2];

static u64 pa(struct hn *n, u32 off)
{
	return (u64)n->mem + off;
}

static struct virtq_desc *desc(struct hn *n, u16 q)
{
	return (struct virtq_desc *)(n->mem + RING(q));
}

static struct virtq_avail *avail(struct hn *n, u16 q)
{
	return (struct virtq_avail *)(n->mem + RING(q) + 0x1000);
}

static volatile struct virtq_used *used(struct hn *n, u16 q)
{
	return (volatile struct virtq_used *)(n->mem + RING(q) + 0x2000);
}

static struct hn *get_net(u32 transport)
{
	struct hn *n = &nets[transport == VIRTIO_PCI ? 0 : 1];
	if (n->h)
		return n;
	n->h = hv_get(VIRTIO_ID_NET, transport, false);
	if (!n->h) {
		hfail("no virtio-net on %s", transport == VIRTIO_PCI ? "pci" : "mmio");
		return NULL;
	}
	n->h->name = transport == VIRTIO_PCI ? "net-pci" : "net-mmio";
	n->mem = heap_alloc(NM_SIZE, 4096);
	if (!n->mem) {
		hfail("out of memory for the net buffers");
		n->h = NULL;
		return NULL;
	}
	return n;
}

static bool q_setup(struct hn *n, u16 q)
{
	struct nq *s = &n->q[q];
	avail(n, q)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	s->avail_idx = s->used_seen = 0;
	bool ok = hv_queue_raw(n->h, q, NQ, pa(n, RING(q)),
			       pa(n, RING(q) + 0x1000), pa(n, RING(q) + 0x2000));
	s->notify = n->h->notify;
	return ok;
}

static void publish(struct hn *n, u16 q, u16 head)
{
	struct nq *s = &n->q[q];
	struct virtq_avail *a = avail(n, q);
	a->ring[s->avail_idx % NQ] = head;
	s->avail_idx++;
	__atomic_store_n(&a->idx, s->avail_idx, __ATOMIC_RELEASE);
}

static void kick(struct hn *n, u16 q)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (n->h->d.transport == VIRTIO_PCI)
		mmio_write16(n->q[q].notify, q);
	else
		mmio_write32(n->q[q].notify, q);
}

/* A used entry of queue q, if one is there now. */
static bool take(struct hn *n, u16 q, u32 *id, u32 *len)
{
	struct nq *s = &n->q[q];
	volatile struct virtq_used *u = used(n, q);
	if (__atomic_load_n(&u->idx, __ATOMIC_ACQUIRE) == s->used_seen)
		return false;
	*id = u->ring[s->used_seen % NQ].id;
	*len = u->ring[s->used_seen % NQ].len;
	s->used_seen++;
	return true;
}

/* Another queue of the device may break (NEEDS_RESET) while q works:
 * the RX attacks wait for their TX chain regardless. */
static bool ignore_reset;

/* Waits up to ms for a used entry on q, or NEEDS_RESET. */
static enum hv_outcome wait_q(struct hn *n, u16 q, u32 *id, u32 *len, u64 ms)
{
	u64 end = rdtsc() + ms_to_tsc(ms), next = 0;
	for (;;) {
		if (take(n, q, id, len))
			return HV_USED_ENTRY;
		u64 now = rdtsc();
		if (now >= next && !ignore_reset) {
			if (hv_status(n->h) & VIRTIO_STATUS_NEEDS_RESET)
				return HV_NEEDS_RESET;
			next = now + ms_to_tsc(1);
		}
		if (now >= end)
			return HV_TIMEOUT;
		cpu_relax();
	}
}

static void rx_post(struct hn *n, u16 i)
{
	hv_set_desc(desc(n, RXQ), i, pa(n, NM_RX + (u32)i * RXB), RXB,
		    F_WRITE, 0);
	publish(n, RXQ, i);
}

/* Reset, negotiate VERSION_1 | wanted, the queues, nrx RX buffers of RXB
 * bytes, DRIVER_OK. */
static int net_up(struct hn *n, u64 wanted, u32 nrx, bool ctrl)
{
	struct hdev *h = n->h;
	if (!hv_negotiate(h, wanted))
		return hfail("%s: FEATURES_OK refused for 0x%lx", h->name,
			     h->d.features);
	for (u32 i = 0; i < 6; i++)
		n->mac[i] = (u8)hv_cfg_read(h, i, 1);
	memset(n->mem, 0, NM_SMALL);
	n->gw = n->dns = n->other = n->bad_len = 0;
	n->tx_next = 0;
	if (!q_setup(n, RXQ) || !q_setup(n, TXQ) || (ctrl && !q_setup(n, CTQ)))
		return hfail("%s: queue set-up refused", h->name);
	for (u16 i = 0; i < nrx && i < NQ; i++)
		rx_post(n, i);
	hv_driver_ok(h);
	u8 s = hv_status(h);
	if (!(s & VIRTIO_STATUS_DRIVER_OK) || (s & VIRTIO_STATUS_NEEDS_RESET))
		return hfail("%s: status 0x%x after DRIVER_OK", h->name, s);
	if (nrx)
		kick(n, RXQ);
	return 0;
}

/* An ARP request from sha/10.0.2.15 for tip, padded to 60 bytes. */
static u32 arp_req(u8 *f, const u8 sha[6], const u8 tip[4])
{
	static const u8 head[8] = { 0, 1, 8, 0, 6, 4, 0, 1 };
	memset(f, 0, 60);
	memset(f, 0xff, 6);
	memcpy(f + 6, sha, 6);
	f[12] = 0x08;
	f[13] = 0x06;
	memcpy(f + 14, head, 8);
	memcpy(f + 22, sha, 6);
	memcpy(f + 28, ip_me, 4);
	memcpy(f + 38, tip, 4);
	return 60;
}

/* Counts one received frame (header first): an ARP reply to us. */
static void classify(struct hn *n, const u8 *b, u32 len)
{
	if (len < NHDR + 42) {
		n->other++;
		return;
	}
	const u8 *f = b + NHDR;
	if (f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2 ||
	    memcmp(f + 38, ip_me, 4)) {
		n->other++;
		return;
	}
	if (!memcmp(f + 28, ip_gw, 4))
		n->gw++;
	else if (!memcmp(f + 28, ip_dns, 4))
		n->dns++;
	else
		n->other++;
}

/* Every RX entry used so far: counted and its buffer posted again.
 * Returns how many. */
static u32 rx_scan(struct hn *n)
{
	u32 id = 0, len = 0, got = 0;
	while (take(n, RXQ, &id, &len)) {
		got++;
		if (id >= NQ || len > RXB) {
			n->bad_len++;
			continue;
		}
		classify(n, n->mem + NM_RX + id * RXB, len);
		rx_post(n, (u16)id);
	}
	if (got)
		kick(n, RXQ);
	return got;
}

/* Puts hdr (NULL: zeros) and the frame in the next TX buffer as one
 * descriptor, publishes and kicks; waits for the chain to come back. */
static int tx(struct hn *n, const u8 *hdr, const u8 *frame, u32 len)
{
	u16 slot = n->tx_next++ % 16;
	u8 *b = n->mem + NM_TX + (u32)slot * 0x1000;
	u32 id = 0, ulen = 0;
	if (hdr)
		memcpy(b, hdr, NHDR);
	else
		memset(b, 0, NHDR);
	memcpy(b + NHDR, frame, len);
	hv_set_desc(desc(n, TXQ), slot, pa(n, NM_TX + (u32)slot * 0x1000),
		    NHDR + len, 0, 0);
	publish(n, TXQ, slot);
	kick(n, TXQ);
	enum hv_outcome o = wait_q(n, TXQ, &id, &ulen, 5000);
	if (o != HV_USED_ENTRY)
		return hfail("%s: TX of %u bytes: %s", n->h->name, len,
			     hv_outcome_name(o));
	if (id != slot)
		return hfail("%s: TX chain %u came back as %u", n->h->name,
			     slot, id);
	return 0;
}

static int tx_arp(struct hn *n, const u8 *hdr, const u8 tip[4])
{
	u8 f[60];
	return tx(n, hdr, f, arp_req(f, n->mac, tip));
}

/* Waits up to 5 s for the gateway's answer. */
static int expect_gw(struct hn *n, const char *after)
{
	u64 end = rdtsc() + ms_to_tsc(5000);
	u32 before = n->gw;
	while (n->gw == before) {
		rx_scan(n);
		if (n->gw != before)
			break;
		if (rdtsc() >= end || (hv_status(n->h) & VIRTIO_STATUS_NEEDS_RESET))
			return hfail("%s: no ARP answer from 10.0.2.2 %s "
				     "(status 0x%x)", n->h->name, after,
				     hv_status(n->h));
		cpu_relax();
	}
	if (n->bad_len)
		return hfail("%s: %u RX entries with a bad id or length",
			     n->h->name, n->bad_len);
	return 0;
}

/* The check after every attack: reset, bring the device up as a plain
 * driver would, ARP for the gateway and get the answer. */
static int net_works(struct hn *n)
{
	if (net_up(n, NF_MAC | NF_STATUS, NQ, false) || tx_arp(n, NULL, ip_gw) ||
	    expect_gw(n, "after a reset"))
		return 1;
	hv_reset(n->h);
	return 0;
}

typedef int (*net_attack)(struct hn *n);

static int on_both(net_attack fn)
{
	static const u32 t[2] = { VIRTIO_PCI, VIRTIO_MMIO };
	for (u32 i = 0; i < 2; i++) {
		struct hn *n = get_net(t[i]);
		if (!n || fn(n) || net_works(n))
			return 1;
	}
	return 0;
}

/* A frame that must not have gone out: its chain came back, and no
 * answer to it was published. */
static int not_sent(struct hn *n, const char *what)
{
	rx_scan(n);
	if (n->dns)
		return hfail("%s: %s went out (10.0.2.3 answered)", n->h->name,
			     what);
	if (hv_status(n->h) & VIRTIO_STATUS_NEEDS_RESET)
		return hfail("%s: %s broke the queue", n->h->name, what);
	return 0;
}

static void mkhdr(u8 *h, u8 flags, u8 gso, u16 hdr_len, u16 gso_size,
		  u16 cstart, u16 coff)
{
	h[0] = flags;
	h[1] = gso;
	memcpy(h + 2, &hdr_len, 2);
	memcpy(h + 4, &gso_size, 2);
	memcpy(h + 6, &cstart, 2);
	memcpy(h + 8, &coff, 2);
	h[10] = h[11] = 0;
}

/* ---- TX headers ---- */

static int tx_bad_hdr(struct hn *n)
{
	static const struct { u8 flags, gso; u16 hlen, gsz, cs, co; } bad[] = {
		{ HF_NEEDS_CSUM, 0, 0, 0, 14, 16 },        /* no CSUM */
		{ HF_NEEDS_CSUM, 0, 0, 0, 0xffff, 0xffff },
		{ HF_NEEDS_CSUM, 0, 0, 0, 58, 2 },         /* past the frame */
		{ HF_NEEDS_CSUM, GSO_TCPV4, 54, 1448, 34, 16 },
		{ HF_NEEDS_CSUM, GSO_TCPV6, 74, 1428, 54, 16 },
		{ HF_NEEDS_CSUM, GSO_UDP, 42, 1472, 34, 6 },
		{ HF_NEEDS_CSUM, GSO_TCPV4 | GSO_ECN, 54, 1448, 34, 16 },
		{ 0, GSO_ECN, 0, 0, 0, 0 },                /* ECN, no type */
		{ 0, GSO_TCPV4, 54, 1448, 0, 0 },          /* GSO, no csum */
		{ HF_NEEDS_CSUM, GSO_TCPV4, 54, 0, 34, 16 },   /* gso_size 0 */
		{ HF_NEEDS_CSUM, GSO_TCPV4, 0xffff, 0xffff, 34, 16 },
		{ 0, 0x55, 0, 0, 0, 0 },                   /* no such type */
		{ HF_DATA_VALID, 0, 0, 0, 0, 0 },          /* RX-only flag */
		{ 0xff, 0xff, 0xffff, 0xffff, 0xffff, 0xffff },
	};
	u8 h[NHDR];
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	if (n->h->d.features & (NF_CSUM | NF_HOST_TSO4))
		return hfail("%s: user networking offered checksum offload",
			     n->h->name);
	/* The detector works: a good frame to 10.0.2.3 is answered. */
	if (tx_arp(n, NULL, ip_dns))
		return 1;
	rx_scan(n);
	if (n->dns != 1)
		return hfail("%s: a good ARP for 10.0.2.3 got %u answers",
			     n->h->name, n->dns);
	n->dns = 0;
	for (u32 i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		mkhdr(h, bad[i].flags, bad[i].gso, bad[i].hlen, bad[i].gsz,
		      bad[i].cs, bad[i].co);
		if (tx_arp(n, h, ip_dns) ||
		    not_sent(n, "a frame with a forbidden header"))
			return hfail("%s: header %u (flags 0x%x gso 0x%x): %s",
				     n->h->name, i, bad[i].flags, bad[i].gso,
				     "sent or stuck");
	}
	return tx_arp(n, NULL, ip_gw) || expect_gw(n, "after bad headers");
}

int hostile_net_tx_bad_hdr(void)
{
	return on_both(tx_bad_hdr);
}

/* Frame of len bytes in NM_BIG: an ARP request for tip, padded. */
static void big_frame(struct hn *n, u32 len, const u8 tip[4])
{
	u8 *b = n->mem + NM_BIG;
	memset(b + NHDR, 0x5a, len);
	arp_req(b + NHDR, n->mac, tip);
}

/* The largest frame (65553 bytes) is sent, one byte more is dropped;
 * a 64 KiB TCP frame claiming TSO4 without HOST_TSO4 is dropped. */
static int tx_gso_64k(struct hn *n)
{
	u8 *b = n->mem + NM_BIG;
	u32 id = 0, len = 0;
	static const u32 sizes[3] = { 65554, 65536, 65553 };
	static const u8 gso[3] = { 0, GSO_TCPV4, 0 };
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	for (u32 i = 0; i < 3; i++) {
		big_frame(n, sizes[i], i == 2 ? ip_gw : ip_dns);
		mkhdr(b, gso[i] ? HF_NEEDS_CSUM : 0, gso[i], 54, 1448, 34, 16);
		/* two descriptors: the header and the frame */
		hv_set_desc(desc(n, TXQ), 0, pa(n, NM_BIG), NHDR, F_NEXT, 1);
		hv_set_desc(desc(n, TXQ), 1, pa(n, NM_BIG + NHDR), sizes[i], 0, 0);
		publish(n, TXQ, 0);
		kick(n, TXQ);
		enum hv_outcome o = wait_q(n, TXQ, &id, &len, 5000);
		if (o != HV_USED_ENTRY)
			return hfail("%s: %u-byte frame: %s", n->h->name,
				     sizes[i], hv_outcome_name(o));
		if (i < 2 && not_sent(n, gso[i] ? "a 64 KiB TSO4 frame without "
				      "HOST_TSO4" : "a 65554-byte frame"))
			return 1;
	}
	return expect_gw(n, "to a 65553-byte ARP request");
}

int hostile_net_tx_gso_64k(void)
{
	return on_both(tx_gso_64k);
}

/* Header-only chains, a short header, zero-length descriptors, a 13-byte
 * frame: all given back, none sent; a header split over descriptors
 * with empty ones between is fine and sent. */
static int tx_zero_len(struct hn *n)
{
	struct virtq_desc *t = desc(n, TXQ);
	u8 *b = n->mem + NM_TX;
	u32 id = 0, len = 0;
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	memset(b, 0, NHDR);
	arp_req(b + NHDR, n->mac, ip_dns);
	/* chain heads 0, 2, 4, 6, 8 (one publish each) */
	hv_set_desc(t, 0, pa(n, NM_TX), NHDR, 0, 0);             /* header only */
	hv_set_desc(t, 2, pa(n, NM_TX), 0, 0, 0);                /* nothing */
	hv_set_desc(t, 4, pa(n, NM_TX), 11, 0, 0);               /* short header */
	hv_set_desc(t, 6, pa(n, NM_TX), NHDR + 13, 0, 0);        /* 13-byte frame */
	hv_set_desc(t, 8, pa(n, NM_TX), 0, F_NEXT, 9);           /* empties, then */
	hv_set_desc(t, 9, pa(n, NM_TX), NHDR, F_NEXT, 10);       /* the header */
	hv_set_desc(t, 10, pa(n, NM_TX), 0, 0, 0);               /* and nothing */
	static const u16 heads[5] = { 0, 2, 4, 6, 8 };
	for (u32 i = 0; i < 5; i++) {
		publish(n, TXQ, heads[i]);
		kick(n, TXQ);
		enum hv_outcome o = wait_q(n, TXQ, &id, &len, 5000);
		if (o != HV_USED_ENTRY || id != heads[i])
			return hfail("%s: empty chain %u: %s id %u", n->h->name,
				     heads[i], hv_outcome_name(o), id);
		if (not_sent(n, "an empty frame"))
			return 1;
	}
	/* 6 + 0 + 6 + 60: the header over two descriptors, then the frame */
	hv_set_desc(t, 12, pa(n, NM_TX), 6, F_NEXT, 13);
	hv_set_desc(t, 13, pa(n, NM_TX + 6), 0, F_NEXT, 14);
	hv_set_desc(t, 14, pa(n, NM_TX + 6), 6, F_NEXT, 15);
	hv_set_desc(t, 15, pa(n, NM_TX + NHDR), 60, 0, 0);
	publish(n, TXQ, 12);
	kick(n, TXQ);
	if (wait_q(n, TXQ, &id, &len, 5000) != HV_USED_ENTRY)
		return hfail("%s: split header: no used entry", n->h->name);
	rx_scan(n);
	if (n->dns != 1)
		return hfail("%s: a header split over descriptors: %u answers",
			     n->h->name, n->dns);
	return 0;
}

int hostile_net_tx_zero_len(void)
{
	return on_both(tx_zero_len);
}

/* ---- ring abuse on the TX queue ---- */

/* Publishes head on TX, expects NEEDS_RESET and no used entry. */
static int tx_expect_broken(struct hn *n, u16 head, const char *what)
{
	u32 id = 0, len = 0;
	publish(n, TXQ, head);
	kick(n, TXQ);
	enum hv_outcome o = wait_q(n, TXQ, &id, &len, 5000);
	if (o != HV_NEEDS_RESET)
		return hfail("%s: TX %s: expected NEEDS_RESET, got %s",
			     n->h->name, what, hv_outcome_name(o));
	rx_scan(n);
	if (n->dns)
		return hfail("%s: TX %s was sent", n->h->name, what);
	return 0;
}

static int tx_ring_abuse(struct hn *n)
{
	struct virtq_desc *t = desc(n, TXQ);
	struct virtq_desc *it = (struct virtq_desc *)(n->mem + NM_TABLE);
	u8 *b = n->mem + NM_TX;
	u64 rom = param_u64("rom", 0xc0000);
	u32 id = 0, len = 0;

	memset(b, 0, NHDR);
	arp_req(b + NHDR, n->mac, ip_dns);
	/* a loop: 0 -> 1 -> 0 */
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	hv_set_desc(t, 0, pa(n, NM_TX), NHDR, F_NEXT, 1);
	hv_set_desc(t, 1, pa(n, NM_TX + NHDR), 60, F_NEXT, 0);
	if (tx_expect_broken(n, 0, "descriptor loop"))
		return 1;
	/* longer than the ring: NQ + 1 descriptors through the table */
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	for (u16 i = 0; i < NQ; i++)
		hv_set_desc(t, i, pa(n, NM_TX), 1, F_NEXT, (u16)((i + 1) % NQ));
	if (tx_expect_broken(n, 0, "chain around the ring"))
		return 1;
	/* an indirect table of 256 entries whose last one goes back to 0 */
	if (net_up(n, NF_MAC | VIRTIO_F_INDIRECT_DESC, NQ, false))
		return 1;
	for (u16 i = 0; i < 256; i++)
		hv_set_desc(it, i, pa(n, NM_TX), 1, F_NEXT, (u16)((i + 1) % 256));
	hv_set_desc(t, 0, pa(n, NM_TABLE), 256 * 16, F_IND, 0);
	if (tx_expect_broken(n, 0, "indirect table with a loop"))
		return 1;
	/* the frame at 4 GiB (nothing there), and wrapping the address space */
	static const u64 far[2] = { 0x100000000ull, 0xfffffffffffff000ull };
	for (u32 i = 0; i < 2; i++) {
		if (net_up(n, NF_MAC, NQ, false))
			return 1;
		hv_set_desc(t, 0, pa(n, NM_TX), NHDR, F_NEXT, 1);
		hv_set_desc(t, 1, far[i], 0x2000, 0, 0);
		if (tx_expect_broken(n, 0, "frame beyond RAM"))
			return 1;
	}
	/* the frame just past the end of RAM */
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	hv_set_desc(t, 0, pa(n, NM_TX), NHDR, F_NEXT, 1);
	hv_set_desc(t, 1, hv_ram_top() - 30, 60, 0, 0);
	if (tx_expect_broken(n, 0, "frame across the end of RAM"))
		return 1;
	/* TX from ROM is a read: allowed (sent or dropped, given back) */
	if (net_up(n, NF_MAC, NQ, false))
		return 1;
	hv_set_desc(t, 0, pa(n, NM_TX), NHDR, F_NEXT, 1);
	hv_set_desc(t, 1, rom, 60, 0, 0);
	publish(n, TXQ, 0);
	kick(n, TXQ);
	enum hv_outcome o = wait_q(n, TXQ, &id, &len, 5000);
	if (o != HV_USED_ENTRY || id != 0)
		return hfail("%s: TX frame in ROM: %s", n->h->name,
			     hv_outcome_name(o));
	/* a device-writable buffer in a TX chain: dropped, given back (or
	 * the queue refused) */
	hv_set_desc(t, 2, pa(n, NM_TX), NHDR, F_NEXT, 3);
	hv_set_desc(t, 3, pa(n, NM_TX + NHDR), 60, F_WRITE, 0);
	publish(n, TXQ, 2);
	kick(n, TXQ);
	o = wait_q(n, TXQ, &id, &len, 5000);
	if (o == HV_TIMEOUT)
		return hfail("%s: TX with a writable buffer: timeout", n->h->name);
	hnote("%s: TX with a writable buffer: %s", n->h->name,
	      hv_outcome_name(o));
	if (o == HV_USED_ENTRY)
		return not_sent(n, "a TX chain with a writable buffer");
	rx_scan(n);
	return n->dns ? hfail("%s: a TX chain with a writable buffer went out",
			      n->h->name) : 0;
}

int hostile_net_tx_ring_abuse(void)
{
	return on_both(tx_ring_abuse);
}

/* ---- RX buffers ---- */

/* Small RX buffers at NM_SMALL + 0x100 * i, each followed by guard
 * bytes (0xa5) up to the next. */
static u8 *small(struct hn *n, u32 i)
{
	return n->mem + NM_SMALL + 0x100 * i;
}

static int guards_ok(struct hn *n, u32 nr, const u32 *sizes)
{
	for (u32 i = 0; i < nr; i++)
		for (u32 k = sizes[i]; k < 0x100; k++)
			if (small(n, i)[k] != 0xa5)
				return hfail("%s: RX wrote byte %u of a %u-byte "
					     "buffer", n->h->name, k, sizes[i]);
	return 0;
}

static void post_small(struct hn *n, u32 nr, const u32 *sizes)
{
	memset(n->mem + NM_SMALL, 0xa5, 0x100 * nr);
	for (u32 i = 0; i < nr; i++) {
		hv_set_desc(desc(n, RXQ), (u16)i, pa(n, NM_SMALL + 0x100 * i),
			    sizes[i], F_WRITE, 0);
		publish(n, RXQ, (u16)i);
	}
	kick(n, RXQ);
}

/* RX used entry: must be there now (the TX chain came back). */
static int rx_now(struct hn *n, u32 want_id, u32 want_len, const char *what)
{
	u32 id = 0, len = 0;
	if (!take(n, RXQ, &id, &len))
		return hfail("%s: %s: no RX used entry", n->h->name, what);
	if (id != want_id || len != want_len)
		return hfail("%s: %s: RX entry id %u len %u, want %u len %u",
			     n->h->name, what, id, len, want_id, want_len);
	return 0;
}

/* Without MRG_RXBUF: buffers of 8 and 11 bytes are given back unused,
 * the answer goes into the 2048-byte one after them. */
static int rx_small_nomrg(struct hn *n)
{
	static const u32 sizes[2] = { 8, 11 };
	u32 id = 0, len = 0;
	if (net_up(n, NF_MAC, 0, false))
		return 1;
	post_small(n, 2, sizes);
	rx_post(n, 2);
	kick(n, RXQ);
	if (tx_arp(n, NULL, ip_gw))
		return 1;
	if (rx_now(n, 0, 0, "8-byte buffer") || rx_now(n, 1, 0, "11-byte buffer"))
		return 1;
	if (!take(n, RXQ, &id, &len) || id != 2 || len < NHDR + 42)
		return hfail("%s: answer after the small buffers: id %u len %u",
			     n->h->name, id, len);
	classify(n, n->mem + NM_RX + 2 * RXB, len);
	if (n->gw != 1)
		return hfail("%s: not the gateway's answer", n->h->name);
	return guards_ok(n, 2, sizes);
}

/* Without MRG_RXBUF, 8 and 11 bytes, then 40 (header and 28 bytes),
 * which never holds the 64-byte answer: the answer is dropped, the 40
 * bytes stay in the ring, and the two buffers too small for a header
 * must come back (published) all the same. */
static int rx_small_dropped(struct hn *n)
{
	static const u32 sizes[3] = { 8, 11, 40 };
	u32 id = 0, len = 0;
	if (net_up(n, NF_MAC, 0, false))
		return 1;
	post_small(n, 3, sizes);
	if (tx_arp(n, NULL, ip_gw))
		return 1;
	if (rx_now(n, 0, 0, "8-byte buffer, frame dropped") ||
	    rx_now(n, 1, 0, "11-byte buffer, frame dropped"))
		return 1;
	if (take(n, RXQ, &id, &len))
		return hfail("%s: a frame in a 40-byte buffer without MRG_RXBUF "
			     "(id %u len %u)", n->h->name, id, len);
	return guards_ok(n, 3, sizes);
}

int hostile_net_rx_small_dropped(void)
{
	return on_both(rx_small_dropped);
}

/* With MRG_RXBUF: 8 bytes given back, then the answer over 40 + 40
 * bytes (num_buffers 2), nothing beyond what was posted. */
static int rx_small_mrg(struct hn *n)
{
	static const u32 sizes[4] = { 8, 40, 40, 40 };
	if (net_up(n, NF_MAC | NF_MRG_RXBUF, 0, false))
		return 1;
	if (!(n->h->d.features & NF_MRG_RXBUF))
		return hfail("%s: MRG_RXBUF not offered", n->h->name);
	post_small(n, 4, sizes);
	if (tx_arp(n, NULL, ip_gw))
		return 1;
	u32 id = 0, len = 0, total = 0;
	if (rx_now(n, 0, 0, "8-byte buffer"))
		return 1;
	if (!take(n, RXQ, &id, &len) || id != 1 || len != 40)
		return hfail("%s: merged answer: first entry id %u len %u",
			     n->h->name, id, len);
	total += len;
	u16 nb = (u16)(small(n, 1)[10] | small(n, 1)[11] << 8);
	for (u32 i = 1; i < nb; i++) {
		if (!take(n, RXQ, &id, &len) || id != 1 + i || len > 40)
			return hfail("%s: merged answer: entry %u id %u len %u",
				     n->h->name, i, id, len);
		total += len;
	}
	if (nb < 2 || nb > 3 || total < NHDR + 42)
		return hfail("%s: merged answer: num_buffers %u, %u bytes",
			     n->h->name, nb, total);
	/* the answer reassembled */
	u8 f[120];
	for (u32 i = 0, off = 0; i < nb && off < sizeof(f); i++) {
		u32 k = total - off < 40 ? total - off : 40;
		memcpy(f + off, small(n, 1 + i), k);
		off += k;
	}
	classify(n, f, total);
	if (n->gw != 1)
		return hfail("%s: merged answer is not the gateway's ARP reply",
			     n->h->name);
	return guards_ok(n, 4, sizes);
}

static int rx_small(struct hn *n)
{
	return rx_small_nomrg(n) || rx_small_mrg(n);
}

int hostile_net_rx_small(void)
{
	return on_both(rx_small);
}

/* RX chains the device must not write: a readable buffer (given back
 * unused), then one in ROM and one beyond RAM, and a loop (the queue
 * breaks); ROM unchanged. */
static int rx_bad_chain(struct hn *n)
{
	u64 rom = param_u64("rom", 0xc0000);
	struct virtq_desc *t = desc(n, RXQ);
	volatile u32 *romw = phys(rom + 0x2000);
	u32 before = *romw;

	if (net_up(n, NF_MAC, 0, false))
		return 1;
	hv_set_desc(t, 0, pa(n, NM_RX), RXB, 0, 0);     /* readable */
	hv_set_desc(t, 1, pa(n, NM_RX + RXB), RXB, F_WRITE, 0);
	publish(n, RXQ, 0);
	publish(n, RXQ, 1);
	kick(n, RXQ);
	if (tx_arp(n, NULL, ip_gw) || rx_now(n, 0, 0, "readable RX buffer"))
		return 1;
	u32 id = 0, len = 0;
	if (!take(n, RXQ, &id, &len) || id != 1 || len < NHDR + 42)
		return hfail("%s: answer after a readable RX buffer: id %u "
			     "len %u", n->h->name, id, len);
	static const struct { u64 addr; u16 flags, next; const char *what; } bad[] = {
		{ 0, F_WRITE, 0, "RX buffer in ROM" },
		{ 0x100000000ull, F_WRITE, 0, "RX buffer at 4 GiB" },
		{ 1, F_WRITE | F_NEXT, 0, "RX descriptor loop" },
	};
	for (u32 i = 0; i < 3; i++) {
		if (net_up(n, NF_MAC, 0, false))
			return 1;
		u64 a = i == 0 ? rom + 0x2000 : i == 2 ? pa(n, NM_RX) : bad[i].addr;
		hv_set_desc(t, 0, a, RXB, bad[i].flags, bad[i].next);
		publish(n, RXQ, 0);
		kick(n, RXQ);
		/* the answer makes the device walk the chain; the TX chain
		 * comes back after that */
		ignore_reset = true;
		int rc = tx_arp(n, NULL, ip_gw);
		ignore_reset = false;
		if (rc)
			return 1;
		if (!(hv_status(n->h) & VIRTIO_STATUS_NEEDS_RESET))
			return hfail("%s: %s: no NEEDS_RESET", n->h->name,
				     bad[i].what);
		if (used(n, RXQ)->idx)
			return hfail("%s: %s: used entry published", n->h->name,
				     bad[i].what);
	}
	if (*romw != before)
		return hfail("%s: ROM changed by RX", n->h->name);
	return 0;
}

int hostile_net_rx_bad_chain(void)
{
	return on_both(rx_bad_chain);
}

/* A driver that posts no RX buffers while answers keep coming: 600 ARP
 * requests, every chain given back; then buffers, and what waited comes
 * in order, at most the backlog's bound, before a marker sent last. */
#define FLOOD 600
#define BACKLOG_MAX 256

static int rx_no_buffers(struct hn *n)
{
	u8 f[60];
	u32 id = 0, len = 0;
	if (net_up(n, NF_MAC, 0, false))
		return 1;
	arp_req(f, n->mac, ip_gw);
	for (u32 i = 0; i < FLOOD; i += 32) {
		for (u16 k = 0; k < 32; k++) {
			u8 *b = n->mem + NM_TX + (u32)k * 0x80;
			memset(b, 0, NHDR);
			memcpy(b + NHDR, f, 60);
			hv_set_desc(desc(n, TXQ), k, pa(n, NM_TX + (u32)k * 0x80),
				    NHDR + 60, 0, 0);
			publish(n, TXQ, k);
		}
		kick(n, TXQ);
		for (u32 k = 0; k < 32; k++) {
			enum hv_outcome o = wait_q(n, TXQ, &id, &len, 5000);
			if (o != HV_USED_ENTRY)
				return hfail("%s: TX %u of the flood: %s",
					     n->h->name, i + k, hv_outcome_name(o));
		}
	}
	/* still responsive: config space and status answer */
	for (u32 i = 0; i < 6; i++)
		if ((u8)hv_cfg_read(n->h, i, 1) != n->mac[i])
			return hfail("%s: MAC reads differently during the flood",
				     n->h->name);
	if (used(n, RXQ)->idx)
		return hfail("%s: RX entries without buffers", n->h->name);
	for (u16 i = 0; i < NQ; i++)
		rx_post(n, i);
	kick(n, RXQ);
	/* The backlog fills all NQ buffers first (it holds more than NQ);
	 * only then is there room behind it for the marker. */
	u64 end = rdtsc() + ms_to_tsc(10000);
	while (used(n, RXQ)->idx != NQ) {
		if (rdtsc() >= end)
			return hfail("%s: the backlog did not fill the %u buffers "
				     "(%u used)", n->h->name, NQ, used(n, RXQ)->idx);
		cpu_relax();
	}
	if (tx_arp(n, NULL, ip_dns))     /* the marker */
		return 1;
	end = rdtsc() + ms_to_tsc(10000);
	while (!n->dns) {
		rx_scan(n);
		if (rdtsc() >= end)
			return hfail("%s: the marker never came (%u answers "
				     "before it)", n->h->name, n->gw);
		cpu_relax();
	}
	hnote("%s: %u of %u answers kept while no buffers were posted",
	      n->h->name, n->gw, FLOOD);
	if (n->gw > BACKLOG_MAX)
		return hfail("%s: %u answers kept: the backlog is unbounded",
			     n->h->name, n->gw);
	if (n->gw < BACKLOG_MAX / 2)
		return hfail("%s: only %u answers kept", n->h->name, n->gw);
	return tx_arp(n, NULL, ip_gw) || expect_gw(n, "after the backlog");
}

int hostile_net_rx_no_buffers(void)
{
	return on_both(rx_no_buffers);
}

/* ---- notify storms ---- */

#define STORM 5000

/* One request in flight on each queue and thousands of notifies on all
 * three: each request handled exactly once. */
static int notify_storm(struct hn *n)
{
	u8 *c = n->mem + NM_CTRL;
	if (net_up(n, NF_MAC | NF_CTRL_VQ | NF_CTRL_RX, 0, true))
		return 1;
	for (u32 i = 0; i < STORM; i++) {
		kick(n, RXQ);
		kick(n, TXQ);
		kick(n, CTQ);
	}
	if (used(n, RXQ)->idx || used(n, TXQ)->idx || used(n, CTQ)->idx)
		return hfail("%s: used entries on empty queues", n->h->name);
	/* RX_PROMISC on, an ARP request, and RX buffers */
	c[0] = 0;
	c[1] = 0;
	c[2] = 1;
	c[0x10] = 0xee;
	hv_set_desc(desc(n, CTQ), 0, pa(n, NM_CTRL), 3, F_NEXT, 1);
	hv_set_desc(desc(n, CTQ), 1, pa(n, NM_CTRL + 0x10), 1, F_WRITE, 0);
	publish(n, CTQ, 0);
	u8 *b = n->mem + NM_TX;
	memset(b, 0, NHDR);
	arp_req(b + NHDR, n->mac, ip_gw);
	hv_set_desc(desc(n, TXQ), 0, pa(n, NM_TX), NHDR + 60, 0, 0);
	publish(n, TXQ, 0);
	for (u16 i = 0; i < 4; i++)
		rx_post(n, i);
	for (u32 i = 0; i < STORM; i++) {
		kick(n, CTQ);
		kick(n, TXQ);
		kick(n, RXQ);
	}
	u32 id = 0, len = 0;
	if (wait_q(n, CTQ, &id, &len, 5000) != HV_USED_ENTRY || c[0x10] != 0)
		return hfail("%s: RX_PROMISC during the storm: ack 0x%x",
			     n->h->name, c[0x10]);
	if (wait_q(n, TXQ, &id, &len, 5000) != HV_USED_ENTRY || id != 0)
		return hfail("%s: TX during the storm: no used entry", n->h->name);
	rx_scan(n);
	if (used(n, CTQ)->idx != 1 || used(n, TXQ)->idx != 1 || n->gw != 1 ||
	    n->other)
		return hfail("%s: after the storm: ctrl %u tx %u used, %u answers "
			     "(%u other frames)", n->h->name, used(n, CTQ)->idx,
			     used(n, TXQ)->idx, n->gw, n->other);
	return 0;
}

int hostile_net_notify_storm(void)
{
	return on_both(notify_storm);
}

/* ---- the control queue ---- */

/* A command of len bytes (class, cmd, data) in NM_CTRL, the ack byte
 * after it in its own descriptor; returns the ack, or -1 when the chain
 * did not come back. ack_room 0: no writable byte at all. */
static int ctrl(struct hn *n, const u8 *cmd, u32 len, bool ack_room)
{
	u8 *c = n->mem + NM_CTRL;
	u32 id = 0, ulen = 0;
	memcpy(c, cmd, len);
	c[0x1000 - 1] = 0xee;
	hv_set_desc(desc(n, CTQ), 0, pa(n, NM_CTRL), len,
		    ack_room ? F_NEXT : 0, 1);
	hv_set_desc(desc(n, CTQ), 1, pa(n, NM_CTRL + 0x1000 - 1), 1, F_WRITE, 0);
	publish(n, CTQ, 0);
	kick(n, CTQ);
	enum hv_outcome o = wait_q(n, CTQ, &id, &ulen, 5000);
	if (o != HV_USED_ENTRY) {
		hfail("%s: control command: %s", n->h->name, hv_outcome_name(o));
		return -1;
	}
	if (!ack_room)
		return ulen == 0 && c[0x1000 - 1] == 0xee ? 0xee : -2;
	return c[0x1000 - 1];
}

static int ctrl_malformed(struct hn *n)
{
	static u8 big[3000];
	static const struct { u8 len; u8 b[24]; const char *what; } bad[] = {
		{ 0, { 0 }, "empty" },
		{ 1, { 0 }, "class only" },
		{ 2, { 0x7f, 0 }, "unknown class" },
		{ 3, { 0, 5, 1 }, "unknown RX command" },
		{ 2, { 0, 0 }, "RX_PROMISC without data" },
		{ 4, { 0, 0, 1, 0 }, "RX_PROMISC with 2 bytes" },
		{ 3, { 0, 1, 2 }, "RX_ALLMULTI 2" },
		{ 10, { 1, 0, 0xe8, 3, 0, 0, 0, 0, 0, 0 }, "MAC table: 1000 entries, none there" },
		{ 10, { 1, 0, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0 }, "MAC table: 2^32-1 entries" },
		{ 12, { 1, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 1 }, "MAC table: no multicast table" },
		{ 13, { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc }, "MAC table: trailing bytes" },
		{ 8, { 1, 1, 3, 0, 0, 0, 0, 1 }, "MAC_ADDR_SET multicast" },
		{ 7, { 1, 1, 2, 0, 0, 0, 0 }, "MAC_ADDR_SET 5 bytes" },
		{ 2, { 1, 9 }, "unknown MAC command" },
		{ 4, { 4, 0, 2, 0 }, "VQ_PAIRS_SET 2 without MQ" },
		{ 4, { 4, 0, 0, 0 }, "VQ_PAIRS_SET 0" },
		{ 4, { 4, 0, 0xff, 0xff }, "VQ_PAIRS_SET 65535" },
		{ 4, { 4, 7, 1, 0 }, "unknown MQ command" },
		{ 2, { 2, 0 }, "VLAN class (not offered)" },
		{ 2, { 3, 0 }, "ANNOUNCE class (not offered)" },
	};
	u8 conf[6];
	if (net_up(n, NF_MAC | NF_CTRL_VQ | NF_CTRL_RX | NF_CTRL_MAC, NQ, true))
		return 1;
	memcpy(conf, n->mac, 6);
	for (u32 i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		int ack = ctrl(n, bad[i].b, bad[i].len, true);
		if (ack != 1)
			return hfail("%s: %s: ack %d, want 1 (VIRTIO_NET_ERR)",
				     n->h->name, bad[i].what, ack);
	}
	/* a table whose count says more than 3000 bytes hold, and one
	 * longer than any legal table */
	big[0] = 1;
	big[1] = 0;
	big[2] = 0xf4;
	big[3] = 0x01;          /* 500 unicast entries */
	if (ctrl(n, big, sizeof(big), true) != 1)
		return hfail("%s: a 3000-byte MAC table was accepted", n->h->name);
	/* no room for the ack: given back, nothing written */
	static const u8 promisc_off[3] = { 0, 0, 0 };
	int ack = ctrl(n, promisc_off, 3, false);
	if (ack != 0xee)
		return hfail("%s: command without an ack byte: %d", n->h->name, ack);
	/* well-formed: promiscuous off, an empty table, a new MAC; the
	 * filter then drops the answer to the old address */
	static const u8 table0[10] = { 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	static const u8 newmac[8] = { 1, 1, 0x02, 0xcc, 0x00, 0x00, 0x00, 0x99 };
	if (ctrl(n, promisc_off, 3, true) != 0 || ctrl(n, table0, 10, true) != 0 ||
	    ctrl(n, newmac, 8, true) != 0)
		return hfail("%s: a well-formed command was refused", n->h->name);
	for (u32 i = 0; i < 6; i++)
		if ((u8)hv_cfg_read(n->h, i, 1) != newmac[2 + i])
			return hfail("%s: config MAC not the one set", n->h->name);
	if (tx_arp(n, NULL, ip_gw))
		return 1;
	rx_scan(n);
	if (n->gw)
		return hfail("%s: answer to the old MAC passed the filter",
			     n->h->name);
	memcpy(n->mac, newmac + 2, 6);
	if (tx_arp(n, NULL, ip_gw) || expect_gw(n, "to the new MAC"))
		return 1;
	/* a reset goes back to the configured MAC */
	hv_reset(n->h);
	for (u32 i = 0; i < 6; i++)
		if ((u8)hv_cfg_read(n->h, i, 1) != conf[i])
			return hfail("%s: the driver's MAC survived a reset",
				     n->h->name);
	return 0;
}

int hostile_net_ctrl_malformed(void)
{
	return on_both(ctrl_malformed);
}

/* ---- feature negotiation ---- */

/* Feature sets breaking 5.1.3.1 (or asking what user networking does not
 * offer): FEATURES_OK must not stick, nor a queue or DRIVER_OK after it. */
static int feat_deps(struct hn *n)
{
	static const u64 bad[] = {
		NF_CTRL_RX,                              /* needs CTRL_VQ */
		NF_CTRL_MAC,                             /* needs CTRL_VQ */
		NF_MQ | NF_CTRL_VQ,                      /* not offered */
		NF_GUEST_TSO4,                           /* needs GUEST_CSUM */
		NF_GUEST_ECN | NF_GUEST_CSUM,            /* needs TSO */
		NF_HOST_TSO4,                            /* needs CSUM */
		NF_HOST_ECN | NF_CSUM,                   /* needs HOST_TSO */
		NF_CSUM,                                 /* not offered here */
	};
	struct hdev *h = n->h;
	for (u32 i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		u64 f = bad[i] | NF_MAC | VIRTIO_F_VERSION_1;
		hv_reset(h);
		hv_set_status(h, VIRTIO_STATUS_ACK);
		hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
		hv_drv_features(h, 0, (u32)f);
		hv_drv_features(h, 1, (u32)(f >> 32));
		hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
		if (hv_status(h) & VIRTIO_STATUS_FEATURES_OK)
			return hfail("%s: FEATURES_OK accepted for 0x%lx",
				     h->name, f);
		if (q_setup(n, RXQ))
			return hfail("%s: queue enabled after a refused "
				     "FEATURES_OK (0x%lx)", h->name, f);
		hv_driver_ok(h);
		if (hv_status(h) & VIRTIO_STATUS_DRIVER_OK)
			return hfail("%s: DRIVER_OK after a refused FEATURES_OK",
				     h->name);
	}
	/* the dependencies met: accepted */
	if (net_up(n, NF_MAC | NF_CTRL_VQ | NF_CTRL_RX | NF_CTRL_MAC, NQ, true))
		return 1;
	return 0;
}

int hostile_net_feat_deps(void)
{
	return on_both(feat_deps);
}

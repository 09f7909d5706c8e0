/* virtio-net driver for the test guest's ring 3: queue 0 receives, queue
 * 1 transmits (no control queue, one queue pair). Each RX descriptor is
 * one device-writable buffer (descriptor i <-> buffer i); each TX frame
 * is one descriptor holding the 12-byte header and the frame together,
 * which VERSION_1 allows (any layout). Everything the device hands back
 * (ids, lengths, num_buffers) is checked before it is used.
 */
#include "net.h"

#define RXBUF_DEFAULT 2048
#define TXBUF_SIZE    2048   /* header + largest frame, rounded up */

/* Without MRG_RXBUF a buffer must hold the header and a whole frame
 * (virtio 1.2 5.1.6.3.1, no GSO features negotiated). */
#define RXBUF_MIN_NOMRG (NET_HDR_LEN + ETH_MAX_FRAME)
#define RXBUF_MIN_MRG   64

/* Pair p's receive queue and buffers (pair 0's are n->rx, n->rxbuf). */
static struct virtq *rxq(struct net *n, u32 p)
{
	return p ? &n->xrx[p - 1] : &n->rx;
}

static u8 *rx_buf(struct net *n, u32 p, u32 i)
{
	return (p ? n->xrxbuf[p - 1] : n->rxbuf) + (u64)i * n->rxbuf_size;
}

static void rx_post(struct net *n, u32 p, u16 i)
{
	struct vbuf v = { (u64)rx_buf(n, p, i), n->rxbuf_size, true };
	virtq_add(rxq(n, p), i, &v, 1, NULL);
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET on the control queue (queue 2 * max):
 * 0, or -1 when the device does not acknowledge it. */
static int pairs_set(struct net *n, u16 max, u16 pairs)
{
	static struct virtq ctrl;
	u8 *cmd = heap_alloc(16, 16);
	struct vbuf v[2] = { { (u64)cmd, 4, false }, { (u64)cmd + 8, 1, true } };
	u32 id, len;
	if (!cmd || virtio_queue_setup(&n->d, &ctrl, (u16)(2 * max), 8) < 0)
		return -1;
	cmd[0] = 4;              /* VIRTIO_NET_CTRL_MQ */
	cmd[1] = 0;              /* VQ_PAIRS_SET */
	memcpy(cmd + 2, &pairs, 2);
	cmd[8] = 0xee;
	virtq_add(&ctrl, 0, v, 2, NULL);
	virtq_kick(&ctrl);
	if (!virtq_wait(&ctrl, &id, &len, rdtsc() + ms_to_tsc(1000)) ||
	    cmd[8] != 0) {
		printf("net: VQ_PAIRS_SET %u: ack %u\n", pairs, cmd[8]);
		return -1;
	}
	return 0;
}

static int wait_link(struct net *n)
{
	if (!(n->d.features & VIRTIO_NET_F_STATUS))
		return 0;
	u64 end = rdtsc() + ms_to_tsc(param_u64("link_ms", 2000));
	while (!(virtio_cfg_read(&n->d, 6, 2) & VIRTIO_NET_S_LINK_UP)) {
		if (rdtsc() >= end) {
			printf("net: link still down\n");
			return -1;
		}
		delay_us(1000);
	}
	return 0;
}

static int alloc_buffers(struct net *n)
{
	n->rxbuf = heap_alloc((u64)n->rx.size * n->rxbuf_size, 4096);
	for (u32 p = 1; p < n->pairs; p++)
		if (!(n->xrxbuf[p - 1] = heap_alloc((u64)n->rx.size *
						     n->rxbuf_size, 4096)))
			return -1;
	n->txbuf = heap_alloc((u64)n->tx.size * TXBUF_SIZE, 4096);
	n->tx_free = heap_alloc(sizeof(u16) * n->tx.size, 8);
	n->tx_busy = heap_alloc(sizeof(bool) * n->tx.size, 8);
	if (!n->rxbuf || !n->txbuf || !n->tx_free || !n->tx_busy) {
		printf("net: out of memory for the buffers\n");
		return -1;
	}
	/* With TSO a frame may be a chain of two descriptors (id, id + 1):
	 * then only even ids are handed out. */
	u16 step = n->tso ? 2 : 1;
	for (u16 i = 0; i < n->tx.size; i += step)
		n->tx_free[n->ntx_free++] = (u16)(n->tx.size - step - i);
	return 0;
}

int net_open(struct net *n)
{
	memset(n, 0, sizeof(*n));
	bool want_mrg = param_u64("mrg", 1) != 0;
	u64 rxbuf = param_u64("rxbuf", RXBUF_DEFAULT);
	if (virtio_find(&n->d, VIRTIO_ID_NET) < 0) {
		printf("net: no virtio-net device\n");
		return -1;
	}
	u64 want = VIRTIO_NET_F_MAC | VIRTIO_NET_F_STATUS | VIRTIO_NET_F_MTU;
	if (want_mrg)
		want |= VIRTIO_NET_F_MRG_RXBUF;
	if (param_u64("csum", 0))
		want |= VIRTIO_NET_F_CSUM | VIRTIO_NET_F_GUEST_CSUM;
	bool want_tso = param_u64("tso", 0) != 0;
	if (want_tso)
		want |= VIRTIO_NET_F_CSUM | VIRTIO_NET_F_HOST_TSO4;
	u64 pairs = param_u64("pairs", 1);
	u64 txpair = param_u64("txpair", pairs ? pairs - 1 : 0);
	if (!pairs || pairs > NET_MAX_PAIRS || txpair >= pairs) {
		printf("net: pairs=%lu txpair=%lu: want 1..%u, txpair < pairs\n",
		       pairs, txpair, NET_MAX_PAIRS);
		exit(2);
	}
	n->pairs = (u16)pairs;
	n->txpair = (u16)txpair;
	if (pairs > 1)
		want |= VIRTIO_NET_F_MQ | VIRTIO_NET_F_CTRL_VQ;
	if (virtio_negotiate(&n->d, want) < 0)
		return -1;
	u64 f = n->d.features;
	n->mrg = f & VIRTIO_NET_F_MRG_RXBUF;
	n->csum = (f & VIRTIO_NET_F_CSUM) && (f & VIRTIO_NET_F_GUEST_CSUM);
	n->tso = (f & VIRTIO_NET_F_CSUM) && (f & VIRTIO_NET_F_HOST_TSO4);
	if (want_tso && !n->tso) {
		printf("net: tso=1 but the device offers no HOST_TSO4\n");
		return -1;
	}
	u64 min = n->mrg ? RXBUF_MIN_MRG : RXBUF_MIN_NOMRG;
	if (rxbuf < min || rxbuf > 65536) {
		printf("net: rxbuf=%lu: want %lu..65536 (mrg=%d)\n", rxbuf, min,
		       n->mrg);
		exit(2);
	}
	n->rxbuf_size = (u32)rxbuf;
	if (f & VIRTIO_NET_F_MAC) {
		for (u32 i = 0; i < 6; i++)
			n->mac[i] = (u8)virtio_cfg_read(&n->d, i, 1);
	} else {
		/* The driver picks one (locally administered). */
		static const u8 mine[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
		memcpy(n->mac, mine, 6);
	}
	n->mtu = f & VIRTIO_NET_F_MTU ? (u16)virtio_cfg_read(&n->d, 10, 2) : 1500;
	u16 max = 1;
	if (n->pairs > 1) {
		if (!(f & VIRTIO_NET_F_MQ)) {
			printf("net: pairs=%u but the device has no MQ\n", n->pairs);
			return -1;
		}
		max = (u16)virtio_cfg_read(&n->d, 8, 2);
		if (max < n->pairs) {
			printf("net: pairs=%u: the device has %u\n", n->pairs, max);
			return -1;
		}
	}
	for (u32 p = 0; p < n->pairs; p++)
		if (virtio_queue_setup(&n->d, rxq(n, p), (u16)(2 * p),
				       VIRTQ_MAX_SIZE) < 0) {
			printf("net: queue setup failed\n");
			return -1;
		}
	if (virtio_queue_setup(&n->d, &n->tx, (u16)(2 * n->txpair + 1),
			       VIRTQ_MAX_SIZE) < 0) {
		printf("net: queue setup failed\n");
		return -1;
	}
	if (alloc_buffers(n) < 0)
		return -1;
	for (u32 p = 0; p < n->pairs; p++)
		for (u16 i = 0; i < rxq(n, p)->size; i++)
			rx_post(n, p, i);
	virtio_driver_ok(&n->d);
	for (u32 p = 0; p < n->pairs; p++)
		virtq_kick(rxq(n, p));
	if (n->pairs > 1) {
		if (pairs_set(n, max, n->pairs) < 0)
			return -1;
		printf("net: pairs=%u of %u txpair=%u\n", n->pairs, max,
		       n->txpair);
	}
	printf("net: mac=%02x:%02x:%02x:%02x:%02x:%02x mrg=%d mtu=%u rxq=%u "
	       "txq=%u rxbuf=%u status=%d csum=%d tso=%d\n", n->mac[0],
	       n->mac[1], n->mac[2], n->mac[3], n->mac[4], n->mac[5], n->mrg,
	       n->mtu, n->rx.size, n->tx.size, n->rxbuf_size,
	       !!(f & VIRTIO_NET_F_STATUS), n->csum, n->tso);
	return wait_link(n);
}

void net_close(struct net *n)
{
	if (n->csum)
		printf("net: csum offload: tx=%lu rx_completed=%lu\n",
		       n->tx_csum_offload, n->rx_csum_done);
	if (n->tso)
		printf("net: tso frames sent: %lu\n", n->tx_tso);
	if (n->pairs > 1)
		printf("net: rx per pair: %lu %lu %lu %lu\n", n->rx_pair[0],
		       n->rx_pair[1], n->rx_pair[2], n->rx_pair[3]);
	virtio_reset(&n->d);
}

static u16 be16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

/* With CSUM: an IPv4 UDP frame (as net_ip.c builds it, checksum filled
 * in) gets its checksum left to the device, as Linux would: the field
 * holds the pseudo-header sum, the header says where it goes
 * (virtio 1.2 5.1.6.2). */
static void tx_offload(struct net *n, u8 *hdr, u8 *f, u32 len)
{
	if (!n->csum || len < ETH_HLEN + 28 || be16(f + 12) != 0x0800)
		return;
	u8 *ip = f + ETH_HLEN;
	u32 ihl = (ip[0] & 15) * 4u;
	if (ip[9] != IP_PROTO_UDP || ihl < 20 || ETH_HLEN + ihl + 8 > len)
		return;
	u8 *udp = ip + ihl;
	u32 ulen = be16(udp + 4);
	if (!be16(udp + 6) || ETH_HLEN + ihl + ulen > len)
		return;          /* no checksum, or odd lengths: leave it */
	u32 sum = be16(ip + 12) + be16(ip + 14) + be16(ip + 16) +
		  be16(ip + 18) + IP_PROTO_UDP + ulen;
	u16 partial = (u16)~ip_csum(udp, 0, sum);
	udp[6] = (u8)(partial >> 8);
	udp[7] = (u8)partial;
	u16 start = (u16)(ETH_HLEN + ihl), off = 6;
	hdr[0] = 1;              /* VIRTIO_NET_HDR_F_NEEDS_CSUM */
	memcpy(hdr + 6, &start, 2);
	memcpy(hdr + 8, &off, 2);
	n->tx_csum_offload++;
}

/* A received frame with NEEDS_CSUM (GUEST_CSUM): finish its checksum
 * here, as a NIC driver's stack would; false when the header is bad. */
static bool rx_complete_csum(struct net *n, const u8 *hdr, u8 *f, u32 len)
{
	u16 start, off;
	if (hdr[1] != 0)
		return false;    /* a GSO frame we never asked for */
	if (!(hdr[0] & 1))
		return true;
	if (!n->csum)
		return false;    /* not negotiated: the device broke a rule */
	memcpy(&start, hdr + 6, 2);
	memcpy(&off, hdr + 8, 2);
	if ((u32)start + off + 2 > len)
		return false;
	/* The field holds the pseudo-header sum: summing over it from
	 * csum_start gives the checksum that goes there. */
	u16 c = ip_csum(f + start, len - start, 0);
	f[start + off] = (u8)(c >> 8);
	f[start + off + 1] = (u8)c;
	n->rx_csum_done++;
	return true;
}

/* Takes back every transmitted descriptor the device has returned. */
static void tx_reap(struct net *n)
{
	u32 id, len;
	while (virtq_get(&n->tx, &id, &len)) {
		if (id >= n->tx.size || !n->tx_busy[id]) {
			printf("net: device returned bad tx id %u\n", id);
			exit(1);
		}
		n->tx_busy[id] = false;
		n->tx_free[n->ntx_free++] = (u16)id;
	}
}

/* A free TX descriptor id, waiting up to a second for the device to
 * give one back: the id, or -1. */
static int tx_take(struct net *n)
{
	tx_reap(n);
	if (!n->ntx_free) {
		/* Everything is in flight: make sure the device knows. */
		virtq_kick(&n->tx);
		u64 end = rdtsc() + ms_to_tsc(1000);
		while (!n->ntx_free && rdtsc() < end) {
			cpu_relax();
			tx_reap(n);
		}
		if (!n->ntx_free) {
			printf("net: no TX descriptor came back in 1 s\n");
			return -1;
		}
	}
	return n->tx_free[--n->ntx_free];
}

/* Hands descriptor id's chain (v[0..nv)) to the device; kicks unless
 * batching. */
static int tx_queue(struct net *n, u16 id, const struct vbuf *v, int nv)
{
	n->tx_busy[id] = true;
	virtq_add(&n->tx, id, v, nv, NULL);
	n->tx_frames++;
	if (!n->batch)
		virtq_kick(&n->tx);
	return 0;
}

int net_send(struct net *n, const void *frame, u32 len)
{
	if (len > ETH_MAX_FRAME || len < ETH_HLEN)
		return -1;
	int t = tx_take(n);
	if (t < 0)
		return -1;
	u16 id = (u16)t;
	u8 *b = n->txbuf + (u64)id * TXBUF_SIZE;
	u32 flen = len < ETH_MIN_FRAME ? ETH_MIN_FRAME : len;
	memset(b, 0, NET_HDR_LEN);   /* gso_type NONE */
	memcpy(b + NET_HDR_LEN, frame, len);
	memset(b + NET_HDR_LEN + len, 0, flen - len);
	tx_offload(n, b, b + NET_HDR_LEN, len);
	struct vbuf v = { (u64)b, NET_HDR_LEN + flen, false };
	return tx_queue(n, id, &v, 1);
}

int net_send_tso(struct net *n, const u8 *hdrs, u32 hlen, const u8 *payload,
		 u32 plen, u16 mss)
{
	if (!n->tso || hlen < ETH_HLEN + 40 || hlen > NET_TSO_HDR_MAX ||
	    !plen || hlen + plen > NET_TSO_MAX || !mss)
		return -1;
	u32 ihl = (hdrs[ETH_HLEN] & 15) * 4u;
	if (ihl < 20 || ETH_HLEN + ihl + 20 > hlen)
		return -1;
	int t = tx_take(n);
	if (t < 0)
		return -1;
	u16 id = (u16)t;
	u8 *b = n->txbuf + (u64)id * TXBUF_SIZE;
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = (u16)hlen, .gso_size = mss,
		.csum_start = (u16)(ETH_HLEN + ihl), .csum_offset = 16,
	};
	memcpy(b, &h, NET_HDR_LEN);
	memcpy(b + NET_HDR_LEN, hdrs, hlen);
	struct vbuf v[2] = { { (u64)b, NET_HDR_LEN + hlen, false },
			     { (u64)payload, plen, false } };
	n->tx_tso++;
	return tx_queue(n, id, v, 2);
}

void net_flush(struct net *n)
{
	virtq_kick(&n->tx);
}

/* Next used RX entry, checked: the buffer index, or -1 (none by the
 * deadline, or a device bug, reported). */
static int rx_next(struct net *n, u32 p, u32 *len, u64 deadline)
{
	u32 id;
	if (!virtq_wait(rxq(n, p), &id, len, deadline))
		return -1;
	if (id >= rxq(n, p)->size) {
		printf("net: device returned bad rx id %u\n", id);
		exit(1);
	}
	if (*len > n->rxbuf_size) {
		printf("net: device claims %u bytes in a %u-byte rx buffer\n",
		       *len, n->rxbuf_size);
		exit(1);
	}
	return (int)id;
}

int net_recv(struct net *n, u8 *out, u32 cap)
{
	u32 len, p = 0;
	int id = -1;
	/* Every pair in use, each in turn first. */
	for (u32 k = 0; k < n->pairs && id < 0; k++) {
		p = (n->rx_frames + k) % n->pairs;
		id = rx_next(n, p, &len, 0);
	}
	if (id < 0)
		return 0;
	struct virtq *q = rxq(n, p);
	u8 *b = rx_buf(n, p, (u32)id);
	u16 nbufs = 1;
	bool bad = len < NET_HDR_LEN;
	u8 hdr[NET_HDR_LEN] = { 0 };
	if (!bad)
		memcpy(hdr, b, NET_HDR_LEN);
	if (!bad && n->mrg) {
		memcpy(&nbufs, b + 10, 2);
		if (!nbufs || nbufs > q->size) {
			printf("net: num_buffers=%u (queue %u)\n", nbufs, q->size);
			exit(1);
		}
	}
	u32 total = 0;
	for (u16 k = 0; k < nbufs; k++) {
		u32 skip = k ? 0 : NET_HDR_LEN;
		if (k) {
			/* The rest of a merged frame is published with its
			 * first buffer; allow a moment anyway. */
			id = rx_next(n, p, &len, rdtsc() + ms_to_tsc(1000));
			if (id < 0) {
				printf("net: merged frame: buffer %u of %u missing\n",
				       k + 1, nbufs);
				exit(1);
			}
			b = rx_buf(n, p, (u32)id);
			n->rx_merged++;
		}
		if (!bad && len >= skip) {
			u32 part = len - skip;
			if (total + part <= cap)
				memcpy(out + total, b + skip, part);
			total += part;
		}
		rx_post(n, p, (u16)id);
	}
	/* Reposted buffers are announced a quarter of the ring at a time:
	 * the device always knows of most of them, and a device that does
	 * not suppress notifications costs one exit per 32 frames, not one
	 * per frame. */
	if (q->unkicked >= q->size / 4)
		virtq_kick(q);
	if (bad || total < ETH_HLEN) {
		n->rx_bad++;
		return -1;
	}
	if (total > cap) {
		n->rx_oversize++;
		return -1;
	}
	if (!rx_complete_csum(n, hdr, out, total)) {
		n->rx_bad++;
		return -1;
	}
	n->rx_frames++;
	n->rx_pair[p]++;
	return (int)total;
}

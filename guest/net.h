/* The test guest's virtio-net driver (net.c) and its tiny IPv4 stack
 * (net_ip.c): one RX and one TX queue, polled from ring 3 like the other
 * virtio drivers. Works with any virtio-net 1.x device, on PCI or
 * virtio-mmio, with or without MRG_RXBUF. The stack does Ethernet, ARP,
 * IPv4 (no fragments), ICMP echo, UDP and a DHCP client: just what the
 * net-* workloads (net_wl.c) need, with every received length checked.
 */
#ifndef TESTGUEST_NET_H
#define TESTGUEST_NET_H

#include "virtio.h"

#define VIRTIO_ID_NET 1

#define VIRTIO_NET_F_CSUM      (1ull << 0)
#define VIRTIO_NET_F_GUEST_CSUM (1ull << 1)
#define VIRTIO_NET_F_MTU       (1ull << 3)
#define VIRTIO_NET_F_MAC       (1ull << 5)
#define VIRTIO_NET_F_HOST_TSO4 (1ull << 11)
#define VIRTIO_NET_F_MRG_RXBUF (1ull << 15)
#define VIRTIO_NET_F_CTRL_VQ   (1ull << 17)
#define VIRTIO_NET_F_MQ        (1ull << 22)
#define NET_MAX_PAIRS 4
#define VIRTIO_NET_F_STATUS    (1ull << 16)

#define VIRTIO_NET_S_LINK_UP 1

#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_GSO_TCPV4    1

/* With VERSION_1 the header always has num_buffers: 12 bytes. */
struct virtio_net_hdr {
	u8 flags, gso_type;
	u16 hdr_len, gso_size, csum_start, csum_offset;
	u16 num_buffers;
};
#define NET_HDR_LEN 12

#define ETH_HLEN      14
#define ETH_MAX_FRAME 1514   /* no VLAN tags, no jumbo frames */
#define ETH_MIN_FRAME 60     /* without the FCS: shorter frames are padded */

struct net {
	struct vdev d;
	struct virtq rx, tx;
	u8 mac[6];
	bool mrg;               /* MRG_RXBUF negotiated */
	u16 mtu;                /* from config space with F_MTU, else 1500 */
	u32 rxbuf_size;         /* bytes per posted RX buffer */
	u8 *rxbuf, *txbuf;      /* rx.size / tx.size buffers */
	u16 *tx_free;           /* stack of free TX descriptors */
	u16 ntx_free;
	bool *tx_busy;
	bool batch;             /* net_send does not kick; net_flush does */
	bool csum;              /* csum=1: CSUM and GUEST_CSUM negotiated */
	bool tso;               /* tso=1: HOST_TSO4 (and CSUM) negotiated */
	/* pairs=P (MQ): receive on pairs 0..P-1, transmit on txpair= */
	u16 pairs, txpair;
	struct virtq xrx[NET_MAX_PAIRS - 1];   /* RX of pairs 1.. */
	u8 *xrxbuf[NET_MAX_PAIRS - 1];
	u64 rx_pair[NET_MAX_PAIRS];
	/* counters */
	u64 rx_frames, tx_frames, rx_bad, rx_oversize, rx_merged;
	u64 tx_csum_offload;    /* UDP frames sent with NEEDS_CSUM */
	u64 tx_tso;             /* TCP segments sent with GSO_TCPV4 */
	u64 rx_csum_done;       /* NEEDS_CSUM frames completed here */
};

/* Finds the device (transport= / mmio=), negotiates VERSION_1, MAC,
 * STATUS, MTU, (unless mrg=0) MRG_RXBUF, (with csum=1) CSUM and
 * GUEST_CSUM and (with pairs=P > 1) MQ and CTRL_VQ: then P pairs are
 * enabled with VQ_PAIRS_SET, all P receive queues are served and frames
 * leave on pair txpair= (default P-1); posts rx.size RX buffers of
 * rxbuf= bytes (default 2048; with MRG_RXBUF as small as 64), waits for
 * the link, prints the net: line. 0 or -1. */
int net_open(struct net *n);
/* Queues one Ethernet frame (header from dst MAC on, len ≤ ETH_MAX_FRAME)
 * with a zeroed virtio_net_hdr (with csum: an IPv4 UDP frame's checksum
 * left to the device, NEEDS_CSUM); kicks unless n->batch. 0, or -1 when no
 * TX descriptor came back within a second. */
int net_send(struct net *n, const void *frame, u32 len);
/* With n->tso: queues one IPv4 TCP frame of up to 64 KiB for the device
 * to cut into segments of mss payload bytes (GSO_TCPV4, NEEDS_CSUM on
 * the TCP checksum, which must hold the pseudo-header sum without the
 * length, as Linux leaves it). The first hlen bytes (Ethernet, IPv4 and
 * TCP headers, at most NET_TSO_HDR_MAX) are copied; the payload is
 * referenced by a second descriptor and must stay unchanged until the
 * device gives the frame back. 0 or -1 as net_send. */
#define NET_TSO_HDR_MAX 128
#define NET_TSO_MAX     65536   /* Ethernet header included */
int net_send_tso(struct net *n, const u8 *hdrs, u32 hlen, const u8 *payload,
		 u32 plen, u16 mss);
/* Notifies the device of queued TX frames (batch mode). */
void net_flush(struct net *n);
/* Takes one received frame into out (cap bytes): its length, 0 if none
 * is waiting, -1 if one was dropped (malformed or larger than cap). */
int net_recv(struct net *n, u8 *out, u32 cap);
void net_close(struct net *n);

/* ---- net_ip.c ---- */

#define IP4(a, b, c, d) ((u32)(a) << 24 | (u32)(b) << 16 | (u32)(c) << 8 | (u32)(d))
#define IP_PROTO_ICMP 1
#define IP_PROTO_UDP  17

struct arp_entry {
	u32 ip;
	u8 mac[6];
};
#define ARP_ENTRIES 8

/* Our side of the link. Addresses are host-order u32s. */
struct netif {
	struct net *n;
	u32 ip, mask, gw, dns;
	u16 ip_id;
	struct arp_entry arp[ARP_ENTRIES];
	u32 arp_next;
	u8 rx[ETH_MAX_FRAME + 64];  /* the frame being parsed */
	u8 tx[ETH_MAX_FRAME + 64];  /* the frame being built (ip_send) */
	u8 reply[ETH_MAX_FRAME + 64];  /* echo replies, built on receive */
	u8 arp_tx[64];              /* ARP requests and replies */
	/* counters */
	u64 arp_replied, echo_replied, dropped, bad_csum;
};

/* A received IPv4 packet; the pointers are into nif->rx, valid until
 * the next receive. For UDP, data is the payload; for ICMP the whole
 * ICMP message. */
struct ip_pkt {
	u32 src, dst;
	u8 proto;
	u16 sport, dport;
	const u8 *data;
	u32 len;
};

void netif_init(struct netif *nif, struct net *n);
/* The next-hop MAC for ip (broadcast for 255.255.255.255), by ARP if it
 * is not cached. false on deadline. */
bool arp_resolve(struct netif *nif, u32 ip, u8 mac[6], u64 deadline);
/* Sends an IPv4 packet (payload ≤ 1480 bytes, no fragments). */
int ip_send(struct netif *nif, u32 dst, u8 proto, const void *payload,
	    u32 len, u64 deadline);
int udp_send(struct netif *nif, u32 dst, u16 sport, u16 dport,
	     const void *data, u32 len, u64 deadline);
/* Processes received frames (answering ARP and echo requests) until an
 * IPv4 packet of `proto` arrives (for UDP: to port `dport`). false on
 * deadline. */
bool ip_recv(struct netif *nif, u8 proto, u16 dport, struct ip_pkt *p,
	     u64 deadline);
/* DHCP DISCOVER/OFFER/REQUEST/ACK: fills ip, mask, gw, dns. 0 or -1. */
int dhcp_run(struct netif *nif, u64 deadline);
/* Internet checksum of len bytes, folded, complemented. */
u16 ip_csum(const void *p, u32 len, u32 sum);
/* "a.b.c.d" -> host order; false if malformed. */
bool parse_ip4(const char *s, u32 *ip);
/* host order -> "a.b.c.d" in buf; returns buf. */
const char *net_ip_str(u32 ip, char buf[16]);
/* The address parameter key=, or dflt when absent; a malformed one ends
 * the workload wl with status 2. */
u32 net_param_ip(const char *wl, const char *key, u32 dflt);

/* Big-endian fields of packet headers. */
static inline u16 get16(const u8 *p)
{
	return (u16)(p[0] << 8 | p[1]);
}

static inline u32 get32(const u8 *p)
{
	return (u32)p[0] << 24 | (u32)p[1] << 16 | (u32)p[2] << 8 | p[3];
}

static inline void put16(u8 *p, u16 v)
{
	p[0] = (u8)(v >> 8);
	p[1] = (u8)v;
}

static inline void put32(u8 *p, u32 v)
{
	put16(p, (u16)(v >> 16));
	put16(p + 2, (u16)v);
}

#endif

/* `peer PATH` (net_peer.c): a point-to-point link between two VMs'
 * virtio-nets over a UNIX SOCK_SEQPACKET socket at PATH. docs/virtio-net.md
 * describes the rendezvous and the wire format.
 */
#ifndef CVISOR_BACKENDS_NET_PEER_H
#define CVISOR_BACKENDS_NET_PEER_H

#include <stdint.h>

#include "backends/net.h"

/* The peerfeats bits the link carries today: CSUM and GUEST_CSUM (a
 * partial checksum travels in the header). The GSO bits are accepted, as
 * QNX defines them, but not offered to the guest. */
#define NET_PEER_FEATS_CSUM	0x3u

/* The wire: each message is one frame, prefixed by the 12-byte
 * virtio_net_hdr (little-endian, num_buffers 0) when both sides agreed
 * on an offload; the first message each way is a hello. */
#define NET_PEER_HDR_LEN	12
#define NET_PEER_MAGIC		"CVPEER\r\n"
#define NET_PEER_VERSION	1

struct net_peer_hello {
	uint8_t magic[8];
	uint32_t version;       /* little-endian, as the rest */
	uint32_t feats;         /* peerfeats bits this side carries */
	uint32_t mtu;
} __attribute__((packed));

struct net_peer_stats {
	uint64_t connects;      /* hellos accepted: the link came up */
	uint64_t refused;       /* hellos refused (not ours, or none) */
	uint64_t tx_frames, tx_down, tx_full, tx_bad;
	uint64_t rx_frames, rx_oversize, rx_runt, rx_bad_hdr, rx_unclaimed;
	uint64_t rx_reads;      /* receive calls that brought messages */
};

struct net_backend *net_peer_open(const struct net_backend_params *p,
				  struct event_loop *loop,
				  char *err, size_t errlen);
/* Counters, on the loop thread (or with the loop idle: tests). */
void net_peer_get_stats(struct net_backend *be, struct net_peer_stats *st);
/* The offload bits agreed on the current connection (0 when down). */
unsigned net_peer_link_feats(struct net_backend *be);

#endif

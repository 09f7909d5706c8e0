/* virtio-net (virtio 1.2 section 5.1): the device. One receive and one
 * transmit queue and a control queue, served on the event loop thread;
 * frames go to and come from a network backend (backends/net.h).
 * docs/virtio-net.md describes the options and the limits.
 */
#ifndef CVISOR_VIRTIO_NET_H
#define CVISOR_VIRTIO_NET_H

#include <stdbool.h>
#include <stdint.h>

#include "backends/net.h"

struct event_loop;
struct guest_mem;
struct virtio_dev;

/* Feature bits (spec 5.1.3) */
#define VIRTIO_NET_F_CSUM		0
#define VIRTIO_NET_F_GUEST_CSUM		1
#define VIRTIO_NET_F_MTU		3
#define VIRTIO_NET_F_MAC		5
#define VIRTIO_NET_F_GUEST_TSO4		7
#define VIRTIO_NET_F_GUEST_TSO6		8
#define VIRTIO_NET_F_GUEST_ECN		9
#define VIRTIO_NET_F_GUEST_UFO		10
#define VIRTIO_NET_F_HOST_TSO4		11
#define VIRTIO_NET_F_HOST_TSO6		12
#define VIRTIO_NET_F_HOST_ECN		13
#define VIRTIO_NET_F_HOST_UFO		14
#define VIRTIO_NET_F_MRG_RXBUF		15
#define VIRTIO_NET_F_STATUS		16
#define VIRTIO_NET_F_CTRL_VQ		17
#define VIRTIO_NET_F_CTRL_RX		18
#define VIRTIO_NET_F_CTRL_VLAN		19
#define VIRTIO_NET_F_GUEST_ANNOUNCE	21
#define VIRTIO_NET_F_MQ			22
#define VIRTIO_NET_F_CTRL_MAC_ADDR	23

#define VIRTIO_NET_S_LINK_UP		1

/* virtio_net_hdr flags and gso types */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM	1
#define VIRTIO_NET_HDR_F_DATA_VALID	2
#define VIRTIO_NET_HDR_GSO_NONE		0
#define VIRTIO_NET_HDR_GSO_TCPV4	1
#define VIRTIO_NET_HDR_GSO_UDP		3
#define VIRTIO_NET_HDR_GSO_TCPV6	4
#define VIRTIO_NET_HDR_GSO_ECN		0x80

/* Control queue (5.1.6.5) */
#define VIRTIO_NET_OK			0
#define VIRTIO_NET_ERR			1
#define VIRTIO_NET_CTRL_RX		0
#define VIRTIO_NET_CTRL_RX_PROMISC	0
#define VIRTIO_NET_CTRL_RX_ALLMULTI	1
#define VIRTIO_NET_CTRL_MAC		1
#define VIRTIO_NET_CTRL_MAC_TABLE_SET	0
#define VIRTIO_NET_CTRL_MAC_ADDR_SET	1
#define VIRTIO_NET_CTRL_MQ		4
#define VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET	0

/* The first pair and, with one pair, the control queue; with N pairs
 * RX i is queue 2i, TX i 2i+1 and the control queue 2N. */
#define VIRTIO_NET_RXQ			0
#define VIRTIO_NET_TXQ			1
#define VIRTIO_NET_CTRLQ		2
#define VIRTIO_NET_QUEUE_SIZE		256

/* The header every frame carries both ways with VERSION_1 (12 bytes). */
struct virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers;
} __attribute__((packed));

struct virtio_net_config {
	uint8_t mac[6];
	uint16_t status;
	uint16_t max_virtqueue_pairs;
	uint16_t mtu;
} __attribute__((packed));

/* What the device counts (the guest's misbehaviour costs it packets). */
struct virtio_net_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t rx_backlog_drops;    /* no RX buffers, backlog full */
	uint64_t rx_filtered;         /* not for our MAC/filters */
	uint64_t rx_too_big;          /* larger than what the guest posts */
	uint64_t rx_not_ready;        /* driver not running */
	uint64_t rx_bad_chain;        /* RX chain with readable buffers */
	uint64_t rx_bad_hdr;          /* an offload the driver refused */
	uint64_t tx_frames, tx_bytes;
	uint64_t tx_bad_hdr;          /* short/odd header, unnegotiated offload */
	uint64_t tx_zero;             /* no frame after the header */
	uint64_t tx_too_big;
	uint64_t tx_backend_err;
	uint64_t ctrl_err;            /* commands answered VIRTIO_NET_ERR */
};

struct virtio_net_params {
	uint8_t mac[6];
	bool has_mac;
	unsigned mtu;                 /* 0: NET_MTU_DEFAULT */
	unsigned queues;              /* queue pairs; 0: 1 (no MQ) */
	/* queues > 1: pair i's loop (its thread's); NULL: the VM's */
	struct event_loop *loops[NET_MAX_QUEUE_PAIRS];
};

struct virtio_net;

/* The device takes be (closed with the device). */
struct virtio_net *virtio_net_new(const struct virtio_net_params *p,
				  struct net_backend *be,
				  struct guest_mem *mem);
struct virtio_dev *virtio_net_vdev(struct virtio_net *n);
void virtio_net_free(struct virtio_net *n);
void virtio_net_release(struct virtio_dev *d);
/* A snapshot of the counters, summed over the pairs (takes the queue
 * locks). */
void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *s);
/* Frames waiting for RX buffers (all pairs). */
unsigned virtio_net_backlog(struct virtio_net *n);
/* Spec 5.1.3.1's dependencies between features: 0 or -EINVAL. */
int virtio_net_check_features(uint64_t features);
/* The default MAC: locally administered, from the VM name and index. */
void virtio_net_default_mac(const char *system, unsigned index,
			    uint8_t mac[6]);

#endif

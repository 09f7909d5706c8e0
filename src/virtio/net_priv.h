/* virtio-net internals: net.c (device, features, config, vdev type),
 * net_rx.c, net_tx.c and net_ctrl.c (the three queues). */
#ifndef CVISOR_VIRTIO_NET_PRIV_H
#define CVISOR_VIRTIO_NET_PRIV_H

#include "core/log.h"
#include "core/util.h"
#include "virtio/net.h"
#include "virtio/virtio.h"

#define NET_HDR_LEN		sizeof(struct virtio_net_hdr)
/* Frames kept while the guest posts no RX buffers: beyond either bound
 * the backend is paused and further frames are dropped and counted. */
#define NET_BACKLOG_FRAMES	256
#define NET_BACKLOG_BYTES	(1024 * 1024)
/* Chains (frames) a kick handles before the loop serves others. */
#define NET_TX_BUDGET		256
#define NET_RX_BUDGET		256
/* Buffers one received frame may use with MRG_RXBUF. */
#define NET_RX_MAX_BUFS		64
/* Malformed chains (device-readable, or a first buffer shorter than the
 * header) one frame may meet before it is dropped: without a bound, a
 * guest reposting them from another vCPU kept the loop in one frame. */
#define NET_RX_BAD_CHAINS	16
#define NET_RX_IOV		64      /* segments per RX chain */
#define NET_TX_IOV		VIRTQ_MAX_IOV
#define NET_CTRL_IOV		16
#define NET_MAC_TABLE		64      /* unicast + multicast entries */

struct net_frame {
	struct net_frame *next;
	struct virtio_net_hdr hdr;      /* the backend's (offloads) */
	size_t len;
	uint8_t data[];
};

/* Receive side of one pair, under its RX queue lock. */
struct net_rx {
	struct net_frame *head, *tail;  /* backlog, oldest first */
	unsigned nr;
	size_t bytes;
	bool paused;                    /* told the backend to stop */
	bool unflushed;                 /* used entries not yet published */
	struct virtq_req reqs[NET_RX_MAX_BUFS];
	struct iovec iov[NET_RX_MAX_BUFS][NET_RX_IOV];
};

/* The RX filters (control queue): written under every pair's RX lock,
 * read under any one. */
struct net_filter {
	bool promisc, allmulti;
	bool uni_overflow, multi_overflow;
	unsigned nr_uni, nr_multi;
	uint8_t macs[NET_MAC_TABLE][6];   /* unicast first, then multicast */
};

/* A queue pair: receive queue 2i, transmit queue 2i+1. With several,
 * each runs on its own thread's event loop (with its tap fd). */
struct net_pair {
	struct virtio_net *n;
	unsigned index;
	struct event_loop *loop;        /* NULL: the VM's loop */
	struct net_rx rx;
	struct iovec tx_iov[NET_TX_IOV];
	struct iovec tx_frame[NET_TX_IOV];
	struct virtio_net_stats st;     /* rx_* under RX lock, tx_* TX */
	struct ratelimit rl;
};

struct virtio_net {
	struct virtio_dev vdev;
	struct virtio_net_config cfg;
	struct net_backend *be;
	uint8_t mac[6];                 /* in use (RX locks): MAC_ADDR_SET */
	uint8_t conf_mac[6];            /* configured: back to it on reset */
	struct net_filter filt;
	unsigned nr_pairs;              /* max_virtqueue_pairs */
	unsigned cur_pairs;             /* in use (VQ_PAIRS_SET), atomic */
	unsigned ctrlq;                 /* 2 * nr_pairs */
	struct net_pair pairs[NET_MAX_QUEUE_PAIRS];
	struct iovec ctrl_iov[NET_CTRL_IOV];
	uint64_t ctrl_err;              /* under the control queue lock */
	struct ratelimit rl;
};

static inline struct virtio_net *to_net(struct virtio_dev *d)
{
	return container_of(d, struct virtio_net, vdev);
}

static inline unsigned net_rxq(unsigned pair)
{
	return 2 * pair;
}

/* Every pair's RX lock, in order (the control queue changing filters). */
void net_lock_rx_all(struct virtio_net *n);
void net_unlock_rx_all(struct virtio_net *n);

/* net_rx.c */
bool net_rx_frame(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len);
bool net_rx_hdr(void *opaque, unsigned qp, const void *hdr,
		const struct iovec *iov, unsigned cnt, size_t len);
void net_rx_flush(void *opaque, unsigned qp);
/* Whether a received frame's header fits the offloads negotiated. */
bool net_rx_hdr_ok(const struct virtio_dev *d,
		   const struct virtio_net_hdr *h, size_t len);
void net_rx_notify(struct virtio_dev *d, unsigned q);
void net_rx_reset(struct net_pair *p);      /* its RX lock held */
void net_filter_reset(struct net_filter *f);
void net_rx_free(struct net_pair *p);
/* net_tx.c */
/* Whether a TX header asks only for what was negotiated and fits the
 * frame of len bytes. */
bool net_tx_hdr_ok(const struct virtio_dev *d,
		   const struct virtio_net_hdr *h, size_t len);
void net_tx_notify(struct virtio_dev *d, unsigned q);
/* net_ctrl.c */
void net_ctrl_notify(struct virtio_dev *d, unsigned q);

#endif

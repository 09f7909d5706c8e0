/* The `peer PATH` backend's private parts: net_peer.c has the
 * rendezvous, the hello and the connection's life; net_peer_data.c the
 * frames both ways, in batches. Everything runs on the backend's event
 * loop thread. */
#ifndef CVISOR_BACKENDS_NET_PEER_PRIV_H
#define CVISOR_BACKENDS_NET_PEER_PRIV_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>

#include "backends/net_peer.h"
#include "core/log.h"
#include "core/util.h"

#define PEER_RX_BUDGET		256     /* frames per round */
#define PEER_RX_BATCH		8       /* messages per recvmmsg */
#define PEER_TX_BATCH		32      /* the device flushes every 32 */
#define PEER_RETRY_MS		10      /* lock busy, backlog full */
#define PEER_BACKOFF_MS		1000    /* refused, or a failing call */
#define PEER_HELLO_MS		5000    /* a connection without a hello */
#define PEER_MAX_IOV		64      /* more segments: copied first */
#define PEER_MSG_MAX		(NET_PEER_HDR_LEN + NET_MAX_FRAME)
#define PEER_RX_ALIGN		64

#define HDR_F_NEEDS_CSUM	1
#define HDR_GSO_NONE		0

enum peer_state {
	PEER_IDLE,              /* between rendezvous: the timer is armed */
	PEER_LISTEN,            /* lfd waits for the peer */
	PEER_HELLO,             /* cfd connected, the peer's hello not yet in */
	PEER_UP,
};

struct net_peer {
	struct net_backend be;
	struct event_loop *loop;
	char *path, *lock_path;
	struct sockaddr_un addr;
	int lock_fd, tfd, efd;          /* lock file, timer, resume eventfd */
	int lfd, cfd;                   /* listening, connected */
	bool tfd_added, efd_added;
	enum peer_state state;
	bool paused;                    /* the device has no room */
	unsigned feats;                 /* ours: NET_PEER_FEATS_* */
	unsigned offloads;              /* NET_OFF_* the guest takes (atomic) */
	unsigned link_feats;            /* agreed on this connection */
	unsigned mtu;
	struct net_peer_stats st;
	struct ratelimit rl;
	struct iovec iov[2];            /* a copied frame: header, txbuf */
	uint8_t txbuf[NET_MAX_FRAME];   /* frames copied to fill a checksum */
	/* Frames send() took, sent by tx_flush with one sendmmsg: their
	 * iovecs point into the guest's chains, which the device gives back
	 * only after that flush. */
	unsigned tx_count;
	unsigned tx_lost;               /* dropped since the last tx_flush */
	uint64_t tx_lost_bytes;
	struct mmsghdr tx_mm[PEER_TX_BATCH];
	struct {
		struct iovec iov[PEER_MAX_IOV + 1];
		uint8_t h[NET_PEER_HDR_LEN];
		size_t len;
	} tx[PEER_TX_BATCH];
	/* Messages come in batches (recvmmsg), each into its own slot at
	 * rx_at(), which stays put while link_feats does: the hello is read
	 * alone, and a closing connection drops what its batch held. Those
	 * the device had no room for when it paused us, rx_next up to
	 * rx_count, go to it first on rx_resume. */
	unsigned rx_next, rx_count;
	bool rx_closed;                 /* an empty message ended the batch */
	bool rx_unflushed;              /* frames handed since rx_flush */
	size_t rx_len[PEER_RX_BATCH];
	bool rx_trunc[PEER_RX_BATCH];
	struct {
		uint8_t space[PEER_RX_ALIGN + PEER_MSG_MAX];
	} rx[PEER_RX_BATCH];
};

static inline struct net_peer *to_peer(struct net_backend *be)
{
	return container_of(be, struct net_peer, be);
}

/* net_peer.c */
uint32_t peer_conn_events(const struct net_peer *p);
void peer_disconnect(struct net_peer *p, const char *why,
		     unsigned backoff_ms);
void peer_hello_in(struct net_peer *p, const struct net_peer_hello *h,
		   ssize_t n);

/* net_peer_data.c */
void peer_on_conn(void *opaque, uint32_t events);
bool peer_rx_deliver(struct net_peer *p);
void peer_rx_flush(struct net_peer *p);
void peer_data_drop(struct net_peer *p);
int peer_send(struct net_backend *be, const void *hdr,
	      const struct iovec *iov, unsigned cnt, size_t len);
unsigned peer_tx_flush(struct net_backend *be, unsigned qp,
		       uint64_t *bytes);

#endif

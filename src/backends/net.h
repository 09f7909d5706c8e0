/* Network backends: where a virtio-net's frames go on the host side.
 *
 * A backend carries whole Ethernet frames both ways. The device hands it
 * frames the guest sent (net_backend_send); the backend hands the device
 * frames for the guest through the rx callback, on the event loop thread.
 *
 * Flow control: the rx callback always takes the frame (delivers it,
 * keeps it in a bounded backlog, or drops and counts it) and returns
 * whether it wants more. On false the backend stops reading from the host
 * (sockets stay unread, so TCP pushes back) until the device calls
 * net_backend_rx_resume(); frames it cannot hold back (ARP, DHCP answers
 * made inside the backend) may still arrive and are dropped by the device
 * once its backlog is full.
 *
 * Offloads: a backend that can carry a virtio_net_hdr (tap with
 * IFF_VNET_HDR, a peer socket) says so in caps; the device offers
 * CSUM/GUEST_CSUM (NET_CAP_GSO: and TSO/UFO) only then, passes the
 * guest's header along with each frame, and tells the backend which
 * offloads the guest accepts on receive (set_offloads). `user`
 * (libslirp) carries none.
 *
 * Backends: "user" (net_slirp.c), "tap:NAME" (net_tap.c). peer PATH fits
 * the same interface.
 */
#ifndef CVISOR_BACKENDS_NET_H
#define CVISOR_BACKENDS_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

struct event_loop;
struct net_backend;

/* Largest frame either way: a 64 KiB IP packet plus Ethernet and VLAN
 * headers. Anything longer is dropped. */
#define NET_MAX_FRAME		(65535 + 14 + 4)
#define NET_MTU_MIN		68
#define NET_MTU_MAX		65521    /* slirp's IF_MTU_MAX */
#define NET_MTU_DEFAULT		1500
#define NET_MAX_HOSTFWD		16
#define NET_MAX_QUEUE_PAIRS	8
/* QNX's peerfeats limit: CSUM, GUEST_CSUM and the GSO feature bits. */
#define NET_PEERFEATS_MASK	0x7fc3

/* caps */
#define NET_CAP_CSUM		(1u << 0)  /* carries partial checksums */
#define NET_CAP_GSO		(1u << 1)  /* and GSO frames (TSO4/6, ECN, UFO) */
#define NET_CAP_RX_BATCH	(1u << 2)  /* rx_flush ends each burst of rx_hdr */

/* Offloads the guest accepts on the frames it receives (set_offloads):
 * the backend may then hand the device such frames. */
#define NET_OFF_CSUM		(1u << 0)  /* partial checksums */
#define NET_OFF_TSO4		(1u << 1)
#define NET_OFF_TSO6		(1u << 2)
#define NET_OFF_ECN		(1u << 3)  /* TSO with ECN (CWR) */
#define NET_OFF_UFO		(1u << 4)

/* The device's side, called on the event loop thread. rx: a frame for the
 * guest (the backend keeps iov); returns false to pause reading. link:
 * the backend's link went up or down. */
struct net_backend_client {
	bool (*rx)(void *opaque, const struct iovec *iov, unsigned cnt,
		   size_t len);
	/* The same with the backend's virtio_net_hdr (12 bytes; NULL: no
	 * offload) for queue pair qp, on that pair's loop: NET_CAP_CSUM
	 * backends and multiqueue. */
	bool (*rx_hdr)(void *opaque, unsigned qp, const void *hdr,
		       const struct iovec *iov, unsigned cnt, size_t len);
	/* NET_CAP_RX_BATCH: the burst of rx_hdr on pair qp is over (the
	 * device publishes it and interrupts the guest once). */
	void (*rx_flush)(void *opaque, unsigned qp);
	void (*link)(void *opaque, bool up);
	void *opaque;
};

struct net_hostfwd {
	bool udp;
	uint32_t host_addr;       /* network order; 0 = any */
	uint16_t host_port;
	uint32_t guest_addr;      /* network order; 0 = the DHCP address */
	uint16_t guest_port;
};

struct net_backend_params {
	const char *spec;         /* the hostdev: "user" (default) */
	unsigned mtu;
	struct net_hostfwd fwd[NET_MAX_HOSTFWD];
	unsigned nr_fwd;
	const char *hostname;     /* DHCP host name, may be NULL */
	const char *peer;         /* spec "peer": the link's socket path */
	uint64_t peerfeats;       /* NET_PEERFEATS_MASK bits */
	unsigned queues;          /* queue pairs, 1..NET_MAX_QUEUE_PAIRS */
	/* Multiqueue: pair i's I/O runs on loops[i] (NULL: the loop given
	 * to net_backend_open). */
	struct event_loop *loops[NET_MAX_QUEUE_PAIRS];
	/* What outlives a guest reset (core/persist.h: a tap's fds, so
	 * that a tap cvisor created keeps its host-side set-up), kept for
	 * persist_owner (the vdev); NULL: the backend owns everything. */
	struct persist *persist;
	const void *persist_owner;
};

struct net_backend_ops {
	/* A frame from the guest; hdr is the guest's virtio_net_hdr (12
	 * bytes), for backends with NET_CAP_CSUM. 0 or -errno (dropped). */
	int (*send)(struct net_backend *be, const void *hdr,
		    const struct iovec *iov, unsigned cnt, size_t len);
	void (*rx_resume)(struct net_backend *be);
	void (*free)(struct net_backend *be);
	/* Optional (tap). send for queue pair qp, on that pair's thread. */
	int (*send_qp)(struct net_backend *be, unsigned qp, const void *hdr,
		       const struct iovec *iov, unsigned cnt, size_t len);
	/* Resume pair qp's reading; any thread. */
	void (*rx_resume_qp)(struct net_backend *be, unsigned qp);
	/* The NET_OFF_* the driver accepted (0 on reset); any thread, may
	 * take effect later: the device checks each frame's header. */
	void (*set_offloads)(struct net_backend *be, unsigned off);
	/* Multiqueue: the driver uses pairs 0..n-1 (1 after a reset); any
	 * thread, may take effect later. */
	void (*set_queues)(struct net_backend *be, unsigned n);
	/* Optional, for a backend that batches its sends (peer): the
	 * frames send() took since the last flush go out now. The device
	 * calls it on pair qp's thread before it gives their chains back
	 * to the guest: until then the iovecs send() got stay valid, and
	 * no frame is held past the device's TX round. Returns how many of
	 * them were dropped after all, their frame bytes in *bytes. */
	unsigned (*tx_flush)(struct net_backend *be, unsigned qp,
			     uint64_t *bytes);
};

struct net_backend {
	const struct net_backend_ops *ops;
	const char *kind;         /* "user" */
	unsigned caps;            /* NET_CAP_* */
	bool link_up;
	struct net_backend_client client;
};

/* Open the backend a hostdev names; NULL with errno and a message in
 * err. Its callbacks run on loop. */
struct net_backend *net_backend_open(const struct net_backend_params *p,
				     struct event_loop *loop,
				     char *err, size_t errlen);
void net_backend_set_client(struct net_backend *be,
			    const struct net_backend_client *c);
void net_backend_close(struct net_backend *be);

static inline int net_backend_send(struct net_backend *be, const void *hdr,
				   const struct iovec *iov, unsigned cnt,
				   size_t len)
{
	return be->ops->send(be, hdr, iov, cnt, len);
}

static inline unsigned net_backend_tx_flush(struct net_backend *be,
					    unsigned qp, uint64_t *bytes)
{
	*bytes = 0;
	return be->ops->tx_flush ? be->ops->tx_flush(be, qp, bytes) : 0;
}

static inline void net_backend_rx_resume(struct net_backend *be)
{
	if (be->ops->rx_resume)
		be->ops->rx_resume(be);
}

static inline int net_backend_send_qp(struct net_backend *be, unsigned qp,
				      const void *hdr,
				      const struct iovec *iov, unsigned cnt,
				      size_t len)
{
	if (be->ops->send_qp)
		return be->ops->send_qp(be, qp, hdr, iov, cnt, len);
	return be->ops->send(be, hdr, iov, cnt, len);
}

static inline void net_backend_rx_resume_qp(struct net_backend *be,
					    unsigned qp)
{
	if (be->ops->rx_resume_qp)
		be->ops->rx_resume_qp(be, qp);
	else
		net_backend_rx_resume(be);
}

static inline void net_backend_set_offloads(struct net_backend *be,
					    unsigned off)
{
	if (be->ops->set_offloads)
		be->ops->set_offloads(be, off);
}

static inline void net_backend_set_queues(struct net_backend *be,
					  unsigned n)
{
	if (be->ops->set_queues)
		be->ops->set_queues(be, n);
}

/* Config checks shared by the config layer and the device: NULL when the
 * value is good, else what is wrong. */
const char *net_check_backend(const char *spec);
const char *net_check_queues(const char *spec, unsigned queues);
const char *net_parse_mac(const char *s, uint8_t mac[6]);
const char *net_parse_hostfwd(const char *s, struct net_hostfwd *f);

/* The user-mode backend (net_slirp.c). */
struct net_backend *net_slirp_open(const struct net_backend_params *p,
				   struct event_loop *loop,
				   char *err, size_t errlen);
/* A host tap device, "tap:NAME" (net_tap.c): NET_CAP_CSUM|NET_CAP_GSO,
 * one fd per queue pair. */
struct net_backend *net_tap_open(const struct net_backend_params *p,
				 struct event_loop *loop,
				 char *err, size_t errlen);
/* NULL when NAME is a valid interface name, else what is wrong. */
const char *net_tap_check_name(const char *name);

#endif

/* virtio-net device: features, configuration space, reset, and the
 * `vdev virtio-net` type. The queues are in net_rx.c, net_tx.c and
 * net_ctrl.c; the host side in backends/net*.c. docs/virtio-net.md.
 */
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "devices/registry.h"
#include "event/loop.h"
#include "virtio/net_priv.h"
#include "virtio/vdev.h"

#define GUEST_OFFLOADS	(VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) | \
			 VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6) | \
			 VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN) | \
			 VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO))
#define HOST_OFFLOADS	(VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) | \
			 VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6) | \
			 VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN) | \
			 VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))

static uint64_t features(const struct virtio_net *n)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_NET_F_MAC) |
		     VIRTIO_BIT(VIRTIO_NET_F_STATUS) |
		     VIRTIO_BIT(VIRTIO_NET_F_MTU) |
		     VIRTIO_BIT(VIRTIO_NET_F_MRG_RXBUF) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
		     VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);

	/* Checksum offload only where the backend carries the header: slirp
	 * would have to compute what the guest left out. Segmentation the
	 * same, and only on top of checksums (5.1.3.1). */
	if (n->be->caps & NET_CAP_CSUM)
		f |= VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		     VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	if ((n->be->caps & NET_CAP_CSUM) && (n->be->caps & NET_CAP_GSO))
		f |= GUEST_OFFLOADS | HOST_OFFLOADS;
	if (n->nr_pairs > 1)
		f |= VIRTIO_BIT(VIRTIO_NET_F_MQ);
	return f;
}

static uint16_t link_status(const struct virtio_net *n)
{
	return n->be->link_up ? VIRTIO_NET_S_LINK_UP : 0;
}

/* Spec 5.1.3.1: feature dependencies; a driver that breaks them fails
 * FEATURES_OK. */
int virtio_net_check_features(uint64_t f)
{
	uint64_t needs_ctrl = VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
			      VIRTIO_BIT(VIRTIO_NET_F_CTRL_VLAN) |
			      VIRTIO_BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) |
			      VIRTIO_BIT(VIRTIO_NET_F_MQ) |
			      VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);
	uint64_t guest_tso = VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO4) |
			     VIRTIO_BIT(VIRTIO_NET_F_GUEST_TSO6);
	uint64_t host_tso = VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO4) |
			    VIRTIO_BIT(VIRTIO_NET_F_HOST_TSO6);

	if ((f & needs_ctrl) && !(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	if ((f & (guest_tso | VIRTIO_BIT(VIRTIO_NET_F_GUEST_UFO))) &&
	    !(f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return -EINVAL;
	if ((f & VIRTIO_BIT(VIRTIO_NET_F_GUEST_ECN)) && !(f & guest_tso))
		return -EINVAL;
	if ((f & (host_tso | VIRTIO_BIT(VIRTIO_NET_F_HOST_UFO))) &&
	    !(f & VIRTIO_BIT(VIRTIO_NET_F_CSUM)))
		return -EINVAL;
	if ((f & VIRTIO_BIT(VIRTIO_NET_F_HOST_ECN)) && !(f & host_tso))
		return -EINVAL;
	return 0;
}

static int net_validate_features(struct virtio_dev *d, uint64_t f)
{
	return virtio_net_check_features(f);
}

/* The receive offloads the driver accepted, for the backend. */
static unsigned guest_offloads(const struct virtio_dev *d)
{
	static const struct { unsigned bit, off; } map[] = {
		{ VIRTIO_NET_F_GUEST_CSUM, NET_OFF_CSUM },
		{ VIRTIO_NET_F_GUEST_TSO4, NET_OFF_TSO4 },
		{ VIRTIO_NET_F_GUEST_TSO6, NET_OFF_TSO6 },
		{ VIRTIO_NET_F_GUEST_ECN, NET_OFF_ECN },
		{ VIRTIO_NET_F_GUEST_UFO, NET_OFF_UFO },
	};
	unsigned off = 0;

	for (unsigned i = 0; i < ARRAY_SIZE(map); i++)
		if (virtio_dev_has_feature(d, map[i].bit))
			off |= map[i].off;
	return off;
}

/* DRIVER_OK: the backend may now send what the driver accepted. */
static int net_activate(struct virtio_dev *d)
{
	net_backend_set_offloads(to_net(d)->be, guest_offloads(d));
	return 0;
}

void net_lock_rx_all(struct virtio_net *n)
{
	for (unsigned i = 0; i < n->nr_pairs; i++)
		virtio_queue_lock(&n->vdev, net_rxq(i));
}

void net_unlock_rx_all(struct virtio_net *n)
{
	for (unsigned i = n->nr_pairs; i > 0; i--)
		virtio_queue_unlock(&n->vdev, net_rxq(i - 1));
}

/* Driver reset, on a vCPU thread: forget the backlogs and the filters,
 * go back to the configured MAC, one queue pair and no receive offloads.
 * Nothing is held by the backend. */
static void net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);
	bool resume[NET_MAX_QUEUE_PAIRS];

	net_lock_rx_all(n);
	for (unsigned i = 0; i < n->nr_pairs; i++) {
		resume[i] = n->pairs[i].rx.paused;
		net_rx_reset(&n->pairs[i]);
	}
	net_filter_reset(&n->filt);
	memcpy(n->mac, n->conf_mac, 6);
	/* d->config is n->cfg, under d->lock (held). */
	memcpy(n->cfg.mac, n->conf_mac, 6);
	net_unlock_rx_all(n);
	for (unsigned i = 0; i < n->nr_pairs; i++)
		if (resume[i])
			net_backend_rx_resume_qp(n->be, i);
	net_backend_set_offloads(n->be, 0);
	if (n->nr_pairs > 1 &&
	    __atomic_exchange_n(&n->cur_pairs, 1, __ATOMIC_ACQ_REL) != 1)
		net_backend_set_queues(n->be, 1);
}

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);

	if (q == n->ctrlq)
		net_ctrl_notify(d, q);
	else if (q % 2 == 0)
		net_rx_notify(d, q);
	else
		net_tx_notify(d, q);
}

/* With several pairs, each pair's kicks go to its own thread's loop. */
static struct event_loop *net_queue_loop(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);

	return q < n->ctrlq ? n->pairs[q / 2].loop : NULL;
}

static const struct virtio_dev_ops net_ops = {
	.validate_features = net_validate_features,
	.activate = net_activate,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
	.queue_loop = net_queue_loop,
};

/* Backend link changes: the STATUS field and a config interrupt. */
static void net_link(void *opaque, bool up)
{
	struct virtio_net *n = opaque;
	uint16_t st = htole16(up ? VIRTIO_NET_S_LINK_UP : 0);

	virtio_dev_config_update(&n->vdev,
				 offsetof(struct virtio_net_config, status),
				 &st, sizeof(st));
}

void virtio_net_default_mac(const char *system, unsigned index,
			    uint8_t mac[6])
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
	const char *s = system && *system ? system : "cvisor";

	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ULL;
	for (unsigned i = 0; i < 4; i++)
		h = (h ^ ((index >> (8 * i)) & 0xff)) * 0x100000001b3ULL;
	/* 52:54 is taken by QEMU; 0x02 marks it locally administered,
	 * bit 0 clear keeps it unicast. */
	mac[0] = 0x02;
	for (int i = 1; i < 6; i++)
		mac[i] = (uint8_t)(h >> (8 * i));
}

struct virtio_net *virtio_net_new(const struct virtio_net_params *p,
				  struct net_backend *be,
				  struct guest_mem *mem)
{
	struct virtio_net *n = xcalloc(1, sizeof(*n));
	unsigned mtu = p->mtu ? p->mtu : NET_MTU_DEFAULT;
	unsigned nq = p->queues ? p->queues : 1;
	struct net_backend_client c = { .rx = net_rx_frame,
					.rx_hdr = net_rx_hdr,
					.rx_flush = net_rx_flush,
					.link = net_link, .opaque = n };

	if (mtu < NET_MTU_MIN || mtu > NET_MTU_MAX ||
	    nq > NET_MAX_QUEUE_PAIRS) {
		free(n);
		errno = EINVAL;
		return NULL;
	}
	n->be = be;
	n->nr_pairs = nq;
	n->cur_pairs = 1;
	n->ctrlq = 2 * nq;
	for (unsigned i = 0; i < nq; i++) {
		n->pairs[i] = (struct net_pair){ .n = n, .index = i,
						 .loop = p->loops[i] };
		n->pairs[i].rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	}
	n->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	if (p->has_mac)
		memcpy(n->cfg.mac, p->mac, 6);
	else
		virtio_net_default_mac(NULL, 0, n->cfg.mac);
	memcpy(n->mac, n->cfg.mac, 6);
	memcpy(n->conf_mac, n->cfg.mac, 6);
	n->cfg.status = htole16(link_status(n));
	n->cfg.max_virtqueue_pairs = htole16((uint16_t)nq);
	n->cfg.mtu = htole16((uint16_t)mtu);
	net_filter_reset(&n->filt);
	if (virtio_dev_init(&n->vdev, "virtio-net", VIRTIO_ID_NET, &net_ops,
			    mem, features(n), &n->cfg, sizeof(n->cfg),
			    2 * nq + 1, VIRTIO_NET_QUEUE_SIZE)) {
		free(n);
		errno = EINVAL;
		return NULL;
	}
	net_backend_set_client(be, &c);
	return n;
}

struct virtio_dev *virtio_net_vdev(struct virtio_net *n)
{
	return &n->vdev;
}

void virtio_net_free(struct virtio_net *n)
{
	if (!n)
		return;
	/* The pairs' threads first: one may be reading the backend (or
	 * running a queue) right now. The VM's loop has stopped already. */
	for (unsigned i = 0; i < n->nr_pairs; i++)
		if (n->pairs[i].loop)
			event_loop_stop(n->pairs[i].loop);
	net_backend_close(n->be);
	/* After the backend: its fds were on these loops. */
	for (unsigned i = 0; i < n->nr_pairs; i++) {
		event_loop_free(n->pairs[i].loop);
		net_rx_free(&n->pairs[i]);
	}
	virtio_dev_uninit(&n->vdev);
	free(n);
}

void virtio_net_release(struct virtio_dev *d)
{
	virtio_net_free(to_net(d));
}

static void add_stats(struct virtio_net_stats *s,
		      const struct virtio_net_stats *a)
{
	const uint64_t *from = (const uint64_t *)a;
	uint64_t *to = (uint64_t *)s;

	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		to[i] += from[i];
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < n->nr_pairs; i++) {
		/* TX before RX: a TX handler's backend may deliver a frame
		 * at once (slirp answering ARP), taking the RX lock under
		 * the TX one. */
		virtio_queue_lock(&n->vdev, net_rxq(i) + 1);
		virtio_queue_lock(&n->vdev, net_rxq(i));
		add_stats(s, &n->pairs[i].st);
		virtio_queue_unlock(&n->vdev, net_rxq(i));
		virtio_queue_unlock(&n->vdev, net_rxq(i) + 1);
	}
	virtio_queue_lock(&n->vdev, n->ctrlq);
	s->ctrl_err = n->ctrl_err;
	virtio_queue_unlock(&n->vdev, n->ctrlq);
}

unsigned virtio_net_backlog(struct virtio_net *n)
{
	unsigned nr = 0;

	for (unsigned i = 0; i < n->nr_pairs; i++) {
		virtio_queue_lock(&n->vdev, net_rxq(i));
		nr += n->pairs[i].rx.nr;
		virtio_queue_unlock(&n->vdev, net_rxq(i));
	}
	return nr;
}

/* --- vdev type --- */

static const char *check_mac(const char *v)
{
	return net_parse_mac(v, NULL);
}

static const char *check_hostfwd(const char *v)
{
	return net_parse_hostfwd(v, NULL);
}

static const struct devopt_spec net_opts[] = {
	{ .key = "mac", .kind = DEVOPT_STR, .check = check_mac },
	{ .key = "mtu", .kind = DEVOPT_NUM, .min = NET_MTU_MIN,
	  .max = NET_MTU_MAX },
	{ .key = "hostfwd", .kind = DEVOPT_STR, .repeatable = true,
	  .check = check_hostfwd },
	/* QNX: a point-to-point link to another VM's virtio-net. */
	{ .key = "peer", .kind = DEVOPT_STR },
	/* QNX: the offload features (a virtio-net feature mask) the link
	 * may carry; only the checksum and GSO bits mean anything. */
	{ .key = "peerfeats", .kind = DEVOPT_NUM, .min = 0,
	  .max = NET_PEERFEATS_MASK },
	/* Queue pairs (VIRTIO_NET_F_MQ), for tap. */
	{ .key = "queues", .kind = DEVOPT_NUM, .min = 1,
	  .max = NET_MAX_QUEUE_PAIRS },
	{ 0 },
};

static void where(char *buf, size_t len, const struct cfg_pos *pos)
{
	snprintf(buf, len, "%s:%u:%u", pos->file ? pos->file : "?",
		 pos->line, pos->col);
}

/* What the options say together; `cvisor check` and every run. */
static const char *net_check_vdev(const struct vdev_config *vc,
				  const struct cfg_pos **at)
{
	const struct cfg_devopt *o, *peer = vdev_opt(vc, "peer");
	const char *spec = vc->nr_hostdevs ? vc->hostdevs[0].path : "user";
	const char *why = virtio_check_vdev(vc, at);

	if (why)
		return why;
	if (vc->nr_hostdevs > 1) {
		*at = &vc->hostdevs[1].pos;
		return "takes one hostdev";
	}
	if (peer && vc->nr_hostdevs) {
		*at = &peer->pos;
		return "peer and hostdev are exclusive: a peer link is the "
		       "backend";
	}
	o = vdev_opt(vc, "queues");
	if (o && (why = net_check_queues(peer ? "peer" : spec,
					 (unsigned)o->num))) {
		*at = &o->pos;
		return why;
	}
	return NULL;
}

/* The config layer checked each option; here is what it leaves. */
static int parse_params(const struct vdev_config *vc, const char *system,
			struct virtio_net_params *np,
			struct net_backend_params *bp)
{
	const struct cfg_pos *pos = &vc->pos;
	const struct cfg_devopt *o;
	const char *why = net_check_vdev(vc, &pos);
	char at[300];

	if (why) {
		where(at, sizeof(at), pos);
		pr_err("%s: virtio-net: %s", at, why);
		return -EINVAL;
	}
	bp->spec = vc->nr_hostdevs ? vc->hostdevs[0].path : "user";
	if ((o = vdev_opt(vc, "peer"))) {
		bp->spec = "peer";
		bp->peer = o->value;
	}
	o = vdev_opt(vc, "peerfeats");
	bp->peerfeats = o ? o->num : 0;
	o = vdev_opt(vc, "queues");
	np->queues = bp->queues = o ? (unsigned)o->num : 1;
	np->has_mac = true;
	if ((o = vdev_opt(vc, "mac")))
		net_parse_mac(o->value, np->mac);
	else
		virtio_net_default_mac(system, vc->index, np->mac);
	o = vdev_opt(vc, "mtu");
	np->mtu = bp->mtu = o ? (unsigned)o->num : NET_MTU_DEFAULT;
	for (unsigned i = 0; i < vc->nr_opts; i++) {
		o = &vc->opts[i];
		if (strcmp(o->key, "hostfwd"))
			continue;
		if (bp->nr_fwd == NET_MAX_HOSTFWD) {
			where(at, sizeof(at), &o->pos);
			pr_err("%s: virtio-net: at most %d hostfwd", at,
			       NET_MAX_HOSTFWD);
			return -EINVAL;
		}
		net_parse_hostfwd(o->value, &bp->fwd[bp->nr_fwd++]);
	}
	bp->hostname = system && *system ? system : NULL;
	return 0;
}

static void free_loops(struct event_loop **loops)
{
	for (unsigned i = 0; i < NET_MAX_QUEUE_PAIRS; i++)
		event_loop_free(loops[i]);
}

/* Several pairs: a loop each, and its thread (new_loops, start_loops). */
static int new_loops(unsigned nq, struct event_loop **loops)
{
	if (nq < 2)
		return 0;
	for (unsigned i = 0; i < nq; i++) {
		loops[i] = event_loop_new();
		if (!loops[i]) {
			free_loops(loops);
			memset(loops, 0, NET_MAX_QUEUE_PAIRS * sizeof(*loops));
			return -ENOMEM;
		}
	}
	return 0;
}

/* The threads start once the device is the backend's client: a thread
 * reading a tap fd before that would find the client half written, and
 * one running while a failed creation closes the backend would use it
 * after it is gone. Still before the jail, as the block workers; each
 * enters the event loop's seccomp filter. */
static int start_loops(struct event_loop **loops)
{
	for (unsigned i = 0; i < NET_MAX_QUEUE_PAIRS && loops[i]; i++) {
		int rc = event_loop_start(loops[i]);

		if (rc)
			return rc < 0 ? rc : -ENOMEM;
	}
	return 0;
}

static int net_create(const struct vdev_config *vc, const struct dev_env *env,
		      struct device **out)
{
	struct virtio_net_params np = { 0 };
	struct net_backend_params bp = { 0 };
	struct net_backend *be;
	struct virtio_net *n;
	char err[256], at[300];
	int rc;

	rc = parse_params(vc, env->system, &np, &bp);
	if (rc)
		return rc;
	rc = new_loops(np.queues, np.loops);
	if (rc) {
		where(at, sizeof(at), &vc->pos);
		pr_err("%s: virtio-net: cannot start the queue threads", at);
		return rc;
	}
	memcpy(bp.loops, np.loops, sizeof(bp.loops));
	bp.persist = env->persist;
	bp.persist_owner = vc;
	be = net_backend_open(&bp, env->loop, err, sizeof(err));
	if (!be) {
		rc = errno ? -errno : -EIO;
		where(at, sizeof(at), vc->nr_hostdevs ? &vc->hostdevs[0].pos
						      : &vc->pos);
		pr_err("%s: virtio-net: %s", at, err);
		free_loops(np.loops);
		return rc;
	}
	/* From here the device owns the backend and the loops. */
	n = virtio_net_new(&np, be, env->mem);
	if (!n) {
		net_backend_close(be);
		free_loops(np.loops);
		return -EINVAL;
	}
	rc = start_loops(np.loops);
	if (rc) {
		where(at, sizeof(at), &vc->pos);
		pr_err("%s: virtio-net: cannot start the queue threads", at);
		virtio_net_free(n);
		return rc;
	}
	return virtio_vdev_create(vc, env, &n->vdev, virtio_net_release, out);
}

const struct vdev_type virtio_net_type = {
	.name = "virtio-net",
	.class = VDEV_VIRTIO,
	.supported = true,
	.allow_hostdev = true,
	.check_hostdev = net_check_backend,
	.check_vdev = net_check_vdev,
	.region_len = 0x200,
	.opts = net_opts,
	.create = net_create,
};

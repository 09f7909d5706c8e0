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
#include "virtio/net_priv.h"
#include "virtio/vdev.h"

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
	 * would have to compute what the guest left out. */
	if (n->be->caps & NET_CAP_CSUM)
		f |= VIRTIO_BIT(VIRTIO_NET_F_CSUM) |
		     VIRTIO_BIT(VIRTIO_NET_F_GUEST_CSUM);
	return f;
}

static uint16_t link_status(const struct virtio_net *n)
{
	return n->be->link_up ? VIRTIO_NET_S_LINK_UP : 0;
}

/* Spec 5.1.4.1: the control features need CTRL_VQ. */
static int net_validate_features(struct virtio_dev *d, uint64_t f)
{
	uint64_t needs_ctrl = VIRTIO_BIT(VIRTIO_NET_F_CTRL_RX) |
			      VIRTIO_BIT(VIRTIO_NET_F_CTRL_MAC_ADDR);

	if ((f & needs_ctrl) && !(f & VIRTIO_BIT(VIRTIO_NET_F_CTRL_VQ)))
		return -EINVAL;
	return 0;
}

/* Driver reset, on a vCPU thread: forget the backlog and the filters and
 * go back to the configured MAC. Nothing is held by the backend. */
static void net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = to_net(d);
	bool resume;

	virtio_queue_lock(d, VIRTIO_NET_RXQ);
	resume = n->rx.paused;
	net_rx_reset(n);
	memcpy(n->mac, n->conf_mac, 6);
	/* d->config is n->cfg, under d->lock (held). */
	memcpy(n->cfg.mac, n->conf_mac, 6);
	virtio_queue_unlock(d, VIRTIO_NET_RXQ);
	if (resume)
		net_backend_rx_resume(n->be);
}

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
	if (q == VIRTIO_NET_RXQ)
		net_rx_notify(d, q);
	else if (q == VIRTIO_NET_TXQ)
		net_tx_notify(d, q);
	else
		net_ctrl_notify(d, q);
}

static const struct virtio_dev_ops net_ops = {
	.validate_features = net_validate_features,
	.reset = net_reset,
	.queue_notify = net_queue_notify,
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
	struct net_backend_client c = { .rx = net_rx_frame, .link = net_link,
					.opaque = n };

	if (mtu < NET_MTU_MIN || mtu > NET_MTU_MAX) {
		free(n);
		errno = EINVAL;
		return NULL;
	}
	n->be = be;
	n->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	if (p->has_mac)
		memcpy(n->cfg.mac, p->mac, 6);
	else
		virtio_net_default_mac(NULL, 0, n->cfg.mac);
	memcpy(n->mac, n->cfg.mac, 6);
	memcpy(n->conf_mac, n->cfg.mac, 6);
	n->cfg.status = htole16(link_status(n));
	n->cfg.max_virtqueue_pairs = htole16(1);
	n->cfg.mtu = htole16((uint16_t)mtu);
	n->rx.promisc = true;
	if (virtio_dev_init(&n->vdev, "virtio-net", VIRTIO_ID_NET, &net_ops,
			    mem, features(n), &n->cfg, sizeof(n->cfg), 3,
			    VIRTIO_NET_QUEUE_SIZE)) {
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
	net_backend_close(n->be);
	net_rx_free(n);
	virtio_dev_uninit(&n->vdev);
	free(n);
}

void virtio_net_release(struct virtio_dev *d)
{
	virtio_net_free(to_net(d));
}

void virtio_net_get_stats(struct virtio_net *n, struct virtio_net_stats *s)
{
	/* TX before RX: a TX handler's backend may deliver a frame at once
	 * (slirp answering ARP), taking the RX lock under the TX one. */
	virtio_queue_lock(&n->vdev, VIRTIO_NET_TXQ);
	virtio_queue_lock(&n->vdev, VIRTIO_NET_RXQ);
	*s = n->st;
	virtio_queue_unlock(&n->vdev, VIRTIO_NET_RXQ);
	virtio_queue_unlock(&n->vdev, VIRTIO_NET_TXQ);
}

unsigned virtio_net_backlog(struct virtio_net *n)
{
	unsigned nr;

	virtio_queue_lock(&n->vdev, VIRTIO_NET_RXQ);
	nr = n->rx.nr;
	virtio_queue_unlock(&n->vdev, VIRTIO_NET_RXQ);
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

/* The config layer checked each option; here is what it leaves. */
static int parse_params(const struct vdev_config *vc, const char *system,
			struct virtio_net_params *np,
			struct net_backend_params *bp)
{
	const struct cfg_devopt *o;
	char at[300];

	if ((o = vdev_opt(vc, "legacy"))) {
		where(at, sizeof(at), &o->pos);
		pr_err("%s: virtio-net: legacy (virtio 0.9.5) is not "
		       "supported: cvisor's virtio devices are modern only", at);
		return -EINVAL;
	}
	if (vc->nr_hostdevs > 1) {
		where(at, sizeof(at), &vc->hostdevs[1].pos);
		pr_err("%s: virtio-net: takes one hostdev", at);
		return -EINVAL;
	}
	bp->spec = vc->nr_hostdevs ? vc->hostdevs[0].path : "user";
	if ((o = vdev_opt(vc, "peer"))) {
		if (vc->nr_hostdevs) {
			where(at, sizeof(at), &o->pos);
			pr_err("%s: virtio-net: peer and hostdev are "
			       "exclusive: a peer link is the backend", at);
			return -EINVAL;
		}
		bp->spec = "peer";
		bp->peer = o->value;
	}
	o = vdev_opt(vc, "peerfeats");
	bp->peerfeats = o ? o->num : 0;
	o = vdev_opt(vc, "queues");
	bp->queues = o ? (unsigned)o->num : 1;
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
	be = net_backend_open(&bp, env->loop, err, sizeof(err));
	if (!be) {
		rc = errno ? -errno : -EIO;
		where(at, sizeof(at), vc->nr_hostdevs ? &vc->hostdevs[0].pos
						      : &vc->pos);
		pr_err("%s: virtio-net: %s", at, err);
		return rc;
	}
	n = virtio_net_new(&np, be, env->mem);
	if (!n) {
		net_backend_close(be);
		return -EINVAL;
	}
	return virtio_vdev_create(vc, env, &n->vdev, virtio_net_release, out);
}

const struct vdev_type virtio_net_type = {
	.name = "virtio-net",
	.class = VDEV_VIRTIO,
	.supported = true,
	.allow_hostdev = true,
	.check_hostdev = net_check_backend,
	.region_len = 0x200,
	.opts = net_opts,
	.create = net_create,
};

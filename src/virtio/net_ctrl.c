/* virtio-net control queue (spec 5.1.6.5): RX mode (promiscuous,
 * all-multicast), the MAC filter table and the MAC address. A command is
 * class, command, data (device-readable) and an ack byte (the last
 * device-writable byte). Anything else is answered VIRTIO_NET_ERR, or
 * dropped when there is no room for the ack.
 *
 * The filters are read by every receive queue, so commands change them
 * under all the RX queue locks (order: control queue lock, then RX 0, 1,
 * ...). VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET (with MQ) says how many queue
 * pairs the driver uses; the backend is told, so that a tap spreads its
 * flows over those only.
 */
#include <endian.h>
#include <string.h>

#include "core/iov.h"
#include "virtio/net_priv.h"

#define CTRL_MAX_DATA	(8 + NET_MAC_TABLE * 6 + 8 + NET_MAC_TABLE * 6)

struct ctrl_cmd {
	uint8_t class, cmd;
	uint8_t data[CTRL_MAX_DATA];
	size_t len;               /* of data */
	bool truncated;           /* more than CTRL_MAX_DATA */
};

static uint8_t rx_mode(struct virtio_net *n, const struct ctrl_cmd *c)
{
	if (!virtio_dev_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_RX) ||
	    c->len != 1 || c->data[0] > 1)
		return VIRTIO_NET_ERR;
	net_lock_rx_all(n);
	if (c->cmd == VIRTIO_NET_CTRL_RX_PROMISC)
		n->filt.promisc = c->data[0];
	else
		n->filt.allmulti = c->data[0];
	net_unlock_rx_all(n);
	return VIRTIO_NET_OK;
}

/* One table: le32 entries, then entries MACs. *off advances past it. */
static bool table(const struct ctrl_cmd *c, size_t *off, uint32_t *nr,
		  const uint8_t **macs)
{
	uint32_t n;

	if (c->len - *off < 4)
		return false;
	memcpy(&n, c->data + *off, 4);
	n = le32toh(n);
	*off += 4;
	if (n > (c->len - *off) / 6)
		return false;
	*nr = n;
	*macs = c->data + *off;
	*off += (size_t)n * 6;
	return true;
}

static uint8_t mac_table_set(struct virtio_net *n, const struct ctrl_cmd *c)
{
	const uint8_t *uni, *multi;
	uint32_t nu, nm;
	size_t off = 0;
	struct net_filter *rx = &n->filt;

	if (c->truncated || !table(c, &off, &nu, &uni) ||
	    !table(c, &off, &nm, &multi) || off != c->len)
		return VIRTIO_NET_ERR;
	net_lock_rx_all(n);
	/* Too many entries: accept that whole class (as the spec lets a
	 * device filter imperfectly). */
	rx->uni_overflow = nu > NET_MAC_TABLE / 2;
	rx->nr_uni = rx->uni_overflow ? 0 : nu;
	memcpy(rx->macs, uni, (size_t)rx->nr_uni * 6);
	rx->multi_overflow = nm > NET_MAC_TABLE / 2;
	rx->nr_multi = rx->multi_overflow ? 0 : nm;
	memcpy(rx->macs[rx->nr_uni], multi, (size_t)rx->nr_multi * 6);
	net_unlock_rx_all(n);
	return VIRTIO_NET_OK;
}

static uint8_t mac_addr_set(struct virtio_net *n, const struct ctrl_cmd *c)
{
	if (!virtio_dev_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_MAC_ADDR) ||
	    c->len != 6 || (c->data[0] & 1))
		return VIRTIO_NET_ERR;
	net_lock_rx_all(n);
	memcpy(n->mac, c->data, 6);
	net_unlock_rx_all(n);
	/* The config space shows the address in use, as QEMU's does. Not
	 * through virtio_dev_config_update: it takes d->lock, which must
	 * not be taken under a queue lock (virtio.h); the driver changed
	 * the address itself, so no config interrupt is due either. */
	for (int i = 0; i < 6; i++)
		__atomic_store_n(&n->cfg.mac[i], c->data[i], __ATOMIC_RELAXED);
	return VIRTIO_NET_OK;
}

/* 5.1.6.5.5: le16 virtqueue_pairs, 1..max_virtqueue_pairs. */
static uint8_t mq_pairs_set(struct virtio_net *n, const struct ctrl_cmd *c)
{
	uint16_t v;

	if (!virtio_dev_has_feature(&n->vdev, VIRTIO_NET_F_MQ) ||
	    c->cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || c->len != 2)
		return VIRTIO_NET_ERR;
	memcpy(&v, c->data, 2);
	v = le16toh(v);
	if (v < 1 || v > n->nr_pairs)
		return VIRTIO_NET_ERR;
	__atomic_store_n(&n->cur_pairs, v, __ATOMIC_RELEASE);
	net_backend_set_queues(n->be, v);
	return VIRTIO_NET_OK;
}

static uint8_t run(struct virtio_net *n, const struct ctrl_cmd *c)
{
	switch (c->class) {
	case VIRTIO_NET_CTRL_RX:
		if (c->cmd <= VIRTIO_NET_CTRL_RX_ALLMULTI)
			return rx_mode(n, c);
		break;
	case VIRTIO_NET_CTRL_MAC:
		if (c->cmd == VIRTIO_NET_CTRL_MAC_TABLE_SET &&
		    virtio_dev_has_feature(&n->vdev, VIRTIO_NET_F_CTRL_RX))
			return mac_table_set(n, c);
		if (c->cmd == VIRTIO_NET_CTRL_MAC_ADDR_SET)
			return mac_addr_set(n, c);
		break;
	case VIRTIO_NET_CTRL_MQ:
		return mq_pairs_set(n, c);
	}
	return VIRTIO_NET_ERR;
}

/* Returns bytes written (the ack) or 0 when the chain has no room. */
static uint32_t ctrl_one(struct virtio_net *n, const struct virtq_req *r)
{
	const struct iovec *w = r->iov + r->nr_read;
	struct ctrl_cmd c;
	uint8_t ack = VIRTIO_NET_ERR;

	if (!r->write_len)
		return 0;
	if (r->read_len >= 2) {
		iov_to_buf(r->iov, r->nr_read, 0, &c.class, 1);
		iov_to_buf(r->iov, r->nr_read, 1, &c.cmd, 1);
		c.truncated = r->read_len - 2 > CTRL_MAX_DATA;
		c.len = c.truncated ? CTRL_MAX_DATA : r->read_len - 2;
		iov_to_buf(r->iov, r->nr_read, 2, c.data, c.len);
		ack = run(n, &c);
	}
	if (ack != VIRTIO_NET_OK)
		n->ctrl_err++;
	/* The ack is the last writable byte. */
	iov_from_buf(w, r->nr_write, r->write_len - 1, &ack, 1);
	return 1;
}

void net_ctrl_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);
	struct virtq *vq = virtio_dev_vq(d, q);
	struct virtq_req r = { .iov = n->ctrl_iov, .max_iov = NET_CTRL_IOV };
	bool any = false;

	/* Commands are few and short: the queue size bounds a round. */
	for (unsigned i = 0; i < vq->size; i++) {
		if (virtio_queue_pop(d, q, &r) <= 0)
			break;
		virtq_fill(vq, &r, ctrl_one(n, &r));
		any = true;
		r = (struct virtq_req){ .iov = n->ctrl_iov,
					.max_iov = NET_CTRL_IOV };
	}
	if (any) {
		virtq_flush(vq);
		virtio_queue_interrupt(d, q);
	}
}

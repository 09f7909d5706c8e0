/* virtio-net receive queue: frames from the backend into the buffers the
 * guest posted, on the event loop thread under the RX queue lock.
 *
 * A frame goes whole into one chain, or with MRG_RXBUF over up to
 * NET_RX_MAX_BUFS chains (num_buffers says how many); never into less
 * room than it needs, so nothing the guest did not post is written. When
 * the guest has posted nothing, frames wait in a bounded backlog; past
 * its bounds the backend is paused and further frames are dropped and
 * counted: a guest that never reads costs its own packets, never our
 * memory.
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core/iov.h"
#include "virtio/net_priv.h"

static bool mac_listed(const struct net_rx *rx, unsigned from, unsigned nr,
		       const uint8_t *dst)
{
	for (unsigned i = from; i < from + nr; i++)
		if (!memcmp(rx->macs[i], dst, 6))
			return true;
	return false;
}

/* The RX filters of spec 5.1.6.5.1/2 (promiscuous by default). */
static bool accept(const struct virtio_net *n, const uint8_t *dst)
{
	const struct net_rx *rx = &n->rx;
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

	if (rx->promisc || !memcmp(dst, bcast, 6))
		return true;
	if (dst[0] & 1)
		return rx->allmulti || rx->multi_overflow ||
		       mac_listed(rx, rx->nr_uni, rx->nr_multi, dst);
	return !memcmp(dst, n->mac, 6) || rx->uni_overflow ||
	       mac_listed(rx, 0, rx->nr_uni, dst);
}

/* Write bytes [off, off+len) of hdr||frame into a chain's buffers. */
static void put(const struct virtq_req *r, const struct virtio_net_hdr *h,
		const uint8_t *frame, size_t off, size_t len)
{
	const struct iovec *w = r->iov + r->nr_read;
	size_t done = 0;

	if (off < NET_HDR_LEN) {
		done = MIN(NET_HDR_LEN - off, len);
		iov_from_buf(w, r->nr_write, 0, (const uint8_t *)h + off,
				 done);
	}
	iov_from_buf(w, r->nr_write, done, frame + off + done - NET_HDR_LEN,
			 len - done);
}

static void give_back_empty(struct virtio_net *n, struct virtq *vq,
			    unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		virtq_fill(vq, &n->rx.reqs[i], 0);
}

/* 1: delivered; 0: not enough buffers yet (none consumed); -1: dropped
 * (counted). */
static int deliver(struct virtio_net *n, const uint8_t *frame, size_t len)
{
	struct virtio_dev *d = &n->vdev;
	struct virtq *vq = virtio_dev_vq(d, VIRTIO_NET_RXQ);
	bool mrg = virtio_dev_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	unsigned max = mrg ? MIN(NET_RX_MAX_BUFS, vq->size) : 1;
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	size_t need = NET_HDR_LEN + len, room = 0, off = 0;
	unsigned nb = 0;

	while (room < need) {
		struct virtq_req *r = &n->rx.reqs[nb];
		int rc;

		if (nb == max) {
			/* Never fits in what the guest can post. */
			while (nb--)
				virtq_unpop(vq);
			n->st.rx_too_big++;
			return -1;
		}
		*r = (struct virtq_req){ .iov = n->rx.iov[nb],
					 .max_iov = NET_RX_IOV };
		rc = virtio_queue_pop(d, VIRTIO_NET_RXQ, r);
		if (rc < 0) {
			n->st.rx_bad_chain++;
			return -1;            /* broken: NEEDS_RESET is set */
		}
		if (rc == 0) {
			while (nb--)
				virtq_unpop(vq);
			return 0;
		}
		/* RX buffers are device-writable only, and the header must
		 * sit in the first one: anything else is returned unused,
		 * with the part of the frame already placed. */
		if (r->nr_read || (!nb && r->write_len < NET_HDR_LEN)) {
			give_back_empty(n, vq, nb + 1);
			n->st.rx_bad_chain++;
			if (nb)
				return -1;
			continue;
		}
		room += r->write_len;
		nb++;
	}
	h.num_buffers = htole16((uint16_t)nb);
	for (unsigned i = 0; i < nb; i++) {
		struct virtq_req *r = &n->rx.reqs[i];
		size_t take = MIN(r->write_len, need - off);

		put(r, &h, frame, off, take);
		virtq_fill(vq, r, (uint32_t)take);
		off += take;
	}
	n->st.rx_frames++;
	n->st.rx_bytes += len;
	return 1;
}

static bool backlog_room(const struct net_rx *rx, size_t len)
{
	return rx->nr < NET_BACKLOG_FRAMES &&
	       rx->bytes + len <= NET_BACKLOG_BYTES;
}

static void backlog_add(struct net_rx *rx, const struct iovec *iov,
			unsigned cnt, size_t len)
{
	struct net_frame *f = xcalloc(1, sizeof(*f) + len);

	f->next = NULL;
	f->len = iov_to_buf(iov, cnt, 0, f->data, len);
	if (rx->tail)
		rx->tail->next = f;
	else
		rx->head = f;
	rx->tail = f;
	rx->nr++;
	rx->bytes += f->len;
}

static void backlog_pop(struct net_rx *rx)
{
	struct net_frame *f = rx->head;

	rx->head = f->next;
	if (!rx->head)
		rx->tail = NULL;
	rx->nr--;
	rx->bytes -= f->len;
	free(f);
}

/* Deliver from the backlog while the guest has room; true when something
 * was written. Stops after budget frames (*left tells). */
static bool drain(struct virtio_net *n, unsigned budget, bool *more)
{
	bool wrote = false;

	*more = false;
	while (n->rx.head) {
		int rc;

		if (!budget--) {
			*more = true;
			break;
		}
		rc = deliver(n, n->rx.head->data, n->rx.head->len);
		if (rc == 0)
			break;
		wrote |= rc > 0;
		backlog_pop(&n->rx);
	}
	return wrote;
}

/* Flow control with hysteresis: pause the backend at half the bounds,
 * well before the hard ones, so that frames it cannot hold back still
 * find room; resume once the guest has taken the backlog down to a
 * quarter, whichever path drained it. Returns whether the backend may
 * deliver; *resume: tell it to start again. */
static bool rx_flow(struct virtio_net *n, bool *resume)
{
	struct net_rx *rx = &n->rx;

	if (!rx->paused) {
		rx->paused = rx->nr >= NET_BACKLOG_FRAMES / 2 ||
			     rx->bytes >= NET_BACKLOG_BYTES / 2;
	} else if (rx->nr < NET_BACKLOG_FRAMES / 4 &&
		   rx->bytes < NET_BACKLOG_BYTES / 4) {
		rx->paused = false;
		*resume = true;
	}
	return !rx->paused;
}

bool net_rx_frame(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len)
{
	struct virtio_net *n = opaque;
	struct virtio_dev *d = &n->vdev;
	struct virtq *vq = virtio_dev_vq(d, VIRTIO_NET_RXQ);
	uint8_t dst[6];
	bool wrote = false, more, ret, resume = false;

	virtio_queue_lock(d, VIRTIO_NET_RXQ);
	if (!virtio_dev_running(d) || !vq->ready || vq->broken) {
		n->st.rx_not_ready++;
		goto out;
	}
	if (len < 14 || len > NET_MAX_FRAME) {
		n->st.rx_too_big++;
		goto out;
	}
	iov_to_buf(iov, cnt, 0, dst, 6);
	if (!accept(n, dst)) {
		n->st.rx_filtered++;
		goto out;
	}
	if (!backlog_room(&n->rx, len)) {
		n->st.rx_backlog_drops++;
		goto out;
	}
	/* Through the backlog, so that frames keep their order. */
	backlog_add(&n->rx, iov, cnt, len);
	wrote = drain(n, NET_RX_BUDGET, &more);
out:
	ret = rx_flow(n, &resume);
	if (wrote) {
		virtq_flush(vq);
		virtio_queue_interrupt(d, VIRTIO_NET_RXQ);
	}
	virtio_queue_unlock(d, VIRTIO_NET_RXQ);
	/* The backend's own callback: resuming only schedules its work. */
	if (resume)
		net_backend_rx_resume(n->be);
	return ret;
}

/* The guest posted buffers: what waits goes first. */
void net_rx_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);
	struct virtq *vq = virtio_dev_vq(d, q);
	bool more, resume = false;

	if (drain(n, NET_RX_BUDGET, &more)) {
		virtq_flush(vq);
		virtio_queue_interrupt(d, q);
	}
	if (more && virtio_queue_requeue(d, q))
		return;
	rx_flow(n, &resume);
	if (resume)
		net_backend_rx_resume(n->be);
}

void net_rx_reset(struct virtio_net *n)
{
	struct net_rx *rx = &n->rx;

	while (rx->head)
		backlog_pop(rx);
	rx->paused = false;
	rx->promisc = true;
	rx->allmulti = false;
	rx->uni_overflow = rx->multi_overflow = false;
	rx->nr_uni = rx->nr_multi = 0;
}

void net_rx_free(struct virtio_net *n)
{
	while (n->rx.head)
		backlog_pop(&n->rx);
}

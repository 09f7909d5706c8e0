/* virtio-net receive queue: frames from the backend into the buffers the
 * guest posted, on the event loop thread under the RX queue lock.
 *
 * A frame goes whole into one chain, or with MRG_RXBUF over up to
 * NET_RX_MAX_BUFS chains (num_buffers says how many); never into less
 * room than it needs, so nothing the guest did not post is written. When
 * the guest has posted nothing, frames wait in a bounded backlog; past
 * its bounds the backend is paused and further frames are dropped and
 * counted: a guest that never reads costs its own packets, never our
 * memory. The guest is asked to kick only while a frame waits for
 * buffers.
 *
 * Each queue pair has its own backlog and flow control, on its own loop;
 * the filters are shared (struct net_filter). A backend that carries
 * offloads (tap) gives each frame its virtio_net_hdr, which goes to the
 * guest as it is when it asks only for what the driver accepted
 * (GUEST_CSUM, GUEST_TSO4/6, GUEST_ECN, GUEST_UFO), else the frame is
 * dropped and counted: the backend learns of the driver's choice
 * asynchronously (set_offloads), so a frame from before a reset may
 * still claim an offload. DATA_VALID alone is no claim: a driver
 * without GUEST_CSUM gets the frame with it cleared (net_rx_hdr).
 */
#include <endian.h>
#include <stdlib.h>
#include <string.h>

#include "core/iov.h"
#include "virtio/net_priv.h"

static bool mac_listed(const struct net_filter *rx, unsigned from,
		       unsigned nr, const uint8_t *dst)
{
	for (unsigned i = from; i < from + nr; i++)
		if (!memcmp(rx->macs[i], dst, 6))
			return true;
	return false;
}

/* The RX filters of spec 5.1.6.5.1/2 (promiscuous by default). */
static bool accept(const struct virtio_net *n, const uint8_t *dst)
{
	const struct net_filter *rx = &n->filt;
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

/* Filled entries must be published even when no frame is written after
 * them (dropped, or waiting for more room): unflushed says so. */
static void give_back_empty(struct net_pair *p, struct virtq *vq,
			    unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		virtq_fill(vq, &p->rx.reqs[i], 0);
	p->rx.unflushed = true;
}

/* 1: delivered; 0: not enough buffers yet (none consumed); -1: dropped
 * (counted). */
static int deliver(struct net_pair *p, const struct virtio_net_hdr *hdr,
		   const uint8_t *frame, size_t len)
{
	struct virtio_dev *d = &p->n->vdev;
	unsigned q = net_rxq(p->index);
	struct virtq *vq = virtio_dev_vq(d, q);
	bool mrg = virtio_dev_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	unsigned max = mrg ? MIN(NET_RX_MAX_BUFS, vq->size) : 1;
	struct virtio_net_hdr h = *hdr;
	size_t need = NET_HDR_LEN + len, room = 0, off = 0;
	unsigned nb = 0, bad = 0;
	bool rechecked = false;

	while (room < need) {
		struct virtq_req *r = &p->rx.reqs[nb];
		int rc;

		if (nb == max) {
			/* Never fits in what the guest can post. */
			while (nb--)
				virtq_unpop(vq);
			p->st.rx_too_big++;
			return -1;
		}
		*r = (struct virtq_req){ .iov = p->rx.iov[nb],
					 .max_iov = NET_RX_IOV };
		rc = virtio_queue_pop(d, q, r);
		if (rc < 0) {
			p->st.rx_bad_chain++;
			return -1;            /* broken: NEEDS_RESET is set */
		}
		if (rc == 0 && !rechecked) {
			/* Out of buffers: from now on the guest's posting
			 * is news, so ask for its kick, then look once more
			 * for what it posted before it could see that. */
			rechecked = true;
			if (virtq_enable_notify(vq))
				continue;
		}
		if (rc == 0) {
			/* Kicks are on: the last thing done was asking. */
			while (nb--)
				virtq_unpop(vq);
			return 0;
		}
		/* Buffers in hand: the next frame finds the next ones
		 * without being told (kicks cost the guest a VM exit
		 * each, ~1 in 32 frames with the test guest). A later
		 * buffer of this frame that is missing asks again. */
		rechecked = false;
		if (vq->notify_enabled)
			virtq_disable_notify(vq);
		/* RX buffers are device-writable only, and the header must
		 * sit in the first one: anything else is returned unused,
		 * with the part of the frame already placed. */
		if (r->nr_read || (!nb && r->write_len < NET_HDR_LEN)) {
			give_back_empty(p, vq, nb + 1);
			p->st.rx_bad_chain++;
			if (nb || ++bad == NET_RX_BAD_CHAINS)
				return -1;
			continue;
		}
		room += r->write_len;
		nb++;
	}
	h.num_buffers = htole16((uint16_t)nb);
	for (unsigned i = 0; i < nb; i++) {
		struct virtq_req *r = &p->rx.reqs[i];
		size_t take = MIN(r->write_len, need - off);

		put(r, &h, frame, off, take);
		virtq_fill(vq, r, (uint32_t)take);
		off += take;
	}
	p->st.rx_frames++;
	p->st.rx_bytes += len;
	return 1;
}

static bool backlog_room(const struct net_rx *rx, size_t len)
{
	return rx->nr < NET_BACKLOG_FRAMES &&
	       rx->bytes + len <= NET_BACKLOG_BYTES;
}

static void backlog_add(struct net_rx *rx, const struct virtio_net_hdr *h,
			const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_frame *f = xreallocarray(NULL, 1, sizeof(*f) + len);

	f->next = NULL;
	f->hdr = *h;
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
static bool drain(struct net_pair *p, unsigned budget, bool *more)
{
	struct net_rx *rx = &p->rx;
	bool wrote = false;

	*more = false;
	while (rx->head) {
		int rc;

		if (!budget--) {
			*more = true;
			break;
		}
		rc = deliver(p, &rx->head->hdr, rx->head->data, rx->head->len);
		if (rc == 0)
			break;
		wrote |= rc > 0;
		backlog_pop(rx);
	}
	return wrote;
}

/* Flow control with hysteresis: pause the backend at half the bounds,
 * well before the hard ones, so that frames it cannot hold back still
 * find room; resume once the guest has taken the backlog down to a
 * quarter, whichever path drained it. Returns whether the backend may
 * deliver; *resume: tell it to start again. */
static bool rx_flow(struct net_pair *p, bool *resume)
{
	struct net_rx *rx = &p->rx;

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

/* The GSO type the header claims needs this guest feature. */
static int gso_feature(uint8_t gso)
{
	switch (gso & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return (gso & VIRTIO_NET_HDR_GSO_ECN) ? -1 : 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return VIRTIO_NET_F_GUEST_TSO4;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return VIRTIO_NET_F_GUEST_TSO6;
	case VIRTIO_NET_HDR_GSO_UDP:
		return VIRTIO_NET_F_GUEST_UFO;
	}
	return -1;
}

bool net_rx_hdr_ok(const struct virtio_dev *d,
		   const struct virtio_net_hdr *h, size_t len)
{
	int f = gso_feature(h->gso_type);

	if (h->flags & ~(VIRTIO_NET_HDR_F_NEEDS_CSUM |
			 VIRTIO_NET_HDR_F_DATA_VALID))
		return false;
	/* (DATA_VALID without GUEST_CSUM was cleared by net_rx_hdr) */
	if (h->flags && !virtio_dev_has_feature(d, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    ((size_t)le16toh(h->csum_start) + le16toh(h->csum_offset) + 2 >
	     len))
		return false;
	if (f < 0 || (f && !virtio_dev_has_feature(d, (unsigned)f)))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !virtio_dev_has_feature(d, VIRTIO_NET_F_GUEST_ECN))
		return false;
	return true;
}

static bool rx_common(struct net_pair *p, const struct virtio_net_hdr *h,
		      const struct iovec *iov, unsigned cnt, size_t len,
		      bool batch)
{
	struct virtio_net *n = p->n;
	struct virtio_dev *d = &n->vdev;
	unsigned q = net_rxq(p->index);
	struct virtq *vq = virtio_dev_vq(d, q);
	uint8_t dst[6];
	bool wrote = false, more, ret, resume = false;

	virtio_queue_lock(d, q);
	if (!virtio_dev_running(d) || !vq->ready || vq->broken) {
		p->st.rx_not_ready++;
		goto out;
	}
	if (len < 14 || len > NET_MAX_FRAME) {
		p->st.rx_too_big++;
		goto out;
	}
	if (!net_rx_hdr_ok(d, h, len)) {
		p->st.rx_bad_hdr++;
		goto out;
	}
	iov_to_buf(iov, cnt, 0, dst, 6);
	if (!accept(n, dst)) {
		p->st.rx_filtered++;
		goto out;
	}
	/* Nothing waiting: straight into the guest's buffers, no copy to
	 * the backlog unless they are missing. */
	if (!p->rx.head && cnt == 1) {
		int rc = deliver(p, h, iov[0].iov_base, len);

		wrote = rc > 0;
		if (rc)
			goto out;
	}
	if (!backlog_room(&p->rx, len)) {
		p->st.rx_backlog_drops++;
		goto out;
	}
	/* Through the backlog, so that frames keep their order. */
	backlog_add(&p->rx, h, iov, cnt, len);
	wrote = drain(p, NET_RX_BUDGET, &more);
out:
	ret = rx_flow(p, &resume);
	/* A batching backend says when its burst ends (net_rx_flush): one
	 * used-index update and at most one interrupt per burst. */
	if (wrote && batch) {
		p->rx.unflushed = true;
	} else if (wrote || p->rx.unflushed) {
		p->rx.unflushed = false;
		virtq_flush(vq);
		virtio_queue_interrupt(d, q);
	}
	virtio_queue_unlock(d, q);
	/* The backend's own callback: resuming only schedules its work. */
	if (resume)
		net_backend_rx_resume_qp(n->be, p->index);
	return ret;
}

bool net_rx_frame(void *opaque, const struct iovec *iov, unsigned cnt,
		  size_t len)
{
	static const struct virtio_net_hdr none = {
		.gso_type = VIRTIO_NET_HDR_GSO_NONE };
	struct virtio_net *n = opaque;

	return rx_common(&n->pairs[0], &none, iov, cnt, len, false);
}

bool net_rx_hdr(void *opaque, unsigned qp, const void *hdr,
		const struct iovec *iov, unsigned cnt, size_t len)
{
	struct virtio_net *n = opaque;
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };

	if (hdr) {
		memcpy(&h, hdr, sizeof(h));
		h.num_buffers = 0;
		/* A checksum already checked (a tap sets DATA_VALID for a
		 * frame a NIC verified, whatever offloads it was given): the
		 * frame is whole, and a driver without GUEST_CSUM gets it
		 * with flags zero (5.1.6.4.1), not dropped. */
		if (!virtio_dev_has_feature(&n->vdev, VIRTIO_NET_F_GUEST_CSUM))
			h.flags &= (uint8_t)~VIRTIO_NET_HDR_F_DATA_VALID;
	}
	return rx_common(&n->pairs[qp < n->nr_pairs ? qp : 0], &h, iov, cnt,
			 len, n->be->caps & NET_CAP_RX_BATCH);
}

void net_rx_flush(void *opaque, unsigned qp)
{
	struct virtio_net *n = opaque;
	struct net_pair *p = &n->pairs[qp < n->nr_pairs ? qp : 0];
	unsigned q = net_rxq(p->index);

	virtio_queue_lock(&n->vdev, q);
	if (p->rx.unflushed) {
		p->rx.unflushed = false;
		virtq_flush(virtio_dev_vq(&n->vdev, q));
		virtio_queue_interrupt(&n->vdev, q);
	}
	virtio_queue_unlock(&n->vdev, q);
}

/* The guest posted buffers: what waits goes first. */
void net_rx_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);
	struct net_pair *p = &n->pairs[q / 2];
	struct virtq *vq = virtio_dev_vq(d, q);
	bool more, resume = false;

	if (drain(p, NET_RX_BUDGET, &more) || p->rx.unflushed) {
		p->rx.unflushed = false;
		virtq_flush(vq);
		virtio_queue_interrupt(d, q);
	}
	if (more && virtio_queue_requeue(d, q))
		return;
	rx_flow(p, &resume);
	if (resume)
		net_backend_rx_resume_qp(n->be, p->index);
}

void net_rx_reset(struct net_pair *p)
{
	struct net_rx *rx = &p->rx;

	while (rx->head)
		backlog_pop(rx);
	rx->paused = false;
	rx->unflushed = false;
}

void net_filter_reset(struct net_filter *f)
{
	f->promisc = true;
	f->allmulti = false;
	f->uni_overflow = f->multi_overflow = false;
	f->nr_uni = f->nr_multi = 0;
}

void net_rx_free(struct net_pair *p)
{
	while (p->rx.head)
		backlog_pop(&p->rx);
}

/* virtio-net transmit queue: each chain is a virtio_net_hdr and a frame,
 * handed to the backend on the event loop thread.
 *
 * Hostile chains cost the guest the packet, never more: a chain with
 * device-writable buffers, a header shorter than 12 bytes, an offload the
 * driver did not negotiate, no frame or one larger than NET_MAX_FRAME is
 * dropped, counted, and given back. Ring-level abuse (loops, addresses
 * outside RAM) breaks the queue (NEEDS_RESET) in the virtqueue code.
 */
#include <string.h>

#include "core/iov.h"
#include "virtio/net_priv.h"

/* Whether the header asks for something the driver did not negotiate. */
static bool hdr_ok(struct virtio_dev *d, const struct virtio_net_hdr *h)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false;
	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !virtio_dev_has_feature(d, VIRTIO_NET_F_CSUM))
		return false;
	/* No GSO feature is offered (yet): only GSO_NONE is valid. */
	return h->gso_type == VIRTIO_NET_HDR_GSO_NONE;
}

/* The frame part of the chain: iov past the header. */
static unsigned frame_iov(const struct virtq_req *r, struct iovec *out)
{
	size_t skip = NET_HDR_LEN;
	unsigned n = 0;

	for (unsigned i = 0; i < r->nr_read; i++) {
		const struct iovec *v = &r->iov[i];

		if (skip >= v->iov_len) {
			skip -= v->iov_len;
			continue;
		}
		out[n].iov_base = (uint8_t *)v->iov_base + skip;
		out[n].iov_len = v->iov_len - skip;
		skip = 0;
		n++;
	}
	return n;
}

static void tx_one(struct virtio_net *n, const struct virtq_req *r)
{
	struct virtio_dev *d = &n->vdev;
	struct virtio_net_hdr h;
	size_t len;
	unsigned cnt;
	int rc;

	if (r->nr_write || r->read_len < NET_HDR_LEN) {
		n->st.tx_bad_hdr++;
		return;
	}
	iov_to_buf(r->iov, r->nr_read, 0, &h, sizeof(h));
	if (!hdr_ok(d, &h)) {
		n->st.tx_bad_hdr++;
		pr_warn_ratelimited(&n->rl, "virtio-net: TX header with flags "
				    "%#x gso %u dropped", h.flags, h.gso_type);
		return;
	}
	len = r->read_len - NET_HDR_LEN;
	if (!len) {
		n->st.tx_zero++;
		return;
	}
	if (len < 14 || len > NET_MAX_FRAME) {
		n->st.tx_too_big++;
		return;
	}
	cnt = frame_iov(r, n->tx_frame);
	rc = net_backend_send(n->be, &h, n->tx_frame, cnt, len);
	if (rc < 0) {
		n->st.tx_backend_err++;
		return;
	}
	n->st.tx_frames++;
	n->st.tx_bytes += len;
}

void net_tx_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = to_net(d);
	struct virtq *vq = virtio_dev_vq(d, q);
	struct virtq_req r = { .iov = n->tx_iov, .max_iov = NET_TX_IOV };
	unsigned budget = NET_TX_BUDGET;
	bool any = false;

	while (virtio_queue_pop(d, q, &r) > 0) {
		tx_one(n, &r);
		virtq_fill(vq, &r, 0);
		any = true;
		r = (struct virtq_req){ .iov = n->tx_iov,
					.max_iov = NET_TX_IOV };
		/* Spent: the rest on a later round; no loop: carry on. */
		if (!--budget) {
			if (virtio_queue_requeue(d, q))
				break;
			budget = NET_TX_BUDGET;
		}
	}
	if (any) {
		virtq_flush(vq);
		virtio_queue_interrupt(d, q);
	}
}

/* The `peer PATH` link's frames (net_peer_priv.h): received up to
 * PEER_RX_BATCH per recvmmsg, each into its own slot with the frame on a
 * 64-byte boundary, and handed to the device in order, what it had no
 * room for kept for rx_resume; sent a TX round at a time, up to
 * PEER_TX_BATCH per sendmmsg, when the device flushes (tx_flush) before
 * it gives the chains back. Partial checksums are passed on or filled in
 * as the link's features say. */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "backends/net_peer_priv.h"
#include "event/loop.h"

/* Where a message goes in slot i: its frame, after the header when the
 * link carries one, on a 64-byte boundary. The kernel's copy into an
 * unaligned destination is several times slower on some hosts (see
 * net_tap.c); the struct itself is only malloc-aligned. */
static uint8_t *rx_at(struct net_peer *p, unsigned i)
{
	uintptr_t off = p->link_feats ? NET_PEER_HDR_LEN : 0;
	uintptr_t f = ((uintptr_t)p->rx[i].space + off + PEER_RX_ALIGN - 1) &
		      ~(uintptr_t)(PEER_RX_ALIGN - 1);

	return (uint8_t *)(f - off);
}

/* Fill in the partial checksum a header asks for (as the spec's
 * NEEDS_CSUM: the ones' complement sum from csum_start to the end, stored
 * at csum_start + csum_offset). false when the offsets do not fit. */
static bool csum_fill(uint8_t *f, size_t len, unsigned start, unsigned off)
{
	uint64_t sum = 0;
	size_t i;
	uint16_t c;

	if (start >= len || off > len - start || len - start - off < 2)
		return false;
	for (i = start; i + 1 < len; i += 2)
		sum += (uint32_t)f[i] << 8 | f[i + 1];
	if (i < len)
		sum += (uint32_t)f[i] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	c = (uint16_t)~sum;
	if (!c)
		c = 0xffff;     /* UDP: 0 would mean "no checksum" */
	f[start + off] = (uint8_t)(c >> 8);
	f[start + off + 1] = (uint8_t)c;
	return true;
}

/* One frame (with its header when the link carries one) for the device:
 * a partial checksum goes to the guest as it is when the guest takes
 * them (GUEST_CSUM: set_offloads), else it is filled in here. */
static bool frame_in(struct net_peer *p, uint8_t *m, size_t n)
{
	size_t off = p->link_feats ? NET_PEER_HDR_LEN : 0;
	unsigned taken = __atomic_load_n(&p->offloads, __ATOMIC_RELAXED);
	bool pass = false;
	struct iovec v;

	if (n < off + 14) {
		p->st.rx_runt++;
		return true;
	}
	if (off) {
		uint16_t start, coff;

		memcpy(&start, m + 6, 2);
		memcpy(&coff, m + 8, 2);
		start = le16toh(start);
		coff = le16toh(coff);
		pass = (m[0] & HDR_F_NEEDS_CSUM) && p->be.client.rx_hdr &&
		       (taken & NET_OFF_CSUM) && start < n - off &&
		       coff <= n - off - start && n - off - start - coff >= 2;
		if ((m[0] & ~HDR_F_NEEDS_CSUM) || m[1] != HDR_GSO_NONE ||
		    ((m[0] & HDR_F_NEEDS_CSUM) && !pass &&
		     !csum_fill(m + off, n - off, start, coff))) {
			p->st.rx_bad_hdr++;
			pr_warn_ratelimited(&p->rl, "net peer %s: frame with a bad "
					    "header dropped", p->path);
			return true;
		}
	}
	p->st.rx_frames++;
	if (!p->be.client.rx) {
		p->st.rx_unclaimed++;
		return true;
	}
	v = (struct iovec){ m + off, n - off };
	if (pass)
		memset(m + 10, 0, 2);   /* num_buffers: the device's */
	/* Where the device batches, a recvmmsg's frames are published
	 * with one used-index update and at most one interrupt
	 * (peer_rx_flush, at the end of each round). */
	if (p->be.client.rx_hdr && p->be.client.rx_flush) {
		p->rx_unflushed = true;
		return p->be.client.rx_hdr(p->be.client.opaque, 0,
					   pass ? m : NULL, &v, 1, n - off);
	}
	if (pass)
		return p->be.client.rx_hdr(p->be.client.opaque, 0, m, &v, 1,
					   n - off);
	return p->be.client.rx(p->be.client.opaque, &v, 1, n - off);
}

/* The end of a round of frames for the device: every way out of one
 * that handed it frames (a pause, a disconnect, a drained socket). */
void peer_rx_flush(struct net_peer *p)
{
	if (p->rx_unflushed) {
		p->rx_unflushed = false;
		p->be.client.rx_flush(p->be.client.opaque, 0);
	}
}

/* Up to max messages into slots 0.., with one recvmmsg: how many (0:
 * the other side closed), or -1 with errno. A message of 0 bytes is how a
 * closed connection reads, and what the old code took any empty message
 * for: it ends the batch, and the connection once the messages before
 * it are delivered (rx_closed). */
static int rx_receive(struct net_peer *p, unsigned max)
{
	struct mmsghdr mm[PEER_RX_BATCH];
	struct iovec v[PEER_RX_BATCH];
	unsigned i;
	int n;

	for (i = 0; i < max; i++) {
		v[i] = (struct iovec){ rx_at(p, i), PEER_MSG_MAX };
		mm[i] = (struct mmsghdr){ .msg_hdr = { .msg_iov = &v[i],
						       .msg_iovlen = 1 } };
	}
	n = recvmmsg(p->cfd, mm, max, MSG_DONTWAIT, NULL);
	if (n < 0)
		return -1;
	for (i = 0; i < (unsigned)n && mm[i].msg_len; i++) {
		p->rx_len[i] = mm[i].msg_len;
		p->rx_trunc[i] = mm[i].msg_hdr.msg_flags & MSG_TRUNC;
	}
	p->rx_closed = i < (unsigned)n;
	p->rx_next = 0;
	p->rx_count = i;
	if (i)
		p->st.rx_reads++;
	return (int)i;
}

/* What was received and not yet taken, to the device in order; false
 * when it paused us (the rest waits for rx_resume). Then, if an empty
 * message ended the batch (rx_closed), the caller ends the connection. */
bool peer_rx_deliver(struct net_peer *p)
{
	while (p->rx_next < p->rx_count) {
		unsigned i = p->rx_next++;

		if (p->rx_trunc[i]) {
			p->st.rx_oversize++;
			pr_warn_ratelimited(&p->rl, "net peer %s: message over "
					    "%zu bytes dropped", p->path,
					    (size_t)PEER_MSG_MAX);
			continue;
		}
		if (!frame_in(p, rx_at(p, i), p->rx_len[i]))
			return false;
	}
	return true;
}

static void pause_rx(struct net_peer *p)
{
	p->paused = true;
	event_loop_mod(p->loop, p->cfd, peer_conn_events(p));
}

static void conn_round(struct net_peer *p, uint32_t events)
{
	unsigned budget = PEER_RX_BUDGET;

	while (budget) {
		int n;

		if (p->state == PEER_UP && p->paused) {
			/* Not reading: only a hang-up is worth acting on. */
			if (events & (EPOLLHUP | EPOLLERR))
				peer_disconnect(p, "the other side closed", 0);
			return;
		}
		/* The hello alone: the frames after it are laid out by the
		 * features it brings. */
		n = rx_receive(p, p->state == PEER_HELLO ? 1 :
				  MIN(budget, PEER_RX_BATCH));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			peer_disconnect(p, n ? strerror(errno)
					     : "the other side closed", 0);
			return;
		}
		budget -= MIN(budget, (unsigned)n);
		if (p->state == PEER_HELLO) {
			/* (a truncated one has the wrong length) */
			p->rx_next = p->rx_count;
			peer_hello_in(p, (const void *)rx_at(p, 0),
				      p->rx_len[0]);
			if (p->state != PEER_UP)
				return;
			continue;
		}
		if (!peer_rx_deliver(p)) {
			pause_rx(p);
			return;
		}
		if (p->rx_closed) {
			peer_disconnect(p, "the other side closed", 0);
			return;
		}
	}
}

void peer_on_conn(void *opaque, uint32_t events)
{
	struct net_peer *p = opaque;

	conn_round(p, events);
	peer_rx_flush(p);
}

/* The frame as iovecs in out, header first when the link carries one;
 * copied when a checksum must be filled in here or there are too many
 * pieces. */
static unsigned build_iov(struct net_peer *p, struct iovec *out,
			  const uint8_t *h, const struct iovec *iov,
			  unsigned cnt, size_t len, bool copy)
{
	unsigned n = 0;
	size_t off = 0;

	if (p->link_feats)
		out[n++] = (struct iovec){ (void *)h, NET_PEER_HDR_LEN };
	if (copy) {
		for (unsigned i = 0; i < cnt && off < len; i++) {
			size_t k = MIN(iov[i].iov_len, len - off);

			memcpy(p->txbuf + off, iov[i].iov_base, k);
			off += k;
		}
		out[n++] = (struct iovec){ p->txbuf, len };
		return n;
	}
	for (unsigned i = 0; i < cnt && off < len; i++) {
		size_t k = MIN(iov[i].iov_len, len - off);

		out[n++] = (struct iovec){ iov[i].iov_base, k };
		off += k;
	}
	return n;
}

/* n frames could not go (from a failed send call): counted, and said. */
static void tx_failed(struct net_peer *p, unsigned n, int err)
{
	if (err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS) {
		p->st.tx_full += n;
		pr_warn_ratelimited(&p->rl, "net peer %s: the other side is not "
				    "reading: frames dropped", p->path);
	} else {
		/* Gone: the hang-up comes through the event loop. */
		p->st.tx_down += n;
	}
}

/* Frames from..to-1 of the batch did not go: counted lost, for the
 * device's tally (told at its flush). */
static void tx_lose(struct net_peer *p, unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		p->tx_lost_bytes += p->tx[i].len;
	p->tx_lost += to - from;
}

/* Errors after which no frame of the batch can go: a full socket (the
 * other side not reading) or a connection gone. Any other error is the
 * frame's own (one too large for the socket's buffer, say). */
static bool tx_fatal(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == ENOBUFS ||
	       err == EPIPE || err == ECONNRESET || err == ENOTCONN ||
	       err == EBADF;
}

/* The batch goes out: as many sendmmsg calls as the socket takes. */
static void tx_send_batch(struct net_peer *p)
{
	unsigned done = 0, n = p->tx_count;

	p->tx_count = 0;
	while (done < n) {
		int r = sendmmsg(p->cfd, p->tx_mm + done, n - done,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		int e = r < 0 ? errno : EAGAIN;

		if (r > 0) {
			p->st.tx_frames += (unsigned)r;
			done += (unsigned)r;
		} else if (e == EINTR) {
			continue;
		} else if (tx_fatal(e)) {
			tx_failed(p, n - done, e);
			tx_lose(p, done, n);
			break;
		} else {
			tx_failed(p, 1, e);     /* this one; on with the rest */
			tx_lose(p, done, done + 1);
			done++;
		}
	}
}

/* A closing connection: what the batch holds is lost, and what was
 * received and not delivered goes too. The batch is empty here when the
 * device's TX runs on this loop thread, as it always does where there is
 * a loop (a kick with no eventfd is handed to it: virtio_queue_kick_slow):
 * it flushes within each round, and the connection closes between
 * rounds. */
void peer_data_drop(struct net_peer *p)
{
	tx_lose(p, 0, p->tx_count);
	p->st.tx_down += p->tx_count;
	p->tx_count = 0;
	p->rx_next = p->rx_count = 0;
	p->rx_closed = false;
}

unsigned peer_tx_flush(struct net_backend *be, unsigned qp,
		       uint64_t *bytes)
{
	struct net_peer *p = to_peer(be);
	unsigned lost;

	tx_send_batch(p);
	lost = p->tx_lost;
	*bytes = p->tx_lost_bytes;
	p->tx_lost = 0;
	p->tx_lost_bytes = 0;
	return lost;
}

int peer_send(struct net_backend *be, const void *hdr,
	      const struct iovec *iov, unsigned cnt, size_t len)
{
	struct net_peer *p = to_peer(be);
	const uint8_t *gh = hdr;
	uint8_t h[NET_PEER_HDR_LEN] = { 0 };
	uint16_t start = 0, coff = 0;
	bool csum = gh && (gh[0] & HDR_F_NEEDS_CSUM);
	bool fill = csum && !p->link_feats;
	struct msghdr msg = { .msg_iov = p->iov };
	unsigned k;
	int e;

	if (p->state != PEER_UP) {
		p->st.tx_down++;
		return -ENOTCONN;
	}
	if (len < 14 || len > NET_MAX_FRAME) {
		p->st.tx_bad++;
		return -EMSGSIZE;
	}
	if (csum) {
		memcpy(&start, gh + 6, 2);
		memcpy(&coff, gh + 8, 2);
		start = le16toh(start);
		coff = le16toh(coff);
		if (start >= len || coff > len - start ||
		    len - start - coff < 2) {
			p->st.tx_bad++;
			return -EINVAL;
		}
		/* Only what the link defines travels (no GSO, no
		 * num_buffers). */
		h[0] = HDR_F_NEEDS_CSUM;
		memcpy(h + 6, gh + 6, 4);
	}
	if (fill || cnt > PEER_MAX_IOV) {
		/* Copied into the one txbuf: sent now, after what the batch
		 * holds, so that frames keep their order. */
		tx_send_batch(p);
		msg.msg_iovlen = build_iov(p, p->iov, h, iov, cnt, len, true);
		if (fill)
			csum_fill(p->txbuf, len, start, coff);
		if (sendmsg(p->cfd, &msg, MSG_DONTWAIT | MSG_NOSIGNAL) < 0) {
			e = errno;
			tx_failed(p, 1, e);
			return e == ENOBUFS || e == EWOULDBLOCK ? -EAGAIN : -e;
		}
		p->st.tx_frames++;
		return 0;
	}
	if (p->tx_count == PEER_TX_BATCH)
		tx_send_batch(p);       /* the device flushes before this */
	k = p->tx_count++;
	memcpy(p->tx[k].h, h, sizeof(h));
	p->tx[k].len = len;
	p->tx_mm[k] = (struct mmsghdr){ .msg_hdr = {
		.msg_iov = p->tx[k].iov,
		.msg_iovlen = build_iov(p, p->tx[k].iov, p->tx[k].h, iov, cnt,
					len, false) } };
	return 0;
}


/* virtio-blk requests: parse a chain, check everything the guest said,
 * hand the I/O to the block backend, complete it.
 *
 * Runs on the event loop thread with the queue lock held (queue_notify);
 * completions arrive later on the event loop thread, or on a thread
 * draining the backend at teardown, and take the queue lock themselves.
 * A request whose queue was disabled or whose device was reset since it
 * was popped is stale: its completion only frees the slot.
 * A malformed request is completed with VIRTIO_BLK_S_IOERR (or UNSUPP for
 * what the spec says is unsupported); the queue itself stays usable.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "core/util.h"
#include "virtio/blk_priv.h"

#define SECTOR 512u

/* Copy len bytes starting skip bytes into iov[0..cnt). Returns bytes
 * copied (short when the iovs end first). */
static size_t iov_read(const struct iovec *iov, unsigned cnt, size_t skip,
		       void *buf, size_t len)
{
	uint8_t *out = buf;
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t n = iov[i].iov_len;

		if (skip >= n) {
			skip -= n;
			continue;
		}
		n = MIN(n - skip, len - done);
		memcpy(out + done, (uint8_t *)iov[i].iov_base + skip, n);
		done += n;
		skip = 0;
	}
	return done;
}

static size_t iov_write(const struct iovec *iov, unsigned cnt,
			const void *buf, size_t len)
{
	const uint8_t *in = buf;
	size_t done = 0;

	for (unsigned i = 0; i < cnt && done < len; i++) {
		size_t n = MIN(iov[i].iov_len, len - done);

		memcpy(iov[i].iov_base, in + done, n);
		done += n;
	}
	return done;
}

/* Cut skip bytes off the front of iov[0..*cnt), in place. */
static struct iovec *iov_skip(struct iovec *iov, unsigned *cnt, size_t skip)
{
	while (*cnt && skip >= iov->iov_len) {
		skip -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt && skip) {
		iov->iov_base = (uint8_t *)iov->iov_base + skip;
		iov->iov_len -= skip;
	}
	return iov;
}

/* The writable iovs without the status byte (the last writable byte). */
static struct iovec *data_in(struct blk_req *r, unsigned *cnt)
{
	struct iovec *iov = r->iov + r->vreq.nr_read;
	struct iovec *last = &iov[r->vreq.nr_write - 1];

	*cnt = r->vreq.nr_write;
	if (!--last->iov_len)
		(*cnt)--;
	return iov;
}

/* --- completion --- */

/* Queue lock held. */
static void free_slot(struct blk_queue *bq, struct blk_req *r)
{
	r->next_free = bq->free;
	bq->free = r;
	/* Chains were left on the ring for want of a slot: come back for
	 * them (no kick will, the guest already gave it). */
	if (bq->starved) {
		bq->starved = false;
		virtio_queue_requeue(&bq->blk->vdev, bq->index);
	}
}

/* Queue lock held. */
static void complete_locked(struct blk_req *r, uint8_t status)
{
	struct blk_queue *bq = r->bq;
	struct virtio_dev *d = &bq->blk->vdev;
	struct virtq *vq = virtio_dev_vq(d, bq->index);

	/* A stale request's ring is gone or belongs to a new session, and
	 * its buffers to the driver again: touch neither. */
	if (virtio_dev_running(d) && virtq_req_current(vq, &r->vreq)) {
		*r->status = status;
		virtq_fill(vq, &r->vreq, (uint32_t)r->vreq.write_len);
		bq->dirty = true;
	}
	free_slot(bq, r);
}

static void io_done(struct blk_io *io)
{
	struct blk_req *r = io->opaque;
	struct blk_queue *bq = r->bq;
	struct virtio_blk *blk = bq->blk;

	if (io->result < 0)
		pr_warn_ratelimited(&blk->rl, "%s: I/O error: %s",
				    blk->vdev.name, strerror((int)-io->result));
	virtio_queue_lock(&blk->vdev, bq->index);
	complete_locked(r, io->result < 0 ? VIRTIO_BLK_S_IOERR :
			VIRTIO_BLK_S_OK);
	virtio_queue_unlock(&blk->vdev, bq->index);
	/* Last, with no lock held: may complete a pending reset. */
	virtio_dev_work_put(&blk->vdev);
}

/* Queue lock held: publish what was filled, interrupt if wanted. */
static void flush_queue(struct blk_queue *bq)
{
	struct virtio_dev *d = &bq->blk->vdev;

	if (!bq->dirty)
		return;
	bq->dirty = false;
	virtq_flush(virtio_dev_vq(d, bq->index));
	virtio_queue_interrupt(d, bq->index);
}

/* After a batch of backend completions: one used-index update and at
 * most one interrupt per queue. */
void blk_batch_done(void *opaque)
{
	struct virtio_blk *blk = opaque;
	/* The guest answers a completion with its next request: with
	 * polling, have it find notifications off, so it need not kick. */
	bool polling = blk_poll_schedule(blk);

	for (unsigned i = 0; i < blk->nr_queues; i++) {
		virtio_queue_lock(&blk->vdev, i);
		if (polling && virtio_dev_running(&blk->vdev))
			virtq_disable_notify(virtio_dev_vq(&blk->vdev, i));
		flush_queue(&blk->queues[i]);
		virtio_queue_unlock(&blk->vdev, i);
	}
}

/* --- checks --- */

static bool range_ok_sectors(const struct virtio_blk *blk, uint64_t sector,
			     uint64_t nr)
{
	return sector <= blk->capacity && nr <= blk->capacity - sector;
}

static void bad(struct blk_req *r, const char *why)
{
	struct virtio_blk *blk = r->bq->blk;

	pr_warn_ratelimited(&blk->rl, "%s: queue %u: bad request: %s",
			    blk->vdev.name, r->bq->index, why);
}

static int submit(struct blk_req *r)
{
	struct virtio_blk *blk = r->bq->blk;
	int rc;

	r->io.done = io_done;
	r->io.opaque = r;
	/* Counted before the backend can complete it (done() never runs
	 * inside submit, but may on the loop right after). */
	virtio_dev_work_get(&blk->vdev);
	rc = blk_backend_submit(blk->be, &r->io);
	if (rc) {
		virtio_dev_work_cancel(&blk->vdev);     /* queue lock held */
		pr_warn_ratelimited(&blk->rl, "%s: submit: %s",
				    blk->vdev.name, strerror(-rc));
		return VIRTIO_BLK_S_IOERR;
	}
	return -1;                    /* completes later */
}

/* --- request types --- */

static int do_rw(struct blk_req *r, uint32_t type, uint64_t sector)
{
	struct virtio_blk *blk = r->bq->blk;
	struct iovec *iov;
	unsigned cnt;
	uint64_t len;

	if (type == VIRTIO_BLK_T_OUT) {
		if (blk->read_only) {
			bad(r, "write to a read-only disk");
			return VIRTIO_BLK_S_IOERR;
		}
		cnt = r->vreq.nr_read;
		iov = iov_skip(r->iov, &cnt, sizeof(struct virtio_blk_outhdr));
		len = r->vreq.read_len - sizeof(struct virtio_blk_outhdr);
	} else {
		iov = data_in(r, &cnt);
		len = r->vreq.write_len - 1;
	}
	if (len % SECTOR) {
		bad(r, "length not a multiple of 512");
		return VIRTIO_BLK_S_IOERR;
	}
	if (len > VIRTIO_BLK_MAX_REQ_BYTES) {
		bad(r, "request too long");
		return VIRTIO_BLK_S_IOERR;
	}
	if (!range_ok_sectors(blk, sector, len / SECTOR)) {
		bad(r, "sector beyond capacity");
		return VIRTIO_BLK_S_IOERR;
	}
	if (!len)
		return VIRTIO_BLK_S_OK;
	r->io = (struct blk_io){
		.op = type == VIRTIO_BLK_T_OUT ? BLK_OP_WRITE : BLK_OP_READ,
		.offset = sector * SECTOR, .iov = iov, .iovcnt = cnt,
	};
	/* Without FLUSH the driver expects a write-through disk. */
	if (type == VIRTIO_BLK_T_OUT &&
	    !virtio_dev_has_feature(&blk->vdev, VIRTIO_BLK_F_FLUSH))
		r->io.flags |= BLK_IO_FUA;
	return submit(r);
}

static int do_flush(struct blk_req *r)
{
	r->io = (struct blk_io){ .op = BLK_OP_FLUSH };
	return submit(r);
}

static int do_get_id(struct blk_req *r)
{
	unsigned cnt;
	struct iovec *iov = data_in(r, &cnt);

	iov_write(iov, cnt, r->bq->blk->serial, VIRTIO_BLK_ID_BYTES);
	return VIRTIO_BLK_S_OK;
}

/* Discard and write zeroes carry 16-byte segments after the header. */
static int parse_segments(struct blk_req *r, uint32_t type)
{
	struct virtio_blk *blk = r->bq->blk;
	uint64_t bytes = r->vreq.read_len - sizeof(struct virtio_blk_outhdr);
	unsigned n = (unsigned)MIN(bytes / sizeof(struct virtio_blk_dwz_seg),
				   (uint64_t)UINT32_MAX);

	if (bytes % sizeof(struct virtio_blk_dwz_seg) || !n ||
	    n > VIRTIO_BLK_MAX_DWZ_SEG) {
		bad(r, "bad discard/write-zeroes segment count");
		return VIRTIO_BLK_S_IOERR;
	}
	for (unsigned i = 0; i < n; i++) {
		struct virtio_blk_dwz_seg s;
		uint64_t sector;
		uint32_t nr, flags;

		iov_read(r->iov, r->vreq.nr_read,
			 sizeof(struct virtio_blk_outhdr) + i * sizeof(s),
			 &s, sizeof(s));
		sector = le64toh(s.sector);
		nr = le32toh(s.num_sectors);
		flags = le32toh(s.flags);
		/* Spec 5.2.6.2: unknown flags, or unmap on a discard. */
		if ((flags & ~VIRTIO_BLK_WZ_F_UNMAP) ||
		    (type == VIRTIO_BLK_T_DISCARD && flags))
			return VIRTIO_BLK_S_UNSUPP;
		if (!nr || nr > VIRTIO_BLK_MAX_DWZ_SECTORS ||
		    !range_ok_sectors(blk, sector, nr)) {
			bad(r, "bad discard/write-zeroes range");
			return VIRTIO_BLK_S_IOERR;
		}
		r->ranges[i] = (struct blk_range){ sector * SECTOR,
						   (uint64_t)nr * SECTOR };
		/* One flag for the request: unmap only if every segment
		 * allows it (Linux sends one segment for write zeroes). */
		if (!i || !(flags & VIRTIO_BLK_WZ_F_UNMAP))
			r->io.flags = (flags & VIRTIO_BLK_WZ_F_UNMAP) ?
				      BLK_IO_UNMAP : 0;
	}
	r->io.nr_ranges = n;
	return -1;
}

static int do_dwz(struct blk_req *r, uint32_t type)
{
	int rc;

	if (r->bq->blk->read_only) {
		bad(r, "discard/write zeroes on a read-only disk");
		return VIRTIO_BLK_S_IOERR;
	}
	r->io = (struct blk_io){
		.op = type == VIRTIO_BLK_T_DISCARD ? BLK_OP_DISCARD :
						     BLK_OP_WRITE_ZEROES,
		.ranges = r->ranges,
	};
	rc = parse_segments(r, type);
	if (rc >= 0)
		return rc;
	/* Write-through, as for OUT: zeros the guest was told of survive a
	 * power cut (a discard is a hint: nothing to keep). After the
	 * segments, which set the request's flags. */
	if (type == VIRTIO_BLK_T_WRITE_ZEROES &&
	    !virtio_dev_has_feature(&r->bq->blk->vdev, VIRTIO_BLK_F_FLUSH))
		r->io.flags |= BLK_IO_FUA;
	return submit(r);
}

/* Returns a status to complete with now, or -1 when the backend owns r. */
static int dispatch(struct blk_req *r)
{
	struct virtio_blk_outhdr h;
	uint32_t type;

	if (iov_read(r->iov, r->vreq.nr_read, 0, &h, sizeof(h)) < sizeof(h)) {
		bad(r, "header shorter than 16 bytes");
		return VIRTIO_BLK_S_IOERR;
	}
	type = le32toh(h.type);
	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		return do_rw(r, type, le64toh(h.sector));
	case VIRTIO_BLK_T_FLUSH:
		return do_flush(r);
	case VIRTIO_BLK_T_GET_ID:
		return do_get_id(r);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		return do_dwz(r, type);
	default:
		return VIRTIO_BLK_S_UNSUPP;
	}
}

/* Queue lock held. A chain without a writable byte has nowhere to put
 * its status: give it back with nothing written. */
static void handle(struct blk_queue *bq, struct blk_req *r)
{
	struct iovec *last;
	int status;

	if (!r->vreq.nr_write) {
		bad(r, "no writable status byte");
		virtq_fill(virtio_dev_vq(&bq->blk->vdev, bq->index), &r->vreq,
			   0);
		bq->dirty = true;
		free_slot(bq, r);
		return;
	}
	last = &r->iov[r->vreq.nr_read + r->vreq.nr_write - 1];
	r->status = (uint8_t *)last->iov_base + last->iov_len - 1;
	status = dispatch(r);
	if (status >= 0)
		complete_locked(r, (uint8_t)status);
}

enum round_end {
	ROUND_EMPTY,     /* popped everything there was */
	ROUND_BROKEN,    /* the queue broke (the device needs a reset) */
	ROUND_BUDGET,    /* *budget chains taken, maybe more waiting */
	ROUND_NO_SLOT,   /* every slot busy (stale requests still out) */
};

static enum round_end process(struct blk_queue *bq, unsigned *budget)
{
	struct virtio_dev *d = &bq->blk->vdev;
	struct blk_req *r;
	int rc;

	for (; *budget; (*budget)--) {
		if (!(r = bq->free))
			return ROUND_NO_SLOT;
		r->vreq = (struct virtq_req){ .iov = r->iov,
					      .max_iov = BLK_REQ_IOV };
		rc = virtio_queue_pop(d, bq->index, &r->vreq);
		if (rc <= 0)
			return rc ? ROUND_BROKEN : ROUND_EMPTY;
		bq->free = r->next_free;
		__atomic_fetch_add(&bq->blk->popped, 1, __ATOMIC_RELAXED);
		handle(bq, r);
	}
	return ROUND_BUDGET;
}

void blk_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_blk *blk = container_of(d, struct virtio_blk, vdev);
	struct blk_queue *bq = &blk->queues[q];
	struct virtq *vq = virtio_dev_vq(d, q);
	unsigned budget = BLK_NOTIFY_BUDGET;
	bool polling = blk_poll_schedule(blk);

	bq->starved = false;          /* this round looks for itself */
	/* Drain with kicks off; re-check after turning them back on so a
	 * chain added in between is not left waiting for a kick. A poll
	 * keeps them off: it turns them on when it stops (blk_poll.c). */
	for (;;) {
		enum round_end end;

		virtq_disable_notify(vq);
		end = process(bq, &budget);
		if (end == ROUND_BUDGET) {
			/* The rest on a later round of the loop (kicks stay
			 * off meanwhile); without a loop, carry on. */
			if (virtio_queue_requeue(d, q))
				break;
			budget = BLK_NOTIFY_BUDGET;
			continue;
		}
		if (end == ROUND_NO_SLOT)
			bq->starved = true;   /* free_slot() comes back */
		/* A pop finds nothing once the device stopped running (a
		 * reset or NEEDS_RESET from a vCPU during this round) or was
		 * paused (virtio/quiesce.c), while the ring may still hold
		 * chains: going round again would spin forever, with the
		 * queue lock the reset or the pause waits for (found by
		 * tests/fuzz, target devices; the pause by reading). */
		if (!virtio_dev_running(d) || virtio_dev_quiesced(d) ||
		    polling)
			break;
		if (!virtq_enable_notify(vq) || end != ROUND_EMPTY)
			break;
	}
	blk_backend_kick(blk->be);
	flush_queue(bq);
}

/* At creation: every slot free. */
void blk_queue_init_slots(struct blk_queue *bq)
{
	bq->free = NULL;
	for (unsigned i = VIRTIO_BLK_QUEUE_SIZE; i-- > 0;) {
		bq->reqs[i].bq = bq;
		bq->reqs[i].next_free = bq->free;
		bq->free = &bq->reqs[i];
	}
}

/* Reset: forget what was filled for the old ring. Slots held by the
 * backend come back through io_done(). */
void blk_queue_stop(struct blk_queue *bq)
{
	bq->dirty = false;
	bq->starved = false;
}

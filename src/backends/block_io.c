/* The per-request state machine of the block backend (see block_priv.h).
 * Engine-independent: the sync engine runs the steps on a worker thread,
 * the io_uring engine turns each into an SQE.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backends/block_priv.h"
#include "core/log.h"
#include "core/util.h"

static uint64_t iov_total(const struct iovec *iov, unsigned cnt)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < cnt; i++)
		n += iov[i].iov_len;
	return n;
}

/* Drop n transferred bytes from the front of *iov. */
static void iov_advance(struct iovec **iov, unsigned *cnt, uint64_t n)
{
	while (*cnt && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt && n) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

static void iov_copy(const struct iovec *iov, unsigned cnt, uint8_t *buf,
		     bool to_buf)
{
	for (unsigned i = 0; i < cnt; i++) {
		if (to_buf)
			memcpy(buf, iov[i].iov_base, iov[i].iov_len);
		else
			memcpy(iov[i].iov_base, buf, iov[i].iov_len);
		buf += iov[i].iov_len;
	}
}

/* O_DIRECT wants every buffer aligned to the logical block size; guest
 * buffers usually are, and the rare one that is not goes through a copy. */
static bool iov_aligned(const struct iovec *iov, unsigned cnt, uint32_t a)
{
	for (unsigned i = 0; i < cnt; i++)
		if (((uintptr_t)iov[i].iov_base | iov[i].iov_len) & (a - 1))
			return false;
	return true;
}

static int setup_bounce(struct blk_backend *b, struct blk_io *io)
{
	uint32_t a = b->info.logical_block;
	uint64_t held = __atomic_add_fetch(&b->bounce_bytes, io->total,
					   __ATOMIC_RELAXED);

	if (held > BLK_BOUNCE_LIMIT ||
	    posix_memalign(&io->bounce, a < 4096 ? 4096 : a, io->total)) {
		io->bounce = NULL;
		__atomic_sub_fetch(&b->bounce_bytes, io->total,
				   __ATOMIC_RELAXED);
		return -ENOMEM;
	}
	if (io->op == BLK_OP_WRITE)
		iov_copy(io->iov, io->iovcnt, io->bounce, true);
	io->bounce_iov = (struct iovec){ io->bounce, io->total };
	io->cur_iov = &io->bounce_iov;
	io->cur_cnt = 1;
	return 0;
}

static void rw_step(struct blk_io *io)
{
	io->step = (struct blk_step){
		.kind = io->op == BLK_OP_READ ? BLK_STEP_READ : BLK_STEP_WRITE,
		.off = io->offset + io->pos,
		.rw_flags = (io->flags & BLK_IO_FUA) ? RWF_DSYNC : 0,
		.iov = io->cur_iov, .iovcnt = io->cur_cnt,
	};
}

static int falloc_mode(const struct blk_backend *b, const struct blk_io *io)
{
	if (io->op == BLK_OP_DISCARD || (io->flags & BLK_IO_UNMAP))
		return FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	return FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
}

/* Prepare the step for the current range (or the next zero chunk). */
static void range_step(struct blk_backend *b, struct blk_io *io)
{
	const struct blk_range *r = &io->ranges[io->range];

	if (io->zero_write) {
		uint64_t n = MIN(r->len - io->pos, (uint64_t)BLK_ZERO_CHUNK);

		io->bounce_iov = (struct iovec){ b->zeros, n };
		io->step = (struct blk_step){ .kind = BLK_STEP_WRITE,
			.off = r->offset + io->pos,
			.iov = &io->bounce_iov, .iovcnt = 1 };
		return;
	}
	io->step = (struct blk_step){ .kind = BLK_STEP_FALLOC,
		.off = r->offset, .len = r->len, .mode = falloc_mode(b, io) };
}

static int check_ranges(const struct blk_backend *b, const struct blk_io *io)
{
	uint32_t a = b->info.direct ? b->info.logical_block : 512;

	if (!io->nr_ranges || !io->ranges)
		return -EINVAL;
	for (unsigned i = 0; i < io->nr_ranges; i++) {
		const struct blk_range *r = &io->ranges[i];

		if (!r->len || ((r->offset | r->len) & (a - 1)) ||
		    r->offset > b->info.size || r->len > b->info.size - r->offset)
			return -EINVAL;
	}
	return 0;
}

static int start_rw(struct blk_backend *b, struct blk_io *io)
{
	uint32_t a = b->info.logical_block;

	io->total = iov_total(io->iov, io->iovcnt);
	if (!io->total || io->offset > b->info.size ||
	    io->total > b->info.size - io->offset)
		return -EINVAL;
	io->cur_iov = io->iov;
	io->cur_cnt = io->iovcnt;
	if (b->info.direct) {
		if ((io->offset | io->total) & (a - 1))
			return -EINVAL;
		if (!iov_aligned(io->iov, io->iovcnt, a) && setup_bounce(b, io))
			return -ENOMEM;
	}
	rw_step(io);
	return 0;
}

int blk_io_start(struct blk_backend *b, struct blk_io *io)
{
	int rc;

	io->pos = 0;
	io->range = 0;
	io->zero_write = false;
	io->bounce = NULL;
	io->result = 0;
	if (b->info.read_only && io->op != BLK_OP_READ &&
	    io->op != BLK_OP_FLUSH)
		return -EROFS;
	switch (io->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		return start_rw(b, io);
	case BLK_OP_FLUSH:
		io->step = (struct blk_step){ .kind = BLK_STEP_FSYNC };
		return 0;
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		rc = check_ranges(b, io);
		if (rc)
			return rc;
		io->zero_write = io->op == BLK_OP_WRITE_ZEROES &&
			__atomic_load_n(&b->no_zero_range, __ATOMIC_RELAXED);
		range_step(b, io);
		return 0;
	}
	return -EINVAL;
}

void blk_bounce_free(struct blk_backend *b, struct blk_io *io)
{
	if (!io->bounce)
		return;
	free(io->bounce);
	io->bounce = NULL;
	__atomic_sub_fetch(&b->bounce_bytes, io->total, __ATOMIC_RELAXED);
}

static bool finish(struct blk_backend *b, struct blk_io *io, int64_t res)
{
	if (io->bounce && res > 0 && io->op == BLK_OP_READ)
		iov_copy(io->iov, io->iovcnt, io->bounce, false);
	blk_bounce_free(b, io);
	io->result = res;
	return false;
}

static bool rw_done(struct blk_backend *b, struct blk_io *io, int64_t res)
{
	if (res < 0)
		return finish(b, io, res);
	if (res == 0)                 /* the file shrank under us */
		return finish(b, io, -EIO);
	io->pos += (uint64_t)res;
	if (io->pos >= io->total)
		return finish(b, io, (int64_t)io->total);
	iov_advance(&io->cur_iov, &io->cur_cnt, (uint64_t)res);
	rw_step(io);
	return true;
}

static bool next_range(struct blk_backend *b, struct blk_io *io)
{
	io->pos = 0;
	if (++io->range < io->nr_ranges) {
		range_step(b, io);
		return true;
	}
	/* FUA (a write-through disk, whose driver took no FLUSH): what the
	 * ranges did is durable before the request completes, as a FUA
	 * write's data is. */
	if (io->flags & BLK_IO_FUA) {
		io->step = (struct blk_step){ .kind = BLK_STEP_FSYNC };
		return true;
	}
	return finish(b, io, 0);
}

/* fallocate cannot zero here (tmpfs, some block devices): zero by hand,
 * and remember so that later requests skip the failing call. */
static bool cannot_falloc(int64_t res)
{
	return res == -EOPNOTSUPP || res == -EINVAL || res == -ENODEV;
}

/* A failed fdatasync (a FLUSH's, or the last step of a FUA request):
 * every later flush fails too (flush_done says why). */
static void sync_failed(struct blk_backend *b, int64_t res)
{
	if (!__atomic_exchange_n(&b->flush_failed, true, __ATOMIC_ACQ_REL))
		pr_err("block: %s: flush failed (%s): writes since the last "
		       "good flush may be lost; every later flush fails",
		       b->path, strerror((int)-res));
}

static bool range_done(struct blk_backend *b, struct blk_io *io, int64_t res)
{
	if (io->step.kind == BLK_STEP_FSYNC) {          /* FUA's, the last */
		if (res < 0)
			sync_failed(b, res);
		return finish(b, io, res < 0 ? res : 0);
	}
	if (io->zero_write) {
		if (res <= 0)
			return finish(b, io, res ? res : -EIO);
		io->pos += (uint64_t)res;
		if (io->pos < io->ranges[io->range].len) {
			range_step(b, io);
			return true;
		}
		return next_range(b, io);
	}
	if (res < 0 && cannot_falloc(res)) {
		/* Discard is a hint: a file system without holes ignores it. */
		if (io->op == BLK_OP_DISCARD)
			return next_range(b, io);
		__atomic_store_n(&b->no_zero_range, true, __ATOMIC_RELAXED);
		io->zero_write = true;
		io->pos = 0;
		range_step(b, io);
		return true;
	}
	if (res < 0)
		return finish(b, io, res);
	return next_range(b, io);
}

bool blk_flush_gate(struct blk_backend *b, struct blk_io *io)
{
	bool go;

	pthread_mutex_lock(&b->flush_lock);
	go = !b->flush_busy;
	if (go) {
		b->flush_busy = true;
	} else {
		io->next = NULL;
		if (b->flush_tail)
			b->flush_tail->next = io;
		else
			b->flush_head = io;
		b->flush_tail = io;
	}
	pthread_mutex_unlock(&b->flush_lock);
	return go;
}

void blk_flush_next(struct blk_backend *b, bool may_complete)
{
	struct blk_io *io;

	for (;;) {
		pthread_mutex_lock(&b->flush_lock);
		io = b->flush_head;
		if (io) {
			b->flush_head = io->next;
			if (!b->flush_head)
				b->flush_tail = NULL;
		} else {
			b->flush_busy = false;
		}
		pthread_mutex_unlock(&b->flush_lock);
		if (!io || b->eng->submit(b, io) == 0)
			return;
		/* The engine refused (it is sized never to). Where done() may
		 * run, fail this one and go on; inside submit (the caller
		 * holds its queue lock) put it back for the next flush to
		 * start, rather than complete it there. */
		if (!may_complete) {
			pthread_mutex_lock(&b->flush_lock);
			io->next = b->flush_head;
			b->flush_head = io;
			if (!b->flush_tail)
				b->flush_tail = io;
			b->flush_busy = false;
			pthread_mutex_unlock(&b->flush_lock);
			return;
		}
		io->result = -EIO;
		blk_io_complete(b, io);
	}
}

/* Linux reports a writeback error to the next fdatasync of the file
 * description and then forgets it (errseq): a second flush would succeed
 * although the pages it should have made durable were dropped. So once
 * one flush fails, all later ones fail (the guest must assume the disk's
 * contents since its last good flush are unknown). */
static bool flush_done(struct blk_backend *b, struct blk_io *io, int64_t res)
{
	if (res < 0) {
		sync_failed(b, res);
	} else if (__atomic_load_n(&b->flush_failed, __ATOMIC_ACQUIRE)) {
		res = -EIO;
	}
	blk_flush_next(b, true);
	return finish(b, io, res < 0 ? res : 0);
}

bool blk_io_step_done(struct blk_backend *b, struct blk_io *io, int64_t res)
{
	if (res == -EINTR || res == -EAGAIN)
		return true;              /* run the same step again */
	switch (io->op) {
	case BLK_OP_READ:
	case BLK_OP_WRITE:
		return rw_done(b, io, res);
	case BLK_OP_FLUSH:
		return flush_done(b, io, res);
	case BLK_OP_DISCARD:
	case BLK_OP_WRITE_ZEROES:
		return range_done(b, io, res);
	}
	return finish(b, io, -EINVAL);
}

static int64_t ret(int64_t r)
{
	return r < 0 ? -errno : r;
}

int64_t blk_step_exec(struct blk_backend *b, const struct blk_step *s)
{
	switch (s->kind) {
	case BLK_STEP_READ:
		return ret(preadv2(b->fd, s->iov, (int)s->iovcnt,
				   (off_t)s->off, 0));
	case BLK_STEP_WRITE:
		return ret(pwritev2(b->fd, s->iov, (int)s->iovcnt,
				    (off_t)s->off, s->rw_flags));
	case BLK_STEP_FSYNC:
		return ret(fdatasync(b->fd));
	case BLK_STEP_FALLOC:
		return ret(fallocate(b->fd, s->mode, (off_t)s->off,
				     (off_t)s->len));
	}
	return -EINVAL;
}

void blk_io_complete(struct blk_backend *b, struct blk_io *io)
{
	io->done(io);               /* may reuse io: do not touch it after */
	__atomic_fetch_sub(&b->inflight, 1, __ATOMIC_RELEASE);
}

void blk_batch_end(struct blk_backend *b)
{
	if (b->batch_fn)
		b->batch_fn(b->batch_opaque);
}

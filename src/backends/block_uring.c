/* The io_uring block engine (liburing). Steps become SQEs, submitted in
 * batches at kick time; the kernel signals completions on an eventfd
 * registered with the ring, which the event loop watches. One ring per
 * disk, shared by its request queues: SQ and CQ each have a lock because
 * two threads (the loop and a draining reset) may use them.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/block_priv.h"
#include "core/log.h"
#include "core/util.h"

#include <liburing.h>

#define URING_MIN_DEPTH 128
#define URING_MAX_DEPTH 32768      /* the kernel's IORING_MAX_ENTRIES */
#define REAP_BATCH 64

struct uring_engine {
	struct io_uring ring;
	pthread_mutex_t sq_lock;   /* leaf lock */
	pthread_mutex_t cq_lock;
	unsigned pending;          /* SQEs prepared, not yet submitted */
	bool fixed;                /* the image is registered file 0 */
};

static void uring_fini(struct blk_backend *b)
{
	struct uring_engine *u = b->eng_priv;

	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	pthread_mutex_destroy(&u->sq_lock);
	pthread_mutex_destroy(&u->cq_lock);
	if (b->efd >= 0)
		close(b->efd);
	b->efd = -1;
	free(u);
	b->eng_priv = NULL;
}

static int uring_init(struct blk_backend *b, unsigned nr_queues)
{
	struct uring_engine *u = xcalloc(1, sizeof(*u));
	unsigned depth = URING_MIN_DEPTH;
	int rc;

	/* Room for every request the guest can have in flight: a request
	 * runs one step at a time, so the SQ never fills and the CQ (twice
	 * the SQ) never overflows, whatever the guest queues. */
	while (depth < URING_MAX_DEPTH &&
	       depth < nr_queues * BLK_MAX_INFLIGHT_PER_QUEUE)
		depth *= 2;
	rc = io_uring_queue_init(depth, &u->ring, 0);
	if (rc < 0) {
		free(u);
		return rc;
	}
	pthread_mutex_init(&u->sq_lock, NULL);
	pthread_mutex_init(&u->cq_lock, NULL);
	b->eng_priv = u;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		rc = -errno;
		uring_fini(b);
		return rc;
	}
	rc = io_uring_register_eventfd(&u->ring, b->efd);
	if (rc < 0) {
		uring_fini(b);
		return rc;
	}
	/* A registered file spares each read and write the file table
	 * lookup and its reference count (an atomic pair: cvisor is
	 * multithreaded). Optional: without it requests name the fd. The
	 * rare flush and fallocate name the fd anyway. */
	u->fixed = io_uring_register_files(&u->ring, &b->fd, 1) == 0;
	return 0;
}

static void prep(struct io_uring_sqe *sqe, int fd, bool fixed,
		 const struct blk_step *s)
{
	switch (s->kind) {
	case BLK_STEP_READ:
		io_uring_prep_readv(sqe, fixed ? 0 : fd, s->iov, s->iovcnt,
				    s->off);
		break;
	case BLK_STEP_WRITE:
		io_uring_prep_writev(sqe, fixed ? 0 : fd, s->iov, s->iovcnt,
				     s->off);
		sqe->rw_flags = s->rw_flags;
		break;
	case BLK_STEP_FSYNC:
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		break;
	case BLK_STEP_FALLOC:
		io_uring_prep_fallocate(sqe, fd, s->mode, s->off, s->len);
		break;
	}
	if (fixed && (s->kind == BLK_STEP_READ || s->kind == BLK_STEP_WRITE))
		sqe->flags |= IOSQE_FIXED_FILE;
}

/* sq_lock held. Push prepared SQEs to the kernel; on a transient refusal
 * (CQ overflow backlog, no memory for requests) they stay pending, and
 * the completion eventfd is signalled so that the loop tries again on
 * its next round (uring_reap kicks): with nothing else in flight no
 * completion would come to retry them, and a guest waiting for one
 * request (a FLUSH) would wait for ever. */
static void submit_locked(struct blk_backend *b, struct uring_engine *u)
{
	int rc;

	if (!u->pending)
		return;
	rc = io_uring_submit(&u->ring);
	if (rc >= 0) {
		u->pending -= MIN((unsigned)rc, u->pending);
		return;
	}
	if (rc != -EBUSY && rc != -EAGAIN && rc != -EINTR) {
		log_ratelimited(LOG_WARN, "block: io_uring_submit: %s",
				strerror(-rc));
		return;
	}
	if (b->efd >= 0 && eventfd_write(b->efd, 1) < 0)
		log_ratelimited(LOG_WARN, "block: retry signal: %s",
				strerror(errno));
}

static int uring_submit(struct blk_backend *b, struct blk_io *io)
{
	struct uring_engine *u = b->eng_priv;
	struct io_uring_sqe *sqe;

	pthread_mutex_lock(&u->sq_lock);
	sqe = io_uring_get_sqe(&u->ring);
	if (!sqe) {               /* SQ full: hand what we have over */
		submit_locked(b, u);
		sqe = io_uring_get_sqe(&u->ring);
	}
	if (!sqe) {
		pthread_mutex_unlock(&u->sq_lock);
		return -EBUSY;
	}
	prep(sqe, b->fd, u->fixed, &io->step);
	io_uring_sqe_set_data(sqe, io);
	u->pending++;
	pthread_mutex_unlock(&u->sq_lock);
	return 0;
}

static void uring_kick(struct blk_backend *b)
{
	struct uring_engine *u = b->eng_priv;

	pthread_mutex_lock(&u->sq_lock);
	submit_locked(b, u);
	pthread_mutex_unlock(&u->sq_lock);
}

struct cqe_copy {
	struct blk_io *io;
	int res;
};

static unsigned take_cqes(struct uring_engine *u, struct cqe_copy *out)
{
	struct io_uring_cqe *cqe;
	unsigned n = 0;

	pthread_mutex_lock(&u->cq_lock);
	while (n < REAP_BATCH && io_uring_peek_cqe(&u->ring, &cqe) == 0) {
		out[n].io = io_uring_cqe_get_data(cqe);
		out[n].res = cqe->res;
		io_uring_cqe_seen(&u->ring, cqe);
		n++;
	}
	pthread_mutex_unlock(&u->cq_lock);
	return n;
}

/* A finished step either continues its request (resubmit) or ends it. */
static void handle_cqe(struct blk_backend *b, struct blk_io *io, int res)
{
	if (!blk_io_step_done(b, io, res)) {
		blk_io_complete(b, io);
		return;
	}
	if (uring_submit(b, io) == 0)
		return;
	blk_bounce_free(b, io);   /* the next step could not be queued */
	io->result = -EIO;
	/* (a FLUSH retried after EINTR/EAGAIN holds the gate: the next
	 * flush would wait for ever) */
	if (io->op == BLK_OP_FLUSH)
		blk_flush_next(b, true);
	blk_io_complete(b, io);
}

static void uring_reap(struct blk_backend *b)
{
	struct uring_engine *u = b->eng_priv;
	struct cqe_copy c[REAP_BATCH];
	bool any = false;
	unsigned n;

	while ((n = take_cqes(u, c)) > 0) {
		any = true;
		for (unsigned i = 0; i < n; i++)
			handle_cqe(b, c[i].io, c[i].res);
	}
	/* Also retries SQEs the kernel refused earlier. */
	uring_kick(b);
	if (any)
		blk_batch_end(b);
}

/* CQEs waiting. A completion the kernel still has as task work (an
 * inline-issued O_DIRECT request ends in the submitter's task work) is
 * run when the IPI that announces it returns to this thread, so the CQ
 * tail moves while we spin. */
static bool uring_ready(struct blk_backend *b)
{
	struct uring_engine *u = b->eng_priv;

	return io_uring_cq_ready(&u->ring) > 0;
}

/* IORING_CQ_EVENTFD_DISABLED in the CQ ring's flags (Linux 5.8). */
static void uring_quiet(struct blk_backend *b, bool quiet)
{
	struct uring_engine *u = b->eng_priv;

	io_uring_cq_eventfd_toggle(&u->ring, !quiet);
}

const struct blk_engine_ops blk_uring_engine = {
	.name = "uring",
	.init = uring_init,
	.fini = uring_fini,
	.submit = uring_submit,
	.kick = uring_kick,
	.reap = uring_reap,
	.ready = uring_ready,
	.quiet = uring_quiet,
};

/* Block backend internals shared by block.c and the two engines.
 *
 * A request is a small state machine (block.c): blk_io_start() prepares its
 * first system call in io->step, an engine executes the step, and
 * blk_io_step_done() either prepares the next one (the rest of a short
 * transfer, the next discard range, zeros written by hand) or finishes the
 * request. Engines only execute steps and hand finished requests to
 * blk_io_complete().
 */
#ifndef CVISOR_BACKENDS_BLOCK_PRIV_H
#define CVISOR_BACKENDS_BLOCK_PRIV_H

#include <pthread.h>

#include "backends/block.h"

struct blk_engine_ops {
	const char *name;
	/* Set up; store the completion eventfd in b->efd. 0 or -errno. */
	int (*init)(struct blk_backend *b, unsigned nr_queues);
	void (*fini)(struct blk_backend *b);
	/* Queue io->step. 0 or -errno (nothing queued). */
	int (*submit)(struct blk_backend *b, struct blk_io *io);
	void (*kick)(struct blk_backend *b);
	/* Complete whatever has finished; never blocks. */
	void (*reap)(struct blk_backend *b);
	/* Something finished and waits for reap: a look at memory, no
	 * system call (polling spins on it). */
	bool (*ready)(struct blk_backend *b);
	/* Optional: completions stop (quiet) or go back to signalling the
	 * completion eventfd. A flag in shared memory, no system call. */
	void (*quiet)(struct blk_backend *b, bool quiet);
};

struct blk_backend {
	int fd;
	int efd;                      /* engine's completion eventfd */
	struct blk_info info;
	char *path;
	struct event_loop *loop;
	const struct blk_engine_ops *eng;
	void *eng_priv;
	void *zeros;                  /* ZERO_CHUNK bytes of zeros */
	bool no_zero_range;           /* fallocate cannot zero: write zeros */
	unsigned inflight;            /* atomic */
	uint64_t bounce_bytes;        /* atomic: O_DIRECT bounce memory held */
	void (*batch_fn)(void *opaque);
	void *batch_opaque;
	/* Flushes run one at a time (see blk_flush_gate): the kernel
	 * reports a writeback error to one fdatasync of a file description
	 * only, so two in flight could both succeed-or-fail at random. */
	pthread_mutex_t flush_lock;
	bool flush_busy;              /* a FLUSH step is with the engine */
	struct blk_io *flush_head, *flush_tail;   /* FLUSHes waiting */
	/* A flush failed: data the guest wrote before may be lost and no
	 * later fdatasync would say so, so every later flush fails too. */
	bool flush_failed;
};

#define BLK_ZERO_CHUNK (1u << 20)
/* O_DIRECT bounce buffers a backend may hold at once: the guest picks its
 * buffers' alignment, so without a cap it could make us allocate 64 MiB
 * per request in flight. Over the cap a misaligned request fails. */
#define BLK_BOUNCE_LIMIT (64ull << 20)

extern const struct blk_engine_ops blk_sync_engine, blk_uring_engine;

/* The state machine. */
int blk_io_start(struct blk_backend *b, struct blk_io *io);
/* res: the step's result (bytes or -errno). true: io->step holds the
 * next step to run; false: io->result is final. */
bool blk_io_step_done(struct blk_backend *b, struct blk_io *io, int64_t res);
/* Run one step with a blocking system call. */
int64_t blk_step_exec(struct blk_backend *b, const struct blk_step *s);
/* Call done() and account for it. */
void blk_io_complete(struct blk_backend *b, struct blk_io *io);
/* Release a request's bounce buffer, if any, and its share of the cap. */
void blk_bounce_free(struct blk_backend *b, struct blk_io *io);
void blk_batch_end(struct blk_backend *b);
/* Submission of a FLUSH: true if it may go to the engine now, false if
 * it was queued behind the FLUSH in flight. */
bool blk_flush_gate(struct blk_backend *b, struct blk_io *io);
/* The FLUSH in flight ended (or was refused): hand the next waiting one
 * to the engine. may_complete: the caller may have done() called (not
 * from inside blk_backend_submit). */
void blk_flush_next(struct blk_backend *b, bool may_complete);

#endif

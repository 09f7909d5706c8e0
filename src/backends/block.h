/* Block backend: a disk image file or a host block device behind a
 * virtio-blk (or any other disk) device.
 *
 * Requests are asynchronous. The device fills a struct blk_io, submits it,
 * and gets io->done(io) later, with io->result set, on the event loop
 * thread (or on the thread that calls blk_backend_drain()). Two engines do
 * the I/O:
 *  - "uring": io_uring (liburing); completions are reaped from the ring's
 *    eventfd on the event loop;
 *  - "sync": preadv2/pwritev2/fdatasync/fallocate on a small worker pool,
 *    completions handed back through an eventfd.
 * The default is uring when the kernel lets us set up a ring, else sync;
 * CVISOR_BLOCK_ENGINE=sync|uring forces one.
 */
#ifndef CVISOR_BACKENDS_BLOCK_H
#define CVISOR_BACKENDS_BLOCK_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

struct event_loop;
struct blk_backend;

enum blk_op {
	BLK_OP_READ,
	BLK_OP_WRITE,
	BLK_OP_FLUSH,         /* fdatasync */
	BLK_OP_DISCARD,       /* punch holes; a no-op where unsupported */
	BLK_OP_WRITE_ZEROES,  /* zero ranges; falls back to writing zeros */
};

/* io->flags */
/* Requests a device may have in flight per queue it opened the backend
 * with (virtio-blk's queue size); engines size their rings for it. */
#define BLK_MAX_INFLIGHT_PER_QUEUE 256

#define BLK_IO_FUA	(1u << 0)  /* write: durable before completion */
#define BLK_IO_UNMAP	(1u << 1)  /* write zeroes: may deallocate */

/* A byte range of a discard or write-zeroes request. */
struct blk_range {
	uint64_t offset, len;
};

/* One system call's worth of a request (backend private). */
enum blk_step_kind { BLK_STEP_READ, BLK_STEP_WRITE, BLK_STEP_FSYNC,
		     BLK_STEP_FALLOC };

struct blk_step {
	enum blk_step_kind kind;
	uint64_t off, len;            /* falloc: range */
	int mode;                     /* falloc mode */
	int rw_flags;                 /* RWF_DSYNC for FUA writes */
	struct iovec *iov;
	unsigned iovcnt;
};

struct blk_io {
	/* Filled by the caller. */
	enum blk_op op;
	unsigned flags;
	uint64_t offset;              /* read/write: byte offset */
	struct iovec *iov;            /* read/write: the backend may */
	unsigned iovcnt;              /* advance these in place */
	const struct blk_range *ranges; /* discard/write zeroes */
	unsigned nr_ranges;
	void (*done)(struct blk_io *io);
	void *opaque;

	/* Set before done(): bytes transferred (read/write) or 0, or -errno. */
	int64_t result;

	/* Backend private. */
	struct blk_step step;         /* the system call to do next */
	uint64_t total, pos;          /* bytes asked / done so far */
	struct iovec *cur_iov;        /* rw: what is left to transfer */
	unsigned cur_cnt;
	unsigned range;               /* discard/zeroes: current range */
	bool zero_write;              /* zeroes: writing zeros by hand */
	void *bounce;                 /* O_DIRECT bounce buffer */
	struct iovec bounce_iov;      /* the bounce buffer, or a zero chunk */
	struct blk_io *next;          /* engine queues */
};

struct blk_info {
	uint64_t size;                /* bytes, rounded down to 512 */
	uint32_t logical_block;       /* 512, or the device's with O_DIRECT */
	uint32_t physical_block;      /* for the topology hint */
	uint32_t discard_granularity; /* bytes (file system block) */
	bool read_only, direct, is_blockdev;
	dev_t dev;                    /* of the file, for a stable serial */
	ino_t ino;
	const char *engine;           /* "uring" or "sync" */
};

/* Open path. nr_queues sizes the engine (ring depth, worker count). The
 * loop receives completions; NULL only for tests that call
 * blk_backend_drain() themselves. NULL with errno set on failure; errors
 * opening the file itself are left to the caller to report (ENOTBLK: not
 * a regular file or block device), engine failures are logged. */
struct blk_backend *blk_backend_open(const char *path, bool read_only,
				     bool direct, unsigned nr_queues,
				     struct event_loop *loop);
/* The same on fd, already open on path as read_only and direct say (the
 * backend owns it from now on, also on failure): a disk kept open across
 * guest resets. */
struct blk_backend *blk_backend_open_fd(int fd, const char *path,
					bool read_only, bool direct,
					unsigned nr_queues,
					struct event_loop *loop);
/* A flush failed: every later flush fails (block_io.c). Carried over to
 * the backend of the VM a reset rebuilds. */
bool blk_backend_flush_failed(const struct blk_backend *b);
/* The image's fd (the backend's: dup it to keep it). */
int blk_backend_fd(const struct blk_backend *b);
void blk_backend_set_flush_failed(struct blk_backend *b);
/* Flushes nothing: call blk_backend_drain() first if I/O may be pending. */
void blk_backend_close(struct blk_backend *b);
const struct blk_info *blk_backend_info(const struct blk_backend *b);

/* Queue io. Requests may be batched until blk_backend_kick(); done() is
 * never called from inside submit. Returns 0, or -errno when the request
 * is malformed (then done() is not called). */
int blk_backend_submit(struct blk_backend *b, struct blk_io *io);
void blk_backend_kick(struct blk_backend *b);
/* Called after each batch of completions: lets a device publish many
 * used entries with one interrupt. Runs where done() runs. */
void blk_backend_set_batch_hook(struct blk_backend *b,
				void (*fn)(void *opaque), void *opaque);
/* Wait until every submitted request has completed and its done() has
 * returned. Any thread, including the event loop's. */
void blk_backend_drain(struct blk_backend *b);
/* Requests submitted and not yet completed. */
unsigned blk_backend_inflight(struct blk_backend *b);
/* Complete what has finished, if anything, without a system call when
 * nothing has (for a device that polls instead of waiting for the
 * completion eventfd). true: some request completed. Where done() runs. */
bool blk_backend_poll(struct blk_backend *b);
/* For a device whose vCPU takes the completion of the request it is
 * about to issue (the LSI's register accesses): while quiet, completions
 * do not wake the event loop (the completion eventfd stays silent), so
 * a read the kernel did inline during the submission costs no wake-up
 * of another thread. Leaving quiet, the caller must poll once more: a
 * completion that came meanwhile signalled nothing. Engines without the
 * feature ignore it. Only while no other request of the backend is in
 * flight, since theirs go unsignalled too. */
void blk_backend_quiet(struct blk_backend *b, bool quiet);

#endif

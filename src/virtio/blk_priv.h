/* virtio-blk internals: blk.c (device, config, vdev type) and blk_req.c
 * (request parsing and completion). */
#ifndef CVISOR_VIRTIO_BLK_PRIV_H
#define CVISOR_VIRTIO_BLK_PRIV_H

#include "backends/block.h"
#include "core/log.h"
#include "virtio/blk.h"

/* A request's buffers: seg_max data segments, header, status, and slack
 * for buffers split where two guest RAM regions meet. */
#define BLK_REQ_IOV	(VIRTIO_BLK_SEG_MAX + 2 + 16)

struct virtio_blk_outhdr {
	uint32_t type;
	uint32_t ioprio;
	uint64_t sector;
} __attribute__((packed));

struct virtio_blk_dwz_seg {
	uint64_t sector;
	uint32_t num_sectors;
	uint32_t flags;
} __attribute__((packed));

struct blk_queue;

struct blk_req {
	struct blk_queue *bq;
	struct virtq_req vreq;
	uint8_t *status;              /* last writable byte, in guest RAM */
	struct blk_io io;
	struct blk_range ranges[VIRTIO_BLK_MAX_DWZ_SEG];
	struct blk_req *next_free;
	struct iovec iov[BLK_REQ_IOV];
};

/* Chains a kick handles before the loop serves others: a guest that
 * keeps its queue full must not keep the other devices waiting. The
 * handler comes back on the next round (virtio_queue_requeue). */
#define BLK_NOTIFY_BUDGET	32

/* Under the queue lock. A request slot is free or held by the backend;
 * stale requests (their queue was disabled or the device reset since)
 * come back as well and only free their slot. */
struct blk_queue {
	struct virtio_blk *blk;
	unsigned index;
	struct blk_req *reqs;         /* VIRTIO_BLK_QUEUE_SIZE of them */
	struct blk_req *free;
	bool dirty;                   /* used entries filled, not flushed */
	bool starved;                 /* chains wait for a free slot */
};

struct virtio_blk {
	struct virtio_dev vdev;
	struct virtio_blk_config cfg;
	struct blk_backend *be;
	uint64_t capacity;            /* sectors */
	bool read_only;
	char serial[VIRTIO_BLK_ID_BYTES];
	unsigned nr_queues;
	struct blk_queue queues[VIRTIO_BLK_MAX_QUEUES];
	struct ratelimit rl;          /* guest-triggered messages */
	struct blk_kept *kept;        /* see struct blk_kept; may be NULL */
	/* Polling (blk_poll.c): the budget (0: off), the current window,
	 * the loop it runs on, a poll scheduled, a poll running. */
	uint64_t poll_ns;
	uint64_t poll_window_ns, poll_end_ns;   /* atomic (relaxed) */
	struct event_loop *loop;
	bool poll_pending;            /* atomic */
	int in_poll;                  /* atomic: BLK_POLL_* */
	uint64_t popped;              /* atomic: chains taken, ever */
};

enum { BLK_POLL_OFF, BLK_POLL_ON, BLK_POLL_LAST };

/* What a guest reset keeps of a disk (blk.c): the open image, so that the
 * VM a reset rebuilds (perhaps in a chroot, without privileges) has it
 * without reopening it; and a failed flush, which Linux reports once per
 * open file: forgetting it would let a later flush succeed over lost
 * data. */
struct blk_kept {
	int fd;                       /* -1 until the first VM opened it */
	bool flush_failed;
};

/* blk_req.c */
void blk_queue_notify(struct virtio_dev *d, unsigned q);
void blk_batch_done(void *opaque);
void blk_queue_init_slots(struct blk_queue *bq);
void blk_queue_stop(struct blk_queue *bq);

/* blk_poll.c: have the loop poll the disk soon. true: a poll is
 * running or will run, which turns the rings' notifications back on
 * when it ends, so the caller may leave them off; false: polling is off
 * (or in its last round, or could not be scheduled). */
bool blk_poll_schedule(struct virtio_blk *blk);

#endif

/* Split virtqueues (virtio 1.2 section 2.7), device side.
 *
 * This file knows guest memory and the ring layout, nothing else: no
 * transport, no interrupt, no lock. The device model (virtio.h) owns the
 * locking; see docs/virtio.md.
 *
 * The guest is hostile. Every index, address, length and flag read from
 * the rings is checked before use; a queue whose driver broke the rules is
 * marked broken (q->err says why) and never touched again until it is
 * reset. No function here reads or writes outside guest RAM.
 */
#ifndef CVISOR_VIRTIO_QUEUE_H
#define CVISOR_VIRTIO_QUEUE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

struct guest_mem;

#define VIRTQ_MAX_SIZE		32768	/* split ring limit (spec 2.7) */
/* An indirect table holds at most this many descriptors. The spec bounds
 * a chain by the queue size, but Linux sizes indirect tables by its sg
 * count, which may exceed small queues; QEMU caps both at 1024. */
#define VIRTQ_MAX_INDIRECT	1024
/* Default iovec capacity for a request (devices may pass less or more). */
#define VIRTQ_MAX_IOV		1024
/* used.len is 32 bits: a chain carries at most this many bytes each way. */
#define VIRTQ_MAX_CHAIN_BYTES	UINT32_MAX

/* Descriptor flags */
#define VIRTQ_DESC_F_NEXT	1
#define VIRTQ_DESC_F_WRITE	2
#define VIRTQ_DESC_F_INDIRECT	4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY	1

/* Ring layout, little-endian in guest memory. */
struct virtq_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};

struct virtq_used_elem {
	uint32_t id;
	uint32_t len;
};

/* Negotiated ring features that change how the queue behaves. */
#define VIRTQ_FEAT_INDIRECT	(1u << 0)
#define VIRTQ_FEAT_EVENT_IDX	(1u << 1)

/* Why a queue broke (q->err). */
enum virtq_err {
	VIRTQ_OK = 0,
	VIRTQ_ERR_SIZE,           /* size 0, not a power of 2, > max */
	VIRTQ_ERR_ALIGN,          /* ring address misaligned */
	VIRTQ_ERR_RING_ADDR,      /* ring not inside guest memory */
	VIRTQ_ERR_AVAIL_IDX,      /* avail idx more than size ahead */
	VIRTQ_ERR_HEAD,           /* head index >= size */
	VIRTQ_ERR_NEXT,           /* next index >= table size */
	VIRTQ_ERR_LOOP,           /* chain longer than its table */
	VIRTQ_ERR_DESC_ADDR,      /* buffer not inside guest memory */
	VIRTQ_ERR_DESC_ROM,       /* device-writable buffer not in RAM */
	VIRTQ_ERR_ORDER,          /* readable after writable */
	VIRTQ_ERR_INDIRECT,       /* indirect not negotiated / with NEXT */
	VIRTQ_ERR_NESTED,         /* INDIRECT inside an indirect table */
	VIRTQ_ERR_INDIRECT_LEN,   /* 0, not a multiple of 16, too long */
	VIRTQ_ERR_INDIRECT_ADDR,  /* indirect table not inside memory */
	VIRTQ_ERR_IOV,            /* more segments than the caller allows */
	VIRTQ_ERR_TOO_LONG,       /* more than 4 GiB one way */
	VIRTQ_ERR_PUSH,           /* device pushed more than it popped */
	VIRTQ_ERR__COUNT
};

struct virtq {
	/* Set up by the transport while the queue is not ready. */
	uint16_t max_size;        /* what the device offers */
	uint16_t size;            /* what the driver chose (reset: max) */
	uint64_t desc_gpa, avail_gpa, used_gpa;

	/* Valid while ready: host views of the rings, checked at enable. */
	bool ready;
	bool broken;
	enum virtq_err err;
	unsigned features;        /* VIRTQ_FEAT_* */
	const struct guest_mem *mem;
	struct virtq_desc *desc;
	uint16_t *avail;          /* flags, idx, ring[size], used_event */
	uint16_t *used;           /* flags, idx, then elems; avail_event */
	struct virtq_used_elem *used_ring;

	/* Device cursors. */
	uint16_t last_avail_idx;  /* next avail entry to pop */
	uint16_t shadow_avail;    /* last avail->idx read */
	uint16_t used_idx;        /* next used entry to fill */
	uint16_t used_pub;        /* used->idx as last published (flush) */
	uint16_t signalled_used;  /* used idx at the last interrupt */
	bool signalled_valid;
	bool notify_enabled;      /* device wants kicks (EVENT_IDX) */
	uint32_t inflight;        /* popped, not yet pushed */
	/* Bumped each time the queue is enabled, kept across resets: a
	 * chain popped in an earlier session (before the queue was disabled
	 * or the device reset) is stale and never reaches the rings. */
	uint32_t gen;
	/* Statistics: used entries filled and the bytes they claim written
	 * (the filling thread only, under the queue lock; read relaxed).
	 * Kept across resets, as the device's counters are. */
	uint64_t nr_used, used_bytes;
};

/* One request: a chain's buffers as host iovecs. iov[0..nr_read) are
 * device-readable, iov[nr_read..nr_read+nr_write) device-writable. The
 * caller owns iov and says how many entries it holds in max_iov. */
struct virtq_req {
	uint16_t head;
	unsigned nr_read, nr_write;
	uint64_t read_len, write_len;
	struct iovec *iov;
	unsigned max_iov;
	uint32_t gen;             /* the queue's gen when popped */
};

void virtq_init(struct virtq *q, const struct guest_mem *mem,
		uint16_t max_size);
/* Back to the transport's reset state: not ready, size = max, no rings. */
void virtq_reset(struct virtq *q);
/* Check size and ring addresses, map the rings and make the queue ready.
 * features are VIRTQ_FEAT_*. 0 or -EINVAL (q->err says why; the queue
 * stays not ready). */
int virtq_enable(struct virtq *q, unsigned features);
bool virtq_size_valid(uint32_t size, uint16_t max_size);

/* 1: *req holds the next chain. 0: nothing available (or not ready).
 * -EIO: the queue is (now) broken; see q->err. */
int virtq_pop(struct virtq *q, struct virtq_req *req);
/* Whether req was popped from the queue's current session: false once
 * the queue was disabled or reset after the pop (even if enabled again).
 * A device completing such a request must not touch its buffers' status
 * either: only give its own resources back. */
bool virtq_req_current(const struct virtq *q, const struct virtq_req *req);
/* Give a popped chain back; written = bytes the device wrote (clamped to
 * req->write_len). push = fill + flush; fill only stages the used entry
 * so that several completions can be published with one flush. A stale
 * request (virtq_req_current false) is dropped. */
void virtq_fill(struct virtq *q, const struct virtq_req *req,
		uint32_t written);
void virtq_flush(struct virtq *q);
void virtq_push(struct virtq *q, const struct virtq_req *req,
		uint32_t written);
/* Put a popped chain back on the avail ring (e.g. no room downstream). */
void virtq_unpop(struct virtq *q);

/* Whether the driver wants an interrupt for what was flushed since the
 * last time this returned true. */
bool virtq_needs_notify(struct virtq *q);
/* Device-side kick suppression. enable returns true when buffers arrived
 * meanwhile, so the caller must pop again rather than wait for a kick. */
void virtq_disable_notify(struct virtq *q);
bool virtq_enable_notify(struct virtq *q);
void virtq_set_avail_event(struct virtq *q, uint16_t idx);
/* Whether avail holds chains not popped yet. */
bool virtq_has_work(struct virtq *q);

/* Spec 2.7.10: should the other side be notified, given the event index
 * it published, the new index and the one at the previous notification? */
static inline bool vring_need_event(uint16_t event, uint16_t new_idx,
				    uint16_t old)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old);
}

const char *virtq_err_str(enum virtq_err e);

#endif

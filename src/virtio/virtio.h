/* Transport-independent virtio device model (virtio 1.2, modern only).
 *
 * A device type (blk, console, rng...) embeds a struct virtio_dev, fills
 * its ops and config buffer, and calls virtio_dev_init(). A transport
 * (virtio-mmio, virtio-pci) maps its registers onto the virtio_dev_* and
 * virtio_queue_* accessors below and supplies the interrupt callbacks.
 * Neither side knows the other.
 *
 * Locking (docs/virtio.md has the long version):
 *  - d->lock guards the control plane: status, features, config bytes,
 *    queue set-up. Every accessor below that a transport calls from a vCPU
 *    thread takes it; none may be called with it held.
 *  - each queue has its own lock for the data plane: the thread that pops
 *    and pushes (event loop or an I/O thread) holds it. ops->queue_notify
 *    is called with it held; completions from another thread take it with
 *    virtio_queue_lock().
 *  - order: d->lock before a queue lock. The data plane never takes
 *    d->lock with a queue lock held; it reports errors with
 *    virtio_dev_needs_reset(), which does not lock.
 *
 * Reset (docs/virtio.md): writing 0 to the status stops the data plane and
 * forgets the driver's set-up at once, without waiting for requests a
 * backend still holds (counted with virtio_dev_work_get/put). Until the
 * last of them completes the device status reads back what it was (never
 * 0), as the spec lets a device do; the driver polls it until 0. A driver
 * that does not poll and writes a non-zero status early waits in that
 * write (on its own vCPU, with d->lock dropped).
 */
#ifndef CVISOR_VIRTIO_VIRTIO_H
#define CVISOR_VIRTIO_VIRTIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/log.h"
#include "event/loop.h"
#include "virtio/queue.h"

struct event_loop;
struct guest_mem;

/* Device status bits (spec 2.1) */
#define VIRTIO_STATUS_ACKNOWLEDGE	0x01
#define VIRTIO_STATUS_DRIVER		0x02
#define VIRTIO_STATUS_DRIVER_OK		0x04
#define VIRTIO_STATUS_FEATURES_OK	0x08
#define VIRTIO_STATUS_NEEDS_RESET	0x40
#define VIRTIO_STATUS_FAILED		0x80

/* Reserved feature bits (spec 6) */
#define VIRTIO_F_RING_INDIRECT_DESC	28
#define VIRTIO_F_RING_EVENT_IDX		29
#define VIRTIO_F_VERSION_1		32
#define VIRTIO_F_ACCESS_PLATFORM	33
#define VIRTIO_BIT(b)			(1ULL << (b))

/* Interrupt status bits (ISR / InterruptStatus) */
#define VIRTIO_ISR_QUEUE		0x1
#define VIRTIO_ISR_CONFIG		0x2

/* Device IDs (spec 5) */
#define VIRTIO_ID_NET			1
#define VIRTIO_ID_BLOCK			2
#define VIRTIO_ID_CONSOLE		3
#define VIRTIO_ID_RNG			4

#define VIRTIO_MAX_QUEUES		64

struct virtio_dev;

/* What a device type implements. All optional except queue_notify. */
struct virtio_dev_ops {
	/* Veto a feature set the driver accepted (already known to be a
	 * subset of the offer, with VERSION_1). 0 accepts. d->lock held. */
	int (*validate_features)(struct virtio_dev *d, uint64_t features);
	/* DRIVER_OK was written; queues are set up. Nonzero sets
	 * NEEDS_RESET. d->lock held. */
	int (*activate)(struct virtio_dev *d);
	/* Stop all work and forget driver state, without waiting: after it
	 * returns nothing may pop or push any queue. Requests still held by
	 * a backend complete later; their completion must touch neither the
	 * rings nor the guest's buffers (virtq_req_current() is false for
	 * them by then), only give resources back and virtio_dev_work_put().
	 * d->lock held, queue locks not held. */
	void (*reset)(struct virtio_dev *d);
	/* Complete every counted request on the calling thread, which may be
	 * the only one left (VM teardown: the event loop has stopped).
	 * Required of a device that counts work. No lock held. */
	void (*drain)(struct virtio_dev *d);
	/* The driver kicked queue q. Runs on the event loop thread (from
	 * ioeventfd) with the queue lock held, only while DRIVER_OK. A
	 * handler that could run for long (the guest keeps refilling the
	 * queue) stops after a budget and calls virtio_queue_requeue(). */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* The driver wrote config bytes [off, off+len) (already stored in
	 * d->config). Without it, config space is read-only. d->lock held. */
	void (*config_write)(struct virtio_dev *d, uint32_t off, uint32_t len);
	/* Optional: the event loop that serves queue q's kicks (a device
	 * with a thread per group of queues: virtio-net multiqueue); NULL:
	 * the transport's. Fixed for the device's life. */
	struct event_loop *(*queue_loop)(struct virtio_dev *d, unsigned q);
};

/* What a transport provides: raising interrupts. Called from any thread,
 * possibly with d->lock or a queue lock held: must not block and must not
 * call back into virtio_dev_* / virtio_queue_* (an irqfd write, an MSI-X
 * table lookup under the transport's own lock, a level change). */
struct virtio_transport {
	void (*notify_used)(struct virtio_dev *d, unsigned q);
	void (*notify_config)(struct virtio_dev *d);
	/* Optional: have queue_notify(q) run again on a later round of the
	 * event loop, after the other ready handlers (the queue's kick
	 * eventfd is signalled). false when it cannot (no event loop). */
	bool (*requeue)(struct virtio_dev *d, unsigned q);
	void *ctx;
};

struct virtio_queue {
	pthread_mutex_t lock;     /* data plane */
	struct virtq vq;
	struct virtio_dev *dev;   /* for a kick handed to a loop */
	unsigned index;
	struct loop_work kick;    /* virtio_queue_call's */
};

struct virtio_dev {
	const char *name;
	uint32_t device_id;
	const struct virtio_dev_ops *ops;
	struct virtio_transport transport;
	struct guest_mem *mem;

	pthread_mutex_t lock;     /* control plane */
	uint64_t device_features; /* offered; VERSION_1 always in */
	uint64_t driver_features; /* accepted by the driver */
	uint8_t status;           /* read with __atomic: set from data plane */
	uint32_t isr;             /* VIRTIO_ISR_*, atomic */
	uint32_t config_generation;
	uint8_t *config;          /* device config space, little-endian */
	uint32_t config_len;

	unsigned nr_queues;
	struct virtio_queue *queues;
	struct ratelimit log_rl;

	/* Reset in progress (atomics, changed under d->lock). */
	bool reset_pending;       /* started, requests still out */
	uint8_t reset_status;     /* what the status reads meanwhile */
	unsigned work;            /* requests a backend holds */
	pthread_cond_t reset_done;   /* with d->lock: pending went false */

	/* Paused with the VM (quiesce.c; atomic): no buffer is taken from
	 * the guest, so no new request starts and no input is delivered;
	 * requests already out complete. */
	bool quiesced;

	/* Statistics (relaxed atomics; virtio_dev_get_counters). */
	uint64_t nr_notifies, nr_interrupts, nr_config_interrupts;
	struct virtio_dev *next_dev;  /* every live device (virtio.c) */
};

struct virtio_dev_counters {
	uint64_t notifies;            /* driver notifications handled */
	uint64_t requests;            /* used entries (chains completed) */
	uint64_t bytes_to_guest;      /* what the used entries claim written */
	uint64_t interrupts;          /* queue interrupts sent */
	uint64_t config_interrupts;
};

void virtio_dev_get_counters(struct virtio_dev *d,
			     struct virtio_dev_counters *c);
/* fn for every device of the process (one VM), under a lock that device
 * creation and removal take: fn must not create or free one. */
void virtio_for_each_dev(void (*fn)(struct virtio_dev *d, void *opaque),
			 void *opaque);

/* --- device side --- */

/* features: the device's own bits; VERSION_1 is added, ACCESS_PLATFORM
 * removed. config: the device's config buffer (may be NULL/0). */
int virtio_dev_init(struct virtio_dev *d, const char *name,
		    uint32_t device_id, const struct virtio_dev_ops *ops,
		    struct guest_mem *mem, uint64_t features,
		    void *config, uint32_t config_len,
		    unsigned nr_queues, uint16_t queue_max);
void virtio_dev_uninit(struct virtio_dev *d);
/* Before the transport is attached: per-queue maximum size. */
void virtio_dev_set_queue_max(struct virtio_dev *d, unsigned q,
			      uint16_t max);
/* The device changed config bytes: copy them in, bump the generation,
 * raise a config interrupt once the driver is running. */
void virtio_dev_config_update(struct virtio_dev *d, uint32_t off,
			      const void *buf, uint32_t len);
/* Something broke that only a reset fixes (e.g. virtq_pop < 0): set
 * NEEDS_RESET and raise a config interrupt. Safe from the data plane. */
void virtio_dev_needs_reset(struct virtio_dev *d, unsigned q);
bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit);
bool virtio_dev_running(const struct virtio_dev *d); /* DRIVER_OK, no reset */
static inline bool virtio_dev_quiesced(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->quiesced, __ATOMIC_ACQUIRE);
}
/* The VM's pause (vm/lifecycle.c), for every device of the process: on,
 * each stops taking buffers from its queues (kicks are left for later,
 * backend input waits in the backend or the device's bounded backlog)
 * and the requests a backend holds complete; returns how many are still
 * out (0: every device is quiet). Off, each takes up its queues again,
 * as if kicked. Event loop thread. */
unsigned virtio_quiesce_all(bool on);

/* A request handed to a backend holds guest buffers until it completes:
 * get when handing it over (queue lock held), put once its completion has
 * been handled (no lock held; may finish a pending reset). */
void virtio_dev_work_get(struct virtio_dev *d);
void virtio_dev_work_put(struct virtio_dev *d);
/* A get whose request the backend refused, undone under the queue lock
 * it was taken with. Takes no lock: a reset may hold the device's lock
 * while it waits for this queue's (work_put would deadlock with it), and
 * it checks the count itself once it has passed this queue. */
void virtio_dev_work_cancel(struct virtio_dev *d);

/* Data plane helpers; the caller holds the queue lock. */
struct virtq *virtio_dev_vq(struct virtio_dev *d, unsigned q);
void virtio_queue_lock(struct virtio_dev *d, unsigned q);
void virtio_queue_unlock(struct virtio_dev *d, unsigned q);
/* virtq_pop that turns a broken queue into NEEDS_RESET. */
int virtio_queue_pop(struct virtio_dev *d, unsigned q, struct virtq_req *r);
/* Raise the used-buffer interrupt if the driver wants one. */
void virtio_queue_interrupt(struct virtio_dev *d, unsigned q);
/* A handler that spent its budget: true when queue_notify(q) will run
 * again on a later loop round (the handler stops now), false when the
 * transport cannot arrange it (the handler carries on). */
bool virtio_queue_requeue(struct virtio_dev *d, unsigned q);

/* --- transport side --- */

/* Where queue q's kick eventfd is watched: ops->queue_loop's, or dflt. */
static inline struct event_loop *virtio_dev_queue_loop(struct virtio_dev *d,
							unsigned q,
							struct event_loop *dflt)
{
	struct event_loop *l = d->ops->queue_loop ? d->ops->queue_loop(d, q)
						  : NULL;

	return l ? l : dflt;
}

void virtio_dev_attach(struct virtio_dev *d,
		       const struct virtio_transport *t);
uint32_t virtio_dev_device_features(struct virtio_dev *d, uint32_t page);
uint32_t virtio_dev_driver_features(struct virtio_dev *d, uint32_t page);
/* Ignored once FEATURES_OK is set, and for pages other than 0 and 1. */
void virtio_dev_set_driver_features(struct virtio_dev *d, uint32_t page,
				    uint32_t val);
/* While a reset is pending: the status from before it (non-zero). */
uint8_t virtio_dev_status(struct virtio_dev *d);
/* 0 resets the device (virtio_dev_reset); otherwise the spec's rules
 * decide what sticks, once a pending reset has completed. */
void virtio_dev_set_status(struct virtio_dev *d, uint8_t val);
/* Start a reset: returns at once; the status reads 0 when it is done. */
void virtio_dev_reset(struct virtio_dev *d);
/* Reset and wait until it is done, completing outstanding requests on
 * this thread (ops->drain): for device teardown and VM reset. */
void virtio_dev_reset_sync(struct virtio_dev *d);
bool virtio_dev_reset_pending(struct virtio_dev *d);
/* Until no reset is pending (no lock held): a transport calls it before
 * taking its own lock for a non-zero status write. */
void virtio_dev_reset_wait(struct virtio_dev *d);
uint32_t virtio_dev_config_generation(struct virtio_dev *d);
/* size 1, 2, 4 or 8; out of range reads 0 and writes are dropped. */
uint64_t virtio_dev_config_read(struct virtio_dev *d, uint64_t off,
				unsigned size);
void virtio_dev_config_write(struct virtio_dev *d, uint64_t off,
			     unsigned size, uint64_t val);
/* ISR: read (MMIO InterruptStatus), read-and-clear (PCI ISR), ack. */
uint32_t virtio_dev_isr(struct virtio_dev *d);
uint32_t virtio_dev_isr_take(struct virtio_dev *d);
void virtio_dev_isr_ack(struct virtio_dev *d, uint32_t bits);

/* Queue registers. Writes to SIZE and the addresses are ignored while the
 * queue is ready (and for q >= nr_queues); READY 1 validates and maps the
 * rings, and on a bad set-up leaves the queue not ready and sets
 * NEEDS_RESET. */
enum virtio_queue_field {
	VIRTIO_QUEUE_MAX_SIZE,    /* read-only */
	VIRTIO_QUEUE_SIZE,
	VIRTIO_QUEUE_DESC,
	VIRTIO_QUEUE_AVAIL,
	VIRTIO_QUEUE_USED,
	VIRTIO_QUEUE_READY,
};
uint64_t virtio_queue_read(struct virtio_dev *d, unsigned q,
			   enum virtio_queue_field f);
void virtio_queue_write(struct virtio_dev *d, unsigned q,
			enum virtio_queue_field f, uint64_t val);
/* The driver kicked queue q (ioeventfd handler, event-loop thread). */
void virtio_queue_notify(struct virtio_dev *d, unsigned q);
/* Run queue q's handler on its loop (vm_loop or its own, see
 * virtio_dev_queue_loop) soon, coalesced with a run already pending, for
 * a queue that has no kick eventfd (none could be made). Cannot fail
 * (event_loop_post) but with -ENOENT: no loop, or no such queue. */
int virtio_queue_call(struct virtio_dev *d, unsigned q,
		      struct event_loop *vm_loop);
/* A kick that exited where the queue has no eventfd: virtio_queue_call;
 * with no loop at all (unit tests), run on the caller's thread. A device
 * whose queue has a loop of its own (net pairs) gets it there even when
 * the transport has none. */
void virtio_queue_kick_slow(struct virtio_dev *d, unsigned q,
			    struct event_loop *vm_loop);
/* The kick node's function (struct virtio_queue's kick): opaque is the
 * queue. */
void virtio_queue_kicked(void *opaque);

#endif

/* Driving a virtio device type through the core API, as a driver would:
 * negotiate, set up queues on the fake guest memory of
 * test_virtq_helpers.h, build chains, kick, and wait (bounded) for the
 * used ring while running the event loop. */
#ifndef CVISOR_TESTS_VDEV_HELPERS_H
#define CVISOR_TESTS_VDEV_HELPERS_H

#include "event/loop.h"
#include "test_virtq_helpers.h"
#include "virtio/virtio.h"

/* Queue q's rings live at RING_* + q * QUEUE_STRIDE. */
#define QUEUE_STRIDE	0x4000ULL
#define TEST_QSIZE	64

struct seg {
	uint64_t gpa;
	uint32_t len;
	bool write;
};

struct irq_count {
	unsigned used, config;
	unsigned requeues;      /* handlers that asked to run again */
};

static inline void tv_used(struct virtio_dev *d, unsigned q)
{
	((struct irq_count *)d->transport.ctx)->used++;
}

static inline void tv_config(struct virtio_dev *d)
{
	((struct irq_count *)d->transport.ctx)->config++;
}

static inline void tv_attach(struct virtio_dev *d, struct irq_count *c)
{
	struct virtio_transport t = { .notify_used = tv_used,
				      .notify_config = tv_config, .ctx = c };

	virtio_dev_attach(d, &t);
}

/* A transport that says yes to a requeue and counts it (c->requeues);
 * the test plays the event loop by kicking again. */
static inline bool tv_requeue(struct virtio_dev *d, unsigned q)
{
	((struct irq_count *)d->transport.ctx)->requeues++;
	return true;
}

static inline void tv_attach_requeue(struct virtio_dev *d,
				     struct irq_count *c)
{
	struct virtio_transport t = { .notify_used = tv_used,
				      .notify_config = tv_config,
				      .requeue = tv_requeue, .ctx = c };

	c->requeues = 0;
	virtio_dev_attach(d, &t);
}

/* Accept every offered feature but those in `without`. */
static inline void tv_bring_up(struct virtio_dev *d, unsigned nr_queues,
			       uint64_t without)
{
	uint64_t f = ((uint64_t)virtio_dev_device_features(d, 1) << 32 |
		      virtio_dev_device_features(d, 0)) & ~without;
	uint8_t s = VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER;

	virtio_dev_set_status(d, s);
	virtio_dev_set_driver_features(d, 0, (uint32_t)f);
	virtio_dev_set_driver_features(d, 1, (uint32_t)(f >> 32));
	virtio_dev_set_status(d, s | VIRTIO_STATUS_FEATURES_OK);
	for (unsigned q = 0; q < nr_queues; q++) {
		uint64_t o = q * QUEUE_STRIDE;

		virtio_queue_write(d, q, VIRTIO_QUEUE_SIZE, TEST_QSIZE);
		virtio_queue_write(d, q, VIRTIO_QUEUE_DESC, RING_DESC + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_AVAIL, RING_AVAIL + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_USED, RING_USED + o);
		virtio_queue_write(d, q, VIRTIO_QUEUE_READY, 1);
	}
	virtio_dev_set_status(d, s | VIRTIO_STATUS_FEATURES_OK |
			      VIRTIO_STATUS_DRIVER_OK);
}

/* Forget every ring (after a device reset or a new device). */
static inline void tv_clear_rings(struct fake_vm *vm)
{
	memset(gpa_host(vm, RING_DESC), 0, 3 * 0x10000);
}

/* Per-queue driver state on top of fake_vm (which knows one queue). */
struct tv_queue {
	unsigned q;
	uint16_t avail_idx, next_desc;
};

static inline void tv_desc(struct fake_vm *vm, struct tv_queue *tq,
			   unsigned i, uint64_t addr, uint32_t len,
			   uint16_t flags, uint16_t next)
{
	put_desc(vm, RING_DESC + tq->q * QUEUE_STRIDE, i, addr, len, flags,
		 next);
}

/* Make segs[0..n) one chain and publish it; returns its head. */
static inline uint16_t tv_chain(struct fake_vm *vm, struct tv_queue *tq,
				const struct seg *segs, unsigned n)
{
	uint16_t head = tq->next_desc;
	uint16_t *avail = gpa_host(vm, RING_AVAIL + tq->q * QUEUE_STRIDE);

	for (unsigned i = 0; i < n; i++) {
		uint16_t idx = (uint16_t)((head + i) % TEST_QSIZE);
		uint16_t flags = (segs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0);

		tv_desc(vm, tq, idx, segs[i].gpa, segs[i].len, flags,
			(uint16_t)((idx + 1) % TEST_QSIZE));
	}
	tq->next_desc = (uint16_t)((head + n) % TEST_QSIZE);
	avail[2 + (tq->avail_idx % TEST_QSIZE)] = htole16(head);
	tq->avail_idx++;
	__atomic_store_n(&avail[1], htole16(tq->avail_idx), __ATOMIC_RELEASE);
	return head;
}

static inline uint16_t tv_used_idx(struct fake_vm *vm, struct tv_queue *tq)
{
	uint16_t *used = gpa_host(vm, RING_USED + tq->q * QUEUE_STRIDE);

	return le16toh(__atomic_load_n(&used[1], __ATOMIC_ACQUIRE));
}

static inline struct virtq_used_elem tv_used_elem(struct fake_vm *vm,
						  struct tv_queue *tq,
						  unsigned i)
{
	struct virtq_used_elem e;

	memcpy(&e, gpa_host(vm, RING_USED + tq->q * QUEUE_STRIDE + 4 +
			    8 * (uint64_t)(i % TEST_QSIZE)), sizeof(e));
	e.id = le32toh(e.id);
	e.len = le32toh(e.len);
	return e;
}

/* Run the loop until queue tq has `want` used entries; at most ~5 s. */
static inline bool tv_wait_used(struct event_loop *l, struct fake_vm *vm,
				struct tv_queue *tq, uint16_t want)
{
	for (int i = 0; i < 500; i++) {
		if ((uint16_t)(tv_used_idx(vm, tq) - want) < 0x8000)
			return true;
		event_loop_poll(l, 10);
	}
	return (uint16_t)(tv_used_idx(vm, tq) - want) < 0x8000;
}

#endif

/* A toy virtio device for the transport tests (mmio and pci): it echoes,
 * completing each chain with its writable length, and counts kicks, resets
 * and releases so a test can check what the transport did with it. */
#ifndef CVISOR_TESTS_VIRTIO_TOY_H
#define CVISOR_TESTS_VIRTIO_TOY_H

#include <pthread.h>
#include <stdlib.h>

#include "core/util.h"
#include "virtio/virtio.h"

#define TOY_CFG_LEN	12

struct toy {
	struct virtio_dev vdev;
	uint8_t config[TOY_CFG_LEN];
	unsigned _Atomic kicks;
	unsigned resets;
	pthread_t notify_thread;  /* where the last queue_notify ran */
	unsigned *released;       /* counter in the fixture */
	/* hold: a kick pops one chain and keeps it, as a device whose
	 * backend is slow (counted work); toy_complete() finishes it. */
	bool hold, holding;
	unsigned held_q;
	struct virtq_req held;
	struct iovec held_iov[8];
};

static inline struct toy *to_toy(struct virtio_dev *d)
{
	return container_of(d, struct toy, vdev);
}

/* Echo device: completes each chain with its writable length. */
static inline void toy_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct iovec iov[8];
	struct virtq_req r = { .iov = iov, .max_iov = 8 };

	struct toy *t = to_toy(d);

	t->kicks++;
	t->notify_thread = pthread_self();
	if (t->hold) {
		t->held = (struct virtq_req){ .iov = t->held_iov,
					      .max_iov = 8 };
		if (!t->holding && virtio_queue_pop(d, q, &t->held) > 0) {
			t->holding = true;
			t->held_q = q;
			virtio_dev_work_get(d);
		}
		return;
	}
	while (virtio_queue_pop(d, q, &r) > 0)
		virtq_push(virtio_dev_vq(d, q), &r, (uint32_t)r.write_len);
	virtio_queue_interrupt(d, q);
}

static inline void toy_reset(struct virtio_dev *d)
{
	to_toy(d)->resets++;
}

static inline void toy_config_write(struct virtio_dev *d, uint32_t off,
				    uint32_t len)
{
}

/* The held chain's backend finished: complete it as a device must. */
static inline void toy_complete(struct toy *t)
{
	struct virtio_dev *d = &t->vdev;

	if (!t->holding)
		return;
	virtio_queue_lock(d, t->held_q);
	virtq_push(virtio_dev_vq(d, t->held_q), &t->held,
		   (uint32_t)t->held.write_len);
	virtio_queue_interrupt(d, t->held_q);
	virtio_queue_unlock(d, t->held_q);
	t->holding = false;
	virtio_dev_work_put(d);
}

static inline void toy_drain(struct virtio_dev *d)
{
	toy_complete(to_toy(d));
}

static const struct virtio_dev_ops toy_ops = {
	.reset = toy_reset,
	.drain = toy_drain,
	.queue_notify = toy_queue_notify,
	.config_write = toy_config_write,
};

static inline void toy_release(struct virtio_dev *d)
{
	struct toy *t = to_toy(d);

	(*t->released)++;
	virtio_dev_uninit(d);
	free(t);
}

#endif

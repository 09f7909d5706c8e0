/* Queue side of the virtio device model: the transport's queue registers
 * (control plane, under d->lock) and the notify/pop/interrupt path (data
 * plane, under the queue's own lock). See virtio.h for the rules.
 */
#include <errno.h>

#include "core/log.h"
#include "event/loop.h"
#include "virtio/virtio.h"

struct virtq *virtio_dev_vq(struct virtio_dev *d, unsigned q)
{
	return q < d->nr_queues ? &d->queues[q].vq : NULL;
}

void virtio_queue_lock(struct virtio_dev *d, unsigned q)
{
	if (q < d->nr_queues)
		pthread_mutex_lock(&d->queues[q].lock);
}

void virtio_queue_unlock(struct virtio_dev *d, unsigned q)
{
	if (q < d->nr_queues)
		pthread_mutex_unlock(&d->queues[q].lock);
}

/* Ring features the driver negotiated, in queue terms. */
static unsigned ring_features(const struct virtio_dev *d)
{
	unsigned f = 0;

	if (virtio_dev_has_feature(d, VIRTIO_F_RING_INDIRECT_DESC))
		f |= VIRTQ_FEAT_INDIRECT;
	if (virtio_dev_has_feature(d, VIRTIO_F_RING_EVENT_IDX))
		f |= VIRTQ_FEAT_EVENT_IDX;
	return f;
}

uint64_t virtio_queue_read(struct virtio_dev *d, unsigned q,
			   enum virtio_queue_field f)
{
	const struct virtq *vq;
	uint64_t v = 0;

	if (q >= d->nr_queues)
		return 0;         /* spec: a missing queue has max size 0 */
	vq = &d->queues[q].vq;
	pthread_mutex_lock(&d->lock);
	switch (f) {
	case VIRTIO_QUEUE_MAX_SIZE: v = vq->max_size; break;
	case VIRTIO_QUEUE_SIZE: v = vq->size; break;
	case VIRTIO_QUEUE_DESC: v = vq->desc_gpa; break;
	case VIRTIO_QUEUE_AVAIL: v = vq->avail_gpa; break;
	case VIRTIO_QUEUE_USED: v = vq->used_gpa; break;
	case VIRTIO_QUEUE_READY: v = vq->ready; break;
	}
	pthread_mutex_unlock(&d->lock);
	return v;
}

/* READY 1: validate and map the rings. A driver that sets up a bad ring
 * gets a queue that stays not ready and a device that needs a reset. */
static void queue_enable(struct virtio_dev *d, unsigned q)
{
	struct virtio_queue *vq = &d->queues[q];
	int rc;

	/* During a reset the status shown is the old one: not settled. */
	if (virtio_dev_reset_pending(d) ||
	    !(virtio_dev_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		/* Ring features are not settled before FEATURES_OK. */
		pr_warn_ratelimited(&d->log_rl,
				    "%s: queue %u enabled before FEATURES_OK",
				    d->name, q);
		return;
	}
	pthread_mutex_lock(&vq->lock);
	rc = vq->vq.ready ? 0 : virtq_enable(&vq->vq, ring_features(d));
	pthread_mutex_unlock(&vq->lock);
	if (rc)
		virtio_dev_needs_reset(d, q);
}

static void queue_disable(struct virtio_dev *d, unsigned q)
{
	struct virtio_queue *vq = &d->queues[q];

	/* Chains popped before are stale from now on, even once the queue
	 * is enabled again (its generation moves on): their completions
	 * never reach a ring (virtq_req_current). */
	pthread_mutex_lock(&vq->lock);
	vq->vq.ready = false;
	pthread_mutex_unlock(&vq->lock);
}

void virtio_queue_write(struct virtio_dev *d, unsigned q,
			enum virtio_queue_field f, uint64_t val)
{
	struct virtq *vq;

	if (q >= d->nr_queues)
		return;
	vq = &d->queues[q].vq;
	pthread_mutex_lock(&d->lock);
	if (f == VIRTIO_QUEUE_READY) {
		if (val)
			queue_enable(d, q);
		else
			queue_disable(d, q);
	} else if (!vq->ready) {
		/* Size is checked when the queue is enabled: the driver may
		 * write any value and read it back, as on real hardware. */
		switch (f) {
		case VIRTIO_QUEUE_SIZE: vq->size = (uint16_t)val; break;
		case VIRTIO_QUEUE_DESC: vq->desc_gpa = val; break;
		case VIRTIO_QUEUE_AVAIL: vq->avail_gpa = val; break;
		case VIRTIO_QUEUE_USED: vq->used_gpa = val; break;
		default: break;
		}
		/* A size of 65536 or more truncates: make it fail the check. */
		if (f == VIRTIO_QUEUE_SIZE && val > UINT16_MAX)
			vq->size = 0;
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_queue *vq;

	if (q >= d->nr_queues)
		return;
	vq = &d->queues[q];
	__atomic_fetch_add(&d->nr_notifies, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&vq->lock);
	/* Checked under the queue lock: reset and quiesce rely on it
	 * (virtio.c, quiesce.c). Spec 3.1.1: no buffers are used before
	 * DRIVER_OK. */
	if (virtio_dev_running(d) && !virtio_dev_quiesced(d) &&
	    vq->vq.ready && !vq->vq.broken)
		d->ops->queue_notify(d, q);
	if (vq->vq.broken)
		virtio_dev_needs_reset(d, q);
	pthread_mutex_unlock(&vq->lock);
}

/* A kick handed to the queue's loop (virtio_queue_call). */
void virtio_queue_kicked(void *opaque)
{
	struct virtio_queue *vq = opaque;

	virtio_queue_notify(vq->dev, vq->index);
}

int virtio_queue_call(struct virtio_dev *d, unsigned q,
		      struct event_loop *vm_loop)
{
	struct event_loop *l;

	if (q >= d->nr_queues)
		return -ENOENT;
	l = virtio_dev_queue_loop(d, q, vm_loop);
	if (!l)
		return -ENOENT;
	event_loop_post(l, &d->queues[q].kick);
	return 0;
}

/* Not on the vCPU thread that took the exit: a device's handlers run on
 * its queue's loop, and a backend is not safe to call from two threads
 * (a net backend's socket may be closed and reopened by its loop, and
 * the vCPU's seccomp filter refuses its calls). */
void virtio_queue_kick_slow(struct virtio_dev *d, unsigned q,
			    struct event_loop *vm_loop)
{
	if (virtio_queue_call(d, q, vm_loop))
		virtio_queue_notify(d, q);      /* (refuses a bad q too) */
}

int virtio_queue_pop(struct virtio_dev *d, unsigned q, struct virtq_req *r)
{
	int rc;

	if (q >= d->nr_queues || !virtio_dev_running(d) ||
	    virtio_dev_quiesced(d))
		return 0;
	rc = virtq_pop(&d->queues[q].vq, r);
	if (rc < 0)
		virtio_dev_needs_reset(d, q);
	return rc;
}

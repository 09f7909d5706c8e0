/* Pausing the virtio data plane with the VM (the control socket's pause),
 * as QEMU stops its devices with the VM: once every vCPU is parked, no
 * device takes another buffer from the guest, so no new request starts,
 * no frame or console input is delivered and guest memory stays as it
 * is once the requests a backend already holds have completed (the
 * caller waits for that, with a deadline: a completion must not be lost,
 * and a backend that never completes must not stall the pause forever).
 *
 * Everything that takes a buffer goes through virtio_queue_pop() or a
 * queue_notify handler, and both check the flag under the queue lock:
 * once each queue's lock has been taken and dropped after setting it,
 * nothing takes one. Input meanwhile waits where flow control already
 * keeps it when the guest posts no buffers (the chardev, the net
 * backend or the device's bounded backlog). Kicks meanwhile are not
 * lost: resuming runs every ready queue as if it had been kicked.
 */
#include "virtio/virtio.h"

static void quiesce_one(struct virtio_dev *d, void *opaque)
{
	unsigned *out = opaque;

	if (!__atomic_exchange_n(&d->quiesced, true, __ATOMIC_SEQ_CST))
		for (unsigned q = 0; q < d->nr_queues; q++) {
			pthread_mutex_lock(&d->queues[q].lock);
			pthread_mutex_unlock(&d->queues[q].lock);
		}
	*out += __atomic_load_n(&d->work, __ATOMIC_SEQ_CST);
}

static void resume_one(struct virtio_dev *d, void *opaque)
{
	(void)opaque;
	if (!__atomic_exchange_n(&d->quiesced, false, __ATOMIC_SEQ_CST))
		return;
	/* On each queue's own loop (net pairs have theirs): the handlers
	 * take what the guest queued and what input waited meanwhile. */
	for (unsigned q = 0; q < d->nr_queues; q++)
		if (!virtio_queue_requeue(d, q))
			virtio_queue_notify(d, q);   /* no eventfd: here */
}

unsigned virtio_quiesce_all(bool on)
{
	unsigned out = 0;

	virtio_for_each_dev(on ? quiesce_one : resume_one, &out);
	return out;
}

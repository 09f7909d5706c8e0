/* virtio-blk polling (`vdev virtio-blk poll-us N`), in the manner of
 * QEMU's poll-max-ns: after a kick or a completion the event loop thread
 * stays with the disk for up to N microseconds of idleness, looking at
 * the avail rings and the backend's completion queue instead of sleeping
 * in epoll. Two sleeps and wake-ups per request go away, and, since the
 * rings' notifications stay off while it looks (VIRTQ_USED_F_NO_NOTIFY
 * or a stale avail_event), so does the guest's kick and its VM exit.
 *
 * Adaptive, as QEMU's: the window is the idle time allowed since the
 * last progress, so a busy disk keeps it open. When the next event (a
 * kick, a completion through the eventfd) comes after the window closed
 * but within the budget, the window was too short: it doubles; when it
 * comes later than the budget, polling could not have caught it: the
 * window halves (down to BLK_POLL_MIN_NS), so an idle or slow disk costs
 * little CPU.
 * Every poll runs as an event loop call (event_loop_call), at most
 * BLK_POLL_SLICE_NS at a time: the other handlers of the loop run
 * between slices. The last thing a poll does is a normal notify round per
 * queue, which turns notifications back on and takes what came in
 * between: no chain is left waiting for a kick that cannot come.
 */
#include <time.h>

#include "core/util.h"
#include "event/loop.h"
#include "virtio/blk_priv.h"

#define BLK_POLL_SLICE_NS	(1000 * 1000)
#define BLK_POLL_MIN_NS		(4 * 1000)

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Queue q has chains waiting and a free slot to take one, under its
 * lock (a reset may be under way on a vCPU). A full queue is not work:
 * a completion frees a slot first. */
static bool queue_has_work(struct virtio_blk *blk, unsigned q)
{
	struct virtio_dev *d = &blk->vdev;
	bool work;

	virtio_queue_lock(d, q);
	work = virtio_dev_running(d) && !virtio_dev_quiesced(d) &&
	       blk->queues[q].free &&
	       virtq_has_work(virtio_dev_vq(d, q));
	virtio_queue_unlock(d, q);
	return work;
}

static void notify_off(struct virtio_dev *d, unsigned nq)
{
	for (unsigned q = 0; q < nq; q++) {
		virtio_queue_lock(d, q);
		if (virtio_dev_running(d))
			virtq_disable_notify(virtio_dev_vq(d, q));
		virtio_queue_unlock(d, q);
	}
}

/* One pass over the completions and the rings: true if it found work. */
static bool poll_once(struct virtio_blk *blk)
{
	struct virtio_dev *d = &blk->vdev;
	bool progress = blk_backend_poll(blk->be);

	for (unsigned q = 0; q < blk->nr_queues; q++)
		if (queue_has_work(blk, q)) {
			virtio_queue_notify(d, q);
			progress = true;
		}
	return progress;
}

static void blk_poll(void *opaque)
{
	struct virtio_blk *blk = opaque;
	struct virtio_dev *d = &blk->vdev;
	uint64_t start, idle_from, now, popped,
		 window = __atomic_load_n(&blk->poll_window_ns, __ATOMIC_RELAXED);
	bool more = false;

	__atomic_store_n(&blk->poll_pending, false, __ATOMIC_RELEASE);
	if (!virtio_dev_running(d))
		return;
	__atomic_store_n(&blk->in_poll, BLK_POLL_ON, __ATOMIC_RELEASE);
	notify_off(d, blk->nr_queues);
	start = idle_from = now_ns();
	for (;;) {
		if (poll_once(blk))
			idle_from = now_ns();
		now = now_ns();
		if (!virtio_dev_running(d) || now - idle_from >= window)
			break;
		if (now - start >= BLK_POLL_SLICE_NS) {
			more = true;
			break;
		}
		cpu_relax();
	}
	__atomic_store_n(&blk->poll_end_ns, now_ns(), __ATOMIC_RELAXED);
	/* Notifications back on, and what came meanwhile taken; work found
	 * there, or a slice used up, means polling goes on. */
	popped = __atomic_load_n(&blk->popped, __ATOMIC_RELAXED);
	__atomic_store_n(&blk->in_poll, BLK_POLL_LAST, __ATOMIC_RELEASE);
	for (unsigned q = 0; q < blk->nr_queues; q++)
		virtio_queue_notify(d, q);
	__atomic_store_n(&blk->in_poll, BLK_POLL_OFF, __ATOMIC_RELEASE);
	if (more || popped != __atomic_load_n(&blk->popped, __ATOMIC_RELAXED))
		blk_poll_schedule(blk);
}

/* An event came without a poll: was the last window too short, or was
 * polling hopeless? (Relaxed atomics: a vCPU thread handling a kick
 * without an eventfd may get here too; a lost update is harmless.) */
static void adapt(struct virtio_blk *blk)
{
	uint64_t end = __atomic_load_n(&blk->poll_end_ns, __ATOMIC_RELAXED);
	uint64_t w = __atomic_load_n(&blk->poll_window_ns, __ATOMIC_RELAXED);

	if (now_ns() - end < blk->poll_ns)
		w = MIN(w * 2, blk->poll_ns);
	else
		w = MAX(w / 2, (uint64_t)BLK_POLL_MIN_NS);
	__atomic_store_n(&blk->poll_window_ns, w, __ATOMIC_RELAXED);
}

bool blk_poll_schedule(struct virtio_blk *blk)
{
	int state;

	if (!blk->poll_ns || !blk->loop)
		return false;
	state = __atomic_load_n(&blk->in_poll, __ATOMIC_ACQUIRE);
	if (state != BLK_POLL_OFF)
		return state == BLK_POLL_ON;
	if (__atomic_exchange_n(&blk->poll_pending, true, __ATOMIC_ACQ_REL))
		return true;
	adapt(blk);
	if (!event_loop_call(blk->loop, blk_poll, blk))
		return true;
	__atomic_store_n(&blk->poll_pending, false, __ATOMIC_RELEASE);
	return false;
}

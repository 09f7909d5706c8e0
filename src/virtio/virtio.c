/* Transport-independent virtio device: features, status, config space,
 * queue set-up and the notify/interrupt plumbing between a transport and a
 * device type. See virtio.h for the locking rules.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "virtio/virtio.h"

#define RUNNING_MASK (VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_NEEDS_RESET | \
		      VIRTIO_STATUS_FAILED)

static uint8_t status_load(const struct virtio_dev *d)
{
	return __atomic_load_n(&d->status, __ATOMIC_ACQUIRE);
}

/* Every initialised device, for the statistics (one VM per process). */
static pthread_mutex_t all_lock = PTHREAD_MUTEX_INITIALIZER;
static struct virtio_dev *all_devs;

void virtio_for_each_dev(void (*fn)(struct virtio_dev *d, void *opaque),
			 void *opaque)
{
	pthread_mutex_lock(&all_lock);
	for (struct virtio_dev *d = all_devs; d; d = d->next_dev)
		fn(d, opaque);
	pthread_mutex_unlock(&all_lock);
}

static void count(uint64_t *c)
{
	__atomic_fetch_add(c, 1, __ATOMIC_RELAXED);
}

void virtio_dev_get_counters(struct virtio_dev *d,
			     struct virtio_dev_counters *c)
{
	memset(c, 0, sizeof(*c));
	c->notifies = __atomic_load_n(&d->nr_notifies, __ATOMIC_RELAXED);
	c->interrupts = __atomic_load_n(&d->nr_interrupts, __ATOMIC_RELAXED);
	c->config_interrupts = __atomic_load_n(&d->nr_config_interrupts,
					       __ATOMIC_RELAXED);
	for (unsigned i = 0; i < d->nr_queues; i++) {
		c->requests += __atomic_load_n(&d->queues[i].vq.nr_used,
					       __ATOMIC_RELAXED);
		c->bytes_to_guest += __atomic_load_n(
			&d->queues[i].vq.used_bytes, __ATOMIC_RELAXED);
	}
}

int virtio_dev_init(struct virtio_dev *d, const char *name,
		    uint32_t device_id, const struct virtio_dev_ops *ops,
		    struct guest_mem *mem, uint64_t features,
		    void *config, uint32_t config_len,
		    unsigned nr_queues, uint16_t queue_max)
{
	unsigned i;

	if (!nr_queues || nr_queues > VIRTIO_MAX_QUEUES ||
	    !virtq_size_valid(queue_max, VIRTQ_MAX_SIZE) ||
	    (config_len && !config))
		return -EINVAL;
	memset(d, 0, sizeof(*d));
	d->name = name;
	d->device_id = device_id;
	d->ops = ops;
	d->mem = mem;
	/* The queue code supports both ring features; a device that cannot
	 * live with one clears it from device_features after init. */
	d->device_features = (features | VIRTIO_BIT(VIRTIO_F_VERSION_1) |
			      VIRTIO_BIT(VIRTIO_F_RING_INDIRECT_DESC) |
			      VIRTIO_BIT(VIRTIO_F_RING_EVENT_IDX)) &
			     ~VIRTIO_BIT(VIRTIO_F_ACCESS_PLATFORM);
	d->config = config;
	d->config_len = config_len;
	d->log_rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	d->nr_queues = nr_queues;
	d->queues = xcalloc(nr_queues, sizeof(*d->queues));
	pthread_mutex_init(&d->lock, NULL);
	pthread_cond_init(&d->reset_done, NULL);
	for (i = 0; i < nr_queues; i++) {
		pthread_mutex_init(&d->queues[i].lock, NULL);
		virtq_init(&d->queues[i].vq, mem, queue_max);
		d->queues[i].dev = d;
		d->queues[i].index = i;
		d->queues[i].kick = (struct loop_work){ .fn = virtio_queue_kicked,
						       .opaque = &d->queues[i] };
	}
	pthread_mutex_lock(&all_lock);
	{
		struct virtio_dev **p = &all_devs;   /* creation order */

		while (*p)
			p = &(*p)->next_dev;
		*p = d;
	}
	pthread_mutex_unlock(&all_lock);
	return 0;
}

void virtio_dev_uninit(struct virtio_dev *d)
{
	unsigned i;

	if (!d->queues)
		return;
	pthread_mutex_lock(&all_lock);
	for (struct virtio_dev **p = &all_devs; *p; p = &(*p)->next_dev)
		if (*p == d) {
			*p = d->next_dev;
			break;
		}
	pthread_mutex_unlock(&all_lock);
	for (i = 0; i < d->nr_queues; i++)
		pthread_mutex_destroy(&d->queues[i].lock);
	pthread_cond_destroy(&d->reset_done);
	pthread_mutex_destroy(&d->lock);
	free(d->queues);
	d->queues = NULL;
	d->nr_queues = 0;
}

void virtio_dev_set_queue_max(struct virtio_dev *d, unsigned q, uint16_t max)
{
	if (q < d->nr_queues && virtq_size_valid(max, VIRTQ_MAX_SIZE)) {
		d->queues[q].vq.max_size = max;
		virtq_reset(&d->queues[q].vq);
	}
}

void virtio_dev_attach(struct virtio_dev *d, const struct virtio_transport *t)
{
	pthread_mutex_lock(&d->lock);
	d->transport = *t;
	pthread_mutex_unlock(&d->lock);
}

bool virtio_dev_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && (d->driver_features & VIRTIO_BIT(bit));
}

bool virtio_dev_running(const struct virtio_dev *d)
{
	return (status_load(d) & RUNNING_MASK) == VIRTIO_STATUS_DRIVER_OK;
}

/* --- interrupts --- */

static void signal_config(struct virtio_dev *d)
{
	__atomic_fetch_or(&d->isr, VIRTIO_ISR_CONFIG, __ATOMIC_SEQ_CST);
	count(&d->nr_config_interrupts);
	if (d->transport.notify_config)
		d->transport.notify_config(d);
}

bool virtio_queue_requeue(struct virtio_dev *d, unsigned q)
{
	return q < d->nr_queues && d->transport.requeue &&
	       d->transport.requeue(d, q);
}

void virtio_queue_interrupt(struct virtio_dev *d, unsigned q)
{
	if (q >= d->nr_queues || !virtq_needs_notify(&d->queues[q].vq))
		return;
	__atomic_fetch_or(&d->isr, VIRTIO_ISR_QUEUE, __ATOMIC_SEQ_CST);
	count(&d->nr_interrupts);
	if (d->transport.notify_used)
		d->transport.notify_used(d, q);
}

uint32_t virtio_dev_isr(struct virtio_dev *d)
{
	return __atomic_load_n(&d->isr, __ATOMIC_SEQ_CST);
}

uint32_t virtio_dev_isr_take(struct virtio_dev *d)
{
	return __atomic_exchange_n(&d->isr, 0, __ATOMIC_SEQ_CST);
}

void virtio_dev_isr_ack(struct virtio_dev *d, uint32_t bits)
{
	__atomic_fetch_and(&d->isr, ~bits, __ATOMIC_SEQ_CST);
}

/* Spec 2.1.2: the device sets NEEDS_RESET and, once the driver is up,
 * says so with a configuration change notification. Lock-free so that
 * the data plane can call it with a queue lock held. */
void virtio_dev_needs_reset(struct virtio_dev *d, unsigned q)
{
	uint8_t old = __atomic_fetch_or(&d->status, VIRTIO_STATUS_NEEDS_RESET,
					__ATOMIC_SEQ_CST);

	if (old & VIRTIO_STATUS_NEEDS_RESET)
		return;
	/* The guest can repeat this at will (break, reset, break...). */
	if (q < d->nr_queues)
		pr_warn_ratelimited(&d->log_rl,
				    "%s: queue %u: %s; device needs reset",
				    d->name, q,
				    virtq_err_str(d->queues[q].vq.err));
	else
		pr_warn_ratelimited(&d->log_rl, "%s: device needs reset",
				    d->name);
	if (old & VIRTIO_STATUS_DRIVER_OK)
		signal_config(d);
}

/* --- features and status --- */

uint32_t virtio_dev_device_features(struct virtio_dev *d, uint32_t page)
{
	return page < 2 ? (uint32_t)(d->device_features >> (32 * page)) : 0;
}

uint32_t virtio_dev_driver_features(struct virtio_dev *d, uint32_t page)
{
	uint32_t v;

	pthread_mutex_lock(&d->lock);
	v = page < 2 ? (uint32_t)(d->driver_features >> (32 * page)) : 0;
	pthread_mutex_unlock(&d->lock);
	return v;
}

void virtio_dev_set_driver_features(struct virtio_dev *d, uint32_t page,
				    uint32_t val)
{
	uint64_t mask;

	if (page >= 2)
		return;
	mask = 0xffffffffULL << (32 * page);
	pthread_mutex_lock(&d->lock);
	/* Spec 3.1.1: features are fixed once FEATURES_OK is set. */
	if (!(status_load(d) & VIRTIO_STATUS_FEATURES_OK))
		d->driver_features = (d->driver_features & ~mask) |
				     ((uint64_t)val << (32 * page));
	pthread_mutex_unlock(&d->lock);
}

bool virtio_dev_reset_pending(struct virtio_dev *d)
{
	return __atomic_load_n(&d->reset_pending, __ATOMIC_SEQ_CST);
}

uint8_t virtio_dev_status(struct virtio_dev *d)
{
	/* Spec 2.4.1: the device shows that a reset is complete by reading
	 * back 0; until then it reads what it was. */
	if (virtio_dev_reset_pending(d))
		return __atomic_load_n(&d->reset_status, __ATOMIC_SEQ_CST);
	return status_load(d);
}

/* FEATURES_OK sticks only for a subset of the offer that includes
 * VERSION_1 (we are modern-only) and that the device type accepts. */
static bool features_acceptable(struct virtio_dev *d, uint8_t status)
{
	uint64_t f = d->driver_features;

	if (!(status & VIRTIO_STATUS_DRIVER))
		return false;
	if (f & ~d->device_features)
		return false;
	if (!(f & VIRTIO_BIT(VIRTIO_F_VERSION_1)))
		return false;
	return !d->ops->validate_features ||
	       d->ops->validate_features(d, f) == 0;
}

/* Store new status bits, keeping a NEEDS_RESET the data plane may have
 * set concurrently. */
static void status_publish(struct virtio_dev *d, uint8_t val)
{
	uint8_t cur = status_load(d);

	while (!__atomic_compare_exchange_n(&d->status, &cur,
					    val | (cur & VIRTIO_STATUS_NEEDS_RESET),
					    false, __ATOMIC_SEQ_CST,
					    __ATOMIC_SEQ_CST))
		;
}

static uint8_t status_transition(struct virtio_dev *d, uint8_t old,
				 uint8_t val)
{
	/* The driver never sets NEEDS_RESET and never clears a bit except
	 * by writing 0 (spec 2.1.2); keep what it cannot change. */
	uint8_t new = (val | old) & ~VIRTIO_STATUS_NEEDS_RESET;
	uint8_t added = new & ~old;

	if ((added & VIRTIO_STATUS_FEATURES_OK) && !features_acceptable(d, new))
		new &= ~VIRTIO_STATUS_FEATURES_OK;
	if (added & VIRTIO_STATUS_DRIVER_OK) {
		if (!(new & VIRTIO_STATUS_FEATURES_OK))
			new &= ~VIRTIO_STATUS_DRIVER_OK;
		else if (d->ops->activate && d->ops->activate(d))
			new |= VIRTIO_STATUS_NEEDS_RESET;
	}
	return new;
}

/* d->lock held; dropped while waiting. */
static void reset_wait_locked(struct virtio_dev *d)
{
	while (d->reset_pending)
		pthread_cond_wait(&d->reset_done, &d->lock);
}

void virtio_dev_set_status(struct virtio_dev *d, uint8_t val)
{
	uint8_t old, new;

	if (!val) {
		virtio_dev_reset(d);
		return;
	}
	pthread_mutex_lock(&d->lock);
	/* A driver that did not poll for the end of a reset (spec 4.1.4.3.2
	 * says it must; Linux's virtio-mmio does not) waits here, on its
	 * own vCPU: buffers of the old session may still be written until
	 * then, and the new one starts from a status of 0. */
	if (d->reset_pending)
		pr_debug("%s: status %#x written during a reset: waiting for "
			 "it", d->name, val);
	reset_wait_locked(d);
	old = status_load(d);
	new = status_transition(d, old, val);
	status_publish(d, new & ~VIRTIO_STATUS_NEEDS_RESET);
	pthread_mutex_unlock(&d->lock);
	if (new & VIRTIO_STATUS_NEEDS_RESET)
		virtio_dev_needs_reset(d, d->nr_queues);
}

/* d->lock held. The last outstanding request is back: the reset is
 * complete and the status reads 0. */
static void reset_try_finish(struct virtio_dev *d)
{
	if (!d->reset_pending || __atomic_load_n(&d->work, __ATOMIC_SEQ_CST))
		return;
	/* A NEEDS_RESET raised by work that was in flight is void now. */
	__atomic_store_n(&d->status, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&d->reset_pending, false, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&d->reset_done);
}

/* d->lock held. Everything but waiting for the backends. */
static void reset_start_locked(struct virtio_dev *d)
{
	uint8_t shown = virtio_dev_status(d);
	unsigned i;

	/* 0. What the driver reads until the end: never 0 (the device is
	 *    only shown reset once nothing touches the old buffers). Set
	 *    before pending, which work_put() checks after its decrement,
	 *    as reset_try_finish() checks the count after pending is set. */
	if (!d->reset_pending) {
		__atomic_store_n(&d->reset_status,
				 shown ? shown : VIRTIO_STATUS_ACKNOWLEDGE,
				 __ATOMIC_SEQ_CST);
		__atomic_store_n(&d->reset_pending, true, __ATOMIC_SEQ_CST);
	}
	/* 1. Stop new data-plane work: notify checks status under the
	 *    queue lock, so once each lock has been taken and dropped no
	 *    queue_notify is running or will start. */
	__atomic_store_n(&d->status, 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < d->nr_queues; i++) {
		pthread_mutex_lock(&d->queues[i].lock);
		pthread_mutex_unlock(&d->queues[i].lock);
	}
	/* 2. The device stops its own work; what a backend holds stays out
	 *    and is counted. */
	if (d->ops->reset)
		d->ops->reset(d);
	/* 3. Forget the driver's set-up. The queues' generations survive:
	 *    requests still out are stale in any later session. */
	for (i = 0; i < d->nr_queues; i++) {
		pthread_mutex_lock(&d->queues[i].lock);
		virtq_reset(&d->queues[i].vq);
		pthread_mutex_unlock(&d->queues[i].lock);
	}
	d->driver_features = 0;
	__atomic_store_n(&d->isr, 0, __ATOMIC_SEQ_CST);
	reset_try_finish(d);
}

void virtio_dev_reset(struct virtio_dev *d)
{
	pthread_mutex_lock(&d->lock);
	reset_start_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_reset_wait(struct virtio_dev *d)
{
	if (!virtio_dev_reset_pending(d))
		return;
	pthread_mutex_lock(&d->lock);
	reset_wait_locked(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_reset_sync(struct virtio_dev *d)
{
	virtio_dev_reset(d);
	if (d->ops->drain && virtio_dev_reset_pending(d))
		d->ops->drain(d);
	virtio_dev_reset_wait(d);
}

void virtio_dev_work_get(struct virtio_dev *d)
{
	__atomic_fetch_add(&d->work, 1, __ATOMIC_SEQ_CST);
}

void virtio_dev_work_put(struct virtio_dev *d)
{
	if (__atomic_sub_fetch(&d->work, 1, __ATOMIC_SEQ_CST) ||
	    !virtio_dev_reset_pending(d))
		return;
	/* Possibly the last one a reset waits for; re-checked under the
	 * lock, so a reset finishes exactly once. */
	pthread_mutex_lock(&d->lock);
	reset_try_finish(d);
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_work_cancel(struct virtio_dev *d)
{
	__atomic_sub_fetch(&d->work, 1, __ATOMIC_SEQ_CST);
}

/* --- config space --- */

static bool config_access_ok(const struct virtio_dev *d, uint64_t off,
			     unsigned size)
{
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return false;
	return off < d->config_len && size <= d->config_len - off;
}

uint32_t virtio_dev_config_generation(struct virtio_dev *d)
{
	uint32_t g;

	pthread_mutex_lock(&d->lock);
	g = d->config_generation;
	pthread_mutex_unlock(&d->lock);
	return g;
}

uint64_t virtio_dev_config_read(struct virtio_dev *d, uint64_t off,
				unsigned size)
{
	uint64_t v = 0;

	pthread_mutex_lock(&d->lock);
	if (config_access_ok(d, off, size))
		memcpy(&v, d->config + off, size);  /* LE bytes, low first */
	pthread_mutex_unlock(&d->lock);
	return le64toh(v);
}

void virtio_dev_config_write(struct virtio_dev *d, uint64_t off,
			     unsigned size, uint64_t val)
{
	uint64_t le = htole64(val);

	pthread_mutex_lock(&d->lock);
	if (d->ops->config_write && config_access_ok(d, off, size)) {
		memcpy(d->config + off, &le, size);
		d->ops->config_write(d, (uint32_t)off, size);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_dev_config_update(struct virtio_dev *d, uint32_t off,
			      const void *buf, uint32_t len)
{
	bool up;

	pthread_mutex_lock(&d->lock);
	if (off > d->config_len || len > d->config_len - off) {
		pthread_mutex_unlock(&d->lock);
		return;
	}
	memcpy(d->config + off, buf, len);
	d->config_generation++;
	up = status_load(d) & VIRTIO_STATUS_DRIVER_OK;
	pthread_mutex_unlock(&d->lock);
	if (up)
		signal_config(d);
}

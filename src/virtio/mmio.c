/* virtio-mmio version 2 transport. See mmio.h for the notification and
 * interrupt model.
 *
 * Choices: registers take aligned 32-bit accesses only (spec 4.2.2.2),
 * anything else reads 0 and is dropped with a rate-limited warning;
 * write-only, legacy (GuestPageSize, QueueAlign, QueuePFN), QueueReset
 * (VIRTIO_F_RING_RESET is not offered) and reserved offsets read 0; the
 * ring address registers read back what was written; the shared memory
 * registers say "no region" (all-ones length and base); config space
 * takes 1, 2, 4 and 8-byte accesses at any offset, bounds-checked by the
 * core. Select registers go back to 0 on reset.
 *
 * Locking: m->lock serialises register accesses from vCPU threads (the
 * select registers, the ioeventfd state) and is taken before the core's
 * locks. m->irq_lock only pairs an ISR change with the line level; the
 * core's interrupt callbacks take it (possibly under d->lock or a queue
 * lock), so nothing but lock-free ISR atomics is called while holding it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "devices/line_irqfd.h"
#include "event/loop.h"
#include "virtio/mmio.h"

struct mmio_queue {
	struct virtio_mmio *m;
	unsigned index;
	int _Atomic efd;         /* -1 until first ready; kept until free */
	bool _Atomic by_call;    /* no eventfd could be made: loop calls */
	bool assigned;           /* registered with env->ioeventfd */
};

struct virtio_mmio {
	struct device dev;
	struct virtio_dev *vdev;
	struct dev_env env;
	virtio_release_fn release;
	uint64_t base;
	uint32_t gsi;

	pthread_mutex_t lock;    /* registers; before the core's locks */
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel, shm_sel;
	bool warned_ioeventfd;
	struct mmio_queue *qs;   /* vdev->nr_queues */

	pthread_mutex_t irq_lock;
	bool irq_level;
	struct line_irqfd line;  /* active: the line is an irqfd */
	struct ratelimit rl;
};

static struct virtio_mmio *to_mmio(struct device *dev)
{
	return container_of(dev, struct virtio_mmio, dev);
}

/* --- interrupt line: level = InterruptStatus != 0 --- */

/* Ack bits (0 for none), then drive the line from what the ISR holds.
 * Under irq_lock so that a concurrent raise cannot be undone by a stale
 * "ISR is empty" from the ack path. With an irqfd only raising costs
 * anything: KVM lowers the line itself at the guest's EOI and the
 * resample callback raises it again if the ISR is still set. */
static void irq_update(struct virtio_mmio *m, uint32_t ack)
{
	bool level;

	pthread_mutex_lock(&m->irq_lock);
	if (ack)
		virtio_dev_isr_ack(m->vdev, ack);
	level = virtio_dev_isr(m->vdev) != 0;
	if (level != m->irq_level) {
		m->irq_level = level;
		if (line_irqfd_active(&m->line)) {
			if (level)
				line_irqfd_assert(&m->line);
		} else if (m->env.irq_set) {
			m->env.irq_set(m->env.ctx, m->gsi, level);
		}
	}
	pthread_mutex_unlock(&m->irq_lock);
}

/* Event loop: the guest EOI'd our line and KVM lowered it. */
static void irq_resample(void *opaque)
{
	struct virtio_mmio *m = opaque;

	pthread_mutex_lock(&m->irq_lock);
	m->irq_level = virtio_dev_isr(m->vdev) != 0;
	if (m->irq_level)
		line_irqfd_assert(&m->line);
	pthread_mutex_unlock(&m->irq_lock);
}

/* The core set an ISR bit; any thread, maybe with core locks held. */
static void tr_notify_used(struct virtio_dev *d, unsigned q)
{
	irq_update(d->transport.ctx, 0);
}

static void tr_notify_config(struct virtio_dev *d)
{
	irq_update(d->transport.ctx, 0);
}

/* A handler spent its budget: signal the queue's kick eventfd, so the
 * loop comes back to it after the other ready handlers. Lock-free. */
static bool tr_requeue(struct virtio_dev *d, unsigned q)
{
	struct virtio_mmio *m = d->transport.ctx;
	int efd = m->qs[q].efd;

	if (efd < 0)
		return m->qs[q].by_call &&
		       !virtio_queue_call(d, q, m->env.loop);
	return eventfd_write(efd, 1) == 0;
}

/* --- notifications --- */

/* Event loop thread: the guest kicked the queue (through KVM or through
 * a QueueNotify exit that mmio_notify() forwarded). */
static void kick_event(void *opaque, uint32_t events)
{
	struct mmio_queue *mq = opaque;
	eventfd_t v;

	if (eventfd_read(mq->efd, &v) == 0)
		virtio_queue_notify(mq->m->vdev, mq->index);
}

/* m->lock held. The eventfd lives until free even if the queue is reset:
 * closing it while the loop may be about to read it could hit a reused
 * descriptor. */
static int kick_open(struct virtio_mmio *m, struct mmio_queue *mq)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int ret;

	if (fd < 0)
		return -errno;
	ret = event_loop_add(virtio_dev_queue_loop(m->vdev, mq->index,
						   m->env.loop),
			     fd, EPOLLIN, kick_event, mq);
	if (ret) {
		close(fd);
		return ret;
	}
	mq->efd = fd;
	return 0;
}

static int kick_register(struct virtio_mmio *m, struct mmio_queue *mq,
			 bool assign)
{
	return m->env.ioeventfd(m->env.ctx, BUS_MMIO,
				m->base + VIRTIO_MMIO_QUEUE_NOTIFY, 4, mq->efd,
				true, mq->index, assign);
}

/* m->lock held. Queue q became ready: route its kicks to the loop. */
static void kick_attach(struct virtio_mmio *m, unsigned q)
{
	struct mmio_queue *mq = &m->qs[q];
	int ret;

	if (!m->env.loop)
		return;                 /* no loop: mmio_notify calls in */
	ret = mq->efd < 0 ? kick_open(m, mq) : 0;
	mq->by_call = ret != 0;
	if (ret) {
		pr_warn_ratelimited(&m->rl, "%s: queue %u: no eventfd (%s); "
				    "each kick is handed to the loop",
				    m->dev.name, q, strerror(-ret));
		return;
	}
	if (mq->assigned || !m->env.ioeventfd)
		return;
	ret = kick_register(m, mq, true);
	mq->assigned = !ret;
	if (ret && !m->warned_ioeventfd) {
		/* Still correct, only slower: each kick is an exit. */
		m->warned_ioeventfd = true;
		pr_warn("%s: ioeventfd at %#llx: %s; notifications exit to "
			"userspace", m->dev.name,
			(unsigned long long)(m->base + VIRTIO_MMIO_QUEUE_NOTIFY),
			strerror(-ret));
	}
}

/* m->lock held. Queue q stopped (QueueReady 0, reset, free). A kick
 * already in the eventfd is harmless: notify checks readiness. */
static void kick_detach(struct virtio_mmio *m, unsigned q)
{
	struct mmio_queue *mq = &m->qs[q];

	if (!mq->assigned)
		return;
	kick_register(m, mq, false);
	mq->assigned = false;
}

/* A QueueNotify write that exited (slow path). */
static void mmio_notify(struct virtio_mmio *m, uint32_t q)
{
	int efd;

	if (q >= m->vdev->nr_queues) {
		pr_warn_ratelimited(&m->rl, "%s: notify of queue %u, which "
				    "does not exist", m->dev.name, q);
		return;
	}
	efd = m->qs[q].efd;
	if (efd < 0 || eventfd_write(efd, 1) < 0)
		virtio_queue_kick_slow(m->vdev, q, m->env.loop);
}

/* --- registers --- */

/* m->lock held: back to the power-on state of the transport and device.
 * The driver's reset (sync false) returns without waiting for requests a
 * backend still holds: Status reads non-zero until they are back (see
 * virtio.h); the transport's own state is reset at once. */
static void mmio_reset_locked(struct virtio_mmio *m, bool sync)
{
	for (unsigned q = 0; q < m->vdev->nr_queues; q++)
		kick_detach(m, q);
	if (sync)
		virtio_dev_reset_sync(m->vdev);
	else
		virtio_dev_reset(m->vdev);
	m->dev_feat_sel = m->drv_feat_sel = m->queue_sel = m->shm_sel = 0;
	irq_update(m, 0);
}

static void set_status(struct virtio_mmio *m, uint32_t val)
{
	/* Only the low byte is defined (spec 2.1); 0 resets. */
	if ((uint8_t)val == 0)
		mmio_reset_locked(m, false);
	else
		virtio_dev_set_status(m->vdev, (uint8_t)val);
}

static void set_queue_ready(struct virtio_mmio *m, uint32_t val)
{
	unsigned q = m->queue_sel;

	if (q >= m->vdev->nr_queues)
		return;
	virtio_queue_write(m->vdev, q, VIRTIO_QUEUE_READY, val != 0);
	/* A bad ring leaves the queue not ready (and NEEDS_RESET set). */
	if (virtio_queue_read(m->vdev, q, VIRTIO_QUEUE_READY))
		kick_attach(m, q);
	else
		kick_detach(m, q);
}

/* The 64-bit ring addresses are written as two halves. */
static enum virtio_queue_field addr_field(uint64_t off)
{
	if (off < VIRTIO_MMIO_QUEUE_DRIVER_LOW)
		return VIRTIO_QUEUE_DESC;
	if (off < VIRTIO_MMIO_QUEUE_DEVICE_LOW)
		return VIRTIO_QUEUE_AVAIL;
	return VIRTIO_QUEUE_USED;
}

static bool is_addr_reg(uint64_t off)
{
	return off >= VIRTIO_MMIO_QUEUE_DESC_LOW &&
	       off <= VIRTIO_MMIO_QUEUE_DEVICE_HIGH && (off & 0xf) < 8;
}

static void set_queue_addr(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	enum virtio_queue_field f = addr_field(off);
	unsigned shift = (off & 4) ? 32 : 0;
	uint64_t cur = virtio_queue_read(m->vdev, m->queue_sel, f);

	cur &= ~(0xffffffffULL << shift);
	virtio_queue_write(m->vdev, m->queue_sel, f,
			   cur | (uint64_t)val << shift);
}

static uint32_t reg_read(struct virtio_mmio *m, uint64_t off)
{
	struct virtio_dev *d = m->vdev;

	if (is_addr_reg(off))
		return (uint32_t)(virtio_queue_read(d, m->queue_sel,
						    addr_field(off)) >>
				  ((off & 4) ? 32 : 0));
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return VIRTIO_MMIO_MAGIC;
	case VIRTIO_MMIO_VERSION: return VIRTIO_MMIO_VERSION_MODERN;
	case VIRTIO_MMIO_DEVICE_ID: return d->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return virtio_dev_device_features(d, m->dev_feat_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return (uint32_t)virtio_queue_read(d, m->queue_sel,
						   VIRTIO_QUEUE_MAX_SIZE);
	case VIRTIO_MMIO_QUEUE_READY:
		return (uint32_t)virtio_queue_read(d, m->queue_sel,
						   VIRTIO_QUEUE_READY);
	case VIRTIO_MMIO_INTERRUPT_STATUS: return virtio_dev_isr(d);
	case VIRTIO_MMIO_STATUS: return virtio_dev_status(d);
	/* No shared memory regions: a length (and base) of -1 says so. */
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH: return 0xffffffff;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return virtio_dev_config_generation(d);
	}
	/* Write-only (selectors, QueueNum, QueueNotify, InterruptACK),
	 * QueueReset (not offered), legacy and reserved offsets. */
	return 0;
}

static void reg_write(struct virtio_mmio *m, uint64_t off, uint32_t val)
{
	struct virtio_dev *d = m->vdev;

	if (is_addr_reg(off)) {
		set_queue_addr(m, off, val);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: m->dev_feat_sel = val; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		virtio_dev_set_driver_features(d, m->drv_feat_sel, val);
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: m->drv_feat_sel = val; break;
	case VIRTIO_MMIO_QUEUE_SEL: m->queue_sel = val; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		virtio_queue_write(d, m->queue_sel, VIRTIO_QUEUE_SIZE, val);
		break;
	case VIRTIO_MMIO_QUEUE_READY: set_queue_ready(m, val); break;
	case VIRTIO_MMIO_INTERRUPT_ACK: irq_update(m, val); break;
	case VIRTIO_MMIO_STATUS: set_status(m, val); break;
	case VIRTIO_MMIO_SHM_SEL: m->shm_sel = val; break;
	default:
		/* Read-only, QueueReset (not offered), legacy, reserved. */
		pr_warn_ratelimited(&m->rl, "%s: write %#x to register %#llx "
				    "ignored", m->dev.name, val,
				    (unsigned long long)off);
	}
}

/* Spec 4.2.2.2: registers take 32-bit aligned accesses only. */
static bool reg_access_ok(struct virtio_mmio *m, uint64_t off, unsigned size,
			  const char *what)
{
	if (size == 4 && !(off & 3))
		return true;
	pr_warn_ratelimited(&m->rl, "%s: %u-byte %s at register %#llx "
			    "ignored", m->dev.name, size, what,
			    (unsigned long long)off);
	return false;
}

/* Config space takes any width the core does (1, 2, 4, 8) at any offset:
 * the driver is told to use natural widths, but nothing breaks if it
 * does not, and the core bounds-checks the access. */
static uint64_t mmio_read(struct device *dev, unsigned region, uint64_t off,
			  unsigned size)
{
	struct virtio_mmio *m = to_mmio(dev);
	uint32_t v;

	if (off >= VIRTIO_MMIO_CONFIG)
		return virtio_dev_config_read(m->vdev, off - VIRTIO_MMIO_CONFIG,
					      size);
	if (!reg_access_ok(m, off, size, "read"))
		return 0;
	pthread_mutex_lock(&m->lock);
	v = reg_read(m, off);
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void mmio_write(struct device *dev, unsigned region, uint64_t off,
		       unsigned size, uint64_t val)
{
	struct virtio_mmio *m = to_mmio(dev);

	if (off >= VIRTIO_MMIO_CONFIG) {
		virtio_dev_config_write(m->vdev, off - VIRTIO_MMIO_CONFIG,
					size, val);
		return;
	}
	if (!reg_access_ok(m, off, size, "write"))
		return;
	/* Data plane: no transport lock, the core has its own. */
	if (off == VIRTIO_MMIO_QUEUE_NOTIFY) {
		mmio_notify(m, (uint32_t)val);
		return;
	}
	/* A driver that does not poll for the end of a reset (Linux) waits
	 * for it here, before the transport lock, not under it. */
	if (off == VIRTIO_MMIO_STATUS && (uint8_t)val)
		virtio_dev_reset_wait(m->vdev);
	pthread_mutex_lock(&m->lock);
	reg_write(m, off, (uint32_t)val);
	pthread_mutex_unlock(&m->lock);
}

static void mmio_dev_reset(struct device *dev)
{
	struct virtio_mmio *m = to_mmio(dev);

	pthread_mutex_lock(&m->lock);
	mmio_reset_locked(m, true);
	pthread_mutex_unlock(&m->lock);
}

/* The vCPUs and the event loop have stopped (vm_destroy), or were never
 * started (create failed). */
static void mmio_free(struct device *dev)
{
	struct virtio_mmio *m = to_mmio(dev);

	pthread_mutex_lock(&m->lock);
	for (unsigned q = 0; q < m->vdev->nr_queues; q++) {
		struct mmio_queue *mq = &m->qs[q];

		kick_detach(m, q);
		if (mq->efd >= 0) {
			/* A net pair's loop still runs: its kick
			 * callback must be over before the close. */
			event_loop_del_sync(virtio_dev_queue_loop(m->vdev,
					q, m->env.loop), mq->efd);
			close(mq->efd);
		}
	}
	virtio_dev_reset_sync(m->vdev);
	pthread_mutex_unlock(&m->lock);
	line_irqfd_close(&m->line);
	m->release(m->vdev);
	free(m->qs);
	pthread_mutex_destroy(&m->irq_lock);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static const struct device_ops mmio_ops = {
	.read = mmio_read,
	.write = mmio_write,
	.reset = mmio_dev_reset,
	.free = mmio_free,
};

int virtio_mmio_create(struct virtio_dev *vdev, const struct dev_env *env,
		       const struct virtio_mmio_place *at,
		       virtio_release_fn release, struct device **out)
{
	struct virtio_mmio *m;
	struct virtio_transport t = {
		.notify_used = tr_notify_used,
		.notify_config = tr_notify_config,
		.requeue = tr_requeue,
	};

	if (at->len < VIRTIO_MMIO_REGION_LEN || at->base + at->len < at->base) {
		pr_err("%s: virtio-mmio needs %#x bytes at %#llx, not %#llx",
		       vdev->name, VIRTIO_MMIO_REGION_LEN,
		       (unsigned long long)at->base,
		       (unsigned long long)at->len);
		release(vdev);
		return -EINVAL;
	}
	m = xcalloc(1, sizeof(*m));
	m->vdev = vdev;
	m->env = *env;
	m->release = release;
	m->base = at->base;
	m->gsi = at->gsi;
	m->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	pthread_mutex_init(&m->lock, NULL);
	pthread_mutex_init(&m->irq_lock, NULL);
	m->qs = xcalloc(vdev->nr_queues, sizeof(*m->qs));
	for (unsigned q = 0; q < vdev->nr_queues; q++) {
		m->qs[q].m = m;
		m->qs[q].index = q;
		m->qs[q].efd = -1;
	}
	if (line_irqfd_open(&m->line, env, m->gsi, irq_resample, m))
		pr_debug("%s: irq %u without irqfd", vdev->name, m->gsi);
	m->dev.ops = &mmio_ops;
	m->dev.name = vdev->name;
	device_add_region(&m->dev, BUS_MMIO, at->base, at->len);
	t.ctx = m;
	virtio_dev_attach(vdev, &t);
	*out = &m->dev;
	return 0;
}

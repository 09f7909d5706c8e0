/* virtio-pci modern transport. See pci.h for the layout and the
 * notification and interrupt model; pci_common.c has the common
 * configuration registers.
 *
 * Choices: the virtio BAR is not prefetchable, since reading the ISR has
 * a side effect; MSI-X lives in a BAR of its own (as on QEMU) so that a
 * guest mapping the virtio BAR write-combined cannot reach the table; the
 * ISR takes 1-byte reads only; the device configuration takes any width
 * the core does, like virtio-mmio's; a notification is a 2- or 4-byte
 * write at the start of a queue's 4-byte slot, and the slot, not the
 * value written, says which queue (without NOTIFICATION_DATA the value
 * is that queue's index anyway). Everything else in the BARs reads 0 and
 * is dropped with a rate-limited warning.
 *
 * Locking: p->lock (selectors, queue enable state, ioeventfds) may be
 * taken under the PCI host lock (bar_moved, the PCI_CFG window) and is
 * taken before the core's locks. The core's interrupt callbacks take no
 * transport lock but p->irq_lock, and call nothing under it but ISR
 * atomics and the function's INTx lock.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "bus/pci_msix.h"
#include "core/util.h"
#include "event/loop.h"
#include "virtio/pci_priv.h"

uint32_t virtio_pci_class(uint32_t device_id)
{
	switch (device_id) {
	case VIRTIO_ID_NET: return 0x020000;      /* network, ethernet */
	case VIRTIO_ID_BLOCK: return 0x010000;    /* storage, SCSI */
	case VIRTIO_ID_CONSOLE: return 0x078000;  /* communication, other */
	}
	return 0x00ff00;                          /* rng and the rest */
}

static struct virtio_pci *to_vpci(struct pci_func *f)
{
	return container_of(f, struct virtio_pci, f);
}

/* --- interrupts --- */

/* INTx: the line follows ISR != 0. Optionally take (read-clear) the ISR
 * first; under irq_lock so that a concurrent raise is never undone by a
 * stale "ISR empty". */
static uint32_t irq_update(struct virtio_pci *p, bool take)
{
	uint32_t isr = 0;
	bool level;

	pthread_mutex_lock(&p->irq_lock);
	if (take)
		isr = virtio_dev_isr_take(p->vdev);
	level = virtio_dev_isr(p->vdev) != 0;
	if (level != p->irq_level) {
		p->irq_level = level;
		pci_func_set_irq(&p->f, level);
	}
	pthread_mutex_unlock(&p->irq_lock);
	return isr;
}

/* The core set an ISR bit. With MSI-X the event's vector is raised (or
 * nothing, for NO_VECTOR) and INTx is left alone, as QEMU does. */
static void raise_irq(struct virtio_pci *p, const uint16_t *vector)
{
	uint16_t vec;

	if (!pci_msix_enabled(&p->f)) {
		irq_update(p, false);
		return;
	}
	vec = __atomic_load_n(vector, __ATOMIC_RELAXED);
	if (vec != VIRTIO_MSI_NO_VECTOR)
		pci_msix_notify(&p->f, vec);
}

static void tr_notify_used(struct virtio_dev *d, unsigned q)
{
	struct virtio_pci *p = d->transport.ctx;

	raise_irq(p, &p->qs[q].vector);
}

static void tr_notify_config(struct virtio_dev *d)
{
	struct virtio_pci *p = d->transport.ctx;

	raise_irq(p, &p->config_vector);
}

/* A handler spent its budget: signal the queue's kick eventfd, so the
 * loop comes back to it after the other ready handlers. Lock-free. */
static bool tr_requeue(struct virtio_dev *d, unsigned q)
{
	struct virtio_pci *p = d->transport.ctx;
	int efd = __atomic_load_n(&p->qs[q].efd, __ATOMIC_ACQUIRE);

	if (efd < 0)
		return __atomic_load_n(&p->qs[q].by_call, __ATOMIC_ACQUIRE) &&
		       !virtio_queue_call(d, q, p->env.loop);
	return eventfd_write(efd, 1) == 0;
}

/* --- notifications --- */

/* Event loop thread: the guest kicked the queue, through KVM or through
 * a notify write that exited and notify_write() forwarded. */
static void kick_event(void *opaque, uint32_t events)
{
	struct vpci_queue *vq = opaque;
	eventfd_t v;

	if (eventfd_read(vq->efd, &v) == 0)
		virtio_queue_notify(vq->p->vdev, vq->index);
}

/* p->lock held. The eventfd lives until free even across resets: closing
 * it while the loop may be about to read it could hit a reused fd. */
static int kick_open(struct virtio_pci *p, struct vpci_queue *vq)
{
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int ret;

	if (fd < 0)
		return -errno;
	ret = event_loop_add(virtio_dev_queue_loop(p->vdev, vq->index,
						   p->env.loop),
			     fd, EPOLLIN, kick_event, vq);
	if (ret) {
		close(fd);
		return ret;
	}
	__atomic_store_n(&vq->efd, fd, __ATOMIC_RELEASE);
	return 0;
}

static uint64_t notify_addr(const struct virtio_pci *p, unsigned q)
{
	if (p->bar_addr == PCI_BAR_UNMAPPED)
		return PCI_BAR_UNMAPPED;
	return p->bar_addr + VIRTIO_PCI_NOTIFY_OFF +
	       (uint64_t)q * VIRTIO_PCI_NOTIFY_MULT;
}

/* The driver writes the 16-bit queue index (spec 4.1.5.2). */
static int kick_register(struct virtio_pci *p, struct vpci_queue *vq,
			 uint64_t addr, bool assign)
{
	return p->env.ioeventfd(p->env.ctx, BUS_MMIO, addr, 2, vq->efd, true,
				vq->index, assign);
}

static void warn_ioeventfd(struct virtio_pci *p, uint64_t addr, int ret)
{
	/* Still correct, only slower: each kick is an exit. */
	if (p->warned_ioeventfd)
		return;
	p->warned_ioeventfd = true;
	pr_warn("%s: ioeventfd at %#llx: %s; notifications exit to userspace",
		p->f.dev.name, (unsigned long long)addr, strerror(-ret));
}

/* p->lock held. Make queue q's ioeventfd match what should be: registered
 * at its notify address while it is enabled and BAR4 decodes. */
static void kick_sync(struct virtio_pci *p, unsigned q)
{
	struct vpci_queue *vq = &p->qs[q];
	uint64_t addr = notify_addr(p, q);
	bool want = vq->enabled && vq->efd >= 0 && p->env.ioeventfd &&
		    addr != PCI_BAR_UNMAPPED;
	int ret;

	if (vq->assigned && (!want || vq->assigned_addr != addr)) {
		kick_register(p, vq, vq->assigned_addr, false);
		vq->assigned = false;
	}
	if (!want || vq->assigned)
		return;
	ret = kick_register(p, vq, addr, true);
	if (ret) {
		warn_ioeventfd(p, addr, ret);
		return;
	}
	vq->assigned = true;
	vq->assigned_addr = addr;
}

/* p->lock held: queue q took queue_enable = 1. */
void vpci_queue_enabled(struct virtio_pci *p, unsigned q)
{
	struct vpci_queue *vq = &p->qs[q];
	int ret;

	vq->enabled = true;
	if (!p->env.loop)
		return;                 /* no loop: notify_write calls in */
	ret = vq->efd < 0 ? kick_open(p, vq) : 0;
	__atomic_store_n(&vq->by_call, ret != 0, __ATOMIC_RELEASE);
	if (ret) {
		pr_warn_ratelimited(&p->rl, "%s: queue %u: no eventfd (%s); "
				    "each kick is handed to the loop",
				    p->f.dev.name, q, strerror(-ret));
		return;
	}
	kick_sync(p, q);
}

/* A notify write that exited (no ioeventfd, or not the expected width).
 * Data plane: no transport lock. */
static void notify_write(struct virtio_pci *p, uint64_t off, unsigned size)
{
	uint64_t slot = off / VIRTIO_PCI_NOTIFY_MULT;
	int efd;

	if (off % VIRTIO_PCI_NOTIFY_MULT || (size != 2 && size != 4) ||
	    slot >= p->vdev->nr_queues) {
		pr_warn_ratelimited(&p->rl, "%s: %u-byte notify at %#llx "
				    "ignored (no such queue)", p->f.dev.name,
				    size, (unsigned long long)off);
		return;
	}
	efd = __atomic_load_n(&p->qs[slot].efd, __ATOMIC_ACQUIRE);
	if (efd < 0 || eventfd_write(efd, 1) < 0)
		virtio_queue_kick_slow(p->vdev, (unsigned)slot, p->env.loop);
}

/* --- reset --- */

/* p->lock held: the transport and the device back to power-on state.
 * The driver's reset (sync false) does not wait for requests a backend
 * still holds: device_status reads non-zero until they are back (see
 * virtio.h), so neither this vCPU nor the host lock (PCI_CFG window) is
 * held up by a slow disk. */
void vpci_reset_locked(struct virtio_pci *p, bool sync)
{
	for (unsigned q = 0; q < p->vdev->nr_queues; q++) {
		p->qs[q].enabled = false;
		kick_sync(p, q);
		__atomic_store_n(&p->qs[q].vector, VIRTIO_MSI_NO_VECTOR,
				 __ATOMIC_RELAXED);
	}
	if (sync)
		virtio_dev_reset_sync(p->vdev);
	else
		virtio_dev_reset(p->vdev);
	p->dev_feat_sel = p->drv_feat_sel = 0;
	p->queue_sel = 0;
	__atomic_store_n(&p->config_vector, VIRTIO_MSI_NO_VECTOR,
			 __ATOMIC_RELAXED);
	irq_update(p, false);       /* the ISR is clear: lower the line */
}

/* --- BARs --- */

static void bad_access(struct virtio_pci *p, unsigned bar, uint64_t off,
		       unsigned size, const char *what)
{
	pr_warn_ratelimited(&p->rl, "%s: %u-byte %s at BAR%u+%#llx ignored",
			    p->f.dev.name, size, what, bar,
			    (unsigned long long)off);
}

static bool in_area(uint64_t off, uint64_t base)
{
	return off >= base && off < base + 0x1000;
}

static uint64_t vbar_read(struct virtio_pci *p, uint64_t off, unsigned size)
{
	uint64_t v;

	if (in_area(off, VIRTIO_PCI_COMMON_OFF)) {
		pthread_mutex_lock(&p->lock);
		v = vpci_common_read(p, off - VIRTIO_PCI_COMMON_OFF, size);
		pthread_mutex_unlock(&p->lock);
		return v;
	}
	if (off == VIRTIO_PCI_ISR_OFF && size == 1)
		return irq_update(p, true);
	if (in_area(off, VIRTIO_PCI_DEVICE_OFF))
		return virtio_dev_config_read(p->vdev,
					      off - VIRTIO_PCI_DEVICE_OFF, size);
	if (!in_area(off, VIRTIO_PCI_NOTIFY_OFF))
		bad_access(p, VIRTIO_PCI_BAR, off, size, "read");
	return 0;
}

static void vbar_write(struct virtio_pci *p, uint64_t off, unsigned size,
		       uint64_t val)
{
	if (in_area(off, VIRTIO_PCI_NOTIFY_OFF)) {
		notify_write(p, off - VIRTIO_PCI_NOTIFY_OFF, size);
	} else if (in_area(off, VIRTIO_PCI_COMMON_OFF)) {
		/* A driver that did not poll for the end of a reset waits
		 * for it before the transport lock, not under it. */
		if (off == VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS &&
		    (uint8_t)val)
			virtio_dev_reset_wait(p->vdev);
		pthread_mutex_lock(&p->lock);
		vpci_common_write(p, off - VIRTIO_PCI_COMMON_OFF, size, val);
		pthread_mutex_unlock(&p->lock);
	} else if (in_area(off, VIRTIO_PCI_DEVICE_OFF)) {
		virtio_dev_config_write(p->vdev, off - VIRTIO_PCI_DEVICE_OFF,
					size, val);
	} else {
		bad_access(p, VIRTIO_PCI_BAR, off, size, "write");
	}
}

/* BAR1 holds only the MSI-X table and PBA, which PCI serves itself. */
static uint64_t vpci_bar_read(struct pci_func *f, unsigned bar, uint64_t off,
			      unsigned size)
{
	struct virtio_pci *p = to_vpci(f);

	if (bar == VIRTIO_PCI_BAR)
		return vbar_read(p, off, size);
	bad_access(p, bar, off, size, "read");
	return 0;
}

static void vpci_bar_write(struct pci_func *f, unsigned bar, uint64_t off,
			   unsigned size, uint64_t val)
{
	struct virtio_pci *p = to_vpci(f);

	if (bar == VIRTIO_PCI_BAR)
		vbar_write(p, off, size, val);
	else
		bad_access(p, bar, off, size, "write");
}

/* Host lock held. The notify addresses moved with BAR4: the ioeventfds
 * follow, or go away while it does not decode. */
static void vpci_bar_moved(struct pci_func *f, unsigned bar, uint64_t addr)
{
	struct virtio_pci *p = to_vpci(f);

	if (bar != VIRTIO_PCI_BAR)
		return;
	pthread_mutex_lock(&p->lock);
	p->bar_addr = addr;
	for (unsigned q = 0; q < p->vdev->nr_queues; q++)
		kick_sync(p, q);
	pthread_mutex_unlock(&p->lock);
}

/* --- the PCI_CFG capability: BAR access through config space --- */

/* The access the driver set up in cap.bar/offset/length, if it is one
 * the spec allows (4.1.4.9.1): length 1, 2 or 4, offset aligned to it,
 * inside an implemented BAR. */
static bool cfg_window(struct virtio_pci *p, unsigned *bar, uint32_t *off,
		       uint32_t *len)
{
	unsigned c = p->cfg_cap;

	*bar = pci_cfg_get(&p->f, c + VIRTIO_PCI_CAP_BAR, 1);
	*off = pci_cfg_get(&p->f, c + VIRTIO_PCI_CAP_OFFSET, 4);
	*len = pci_cfg_get(&p->f, c + VIRTIO_PCI_CAP_LENGTH, 4);
	if ((*len == 1 || *len == 2 || *len == 4) && !(*off & (*len - 1)) &&
	    *bar < PCI_NUM_BARS && p->f.bars[*bar].size &&
	    (uint64_t)*off + *len <= p->f.bars[*bar].size)
		return true;
	pr_warn_ratelimited(&p->rl, "%s: PCI_CFG access of %u bytes at BAR%u"
			    "+%#x ignored", p->f.dev.name, *len, *bar, *off);
	return false;
}

/* Host lock held. Through the function's own dispatch, so the window
 * reaches the MSI-X table too, whether or not the BAR decodes. */
static uint32_t cfg_data_read(struct pci_func *f, unsigned off, unsigned size)
{
	struct virtio_pci *p = to_vpci(f);
	unsigned data = p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, bar;
	uint32_t boff, len;

	if (cfg_window(p, &bar, &boff, &len))
		pci_cfg_put(f, data, len,
			    (uint32_t)f->dev.ops->read(&f->dev, bar, boff, len));
	return pci_cfg_get(f, off, size);
}

static void cfg_data_write(struct pci_func *f, unsigned off, unsigned size,
			   uint32_t value)
{
	struct virtio_pci *p = to_vpci(f);
	unsigned data = p->cfg_cap + VIRTIO_PCI_CFG_CAP_DATA, bar;
	uint32_t boff, len;

	if (!cfg_window(p, &bar, &boff, &len))
		return;
	/* A status written during a reset would wait for it here, under
	 * the PCI host lock, which every vCPU's config access takes: for as
	 * long as the disk takes (a hung one: for ever). Dropped instead;
	 * the driver must poll for 0 first (4.1.4.3.2). */
	if (bar == VIRTIO_PCI_BAR &&
	    boff <= VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS &&
	    boff + len > VIRTIO_PCI_COMMON_OFF + VIRTIO_PCI_COMMON_STATUS &&
	    virtio_dev_reset_pending(p->vdev)) {
		pr_warn_ratelimited(&p->rl, "%s: status written through the "
				    "PCI_CFG window during a reset: dropped",
				    p->f.dev.name);
		return;
	}
	f->dev.ops->write(&f->dev, bar, boff, len, pci_cfg_get(f, data, len));
}

/* --- capabilities --- */

static void put_le32(uint8_t *b, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		b[i] = v >> (8 * i);
}

/* struct virtio_pci_cap, then extra (the notify multiplier or the
 * pci_cfg_data bytes). Returns the config offset or -errno. */
static int add_vcap(struct virtio_pci *p, uint8_t type, uint8_t bar,
		    uint32_t off, uint32_t len, uint32_t extra, bool has_extra)
{
	uint8_t body[VIRTIO_PCI_CAP_EXT_SIZE - 2] = { 0 };
	unsigned size = has_extra ? VIRTIO_PCI_CAP_EXT_SIZE :
				    VIRTIO_PCI_CAP_SIZE;

	/* body starts after cap_vndr and cap_next */
	body[VIRTIO_PCI_CAP_LEN - 2] = size;
	body[VIRTIO_PCI_CAP_CFG_TYPE - 2] = type;
	body[VIRTIO_PCI_CAP_BAR - 2] = bar;
	put_le32(&body[VIRTIO_PCI_CAP_OFFSET - 2], off);
	put_le32(&body[VIRTIO_PCI_CAP_LENGTH - 2], len);
	if (has_extra)
		put_le32(&body[VIRTIO_PCI_CAP_SIZE - 2], extra);
	return pci_add_cap(&p->f, PCI_CAP_ID_VNDR, body, size - 2);
}

static int add_cfg_cap(struct virtio_pci *p)
{
	int c = add_vcap(p, VIRTIO_PCI_CAP_PCI_CFG, 0, 0, 0, 0, true);

	if (c < 0)
		return c;
	p->cfg_cap = c;
	pci_cfg_set_writable(&p->f, c + VIRTIO_PCI_CAP_BAR, 1);
	pci_cfg_set_writable(&p->f, c + VIRTIO_PCI_CAP_OFFSET, 8);
	pci_cfg_set_writable(&p->f, c + VIRTIO_PCI_CFG_CAP_DATA, 4);
	return pci_cfg_add_hook(&p->f, c + VIRTIO_PCI_CFG_CAP_DATA, 4,
				cfg_data_read, cfg_data_write);
}

/* The DEVICE_CFG capability only when there is device config: Linux
 * refuses a zero-length one (and needs none, e.g. for rng). */
static int add_caps(struct virtio_pci *p)
{
	const unsigned bar = VIRTIO_PCI_BAR;
	uint32_t nq = p->vdev->nr_queues;
	int ret;

	if ((ret = add_vcap(p, VIRTIO_PCI_CAP_COMMON_CFG, bar,
			    VIRTIO_PCI_COMMON_OFF, VIRTIO_PCI_COMMON_LEN, 0,
			    false)) < 0 ||
	    (ret = add_vcap(p, VIRTIO_PCI_CAP_NOTIFY_CFG, bar,
			    VIRTIO_PCI_NOTIFY_OFF, nq * VIRTIO_PCI_NOTIFY_MULT,
			    VIRTIO_PCI_NOTIFY_MULT, true)) < 0 ||
	    (ret = add_vcap(p, VIRTIO_PCI_CAP_ISR_CFG, bar, VIRTIO_PCI_ISR_OFF,
			    1, 0, false)) < 0)
		return ret;
	if (p->vdev->config_len &&
	    (ret = add_vcap(p, VIRTIO_PCI_CAP_DEVICE_CFG, bar,
			    VIRTIO_PCI_DEVICE_OFF, p->vdev->config_len, 0,
			    false)) < 0)
		return ret;
	if ((ret = add_cfg_cap(p)) < 0)
		return ret;
	/* One vector per queue and one for config changes. */
	ret = pci_msix_init(&p->f, nq + 1, VIRTIO_PCI_MSIX_BAR,
			    VIRTIO_PCI_MSIX_TABLE, VIRTIO_PCI_MSIX_BAR,
			    VIRTIO_PCI_MSIX_PBA);
	return ret < 0 ? ret : 0;
}

/* --- lifetime --- */

static void vpci_reset(struct pci_func *f)
{
	struct virtio_pci *p = to_vpci(f);

	pthread_mutex_lock(&p->lock);
	vpci_reset_locked(p, true);
	pthread_mutex_unlock(&p->lock);
}

static void vpci_destroy(struct virtio_pci *p)
{
	p->release(p->vdev);
	free(p->qs);
	pthread_mutex_destroy(&p->irq_lock);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* The vCPUs and the event loop have stopped (vm_destroy), or never
 * started. PCI has already freed the MSI-X state. */
static void vpci_free(struct pci_func *f)
{
	struct virtio_pci *p = to_vpci(f);

	pthread_mutex_lock(&p->lock);
	for (unsigned q = 0; q < p->vdev->nr_queues; q++) {
		struct vpci_queue *vq = &p->qs[q];

		vq->enabled = false;
		kick_sync(p, q);
		if (vq->efd >= 0) {
			/* A net pair's loop still runs: its kick
			 * callback must be over before the close. */
			event_loop_del_sync(virtio_dev_queue_loop(p->vdev,
					q, p->env.loop), vq->efd);
			close(vq->efd);
		}
	}
	virtio_dev_reset_sync(p->vdev);
	pthread_mutex_unlock(&p->lock);
	vpci_destroy(p);
}

static const struct pci_func_ops vpci_ops = {
	.bar_read = vpci_bar_read,
	.bar_write = vpci_bar_write,
	.bar_moved = vpci_bar_moved,
	.reset = vpci_reset,
	.free = vpci_free,
};

static int check_fits(const struct virtio_dev *vdev)
{
	unsigned max_q = (VIRTIO_PCI_MSIX_PBA - VIRTIO_PCI_MSIX_TABLE) /
			 PCI_MSIX_ENTRY_SIZE - 1;

	if (vdev->nr_queues && vdev->nr_queues <= max_q &&
	    vdev->config_len <= VIRTIO_PCI_DEVICE_MAX)
		return 0;
	pr_err("%s: virtio-pci takes 1 to %u queues and %u config bytes, "
	       "not %u and %u", vdev->name, max_q, VIRTIO_PCI_DEVICE_MAX,
	       vdev->nr_queues, vdev->config_len);
	return -EINVAL;
}

static struct virtio_pci *vpci_alloc(struct virtio_dev *vdev,
				     const struct dev_env *env,
				     virtio_release_fn release)
{
	struct virtio_pci *p = xcalloc(1, sizeof(*p));

	p->vdev = vdev;
	p->env = *env;
	p->release = release;
	p->bar_addr = PCI_BAR_UNMAPPED;
	p->config_vector = VIRTIO_MSI_NO_VECTOR;
	p->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->irq_lock, NULL);
	p->qs = xcalloc(vdev->nr_queues, sizeof(*p->qs));
	for (unsigned q = 0; q < vdev->nr_queues; q++)
		p->qs[q] = (struct vpci_queue){ .p = p, .index = q, .efd = -1,
						.vector = VIRTIO_MSI_NO_VECTOR };
	return p;
}

int virtio_pci_create(struct virtio_dev *vdev, const struct dev_env *env,
		      virtio_release_fn release, struct device **out)
{
	struct virtio_transport t = {
		.notify_used = tr_notify_used,
		.notify_config = tr_notify_config,
		.requeue = tr_requeue,
	};
	struct virtio_pci *p;
	int ret;

	if ((ret = check_fits(vdev))) {
		release(vdev);
		return ret;
	}
	p = vpci_alloc(vdev, env, release);
	pci_func_init(&p->f, vdev->name, &vpci_ops, &p->env, VIRTIO_PCI_VENDOR,
		      VIRTIO_PCI_DEVICE_BASE + vdev->device_id,
		      virtio_pci_class(vdev->device_id), VIRTIO_PCI_REVISION,
		      VIRTIO_PCI_VENDOR, VIRTIO_PCI_SUBSYS_ID);
	ret = pci_func_add_bar(&p->f, VIRTIO_PCI_MSIX_BAR,
			       VIRTIO_PCI_MSIX_BAR_SIZE, 0);
	if (!ret)
		ret = pci_func_add_bar(&p->f, VIRTIO_PCI_BAR,
				       VIRTIO_PCI_BAR_SIZE,
				       PCI_BAR_MEM_TYPE_64);
	if (!ret)
		ret = add_caps(p);
	if (ret) {
		pr_err("%s: cannot set up virtio-pci: %s", vdev->name,
		       strerror(-ret));
		if (p->f.msix)
			pci_msix_free(p->f.msix);
		pthread_mutex_destroy(&p->f.intx.lock);
		vpci_destroy(p);
		return ret;
	}
	t.ctx = p;
	virtio_dev_attach(vdev, &t);
	*out = &p->f.dev;
	return 0;
}

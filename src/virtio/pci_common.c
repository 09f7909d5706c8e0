/* virtio-pci common configuration structure (spec 4.1.4.3), mapped onto
 * the transport-independent core.
 *
 * Choices: each field takes accesses of its own width at its own offset
 * only (spec 4.1.3.1), except that the 64-bit ring addresses also take
 * either 32-bit half; anything else reads 0 and is dropped with a
 * rate-limited warning, as are writes to read-only fields. A vector write
 * beyond the MSI-X table stores NO_VECTOR, which is what the driver reads
 * back to learn that it failed. queue_notify_data reads the queue index
 * (what the driver writes anyway: NOTIF_CONFIG_DATA is not offered);
 * queue_reset reads 0 (RING_RESET is not offered).
 */
#include "bus/pci_msix.h"
#include "core/util.h"
#include "virtio/pci_priv.h"

struct common_field {
	uint8_t off, width;
};

static const struct common_field fields[] = {
	{ VIRTIO_PCI_COMMON_DFSELECT, 4 }, { VIRTIO_PCI_COMMON_DF, 4 },
	{ VIRTIO_PCI_COMMON_GFSELECT, 4 }, { VIRTIO_PCI_COMMON_GF, 4 },
	{ VIRTIO_PCI_COMMON_MSIX, 2 },     { VIRTIO_PCI_COMMON_NUMQ, 2 },
	{ VIRTIO_PCI_COMMON_STATUS, 1 },   { VIRTIO_PCI_COMMON_CFGGEN, 1 },
	{ VIRTIO_PCI_COMMON_Q_SELECT, 2 }, { VIRTIO_PCI_COMMON_Q_SIZE, 2 },
	{ VIRTIO_PCI_COMMON_Q_MSIX, 2 },   { VIRTIO_PCI_COMMON_Q_ENABLE, 2 },
	{ VIRTIO_PCI_COMMON_Q_NOFF, 2 },   { VIRTIO_PCI_COMMON_Q_DESC, 8 },
	{ VIRTIO_PCI_COMMON_Q_AVAIL, 8 },  { VIRTIO_PCI_COMMON_Q_USED, 8 },
	{ VIRTIO_PCI_COMMON_Q_NDATA, 2 },  { VIRTIO_PCI_COMMON_Q_RESET, 2 },
};

/* The field an access of size bytes at off addresses, or NULL when the
 * access is not one the spec allows. */
static const struct common_field *find_field(uint64_t off, unsigned size)
{
	for (unsigned i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct common_field *f = &fields[i];

		if (off < f->off || off >= f->off + f->width)
			continue;
		if (off == f->off && size == f->width)
			return f;
		if (f->width == 8 && size == 4 && !((off - f->off) & 3))
			return f;
		return NULL;
	}
	return NULL;
}

static bool access_ok(struct virtio_pci *p, uint64_t off, unsigned size,
		      const char *what, const struct common_field **out)
{
	*out = find_field(off, size);
	if (*out)
		return true;
	pr_warn_ratelimited(&p->rl, "%s: %u-byte %s at common config %#llx "
			    "ignored", p->f.dev.name, size, what,
			    (unsigned long long)off);
	return false;
}

static enum virtio_queue_field addr_field(unsigned off)
{
	if (off == VIRTIO_PCI_COMMON_Q_DESC)
		return VIRTIO_QUEUE_DESC;
	if (off == VIRTIO_PCI_COMMON_Q_AVAIL)
		return VIRTIO_QUEUE_AVAIL;
	return VIRTIO_QUEUE_USED;
}

static bool queue_exists(const struct virtio_pci *p)
{
	return p->queue_sel < p->vdev->nr_queues;
}

static uint16_t queue_vector(const struct virtio_pci *p)
{
	if (!queue_exists(p))
		return VIRTIO_MSI_NO_VECTOR;
	return __atomic_load_n(&p->qs[p->queue_sel].vector, __ATOMIC_RELAXED);
}

static uint64_t field_read(struct virtio_pci *p, unsigned off)
{
	struct virtio_dev *d = p->vdev;
	unsigned q = p->queue_sel;

	switch (off) {
	case VIRTIO_PCI_COMMON_DFSELECT: return p->dev_feat_sel;
	case VIRTIO_PCI_COMMON_DF:
		return virtio_dev_device_features(d, p->dev_feat_sel);
	case VIRTIO_PCI_COMMON_GFSELECT: return p->drv_feat_sel;
	case VIRTIO_PCI_COMMON_GF:
		return virtio_dev_driver_features(d, p->drv_feat_sel);
	case VIRTIO_PCI_COMMON_MSIX:
		return __atomic_load_n(&p->config_vector, __ATOMIC_RELAXED);
	case VIRTIO_PCI_COMMON_NUMQ: return d->nr_queues;
	case VIRTIO_PCI_COMMON_STATUS: return virtio_dev_status(d);
	case VIRTIO_PCI_COMMON_CFGGEN:
		return (uint8_t)virtio_dev_config_generation(d);
	case VIRTIO_PCI_COMMON_Q_SELECT: return q;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		return virtio_queue_read(d, q, VIRTIO_QUEUE_SIZE);
	case VIRTIO_PCI_COMMON_Q_MSIX: return queue_vector(p);
	case VIRTIO_PCI_COMMON_Q_ENABLE:
		return virtio_queue_read(d, q, VIRTIO_QUEUE_READY);
	/* Queue q notifies at notify_off * multiplier = 4 * q. */
	case VIRTIO_PCI_COMMON_Q_NOFF:
	case VIRTIO_PCI_COMMON_Q_NDATA: return queue_exists(p) ? q : 0;
	case VIRTIO_PCI_COMMON_Q_DESC:
	case VIRTIO_PCI_COMMON_Q_AVAIL:
	case VIRTIO_PCI_COMMON_Q_USED:
		return virtio_queue_read(d, q, addr_field(off));
	}
	return 0;    /* queue_reset */
}

uint64_t vpci_common_read(struct virtio_pci *p, uint64_t off, unsigned size)
{
	const struct common_field *f;
	uint64_t v;

	if (!access_ok(p, off, size, "read", &f))
		return 0;
	v = field_read(p, f->off) >> (8 * (unsigned)(off - f->off));
	return size == 8 ? v : v & ((1ULL << (8 * size)) - 1);
}

/* The driver maps an event to a vector; one the table lacks is refused
 * by reading back NO_VECTOR (spec 4.1.5.1.2). */
static uint16_t checked_vector(const struct virtio_pci *p, uint64_t val)
{
	return val < pci_msix_nr(&p->f) ? (uint16_t)val : VIRTIO_MSI_NO_VECTOR;
}

static void set_status(struct virtio_pci *p, uint8_t val)
{
	if (val == 0)
		vpci_reset_locked(p, false);
	else
		virtio_dev_set_status(p->vdev, val);
}

static void set_queue_enable(struct virtio_pci *p, uint64_t val)
{
	/* Spec 4.1.4.3.2: the driver must not write 0; there is no way to
	 * disable a queue but a (queue) reset. */
	if (val != 1 || !queue_exists(p)) {
		pr_warn_ratelimited(&p->rl, "%s: queue_enable %llu for queue "
				    "%u ignored", p->f.dev.name,
				    (unsigned long long)val, p->queue_sel);
		return;
	}
	virtio_queue_write(p->vdev, p->queue_sel, VIRTIO_QUEUE_READY, 1);
	/* A bad ring leaves it not ready (and NEEDS_RESET set). */
	if (virtio_queue_read(p->vdev, p->queue_sel, VIRTIO_QUEUE_READY))
		vpci_queue_enabled(p, p->queue_sel);
}

/* A 64-bit ring address, whole or one 32-bit half. */
static void set_queue_addr(struct virtio_pci *p, unsigned field_off,
			   uint64_t off, unsigned size, uint64_t val)
{
	enum virtio_queue_field f = addr_field(field_off);
	unsigned shift = 8 * (unsigned)(off - field_off);
	uint64_t mask = size == 8 ? ~0ULL : 0xffffffffULL << shift;
	uint64_t cur = virtio_queue_read(p->vdev, p->queue_sel, f);

	virtio_queue_write(p->vdev, p->queue_sel, f,
			   (cur & ~mask) | ((val << shift) & mask));
}

static void set_queue_vector(struct virtio_pci *p, uint64_t val)
{
	if (queue_exists(p))
		__atomic_store_n(&p->qs[p->queue_sel].vector,
				 checked_vector(p, val), __ATOMIC_RELAXED);
}

void vpci_common_write(struct virtio_pci *p, uint64_t off, unsigned size,
		       uint64_t val)
{
	const struct common_field *f;

	if (!access_ok(p, off, size, "write", &f))
		return;
	switch (f->off) {
	case VIRTIO_PCI_COMMON_DFSELECT: p->dev_feat_sel = val; return;
	case VIRTIO_PCI_COMMON_GFSELECT: p->drv_feat_sel = val; return;
	case VIRTIO_PCI_COMMON_GF:
		virtio_dev_set_driver_features(p->vdev, p->drv_feat_sel, val);
		return;
	case VIRTIO_PCI_COMMON_MSIX:
		__atomic_store_n(&p->config_vector, checked_vector(p, val),
				 __ATOMIC_RELAXED);
		return;
	case VIRTIO_PCI_COMMON_STATUS: set_status(p, val); return;
	case VIRTIO_PCI_COMMON_Q_SELECT: p->queue_sel = val; return;
	case VIRTIO_PCI_COMMON_Q_SIZE:
		virtio_queue_write(p->vdev, p->queue_sel, VIRTIO_QUEUE_SIZE,
				   val);
		return;
	case VIRTIO_PCI_COMMON_Q_MSIX: set_queue_vector(p, val); return;
	case VIRTIO_PCI_COMMON_Q_ENABLE: set_queue_enable(p, val); return;
	case VIRTIO_PCI_COMMON_Q_DESC:
	case VIRTIO_PCI_COMMON_Q_AVAIL:
	case VIRTIO_PCI_COMMON_Q_USED:
		set_queue_addr(p, f->off, off, size, val);
		return;
	}
	/* device_feature, num_queues, config_generation, queue_notify_off,
	 * queue_notify_data, queue_reset: read-only here. */
	pr_warn_ratelimited(&p->rl, "%s: write %#llx to read-only common "
			    "config %#llx ignored", p->f.dev.name,
			    (unsigned long long)val, (unsigned long long)off);
}

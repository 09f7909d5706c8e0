/* virtio 1.x driver core for ring 3: the two transports' registers, the
 * status handshake and split virtqueues. Register accesses are MMIO exits
 * (tens of µs on nested KVM), so the data path touches only memory except
 * for the notify write, which virtq_kick() skips when the device says it
 * is already looking (VIRTQ_USED_F_NO_NOTIFY).
 */
#include "virtio.h"

/* virtio-mmio version 2 registers */
#define MMIO_MAGIC        0x000
#define MMIO_VERSION      0x004
#define MMIO_DEVICE_ID    0x008
#define MMIO_DEV_FEATURES 0x010
#define MMIO_DEV_FEAT_SEL 0x014
#define MMIO_DRV_FEATURES 0x020
#define MMIO_DRV_FEAT_SEL 0x024
#define MMIO_QUEUE_SEL    0x030
#define MMIO_QUEUE_NUM_MAX 0x034
#define MMIO_QUEUE_NUM    0x038
#define MMIO_QUEUE_READY  0x044
#define MMIO_QUEUE_NOTIFY 0x050
#define MMIO_STATUS       0x070
#define MMIO_QUEUE_DESC   0x080
#define MMIO_QUEUE_DRIVER 0x090
#define MMIO_QUEUE_DEVICE 0x0a0
#define MMIO_CONFIG       0x100
#define MMIO_MAGIC_VALUE  0x74726976   /* "virt" */

/* virtio-pci common configuration (struct virtio_pci_common_cfg) */
#define PCI_DEV_FEAT_SEL  0x00
#define PCI_DEV_FEATURES  0x04
#define PCI_DRV_FEAT_SEL  0x08
#define PCI_DRV_FEATURES  0x0c
#define PCI_NUM_QUEUES    0x12
#define PCI_STATUS        0x14
#define PCI_QUEUE_SEL     0x16
#define PCI_QUEUE_SIZE    0x18
#define PCI_QUEUE_MSIX    0x1a
#define PCI_QUEUE_ENABLE  0x1c
#define PCI_QUEUE_NOTIFY_OFF 0x1e
#define PCI_QUEUE_DESC    0x20
#define PCI_QUEUE_DRIVER  0x28
#define PCI_QUEUE_DEVICE  0x30

#ifdef __aarch64__
/* The AArch64 guest: the device tree's virtio,mmio nodes. */
#define MMIO_PROBE_SLOTS dt_nr_virtio
#define MMIO_SLOT(n)     dt_virtio[n]
#else
/* microvm's virtio-mmio slots: 0xfeb00000 + n * 512. */
#define MMIO_PROBE_BASE  0xfeb00000ull
#define MMIO_PROBE_SLOTS 32
#define MMIO_SLOT(n)     (MMIO_PROBE_BASE + (u64)(n) * 0x200)
#endif

static const char *type_name(u32 id)
{
	return id == VIRTIO_ID_BLK ? "blk" : id == VIRTIO_ID_CONSOLE ? "console" :
	       id == VIRTIO_ID_RNG ? "rng" : "?";
}

/* Is there a version-2 virtio-mmio device of type id at base? */
static bool mmio_probe(u64 base, u32 id, bool verbose)
{
	if (mmio_read32(base + MMIO_MAGIC) != MMIO_MAGIC_VALUE)
		return false;
	u32 ver = mmio_read32(base + MMIO_VERSION);
	u32 dev = mmio_read32(base + MMIO_DEVICE_ID);
	if (dev != id)
		return false;
	if (ver != 2) {
		/* QEMU: -global virtio-mmio.force-legacy=false */
		printf("virtio-mmio: 0x%lx: version %u (legacy) skipped: only "
		       "version 2 is supported\n", base, ver);
		return false;
	}
	if (verbose)
		printf("virtio: mmio 0x%lx type %u\n", base, id);
	return true;
}

static int mmio_find(struct vdev *d, u32 id)
{
	const char *p = param("mmio");
	if (p) {
		u64 base = param_u64("mmio", 0);
		if (!mmio_probe(base, id, true)) {
			printf("virtio-mmio: no %s device at 0x%lx\n",
			       type_name(id), base);
			return -1;
		}
		d->base = base;
	} else {
		unsigned n;
		for (n = 0; n < MMIO_PROBE_SLOTS; n++)
			if (mmio_probe(MMIO_SLOT(n), id, true))
				break;
		if (n == MMIO_PROBE_SLOTS)
			return -1;
		d->base = MMIO_SLOT(n);
	}
	d->transport = VIRTIO_MMIO;
	d->id = id;
	return 0;
}

int virtio_find(struct vdev *d, u32 id)
{
	const char *t = param("transport");
	memset(d, 0, sizeof(*d));
	if (t && strcmp(t, "pci") && strcmp(t, "mmio")) {
		printf("virtio: transport=%s: want pci or mmio\n", t);
		exit(2);
	}
	/* An explicit mmio= implies the MMIO transport. */
	bool try_pci = t ? !strcmp(t, "pci") : !param("mmio");
	bool try_mmio = t ? !strcmp(t, "mmio") : true;
	if (try_pci && pci_find_virtio(d, id) == 0)
		return 0;
	if (try_mmio && mmio_find(d, id) == 0)
		return 0;
	printf("virtio: no %s device found (transport=%s)\n", type_name(id),
	       t ? t : "any");
	return -1;
}

/* ---- register access, per transport ---- */

u8 virtio_status(struct vdev *d)
{
	if (d->transport == VIRTIO_PCI)
		return mmio_read8(d->common + PCI_STATUS);
	return (u8)mmio_read32(d->base + MMIO_STATUS);
}

static void set_status(struct vdev *d, u8 s)
{
	if (d->transport == VIRTIO_PCI)
		mmio_write8(d->common + PCI_STATUS, s);
	else
		mmio_write32(d->base + MMIO_STATUS, s);
}

static u32 dev_features(struct vdev *d, u32 sel)
{
	if (d->transport == VIRTIO_PCI) {
		mmio_write32(d->common + PCI_DEV_FEAT_SEL, sel);
		return mmio_read32(d->common + PCI_DEV_FEATURES);
	}
	mmio_write32(d->base + MMIO_DEV_FEAT_SEL, sel);
	return mmio_read32(d->base + MMIO_DEV_FEATURES);
}

static void drv_features(struct vdev *d, u32 sel, u32 v)
{
	if (d->transport == VIRTIO_PCI) {
		mmio_write32(d->common + PCI_DRV_FEAT_SEL, sel);
		mmio_write32(d->common + PCI_DRV_FEATURES, v);
	} else {
		mmio_write32(d->base + MMIO_DRV_FEAT_SEL, sel);
		mmio_write32(d->base + MMIO_DRV_FEATURES, v);
	}
}

u32 virtio_cfg_read(struct vdev *d, u32 off, u32 size)
{
	u64 a = d->transport == VIRTIO_PCI ? d->devcfg + off
					    : d->base + MMIO_CONFIG + off;
	if (d->transport == VIRTIO_PCI && !d->devcfg)
		return 0;
	return size == 1 ? mmio_read8(a) : size == 2 ? mmio_read16(a)
						     : mmio_read32(a);
}

/* Two 32-bit halves: a device may change the field between them, which
 * only matters for fields that change (not capacity in our tests). */
u64 virtio_cfg_read64(struct vdev *d, u32 off)
{
	return virtio_cfg_read(d, off, 4) |
	       (u64)virtio_cfg_read(d, off + 4, 4) << 32;
}

void virtio_reset(struct vdev *d)
{
	set_status(d, 0);
	/* Both transports: the reset is complete when status reads back 0
	 * (virtio 1.2 2.4); cvisor's take until the backend has given back
	 * the requests it held. */
	for (int i = 0; i < 1000 && virtio_status(d); i++)
		delay_us(100);
}

int virtio_negotiate(struct vdev *d, u64 wanted)
{
	virtio_reset(d);
	set_status(d, VIRTIO_STATUS_ACK);
	set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	u64 offered = dev_features(d, 0) | (u64)dev_features(d, 1) << 32;
	if (!(offered & VIRTIO_F_VERSION_1)) {
		printf("virtio: device does not offer VERSION_1 (features "
		       "0x%lx)\n", offered);
		goto fail;
	}
	d->features = offered & (wanted | VIRTIO_F_VERSION_1);
	drv_features(d, 0, (u32)d->features);
	drv_features(d, 1, (u32)(d->features >> 32));
	set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK);
	if (!(virtio_status(d) & VIRTIO_STATUS_FEATURES_OK)) {
		printf("virtio: FEATURES_OK refused (features 0x%lx)\n",
		       d->features);
		goto fail;
	}
	printf("virtio: offered 0x%lx accepted 0x%lx\n", offered, d->features);
	return 0;
fail:
	set_status(d, VIRTIO_STATUS_FAILED);
	return -1;
}

void virtio_driver_ok(struct vdev *d)
{
	set_status(d, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void write64(u64 addr, u64 v)
{
	mmio_write32(addr, (u32)v);
	mmio_write32(addr + 4, (u32)(v >> 32));
}

int virtio_queue_setup(struct vdev *d, struct virtq *q, u16 index, u16 want)
{
	u32 max;
	memset(q, 0, sizeof(*q));
	if (d->transport == VIRTIO_PCI) {
		if (index >= mmio_read16(d->common + PCI_NUM_QUEUES))
			return -1;
		mmio_write16(d->common + PCI_QUEUE_SEL, index);
		max = mmio_read16(d->common + PCI_QUEUE_SIZE);
	} else {
		mmio_write32(d->base + MMIO_QUEUE_SEL, index);
		if (mmio_read32(d->base + MMIO_QUEUE_READY))
			return -1;
		max = mmio_read32(d->base + MMIO_QUEUE_NUM_MAX);
	}
	if (!max)
		return -1;
	u32 size = want < max ? want : max;
	if (size > VIRTQ_MAX_SIZE)
		size = VIRTQ_MAX_SIZE;
	/* A split ring must be a power of two. */
	while (size & (size - 1))
		size &= size - 1;

	/* One page-aligned block: descriptors, avail ring, used ring (the
	 * latter on its own page, as the legacy layout does). */
	q->desc = heap_alloc(4096 * 3, 4096);
	if (!q->desc)
		return -1;
	q->avail = (struct virtq_avail *)((u8 *)q->desc + 16 * size);
	q->used = (struct virtq_used *)((u8 *)q->desc + 8192);
	q->index = index;
	q->size = (u16)size;
	/* We poll; interrupts are masked anyway, but spare the device the
	 * work of raising them (unless they go to an MSI-X vector: the
	 * AArch64 guest counts them). */
	q->avail->flags = d->msix ? 0 : VIRTQ_AVAIL_F_NO_INTERRUPT;

	u64 desc = (u64)q->desc, avail = (u64)q->avail, used = (u64)q->used;
	if (d->transport == VIRTIO_PCI) {
		mmio_write16(d->common + PCI_QUEUE_SIZE, (u16)size);
		mmio_write16(d->common + PCI_QUEUE_MSIX, d->msix ? 0 : 0xffff);
		write64(d->common + PCI_QUEUE_DESC, desc);
		write64(d->common + PCI_QUEUE_DRIVER, avail);
		write64(d->common + PCI_QUEUE_DEVICE, used);
		u16 off = mmio_read16(d->common + PCI_QUEUE_NOTIFY_OFF);
		mmio_write16(d->common + PCI_QUEUE_ENABLE, 1);
		q->notify_addr = d->notify + (u64)off * d->notify_mult;
		q->notify16 = true;
	} else {
		mmio_write32(d->base + MMIO_QUEUE_NUM, size);
		write64(d->base + MMIO_QUEUE_DESC, desc);
		write64(d->base + MMIO_QUEUE_DRIVER, avail);
		write64(d->base + MMIO_QUEUE_DEVICE, used);
		mmio_write32(d->base + MMIO_QUEUE_READY, 1);
		q->notify_addr = d->base + MMIO_QUEUE_NOTIFY;
	}
	return 0;
}

/* ---- the split virtqueue ---- */

void virtq_add(struct virtq *q, u16 head, const struct vbuf *bufs, int n,
	       struct virtq_desc *table)
{
	struct virtq_desc *t = table ? table : q->desc;
	u16 first = table ? 0 : head;
	for (int i = 0; i < n; i++) {
		struct virtq_desc *e = &t[first + i];
		e->addr = bufs[i].addr;
		e->len = bufs[i].len;
		e->flags = (u16)((bufs[i].write ? VIRTQ_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VIRTQ_DESC_F_NEXT : 0));
		e->next = (u16)(first + i + 1);
	}
	if (table) {
		q->desc[head].addr = (u64)table;
		q->desc[head].len = (u32)(16 * n);
		q->desc[head].flags = VIRTQ_DESC_F_INDIRECT;
		q->desc[head].next = 0;
	}
	q->avail->ring[q->next_avail & (q->size - 1)] = head;
	q->next_avail++;
	/* Descriptors and the ring entry before the index (release). */
	__atomic_store_n(&q->avail->idx, q->next_avail, __ATOMIC_RELEASE);
	q->unkicked++;
}

void virtq_kick(struct virtq *q)
{
	if (!q->unkicked)
		return;
	q->unkicked = 0;
	/* Our avail->idx store must be visible before we read the device's
	 * flag, or both sides could miss each other (store-load order). */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (q->used->flags & VIRTQ_USED_F_NO_NOTIFY)
		return;
	q->kicks++;
	if (q->notify16)
		mmio_write16(q->notify_addr, q->index);
	else
		mmio_write32(q->notify_addr, q->index);
}

bool virtq_get(struct virtq *q, u32 *id, u32 *len)
{
	u16 idx = __atomic_load_n(&q->used->idx, __ATOMIC_ACQUIRE);
	if (idx == q->last_used)
		return false;
	volatile struct virtq_used_elem *e =
		&q->used->ring[q->last_used & (q->size - 1)];
	*id = e->id;
	*len = e->len;
	q->last_used++;
	return true;
}

bool virtq_wait(struct virtq *q, u32 *id, u32 *len, u64 deadline)
{
	while (!virtq_get(q, id, len)) {
		if (rdtsc() >= deadline)
			return false;
		cpu_relax();
	}
	return true;
}

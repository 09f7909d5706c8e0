/* The hostile workload's virtio harness: raw register access on both
 * transports (the attacks need to write what a driver never would, so this
 * does not go through virtio.c's careful handshake), one scratch block per
 * device for rings and buffers, waiting for a used entry or NEEDS_RESET,
 * and the check every virtio attack ends with: reset, renegotiate, and one
 * well-formed request that must complete.
 */
#include "hostile.h"

/* virtio-mmio registers (version 2) */
#define M_MAGIC        0x000
#define M_VERSION      0x004
#define M_DEVICE_ID    0x008
#define M_DEV_FEATURES 0x010
#define M_DEV_FEAT_SEL 0x014
#define M_DRV_FEATURES 0x020
#define M_DRV_FEAT_SEL 0x024
#define M_QUEUE_SEL    0x030
#define M_QUEUE_NUM_MAX 0x034
#define M_QUEUE_NUM    0x038
#define M_QUEUE_READY  0x044
#define M_QUEUE_NOTIFY 0x050
#define M_STATUS       0x070
#define M_QUEUE_DESC   0x080
#define M_QUEUE_DRIVER 0x090
#define M_QUEUE_DEVICE 0x0a0
#define M_CONFIG       0x100

/* virtio-pci common configuration */
#define P_DEV_FEAT_SEL  0x00
#define P_DEV_FEATURES  0x04
#define P_DRV_FEAT_SEL  0x08
#define P_DRV_FEATURES  0x0c
#define P_NUM_QUEUES    0x12
#define P_STATUS        0x14
#define P_QUEUE_SEL     0x16
#define P_QUEUE_SIZE    0x18
#define P_QUEUE_MSIX    0x1a
#define P_QUEUE_ENABLE  0x1c
#define P_QUEUE_NOTIFY_OFF 0x1e
#define P_QUEUE_DESC    0x20
#define P_QUEUE_DRIVER  0x28
#define P_QUEUE_DEVICE  0x30

#define MMIO_SLOTS 8

static struct hdev devs[8];
static int ndevs;

struct virtq_desc *hv_desc(struct hdev *h)
{
	return (struct virtq_desc *)(h->mem + HV_DESC);
}

struct virtq_avail *hv_avail(struct hdev *h)
{
	return (struct virtq_avail *)(h->mem + HV_AVAIL);
}

volatile struct virtq_used *hv_used(struct hdev *h)
{
	return (volatile struct virtq_used *)(h->mem + HV_USED);
}

u64 hv_pa(struct hdev *h, u32 off)
{
	return (u64)h->mem + off;
}

static bool is_pci(struct hdev *h)
{
	return h->d.transport == VIRTIO_PCI;
}

u8 hv_status(struct hdev *h)
{
	if (is_pci(h))
		return mmio_read8(h->d.common + P_STATUS);
	return (u8)mmio_read32(h->d.base + M_STATUS);
}

void hv_set_status(struct hdev *h, u8 s)
{
	if (is_pci(h))
		mmio_write8(h->d.common + P_STATUS, s);
	else
		mmio_write32(h->d.base + M_STATUS, s);
}

void hv_reset(struct hdev *h)
{
	hv_set_status(h, 0);
	for (int i = 0; i < 1000 && hv_status(h); i++)
		delay_us(100);
}

u32 hv_dev_features(struct hdev *h, u32 sel)
{
	if (is_pci(h)) {
		mmio_write32(h->d.common + P_DEV_FEAT_SEL, sel);
		return mmio_read32(h->d.common + P_DEV_FEATURES);
	}
	mmio_write32(h->d.base + M_DEV_FEAT_SEL, sel);
	return mmio_read32(h->d.base + M_DEV_FEATURES);
}

void hv_drv_features(struct hdev *h, u32 sel, u32 v)
{
	if (is_pci(h)) {
		mmio_write32(h->d.common + P_DRV_FEAT_SEL, sel);
		mmio_write32(h->d.common + P_DRV_FEATURES, v);
	} else {
		mmio_write32(h->d.base + M_DRV_FEAT_SEL, sel);
		mmio_write32(h->d.base + M_DRV_FEATURES, v);
	}
}

bool hv_negotiate(struct hdev *h, u64 wanted)
{
	hv_reset(h);
	hv_set_status(h, VIRTIO_STATUS_ACK);
	hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
	h->offered = hv_dev_features(h, 0) | (u64)hv_dev_features(h, 1) << 32;
	u64 f = h->offered & (wanted | VIRTIO_F_VERSION_1);
	h->d.features = f;
	hv_drv_features(h, 0, (u32)f);
	hv_drv_features(h, 1, (u32)(f >> 32));
	hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK);
	return hv_status(h) & VIRTIO_STATUS_FEATURES_OK;
}

void hv_driver_ok(struct hdev *h)
{
	hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
		      VIRTIO_STATUS_FEATURES_OK | VIRTIO_STATUS_DRIVER_OK);
}

static void w64(u64 addr, u64 v)
{
	mmio_write32(addr, (u32)v);
	mmio_write32(addr + 4, (u32)(v >> 32));
}

/* PCI num_queues; virtio-mmio has no such register (0). */
u16 hv_virtio_num_queues(struct hdev *h)
{
	return is_pci(h) ? mmio_read16(h->d.common + P_NUM_QUEUES) : 0;
}

u16 hv_queue_max(struct hdev *h, u16 qi)
{
	if (is_pci(h)) {
		mmio_write16(h->d.common + P_QUEUE_SEL, qi);
		return mmio_read16(h->d.common + P_QUEUE_SIZE);
	}
	mmio_write32(h->d.base + M_QUEUE_SEL, qi);
	return (u16)mmio_read32(h->d.base + M_QUEUE_NUM_MAX);
}

bool hv_queue_raw(struct hdev *h, u16 qi, u32 size, u64 desc, u64 avail,
		  u64 used)
{
	h->qi = qi;
	h->size = (u16)size;
	h->avail_idx = h->used_seen = 0;
	if (is_pci(h)) {
		u64 c = h->d.common;
		mmio_write16(c + P_QUEUE_SEL, qi);
		mmio_write16(c + P_QUEUE_SIZE, (u16)size);
		mmio_write16(c + P_QUEUE_MSIX, 0xffff);
		w64(c + P_QUEUE_DESC, desc);
		w64(c + P_QUEUE_DRIVER, avail);
		w64(c + P_QUEUE_DEVICE, used);
		u16 off = mmio_read16(c + P_QUEUE_NOTIFY_OFF);
		h->notify = h->d.notify + (u64)off * h->d.notify_mult;
		mmio_write16(c + P_QUEUE_ENABLE, 1);
		return mmio_read16(c + P_QUEUE_ENABLE) == 1;
	}
	u64 b = h->d.base;
	mmio_write32(b + M_QUEUE_SEL, qi);
	mmio_write32(b + M_QUEUE_NUM, size);
	w64(b + M_QUEUE_DESC, desc);
	w64(b + M_QUEUE_DRIVER, avail);
	w64(b + M_QUEUE_DEVICE, used);
	h->notify = b + M_QUEUE_NOTIFY;
	mmio_write32(b + M_QUEUE_READY, 1);
	return mmio_read32(b + M_QUEUE_READY) == 1;
}

bool hv_queue(struct hdev *h, u16 qi)
{
	/* Rings and the first data pages start clean every time. */
	u64 *w = (u64 *)h->mem;
	for (u32 i = 0; i < HV_DATA / 8; i++)
		w[i] = 0;
	hv_avail(h)->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
	return hv_queue_raw(h, qi, HV_QSIZE, hv_pa(h, HV_DESC),
			    hv_pa(h, HV_AVAIL), hv_pa(h, HV_USED));
}

int hv_start(struct hdev *h, u16 qi)
{
	if (!hv_negotiate(h, VIRTIO_F_INDIRECT_DESC | (1ull << 5)))
		return hfail("%s: FEATURES_OK refused", h->name);
	if (!hv_queue(h, qi))
		return hfail("%s: queue %u not ready after set-up", h->name, qi);
	hv_driver_ok(h);
	u8 s = hv_status(h);
	if (!(s & VIRTIO_STATUS_DRIVER_OK) || (s & VIRTIO_STATUS_NEEDS_RESET))
		return hfail("%s: status 0x%x after DRIVER_OK", h->name, s);
	return 0;
}

void hv_publish(struct hdev *h, u16 head)
{
	struct virtq_avail *a = hv_avail(h);
	a->ring[h->avail_idx % (h->size ? h->size : 1)] = head;
	h->avail_idx++;
	__atomic_store_n(&a->idx, h->avail_idx, __ATOMIC_RELEASE);
}

void hv_kick(struct hdev *h)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (is_pci(h))
		mmio_write16(h->notify, h->qi);
	else
		mmio_write32(h->notify, h->qi);
}

enum hv_outcome hv_wait(struct hdev *h, u32 *id, u32 *len)
{
	volatile struct virtq_used *u = hv_used(h);
	u64 end = rdtsc() + ms_to_tsc(5000), next_status = 0;
	for (;;) {
		u16 idx = __atomic_load_n(&u->idx, __ATOMIC_ACQUIRE);
		if (idx != h->used_seen) {
			volatile struct virtq_used_elem *e =
				&u->ring[h->used_seen % (h->size ? h->size : 1)];
			if (id)
				*id = e->id;
			if (len)
				*len = e->len;
			h->used_seen++;
			return HV_USED_ENTRY;
		}
		u64 now = rdtsc();
		/* A status read is an exit: once a millisecond is enough. */
		if (now >= next_status) {
			if (hv_status(h) & VIRTIO_STATUS_NEEDS_RESET)
				return HV_NEEDS_RESET;
			next_status = now + ms_to_tsc(1);
		}
		if (now >= end)
			return HV_TIMEOUT;
		cpu_relax();
	}
}

const char *hv_outcome_name(enum hv_outcome o)
{
	return o == HV_USED_ENTRY ? "used-entry" :
	       o == HV_NEEDS_RESET ? "needs-reset" : "timeout";
}

void hv_set_desc(struct virtq_desc *t, u16 i, u64 addr, u32 len, u16 flags,
		 u16 next)
{
	t[i].addr = addr;
	t[i].len = len;
	t[i].flags = flags;
	t[i].next = next;
}

u32 hv_cfg_read(struct hdev *h, u32 off, u32 size)
{
	u64 a = is_pci(h) ? h->d.devcfg + off : h->d.base + M_CONFIG + off;
	if (is_pci(h) && !h->d.devcfg)
		return 0;
	return size == 1 ? mmio_read8(a) : size == 2 ? mmio_read16(a)
						     : mmio_read32(a);
}

int hv_blk_rw(struct hdev *h, u32 type, u64 sector, u64 buf, u32 len,
	      enum hv_outcome *out)
{
	struct virtq_desc *t = hv_desc(h);
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	volatile u8 *st = h->mem + HV_STATUS;
	u16 head = (u16)(h->avail_idx * 3 % h->size);
	hdr[0] = type;
	hdr[1] = 0;
	*(u64 *)&hdr[2] = sector;
	*st = 0xff;
	bool dev_writes = type == BLK_T_IN || type == BLK_T_GET_ID;
	if (len) {
		hv_set_desc(t, head, hv_pa(h, HV_HDR), 16, VIRTQ_DESC_F_NEXT,
			    (u16)((head + 1) % h->size));
		hv_set_desc(t, (head + 1) % h->size, buf, len, (u16)(VIRTQ_DESC_F_NEXT |
			    (dev_writes ? VIRTQ_DESC_F_WRITE : 0)),
			    (u16)((head + 2) % h->size));
		hv_set_desc(t, (head + 2) % h->size, hv_pa(h, HV_STATUS), 1,
			    VIRTQ_DESC_F_WRITE, 0);
	} else {
		hv_set_desc(t, head, hv_pa(h, HV_HDR), 16, VIRTQ_DESC_F_NEXT,
			    (u16)((head + 1) % h->size));
		hv_set_desc(t, (head + 1) % h->size, hv_pa(h, HV_STATUS), 1,
			    VIRTQ_DESC_F_WRITE, 0);
	}
	hv_publish(h, head);
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, NULL, NULL);
	if (out)
		*out = o;
	return o == HV_USED_ENTRY ? *st : -1;
}

static int check_blk(struct hdev *h)
{
	enum hv_outcome o;
	u8 *buf = h->mem + HV_DATA;
	memset(buf, 0, 512);
	int st = hv_blk_rw(h, BLK_T_IN, 0, hv_pa(h, HV_DATA), 512, &o);
	if (st != BLK_S_OK)
		return hfail("%s: read of sector 0 after reset: %s status %d",
			     h->name, hv_outcome_name(o), st);
	/* The read-only disk is the guest image: an ELF file. */
	if (h->ro && memcmp(buf, "\177ELF", 4))
		return hfail("%s: sector 0 is not the ELF image any more",
			     h->name);
	return 0;
}

static int check_console(struct hdev *h)
{
	static const char msg[] = "hostile: virtio-console still transmits\n";
	u32 len;
	memcpy(h->mem + HV_DATA, msg, sizeof(msg) - 1);
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_DATA), sizeof(msg) - 1, 0, 0);
	hv_publish(h, 0);
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, NULL, &len);
	if (o != HV_USED_ENTRY)
		return hfail("%s: transmit after reset: %s", h->name,
			     hv_outcome_name(o));
	return 0;
}

static int check_rng(struct hdev *h)
{
	u32 len = 0;
	u8 *buf = h->mem + HV_DATA;
	memset(buf, 0, 256);
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_DATA), 256, VIRTQ_DESC_F_WRITE, 0);
	hv_publish(h, 0);
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, NULL, &len);
	if (o != HV_USED_ENTRY || len == 0 || len > 256)
		return hfail("%s: request after reset: %s len %u", h->name,
			     hv_outcome_name(o), len);
	u32 nz = 0;
	for (u32 i = 0; i < len; i++)
		nz += buf[i] != 0;
	if (!nz)
		return hfail("%s: %u bytes of zeros", h->name, len);
	return 0;
}

int hv_check(struct hdev *h)
{
	/* The console's transmitq is queue 1; blk and rng use queue 0. */
	u16 qi = h->d.id == VIRTIO_ID_CONSOLE ? 1 : 0;
	if (hv_start(h, qi))
		return 1;
	int rc = h->d.id == VIRTIO_ID_BLK ? check_blk(h) :
		 h->d.id == VIRTIO_ID_CONSOLE ? check_console(h) : check_rng(h);
	hv_reset(h);
	return rc;
}

int hv_expect_needs_reset(struct hdev *h)
{
	u32 id, len;
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, &id, &len);
	if (o != HV_NEEDS_RESET)
		return hfail("%s: expected NEEDS_RESET, got %s (status 0x%x)",
			     h->name, hv_outcome_name(o), hv_status(h));
	/* A broken queue publishes nothing. */
	if (hv_used(h)->idx != 0)
		return hfail("%s: broken queue published %u used entries",
			     h->name, hv_used(h)->idx);
	return hv_check(h);
}

/* ---- discovery ---- */

static bool mmio_match(u64 base, u32 id)
{
	return mmio_read32(base + M_MAGIC) == 0x74726976 &&
	       mmio_read32(base + M_VERSION) == 2 &&
	       mmio_read32(base + M_DEVICE_ID) == id;
}

static const char *type_str(u32 id)
{
	return id == VIRTIO_ID_BLK ? "blk" : id == VIRTIO_ID_CONSOLE ?
	       "console" : "rng";
}

static struct hdev *add(struct vdev *d, bool ro)
{
	if (ndevs == (int)(sizeof(devs) / sizeof(*devs)))
		return NULL;
	struct hdev *h = &devs[ndevs++];
	static char names[8][24];
	h->d = *d;
	h->ro = ro;
	h->mem = heap_alloc(HV_MEM_SIZE, 4096);
	fmt(names[h - devs], sizeof(names[0]), "%s%s-%s", type_str(d->id),
	    ro ? "-ro" : "", d->transport == VIRTIO_PCI ? "pci" : "mmio");
	h->name = names[h - devs];
	return h->mem ? h : NULL;
}

/* Device `id` on `transport` (for blk: read-only or not). PCI: the first
 * function of that type; MMIO: the slots from hmmio= (0x200 apart). */
struct hdev *hv_get(u32 id, u32 transport, bool ro)
{
	for (int i = 0; i < ndevs; i++)
		if (devs[i].d.id == id && devs[i].d.transport == transport &&
		    (id != VIRTIO_ID_BLK || devs[i].ro == ro))
			return &devs[i];
	struct vdev d;
	memset(&d, 0, sizeof(d));
	if (transport == VIRTIO_PCI) {
		if (pci_find_virtio(&d, id) < 0)
			return NULL;
		struct hdev *h = add(&d, false);
		if (h && id == VIRTIO_ID_BLK && (hv_dev_features(h, 0) & (1u << 5))) {
			h->ro = true;
			h->name = "blk-ro-pci";
		}
		return h && h->ro == ro ? h : NULL;
	}
	u64 base0 = param_u64("hmmio", 0xfe100000);
	for (int n = 0; n < MMIO_SLOTS; n++) {
		u64 b = base0 + (u64)n * 0x200;
		if (!mmio_match(b, id))
			continue;
		d.base = b;
		d.transport = VIRTIO_MMIO;
		d.id = id;
		mmio_write32(b + M_DEV_FEAT_SEL, 0);
		bool dro = mmio_read32(b + M_DEV_FEATURES) & (1u << 5);
		if (id == VIRTIO_ID_BLK && dro != ro)
			continue;
		return add(&d, dro && id == VIRTIO_ID_BLK);
	}
	return NULL;
}

/* End of the RAM block the heap lives in: the heap allocator's limit. */
u64 hv_ram_top(void)
{
	return (u64)heap_alloc(0, 1) + heap_free_bytes();
}

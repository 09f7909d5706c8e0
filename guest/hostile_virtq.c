/* Hostile virtqueues: malformed descriptor chains, indirect tables, ring
 * indices and ring placements, on virtio-blk over both transports (the
 * read-write disk on PCI, the read-only one on MMIO). cvisor must refuse
 * each one by marking the queue broken (DEVICE_NEEDS_RESET, nothing
 * published) or by refusing the queue set-up, and the device must work
 * again after a reset.
 */
#include "hostile.h"

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND VIRTQ_DESC_F_INDIRECT

typedef int (*vq_attack)(struct hdev *h);

/* Runs an attack on the blk device of each transport: PCI (read-write)
 * and MMIO (read-only), each on a freshly started queue 0. */
static int on_both(vq_attack fn)
{
	static const struct { u32 t; bool ro; } which[] = {
		{ VIRTIO_PCI, false }, { VIRTIO_MMIO, true },
	};
	for (u32 i = 0; i < 2; i++) {
		struct hdev *h = hv_get(VIRTIO_ID_BLK, which[i].t, which[i].ro);
		if (!h)
			return hfail("no virtio-blk on %s",
				     which[i].t == VIRTIO_PCI ? "pci" : "mmio");
		if (hv_start(h, 0) || fn(h))
			return 1;
	}
	return 0;
}

/* A blk read header at descriptor i of table t, chained to next. */
static void hdr_desc(struct hdev *h, struct virtq_desc *t, u16 i, u16 next)
{
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	hdr[0] = BLK_T_IN;
	hdr[1] = 0;
	hdr[2] = hdr[3] = 0;
	hv_set_desc(t, i, hv_pa(h, HV_HDR), 16, F_NEXT, next);
}

static void status_desc(struct hdev *h, struct virtq_desc *t, u16 i)
{
	hv_set_desc(t, i, hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
}

/* desc 0 -> 1 -> 0 */
static int loop(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_DATA), 512, F_NEXT | F_WRITE, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_loop(void)
{
	return on_both(loop);
}

/* PCI: an indirect table of 2048 entries (the limit is 1024). MMIO: a
 * legal-sized table whose chain runs off its own end back to entry 0, so
 * the walk is longer than the table. */
static int long_chain(struct hdev *h)
{
	struct virtq_desc *it = (struct virtq_desc *)(h->mem + HV_TABLE);
	u32 n = h->d.transport == VIRTIO_PCI ? 2048 : 1024;
	hdr_desc(h, it, 0, 1);
	for (u32 i = 1; i < n - 1; i++)
		hv_set_desc(it, (u16)i, hv_pa(h, HV_DATA), 0, F_NEXT | F_WRITE,
			    (u16)(i + 1));
	hv_set_desc(it, (u16)(n - 1), hv_pa(h, HV_STATUS), 1, F_WRITE | F_NEXT,
		    n == 1024 ? 1 : 0);
	if (n == 2048)
		hv_set_desc(it, (u16)(n - 1), hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_TABLE), n * 16, F_IND, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_long_chain(void)
{
	return on_both(long_chain);
}

static int next_range(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 0xffff);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_next_range(void)
{
	return on_both(next_range);
}

static int head_range(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	status_desc(h, t, 1);
	hv_publish(h, h->d.transport == VIRTIO_PCI ? HV_QSIZE : 0xffff);
	return hv_expect_needs_reset(h);
}

int hostile_vq_head_range(void)
{
	return on_both(head_range);
}

/* The indirect table's address: just past the end of RAM (PCI), and in
 * the hole below 4 GiB where nothing is (MMIO). */
static int indirect_outside(struct hdev *h)
{
	u64 a = h->d.transport == VIRTIO_PCI ? hv_ram_top() : 0xa0000000ull;
	hv_set_desc(hv_desc(h), 0, a, 48, F_IND, 0);
	hv_publish(h, 0);
	if (hv_expect_needs_reset(h))
		return 1;
	/* Straddling the end of RAM: the first entries are RAM. */
	if (hv_start(h, 0))
		return 1;
	hv_set_desc(hv_desc(h), 0, hv_ram_top() - 32, 64, F_IND, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_indirect_outside(void)
{
	return on_both(indirect_outside);
}

/* The table in device memory: the LAPIC page (PCI device), the device's
 * own registers (MMIO device). */
static int indirect_mmio(struct hdev *h)
{
	u64 a = h->d.transport == VIRTIO_PCI ? LAPIC_BASE : h->d.base;
	hv_set_desc(hv_desc(h), 0, a, 48, F_IND, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_indirect_mmio(void)
{
	return on_both(indirect_mmio);
}

static int indirect_nested(struct hdev *h)
{
	struct virtq_desc *it = (struct virtq_desc *)(h->mem + HV_TABLE);
	struct virtq_desc *it2 = it + 8;
	hdr_desc(h, it2, 0, 1);
	status_desc(h, it2, 1);
	hv_set_desc(it, 0, (u64)it2, 32, F_IND, 0);
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_TABLE), 16, F_IND, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_indirect_nested(void)
{
	return on_both(indirect_nested);
}

/* Lengths 0, 17 (not whole entries), and INDIRECT together with NEXT. */
static int indirect_len(struct hdev *h)
{
	static const struct { u32 len; u16 flags; } cases[] = {
		{ 0, F_IND }, { 17, F_IND }, { 32, F_IND | F_NEXT },
	};
	struct virtq_desc *it = (struct virtq_desc *)(h->mem + HV_TABLE);
	for (u32 i = 0; i < 3; i++) {
		if (i && hv_start(h, 0))
			return 1;
		hdr_desc(h, it, 0, 1);
		status_desc(h, it, 1);
		hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_TABLE), cases[i].len,
			    cases[i].flags, 1);
		status_desc(h, hv_desc(h), 1);
		hv_publish(h, 0);
		if (hv_expect_needs_reset(h))
			return 1;
	}
	return 0;
}

int hostile_vq_indirect_len(void)
{
	return on_both(indirect_len);
}

/* A data buffer that ends exactly at the end of RAM is fine; one that
 * runs 256 bytes past it is not. */
static int end_of_ram(struct hdev *h)
{
	enum hv_outcome o;
	u64 top = hv_ram_top();
	int st = hv_blk_rw(h, BLK_T_IN, 0, top - 512, 512, &o);
	if (st != BLK_S_OK)
		return hfail("%s: read into the last 512 bytes of RAM: %s "
			     "status %d", h->name, hv_outcome_name(o), st);
	if (hv_start(h, 0))
		return 1;
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, top - 256, 512, F_NEXT | F_WRITE, 2);
	status_desc(h, t, 2);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_end_of_ram(void)
{
	return on_both(end_of_ram);
}

/* Buffers at 4 GiB (nothing there) and one whose end wraps the address
 * space. */
static int beyond_ram(struct hdev *h)
{
	static const u64 addrs[] = { 0x100000000ull, 0xfffffffffffff000ull };
	for (u32 i = 0; i < 2; i++) {
		if (i && hv_start(h, 0))
			return 1;
		struct virtq_desc *t = hv_desc(h);
		hdr_desc(h, t, 0, 1);
		hv_set_desc(t, 1, addrs[i], 0x2000, F_NEXT | F_WRITE, 2);
		status_desc(h, t, 2);
		hv_publish(h, 0);
		if (hv_expect_needs_reset(h))
			return 1;
	}
	return 0;
}

int hostile_vq_beyond_ram(void)
{
	return on_both(beyond_ram);
}

/* 4 GiB - 1 bytes from a RAM address. */
static int huge_len(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_DATA), 0xffffffffu, F_NEXT | F_WRITE, 2);
	status_desc(h, t, 2);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_huge_len(void)
{
	return on_both(huge_len);
}

/* avail->idx 21 ahead of a 16-entry ring (PCI), and going backwards
 * (MMIO: 0xffff after 0). */
static int avail_jump(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	status_desc(h, t, 1);
	for (u32 i = 0; i < HV_QSIZE; i++)
		hv_avail(h)->ring[i] = 0;
	u16 idx = h->d.transport == VIRTIO_PCI ? HV_QSIZE + 5 : 0xffff;
	__atomic_store_n(&hv_avail(h)->idx, idx, __ATOMIC_RELEASE);
	return hv_expect_needs_reset(h);
}

int hostile_vq_avail_jump(void)
{
	return on_both(avail_jump);
}

/* Ring set-ups the device must refuse: the queue stays not ready. */
static int bad_queue(struct hdev *h, const char *what, u32 size, u64 desc,
		     u64 avail, u64 used)
{
	if (!hv_negotiate(h, VIRTIO_F_INDIRECT_DESC))
		return hfail("%s: FEATURES_OK refused", h->name);
	if (hv_queue_raw(h, 0, size, desc, avail, used))
		return hfail("%s: queue with %s became ready", h->name, what);
	hv_driver_ok(h);
	/* Kicking the refused queue must do nothing harmful either. */
	hv_kick(h);
	return hv_check(h);
}

static int used_outside(struct hdev *h)
{
	u64 top = hv_ram_top();
	u64 d = hv_pa(h, HV_DESC), a = hv_pa(h, HV_AVAIL);
	return bad_queue(h, "used ring past RAM", 16, d, a, top) ||
	       bad_queue(h, "used ring across the end of RAM", 16, d, a, top - 64) ||
	       bad_queue(h, "used ring on the LAPIC", 16, d, a, LAPIC_BASE) ||
	       bad_queue(h, "descriptors at 4 GiB", 16, 0x100000000ull, a,
			 hv_pa(h, HV_USED)) ||
	       bad_queue(h, "misaligned descriptors", 16, d + 8, a,
			 hv_pa(h, HV_USED)) ||
	       bad_queue(h, "misaligned used ring", 16, d, a,
			 hv_pa(h, HV_USED) + 2) ||
	       bad_queue(h, "avail ring wrapping", 16, d, 0xfffffffffffffffeull,
			 hv_pa(h, HV_USED));
}

int hostile_vq_used_outside(void)
{
	return on_both(used_outside);
}

static int bad_sizes(struct hdev *h)
{
	hv_reset(h);   /* PCI: queue_size reads the maximum after a reset */
	u16 max = hv_queue_max(h, 0);
	u64 d = hv_pa(h, HV_DESC), a = hv_pa(h, HV_AVAIL), u = hv_pa(h, HV_USED);
	hnote("%s: queue 0 size after reset %u", h->name, max);
	if (max < 4)
		return hfail("%s: queue max %u", h->name, max);
	/* Sizes beyond what our 4 KiB rings hold are refused before the
	 * rings are looked at, so the small scratch block is fine. */
	return bad_queue(h, "size 3", 3, d, a, u) ||
	       bad_queue(h, "size 0", 0, d, a, u) ||
	       bad_queue(h, "size max * 2", (u32)max * 2, d, a, u) ||
	       bad_queue(h, "size 0x8000", 0x8000, d, a, u) ||
	       bad_queue(h, "size 0xffff", 0xffff, d, a, u) ||
	       (h->d.transport == VIRTIO_MMIO &&
		bad_queue(h, "size 0x10000", 0x10000, d, a, u));
}

int hostile_vq_bad_sizes(void)
{
	return on_both(bad_sizes);
}

/* Notifies for queues that are not set up, that do not exist, and for a
 * set-up queue before DRIVER_OK: nothing may be processed. */
static int notify_disabled(struct hdev *h)
{
	if (!hv_negotiate(h, 0))
		return hfail("%s: FEATURES_OK refused", h->name);
	static const u16 qs[] = { 0, 1, 7, 0x7fff, 0xffff };
	for (u32 i = 0; i < 5; i++) {
		h->qi = qs[i];
		if (h->d.transport == VIRTIO_MMIO)
			h->notify = h->d.base + 0x050;
		else
			h->notify = h->d.notify + (u64)(qs[i] & 0xff) * h->d.notify_mult;
		hv_kick(h);
	}
	if (!hv_queue(h, 0))
		return hfail("%s: queue set-up refused", h->name);
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	status_desc(h, t, 1);
	*(h->mem + HV_STATUS) = 0xff;
	hv_publish(h, 0);
	hv_kick(h);
	/* Not yet DRIVER_OK: if the device took it we would usually see it
	 * by now (a miss only hides a bug, it cannot fail a good device). */
	delay_us(2000);
	if (hv_used(h)->idx)
		return hfail("%s: request processed before DRIVER_OK", h->name);
	hv_reset(h);
	return hv_check(h);
}

int hostile_vq_notify_disabled(void)
{
	return on_both(notify_disabled);
}

/* Requests in flight while the queue is switched off and on again
 * (MMIO QueueReady), or re-programmed while enabled (PCI: queue_enable 0,
 * size and addresses written while enabled), then reset. */
static int ready_toggle(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	hdr[0] = BLK_T_IN;
	hdr[1] = hdr[2] = hdr[3] = 0;
	for (u16 r = 0; r < 5; r++) {
		u16 b = (u16)(3 * r);
		hv_set_desc(t, b, hv_pa(h, HV_HDR), 16, F_NEXT, (u16)(b + 1));
		hv_set_desc(t, b + 1, hv_pa(h, HV_DATA) + r * 4096u, 4096,
			    F_NEXT | F_WRITE, (u16)(b + 2));
		hv_set_desc(t, b + 2, hv_pa(h, HV_STATUS) + r, 1, F_WRITE, 0);
		hv_publish(h, b);
	}
	hv_kick(h);
	for (u32 i = 0; i < 20; i++) {
		if (h->d.transport == VIRTIO_MMIO) {
			mmio_write32(h->d.base + 0x044, i & 1);
			hv_kick(h);
		} else {
			u64 c = h->d.common;
			mmio_write16(c + 0x1c, 0);               /* enable 0 */
			mmio_write16(c + 0x18, (u16)(i * 7));    /* size */
			mmio_write32(c + 0x20, (u32)(0x1000 * i)); /* desc lo */
			mmio_write32(c + 0x30, 0xfee00000u);     /* used lo */
			hv_kick(h);
		}
	}
	/* Reset with whatever is still in flight. */
	hv_reset(h);
	if (hv_status(h))
		return hfail("%s: status 0x%x after reset", h->name, hv_status(h));
	return hv_check(h);
}

int hostile_vq_ready_toggle(void)
{
	return on_both(ready_toggle);
}

/* A device-readable descriptor after a writable one (spec 2.7.4.2). */
static int order(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_STATUS), 1, F_WRITE | F_NEXT, 2);
	hv_set_desc(t, 2, hv_pa(h, HV_DATA), 512, 0, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_order(void)
{
	return on_both(order);
}

/* Rings that fit only without their event fields (used: 6 + 8 * size
 * bytes, avail: 6 + 2 * size), ending exactly at the end of RAM, with
 * EVENT_IDX negotiated (the device then writes avail_event and reads
 * used_event) and without. The queue must be refused. */
static int event_idx_edge(struct hdev *h)
{
	u64 top = hv_ram_top();
	u64 d = hv_pa(h, HV_DESC), a = hv_pa(h, HV_AVAIL), u = hv_pa(h, HV_USED);
	for (u32 ev = 0; ev < 2; ev++) {
		u64 want = VIRTIO_F_INDIRECT_DESC | (ev ? VIRTIO_F_EVENT_IDX : 0);
		if (!hv_negotiate(h, want))
			return hfail("%s: FEATURES_OK refused", h->name);
		if (hv_queue_raw(h, 0, HV_QSIZE, d, a, top - (4 + 8 * HV_QSIZE)))
			return hfail("%s: used ring without room for avail_event "
				     "accepted (event_idx=%u)", h->name, ev);
		if (!hv_negotiate(h, want))
			return hfail("%s: FEATURES_OK refused", h->name);
		if (hv_queue_raw(h, 0, HV_QSIZE, d, top - (4 + 2 * HV_QSIZE), u))
			return hfail("%s: avail ring without room for used_event "
				     "accepted (event_idx=%u)", h->name, ev);
	}
	return hv_check(h);
}

int hostile_vq_event_idx_edge(void)
{
	return on_both(event_idx_edge);
}

/* A buffer and an indirect table across the hole between the first RAM
 * region (ending at 0xa0000) and the next (at 1 MiB). */
static int across_hole(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, 0x9f000, 0x2000, F_NEXT | F_WRITE, 2);
	status_desc(h, t, 2);
	hv_publish(h, 0);
	if (hv_expect_needs_reset(h) || hv_start(h, 0))
		return 1;
	hv_set_desc(hv_desc(h), 0, 0x9fff0, 64, F_IND, 0);
	hv_publish(h, 0);
	return hv_expect_needs_reset(h);
}

int hostile_vq_across_hole(void)
{
	return on_both(across_hole);
}

/* virtio-mmio lets a driver stop a queue (QueueReady = 0, read back) and
 * set it up again. With reads in flight, the queue is stopped, moved to
 * new rings and restarted at once: the new used ring may only ever show
 * the request made on it, never a late completion of the old ones. */
int hostile_vq_ready_reprogram(void)
{
	struct hdev *h = hv_get(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	if (!h)
		return hfail("no read-only virtio-blk on mmio");
	for (u32 round = 0; round < 8; round++) {
		if (hv_start(h, 0))
			return 1;
		struct virtq_desc *t = hv_desc(h);
		u32 *hdr = (u32 *)(h->mem + HV_HDR);
		hdr[0] = BLK_T_IN;
		hdr[1] = hdr[2] = hdr[3] = 0;
		for (u16 r = 0; r < 5; r++) {
			u16 b = (u16)(3 * r);
			hv_set_desc(t, b, hv_pa(h, HV_HDR), 16, F_NEXT, (u16)(b + 1));
			hv_set_desc(t, b + 1, hv_pa(h, HV_DATA) + r * 4096u, 4096,
				    F_NEXT | F_WRITE, (u16)(b + 2));
			hv_set_desc(t, b + 2, hv_pa(h, HV_STATUS) + r, 1, F_WRITE, 0);
			hv_publish(h, b);
		}
		hv_kick(h);
		mmio_write32(h->d.base + 0x030, 0);
		mmio_write32(h->d.base + 0x044, 0);
		if (mmio_read32(h->d.base + 0x044))
			return hfail("%s: QueueReady still 1 after writing 0", h->name);
		/* New rings in the table area, one request with head 1, an id
		 * no old request had, so a stale completion shows. */
		u8 *m2 = h->mem + HV_TABLE;
		memset(m2, 0, 0x3000);
		struct virtq_desc *t2 = (struct virtq_desc *)m2;
		struct virtq_avail *a2 = (struct virtq_avail *)(m2 + 0x1000);
		volatile struct virtq_used *u2 = (volatile struct virtq_used *)(m2 + 0x2000);
		a2->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
		if (!hv_queue_raw(h, 0, HV_QSIZE, (u64)t2, (u64)a2, (u64)u2))
			return hfail("%s: queue refused after QueueReady 0", h->name);
		volatile u8 *st = h->mem + HV_STATUS + 8;
		*st = 0xff;
		hv_set_desc(t2, 1, hv_pa(h, HV_HDR), 16, F_NEXT, 2);
		hv_set_desc(t2, 2, hv_pa(h, HV_DATA) + 5 * 4096u, 512, F_NEXT | F_WRITE, 4);
		hv_set_desc(t2, 4, (u64)st, 1, F_WRITE, 0);
		a2->ring[0] = 1;
		__atomic_store_n(&a2->idx, 1, __ATOMIC_RELEASE);
		hv_kick(h);
		u64 end = rdtsc() + ms_to_tsc(5000);
		while (!__atomic_load_n(&u2->idx, __ATOMIC_ACQUIRE) && rdtsc() < end &&
		       !(hv_status(h) & VIRTIO_STATUS_NEEDS_RESET))
			delay_us(100);
		u16 n = u2->idx;
		if (n != 1 || u2->ring[0].id != 1 || *st != BLK_S_OK)
			return hfail("%s: round %u: new ring has %u entries (first id "
				     "%u), status 0x%x, request status %u", h->name,
				     round, n, u2->ring[0].id, hv_status(h), *st);
		hv_reset(h);
	}
	return hv_check(h);
}

/* One read through an indirect table of n entries: header, n - 2
 * 512-byte segments all over the same page, status. 62 segments are
 * fine; 1000 exceed what the device takes in one request (seg_max 254):
 * an error status or a broken queue, but an answer either way. */
static int many_segments(struct hdev *h)
{
	static const u32 ns[] = { 64, 1000 };
	for (u32 k = 0; k < 2; k++) {
		if (k && hv_start(h, 0))
			return 1;
		u32 n = ns[k];
		struct virtq_desc *it = (struct virtq_desc *)(h->mem + HV_TABLE);
		volatile u8 *st = h->mem + HV_STATUS;
		*st = 0xff;
		hdr_desc(h, it, 0, 1);
		for (u32 i = 1; i < n - 1; i++)
			hv_set_desc(it, (u16)i, hv_pa(h, HV_DATA), 512,
				    F_NEXT | F_WRITE, (u16)(i + 1));
		status_desc(h, it, (u16)(n - 1));
		hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_TABLE), n * 16, F_IND, 0);
		hv_publish(h, 0);
		hv_kick(h);
		enum hv_outcome o = hv_wait(h, NULL, NULL);
		if (o == HV_TIMEOUT || (k == 0 && (o != HV_USED_ENTRY || *st != BLK_S_OK)))
			return hfail("%s: %u-entry table: %s status %u", h->name, n,
				     hv_outcome_name(o), *st);
		hnote("%s: %u-entry table: %s status %u", h->name, n,
		      hv_outcome_name(o), *st);
	}
	return hv_check(h);
}

int hostile_vq_many_segments(void)
{
	return on_both(many_segments);
}

/* Requests whose data lands on the queue's own rings: a blk read over the
 * descriptor table, avail and used rings, an rng fill over them. What the
 * guest then sees is garbage; the device must survive and reset. */
int hostile_vq_dma_into_ring(void)
{
	struct hdev *b = hv_get(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *r = hv_get(VIRTIO_ID_RNG, VIRTIO_MMIO, false);
	if (!b || !r)
		return hfail("missing blk on pci or rng on mmio");
	if (hv_start(b, 0))
		return 1;
	struct virtq_desc *t = hv_desc(b);
	hdr_desc(b, t, 0, 1);
	hv_set_desc(t, 1, hv_pa(b, HV_DESC), 0x3000, F_NEXT | F_WRITE, 2);
	status_desc(b, t, 2);
	hv_publish(b, 0);
	hv_kick(b);
	enum hv_outcome o = hv_wait(b, NULL, NULL);
	hnote("%s: read over its own rings: %s", b->name, hv_outcome_name(o));
	if (hv_check(b) || hv_start(r, 0))
		return 1;
	hv_set_desc(hv_desc(r), 0, hv_pa(r, HV_DESC), 0x3000, F_WRITE, 0);
	hv_publish(r, 0);
	hv_kick(r);
	o = hv_wait(r, NULL, NULL);
	hnote("%s: fill over its own rings: %s", r->name, hv_outcome_name(o));
	return hv_check(r);
}

/* The machine has a ROM at rom= (0xc0000, 256 KiB). The CPU cannot write
 * it; a device may read from it (a blk write from ROM data, an indirect
 * table in ROM) but never write into it (a blk read or an rng fill into
 * ROM, a used ring there). */
int hostile_vq_rom(void)
{
	u64 rom = param_u64("rom", 0xc0000);
	volatile u32 *p = phys(rom + 0x100);
	u32 before = *p;
	*p = before ^ 0x5a5a5a5a;
	if (*p != before)
		return hfail("the CPU wrote into ROM at 0x%lx", rom + 0x100);
	struct hdev *h = hv_get(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *r = hv_get(VIRTIO_ID_RNG, VIRTIO_PCI, false);
	if (!h || !r)
		return hfail("missing blk or rng on pci");
	enum hv_outcome o;
	if (hv_start(h, 0))
		return 1;
	int st = hv_blk_rw(h, BLK_T_OUT, 16, rom, 4096, &o);
	if (st != BLK_S_OK)
		return hfail("%s: write from ROM: %s status %d", h->name,
			     hv_outcome_name(o), st);
	/* An indirect table in ROM is readable: whatever it holds, the
	 * request is answered or the queue refused, nothing else. */
	hv_set_desc(hv_desc(h), 5, rom, 48, F_IND, 0);
	hv_publish(h, 5);
	hv_kick(h);
	o = hv_wait(h, NULL, NULL);
	if (o == HV_TIMEOUT)
		return hfail("%s: indirect table in ROM: timeout", h->name);
	hnote("%s: indirect table in ROM: %s", h->name, hv_outcome_name(o));
	if (hv_start(h, 0))
		return 1;
	struct virtq_desc *t = hv_desc(h);
	hdr_desc(h, t, 0, 1);
	hv_set_desc(t, 1, rom, 512, F_NEXT | F_WRITE, 2);
	status_desc(h, t, 2);
	hv_publish(h, 0);
	if (hv_expect_needs_reset(h))
		return 1;
	if (hv_start(r, 0))
		return 1;
	hv_set_desc(hv_desc(r), 0, rom + 0x1000, 64, F_WRITE, 0);
	hv_publish(r, 0);
	if (hv_expect_needs_reset(r))
		return 1;
	if (!hv_negotiate(h, 0))
		return hfail("%s: FEATURES_OK refused", h->name);
	if (hv_queue_raw(h, 0, HV_QSIZE, hv_pa(h, HV_DESC), hv_pa(h, HV_AVAIL), rom))
		return hfail("%s: used ring in ROM accepted", h->name);
	if (*p != before)
		return hfail("ROM at 0x%lx changed", rom + 0x100);
	return hv_check(h);
}

/* A driver that resets with reads in flight and does not wait for the
 * status to read 0 (the spec says it should): ACK, DRIVER, features,
 * FEATURES_OK, a new queue and DRIVER_OK at once. The old reads may not
 * complete into the new ring, and a new read must work. */
static int reset_inflight(struct hdev *h)
{
	for (u32 round = 0; round < 4; round++) {
		if (round && hv_start(h, 0))
			return 1;
		struct virtq_desc *t = hv_desc(h);
		u32 *hdr = (u32 *)(h->mem + HV_HDR);
		hdr[0] = BLK_T_IN;
		hdr[1] = hdr[2] = hdr[3] = 0;
		for (u16 r = 0; r < 5; r++) {
			u16 b = (u16)(3 * r);
			hv_set_desc(t, b, hv_pa(h, HV_HDR), 16, F_NEXT, (u16)(b + 1));
			hv_set_desc(t, b + 1, hv_pa(h, HV_DATA), h->ro ? 4096 : 0x4000,
				    F_NEXT | F_WRITE, (u16)(b + 2));
			hv_set_desc(t, b + 2, hv_pa(h, HV_STATUS) + r, 1, F_WRITE, 0);
			hv_publish(h, b);
		}
		hv_kick(h);
		hv_set_status(h, 0);
		hv_set_status(h, VIRTIO_STATUS_ACK);
		hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER);
		hv_drv_features(h, 0, 0);
		hv_drv_features(h, 1, 1);
		hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER |
			      VIRTIO_STATUS_FEATURES_OK);
		if (!(hv_status(h) & VIRTIO_STATUS_FEATURES_OK))
			return hfail("%s: FEATURES_OK refused after a quick reset",
				     h->name);
		/* new rings in the table area; the request has head 1 */
		u8 *m2 = h->mem + HV_TABLE;
		memset(m2, 0, 0x3000);
		struct virtq_desc *t2 = (struct virtq_desc *)m2;
		struct virtq_avail *a2 = (struct virtq_avail *)(m2 + 0x1000);
		volatile struct virtq_used *u2 = (volatile struct virtq_used *)(m2 + 0x2000);
		a2->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
		if (!hv_queue_raw(h, 0, HV_QSIZE, (u64)t2, (u64)a2, (u64)u2))
			return hfail("%s: queue refused after a quick reset", h->name);
		hv_driver_ok(h);
		volatile u8 *st = h->mem + HV_STATUS + 8;
		*st = 0xff;
		hv_set_desc(t2, 1, hv_pa(h, HV_HDR), 16, F_NEXT, 2);
		hv_set_desc(t2, 2, hv_pa(h, HV_DATA) + 0x4000, 512, F_NEXT | F_WRITE, 3);
		hv_set_desc(t2, 3, (u64)st, 1, F_WRITE, 0);
		a2->ring[0] = 1;
		__atomic_store_n(&a2->idx, 1, __ATOMIC_RELEASE);
		hv_kick(h);
		u64 end = rdtsc() + ms_to_tsc(5000);
		while (!__atomic_load_n(&u2->idx, __ATOMIC_ACQUIRE) && rdtsc() < end &&
		       !(hv_status(h) & VIRTIO_STATUS_NEEDS_RESET))
			delay_us(100);
		u16 n = u2->idx;
		if (n != 1 || u2->ring[0].id != 1 || *st != BLK_S_OK)
			return hfail("%s: round %u: new ring has %u entries (first id "
				     "%u), status 0x%x, request status %u", h->name,
				     round, n, u2->ring[0].id, hv_status(h), *st);
	}
	return hv_check(h);
}

int hostile_vq_reset_inflight(void)
{
	return on_both(reset_inflight);
}

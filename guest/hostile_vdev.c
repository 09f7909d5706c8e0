/* Hostile virtio drivers above the ring: the status and feature handshake
 * out of order, config space out of range, the transports' registers
 * with wrong widths and values, and malformed requests to virtio-blk,
 * virtio-console and virtio-rng. The virtqueue itself is well-formed
 * here (hostile_virtq.c breaks it).
 */
#include "hostile.h"

#define F_NEXT VIRTQ_DESC_F_NEXT
#define F_WRITE VIRTQ_DESC_F_WRITE
#define F_IND VIRTQ_DESC_F_INDIRECT
#define ST_AD (VIRTIO_STATUS_ACK | VIRTIO_STATUS_DRIVER)

static struct hdev *need(u32 id, u32 transport, bool ro)
{
	struct hdev *h = hv_get(id, transport, ro);
	if (!h)
		hfail("no virtio device type %u on %s", id,
		      transport == VIRTIO_PCI ? "pci" : "mmio");
	return h;
}

/* ---- the handshake ---- */

/* DRIVER_OK without FEATURES_OK, FEATURES_OK without DRIVER, a queue
 * enabled before FEATURES_OK: none may stick. */
static int no_features_ok(struct hdev *h)
{
	hv_reset(h);
	hv_set_status(h, VIRTIO_STATUS_ACK);
	hv_set_status(h, VIRTIO_STATUS_ACK | VIRTIO_STATUS_FEATURES_OK);
	if (hv_status(h) & VIRTIO_STATUS_FEATURES_OK)
		return hfail("%s: FEATURES_OK stuck without DRIVER", h->name);
	hv_set_status(h, ST_AD);
	hv_drv_features(h, 1, 1);   /* VERSION_1 */
	if (hv_queue(h, 0))
		return hfail("%s: queue enabled before FEATURES_OK", h->name);
	hv_set_status(h, ST_AD | VIRTIO_STATUS_DRIVER_OK);
	if (hv_status(h) & VIRTIO_STATUS_DRIVER_OK)
		return hfail("%s: DRIVER_OK stuck without FEATURES_OK", h->name);
	hv_publish(h, 0);
	hv_kick(h);
	return hv_check(h);
}

int hostile_feat_no_features_ok(void)
{
	struct hdev *a = need(VIRTIO_ID_RNG, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_CONSOLE, VIRTIO_MMIO, false);
	struct hdev *c = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || !c || no_features_ok(a) || no_features_ok(b) ||
	       no_features_ok(c);
}

/* Features rewritten after FEATURES_OK (cleared, unoffered bits), status
 * bits dropped by a write: ignored, the device keeps working. */
static int change_late(struct hdev *h)
{
	if (!hv_negotiate(h, VIRTIO_F_INDIRECT_DESC))
		return hfail("%s: FEATURES_OK refused", h->name);
	hv_drv_features(h, 0, 0xffffffff);
	hv_drv_features(h, 1, 0);
	hv_drv_features(h, 2, 0xffffffff);
	hv_drv_features(h, 0xffffffff, 0xffffffff);
	if (h->d.transport == VIRTIO_PCI) {
		mmio_write32(h->d.common + 0x08, 1);
		u32 f1 = mmio_read32(h->d.common + 0x0c);
		if (!(f1 & 1))
			return hfail("%s: VERSION_1 cleared after FEATURES_OK "
				     "(page 1 reads 0x%x)", h->name, f1);
	}
	if (!hv_queue(h, 0))
		return hfail("%s: queue refused after late feature writes", h->name);
	hv_driver_ok(h);
	hv_set_status(h, VIRTIO_STATUS_ACK);   /* drops bits: ignored */
	u8 s = hv_status(h);
	if ((s & 0x0f) != 0x0f)
		return hfail("%s: status 0x%x after a write dropping bits",
			     h->name, s);
	hv_drv_features(h, 1, 0);
	return hv_check(h);
}

int hostile_feat_change_late(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_RNG, VIRTIO_MMIO, false);
	return !a || !b || change_late(a) || change_late(b);
}

/* Accepting what was not offered, or not VERSION_1: FEATURES_OK reads
 * back clear; a correct second try works. */
static int unoffered(struct hdev *h)
{
	static const u64 bad[] = { 1ull << 63 | VIRTIO_F_VERSION_1,
				   1ull << 40 | VIRTIO_F_VERSION_1, 0,
				   1ull << 13 | VIRTIO_F_VERSION_1 /* blk: DISCARD */ };
	for (u32 i = 0; i < 4; i++) {
		hv_reset(h);
		hv_set_status(h, VIRTIO_STATUS_ACK);
		hv_set_status(h, ST_AD);
		u64 off = hv_dev_features(h, 0) | (u64)hv_dev_features(h, 1) << 32;
		if (off & bad[i] & ~VIRTIO_F_VERSION_1)
			continue;   /* offered here: not an attack */
		hv_drv_features(h, 0, (u32)bad[i]);
		hv_drv_features(h, 1, (u32)(bad[i] >> 32));
		hv_set_status(h, ST_AD | VIRTIO_STATUS_FEATURES_OK);
		if (hv_status(h) & VIRTIO_STATUS_FEATURES_OK)
			return hfail("%s: FEATURES_OK accepted for 0x%lx",
				     h->name, bad[i]);
		/* The spec lets the driver try again without a reset. */
		hv_drv_features(h, 0, 0);
		hv_drv_features(h, 1, 1);
		hv_set_status(h, ST_AD | VIRTIO_STATUS_FEATURES_OK);
		if (!(hv_status(h) & VIRTIO_STATUS_FEATURES_OK))
			return hfail("%s: a correct retry was refused", h->name);
	}
	return hv_check(h);
}

int hostile_feat_unoffered(void)
{
	struct hdev *a = need(VIRTIO_ID_CONSOLE, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || unoffered(a) || unoffered(b);
}

/* ---- config space ---- */

static int cfg_range(struct hdev *h)
{
	u64 cap = h->d.id == VIRTIO_ID_BLK ? (u64)hv_cfg_read(h, 0, 4) |
		  (u64)hv_cfg_read(h, 4, 4) << 32 : 0;
	u64 base;
	u32 span;
	if (h->d.transport == VIRTIO_PCI) {
		base = h->d.devcfg;
		span = 0x1000;
	} else {
		base = h->d.base + 0x100;
		span = 0x100;
	}
	if (base) {
		for (u32 off = 0; off < span; off += 4) {
			(void)mmio_read32(base + off);
			(void)mmio_read8(base + off + 3);
			(void)mmio_read16(base + off + 1);   /* misaligned */
			mmio_write32(base + off, 0xffffffff);
			mmio_write8(base + off + 1, 0x5a);
		}
		/* 8-byte accesses, and 4 bytes straddling the end. */
		(void)*(volatile u64 *)phys(base);
		*(volatile u64 *)phys(base + 8) = ~0ull;
		(void)mmio_read32(base + span - 2);
		mmio_write32(base + span - 2, 0);
	}
	if (h->d.id == VIRTIO_ID_BLK) {
		u64 now = (u64)hv_cfg_read(h, 0, 4) | (u64)hv_cfg_read(h, 4, 4) << 32;
		if (now != cap)
			return hfail("%s: capacity changed from %lu to %lu",
				     h->name, cap, now);
	}
	return hv_check(h);
}

int hostile_cfg_range(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	struct hdev *c = need(VIRTIO_ID_RNG, VIRTIO_MMIO, false);
	struct hdev *d = need(VIRTIO_ID_CONSOLE, VIRTIO_PCI, false);
	return !a || !b || !c || !d || cfg_range(a) || cfg_range(b) ||
	       cfg_range(c) || cfg_range(d);
}

/* ---- transport registers ---- */

/* Every virtio-mmio register, 32-bit with junk and with 8/16-bit widths
 * the spec forbids; the identity registers must not change. */
int hostile_mmio_regs(void)
{
	static const u32 vals[] = { 0xffffffff, 0, 0x5a5a5a5a, 0x8000, 0x1 };
	struct hdev *h = need(VIRTIO_ID_CONSOLE, VIRTIO_MMIO, false);
	if (!h)
		return 1;
	u64 b = h->d.base;
	for (u32 v = 0; v < 5; v++) {
		for (u32 off = 0; off < 0x100; off += 4) {
			mmio_write32(b + off, vals[v]);
			(void)mmio_read32(b + off);
			mmio_write8(b + off + 1, (u8)vals[v]);
			mmio_write16(b + off + 2, (u16)vals[v]);
			(void)mmio_read8(b + off + 3);
		}
	}
	/* 8-byte accesses, which virtio-mmio does not define. */
	for (u32 off = 0; off < 0x100; off += 8) {
		*(volatile u64 *)phys(b + off) = 0x5a5a5a5a5a5a5a5aull;
		(void)*(volatile u64 *)phys(b + off);
	}
	/* A queue selected past the last one: writes go nowhere. */
	mmio_write32(b + 0x030, 0xffff);
	mmio_write32(b + 0x038, 16);
	mmio_write32(b + 0x080, (u32)hv_pa(h, HV_DESC));
	mmio_write32(b + 0x044, 1);
	if (mmio_read32(b + 0x044) || mmio_read32(b + 0x034))
		return hfail("%s: queue 0xffff looks present", h->name);
	if (mmio_read32(b) != 0x74726976 || mmio_read32(b + 4) != 2 ||
	    mmio_read32(b + 8) != VIRTIO_ID_CONSOLE)
		return hfail("%s: identity registers changed", h->name);
	return hv_check(h);
}

/* The PCI common configuration with wrong widths, offsets past its end,
 * read-only fields written, a queue select past the last queue. */
int hostile_pci_common(void)
{
	struct hdev *h = need(VIRTIO_ID_RNG, VIRTIO_PCI, false);
	if (!h)
		return 1;
	u64 c = h->d.common;
	u16 nq = mmio_read16(c + 0x12);
	for (u32 off = 0; off < 0x1000; off += 4) {
		(void)mmio_read32(c + off + 1 - (off & 1));
		mmio_write8(c + off + 1, 0xa5);
		mmio_write16(c + off + 3 - 1, 0x5a5a);
		if (off >= 0x40)
			mmio_write32(c + off, 0xffffffff);
	}
	*(volatile u64 *)phys(c + 0x10) = ~0ull;   /* 8 bytes over 4 fields */
	mmio_write16(c + 0x12, 77);                /* num_queues: read-only */
	mmio_write16(c + 0x16, 0xffff);            /* queue_select past the end */
	mmio_write16(c + 0x18, 16);
	mmio_write16(c + 0x1c, 1);
	mmio_write32(c + 0x20, 0x1000);
	if (mmio_read16(c + 0x18) || mmio_read16(c + 0x1c) ||
	    mmio_read16(c + 0x1a) != 0xffff)
		return hfail("%s: queue 0xffff: size %u enable %u vector 0x%x",
			     h->name, mmio_read16(c + 0x18), mmio_read16(c + 0x1c),
			     mmio_read16(c + 0x1a));
	mmio_write16(c + 0x16, 0);
	mmio_write16(c + 0x1e, 9);                 /* notify_off: read-only */
	if (mmio_read16(c + 0x12) != nq || mmio_read16(c + 0x1e) != 0)
		return hfail("%s: read-only fields changed (num_queues %u, "
			     "notify_off %u)", h->name, mmio_read16(c + 0x12),
			     mmio_read16(c + 0x1e));
	return hv_check(h);
}

/* Notifications with odd widths, offsets and queues past the last one,
 * while a request waits; then a proper one must complete it. */
int hostile_pci_notify(void)
{
	struct hdev *h = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h || hv_start(h, 0))
		return 1;
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	struct virtq_desc *t = hv_desc(h);
	hdr[0] = BLK_T_IN;
	hdr[1] = hdr[2] = hdr[3] = 0;
	*(h->mem + HV_STATUS) = 0xff;
	hv_set_desc(t, 0, hv_pa(h, HV_HDR), 16, F_NEXT, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_DATA), 512, F_NEXT | F_WRITE, 2);
	hv_set_desc(t, 2, hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
	hv_publish(h, 0);
	u64 n = h->d.notify;
	for (u32 off = 4; off < 0x1000; off += 4) {
		mmio_write16(n + off, (u16)(off / 4));
		mmio_write8(n + off + 1, 0xff);
	}
	mmio_write8(n, 0);
	mmio_write16(n + 1, 0);
	mmio_write16(n + 2, 0);
	*(volatile u64 *)phys(n) = 0;
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, NULL, NULL);
	if (o != HV_USED_ENTRY || *(h->mem + HV_STATUS) != BLK_S_OK)
		return hfail("%s: request after junk notifies: %s status %u",
			     h->name, hv_outcome_name(o), *(h->mem + HV_STATUS));
	return hv_check(h);
}

/* ---- virtio-blk requests ---- */

static u64 capacity(struct hdev *h)
{
	return (u64)hv_cfg_read(h, 0, 4) | (u64)hv_cfg_read(h, 4, 4) << 32;
}

static int expect_status(struct hdev *h, const char *what, u32 type,
			 u64 sector, u32 len, int want)
{
	enum hv_outcome o;
	int st = hv_blk_rw(h, type, sector, hv_pa(h, HV_DATA), len, &o);
	if (st != want)
		return hfail("%s: %s: %s status %d, expected %d", h->name, what,
			     hv_outcome_name(o), st, want);
	return 0;
}

static int past_end(struct hdev *h)
{
	u64 cap = capacity(h);
	if (hv_start(h, 0))
		return 1;
	return expect_status(h, "read of the last sector", BLK_T_IN, cap - 1,
			     512, BLK_S_OK) ||
	       expect_status(h, "read at capacity", BLK_T_IN, cap, 512, BLK_S_IOERR) ||
	       expect_status(h, "read across the end", BLK_T_IN, cap - 1, 1024,
			     BLK_S_IOERR) ||
	       expect_status(h, "read at sector 2^64-1", BLK_T_IN, ~0ull, 512,
			     BLK_S_IOERR) ||
	       expect_status(h, "read at 2^64-1 (wrap)", BLK_T_IN,
			     0xffffffffffffffffull - 1, 1024, BLK_S_IOERR) ||
	       (!h->ro && expect_status(h, "write at capacity", BLK_T_OUT, cap,
					512, BLK_S_IOERR)) ||
	       hv_check(h);
}

int hostile_blk_past_end(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || past_end(a) || past_end(b);
}

/* Headers of 8 bytes, 0 readable bytes (all writable), and one split
 * across two descriptors; then 4 KiB of header. Short ones must be IOERR;
 * the rest must at least be answered. */
static int bad_header(struct hdev *h)
{
	struct virtq_desc *t = hv_desc(h);
	volatile u8 *st = h->mem + HV_STATUS;
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	static const u32 lens[] = { 8, 0, 15 };
	for (u32 i = 0; i < 3; i++) {
		if (hv_start(h, 0))
			return 1;
		hdr[0] = BLK_T_IN;
		hdr[1] = hdr[2] = hdr[3] = 0;
		*st = 0xff;
		hv_set_desc(t, 0, hv_pa(h, HV_HDR), lens[i],
			    (u16)(F_NEXT | (i == 1 ? F_WRITE : 0)), 1);
		hv_set_desc(t, 1, hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
		hv_publish(h, 0);
		hv_kick(h);
		enum hv_outcome o = hv_wait(h, NULL, NULL);
		if (o != HV_USED_ENTRY || *st != BLK_S_IOERR)
			return hfail("%s: %u-byte header: %s status %u", h->name,
				     lens[i], hv_outcome_name(o), *st);
	}
	/* Split 8 + 8, then a 4 KiB header: answered, whatever the status. */
	if (hv_start(h, 0))
		return 1;
	hv_set_desc(t, 0, hv_pa(h, HV_HDR), 8, F_NEXT, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_HDR) + 8, 8, F_NEXT, 2);
	hv_set_desc(t, 2, hv_pa(h, HV_DATA), 512, F_NEXT | F_WRITE, 3);
	hv_set_desc(t, 3, hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
	hv_publish(h, 0);
	hv_set_desc(t, 4, hv_pa(h, HV_HDR), 4096, F_NEXT, 5);
	hv_set_desc(t, 5, hv_pa(h, HV_STATUS) + 1, 1, F_WRITE, 0);
	hv_publish(h, 4);
	hv_kick(h);
	for (u32 i = 0; i < 2; i++) {
		enum hv_outcome o = hv_wait(h, NULL, NULL);
		if (o != HV_USED_ENTRY)
			return hfail("%s: split/long header: %s", h->name,
				     hv_outcome_name(o));
	}
	hnote("%s: split header status %u, 4 KiB header status %u", h->name,
	      st[0], st[1]);
	return hv_check(h);
}

int hostile_blk_bad_header(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || bad_header(a) || bad_header(b);
}

/* Data lengths that are not whole sectors, and zero-length data. */
static int data_len(struct hdev *h)
{
	if (hv_start(h, 0))
		return 1;
	if (expect_status(h, "100-byte read", BLK_T_IN, 0, 100, BLK_S_IOERR) ||
	    expect_status(h, "513-byte read", BLK_T_IN, 0, 513, BLK_S_IOERR) ||
	    (!h->ro && expect_status(h, "511-byte write", BLK_T_OUT, 0, 511,
				     BLK_S_IOERR)))
		return 1;
	/* A zero-length data descriptor: no bytes to move, answered. */
	struct virtq_desc *t = hv_desc(h);
	volatile u8 *st = h->mem + HV_STATUS;
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	hdr[0] = BLK_T_IN;
	hdr[1] = hdr[2] = hdr[3] = 0;
	*st = 0xff;
	u16 head = (u16)(h->avail_idx * 3 % HV_QSIZE);
	hv_set_desc(t, head, hv_pa(h, HV_HDR), 16, F_NEXT, (u16)((head + 1) % HV_QSIZE));
	hv_set_desc(t, (head + 1) % HV_QSIZE, hv_pa(h, HV_DATA), 0, F_NEXT | F_WRITE,
		    (u16)((head + 2) % HV_QSIZE));
	hv_set_desc(t, (head + 2) % HV_QSIZE, hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
	hv_publish(h, head);
	hv_kick(h);
	enum hv_outcome o = hv_wait(h, NULL, NULL);
	if (o != HV_USED_ENTRY)
		return hfail("%s: zero-length read: %s", h->name, hv_outcome_name(o));
	hnote("%s: zero-length read status %u", h->name, *st);
	return hv_check(h);
}

int hostile_blk_data_len(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || data_len(a) || data_len(b);
}

/* No writable byte at all: nowhere to put a status; used length 0. */
static int no_status(struct hdev *h)
{
	if (hv_start(h, 0))
		return 1;
	struct virtq_desc *t = hv_desc(h);
	u32 *hdr = (u32 *)(h->mem + HV_HDR);
	hdr[0] = BLK_T_OUT;
	hdr[1] = hdr[2] = hdr[3] = 0;
	hv_set_desc(t, 0, hv_pa(h, HV_HDR), 16, F_NEXT, 1);
	hv_set_desc(t, 1, hv_pa(h, HV_DATA), 512, 0, 0);
	hv_publish(h, 0);
	hv_kick(h);
	u32 id = 99, len = 99;
	enum hv_outcome o = hv_wait(h, &id, &len);
	if (o != HV_USED_ENTRY || id != 0 || len != 0)
		return hfail("%s: chain without status: %s id %u len %u", h->name,
			     hv_outcome_name(o), id, len);
	return hv_check(h);
}

int hostile_blk_no_status(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || no_status(a) || no_status(b);
}

/* Writes, discards and write-zeroes to the read-only disk: IOERR, and the
 * image is unchanged (hv_check reads its ELF header). */
int hostile_blk_write_ro(void)
{
	struct hdev *h = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	if (!h || hv_start(h, 0))
		return 1;
	u8 *d = h->mem + HV_DATA;
	memset(d, 0, 4096);
	/* discard / write-zeroes payload: sector 0, 8 sectors, flags 0 */
	d[8] = 8;
	if (expect_status(h, "write", BLK_T_OUT, 0, 512, BLK_S_IOERR) ||
	    expect_status(h, "discard", BLK_T_DISCARD, 0, 16, BLK_S_IOERR) ||
	    expect_status(h, "write-zeroes", 13, 0, 16, BLK_S_IOERR))
		return 1;
	return hv_check(h);
}

int hostile_blk_unknown_type(void)
{
	static const u32 types[] = { 2, 3, 0x7fffffff, 0xdeadbeef, 0xffffffff };
	struct hdev *hs[2] = { need(VIRTIO_ID_BLK, VIRTIO_PCI, false),
			       need(VIRTIO_ID_BLK, VIRTIO_MMIO, true) };
	for (u32 k = 0; k < 2; k++) {
		struct hdev *h = hs[k];
		if (!h || hv_start(h, 0))
			return 1;
		for (u32 i = 0; i < 5; i++)
			if (expect_status(h, "unknown type", types[i], 0, 512,
					  BLK_S_UNSUPP))
				return 1;
		if (hv_check(h))
			return 1;
	}
	return 0;
}

/* ---- console and rng ---- */

/* 1 MiB of heap for the oversized buffers (never shared with rings). */
static u64 big_buf(void)
{
	static u64 b;
	if (!b)
		b = (u64)heap_alloc(0x100000, 4096);
	return b;
}

/* transmitq: writable-only buffers, zero length, 1 MiB of RAM; receiveq:
 * a read-only buffer. Answered or refused; then the device transmits. */
static int console_bufs(struct hdev *h)
{
	static const struct { u32 len; u16 flags; } tx[] = {
		{ 64, F_WRITE }, { 0, 0 }, { 0x100000, 0 },
	};
	for (u32 i = 0; i < 3; i++) {
		if (hv_start(h, 1))
			return 1;
		u64 a = tx[i].len > 4096 ? big_buf() : hv_pa(h, HV_DATA);
		hv_set_desc(hv_desc(h), 0, a, tx[i].len, tx[i].flags, 0);
		hv_publish(h, 0);
		hv_kick(h);
		enum hv_outcome o = hv_wait(h, NULL, NULL);
		hnote("%s: tx %u bytes flags %u: %s", h->name, tx[i].len,
		      tx[i].flags, hv_outcome_name(o));
		if (hv_check(h))
			return 1;
	}
	if (hv_start(h, 0))
		return 1;
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_DATA), 64, 0, 0);
	hv_publish(h, 0);
	hv_kick(h);
	return hv_check(h);
}

int hostile_console_bad_bufs(void)
{
	struct hdev *a = need(VIRTIO_ID_CONSOLE, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_CONSOLE, VIRTIO_MMIO, false);
	return !a || !b || console_bufs(a) || console_bufs(b);
}

/* A read-only buffer (nothing to fill: 0), zero length (0), 1 MiB (at
 * most 64 KiB filled). */
static int rng_bufs(struct hdev *h)
{
	static const struct { u32 len; u16 flags; u32 max; } c[] = {
		{ 256, 0, 0 }, { 0, F_WRITE, 0 }, { 0x100000, F_WRITE, 0x10000 },
	};
	for (u32 i = 0; i < 3; i++) {
		if (hv_start(h, 0))
			return 1;
		u64 a = c[i].len > 4096 ? big_buf() : hv_pa(h, HV_DATA);
		u32 len = 0;
		hv_set_desc(hv_desc(h), 0, a, c[i].len, c[i].flags, 0);
		hv_publish(h, 0);
		hv_kick(h);
		enum hv_outcome o = hv_wait(h, NULL, &len);
		if (o != HV_USED_ENTRY || len > c[i].max || (c[i].max && !len))
			return hfail("%s: %u-byte buffer flags %u: %s len %u",
				     h->name, c[i].len, c[i].flags,
				     hv_outcome_name(o), len);
	}
	return hv_check(h);
}

int hostile_rng_bad_bufs(void)
{
	struct hdev *a = need(VIRTIO_ID_RNG, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_RNG, VIRTIO_MMIO, false);
	return !a || !b || rng_bufs(a) || rng_bufs(b);
}

/* ---- more virtio-blk ---- */

#define VIRTIO_BLK_F_DISCARD      (1ull << 13)
#define VIRTIO_BLK_F_WRITE_ZEROES (1ull << 14)
#define BLK_T_WRITE_ZEROES 13

struct dwz_seg {
	u64 sector;
	u32 num, flags;
};

/* Discard and write-zeroes payloads: partial segments, none, too many,
 * empty and huge ranges, ranges past the end or wrapping, unknown flags,
 * UNMAP on a discard. Each gets its status; two good ones succeed. */
int hostile_blk_discard_bad(void)
{
	struct hdev *h = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h)
		return 1;
	if (!hv_negotiate(h, VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES) ||
	    !hv_queue(h, 0))
		return hfail("%s: set-up with DISCARD refused", h->name);
	hv_driver_ok(h);
	if ((h->d.features & (VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES)) !=
	    (VIRTIO_BLK_F_DISCARD | VIRTIO_BLK_F_WRITE_ZEROES))
		return hfail("%s: DISCARD/WRITE_ZEROES not offered", h->name);
	u64 cap = capacity(h);
	static const struct {
		const char *what;
		u32 type, nseg, len;    /* len 0: nseg * 16 */
		u64 sector;
		u32 num, flags;
		int want;
	} c[] = {
		{ "half a segment", BLK_T_DISCARD, 1, 8, 0, 8, 0, BLK_S_IOERR },
		{ "17 segments", BLK_T_DISCARD, 17, 0, 0, 8, 0, BLK_S_IOERR },
		{ "no segment", BLK_T_WRITE_ZEROES, 0, 0, 0, 8, 0, BLK_S_IOERR },
		{ "empty range", BLK_T_DISCARD, 1, 0, 0, 0, 0, BLK_S_IOERR },
		{ "huge range", BLK_T_WRITE_ZEROES, 1, 0, 0, 0xffffffff, 0, BLK_S_IOERR },
		{ "past the end", BLK_T_DISCARD, 1, 0, 1, 0, 0, BLK_S_IOERR },
		{ "wrapping", BLK_T_WRITE_ZEROES, 1, 0, ~0ull, 2, 0, BLK_S_IOERR },
		{ "unknown flags", BLK_T_WRITE_ZEROES, 1, 0, 0, 8, 0x80000000, BLK_S_UNSUPP },
		{ "discard with UNMAP", BLK_T_DISCARD, 1, 0, 0, 8, 1, BLK_S_UNSUPP },
		{ "good write-zeroes", BLK_T_WRITE_ZEROES, 1, 0, 0, 8, 1, BLK_S_OK },
		{ "good discard", BLK_T_DISCARD, 2, 0, 8, 8, 0, BLK_S_OK },
	};
	for (u32 i = 0; i < sizeof(c) / sizeof(*c); i++) {
		struct dwz_seg *s = (struct dwz_seg *)(h->mem + HV_DATA);
		for (u32 k = 0; k < 17; k++) {
			/* sector 1 stands for "past the end": 4 sectors
			 * before the end, running 4 past it */
			s[k].sector = c[i].sector == 1 ? cap - 4 + 4 * k : c[i].sector + 8 * k;
			s[k].num = c[i].num ? c[i].num : (c[i].sector == 1 ? 8 : 0);
			s[k].flags = c[i].flags;
		}
		u32 len = c[i].len ? c[i].len : 16 * c[i].nseg;
		enum hv_outcome o;
		int st = hv_blk_rw(h, c[i].type, 0, hv_pa(h, HV_DATA), len, &o);
		if (st != c[i].want)
			return hfail("%s: %s: %s status %d, expected %d", h->name,
				     c[i].what, hv_outcome_name(o), st, c[i].want);
	}
	return hv_check(h);
}

/* GET_ID into 4 bytes and into nothing: not a byte past the buffer. */
static int get_id_short(struct hdev *h)
{
	if (hv_start(h, 0))
		return 1;
	u8 *d = h->mem + HV_DATA;
	memset(d, 0xcc, 64);
	enum hv_outcome o;
	int st = hv_blk_rw(h, BLK_T_GET_ID, 0, hv_pa(h, HV_DATA), 4, &o);
	if (o != HV_USED_ENTRY)
		return hfail("%s: 4-byte GET_ID: %s", h->name, hv_outcome_name(o));
	for (u32 i = 4; i < 64; i++)
		if (d[i] != 0xcc)
			return hfail("%s: 4-byte GET_ID wrote byte %u", h->name, i);
	hnote("%s: 4-byte GET_ID status %d id '%c%c%c%c'", h->name, st,
	      d[0] >= 0x20 && d[0] < 0x7f ? d[0] : '?', d[1] >= 0x20 && d[1] < 0x7f ? d[1] : '?',
	      d[2] >= 0x20 && d[2] < 0x7f ? d[2] : '?', d[3] >= 0x20 && d[3] < 0x7f ? d[3] : '?');
	st = hv_blk_rw(h, BLK_T_GET_ID, 0, hv_pa(h, HV_DATA), 0, &o);
	if (o != HV_USED_ENTRY)
		return hfail("%s: GET_ID without buffer: %s", h->name,
			     hv_outcome_name(o));
	return hv_check(h);
}

int hostile_blk_get_id_short(void)
{
	struct hdev *a = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return !a || !b || get_id_short(a) || get_id_short(b);
}

/* receiveq buffers the device must not fill (read-only, on the LAPIC,
 * past RAM) while host input waits (the consoles read the guest image),
 * then a good one that gets data. */
static int rx_bad(struct hdev *h)
{
	static const struct { u64 addr; u16 flags; const char *what; } c[] = {
		{ 0, 0, "read-only buffer" },
		{ LAPIC_BASE, F_WRITE, "buffer on the LAPIC" },
		{ 1, F_WRITE, "buffer past RAM" },
	};
	for (u32 i = 0; i < 3; i++) {
		if (hv_start(h, 0))
			return 1;
		u8 *d = h->mem + HV_DATA;
		memset(d, 0xcc, 64);
		u64 a = c[i].addr == 0 ? hv_pa(h, HV_DATA) :
			c[i].addr == 1 ? hv_ram_top() : c[i].addr;
		hv_set_desc(hv_desc(h), 0, a, 64, c[i].flags, 0);
		hv_publish(h, 0);
		hv_kick(h);
		u32 len = 0;
		enum hv_outcome o = hv_wait(h, NULL, &len);
		for (u32 k = 0; k < 64; k++)
			if (d[k] != 0xcc)
				return hfail("%s: %s: the device wrote into it",
					     h->name, c[i].what);
		if (o == HV_USED_ENTRY && len)
			return hfail("%s: %s: used length %u", h->name,
				     c[i].what, len);
		hnote("%s: %s: %s", h->name, c[i].what, hv_outcome_name(o));
		hv_reset(h);
	}
	if (hv_start(h, 0))
		return 1;
	hv_set_desc(hv_desc(h), 0, hv_pa(h, HV_DATA), 64, F_WRITE, 0);
	hv_publish(h, 0);
	hv_kick(h);
	u32 len = 0;
	enum hv_outcome o = hv_wait(h, NULL, &len);
	if (o != HV_USED_ENTRY || !len || len > 64)
		return hfail("%s: good receive buffer: %s len %u", h->name,
			     hv_outcome_name(o), len);
	return hv_check(h);
}

int hostile_console_rx_bad(void)
{
	struct hdev *a = need(VIRTIO_ID_CONSOLE, VIRTIO_PCI, false);
	struct hdev *b = need(VIRTIO_ID_CONSOLE, VIRTIO_MMIO, false);
	return !a || !b || rx_bad(a) || rx_bad(b);
}

/* The read-write disk has two request queues (`threads 2`): kicks for
 * queue 1 before it exists, a bad ring on it, a good one while queue 0
 * is broken; then each queue on its own. */
int hostile_blk_multiqueue(void)
{
	struct hdev *h = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h)
		return 1;
	if (!hv_negotiate(h, 1ull << 12 /* MQ */))
		return hfail("%s: FEATURES_OK refused", h->name);
	u16 nq = hv_virtio_num_queues(h);
	if (nq < 2)
		return hfail("%s: %u request queues; the machine gives it 2", h->name, nq);
	h->qi = 1;
	h->notify = h->d.notify + h->d.notify_mult;
	hv_kick(h);
	if (hv_queue_raw(h, 1, HV_QSIZE, 0x100000000ull, hv_pa(h, HV_AVAIL),
			 hv_pa(h, HV_USED)))
		return hfail("%s: queue 1 with descriptors at 4 GiB accepted", h->name);
	hv_reset(h);
	if (!hv_negotiate(h, 1ull << 12) || !hv_queue(h, 1))
		return hfail("%s: queue 1 set-up refused", h->name);
	hv_driver_ok(h);
	enum hv_outcome o;
	int st = hv_blk_rw(h, BLK_T_IN, 0, hv_pa(h, HV_DATA), 512, &o);
	if (st != BLK_S_OK)
		return hfail("%s: read on queue 1: %s status %d", h->name,
			     hv_outcome_name(o), st);
	/* queue 0 never set up: its kick is ignored */
	h->qi = 0;
	h->notify = h->d.notify;
	hv_kick(h);
	return hv_check(h);
}

/* Requests of 64 MiB (the limit: must work) and 80 MiB (IOERR), built
 * from 1 MiB segments that all point at the same buffer, on a disk
 * larger than both (the machine's is a sparse 128 MiB file). */
int hostile_blk_huge_request(void)
{
	struct hdev *h = need(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h || hv_start(h, 0))
		return 1;
	if (capacity(h) < 80 * 2048)
		return hfail("%s: %lu sectors: the disk must be 80 MiB or more "
			     "for this attack", h->name, capacity(h));
	static const u32 mib[] = { 64, 80 };
	for (u32 k = 0; k < 2; k++) {
		struct virtq_desc *it = (struct virtq_desc *)(h->mem + HV_TABLE);
		volatile u8 *st = h->mem + HV_STATUS;
		u32 *hdr = (u32 *)(h->mem + HV_HDR);
		hdr[0] = BLK_T_IN;
		hdr[1] = hdr[2] = hdr[3] = 0;
		*st = 0xff;
		u32 n = mib[k] + 2;
		hv_set_desc(it, 0, hv_pa(h, HV_HDR), 16, F_NEXT, 1);
		for (u32 i = 1; i < n - 1; i++)
			hv_set_desc(it, (u16)i, big_buf(), 0x100000, F_NEXT | F_WRITE,
				    (u16)(i + 1));
		hv_set_desc(it, (u16)(n - 1), hv_pa(h, HV_STATUS), 1, F_WRITE, 0);
		u16 head = (u16)(h->avail_idx % HV_QSIZE);
		hv_set_desc(hv_desc(h), head, hv_pa(h, HV_TABLE), n * 16, F_IND, 0);
		hv_publish(h, head);
		hv_kick(h);
		enum hv_outcome o = hv_wait(h, NULL, NULL);
		int want = k ? BLK_S_IOERR : BLK_S_OK;
		if (o != HV_USED_ENTRY || *st != want)
			return hfail("%s: %u MiB read: %s status %u, expected %d",
				     h->name, mib[k], hv_outcome_name(o), *st, want);
	}
	return hv_check(h);
}

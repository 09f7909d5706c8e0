/* Hostile PCI: configuration space through both mechanisms (CF8/CFC and
 * ECAM) with odd widths, offsets and absent functions; BARs sized with
 * junk and placed over RAM, over each other and over other devices; the
 * MSI-X table and PBA written wrongly, vectors out of range, and a
 * masking storm while the device completes requests. Victim: the
 * read-write virtio-blk on PCI; bystanders: virtio-rng on PCI, the LAPIC,
 * IOAPIC, ECAM, PL011 and the virtio-mmio devices.
 */
#include "hostile.h"

#define ECAM_BASE 0xb0000000ull
#define CMD_MEM 0x0002
#define CAP_MSIX 0x11

static u64 ecam(u32 bdf, u32 reg)
{
	return ECAM_BASE + ((u64)bdf << 4) + reg;   /* bdf is bus<<16|dev<<11|fn<<8 */
}

static struct hdev *victim(void)
{
	struct hdev *h = hv_get(VIRTIO_ID_BLK, VIRTIO_PCI, false);
	if (!h)
		hfail("no read-write virtio-blk on pci");
	return h;
}

static u32 find_cap(u32 bdf, u32 id)
{
	u32 p = cfg_rd(bdf, 0x34, 1) & 0xfc;
	for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
		if (cfg_rd(bdf, p, 1) == id)
			return p;
		p = cfg_rd(bdf, p + 1, 1) & 0xfc;
	}
	return 0;
}

/* BAR registers 0x10-0x24 as they are, to put back. */
struct bars {
	u32 r[6];
	u16 cmd;
};

static void bars_save(u32 bdf, struct bars *b)
{
	for (u32 i = 0; i < 6; i++)
		b->r[i] = cfg_rd(bdf, 0x10 + 4 * i, 4);
	b->cmd = (u16)cfg_rd(bdf, 0x04, 2);
}

static int bars_restore(u32 bdf, const struct bars *b)
{
	cfg_wr(bdf, 0x04, 2, b->cmd & ~CMD_MEM);
	for (u32 i = 0; i < 6; i++)
		cfg_wr(bdf, 0x10 + 4 * i, 4, b->r[i]);
	cfg_wr(bdf, 0x04, 2, b->cmd);
	for (u32 i = 0; i < 6; i++)
		if (cfg_rd(bdf, 0x10 + 4 * i, 4) != b->r[i])
			return hfail("BAR%u of %x reads 0x%x after restoring 0x%x",
				     i, bdf, cfg_rd(bdf, 0x10 + 4 * i, 4), b->r[i]);
	return 0;
}

/* Puts the 64-bit BAR4 (16 KiB: virtio registers) or the 32-bit BAR1
 * (4 KiB: MSI-X) at addr, decoding on. */
static void bar_place(u32 bdf, u32 bar, u64 addr)
{
	cfg_wr(bdf, 0x10 + 4 * bar, 4, (u32)addr);
	if (bar == 4)
		cfg_wr(bdf, 0x24, 4, (u32)(addr >> 32));
}

/* ---- MSI-X ---- */

struct msix {
	u32 cap, nvec;
	u64 table, pba;
};

static int msix_find(struct hdev *h, struct msix *m)
{
	u32 bdf = h->d.bdf;
	m->cap = find_cap(bdf, CAP_MSIX);
	if (!m->cap)
		return hfail("%s: no MSI-X capability", h->name);
	m->nvec = (cfg_rd(bdf, m->cap + 2, 2) & 0x7ff) + 1;
	u32 t = cfg_rd(bdf, m->cap + 4, 4), p = cfg_rd(bdf, m->cap + 8, 4);
	u32 tb = t & 7, pb = p & 7;
	u64 tbar = cfg_rd(bdf, 0x10 + 4 * tb, 4) & ~0xfull;
	u64 pbar = cfg_rd(bdf, 0x10 + 4 * pb, 4) & ~0xfull;
	if (tb == 4)
		tbar |= (u64)cfg_rd(bdf, 0x24, 4) << 32;
	if (pb == 4)
		pbar |= (u64)cfg_rd(bdf, 0x24, 4) << 32;
	m->table = tbar + (t & ~7u);
	m->pba = pbar + (p & ~7u);
	return 0;
}

/* Writes that must be dropped: 1 and 2 bytes, misaligned dwords and
 * qwords, and the space between the table's end and the PBA. */
int hostile_msix_odd_access(void)
{
	struct hdev *h = victim();
	struct msix m;
	if (!h || msix_find(h, &m))
		return 1;
	u64 e = m.table + 16;   /* entry 1 */
	mmio_write32(e + 0, 0xfee00000);
	mmio_write32(e + 4, 0);
	mmio_write32(e + 8, 0x4041);
	mmio_write32(e + 12, 1);
	for (u32 off = 0; off < 16; off++) {
		mmio_write8(e + off, 0xab);
		if (off < 15)
			mmio_write16(e + off, 0xabab);
		if (off & 3)
			mmio_write32(e + off - (off > 12 ? 4 : 0), 0xabababab);
		(void)mmio_read8(e + off);
	}
	*(volatile u64 *)phys(e + 4) = ~0ull;   /* misaligned qword */
	if (mmio_read32(e) != 0xfee00000 || mmio_read32(e + 4) != 0 ||
	    mmio_read32(e + 8) != 0x4041 || (mmio_read32(e + 12) & 1) != 1)
		return hfail("%s: entry 1 is %x %x %x %x after odd writes",
			     h->name, mmio_read32(e), mmio_read32(e + 4),
			     mmio_read32(e + 8), mmio_read32(e + 12));
	/* An aligned qword is allowed. */
	*(volatile u64 *)phys(e) = 0x00000000fee01000ull;
	if (mmio_read32(e) != 0xfee01000)
		return hfail("%s: aligned qword write not taken", h->name);
	/* Past the last entry, up to the PBA. */
	for (u64 a = m.table + 16 * m.nvec; a < m.pba && a < m.table + 0x800; a += 4) {
		mmio_write32(a, 0xffffffff);
		(void)mmio_read32(a);
	}
	mmio_write32(e + 12, 1);
	return hv_check(h);
}

/* config_msix_vector / queue_msix_vector past the table: NO_VECTOR. */
int hostile_msix_vector_range(void)
{
	struct hdev *h = victim();
	struct msix m;
	if (!h || msix_find(h, &m))
		return 1;
	static const u16 bad[] = { 0, 0x7ff, 0x8000, 0xfffe };
	u64 c = h->d.common;
	for (u32 i = 0; i < 4; i++) {
		u16 v = bad[i] ? bad[i] : (u16)m.nvec;
		mmio_write16(c + 0x10, v);
		mmio_write16(c + 0x16, 0);
		mmio_write16(c + 0x1a, v);
		if (mmio_read16(c + 0x10) != 0xffff || mmio_read16(c + 0x1a) != 0xffff)
			return hfail("%s: vector 0x%x (table has %u) reads back "
				     "0x%x / 0x%x", h->name, v, m.nvec,
				     mmio_read16(c + 0x10), mmio_read16(c + 0x1a));
	}
	mmio_write16(c + 0x10, (u16)(m.nvec - 1));
	if (mmio_read16(c + 0x10) != m.nvec - 1)
		return hfail("%s: the last vector %u was refused", h->name, m.nvec - 1);
	return hv_check(h);
}

/* The PBA is read-only; writes anywhere in its page change nothing. */
int hostile_msix_pba_write(void)
{
	struct hdev *h = victim();
	struct msix m;
	if (!h || msix_find(h, &m))
		return 1;
	u32 before = mmio_read32(m.pba);
	for (u32 off = 0; off < 0x800 && (m.pba & 0xfff) + off < 0x1000; off += 4) {
		mmio_write32(m.pba + off, 0xffffffff);
		mmio_write8(m.pba + off + 1, 0xff);
	}
	*(volatile u64 *)phys(m.pba) = ~0ull;
	u32 after = mmio_read32(m.pba);
	if (after & ~before)
		return hfail("%s: PBA went from 0x%x to 0x%x", h->name, before, after);
	return hv_check(h);
}

/* MSI-X on, entries with a valid and with a bogus address, masks flipped
 * hundreds of times (vector and function) while requests complete. */
int hostile_msix_mask_storm(void)
{
	struct hdev *h = victim();
	struct msix m;
	if (!h || msix_find(h, &m) || hv_start(h, 0))
		return 1;
	u32 bdf = h->d.bdf;
	u16 ctrl = (u16)cfg_rd(bdf, m.cap + 2, 2);
	for (u32 v = 0; v < m.nvec; v++) {
		u64 e = m.table + 16 * v;
		mmio_write32(e, v & 1 ? 0xfee00000 : 0x12345678);
		mmio_write32(e + 4, 0);
		mmio_write32(e + 8, 0xef);   /* a vector nothing waits for */
		mmio_write32(e + 12, 0);
	}
	cfg_wr(bdf, m.cap + 2, 2, 0x8000);   /* enable */
	mmio_write16(h->d.common + 0x10, 0);
	mmio_write16(h->d.common + 0x16, 0);
	mmio_write16(h->d.common + 0x1a, (u16)(m.nvec > 1 ? 1 : 0));
	for (u32 i = 0; i < 400; i++) {
		u64 e = m.table + 16 * (i % m.nvec);
		mmio_write32(e + 12, i & 1);
		if (i % 7 == 0)
			mmio_write32(e, i & 2 ? 0xfee00000 : 0xfed00000);
		if (i % 40 == 0)
			cfg_wr(bdf, m.cap + 2, 2, i & 64 ? 0xc000 : 0x8000);
		if (i % 25 == 0) {
			enum hv_outcome o;
			int st = hv_blk_rw(h, BLK_T_IN, i, hv_pa(h, HV_DATA), 512, &o);
			if (st != BLK_S_OK)
				return hfail("%s: read during the storm: %s "
					     "status %d", h->name,
					     hv_outcome_name(o), st);
		}
	}
	(void)mmio_read32(m.pba);
	cfg_wr(bdf, m.cap + 2, 2, ctrl);
	for (u32 v = 0; v < m.nvec; v++)
		mmio_write32(m.table + 16 * v + 12, 1);
	return hv_check(h);
}

/* ---- BARs ---- */

/* All-ones, junk and zero in every BAR register (decoding off, then on
 * for the all-ones pattern, which must not decode); the read-back keeps
 * the size alignment and type bits. */
int hostile_pci_bar_sizing(void)
{
	static const u32 vals[] = { 0xffffffff, 0x5a5a5a5a, 0xfffffffe, 0x1,
				    0x0, 0x80000001 };
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf;
	struct bars b;
	bars_save(bdf, &b);
	cfg_wr(bdf, 0x04, 2, b.cmd & ~CMD_MEM);
	for (u32 i = 0; i < 6; i++) {
		for (u32 k = 0; k < 6; k++) {
			u32 reg = 0x10 + 4 * i;
			cfg_wr(bdf, reg, 4, vals[k]);
			u32 rb = cfg_rd(bdf, reg, 4);
			/* BAR1: 4 KiB 32-bit; BAR4: 16 KiB 64-bit. */
			bool bad = (i == 1 && ((rb & 0xfff) != 0)) ||
				   (i == 4 && ((rb & 0x3fff) != 0x4)) ||
				   ((i == 0 || i == 2 || i == 3) && rb != 0);
			if (bad)
				return hfail("%s: BAR%u wrote 0x%x read 0x%x",
					     h->name, i, vals[k], rb);
		}
	}
	/* The sizing pattern with decoding on. */
	cfg_wr(bdf, 0x14, 4, 0xffffffff);
	cfg_wr(bdf, 0x20, 4, 0xffffffff);
	cfg_wr(bdf, 0x24, 4, 0xffffffff);
	cfg_wr(bdf, 0x04, 2, b.cmd | CMD_MEM);
	if (bars_restore(bdf, &b))
		return 1;
	return hv_check(h);
}

/* BAR4 over heap RAM and BAR1 over the guest image: RAM stays RAM. */
int hostile_pci_bar_over_ram(void)
{
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf;
	struct bars b;
	bars_save(bdf, &b);
	u32 *ram = heap_alloc(0x4000, 0x4000);
	if (!ram)
		return hfail("no heap");
	for (u32 i = 0; i < 0x1000; i++)
		ram[i] = i * 0x9e3779b9u;
	bar_place(bdf, 4, (u64)ram);
	bar_place(bdf, 1, 0x100000);
	for (u32 i = 0; i < 0x1000; i++)
		if (ram[i] != i * 0x9e3779b9u)
			return hfail("RAM at %p changed under BAR4 (word %u)", ram, i);
	ram[7] = 0x1234;
	if (ram[7] != 0x1234)
		return hfail("RAM under BAR4 is not writable");
	if (bars_restore(bdf, &b))
		return 1;
	return hv_check(h);
}

/* BAR4 of the blk device onto virtio-rng's BAR4 and BAR1 onto rng's
 * BAR1: the first owner keeps them. */
int hostile_pci_bar_overlap(void)
{
	struct hdev *h = victim();
	struct hdev *r = hv_get(VIRTIO_ID_RNG, VIRTIO_PCI, false);
	if (!h || !r)
		return r ? 1 : hfail("no virtio-rng on pci");
	u32 bdf = h->d.bdf;
	struct bars b, rb;
	bars_save(bdf, &b);
	bars_save(r->d.bdf, &rb);
	bar_place(bdf, 4, ((u64)rb.r[5] << 32) | (rb.r[4] & ~0xfu));
	bar_place(bdf, 1, rb.r[1] & ~0xfu);
	if (hv_check(r))
		return 1;
	/* The same again with decoding toggled, so BARs are re-registered. */
	cfg_wr(bdf, 0x04, 2, b.cmd & ~CMD_MEM);
	cfg_wr(bdf, 0x04, 2, b.cmd);
	cfg_wr(r->d.bdf, 0x04, 2, rb.cmd & ~CMD_MEM);
	cfg_wr(r->d.bdf, 0x04, 2, rb.cmd);
	if (bars_restore(bdf, &b) || bars_restore(r->d.bdf, &rb))
		return 1;
	/* Both MSI-X tables answer at their own BAR1 again. */
	struct hdev *both[2] = { h, r };
	for (u32 i = 0; i < 2; i++) {
		struct msix m;
		if (msix_find(both[i], &m))
			return 1;
		mmio_write32(m.table, 0xfee0000c);
		u32 v = mmio_read32(m.table);
		mmio_write32(m.table, 0);
		if (v != 0xfee0000c)
			return hfail("%s: MSI-X table at 0x%lx reads 0x%x after the "
				     "BARs were put back", both[i]->name, m.table, v);
	}
	return hv_check(r) || hv_check(h);
}

/* BAR4 over the LAPIC, the IOAPIC, the ECAM window, the virtio-mmio
 * devices, the PL011: each of them must still answer as itself. */
static u32 ioapic_version(void)
{
	mmio_write32(IOAPIC_BASE, 1);
	return mmio_read32(IOAPIC_BASE + 0x10);
}

int hostile_pci_bar_over_devices(void)
{
	struct hdev *h = victim();
	if (!h)
		return 1;
	u64 pl011 = param_u64("pl011", 0xfe001000);
	u64 vmmio = param_u64("hmmio", 0xfe100000);
	u32 bdf = h->d.bdf;
	struct bars b;
	bars_save(bdf, &b);
	u32 lapic_ver = mmio_read32(LAPIC_BASE + 0x30);
	u32 io_ver = ioapic_version();
	u32 host_id = mmio_read32(ecam(0, 0));
	u32 pl_id = mmio_read32(pl011 + 0xfe0);
	u32 magic = mmio_read32(vmmio);
	static const char *const names[] = { "lapic", "ioapic", "ecam",
					     "virtio-mmio", "pl011" };
	u64 where[] = { LAPIC_BASE, IOAPIC_BASE, ECAM_BASE, vmmio, pl011 & ~0x3fffull };
	for (u32 i = 0; i < 5; i++) {
		bar_place(bdf, 4, where[i]);
		bar_place(bdf, 1, i == 4 ? pl011 : where[i]);
		if (mmio_read32(LAPIC_BASE + 0x30) != lapic_ver ||
		    ioapic_version() != io_ver || mmio_read32(ecam(0, 0)) != host_id ||
		    mmio_read32(pl011 + 0xfe0) != pl_id || mmio_read32(vmmio) != magic)
			return hfail("with the BARs over the %s: lapic 0x%x ioapic "
				     "0x%x ecam 0x%x pl011 0x%x mmio 0x%x", names[i],
				     mmio_read32(LAPIC_BASE + 0x30), ioapic_version(),
				     mmio_read32(ecam(0, 0)), mmio_read32(pl011 + 0xfe0),
				     mmio_read32(vmmio));
	}
	if (bars_restore(bdf, &b))
		return 1;
	struct hdev *m = hv_get(VIRTIO_ID_BLK, VIRTIO_MMIO, true);
	return hv_check(h) || (m && hv_check(m));
}

/* ---- configuration space ---- */

/* Read-only header fields written through both mechanisms; registers past
 * 0x100 through ECAM (none: read 0, writes dropped). */
int hostile_pci_cfg_range(void)
{
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf;
	u32 id = cfg_rd(bdf, 0, 4), cls = cfg_rd(bdf, 8, 4);
	u32 hdr = cfg_rd(bdf, 0x0c, 4), sub = cfg_rd(bdf, 0x2c, 4);
	u32 capp = cfg_rd(bdf, 0x34, 4);
	static const u32 ro[] = { 0x00, 0x02, 0x08, 0x0c, 0x2c, 0x30, 0x34, 0x3c };
	for (u32 i = 0; i < 8; i++) {
		cfg_wr(bdf, ro[i], 4, 0xffffffff);
		mmio_write32(ecam(bdf, ro[i] & ~3u), 0);
	}
	for (u32 reg = 0x40; reg < 0x100; reg += 4)   /* capabilities */
		(void)cfg_rd(bdf, reg, 4);
	for (u32 reg = 0x100; reg < 0x1000; reg += 4) {
		mmio_write32(ecam(bdf, reg), 0xffffffff);
		if (mmio_read32(ecam(bdf, reg)))
			return hfail("%s: extended config 0x%x reads non-zero",
				     h->name, reg);
	}
	for (u32 reg = 0x100; reg < 0x1000; reg += 0x100)
		(void)mmio_read32(ecam(0, reg));
	if (cfg_rd(bdf, 0, 4) != id || cfg_rd(bdf, 8, 4) != cls ||
	    (cfg_rd(bdf, 0x0c, 4) & 0x00ff0000) != (hdr & 0x00ff0000) ||
	    cfg_rd(bdf, 0x2c, 4) != sub || cfg_rd(bdf, 0x34, 4) != capp)
		return hfail("%s: read-only header fields changed", h->name);
	return hv_check(h);
}

/* Misaligned and 8-byte ECAM accesses, and CONFIG_DATA accesses that run
 * past 0xCFF. The command register must not change. */
int hostile_pci_unaligned(void)
{
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf;
	u32 cmd = cfg_rd(bdf, 4, 4);
	for (u32 off = 1; off < 4; off++) {
		(void)mmio_read16(ecam(bdf, 4 + off));
		mmio_write16(ecam(bdf, 4 + off), 0);
		mmio_write32(ecam(bdf, 4 + off), 0);
		(void)mmio_read32(ecam(bdf, off));
	}
	u64 q = *(volatile u64 *)phys(ecam(bdf, 0));
	*(volatile u64 *)phys(ecam(bdf, 0)) = 0;
	*(volatile u64 *)phys(ecam(bdf, 4)) = 0;
	if (q != ~0ull)
		hnote("8-byte ECAM read gave 0x%lx", q);
	/* size 4 at 0xCFF and size 2 at 0xCFF / 0xCFD */
	(void)cfg_rd(bdf, 0x07, 4);
	cfg_wr(bdf, 0x07, 4, 0);
	cfg_wr(bdf, 0x05, 4, 0);
	(void)cfg_rd(bdf, 0x07, 2);
	cfg_wr(bdf, 0x07, 2, 0);
	/* byte writes to CONFIG_ADDRESS must not latch */
	houtb(0xcf8, 0x00);
	houtb(0xcfa, 0xff);
	houtb(0xcfb, 0x00);
	if (cfg_rd(bdf, 4, 4) != cmd)
		return hfail("%s: command/status 0x%x -> 0x%x", h->name, cmd,
			     cfg_rd(bdf, 4, 4));
	return hv_check(h);
}

/* Functions and buses that do not exist: all-ones, writes dropped. */
int hostile_pci_absent(void)
{
	u32 absent = 0;
	for (u32 dev = 0; dev < 32; dev++) {
		for (u32 fn = 1; fn < 8; fn++) {
			u32 bdf = PCI_BDF(0, dev, fn);
			if (cfg_rd(bdf, 0, 4) != 0xffffffff)
				continue;
			cfg_wr(bdf, 0x04, 2, 0x0007);
			cfg_wr(bdf, 0x10, 4, 0xffffffff);
			if (fn == 7)
				mmio_write32(ecam(bdf, 0x10), 0xffffffff);
			if (cfg_rd(bdf, 0, 4) != 0xffffffff ||
			    mmio_read32(ecam(bdf, 0)) != 0xffffffff)
				return hfail("absent 00:%02x.%u answers after writes",
					     dev, fn);
			absent++;
		}
	}
	static const u32 buses[] = { 1, 2, 0x7f, 0xff };
	for (u32 i = 0; i < 4; i++) {
		u32 bdf = PCI_BDF(buses[i], 31, 7);
		cfg_wr(bdf, 0x04, 2, 0x0007);
		if (cfg_rd(bdf, 0, 4) != 0xffffffff || cfg_rd(PCI_BDF(buses[i], 0, 0), 0, 4) != 0xffffffff)
			return hfail("bus %u answers", buses[i]);
	}
	hnote("%u absent functions probed", absent);
	struct hdev *h = victim();
	return !h || hv_check(h);
}

/* Command bits flipped under a running device, status written with ones,
 * RST_CNT (0xCF9) written without the reset bit. */
int hostile_pci_command(void)
{
	struct hdev *h = victim();
	if (!h || hv_start(h, 0))
		return 1;
	u32 bdf = h->d.bdf;
	u16 cmd = (u16)cfg_rd(bdf, 4, 2);
	cfg_wr(bdf, 0x06, 2, 0xffff);           /* W1C status */
	cfg_wr(bdf, 0x04, 2, 0xffff);
	cfg_wr(bdf, 0x04, 2, 0x0000);
	cfg_wr(bdf, 0x04, 2, cmd & ~0x0400);    /* INTx back on */
	cfg_wr(bdf, 0x04, 2, cmd);
	houtb(0xcf9, 0x02);
	houtb(0xcf9, 0x08);
	houtb(0xcf9, 0x0a);
	houtb(0xcf9, 0x00);
	(void)hinb(0xcf9);
	if ((u16)cfg_rd(bdf, 4, 2) != cmd)
		return hfail("%s: command 0x%x, wrote 0x%x", h->name,
			     cfg_rd(bdf, 4, 2), cmd);
	return hv_check(h);
}

/* Message control with every value: only ENABLE and FUNCTION MASK move,
 * the table size stays. */
int hostile_msix_control(void)
{
	struct hdev *h = victim();
	struct msix m;
	if (!h || msix_find(h, &m))
		return 1;
	u32 bdf = h->d.bdf;
	u16 ctrl = (u16)cfg_rd(bdf, m.cap + 2, 2);
	for (u32 v = 0; v < 0x10000; v += 0x101) {
		cfg_wr(bdf, m.cap + 2, 2, v);
		u16 rb = (u16)cfg_rd(bdf, m.cap + 2, 2);
		if ((rb & 0x3fff) != (ctrl & 0x3fff) || (rb & 0xc000) != (v & 0xc000))
			return hfail("%s: message control wrote 0x%x read 0x%x",
				     h->name, v, rb);
	}
	cfg_wr(bdf, m.cap + 1, 1, 0x00);   /* next pointer: read-only */
	cfg_wr(bdf, m.cap + 4, 4, 0xffffffff);   /* table offset: read-only */
	cfg_wr(bdf, m.cap + 2, 2, ctrl);
	if (find_cap(bdf, CAP_MSIX) != m.cap || msix_find(h, &m))
		return hfail("%s: capability chain changed", h->name);
	return hv_check(h);
}

/* The virtio PCI_CFG window (cfg_type 5): BAR numbers past 5 and of a
 * 64-bit BAR's upper half, offsets past and across the BAR's end,
 * lengths 0, 3, 8 and huge, then an access through it. A good window
 * must read what the BAR reads. */
int hostile_pci_cfg_window(void)
{
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf, cap = 0;
	u32 p = cfg_rd(bdf, 0x34, 1) & 0xfc;
	for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
		if (cfg_rd(bdf, p, 1) == 0x09 && cfg_rd(bdf, p + 3, 1) == 5)
			cap = p;
		p = cfg_rd(bdf, p + 1, 1) & 0xfc;
	}
	if (!cap)
		return hfail("%s: no PCI_CFG capability", h->name);
	static const u32 bars[] = { 0, 1, 4, 5, 6, 7, 0xff };
	static const u32 offs[] = { 0, 2, 0x1000, 0x3ffc, 0x3ffe, 0x4000,
				    0x800, 0xfffffffc };
	static const u32 lens[] = { 0, 1, 2, 3, 4, 8, 0xffffffff };
	for (u32 b = 0; b < 7; b++)
		for (u32 o = 0; o < 8; o++)
			for (u32 l = 0; l < 7; l++) {
				cfg_wr(bdf, cap + 4, 1, bars[b]);
				cfg_wr(bdf, cap + 8, 4, offs[o]);
				cfg_wr(bdf, cap + 12, 4, lens[l]);
				(void)cfg_rd(bdf, cap + 16, 4);
				(void)cfg_rd(bdf, cap + 17, 1);
				/* writes only where they cannot reset
				 * the device: the upper half and ISR */
				if (bars[b] != 4 || offs[o] >= 0x1000)
					cfg_wr(bdf, cap + 16, 4, 0xffffffff);
			}
	/* A good window: num_queues through it. */
	cfg_wr(bdf, cap + 4, 1, 4);
	cfg_wr(bdf, cap + 8, 4, 0x12);
	cfg_wr(bdf, cap + 12, 4, 2);
	u32 nq = cfg_rd(bdf, cap + 16, 2);
	if (nq != mmio_read16(h->d.common + 0x12))
		return hfail("%s: num_queues through the window 0x%x, direct 0x%x",
			     h->name, nq, mmio_read16(h->d.common + 0x12));
	return hv_check(h);
}

/* BAR4 (64-bit) at places it cannot decode or that wrap: the top of the
 * 64-bit space, across 4 GiB, address 0; then back. */
int hostile_pci_bar_wrap(void)
{
	static const u64 where[] = { 0xffffffffffffc000ull, 0xfffffffffff00000ull,
				     0xffffc000ull, 0x100000000ull, 0 };
	struct hdev *h = victim();
	if (!h)
		return 1;
	u32 bdf = h->d.bdf;
	struct bars b;
	bars_save(bdf, &b);
	for (u32 i = 0; i < 5; i++) {
		bar_place(bdf, 4, where[i]);
		bar_place(bdf, 1, (u32)where[i] ? (u32)where[i] : 0xfffff000u);
		(void)cfg_rd(bdf, 0x20, 4);
	}
	if (bars_restore(bdf, &b))
		return 1;
	return hv_check(h);
}

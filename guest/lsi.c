/* The guest's LSI 53C895A driver: finds 1000:0012 on bus 0, resets the
 * chip, builds its SCRIPTS program once and runs one command at a time,
 * polling ISTAT (the interrupt line stays off: DIEN = SIEN = 0). The
 * program is table indirect: DSA points at the entries of the command
 * (selection, message out, CDB, data, status, message in). It follows the
 * target's phases, so it works when the target keeps the bus (cvisor) and
 * when it disconnects until the data is ready (QEMU). */
#include "lsi.h"

#define ISTAT_SRST	0x40
#define ISTAT_SIP	0x02
#define ISTAT_DIP	0x01
#define DSTAT_SIR	0x04
#define SIST0_MA	0x80
#define SIST1_STO	0x04

/* The table at DSA */
enum { T_SEL = 0, T_MSGO = 8, T_CMD = 16, T_DATA = 24, T_ST = 32,
       T_MSGI = 40, B_MSGO = 64, B_CDB = 72, B_ST = 88, B_MSGI = 96 };

#define V_DONE		0x1000
#define V_FAIL		0xdead
#define V_SIGP		0xbeef
#define V_PHASE		0xbad0

/* Labels of the program (instruction indexes). */
enum { L_PHASE = 3, L_DIN = 8, L_DOUT = 10, L_ST = 12, L_MSGIN = 14,
       L_DISC = 19, L_CC = 25, L_FAIL = 28, L_SIGP = 29, L_END = 30 };

u8 lsi_read8(struct lsi_hba *h, u32 off)
{
	return mmio_read8(h->regs + off);
}

void lsi_write8(struct lsi_hba *h, u32 off, u8 v)
{
	mmio_write8(h->regs + off, v);
}

void lsi_write32(struct lsi_hba *h, u32 off, u32 v)
{
	mmio_write32(h->regs + off, v);
}

static u32 cfg_read(u32 bdf, u32 reg, u32 size)
{
	return (u32)svc(SVC_PCI_READ, bdf | reg, size, 0);
}

static void cfg_write(u32 bdf, u32 reg, u32 size, u32 val)
{
	svc(SVC_PCI_WRITE, bdf | reg, size, val);
}

static u64 pa_of(const void *p)
{
	return (u64)p;                /* identity mapped */
}

static void build_script(struct lsi_hba *h)
{
	u32 *s = h->script;
	u32 base = (u32)pa_of(s);
#define AT(l) (base + 8 * (l))
	const u32 prog[L_END][2] = {
		{ 0x43000000 | T_SEL, AT(L_FAIL) },     /* SELECT ATN table */
		{ 0x1e000000, T_MSGO },                 /* MOVE table MSG_OUT */
		{ 0x1a000000, T_CMD },                  /* MOVE table CMD */
		{ 0x870b0000, AT(L_MSGIN) },            /* L_PHASE */
		{ 0x830b0000, AT(L_ST) },
		{ 0x800b0000, AT(L_DOUT) },
		{ 0x810b0000, AT(L_DIN) },
		{ 0x98080000, V_PHASE },
		{ 0x19000000, T_DATA },                 /* L_DIN */
		{ 0x80080000, AT(L_PHASE) },
		{ 0x18000000, T_DATA },                 /* L_DOUT */
		{ 0x80080000, AT(L_PHASE) },
		{ 0x1b000000, T_ST },                   /* L_ST */
		{ 0x80080000, AT(L_PHASE) },
		{ 0x1f000000, T_MSGI },                 /* L_MSGIN */
		{ 0x800c0000, AT(L_CC) },               /* IF 0x00 */
		{ 0x800c0004, AT(L_DISC) },             /* IF 0x04 */
		{ 0x60000040, 0 },                      /* CLEAR ACK */
		{ 0x80080000, AT(L_PHASE) },
		{ 0x60000040, 0 },                      /* L_DISC */
		{ 0x48000000, 0 },                      /* WAIT DISCONNECT */
		{ 0x50000000, AT(L_SIGP) },             /* WAIT RESELECT */
		{ 0x1f000000, T_MSGI },                 /* IDENTIFY */
		{ 0x60000040, 0 },
		{ 0x80080000, AT(L_PHASE) },
		{ 0x60000040, 0 },                      /* L_CC */
		{ 0x48000000, 0 },
		{ 0x98080000, V_DONE },
		{ 0x98080000, V_FAIL },                 /* L_FAIL */
		{ 0x98080000, V_SIGP },                 /* L_SIGP */
	};
#undef AT
	for (u32 i = 0; i < L_END; i++) {
		s[2 * i] = prog[i][0];
		s[2 * i + 1] = prog[i][1];
	}
}

void lsi_reset(struct lsi_hba *h)
{
	lsi_write8(h, LSI_ISTAT, ISTAT_SRST);
	lsi_write8(h, LSI_ISTAT, 0);
	lsi_write8(h, LSI_SCID, 0x47);        /* ID 7, answer reselection */
	lsi_write8(h, 0x39, 0);               /* DIEN */
	lsi_write8(h, 0x40, 0);               /* SIEN0 */
	lsi_write8(h, 0x41, 0);               /* SIEN1 */
}

static u32 find(void)
{
	for (u32 dev = 0; dev < 32; dev++) {
		u32 bdf = PCI_BDF(0, dev, 0);

		if (cfg_read(bdf, 0, 4) == 0x00121000)
			return bdf;
	}
	return ~0u;
}

int lsi_open(struct lsi_hba *h)
{
	u32 bar;

	memset(h, 0, sizeof(*h));
	h->bdf = find();
	if (h->bdf == ~0u) {
		printf("lsi: no 53C895A (1000:0012) on bus 0\n");
		return -1;
	}
	bar = cfg_read(h->bdf, 0x14, 4) & ~0xfu;          /* BAR1 */
	if (!bar) {
		printf("lsi: BAR1 not assigned\n");
		return -1;
	}
	h->regs = bar;
	cfg_write(h->bdf, 0x04, 2, cfg_read(h->bdf, 0x04, 2) | 0x6);
	h->script = heap_alloc(8 * L_END, 8);
	h->tbl = heap_alloc(256, 16);
	if (!h->script || !h->tbl)
		return -1;
	build_script(h);
	lsi_reset(h);
	printf("lsi: %02x:%02x.%x regs 0x%lx\n", (h->bdf >> 16) & 0xff,
	       (h->bdf >> 11) & 0x1f, (h->bdf >> 8) & 7, h->regs);
	return 0;
}

u32 lsi_run_script(struct lsi_hba *h, u64 pa, u32 *dsps, u64 timeout_ms)
{
	u64 end = rdtsc() + ms_to_tsc(timeout_ms);
	u8 istat;

	lsi_write32(h, LSI_DSP, (u32)pa);
	for (;;) {
		istat = lsi_read8(h, LSI_ISTAT);
		if (istat & (ISTAT_SIP | ISTAT_DIP))
			break;
		if (rdtsc() > end)
			return 0;
		cpu_relax();
	}
	h->ints++;
	u32 r = lsi_read8(h, LSI_DSTAT) & 0x7f;
	r |= (u32)lsi_read8(h, LSI_SIST0) << 8;
	r |= (u32)lsi_read8(h, LSI_SIST1) << 16;
	*dsps = mmio_read32(h->regs + LSI_DSPS);
	return r | 0x80000000u;       /* never 0 */
}

static void entry(struct lsi_hba *h, u32 off, u32 count, u64 pa)
{
	u32 *e = (u32 *)(h->tbl + off);

	e[0] = count;
	e[1] = (u32)pa;
}

int lsi_cmd(struct lsi_hba *h, u32 target, u32 lun, const u8 *cdb,
	    u32 cdb_len, u64 buf, u32 len, bool write, u8 *status)
{
	u64 tpa = pa_of(h->tbl), pc = pa_of(h->script);
	u32 dsps, r;

	(void)write;                  /* the target's phase says which */
	*(u32 *)(h->tbl + T_SEL) = target << 16;
	h->tbl[B_MSGO] = (u8)(0x80 | lun);
	memcpy(h->tbl + B_CDB, cdb, cdb_len);
	h->tbl[B_ST] = 0xff;
	entry(h, T_MSGO, 1, tpa + B_MSGO);
	entry(h, T_CMD, cdb_len, tpa + B_CDB);
	entry(h, T_DATA, len, buf);
	entry(h, T_ST, 1, tpa + B_ST);
	entry(h, T_MSGI, 1, tpa + B_MSGI);
	lsi_write32(h, LSI_DSA, (u32)tpa);
	for (int round = 0; round < 8; round++) {
		r = lsi_run_script(h, pc, &dsps, 30000);
		if (!r) {
			printf("lsi: command 0x%02x timed out\n", cdb[0]);
			lsi_reset(h);
			return LSI_ERROR;
		}
		if ((r & 0xff) == DSTAT_SIR && dsps == V_DONE) {
			*status = h->tbl[B_ST];
			return LSI_OK;
		}
		if (((r >> 16) & SIST1_STO) || ((r & 0xff) == DSTAT_SIR &&
						 dsps == V_FAIL)) {
			lsi_reset(h);
			return LSI_NO_TARGET;
		}
		/* A short transfer: the target went on to another phase. */
		if (((r >> 8) & 0xff) == SIST0_MA) {
			pc = pa_of(h->script) + 8 * L_PHASE;
			continue;
		}
		break;
	}
	printf("lsi: command 0x%02x: interrupt dstat=%02x sist0=%02x "
	       "sist1=%02x dsps=%x\n", cdb[0], r & 0xff, (r >> 8) & 0xff,
	       (r >> 16) & 0xff, dsps);
	lsi_reset(h);
	return LSI_ERROR;
}

/* LSI 53C895A register file: byte accesses with the side effects the
 * drivers rely on (reading DSTAT or SIST clears them, reading CTEST2
 * clears SIGP, ISTAT's ABRT/SRST/SIGP/INTF, DSP's last byte starts the
 * SCRIPTS) and the INTx line, which follows DSTAT & DIEN, SIST & SIEN and
 * INTF (53C895A data manual, chapter 5). Wider accesses are split into
 * bytes by the BAR handlers; multi-byte registers are little-endian. */
#include <string.h>

#include "devices/lsi53c895a_priv.h"

/* Inside lsi_run the line is set once, when the SCRIPTS stop: a loop
 * raising and clearing INTF (or toggling DIEN, IRQD) would otherwise
 * cost the host a KVM_IRQ_LINE per instruction, thousands per kick. No
 * vCPU sees the line between two instructions of one run anyway. */
void lsi_update_irq(struct lsi *s)
{
	bool level = false;

	if (s->dstat) {
		s->istat |= ISTAT_DIP;
		level |= (s->dstat & s->dien) != 0;
	} else {
		s->istat &= ~ISTAT_DIP;
	}
	if (s->sist0 || s->sist1) {
		s->istat |= ISTAT_SIP;
		level |= (s->sist0 & s->sien0) || (s->sist1 & s->sien1);
	} else {
		s->istat &= ~ISTAT_SIP;
	}
	if (s->istat & ISTAT_INTF)
		level = true;
	if (s->dcntl & DCNTL_IRQD)
		level = false;
	s->irq_level = level;
	if (!s->in_run)
		pci_func_set_irq(&s->f, level);
}

/* Both kinds of interrupt halt the SCRIPTS; the driver restarts them by
 * writing DSP. */
void lsi_dma_irq(struct lsi *s, uint8_t dstat)
{
	s->dstat |= dstat;
	s->running = false;
	s->waiting = LSI_NOWAIT;
	lsi_update_irq(s);
}

void lsi_scsi_irq(struct lsi *s, uint8_t sist0, uint8_t sist1)
{
	s->sist0 |= sist0;
	s->sist1 |= sist1;
	s->running = false;
	s->waiting = LSI_NOWAIT;
	lsi_update_irq(s);
}

/* Power-on values; the SCSI bus is let go (an I/O still with the disk
 * is forgotten: its completion sees a newer generation). */
void lsi_soft_reset(struct lsi *s)
{
	lsi_bus_reset(s);
	s->scntl0 = 0xc0;
	s->scntl1 = s->scntl2 = s->scntl3 = 0;
	/* The host's own ID 7, as QEMU's reset, not the manual's 0 (on a
	 * real card its BIOS sets it from NVRAM): SeaBIOS's driver, written
	 * for QEMU's chip, never programs SCID and looks for its first disk
	 * at target 0, which it would find busy as itself. */
	s->scid = LSI_HOST_ID;
	s->sxfer = s->sdid = 0;
	s->gpreg = 0;
	s->sfbr = s->socl = s->ssid = s->sbcl = 0;
	s->dstat = s->sstat0 = s->sstat1 = s->sstat2 = 0;
	s->dsa = 0;
	s->istat = 0;
	s->ctest2 = CTEST2_DACK;
	s->ctest3 = s->ctest4 = s->ctest5 = s->dfifo = 0;
	s->temp = s->dbc = s->dnad = s->dsp = s->dsps = 0;
	s->dcmd = 0x40;
	memset(s->scratch, 0, sizeof(s->scratch));
	s->dmode = s->dien = s->sbr = s->dcntl = 0;
	s->adder = 0;
	s->sien0 = s->sien1 = s->sist0 = s->sist1 = 0;
	s->slpar = s->swide = s->macntl = s->stime0 = s->stime1 = 0;
	s->gpcntl = 0x0f;
	s->respid0 = s->respid1 = 0;
	s->stest1 = s->stest2 = s->stest3 = 0;
	s->sidl = s->sodl = s->sbdl = 0;
	memset(s->ccntl, 0, sizeof(s->ccntl));
	s->carry = false;
	s->running = false;
	s->waiting = LSI_NOWAIT;
	lsi_update_irq(s);
}

static uint8_t byte_of(uint32_t v, unsigned i)
{
	return (uint8_t)(v >> (8 * i));
}

static void set_byte(uint32_t *v, unsigned i, uint8_t b)
{
	*v = (*v & ~(0xffu << (8 * i))) | (uint32_t)b << (8 * i);
}

/* The 32-bit registers: their storage, or NULL. */
static uint32_t *reg32(struct lsi *s, unsigned off)
{
	switch (off & ~3u) {
	case DSA: return &s->dsa;
	case TEMP: return &s->temp;
	case DNAD: return &s->dnad;
	case DSP: return &s->dsp;
	case DSPS: return &s->dsps;
	case SCRATCHA: return &s->scratch[0];
	case ADDER: return &s->adder;
	case SCRATCHB: return &s->scratch[1];
	}
	if (off >= SCRATCHC && off < SCRATCHC + 32)
		return &s->scratch[2 + (off - SCRATCHC) / 4];
	return NULL;
}

static uint8_t read_phase_regs(struct lsi *s, unsigned off)
{
	uint8_t ph = s->connected ? (uint8_t)s->phase : 0;

	if (off == SBCL)
		return s->connected ? (uint8_t)(SBCL_REQ | 0x20 | ph) : 0;
	return (uint8_t)((s->sstat1 & ~7u) | ph);        /* SSTAT1 */
}

uint8_t lsi_reg_readb(struct lsi *s, unsigned off)
{
	uint32_t *r = reg32(s, off);
	uint8_t v;

	if (r)
		return byte_of(*r, off & 3);
	switch (off) {
	case SCNTL0: return s->scntl0;
	case SCNTL1: return (uint8_t)((s->scntl1 & ~SCNTL1_CON) |
				      (s->connected ? SCNTL1_CON : 0));
	case SCNTL2: return s->scntl2;
	case SCNTL3: return s->scntl3;
	case SCID: return s->scid;
	case SXFER: return s->sxfer;
	case SDID: return s->sdid;
	case GPREG: return 0x7f;      /* no NVRAM on the GPIO pins */
	case SFBR: return s->sfbr;
	case SOCL: return s->socl;
	case SSID: return s->ssid;
	case SBCL:
	case SSTAT1: return read_phase_regs(s, off);
	case DSTAT:
		v = s->dstat | DSTAT_DFE;
		s->dstat = 0;
		lsi_update_irq(s);
		return v;
	case SSTAT0: return s->sstat0;
	case SSTAT2: return s->connected ? 0 : 0x02;    /* LDSC */
	case ISTAT:
		return (uint8_t)((s->istat & ~ISTAT_CON) |
				 (s->connected ? ISTAT_CON : 0));
	case CTEST0: return 0xff;
	case CTEST1: return 0xf0;     /* the DMA FIFO is always empty */
	case CTEST2:
		v = s->ctest2 | ((s->istat & ISTAT_SIGP) ? CTEST2_SIGP : 0);
		s->istat &= ~ISTAT_SIGP;
		return v;
	case CTEST3: return (uint8_t)(0x20 | (s->ctest3 & 0x0f));  /* rev */
	case DFIFO: return s->dfifo;
	case CTEST4: return s->ctest4;
	case CTEST5: return s->ctest5;
	case CTEST6: return 0;
	case DBC: case DBC + 1: case DBC + 2:
		return byte_of(s->dbc, off - DBC);
	case DCMD: return s->dcmd;
	case DMODE: return s->dmode;
	case DIEN: return s->dien;
	case SBR: return s->sbr;
	case DCNTL: return s->dcntl;
	case SIEN0: return s->sien0;
	case SIEN1: return s->sien1;
	case SIST0:
	case SIST1:
		v = off == SIST0 ? s->sist0 : s->sist1;
		if (off == SIST0)
			s->sist0 = 0;
		else
			s->sist1 = 0;
		lsi_update_irq(s);
		return v;
	case SLPAR: return s->slpar;
	case SWIDE: return s->swide;
	case MACNTL: return 0x50;     /* 895A */
	case GPCNTL: return s->gpcntl;
	case STIME0: return s->stime0;
	case STIME1: return s->stime1;
	case RESPID0: return s->respid0;
	case RESPID1: return s->respid1;
	case STEST0: return 0;
	case STEST1: return s->stest1;
	case STEST2: return s->stest2;
	case STEST3: return s->stest3;
	case SIDL: case SIDL + 1: return (uint8_t)(s->sidl >> (8 * (off & 1)));
	case STEST4: return STEST4_SE | STEST4_LCKFRQ;
	case 0x56: case 0x57: return s->ccntl[off - 0x56];
	case SODL: case SODL + 1: return (uint8_t)(s->sodl >> (8 * (off & 1)));
	case SBDL: case SBDL + 1: return (uint8_t)(s->sbdl >> (8 * (off & 1)));
	}
	return 0;
}

static void write_istat(struct lsi *s, uint8_t v)
{
	if (v & ISTAT_SRST) {
		lsi_soft_reset(s);
		return;
	}
	s->istat = (uint8_t)((s->istat & ~(ISTAT_SEM | ISTAT_SIGP)) |
			     (v & (ISTAT_SEM | ISTAT_SIGP)));
	if (v & ISTAT_INTF)            /* write 1 to clear */
		s->istat &= ~ISTAT_INTF;
	if ((v & ISTAT_ABRT) && (s->running || s->waiting != LSI_NOWAIT))
		lsi_dma_irq(s, DSTAT_ABRT);
	/* SIGP ends a WAIT RESELECT: the SCRIPTS go to its alternate
	 * address (the caller resumes them). */
	if ((s->istat & ISTAT_SIGP) && s->waiting == LSI_WAIT_RESELECT) {
		s->waiting = LSI_NOWAIT;
		s->dsp = s->wait_alt;
	}
	lsi_update_irq(s);
}

/* SCRIPTS start on DSP's last byte (not in manual start mode) or on
 * DCNTL.STD; the caller runs them once the access is done. A DSP write
 * while the target works on a command only moves where they resume. */
static void start(struct lsi *s)
{
	s->running = true;
	if (s->waiting == LSI_WAIT_RESELECT)
		s->waiting = LSI_NOWAIT;
}

static void write_scntl1(struct lsi *s, uint8_t v)
{
	if ((v & SCNTL1_RST) && !(s->scntl1 & SCNTL1_RST)) {
		lsi_bus_reset(s);
		s->sstat0 |= 0x02;    /* RST */
		lsi_scsi_irq(s, SIST0_RST, 0);
	} else if (!(v & SCNTL1_RST)) {
		s->sstat0 &= ~0x02;
	}
	/* CON cleared by the driver: let go of the target. */
	if (s->connected && !(v & SCNTL1_CON))
		lsi_bus_disconnect(s);
	s->scntl1 = v & ~SCNTL1_CON;
}

void lsi_reg_writeb(struct lsi *s, unsigned off, uint8_t v)
{
	uint32_t *r = reg32(s, off);

	if (r) {
		set_byte(r, off & 3, v);
		if (off == DSP + 3 && !(s->dmode & DMODE_MAN))
			start(s);
		return;
	}
	switch (off) {
	case SCNTL0: s->scntl0 = v; break;
	case SCNTL1: write_scntl1(s, v); break;
	case SCNTL2: s->scntl2 = v & ~0x08; break;    /* WSR: w1c */
	case SCNTL3: s->scntl3 = v; break;
	case SCID: s->scid = v; break;
	case SXFER: s->sxfer = v; break;
	case SDID: s->sdid = v & 0x0f; break;
	case GPREG: s->gpreg = v; break;
	case SFBR: s->sfbr = v; break;
	case SOCL: s->socl = v; break;
	case SSID: s->ssid = v; break;
	case ISTAT: write_istat(s, v); break;
	case CTEST2: s->ctest2 = (uint8_t)((s->ctest2 & ~0x08) | (v & 0x08));
		break;
	case CTEST3: s->ctest3 = v & ~0x0c; break;   /* FLF, CLF: strobes */
	case CTEST4: s->ctest4 = v; break;
	case CTEST5: s->ctest5 = v; break;
	case DBC: case DBC + 1: case DBC + 2:
		set_byte(&s->dbc, off - DBC, v);
		break;
	case DCMD: s->dcmd = v; break;
	case DMODE: s->dmode = v; break;
	case DIEN: s->dien = v; lsi_update_irq(s); break;
	case SBR: s->sbr = v; break;
	case DCNTL:
		s->dcntl = v & ~DCNTL_STD;
		if (v & DCNTL_STD)
			start(s);
		lsi_update_irq(s);
		break;
	case SIEN0: s->sien0 = v; lsi_update_irq(s); break;
	case SIEN1: s->sien1 = v; lsi_update_irq(s); break;
	case SLPAR: s->slpar = v; break;
	case SWIDE: s->swide = v; break;
	case GPCNTL: s->gpcntl = v; break;
	case STIME0: s->stime0 = v; break;
	case STIME1:
		/* The general purpose timer expires at once: only its
		 * having expired matters (the clock measurement). */
		s->stime1 = v;
		if (v & 0x0f) {
			s->sist1 |= SIST1_GEN;
			lsi_update_irq(s);
		}
		break;
	case RESPID0: s->respid0 = v; break;
	case RESPID1: s->respid1 = v; break;
	case STEST1: s->stest1 = v; break;
	case STEST2: s->stest2 = v; break;
	case STEST3: s->stest3 = v; break;
	case 0x56: case 0x57: s->ccntl[off - 0x56] = v; break;
	case SODL: case SODL + 1:
		s->sodl = (uint16_t)((s->sodl & ~(0xffu << (8 * (off & 1)))) |
				     v << (8 * (off & 1)));
		break;
	}
}

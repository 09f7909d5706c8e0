/* The SCRIPTS processor of the 53C895A: fetch, decode and run the
 * instructions the driver wrote (data manual chapter 6) until they wait
 * for the SCSI bus, interrupt, or the budget of a kick is spent.
 *
 * Every address the SCRIPTS use is checked: instruction fetches, tables
 * and data go through lsi_dma_read/lsi_dma_write, which reach the chip's
 * own registers and SCRIPTS RAM where the driver mapped them and guest
 * RAM through the bounds-checked accessor, and nothing else (a bus fault
 * interrupt). A table entry is read once into a local copy. */
#include <endian.h>
#include <string.h>

#include "core/util.h"
#include "devices/lsi53c895a_priv.h"
#include "mem/guest_mem.h"

#define DSTAT_BF	0x20          /* bus fault */
#define MEMMOVE_CHUNK	4096          /* bytes per budget unit */

/* Where addr..addr+len falls in BAR bar: 1 inside (offset in *off), 0
 * outside, -1 across its edge. */
static int in_bar(struct lsi *s, unsigned bar, uint64_t size, uint32_t addr,
		  uint32_t len, uint32_t *off)
{
	uint64_t base = __atomic_load_n(&s->f.bars[bar].mapped,
					__ATOMIC_RELAXED);
	uint64_t end = (uint64_t)addr + len;

	if (base == PCI_BAR_UNMAPPED || end <= base || addr >= base + size)
		return 0;
	if (addr < base || end > base + size)
		return -1;
	*off = (uint32_t)(addr - base);
	return 1;
}

/* 1: handled by the chip itself; 0: guest memory; -1: fault. */
static int own_access(struct lsi *s, uint32_t addr, void *buf, uint32_t len,
		      bool write)
{
	uint8_t *b = buf;
	uint32_t off;
	int r;

	r = in_bar(s, LSI_BAR_RAM, LSI_RAM_SIZE, addr, len, &off);
	if (r > 0) {
		if (write)
			memcpy(s->ram + off, b, len);
		else
			memcpy(b, s->ram + off, len);
		return 1;
	}
	if (r < 0)
		return -1;
	r = in_bar(s, LSI_BAR_MMIO, LSI_MMIO_SIZE, addr, len, &off);
	if (r > 0) {
		for (uint32_t i = 0; i < len; i++, off++) {
			if (off >= LSI_REGS_SIZE) {
				if (!write)
					b[i] = 0;
			} else if (write) {
				lsi_reg_writeb(s, off, b[i]);
			} else {
				b[i] = lsi_reg_readb(s, off);
			}
		}
		return 1;
	}
	return r;
}

int lsi_dma_read(struct lsi *s, uint32_t addr, void *buf, uint32_t len)
{
	int r = own_access(s, addr, buf, len, false);

	if (r)
		return r > 0 ? 0 : -1;
	return guest_mem_read(s->env.mem, addr, buf, len) ? -1 : 0;
}

int lsi_dma_write(struct lsi *s, uint32_t addr, const void *buf,
		  uint32_t len)
{
	int r = own_access(s, addr, (void *)buf, len, true);

	if (r)
		return r > 0 ? 0 : -1;
	return guest_mem_write(s->env.mem, addr, buf, len) ? -1 : 0;
}

static int read32(struct lsi *s, uint32_t addr, uint32_t *v)
{
	uint32_t le;

	if (lsi_dma_read(s, addr, &le, 4))
		return -1;
	*v = le32toh(le);
	return 0;
}

static void bus_fault(struct lsi *s)
{
	pr_warn_ratelimited(&s->rl, "lsi53c895a: SCRIPTS at %#x: DMA outside "
			    "guest memory", s->dsp - 8);
	lsi_dma_irq(s, DSTAT_BF);
}

static void illegal(struct lsi *s)
{
	lsi_dma_irq(s, DSTAT_IID);
}

/* A selection timeout does not stop the SCRIPTS at the SELECT: as on the
 * chip, where it comes 250 ms later, they stop at the next instruction
 * that needs the bus (a move or a transfer control, already fetched), and
 * sym53c8xx checks that DSP is there (sym_int_sto). */
static bool sel_timed_out(struct lsi *s)
{
	if (!(s->sist1 & SIST1_STO))
		return false;
	s->running = false;
	s->waiting = LSI_NOWAIT;
	return true;
}

/* Block move: count and address from the instruction, indirectly from
 * memory, or from the table at DSA + offset. */
static void block_move(struct lsi *s, uint32_t insn)
{
	unsigned phase = (insn >> 24) & 7;
	uint32_t addr = s->dsps, count = s->dbc;
	bool stall = false;
	int64_t moved;

	if (sel_timed_out(s))
		return;
	if (insn & (1u << 28)) {
		uint32_t ent[2];

		if (lsi_dma_read(s, s->dsa + (uint32_t)lsi_sext24(s->dsps),
				 ent, sizeof(ent))) {
			bus_fault(s);
			return;
		}
		count = le32toh(ent[0]) & 0xffffff;
		addr = le32toh(ent[1]);
		s->dbc = count;
	} else if ((insn & (1u << 29)) && read32(s, addr, &addr)) {
		bus_fault(s);
		return;
	}
	s->dnad = addr;
	if (!s->connected) {
		illegal(s);
		return;
	}
	/* Nothing to move: no phase to wait for either. SeaBIOS's driver
	 * puts its data move, count 0, in every command's SCRIPTS, also
	 * where the target goes from COMMAND straight to STATUS. */
	if (!count)
		return;
	if (phase != s->phase) {
		lsi_scsi_irq(s, SIST0_MA, 0);
		return;
	}
	moved = lsi_bus_move(s, addr, count, &stall);
	if (moved < 0)
		return;
	s->dnad += (uint32_t)moved;
	s->dbc = count - (uint32_t)moved;
	/* The DMA FIFO byte count (DFIFO, CTEST5 bits 1:0) as drivers
	 * compute what is left in the FIFO after a phase mismatch: equal
	 * to DBC's low bits, so nothing is. */
	s->dfifo = (uint8_t)s->dbc;
	s->ctest5 = (uint8_t)((s->ctest5 & ~3u) | ((s->dbc >> 8) & 3));
	if (s->dbc)                   /* the target changed phase first */
		lsi_scsi_irq(s, SIST0_MA, 0);
	else if (stall)
		s->waiting = LSI_WAIT_DISK;
}

static void do_select(struct lsi *s, uint32_t insn, uint32_t alt)
{
	unsigned id = (insn >> 16) & 0x0f;
	int r;

	if (insn & (1u << 25)) {      /* table indirect: SCNTL3, ID, SXFER */
		uint32_t ent;

		if (read32(s, s->dsa + (uint32_t)lsi_sext24(s->dbc), &ent)) {
			bus_fault(s);
			return;
		}
		id = (ent >> 16) & 0x0f;
		s->sxfer = (uint8_t)(ent >> 8);
		s->scntl3 = (uint8_t)(ent >> 24);
	}
	if (s->connected) {           /* reselected meanwhile: not here */
		s->dsp = alt;
		return;
	}
	r = lsi_bus_select(s, id, insn & (1u << 24));
	if (r < 0) {
		s->sist1 |= SIST1_STO;        /* the SCRIPTS stop later */
		lsi_update_irq(s);
	} else if (r > 0) {
		s->dsp -= 8;          /* again when the bus is free */
		s->waiting = LSI_WAIT_BUS;
	}
}

static void io_insn(struct lsi *s, uint32_t insn)
{
	uint32_t alt = s->dsps;

	if (insn & (1u << 26))        /* relative alternate address */
		alt = s->dsp + (uint32_t)lsi_sext24(s->dsps);
	s->dnad = alt;
	switch ((insn >> 27) & 7) {
	case 0:
		do_select(s, insn, alt);
		break;
	case 1:                       /* wait disconnect */
		lsi_bus_disconnect(s);
		break;
	case 2:                       /* wait reselect */
		if (s->connected) {
			illegal(s);
		} else if (s->istat & ISTAT_SIGP) {
			s->dsp = alt;
		} else {
			s->waiting = LSI_WAIT_RESELECT;
			s->wait_alt = alt;
		}
		break;
	case 3:                       /* set */
		if (insn & (1u << 3))
			s->socl |= SOCL_ATN;
		if (insn & (1u << 10))
			s->carry = true;
		break;
	case 4:                       /* clear */
		if (insn & (1u << 3))
			s->socl &= ~SOCL_ATN;
		if (insn & (1u << 10))
			s->carry = false;
		if (insn & (1u << 6))
			lsi_bus_clear_ack(s);
		break;
	}
}

static uint8_t alu(struct lsi *s, unsigned op, uint8_t a, uint8_t b)
{
	unsigned r;

	switch (op) {
	case 0: return b;
	case 1:                       /* shift left through carry */
		r = (unsigned)a << 1 | s->carry;
		s->carry = a >> 7;
		return (uint8_t)r;
	case 2: return a | b;
	case 3: return a ^ b;
	case 4: return a & b;
	case 5:                       /* shift right through carry */
		r = a >> 1 | (unsigned)s->carry << 7;
		s->carry = a & 1;
		return (uint8_t)r;
	case 6:
		r = (unsigned)a + b;
		s->carry = r > 0xff;
		return (uint8_t)r;
	default:
		r = (unsigned)a + b + s->carry;
		s->carry = r > 0xff;
		return (uint8_t)r;
	}
}

/* Read/write register: 5 SFBR op data → reg, 6 reg op data → SFBR,
 * 7 reg op data (or SFBR) → reg. */
static void rw_reg(struct lsi *s, uint32_t insn)
{
	unsigned kind = (insn >> 27) & 7, op = (insn >> 24) & 7;
	unsigned reg = ((insn >> 16) & 0x7f) | (insn & 0x80);
	uint8_t data = (uint8_t)(insn >> 8), a = 0, v;

	switch (kind) {
	case 5:
		a = s->sfbr;
		break;
	case 6:
		if (op)
			a = lsi_reg_readb(s, reg);
		break;
	default:
		if (op)
			a = lsi_reg_readb(s, reg);
		if (insn & (1u << 23))
			data = s->sfbr;
		break;
	}
	v = alu(s, op, a, data);
	if (kind == 6)
		s->sfbr = v;
	else
		lsi_reg_writeb(s, reg, v);
}

static void io_or_rw(struct lsi *s, uint32_t insn)
{
	if (((insn >> 27) & 7) >= 5)
		rw_reg(s, insn);
	else
		io_insn(s, insn);
}

static bool condition(struct lsi *s, uint32_t insn)
{
	bool want = insn & (1u << 19), c = want;

	/* Nothing to compare and "jump if false": a no-op, which drivers
	 * write as such (sym53c8xx's SCR_NO_OP is 0x80000000). */
	if (!(insn & 0x002e0000))
		return false;

	if (c == want && (insn & (1u << 21)))
		c = s->carry;
	if (c == want && (insn & (1u << 17)))
		c = s->connected && s->phase == ((insn >> 24) & 7);
	if (c == want && (insn & (1u << 18))) {
		uint8_t mask = (uint8_t)~(insn >> 8);

		c = (s->sfbr & mask) == (insn & mask);
	}
	return c == want;
}

static void transfer(struct lsi *s, uint32_t insn)
{
	uint32_t to = s->dsps;

	if (sel_timed_out(s) || !condition(s, insn))
		return;
	if (insn & (1u << 23))
		to = s->dsp + (uint32_t)lsi_sext24(s->dsps);
	switch ((insn >> 27) & 7) {
	case 0:
		s->dsp = to;
		break;
	case 1:
		s->temp = s->dsp;
		s->dsp = to;
		break;
	case 2:
		s->dsp = s->temp;
		break;
	case 3:
		if (insn & (1u << 20)) {        /* interrupt on the fly */
			s->istat |= ISTAT_INTF;
			lsi_update_irq(s);
		} else {
			lsi_dma_irq(s, DSTAT_SIR);
		}
		break;
	default:
		illegal(s);
	}
}

/* Memory move: count bytes from DSPS to the third word, a chunk per
 * budget unit (a 16 MiB move is not one instruction's worth of work). */
static void mem_move(struct lsi *s, unsigned *budget)
{
	uint8_t buf[MEMMOVE_CHUNK];
	uint32_t dst, src = s->dsps, left = s->dbc;

	if (read32(s, s->dsp, &dst)) {
		bus_fault(s);
		return;
	}
	s->dsp += 4;
	while (left) {
		uint32_t n = MIN(left, (uint32_t)sizeof(buf));

		if (!*budget) {
			lsi_scsi_irq(s, SIST0_UDC, 0);
			return;
		}
		(*budget)--;
		if (lsi_dma_read(s, src, buf, n) ||
		    lsi_dma_write(s, dst, buf, n)) {
			bus_fault(s);
			return;
		}
		src += n;
		dst += n;
		left -= n;
	}
}

/* Load/store 1-4 bytes between registers and memory. */
static void load_store(struct lsi *s, uint32_t insn)
{
	unsigned reg = (insn >> 16) & 0xff, n = insn & 7;
	uint32_t addr = s->dsps;
	uint8_t b[4];

	if (insn & (1u << 28))
		addr = s->dsa + (uint32_t)lsi_sext24(s->dsps);
	if (!n || n > 4 || reg + n > LSI_REGS_SIZE) {
		illegal(s);
		return;
	}
	if (insn & (1u << 24)) {
		if (lsi_dma_read(s, addr, b, n)) {
			bus_fault(s);
			return;
		}
		for (unsigned i = 0; i < n; i++)
			lsi_reg_writeb(s, reg + i, b[i]);
	} else {
		for (unsigned i = 0; i < n; i++)
			b[i] = lsi_reg_readb(s, reg + i);
		if (lsi_dma_write(s, addr, b, n))
			bus_fault(s);
	}
}

static void step(struct lsi *s, unsigned *budget)
{
	uint32_t w[2], insn;

	if (lsi_dma_read(s, s->dsp, w, sizeof(w))) {
		s->dsp += 8;          /* DSP past it, as after any fetch */
		bus_fault(s);
		return;
	}
	insn = le32toh(w[0]);
	s->dcmd = (uint8_t)(insn >> 24);
	s->dbc = insn & 0xffffff;
	s->dsps = le32toh(w[1]);
	s->dsp += 8;
	s->insns++;
	switch (insn >> 30) {
	case 0:
		block_move(s, insn);
		break;
	case 1:
		io_or_rw(s, insn);
		break;
	case 2:
		transfer(s, insn);
		break;
	default:
		if (insn & (1u << 29))
			load_store(s, insn);
		else
			mem_move(s, budget);
		break;
	}
}

/* Run until the SCRIPTS stop or wait. A guest's endless loop ends here
 * with an unexpected-disconnect interrupt after LSI_BUDGET instructions:
 * the vCPU (or loop thread) that kicked it is never held longer. Not
 * while the VM is paused: the resume runs them (lsi53c895a.c). */
void lsi_run(struct lsi *s)
{
	unsigned budget = LSI_BUDGET;

	if (s->quiesced || !s->running || s->waiting != LSI_NOWAIT)
		return;
	s->in_run = true;
	while (s->running && s->waiting == LSI_NOWAIT) {
		if (!budget) {
			pr_warn_ratelimited(&s->rl, "lsi53c895a: SCRIPTS ran "
					    "%u instructions without waiting "
					    "(at %#x): stopped", LSI_BUDGET,
					    s->dsp);
			lsi_bus_disconnect(s);
			lsi_scsi_irq(s, SIST0_UDC, 0);
			break;
		}
		budget--;
		step(s, &budget);
		if (s->running && (s->dcntl & DCNTL_SSM))
			lsi_dma_irq(s, DSTAT_SSI);
	}
	s->in_run = false;
	pci_func_set_irq(&s->f, s->irq_level);
}

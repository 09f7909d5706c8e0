/* LSI 53C895A SCRIPTS processor, one opcode class at a time: register
 * read/write with each ALU operator, transfer control (jump, call,
 * return, interrupt; carry, data and phase conditions; relative
 * addresses), memory move (guest RAM, the chip's registers, SCRIPTS RAM),
 * load/store (absolute and DSA-relative), indirect block moves, WAIT
 * RESELECT and SIGP, ABRT, single step; then what a hostile guest does:
 * a loop (the budget), reselection and SIGP storms, an interrupt storm,
 * fetches, tables and data outside RAM, a reset while the disk has a
 * command. */
#include "test_lsi.h"

#define DSTAT_BF	0x20

static uint8_t dstat(struct lsi_fix *x)
{
	return (uint8_t)(rd(x, DSTAT, 1) & ~DSTAT_DFE);
}

/* Run [SCRIPT_GPA, x->pc) followed by INT 0x5a5a. */
static void go(struct lsi_fix *x)
{
	emit(x, I_INT, 0x5a5a);
	lsi_start(x, SCRIPT_GPA);
}

static void assert_done(struct lsi_fix *x)
{
	assert_int_equal(dstat(x), DSTAT_SIR);
	assert_int_equal(rd(x, DSPS, 4), 0x5a5a);
}

static void test_register_ops(void **state)
{
	struct lsi_fix *x = *state;

	asm_at(x, SCRIPT_GPA);
	emit(x, I_REG(7, 0, SCRATCHA, 0x81), 0);        /* A0 = 0x81 */
	emit(x, I_REG(7, 2, SCRATCHA, 0x02), 0);        /* |= 2: 0x83 */
	emit(x, I_REG(7, 4, SCRATCHA, 0x0f), 0);        /* &= f: 0x03 */
	emit(x, I_REG(7, 3, SCRATCHA, 0xff), 0);        /* ^= ff: 0xfc */
	emit(x, I_REG(7, 6, SCRATCHA, 0x05), 0);        /* +5: 0x01 c */
	emit(x, I_REG(7, 7, SCRATCHA + 1, 0x10), 0);    /* A1 = 0+0x10+c */
	emit(x, I_REG(6, 2, SCRATCHA, 0), 0);           /* SFBR = A0|0 */
	emit(x, I_REG(5, 6, SCRATCHA + 2, 0x40), 0);    /* A2 = SFBR+0x40 */
	emit(x, I_REG(7, 1, SCRATCHA + 3, 0x00), 0);    /* A3 <<= 1 */
	emit(x, I_REG(7, 0, SCRATCHB, 0x03), 0);
	emit(x, I_REG(7, 5, SCRATCHB, 0x00), 0);        /* >>= 1: 1, c=1 */
	emit(x, I_REG(7, 0, SCRATCHB + 1, 0x00) | 0x800000, 0); /* = SFBR */
	go(x);
	assert_done(x);
	assert_int_equal(rd(x, SCRATCHA, 4), 0x00411101);
	assert_int_equal(rd(x, SCRATCHB, 2), 0x0101);
	assert_int_equal(rd(x, SFBR, 1), 0x01);
	assert_true(x->s->carry);
	/* A7 of a register address (0x80 + n) is bit 7 of DBC */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_REG(7, 0, 0x00, 0x99) | 0x80, 0);     /* reg 0x80 */
	go(x);
	assert_done(x);
}

static void test_transfer_control(void **state)
{
	struct lsi_fix *x = *state;
	uint32_t sub = SCRIPT_GPA + 0x200;

	asm_at(x, SCRIPT_GPA);
	emit(x, I_CALL, sub);                            /* 0 */
	emit(x, I_SET(B_CARRY), 0);                      /* 1 */
	emit(x, I_JUMP_CARRY, SCRIPT_GPA + 8 * 4);       /* 2: taken */
	emit(x, I_INT, 0xbad1);                          /* 3 */
	emit(x, I_REG(7, 0, SFBR, 0x5c), 0);             /* 4 */
	emit(x, I_JUMP_DATA(0x00, 0x5d), SCRIPT_GPA);    /* 5: not taken */
	emit(x, I_JUMP_DATA(0x01, 0x5d), SCRIPT_GPA + 8 * 8); /* 6: taken */
	emit(x, I_INT, 0xbad2);                          /* 7 */
	emit(x, I_JUMP_REL, 8);                          /* 8: skip 9 */
	emit(x, I_INT, 0xbad3);                          /* 9 */
	emit(x, I_JUMP_WHEN(PHASE_DI), SCRIPT_GPA);      /* 10: no bus */
	emit(x, I_CLEAR(B_CARRY), 0);                    /* 11 */
	emit(x, I_JUMP_CARRY, SCRIPT_GPA);               /* 12: not taken */
	emit(x, I_JUMP, SCRIPT_GPA + 0x100);
	asm_at(x, SCRIPT_GPA + 0x100);
	emit(x, I_INT, 0x5a5a);
	asm_at(x, sub);
	emit(x, I_REG(7, 0, SCRATCHB, 0x42), 0);
	emit(x, I_RETURN, 0);
	lsi_start(x, SCRIPT_GPA);
	assert_done(x);
	assert_int_equal(rd(x, SCRATCHB, 1), 0x42);
	assert_int_equal(rd(x, TEMP, 4), SCRIPT_GPA + 8);  /* CALL's return */
	assert_int_equal(x->s->insns, 14);
	/* a jump with nothing to compare and "if false" is a no-op */
	asm_at(x, SCRIPT_GPA);
	emit(x, 0x80000000u, 0);
	go(x);
	assert_done(x);
	/* opcode 4 of transfer control is illegal */
	asm_at(x, SCRIPT_GPA);
	emit(x, 0xa0080000u, 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_IID);
}

static void test_memory_move(void **state)
{
	struct lsi_fix *x = *state;
	uint8_t *src = gp(x, BUF_GPA), *dst = gp(x, BUF_GPA + 0x8000);

	for (unsigned i = 0; i < 6000; i++)
		src[i] = (uint8_t)(i * 3);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_MEMMOVE(6000), BUF_GPA);
	put32(x, x->pc, BUF_GPA + 0x8000);
	x->pc += 4;
	/* 4 bytes into SCRATCHB through the register BAR, and into SCRIPTS
	 * RAM, then from RAM to DSA */
	emit(x, I_MEMMOVE(4), BUF_GPA);
	put32(x, x->pc, MMIO_BASE + SCRATCHB);
	x->pc += 4;
	emit(x, I_MEMMOVE(4), BUF_GPA + 4);
	put32(x, x->pc, RAM_BASE + 0x100);
	x->pc += 4;
	emit(x, I_MEMMOVE(4), RAM_BASE + 0x100);
	put32(x, x->pc, MMIO_BASE + DSA);
	x->pc += 4;
	go(x);
	assert_done(x);
	assert_memory_equal(dst, src, 6000);
	assert_int_equal(rd(x, SCRATCHB, 4), le32toh(*(uint32_t *)src));
	assert_int_equal(rd(x, DSA, 4), le32toh(*(uint32_t *)(src + 4)));
	assert_memory_equal(x->s->ram + 0x100, src + 4, 4);
}

static void test_load_store(void **state)
{
	struct lsi_fix *x = *state;

	put32(x, BUF_GPA, 0xa1b2c3d4);
	put32(x, TABLE_GPA + 0x10, 0x01020304);
	wr(x, DSA, 4, TABLE_GPA + 0x20);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_LOAD(SCRATCHA, 4), BUF_GPA);
	emit(x, I_LOAD_DSA(SCRATCHB, 2), 0xfffff0);      /* DSA - 16 */
	emit(x, I_REG(7, 0, SCRATCHC, 0x77), 0);
	emit(x, I_STORE(SCRATCHC, 1), BUF_GPA + 0x40);
	emit(x, I_STORE(SCRATCHA, 3), BUF_GPA + 0x50);
	go(x);
	assert_done(x);
	assert_int_equal(rd(x, SCRATCHA, 4), 0xa1b2c3d4);
	assert_int_equal(rd(x, SCRATCHB, 4), 0x0304);
	assert_int_equal(*(uint8_t *)gp(x, BUF_GPA + 0x40), 0x77);
	assert_memory_equal(gp(x, BUF_GPA + 0x50), "\xd4\xc3\xb2", 3);
	/* 0 or more than 4 bytes: illegal */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_LOAD(SCRATCHA, 5), BUF_GPA);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_IID);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_LOAD(0xfe, 4), BUF_GPA);               /* past 0xff */
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_IID);
}

static void test_scripts_ram(void **state)
{
	struct lsi_fix *x = *state;
	uint32_t prog[] = { htole32(I_REG(7, 0, SCRATCHA, 0x3c)), 0,
			    htole32(I_INT), htole32(0x5a5a) };

	/* written through the RAM BAR, run from its bus address */
	for (unsigned i = 0; i < 4; i++)
		x->f->ops->bar_write(x->f, LSI_BAR_RAM, 0x40 + 4 * i, 4,
				     prog[i]);
	assert_int_equal(x->f->ops->bar_read(x->f, LSI_BAR_RAM, 0x48, 4),
			 I_INT);
	lsi_start(x, RAM_BASE + 0x40);
	assert_done(x);
	assert_int_equal(rd(x, SCRATCHA, 1), 0x3c);
	assert_int_equal(rd(x, DSP, 4), RAM_BASE + 0x50);
}

static void test_indirect_move(void **state)
{
	struct lsi_fix *x = *state;

	/* MOVE indirect: the address is read from memory */
	put32(x, BUF_GPA + 0x100, BUF_GPA + 0x200);
	*(uint8_t *)gp(x, BUF_GPA + 0x200) = 0x80;       /* IDENTIFY */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE_IND(PHASE_MO, 1), BUF_GPA + 0x100);
	go(x);
	assert_done(x);
	assert_int_equal(rd(x, DNAD, 4), BUF_GPA + 0x201);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_CMD);
}

static void test_wait_reselect(void **state)
{
	struct lsi_fix *x = *state;

	asm_at(x, SCRIPT_GPA);
	emit(x, I_WAIT_RESEL, SCRIPT_GPA + 16);
	emit(x, I_INT, 0xbad);
	go(x);
	/* parked: nothing reselects, until the driver signals */
	assert_int_equal(x->s->waiting, LSI_WAIT_RESELECT);
	assert_int_equal(x->s->insns, 1);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_DIP, 0);
	wr(x, ISTAT, 1, ISTAT_SIGP);
	assert_done(x);
	/* with SIGP already set it goes straight on */
	lsi_start(x, SCRIPT_GPA);
	assert_done(x);
	/* ABRT while parked: DSTAT ABRT */
	rd(x, CTEST2, 1);                                /* SIGP off */
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->waiting, LSI_WAIT_RESELECT);
	wr(x, ISTAT, 1, ISTAT_ABRT);
	assert_int_equal(dstat(x), DSTAT_ABRT);
	assert_int_equal(x->s->waiting, LSI_NOWAIT);
	assert_false(x->s->running);
}

static void test_single_step(void **state)
{
	struct lsi_fix *x = *state;

	asm_at(x, SCRIPT_GPA);
	emit(x, I_REG(7, 0, SCRATCHA, 1), 0);
	emit(x, I_REG(7, 0, SCRATCHA, 2), 0);
	emit(x, I_INT, 0x5a5a);
	wr(x, DCNTL, 1, DCNTL_SSM);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_SSI);
	assert_int_equal(rd(x, SCRATCHA, 1), 1);
	wr(x, DCNTL, 1, DCNTL_SSM | DCNTL_STD);
	assert_int_equal(dstat(x), DSTAT_SSI);
	assert_int_equal(rd(x, SCRATCHA, 1), 2);
}

/* --- hostile --- */

static void test_budget(void **state)
{
	struct lsi_fix *x = *state;

	/* a jump to itself: stopped after the budget with UDC */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_JUMP, SCRIPT_GPA);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, LSI_BUDGET);
	assert_int_equal(rd(x, SIST0, 1), SIST0_UDC);
	assert_false(x->s->running);
	/* a loop of 2 MiB memory moves: each 4 KiB counts */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_MEMMOVE(2u << 20), 0);
	put32(x, x->pc, 2u << 20);
	x->pc += 4;
	emit(x, I_JUMP, SCRIPT_GPA);
	x->s->insns = 0;
	lsi_start(x, SCRIPT_GPA);
	assert_in_range(x->s->insns, 2, 2 * (LSI_BUDGET / 512 + 1));
	assert_int_equal(rd(x, SIST0, 1), SIST0_UDC);
	/* the driver can go on afterwards */
	asm_at(x, SCRIPT_GPA);
	go(x);
	assert_done(x);
}

/* Reselection storms cost the guest, never the host: every way of
 * looping through WAIT RESELECT is a bounded run per kick. */
static void test_reselect_storm(void **state)
{
	struct lsi_fix *x = *state;
	uint64_t before;

	/* WAIT RESELECT with SIGP set, its alternate address itself: the
	 * budget stops it (SIGP stays set until CTEST2 is read) */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_WAIT_RESEL, SCRIPT_GPA);
	wr(x, ISTAT, 1, ISTAT_SIGP);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, LSI_BUDGET);
	assert_int_equal(rd(x, SIST0, 1), SIST0_UDC);
	assert_false(x->s->running);
	rd(x, CTEST2, 1);
	/* the SCRIPTS set SIGP themselves, then wait: the same */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_REG(7, 2, ISTAT, ISTAT_SIGP), 0);
	emit(x, I_WAIT_RESEL, SCRIPT_GPA);
	x->s->insns = 0;
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, LSI_BUDGET);
	assert_int_equal(rd(x, SIST0, 1), SIST0_UDC);
	rd(x, CTEST2, 1);
	/* a driver's idle loop (wait; on SIGP read CTEST2, wait again)
	 * under a storm of SIGP writes: three instructions each, parked
	 * again after every one, nothing raised */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_WAIT_RESEL, SCRIPT_GPA + 8);
	emit(x, I_REG(6, 2, CTEST2, 0), 0);              /* SIGP off */
	emit(x, I_JUMP, SCRIPT_GPA);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->waiting, LSI_WAIT_RESELECT);
	before = x->s->insns;
	for (unsigned i = 0; i < 1000; i++)
		wr(x, ISTAT, 1, ISTAT_SIGP);
	assert_int_equal(x->s->insns - before, 3 * 1000);
	assert_int_equal(x->s->waiting, LSI_WAIT_RESELECT);
	assert_int_equal(rd(x, ISTAT, 1) & (ISTAT_DIP | ISTAT_SIP), 0);
	/* and a storm of DSP writes restarting the wait: one each */
	before = x->s->insns;
	for (unsigned i = 0; i < 1000; i++)
		lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns - before, 1000);
	assert_int_equal(x->s->waiting, LSI_WAIT_RESELECT);
}

static void count_irq(void *ctx, uint32_t gsi, int level)
{
	(void)gsi;
	(void)level;
	(*(unsigned *)ctx)++;
}

/* A loop raising and clearing INTF sets the INTx line once per kick,
 * not twice per iteration (a KVM_IRQ_LINE each: host work the guest
 * could multiply by the budget). */
static void test_irq_storm(void **state)
{
	struct lsi_fix *x = *state;
	unsigned calls = 0;

	x->s->env.irq_set = count_irq;
	x->s->env.ctx = &calls;
	x->f->host = (struct pci_host *)x;   /* "attached": the line is set */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_INTFLY, 0);
	emit(x, I_REG(7, 0, ISTAT, ISTAT_INTF), 0);      /* w1c */
	emit(x, I_JUMP, SCRIPT_GPA);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, LSI_BUDGET);
	assert_int_equal(rd(x, SIST0, 1), SIST0_UDC);
	assert_in_range(calls, 0, 1);
	/* outside a run the line follows at once */
	wr(x, ISTAT, 1, ISTAT_INTF);
	assert_false(irq_level(x));
	calls = 0;
	wr(x, DIEN, 1, DSTAT_SIR);
	asm_at(x, SCRIPT_GPA);
	go(x);
	assert_true(irq_level(x));
	assert_done(x);
	assert_false(irq_level(x));
	assert_int_equal(calls, 2);                      /* up, down */
	x->f->host = NULL;
}

static void test_bad_addresses(void **state)
{
	struct lsi_fix *x = *state;

	/* fetch outside RAM */
	lsi_start(x, 0x80000000);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* a fetch across the end of RAM */
	lsi_start(x, RAM_SIZE - 4);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* a table entry outside RAM (DSA + offset) */
	wr(x, DSA, 4, 0xf0000000);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE_TBL(PHASE_MO), 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* select table outside RAM */
	wr(x, SCNTL1, 1, 0);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_TBL_ATN(0), 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* message bytes from outside RAM */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_MO, 1), RAM_SIZE);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* a memory move's destination half outside RAM: nothing written */
	*(uint8_t *)gp(x, RAM_SIZE - 1) = 0x11;
	asm_at(x, SCRIPT_GPA);
	emit(x, I_MEMMOVE(2), BUF_GPA);
	put32(x, x->pc, RAM_SIZE - 1);
	x->pc += 4;
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	assert_int_equal(*(uint8_t *)gp(x, RAM_SIZE - 1), 0x11);
	/* across the edge of the SCRIPTS RAM window */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_MEMMOVE(8), BUF_GPA);
	put32(x, x->pc, RAM_BASE + LSI_RAM_SIZE - 4);
	x->pc += 4;
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* an indirect address outside RAM */
	wr(x, SCNTL1, 1, 0);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE_IND(PHASE_MO, 1), 0xfffffffc);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
}

static void test_data_outside_ram(void **state)
{
	struct lsi_fix *x = *state;
	static const uint8_t inq[] = { 0x12, 0, 0, 0, 36, 0 };

	/* INQUIRY data to an address past RAM: bus fault, no write */
	memcpy(gp(x, BUF_GPA), inq, sizeof(inq));
	*(uint8_t *)gp(x, BUF_GPA + 0x10) = 0x80;
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_MO, 1), BUF_GPA + 0x10);
	emit(x, I_MOVE(PHASE_CMD, 6), BUF_GPA);
	emit(x, I_MOVE(PHASE_DI, 36), RAM_SIZE - 8);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(dstat(x), DSTAT_BF);
	/* a reset and the controller works again */
	wr(x, ISTAT, 1, ISTAT_SRST);
	wr(x, SCID, 1, 7);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_MO, 1), BUF_GPA + 0x10);
	emit(x, I_MOVE(PHASE_CMD, 6), BUF_GPA);
	emit(x, I_MOVE(PHASE_DI, 36), DATA_GPA);
	go(x);
	assert_done(x);
	assert_memory_equal(gp(x, DATA_GPA + 8), "CVISOR", 6);
}

static void test_reset_with_io(void **state)
{
	struct lsi_fix *x = *state;
	static const uint8_t rd10[] = { 0x28, 0, 0, 0, 0, 0, 0, 0, 8, 0 };

	memcpy(gp(x, BUF_GPA), rd10, sizeof(rd10));
	*(uint8_t *)gp(x, BUF_GPA + 0x10) = 0x80;
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_MO, 1), BUF_GPA + 0x10);
	emit(x, I_MOVE(PHASE_CMD, 10), BUF_GPA);
	emit(x, I_MOVE(PHASE_DI, 4096), DATA_GPA);
	go(x);
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	/* the disk still has the read: reset, select again */
	wr(x, ISTAT, 1, ISTAT_SRST);
	wr(x, SCID, 1, 7);
	assert_true(x->s->io_busy);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->waiting, LSI_WAIT_BUS);   /* until it is back */
	memset(gp(x, DATA_GPA), 0xaa, 4096);
	lsi_drain(x);                                    /* old one, then new */
	lsi_drain(x);
	assert_done(x);
	assert_int_equal(*(uint8_t *)gp(x, DATA_GPA), 0);
	/* a block move while the disk works: the bus shows no phase */
	wr(x, SCNTL1, 1, 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	lsi_start(x, SCRIPT_GPA + 24);                   /* DI move again */
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	lsi_drain(x);
	assert_done(x);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, lsi_setup, lsi_teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_register_ops),
		T(test_transfer_control),
		T(test_memory_move),
		T(test_load_store),
		T(test_scripts_ram),
		T(test_indirect_move),
		T(test_wait_reselect),
		T(test_single_step),
		T(test_budget),
		T(test_reselect_storm),
		T(test_irq_storm),
		T(test_bad_addresses),
		T(test_data_outside_ram),
		T(test_reset_with_io),
	};

	setenv("CVISOR_BLOCK_ENGINE", "sync", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

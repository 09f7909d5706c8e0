/* LSI 53C895A: the register file (reset values, read-to-clear and
 * write-1-to-clear bits, the INTx line) and whole commands through
 * SCRIPTS as a driver writes them: select, message out, command, data
 * in and out (through the disk asynchronously), status, message in,
 * disconnect; CHECK CONDITION and REQUEST SENSE; selection timeout and
 * phase mismatch. The opcode classes one by one, the budget and bad
 * addresses are in test_lsi_scripts.c. */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "test_lsi.h"

#define DONE_VEC	0x1000
#define FAIL_VEC	0xdead

/* The driver's tables at DSA (TABLE_GPA). */
enum { T_SEL = 0, T_MSGO = 8, T_CMD = 16, T_DATA = 24, T_ST = 32,
       T_MSGI = 40 };
#define MSGO_GPA	(BUF_GPA)
#define CDB_GPA		(BUF_GPA + 0x10)
#define ST_GPA		(BUF_GPA + 0x40)
#define MSGI_GPA	(BUF_GPA + 0x48)

static void table(struct lsi_fix *x, unsigned off, uint32_t n, uint32_t a)
{
	put32(x, TABLE_GPA + off, n);
	put32(x, TABLE_GPA + off + 4, a);
}

/* A command to target/lun; data_len bytes at DATA_GPA. The SCRIPTS end
 * with INT DONE_VEC, or FAIL_VEC when the selection fails. */
static void command(struct lsi_fix *x, unsigned target, unsigned lun,
		    const uint8_t *cdb, unsigned cdb_len, uint32_t data_len)
{
	uint32_t jump_st, fail_at, st_at;

	*(uint8_t *)gp(x, MSGO_GPA) = (uint8_t)(0x80 | lun);
	memcpy(gp(x, CDB_GPA), cdb, cdb_len);
	*(uint8_t *)gp(x, ST_GPA) = 0xee;
	*(uint8_t *)gp(x, MSGI_GPA) = 0xee;
	put32(x, TABLE_GPA + T_SEL, target << 16);
	table(x, T_MSGO, 1, MSGO_GPA);
	table(x, T_CMD, cdb_len, CDB_GPA);
	table(x, T_DATA, data_len, DATA_GPA);
	table(x, T_ST, 1, ST_GPA);
	table(x, T_MSGI, 1, MSGI_GPA);

	asm_at(x, SCRIPT_GPA);
	fail_at = SCRIPT_GPA + 8 * 14;
	emit(x, I_SELECT_TBL_ATN(T_SEL), fail_at);
	emit(x, I_MOVE_TBL(PHASE_MO), T_MSGO);
	emit(x, I_MOVE_TBL(PHASE_CMD), T_CMD);
	jump_st = emit(x, I_JUMP_WHEN(PHASE_ST), 0);
	emit(x, I_JUMP_WHEN(PHASE_DO), SCRIPT_GPA + 8 * 7);
	emit(x, I_MOVE_TBL(PHASE_DI), T_DATA);
	emit(x, I_JUMP, SCRIPT_GPA + 8 * 8);
	emit(x, I_MOVE_TBL(PHASE_DO), T_DATA);            /* 7 */
	st_at = emit(x, I_MOVE_TBL(PHASE_ST), T_ST);      /* 8 */
	emit(x, I_MOVE_TBL(PHASE_MI), T_MSGI);
	emit(x, I_CLEAR(B_ACK), 0);
	emit(x, I_WAIT_DISC, 0);
	emit(x, I_INT, DONE_VEC);
	emit(x, I_INT, 0xbad);                           /* 13 */
	assert_int_equal(x->pc, fail_at);
	emit(x, I_INT, FAIL_VEC);                        /* 14 */
	put32(x, jump_st + 4, st_at);
	wr(x, DSA, 4, TABLE_GPA);
	lsi_start(x, SCRIPT_GPA);
}

/* Run a command to its end; returns the SCSI status byte. */
static uint8_t run_cmd(struct lsi_fix *x, unsigned target, unsigned lun,
		       const uint8_t *cdb, unsigned cdb_len, uint32_t data_len)
{
	command(x, target, lun, cdb, cdb_len, data_len);
	lsi_drain(x);
	assert_true(irq_level(x) || !x->s->dien);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_DIP, ISTAT_DIP);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, DSPS, 4), DONE_VEC);
	assert_int_equal(*(uint8_t *)gp(x, MSGI_GPA), 0x00);  /* COMPLETE */
	assert_false(rd(x, ISTAT, 1) & ISTAT_CON);
	return *(uint8_t *)gp(x, ST_GPA);
}

#define CMD(x, t, l, len, ...) ({ \
	static const uint8_t c_[] = { __VA_ARGS__ }; \
	run_cmd(x, t, l, c_, sizeof(c_), len); })

static void test_reset_values(void **state)
{
	struct lsi_fix *x = *state;

	assert_int_equal(pci_cfg_get(x->f, PCI_VENDOR_ID, 2), 0x1000);
	assert_int_equal(pci_cfg_get(x->f, PCI_DEVICE_ID, 2), 0x0012);
	assert_int_equal(pci_cfg_get(x->f, PCI_CLASS_DEVICE, 2), 0x0100);
	assert_int_equal(x->f->bars[LSI_BAR_IO].size, 256);
	assert_true(x->f->bars[LSI_BAR_IO].flags & PCI_BAR_SPACE_IO);
	assert_int_equal(x->f->bars[LSI_BAR_MMIO].size, 1024);
	assert_int_equal(x->f->bars[LSI_BAR_RAM].size, 8192);
	assert_int_equal(rd(x, ISTAT, 1), 0);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE);
	assert_int_equal(rd(x, SCNTL0, 1), 0xc0);
	assert_int_equal(rd(x, CTEST3, 1) >> 4, 2);
	assert_int_equal(rd(x, STEST4, 1) & STEST4_LCKFRQ, STEST4_LCKFRQ);
	assert_int_equal(rd(x, 0xf0, 4), 0);
}

static void test_registers_rw(void **state)
{
	struct lsi_fix *x = *state;

	/* 32-bit registers, any width, little-endian lanes */
	wr(x, SCRATCHA, 4, 0x11223344);
	assert_int_equal(rd(x, SCRATCHA, 4), 0x11223344);
	assert_int_equal(rd(x, SCRATCHA + 1, 1), 0x33);
	wr(x, SCRATCHA + 2, 2, 0xaabb);
	assert_int_equal(rd(x, SCRATCHA, 4), 0xaabb3344);
	wr(x, SCRATCHC + 28, 4, 0xcafef00d);              /* SCRATCHJ */
	assert_int_equal(rd(x, SCRATCHC + 28, 4), 0xcafef00d);
	wr(x, DSA, 4, 0x12345678);
	assert_int_equal(rd(x, DSA, 4), 0x12345678);
	wr(x, TEMP, 4, 0x87654321);
	assert_int_equal(rd(x, TEMP, 4), 0x87654321);
	/* DMODE manual start: a DSP write does not start the SCRIPTS */
	wr(x, DMODE, 1, DMODE_MAN);
	put32(x, SCRIPT_GPA, I_INT);
	put32(x, SCRIPT_GPA + 4, 0x77);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, 0);
	assert_int_equal(rd(x, DSP, 4), SCRIPT_GPA);
	wr(x, DCNTL, 1, DCNTL_STD);                       /* now */
	assert_int_equal(x->s->insns, 1);
	assert_int_equal(rd(x, DSPS, 4), 0x77);
	assert_int_equal(rd(x, DCNTL, 1) & DCNTL_STD, 0);
	/* DSTAT clears on read */
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE);
	/* SRST: back to power-on values */
	wr(x, ISTAT, 1, ISTAT_SRST);
	assert_int_equal(rd(x, SCRATCHA, 4), 0);
	assert_int_equal(rd(x, DMODE, 1), 0);
	/* but the host's own ID is 7, which SeaBIOS never programs */
	assert_int_equal(rd(x, SCID, 1), LSI_HOST_ID);
}

static void test_interrupt_line(void **state)
{
	struct lsi_fix *x = *state;

	put32(x, SCRIPT_GPA, I_INT);
	put32(x, SCRIPT_GPA + 4, 1);
	/* DIEN off: DSTAT and DIP, no line */
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, ISTAT, 1), ISTAT_DIP);
	assert_false(irq_level(x));
	wr(x, DIEN, 1, DSTAT_SIR);                        /* enabled now */
	assert_true(irq_level(x));
	wr(x, DCNTL, 1, DCNTL_IRQD);                      /* pin off */
	assert_false(irq_level(x));
	wr(x, DCNTL, 1, 0);
	assert_true(irq_level(x));
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_false(irq_level(x));
	assert_int_equal(rd(x, ISTAT, 1), 0);
	/* INTFLY: line up, SCRIPTS go on; ISTAT.INTF is write 1 to clear */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_INTFLY, 0);
	emit(x, I_INT, 2);
	wr(x, DIEN, 1, 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(x->s->insns, 3);
	assert_int_equal(rd(x, ISTAT, 1), ISTAT_INTF | ISTAT_DIP);
	assert_true(irq_level(x));
	wr(x, ISTAT, 1, ISTAT_INTF);
	assert_false(irq_level(x));
	/* SIST: enabled by SIEN, cleared by reading */
	wr(x, SIEN1, 1, SIST1_STO);
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(5), 0);                     /* nobody there */
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_SIP, ISTAT_SIP);
	assert_true(irq_level(x));
	assert_int_equal(rd(x, SIST1, 1), SIST1_STO);
	assert_false(irq_level(x));
	assert_int_equal(rd(x, SIST1, 1), 0);
	/* CTEST2 shows SIGP and clears it */
	wr(x, ISTAT, 1, ISTAT_SIGP);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_SIGP, ISTAT_SIGP);
	assert_int_equal(rd(x, CTEST2, 1) & CTEST2_SIGP, CTEST2_SIGP);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_SIGP, 0);
}

static void test_inquiry(void **state)
{
	struct lsi_fix *x = *state;
	const uint8_t *d = gp(x, DATA_GPA);

	wr(x, DIEN, 1, 0xff);
	assert_int_equal(CMD(x, 0, 0, 36, 0x12, 0, 0, 0, 36, 0), SCSI_GOOD);
	assert_int_equal(d[0], 0x00);
	assert_memory_equal(d + 8, "CVISOR  ", 8);
	assert_false(irq_level(x));                       /* DSTAT read */
	/* the CD-ROM at target 2 */
	assert_int_equal(CMD(x, 2, 0, 36, 0x12, 0, 0, 0, 36, 0), SCSI_GOOD);
	assert_int_equal(d[0], 0x05);
}

static void test_write_read(void **state)
{
	struct lsi_fix *x = *state;
	uint8_t *d = gp(x, DATA_GPA);
	uint8_t want[8192];

	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 13 + 5);
	memcpy(d, want, sizeof(want));
	/* WRITE(10) of 16 blocks at LBA 100: the SCRIPTS wait for the
	 * disk, the completion resumes them */
	command(x, 0, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 100, 0, 0, 16,
					      0 }, 10, sizeof(want));
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	assert_int_equal(rd(x, ISTAT, 1) & ISTAT_DIP, 0);
	lsi_drain(x);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	memset(d, 0, sizeof(want));
	/* the buffer is there from the start and never moves: a vCPU
	 * thread's command allocates nothing */
	uint8_t *buf = x->s->cmd.buf;
	assert_int_equal(x->s->cmd.buf_cap, SCSI_MAX_XFER);
	assert_int_equal(CMD(x, 0, 0, sizeof(want), 0x28, 0, 0, 0, 0, 100, 0,
			     0, 16, 0), SCSI_GOOD);
	assert_ptr_equal(x->s->cmd.buf, buf);
	assert_memory_equal(d, want, sizeof(want));
	/* and it is in the image */
	{
		uint8_t got[512];
		FILE *f = fopen(x->disk, "rb");

		assert_non_null(f);
		assert_int_equal(fseek(f, 101 * 512, SEEK_SET), 0);
		assert_int_equal(fread(got, 1, 512, f), 512);
		fclose(f);
		assert_memory_equal(got, want + 512, 512);
	}
}

static void *free_dev(void *opaque)
{
	struct pci_func *f = opaque;

	f->dev.ops->free(&f->dev);
	return NULL;
}

/* Freeing the controller (a guest reset ends there) with a command out
 * and SCRIPTS that loop back to issue the next: the drain's completion
 * ran them on, each started a command, and the drain never ended (with
 * two disks, one was closed while the SCRIPTS still selected it). The
 * SCRIPTS stop first now. The free runs on a thread only so that the old
 * hang fails (aborts) the binary instead of stalling the suite. */
static void test_free_stops_scripts(void **state)
{
	struct lsi_fix *x = *state;
	struct timespec end;
	pthread_t t;

	command(x, 0, 0, (const uint8_t[]){ 0x28, 0, 0, 0, 0, 1, 0, 0, 8,
					      0 }, 10, 4096);
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	put32(x, SCRIPT_GPA + 8 * 12, I_JUMP);          /* INT DONE_VEC */
	put32(x, SCRIPT_GPA + 8 * 12 + 4, SCRIPT_GPA);  /* ... becomes a loop */
	assert_int_equal(pthread_create(&t, NULL, free_dev, x->f), 0);
	x->f = NULL;
	clock_gettime(CLOCK_REALTIME, &end);
	end.tv_sec += 30;                 /* a hang guard, not a timing */
	/* (the free still runs on that thread: the fixture cannot go) */
	if (pthread_timedjoin_np(t, NULL, &end)) {
		fprintf(stderr, "the free did not end: the SCRIPTS ran on\n");
		abort();
	}
}

/* ISTAT read until DIP or SIP, as the test guest's driver polls: true
 * if it came within 10 s (the disk's worker has long finished then). */
static bool poll_istat(struct lsi_fix *x)
{
	struct timespec t0, t;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (rd(x, ISTAT, 1) & (ISTAT_DIP | ISTAT_SIP))
			return true;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < 10);
	return false;
}

/* A driver polling ISTAT completes the command itself: the register
 * read takes the disk's completion when the backend has it, without
 * the event loop (there is none here, and nothing drains). */
static void test_vcpu_completes(void **state)
{
	struct lsi_fix *x = *state;
	uint8_t *d = gp(x, DATA_GPA);
	uint8_t want[4096];

	x->s->vcpu_reap = true;
	for (unsigned i = 0; i < sizeof(want); i++)
		want[i] = (uint8_t)(i * 7 + 3);
	memcpy(d, want, sizeof(want));
	command(x, 0, 0, (const uint8_t[]){ 0x2a, 0, 0, 0, 0, 40, 0, 0, 8,
					      0 }, 10, sizeof(want));
	assert_true(poll_istat(x));
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, DSPS, 4), DONE_VEC);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	memset(d, 0, sizeof(want));
	command(x, 0, 0, (const uint8_t[]){ 0x28, 0, 0, 0, 0, 40, 0, 0, 8,
					      0 }, 10, sizeof(want));
	assert_true(poll_istat(x));
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	assert_memory_equal(d, want, sizeof(want));
	assert_false(x->s->io_busy);
}

/* Paused with the VM: a read the disk completes while paused moves no
 * data into guest memory, runs no SCRIPTS and raises no interrupt; the
 * pause counts it in flight until then, and the resume finishes it. */
static void test_pause_holds(void **state)
{
	struct lsi_fix *x = *state;
	uint8_t *d = gp(x, DATA_GPA);
	uint8_t zero[512] = { 0 };
	uint64_t insns;

	wr(x, DIEN, 1, 0xff);
	memset(d, 0xaa, 512);
	command(x, 0, 0, (const uint8_t[]){ 0x28, 0, 0, 0, 0, 7, 0, 0, 1, 0 },
		10, 512);
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	assert_int_equal(dev_quiesce_all(true), 1);       /* in flight */
	insns = x->s->insns;
	lsi_drain(x);                         /* completes while paused */
	assert_int_equal(dev_quiesce_all(true), 0);       /* pause done */
	assert_int_equal(x->s->insns, insns);
	assert_false(irq_level(x));
	assert_int_equal(x->s->istat & (ISTAT_DIP | ISTAT_SIP), 0);
	assert_int_equal(d[0], 0xaa);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), 0xee);
	/* resumed: the SCRIPTS go on from the completion */
	assert_int_equal(dev_quiesce_all(false), 0);
	assert_true(irq_level(x));
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, DSPS, 4), DONE_VEC);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	assert_memory_equal(d, zero, sizeof(zero));
	/* held with nothing in flight, a kick meanwhile (not that a parked
	 * vCPU could make one) waits too */
	assert_int_equal(dev_quiesce_all(true), 0);
	insns = x->s->insns;
	put32(x, SCRIPT_GPA + 0x800, I_INT);
	put32(x, SCRIPT_GPA + 0x804, 0x55);
	lsi_start(x, SCRIPT_GPA + 0x800);
	assert_int_equal(x->s->insns, insns);
	dev_quiesce_all(false);
	assert_int_equal(x->s->insns, insns + 1);
	assert_int_equal(rd(x, DSPS, 4), 0x55);
}

static void test_check_condition(void **state)
{
	struct lsi_fix *x = *state;
	const uint8_t *d = gp(x, DATA_GPA);

	/* an unknown opcode: status only, no data phase */
	assert_int_equal(CMD(x, 0, 0, 0, 0x02, 0, 0, 0, 0, 0),
			 SCSI_CHECK_CONDITION);
	assert_int_equal(rd(x, SFBR, 1), 0x00);          /* last: message */
	assert_int_equal(CMD(x, 0, 0, 18, 0x03, 0, 0, 0, 18, 0), SCSI_GOOD);
	assert_int_equal(d[2], SENSE_ILLEGAL_REQUEST);
	assert_int_equal(d[12], 0x20);
	/* past the end of the disk */
	assert_int_equal(CMD(x, 0, 0, 512, 0x28, 0, 0, 0, 0x08, 0, 0, 0, 1,
			     0), SCSI_CHECK_CONDITION);
	assert_int_equal(CMD(x, 0, 0, 18, 0x03, 0, 0, 0, 18, 0), SCSI_GOOD);
	assert_int_equal(d[12], 0x21);
	/* a LUN that is not there */
	assert_int_equal(CMD(x, 0, 3, 0, 0x00, 0, 0, 0, 0, 0),
			 SCSI_CHECK_CONDITION);
	/* a CDB cut short by the initiator */
	assert_int_equal(CMD(x, 0, 0, 0, 0x28, 0, 0, 0), SCSI_CHECK_CONDITION);
}

/* A disk error that comes back after a bus reset abandoned its command:
 * its sense is not kept for REQUEST SENSE, since the reset cleared the
 * LUN's (the completion thread wrote it, without the adapter's lock,
 * racing the reset). A current command's is kept. */
static void test_sense_of_abandoned(void **state)
{
	struct lsi_fix *x = *state;
	struct scsi_lun *l = x->s->targets[0].t.luns[0];

	assert_int_equal(truncate(x->disk, 0), 0);   /* reads come back short */
	assert_int_equal(CMD(x, 0, 0, 4096, 0x28, 0, 0, 0, 0, 1, 0, 0, 8, 0),
			 SCSI_CHECK_CONDITION);
	assert_true(l->has_sense);
	assert_int_equal(l->sense[2], SENSE_MEDIUM_ERROR);
	command(x, 0, 0, (const uint8_t[]){ 0x28, 0, 0, 0, 0, 1, 0, 0, 8,
					      0 }, 10, 4096);
	assert_int_equal(x->s->waiting, LSI_WAIT_DISK);
	wr(x, ISTAT, 1, ISTAT_SRST);
	assert_false(l->has_sense);
	lsi_drain(x);
	assert_false(x->s->io_busy);
	assert_false(l->has_sense);
}

static void test_selection_timeout(void **state)
{
	struct lsi_fix *x = *state;

	command(x, 4, 0, (const uint8_t[6]){ 0 }, 6, 0);
	assert_int_equal(rd(x, SIST1, 1), SIST1_STO);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE);
	assert_false(rd(x, ISTAT, 1) & ISTAT_CON);
	/* the SCRIPTS go on after the SELECT and stop at the next one that
	 * needs the bus, DSP past it (sym53c8xx's sym_int_sto checks) */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(4), SCRIPT_GPA + 0x100);
	emit(x, I_REG(7, 0, SCRATCHA, 0x11), 0);
	emit(x, I_JUMP_IF_NOT(PHASE_MO) | 0x00080000, SCRIPT_GPA + 0x100);
	emit(x, I_INT, 0xbad);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, SCRATCHA, 1), 0x11);
	assert_int_equal(rd(x, DSP, 4), SCRIPT_GPA + 24);
	assert_int_equal(rd(x, SIST1, 1), SIST1_STO);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE);
	/* our own ID is no target either */
	command(x, 7, 0, (const uint8_t[6]){ 0 }, 6, 0);
	assert_int_equal(rd(x, SIST1, 1), SIST1_STO);
}

static void test_phase_mismatch(void **state)
{
	struct lsi_fix *x = *state;

	/* INQUIRY gives 36 bytes, the move asks for 100: the target goes to
	 * STATUS after 36, DBC keeps the 64 not moved, DNAD where it was */
	command(x, 0, 0, (const uint8_t[]){ 0x12, 0, 0, 0, 36, 0 }, 6, 100);
	assert_int_equal(rd(x, SIST0, 1), SIST0_MA);
	assert_int_equal(rd(x, DBC, 4) & 0xffffff, 64);
	assert_int_equal(rd(x, DNAD, 4), DATA_GPA + 36);
	assert_int_equal(rd(x, SSTAT1, 1) & 7, PHASE_ST);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_ST);
	assert_int_equal(rd(x, DSP, 4), SCRIPT_GPA + 8 * 6);
	/* the driver goes on at the status move */
	lsi_start(x, SCRIPT_GPA + 8 * 8);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	/* a move in a phase the target is not in */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_DI, 4), DATA_GPA);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, SIST0, 1), SIST0_MA);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_MO);
	/* a move while not connected */
	wr(x, SCNTL1, 1, 0);
	assert_false(rd(x, ISTAT, 1) & ISTAT_CON);
	lsi_start(x, SCRIPT_GPA + 8);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_IID);
}

/* SeaBIOS's driver (src/hw/lsi-scsi.c), written for QEMU's chip: after a
 * soft reset it never sets SCID, selects without ATN yet sends IDENTIFY
 * in MESSAGE OUT, and its data move (count 0 for a command without data)
 * comes whatever phase the target is in; then status, COMMAND COMPLETE
 * (no CLEAR ACK, no WAIT DISCONNECT) and INT, polled in DSTAT. Its
 * SCRIPTS shape, for TEST UNIT READY and INQUIRY, one after the other. */
static void bios_cmd(struct lsi_fix *x, const uint8_t *cdb, uint32_t dma)
{
	*(uint8_t *)gp(x, MSGO_GPA) = 0x80;              /* IDENTIFY, LUN 0 */
	memcpy(gp(x, CDB_GPA), cdb, 16);
	*(uint8_t *)gp(x, ST_GPA) = 0xee;
	*(uint8_t *)gp(x, MSGI_GPA) = 0xee;
	asm_at(x, SCRIPT_GPA);
	emit(x, 0x40000000, 0);                          /* SELECT 0, no ATN */
	emit(x, I_MOVE(PHASE_MO, 1), MSGO_GPA);
	emit(x, I_MOVE(PHASE_CMD, 16), CDB_GPA);
	emit(x, 0x87820000, 0x18);        /* JUMP REL if not MSG IN: skip 3 */
	emit(x, I_MOVE(PHASE_MI, 2), BUF_GPA + 0x60);
	emit(x, I_WAIT_RESEL, 0);
	emit(x, I_MOVE(PHASE_MI, 2), BUF_GPA + 0x60);
	emit(x, dma, DATA_GPA);
	emit(x, I_MOVE(PHASE_ST, 1), ST_GPA);
	emit(x, I_MOVE(PHASE_MI, 1), MSGI_GPA);
	emit(x, I_INT, DONE_VEC);
	lsi_start(x, SCRIPT_GPA);
	lsi_drain(x);
	assert_int_equal(rd(x, SIST0, 1), 0);
	assert_int_equal(rd(x, SIST1, 1), 0);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, DSPS, 4), DONE_VEC);
	assert_int_equal(*(uint8_t *)gp(x, ST_GPA), SCSI_GOOD);
	assert_int_equal(*(uint8_t *)gp(x, MSGI_GPA), 0x00);
	assert_false(rd(x, ISTAT, 1) & ISTAT_CON);
}

static void test_seabios_driver(void **state)
{
	struct lsi_fix *x = *state;
	static const uint8_t tur[16], inq[16] = { 0x12, 0, 0, 0, 36 };

	wr(x, ISTAT, 1, ISTAT_SRST);
	bios_cmd(x, tur, I_MOVE(PHASE_DO, 0));
	bios_cmd(x, inq, I_MOVE(PHASE_DI, 36));
	assert_int_equal(*(uint8_t *)gp(x, DATA_GPA + 8), 'C');  /* vendor */
}

static void test_messages(void **state)
{
	struct lsi_fix *x = *state;
	uint8_t *m = gp(x, MSGO_GPA);

	/* IDENTIFY, a simple tag, a WDTR: taken, then COMMAND */
	asm_at(x, SCRIPT_GPA);
	emit(x, I_SELECT_ATN(0), 0);
	emit(x, I_MOVE(PHASE_MO, 7), MSGO_GPA);
	emit(x, I_INT, 1);
	memcpy(m, (const uint8_t[]){ 0x80, 0x20, 0x05, 0x01, 0x02, 0x03, 0x01 },
	       7);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, DSTAT, 1), DSTAT_DFE | DSTAT_SIR);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_CMD);
	/* an unknown message: MESSAGE REJECT in MESSAGE IN */
	m[0] = 0x80;
	m[1] = 0x55;
	put32(x, SCRIPT_GPA + 8, I_MOVE(PHASE_MO, 2));
	wr(x, SCNTL1, 1, 0);
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_MI);
	asm_at(x, SCRIPT_GPA + 16);
	emit(x, I_MOVE(PHASE_MI, 1), MSGI_GPA);
	emit(x, I_INT, 2);
	lsi_start(x, SCRIPT_GPA + 16);
	assert_int_equal(*(uint8_t *)gp(x, MSGI_GPA), 0x07);
	assert_int_equal(rd(x, SFBR, 1), 0x07);          /* for JUMP IF */
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_CMD);
	/* ABORT: bus free */
	m[0] = 0x06;
	wr(x, SCNTL1, 1, 0);
	put32(x, SCRIPT_GPA + 8, I_MOVE(PHASE_MO, 1));
	put32(x, SCRIPT_GPA + 16, I_INT);
	lsi_start(x, SCRIPT_GPA);
	assert_false(rd(x, ISTAT, 1) & ISTAT_CON);
	/* an extended message longer than any: rejected */
	memcpy(m, (const uint8_t[]){ 0x80, 0x01, 0xff, 0x01 }, 4);
	put32(x, SCRIPT_GPA + 8, I_MOVE(PHASE_MO, 4));
	lsi_start(x, SCRIPT_GPA);
	assert_int_equal(rd(x, SBCL, 1) & 7, PHASE_MI);
}

/* The memory BAR's DSA is a coalesced zone wherever the BAR is: moved,
 * the old zone goes and the new one comes; unmapped, none is left; the
 * I/O BAR has none; a zone KVM refused is never removed. */
static struct zone_log {
	unsigned n;
	uint64_t addr[8];
	unsigned len[8];
	bool on[8];
	int fail;
} zl;

static int fake_coalesce(void *ctx, uint64_t addr, unsigned len, bool on)
{
	if (zl.n < 8) {
		zl.addr[zl.n] = addr;
		zl.len[zl.n] = len;
		zl.on[zl.n] = on;
	}
	zl.n++;
	return on ? zl.fail : 0;
}

static void test_dsa_coalesced(void **state)
{
	struct lsi_fix *x = *state;
	const struct pci_func_ops *o = x->f->ops;

	memset(&zl, 0, sizeof(zl));
	x->s->env.coalesce = fake_coalesce;
	o->bar_moved(x->f, LSI_BAR_IO, 0xc000);
	assert_int_equal(zl.n, 0);
	o->bar_moved(x->f, LSI_BAR_MMIO, 0xfe000000);
	assert_int_equal(zl.n, 1);
	assert_true(zl.on[0]);
	assert_int_equal(zl.addr[0], 0xfe000000 + DSA);
	assert_int_equal(zl.len[0], 4);
	o->bar_moved(x->f, LSI_BAR_MMIO, 0xfd000000);
	assert_int_equal(zl.n, 3);
	assert_false(zl.on[1]);
	assert_int_equal(zl.addr[1], 0xfe000000 + DSA);
	assert_true(zl.on[2]);
	assert_int_equal(zl.addr[2], 0xfd000000 + DSA);
	o->bar_moved(x->f, LSI_BAR_MMIO, PCI_BAR_UNMAPPED);
	assert_int_equal(zl.n, 4);
	assert_false(zl.on[3]);
	assert_int_equal(zl.addr[3], 0xfd000000 + DSA);
	zl.fail = -ENOTSUP;
	o->bar_moved(x->f, LSI_BAR_MMIO, 0xfe000000);
	o->bar_moved(x->f, LSI_BAR_MMIO, 0xfd000000);
	assert_int_equal(zl.n, 6);             /* two refused, no removal */
	assert_true(zl.on[4] && zl.on[5]);
	/* A DSA write arriving later, through the drain: as any other. */
	x->f->ops->bar_write(x->f, LSI_BAR_MMIO, DSA, 4, 0x00c0ffee);
	assert_int_equal(rd(x, DSA, 4), 0x00c0ffee);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, lsi_setup, lsi_teardown)

int main(void)
{
	static const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_registers_rw),
		T(test_interrupt_line),
		T(test_inquiry),
		T(test_write_read),
		T(test_vcpu_completes),
		T(test_pause_holds),
		T(test_check_condition),
		T(test_selection_timeout),
		T(test_phase_mismatch),
		T(test_messages),
		T(test_seabios_driver),
		T(test_dsa_coalesced),
		T(test_free_stops_scripts),
		T(test_sense_of_abandoned),
	};

	setenv("CVISOR_BLOCK_ENGINE", "sync", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

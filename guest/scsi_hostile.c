/* scsi-hostile: what a hostile driver does to the LSI 53C895A, each
 * followed by a reset and an INQUIRY that must still work: SCRIPTS that
 * jump to themselves (the device's budget stops them), a block move from
 * outside RAM, a table-indirect entry outside RAM (DSA pointing there), a
 * fetch from outside RAM, a storm of reselection waits ended by SIGP, a
 * SIGP write storm while they wait, SCRIPTS that signal themselves and
 * wait again, a driver's idle loop under a SIGP storm (each SIGP must run
 * it exactly once) and an interrupt-on-the-fly storm. cvisor only (QEMU
 * handles some of these by aborting). */
#include "lsi.h"

#define OUTSIDE		0x20000000u   /* past the test machine's RAM */

static u32 *prog(u32 n)
{
	return heap_alloc(8 * n, 8);
}

static u32 run(struct lsi_hba *h, u32 *p, u32 *dsps)
{
	return lsi_run_script(h, (u64)p, dsps, 10000);
}

static bool alive(struct lsi_hba *h, u8 *buf)
{
	static const u8 inq[6] = { 0x12, 0, 0, 0, 36, 0 };
	u8 st = 0xff;

	lsi_reset(h);
	memset(buf, 0, 36);
	return lsi_cmd(h, 0, 0, inq, 6, (u64)buf, 36, false, &st) == LSI_OK &&
	       st == 0 && buf[8] != 0;
}

static bool report(const char *what, u32 r, u32 want_mask)
{
	bool ok = r && (r & want_mask);

	printf("scsi-hostile: %s: dstat=%02x sist0=%02x sist1=%02x %s\n",
	       what, r & 0xff, (r >> 8) & 0xff, (r >> 16) & 0xff,
	       ok ? "stopped" : "NOT STOPPED");
	return ok;
}

#define SIGP		0x20
#define I_WAIT_RESEL	0x50000000u
#define I_JUMP		0x80080000u
#define I_SIGP_SELF	0x7a142000u   /* ISTAT |= SIGP */
#define I_CTEST2	0x721a0000u   /* SFBR = CTEST2 | 0: SIGP off */
#define I_SCRATCHA_INC	0x7e340100u   /* SCRATCHA0 += 1 */
#define I_INTFLY	0x98180000u
#define I_INTF_CLEAR	0x78140400u   /* ISTAT = INTF: write 1 to clear */

/* More reselection storms: SCRIPTS that set SIGP themselves and wait
 * again (a loop the budget ends), and a driver's idle loop (wait; on
 * SIGP clear it, count, wait again) under 200 SIGP writes: each must
 * run the loop once and leave it parked, nothing raised. */
static bool reselect_more(struct lsi_hba *h)
{
	u32 *p = prog(3), dsps;
	u8 istat, count;
	bool ok;

	p[0] = I_SIGP_SELF;
	p[1] = 0;
	p[2] = I_WAIT_RESEL;
	p[3] = (u32)(u64)p;
	ok = report("reselect self-signalled", run(h, p, &dsps), 0x0400);
	lsi_reset(h);

	p = prog(4);
	p[0] = I_WAIT_RESEL;
	p[1] = (u32)(u64)(p + 2);
	p[2] = I_CTEST2;
	p[3] = 0;
	p[4] = I_SCRATCHA_INC;
	p[5] = 0;
	p[6] = I_JUMP;
	p[7] = (u32)(u64)p;
	lsi_write32(h, LSI_DSP, (u32)(u64)p);
	for (int i = 0; i < 200; i++)
		lsi_write8(h, LSI_ISTAT, SIGP);
	istat = lsi_read8(h, LSI_ISTAT);
	count = lsi_read8(h, 0x34);            /* SCRATCHA */
	printf("scsi-hostile: idle loop under 200 SIGPs: ran %u times, "
	       "istat=%02x\n", count, istat);
	lsi_write8(h, LSI_ISTAT, 0x80);        /* ABRT: stop the loop */
	lsi_reset(h);
	return ok && count == 200 && !(istat & 0x03);
}

/* INTFLY and clear it, in a loop: the budget ends it, and the host sets
 * the interrupt line once for the run, not twice per loop. */
static bool intfly_storm(struct lsi_hba *h)
{
	u32 *p = prog(3), dsps;

	p[0] = I_INTFLY;
	p[1] = 0;
	p[2] = I_INTF_CLEAR;
	p[3] = 0;
	p[4] = I_JUMP;
	p[5] = (u32)(u64)p;
	return report("intfly storm", run(h, p, &dsps), 0x0400);
}

int wl_scsi_hostile(void)
{
	struct lsi_hba h;
	u8 *buf = heap_alloc(4096, 4096);
	u32 *p, dsps, r;
	bool loop, dma, table, fetch, resel, intf, all_alive = true;

	if (!buf || lsi_open(&h))
		return 1;
	all_alive = alive(&h, buf);

	/* 1: JUMP to itself */
	p = prog(1);
	p[0] = 0x80080000;
	p[1] = (u32)(u64)p;
	loop = report("jump loop", run(&h, p, &dsps), 0x0400);
	all_alive = alive(&h, buf) && all_alive;

	/* 2: select, then message bytes from outside RAM */
	p = prog(3);
	p[0] = 0x41000000;                      /* SELECT ATN 0 */
	p[1] = 0;
	p[2] = 0x0e000001;                      /* MOVE 1 WHEN MSG_OUT */
	p[3] = OUTSIDE;
	p[4] = 0x98080000;
	p[5] = 0x1000;
	dma = report("dma outside ram", run(&h, p, &dsps), 0x20);
	all_alive = alive(&h, buf) && all_alive;

	/* 3: a table entry outside RAM */
	lsi_write32(&h, LSI_DSA, OUTSIDE);
	p[0] = 0x41000000;
	p[2] = 0x1e000000;                      /* MOVE table WHEN MSG_OUT */
	p[3] = 0;
	table = report("table outside ram", run(&h, p, &dsps), 0x20);
	all_alive = alive(&h, buf) && all_alive;

	/* 4: SCRIPTS fetched from outside RAM */
	fetch = report("fetch outside ram",
		       lsi_run_script(&h, OUTSIDE, &dsps, 10000), 0x20);
	all_alive = alive(&h, buf) && all_alive;

	/* 5: a reselection storm: WAIT RESELECT whose alternate address is
	 * itself, with SIGP set: a loop the budget ends; then the same
	 * wait parked, and SIGP written over and over */
	p = prog(2);
	p[0] = 0x50000000;
	p[1] = (u32)(u64)p;
	lsi_write8(&h, LSI_ISTAT, 0x20);       /* SIGP */
	resel = report("reselect loop", run(&h, p, &dsps), 0x0400);
	lsi_reset(&h);
	p[1] = (u32)(u64)(p + 2);
	p[2] = 0x98080000;
	p[3] = 0x5150;
	lsi_write32(&h, LSI_DSP, (u32)(u64)p);
	for (int i = 0; i < 200; i++) {
		lsi_write8(&h, LSI_ISTAT, 0x20);
		lsi_write32(&h, LSI_DSP, (u32)(u64)p);
		(void)lsi_read8(&h, 0x1a);      /* CTEST2: SIGP off */
	}
	lsi_write8(&h, LSI_ISTAT, 0x20);
	r = lsi_run_script(&h, (u64)p, &dsps, 10000);
	resel = report("reselect storm", r, 0x04) && dsps == 0x5150 && resel;
	all_alive = alive(&h, buf) && all_alive;

	resel = reselect_more(&h) && resel;
	all_alive = alive(&h, buf) && all_alive;
	intf = intfly_storm(&h);
	all_alive = alive(&h, buf) && all_alive;

	printf("RESULT scsi-hostile loop=%d dma=%d table=%d fetch=%d "
	       "reselect=%d intfly=%d alive=%d\n", loop, dma, table, fetch,
	       resel, intf, all_alive);
	return loop && dma && table && fetch && resel && intf && all_alive ?
	       0 : 1;
}

/* A small driver for the LSI 53C895A (lsi.c): one command at a time
 * through a fixed SCRIPTS program (select, message out, command, data in
 * or out, status, message in, and the disconnect/reselect a target may
 * do in between, as QEMU's does), polling ISTAT. */
#ifndef GUEST_LSI_H
#define GUEST_LSI_H

#include "guest.h"

struct lsi_hba {
	u32 bdf;
	u64 regs;                     /* the register BAR (memory) */
	u32 *script;                  /* the program, identity mapped */
	u8 *tbl;                      /* DSA: table entries and buffers */
	u32 ints;                     /* interrupts seen (tests) */
};

/* Register offsets the workloads poke directly. */
#define LSI_ISTAT	0x14
#define LSI_DSTAT	0x0c
#define LSI_DSA		0x10
#define LSI_DSP		0x2c
#define LSI_DSPS	0x30
#define LSI_SIST0	0x42
#define LSI_SIST1	0x43
#define LSI_SCID	0x04

/* lsi_cmd results */
#define LSI_OK		0             /* *status holds the SCSI status */
#define LSI_NO_TARGET	-1            /* selection timed out */
#define LSI_ERROR	-2            /* any other interrupt: chip reset */

int lsi_open(struct lsi_hba *h);
void lsi_reset(struct lsi_hba *h);
/* One command; data (len bytes at physical buf) goes out when write. */
int lsi_cmd(struct lsi_hba *h, u32 target, u32 lun, const u8 *cdb,
	    u32 cdb_len, u64 buf, u32 len, bool write, u8 *status);
/* Start SCRIPTS at pa and wait for the interrupt that stops them: the
 * DSTAT/SIST0/SIST1 bytes (low to high) and DSPS in *dsps; 0 on time-out. */
u32 lsi_run_script(struct lsi_hba *h, u64 pa, u32 *dsps, u64 timeout_ms);
u8 lsi_read8(struct lsi_hba *h, u32 off);
void lsi_write8(struct lsi_hba *h, u32 off, u8 v);
void lsi_write32(struct lsi_hba *h, u32 off, u32 v);

#endif

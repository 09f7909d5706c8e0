/* LSI 53C895A SCSI host controller: state shared by its files.
 *
 *  lsi53c895a.c          PCI function, BARs, the vdev type and its config
 *  lsi53c895a_regs.c     the register file and the interrupt line
 *  lsi53c895a_scripts.c  the SCRIPTS processor
 *  lsi53c895a_bus.c      the SCSI bus: selection, phases, messages, and the
 *                        commands handed to the target layer (src/scsi/)
 *
 * One lock (lsi->lock) covers everything: register accesses from vCPU
 * threads and disk completions from the event loop both run SCRIPTS.
 * No path under it waits for the disk: a command in flight parks the
 * SCRIPTS (LSI_WAIT_DISK) and its completion resumes them.
 *
 * While the VM is paused (quiesced) the SCRIPTS do not run at all: a
 * completion meanwhile only ends the command on the bus, which touches
 * neither guest memory nor the interrupt line; the resume runs them on.
 *
 * The completion normally comes on the event loop; a vCPU that reads or
 * writes a register meanwhile takes it itself when the backend already
 * has it (a driver polling ISTAT, a read the kernel did inline at
 * submission), with the lock dropped as the loop would have it.
 *
 * The target never disconnects in the middle of a command: it keeps the
 * bus while the disk works, as a target without disconnect privilege
 * does, so there is never a reselection. WAIT RESELECT parks the SCRIPTS
 * until the driver sets SIGP (both drivers' idle loops).
 */
#ifndef CVISOR_DEVICES_LSI53C895A_PRIV_H
#define CVISOR_DEVICES_LSI53C895A_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/pci.h"
#include "core/log.h"
#include "devices/quiesce.h"
#include "scsi/scsi.h"

#define LSI_VENDOR		0x1000
#define LSI_DEVICE		0x0012          /* 53C895A */
#define LSI_CLASS		0x010000        /* SCSI storage */
#define LSI_REVISION		0x00
#define LSI_REGS_SIZE		0x100           /* I/O BAR */
#define LSI_MMIO_SIZE		0x400           /* memory BAR (registers) */
#define LSI_RAM_SIZE		0x2000          /* SCRIPTS RAM, 8 KiB */
enum { LSI_BAR_IO = 0, LSI_BAR_MMIO = 1, LSI_BAR_RAM = 2 };

#define LSI_MAX_TARGETS		16              /* wide bus: IDs 0-15 */
#define LSI_HOST_ID		7
/* SCRIPTS instructions run per kick (register write or disk
 * completion). A driver's longest straight run (a scatter list of 96
 * block moves plus the glue) is far below; a guest looping is stopped
 * with an unexpected-disconnect interrupt, as QEMU does. */
#define LSI_BUDGET		10000
#define LSI_MSG_MAX		8
#define LSI_MSG_OUT_MAX		64    /* message bytes taken per move */

/* Registers (53C895A data manual, chapter 5) */
#define SCNTL0	0x00
#define SCNTL1	0x01
#define SCNTL2	0x02
#define SCNTL3	0x03
#define SCID	0x04
#define SXFER	0x05
#define SDID	0x06
#define GPREG	0x07
#define SFBR	0x08
#define SOCL	0x09
#define SSID	0x0a
#define SBCL	0x0b
#define DSTAT	0x0c
#define SSTAT0	0x0d
#define SSTAT1	0x0e
#define SSTAT2	0x0f
#define DSA	0x10
#define ISTAT	0x14
#define CTEST0	0x18
#define CTEST1	0x19
#define CTEST2	0x1a
#define CTEST3	0x1b
#define TEMP	0x1c
#define DFIFO	0x20
#define CTEST4	0x21
#define CTEST5	0x22
#define CTEST6	0x23
#define DBC	0x24
#define DCMD	0x27
#define DNAD	0x28
#define DSP	0x2c
#define DSPS	0x30
#define SCRATCHA 0x34
#define DMODE	0x38
#define DIEN	0x39
#define SBR	0x3a
#define DCNTL	0x3b
#define ADDER	0x3c
#define SIEN0	0x40
#define SIEN1	0x41
#define SIST0	0x42
#define SIST1	0x43
#define SLPAR	0x44
#define SWIDE	0x45
#define MACNTL	0x46
#define GPCNTL	0x47
#define STIME0	0x48
#define STIME1	0x49
#define RESPID0	0x4a
#define RESPID1	0x4b
#define STEST0	0x4c
#define STEST1	0x4d
#define STEST2	0x4e
#define STEST3	0x4f
#define SIDL	0x50
#define STEST4	0x52
#define SODL	0x54
#define SBDL	0x58
#define SCRATCHB 0x5c
#define SCRATCHC 0x60            /* C..J: 0x60-0x7f */

#define ISTAT_ABRT	0x80
#define ISTAT_SRST	0x40
#define ISTAT_SIGP	0x20
#define ISTAT_SEM	0x10
#define ISTAT_CON	0x08
#define ISTAT_INTF	0x04
#define ISTAT_SIP	0x02
#define ISTAT_DIP	0x01

#define DSTAT_DFE	0x80
#define DSTAT_ABRT	0x10
#define DSTAT_SSI	0x08
#define DSTAT_SIR	0x04
#define DSTAT_IID	0x01

#define SIST0_MA	0x80
#define SIST0_UDC	0x04
#define SIST0_RST	0x02
#define SIST1_STO	0x04
#define SIST1_GEN	0x02

#define SCNTL1_CON	0x10
#define SCNTL1_RST	0x08
#define SOCL_ATN	0x08
#define SBCL_REQ	0x80
#define DMODE_MAN	0x01
#define DCNTL_SSM	0x10
#define DCNTL_STD	0x04
#define DCNTL_IRQD	0x02
#define CTEST2_SIGP	0x40
#define CTEST2_DACK	0x01
#define STEST4_LCKFRQ	0x20
#define STEST4_SE	0x80

/* SCSI phases: MSG, C/D, I/O (SBCL bits 2:0) */
enum lsi_phase {
	PHASE_DO = 0, PHASE_DI = 1, PHASE_CMD = 2, PHASE_ST = 3,
	PHASE_MO = 6, PHASE_MI = 7,
};

/* Why the SCRIPTS are not running. */
enum lsi_wait {
	LSI_NOWAIT,            /* running, or stopped (see running) */
	LSI_WAIT_DISK,         /* the target works on the command */
	LSI_WAIT_RESELECT,     /* WAIT RESELECT: until SIGP */
	LSI_WAIT_BUS,          /* a select while an aborted command's I/O
				  is still with the disk */
};

struct lsi_target {
	struct scsi_target t;
	bool present;
};

struct lsi {
	struct pci_func f;
	struct dev_env env;
	pthread_mutex_t lock;
	struct ratelimit rl;
	uint64_t dsa_zone;        /* the memory BAR whose DSA is coalesced */

	/* The register file. */
	uint8_t scntl0, scntl1, scntl2, scntl3, scid, sxfer, sdid, gpreg;
	uint8_t sfbr, socl, ssid, sbcl;
	uint8_t dstat, sstat0, sstat1, sstat2;
	uint32_t dsa;
	uint8_t istat;
	uint8_t ctest2, ctest3, ctest4, ctest5, dfifo;
	uint32_t temp;
	uint32_t dbc;                 /* 24 bits */
	uint8_t dcmd;
	uint32_t dnad, dsp, dsps;
	uint32_t scratch[10];         /* A, B, C..J */
	uint8_t dmode, dien, sbr, dcntl;
	uint32_t adder;
	uint8_t sien0, sien1, sist0, sist1;
	uint8_t slpar, swide, macntl, gpcntl, stime0, stime1;
	uint8_t respid0, respid1, stest1, stest2, stest3;
	uint16_t sidl, sodl, sbdl;
	uint8_t ccntl[2];
	uint8_t ram[LSI_RAM_SIZE];
	bool carry;

	/* The SCRIPTS processor. quiesced: held with the paused VM, and
	 * for good from lsi_free.
	 * in_run: lsi_run is on; the INTx line (irq_level) is set when it
	 * ends. */
	bool running, quiesced, in_run, irq_level;
	struct dev_quiesce quiesce;
	enum lsi_wait waiting;
	uint32_t wait_alt;            /* WAIT RESELECT's jump address */

	/* The SCSI bus, seen from the initiator. */
	bool connected;
	enum lsi_phase phase;
	unsigned target, lun;
	uint8_t msg_in[LSI_MSG_MAX];
	unsigned msg_in_len, msg_in_pos;
	bool disconnect_after_msg;    /* COMMAND COMPLETE: bus free next */
	uint8_t msg_out[LSI_MSG_OUT_MAX];
	unsigned msg_out_len;         /* bytes of a partial message */
	uint32_t data_pos;            /* bytes of the data phase moved */

	/* The one command on the bus. io_busy: the disk has it (maybe an
	 * aborted one, gen older than cur_gen). */
	struct scsi_cmd cmd;
	bool io_busy;
	uint32_t io_gen, cur_gen;
	/* A register access takes the disk's completion when it is there
	 * (lsi53c895a.c, poll_disk). Off only in tests that need a command
	 * to stay with the disk until they drain it. */
	bool vcpu_reap;
	/* lsi_bar_write's own run of the SCRIPTS: a command they start goes
	 * to its disk quiet (blk_backend_quiet), and quiet_be says which
	 * disk lsi_bar_write must make signal again. Under the lock. */
	bool quiet_ok;
	struct blk_backend *quiet_be;

	struct lsi_target targets[LSI_MAX_TARGETS];
	uint64_t insns;               /* executed, ever (tests) */
};

/* The LUN of the command on the bus, or NULL (none addressed yet). LUNs
 * live as long as the device (lsi_free clears their slots once the
 * SCRIPTS have stopped for good). */
static inline struct scsi_lun *lsi_cmd_lun(const struct lsi *s)
{
	const struct scsi_cmd *c = &s->cmd;

	return c->tgt && c->lun < SCSI_MAX_LUNS ? c->tgt->luns[c->lun] : NULL;
}

/* lsi53c895a_regs.c: byte accesses to register off (< LSI_REGS_SIZE). */
uint8_t lsi_reg_readb(struct lsi *s, unsigned off);
void lsi_reg_writeb(struct lsi *s, unsigned off, uint8_t v);
void lsi_update_irq(struct lsi *s);
void lsi_soft_reset(struct lsi *s);
/* Raise a DMA (DSTAT) or SCSI (SIST0/SIST1) interrupt; both stop the
 * SCRIPTS (but INTFLY, which is not one of these). */
void lsi_dma_irq(struct lsi *s, uint8_t dstat);
void lsi_scsi_irq(struct lsi *s, uint8_t sist0, uint8_t sist1);

/* lsi53c895a_scripts.c */
void lsi_run(struct lsi *s);  /* lock held; a no-op while quiesced */
/* Accesses from the SCRIPTS to bus addresses: guest RAM, or the chip's
 * own registers and SCRIPTS RAM where its BARs are mapped. 0 or -1 (no
 * such memory: nothing was moved). */
int lsi_dma_read(struct lsi *s, uint32_t addr, void *buf, uint32_t len);
int lsi_dma_write(struct lsi *s, uint32_t addr, const void *buf,
		  uint32_t len);

/* lsi53c895a_bus.c */
/* SELECT: 0 connected, -1 no such target (selection timeout), 1 must
 * wait for the bus (an aborted command's I/O). */
int lsi_bus_select(struct lsi *s, unsigned id, bool atn);
void lsi_bus_disconnect(struct lsi *s);
/* A block move of n bytes at addr in phase (already checked to be the
 * bus's). Returns the bytes moved; *stall: the SCRIPTS wait for the
 * disk after it. -1: a DMA fault (the SCRIPTS stopped with an
 * interrupt). */
int64_t lsi_bus_move(struct lsi *s, uint32_t addr, uint32_t n, bool *stall);
void lsi_bus_clear_ack(struct lsi *s);
void lsi_bus_set_phase(struct lsi *s, enum lsi_phase p);
void lsi_bus_reset(struct lsi *s);
/* Disk completion, on the backend's thread. */
void lsi_cmd_done(struct scsi_cmd *c);

static inline int32_t lsi_sext24(uint32_t v)
{
	return (int32_t)(v << 8) >> 8;
}

#endif

/* SCSI target layer: disks and read-only CD-ROMs on the block backends,
 * for any host adapter (the LSI 53C895A today, a virtio-scsi later).
 *
 * A target holds up to SCSI_MAX_LUNS logical units. The adapter fills a
 * struct scsi_cmd with the CDB it received and:
 *  1. scsi_cmd_prepare(): decodes the CDB. Afterwards c->dir and c->len say
 *     what the data phase moves (c->buf is big enough for it), or the
 *     command already failed (c->status CHECK CONDITION, len 0);
 *  2. for SCSI_DIR_OUT the adapter puts c->len bytes in c->buf;
 *  3. scsi_cmd_exec(): runs it. true: finished, c->status is final and for
 *     SCSI_DIR_IN c->buf holds c->len bytes. false: the disk does it
 *     asynchronously and c->done(c) comes later, on the backend's
 *     completion thread (the event loop), never from inside exec.
 * The adapter serializes commands to one LUN (the pending sense that
 * REQUEST SENSE returns is per LUN) and keeps c alive until it finished.
 * Sense data is fixed format (SPC-4 4.5.3); there is no unit attention.
 */
#ifndef CVISOR_SCSI_SCSI_H
#define CVISOR_SCSI_SCSI_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "backends/block.h"

struct event_loop;

#define SCSI_MAX_LUNS		8
#define SCSI_CDB_MAX		16
#define SCSI_SENSE_LEN		18       /* fixed format, no extra bytes */
/* The largest transfer of one command (Block Limits VPD says so): the
 * adapter stages the data in a host buffer of this size at most. */
#define SCSI_MAX_XFER		(4u << 20)
#define SCSI_MAX_UNMAP_DESC	16
#define SCSI_MAX_UNMAP_BLOCKS	(1u << 22)

/* Status (SAM-5) */
#define SCSI_GOOD		0x00
#define SCSI_CHECK_CONDITION	0x02
#define SCSI_BUSY		0x08

/* Sense keys */
#define SENSE_NO_SENSE		0x0
#define SENSE_NOT_READY		0x2
#define SENSE_MEDIUM_ERROR	0x3
#define SENSE_HARDWARE_ERROR	0x4
#define SENSE_ILLEGAL_REQUEST	0x5
#define SENSE_UNIT_ATTENTION	0x6
#define SENSE_DATA_PROTECT	0x7
#define SENSE_ABORTED_COMMAND	0xb

/* Additional sense code << 8 | qualifier */
#define ASC_NONE		0x0000
#define ASC_WRITE_ERROR		0x0c00
#define ASC_READ_ERROR		0x1100
#define ASC_PARAM_LIST_LENGTH	0x1a00
#define ASC_INVALID_OPCODE	0x2000
#define ASC_LBA_OUT_OF_RANGE	0x2100
#define ASC_INVALID_FIELD_CDB	0x2400
#define ASC_LUN_NOT_SUPPORTED	0x2500
#define ASC_INVALID_FIELD_PARAM	0x2600
#define ASC_WRITE_PROTECTED	0x2700
#define ASC_SAVING_NOT_SUPPORTED 0x3900
#define ASC_INTERNAL_FAILURE	0x4400

/* Operation codes */
#define SCSI_TEST_UNIT_READY	0x00
#define SCSI_REQUEST_SENSE	0x03
#define SCSI_READ_6		0x08
#define SCSI_WRITE_6		0x0a
#define SCSI_INQUIRY		0x12
#define SCSI_MODE_SENSE_6	0x1a
#define SCSI_START_STOP_UNIT	0x1b
#define SCSI_PREVENT_ALLOW	0x1e
#define SCSI_READ_CAPACITY_10	0x25
#define SCSI_READ_10		0x28
#define SCSI_WRITE_10		0x2a
#define SCSI_SYNC_CACHE_10	0x35
#define SCSI_READ_TOC		0x43
#define SCSI_UNMAP		0x42
#define SCSI_MODE_SENSE_10	0x5a
#define SCSI_READ_16		0x88
#define SCSI_WRITE_16		0x8a
#define SCSI_SYNC_CACHE_16	0x91
#define SCSI_SERVICE_IN_16	0x9e    /* SA 0x10: READ CAPACITY(16) */
#define SCSI_SA_READ_CAP_16	0x10
#define SCSI_REPORT_LUNS	0xa0
#define SCSI_READ_12		0xa8
#define SCSI_WRITE_12		0xaa

enum scsi_type { SCSI_TYPE_DISK = 0x00, SCSI_TYPE_CDROM = 0x05 };
enum scsi_dir { SCSI_DIR_NONE, SCSI_DIR_IN, SCSI_DIR_OUT };

struct scsi_lun {
	struct blk_backend *be;
	enum scsi_type type;
	bool read_only;
	bool can_unmap;
	uint32_t block_size;          /* 512 (disk) or 2048 (CD-ROM) */
	uint64_t nr_blocks;
	char serial[21];              /* VPD 0x80, NUL-terminated */
	uint64_t naa;                 /* VPD 0x83 binary designator */
	uint8_t sense[SCSI_SENSE_LEN]; /* for the next REQUEST SENSE */
	bool has_sense;
};

struct scsi_target {
	unsigned id;
	struct scsi_lun *luns[SCSI_MAX_LUNS];
};

struct scsi_cmd {
	/* Set by the adapter. */
	struct scsi_target *tgt;
	unsigned lun;
	uint8_t cdb[SCSI_CDB_MAX];
	unsigned cdb_len;             /* bytes received */
	void (*done)(struct scsi_cmd *c);
	void *opaque;

	/* Set by the layer. */
	enum scsi_dir dir;
	uint32_t len;                 /* bytes of the data phase */
	uint8_t *buf;                 /* at least len bytes; kept between */
	uint32_t buf_cap;             /* commands, freed by scsi_cmd_free */
	uint8_t status;
	uint8_t sense[SCSI_SENSE_LEN];

	/* Private: the disk request. */
	int op;                       /* decoded operation */
	uint64_t lba;
	uint32_t nr_blocks;
	bool fua;
	struct blk_io io;
	struct iovec iov;
	struct blk_range ranges[SCSI_MAX_UNMAP_DESC];
};

/* Opening a LUN: path as read_only says (a CD-ROM is always read-only).
 * fd >= 0: use that fd (the backend owns it); else open path. loop gets
 * the completions (NULL: tests drain themselves). NULL with errno. */
struct scsi_lun_params {
	const char *path;
	int fd;
	bool read_only;
	bool cdrom;
	struct event_loop *loop;
};

struct scsi_lun *scsi_lun_open(const struct scsi_lun_params *p);
/* Waits for the LUN's I/O, then closes it. */
void scsi_lun_close(struct scsi_lun *l);

/* The command set (scsi_cmd.c). */
/* Give c its data buffer for the largest transfer now: an adapter that
 * runs commands on vCPU threads must (their seccomp filter has no
 * mremap, which growing a large buffer with realloc calls). Without it
 * the buffer grows as commands need. */
void scsi_cmd_init(struct scsi_cmd *c);
void scsi_cmd_prepare(struct scsi_cmd *c);
bool scsi_cmd_exec(struct scsi_cmd *c);
void scsi_cmd_free(struct scsi_cmd *c);
/* Command length by operation code group (0 for the reserved groups). */
unsigned scsi_cdb_len(uint8_t opcode);

/* Sense data (scsi_sense.c). CHECK CONDITION with key/asc, and the sense
 * kept on the LUN (if any) for REQUEST SENSE; on the adapter's thread,
 * under its lock. A disk completion sets only the command's (check), on
 * the completion thread: the adapter keeps it from its done(), under its
 * lock, if the command was not abandoned meanwhile (a bus reset clears
 * the LUNs' sense). */
void scsi_cmd_fail(struct scsi_cmd *c, uint8_t key, uint16_t asc);
void scsi_cmd_check(struct scsi_cmd *c, uint8_t key, uint16_t asc);
void scsi_cmd_keep_sense(struct scsi_cmd *c);
void scsi_build_sense(uint8_t *s, uint8_t key, uint16_t asc);

/* Disk I/O (scsi_rw.c): READ/WRITE/SYNCHRONIZE CACHE/UNMAP. */
int scsi_rw_prepare(struct scsi_cmd *c);
bool scsi_rw_exec(struct scsi_cmd *c);

/* INQUIRY and its VPD pages (scsi_inquiry.c): bytes written to buf. */
bool scsi_inquiry(struct scsi_cmd *c, uint8_t *buf, uint32_t *len);

/* Big-endian field helpers for CDBs and responses. */
static inline uint16_t scsi_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t scsi_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t scsi_get64(const uint8_t *p)
{
	return (uint64_t)scsi_get32(p) << 32 | scsi_get32(p + 4);
}

static inline void scsi_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void scsi_put32(uint8_t *p, uint32_t v)
{
	scsi_put16(p, (uint16_t)(v >> 16));
	scsi_put16(p + 2, (uint16_t)v);
}

static inline void scsi_put64(uint8_t *p, uint64_t v)
{
	scsi_put32(p, (uint32_t)(v >> 32));
	scsi_put32(p + 4, (uint32_t)v);
}

#endif

/* The commands that reach the disk (SBC-3): READ/WRITE (6/10/12/16),
 * SYNCHRONIZE CACHE (10/16) and UNMAP. They run asynchronously on the
 * block backend; the adapter's thread never waits for the disk. */
#include <string.h>

#include "core/util.h"
#include "scsi/scsi.h"

static bool is_write(uint8_t op)
{
	return op == SCSI_WRITE_6 || op == SCSI_WRITE_10 ||
	       op == SCSI_WRITE_12 || op == SCSI_WRITE_16;
}

/* LBA, block count and FUA of a READ/WRITE CDB. */
static void decode_rw(struct scsi_cmd *c)
{
	const uint8_t *b = c->cdb;

	c->fua = false;
	switch (b[0]) {
	case SCSI_READ_6:
	case SCSI_WRITE_6:
		c->lba = (uint64_t)(b[1] & 0x1f) << 16 | scsi_get16(b + 2);
		c->nr_blocks = b[4] ? b[4] : 256;       /* 0 means 256 */
		return;
	case SCSI_READ_10:
	case SCSI_WRITE_10:
		c->lba = scsi_get32(b + 2);
		c->nr_blocks = scsi_get16(b + 7);
		break;
	case SCSI_READ_12:
	case SCSI_WRITE_12:
		c->lba = scsi_get32(b + 2);
		c->nr_blocks = scsi_get32(b + 6);
		break;
	default:      /* 16 */
		c->lba = scsi_get64(b + 2);
		c->nr_blocks = scsi_get32(b + 10);
		break;
	}
	c->fua = b[1] & 0x08;
}

static bool in_range(const struct scsi_lun *l, uint64_t lba, uint64_t n)
{
	return lba <= l->nr_blocks && n <= l->nr_blocks - lba;
}

static int prepare_rw(struct scsi_cmd *c, const struct scsi_lun *l)
{
	uint64_t bytes;

	decode_rw(c);
	if (is_write(c->op) && l->read_only) {
		scsi_cmd_fail(c, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
		return -1;
	}
	if (!in_range(l, c->lba, c->nr_blocks)) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		return -1;
	}
	bytes = (uint64_t)c->nr_blocks * l->block_size;
	if (bytes > SCSI_MAX_XFER) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
		return -1;
	}
	c->len = (uint32_t)bytes;
	c->dir = !bytes ? SCSI_DIR_NONE :
		 is_write(c->op) ? SCSI_DIR_OUT : SCSI_DIR_IN;
	return 0;
}

static int prepare_sync(struct scsi_cmd *c, const struct scsi_lun *l)
{
	bool s16 = c->op == SCSI_SYNC_CACHE_16;
	uint64_t lba = s16 ? scsi_get64(c->cdb + 2) : scsi_get32(c->cdb + 2);
	uint32_t n = s16 ? scsi_get32(c->cdb + 10) : scsi_get16(c->cdb + 7);

	/* The whole cache is flushed whatever the range; the range must
	 * still be one (SBC-3 5.22). */
	if (!in_range(l, lba, n)) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LBA_OUT_OF_RANGE);
		return -1;
	}
	return 0;
}

#define UNMAP_MAX_PARAM (8 + 16 * SCSI_MAX_UNMAP_DESC)

static int prepare_unmap(struct scsi_cmd *c, const struct scsi_lun *l)
{
	uint32_t plen = scsi_get16(c->cdb + 7);

	if (l->read_only) {
		scsi_cmd_fail(c, SENSE_DATA_PROTECT, ASC_WRITE_PROTECTED);
		return -1;
	}
	if (!l->can_unmap) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return -1;
	}
	if (c->cdb[1] & 0x01) {       /* ANCHOR: no anchored state here */
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
		return -1;
	}
	if (plen > UNMAP_MAX_PARAM || (plen && plen < 8)) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_PARAM_LIST_LENGTH);
		return -1;
	}
	c->len = plen;
	c->dir = plen ? SCSI_DIR_OUT : SCSI_DIR_NONE;
	return 0;
}

/* 0: handled here (c->op says what exec does); -1: c failed. */
int scsi_rw_prepare(struct scsi_cmd *c)
{
	const struct scsi_lun *l = c->tgt->luns[c->lun];

	switch (c->op) {
	case SCSI_SYNC_CACHE_10:
	case SCSI_SYNC_CACHE_16:
		return prepare_sync(c, l);
	case SCSI_UNMAP:
		return prepare_unmap(c, l);
	default:
		return prepare_rw(c, l);
	}
}

static void rw_done(struct blk_io *io)
{
	struct scsi_cmd *c = container_of(io, struct scsi_cmd, io);
	bool ok = io->result >= 0;

	if (io->op == BLK_OP_READ || io->op == BLK_OP_WRITE)
		ok = io->result == (int64_t)c->len;
	if (ok)
		c->status = SCSI_GOOD;
	else
		scsi_cmd_check(c, SENSE_MEDIUM_ERROR,
			       io->op == BLK_OP_READ ? ASC_READ_ERROR :
			       ASC_WRITE_ERROR);
	c->done(c);             /* which keeps the sense (scsi.h) */
}

/* The descriptors, each checked, into c->ranges. -1: c failed; else the
 * number of ranges (0: nothing to do). */
static int unmap_ranges(struct scsi_cmd *c, const struct scsi_lun *l)
{
	uint32_t dlen = scsi_get16(c->buf + 2);
	unsigned n = 0;

	if (!c->len)
		return 0;
	if (dlen > c->len - 8 || dlen % 16) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_PARAM);
		return -1;
	}
	for (uint32_t off = 8; off < 8 + dlen; off += 16) {
		uint64_t lba = scsi_get64(c->buf + off);
		uint32_t cnt = scsi_get32(c->buf + off + 8);

		if (!in_range(l, lba, cnt)) {
			scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST,
				      ASC_LBA_OUT_OF_RANGE);
			return -1;
		}
		if (cnt > SCSI_MAX_UNMAP_BLOCKS) {
			scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST,
				      ASC_INVALID_FIELD_PARAM);
			return -1;
		}
		if (cnt)
			c->ranges[n++] = (struct blk_range){
				.offset = lba * l->block_size,
				.len = (uint64_t)cnt * l->block_size };
	}
	return (int)n;
}

static bool submit(struct scsi_cmd *c, struct blk_backend *be)
{
	c->io.done = rw_done;
	c->io.opaque = c;
	if (blk_backend_submit(be, &c->io) < 0) {
		scsi_cmd_fail(c, SENSE_HARDWARE_ERROR, ASC_INTERNAL_FAILURE);
		return true;
	}
	blk_backend_kick(be);
	return false;
}

bool scsi_rw_exec(struct scsi_cmd *c)
{
	const struct scsi_lun *l = c->tgt->luns[c->lun];
	int n;

	memset(&c->io, 0, sizeof(c->io));
	c->status = SCSI_GOOD;
	switch (c->op) {
	case SCSI_SYNC_CACHE_10:
	case SCSI_SYNC_CACHE_16:
		c->io.op = BLK_OP_FLUSH;
		return submit(c, l->be);
	case SCSI_UNMAP:
		n = unmap_ranges(c, l);
		if (n <= 0)
			return true;
		c->io.op = BLK_OP_DISCARD;
		c->io.ranges = c->ranges;
		c->io.nr_ranges = (unsigned)n;
		return submit(c, l->be);
	}
	if (!c->len)
		return true;
	c->io.op = is_write(c->op) ? BLK_OP_WRITE : BLK_OP_READ;
	c->io.flags = c->fua ? BLK_IO_FUA : 0;
	c->io.offset = c->lba * l->block_size;
	c->iov = (struct iovec){ .iov_base = c->buf, .iov_len = c->len };
	c->io.iov = &c->iov;
	c->io.iovcnt = 1;
	return submit(c, l->be);
}

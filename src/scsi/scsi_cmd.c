/* The command set: decoding and the commands answered from memory (TEST
 * UNIT READY, REQUEST SENSE, INQUIRY, READ CAPACITY, MODE SENSE, REPORT
 * LUNS, START STOP UNIT, READ TOC). Disk I/O is in scsi_rw.c; anything
 * else is CHECK CONDITION, ILLEGAL REQUEST, INVALID COMMAND OPERATION
 * CODE. */
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "core/util.h"
#include "scsi/scsi.h"

/* Every answer built here fits in this many bytes. */
#define RESP_MAX 512

unsigned scsi_cdb_len(uint8_t opcode)
{
	static const uint8_t by_group[8] = { 6, 10, 10, 0, 16, 12, 0, 0 };

	return by_group[opcode >> 5];
}

static struct scsi_lun *lun_of(const struct scsi_cmd *c)
{
	return c->lun < SCSI_MAX_LUNS ? c->tgt->luns[c->lun] : NULL;
}

/* The data buffer is page-aligned: the kernel copies a read from the
 * page cache into it, and its `rep movsb` slows down about fivefold when
 * the destination is not 64-byte aligned (a 1 MiB read took 520-640 us
 * into malloc's 16-byte alignment, 106-122 us into a page on the
 * development host, kvm_pvm). Anonymous pages: zero, and those the guest
 * never makes us touch stay unallocated. Sanitizer builds take it from
 * the allocator instead, whose redzones and leak check see it (an
 * overrun into a bare mapping would go unnoticed by the fuzzers). NULL
 * when it cannot be had. */
#if defined(__SANITIZE_ADDRESS__)
static uint8_t *buf_alloc(uint32_t n)
{
	void *p;

	if (posix_memalign(&p, 4096, n))
		return NULL;
	return memset(p, 0, n);
}

static void buf_unmap(uint8_t *b, uint32_t n)
{
	(void)n;
	free(b);
}
#else
static uint8_t *buf_alloc(uint32_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static void buf_unmap(uint8_t *b, uint32_t n)
{
	munmap(b, n);
}
#endif

static void buf_release(struct scsi_cmd *c)
{
	if (c->buf)
		buf_unmap(c->buf, c->buf_cap);
	c->buf = NULL;
	c->buf_cap = 0;
}

/* Room for need bytes, in whole pages; what the buffer held is not
 * kept. */
static bool grow(struct scsi_cmd *c, uint32_t need)
{
	uint32_t cap = (need + 4095u) & ~4095u;
	uint8_t *b;

	if (need <= c->buf_cap)
		return true;
	b = buf_alloc(cap);
	if (!b)
		return false;
	buf_release(c);
	c->buf = b;
	c->buf_cap = cap;
	return true;
}

void scsi_cmd_init(struct scsi_cmd *c)
{
	c->buf = buf_alloc(SCSI_MAX_XFER);
	if (!c->buf)
		out_of_memory();
	c->buf_cap = SCSI_MAX_XFER;
}

void scsi_cmd_free(struct scsi_cmd *c)
{
	buf_release(c);
}

static void invalid_field(struct scsi_cmd *c)
{
	scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
}

static uint32_t request_sense(struct scsi_cmd *c, uint8_t *r)
{
	struct scsi_lun *l = lun_of(c);

	if (c->cdb[1] & 0x01) {       /* DESC: fixed format only */
		invalid_field(c);
		return 0;
	}
	if (!l)
		scsi_build_sense(r, SENSE_ILLEGAL_REQUEST,
				 ASC_LUN_NOT_SUPPORTED);
	else if (l->has_sense)
		memcpy(r, l->sense, SCSI_SENSE_LEN);
	else
		scsi_build_sense(r, SENSE_NO_SENSE, ASC_NONE);
	if (l)
		l->has_sense = false;
	return SCSI_SENSE_LEN;
}

static uint32_t read_capacity(struct scsi_cmd *c, uint8_t *r)
{
	const struct scsi_lun *l = lun_of(c);
	uint64_t last = l->nr_blocks ? l->nr_blocks - 1 : 0;

	if (c->cdb[0] == SCSI_READ_CAPACITY_10) {
		scsi_put32(r, last > 0xffffffffu ? 0xffffffffu :
			   (uint32_t)last);
		scsi_put32(r + 4, l->block_size);
		return 8;
	}
	scsi_put64(r, last);
	scsi_put32(r + 8, l->block_size);
	if (l->can_unmap)
		r[14] = 0x80;         /* LBPME */
	return 32;
}

/* Mode pages (SPC-4 7.5, SBC-3 6.4): caching (write cache on: the
 * guest must SYNCHRONIZE CACHE) and control. pc 1 asks which bits may be
 * changed: none. */
static uint32_t mode_page(const struct scsi_lun *l, uint8_t page, uint8_t pc,
			  uint8_t *p)
{
	uint32_t n = 0;

	if ((page == 0x08 || page == 0x3f) && l->type == SCSI_TYPE_DISK) {
		p[0] = 0x08;
		p[1] = 0x12;
		if (pc != 1)
			p[2] = 0x04;  /* WCE */
		n += 20;
	}
	if (page == 0x0a || page == 0x3f) {
		p[n] = 0x0a;
		p[n + 1] = 0x0a;
		n += 12;
	}
	return n;
}

static uint32_t mode_sense(struct scsi_cmd *c, uint8_t *r)
{
	const struct scsi_lun *l = lun_of(c);
	bool ten = c->cdb[0] == SCSI_MODE_SENSE_10;
	uint8_t pc = c->cdb[2] >> 6, page = c->cdb[2] & 0x3f;
	uint32_t hdr = ten ? 8 : 4, bd = (c->cdb[1] & 0x08) ? 0 : 8;
	uint32_t n, pages;
	uint8_t *d;

	if (pc == 3) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST,
			      ASC_SAVING_NOT_SUPPORTED);
		return 0;
	}
	if (c->cdb[3]) {              /* subpages: none */
		invalid_field(c);
		return 0;
	}
	pages = mode_page(l, page, pc, r + hdr + bd);
	if (!pages) {
		invalid_field(c);
		return 0;
	}
	n = hdr + bd + pages;
	if (ten) {
		scsi_put16(r, (uint16_t)(n - 2));
		r[3] = l->read_only ? 0x80 : 0x10;  /* WP, or DPOFUA */
		scsi_put16(r + 6, (uint16_t)bd);
	} else {
		r[0] = (uint8_t)(n - 1);
		r[2] = l->read_only ? 0x80 : 0x10;
		r[3] = (uint8_t)bd;
	}
	if (bd) {
		d = r + hdr;
		scsi_put32(d, l->nr_blocks > 0xffffff ? 0xffffff :
			   (uint32_t)l->nr_blocks);
		scsi_put32(d + 4, l->block_size);   /* byte 4: density 0 */
	}
	return n;
}

static uint32_t report_luns(struct scsi_cmd *c, uint8_t *r)
{
	uint32_t n = 0;

	if (scsi_get32(c->cdb + 6) < 16) {
		invalid_field(c);
		return 0;
	}
	for (unsigned i = 0; i < SCSI_MAX_LUNS; i++)
		if (c->tgt->luns[i])
			r[8 + 8 * n++ + 1] = (uint8_t)i;   /* peripheral */
	scsi_put32(r, 8 * n);
	return 8 + 8 * n;
}

/* MMC-6 6.36: one data track from LBA 0 and the lead-out. */
static void toc_addr(uint8_t *p, uint64_t lba, bool msf)
{
	if (msf) {
		lba += 150;           /* 2 s of pre-gap */
		p[1] = (uint8_t)(lba / (75 * 60));
		p[2] = (uint8_t)(lba / 75 % 60);
		p[3] = (uint8_t)(lba % 75);
	} else {
		scsi_put32(p, (uint32_t)lba);
	}
}

static uint32_t read_toc(struct scsi_cmd *c, uint8_t *r)
{
	const struct scsi_lun *l = lun_of(c);
	bool msf = c->cdb[1] & 0x02;
	uint8_t fmt = c->cdb[2] & 0x0f, track = c->cdb[6];

	if (l->type != SCSI_TYPE_CDROM) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return 0;
	}
	if (fmt == 1) {               /* session info */
		scsi_put16(r, 10);
		r[2] = r[3] = 1;
		r[5] = 0x14;          /* ADR 1, data track */
		r[6] = 1;
		toc_addr(r + 8, 0, msf);
		return 12;
	}
	if (fmt != 0 || (track > 1 && track != 0xaa)) {
		invalid_field(c);
		return 0;
	}
	r[2] = r[3] = 1;              /* first and last track */
	uint8_t *d = r + 4;
	if (track <= 1) {
		d[1] = 0x14;
		d[2] = 1;
		toc_addr(d + 4, 0, msf);
		d += 8;
	}
	d[1] = 0x14;
	d[2] = 0xaa;                  /* lead-out */
	toc_addr(d + 4, l->nr_blocks, msf);
	d += 8;
	scsi_put16(r, (uint16_t)(d - r - 2));
	return (uint32_t)(d - r);
}

static uint32_t alloc_len(const struct scsi_cmd *c)
{
	switch (c->cdb[0]) {
	case SCSI_INQUIRY:
		return scsi_get16(c->cdb + 3);
	case SCSI_REQUEST_SENSE:
	case SCSI_MODE_SENSE_6:
		return c->cdb[4];
	case SCSI_READ_CAPACITY_10:
		return 8;
	case SCSI_SERVICE_IN_16:
		return scsi_get32(c->cdb + 10);
	case SCSI_MODE_SENSE_10:
	case SCSI_READ_TOC:
		return scsi_get16(c->cdb + 7);
	case SCSI_REPORT_LUNS:
		return scsi_get32(c->cdb + 6);
	}
	return 0;
}

/* Commands answered from memory: the answer, cut to the allocation
 * length, in c->buf. 0 bytes and c failed when it could not be. */
static void answer(struct scsi_cmd *c)
{
	uint8_t r[RESP_MAX];
	uint32_t n = 0;

	memset(r, 0, sizeof(r));
	switch (c->cdb[0]) {
	case SCSI_INQUIRY:
		if (!scsi_inquiry(c, r, &n))
			return;
		break;
	case SCSI_REQUEST_SENSE: n = request_sense(c, r); break;
	case SCSI_READ_CAPACITY_10: n = read_capacity(c, r); break;
	case SCSI_SERVICE_IN_16: n = read_capacity(c, r); break;
	case SCSI_MODE_SENSE_6:
	case SCSI_MODE_SENSE_10: n = mode_sense(c, r); break;
	case SCSI_REPORT_LUNS: n = report_luns(c, r); break;
	case SCSI_READ_TOC: n = read_toc(c, r); break;
	}
	if (c->status != SCSI_GOOD)
		return;
	n = MIN(n, alloc_len(c));
	if (!grow(c, MAX(n, 1))) {
		scsi_cmd_fail(c, SENSE_HARDWARE_ERROR, ASC_INTERNAL_FAILURE);
		return;
	}
	memcpy(c->buf, r, n);
	c->len = n;
	c->dir = n ? SCSI_DIR_IN : SCSI_DIR_NONE;
}

enum { OP_ANSWER = 1, OP_NOP, OP_DISK };

/* What each supported operation is; 0: not supported. */
static int classify(const struct scsi_cmd *c)
{
	switch (c->cdb[0]) {
	case SCSI_INQUIRY:
	case SCSI_REQUEST_SENSE:
	case SCSI_READ_CAPACITY_10:
	case SCSI_MODE_SENSE_6:
	case SCSI_MODE_SENSE_10:
	case SCSI_REPORT_LUNS:
	case SCSI_READ_TOC:
		return OP_ANSWER;
	case SCSI_SERVICE_IN_16:
		return (c->cdb[1] & 0x1f) == SCSI_SA_READ_CAP_16 ?
		       OP_ANSWER : 0;
	case SCSI_TEST_UNIT_READY:
	case SCSI_START_STOP_UNIT:
	case SCSI_PREVENT_ALLOW:
		return OP_NOP;
	case SCSI_READ_6: case SCSI_READ_10: case SCSI_READ_12:
	case SCSI_READ_16: case SCSI_WRITE_6: case SCSI_WRITE_10:
	case SCSI_WRITE_12: case SCSI_WRITE_16: case SCSI_SYNC_CACHE_10:
	case SCSI_SYNC_CACHE_16: case SCSI_UNMAP:
		return OP_DISK;
	}
	return 0;
}

/* A missing unit answers INQUIRY, REPORT LUNS and REQUEST SENSE only
 * (SPC-4 4.6.5). */
static bool for_missing_lun(uint8_t op)
{
	return op == SCSI_INQUIRY || op == SCSI_REPORT_LUNS ||
	       op == SCSI_REQUEST_SENSE;
}

void scsi_cmd_prepare(struct scsi_cmd *c)
{
	unsigned need = scsi_cdb_len(c->cdb[0]);
	int kind = classify(c);

	c->status = SCSI_GOOD;
	c->dir = SCSI_DIR_NONE;
	c->len = 0;
	c->op = 0;
	memset(c->sense, 0, sizeof(c->sense));
	if (!need || c->cdb_len < need || !kind) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return;
	}
	if (!lun_of(c) && !for_missing_lun(c->cdb[0])) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
		return;
	}
	if (c->cdb[0] == SCSI_READ_TOC && lun_of(c)->type != SCSI_TYPE_CDROM)
		kind = 0;
	if (!kind) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_OPCODE);
		return;
	}
	c->op = c->cdb[0];
	if (kind == OP_ANSWER)
		answer(c);
	else if (kind == OP_DISK && !scsi_rw_prepare(c) && !grow(c, c->len))
		scsi_cmd_fail(c, SENSE_HARDWARE_ERROR, ASC_INTERNAL_FAILURE);
	if (c->status != SCSI_GOOD)
		c->op = 0;
}

bool scsi_cmd_exec(struct scsi_cmd *c)
{
	if (c->status != SCSI_GOOD)
		return true;
	if (classify(c) == OP_DISK)
		return scsi_rw_exec(c);
	return true;
}

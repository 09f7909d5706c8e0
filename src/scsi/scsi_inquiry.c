/* INQUIRY (SPC-4 6.6): standard data and the VPD pages 0x00, 0x80, 0x83,
 * and for disks 0xb0 (block limits), 0xb1 (characteristics) and 0xb2
 * (provisioning: Linux uses UNMAP only when it says LBPU). */
#include <string.h>

#include "scsi/scsi.h"

#define VENDOR		"CVISOR  "
#define PRODUCT_DISK	"VIRTUAL DISK    "
#define PRODUCT_CDROM	"VIRTUAL CD-ROM  "
#define REVISION	"1.0 "

static uint32_t standard(const struct scsi_lun *l, uint8_t *b)
{
	memset(b, 0, 36);
	if (!l) {
		/* No unit here: qualifier 3, type 0x1f (SPC-4 6.6.2). */
		b[0] = 0x7f;
	} else {
		b[0] = (uint8_t)l->type;
		b[1] = l->type == SCSI_TYPE_CDROM ? 0x80 : 0;   /* RMB */
	}
	b[2] = 0x05;                  /* SPC-3 */
	b[3] = 0x02;                  /* response data format 2 */
	b[4] = 36 - 5;
	memcpy(b + 8, VENDOR, 8);
	memcpy(b + 16, l && l->type == SCSI_TYPE_CDROM ? PRODUCT_CDROM :
	       PRODUCT_DISK, 16);
	memcpy(b + 32, REVISION, 4);
	return 36;
}

static uint32_t vpd_supported(const struct scsi_lun *l, uint8_t *b)
{
	static const uint8_t disk[] = { 0x00, 0x80, 0x83, 0xb0, 0xb1, 0xb2 };
	unsigned n = l->type == SCSI_TYPE_DISK ? sizeof(disk) : 3;

	memcpy(b + 4, disk, n);
	return 4 + n;
}

static uint32_t vpd_serial(const struct scsi_lun *l, uint8_t *b)
{
	size_t n = strlen(l->serial);

	memcpy(b + 4, l->serial, n);
	return 4 + (uint32_t)n;
}

/* Two designators: T10 vendor ID + serial (ASCII) and NAA (binary). */
static uint32_t vpd_ident(const struct scsi_lun *l, uint8_t *b)
{
	uint8_t *d = b + 4;
	size_t n = strlen(l->serial);

	d[0] = 0x02;                  /* code set: ASCII */
	d[1] = 0x01;                  /* LUN association, T10 vendor ID */
	d[3] = (uint8_t)(8 + n);
	memcpy(d + 4, VENDOR, 8);
	memcpy(d + 12, l->serial, n);
	d += 4 + d[3];
	d[0] = 0x01;                  /* binary */
	d[1] = 0x03;                  /* LUN association, NAA */
	d[3] = 8;
	scsi_put64(d + 4, l->naa);
	d += 12;
	return (uint32_t)(d - b);
}

static uint32_t vpd_limits(const struct scsi_lun *l, uint8_t *b)
{
	uint32_t max_blocks = SCSI_MAX_XFER / l->block_size;

	scsi_put16(b + 6, 1);                   /* optimal granularity */
	scsi_put32(b + 8, max_blocks);          /* maximum transfer */
	scsi_put32(b + 12, max_blocks);         /* optimal transfer */
	if (l->can_unmap) {
		scsi_put32(b + 20, SCSI_MAX_UNMAP_BLOCKS);
		scsi_put32(b + 24, SCSI_MAX_UNMAP_DESC);
		scsi_put32(b + 28, 4096 / l->block_size);
	}
	return 64;
}

static uint32_t vpd_chars(const struct scsi_lun *l, uint8_t *b)
{
	scsi_put16(b + 4, 1);                   /* non-rotating medium */
	return 64;
}

static uint32_t vpd_provisioning(const struct scsi_lun *l, uint8_t *b)
{
	b[5] = l->can_unmap ? 0x80 : 0;         /* LBPU */
	b[6] = l->can_unmap ? 0x02 : 0;         /* thin provisioned */
	return 8;
}

/* buf holds at least 256 bytes. false: the CDB asks for what is not
 * there (c already failed). */
bool scsi_inquiry(struct scsi_cmd *c, uint8_t *buf, uint32_t *len)
{
	const struct scsi_lun *l = c->tgt->luns[c->lun];
	uint8_t page = c->cdb[2];
	bool disk = l && l->type == SCSI_TYPE_DISK;
	uint32_t n;

	memset(buf, 0, 256);
	if (!(c->cdb[1] & 0x01)) {
		if (page) {
			scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST,
				      ASC_INVALID_FIELD_CDB);
			return false;
		}
		*len = standard(l, buf);
		return true;
	}
	if (!l) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_LUN_NOT_SUPPORTED);
		return false;
	}
	switch (page) {
	case 0x00: n = vpd_supported(l, buf); break;
	case 0x80: n = vpd_serial(l, buf); break;
	case 0x83: n = vpd_ident(l, buf); break;
	case 0xb0: n = disk ? vpd_limits(l, buf) : 0; break;
	case 0xb1: n = disk ? vpd_chars(l, buf) : 0; break;
	case 0xb2: n = disk ? vpd_provisioning(l, buf) : 0; break;
	default: n = 0; break;
	}
	if (!n) {
		scsi_cmd_fail(c, SENSE_ILLEGAL_REQUEST, ASC_INVALID_FIELD_CDB);
		return false;
	}
	buf[0] = (uint8_t)l->type;
	buf[1] = page;
	scsi_put16(buf + 2, (uint16_t)(n - 4));
	*len = n;
	return true;
}

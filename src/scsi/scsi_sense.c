/* Fixed-format sense data (SPC-4 4.5.3) and CHECK CONDITION. */
#include <string.h>

#include "scsi/scsi.h"

void scsi_build_sense(uint8_t *s, uint8_t key, uint16_t asc)
{
	memset(s, 0, SCSI_SENSE_LEN);
	s[0] = 0x70;                  /* current error, fixed format */
	s[2] = key & 0x0f;
	s[7] = SCSI_SENSE_LEN - 8;    /* additional sense length */
	s[12] = (uint8_t)(asc >> 8);
	s[13] = (uint8_t)asc;
}

void scsi_cmd_check(struct scsi_cmd *c, uint8_t key, uint16_t asc)
{
	c->status = SCSI_CHECK_CONDITION;
	c->dir = SCSI_DIR_NONE;
	c->len = 0;
	scsi_build_sense(c->sense, key, asc);
}

/* The sense goes with the command (for an adapter with autosense) and
 * stays on the LUN for the REQUEST SENSE a driver without it sends next
 * (sym53c8xx does). */
void scsi_cmd_keep_sense(struct scsi_cmd *c)
{
	struct scsi_lun *l = c->lun < SCSI_MAX_LUNS && c->tgt ?
			     c->tgt->luns[c->lun] : NULL;

	if (l && c->status == SCSI_CHECK_CONDITION) {
		memcpy(l->sense, c->sense, SCSI_SENSE_LEN);
		l->has_sense = true;
	}
}

void scsi_cmd_fail(struct scsi_cmd *c, uint8_t key, uint16_t asc)
{
	scsi_cmd_check(c, key, asc);
	scsi_cmd_keep_sense(c);
}

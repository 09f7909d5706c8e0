/* The SCSI bus behind the 53C895A, played from the targets' side: after
 * SELECT the target asks for MESSAGE OUT (with ATN) or COMMAND, then DATA
 * IN/OUT, STATUS and MESSAGE IN (COMMAND COMPLETE), then goes bus free.
 * The command goes to the target layer (src/scsi/) once its CDB is in;
 * while the disk works on it the bus shows no phase and the SCRIPTS wait
 * (lsi_cmd_done resumes them). Whatever the initiator sends is checked:
 * a CDB of an unknown length or opcode gets CHECK CONDITION, a message we
 * do not know gets MESSAGE REJECT, a move past what a phase holds ends
 * in a phase mismatch. */
#include <string.h>

#include "core/util.h"
#include "devices/lsi53c895a_priv.h"

/* While the disk has the command: no phase a block move could match. */
#define PHASE_NONE 4

/* Messages (SPC-2 / SAM) */
#define MSG_COMMAND_COMPLETE	0x00
#define MSG_EXTENDED		0x01
#define MSG_ABORT		0x06
#define MSG_REJECT		0x07
#define MSG_NOP			0x08
#define MSG_BUS_DEVICE_RESET	0x0c
#define MSG_ABORT_TAG		0x0d
#define MSG_CLEAR_QUEUE		0x0e
#define MSG_SIMPLE_TAG		0x20
#define MSG_ORDERED_TAG		0x22
#define MSG_IDENTIFY		0x80
#define MSG_OUT_MAX		LSI_MSG_OUT_MAX

void lsi_bus_set_phase(struct lsi *s, enum lsi_phase p)
{
	s->phase = p;
	s->sstat1 = (uint8_t)((s->sstat1 & ~7u) | (p & 7));
}

/* Bus free. A command the disk still has is orphaned: its completion
 * only frees the bus (io_busy). */
void lsi_bus_disconnect(struct lsi *s)
{
	if (s->io_busy)
		s->cur_gen++;
	s->connected = false;
	s->socl &= ~SOCL_ATN;
	s->msg_in_len = s->msg_in_pos = 0;
	s->msg_out_len = 0;
}

void lsi_bus_reset(struct lsi *s)
{
	lsi_bus_disconnect(s);
	for (unsigned i = 0; i < LSI_MAX_TARGETS; i++)
		for (unsigned l = 0; l < SCSI_MAX_LUNS; l++)
			if (s->targets[i].t.luns[l])
				s->targets[i].t.luns[l]->has_sense = false;
}

int lsi_bus_select(struct lsi *s, unsigned id, bool atn)
{
	if (s->io_busy)
		return 1;
	if (id >= LSI_MAX_TARGETS || !s->targets[id].present ||
	    id == (s->scid & 0x0f))
		return -1;
	s->connected = true;
	s->target = id;
	s->lun = 0;
	s->sdid = (uint8_t)id;
	s->msg_in_len = s->msg_in_pos = 0;
	s->msg_out_len = 0;
	s->cmd.cdb_len = 0;
	s->data_pos = 0;
	s->disconnect_after_msg = false;
	if (atn)
		s->socl |= SOCL_ATN;
	/* MESSAGE OUT even without ATN, as QEMU's targets: SeaBIOS's
	 * driver selects without ATN and sends its IDENTIFY all the same
	 * (a target of the SCSI-2 book would go to COMMAND). */
	lsi_bus_set_phase(s, PHASE_MO);
	return 0;
}

static void send_msg_in(struct lsi *s, uint8_t msg, bool then_free)
{
	s->msg_in[0] = msg;
	s->msg_in_len = 1;
	s->msg_in_pos = 0;
	s->disconnect_after_msg = then_free;
	lsi_bus_set_phase(s, PHASE_MI);
}

/* The command has its status (and, reading, its data). */
static void cmd_finished(struct lsi *s)
{
	struct scsi_cmd *c = &s->cmd;

	s->data_pos = 0;
	if (c->status == SCSI_GOOD && c->dir == SCSI_DIR_IN && c->len)
		lsi_bus_set_phase(s, PHASE_DI);
	else
		lsi_bus_set_phase(s, PHASE_ST);
}

/* true: finished now; false: the disk has it (the SCRIPTS wait). */
static bool exec_cmd(struct lsi *s)
{
	struct scsi_lun *l = lsi_cmd_lun(s);

	s->io_busy = true;
	s->io_gen = s->cur_gen;
	lsi_bus_set_phase(s, PHASE_NONE);
	/* Started by a vCPU's register write, which looks for the
	 * completion right after (lsi53c895a.c): the event loop need not
	 * be woken for it. One command at a time: no other is in flight. */
	if (s->quiet_ok && s->vcpu_reap && l && !s->quiet_be) {
		s->quiet_be = l->be;
		blk_backend_quiet(l->be, true);
	}
	if (!scsi_cmd_exec(&s->cmd))
		return false;
	s->io_busy = false;
	cmd_finished(s);
	return true;
}

void lsi_cmd_done(struct scsi_cmd *c)
{
	struct lsi *s = c->opaque;

	pthread_mutex_lock(&s->lock);
	/* Atomic: a vCPU polling for it reads it without the lock. */
	__atomic_store_n(&s->io_busy, false, __ATOMIC_RELAXED);
	/* An abandoned command's sense is not kept: a bus reset has
	 * cleared the LUNs' since. */
	if (s->io_gen == s->cur_gen)
		scsi_cmd_keep_sense(c);
	if (s->io_gen == s->cur_gen && s->connected)
		cmd_finished(s);
	/* Paused: the data waits in the command's buffer and the SCRIPTS
	 * (the DMA and the interrupt) for the resume; lsi_run holds. */
	if (s->waiting == LSI_WAIT_DISK || s->waiting == LSI_WAIT_BUS) {
		s->waiting = LSI_NOWAIT;
		lsi_run(s);
	}
	pthread_mutex_unlock(&s->lock);
}

static int64_t move_cmd(struct lsi *s, uint32_t addr, uint32_t n,
			bool *stall)
{
	struct scsi_cmd *c = &s->cmd;
	uint32_t k = MIN(n, (uint32_t)SCSI_CDB_MAX);

	memset(c->cdb, 0, sizeof(c->cdb));
	if (lsi_dma_read(s, addr, c->cdb, k)) {
		lsi_dma_irq(s, 0x20);
		return -1;
	}
	c->cdb_len = k;
	s->sfbr = c->cdb[0];          /* the first byte of any phase */
	c->tgt = &s->targets[s->target].t;
	c->lun = s->lun;
	c->done = lsi_cmd_done;
	c->opaque = s;
	scsi_cmd_prepare(c);
	s->data_pos = 0;
	if (c->dir == SCSI_DIR_OUT)
		lsi_bus_set_phase(s, PHASE_DO);
	else
		*stall = !exec_cmd(s);
	return k;
}

static int64_t move_data(struct lsi *s, uint32_t addr, uint32_t n,
			 bool *stall)
{
	struct scsi_cmd *c = &s->cmd;
	uint32_t k = MIN(n, c->len - s->data_pos);
	int r;

	if (s->phase == PHASE_DI)
		r = lsi_dma_write(s, addr, c->buf + s->data_pos, k);
	else
		r = lsi_dma_read(s, addr, c->buf + s->data_pos, k);
	if (r) {
		lsi_dma_irq(s, 0x20);
		return -1;
	}
	s->data_pos += k;
	if (s->data_pos < c->len)
		return k;
	if (s->phase == PHASE_DI)
		lsi_bus_set_phase(s, PHASE_ST);
	else
		*stall = !exec_cmd(s);
	return k;
}

static int64_t move_status(struct lsi *s, uint32_t addr)
{
	if (lsi_dma_write(s, addr, &s->cmd.status, 1)) {
		lsi_dma_irq(s, 0x20);
		return -1;
	}
	s->sfbr = s->cmd.status;
	send_msg_in(s, MSG_COMMAND_COMPLETE, true);
	return 1;
}

static int64_t move_msg_in(struct lsi *s, uint32_t addr, uint32_t n)
{
	uint32_t k = MIN(n, s->msg_in_len - s->msg_in_pos);

	if (lsi_dma_write(s, addr, s->msg_in + s->msg_in_pos, k)) {
		lsi_dma_irq(s, 0x20);
		return -1;
	}
	/* SCRIPTS test the byte they got (JUMP IF data): SFBR has it. */
	s->sfbr = s->msg_in[s->msg_in_pos];
	s->msg_in_pos += k;
	if (s->msg_in_pos < s->msg_in_len)
		return k;
	/* The initiator wants to say something (a reject, an abort). */
	if (s->socl & SOCL_ATN)
		lsi_bus_set_phase(s, PHASE_MO);
	else if (s->disconnect_after_msg)
		lsi_bus_disconnect(s);
	else
		lsi_bus_set_phase(s, s->cmd.cdb_len ? PHASE_ST : PHASE_CMD);
	return k;
}

/* One message from the initiator, at m[0..len). Returns the bytes it
 * takes (0: incomplete), or -1 after ABORT and the like (bus free). */
static int parse_msg(struct lsi *s, const uint8_t *m, unsigned len)
{
	if (m[0] & MSG_IDENTIFY) {
		s->lun = m[0] & 7;
		return 1;
	}
	switch (m[0]) {
	case MSG_EXTENDED:
		/* SDTR, WDTR, PPR: ignored, so the bus stays asynchronous
		 * and narrow (which is what a driver assumes when the
		 * target does not answer). */
		if (len < 2)
			return 0;
		if (!m[1] || m[1] > MSG_OUT_MAX - 2)
			break;        /* longer than any we know: reject */
		return len < 2u + m[1] ? 0 : 2 + m[1];
	case MSG_SIMPLE_TAG ... MSG_ORDERED_TAG:
		return len < 2 ? 0 : 2;
	case MSG_NOP:
	case MSG_REJECT:
		return 1;
	case MSG_ABORT:
	case MSG_BUS_DEVICE_RESET:
	case MSG_ABORT_TAG:
	case MSG_CLEAR_QUEUE:
		lsi_bus_disconnect(s);
		return -1;
	}
	send_msg_in(s, MSG_REJECT, false);
	return 1;
}

static int64_t move_msg_out(struct lsi *s, uint32_t addr, uint32_t n)
{
	/* msg_out holds less than one message (< MSG_OUT_MAX bytes). */
	uint32_t k = MIN(n, (uint32_t)MSG_OUT_MAX);
	uint8_t buf[2 * MSG_OUT_MAX];
	unsigned have, pos = 0;

	memcpy(buf, s->msg_out, s->msg_out_len);
	if (lsi_dma_read(s, addr, buf + s->msg_out_len, k)) {
		lsi_dma_irq(s, 0x20);
		return -1;
	}
	have = s->msg_out_len + k;
	while (pos < have && s->phase == PHASE_MO) {
		int r = parse_msg(s, buf + pos, have - pos);

		if (r < 0)
			return k;
		if (!r)
			break;
		pos += (unsigned)r;
	}
	/* Keep a message cut between two moves for the next one. */
	s->msg_out_len = s->phase == PHASE_MO ? have - pos : 0;
	memcpy(s->msg_out, buf + pos, s->msg_out_len);
	if (s->msg_out_len)
		return k;
	/* The message is out: the initiator has dropped ATN. */
	s->socl &= ~SOCL_ATN;
	if (s->phase == PHASE_MO)
		lsi_bus_set_phase(s, s->cmd.cdb_len ? PHASE_ST : PHASE_CMD);
	return k;
}

int64_t lsi_bus_move(struct lsi *s, uint32_t addr, uint32_t n, bool *stall)
{
	*stall = false;
	switch (s->phase) {
	case PHASE_CMD:
		return move_cmd(s, addr, n, stall);
	case PHASE_DI:
	case PHASE_DO:
		return move_data(s, addr, n, stall);
	case PHASE_ST:
		return move_status(s, addr);
	case PHASE_MI:
		return move_msg_in(s, addr, n);
	case PHASE_MO:
		return move_msg_out(s, addr, n);
	}
	return 0;
}

/* The initiator accepted a message byte; the target goes on when it has
 * (the phase changes above already happened at the end of the move). */
void lsi_bus_clear_ack(struct lsi *s)
{
}

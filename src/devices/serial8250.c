/* 16550A UART (`vdev ser8250`): eight byte-wide registers in port I/O.
 *
 * The host side is a chardev. Transmission is instant: a THR write goes
 * straight to the backend and THR/shift register are empty again at once.
 * Reception is flow-controlled instead of timed: the backend offers bytes,
 * the RX FIFO takes what fits, and the rest waits on the host until the
 * guest reads (so host input never overruns). See docs/devices.md.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "backends/chardev.h"
#include "devices/dev_chardev.h"
#include "core/util.h"
#include "devices/registry.h"
#include "devices/serial8250.h"
#include "devices/uart_common.h"

enum {
	UART_RBR = 0, UART_IER = 1, UART_IIR = 2, UART_LCR = 3,
	UART_MCR = 4, UART_LSR = 5, UART_MSR = 6, UART_SCR = 7,
};

#define IER_ERBFI 0x01   /* received data available */
#define IER_ETBEI 0x02   /* THR empty */
#define IER_ELSI  0x04   /* line status */
#define IER_EDSSI 0x08   /* modem status */

#define IIR_NONE  0x01
#define IIR_MSI   0x00
#define IIR_THRI  0x02
#define IIR_RDI   0x04
#define IIR_RLSI  0x06
#define IIR_CTI   0x0c
#define IIR_FIFO  0xc0

#define FCR_FE    0x01
#define FCR_RFR   0x02   /* clear RX FIFO */
#define FCR_KEEP  0xc9   /* FE, DMA mode, trigger level */

#define LCR_DLAB  0x80

#define MCR_DTR   0x01
#define MCR_RTS   0x02
#define MCR_OUT1  0x04
#define MCR_OUT2  0x08
#define MCR_LOOP  0x10

#define LSR_DR    0x01
#define LSR_OE    0x02
#define LSR_ERRS  0x1e   /* OE PE FE BI: cleared by reading LSR */
#define LSR_THRE  0x20
#define LSR_TEMT  0x40

#define MSR_DCTS  0x01
#define MSR_DDSR  0x02
#define MSR_TERI  0x04
#define MSR_DDCD  0x08
#define MSR_DELTA 0x0f
#define MSR_CTS   0x10
#define MSR_DSR   0x20
#define MSR_RI    0x40
#define MSR_DCD   0x80
/* With no loopback the line is "connected": CTS, DSR and DCD asserted. */
#define MSR_IDLE  (MSR_CTS | MSR_DSR | MSR_DCD)

#define RX_FIFO   16

struct ser8250 {
	struct device dev;
	pthread_mutex_t lock;       /* vCPU threads and the loop thread */
	struct dev_env env;
	uint32_t gsi;
	struct chardev *cd;
	unsigned shift;             /* MMIO: register n at n << shift */

	uint8_t ier, lcr, mcr, lsr, msr, scr, fcr;
	uint16_t div;
	bool thr_ipending;          /* THRE event not yet acknowledged */
	bool irq_level;
	bool rx_blocked;            /* refused host bytes: call rx_ready */

	uint8_t rx[RX_FIFO];
	unsigned rx_head, rx_count;
};

static struct ser8250 *to_ser(struct device *d)
{
	return container_of(d, struct ser8250, dev);
}

static bool fifo_on(const struct ser8250 *s)
{
	return s->fcr & FCR_FE;
}

static unsigned rx_capacity(const struct ser8250 *s)
{
	return fifo_on(s) ? RX_FIFO : 1;
}

static unsigned rx_trigger(const struct ser8250 *s)
{
	static const uint8_t level[4] = { 1, 4, 8, 14 };

	return level[s->fcr >> 6];
}

/* The highest-priority pending interrupt, as IIR bits 0-3. Character
 * timeout is reported as soon as data sits below the trigger level: we
 * have no character clock, and the guest drains to empty either way. */
static uint8_t pending_id(const struct ser8250 *s)
{
	if ((s->ier & IER_ELSI) && (s->lsr & LSR_ERRS))
		return IIR_RLSI;
	if ((s->ier & IER_ERBFI) && s->rx_count)
		return !fifo_on(s) || s->rx_count >= rx_trigger(s) ?
			IIR_RDI : IIR_CTI;
	if ((s->ier & IER_ETBEI) && s->thr_ipending)
		return IIR_THRI;
	if ((s->ier & IER_EDSSI) && (s->msr & MSR_DELTA))
		return IIR_MSI;
	return IIR_NONE;
}

/* Not gated on MCR.OUT2: QEMU's 16550 does not gate either, and guests
 * tested there (the test guest included) must behave the same here. */
static void update_irq(struct ser8250 *s)
{
	bool level = pending_id(s) != IIR_NONE;

	if (level == s->irq_level)
		return;
	s->irq_level = level;
	if (s->env.irq_set)
		s->env.irq_set(s->env.ctx, s->gsi, level);
}

static void rx_flush(struct ser8250 *s)
{
	s->rx_head = s->rx_count = 0;
	s->lsr &= ~LSR_DR;
}

static void rx_push(struct ser8250 *s, uint8_t b)
{
	s->rx[(s->rx_head + s->rx_count) % RX_FIFO] = b;
	s->rx_count++;
	s->lsr |= LSR_DR;
}

/* Room again after the guest read or flushed: let the host side resume. */
static void rx_unblock(struct ser8250 *s)
{
	if (s->rx_blocked && s->rx_count < rx_capacity(s)) {
		s->rx_blocked = false;
		chardev_rx_ready(s->cd);
	}
}

static uint8_t rx_pop(struct ser8250 *s)
{
	uint8_t b;

	if (!s->rx_count)
		return 0;
	b = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % RX_FIFO;
	if (!--s->rx_count)
		s->lsr &= ~LSR_DR;
	rx_unblock(s);
	return b;
}

/* Loopback: a byte "sent" arrives in our own receiver. A full receiver
 * overruns: the FIFO keeps its contents (16550), the 1-byte holding
 * register is overwritten (16450 mode). */
static void loop_receive(struct ser8250 *s, uint8_t b)
{
	if (s->rx_count < rx_capacity(s)) {
		rx_push(s, b);
		return;
	}
	s->lsr |= LSR_OE;
	if (!fifo_on(s))
		s->rx[s->rx_head] = b;
}

size_t ser8250_receive(struct device *dev, const uint8_t *buf, size_t len)
{
	struct ser8250 *s = to_ser(dev);
	size_t n = 0;

	pthread_mutex_lock(&s->lock);
	if (s->mcr & MCR_LOOP) {
		/* In loopback the serial input is disconnected. */
		n = len;
		goto out;
	}
	while (n < len && s->rx_count < rx_capacity(s))
		rx_push(s, buf[n++]);
	if (n < len)
		s->rx_blocked = true;
	update_irq(s);
out:
	pthread_mutex_unlock(&s->lock);
	return n;
}

static size_t rx_hook(void *opaque, const uint8_t *buf, size_t len)
{
	return ser8250_receive(opaque, buf, len);
}

/* Modem input lines (MSR bits 4-7) take new values; record deltas. */
static void set_modem_lines(struct ser8250 *s, uint8_t lines)
{
	uint8_t old = s->msr & 0xf0, ch = old ^ lines, delta = 0;

	if (ch & MSR_CTS)
		delta |= MSR_DCTS;
	if (ch & MSR_DSR)
		delta |= MSR_DDSR;
	if ((old & MSR_RI) && !(lines & MSR_RI))
		delta |= MSR_TERI;      /* trailing edge only */
	if (ch & MSR_DCD)
		delta |= MSR_DDCD;
	s->msr = lines | (s->msr & MSR_DELTA) | delta;
}

static void update_modem(struct ser8250 *s)
{
	uint8_t m = s->mcr, lines = MSR_IDLE;

	if (m & MCR_LOOP)
		lines = (m & MCR_RTS ? MSR_CTS : 0) |
			(m & MCR_DTR ? MSR_DSR : 0) |
			(m & MCR_OUT1 ? MSR_RI : 0) |
			(m & MCR_OUT2 ? MSR_DCD : 0);
	set_modem_lines(s, lines);
}

static void write_thr(struct ser8250 *s, uint8_t b)
{
	if (s->mcr & MCR_LOOP)
		loop_receive(s, b);
	else
		chardev_write(s->cd, &b, 1);
	/* Sent at once: THR and the shift register are empty again, which
	 * re-raises the THRE event the write acknowledged. */
	s->lsr |= LSR_THRE | LSR_TEMT;
	s->thr_ipending = true;
}

static void write_ier(struct ser8250 *s, uint8_t v)
{
	s->ier = v & 0x0f;
	/* Writing ETBEI while THR is empty raises THRE again (the 16550
	 * does; Linux's startup test relies on it). */
	s->thr_ipending = (s->ier & IER_ETBEI) && (s->lsr & LSR_THRE);
}

static void write_fcr(struct ser8250 *s, uint8_t v)
{
	/* Switching the FIFOs on or off clears them; bits other than FE are
	 * only written while FE is set. */
	if ((v ^ s->fcr) & FCR_FE || ((v & FCR_FE) && (v & FCR_RFR)))
		rx_flush(s);
	s->fcr = v & FCR_FE ? v & FCR_KEEP : 0;
	rx_unblock(s);
}

static void reg_write(struct ser8250 *s, unsigned off, uint8_t v)
{
	bool dlab = s->lcr & LCR_DLAB;

	switch (off) {
	case UART_RBR:
		if (dlab)
			s->div = (s->div & 0xff00) | v;
		else
			write_thr(s, v);
		break;
	case UART_IER:
		if (dlab)
			s->div = (s->div & 0x00ff) | v << 8;
		else
			write_ier(s, v);
		break;
	case UART_IIR:
		write_fcr(s, v);
		break;
	case UART_LCR:
		s->lcr = v;             /* break (bit 6) is not emulated */
		break;
	case UART_MCR:
		s->mcr = v & 0x1f;
		update_modem(s);
		break;
	case UART_SCR:
		s->scr = v;
		break;
	default:                        /* LSR, MSR: read-only */
		break;
	}
}

static uint8_t read_iir(struct ser8250 *s)
{
	uint8_t id = pending_id(s);

	/* Reading IIR acknowledges THRE when that is what it reports. */
	if (id == IIR_THRI)
		s->thr_ipending = false;
	return id | (fifo_on(s) ? IIR_FIFO : 0);
}

static uint8_t reg_read(struct ser8250 *s, unsigned off)
{
	bool dlab = s->lcr & LCR_DLAB;
	uint8_t v;

	switch (off) {
	case UART_RBR:
		return dlab ? s->div & 0xff : rx_pop(s);
	case UART_IER:
		return dlab ? s->div >> 8 : s->ier;
	case UART_IIR:
		return read_iir(s);
	case UART_LCR:
		return s->lcr;
	case UART_MCR:
		return s->mcr;
	case UART_LSR:
		v = s->lsr;
		s->lsr &= ~LSR_ERRS;
		return v;
	case UART_MSR:
		v = s->msr;
		s->msr &= ~MSR_DELTA;
		return v;
	default:
		return s->scr;
	}
}

/* Wider accesses are taken as consecutive byte registers. With a
 * register shift (MMIO, the tree's reg-shift) each register is a word of
 * its own: the access at its start reaches it, with the register in the
 * low byte; the rest of the word reads 0 and ignores writes. */
static uint64_t ser_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	struct ser8250 *s = to_ser(dev);
	uint64_t v = 0;

	pthread_mutex_lock(&s->lock);
	if (s->shift) {
		if (!(off & ((1u << s->shift) - 1)))
			v = reg_read(s, off >> s->shift);
	} else {
		for (unsigned i = 0; i < size && off + i < 8; i++)
			v |= (uint64_t)reg_read(s, off + i) << (8 * i);
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
	return v;
}

static void ser_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct ser8250 *s = to_ser(dev);

	pthread_mutex_lock(&s->lock);
	if (s->shift) {
		if (!(off & ((1u << s->shift) - 1)))
			reg_write(s, off >> s->shift, (uint8_t)value);
	} else {
		for (unsigned i = 0; i < size && off + i < 8; i++)
			reg_write(s, off + i, value >> (8 * i));
	}
	update_irq(s);
	pthread_mutex_unlock(&s->lock);
}

static void ser_reset_locked(struct ser8250 *s)
{
	s->ier = s->lcr = s->mcr = s->scr = s->fcr = 0;
	s->lsr = LSR_THRE | LSR_TEMT;
	s->msr = MSR_IDLE;
	s->div = 12;                    /* 9600 baud from 1.8432 MHz */
	s->thr_ipending = false;
	rx_flush(s);
	rx_unblock(s);
	update_irq(s);
}

static void ser_reset(struct device *dev)
{
	struct ser8250 *s = to_ser(dev);

	pthread_mutex_lock(&s->lock);
	ser_reset_locked(s);
	pthread_mutex_unlock(&s->lock);
}

static void ser_free(struct device *dev)
{
	struct ser8250 *s = to_ser(dev);

	chardev_put(s->cd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct device_ops ser8250_ops = {
	.read = ser_read,
	.write = ser_write,
	.reset = ser_reset,
	.free = ser_free,
};

static void quit_hook(void *opaque)
{
	struct ser8250 *s = opaque;

	uart_quit(&s->env);
}

static bool ser8250_default_loc(unsigned index, uint64_t *addr)
{
	static const uint16_t com[] = { 0x3f8, 0x2f8, 0x3e8, 0x2e8 };

	if (index >= 4)
		return false;
	*addr = com[index];
	return true;
}

static bool ser8250_default_intr(unsigned index, uint32_t *line)
{
	static const uint8_t irq[] = { 4, 3, 4, 3 };

	if (index >= 4)
		return false;
	*line = irq[index];
	return true;
}

static const struct devopt_spec ser8250_opts[] = {
	{ .key = "batch", .kind = DEVOPT_NUM, .min = 0, .max = 1000000 },
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "sched", .kind = DEVOPT_NUM, .min = 1, .max = 99 },
	/* cvisor extension: at a mem loc, register n is at n << regshift
	 * (the device tree's reg-shift; reg-io-width 1 << regshift) */
	{ .key = "regshift", .kind = DEVOPT_NUM, .min = 0, .max = 2 },
	{ 0 },
};

static const char *ser8250_check(const struct vdev_config *vc,
				 const struct cfg_pos **at)
{
	const struct cfg_devopt *rs = vdev_opt(vc, "regshift");

	if (rs && (!vc->nr_locs || vc->locs[0].space != LOC_MEM)) {
		*at = &rs->pos;
		return "regshift needs a mem loc (an MMIO 16550)";
	}
	return NULL;
}

unsigned ser8250_reg_shift(const struct vdev_config *vc)
{
	const struct cfg_devopt *rs = vdev_opt(vc, "regshift");

	return rs && vc->nr_locs && vc->locs[0].space == LOC_MEM ?
	       (unsigned)rs->num : 0;
}

static int ser8250_create(const struct vdev_config *vc,
			  const struct dev_env *env, struct device **out)
{
	struct ser8250 *s = xcalloc(1, sizeof(*s));

	s->cd = dev_chardev_get(env, vc);
	if (!s->cd) {
		free(s);
		return -EIO;
	}
	uart_note_qnx_opts(vc);
	pthread_mutex_init(&s->lock, NULL);
	s->env = *env;
	s->gsi = vc->nr_intrs ? vc->intrs[0].line : 4;
	s->dev.ops = &ser8250_ops;
	s->dev.name = "ser8250";
	s->shift = ser8250_reg_shift(vc);
	/* at a mem loc: the 16550 of device-tree machines (ns16550a) */
	device_add_region(&s->dev, vc->locs[0].space == LOC_MEM ? BUS_MMIO
				   : BUS_PIO, vc->locs[0].addr, 8u << s->shift);
	ser_reset_locked(s);
	chardev_set_quit(s->cd, quit_hook, s);
	chardev_set_rx(s->cd, rx_hook, &s->dev);
	*out = &s->dev;
	return 0;
}

const struct vdev_type ser8250_type = {
	.name = "ser8250",
	.aliases = (const char *const[]){ "8250", "16550", NULL },
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.allow_hostdev = true,
	.loc_space = LOC_IO,
	.mem_loc_too = true,
	.region_len = 8,
	.default_loc = ser8250_default_loc,
	.check_vdev = ser8250_check,
	.default_intr = ser8250_default_intr,
	.opts = ser8250_opts,
	.create = ser8250_create,
};

/* ARM PrimeCell PL011 UART (`vdev pl011`, DDI0183), in a 4 KiB MMIO page.
 *
 * Like the 16550 model: transmission is instant (DR writes go straight to
 * the chardev), reception is flow-controlled by the RX FIFO's free space,
 * and the receive timeout is reported as soon as data waits below the
 * trigger level. See docs/devices.md for the choices made.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include "backends/chardev.h"
#include "devices/dev_chardev.h"
#include "core/util.h"
#include "devices/pl011.h"
#include "devices/registry.h"
#include "devices/uart_common.h"

enum {
	UARTDR = 0x000, UARTRSR = 0x004, UARTFR = 0x018, UARTILPR = 0x020,
	UARTIBRD = 0x024, UARTFBRD = 0x028, UARTLCR_H = 0x02c, UARTCR = 0x030,
	UARTIFLS = 0x034, UARTIMSC = 0x038, UARTRIS = 0x03c, UARTMIS = 0x040,
	UARTICR = 0x044, UARTDMACR = 0x048, UART_ID = 0xfe0,
};

#define FR_CTS   0x001
#define FR_DSR   0x002
#define FR_DCD   0x004
#define FR_RXFE  0x010
#define FR_TXFF  0x020
#define FR_RXFF  0x040
#define FR_TXFE  0x080
#define FR_RI    0x100

#define LCRH_FEN 0x10

#define CR_UARTEN 0x0001
#define CR_LBE    0x0080
#define CR_TXE    0x0100
#define CR_RXE    0x0200
#define CR_DTR    0x0400
#define CR_RTS    0x0800
#define CR_OUT1   0x1000
#define CR_OUT2   0x2000
#define CR_RESET  (CR_RXE | CR_TXE)

#define INT_RI   0x001
#define INT_CTS  0x002
#define INT_DCD  0x004
#define INT_DSR  0x008
#define INT_RX   0x010
#define INT_TX   0x020
#define INT_RT   0x040
#define INT_OE   0x400
#define INT_ALL  0x7ff

#define DR_OE    0x800
#define RSR_OE   0x8

#define FIFO_DEPTH 16       /* PeriphID2 revision 1: 16-entry FIFOs */

/* PeriphID0-3 (part 0x011, ARM, revision 1) and the PrimeCell ID. */
static const uint8_t pl011_id[8] = {
	0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1,
};

struct pl011 {
	struct device dev;
	pthread_mutex_t lock;       /* vCPU threads and the loop thread */
	struct dev_env env;
	uint32_t gsi;
	struct chardev *cd;

	uint32_t rsr, ilpr, ibrd, fbrd, lcr_h, cr, ifls, imsc, ris, dmacr;
	uint32_t modem;             /* FR_CTS|DSR|DCD|RI as the lines are */
	bool irq_level;
	bool rx_blocked;            /* refused host bytes: call rx_ready */

	uint16_t rx[FIFO_DEPTH];    /* data + error bits 8-11 */
	unsigned rx_head, rx_count;
};

static struct ratelimit pl011_rl = RATELIMIT_INIT(5, 5);

static struct pl011 *to_pl(struct device *d)
{
	return container_of(d, struct pl011, dev);
}

static unsigned rx_capacity(const struct pl011 *p)
{
	return p->lcr_h & LCRH_FEN ? FIFO_DEPTH : 1;
}

/* IFLS RXIFLSEL: 1/8, 1/4, 1/2, 3/4, 7/8 full; a 1-deep "FIFO" triggers
 * on every character. */
static unsigned rx_trigger(const struct pl011 *p)
{
	static const uint8_t eighths[8] = { 1, 2, 4, 6, 7, 7, 7, 7 };

	if (!(p->lcr_h & LCRH_FEN))
		return 1;
	return FIFO_DEPTH * eighths[(p->ifls >> 3) & 7] / 8;
}

static void update_irq(struct pl011 *p)
{
	bool level = (p->ris & p->imsc) != 0;

	if (level == p->irq_level)
		return;
	p->irq_level = level;
	if (p->env.irq_set)
		p->env.irq_set(p->env.ctx, p->gsi, level);
}

/* RXRIS follows the trigger level; data below it raises the receive
 * timeout at once (no bit clock to time 32 idle bits with). */
static void update_rx_ris(struct pl011 *p)
{
	if (p->rx_count >= rx_trigger(p)) {
		p->ris |= INT_RX;
		p->ris &= ~INT_RT;
	} else {
		p->ris &= ~INT_RX;
		if (p->rx_count)
			p->ris |= INT_RT;
		else
			p->ris &= ~INT_RT;
	}
}

static void rx_flush(struct pl011 *p)
{
	p->rx_head = p->rx_count = 0;
	p->ris &= ~(INT_RX | INT_RT);
}

static bool rx_enabled(const struct pl011 *p)
{
	return (p->cr & (CR_UARTEN | CR_RXE)) == (CR_UARTEN | CR_RXE);
}

static void rx_unblock(struct pl011 *p)
{
	if (p->rx_blocked && rx_enabled(p) && !(p->cr & CR_LBE) &&
	    p->rx_count < rx_capacity(p)) {
		p->rx_blocked = false;
		chardev_rx_ready(p->cd);
	}
}

static void rx_push(struct pl011 *p, uint8_t b)
{
	p->rx[(p->rx_head + p->rx_count) % FIFO_DEPTH] = b;
	p->rx_count++;
}

/* Loopback: a full FIFO overruns; the character is lost and the error is
 * flagged on the last one kept, which is what the guest reads next-most. */
static void loop_receive(struct pl011 *p, uint8_t b)
{
	if (p->rx_count < rx_capacity(p)) {
		rx_push(p, b);
	} else {
		p->rx[(p->rx_head + p->rx_count - 1) % FIFO_DEPTH] |= DR_OE;
		p->rsr |= RSR_OE;
		p->ris |= INT_OE;
	}
	update_rx_ris(p);
}

size_t pl011_receive(struct device *dev, const uint8_t *buf, size_t len)
{
	struct pl011 *p = to_pl(dev);
	size_t n = 0;

	pthread_mutex_lock(&p->lock);
	if (p->cr & CR_LBE) {
		n = len;                /* the serial input is disconnected */
		goto out;
	}
	if (rx_enabled(p))
		while (n < len && p->rx_count < rx_capacity(p))
			rx_push(p, buf[n++]);
	if (n < len)
		p->rx_blocked = true;
	update_rx_ris(p);
	update_irq(p);
out:
	pthread_mutex_unlock(&p->lock);
	return n;
}

static size_t rx_hook(void *opaque, const uint8_t *buf, size_t len)
{
	return pl011_receive(opaque, buf, len);
}

static uint32_t read_dr(struct pl011 *p)
{
	uint32_t v;

	if (!p->rx_count)
		return 0;
	v = p->rx[p->rx_head];
	p->rx_head = (p->rx_head + 1) % FIFO_DEPTH;
	p->rx_count--;
	p->rsr = (v >> 8) & 0xf;
	update_rx_ris(p);
	rx_unblock(p);
	return v;
}

static void write_dr(struct pl011 *p, uint8_t b)
{
	/* Sent even with UARTEN/TXE clear, as QEMU does: boot code often
	 * prints before (or without) enabling the UART. */
	if (p->cr & CR_LBE)
		loop_receive(p, b);
	else
		chardev_write(p->cd, &b, 1);
	/* The TX FIFO is empty again at once, i.e. it just went through
	 * the trigger level: the TX interrupt is raised. */
	p->ris |= INT_TX;
}

static uint32_t read_fr(const struct pl011 *p)
{
	uint32_t fr = FR_TXFE | p->modem;

	if (!p->rx_count)
		fr |= FR_RXFE;
	if (p->rx_count >= rx_capacity(p))
		fr |= FR_RXFF;
	return fr;
}

/* Modem inputs: "connected" normally; in loopback RTS->CTS, DTR->DSR,
 * Out1->DCD, Out2->RI. A change raises the line's modem interrupt. */
static void update_modem(struct pl011 *p)
{
	uint32_t cr = p->cr, lines = FR_CTS | FR_DSR | FR_DCD, ch;

	if (cr & CR_LBE)
		lines = (cr & CR_RTS ? FR_CTS : 0) |
			(cr & CR_DTR ? FR_DSR : 0) |
			(cr & CR_OUT1 ? FR_DCD : 0) |
			(cr & CR_OUT2 ? FR_RI : 0);
	ch = lines ^ p->modem;
	p->modem = lines;
	p->ris |= (ch & FR_CTS ? INT_CTS : 0) | (ch & FR_DSR ? INT_DSR : 0) |
		  (ch & FR_DCD ? INT_DCD : 0) | (ch & FR_RI ? INT_RI : 0);
}

static void write_lcr_h(struct pl011 *p, uint32_t v)
{
	/* Switching the FIFOs on or off starts them empty (as QEMU). */
	if ((v ^ p->lcr_h) & LCRH_FEN)
		rx_flush(p);
	p->lcr_h = v & 0xff;
	update_rx_ris(p);
	rx_unblock(p);
}

static void write_cr(struct pl011 *p, uint32_t v)
{
	p->cr = v & 0xff87;
	update_modem(p);
	rx_unblock(p);
}

/* false: no such register (the caller says so once the lock is gone). */
static bool reg_write(struct pl011 *p, uint32_t reg, uint32_t v)
{
	switch (reg) {
	case UARTDR:    write_dr(p, v);                 break;
	case UARTRSR:   p->rsr = 0;                     break;
	case UARTILPR:  p->ilpr = v & 0xff;             break;
	case UARTIBRD:  p->ibrd = v & 0xffff;           break;
	case UARTFBRD:  p->fbrd = v & 0x3f;             break;
	case UARTLCR_H: write_lcr_h(p, v);              break;
	case UARTCR:    write_cr(p, v);                 break;
	case UARTIFLS:  p->ifls = v & 0x3f;
			update_rx_ris(p);               break;
	case UARTIMSC:  p->imsc = v & INT_ALL;          break;
	case UARTICR:   p->ris &= ~v;                   break;
	case UARTDMACR: p->dmacr = v & 0x7;             break;
	case UARTFR: case UARTRIS: case UARTMIS:        break;  /* RO */
	default:
		return false;
	}
	return true;
}

/* *known: false for no such register (read as 0). */
static uint32_t reg_read(struct pl011 *p, uint32_t reg, bool *known)
{
	*known = true;
	switch (reg) {
	case UARTDR:    return read_dr(p);
	case UARTRSR:   return p->rsr;
	case UARTFR:    return read_fr(p);
	case UARTILPR:  return p->ilpr;
	case UARTIBRD:  return p->ibrd;
	case UARTFBRD:  return p->fbrd;
	case UARTLCR_H: return p->lcr_h;
	case UARTCR:    return p->cr;
	case UARTIFLS:  return p->ifls;
	case UARTIMSC:  return p->imsc;
	case UARTRIS:   return p->ris;
	case UARTMIS:   return p->ris & p->imsc;
	case UARTDMACR: return p->dmacr;
	}
	if (reg >= UART_ID && reg < 0x1000)
		return pl011_id[(reg - UART_ID) / 4];
	*known = false;
	return 0;
}

/* Registers are 32-bit. Aligned 1/2/4-byte accesses act on the register
 * (reads truncated, writes zero-extended); anything else reads 0 and
 * writes nothing. */
static bool access_ok(uint64_t off, unsigned size)
{
	return size <= 4 && !(off & 3);
}

static uint64_t pl_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	struct pl011 *p = to_pl(dev);
	bool known;
	uint32_t v;

	if (!access_ok(off, size))
		return 0;
	pthread_mutex_lock(&p->lock);
	v = reg_read(p, off, &known);
	update_irq(p);
	pthread_mutex_unlock(&p->lock);
	/* Said without the lock: a log write that stderr holds up must not
	 * hold up the event loop's pl011_receive with it. */
	if (!known)
		pr_warn_ratelimited(&pl011_rl, "pl011: read of unknown "
				    "register 0x%03llx", (unsigned long long)off);
	return size == 4 ? v : v & ((1u << (8 * size)) - 1);
}

static void pl_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	struct pl011 *p = to_pl(dev);
	bool known;

	if (!access_ok(off, size)) {
		pr_warn_ratelimited(&pl011_rl, "pl011: %u-byte write at 0x%03llx "
				    "ignored", size, (unsigned long long)off);
		return;
	}
	if (size < 4)
		value &= (1u << (8 * size)) - 1;
	pthread_mutex_lock(&p->lock);
	known = reg_write(p, off, value);
	update_irq(p);
	pthread_mutex_unlock(&p->lock);
	if (!known)             /* without the lock, as in pl_read */
		pr_warn_ratelimited(&pl011_rl, "pl011: write to unknown "
				    "register 0x%03llx ignored",
				    (unsigned long long)off);
}

static void pl_reset_locked(struct pl011 *p)
{
	p->rsr = p->ilpr = p->ibrd = p->fbrd = p->lcr_h = 0;
	p->imsc = p->ris = p->dmacr = 0;
	p->cr = CR_RESET;
	p->ifls = 0x12;                 /* both trigger levels at 1/2 */
	rx_flush(p);
	update_modem(p);
	p->ris = 0;                     /* no modem "change" at power-on */
	rx_unblock(p);
	update_irq(p);
}

static void pl_reset(struct device *dev)
{
	struct pl011 *p = to_pl(dev);

	pthread_mutex_lock(&p->lock);
	pl_reset_locked(p);
	pthread_mutex_unlock(&p->lock);
}

static void pl_free(struct device *dev)
{
	struct pl011 *p = to_pl(dev);

	chardev_put(p->cd);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static const struct device_ops pl011_ops = {
	.read = pl_read,
	.write = pl_write,
	.reset = pl_reset,
	.free = pl_free,
};

static void quit_hook(void *opaque)
{
	struct pl011 *p = opaque;

	uart_quit(&p->env);
}

static const struct devopt_spec pl011_opts[] = {
	{ .key = "batch", .kind = DEVOPT_NUM, .min = 0, .max = 1000000 },
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "sched", .kind = DEVOPT_NUM, .min = 1, .max = 99 },
	{ 0 },
};

static int pl011_create(const struct vdev_config *vc,
			const struct dev_env *env, struct device **out)
{
	struct pl011 *p = xcalloc(1, sizeof(*p));

	p->cd = dev_chardev_get(env, vc);
	if (!p->cd) {
		free(p);
		return -EIO;
	}
	uart_note_qnx_opts(vc);
	pthread_mutex_init(&p->lock, NULL);
	p->env = *env;
	p->gsi = vc->nr_intrs ? vc->intrs[0].line : 0;
	p->dev.ops = &pl011_ops;
	p->dev.name = "pl011";
	device_add_region(&p->dev, BUS_MMIO, vc->locs[0].addr, 0x1000);
	pl_reset_locked(p);
	chardev_set_quit(p->cd, quit_hook, p);
	chardev_set_rx(p->cd, rx_hook, &p->dev);
	*out = &p->dev;
	return 0;
}

/* No default location: QNX requires loc and intr for MMIO devices. */
const struct vdev_type pl011_type = {
	.name = "pl011",
	.class = VDEV_PLATFORM,
	.supported = true,
	.needs_intr = true,
	.allow_hostdev = true,
	.loc_space = LOC_MEM,
	.region_len = 0x1000,
	.opts = pl011_opts,
	.create = pl011_create,
};

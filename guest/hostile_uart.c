/* Hostile UARTs: the 16550 at COM2 (port I/O through ring 0) and the
 * PL011 (MMIO from ring 3) get every register with every value, FIFO
 * overflows and divisor games; each must still loop a byte back
 * afterwards. COM1, the guest's own console, gets the gentler treatment
 * and proves itself by carrying the results that follow.
 */
#include "hostile.h"

#define COM2 0x2f8
#define LCR_DLAB 0x80
#define MCR_LOOP 0x10
#define LSR_DR   0x01
#define LSR_OE   0x02
#define LSR_THRE 0x20

static void com_init(u16 base, u8 mcr)
{
	houtb(base + 1, 0x00);
	houtb(base + 3, LCR_DLAB);
	houtb(base + 0, 0x01);
	houtb(base + 1, 0x00);
	houtb(base + 3, 0x03);
	houtb(base + 2, 0x07);   /* FIFO on, both cleared */
	houtb(base + 4, mcr);
}

/* Drains RX; returns the number of bytes read (at most 64). */
static u32 com_drain(u16 base, u8 *out)
{
	u32 n = 0;
	while (n < 64 && (hinb(base + 5) & LSR_DR)) {
		u8 b = hinb(base);
		if (out)
			out[n] = b;
		n++;
	}
	return n;
}

/* Loopback: a byte written comes back on RBR. */
static int com_echo(u16 base, const char *who)
{
	com_init(base, MCR_LOOP | 0x03);
	com_drain(base, NULL);
	for (u32 i = 0; i < 1000 && !(hinb(base + 5) & LSR_THRE); i++)
		;
	houtb(base, 0xa7);
	u8 got = 0;
	u32 n = com_drain(base, &got);
	houtb(base + 4, 0x03);
	if (n != 1 || got != 0xa7)
		return hfail("%s: loopback gave %u bytes (0x%x) instead of 0xa7",
			     who, n, got);
	return 0;
}

/* Every register, every value, with DLAB off and on. Output goes in
 * loopback half the time, to COM2's host side the other half. */
int hostile_uart_registers(void)
{
	for (u32 pass = 0; pass < 2; pass++) {
		for (u32 reg = 0; reg < 8; reg++) {
			for (u32 v = 0; v < 256; v++) {
				houtb(COM2 + 3, pass ? LCR_DLAB | 0x03 : 0x03);
				houtb((u16)(COM2 + reg), (u8)v);
				(void)hinb((u16)(COM2 + reg));
			}
		}
	}
	return com_echo(COM2, "com2");
}

/* 64 bytes into a 16-byte FIFO in loopback, then with the FIFO off:
 * overrun flagged, the oldest bytes kept, nothing beyond the FIFO. */
int hostile_uart_fifo_overflow(void)
{
	u8 got[64];
	com_init(COM2, MCR_LOOP | 0x03);
	com_drain(COM2, NULL);
	for (u32 i = 0; i < 64; i++)
		houtb(COM2, (u8)i);
	u8 lsr = hinb(COM2 + 5);
	u32 n = com_drain(COM2, got);
	if (!(lsr & LSR_OE) || n == 0 || n > 17 || got[0] != 0)
		return hfail("com2 fifo: lsr 0x%x, %u bytes, first 0x%x", lsr, n,
			     got[0]);
	hnote("com2: %u of 64 bytes kept, lsr 0x%x", n, lsr);
	houtb(COM2 + 2, 0x00);   /* FIFO off: one holding register */
	for (u32 i = 0; i < 8; i++)
		houtb(COM2, (u8)(0x40 + i));
	n = com_drain(COM2, got);
	if (n != 1)
		return hfail("com2 without fifo: %u bytes", n);
	return com_echo(COM2, "com2");
}

/* Divisor 0 and 0xFFFF, DLAB left on while data moves, DLAB toggled
 * between bytes. */
int hostile_uart_divisor(void)
{
	static const u16 divs[] = { 0, 0xffff, 0x8000, 1 };
	for (u32 i = 0; i < 4; i++) {
		houtb(COM2 + 3, LCR_DLAB | 0x03);
		houtb(COM2 + 0, (u8)divs[i]);
		houtb(COM2 + 1, (u8)(divs[i] >> 8));
		if (hinb(COM2 + 0) != (u8)divs[i] || hinb(COM2 + 1) != (u8)(divs[i] >> 8))
			return hfail("com2: divisor 0x%x does not read back", divs[i]);
		houtb(COM2 + 4, MCR_LOOP);
		houtb(COM2 + 3, 0x03);
		houtb(COM2, 0x11);
		houtb(COM2 + 3, LCR_DLAB);
		(void)hinb(COM2);
		houtb(COM2 + 3, 0x03);
		com_drain(COM2, NULL);
	}
	return com_echo(COM2, "com2");
}

/* COM1 carries our output: scratch register, interrupt enables, FIFO
 * control, line control and divisor games, all put back before the next
 * print, which is the check (the test looks for every RESULT line). */
int hostile_uart_com1(void)
{
	for (u32 v = 0; v < 256; v++) {
		houtb(COM1 + 7, (u8)v);
		if (hinb(COM1 + 7) != v)
			return hfail("com1 scratch 0x%x reads 0x%x", v, hinb(COM1 + 7));
	}
	houtb(COM1 + 1, 0xff);
	houtb(COM1 + 5, 0xff);   /* LSR, MSR: read-only */
	houtb(COM1 + 6, 0xff);
	houtb(COM1 + 2, 0xc7);
	houtb(COM1 + 2, 0x00);
	houtb(COM1 + 3, LCR_DLAB | 0x7f);
	houtb(COM1 + 0, 0);
	houtb(COM1 + 1, 0);
	(void)hinb(COM1 + 2);
	houtb(COM1 + 3, 0x40);   /* break */
	/* back to 115200 8n1, polled, DTR|RTS */
	houtb(COM1 + 3, LCR_DLAB);
	houtb(COM1 + 0, 1);
	houtb(COM1 + 1, 0);
	houtb(COM1 + 3, 0x03);
	houtb(COM1 + 1, 0);
	houtb(COM1 + 4, 0x03);
	u8 lsr = hinb(COM1 + 5);
	if (!(lsr & LSR_THRE))
		return hfail("com1 lsr 0x%x: transmitter not empty", lsr);
	write_str("hostile: com1 still transmits\n");
	return 0;
}

/* ---- PL011 ---- */

#define PL_DR    0x000
#define PL_RSR   0x004
#define PL_FR    0x018
#define PL_IBRD  0x024
#define PL_FBRD  0x028
#define PL_LCRH  0x02c
#define PL_CR    0x030
#define PL_IMSC  0x038
#define PL_ICR   0x044
#define FR_BUSY  0x08
#define FR_RXFE  0x10
#define FR_TXFF  0x20

static u64 pl_base(void)
{
	return param_u64("pl011", 0xfe001000);
}

static u32 pl_rd(u32 off)
{
	return mmio_read32(pl_base() + off);
}

static void pl_wr(u32 off, u32 v)
{
	mmio_write32(pl_base() + off, v);
}

static void pl_setup(u32 cr)
{
	pl_wr(PL_CR, 0);
	pl_wr(PL_IMSC, 0);
	pl_wr(PL_ICR, 0x7ff);
	pl_wr(PL_IBRD, 13);
	pl_wr(PL_FBRD, 1);
	pl_wr(PL_LCRH, 0x70);   /* 8 bits, FIFO on */
	pl_wr(PL_RSR, 0);
	pl_wr(PL_CR, cr);
}

static u32 pl_drain(u8 *out)
{
	u32 n = 0;
	while (n < 64 && !(pl_rd(PL_FR) & FR_RXFE)) {
		u32 d = pl_rd(PL_DR);
		if (out)
			out[n] = (u8)d;
		n++;
	}
	return n;
}

/* Identity registers and a loopback byte. */
static int pl_check(void)
{
	static const u8 id[8] = { 0x11, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1 };
	for (u32 i = 0; i < 8; i++) {
		u32 v = pl_rd(0xfe0 + 4 * i) & 0xff;
		if (i == 2 ? (v & 0xf) != 4 : v != id[i])
			return hfail("pl011 id register 0x%x reads 0x%x",
				     0xfe0 + 4 * i, v);
	}
	pl_setup(0x0381);   /* UARTEN | LBE | TXE | RXE */
	pl_drain(NULL);
	pl_wr(PL_DR, 0x5a);
	u8 got = 0;
	u32 n = pl_drain(&got);
	pl_wr(PL_CR, 0x0301);
	if (n != 1 || got != 0x5a)
		return hfail("pl011 loopback: %u bytes (0x%x)", n, got);
	return 0;
}

/* Every register 0x000-0x048 with every byte value (replicated over the
 * word), the rest of the page with all-ones and zero, and 8/16-bit
 * accesses the PL011 does not define. */
int hostile_pl011_registers(void)
{
	u64 b = pl_base();
	for (u32 off = 0; off <= 0x48; off += 4)
		for (u32 v = 0; v < 256; v++) {
			mmio_write32(b + off, v * 0x01010101u);
			(void)mmio_read32(b + off);
		}
	for (u32 off = 0x4c; off < 0x1000; off += 4) {
		mmio_write32(b + off, 0xffffffff);
		mmio_write32(b + off, 0);
	}
	for (u32 off = 0; off < 0x50; off++) {
		mmio_write8(b + off, 0xff);
		if (!(off & 1))
			mmio_write16(b + off, 0xffff);
		(void)mmio_read8(b + off);
	}
	return pl_check();
}

/* 64 bytes into the 16-entry RX FIFO in loopback without reading, and 200
 * bytes to TX without looking at TXFF. */
int hostile_pl011_fifo_overflow(void)
{
	u8 got[64];
	pl_setup(0x0381);
	pl_drain(NULL);
	for (u32 i = 0; i < 64; i++)
		pl_wr(PL_DR, i);
	u32 rsr = pl_rd(PL_RSR);
	u32 n = pl_drain(got);
	if (n == 0 || n > 33 || got[0] != 0)
		return hfail("pl011 fifo: %u bytes, first 0x%x, rsr 0x%x", n,
			     got[0], rsr);
	hnote("pl011: %u of 64 bytes kept, rsr 0x%x", n, rsr);
	pl_setup(0x0301);
	for (u32 i = 0; i < 200; i++)
		pl_wr(PL_DR, 'a' + i % 26);
	pl_wr(PL_DR, '\n');
	return pl_check();
}

/* Baud divisors of zero and out of range, latched and not. */
int hostile_pl011_baud(void)
{
	static const u32 ib[] = { 0, 0xffff, 0x10000, 1 };
	static const u32 fb[] = { 0, 0xff, 63, 64 };
	for (u32 i = 0; i < 4; i++) {
		pl_wr(PL_CR, 0);
		pl_wr(PL_IBRD, ib[i]);
		pl_wr(PL_FBRD, fb[i]);
		if (i & 1)
			pl_wr(PL_LCRH, 0x70);
		pl_wr(PL_CR, 0x0381);
		pl_wr(PL_DR, 0x33);
		pl_drain(NULL);
	}
	return pl_check();
}

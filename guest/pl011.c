/* pl011 workload: drive an ARM PrimeCell UART (PL011, ARM DDI 0183) at an
 * MMIO base from ring 3: identify it, print a line, check loopback, and
 * check that its receive interrupt arrives through the IOAPIC. The ring-0
 * part is only the interrupt handler, pl011_irq(). */
#include "guest.h"

#define DR     0x000
#define RSR    0x004
#define FR     0x018
#define IBRD   0x024
#define FBRD   0x028
#define LCR_H  0x02c
#define CR     0x030
#define IFLS   0x034
#define IMSC   0x038
#define RIS    0x03c
#define MIS    0x040
#define ICR    0x044
#define DMACR  0x048
#define PERIPHID0 0xfe0
#define CELLID0   0xff0

#define FR_BUSY (1u << 3)
#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)
#define FR_RXFF (1u << 6)
#define FR_TXFE (1u << 7)

#define LCR_H_FEN   (1u << 4)
#define LCR_H_WLEN8 (3u << 5)

#define CR_UARTEN (1u << 0)
#define CR_LBE    (1u << 7)
#define CR_TXE    (1u << 8)
#define CR_RXE    (1u << 9)

#define INT_RX  (1u << 4)
#define INT_TX  (1u << 5)
#define INT_RT  (1u << 6)
#define INT_ALL 0x7ff

#define IOAPIC_SEL 0x00
#define IOAPIC_WIN 0x10
#define IOAPIC_REDTBL(pin) (0x10 + 2 * (pin))
#define RTE_MASKED (1u << 16)
#define RTE_LEVEL  (1u << 15)

volatile u64 pl011_irq_base;
volatile u32 pl011_irq_count;
volatile u32 pl011_irq_mis;

static u64 base;

static u32 rd(u32 off)
{
	return mmio_read32(base + off);
}

static void wr(u32 off, u32 v)
{
	mmio_write32(base + off, v);
}

/* Ring 0: acknowledge at the device first so the level-triggered line
 * drops before the EOI; drain the received byte for the same reason. */
void pl011_irq(void)
{
	u64 b = pl011_irq_base;
	if (!b)
		return;
	u32 mis = mmio_read32(b + MIS);
	if (mis & (INT_RX | INT_RT))
		(void)mmio_read32(b + DR);
	mmio_write32(b + ICR, mis ? mis : INT_ALL);
	pl011_irq_mis |= mis;
	pl011_irq_count++;
}

/* Poll FR (each read is an exit) until (FR & mask) == want, or timeout. */
static bool wait_fr(u32 mask, u32 want, u64 ms)
{
	u64 end = rdtsc() + ms_to_tsc(ms);
	do {
		if ((rd(FR) & mask) == want)
			return true;
		delay_us(10);
	} while (rdtsc() < end);
	return false;
}

static bool putc_pl011(char c)
{
	if (!wait_fr(FR_TXFF, 0, 100))
		return false;
	wr(DR, (u8)c);
	return true;
}

static void drain_rx(void)
{
	for (int i = 0; i < 64 && !(rd(FR) & FR_RXFE); i++)
		(void)rd(DR);
}

static bool check_id(void)
{
	static const u8 cell[4] = { 0x0d, 0xf0, 0x05, 0xb1 };
	u32 p[4], c[4];
	for (int i = 0; i < 4; i++) {
		p[i] = rd(PERIPHID0 + 4 * i) & 0xff;
		c[i] = rd(CELLID0 + 4 * i) & 0xff;
	}
	printf("pl011: periphid=%02x %02x %02x %02x cellid=%02x %02x %02x %02x\n",
	       p[0], p[1], p[2], p[3], c[0], c[1], c[2], c[3]);
	/* PeriphID2 bits 7:4 are the revision (r1p5 = 3), bits 3:0 the
	 * designer's high nibble (ARM = 0x41 -> 4). */
	bool ok = p[0] == 0x11 && p[1] == 0x10 && (p[2] & 0x0f) == 0x04 &&
		  p[3] == 0x00;
	for (int i = 0; i < 4; i++)
		ok = ok && c[i] == cell[i];
	return ok;
}

static void ioapic_write(u32 reg, u32 v)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_SEL, reg);
	mmio_write32(IOAPIC_BASE + IOAPIC_WIN, v);
}

static u32 ioapic_read(u32 reg)
{
	mmio_write32(IOAPIC_BASE + IOAPIC_SEL, reg);
	return mmio_read32(IOAPIC_BASE + IOAPIC_WIN);
}

/* Highest pin number, from the IOAPIC version register. */
u32 ioapic_pins(void)
{
	return (ioapic_read(1) >> 16) & 0xff;
}

/* Route pin to vector on the BSP: fixed, physical, active high; the
 * destination is written before the unmasking low half. */
void ioapic_route(u32 pin, u32 vector, bool level)
{
	u32 apic_id = mmio_read32(LAPIC_BASE + 0x20) >> 24;
	ioapic_write(IOAPIC_REDTBL(pin) + 1, apic_id << 24);
	ioapic_write(IOAPIC_REDTBL(pin), (level ? RTE_LEVEL : 0) | vector);
}

void ioapic_mask(u32 pin)
{
	ioapic_write(IOAPIC_REDTBL(pin), RTE_MASKED);
}

static bool check_loopback(void)
{
	drain_rx();
	wr(DR, 0x5a);
	if (!wait_fr(FR_RXFE, 0, 200))
		return false;
	u32 v = rd(DR);
	/* Bits 11:8 are the OE/BE/PE/FE error flags. */
	if ((v & 0xfff) != 0x5a) {
		printf("pl011: loopback read 0x%x\n", v);
		return false;
	}
	return true;
}

static bool check_irq(u32 pin)
{
	u32 maxpin = ioapic_pins();
	if (pin > maxpin) {
		printf("pl011: irq %u beyond IOAPIC pins 0..%u\n", pin, maxpin);
		return false;
	}
	lapic_enable();
	pl011_irq_count = 0;
	pl011_irq_mis = 0;
	pl011_irq_base = base;

	/* Without the FIFO a single received byte raises RXRIS; RTIM covers
	 * a model that only reports the timeout with the FIFO on. */
	wr(LCR_H, LCR_H_WLEN8);
	drain_rx();
	wr(ICR, INT_ALL);
	ioapic_route(pin, VEC_DEVICE, true);
	svc(SVC_IRQ, 1, 0, 0);
	wr(IMSC, INT_RX | INT_RT);

	wr(DR, 0xa5);
	u64 end = rdtsc() + ms_to_tsc(500);
	while (!pl011_irq_count && rdtsc() < end)
		cpu_relax();

	wr(IMSC, 0);
	svc(SVC_IRQ, 0, 0, 0);
	ioapic_mask(pin);
	pl011_irq_base = 0;
	printf("pl011: irq pin=%u vector=0x%x count=%u mis=0x%x ris=0x%x\n",
	       pin, VEC_DEVICE, pl011_irq_count, pl011_irq_mis, rd(RIS));
	return pl011_irq_count > 0 && (pl011_irq_mis & (INT_RX | INT_RT));
}

int wl_pl011(void)
{
	base = param_u64("base", 0xfe001000);
	u32 pin = (u32)param_u64("irq", 5);

	bool id = check_id();

	/* Disable, wait for the transmitter, then program 115200 8n1 for a
	 * 24 MHz UARTCLK (divisor 13.02: IBRD 13, FBRD 1) with FIFOs.
	 * LCR_H is written after the divisors: that write latches them. */
	wr(CR, 0);
	wait_fr(FR_BUSY, 0, 100);
	wr(IMSC, 0);
	wr(ICR, INT_ALL);
	wr(DMACR, 0);
	wr(IBRD, 13);
	wr(FBRD, 1);
	wr(LCR_H, LCR_H_WLEN8 | LCR_H_FEN);
	wr(IFLS, 0);   /* 1/8 full: interrupt as early as possible */
	wr(RSR, 0);    /* clear receive errors */
	wr(CR, CR_UARTEN | CR_TXE | CR_RXE);

	bool tx = true;
	for (const char *s = "pl011: hello\n"; *s && tx; s++)
		tx = putc_pl011(*s);
	if (!tx)
		printf("pl011: transmit FIFO stayed full\n");
	wait_fr(FR_BUSY, 0, 100);

	wr(CR, CR_UARTEN | CR_TXE | CR_RXE | CR_LBE);
	bool loop = tx && check_loopback();
	bool irq = check_irq(pin);
	wr(CR, CR_UARTEN | CR_TXE | CR_RXE);

	printf("RESULT pl011 id=%s loopback=%s irq=%s\n", id ? "ok" : "fail",
	       loop ? "ok" : "fail", irq ? "ok" : "fail");
	return id && loop && irq ? 0 : 1;
}

/* pc-testdev: QEMU's ISA test device as kvm-unit-tests drives it. The
 * 32-bit scratch register at io 0xe0 in every width, its byte-wise view
 * at 0xe8, the flush-page port 0xe4, the 64 KiB IORAM at 0xff000000 (MMIO
 * from ring 3, every width, a read-modify-write instruction), and an
 * interrupt line raised through io 0x2000 + irq= (default 5) and taken by
 * the IOAPIC -> LAPIC -> ring 0 path: edge-triggered, so a second
 * interrupt proves the line went down in between.
 *
 * Prints RESULT pc-testdev scratch=1 ioram=1 irq=N irqs=2 ok=1. Runs the
 * same under cvisor and QEMU -M pc (-device pc-testdev).
 */
#include "guest.h"

#define IORAM 0xff000000ull

static u32 in(u16 port, int size)
{
	return (u32)svc(SVC_IN, port, size, 0);
}

static void out(u16 port, int size, u32 v)
{
	svc(SVC_OUT, port, size, v);
}

static int fail(const char *what, u64 got, u64 want)
{
	printf("pc-testdev: %s: got 0x%lx, want 0x%lx\n", what, got, want);
	printf("RESULT pc-testdev ok=0\n");
	return 1;
}

static int check_scratch(void)
{
	out(0xe0, 4, 0x12345678);
	if (in(0xe0, 4) != 0x12345678)
		return fail("scratch dword", in(0xe0, 4), 0x12345678);
	if (in(0xe1, 1) != 0x56 || in(0xe2, 2) != 0x1234)
		return fail("scratch byte/word lanes", in(0xe1, 1) << 16 |
			    in(0xe2, 2), 0x561234);
	out(0xe2, 2, 0xabcd);
	if (in(0xe0, 4) != 0xabcd5678)
		return fail("scratch after a word write", in(0xe0, 4),
			    0xabcd5678);
	/* 0xe8-0xeb is the same register, byte-wise. */
	if (in(0xe8, 1) != 0x78 || in(0xe8, 4) != 0xabcd5678)
		return fail("byte view", in(0xe8, 4), 0xabcd5678);
	out(0xeb, 1, 0x11);
	if (in(0xe0, 4) != 0x11cd5678)
		return fail("scratch after a byte write at 0xeb", in(0xe0, 4),
			    0x11cd5678);
	/* Flush page: accepted; the page stays what it was. */
	volatile u32 *page = heap_alloc(4096, 4096);
	if (!page)
		return fail("no memory for the flush page", 0, 1);
	page[1] = 0xfeedf00d;
	out(0xe4, 4, (u32)(u64)page);
	if (page[1] != 0xfeedf00d)
		return fail("page after a flush", page[1], 0xfeedf00d);
	return 0;
}

static int check_ioram(void)
{
	volatile u8 *b = phys(IORAM);
	volatile u16 *w = phys(IORAM + 0x102);
	volatile u32 *d = phys(IORAM + 0x204);
	volatile u64 *q = phys(IORAM + 0xfff8);

	if (*(volatile u32 *)phys(IORAM + 0x800) != 0)
		return fail("untouched IORAM", *(volatile u32 *)phys(IORAM + 0x800), 0);
	b[0] = 0x5a;
	*w = 0xbeef;
	*d = 0xc0ffee11;
	*q = 0x0123456789abcdefull;
	if (b[0] != 0x5a || *w != 0xbeef || *d != 0xc0ffee11 ||
	    *q != 0x0123456789abcdefull)
		return fail("IORAM read-back", *q, 0x0123456789abcdefull);
	/* Narrower reads of what a wider write stored. */
	if (*(volatile u8 *)phys(IORAM + 0xffff) != 0x01 ||
	    *(volatile u16 *)phys(IORAM + 0x204) != 0xee11)
		return fail("IORAM lanes", *(volatile u8 *)phys(IORAM + 0xffff),
			    0x01);
	/* A read-modify-write instruction on MMIO: emulated by the VMM. */
	__asm__ volatile("addl $0x10, %0" : "+m"(*d));
	if (*d != 0xc0ffee21)
		return fail("IORAM after addl", *d, 0xc0ffee21);
	return 0;
}

static bool wait_irqs(u32 n)
{
	u64 end = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 2000));
	while (line_irq_count < n && rdtsc() < end)
		cpu_relax();
	return line_irq_count >= n;
}

static int check_irq(u32 pin)
{
	if (pin > ioapic_pins())
		return fail("irq beyond the IOAPIC's pins", pin, ioapic_pins());
	lapic_enable();
	ioapic_route(pin, VEC_LINE, false);
	line_irq_count = 0;
	svc(SVC_IRQ, 1, 0, 0);
	out((u16)(0x2000 + pin), 1, 1);
	bool first = wait_irqs(1);
	out((u16)(0x2000 + pin), 1, 0);
	/* Any nonzero byte raises the line (!!data). */
	out((u16)(0x2000 + pin), 1, 0x80);
	bool second = first && wait_irqs(2);
	out((u16)(0x2000 + pin), 1, 0);
	svc(SVC_IRQ, 0, 0, 0);
	ioapic_mask(pin);
	if (!second)
		return fail("interrupts taken", line_irq_count, 2);
	return 0;
}

int wl_pc_testdev(void)
{
	u32 pin = (u32)param_u64("irq", 5);
	if (check_scratch() || check_ioram() || check_irq(pin))
		return 1;
	printf("RESULT pc-testdev scratch=1 ioram=1 irq=%u irqs=%u ok=1\n",
	       pin, line_irq_count);
	return 0;
}

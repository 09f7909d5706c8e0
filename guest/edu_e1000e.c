/* e1000e-msix: MSI-X of a passed device, with QEMU's e1000e (8086:10d3)
 * in the pass-through rig (scripts/nested-kvm.sh --iommu-edu). The MSI-X
 * table and PBA are in BAR3 (trapped by cvisor, emulated by its pci_msix);
 * the device's "other" cause is routed to vector 2 (IVAR) and raised by
 * writing the link-status bit to ICS. Checks: two interrupts on vector 2;
 * with the vector masked none arrives and its PBA bit is set; at unmask
 * the pending one arrives. Shares vector 0x33 and its counter with edu.c.
 * Then the I/O BAR (forwarded by cvisor): STATUS read through IOADDR/
 * IODATA equals STATUS read through the memory BAR; and the expansion
 * ROM (the device's own, QEMU's efi-e1000e.rom) starts with 55 aa.
 *
 * RESULT e1000e-msix vectors=5 irqs=2 masked_pending=1 unmasked=1 io=1
 *        rom=SIZE ok=1
 */
#include "guest.h"

#define E1000E_ID   0x10d38086u
#define REG_IMC     0x00d8
#define REG_IMS     0x00d0
#define REG_ICS     0x00c8
#define REG_ICR     0x00c0
#define REG_IVAR    0x00e4
#define ICR_LSC     (1u << 2)
#define ICR_OTHER   (1u << 24)
#define VEC         2

extern volatile u32 edu_irq_count;
static u32 bdf;
static u64 regs, table, pba;

static u32 cfg_read(u32 reg, u32 size)
{
	return (u32)svc(SVC_PCI_READ, bdf | reg, size, 0);
}

static void cfg_write(u32 reg, u32 size, u32 val)
{
	svc(SVC_PCI_WRITE, bdf | reg, size, val);
}

static int fail(const char *what, u64 got, u64 want)
{
	printf("e1000e-msix: %s: got 0x%lx, want 0x%lx\n", what, got, want);
	printf("RESULT e1000e-msix ok=0\n");
	return 1;
}

static u64 bar_addr(u32 n)
{
	u32 lo = cfg_read(0x10 + 4 * n, 4);
	u64 a = lo & ~0xfull;

	if ((lo & 6) == 4)
		a |= (u64)cfg_read(0x14 + 4 * n, 4) << 32;
	return a;
}

static bool wait_count(u32 n, u64 ms)
{
	u64 end = rdtsc() + ms_to_tsc(ms);

	while (edu_irq_count < n && rdtsc() < end)
		cpu_relax();
	return edu_irq_count >= n;
}

/* IOADDR at +0 selects a register, IODATA at +4 reads it. */
static int check_io(void)
{
	u32 bar = 0, io;

	for (u32 n = 0; n < 6 && !bar; n++)
		if ((cfg_read(0x10 + 4 * n, 4) & 3) == 1)
			bar = 0x10 + 4 * n;
	if (!bar)
		return fail("an I/O BAR", 0, 1);
	io = cfg_read(bar, 4) & ~3u;
	cfg_write(0x04, 2, cfg_read(0x04, 2) | 0x1);
	svc(SVC_OUT, io, 4, 0x0008);                 /* STATUS */
	u32 via_io = (u32)svc(SVC_IN, io + 4, 4, 0);
	u32 via_mem = mmio_read32(regs + 0x0008);
	if (via_io != via_mem || !via_mem)
		return fail("STATUS through the I/O BAR", via_io, via_mem);
	return 0;
}

#define ROM_AT 0xc0800000u

static int check_rom(u32 *size)
{
	volatile u8 *rom = phys(ROM_AT);

	cfg_write(0x30, 4, 0xfffff800);
	*size = ~(cfg_read(0x30, 4) & 0xfffff800) + 1;
	if (!(cfg_read(0x30, 4) & 0xfffff800) || *size > (8u << 20))
		return fail("ROM BAR sizing", cfg_read(0x30, 4), 0xfffff800);
	cfg_write(0x30, 4, ROM_AT | 1);
	if (rom[0] != 0x55 || rom[1] != 0xaa)
		return fail("ROM signature", rom[0] | rom[1] << 8, 0xaa55);
	cfg_write(0x30, 4, 0);
	return 0;
}

static void raise(void)
{
	mmio_write32(regs + REG_ICR, 0xffffffff);      /* clear what was */
	mmio_write32(regs + REG_ICS, ICR_LSC);
}

int wl_e1000e_msix(void)
{
	u32 off, n, t, b, apic = mmio_read32(LAPIC_BASE + 0x20) >> 24;

	for (bdf = 0x80000000u; bdf < 0x80010000u; bdf += 1u << 11)
		if (cfg_read(0, 4) == E1000E_ID)
			break;
	if (bdf >= 0x80010000u)
		return fail("e1000e on bus 0", 0, E1000E_ID);
	off = cfg_read(0x34, 1) & ~3u;
	for (int i = 0; off >= 0x40 && i < 48 && cfg_read(off, 1) != 0x11; i++)
		off = cfg_read(off + 1, 1) & ~3u;
	if (off < 0x40 || cfg_read(off, 1) != 0x11)
		return fail("MSI-X capability", off, 0x11);
	n = (cfg_read(off + 2, 2) & 0x7ff) + 1;
	t = cfg_read(off + 4, 4);
	b = cfg_read(off + 8, 4);
	cfg_write(0x04, 2, cfg_read(0x04, 2) | 0x6);
	regs = bar_addr(0);
	table = bar_addr(t & 7) + (t & ~7u);
	pba = bar_addr(b & 7) + (b & ~7u);
	printf("e1000e-msix: %02x.0 regs 0x%lx, %u vectors, table 0x%lx, "
	       "pba 0x%lx\n", (bdf >> 11) & 0x1f, regs, n, table, pba);
	if (n <= VEC)
		return fail("vectors", n, VEC + 1);
	for (u32 i = 0; i < n; i++)
		mmio_write32(table + 16 * i + 12, 1);          /* masked */
	mmio_write32(table + 16 * VEC, 0xfee00000u | apic << 12);
	mmio_write32(table + 16 * VEC + 4, 0);
	mmio_write32(table + 16 * VEC + 8, VEC_EDU);
	mmio_write32(table + 16 * VEC + 12, 0);             /* unmasked */
	cfg_write(off + 2, 2, 0x8000);                      /* enable */
	lapic_enable();
	svc(SVC_IRQ, 1, 0, 0);
	mmio_write32(regs + REG_IMC, 0xffffffff);
	mmio_write32(regs + REG_IVAR, (0x8u | VEC) << 16);  /* other: VEC */
	mmio_write32(regs + REG_IMS, ICR_LSC | ICR_OTHER);
	edu_irq_count = 0;
	raise();
	if (!wait_count(1, 5000))
		return fail("first interrupt", edu_irq_count, 1);
	raise();
	if (!wait_count(2, 5000))
		return fail("second interrupt", edu_irq_count, 2);
	/* masked: nothing arrives, the PBA says pending; unmask delivers */
	mmio_write32(table + 16 * VEC + 12, 1);
	raise();
	if (wait_count(3, 300))
		return fail("interrupt while masked", edu_irq_count, 2);
	u64 end = rdtsc() + ms_to_tsc(5000);
	while (!(mmio_read32(pba) & (1u << VEC)) && rdtsc() < end)
		delay_us(1000);
	if (!(mmio_read32(pba) & (1u << VEC)))
		return fail("PBA pending bit", mmio_read32(pba), 1u << VEC);
	mmio_write32(table + 16 * VEC + 12, 0);
	if (!wait_count(3, 5000))
		return fail("the pending interrupt at unmask", edu_irq_count, 3);
	svc(SVC_IRQ, 0, 0, 0);
	cfg_write(off + 2, 2, 0);
	u32 rom = 0;
	if (check_io() || check_rom(&rom))
		return 1;
	printf("RESULT e1000e-msix vectors=%u irqs=2 masked_pending=1 "
	       "unmasked=1 io=1 rom=%u ok=1\n", n, rom);
	return 0;
}

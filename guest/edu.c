/* edu: a driver for QEMU's educational PCI device (1234:11e8), passed
 * through to the guest by cvisor's `pass` (or QEMU's vfio-pci) in the
 * nested rig (scripts/nested-kvm.sh --iommu-edu). Checks, in order:
 * identification (0x010000ed), liveness (the inverse of what is written),
 * factorial, an interrupt raised twice through INTx (IOAPIC, level) and
 * twice through MSI, DMA from guest RAM to the device and back with
 * every byte checked, and two DMAs aimed outside guest RAM that the IOMMU
 * must stop (reported for the host to see its faults). Also measures the
 * cost of a BAR read and the interrupt latency (raise to handler).
 *
 * edu's limits (QEMU 7.2): its DMA addresses are masked to 28 bits (the
 * buffers stay below 256 MiB: the heap is, with ram up to that), and a
 * transfer ending exactly at its 4 KiB buffer's end aborts QEMU: every
 * transfer here ends below 0xfff.
 *
 *   edu [outside=ADDR] [reads=N] [irqs=N] [rom=1]
 * RESULT edu id=0x010000ed live=1 fact=1 intx=2 msi=2 dma=1 outside=ADDR
 *        outside_bytes=0xXX read_ns=N intx_ns=N msi_ns=N rom=SIZE ok=1
 * rom=1 also reads the expansion ROM (a romfile beginning 55 aa
 * "cvisor-rom"); rom=0 in the result when not asked.
 */
#include "guest.h"

#define EDU_VENDOR   0x1234
#define EDU_DEVICE   0x11e8
#define EDU_ID       0x00
#define EDU_LIVE     0x04
#define EDU_FACT     0x08
#define EDU_STATUS   0x20
#define EDU_IRQ_STAT 0x24
#define EDU_IRQ_RAISE 0x60
#define EDU_IRQ_ACK  0x64
#define EDU_DMA_SRC  0x80
#define EDU_DMA_DST  0x88
#define EDU_DMA_CNT  0x90
#define EDU_DMA_CMD  0x98
#define EDU_BUF      0x40000u   /* the device's 4 KiB buffer */
#define DMA_START    0x1
#define DMA_TO_RAM   0x2
#define DMA_IRQ      0x4

#define CAP_ID_MSI   0x05
#define MSI_ADDR     0xfee00000u

/* Shared with the ring-0 handler (all pages are user-accessible). */
volatile u64 edu_bar;
volatile u32 edu_irq_count, edu_irq_status;
volatile u64 edu_irq_tsc;

/* Ring 0, VEC_EDU: take the status, acknowledge it (the INTx line drops
 * with it), count. */
void edu_irq(void)
{
	u32 st;

	edu_irq_tsc = rdtsc();
	if (edu_bar) {          /* else: e1000e-msix, which acks itself */
		st = mmio_read32(edu_bar + EDU_IRQ_STAT);
		mmio_write32(edu_bar + EDU_IRQ_ACK, st);
		edu_irq_status = st;
	}
	edu_irq_count++;
}

static u32 bdf;

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
	printf("edu: %s: got 0x%lx, want 0x%lx\n", what, got, want);
	printf("RESULT edu ok=0\n");
	return 1;
}

static u32 rd(u32 off)
{
	return mmio_read32(edu_bar + off);
}

static void wr(u32 off, u32 v)
{
	mmio_write32(edu_bar + off, v);
}

static bool find_edu(void)
{
	for (u32 dev = 0; dev < 32; dev++) {
		bdf = 0x80000000u | dev << 11;
		if (cfg_read(0, 4) == (EDU_DEVICE << 16 | EDU_VENDOR))
			return true;
	}
	return false;
}

static u64 tsc_to_ns(u64 t)
{
	return t * 1000000 / tsc_khz(NULL);
}

static bool wait_count(u32 n)
{
	u64 end = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 5000));

	while (edu_irq_count < n && rdtsc() < end)
		cpu_relax();
	return edu_irq_count >= n;
}

/* Raise n interrupts of value v, each taken and acknowledged before the
 * next: the second proves the line (or vector) works again after an EOI.
 * Returns the mean raise-to-handler time in TSC ticks, 0 on failure. */
static u64 raise_irqs(u32 n, u32 v)
{
	u64 sum = 0;

	edu_irq_count = 0;
	for (u32 i = 0; i < n; i++) {
		u64 t0 = rdtsc();

		wr(EDU_IRQ_RAISE, v);
		if (!wait_count(i + 1) || edu_irq_status != v)
			return 0;
		sum += edu_irq_tsc - t0;
	}
	return sum / n + 1;
}

static bool wait_dma(void)
{
	u64 end = rdtsc() + ms_to_tsc(param_u64("timeout_ms", 5000));

	while ((rd(EDU_DMA_CMD) & DMA_START) && rdtsc() < end)
		delay_us(100);
	return !(rd(EDU_DMA_CMD) & DMA_START);
}

static bool dma(u64 ram, u32 dev_off, u32 len, bool to_ram)
{
	wr(EDU_DMA_SRC, to_ram ? EDU_BUF + dev_off : (u32)ram);
	wr(EDU_DMA_DST, to_ram ? (u32)ram : EDU_BUF + dev_off);
	wr(EDU_DMA_CNT, len);
	wr(EDU_DMA_CMD, DMA_START | (to_ram ? DMA_TO_RAM : 0));
	return wait_dma();
}

static int check_basics(void)
{
	u64 fact = 1;

	if (rd(EDU_ID) != 0x010000ed)
		return fail("identification", rd(EDU_ID), 0x010000ed);
	wr(EDU_LIVE, 0x12345678);
	if (rd(EDU_LIVE) != ~0x12345678u)
		return fail("liveness", rd(EDU_LIVE), ~0x12345678u);
	wr(EDU_FACT, 10);
	u64 end = rdtsc() + ms_to_tsc(2000);
	while ((rd(EDU_STATUS) & 1) && rdtsc() < end)
		cpu_relax();
	for (u32 i = 2; i <= 10; i++)
		fact *= i;
	if (rd(EDU_FACT) != fact)
		return fail("factorial of 10", rd(EDU_FACT), fact);
	return 0;
}

/* INTx: the line register names the IOAPIC input cvisor wired. */
static int check_intx(u64 *lat)
{
	u32 pin = cfg_read(0x3c, 1);

	if (pin > ioapic_pins())
		return fail("interrupt line", pin, ioapic_pins());
	ioapic_route(pin, VEC_EDU, true);
	*lat = raise_irqs((u32)param_u64("irqs", 2), 0x5a);
	ioapic_mask(pin);
	if (!*lat)
		return fail("INTx interrupts taken (status)", edu_irq_count,
			    param_u64("irqs", 2));
	return 0;
}

static u32 find_cap(u32 id)
{
	u32 off = cfg_read(0x34, 1) & ~3u;

	for (int n = 0; off >= 0x40 && n < 48; n++) {
		if (cfg_read(off, 1) == id)
			return off;
		off = cfg_read(off + 1, 1) & ~3u;
	}
	return 0;
}

static int check_msi(u64 *lat)
{
	u32 m = find_cap(CAP_ID_MSI);
	u32 apic = mmio_read32(LAPIC_BASE + 0x20) >> 24;

	if (!m)
		return fail("MSI capability", 0, 1);
	u16 ctl = (u16)cfg_read(m + 2, 2);
	bool is64 = ctl & 0x80;
	cfg_write(m + 4, 4, MSI_ADDR | apic << 12);
	if (is64)
		cfg_write(m + 8, 4, 0);
	cfg_write(m + (is64 ? 12 : 8), 2, VEC_EDU);
	cfg_write(m + 2, 2, (ctl & ~0x70) | 1);
	*lat = raise_irqs((u32)param_u64("irqs", 2), 0xa5);
	if (!*lat)
		return fail("MSI interrupts taken (status)", edu_irq_count,
			    param_u64("irqs", 2));
	/* DMA completion by MSI too. */
	u32 before = edu_irq_count;
	u8 *b = heap_alloc(64, 64);
	wr(EDU_DMA_SRC, (u32)(u64)b);
	wr(EDU_DMA_DST, EDU_BUF);
	wr(EDU_DMA_CNT, 64);
	wr(EDU_DMA_CMD, DMA_START | DMA_IRQ);
	if (!wait_dma() || !wait_count(before + 1) || edu_irq_status != 0x100)
		return fail("DMA completion interrupt", edu_irq_status, 0x100);
	cfg_write(m + 2, 2, ctl & ~0x71);
	return 0;
}

/* 3000 bytes into the device and back, every byte checked. */
static int check_dma(void)
{
	const u32 len = 3000, off = 0x40;
	u8 *src = heap_alloc(4096, 4096), *dst = heap_alloc(4096, 4096);

	if (!src || !dst || (u64)dst + 4096 > (1ull << 28))
		return fail("DMA buffers below 256 MiB", (u64)dst, 1ull << 28);
	for (u32 i = 0; i < len; i++)
		src[i] = (u8)(i * 7 + 3);
	if (!dma((u64)src, off, len, false))
		return fail("DMA to the device finished", rd(EDU_DMA_CMD), 0);
	if (!dma((u64)dst, off, len, true))
		return fail("DMA from the device finished", rd(EDU_DMA_CMD), 0);
	for (u32 i = 0; i < len; i++)
		if (dst[i] != src[i])
			return fail("DMA byte", i, dst[i]);
	return 0;
}

/* A hostile DMA: read from and write to a guest-physical address that is
 * not RAM. The IOMMU has nothing there: the device reads no data (QEMU
 * gives it zeros) and the host logs both faults. */
static int check_outside(u64 addr, u32 *seen)
{
	u8 *pat = heap_alloc(256, 256), *back = heap_alloc(256, 256);

	for (u32 i = 0; i < 256; i++)
		pat[i] = 0xc3;
	if (!dma((u64)pat, 0x800, 256, false) ||
	    !dma(addr, 0x800, 256, false) ||
	    !dma((u64)back, 0x800, 256, true) ||
	    !dma(addr, 0x900, 64, true))
		return fail("outside DMA finished", rd(EDU_DMA_CMD), 0);
	*seen = back[0];
	for (u32 i = 0; i < 256; i++)
		if (back[i] == 0xc3)
			return fail("outside DMA left the pattern", i, 0);
	return 0;
}

/* The expansion ROM (rom=1: the config gives it a romfile starting with
 * 55 aa "cvisor-rom"): sized and placed through 0x30, enabled, read. */
#define ROM_AT 0xc0800000u

static int check_rom(u32 *size)
{
	const char *want = "cvisor-rom";
	volatile u8 *rom = phys(ROM_AT);

	cfg_write(0x30, 4, 0xfffff800);
	*size = ~(cfg_read(0x30, 4) & 0xfffff800) + 1;
	if (!(cfg_read(0x30, 4) & 0xfffff800) || *size > (8u << 20))
		return fail("ROM BAR sizing", cfg_read(0x30, 4), 0xfffff800);
	cfg_write(0x30, 4, ROM_AT | 1);
	if (rom[0] != 0x55 || rom[1] != 0xaa)
		return fail("ROM signature", rom[0] | rom[1] << 8, 0xaa55);
	for (u32 i = 0; want[i]; i++)
		if (rom[2 + i] != (u8)want[i])
			return fail("ROM bytes", i, rom[2 + i]);
	cfg_write(0x30, 4, ROM_AT);      /* disabled: reads nothing */
	if (*(volatile u32 *)phys(ROM_AT) == 0x7663aa55)
		return fail("ROM still decoding after disable", 1, 0);
	return 0;
}

/* Reads of the identification register: a KVM memory slot (no exit) or
 * a trapped BAR (an exit to cvisor and a pread per read). */
static u64 read_cost(u32 n)
{
	u64 t0 = rdtsc();

	for (u32 i = 0; i < n; i++)
		(void)rd(EDU_ID);
	return (rdtsc() - t0) / (n ? n : 1);
}

int wl_edu(void)
{
	u64 outside = param_u64("outside", 0x0f000000);
	u64 intx = 0, msi = 0, rc;
	u32 seen = 0, rom = 0;

	if (!find_edu())
		return fail("edu device on bus 0", 0, EDU_DEVICE);
	edu_bar = cfg_read(0x10, 4) & ~0xfu;
	cfg_write(0x04, 2, cfg_read(0x04, 2) | 0x6);   /* memory, master */
	const char *src;
	u64 khz = tsc_khz(&src);

	printf("edu: %02x.%x BAR0 0x%lx, TSC %lu kHz (%s)\n", (bdf >> 11) & 0x1f,
	       (bdf >> 8) & 7, edu_bar, khz, src);
	lapic_enable();
	svc(SVC_IRQ, 1, 0, 0);
	if (check_basics() || check_intx(&intx) || check_msi(&msi) ||
	    check_dma() || check_outside(outside, &seen) ||
	    (param_u64("rom", 0) && check_rom(&rom)))
		return 1;
	svc(SVC_IRQ, 0, 0, 0);
	rc = read_cost((u32)param_u64("reads", 1000));
	printf("RESULT edu id=0x%x live=1 fact=1 intx=%u msi=%u dma=1 "
	       "outside=0x%lx outside_bytes=0x%x read_ns=%lu intx_ns=%lu "
	       "msi_ns=%lu rom=%u ok=1\n", rd(EDU_ID),
	       (u32)param_u64("irqs", 2), (u32)param_u64("irqs", 2), outside,
	       seen, tsc_to_ns(rc), tsc_to_ns(intx), tsc_to_ns(msi), rom);
	return 0;
}

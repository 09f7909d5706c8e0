/* The GICv3 ITS for the AArch64 test guest's virtio-pci devices: just
 * enough of a driver to give each PCI function one MSI-X vector as an
 * LPI. The redistributor of CPU 0 gets the LPI configuration and pending
 * tables and EnableLPIs; the ITS gets a device and a collection table
 * (flat, one 64 KiB page each) and a command queue, then per function
 * MAPD (device ID = requester ID, a 2-event ITT), MAPTI (event 0 -> the
 * next LPI, collection 0), INV and SYNC; collection 0 is CPU 0 (MAPC).
 * guest.c's IRQ handler counts the LPIs. Runs with the MMU off: the
 * tables are plain memory cvisor's KVM reads. */
#include "a64.h"
#include "virtio.h"

#define LPI_BASE      8192u
#define LPI_ID_BITS   14              /* INTIDs below 16384 */
#define MAX_LPIS      32

/* Redistributor RD_base registers */
#define GICR_CTLR      0x00
#define GICR_TYPER     0x08
#define GICR_PROPBASER 0x70
#define GICR_PENDBASER 0x78
/* ITS registers */
#define GITS_CTLR      0x00
#define GITS_TYPER     0x08
#define GITS_CBASER    0x80
#define GITS_CWRITER   0x88
#define GITS_CREADR    0x90
#define GITS_BASER(n)  (0x100 + 8 * (n))
#define GITS_TRANSLATER 0x10040

volatile unsigned its_lpis, its_lpi_last;
unsigned its_devices;

static uint8_t *prop;                 /* LPI configuration table */
static uint64_t *cmdq;
static unsigned cmd_next, nr_lpis;
static int state;                     /* 0: not yet, 1: up, -1: failed */

/* 64-bit registers with one str/ldr each (KVM decodes those). */
static void w64(uint64_t pa, uint64_t v)
{
	__asm__ volatile("str %x0, [%1]" :: "r"(v), "r"(pa) : "memory");
}

static uint64_t r64(uint64_t pa)
{
	uint64_t v;

	__asm__ volatile("ldr %x0, [%1]" : "=r"(v) : "r"(pa) : "memory");
	return v;
}

/* One command (4 doublewords) into the queue; its_run sends them. */
static void cmd(uint64_t a, uint64_t b, uint64_t c, uint64_t d)
{
	uint64_t *e = cmdq + 4 * (cmd_next % 128);

	e[0] = a;
	e[1] = b;
	e[2] = c;
	e[3] = d;
	cmd_next++;
}

/* CWRITER to the last command; done when CREADR catches up. */
static bool its_run(void)
{
	uint64_t end = (uint64_t)(cmd_next % 128) * 32;
	uint64_t deadline = rdtsc() + tsc_khz(NULL) * 1000;

	w64(dt_its + GITS_CWRITER, end);
	while ((r64(dt_its + GITS_CREADR) & 0xfffe0) != end)
		if (rdtsc() > deadline) {
			printf("its: command queue stuck at 0x%lx (want 0x%lx)\n",
			       r64(dt_its + GITS_CREADR), end);
			return false;
		}
	return true;
}

/* A flat table of one 64 KiB page for each GITS_BASERn that asks for one
 * (type 1: devices, 4: collections). 64 KiB: KVM's ITS has no other page
 * size (it reads a 4 KiB page's address bits 15:12 as bits 51:48). */
static bool its_tables(void)
{
	for (unsigned n = 0; n < 8; n++) {
		uint64_t v = r64(dt_its + GITS_BASER(n));
		unsigned type = (v >> 56) & 7;
		void *t;

		if (type != 1 && type != 4)
			continue;
		t = heap_alloc(65536, 65536);
		if (!t)
			return false;
		/* valid, 64 KiB pages (2 << 8), one page; type and entry
		 * size are read-only */
		w64(dt_its + GITS_BASER(n), 1ull << 63 | (uint64_t)t | 2u << 8);
		if (!(r64(dt_its + GITS_BASER(n)) >> 63))
			return false;
	}
	return true;
}

static bool its_up(void)
{
	uint64_t rd = dt_gic_redist;
	void *pend;

	if (!(r64(rd + GICR_TYPER) & 1)) {        /* PLPIS */
		printf("its: the redistributor has no LPIs\n");
		return false;
	}
	prop = heap_alloc(1u << LPI_ID_BITS, 4096);
	pend = heap_alloc((1u << LPI_ID_BITS) / 8, 65536);
	cmdq = heap_alloc(4096, 65536);
	if (!prop || !pend || !cmdq)
		return false;
	w64(rd + GICR_PROPBASER, (uint64_t)prop | (LPI_ID_BITS - 1));
	w64(rd + GICR_PENDBASER, (uint64_t)pend);
	mmio_write32(rd + GICR_CTLR, mmio_read32(rd + GICR_CTLR) | 1);
	if (!its_tables())
		return false;
	w64(dt_its + GITS_CBASER, 1ull << 63 | (uint64_t)cmdq);  /* 1 page */
	w64(dt_its + GITS_CWRITER, 0);
	mmio_write32(dt_its + GITS_CTLR, 1);
	/* collection 0 -> CPU 0: with GITS_TYPER.PTA clear, RDbase is the
	 * processor number */
	cmd(0x09, 0, 1ull << 63 | 0, 0);          /* MAPC */
	cmd(0x05, 0, 0, 0);                       /* SYNC */
	return its_run();
}

bool pci_arch_msi(u32 bdf, u64 *addr, u32 *data)
{
	uint64_t devid = bdf >> 8, itt;
	unsigned lpi;

	if (!dt_its || dt_gic_v2 || !dt_gic_redist || nr_lpis == MAX_LPIS)
		return false;
	if (!state) {
		gic_setup();
		state = its_up() ? 1 : -1;
	}
	if (state < 0)
		return false;
	itt = (uint64_t)heap_alloc(256, 256);
	if (!itt)
		return false;
	lpi = LPI_BASE + nr_lpis++;
	prop[lpi - LPI_BASE] = 0xa0 | 1;          /* priority, enabled */
	cmd(0x08 | devid << 32, 0, 1ull << 63 | itt, 0);   /* MAPD: 2 events */
	cmd(0x0a | devid << 32, (uint64_t)lpi << 32, 0, 0); /* MAPTI ev 0 */
	cmd(0x0c | devid << 32, 0, 0, 0);                   /* INV */
	cmd(0x05, 0, 0, 0);                                 /* SYNC */
	if (!its_run())
		return false;
	its_devices++;
	printf("its: devid 0x%lx event 0 -> LPI %u\n", devid, lpi);
	*addr = dt_its + GITS_TRANSLATER;
	*data = 0;
	return true;
}

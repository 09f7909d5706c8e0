/* The AArch64 test guest (issue 15): finds its PL011, CPUs and devices in
 * the device tree it is given, runs the workloads its bootargs name, one
 * `RESULT name ... ok=1` line each, and ends the VM through PSCI:
 * SYSTEM_OFF when all passed (cvisor: exit 0), SYSTEM_RESET when one
 * failed (with `reboot exit`, cvisor's exit 34).
 *   hello      greeting on the PL011
 *   pl011      the PL011's identification registers
 *   smp        PSCI CPU_ON of every other CPU of the tree, each checks in
 *   timer      the virtual timer's PPI 27 through the vGICv3 (an IRQ)
 *   exception  an undefined instruction with only the reporting vector:
 *              the guest's "triple fault" (ends with SYSTEM_RESET)
 *   mmio-pair  a load pair from the PL011, which KVM cannot emulate:
 *              cvisor raises a synchronous external abort, taken here
 *   ns16550    an MMIO 16550 of the tree (reg-shift): SCR, LSR, a line
 *   pl031      the PL031 RTC: IDs, the date, RTCLR, the match (its SPI)
 *   pl031-reset  RTCLR then a reset: the next boot's counter follows it
 *   its        the virtio-pci functions given an MSI-X vector through the
 *              ITS (its.c) raised LPIs during the workloads before it
 * and the x86 guest's arch-independent ones over the tree's virtio-pci
 * (ECAM) and virtio-mmio devices (guest/virtio.c's driver, pci.c,
 * runtime.c): rng, blk-verify, console-echo, mmio-latency (addr=, n=),
 * with key=value parameters.
 * Runs with the MMU off (all memory Device-nGnRnE to data accesses): no
 * unaligned accesses (-mstrict-align) and no exclusives. */
#include "a64.h"

static uint64_t uart;
static unsigned nr_cpus = 1;
static volatile uint32_t cpu_seen[8];
static volatile unsigned irq_count, irq_last;
static volatile uint32_t rtc_ris_in_irq;
/* mmio-pair: the next data abort is expected; its ESR and FAR */
static volatile bool dabt_expected;
static volatile uint64_t dabt_esr, dabt_far;
static unsigned failures;
static char stacks[7][4096] __attribute__((aligned(16)));


void putc_(char c)
{
	if (!uart)
		return;
	while (mmio_read32(uart + 0x18) & (1u << 5))      /* FR.TXFF */
		;
	mmio_write32(uart, (uint8_t)c);
}

static void end_vm(void)
{
	psci_call(failures ? PSCI_SYSTEM_RESET : PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

void result(const char *name, int ok, const char *fmt, uint64_t a,
	    uint64_t b)
{
	printf("RESULT %s ", name);
	printf(fmt, a, b);
	printf(" ok=%d\n", ok);
	if (!ok)
		failures++;
}

/* ---- exceptions --------------------------------------------------------- */

/* GICv2's CPU interface registers (dt_gic_redist is its base there) */
#define GICC_CTLR 0x00
#define GICC_PMR  0x04
#define GICC_IAR  0x0c
#define GICC_EOIR 0x10

static uint32_t gic_ack(void)
{
	uint64_t v;

	if (dt_gic_v2)
		return mmio_read32(dt_gic_redist + GICC_IAR) & 0x3ff;

	__asm__ volatile("mrs %0, S3_0_C12_C12_0" : "=r"(v));  /* ICC_IAR1_EL1 */
	return (uint32_t)v;
}

static void gic_eoi(uint32_t intid)
{
	if (dt_gic_v2) {
		mmio_write32(dt_gic_redist + GICC_EOIR, intid);
		return;
	}
	__asm__ volatile("msr S3_0_C12_C12_1, %0" :: "r"((uint64_t)intid));
	__asm__ volatile("isb");
}

void exception_entry(uint64_t kind)
{
	uint64_t esr, elr, far;

	if (kind == 1 || kind == 5) {     /* IRQ */
		uint32_t id = gic_ack();

		if (id >= 8192) {                 /* an LPI: its.c's */
			its_lpis++;
			its_lpi_last = id;
			gic_eoi(id);
		} else if (id < 1020) {
			irq_last = id;
			irq_count++;
			if (id == 27)     /* the timer: quiet it */
				__asm__ volatile("msr cntv_ctl_el0, %0" ::
						 "r"((uint64_t)2));
			if (dt_pl031 && id == dt_pl031_intid) {
				/* the RTC's level line: cleared by RTCICR */
				rtc_ris_in_irq = mmio_read32(dt_pl031 + 0x14);
				mmio_write32(dt_pl031 + 0x1c, 1);
			}
			gic_eoi(id);
		}
		return;
	}
	__asm__ volatile("mrs %0, esr_el1" : "=r"(esr));
	__asm__ volatile("mrs %0, elr_el1" : "=r"(elr));
	__asm__ volatile("mrs %0, far_el1" : "=r"(far));
	/* The syndrome is ESR's low 32 bits (above them ISS2, 0 here):
	 * Linux 6.1's KVM injects its abort's EC sign-extended into them. */
	if (kind == 4 && dabt_expected && ((uint32_t)esr >> 26) == 0x25) {
		/* a data abort at EL1, as mmio-pair wants: noted, and the
		 * faulting instruction skipped */
		dabt_expected = false;
		dabt_esr = (uint32_t)esr;
		dabt_far = far;
		__asm__ volatile("msr elr_el1, %0" :: "r"(elr + 4));
		return;
	}
	printf("EXCEPTION kind=%lu ec=0x%lx esr=0x%lx elr=0x%lx far=0x%lx\n",
	       kind, (esr >> 26) & 0x3f, esr, elr, far);
	failures++;
	end_vm();
}

/* ---- workloads ---------------------------------------------------------- */

static void a64_hello(void)
{
	printf("cvisor arm64 test guest: hello from EL%lu\n",
	       (read_currentel() >> 2) & 3);
	result("hello", 1, "cpus=%lu el=%lu", nr_cpus,
	       (read_currentel() >> 2) & 3);
}

static void a64_pl011(void)
{
	uint32_t periph = 0, cell = 0;

	for (unsigned i = 0; i < 4; i++) {
		periph |= (mmio_read32(uart + 0xfe0 + 4 * i) & 0xff) << (8 * i);
		cell |= (mmio_read32(uart + 0xff0 + 4 * i) & 0xff) << (8 * i);
	}
	result("pl011", (periph & 0xfffff) == 0x41011 && cell == 0xb105f00d,
	       "periphid=0x%lx cellid=0x%lx", periph, cell);
}

void secondary_main(void)
{
	uint64_t mpidr;

	__asm__ volatile("mrs %0, mpidr_el1" : "=r"(mpidr));
	if ((mpidr & 0xff) < 8)
		cpu_seen[mpidr & 0xff] = 1;
}

static void a64_smp(void)
{
	uint64_t ver = psci_call(PSCI_VERSION, 0, 0, 0);
	unsigned up = 1;

	for (unsigned i = 1; i < nr_cpus && i < 8; i++) {
		int64_t r = (int64_t)psci_call(PSCI_CPU_ON, i,
					       (uint64_t)secondary_entry,
					       (uint64_t)(stacks[i - 1] + 4096));
		if (r)
			printf("CPU_ON %u: %ld\n", i, r);
	}
	for (unsigned i = 1; i < nr_cpus && i < 8; i++) {
		for (unsigned long spin = 0; !cpu_seen[i] && spin < 400000000;
		     spin++)
			;
		up += cpu_seen[i];
	}
	result("smp", nr_cpus > 1 && up == nr_cpus,
	       "cpus=%lu psci=0x%lx", up, ver);
}

/* GICv3 through the system registers, the redistributor of CPU 0 from
 * the tree: the distributor with affinity routing, this CPU awake, every
 * priority let through, group 1 on; a GICv2 through its memory-mapped
 * CPU interface. Once (timer, pl031, its.c). */
void gic_setup(void)
{
	static bool done;
	uint64_t rd = dt_gic_redist;

	if (done)
		return;
	done = true;
	if (dt_gic_v2) {
		/* GICv2: the distributor and the memory-mapped CPU
		 * interface on, every priority let through */
		mmio_write32(dt_gic_dist, 1);
		mmio_write32(rd + GICC_PMR, 0xff);
		mmio_write32(rd + GICC_CTLR, 1);
		return;
	}
	/* GICD_CTLR: affinity routing, both groups on (no EL3: one
	 * security state); RWP clears when the write has taken effect. */
	mmio_write32(dt_gic_dist, (1u << 4) | (1u << 1) | 1u);
	while (mmio_read32(dt_gic_dist) & (1u << 31))
		;
	__asm__ volatile("msr S3_0_C12_C12_5, %0" :: "r"((uint64_t)7)); /* ICC_SRE_EL1 */
	__asm__ volatile("isb");
	/* GICR_WAKER.ProcessorSleep off, wait for ChildrenAsleep */
	mmio_write32(rd + 0x14, mmio_read32(rd + 0x14) & ~2u);
	while (mmio_read32(rd + 0x14) & 4u)
		;
	__asm__ volatile("msr S3_0_C4_C6_0, %0" :: "r"((uint64_t)0xff)); /* ICC_PMR_EL1 */
	__asm__ volatile("msr S3_0_C12_C12_7, %0" :: "r"((uint64_t)1));  /* ICC_IGRPEN1_EL1 */
	__asm__ volatile("isb");
}

/* The virtual timer fires once and its PPI must arrive. */
static void a64_timer(void)
{
	uint64_t sgi = dt_gic_redist + 0x10000;
	uint64_t freq;

	gic_setup();
	if (dt_gic_v2) {
		/* PPI 27 in the distributor's banked ISENABLER0 */
		mmio_write32(dt_gic_dist + 0x100, 1u << 27);
	} else {
		/* PPI 27: group 1 (IGROUPR0), enabled (ISENABLER0) */
		mmio_write32(sgi + 0x80, mmio_read32(sgi + 0x80) | 1u << 27);
		mmio_write32(sgi + 0x100, 1u << 27);
	}
	irq_count = 0;
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	__asm__ volatile("msr cntv_tval_el0, %0" :: "r"(freq / 100)); /* 10 ms */
	__asm__ volatile("msr cntv_ctl_el0, %0" :: "r"((uint64_t)1));
	__asm__ volatile("msr daifclr, #2");
	for (unsigned long spin = 0; !irq_count && spin < 400000000; spin++)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2");
	result("timer", irq_count == 1 && irq_last == 27,
	       "irqs=%lu intid=%lu", irq_count, irq_last);
}

/* An MMIO 16550 from the tree (reg-shift honoured): the scratch
 * register, the idle line status, a line sent through THR. */
static void a64_ns16550(void)
{
	uint64_t b = dt_ns16550;
	unsigned sh = dt_ns16550_shift;
	const char *msg = "ns16550 over mmio\n";
	uint32_t scr, lsr;

	if (!b) {
		result("ns16550", 0, "found=%lu shift=%lu", 0, 0);
		return;
	}
	mmio_write32(b + (7u << sh), 0x5a);              /* SCR */
	scr = mmio_read32(b + (7u << sh)) & 0xff;
	lsr = mmio_read32(b + (5u << sh)) & 0xff;        /* LSR */
	for (const char *p = msg; *p; p++) {
		while (!(mmio_read32(b + (5u << sh)) & 0x20))   /* THRE */
			;
		mmio_write32(b, (uint8_t)*p);                  /* THR */
	}
	result("ns16550", scr == 0x5a && (lsr & 0x60) == 0x60,
	       "scr=0x%lx lsr=0x%lx", scr, lsr);
}

#define RTC_DR   0x00
#define RTC_MR   0x04
#define RTC_LR   0x08
#define RTC_IMSC 0x10
#define RTC_RIS  0x14
#define RTC_MIS  0x18
#define RTC_ICR  0x1c

/* The PL031 RTC from the tree: its IDs, the host's date in RTCDR, RTCLR,
 * a match at once (masked: RIS without MIS, cleared by ICR), then a match
 * a second later taken as its SPI through the vGICv3 (the handler clears
 * it by ICR). */
static void a64_pl031(void)
{
	uint64_t b = dt_pl031, freq, end;
	uint32_t periph = 0, date, dr, id = dt_pl031_intid, ris_now, mis_now;
	uint32_t cleared;

	if (!b || !id) {
		result("pl031", 0, "found=%lu intid=%lu", b != 0, id);
		return;
	}
	for (unsigned i = 0; i < 4; i++)
		periph |= (mmio_read32(b + 0xfe0 + 4 * i) & 0xff) << (8 * i);
	date = mmio_read32(b + RTC_DR);
	mmio_write32(b + RTC_LR, 1000);
	dr = mmio_read32(b + RTC_DR);
	mmio_write32(b + RTC_IMSC, 0);
	mmio_write32(b + RTC_MR, dr);                   /* matches now */
	ris_now = mmio_read32(b + RTC_RIS);
	mis_now = mmio_read32(b + RTC_MIS);
	mmio_write32(b + RTC_ICR, 1);
	cleared = mmio_read32(b + RTC_RIS) == 0;
	/* the SPI: group 1, enabled; KVM routes it to CPU 0 (IROUTER 0);
	 * a GICv2's goes to CPU 0 by ITARGETSR, group 0 */
	gic_setup();
	if (dt_gic_v2)
		mmio_write8(dt_gic_dist + 0x800 + id, 1);
	else
		mmio_write32(dt_gic_dist + 0x80 + 4 * (id / 32),
			     mmio_read32(dt_gic_dist + 0x80 + 4 * (id / 32)) |
			     1u << (id % 32));
	mmio_write32(dt_gic_dist + 0x100 + 4 * (id / 32), 1u << (id % 32));
	irq_count = 0;
	mmio_write32(b + RTC_IMSC, 1);
	mmio_write32(b + RTC_MR, mmio_read32(b + RTC_DR) + 1);
	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(freq));
	end = rdtsc() + 3 * freq;                       /* 3 s at most */
	__asm__ volatile("msr daifclr, #2");
	while (!irq_count && rdtsc() < end)
		__asm__ volatile("wfi");
	__asm__ volatile("msr daifset, #2");
	mmio_write32(b + RTC_IMSC, 0);
	printf("pl031: periphid=0x%x date=%u loaded=%u match_now=%u/%u "
	       "cleared=%u irqs=%u intid=%u ris=%u\n", periph, date, dr,
	       ris_now, mis_now, cleared, irq_count, irq_last,
	       rtc_ris_in_irq);
	/* a date after 2020: the host's clock, not 0 */
	result("pl031", (periph & 0xfffff) == 0x41031 && date > 1577836800u &&
	       dr >= 1000 && dr <= 1002 && ris_now == 1 && mis_now == 0 &&
	       cleared && irq_count == 1 && irq_last == id &&
	       rtc_ris_in_irq == 1, "loaded=%lu irqs=%lu", dr, irq_count);
}

/* After the shared workloads over virtio-pci: the functions that got an
 * MSI-X vector through the ITS (its.c) and the LPIs they raised. */
static void a64_its(void)
{
	printf("its: devices=%u lpis=%u last=%u\n", its_devices, its_lpis,
	       its_lpi_last);
	result("its", its_devices > 0 && its_lpis > 0 && its_lpi_last >= 8192,
	       "devices=%lu lpis_seen=%lu", its_devices, its_lpis > 0);
}

/* The PL031's time across a guest reset (cvisor rebuilds the VM): the
 * first boot finds the host's date, loads 1000 and resets; the boot
 * after finds the counter near 1000, not the host's date. */
static void a64_pl031_reset(void)
{
	uint32_t dr;

	if (!dt_pl031) {
		result("pl031-reset", 0, "found=%lu dr=%lu", 0, 0);
		return;
	}
	dr = mmio_read32(dt_pl031 + RTC_DR);
	if (dr > 1577836800u) {                 /* the host's date */
		printf("pl031-reset: date=%u, loading 1000 and resetting\n",
		       dr);
		mmio_write32(dt_pl031 + RTC_LR, 1000);
		psci_call(PSCI_SYSTEM_RESET, 0, 0, 0);
	}
	/* a day of slack: no machine is that slow */
	result("pl031-reset", dr >= 1000 && dr < 1000 + 86400,
	       "dr=%lu kept=%lu", dr, dr < 1000 + 86400);
}

static void a64_exception(void)
{
	printf("RESULT exception raising\n");
	__asm__ volatile(".inst 0x00000000");      /* udf #0 */
	result("exception", 0, "returned=%lu handled=%lu", 1, 0);
}

/* A load pair from the PL011: KVM gets no syndrome for it and cannot
 * emulate it; cvisor raises a synchronous external abort instead (EC
 * 0x25, a data abort at EL1; DFSC 0x10, external, not on a walk) at the
 * PL011's address, and the guest runs on. */
static void a64_mmio_pair(void)
{
	uint32_t a, b;
	uint64_t esr;

	printf("RESULT mmio-pair loading\n");
	dabt_expected = true;
	__asm__ volatile("ldp %w0, %w1, [%2]" : "=r"(a), "=r"(b) : "r"(uart)
			 : "memory");
	(void)a;
	(void)b;
	esr = dabt_esr;
	printf("mmio-pair: esr=0x%lx far=0x%lx\n", esr, dabt_far);
	result("mmio-pair", !dabt_expected && (esr >> 26) == 0x25 &&
	       (esr & 0x3f) == 0x10 && dabt_far == uart,
	       "ec=0x%lx dfsc=0x%lx", esr >> 26, esr & 0x3f);
}

/* The x86 guest's arch-independent workloads (guest/), over the
 * tree's virtio-mmio devices; they print their own RESULT lines and
 * return an exit status. */
static const struct {
	const char *name;
	int (*fn)(void);
} shared[] = {
	{ "rng", wl_rng }, { "blk-verify", wl_blk_verify },
	{ "console-echo", wl_console_echo },
	{ "mmio-latency", wl_mmio_latency },
};

static const struct {
	const char *name;
	void (*fn)(void);
} workloads[] = {
	{ "hello", a64_hello }, { "pl011", a64_pl011 }, { "smp", a64_smp },
	{ "timer", a64_timer }, { "exception", a64_exception },
	{ "mmio-pair", a64_mmio_pair }, { "ns16550", a64_ns16550 },
	{ "pl031", a64_pl031 }, { "its", a64_its },
	{ "pl031-reset", a64_pl031_reset },
};

static bool run_workload(const char *word)
{
	for (unsigned i = 0; i < ARRAY_SIZE(workloads); i++)
		if (!strcmp(word, workloads[i].name)) {
			workloads[i].fn();
			return true;
		}
	for (unsigned i = 0; i < ARRAY_SIZE(shared); i++)
		if (!strcmp(word, shared[i].name)) {
			/* IRQs on: a virtio-pci device's MSI-X vector is an
			 * LPI (its.c); nothing else is enabled in the GIC */
			__asm__ volatile("msr daifclr, #2");
			int st = shared[i].fn();

			__asm__ volatile("msr daifset, #2");

			if (st) {
				printf("workload %s: status %d\n", word, st);
				failures++;
			}
			return true;
		}
	return false;
}

void guest_main(const void *dtb)
{
	const char *args;
	char word[32];

	dt_scan(dtb);
	uart = dt_uart;
	nr_cpus = dt_cpus ? dt_cpus : 1;
	args = dt_bootargs ? dt_bootargs : "hello";
	if (!uart || !dt_gic_redist)
		failures++;          /* the tree lacks them: nothing to say it with */
	while (*args && uart) {
		unsigned n = 0;
		bool param = false;

		while (*args == ' ')
			args++;
		while (*args && *args != ' ' && n + 1 < sizeof(word)) {
			param |= *args == '=';     /* key=value: a parameter */
			word[n++] = *args++;
		}
		word[n] = 0;
		if (!n)
			break;
		if (!param && !run_workload(word)) {
			printf("unknown workload '%s'\n", word);
			failures++;
		}
	}
	printf("DONE failures=%u\n", failures);
	end_vm();
}

/* smp workload: count the CPUs the firmware tables describe (ACPI MADT,
 * MP table, or cpus=), start the APs with INIT-SIPI-SIPI and wait for each
 * to check in. Everything except the APs' own boot runs in ring 3: the
 * tables are plain memory and the LAPIC ICR is MMIO. */
#include "bootinfo.h"

#define LAPIC_ID    0x020
#define LAPIC_ICR_LO 0x300
#define LAPIC_ICR_HI 0x310
#define ICR_BUSY    (1u << 12)
#define ICR_INIT    0x00000500
#define ICR_SIPI    0x00000600
#define ICR_ASSERT  0x00004000
#define ICR_ALL_BUT_SELF 0x000c0000

/* 16-byte aligned scan of [start, start+len) for sig with a valid sum. */
static u64 scan(u64 start, u64 len, const char *sig, size_t siglen,
		size_t sumlen)
{
	for (u64 a = start; a + sumlen <= start + len; a += 16) {
		const u8 *p = phys(a);
		if (!memcmp(p, sig, siglen) && byte_sum(p, sumlen) == 0)
			return a;
	}
	return 0;
}

static u64 ebda_base(void)
{
	u64 seg = *(const volatile u16 *)phys(0x40e);
	u64 a = seg << 4;
	return a >= 0x80000 && a < 0xa0000 ? a : 0;
}

static u64 find_rsdp(void)
{
	const struct hvm_start_info *si = pvh_info();
	if (si && si->rsdp_paddr)
		return si->rsdp_paddr;
	u64 a = 0, e = ebda_base();
	if (e)
		a = scan(e, 1024, "RSD PTR ", 8, 20);
	if (!a)
		a = scan(0xe0000, 0x20000, "RSD PTR ", 8, 20);
	return a;
}

struct acpi_header {
	char sig[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
} __attribute__((packed));

static bool table_ok(u64 a, const char *sig)
{
	if (!a || a >= (4ull << 30))
		return false;
	const struct acpi_header *h = phys(a);
	return !memcmp(h->sig, sig, 4) && h->length >= sizeof(*h) &&
	       h->length < (1u << 20) && byte_sum(h, h->length) == 0;
}

/* Enabled processors in the MADT, or -1 without one. */
static int madt_cpus(u64 rsdp)
{
	const u8 *r = phys(rsdp);
	u64 sdt;
	unsigned width;
	if (r[15] >= 2 && *(const u64 *)phys(rsdp + 24)) {
		sdt = *(const u64 *)phys(rsdp + 24);
		width = 8;
		if (!table_ok(sdt, "XSDT"))
			return -1;
	} else {
		sdt = *(const u32 *)phys(rsdp + 16);
		width = 4;
		if (!table_ok(sdt, "RSDT"))
			return -1;
	}
	const struct acpi_header *h = phys(sdt);
	u64 n = (h->length - sizeof(*h)) / width;
	for (u64 i = 0; i < n; i++) {
		u64 p = sdt + sizeof(*h) + i * width;
		u64 t = width == 8 ? *(const u64 *)phys(p) : *(const u32 *)phys(p);
		if (!table_ok(t, "APIC"))
			continue;
		const struct acpi_header *m = phys(t);
		int cpus = 0;
		u64 q = t + sizeof(*m) + 8, end = t + m->length;
		while (q + 2 <= end) {
			const u8 *s = phys(q);
			if (s[1] < 2)
				break;
			/* Type 0: local APIC, flags at 4; type 9: x2APIC,
			 * flags at 8. Bit 0 enabled. */
			if (s[0] == 0 && s[1] >= 8 && (s[4] & 1))
				cpus++;
			if (s[0] == 9 && s[1] >= 16 && (s[8] & 1))
				cpus++;
			q += s[1];
		}
		return cpus;
	}
	return -1;
}

/* Enabled processors in the MP configuration table, or -1 without one. */
static int mp_cpus(void)
{
	u64 fp = 0, e = ebda_base();
	if (e)
		fp = scan(e, 1024, "_MP_", 4, 16);
	if (!fp)
		fp = scan(0x9fc00, 0x400, "_MP_", 4, 16);
	if (!fp)
		fp = scan(0xf0000, 0x10000, "_MP_", 4, 16);
	if (!fp)
		return -1;
	u64 ct = *(const u32 *)phys(fp + 4);
	if (!ct || ct >= (4ull << 30))
		return -1;
	const u8 *c = phys(ct);
	u16 len = *(const u16 *)(c + 4);
	if (memcmp(c, "PCMP", 4) || len < 44 || byte_sum(c, len))
		return -1;
	u16 count = *(const u16 *)(c + 34);
	int cpus = 0;
	u64 q = ct + 44, end = ct + len;
	for (u16 i = 0; i < count && q < end; i++) {
		const u8 *s = phys(q);
		if (s[0] == 0) {
			if (s[3] & 1)
				cpus++;
			q += 20;
		} else if (s[0] <= 4) {
			q += 8;
		} else {
			break;
		}
	}
	return cpus;
}

static void icr_send(u32 lo)
{
	mmio_write32(LAPIC_BASE + LAPIC_ICR_HI, 0);
	mmio_write32(LAPIC_BASE + LAPIC_ICR_LO, lo);
	u64 end = rdtsc() + ms_to_tsc(10);
	while ((mmio_read32(LAPIC_BASE + LAPIC_ICR_LO) & ICR_BUSY) &&
	       rdtsc() < end)
		delay_us(10);
}

int wl_smp(void)
{
	/* With cpus= the tables are only read when PVH hands us the RSDP:
	 * scanning the BIOS area of a VMM that has nothing there costs an
	 * MMIO exit per probe. */
	bool given = param("cpus") != NULL;
	int madt = -1, mp = given ? -1 : mp_cpus();
	const struct hvm_start_info *si = pvh_info();
	u64 rsdp = given ? (si ? si->rsdp_paddr : 0) : find_rsdp();
	if (rsdp)
		madt = madt_cpus(rsdp);
	/* MADT first: SeaBIOS lists only one CPU per package in the MP
	 * table. */
	int n = madt > 0 ? madt : mp > 0 ? mp : 1;
	const char *src = madt > 0 ? "madt" : mp > 0 ? "mp" : "default";
	if (given) {
		n = (int)param_u64("cpus", 1);
		src = "param";
		if (madt > 0 && madt != n)
			printf("smp: warning: cpus=%d but the MADT lists %d\n",
			       n, madt);
	}
	if (n < 1 || n > MAX_CPUS) {
		printf("smp: cpus=%d out of range 1..%d\n", n, MAX_CPUS);
		return 2;
	}
	printf("smp: madt=%d mp=%d expect=%d (%s) bsp_apic_id=%u\n", madt, mp,
	       n, src, mmio_read32(LAPIC_BASE + LAPIC_ID) >> 24);

	/* The trampoline must sit below 1 MiB at a page boundary: SIPI
	 * starts the AP at vector << 12 in real mode. */
	memcpy(phys(AP_TRAMP_ADDR), ap_tramp_start,
	       (size_t)(ap_tramp_end - ap_tramp_start));
	__asm__ volatile("" ::: "memory");

	lapic_enable();
	/* Broadcast even with one CPU expected: an unexpected extra CPU
	 * then shows up as a mismatch instead of going unnoticed. */
	icr_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_INIT);
	delay_us(10000);
	for (int i = 0; i < 2; i++) {
		icr_send(ICR_ALL_BUT_SELF | ICR_ASSERT | ICR_SIPI |
			 (AP_TRAMP_ADDR >> 12));
		delay_us(200);
	}

	u64 timeout = ms_to_tsc(param_u64("timeout_ms", 5000));
	u64 start = rdtsc();
	while (ap_checked_in + 1 < (u32)n && rdtsc() - start < timeout)
		cpu_relax();
	/* Give an unexpected extra CPU a moment to show itself. */
	delay_us(20000);
	u32 m = ap_checked_in + 1;
	printf("RESULT smp cpus=%d checked_in=%u\n", n, m);
	return m == (u32)n ? 0 : 1;
}

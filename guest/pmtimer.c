/* pmtimer: the ACPI PM timer, found as a guest OS finds it: the RSDP
 * (PVH's start_info, else the EBDA and 0xE0000-0xFFFFF scans), the
 * XSDT/RSDT, the FADT's X_PM_TMR_BLK (or PM_TMR_BLK) and TMR_VAL_EXT
 * (32 or 24 bits). Its rate is measured against the TSC over ms= (default
 * 200) milliseconds, sampled every millisecond so that a 24-bit counter's
 * wraps (every 4.7 s) are all counted, and must be 3.579545 MHz within
 * 1 % (tol_ppm=, default 10000).
 *
 * Prints RESULT pmtimer port=0xP bits=N hz=H ppm=E tsc_khz=K src=S ok=1.
 * Runs the same under cvisor and QEMU -M pc (SeaBIOS's FADT).
 */
#include "bootinfo.h"

#define PM_TIMER_HZ 3579545ull

struct sdt {
	char sig[4];
	u32 length;
	u8 revision, checksum;
	char oem[6], oem_table[8];
	u32 oem_rev, creator, creator_rev;
} __attribute__((packed));

static u64 scan(u64 start, u64 len)
{
	for (u64 a = start; a + 20 <= start + len; a += 16)
		if (!memcmp(phys(a), "RSD PTR ", 8) && !byte_sum(phys(a), 20))
			return a;
	return 0;
}

static u64 rsdp(void)
{
	const struct hvm_start_info *si = pvh_info();
	u64 ebda = (u64)*(const volatile u16 *)phys(0x40e) << 4, a = 0;

	if (si && si->rsdp_paddr)
		return si->rsdp_paddr;
	if (ebda >= 0x80000 && ebda < 0xa0000)
		a = scan(ebda, 1024);
	return a ? a : scan(0xe0000, 0x20000);
}

static bool table_ok(u64 a, const char *sig)
{
	const struct sdt *h = phys(a);

	return a && a < (4ull << 30) && !memcmp(h->sig, sig, 4) &&
	       h->length >= sizeof(*h) && h->length < (1u << 20) &&
	       !byte_sum(h, h->length);
}

static u64 find_table(u64 r, const char *sig)
{
	const u8 *p = phys(r);
	bool x = p[15] >= 2 && *(const u64 *)(p + 24);
	u64 sdt = x ? *(const u64 *)(p + 24) : *(const u32 *)(p + 16);
	unsigned w = x ? 8 : 4;

	if (!table_ok(sdt, x ? "XSDT" : "RSDT"))
		return 0;
	u64 n = (((const struct sdt *)phys(sdt))->length - sizeof(struct sdt)) / w;
	for (u64 i = 0; i < n; i++) {
		u64 e = sdt + sizeof(struct sdt) + i * w;
		u64 t = w == 8 ? *(const u64 *)phys(e) : *(const u32 *)phys(e);
		if (table_ok(t, sig))
			return t;
	}
	return 0;
}

static u32 in32(u16 port)
{
	return (u32)svc(SVC_IN, port, 4, 0);
}

/* One timer read and the TSC at it: the middle of the TSC reads around
 * it, retried (at most 1000 times) until they are within window. */
static u32 sample(u64 port, u32 mask, u64 window, u64 *tsc)
{
	u64 a, b;
	u32 v;

	for (int i = 0; ; i++) {
		a = rdtsc();
		v = in32((u16)port) & mask;
		b = rdtsc();
		if (b - a <= window || i == 1000)
			break;
	}
	*tsc = a + (b - a) / 2;
	return v;
}

int wl_pmtimer(void)
{
	u64 r = rsdp(), f = r ? find_table(r, "FACP") : 0;
	u64 ms = param_u64("ms", 200), tol = param_u64("tol_ppm", 10000);
	const char *src;
	u64 khz = tsc_khz(&src);

	if (!f) {
		printf("pmtimer: no FADT (rsdp 0x%lx)\n", r);
		return 2;
	}
	const u8 *t = phys(f);
	u32 len = ((const struct sdt *)t)->length;
	u64 port = *(const u32 *)(t + 76);
	if (len >= 220 && t[208] == 1 && *(const u64 *)(t + 212))
		port = *(const u64 *)(t + 212);     /* X_PM_TMR_BLK, I/O */
	unsigned bits = (*(const u32 *)(t + 112) & (1u << 8)) ? 32 : 24;
	u32 mask = bits == 32 ? 0xffffffffu : 0xffffffu;
	if (!port || port > 0xfffc || t[91] < 4) {
		printf("pmtimer: the FADT has no PM timer (port 0x%lx, "
		       "length %u)\n", port, t[91]);
		return 2;
	}

	/* Sample every millisecond (far below a wrap between two samples).
	 * The first and the last sample are timed by the TSC read before
	 * and after them, retried until the two are close (the vCPU may be
	 * descheduled around an exit on a loaded host): the error is then
	 * at most half that window. */
	u64 window = khz / 4, step = khz, ticks = 0, t0, t1;
	u32 prev = sample(port, mask, window, &t0);
	u64 next = t0 + step, end = t0 + ms * khz;
	for (;;) {
		while (rdtsc() < next)
			cpu_relax();
		next += step;
		if (next < end) {
			u32 cur = in32((u16)port) & mask;
			ticks += (cur - prev) & mask;
			prev = cur;
			continue;
		}
		u32 cur = sample(port, mask, window, &t1);
		ticks += (cur - prev) & mask;
		break;
	}
	u64 hz = ticks * khz * 1000 / (t1 - t0);
	u64 diff = hz > PM_TIMER_HZ ? hz - PM_TIMER_HZ : PM_TIMER_HZ - hz;
	u64 ppm = diff * 1000000 / PM_TIMER_HZ;
	bool ok = ppm <= tol;
	printf("RESULT pmtimer port=0x%lx bits=%u hz=%lu ppm=%lu tsc_khz=%lu "
	       "src=%s ok=%d\n", port, bits, hz, ppm, khz, src, ok);
	return ok ? 0 : 1;
}

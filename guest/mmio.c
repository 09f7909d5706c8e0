/* mmio-latency workload: time n 32-bit writes to an MMIO address from
 * ring 3. Every write is one exit to the VMM, so the average is the cost of
 * an MMIO exit round trip. */
#include "guest.h"

int wl_mmio_latency(void)
{
	u64 n = param_u64("n", 100000);
	u64 addr = param_u64("addr", 0xfeb00000);
	const char *src;
	u64 khz = tsc_khz(&src);
	if (!n)
		n = 1;
	if (addr & 3) {
		printf("mmio-latency: addr 0x%lx is not 4-byte aligned\n", addr);
		return 2;
	}
	volatile u32 *p = phys(addr);
	u64 t0 = rdtsc();
	for (u64 i = 0; i < n; i++)
		*p = (u32)i;
	u64 cycles = rdtsc() - t0;
	u64 ns = khz ? cycles * 1000000 / khz : 0;   /* total ns */
	printf("mmio-latency: addr=0x%lx tsc_khz=%lu (%s) total_ns=%lu\n",
	       addr, khz, src, ns);
	printf("RESULT mmio-latency n=%lu ns_per_exit=%lu cycles_per_exit=%lu\n",
	       n, ns / n, cycles / n);
	return 0;
}

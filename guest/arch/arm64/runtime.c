/* The runtime guest/guest.h promises the arch-independent workloads
 * (virtio.c, blk.c, console.c, rng.c, mmio.c), on the AArch64 test guest:
 * printf to the PL011, exit through PSCI, key=value parameters from the
 * tree's bootargs, the generic counter as the "TSC", a bump heap above
 * the image. PCI: guest/pci.c over the tree's ECAM window, MSI-X through
 * the ITS (its.c). */
#include "guest.h"
#include "virtio.h"
#include "a64.h"

#define HEAP_SIZE (8u << 20)

extern char __bss_end[];
static u64 heap_next, heap_end;

int printf(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	write_str(buf);
	return n;
}

void write_str(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_('\r');
		putc_(*s);
	}
}

/* SYSTEM_OFF for 0 (cvisor exits 0), else SYSTEM_RESET (with `reboot
 * exit`: 34), after saying which. */
void exit(int status)
{
	if (status)
		printf("exit %d\n", status);
	psci_call(status ? PSCI_SYSTEM_RESET : PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ volatile("wfi");
}

/* bootargs: workload names and key=value words, space separated. */
const char *param(const char *key)
{
	size_t kl = strlen(key);
	const char *p = dt_bootargs;
	static char val[64];

	while (p && *p) {
		while (*p == ' ')
			p++;
		if (!strncmp(p, key, kl) && p[kl] == '=') {
			size_t n = 0;

			p += kl + 1;
			while (p[n] && p[n] != ' ' && n + 1 < sizeof(val)) {
				val[n] = p[n];
				n++;
			}
			val[n] = 0;
			return val;
		}
		while (*p && *p != ' ')
			p++;
	}
	return NULL;
}

/* The virtual counter's frequency stands for the TSC's. */
u64 tsc_khz(const char **source)
{
	u64 f;

	__asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
	if (source)
		*source = "cntfrq";
	return f / 1000;
}

void *heap_alloc(u64 size, u64 align)
{
	u64 p;

	if (!heap_next) {
		heap_next = ((u64)__bss_end + 4095) & ~4095ull;
		heap_end = heap_next + HEAP_SIZE;
	}
	p = (heap_next + align - 1) & ~(align - 1);
	if (p + size > heap_end || p + size < p)
		return NULL;
	heap_next = p + size;
	memset(phys(p), 0, size);
	return phys(p);
}

u64 heap_free_bytes(void)
{
	return heap_end - heap_next;
}

/* cpuid: what CPUID says to ring 3, for the `cpuid` statement's tests:
 * leaf= (default 1) and sub= (default 0) in hex or decimal, the vendor
 * string of leaf 0 beside it.
 *
 * Prints RESULT cpuid leaf=0xL sub=0xS eax=0x.. ebx=0x.. ecx=0x.. edx=0x..
 * vendor=STRING. Runs the same under cvisor and QEMU.
 */
#include "guest.h"

int wl_cpuid(void)
{
	u32 leaf = (u32)param_u64("leaf", 1), sub = (u32)param_u64("sub", 0);
	u32 v[4], r[4];
	char vendor[13];

	cpuid(0, 0, v);
	memcpy(vendor, &v[1], 4);
	memcpy(vendor + 4, &v[3], 4);
	memcpy(vendor + 8, &v[2], 4);
	vendor[12] = '\0';
	cpuid(leaf, sub, r);
	printf("RESULT cpuid leaf=0x%x sub=0x%x eax=0x%x ebx=0x%x ecx=0x%x "
	       "edx=0x%x vendor=%s\n", leaf, sub, r[0], r[1], r[2], r[3],
	       vendor);
	return 0;
}

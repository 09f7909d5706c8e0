/* guest/guest.h's architecture part for the AArch64 test guest: the
 * generic counter stands for the TSC, and device registers are reached
 * with single plain ldr/str instructions (KVM cannot emulate an MMIO
 * access without a syndrome: no pairs, no writeback, which the compiler
 * may pick for a volatile pointer). Included by guest.h only. */
#ifndef TESTGUEST_ARM64_GUEST_ARCH_H
#define TESTGUEST_ARM64_GUEST_ARCH_H

/* The virtual counter (its frequency: tsc_khz(), from CNTFRQ_EL0). */
static inline u64 rdtsc(void)
{
	u64 v;

	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("yield" ::: "memory");
}

static inline void *phys(u64 pa)
{
	__asm__("" : "+r"(pa));
	return (void *)pa;
}

#define A64_MMIO_RW(bits, type, sfx)                                        \
static inline type mmio_read##bits(u64 pa)                                  \
{                                                                           \
	u32 v;                                                              \
	__asm__ volatile("ldr" sfx " %w0, [%1]" : "=r"(v) : "r"(pa)          \
			 : "memory");                                       \
	return (type)v;                                                     \
}                                                                           \
static inline void mmio_write##bits(u64 pa, type v)                         \
{                                                                           \
	__asm__ volatile("str" sfx " %w0, [%1]" :: "r"((u32)v), "r"(pa)      \
			 : "memory");                                       \
}
A64_MMIO_RW(8, u8, "b")
A64_MMIO_RW(16, u16, "h")
A64_MMIO_RW(32, u32, "")
#undef A64_MMIO_RW

/* virtio.c probes these instead of microvm's slots: the tree's
 * virtio,mmio nodes (lib.c's dt_scan). */
extern u64 dt_virtio[];
extern unsigned dt_nr_virtio;

/* pci.c's configuration space: the tree's ECAM window (bdf as
 * PCI_BDF's, bus << 16 | dev << 11 | fn << 8: ECAM offset bdf << 4), BARs
 * the firmware left unassigned (QEMU's virt) go in its memory range. */
extern u64 dt_pci_ecam, dt_pci_mem, dt_pci_mem_end, dt_its;
static inline u32 pci_cfg_read(u32 bdf, u32 reg, u32 size)
{
	u64 a = dt_pci_ecam + ((u64)bdf << 4) + reg;

	if (!dt_pci_ecam)
		return size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	return size == 1 ? mmio_read8(a) : size == 2 ? mmio_read16(a)
						      : mmio_read32(a);
}

static inline void pci_cfg_write(u32 bdf, u32 reg, u32 size, u32 v)
{
	u64 a = dt_pci_ecam + ((u64)bdf << 4) + reg;

	if (!dt_pci_ecam)
		return;
	if (size == 1)
		mmio_write8(a, (u8)v);
	else if (size == 2)
		mmio_write16(a, (u16)v);
	else
		mmio_write32(a, v);
}
#define PCI_BAR_WINDOW_BASE dt_pci_mem
#define PCI_BAR_WINDOW_END  dt_pci_mem_end

#endif

/* cvisor test guest: declarations shared by the ring-0 kernel and the ring-3
 * workloads. Everything is identity mapped and user-accessible, so ring 3
 * can read boot structures and drive MMIO devices directly; only port I/O,
 * interrupt-flag changes and descriptor-table loads need ring 0, reached
 * through the ud2 service call (see svc()).
 */
#ifndef TESTGUEST_GUEST_H
#define TESTGUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;

/* Boot protocol, stored by boot.S before anything else runs. */
#define BOOT_MULTIBOOT 1
#define BOOT_PVH       2
extern u32 boot_proto;
extern u32 boot_magic;   /* %eax at the multiboot entry */
extern u32 boot_info;    /* %ebx: multiboot info / hvm_start_info */

/* GDT selectors, must match boot.S. */
#define SEL_KCODE32 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE64 0x18
#define SEL_UDATA   (0x20 | 3)
#define SEL_UCODE   (0x28 | 3)
#define SEL_TSS     0x30

/* Interrupt vectors. */
#define VEC_UD       6
#define VEC_PIC_BASE 0x20   /* legacy PIC remapped here, then masked */
#define VEC_DEVICE   0x30   /* IOAPIC-routed device interrupt (pl011) */
#define VEC_UART     0x31   /* IOAPIC-routed COM1 receive (uart-irq) */
#define VEC_LINE     0x32   /* an IOAPIC pin a workload raises (pc-testdev) */
#define VEC_EDU      0x33   /* the passed edu device: INTx and MSI (edu.c) */
#define VEC_SPURIOUS 0xff   /* LAPIC spurious vector */

/* Exit status of the guest when something unexpected happens in ring 0. */
#define EXIT_EXCEPTION 3

/* Devices. */
#define COM1        0x3f8
#define DEBUG_EXIT  0xf4
#define LAPIC_BASE  0xfee00000u
#define IOAPIC_BASE 0xfec00000u

/* ud2 service numbers: %rax = number, args in %rdi, %rsi, %rdx,
 * result in %rax. */
enum svc_nr {
	SVC_WRITE = 1,        /* (buf, len): write to the 16550 */
	SVC_EXIT = 2,         /* (status): debug-exit, then halt */
	SVC_GETC = 3,         /* (polls): byte from 16550 RX or -1 */
	SVC_IRQ = 4,          /* (on): set/clear IF for ring 3 */
	SVC_PIT_TSC = 5,      /* (): TSC ticks in 10 ms of PIT ch2, 0 = no PIT */
	SVC_TRIPLE_FAULT = 6, /* (): empty IDT + int3; does not return */
	SVC_INB = 7,          /* (port): inb */
	SVC_OUTB = 8,         /* (port, val): outb */
	SVC_PCI_READ = 9,     /* (addr, size): PCI config read, mechanism #1 */
	SVC_PCI_WRITE = 10,   /* (addr, size, val): PCI config write */
	SVC_IN = 11,          /* (port, size): in of 1, 2 or 4 bytes */
	SVC_OUT = 12,         /* (port, size, val): out of 1, 2 or 4 bytes */
	SVC_INSB = 13,        /* (port, buf, len): rep insb into buf */
};

/* PCI config address for the services: bus << 16 | dev << 11 | fn << 8 |
 * reg, i.e. CONFIG_ADDRESS without the enable bit. */
#define PCI_BDF(bus, dev, fn) ((u32)(bus) << 16 | (u32)(dev) << 11 | (u32)(fn) << 8)

#ifdef __aarch64__
/* The AArch64 test guest builds the arch-independent workloads (virtio,
 * blk, console, mmio-latency) with its own counter and MMIO accessors. */
#include "arch/arm64/guest_arch.h"
#else
static inline long svc(long nr, long a, long b, long c)
{
	long ret;
	__asm__ volatile("ud2" : "=a"(ret) : "a"(nr), "D"(a), "S"(b), "d"(c)
			 : "memory");
	return ret;
}

static inline u64 rdtsc(void)
{
	u32 lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

static inline void cpuid(u32 leaf, u32 sub, u32 r[4])
{
	__asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
			 : "a"(leaf), "c"(sub));
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

/* Physical address -> pointer. The asm hides the constant from gcc, which
 * otherwise warns about dereferencing small fixed addresses. */
static inline void *phys(u64 pa)
{
	__asm__("" : "+r"(pa));
	return (void *)pa;
}

static inline u32 mmio_read32(u64 pa)
{
	return *(volatile u32 *)phys(pa);
}

static inline void mmio_write32(u64 pa, u32 v)
{
	*(volatile u32 *)phys(pa) = v;
}

static inline u16 mmio_read16(u64 pa)
{
	return *(volatile u16 *)phys(pa);
}

static inline void mmio_write16(u64 pa, u16 v)
{
	*(volatile u16 *)phys(pa) = v;
}

static inline u8 mmio_read8(u64 pa)
{
	return *(volatile u8 *)phys(pa);
}

static inline void mmio_write8(u64 pa, u8 v)
{
	*(volatile u8 *)phys(pa) = v;
}
#endif /* !__aarch64__ */

/* lib.c: freestanding helpers usable from both rings. */
void *memcpy(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
int vfmt(char *buf, size_t size, const char *fmt, va_list ap);
int fmt(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
bool parse_u64(const char *s, u64 *out);

/* Ring 3 runtime (user.c). */
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void write_str(const char *s);
__attribute__((noreturn)) void exit(int status);
const char *param(const char *key);
u64 param_u64(const char *key, u64 dflt);
u64 tsc_khz(const char **source);
void delay_us(u64 us);
u64 ms_to_tsc(u64 ms);
u8 byte_sum(const void *p, u64 n);
void lapic_enable(void);
struct hvm_start_info;
const struct hvm_start_info *pvh_info(void);
void *heap_alloc(u64 size, u64 align);   /* zeroed, identity mapped, never freed */
u64 heap_free_bytes(void);

/* Shared state between the pl011 workload (ring 3) and its ring-0 IRQ
 * handler: plain globals, all pages are user-accessible. */
extern volatile u64 pl011_irq_base;
extern volatile u32 pl011_irq_count;
extern volatile u32 pl011_irq_mis;
void pl011_irq(void);   /* ring 0, called from trap() */
extern volatile u32 uart_irq_count, uart_irq_bytes;
extern volatile u32 line_irq_count;   /* VEC_LINE interrupts taken */
void ioapic_route(u32 pin, u32 vector, bool level);
void edu_irq(void);   /* ring 0, VEC_EDU (edu.c) */
void ioapic_mask(u32 pin);
u32 ioapic_pins(void);

/* Workloads: each returns the exit status. */
int wl_smp(void);
int wl_pl011(void);
int wl_mmio_latency(void);
int wl_blk_verify(void);
int wl_scsi_verify(void);
int wl_scsi_hostile(void);
int wl_scsi_bench(void);
int wl_blk_bench(void);
int wl_blk_crash(void);
int wl_blk_fault(void);
int wl_blk_crash(void);
int wl_blk_fault(void);
int wl_console_echo(void);
int wl_console_flood(void);
int wl_rng(void);
int wl_hostile(void);
int wl_net_dhcp(void);
int wl_net_ping(void);
int wl_net_udp_echo(void);
int wl_net_peer(void);
int wl_net_tcp(void);
int wl_net_tx_bench(void);
int wl_net_rx_bench(void);
int wl_net_dns(void);
int wl_fw_cfg(void);
int wl_pc_testdev(void);
int wl_edu(void);
int wl_e1000e_msix(void);
int wl_cpuid(void);
int wl_pmtimer(void);
int wl_s3(void);

/* AP bring-up (boot.S). */
extern char ap_tramp_start[], ap_tramp_end[];
extern volatile u32 ap_checked_in;
#define AP_TRAMP_ADDR 0x8000
#define MAX_CPUS 64

#endif

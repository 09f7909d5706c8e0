/* The AArch64 test guest's own declarations: its entry and PSCI, the
 * device tree reader (lib.c). The runtime it shares with the x86 guest's
 * arch-independent workloads is guest/guest.h's (runtime.c; the MMIO
 * accessors and the counter: guest_arch.h). */
#ifndef GUEST_A64_H
#define GUEST_A64_H

#include "guest.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#define PSCI_VERSION      0x84000000u
#define PSCI_CPU_ON       0xc4000003u
#define PSCI_SYSTEM_OFF   0x84000008u
#define PSCI_SYSTEM_RESET 0x84000009u

uint64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void secondary_entry(void);
void secondary_main(void);
void guest_main(const void *dtb);
void exception_entry(uint64_t kind);

void putc_(char c);
void result(const char *name, int ok, const char *fmt, uint64_t a,
	    uint64_t b);

static inline uint64_t read_currentel(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return v;
}

/* What dt_scan found in the device tree (0 / NULL: absent).
 * dt_gic_redist: a GICv3's redistributors, or a GICv2's CPU interface
 * (dt_gic_v2). */
extern uint64_t dt_uart, dt_gic_dist, dt_gic_redist;
extern uint64_t dt_ns16550, dt_pl031;
extern unsigned dt_pl031_intid;        /* its SPI's INTID */
extern unsigned dt_ns16550_shift;
extern bool dt_gic_v2;
#define DT_MAX_VIRTIO 32
extern uint64_t dt_virtio[DT_MAX_VIRTIO];   /* virtio,mmio nodes' bases */
extern unsigned dt_nr_virtio;
extern unsigned dt_cpus;
extern const char *dt_bootargs;
void dt_scan(const void *dtb);
/* guest.c: the GICv3's distributor and CPU 0's interface, once. */
void gic_setup(void);
/* its.c: the ITS's LPIs taken so far (the IRQ handler counts them). */
extern volatile unsigned its_lpis, its_lpi_last;
extern unsigned its_devices;

#endif

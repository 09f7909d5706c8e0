/* The AArch64 test guest's own small library (lib.c) and tree reader. */
#ifndef GUEST_A64_H
#define GUEST_A64_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

uint64_t psci_call(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3);
void secondary_entry(void);
void secondary_main(void);
void guest_main(const void *dtb);
void exception_entry(uint64_t kind);

void putc_(char c);
void result(const char *name, int ok, const char *fmt, uint64_t a,
	    uint64_t b);
void wl_rng(void);
void printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int strcmp(const char *a, const char *b);
size_t strlen(const char *s);

static inline uint64_t read_currentel(void)
{
	uint64_t v;

	__asm__ volatile("mrs %0, CurrentEL" : "=r"(v));
	return v;
}

/* MMIO through single ldr/str: KVM cannot emulate an access it is not
 * given decoded (ESR.ISV: no load/store pairs, no writeback), which the
 * compiler would otherwise pick for adjacent registers. */
static inline uint32_t mmio_read32(uint64_t addr)
{
	uint32_t v;

	__asm__ volatile("ldr %w0, [%1]" : "=r"(v) : "r"(addr) : "memory");
	return v;
}

static inline void mmio_write32(uint64_t addr, uint32_t v)
{
	__asm__ volatile("str %w0, [%1]" :: "r"(v), "r"(addr) : "memory");
}

/* What dt_scan found in the device tree (0 / NULL: absent). */
/* dt_gic_redist: a GICv3's redistributors, or a GICv2's CPU interface
 * (dt_gic_v2). */
extern uint64_t dt_uart, dt_gic_dist, dt_gic_redist;
extern bool dt_gic_v2;
#define DT_MAX_VIRTIO 32
extern uint64_t dt_virtio[DT_MAX_VIRTIO];   /* virtio,mmio nodes' bases */
extern unsigned dt_nr_virtio;
extern unsigned dt_cpus;
extern const char *dt_bootargs;
void dt_scan(const void *dtb);

#endif

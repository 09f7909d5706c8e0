/* x86 boot: detect the guest image's format, place it and its modules in
 * guest memory, build the boot-information structures (PVH hvm_start_info,
 * multiboot v1 info, Linux boot_params), and describe the register
 * state the boot vCPU starts in. Pure data work: no KVM calls here, so every
 * piece is unit-testable against a fake guest memory.
 */
#ifndef CVISOR_ARCH_X86_BOOT_H
#define CVISOR_ARCH_X86_BOOT_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"
#include "mem/guest_mem.h"

enum boot_proto { BOOT_PVH, BOOT_MULTIBOOT, BOOT_RAW, BOOT_LINUX,
		  BOOT_FIRMWARE };

enum x86_cpu_mode {
	X86_MODE_REAL,     /* CS:IP = rip >> 4 : rip & 0xf */
	X86_MODE_PROT32,   /* flat 4 GiB segments, paging off */
	X86_MODE_LONG64,   /* identity-mapped by tables at cr3 */
	X86_MODE_RESET,    /* power-on state: CS=F000 base FFFF0000, IP=rip */
};

/* The state of the boot vCPU when the guest starts. */
struct x86_boot_state {
	enum x86_cpu_mode mode;
	uint64_t rip, rsp;
	uint64_t rax, rbx, rsi;
	uint64_t cr3;      /* LONG64 only */
	uint64_t gdt_base; /* LONG64: GDT the loader wrote, or 0 */
};

/* Guest-physical memory map as the guest should see it (e820 types). */
enum e820_type { E820_RAM = 1, E820_RESERVED = 2, E820_ACPI = 3,
		 E820_NVS = 4, E820_UNUSABLE = 5 };

struct e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

#define X86_MEMMAP_MAX 64

/* What the platform built before the image is loaded, which the boot
 * information must point at. */
struct boot_platform {
	uint64_t rsdp_addr;    /* ACPI RSDP, or 0 when there are no tables */
	/* Where the files of `load`s come from. NULL: read from disk, freed
	 * after loading. Otherwise the returned contents belong to the
	 * provider (the VM keeps them across resets, so that a rebuilt VM
	 * needs no path, e.g. in a chroot); NULL with errno on failure. */
	const void *(*read_file)(void *ctx, const struct load_config *l,
				 size_t max, size_t *len);
	void *read_ctx;
};

struct boot_result {
	enum boot_proto proto;
	struct x86_boot_state cpu;
	uint64_t image_start, image_end;   /* guest range the image occupies */
	uint64_t info_addr;                /* start_info / multiboot info /
					      Linux zero page */
};

/* Build the memory map from the config: RAM regions, ROM and `reserve loc`
 * as reserved, sorted and merged. Returns the entry count, or -1 when the
 * table would overflow. */
int x86_memmap_build(const struct vm_config *cfg, struct e820_entry *out,
		     unsigned max);

/* Load every `load` of cfg into mem (the one guest image, initrds as
 * modules, data blobs at their addresses), detect the format, build the
 * boot-info structures and fill res. plat (may be NULL) is what the boot
 * information must point at (the RSDP). Errors are reported with the
 * load's cfg position in err and return -1. */
int x86_boot_load(const struct vm_config *cfg, struct guest_mem *mem,
		  const struct boot_platform *plat, struct boot_result *res,
		  struct cfg_error *err);

#endif

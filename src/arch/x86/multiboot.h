/* Multiboot v1 (the GNU Multiboot Specification 0.6.96): the image carries a
 * header in its first 8 KiB; the loader enters it in flat protected mode with
 * %eax = 0x2BADB002 and %ebx pointing at a struct multiboot_info. All
 * addresses are 32-bit guest-physical.
 */
#ifndef CVISOR_ARCH_X86_MULTIBOOT_H
#define CVISOR_ARCH_X86_MULTIBOOT_H

#include <stdint.h>

#include "arch/x86/boot_priv.h"

#define MB_HEADER_MAGIC      0x1BADB002
#define MB_BOOTLOADER_MAGIC  0x2BADB002
#define MB_SEARCH            8192

/* Header flags: bits 0-15 are requirements, 16-31 optional features. */
#define MB_HF_PAGE_ALIGN     (1u << 0)   /* modules page-aligned */
#define MB_HF_MEMORY_INFO    (1u << 1)   /* mem_* and mmap_* */
#define MB_HF_VIDEO_MODE     (1u << 2)
#define MB_HF_ADDRESS        (1u << 16)  /* the address fields are valid */
#define MB_HF_SUPPORTED      (MB_HF_PAGE_ALIGN | MB_HF_MEMORY_INFO)

/* Info flags: which multiboot_info fields are valid. */
#define MB_INFO_MEMORY       (1u << 0)
#define MB_INFO_CMDLINE      (1u << 2)
#define MB_INFO_MODS         (1u << 3)
#define MB_INFO_MMAP         (1u << 6)
#define MB_INFO_LOADER_NAME  (1u << 9)

struct multiboot_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr;
	uint32_t entry_addr;
};

struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;     /* KiB at 0 and at 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];                  /* a.out or ELF symbols: unused */
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe_control_info, vbe_mode_info;
	uint16_t vbe_mode, vbe_interface_seg, vbe_interface_off,
		 vbe_interface_len;
};

struct multiboot_mod {
	uint32_t mod_start, mod_end;       /* [start, end) */
	uint32_t string;
	uint32_t reserved;
};

/* The size field counts the bytes after itself, so 20 for this layout. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr, len;
	uint32_t type;
} __attribute__((packed));

/* Find the header: 1 and *hdr (with *off, its file offset) when there is a
 * valid one, 0 when there is none, -1 (err set) for a bad checksum or a
 * requirement cvisor cannot meet. */
int mb_find_header(const struct boot_file *f, struct multiboot_header *hdr,
		   uint64_t *off);
/* Load an image by the header's address fields (flag 16). */
int mb_load_by_address(struct boot_ctx *c, const struct multiboot_header *h,
		       uint64_t off);
uint64_t mb_info_size(const struct boot_ctx *c);
int mb_write_info(struct boot_ctx *c, uint64_t base);

#endif

/* PVH boot (Xen's direct-boot ABI, used by Linux, FreeBSD and QEMU microvm):
 * the guest ELF says where its 32-bit entry is in a "Xen" note of type
 * XEN_ELFNOTE_PHYS32_ENTRY; the loader enters it in flat protected mode with
 * %ebx pointing at a struct hvm_start_info.
 *
 * The layouts follow xen/include/public/arch-x86/hvm/start_info.h (version 1):
 * every field is little endian, addresses are guest-physical, 0 = absent.
 */
#ifndef CVISOR_ARCH_X86_PVH_H
#define CVISOR_ARCH_X86_PVH_H

#include <stdint.h>

#include "arch/x86/boot_priv.h"

#define XEN_ELFNOTE_PHYS32_ENTRY  18
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578
#define HVM_START_INFO_VERSION    1

struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;            /* SIF_*: none of them apply to us */
	uint32_t nr_modules;
	uint64_t modlist_paddr;    /* array of hvm_modlist_entry */
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;     /* array of hvm_memmap_table_entry */
	uint32_t memmap_entries;
	uint32_t reserved;
};

struct hvm_modlist_entry {
	uint64_t paddr;
	uint64_t size;
	uint64_t cmdline_paddr;
	uint64_t reserved;
};

struct hvm_memmap_table_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;             /* e820 numbering */
	uint32_t reserved;
};

struct elf_file;

/* Look for the PVH entry note: 1 and *entry set, 0 absent, -1 bad note. */
int pvh_find_entry(const struct elf_file *ef, uint64_t *entry);
/* Bytes of boot information pvh_write_info() will write. */
uint64_t pvh_info_size(const struct boot_ctx *c);
/* Write start_info, module list, memory map and command line at base. */
int pvh_write_info(struct boot_ctx *c, uint64_t base);

#endif

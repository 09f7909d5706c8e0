/* Boot-information layouts the guest reads: PVH start_info (version 1,
 * xen/include/public/arch-x86/hvm/start_info.h) and multiboot v1 info. */
#ifndef TESTGUEST_BOOTINFO_H
#define TESTGUEST_BOOTINFO_H

#include "guest.h"

#define HVM_START_MAGIC 0x336ec578
#define MB_BOOT_MAGIC   0x2BADB002

struct hvm_start_info {
	u32 magic, version, flags, nr_modules;
	u64 modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
	u32 memmap_entries, reserved;
};

struct hvm_memmap_entry {
	u64 addr, size;
	u32 type, reserved;
};

struct mb_info {
	u32 flags, mem_lower, mem_upper, boot_device, cmdline;
	u32 mods_count, mods_addr, syms[4], mmap_length, mmap_addr;
};

struct mb_mmap_entry {
	u32 size;
	u64 addr, len;
	u32 type;
} __attribute__((packed));

#define MB_INFO_MEM     (1u << 0)
#define MB_INFO_CMDLINE (1u << 2)
#define MB_INFO_MMAP    (1u << 6)

#endif

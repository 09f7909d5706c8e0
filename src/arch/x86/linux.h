/* Linux x86 boot protocol (Documentation/x86/boot.rst), 64-bit entry only:
 * a bzImage's protected-mode kernel or an uncompressed vmlinux ELF64 is
 * loaded, a zero page (struct boot_params) is built, and the boot vCPU
 * starts in long mode on identity page tables with %rsi = the zero page.
 *
 * The layouts follow arch/x86/include/uapi/asm/bootparam.h. Fields are
 * little endian; the structures are used directly, which holds on every
 * host cvisor runs on (x86-64 and arm64 are little endian).
 */
#ifndef CVISOR_ARCH_X86_LINUX_H
#define CVISOR_ARCH_X86_LINUX_H

#include <stdint.h>

#include "arch/x86/boot_priv.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "boot_params is used in place: little-endian hosts only");

#define LINUX_HDR_OFFSET   0x1f1      /* setup header inside the image */
#define LINUX_BOOT_FLAG    0xAA55
#define LINUX_HDR_MAGIC    0x53726448 /* "HdrS" */
#define LINUX_MIN_VERSION  0x0206     /* cmdline_size appeared here */
#define LINUX_LOAD_ADDR    0x100000   /* protected-mode kernel: 1 MiB */
#define LINUX_ENTRY64_OFF  0x200      /* 64-bit entry from the load address */
#define LINUX_E820_MAX     128        /* entries the zero page holds */
#define LINUX_OLD_INITRD_MAX 0x37FFFFFF /* before protocol 2.03 */
#define LINUX_CMDLINE_SIZE 2048       /* x86 COMMAND_LINE_SIZE, with NUL */
#define LINUX_TYPE_OF_LOADER 0xff     /* "undefined" boot loader */
#define LINUX_HEAP_END     (0xfe00 - 0x200)

/* loadflags */
#define LINUX_LOADED_HIGH  (1u << 0)
#define LINUX_CAN_USE_HEAP (1u << 7)
/* xloadflags */
#define LINUX_XLF_KERNEL_64 (1u << 0)

struct setup_header {
	uint8_t  setup_sects;          /* 0x1f1 */
	uint16_t root_flags;
	uint32_t syssize;              /* 16-byte paragraphs */
	uint16_t ram_size;
	uint16_t vid_mode;             /* 0x1fa */
	uint16_t root_dev;
	uint16_t boot_flag;            /* 0x1fe */
	uint16_t jump;                 /* 0x200 */
	uint32_t header;               /* 0x202 */
	uint16_t version;              /* 0x206 */
	uint32_t realmode_swtch;
	uint16_t start_sys_seg;
	uint16_t kernel_version;
	uint8_t  type_of_loader;       /* 0x210 */
	uint8_t  loadflags;            /* 0x211 */
	uint16_t setup_move_size;
	uint32_t code32_start;         /* 0x214 */
	uint32_t ramdisk_image;        /* 0x218 */
	uint32_t ramdisk_size;         /* 0x21c */
	uint32_t bootsect_kludge;
	uint16_t heap_end_ptr;         /* 0x224 */
	uint8_t  ext_loader_ver;
	uint8_t  ext_loader_type;
	uint32_t cmd_line_ptr;         /* 0x228 */
	uint32_t initrd_addr_max;      /* 0x22c */
	uint32_t kernel_alignment;     /* 0x230 */
	uint8_t  relocatable_kernel;
	uint8_t  min_alignment;
	uint16_t xloadflags;           /* 0x236 */
	uint32_t cmdline_size;         /* 0x238 */
	uint32_t hardware_subarch;
	uint64_t hardware_subarch_data;
	uint32_t payload_offset;
	uint32_t payload_length;
	uint64_t setup_data;           /* 0x250 */
	uint64_t pref_address;         /* 0x258 */
	uint32_t init_size;            /* 0x260 */
	uint32_t handover_offset;
	uint32_t kernel_info_offset;   /* 0x268 */
} __attribute__((packed));

struct boot_e820_entry {
	uint64_t addr, size;
	uint32_t type;
} __attribute__((packed));

/* The zero page. Only the fields cvisor writes have names. */
struct boot_params {
	uint8_t  screen_info[0x40];            /* 0x000 */
	uint8_t  apm_bios_info[0x14];          /* 0x040 */
	uint8_t  _pad2[4];
	uint64_t tboot_addr;                   /* 0x058 */
	uint8_t  ist_info[0x10];               /* 0x060 */
	uint64_t acpi_rsdp_addr;               /* 0x070 */
	uint8_t  _pad3[8];
	uint8_t  hd0_info[16], hd1_info[16];   /* 0x080 */
	uint8_t  sys_desc_table[16];           /* 0x0a0 */
	uint8_t  olpc_ofw_header[16];          /* 0x0b0 */
	uint32_t ext_ramdisk_image;            /* 0x0c0 */
	uint32_t ext_ramdisk_size;             /* 0x0c4 */
	uint32_t ext_cmd_line_ptr;             /* 0x0c8 */
	uint8_t  _pad4[112];
	uint32_t cc_blob_address;              /* 0x13c */
	uint8_t  edid_info[0x80];              /* 0x140 */
	uint8_t  efi_info[0x20];               /* 0x1c0 */
	uint32_t alt_mem_k;                    /* 0x1e0 */
	uint32_t scratch;
	uint8_t  e820_entries;                 /* 0x1e8 */
	uint8_t  eddbuf_entries;
	uint8_t  edd_mbr_sig_buf_entries;
	uint8_t  kbd_status;
	uint8_t  secure_boot;
	uint8_t  _pad5[2];
	uint8_t  sentinel;                     /* 0x1ef: must stay 0 */
	uint8_t  _pad6[1];
	struct setup_header hdr;               /* 0x1f1 */
	uint8_t  _pad7[0x290 - 0x1f1 - sizeof(struct setup_header)];
	uint32_t edd_mbr_sig_buffer[16];       /* 0x290 */
	struct boot_e820_entry e820_table[LINUX_E820_MAX]; /* 0x2d0 */
	uint8_t  _pad8[48];                    /* 0xcd0 */
	uint8_t  eddbuf[0x1ec];                /* 0xd00 */
	uint8_t  _pad9[276];                   /* 0xeec */
} __attribute__((packed));

/* Where the loader puts its structures: base + these offsets, base being
 * LINUX_AREA_LOW when that is free RAM. Everything sits in [0x5000,
 * 0x10000): above the real-mode IVT/BDA, below where a PVH/multiboot image
 * would go, and far from the EBDA and the 0xA0000 hole. */
#define LINUX_AREA_LOW     0x5000ULL
#define LINUX_GDT_OFF      0x0000     /* null, null, code64 0x10, data 0x18 */
#define LINUX_ZP_OFF       0x2000     /* zero page: 0x7000 */
#define LINUX_STACK_OFF    0x3000     /* boot stack page, rsp = its top */
#define LINUX_PML4_OFF     0x4000     /* 0x9000 */
#define LINUX_PDPT_OFF     0x5000     /* 0xA000 */
#define LINUX_PD_OFF       0x6000     /* 4 page directories: 0xB000-0xEFFF */
#define LINUX_PD_COUNT     4          /* 4 GiB in 2 MiB pages */
#define LINUX_CMDLINE_OFF  0xA000     /* command line: 0xF000 */
#define LINUX_AREA_SIZE    (LINUX_CMDLINE_OFF + BOOT_CMDLINE_MAX)

/* The file starts like a bzImage: boot_flag and "HdrS" in place. */
bool linux_is_bzimage(const struct boot_file *f);
/* Check a bzImage's header, load its protected-mode kernel at 1 MiB and
 * keep the header for the zero page. 0 or -1 (err set). */
int linux_load_bzimage(struct boot_ctx *c);
/* Load an ELF64 vmlinux without a PVH note; its zero page gets a minimal
 * header. 0 or -1 (err set). */
struct elf_file;
int linux_load_vmlinux(struct boot_ctx *c, const struct elf_file *ef);
/* After the kernel and every fixed-address blob: claim the boot area,
 * place the initrd, write zero page, command line, page tables and GDT.
 * *zp is the zero page's address. 0 or -1 (err set). */
int linux_finish(struct boot_ctx *c, uint64_t *zp);
/* The boot vCPU's state for the 64-bit entry. */
void linux_set_cpu(const struct boot_ctx *c, struct x86_boot_state *cpu);

#endif

/* The guest image loaders: format detection, ELF (program headers,
 * sections, notes), the PVH entry note, multiboot v1 (header search,
 * load by address), Linux bzImage and vmlinux (setup header, zero page,
 * initrd placement, command line), raw images, modules and data blobs,
 * and the boot information each protocol writes into guest memory.
 *
 * The input is a 7-byte header and the image:
 *   byte 0     flags: 1 an initrd, 2 a command line, 4 the guest `load`
 *              has an address, 8 the initrd has one, 16 a data blob,
 *              32 an over-long command line, 64 an RSDP to point at,
 *              128 RAM above 4 GiB as well
 *   bytes 1-4  le32 address for flag 4
 *   bytes 5-6  le16 initrd size in 16-byte units (mod 4096)
 *   rest       the guest image, written to a file as `load` reads it
 * Guest RAM is the PC layout: 640 KiB low, 15 MiB at 1 MiB (and 16 MiB at
 * 4 GiB with flag 128), mapped once; loaders only write it. */
#include "fuzz_common.h"
#include "arch/x86/boot.h"
#include "core/util.h"

static struct guest_mem mem_low, mem_high;   /* without and with >4G */
static char img_path[128], rd_path[128], data_path[128];
static char long_cmdline[5000];
static uint8_t rd_pattern[4096 * 16];

static void add_ram(struct guest_mem *m, uint64_t start, uint64_t size)
{
	if (!guest_mem_add(m, start, size, GUEST_RAM))
		abort();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	fz_mkdir("images");
	fz_path(img_path, sizeof(img_path), "image");
	fz_path(rd_path, sizeof(rd_path), "initrd");
	fz_path(data_path, sizeof(data_path), "data");
	fz_write("data", "data blob", 9);
	for (size_t i = 0; i < sizeof(rd_pattern); i++)
		rd_pattern[i] = (uint8_t)i;
	guest_mem_init(&mem_low);
	add_ram(&mem_low, 0, 0xa0000);
	add_ram(&mem_low, 1 * MiB, 15 * MiB);
	guest_mem_init(&mem_high);
	add_ram(&mem_high, 0, 0xa0000);
	add_ram(&mem_high, 1 * MiB, 15 * MiB);
	add_ram(&mem_high, 4 * GiB, 16 * MiB);
	memset(long_cmdline, 'c', sizeof(long_cmdline) - 1);
	return 0;
}

static void set_ram(struct vm_config *cfg, const struct guest_mem *m)
{
	for (unsigned i = 0; i < m->nr; i++) {
		cfg->ram[cfg->nr_ram].start = m->regions[i].gpa;
		cfg->ram[cfg->nr_ram].size = m->regions[i].size;
		cfg->nr_ram++;
	}
	/* the PC hole between low RAM and 1 MiB, as configs reserve it */
	cfg->reserve[0] = (struct reserve_config){ .kind = RESERVE_LOC,
		.loc = { .space = LOC_MEM, .addr = 0xa0000, .len = 0x60000,
			 .has_len = true } };
	cfg->nr_reserve = 1;
}

static void add_load(struct vm_config *cfg, enum blob_type type,
		     const char *path, bool has_addr, uint64_t addr)
{
	struct load_config *l = &cfg->loads[cfg->nr_loads];

	*l = (struct load_config){ .type = type, .path = (char *)path,
				   .has_addr = has_addr, .addr = addr };
	l->pos = (struct cfg_pos){ .file = "fuzz.qvmconf",
				   .line = ++cfg->nr_loads, .col = 1 };
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fz_in in = { data, size };
	uint8_t flags = fz_u8(&in);
	uint32_t addr = fz_u32(&in);
	size_t rd_size = (size_t)(fz_u16(&in) % 4096) * 16;
	static struct vm_config cfg;
	struct guest_mem *m = flags & 128 ? &mem_high : &mem_low;
	struct boot_platform plat = { .rsdp_addr = flags & 64 ? 0xf0000 : 0 };
	struct e820_entry map[X86_MEMMAP_MAX];
	struct boot_result res;
	struct cfg_error err;

	fz_write("image", in.p, in.left);
	if (flags & 1)
		fz_write("initrd", rd_pattern, rd_size);
	memset(&cfg, 0, sizeof(cfg));
	set_ram(&cfg, m);
	add_load(&cfg, BLOB_GUEST, img_path, flags & 4, addr);
	if (flags & 1)
		add_load(&cfg, BLOB_INITRD, rd_path, flags & 8, 0x800000);
	if (flags & 16)
		add_load(&cfg, BLOB_DATA, data_path, true, 0x900000);
	if (flags & 32)
		cfg.cmdline = long_cmdline;
	else if (flags & 2)
		cfg.cmdline = "console=ttyS0 root=/dev/vda rw";
	memset(&err, 0, sizeof(err));
	(void)x86_memmap_build(&cfg, map, X86_MEMMAP_MAX);
	if (x86_boot_load(&cfg, m, &plat, &res, &err) == 0) {
		/* what was loaded lies in guest RAM */
		if (res.image_end < res.image_start)
			abort();
	} else if (!err.msg[0]) {
		abort();        /* a failure always says why */
	}
	if (getenv("FUZZ_VERBOSE"))   /* to see what the seeds reach */
		fprintf(stderr, "flags %#x: %s\n", flags,
			err.msg[0] ? err.msg : "loaded");
	return 0;
}

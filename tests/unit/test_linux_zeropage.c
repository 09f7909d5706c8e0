/* Linux zero page: field offsets, what the loader writes into it, the e820
 * copy, initrd placement, command line, page tables, GDT, boot area. */
#include "fixtures/boot/linux_fixture.h"

static struct img im;
#define RD_SIZE 5000
static uint8_t initrd[0x3000];

#define OFF(f, v) assert_int_equal(offsetof(struct boot_params, f), v)

/* The ABI, as arch/x86/include/uapi/asm/bootparam.h lays it out. */
static void test_offsets(void **state)
{
	OFF(acpi_rsdp_addr, 0x070);
	OFF(ext_ramdisk_image, 0x0c0);
	OFF(ext_ramdisk_size, 0x0c4);
	OFF(ext_cmd_line_ptr, 0x0c8);
	OFF(cc_blob_address, 0x13c);
	OFF(alt_mem_k, 0x1e0);
	OFF(e820_entries, 0x1e8);
	OFF(sentinel, 0x1ef);
	OFF(hdr, 0x1f1);
	OFF(hdr.setup_sects, 0x1f1);
	OFF(hdr.syssize, 0x1f4);
	OFF(hdr.vid_mode, 0x1fa);
	OFF(hdr.boot_flag, 0x1fe);
	OFF(hdr.jump, 0x200);
	OFF(hdr.header, 0x202);
	OFF(hdr.version, 0x206);
	OFF(hdr.type_of_loader, 0x210);
	OFF(hdr.loadflags, 0x211);
	OFF(hdr.code32_start, 0x214);
	OFF(hdr.ramdisk_image, 0x218);
	OFF(hdr.ramdisk_size, 0x21c);
	OFF(hdr.heap_end_ptr, 0x224);
	OFF(hdr.cmd_line_ptr, 0x228);
	OFF(hdr.initrd_addr_max, 0x22c);
	OFF(hdr.kernel_alignment, 0x230);
	OFF(hdr.relocatable_kernel, 0x234);
	OFF(hdr.xloadflags, 0x236);
	OFF(hdr.cmdline_size, 0x238);
	OFF(hdr.setup_data, 0x250);
	OFF(hdr.pref_address, 0x258);
	OFF(hdr.init_size, 0x260);
	OFF(hdr.kernel_info_offset, 0x268);
	OFF(edd_mbr_sig_buffer, 0x290);
	OFF(e820_table, 0x2d0);
	OFF(eddbuf, 0xd00);
	assert_int_equal(sizeof(struct boot_params), 4096);
	assert_int_equal(sizeof(struct boot_e820_entry), 20);
}

/* Little-endian reads at raw zero-page offsets, independent of the struct. */
static uint32_t zp32(struct fixture *fx, unsigned off)
{
	const uint8_t *p = fx_ptr(fx, fx->res.cpu.rsi + off, 4);

	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t zp64(struct fixture *fx, unsigned off)
{
	return zp32(fx, off) | (uint64_t)zp32(fx, off + 4) << 32;
}

static uint8_t zp8(struct fixture *fx, unsigned off)
{
	return *(const uint8_t *)fx_ptr(fx, fx->res.cpu.rsi + off, 1);
}

static void test_fields(void **state)
{
	struct fixture *fx = *state;

	fx->cfg.cmdline = "console=ttyS0 root=/dev/vda";
	fx->plat.rsdp_addr = 0xf0000;
	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(zp8(fx, 0x210), 0xff);              /* type_of_loader */
	assert_int_equal(zp8(fx, 0x211), 0x81);              /* LOADED_HIGH|CAN_USE_HEAP */
	assert_int_equal(zp32(fx, 0x224) & 0xffff, 0xfe00 - 0x200);
	assert_int_equal(zp32(fx, 0x1fa) & 0xffff, 0xffff);  /* vid_mode */
	assert_int_equal(zp32(fx, 0x214), 0x100000);         /* code32_start */
	assert_int_equal(zp32(fx, 0x228), 0xF000);           /* cmd_line_ptr */
	assert_int_equal(zp32(fx, 0x0c8), 0);                /* ext_cmd_line_ptr */
	assert_string_equal((char *)fx_ptr(fx, 0xF000, 28),
			    "console=ttyS0 root=/dev/vda");
	assert_int_equal(zp64(fx, 0x070), 0xf0000);          /* acpi_rsdp_addr */
	assert_int_equal(zp32(fx, 0x218), 0);                /* no initrd */
	assert_int_equal(zp32(fx, 0x21c), 0);
	assert_int_equal(zp8(fx, 0x1ef), 0);                 /* sentinel */
	assert_int_equal(zp32(fx, 0x202), 0x53726448);       /* "HdrS" */
	assert_int_equal(zp32(fx, 0x206) & 0xffff, 0x020f);
}

/* The header is the file's, bytes 0x1f1 to 0x202 + jump byte, with only
 * the loader's fields changed; nothing before 0x1f1 is copied. */
static void test_header_copied(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);
	const struct boot_params *zp;
	struct setup_header want;
	const uint8_t *raw;

	h->root_flags = 0x1234;
	h->ram_size = 0x5678;
	h->root_dev = 0x0801;
	h->kernel_info_offset = 0xabcdef;
	want = *h;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	fx->cfg.cmdline = "x";
	assert_int_equal(fx_boot(fx), 0);
	want.type_of_loader = 0xff;
	want.loadflags |= LINUX_CAN_USE_HEAP;
	want.heap_end_ptr = 0xfe00 - 0x200;
	want.vid_mode = 0xffff;
	want.cmd_line_ptr = 0xF000;
	zp = lx_zp(fx);
	assert_memory_equal(&zp->hdr, &want, sizeof(want));
	raw = (const uint8_t *)zp;
	for (unsigned i = 0; i < 0x1f1; i++)
		if (i != 0x1e8)                          /* e820_entries */
			assert_int_equal(raw[i], 0);
	for (unsigned i = 0x26c; i < 0x2d0; i++)
		assert_int_equal(raw[i], 0);
}

/* A header whose jump says it ends early: bytes after it are not copied. */
static void test_header_length_from_jump(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->jump = (uint16_t)(0xEB | (0x264 - 0x202) << 8);
	h->handover_offset = 0x11111111;
	h->kernel_info_offset = 0x22222222;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(lx_zp(fx)->hdr.init_size, LX_INIT_SIZE);
	assert_int_equal(lx_zp(fx)->hdr.handover_offset, 0);
	assert_int_equal(lx_zp(fx)->hdr.kernel_info_offset, 0);
}

static void test_no_rsdp_before_2_14(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->version = 0x020d;
	fx->plat.rsdp_addr = 0xf0000;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(lx_zp(fx)->acpi_rsdp_addr, 0);
}

/* e820 in the zero page is the configuration, entry for entry. */
static void test_e820(void **state)
{
	struct fixture *fx = *state;
	struct e820_entry want[X86_MEMMAP_MAX];
	/* The reserved hole and the ROM touch: one reserved entry, as the
	 * memory map merges them (and as Linux would itself). */
	static const struct { uint64_t a, s; uint32_t t; } cfg[] = {
		{ 0, 0xA0000, 1 }, { 0xA0000, 0x60000, 2 },
		{ 0x100000, 63 * MiB, 1 },
	};
	int n = x86_memmap_build(&fx->cfg, want, X86_MEMMAP_MAX);

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(n, 3);
	assert_int_equal(zp8(fx, 0x1e8), 3);
	for (unsigned i = 0; i < 3; i++) {
		unsigned off = 0x2d0 + 20 * i;

		assert_int_equal(zp64(fx, off), cfg[i].a);
		assert_int_equal(zp64(fx, off + 8), cfg[i].s);
		assert_int_equal(zp32(fx, off + 16), cfg[i].t);
		assert_int_equal(want[i].addr, cfg[i].a);
	}
	assert_int_equal(zp64(fx, 0x2d0 + 20 * 3 + 8), 0);  /* nothing more */
}

static const char *add_initrd(struct fixture *fx, size_t size)
{
	const char *path = fx_file(fx, initrd, size);

	fx_load(fx, BLOB_INITRD, path);
	return path;
}

static void check_initrd(struct fixture *fx, uint64_t addr, size_t size)
{
	assert_int_equal(zp32(fx, 0x218), (uint32_t)addr);
	assert_int_equal(zp32(fx, 0x21c), size);
	assert_int_equal(zp32(fx, 0x0c0), 0);
	assert_int_equal(zp32(fx, 0x0c4), 0);
	assert_memory_equal(fx_ptr(fx, addr, size), initrd, size);
}

/* ramdisk_image, ramdisk_size and setup_data are the loader's to write:
 * what the file has there never reaches the kernel. Without an initrd
 * they are 0; with one, the initrd's (check_initrd, below). */
/* A bzImage whose loader fields hold values of the file's own. */
static void load_stale_fields(struct fixture *fx)
{
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->ramdisk_image = 0x2000000;
	h->ramdisk_size = 0x100000;
	h->setup_data = 0x3000000;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
}

static void test_loader_fields_cleared(void **state)
{
	struct fixture *fx = *state;

	load_stale_fields(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(zp32(fx, 0x218), 0);                /* ramdisk_image */
	assert_int_equal(zp32(fx, 0x21c), 0);                /* ramdisk_size */
	assert_int_equal(zp64(fx, 0x250), 0);                /* setup_data */
}

static void test_loader_fields_with_initrd(void **state)
{
	struct fixture *fx = *state;

	load_stale_fields(fx);
	fx_load(fx, BLOB_INITRD, fx_file(fx, initrd, RD_SIZE));
	assert_int_equal(fx_boot(fx), 0);
	check_initrd(fx, ALIGN_DOWN(LX_RAM_TOP - RD_SIZE, 4096), RD_SIZE);
	assert_int_equal(zp64(fx, 0x250), 0);
}

/* Highest page-aligned spot below the top of RAM (64 MiB). */
static void test_initrd_top_of_ram(void **state)
{
	struct fixture *fx = *state;

	lx_load_default(fx);
	add_initrd(fx, RD_SIZE);
	assert_int_equal(fx_boot(fx), 0);
	check_initrd(fx, ALIGN_DOWN(LX_RAM_TOP - RD_SIZE, 4096),
		     RD_SIZE);
}

/* initrd_addr_max is the last byte the initrd may occupy. */
static void test_initrd_addr_max(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->initrd_addr_max = 0x1ffffff;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	add_initrd(fx, 0x2000);
	assert_int_equal(fx_boot(fx), 0);
	check_initrd(fx, 0x2000000 - 0x2000, 0x2000);
}

/* Below a limit inside the kernel's decompression area (16-24 MiB), the
 * initrd goes under that area. */
static void test_initrd_avoids_kernel(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->initrd_addr_max = 0x17fffff;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	add_initrd(fx, RD_SIZE);
	assert_int_equal(fx_boot(fx), 0);
	check_initrd(fx, ALIGN_DOWN(LX_PREF - RD_SIZE, 4096),
		     RD_SIZE);
}

static void test_initrd_does_not_fit(void **state)
{
	struct fixture *fx = *state;
	const char *rd;
	char msg[256];

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->initrd_addr_max = 0x4fff;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	rd = add_initrd(fx, RD_SIZE);
	assert_int_equal(fx_boot(fx), 0);                 /* 5000 fit at 0x3000 */
	check_initrd(fx, 0x3000, RD_SIZE);

	memset(&fx->cfg.loads[1], 0, sizeof(fx->cfg.loads[1]));
	fx->cfg.nr_loads = 1;
	fx_poison(fx);
	rd = fx_file(fx, fx->mem.regions[1].host, 0x6000);
	fx_load(fx, BLOB_INITRD, rd);
	snprintf(msg, sizeof(msg), "initrd (size 0x6000) does not fit in guest RAM below 0x5000 (initrd_addr_max or 4 GiB) beside the kernel");
	fx_expect_err(fx, 2, rd, msg);
}

static void test_two_initrds(void **state)
{
	struct fixture *fx = *state;
	const char *a, *b;
	char msg[512];

	lx_load_default(fx);
	a = add_initrd(fx, 100);
	b = add_initrd(fx, 100);
	snprintf(msg, sizeof(msg), "Linux takes one initrd (%s is already the initrd)", a);
	fx_expect_err(fx, 3, b, msg);
}

static void test_initrd_fixed_address(void **state)
{
	struct fixture *fx = *state;
	const char *rd;

	lx_load_default(fx);
	rd = fx_file(fx, initrd, RD_SIZE);
	fx_load_at(fx, BLOB_INITRD, rd, 0x2000000);
	assert_int_equal(fx_boot(fx), 0);
	check_initrd(fx, 0x2000000, RD_SIZE);
}

static void test_initrd_fixed_above_max(void **state)
{
	struct fixture *fx = *state;
	const char *rd;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->initrd_addr_max = 0x1ffffff;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	rd = fx_file(fx, initrd, RD_SIZE);
	fx_load_at(fx, BLOB_INITRD, rd, 0x1fff000);
	fx_expect_err(fx, 2, rd, "initrd at 0x1fff000 (size 0x1388) ends above the kernel's initrd_addr_max 0x1ffffff");
}

static void test_cmdline_limit(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->cmdline_size = 10;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	fx->cfg.cmdline = "0123456789";                   /* exactly 10 */
	assert_int_equal(fx_boot(fx), 0);
	assert_string_equal((char *)fx_ptr(fx, zp32(fx, 0x228), 11),
			    "0123456789");
	fx->cfg.cmdline = "0123456789A";
	assert_int_equal(fx_boot(fx), -1);
	assert_string_equal(fx->err.msg, "command line is 11 bytes long, more than the 10 the kernel accepts (cmdline_size)");
	assert_int_equal(fx->err.pos.line, 99);
}

/* No cmdline: an empty string, not a null pointer. */
static void test_empty_cmdline(void **state)
{
	struct fixture *fx = *state;

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(zp32(fx, 0x228), 0xF000);
	assert_int_equal(*(char *)fx_ptr(fx, 0xF000, 1), 0);
}

static void test_page_tables(void **state)
{
	struct fixture *fx = *state;
	static const uint64_t va[] = { 0, 0x7000, 0x100200, 0x12345678,
		0x3ffffff, 0xfee00000, 0xfec00000, 0xffffffff };
	uint64_t cr3;

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	cr3 = fx->res.cpu.cr3;
	assert_int_equal(cr3, 0x9000);
	for (unsigned i = 0; i < ARRAY_SIZE(va); i++)
		assert_int_equal(lx_walk(fx, cr3, va[i]), va[i]);
	assert_int_equal(lx_walk(fx, cr3, 0x100000000ULL), ~0ULL);
	assert_int_equal(lx_walk(fx, cr3, 0x8000000000ULL), ~0ULL);
	/* The tables the brief names, and nothing else in the PML4. */
	assert_int_equal(lx_rd64(fx, 0x9000), 0xA000 | 3);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(lx_rd64(fx, 0xA000 + 8 * i), (0xB000 + 0x1000 * i) | 3);
	for (unsigned i = 1; i < 512; i++)
		assert_int_equal(lx_rd64(fx, 0x9000 + 8 * i), 0);
}

static void test_gdt(void **state)
{
	struct fixture *fx = *state;
	uint64_t code, data;

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(lx_rd64(fx, 0x5000), 0);
	assert_int_equal(lx_rd64(fx, 0x5008), 0);
	code = lx_rd64(fx, 0x5010);
	data = lx_rd64(fx, 0x5018);
	/* code: present, DPL 0, execute/read, L=1, D=0, G=1 */
	assert_int_equal((code >> 40) & 0xff, 0x9b);
	assert_int_equal((code >> 52) & 0xf, 0xa);
	/* data: present, DPL 0, read/write, D/B=1, G=1, flat 4 GiB */
	assert_int_equal((data >> 40) & 0xff, 0x93);
	assert_int_equal((data >> 52) & 0xf, 0xc);
	assert_int_equal(data & 0xffff, 0xffff);
	assert_int_equal((data >> 48) & 0xf, 0xf);
}

/* Without low RAM the boot area goes to the first free room. */
static void test_area_without_low_ram(void **state)
{
	struct fixture *fx = *state;
	const struct x86_boot_state *cpu = &fx->res.cpu;
	uint64_t base;

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	base = cpu->gdt_base;
	assert_int_equal(base, 0x100000 + LX_PAYLOAD);
	assert_int_equal(cpu->rsi, base + 0x2000);
	assert_int_equal(cpu->cr3, base + 0x4000);
	assert_int_equal(lx_walk(fx, cpu->cr3, 0xfee00000), 0xfee00000);
	assert_int_equal(lx_zp(fx)->hdr.cmd_line_ptr, base + 0xA000);
	assert_int_equal(lx_zp(fx)->e820_entries, 2);   /* RAM, BIOS area */
}

/* A data blob in the low area pushes the boot area elsewhere. */
static void test_area_yields_to_data(void **state)
{
	struct fixture *fx = *state;

	lx_load_default(fx);
	fx_load_at(fx, BLOB_DATA, fx_file(fx, initrd, 16), 0x9000);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_not_equal(fx->res.cpu.gdt_base, 0x5000);
	assert_memory_equal(fx_ptr(fx, 0x9000, 16), initrd, 16);
	assert_int_equal(lx_walk(fx, fx->res.cpu.cr3, 0x12345678), 0x12345678);
}

#define T(f) cmocka_unit_test_setup_teardown(f, lx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offsets),
		T(test_fields), T(test_header_copied),
		T(test_loader_fields_cleared), T(test_loader_fields_with_initrd),
		T(test_header_length_from_jump), T(test_no_rsdp_before_2_14),
		T(test_e820), T(test_initrd_top_of_ram), T(test_initrd_addr_max),
		T(test_initrd_avoids_kernel), T(test_initrd_does_not_fit),
		T(test_two_initrds), T(test_initrd_fixed_address),
		T(test_initrd_fixed_above_max), T(test_cmdline_limit),
		T(test_empty_cmdline), T(test_page_tables), T(test_gdt),
		cmocka_unit_test_setup_teardown(test_area_without_low_ram,
						lx_setup_high, fx_teardown),
		T(test_area_yields_to_data),
	};

	for (unsigned i = 0; i < sizeof(initrd); i++)
		initrd[i] = (uint8_t)(i * 13 + 5);
	return cmocka_run_group_tests(tests, NULL, NULL);
}

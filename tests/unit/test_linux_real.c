/* A real distribution bzImage through x86_boot_load, in a 512 MiB fake
 * guest memory. The kernel comes from $CVISOR_LINUX_KERNEL (see
 * scripts/fetch-linux.sh and tests/integration/linux_boot.sh); the initrd
 * from $CVISOR_LINUX_INITRD, or a made-up 1 MiB one. Without a kernel the
 * test skips: nothing here needs the network or /dev/kvm. */
#include "fixtures/boot/linux_fixture.h"

#define REAL_RAM_TOP (512 * MiB)
#define REAL_CMDLINE "console=ttyS0 earlyprintk=serial panic=-1 rdinit=/init"

struct real {
	struct fixture fx;
	uint8_t *file;             /* the kernel, read back for comparison */
	size_t size;
	uint8_t *initrd;
	size_t initrd_size;
};

static uint8_t *slurp(const char *path, size_t *size)
{
	uint8_t *p = read_file(path, 1 * GiB, size);

	assert_non_null(p);
	return p;
}

static const char *initrd_path(struct real *r)
{
	const char *p = getenv("CVISOR_LINUX_INITRD");

	if (p && *p)
		return p;
	r->initrd_size = 1 * MiB;
	r->initrd = malloc(r->initrd_size);
	for (size_t i = 0; i < r->initrd_size; i++)
		r->initrd[i] = (uint8_t)(i * 7 + 1);
	return fx_file(&r->fx, r->initrd, r->initrd_size);
}

/* ram 0,0xa0000  rom 0xc0000,0x40000  ram 1m,511m: examples/linux.qvmconf */
static void real_config(struct real *r, const char *kernel)
{
	struct fixture *fx = &r->fx;
	const char *rd = initrd_path(r);

	guest_mem_init(&fx->mem);
	fx_ram(fx, 0, 0xA0000);
	fx->cfg.rom[0].start = 0xC0000;
	fx->cfg.rom[0].size = 0x40000;
	fx->cfg.nr_rom = 1;
	fx_ram(fx, 1 * MiB, 511 * MiB);
	fx->cfg.cmdline = REAL_CMDLINE;
	fx->plat.rsdp_addr = 0xf0000;
	fx_load(fx, BLOB_GUEST, kernel);
	fx_load(fx, BLOB_INITRD, rd);
	if (!r->initrd)
		r->initrd = slurp(rd, &r->initrd_size);
}

static int real_setup(void **state)
{
	const char *kernel = getenv("CVISOR_LINUX_KERNEL");
	struct real *r;

	*state = NULL;
	if (!kernel || !*kernel || access(kernel, R_OK))
		return 0;                  /* the test skips */
	r = calloc(1, sizeof(*r));
	r->file = slurp(kernel, &r->size);
	real_config(r, kernel);
	*state = r;
	return 0;
}

static int real_teardown(void **state)
{
	struct real *r = *state;

	if (!r)
		return 0;
	for (unsigned i = 0; i < r->fx.nr_paths; i++) {
		unlink(r->fx.paths[i]);
		free(r->fx.paths[i]);
	}
	guest_mem_free(&r->fx.mem);
	free(r->file);
	free(r->initrd);
	free(r);
	return 0;
}

static const struct setup_header *file_hdr(const struct real *r)
{
	return (const struct setup_header *)(r->file + LINUX_HDR_OFFSET);
}

/* The kernel's own version string, for the log. */
static void print_versions(const struct real *r)
{
	const struct setup_header *h = file_hdr(r);
	size_t kv = (size_t)h->kernel_version + 0x200;
	char s[128] = "?";

	if (h->kernel_version && kv < r->size)
		snprintf(s, sizeof(s), "%.*s", (int)strnlen((char *)r->file + kv,
			 MIN(sizeof(s) - 1, r->size - kv)), r->file + kv);
	print_message("kernel: %s\nboot protocol %u.%02u, init_size 0x%x, initrd_addr_max 0x%x, cmdline_size %u\n",
		      s, h->version >> 8, h->version & 0xff, h->init_size,
		      h->initrd_addr_max, h->cmdline_size);
}

static void check_kernel(struct real *r)
{
	const struct setup_header *h = file_hdr(r);
	size_t setup = lx_setup_bytes(h->setup_sects), k = r->size - setup;
	struct fixture *fx = &r->fx;

	assert_true(h->version >= 0x020f);
	assert_true(h->xloadflags & LINUX_XLF_KERNEL_64);
	assert_int_equal(fx->res.proto, BOOT_LINUX);
	assert_int_equal(fx->res.cpu.mode, X86_MODE_LONG64);
	assert_int_equal(fx->res.cpu.rip, 0x100200);
	assert_int_equal(fx->res.image_start, 0x100000);
	assert_int_equal(fx->res.image_end, 0x100000 + k);
	assert_memory_equal(fx_ptr(fx, 0x100000, k), r->file + setup, k);
	/* Room to decompress: [16 MiB, + init_size) is RAM. */
	assert_true(h->pref_address + h->init_size <= REAL_RAM_TOP);
}

static void check_zero_page(struct real *r)
{
	struct fixture *fx = &r->fx;
	const struct setup_header *h = file_hdr(r);
	const struct boot_params *zp = lx_zp(fx);
	size_t end = 0x202 + (size_t)r->file[0x201];
	struct setup_header want;

	assert_true(end <= 0x290);
	memset(&want, 0, sizeof(want));
	memcpy(&want, h, MIN(end - LINUX_HDR_OFFSET, sizeof(want)));
	want.type_of_loader = 0xff;
	want.loadflags |= LINUX_CAN_USE_HEAP;
	want.heap_end_ptr = 0xfe00 - 0x200;
	want.vid_mode = 0xffff;
	want.code32_start = 0x100000;
	want.cmd_line_ptr = 0xF000;
	want.ramdisk_image = zp->hdr.ramdisk_image;
	want.ramdisk_size = (uint32_t)r->initrd_size;
	assert_memory_equal(&zp->hdr, &want, sizeof(want));
	assert_int_equal(zp->sentinel, 0);
	assert_int_equal(zp->acpi_rsdp_addr, 0xf0000);
	assert_string_equal((char *)fx_ptr(fx, zp->hdr.cmd_line_ptr,
					   sizeof(REAL_CMDLINE)), REAL_CMDLINE);
	assert_int_equal(zp->e820_entries, 3);
	assert_int_equal(zp->e820_table[0].addr, 0);
	assert_int_equal(zp->e820_table[0].size, 0xA0000);
	assert_int_equal(zp->e820_table[0].type, E820_RAM);
	assert_int_equal(zp->e820_table[1].addr, 0xC0000);
	assert_int_equal(zp->e820_table[1].size, 0x40000);
	assert_int_equal(zp->e820_table[1].type, E820_RESERVED);
	assert_int_equal(zp->e820_table[2].addr, 1 * MiB);
	assert_int_equal(zp->e820_table[2].size, 511 * MiB);
	assert_int_equal(zp->e820_table[2].type, E820_RAM);
}

static void check_initrd(struct real *r)
{
	struct fixture *fx = &r->fx;
	const struct boot_params *zp = lx_zp(fx);
	uint64_t limit = MIN((uint64_t)file_hdr(r)->initrd_addr_max + 1,
			     REAL_RAM_TOP);
	uint64_t at = ALIGN_DOWN(limit - r->initrd_size, 4096);

	print_message("initrd: %zu bytes at 0x%" PRIx64 "\n", r->initrd_size,
		      (uint64_t)zp->hdr.ramdisk_image);
	assert_int_equal(zp->hdr.ramdisk_image, at);
	assert_int_equal(zp->hdr.ramdisk_size, r->initrd_size);
	assert_int_equal(zp->ext_ramdisk_image, 0);
	assert_memory_equal(fx_ptr(fx, at, r->initrd_size), r->initrd,
			    r->initrd_size);
}

static void test_real_bzimage(void **state)
{
	struct real *r = *state;
	struct fixture *fx;

	if (!r) {
		print_message("SKIP: CVISOR_LINUX_KERNEL is not set or not readable (scripts/fetch-linux.sh kernel)\n");
		skip();
	}
	fx = &r->fx;
	print_versions(r);
	if (fx_boot(fx))
		fail_msg("x86_boot_load: %s", fx->err.msg);
	check_kernel(r);
	check_zero_page(r);
	check_initrd(r);
	assert_int_equal(lx_walk(fx, fx->res.cpu.cr3, 0x100200), 0x100200);
	assert_int_equal(lx_walk(fx, fx->res.cpu.cr3, 0x1ffff000), 0x1ffff000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_real_bzimage, real_setup,
						real_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

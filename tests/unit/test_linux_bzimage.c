/* Linux bzImage: header parsing, version and flag checks, truncated files,
 * where the kernel goes and the boot vCPU state. */
#include "fixtures/boot/linux_fixture.h"

static struct img im;

static void expect_bz_err(struct fixture *fx, const char *msg)
{
	const char *path = lx_bz_file(fx, &im);

	fx_load(fx, BLOB_GUEST, path);
	fx_expect_err(fx, 1, path, msg);
}

static void test_detect_and_load(void **state)
{
	struct fixture *fx = *state;
	const struct x86_boot_state *cpu = &fx->res.cpu;
	const uint8_t *k;

	lx_load_default(fx);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_LINUX);
	assert_int_equal(fx->res.image_start, 0x100000);
	assert_int_equal(fx->res.image_end, 0x100000 + LX_PAYLOAD);
	k = fx_ptr(fx, 0x100000, LX_PAYLOAD);
	for (size_t i = 0; i < LX_PAYLOAD; i++)
		assert_int_equal(k[i], lx_pattern(i));

	/* 64-bit entry: load address + 0x200, long mode, rsi = zero page. */
	assert_int_equal(cpu->mode, X86_MODE_LONG64);
	assert_int_equal(cpu->rip, 0x100200);
	assert_int_equal(cpu->rsi, 0x7000);
	assert_int_equal(fx->res.info_addr, 0x7000);
	assert_int_equal(cpu->cr3, 0x9000);
	assert_int_equal(cpu->gdt_base, 0x5000);
	assert_int_equal(cpu->rsp, 0x9000);
	assert_int_equal(cpu->rax, 0);
	assert_int_equal(cpu->rbx, 0);
}

/* setup_sects 0 means 4: the kernel starts at 5 * 512 in the file. */
static void test_setup_sects_zero(void **state)
{
	struct fixture *fx = *state;
	const uint8_t *k;

	lx_bzimage(&im, 0, LX_PAYLOAD);
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	assert_int_equal(fx_boot(fx), 0);
	k = fx_ptr(fx, 0x100000, LX_PAYLOAD);
	assert_int_equal(k[0], lx_pattern(0));
	assert_int_equal(k[LX_PAYLOAD - 1], lx_pattern(LX_PAYLOAD - 1));
	assert_int_equal(fx->res.image_end, 0x100000 + LX_PAYLOAD);
}

/* A file longer than syssize says is fine (signatures are appended). */
static void test_trailing_bytes(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->syssize = 0x100;
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.image_end, 0x100000 + LX_PAYLOAD);
}

static void test_too_old(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->version = 0x0205;
	expect_bz_err(fx, "kernel too old (boot protocol 2.05, need 2.06)");
}

static void test_too_old_2_00(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->version = 0x0200;
	expect_bz_err(fx, "kernel too old (boot protocol 2.00, need 2.06)");
}

static void test_no_64bit_entry(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->xloadflags = 2;
	expect_bz_err(fx, "kernel has no 64-bit entry point (xloadflags)");
}

/* Before 2.12 the xloadflags bytes were padding: no 64-bit entry. */
static void test_no_xloadflags_before_2_12(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->version = 0x020b;
	expect_bz_err(fx, "kernel has no 64-bit entry point (xloadflags)");
}

static void test_not_loaded_high(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->loadflags = 0;
	expect_bz_err(fx, "not a bzImage: the kernel loads low (LOADED_HIGH is not set in loadflags)");
}

static void test_truncated_header(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);
	im.size = 0x240;
	expect_bz_err(fx, "truncated: the setup header ends at 0x26c, past the end of the file (576 bytes)");
}

static void test_short_header(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->jump = 0x1eEB;
	expect_bz_err(fx, "kernel too old: its setup header ends at 0x220 (boot protocol 2.06 needs 0x23c)");
}

static void test_truncated_setup(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, 20, LX_PAYLOAD);
	im.size = 0x1000;
	expect_bz_err(fx, "truncated: the setup code (0x2a00 bytes) reaches the end of the file (4096 bytes)");
}

static void test_truncated_kernel(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);
	im.size -= 0x100;
	expect_bz_err(fx, "truncated: the kernel is 0x3000 bytes (syssize) but the file has 0x2f00 after the setup code");
}

static void test_kernel_before_entry(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, 0x100);
	expect_bz_err(fx, "truncated: the kernel (0x100 bytes) ends before its 64-bit entry point");
}

static void test_init_size_too_big(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->init_size = 0x3001000;
	expect_bz_err(fx, "kernel does not fit in guest RAM: it needs 0x3001000 bytes at 0x1000000 to decompress (init_size)");
}

/* Not relocatable: the kernel moves itself to pref_address. */
static void test_init_size_fixed_kernel(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->relocatable_kernel = 0;
	h->pref_address = 0x3800000;
	h->init_size = 0x900000;
	expect_bz_err(fx, "kernel does not fit in guest RAM: it needs 0x900000 bytes at 0x3800000 to decompress (init_size)");
}

/* Relocatable with no preferred address: the span starts at the load
 * address rounded up to kernel_alignment (2 MiB). */
static void test_init_size_aligned_load(void **state)
{
	struct fixture *fx = *state;
	struct setup_header *h = lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);

	h->pref_address = 0;
	h->init_size = 0x4000000;
	expect_bz_err(fx, "kernel does not fit in guest RAM: it needs 0x4000000 bytes at 0x200000 to decompress (init_size)");
}

static void test_kernel_outside_ram(void **state)
{
	struct fixture *fx = *state;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);
	expect_bz_err(fx, "kernel at 0x100000 (size 0x3000) is outside guest RAM");
}

/* 0xAA55 without "HdrS" is a boot sector, not a kernel: raw if it has an
 * address, otherwise nothing we know. */
static void test_boot_sector_is_not_bzimage(void **state)
{
	struct fixture *fx = *state;
	const char *path;

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD)->header = 0;
	path = lx_bz_file(fx, &im);
	fx_load_at(fx, BLOB_GUEST, path, 0x7c00);
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_RAW);
}

static void test_not_a_kernel(void **state)
{
	struct fixture *fx = *state;

	memset(&im, 0, sizeof(im));
	im.size = 0x1000;
	memset(im.buf, 0x33, im.size);
	expect_bz_err(fx, "not a kernel: neither an ELF image, a multiboot image, a Linux bzImage, nor a raw image with a load address");
}

/* A tiny file cannot be a bzImage and must not be read past its end. */
static void test_tiny_file(void **state)
{
	struct fixture *fx = *state;

	memset(&im, 0, sizeof(im));
	im.size = 0x204;
	im.buf[0x1fe] = 0x55;
	im.buf[0x1ff] = 0xaa;
	memcpy(im.buf + 0x202, "Hd", 2);
	expect_bz_err(fx, "not a kernel: neither an ELF image, a multiboot image, a Linux bzImage, nor a raw image with a load address");
}

/* A multiboot header in the first 8 KiB wins over the Linux header, as the
 * detection order says. */
static void test_multiboot_before_bzimage(void **state)
{
	struct fixture *fx = *state;
	uint32_t addr[5] = { 0x100000 + 0x800, 0x100000, 0, 0, 0x100000 };

	lx_bzimage(&im, LX_SETUP_SECTS, LX_PAYLOAD);
	mb_header(im.buf + 0x800, MB_HF_ADDRESS, addr);
	fx_load(fx, BLOB_GUEST, lx_bz_file(fx, &im));
	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_MULTIBOOT);
}

#define T(f) cmocka_unit_test_setup_teardown(f, lx_setup, fx_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_detect_and_load), T(test_setup_sects_zero),
		T(test_trailing_bytes), T(test_too_old), T(test_too_old_2_00),
		T(test_no_64bit_entry), T(test_no_xloadflags_before_2_12),
		T(test_not_loaded_high), T(test_truncated_header),
		T(test_short_header), T(test_truncated_setup),
		T(test_truncated_kernel), T(test_kernel_before_entry),
		T(test_init_size_too_big), T(test_init_size_fixed_kernel),
		T(test_init_size_aligned_load),
		cmocka_unit_test_setup_teardown(test_kernel_outside_ram,
						fx_setup_high_2m, fx_teardown),
		T(test_boot_sector_is_not_bzimage), T(test_not_a_kernel),
		T(test_tiny_file), T(test_multiboot_before_bzimage),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

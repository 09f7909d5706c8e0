/* The multiboot command line starts with the image's path, as GRUB and
 * QEMU pass it ("PATH ARGS"): a multiboot kernel takes the first word as
 * argv[0]. Without arguments it is the path alone. */
#include "fixtures/boot/boot_fixture.h"

/* A flat multiboot binary (address fields) at 2 MiB. */
static const char *mb_image(struct fixture *fx)
{
	static uint8_t bin[0x200];
	const uint32_t addr[5] = { 0x200000, 0x200000, 0, 0x201000, 0x200040 };

	memset(bin, 0x90, sizeof(bin));
	mb_header(bin, MB_HF_ADDRESS | MB_HF_MEMORY_INFO, addr);
	return fx_file(fx, bin, sizeof(bin));
}

static const char *mb_cmdline(struct fixture *fx)
{
	const struct multiboot_info *mi;

	assert_int_equal(fx_boot(fx), 0);
	assert_int_equal(fx->res.proto, BOOT_MULTIBOOT);
	mi = fx_ptr(fx, fx->res.cpu.rbx, sizeof(*mi));
	assert_true(mi->flags & MB_INFO_CMDLINE);
	return fx_ptr(fx, mi->cmdline, 1);
}

static void test_path_then_args(void **state)
{
	struct fixture *fx = *state;
	const char *img = mb_image(fx);
	char want[4200];

	fx_load(fx, BLOB_GUEST, img);
	fx->cfg.cmdline = "smp cpus=2";
	snprintf(want, sizeof(want), "%s smp cpus=2", img);
	assert_string_equal(mb_cmdline(fx), want);
}

static void test_path_alone(void **state)
{
	struct fixture *fx = *state;
	const char *img = mb_image(fx);

	fx_load(fx, BLOB_GUEST, img);
	assert_string_equal(mb_cmdline(fx), img);
}

/* The strings after the command line (loader name, module names) are not
 * overwritten by the longer line. */
static void test_layout_after_cmdline(void **state)
{
	struct fixture *fx = *state;
	const char *img = mb_image(fx);
	const char *mod = fx_file(fx, "module", 6);
	const struct multiboot_info *mi;
	const struct multiboot_mod *m;
	char want[4200];

	fx_load(fx, BLOB_GUEST, img);
	fx_load(fx, BLOB_INITRD, mod);
	fx->cfg.cmdline = "a b c";
	snprintf(want, sizeof(want), "%s a b c", img);
	assert_string_equal(mb_cmdline(fx), want);
	mi = fx_ptr(fx, fx->res.cpu.rbx, sizeof(*mi));
	assert_string_equal((char *)fx_ptr(fx, mi->boot_loader_name, 1),
			    "cvisor");
	m = fx_ptr(fx, mi->mods_addr, sizeof(*m));
	assert_string_equal((char *)fx_ptr(fx, m->string, 1), mod);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_path_then_args, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_path_alone, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_layout_after_cmdline, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Firmware boot: the `firmware` statement (its errors at file:line:col),
 * QNX's rom + load form, the ROM and shadow contents and the reset state
 * (arch/x86/firmware_boot.c), and fw_cfg's bootorder from `bootindex`
 * (arch/x86/bootorder.c). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "arch/x86/boot.h"
#include "arch/x86/bootorder.h"
#include "arch/x86/firmware.h"
#include "arch/x86/firmware_boot.h"
#include "bus/pci.h"
#include "config/config.h"
#include "mem/guest_mem.h"

#define FOUR_G (1ULL << 32)
#define LOW "ram 0,0xa0000\nram 1m,63m\n"

static char img128[64], img256[64], img100[64];

/* A BIOS image whose every 4-byte word is its own offset, so that any
 * misplaced copy shows. */
static void make_image(char *path, size_t len)
{
	uint32_t *w = malloc(len);
	FILE *f;
	int fd;

	strcpy(path, "/tmp/cvisor-fwboot-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	for (size_t i = 0; i < len / 4; i++)
		w[i] = (uint32_t)(i * 4);
	f = fdopen(fd, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(w, 1, len, f), len);
	fclose(f);
	free(w);
}

static int setup(void **state)
{
	make_image(img128, 128 << 10);
	make_image(img256, 256 << 10);
	make_image(img100, 100);
	return 0;
}

static int teardown(void **state)
{
	unlink(img128);
	unlink(img256);
	unlink(img100);
	return 0;
}

static int parse(struct vm_config *cfg, struct cfg_error *err,
		 const char *fmt, const char *path)
{
	char text[512];

	snprintf(text, sizeof(text), fmt, path, path);
	return config_from_string(cfg, "t.qvmconf", text, err);
}

static void parse_bad(const char *fmt, const char *path, unsigned line,
		      unsigned col, const char *msg_part)
{
	struct vm_config cfg;
	struct cfg_error err;

	assert_int_equal(parse(&cfg, &err, fmt, path), -1);
	if (!strstr(err.msg, msg_part) || err.pos.line != line || err.pos.col != col)
		fail_msg("%u:%u: '%s' (expected %u:%u '%s')", err.pos.line, err.pos.col, err.msg, line, col, msg_part);
	assert_int_equal(err.pos.line, line);
	assert_int_equal(err.pos.col, col);
}

static void test_statement(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;

	assert_int_equal(parse(&cfg, &err, LOW "firmware %s\n", img256), 0);
	assert_string_equal(cfg.firmware.path, img256);
	assert_int_equal(cfg.firmware_size, 256 << 10);
	assert_int_equal(cfg.firmware.addr, FOUR_G - (256 << 10));
	assert_ptr_equal(x86_fwboot_image(&cfg), &cfg.firmware);
	config_free(&cfg);

	parse_bad(LOW "firmware %s\nload %s\n", img128, 4, 6,
		  "firmware boots from a disk; a kernel load");
	parse_bad(LOW "firmware %s\ninitrd load %s\n", img128, 4, 13,
		  "initrd load cannot be used");
	parse_bad(LOW "firmware %s\ncmdline x\n", img128, 4, 1,
		  "the boot loader on the disk");
	parse_bad(LOW "firmware %s firmware %s\n", img128, 3, 36,
		  "firmware given twice");
	parse_bad(LOW "firmware %s\n", img100, 3, 10,
		  "128 KiB to 16 MiB, in 64 KiB blocks");
	parse_bad(LOW "firmware %s\n", "/nonexistent/bios.bin", 3, 10,
		  "cannot read");
	parse_bad(LOW "firmware\n", "", 3, 1, "expected 'seabios'");
	/* the BIOS copy below 1 MiB is RAM: no rom there */
	parse_bad("ram 0,0xa0000\nrom 0xc0000,0x40000\nram 1m,63m\n"
		  "firmware %s\n", img256, 2, 5, "copies the BIOS into RAM at "
		  "0xc0000-0xfffff");
	parse_bad("ram 0,0xa0000\nrom 0xe0000,0x20000\nram 1m,63m\n"
		  "rom 0xfffe0000,128k load 0xfffe0000,%s\n", img128, 2, 5,
		  "at 0xe0000-0xfffff");
	assert_int_equal(parse(&cfg, &err, "ram 0,0xa0000\nrom 0xc0000,"
			       "0x20000\nram 1m,63m\nfirmware %s\n", img128), 0);
	config_free(&cfg);
}

static void test_seabios_name(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;

	if (access("/usr/share/seabios/bios-256k.bin", R_OK) &&
	    access("/usr/share/seabios/bios.bin", R_OK)) {
		print_message("SKIP: SeaBIOS not installed (no /usr/share/"
			      "seabios/bios-256k.bin or bios.bin; Debian's "
			      "seabios package)\n");
		skip();
	}
	assert_int_equal(parse(&cfg, &err, LOW "firmware seabios%s\n", ""), 0);
	assert_non_null(strstr(cfg.firmware.path, "/usr/share/seabios/"));
	config_free(&cfg);
}

/* Map and load as the builder does; returns the load's result. */
static int boot(struct vm_config *cfg, struct guest_mem *mem,
		struct boot_result *res, struct cfg_error *err)
{
	guest_mem_init(mem);
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		assert_non_null(guest_mem_add(mem, cfg->ram[i].start,
					      cfg->ram[i].size, GUEST_RAM));
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		assert_non_null(guest_mem_add(mem, cfg->rom[i].start,
					      cfg->rom[i].size, GUEST_ROM));
	assert_int_equal(x86_fwboot_setup_memory(cfg, mem), 0);
	assert_false(x86_firmware_needs_bios_area(cfg));
	return x86_boot_load(cfg, mem, NULL, res, err);
}

static uint32_t word(const struct guest_mem *mem, uint64_t gpa)
{
	uint32_t v = 0xdeadbeef;

	assert_int_equal(guest_mem_read(mem, gpa, &v, 4), 0);
	return v;
}

static void test_load_256k(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;
	struct guest_mem mem;
	struct boot_result res;
	const struct guest_region *r;

	assert_int_equal(parse(&cfg, &err, LOW "firmware %s\n", img256), 0);
	assert_int_equal(boot(&cfg, &mem, &res, &err), 0);
	assert_int_equal(res.proto, BOOT_FIRMWARE);
	assert_int_equal(res.cpu.mode, X86_MODE_RESET);
	assert_int_equal(res.cpu.rip, 0xfff0);
	/* ROM at the top of 4 GiB: the reset vector is the image's end */
	r = guest_mem_find(&mem, FOUR_G - 16, 16);
	assert_non_null(r);
	assert_int_equal(r->kind, GUEST_ROM);
	assert_int_equal(word(&mem, FOUR_G - (256 << 10)), 0);
	assert_int_equal(word(&mem, FOUR_G - 16), (256 << 10) - 16);
	/* all 256 KiB shadowed in RAM below 1 MiB, where SeaBIOS runs */
	r = guest_mem_find(&mem, 0xc0000, 0x40000);
	assert_non_null(r);
	assert_int_equal(r->kind, GUEST_RAM);
	assert_int_equal(word(&mem, 0xc0000), 0);
	assert_int_equal(word(&mem, 0xffff0), (256 << 10) - 16);
	guest_mem_free(&mem);
	config_free(&cfg);
}

/* QNX: `rom` at the top of 4 GiB and the BIOS loaded into it. */
static void test_rom_load(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;
	struct guest_mem mem;
	struct boot_result res;

	assert_int_equal(parse(&cfg, &err, LOW "rom 0xfffe0000,128k\n"
			       "load 0xfffe0000,%s\n", img128), 0);
	assert_ptr_equal(x86_fwboot_image(&cfg), &cfg.loads[0]);
	assert_int_equal(boot(&cfg, &mem, &res, &err), 0);
	assert_int_equal(res.cpu.mode, X86_MODE_RESET);
	/* 128 KiB: the shadow is 0xE0000-0xFFFFF only */
	assert_null(guest_mem_find(&mem, 0xc0000, 4));
	assert_int_equal(word(&mem, 0xe0000), 0);
	assert_int_equal(word(&mem, 0xffffc), (128 << 10) - 4);
	assert_int_equal(word(&mem, 0xfffffffc), (128 << 10) - 4);
	guest_mem_free(&mem);
	config_free(&cfg);

	/* an image that stops short of 4 GiB has no reset vector */
	assert_int_equal(parse(&cfg, &err, LOW "rom 0xfffc0000,256k\n"
			       "load 0xfffc0000,%s\n", img128), 0);
	assert_int_equal(boot(&cfg, &mem, &res, &err), -1);
	assert_non_null(strstr(err.msg, "a BIOS image ends at 4 GiB"));
	assert_int_equal(err.pos.line, 4);
	guest_mem_free(&mem);
	config_free(&cfg);
}

static void test_bootorder(void **state)
{
	struct vm_config cfg;
	struct cfg_error err;
	struct pci_func f[3];
	struct device dummy = { .name = "x" };
	struct device *devs[4];
	char *order;

	assert_int_equal(parse(&cfg, &err, LOW "load /dev/null\n"
			       "vdev virtio-blk hostdev %s bootindex 5\n"
			       "vdev virtio-blk hostdev %s\n"
			       "vdev virtio-blk hostdev /dev/null bootindex 2\n",
			       img128), 0);
	for (unsigned i = 0; i < 3; i++) {
		pci_func_init(&f[i], "virtio-blk", NULL, NULL, 0x1af4, 0x1042,
			      0x018000, 1, 0x1af4, 2);
		f[i].dev.vdev = &cfg.vdevs[i];
		f[i].slot = (uint8_t)(i + 3);
		devs[i + 1] = &f[i].dev;
	}
	f[2].fn = 1;
	devs[0] = &dummy;
	assert_null(x86_bootorder(devs, 1));
	order = x86_bootorder(devs, 4);
	assert_non_null(order);
	assert_string_equal(order, "/pci@i0cf8/scsi@5,1/disk@0,0\n"
			    "/pci@i0cf8/scsi@3/disk@0,0\n");
	free(order);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_statement),
		cmocka_unit_test(test_seabios_name),
		cmocka_unit_test(test_load_256k),
		cmocka_unit_test(test_rom_load),
		cmocka_unit_test(test_bootorder),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

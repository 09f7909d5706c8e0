/* `pass` statements (config/pass.c): every host location form, the guest
 * slot in both spellings, the ROM options, and the refusals with their
 * positions. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"

static char dir[64];
static char blob[128];
static struct vm_config cfg;
static struct cfg_error err;

static int setup(void **state)
{
	return unit_blob_dir(dir, sizeof(dir), "/tmp/cvisor-pass-XXXXXX", blob, sizeof(blob));
}

static int teardown(void **state)
{
	unlink(blob);
	rmdir(dir);
	return 0;
}

/* Parse "ram 64m load BLOB " + text (all on line 1). */
static int parse(const char *text)
{
	char buf[1024];

	config_free(&cfg);
	memset(&err, 0, sizeof(err));
	snprintf(buf, sizeof(buf), "ram 64m load %s %s\n", blob, text);
	return config_from_string(&cfg, "t.qvmconf", buf, &err);
}

/* Column of the error (the prefix is 14 + strlen(blob) characters). */
static unsigned col(const char *text, const char *word)
{
	return (unsigned)(14 + strlen(blob) + (strstr(text, word) - text) + 1);
}

static void expect_error(const char *text, const char *at, const char *msg)
{
	assert_int_equal(parse(text), -1);
	if (!strstr(err.msg, msg))
		fail_msg("'%s': got '%s', want '%s'", text, err.msg, msg);
	assert_int_equal(err.pos.line, 1);
	assert_int_equal(err.pos.col, col(text, at));
}

static void test_bdf(void **state)
{
	const struct pass_config *p;

	assert_int_equal(parse("pass loc pci:0:3.0"), 0);
	assert_int_equal(cfg.nr_pass, 1);
	p = &cfg.passes[0];
	assert_int_equal(p->kind, PASS_PCI_ADDR);
	assert_int_equal(p->seg, 0);
	assert_int_equal(p->bus, 0);
	assert_int_equal(p->dev, 3);
	assert_int_equal(p->fn, 0);
	assert_false(p->has_guest_slot);
	assert_true(vm_config_has_pci(&cfg));

	assert_int_equal(parse("pass loc pci:0x1:0:0x1f.7"), 0);
	p = &cfg.passes[0];
	assert_int_equal(p->seg, 1);
	assert_int_equal(p->bus, 0);
	assert_int_equal(p->dev, 31);
	assert_int_equal(p->fn, 7);
	/* QNX 7.0's split form */
	assert_int_equal(parse("pass loc pci 2:4.1"), 0);
	assert_int_equal(cfg.passes[0].bus, 2);
	assert_int_equal(cfg.passes[0].dev, 4);
	assert_int_equal(cfg.passes[0].fn, 1);
}

static void test_by_id(void **state)
{
	const struct pass_config *p;

	assert_int_equal(parse("pass loc pci:1234/11e8"), 0);
	p = &cfg.passes[0];
	assert_int_equal(p->kind, PASS_PCI_ID);
	assert_int_equal(p->vid, 0x1234);
	assert_int_equal(p->did, 0x11e8);
	assert_int_equal(p->index, 0);
	assert_int_equal(parse("pass loc pci:0x8086/0x10D3/2"), 0);
	p = &cfg.passes[0];
	assert_int_equal(p->vid, 0x8086);
	assert_int_equal(p->did, 0x10d3);
	assert_int_equal(p->index, 2);
}

static void test_sysfs(void **state)
{
	const char *t = "pass loc sysfs:/sys/bus/mdev/devices/"
			"c0ffee00-0000-4000-8000-000000000001";

	assert_int_equal(parse(t), 0);
	assert_int_equal(cfg.passes[0].kind, PASS_SYSFS);
	assert_string_equal(cfg.passes[0].sysfs, "/sys/bus/mdev/devices/"
			    "c0ffee00-0000-4000-8000-000000000001");
}

static void test_guest_slot(void **state)
{
	const struct pass_config *p;

	assert_int_equal(parse("pass loc pci:0:12.0=pci:0x8086/0x1234"), 0);
	p = &cfg.passes[0];
	assert_true(p->has_guest_slot);
	assert_int_equal(p->guest_dev, 12);
	assert_int_equal(p->guest_fn, 0);
	assert_int_equal(p->kind, PASS_PCI_ID);
	assert_int_equal(p->vid, 0x8086);
	assert_int_equal(parse("pass loc pci:0:3.0 guest-loc pci:0:5.2"), 0);
	p = &cfg.passes[0];
	assert_true(p->has_guest_slot);
	assert_int_equal(p->guest_dev, 5);
	assert_int_equal(p->guest_fn, 2);
	assert_int_equal(p->dev, 3);
}

static void test_rom(void **state)
{
	char text[256];

	assert_int_equal(parse("pass loc pci:0:3.0 rombar off"), 0);
	assert_true(cfg.passes[0].rombar_off);
	assert_false(cfg.passes[0].mmap_off);
	assert_int_equal(parse("pass loc pci:0:3.0 mmap off"), 0);
	assert_true(cfg.passes[0].mmap_off);
	assert_null(cfg.passes[0].romfile);
	snprintf(text, sizeof(text), "pass loc pci:0:3.0 romfile %s", blob);
	assert_int_equal(parse(text), 0);
	assert_false(cfg.passes[0].rombar_off);
	assert_string_equal(cfg.passes[0].romfile, blob);
}

static void test_two(void **state)
{
	assert_int_equal(parse("pass loc pci:0:3.0 pass loc pci:0:4.0 "
			       "guest-loc pci:0:9.0"), 0);
	assert_int_equal(cfg.nr_pass, 2);
	assert_int_equal(cfg.passes[1].dev, 4);
	assert_true(cfg.passes[1].has_guest_slot);
	assert_false(cfg.passes[0].has_guest_slot);
}

static void test_refused(void **state)
{
	const char *t;

	t = "pass loc mem:0x2000,0x1000,r=0x1000";
	expect_error(t, "mem:", "pass of host memory or ports "
		     "('mem:0x2000,0x1000,r=0x1000') is refused: without "
		     "VFIO, Linux isolates neither");
	t = "pass loc io:0x3f8,8";
	expect_error(t, "io:", "('io:0x3f8,8') is refused");
	t = "pass loc 0xe6055400,0x050,rwn";
	expect_error(t, "0xe6", "is refused");
	t = "guest pass 0x1000,g";
	expect_error(t, "pass 0x", "'guest pass' (host memory mapped into "
		     "the guest) is refused");
}

static void test_malformed(void **state)
{
	const char *t;

	t = "pass loc pci:0:3";
	expect_error(t, "pci:", "pass location 'pci:0:3' needs a function");
	t = "pass loc pci:0:32.0";
	expect_error(t, "pci:", "pci device 32 out of range (0-31)");
	t = "pass loc pci:0:3.8";
	expect_error(t, "pci:", "pci function 8 out of range (0-7)");
	t = "pass loc pci:256:3.0";
	expect_error(t, "pci:", "pci bus 256 out of range (0-255)");
	t = "pass loc pci:0x10000:0:3.0";
	expect_error(t, "pci:", "pci segment 65536 out of range");
	t = "pass loc pci:zz/11e8";
	expect_error(t, "pci:", "invalid pci id in 'zz/11e8'");
	t = "pass loc pci:1234/11e8/x";
	expect_error(t, "pci:", "invalid pci index 'x'");
	t = "pass loc usb:1";
	expect_error(t, "usb", "invalid pass location 'usb:1'");
	t = "pass loc sysfs:/dev/mem";
	expect_error(t, "sysfs", "expected sysfs:/sys/...");
	t = "pass loc sysfs:/sys/../dev/mem";
	expect_error(t, "sysfs", "expected sysfs:/sys/...");
	t = "pass loc pci:0:3.0 loc pci:0:4.0";
	expect_error(t, "pci:0:4", "pass takes one device");
	t = "pass loc pci:0:3.0 guest-loc pci:1:3.0";
	expect_error(t, "pci:1", "pci bus 1 does not exist in the guest");
	t = "pass loc pci:0:3.0 guest-loc pci:0:0.0";
	expect_error(t, "pci:0:0", "pci slot 0 is the host bridge");
	t = "pass loc pci:0:3.0 guest-loc pci:0x8086/0x1234";
	expect_error(t, "pci:0x", "expected pci:0:DEV[.FN]");
	t = "pass loc pci:0:3.0 rombar maybe";
	expect_error(t, "maybe", "expected 'on' or 'off' after 'rombar'");
	t = "pass loc pci:0:3.0 intr ioapic:5";
	expect_error(t, "intr", "a passed PCI device takes no 'intr'");
	t = "pass loc pci:0:3.0 hostdev x";
	expect_error(t, "hostdev", "'hostdev' is only valid after vdev");
	t = "pass loc pci:0:3.0 speed 3";
	expect_error(t, "speed", "unknown option 'speed' for pass");
	t = "pass guest-loc pci:0:3.0";
	expect_error(t, "pass", "pass needs 'loc'");
	t = "pass loc pci:0:3.0 pass loc pci 0:3.0";
	expect_error(t, "pci 0", "");
	assert_non_null(strstr(err.msg, "this device is already passed at "));
	t = "pass loc pci:0:3.0 rombar off romfile /etc/hostname";
	expect_error(t, "/etc", "romfile with rombar off");
	t = "vdev virtio-rng loc pci:0:4 pass loc pci:0:3.0 guest-loc pci:0:4.0";
	assert_int_equal(parse(t), -1);
	assert_non_null(strstr(err.msg, "overlaps"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bdf),
		cmocka_unit_test(test_by_id),
		cmocka_unit_test(test_sysfs),
		cmocka_unit_test(test_guest_slot),
		cmocka_unit_test(test_rom),
		cmocka_unit_test(test_two),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_malformed),
	};
	int ret = cmocka_run_group_tests(tests, setup, teardown);

	config_free(&cfg);
	return ret;
}

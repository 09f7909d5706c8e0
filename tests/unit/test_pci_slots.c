/* The guest PCI slots (config/pci_slots.c), as the builder attaches the
 * functions: the slots a config names are set aside first, whoever names
 * them and wherever in the config, then each function without one takes
 * the first wholly free slot from 1; x86 and arm64 alike. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "config/config.h"

static char dir[64];
static char blob[128];
static struct vm_config cfg;
static struct cfg_pci_plan plan;

static int setup(void **state)
{
	return unit_blob_dir(dir, sizeof(dir), "/tmp/cvisor-slots-XXXXXX", blob, sizeof(blob));
}

static int teardown(void **state)
{
	config_free(&cfg);
	unlink(blob);
	rmdir(dir);
	return 0;
}

/* A valid config of head + BLOB + text, and its plan. */
static void plan_of(const char *head, const char *text)
{
	struct cfg_error err;
	char buf[1024];

	config_free(&cfg);
	snprintf(buf, sizeof(buf), "%s load %s %s\n", head, blob, text);
	if (config_from_string(&cfg, "t.qvmconf", buf, &err))
		fail_msg("%u:%u: %s", err.pos.line, err.pos.col, err.msg);
	assert_int_equal(config_pci_plan(&cfg, &plan, &err), 0);
}

static void expect_at(const struct cfg_pci_place *p, unsigned dev,
		      unsigned fn)
{
	assert_true(p->placed);
	assert_int_equal(p->dev, dev);
	assert_int_equal(p->fn, fn);
}

/* A vdev without a loc does not take slot 1, which a later vdev names
 * (the builder took it and the later one failed with EBUSY). */
static void test_fixed_vdev_later(void **state)
{
	plan_of("ram 64m", "vdev virtio-entropy vdev virtio-entropy loc "
		"pci:0:1.0");
	expect_at(&plan.vdev[0], 2, 0);
	expect_at(&plan.vdev[1], 1, 0);
}

/* Nor a slot a pass's guest-loc names; a pass without one comes after
 * the vdevs. */
static void test_pass_guest_slot(void **state)
{
	plan_of("ram 64m", "vdev virtio-entropy pass loc pci:0:3.0 guest-loc "
		"pci:0:1 pass loc pci:0:4.0");
	expect_at(&plan.vdev[0], 2, 0);
	expect_at(&plan.pass[0], 1, 0);
	expect_at(&plan.pass[1], 3, 0);
}

/* A reserved slot, and a slot with only function 3 taken, are not free;
 * devices that are not on PCI take none. */
static void test_not_free(void **state)
{
	plan_of("ram 64m", "reserve loc pci:0:1.0 vdev ser8250 vdev "
		"virtio-console loc pci:0:2.3 hostdev >- vdev virtio-entropy "
		"loc 0x10000000 intr ioapic:5 vdev virtio-entropy");
	assert_false(plan.vdev[0].placed);
	expect_at(&plan.vdev[1], 2, 3);
	assert_false(plan.vdev[2].placed);
	expect_at(&plan.vdev[3], 3, 0);
}

/* No PCI function: nothing placed, no host bridge. */
static void test_no_pci(void **state)
{
	plan_of("ram 64m", "vdev ser8250");
	assert_false(plan.vdev[0].placed);
}

/* arm64's bridge is the same one: slot 0 its own, 31 others. */
static void test_arm64(void **state)
{
	plan_of("arch arm64 ram 0x80000000,64m", "vdev virtio-entropy vdev "
		"virtio-entropy loc pci:0:1");
	expect_at(&plan.vdev[0], 2, 0);
	expect_at(&plan.vdev[1], 1, 0);
}

/* 31 functions fill bus 0; the 32nd is refused where it is written. */
static void test_full(void **state)
{
	struct cfg_error err;
	char buf[2048];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "ram 64m load %s\n", blob);
	for (unsigned i = 0; i < 31; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "vdev virtio-entropy\n");
	config_free(&cfg);
	assert_int_equal(config_from_string(&cfg, "t.qvmconf", buf, &err), 0);
	assert_int_equal(config_pci_plan(&cfg, &plan, &err), 0);
	expect_at(&plan.vdev[30], 31, 0);
	snprintf(buf + n, sizeof(buf) - n, "vdev virtio-entropy\n");
	config_free(&cfg);
	assert_int_equal(config_from_string(&cfg, "t.qvmconf", buf, &err), -1);
	assert_int_equal(err.pos.line, 33);
	assert_int_equal(err.pos.col, 6);
	assert_non_null(strstr(err.msg, "no free pci slot"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fixed_vdev_later),
		cmocka_unit_test(test_pass_guest_slot),
		cmocka_unit_test(test_not_free),
		cmocka_unit_test(test_no_pci),
		cmocka_unit_test(test_arm64),
		cmocka_unit_test(test_full),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

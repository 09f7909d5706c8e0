/* vfio/sysfs.c against a fake sysfs tree: a device found by address, by
 * ids and index, by path (an mdev); an unbound or wrongly bound device
 * refused with the exact commands that bind it; no IOMMU group. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "vfio/vfio.h"

static char root[64];
static char why[2048];

static void mkdirs(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void put(const char *rel, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void link_to(const char *rel, const char *target)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
}

/* A PCI function in the tree: ids, driver (NULL: none), IOMMU group. */
static void add_fn(const char *bdf, const char *vid, const char *did,
		   const char *drv, int group)
{
	char d[128], f[160], t[160];

	snprintf(d, sizeof(d), "devices/pci0000:00/%s", bdf);
	mkdirs(d);
	snprintf(f, sizeof(f), "%s/vendor", d);
	put(f, vid);
	snprintf(f, sizeof(f), "%s/device", d);
	put(f, did);
	if (drv) {
		snprintf(f, sizeof(f), "bus/pci/drivers/%s", drv);
		mkdirs(f);
		snprintf(f, sizeof(f), "%s/driver", d);
		snprintf(t, sizeof(t), "../../../bus/pci/drivers/%s", drv);
		link_to(f, t);
	}
	if (group >= 0) {
		snprintf(f, sizeof(f), "kernel/iommu_groups/%d", group);
		mkdirs(f);
		snprintf(f, sizeof(f), "%s/iommu_group", d);
		snprintf(t, sizeof(t), "../../../kernel/iommu_groups/%d",
			 group);
		link_to(f, t);
	}
	snprintf(f, sizeof(f), "bus/pci/devices/%s", bdf);
	snprintf(t, sizeof(t), "../../../devices/pci0000:00/%s", bdf);
	link_to(f, t);
}

static int setup(void **state)
{
	strcpy(root, "/tmp/cvisor-sysfs-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	mkdirs("bus/pci/devices");
	add_fn("0000:00:01.0", "0x1234\n", "0x11e8\n", "vfio-pci", 1);
	add_fn("0000:00:02.0", "0x1af4\n", "0x1009\n", "virtio-pci", 2);
	add_fn("0000:00:03.0", "0x1234\n", "0x11e8\n", NULL, 3);
	add_fn("0000:00:04.0", "0x1234\n", "0x11e8\n", "vfio-pci", -1);
	add_fn("0001:02:1f.7", "0x8086\n", "0x10d3\n", "vfio-pci", 9);
	/* an mdev: no vendor file, a group, no driver check */
	mkdirs("devices/virtual/mdev/c0ffee00-0000-4000-8000-000000000001");
	mkdirs("kernel/iommu_groups/12");
	link_to("devices/virtual/mdev/c0ffee00-0000-4000-8000-000000000001/"
		"iommu_group", "../../../../kernel/iommu_groups/12");
	mkdirs("bus/mdev/devices");
	link_to("bus/mdev/devices/c0ffee00-0000-4000-8000-000000000001",
		"../../../devices/virtual/mdev/"
		"c0ffee00-0000-4000-8000-000000000001");
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd) ? -1 : 0;
}

static int find(const struct pass_config *pc, struct vfio_host_dev *d)
{
	why[0] = '\0';
	return vfio_find_device(root, pc, d, why, sizeof(why));
}

static void test_by_addr(void **state)
{
	struct pass_config pc = { .kind = PASS_PCI_ADDR, .dev = 1 };
	struct vfio_host_dev d;

	assert_int_equal(find(&pc, &d), 0);
	assert_string_equal(d.name, "0000:00:01.0");
	assert_int_equal(d.group, 1);
	assert_true(d.is_pci);
	pc = (struct pass_config){ .kind = PASS_PCI_ADDR, .seg = 1, .bus = 2,
				   .dev = 31, .fn = 7 };
	assert_int_equal(find(&pc, &d), 0);
	assert_string_equal(d.name, "0001:02:1f.7");
	assert_int_equal(d.group, 9);
	pc.fn = 6;
	assert_int_equal(find(&pc, &d), -ENODEV);
	assert_non_null(strstr(why, "no such device: "));
	assert_non_null(strstr(why, "/bus/pci/devices/0001:02:1f.6"));
}

static void test_by_id(void **state)
{
	struct pass_config pc = { .kind = PASS_PCI_ID, .vid = 0x1234,
				  .did = 0x11e8 };
	struct vfio_host_dev d;

	/* in address order: 01.0, then 03.0 (unbound), then 04.0 */
	assert_int_equal(find(&pc, &d), 0);
	assert_string_equal(d.name, "0000:00:01.0");
	pc.index = 1;
	assert_int_equal(find(&pc, &d), -EBUSY);
	assert_non_null(strstr(why, "0000:00:03.0"));
	pc.index = 3;
	assert_int_equal(find(&pc, &d), -ENODEV);
	assert_non_null(strstr(why, "no PCI device 1234:11e8 with that "
			       "index"));
	assert_non_null(strstr(why, "(3 found"));
	pc = (struct pass_config){ .kind = PASS_PCI_ID, .vid = 0xdead,
				   .did = 0xbeef };
	assert_int_equal(find(&pc, &d), -ENODEV);
	assert_non_null(strstr(why, "no PCI device dead:beef in"));
}

/* The message is the commands a user pastes: they must name the device's
 * own sysfs directory and end with drivers_probe. */
static void test_unbound(void **state)
{
	struct pass_config pc = { .kind = PASS_PCI_ADDR, .dev = 3 };
	struct vfio_host_dev d;
	char want[1024];

	assert_int_equal(find(&pc, &d), -EBUSY);
	snprintf(want, sizeof(want), "0000:00:03.0 (%s/bus/pci/devices/"
		 "0000:00:03.0) is bound to no driver, not to vfio-pci; "
		 "cvisor does not rebind drivers itself. As root:\n"
		 "  modprobe vfio-pci\n"
		 "  echo vfio-pci > %s/bus/pci/devices/0000:00:03.0/"
		 "driver_override\n"
		 "  echo 0000:00:03.0 > /sys/bus/pci/drivers_probe", root,
		 root);
	assert_string_equal(why, want);
}

static void test_other_driver(void **state)
{
	struct pass_config pc = { .kind = PASS_PCI_ADDR, .dev = 2 };
	struct vfio_host_dev d;
	char want[512];

	assert_int_equal(find(&pc, &d), -EBUSY);
	assert_non_null(strstr(why, "is bound to virtio-pci, not to "
			       "vfio-pci"));
	snprintf(want, sizeof(want), "  echo 0000:00:02.0 > %s/bus/pci/"
		 "devices/0000:00:02.0/driver/unbind\n", root);
	assert_non_null(strstr(why, want));
}

static void test_no_group(void **state)
{
	struct pass_config pc = { .kind = PASS_PCI_ADDR, .dev = 4 };
	struct vfio_host_dev d;

	assert_int_equal(find(&pc, &d), -ENOENT);
	assert_non_null(strstr(why, "has no IOMMU group: is the IOMMU on"));
}

static void test_mdev(void **state)
{
	struct pass_config pc = { .kind = PASS_SYSFS,
		.sysfs = "/sys/bus/mdev/devices/"
			 "c0ffee00-0000-4000-8000-000000000001" };
	struct vfio_host_dev d;

	assert_int_equal(find(&pc, &d), 0);
	assert_string_equal(d.name, "c0ffee00-0000-4000-8000-000000000001");
	assert_false(d.is_pci);
	assert_int_equal(d.group, 12);
	pc.sysfs = "/sys/bus/mdev/devices/nothing";
	assert_int_equal(find(&pc, &d), -ENODEV);
	/* a VF by its path is a PCI function: its driver is checked */
	pc.sysfs = "/sys/bus/pci/devices/0000:00:03.0";
	assert_int_equal(find(&pc, &d), -EBUSY);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_by_addr),
		cmocka_unit_test(test_by_id),
		cmocka_unit_test(test_unbound),
		cmocka_unit_test(test_other_driver),
		cmocka_unit_test(test_no_group),
		cmocka_unit_test(test_mdev),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

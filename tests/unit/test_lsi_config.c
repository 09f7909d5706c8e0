/* `vdev lsi53c895a` in the configuration: a hostdev per disk with its
 * target, lun and cdrom; what `cvisor check` refuses (two disks on one
 * target and lun, the controller's own ID, options before any hostdev,
 * an MMIO or I/O loc, an intr) with the position of the culprit; the
 * device the type creates from a valid one; and the disks' `bootindex`
 * in fw_cfg's bootorder, with their target and LUN. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "arch/x86/bootorder.h"
#include "config/config.h"
#include "core/util.h"
#include "devices/lsi53c895a_priv.h"
#include "devices/registry.h"
#include "mem/guest_mem.h"

static char dir[] = "/tmp/cvisor-lsicfg-XXXXXX";
static char img[128], blob[128];

static int group_setup(void **state)
{
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(img, sizeof(img), "%s/d.img", dir);
	snprintf(blob, sizeof(blob), "%s/g.bin", dir);
	f = fopen(img, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), 1 << 20), 0);
	fclose(f);
	f = fopen(blob, "w");
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	unlink(img);
	unlink(blob);
	rmdir(dir);
	return 0;
}

/* Parse "ram 1m load BLOB " + body; returns 0 or -1 with err. */
static int parse(struct vm_config *cfg, const char *body,
		 struct cfg_error *err)
{
	char text[2048];

	snprintf(text, sizeof(text), "ram 1m\nload %s\n%s", blob, body);
	return config_from_string(cfg, "t.qvmconf", text, err);
}

/* The error must point at the last occurrence of `at` in body. */
static void expect_error(const char *body, const char *at, const char *msg)
{
	static struct vm_config cfg;
	struct cfg_error err;
	const char *p = NULL, *q = body;
	unsigned line = 3, col = 1;

	while ((q = strstr(q, at)))
		p = q++;
	assert_non_null(p);
	for (q = body; q < p; q++, col++)
		if (*q == '\n') {
			line++;
			col = 0;
		}
	if (!parse(&cfg, body, &err)) {
		config_free(&cfg);
		fail_msg("accepted: %s", body);
	}
	if (err.pos.line != line || err.pos.col != col ||
	    !strstr(err.msg, msg))
		fail_msg("%s\n got %u:%u: %s\n want %u:%u: ...%s...", body,
			 err.pos.line, err.pos.col, err.msg, line, col, msg);
}

static void test_bad(void **state)
{
	char b[512];

	/* two disks on target 1 (lun 0): at the second `target` */
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s target 1\n"
		 "  hostdev %s target 1\n", img, img);
	expect_error(b, "target", "two disks with the same target id");
	/* a default target (the hostdev's index) meeting a given one */
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s target 1\n"
		 "hostdev %s\n", img, img);
	expect_error(b, img, "two disks with the same target id");
	/* the controller's own ID */
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s target 7\n", img);
	expect_error(b, "target", "target 7 is the controller's own");
	/* an option before any hostdev */
	snprintf(b, sizeof(b), "vdev lsi53c895a cdrom hostdev %s\n", img);
	expect_error(b, "cdrom", "follow the `hostdev`");
	snprintf(b, sizeof(b), "vdev lsi53c895a bootindex 1 hostdev %s\n",
		 img);
	expect_error(b, "bootindex", "follow the `hostdev`");
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s bootindex 1 "
		 "bootindex 2\n", img);
	expect_error(b, "bootindex 2", "given twice");
	/* one option twice for one disk */
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s lun 1 lun 2\n",
		 img);
	expect_error(b, "lun", "given twice");
	/* a memory (MMIO) loc, an I/O loc, an intr */
	snprintf(b, sizeof(b), "vdev lsi53c895a loc 0xd0000000 hostdev %s\n",
		 img);
	expect_error(b, "0xd0000000", "a PCI device");
	snprintf(b, sizeof(b), "vdev lsi53c895a loc io:0x300 hostdev %s\n",
		 img);
	expect_error(b, "io:0x300", "a PCI device");
	snprintf(b, sizeof(b), "vdev lsi53c895a intr ioapic:5 hostdev %s\n",
		 img);
	expect_error(b, "ioapic:5", "takes no `intr`");
	/* no disk; an output hostdev; out-of-range numbers */
	expect_error("vdev lsi53c895a\n", "lsi53c895a",
		     "needs a `hostdev FILE`");
	expect_error("vdev lsi53c895a hostdev >x\n", ">x", "`FILE` or "
		     "`<FILE`");
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s target 16\n", img);
	expect_error(b, "16", "16");
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s lun 8\n", img);
	expect_error(b, "8\n", "8");
	/* slot 0 is the host bridge */
	snprintf(b, sizeof(b), "vdev lsi53c895a loc pci:0:0.0 hostdev %s\n",
		 img);
	expect_error(b, "pci:0:0.0", "host bridge");
}

static void test_good(void **state)
{
	static struct vm_config cfg;
	struct cfg_error err;
	struct guest_mem mem;
	struct dev_env env = { .mem = &mem };
	struct device *dev = NULL;
	struct lsi *s;
	char b[512];

	snprintf(b, sizeof(b), "vdev lsi53c895a loc pci:0:5.0 hostdev %s\n"
		 "  hostdev <%s target 3 lun 1 cdrom\n"
		 "  hostdev %s target 3\n", img, img, img);
	if (parse(&cfg, b, &err))
		fail_msg("%u:%u: %s", err.pos.line, err.pos.col, err.msg);
	assert_true(cfg.vdevs[0].on_pci);
	assert_true(vm_config_has_pci(&cfg));
	guest_mem_init(&mem);
	assert_int_equal(cfg.vdevs[0].type->create(&cfg.vdevs[0], &env, &dev),
			 0);
	s = container_of(pci_func_of(dev), struct lsi, f);
	assert_true(s->targets[0].present);
	assert_non_null(s->targets[0].t.luns[0]);
	assert_int_equal(s->targets[0].t.luns[0]->type, SCSI_TYPE_DISK);
	assert_false(s->targets[0].t.luns[0]->read_only);
	assert_non_null(s->targets[3].t.luns[1]);
	assert_int_equal(s->targets[3].t.luns[1]->type, SCSI_TYPE_CDROM);
	assert_true(s->targets[3].t.luns[1]->read_only);
	assert_non_null(s->targets[3].t.luns[0]);
	assert_false(s->targets[1].present);
	dev->ops->free(dev);
	config_free(&cfg);
	/* no loc: the first free slot */
	snprintf(b, sizeof(b), "vdev lsi53c895a hostdev %s\n", img);
	assert_int_equal(parse(&cfg, b, &err), 0);
	assert_true(cfg.vdevs[0].on_pci);
	config_free(&cfg);
}

/* SeaBIOS's path for a disk of its LSI driver:
 * /pci@i0cf8/ANY@SLOT/ANY@0/ANY@TARGET,LUN (hex), lowest index first; a
 * disk without bootindex is not listed. */
static void test_bootorder(void **state)
{
	static struct vm_config cfg;
	struct cfg_error err;
	struct guest_mem mem;
	struct dev_env env = { .mem = &mem };
	struct device *dev = NULL;
	char b[512], *order;

	snprintf(b, sizeof(b), "vdev lsi53c895a loc pci:0:5.0 hostdev %s\n"
		 "  hostdev %s target 12 bootindex 3\n"
		 "  hostdev <%s target 2 lun 1 cdrom bootindex 0\n",
		 img, img, img);
	if (parse(&cfg, b, &err))
		fail_msg("%u:%u: %s", err.pos.line, err.pos.col, err.msg);
	guest_mem_init(&mem);
	assert_int_equal(cfg.vdevs[0].type->create(&cfg.vdevs[0], &env, &dev),
			 0);
	dev->vdev = &cfg.vdevs[0];
	pci_func_of(dev)->slot = 5;
	order = x86_bootorder(&dev, 1);
	assert_non_null(order);
	assert_string_equal(order, "/pci@i0cf8/scsi@5/channel@0/disk@2,1\n"
			    "/pci@i0cf8/scsi@5/channel@0/disk@c,0\n");
	free(order);
	dev->ops->free(dev);
	config_free(&cfg);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bootorder),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}

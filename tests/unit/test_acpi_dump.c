/* acpi_dump() for a representative machine: four vCPUs, two 16550s, an
 * i8042, a PL011, an RTC and a virtio-mmio device (the last two through
 * stand-in types until the real ones land). The files go to $ACPI_DUMP_DIR
 * when set (tests/integration/acpi_iasl.sh runs `iasl -d` on them), else
 * to a temporary directory that is removed again. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "arch/x86/firmware.h"
#include "devices/registry.h"

static const struct vdev_type fake_rtc = {
	.name = "mc146818", .class = VDEV_PLATFORM, .loc_space = LOC_IO,
	.region_len = 2,
};
static const struct vdev_type fake_virtio = {
	.name = "virtio-blk", .class = VDEV_VIRTIO, .loc_space = LOC_MEM,
};

static const char machine[] =
	"ram 0,0xa0000 ram 1m,63m cpu cpu cpu cpu\n"
	"vdev ser8250 vdev ser8250 vdev pckeyboard\n"
	"vdev pl011 loc 0x10000000 intr ioapic:9\n";

static struct vm_config cfg;

static void add_fake(const struct vdev_type *t, uint64_t addr, uint32_t irq)
{
	struct vdev_config *vc = &cfg.vdevs[cfg.nr_vdevs++];

	memset(vc, 0, sizeof(*vc));
	vc->type = t;
	vc->locs[0] = (struct cfg_loc){ .space = t->loc_space, .addr = addr };
	vc->nr_locs = 1;
	vc->intrs[0].line = irq;
	vc->nr_intrs = 1;
}

static char image[] = "/tmp/cvisor-acpi-image-XXXXXX";

static int setup(void **state)
{
	struct cfg_error err;
	char text[sizeof(machine) + 64];
	int fd = mkstemp(image);

	/* The validator wants a guest image that exists. */
	if (fd < 0 || write(fd, "x", 1) != 1 || close(fd))
		return -1;
	snprintf(text, sizeof(text), "%sload %s\n", machine, image);
	if (config_from_string(&cfg, "machine", text, &err)) {
		fprintf(stderr, "%u:%u: %s\n", err.pos.line, err.pos.col,
			err.msg);
		return -1;
	}
	add_fake(&fake_rtc, 0x70, 8);
	add_fake(&fake_virtio, 0xd0000000, 10);
	return 0;
}

static int teardown(void **state)
{
	config_free(&cfg);
	unlink(image);
	return 0;
}

static void expect_file(const char *dir, const char *sig)
{
	char path[4096];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s.dat", dir, sig);
	assert_int_equal(stat(path, &st), 0);
	assert_true(st.st_size >= 36);
}

static void test_dump(void **state)
{
	static const char *const sigs[] = { "RSDP", "XSDT", "RSDT", "FACP",
					    "APIC", "DSDT" };
	const char *env = getenv("ACPI_DUMP_DIR");
	char tmp[] = "/tmp/cvisor-acpi-XXXXXX";
	const char *dir = env && *env ? env : mkdtemp(tmp);
	char cmd[4200];

	assert_non_null(dir);
	assert_int_equal(acpi_dump(&cfg, dir), 0);
	for (unsigned i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		expect_file(dir, sigs[i]);
	if (dir == tmp) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmp);
		assert_int_equal(system(cmd), 0);
	}
}

static void test_dump_bad_dir(void **state)
{
	assert_int_not_equal(acpi_dump(&cfg, "/nonexistent/cvisor"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dump),
		cmocka_unit_test(test_dump_bad_dir),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}

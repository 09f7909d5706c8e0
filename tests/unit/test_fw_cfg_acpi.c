/* The ACPI tables through fw_cfg: the table-loader script is run the way
 * SeaBIOS runs it (ALLOCATE, ADD_POINTER, ADD_CHECKSUM, checked as
 * strictly as its romfile loader), and the installed tables must be, byte
 * for byte, what acpi_build() makes for those addresses: every pointer
 * patched, every checksum right. */
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/firmware.h"
#include "bus/pci.h"
#include "core/util.h"
#include "devices/fw_cfg.h"
#include "devices/registry.h"

#define HIGH_ADDR 0x7fd0000ULL    /* where "firmware" puts zone 1 */
#define FSEG_ADDR 0xf5a40ULL      /* and zone 2 */

struct lfile {
	const char *name;
	const uint8_t *src;
	size_t len;
	uint8_t *data;             /* allocated copy */
	uint64_t addr;
	uint8_t zone;
};

static struct vm_config cfg;
static struct dev_env env;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static struct lfile *find(struct lfile *f, unsigned n, const uint8_t *name)
{
	/* names are NUL-terminated inside their 56 bytes */
	assert_non_null(memchr(name, 0, 56));
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(f[i].name, (const char *)name))
			return &f[i];
	fail_msg("the script names an unknown file '%s'", (const char *)name);
	return NULL;
}

static void allocate(struct lfile *f, const uint8_t *p, unsigned *order)
{
	uint32_t align = le32(p + 60);

	assert_null(f->data);                        /* once */
	assert_true(align && !(align & (align - 1)));
	f->zone = p[64];
	assert_true(f->zone == 1 || f->zone == 2);
	f->addr = ALIGN_UP(f->zone == 1 ? HIGH_ADDR : FSEG_ADDR,
			   (uint64_t)align);
	f->data = malloc(f->len + 1);
	memcpy(f->data, f->src, f->len);
	f->zone |= (uint8_t)(++*order << 4);
}

static void add_pointer(struct lfile *dst, const struct lfile *src,
			const uint8_t *p)
{
	uint32_t off = le32(p + 116);
	uint8_t size = p[120];
	uint64_t v = 0;

	assert_non_null(dst->data);
	assert_non_null(src->data);
	assert_true(size == 1 || size == 2 || size == 4 || size == 8);
	assert_true(off <= dst->len && size <= dst->len - off);
	memcpy(&v, dst->data + off, size);
	v += src->addr;
	memcpy(dst->data + off, &v, size);
}

static void add_checksum(struct lfile *f, const uint8_t *p)
{
	uint32_t off = le32(p + 60), start = le32(p + 64), len = le32(p + 68);
	uint8_t sum = 0;

	assert_non_null(f->data);
	assert_true(off < f->len && start < f->len && len <= f->len - start);
	for (uint32_t i = 0; i < len; i++)
		sum += f->data[start + i];
	f->data[off] -= sum;
}

/* Run etc/table-loader over the files; returns RSDP and tables. */
static void run_loader(struct fw_cfg *s, struct lfile f[2])
{
	const uint8_t *script;
	size_t len;
	unsigned order = 0;

	f[0] = (struct lfile){ .name = "etc/acpi/tables" };
	f[1] = (struct lfile){ .name = "etc/acpi/rsdp" };
	for (unsigned i = 0; i < 2; i++) {
		f[i].src = fw_cfg_file_data(s, f[i].name, &f[i].len);
		assert_non_null(f[i].src);
	}
	script = fw_cfg_file_data(s, "etc/table-loader", &len);
	assert_non_null(script);
	assert_int_equal(len % 128, 0);
	for (size_t at = 0; at < len; at += 128) {
		const uint8_t *p = script + at;

		switch (le32(p)) {
		case 1:
			allocate(find(f, 2, p + 4), p, &order);
			break;
		case 2:
			add_pointer(find(f, 2, p + 4), find(f, 2, p + 60), p);
			break;
		case 3:
			add_checksum(find(f, 2, p + 4), p);
			break;
		default:
			fail_msg("command %u at %zu", le32(p), at);
		}
	}
	/* the tables first, in high memory; the RSDP in the F segment,
	 * where a guest scans for it */
	assert_int_equal(f[0].zone, 1 | 1 << 4);
	assert_int_equal(f[1].zone, 2 | 2 << 4);
	assert_int_equal(f[1].addr % 16, 0);
}

static void check_config(const struct x86_firmware_pci *pci)
{
	struct fw_cfg *s = fw_cfg_new(&env);
	struct acpi_tables want;
	struct lfile f[2];

	assert_int_equal(fw_cfg_add_acpi(s, &cfg, pci), 0);
	run_loader(s, f);
	acpi_build(&want, &cfg, pci, f[1].addr, f[0].addr);
	assert_int_equal(f[1].len, want.t[0].b.len);
	assert_memory_equal(f[1].data, want.t[0].b.data, want.t[0].b.len);
	assert_int_equal(f[0].len, want.end - f[0].addr);
	for (unsigned i = 1; i < want.nr; i++) {
		const struct acpi_table *t = &want.t[i];

		assert_memory_equal(f[0].data + (t->addr - f[0].addr),
				    t->b.data, t->b.len);
	}
	acpi_tables_free(&want);
	free(f[0].data);
	free(f[1].data);
	fw_cfg_device(s)->ops->free(fw_cfg_device(s));
}

static void add_vdev(const struct vdev_type *t, uint64_t addr, int irq)
{
	struct vdev_config *vc = &cfg.vdevs[cfg.nr_vdevs++];

	vc->type = t;
	vc->locs[0] = (struct cfg_loc){ .space = t->loc_space, .addr = addr };
	vc->nr_locs = 1;
	if (irq >= 0) {
		vc->intrs[0].line = (uint32_t)irq;
		vc->nr_intrs = 1;
	}
}

static void test_minimal(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram[0] = (struct ram_config){ .start = 0, .size = 64 * MiB };
	cfg.nr_ram = 1;
	check_config(NULL);
}

static void test_pc_with_pci(void **state)
{
	struct x86_firmware_pci fp;
	struct pci_layout l;

	memset(&cfg, 0, sizeof(cfg));
	cfg.ram[0] = (struct ram_config){ .start = 0, .size = 512 * MiB };
	cfg.nr_ram = 1;
	cfg.nr_cpus = 8;
	add_vdev(&ser8250_type, 0x3f8, 4);
	add_vdev(&mc146818_type, 0x70, 8);
	add_vdev(&pckeyboard_type, 0x60, -1);
	pci_layout_default(&l, 512 * MiB, 0);
	x86_firmware_pci_init(&fp, &l);
	check_config(&fp);
}

static void test_many_cpus(void **state)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.ram[0] = (struct ram_config){ .start = 0, .size = 1 * GiB };
	cfg.nr_ram = 1;
	cfg.nr_cpus = CFG_MAX_CPUS;
	check_config(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_minimal),
		cmocka_unit_test(test_pc_with_pci),
		cmocka_unit_test(test_many_cpus),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* ACPI for a VM with PCI: the DSDT's \_SB.PCI0 (ids, _CRS windows, every
 * _PRT entry against pci_intx_gsi), the PNP0C02 device that reserves the
 * ECAM, and the MCFG linked from both XSDT and RSDT; none of it without
 * PCI. The tables come from acpi_build, decoded here byte by byte. */
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/acpi.h"
#include "arch/x86/acpi/aml.h"
#include "arch/x86/firmware.h"
#include "bus/pci.h"

#define RSDP_ADDR   0xf0000
#define TABLES_ADDR 0xf0800

static struct vm_config cfg;
static struct acpi_tables tabs;

static struct x86_firmware_pci default_pci(uint64_t mmio64_size)
{
	struct x86_firmware_pci p;
	struct pci_layout l;

	pci_layout_default(&l, 1ULL << 30, mmio64_size);
	x86_firmware_pci_init(&p, &l);
	return p;
}

static const struct acpi_table *build(const struct x86_firmware_pci *pci)
{
	memset(&cfg, 0, sizeof(cfg));
	cfg.nr_cpus = 2;
	acpi_build(&tabs, &cfg, pci, RSDP_ADDR, TABLES_ADDR);
	return acpi_find(&tabs, "DSDT");
}

static int teardown(void **state)
{
	acpi_tables_free(&tabs);
	return 0;
}

static const uint8_t *find_bytes(const struct acpi_table *t, const void *s,
				 size_t n)
{
	return memmem(t->b.data, t->b.len, s, n);
}

#define FIND(t, s) find_bytes(t, s, sizeof(s) - 1)

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p)
{
	return le32(p) | (uint64_t)le32(p + 4) << 32;
}

/* PkgLength: returns the length, *n the bytes it took. */
static uint32_t pkglen(const uint8_t *p, unsigned *n)
{
	uint32_t v;

	*n = (p[0] >> 6) + 1;
	v = *n == 1 ? p[0] & 0x3f : p[0] & 0x0f;
	for (unsigned i = 1; i < *n; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	return v;
}

/* One AML integer (Zero, One, Byte/Word/DWord constant); advances *p. */
static uint64_t aml_int(const uint8_t **p)
{
	const uint8_t *q = *p;

	switch (q[0]) {
	case 0x00: *p += 1; return 0;
	case 0x01: *p += 1; return 1;
	case 0x0a: *p += 2; return q[1];
	case 0x0b: *p += 3; return (uint64_t)q[1] | (uint64_t)q[2] << 8;
	case 0x0c: *p += 5; return le32(q + 1);
	}
	fail_msg("not an AML integer: 0x%02x", q[0]);
	return 0;
}

static bool has_eisaid(const struct acpi_table *t, const char *id)
{
	uint8_t want[5] = { 0x0c };
	uint32_t v = aml_eisaid_value(id);

	memcpy(want + 1, &v, 4);
	return find_bytes(t, want, sizeof(want)) != NULL;
}

static void test_pci0_names(void **state)
{
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *d = build(&pci);

	assert_non_null(FIND(d, "PCI0"));
	assert_non_null(FIND(d, "_PRT"));
	assert_non_null(FIND(d, "_CRS"));
	assert_non_null(FIND(d, "_SEG"));
	assert_non_null(FIND(d, "_BBN"));
	assert_non_null(FIND(d, "ECAM"));
	assert_true(has_eisaid(d, "PNP0A08"));
	assert_true(has_eisaid(d, "PNP0A03"));
	assert_true(has_eisaid(d, "PNP0C02"));
	/* _HID or _ADR, not both (ACPI 6.1.5) */
	assert_null(FIND(d, "_ADR"));
}

static void check_prt_entry(const uint8_t **p, unsigned slot, unsigned pin)
{
	const uint8_t *q = *p;
	unsigned n;
	uint32_t len;

	assert_int_equal(q[0], 0x12);                    /* PackageOp */
	len = pkglen(q + 1, &n);
	assert_int_equal(q[1 + n], 4);
	*p = q + 2 + n;
	assert_int_equal(aml_int(p), (uint64_t)slot << 16 | 0xffff);
	assert_int_equal(aml_int(p), pin);
	assert_int_equal(aml_int(p), 0);                 /* Source: GSI */
	assert_int_equal(aml_int(p), pci_intx_gsi(slot, pin + 1));
	assert_ptr_equal(*p, q + 1 + len);
}

/* Every slot 1-31 and pin: decoded in order, the package ends exactly
 * after the last entry. */
static void test_prt(void **state)
{
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *d = build(&pci);
	const uint8_t *p = FIND(d, "_PRT"), *end;
	unsigned n;

	assert_non_null(p);
	p += 4;
	assert_int_equal(p[0], 0x12);
	end = p + 1 + pkglen(p + 1, &n);
	assert_int_equal(p[1 + n], 31 * 4);              /* NumElements */
	p += 2 + n;
	for (unsigned slot = 1; slot < 32; slot++)
		for (unsigned pin = 0; pin < 4; pin++)
			check_prt_entry(&p, slot, pin);
	assert_ptr_equal(p, end);
}

/* The swizzle itself, by hand: GSI 16 + (slot + pin - 1) % 4. */
static void test_prt_spot(void **state)
{
	static const uint8_t slot4_inta[] = {
		0x12, 0x0b, 0x04, 0x0c, 0xff, 0xff, 0x04, 0x00,
		0x00, 0x00, 0x0a, 16 };
	static const uint8_t slot31_intd[] = {
		0x12, 0x0c, 0x04, 0x0c, 0xff, 0xff, 0x1f, 0x00,
		0x0a, 0x03, 0x00, 0x0a, 18 };
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *d = build(&pci);

	assert_non_null(find_bytes(d, slot4_inta, sizeof(slot4_inta)));
	assert_non_null(find_bytes(d, slot31_intd, sizeof(slot31_intd)));
}

/* Address space descriptor: tag, length, type, flags, then width-byte
 * granularity, min, max, translation, length. */
static const uint8_t *check_addr(const uint8_t *p, uint8_t tag,
				 unsigned width, uint8_t type, uint64_t min,
				 uint64_t max)
{
	const uint8_t *v = p + 6;
	uint64_t f[5];

	assert_int_equal(p[0], tag);
	assert_int_equal(p[1] | p[2] << 8, 3 + 5 * width);
	assert_int_equal(p[3], type);
	assert_int_equal(p[4], 0x0c);                    /* MinFixed, MaxFixed */
	for (unsigned i = 0; i < 5; i++, v += width)
		f[i] = width == 2 ? (uint64_t)(v[0] | v[1] << 8) :
		       width == 4 ? le32(v) : le64(v);
	assert_int_equal(f[0], 0);
	assert_int_equal(f[1], min);
	assert_int_equal(f[2], max);
	assert_int_equal(f[3], 0);
	assert_int_equal(f[4], max - min + 1);
	return v;
}

/* PCI0's _CRS: the first _CRS after "PCI0". Returns the first descriptor
 * and sets *end after the End Tag. */
static const uint8_t *pci0_crs(const struct acpi_table *d, const uint8_t **end)
{
	const uint8_t *p = memmem(FIND(d, "PCI0"), 256, "_CRS", 4);
	const uint8_t *q;
	unsigned n;
	uint64_t size;

	assert_non_null(p);
	assert_int_equal(p[4], 0x11);                    /* BufferOp */
	pkglen(p + 5, &n);
	q = p + 5 + n;
	size = aml_int(&q);
	*end = q + size;
	return q;
}

static void test_crs(void **state)
{
	static const uint8_t cf8[] = { 0x47, 0x01, 0xf8, 0x0c, 0xf8, 0x0c,
				       0x01, 0x08 };
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *d = build(&pci);
	const uint8_t *end, *p = pci0_crs(d, &end);

	p = check_addr(p, 0x88, 2, 2, 0, 0);             /* bus 0..0 */
	p = check_addr(p, 0x88, 2, 1, 0, 0xcf7);
	assert_memory_equal(p, cf8, sizeof(cf8));
	p = check_addr(p + sizeof(cf8), 0x88, 2, 1, 0xd00, 0xffff);
	p = check_addr(p, 0x87, 4, 0, PCI_MMIO32_BASE_DEFAULT,
		       PCI_MMIO32_END_DEFAULT - 1);
	assert_int_equal(p[0], 0x79);                    /* End Tag: no QWord */
	assert_ptr_equal(p + 2, end);
}

static void test_crs_64bit_window(void **state)
{
	struct x86_firmware_pci pci = default_pci(1ULL << 34);
	const struct acpi_table *d = build(&pci);
	const uint8_t *end, *p = pci0_crs(d, &end);

	for (unsigned i = 0; i < 4; i++)                 /* bus, IO, IO, IO */
		p += p[0] & 0x80 ? 3 + (p[1] | p[2] << 8) : 1 + (p[0] & 7);
	p = check_addr(p, 0x87, 4, 0, 0xc0000000, 0xfbffffff);
	p = check_addr(p, 0x8a, 8, 0, 4ULL << 30, (4ULL << 30) + (1ULL << 34) - 1);
	assert_int_equal(p[0], 0x79);
	assert_ptr_equal(p + 2, end);
}

/* Linux uses MMCONFIG only when a PNP0C01/PNP0C02 device (or e820)
 * reserves the MCFG range: Memory32Fixed over bus_start..bus_end. */
static void test_ecam_resource(void **state)
{
	static const uint8_t bus0[] = { 0x86, 0x09, 0x00, 0x01,
					0x00, 0x00, 0x00, 0xb0,
					0x00, 0x00, 0x10, 0x00 };
	static const uint8_t bus0_3[] = { 0x86, 0x09, 0x00, 0x01,
					  0x00, 0x00, 0x00, 0xb0,
					  0x00, 0x00, 0x40, 0x00 };
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *d = build(&pci);
	const uint8_t *e = FIND(d, "ECAM");

	assert_non_null(e);
	assert_non_null(find_bytes(d, bus0, sizeof(bus0)));
	assert_true(find_bytes(d, bus0, sizeof(bus0)) > e);
	acpi_tables_free(&tabs);
	pci.bus_end = 3;
	d = build(&pci);
	assert_non_null(find_bytes(d, bus0_3, sizeof(bus0_3)));
}

static bool listed(const char *sdt, uint64_t addr, unsigned width)
{
	const struct acpi_table *t = acpi_find(&tabs, sdt);

	for (size_t off = 36; off + width <= t->b.len; off += width)
		if ((width == 8 ? le64(t->b.data + off) :
		     le32(t->b.data + off)) == addr)
			return true;
	return false;
}

static void test_mcfg_linked(void **state)
{
	struct x86_firmware_pci pci = default_pci(0);
	const struct acpi_table *m;

	build(&pci);
	m = acpi_find(&tabs, "MCFG");
	assert_non_null(m);
	assert_true(listed("XSDT", m->addr, 8));
	assert_true(listed("RSDT", m->addr, 4));
	assert_int_equal(le64(m->b.data + 44), PCI_ECAM_BASE_DEFAULT);
	assert_int_equal(m->b.data[52] | m->b.data[53] << 8, 0);
	assert_int_equal(m->b.data[54], 0);
	assert_int_equal(m->b.data[55], 0);
}

static void test_no_pci(void **state)
{
	const struct acpi_table *d = build(NULL);

	assert_null(acpi_find(&tabs, "MCFG"));
	assert_null(FIND(d, "PCI0"));
	assert_null(FIND(d, "_PRT"));
	assert_null(FIND(d, "ECAM"));
	assert_false(has_eisaid(d, "PNP0C02"));
}

#define T(f) cmocka_unit_test_teardown(f, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_pci0_names),
		T(test_prt),
		T(test_prt_spot),
		T(test_crs),
		T(test_crs_64bit_window),
		T(test_ecam_resource),
		T(test_mcfg_linked),
		T(test_no_pci),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

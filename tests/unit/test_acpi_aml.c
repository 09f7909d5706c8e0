/* The AML encoder byte by byte, against the encodings of ACPI 6.x
 * chapter 20 and section 6.4 (and what iasl emits for the same ASL). */
#include <string.h>

#include "unit.h"
#include "arch/x86/acpi/aml.h"

static struct fw_buf b;

static int setup(void **state)
{
	fw_buf_init(&b);
	return 0;
}

static int teardown(void **state)
{
	fw_buf_free(&b);
	return 0;
}

#define EXPECT(...) do { \
	static const uint8_t want[] = { __VA_ARGS__ }; \
	assert_int_equal(b.len, sizeof(want)); \
	assert_memory_equal(b.data, want, sizeof(want)); \
	b.len = 0; \
} while (0)

static void test_integers(void **state)
{
	aml_integer(&b, 0);
	EXPECT(0x00);
	aml_integer(&b, 1);
	EXPECT(0x01);
	aml_integer(&b, UINT64_MAX);
	EXPECT(0xff);
	aml_integer(&b, 2);
	EXPECT(0x0a, 0x02);
	aml_integer(&b, 0xff);
	EXPECT(0x0a, 0xff);
	aml_integer(&b, 0x100);
	EXPECT(0x0b, 0x00, 0x01);
	aml_integer(&b, 0x12345678);
	EXPECT(0x0c, 0x78, 0x56, 0x34, 0x12);
	aml_integer(&b, 0x100000000ULL);
	EXPECT(0x0e, 0, 0, 0, 0, 1, 0, 0, 0);
}

static void test_name_strings(void **state)
{
	aml_name_string(&b, "_HID");
	EXPECT('_', 'H', 'I', 'D');
	aml_name_string(&b, "\\_SB");               /* padded */
	EXPECT(0x5c, '_', 'S', 'B', '_');
	aml_name_string(&b, "\\_SB_.COM0");
	EXPECT(0x5c, 0x2e, '_', 'S', 'B', '_', 'C', 'O', 'M', '0');
	aml_name_string(&b, "_SB.PCI0.ISA");
	EXPECT(0x2f, 3, '_', 'S', 'B', '_', 'P', 'C', 'I', '0',
	       'I', 'S', 'A', '_');
	aml_name_string(&b, "^^FOO");
	EXPECT(0x5e, 0x5e, 'F', 'O', 'O', '_');
	aml_name_string(&b, "\\");
	EXPECT(0x5c, 0x00);
}

static void test_strings_and_eisaid(void **state)
{
	aml_string(&b, "ARMH0011");
	EXPECT(0x0d, 'A', 'R', 'M', 'H', '0', '0', '1', '1', 0);
	assert_int_equal(aml_eisaid_value("PNP0501"), 0x0105d041);
	assert_int_equal(aml_eisaid_value("PNP0303"), 0x0303d041);
	assert_int_equal(aml_eisaid_value("PNP0B00"), 0x000bd041);
	aml_name_eisaid(&b, "_HID", "PNP0501");
	EXPECT(0x08, '_', 'H', 'I', 'D', 0x0c, 0x41, 0xd0, 0x05, 0x01);
}

/* One byte up to 63 in all (length counts itself), then 2, 3, 4 bytes. */
static void test_pkglength(void **state)
{
	uint8_t p[4];

	assert_int_equal(aml_pkglength(p, 0), 1);
	assert_int_equal(p[0], 1);
	assert_int_equal(aml_pkglength(p, 62), 1);
	assert_int_equal(p[0], 63);
	assert_int_equal(aml_pkglength(p, 63), 2);    /* 65 in all */
	assert_int_equal(p[0], 0x41);
	assert_int_equal(p[1], 0x04);
	assert_int_equal(aml_pkglength(p, 0xffd), 2); /* 0xfff */
	assert_int_equal(p[0], 0x4f);
	assert_int_equal(p[1], 0xff);
	assert_int_equal(aml_pkglength(p, 0xffe), 3); /* 0x1001 */
	assert_int_equal(p[0], 0x81);
	assert_int_equal(p[1], 0x00);
	assert_int_equal(p[2], 0x01);
	assert_int_equal(aml_pkglength(p, 0xffffc), 3); /* 0xfffff */
	assert_int_equal(aml_pkglength(p, 0xffffd), 4); /* 0x100001 */
	assert_int_equal(p[0], 0xc1);
	assert_int_equal(p[1], 0x00);
	assert_int_equal(p[2], 0x00);
	assert_int_equal(p[3], 0x01);
	assert_int_equal(aml_pkglength(p, 1u << 28), 0);
}

static void test_device_and_scope(void **state)
{
	size_t s = aml_scope_open(&b, "\\_SB");
	size_t d = aml_device_open(&b, "COM0");

	aml_name_int(&b, "_UID", 0);
	aml_close(&b, d);
	aml_close(&b, s);
	/* Scope: 1 + 5 + 2 + 11 bytes; Device: 1 + 4 + 6 bytes. */
	EXPECT(0x10, 0x13, 0x5c, '_', 'S', 'B', '_',
	       0x5b, 0x82, 0x0b, 'C', 'O', 'M', '0',
	       0x08, '_', 'U', 'I', 'D', 0x00);
}

/* A body long enough for a 2-byte PkgLength is moved, not overwritten. */
static void test_long_device(void **state)
{
	size_t d = aml_device_open(&b, "LONG");

	for (int i = 0; i < 20; i++)
		aml_name_int(&b, "_UID", 0x1234);  /* 8 bytes each */
	aml_close(&b, d);
	assert_int_equal(b.len, 2 + 2 + 4 + 160);
	assert_int_equal(b.data[2], 0x40 | ((166 & 0xf)));
	assert_int_equal(b.data[3], 166 >> 4);
	assert_memory_equal(b.data + 4, "LONG", 4);
	assert_int_equal(b.data[b.len - 1], 0x12);
	b.len = 0;
}

static void test_package(void **state)
{
	size_t p;

	aml_name(&b, "\\_S5_");
	p = aml_package_open(&b, 4);
	aml_integer(&b, 5);
	aml_integer(&b, 5);
	aml_integer(&b, 0);
	aml_integer(&b, 0);
	aml_close(&b, p);
	EXPECT(0x08, 0x5c, '_', 'S', '5', '_', 0x12, 0x08, 0x04,
	       0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00);
}

static void test_resources(void **state)
{
	struct fw_buf r;

	fw_buf_init(&r);
	res_io(&r, 0x3f8, 8);
	res_irq(&r, 4);
	aml_crs(&b, &r);
	/* Name(_CRS, Buffer(0x0d){ IO, IRQNoFlags, EndTag }) */
	EXPECT(0x08, '_', 'C', 'R', 'S', 0x11, 0x10, 0x0a, 0x0d,
	       0x47, 0x01, 0xf8, 0x03, 0xf8, 0x03, 0x01, 0x08,
	       0x22, 0x10, 0x00,
	       0x79, 0x00);
	fw_buf_free(&r);

	res_mem32_fixed(&b, 0xfeb00000, 0x1000, true);
	EXPECT(0x86, 0x09, 0x00, 0x01, 0x00, 0x00, 0xb0, 0xfe,
	       0x00, 0x10, 0x00, 0x00);
	res_interrupt(&b, 33, true, false);
	EXPECT(0x89, 0x06, 0x00, 0x01, 0x01, 33, 0, 0, 0);
	res_interrupt(&b, 4, false, true);
	EXPECT(0x89, 0x06, 0x00, 0x07, 0x01, 4, 0, 0, 0);
}

/* Address space descriptors, as iasl encodes WordBusNumber, WordIO,
 * DWordMemory and QWordMemory (producer, MinFixed, MaxFixed, PosDecode). */
static void test_address_descriptors(void **state)
{
	res_word_bus(&b, 0, 0xff);
	EXPECT(0x88, 0x0d, 0x00, 0x02, 0x0c, 0x00,
	       0x00, 0x00, 0x00, 0x00, 0xff, 0x00, 0x00, 0x00, 0x00, 0x01);
	res_word_io(&b, 0x0d00, 0xffff);
	EXPECT(0x88, 0x0d, 0x00, 0x01, 0x0c, 0x03,
	       0x00, 0x00, 0x00, 0x0d, 0xff, 0xff, 0x00, 0x00, 0x00, 0xf3);
	res_dword_mem(&b, 0xc0000000, 0xfbffffff, false);
	EXPECT(0x87, 0x17, 0x00, 0x00, 0x0c, 0x01,
	       0, 0, 0, 0, 0x00, 0x00, 0x00, 0xc0, 0xff, 0xff, 0xff, 0xfb,
	       0, 0, 0, 0, 0x00, 0x00, 0x00, 0x3c);
	res_qword_mem(&b, 0x100000000ULL, 0x1ffffffffULL, true);
	EXPECT(0x8a, 0x2b, 0x00, 0x00, 0x0c, 0x03,
	       0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 1, 0, 0, 0,
	       0xff, 0xff, 0xff, 0xff, 1, 0, 0, 0,
	       0, 0, 0, 0, 0, 0, 0, 0,
	       0, 0, 0, 0, 1, 0, 0, 0);
}

static void test_checksum(void **state)
{
	uint8_t t[5] = { 1, 2, 3, 250, 0 };

	t[4] = fw_checksum(t, 4);
	assert_int_equal((uint8_t)(t[0] + t[1] + t[2] + t[3] + t[4]), 0);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_integers),
		T(test_name_strings),
		T(test_strings_and_eisaid),
		T(test_pkglength),
		T(test_device_and_scope),
		T(test_long_device),
		T(test_package),
		T(test_resources),
		T(test_address_descriptors),
		T(test_checksum),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

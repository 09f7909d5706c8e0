/* Guest memory: the bounds-checked accessor every device goes through. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "unit.h"
#include "mem/guest_mem.h"

static uint8_t low[0x10000], high[0x10000];

static int setup(void **state)
{
	struct guest_mem *m = calloc(1, sizeof(*m));

	guest_mem_init(m);
	assert_non_null(guest_mem_add_host(m, 0x100000, sizeof(high), high,
					   GUEST_RAM));
	assert_non_null(guest_mem_add_host(m, 0, sizeof(low), low, GUEST_RAM));
	*state = m;
	return 0;
}

static int teardown(void **state)
{
	guest_mem_free(*state);
	free(*state);
	return 0;
}

static void test_sorted_and_found(void **state)
{
	struct guest_mem *m = *state;

	assert_int_equal(m->nr, 2);
	assert_int_equal(m->regions[0].gpa, 0);
	assert_ptr_equal(guest_mem_ptr(m, 0x100010, 16), high + 0x10);
	assert_ptr_equal(guest_mem_ptr(m, 0xfff0, 16), low + 0xfff0);
}

static void test_ranges_refused(void **state)
{
	struct guest_mem *m = *state;

	/* straddles the end of a region */
	assert_null(guest_mem_ptr(m, 0xfff8, 16));
	/* in the hole between regions */
	assert_null(guest_mem_ptr(m, 0x20000, 1));
	/* wraps around 2^64 */
	assert_null(guest_mem_ptr(m, ~0ULL - 4, 16));
	assert_null(guest_mem_ptr(m, 0x100000, ~0ULL));
	/* longer than the region */
	assert_null(guest_mem_ptr(m, 0x100000, sizeof(high) + 1));
	assert_int_equal(guest_mem_read(m, 0x30000, low, 4), -EFAULT);
}

static void test_overlap_and_limits(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t x[4096];

	assert_null(guest_mem_add_host(m, 0x8000, sizeof(x), x, GUEST_RAM));
	assert_int_equal(errno, EEXIST);
	assert_null(guest_mem_add_host(m, ~0ULL - 10, sizeof(x), x, GUEST_RAM));
	assert_int_equal(errno, EINVAL);
	assert_null(guest_mem_add(m, 0x200000, 100, GUEST_RAM));
	assert_int_equal(errno, EINVAL);
}

static void test_rom_is_read_only_for_devices(void **state)
{
	struct guest_mem *m = *state;
	static uint8_t rom[4096];
	uint32_t v = 0x12345678, r = 0;

	assert_non_null(guest_mem_add_host(m, 0xc0000, sizeof(rom), rom,
					   GUEST_ROM));
	assert_int_equal(guest_mem_write(m, 0xc0000, &v, 4), -EFAULT);
	assert_int_equal(guest_mem_load(m, 0xc0000, &v, 4), 0);
	assert_int_equal(guest_mem_read(m, 0xc0000, &r, 4), 0);
	assert_int_equal(r, v);
	assert_null(guest_mem_ptr_rw(m, 0xc0000, 4));
}

static void test_sizes(void **state)
{
	struct guest_mem *m = *state;

	assert_int_equal(guest_mem_ram_size(m), sizeof(low) + sizeof(high));
	assert_int_equal(guest_mem_ram_end(m), 0x100000 + sizeof(high));
}

static void test_anonymous_region(void **state)
{
	struct guest_mem m;
	uint64_t v = 42, r = 0;

	(void)state;
	guest_mem_init(&m);
	assert_non_null(guest_mem_add(&m, 0x100000, 0x200000, GUEST_RAM));
	assert_int_equal(guest_mem_write(&m, 0x2ffff8, &v, 8), 0);
	assert_int_equal(guest_mem_read(&m, 0x2ffff8, &r, 8), 0);
	assert_int_equal(r, 42);
	guest_mem_free(&m);
	assert_int_equal(m.nr, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_sorted_and_found, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_overlap_and_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rom_is_read_only_for_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sizes, setup, teardown),
		cmocka_unit_test(test_anonymous_region),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The PIO/MMIO bus: placement, lookup, straddling and unclaimed accesses. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "bus/bus_fast.h"
#include "devices/device.h"

struct rec_dev {
	struct device dev;
	unsigned region;
	uint64_t offset, value;
	unsigned size, writes, reads;
};

static uint64_t rec_read(struct device *d, unsigned region, uint64_t off,
			 unsigned size)
{
	struct rec_dev *r = (struct rec_dev *)d;

	r->reads++;
	r->region = region;
	r->offset = off;
	r->size = size;
	return 0x1122334455667788ULL;
}

static void rec_write(struct device *d, unsigned region, uint64_t off,
		      unsigned size, uint64_t v)
{
	struct rec_dev *r = (struct rec_dev *)d;

	r->writes++;
	r->region = region;
	r->offset = off;
	r->size = size;
	r->value = v;
}

static const struct device_ops rec_ops = { .read = rec_read,
					   .write = rec_write };

static void test_register_and_dispatch(void **state)
{
	struct bus b;
	struct rec_dev a = { .dev.ops = &rec_ops }, c = { .dev.ops = &rec_ops };
	uint32_t v = 0xdeadbeef;
	uint16_t r16 = 0;

	(void)state;
	bus_init(&b, BUS_PIO);
	assert_int_equal(bus_register(&b, 0x3f8, 8, &a.dev, 0), 0);
	assert_int_equal(bus_register(&b, 0x60, 1, &c.dev, 0), 0);
	assert_int_equal(bus_register(&b, 0x64, 1, &c.dev, 1), 0);
	assert_int_equal(bus_register(&b, 0x3fc, 8, &c.dev, 2), -EEXIST);
	assert_int_equal(bus_register(&b, 0x100, 0, &c.dev, 2), -EINVAL);
	assert_int_equal(bus_register(&b, ~0ULL, 2, &c.dev, 2), -EINVAL);

	assert_true(bus_access(&b, 0x3fb, &v, 1, true));
	assert_int_equal(a.offset, 3);
	assert_int_equal(a.value, 0xef);
	assert_true(bus_access(&b, 0x64, &r16, 1, false));
	assert_int_equal(c.region, 1);
	assert_int_equal(r16, 0x88);
	bus_free(&b);
}

static void test_unclaimed_and_straddle(void **state)
{
	struct bus b;
	struct rec_dev a = { .dev.ops = &rec_ops };
	uint64_t v = 0;

	(void)state;
	bus_init(&b, BUS_MMIO);
	assert_int_equal(bus_register(&b, 0x1000, 0x10, &a.dev, 0), 0);
	/* 8 bytes at 0x100c would run past the device: nobody's */
	assert_false(bus_access(&b, 0x100c, &v, 8, false));
	assert_int_equal(v, ~0ULL);
	assert_int_equal(a.reads, 0);
	v = 0;
	assert_false(bus_access(&b, 0x2000, &v, 4, false));
	assert_int_equal(v, 0xffffffffULL);
	assert_false(bus_access(&b, 0x0fff, &v, 1, true));
	assert_int_equal(a.writes, 0);
	assert_int_equal(b.unclaimed, 3);
	assert_false(bus_access(&b, 0x1000, &v, 16, false));
	bus_free(&b);
}

static void test_sorted_lookup_many(void **state)
{
	struct bus b;
	struct rec_dev d[32];

	(void)state;
	bus_init(&b, BUS_MMIO);
	/* register in a scrambled order; lookups must still find each */
	for (unsigned i = 0; i < 32; i++) {
		unsigned k = (i * 7) % 32;
		d[k] = (struct rec_dev){ .dev.ops = &rec_ops };
		assert_int_equal(bus_register(&b, 0x10000 + k * 0x100, 0x80,
					      &d[k].dev, k), 0);
	}
	for (unsigned k = 0; k < 32; k++) {
		struct bus_range r;

		assert_true(bus_find(&b, 0x10000 + k * 0x100 + 0x7c, 4, &r));
		assert_ptr_equal(r.dev, &d[k].dev);
		assert_false(bus_find(&b, 0x10000 + k * 0x100 + 0x80, 1, &r));
	}
	bus_free(&b);
}

static void test_unregister_and_move(void **state)
{
	struct bus b;
	struct rec_dev a = { .dev.ops = &rec_ops };
	struct bus_range r;
	uint32_t v = 7;

	(void)state;
	bus_init(&b, BUS_MMIO);
	assert_int_equal(bus_register(&b, 0x1000, 0x100, &a.dev, 0), 0);
	assert_int_equal(bus_register(&b, 0x3000, 0x100, &a.dev, 1), 0);
	assert_int_equal(bus_unregister(&b, 0x1000, &a.dev, 1), -ENOENT);
	assert_int_equal(bus_unregister(&b, 0x1000, &a.dev, 0), 0);
	assert_false(bus_find(&b, 0x1000, 4, &r));
	assert_true(bus_find(&b, 0x3000, 4, &r));
	/* a BAR move: the old place is free, the new one decodes */
	assert_int_equal(bus_register(&b, 0x2000, 0x100, &a.dev, 0), 0);
	assert_true(bus_access(&b, 0x2010, &v, 4, true));
	assert_int_equal(a.offset, 0x10);
	assert_int_equal(a.region, 0);
	assert_int_equal(bus_unregister(&b, 0x3000, &a.dev, 1), 0);
	assert_int_equal(bus_count(&b), 1);
	bus_free(&b);
}

/* A device whose write handler moves its own region, as a PCI BAR write
 * does: must neither deadlock nor leak, however often the guest does it. */
struct mover {
	struct device dev;
	struct bus *bus;
	uint64_t base;
	unsigned moves;
};

static void mover_write(struct device *d, unsigned region, uint64_t off,
			unsigned size, uint64_t v)
{
	struct mover *m = (struct mover *)d;

	assert_int_equal(bus_unregister(m->bus, m->base, d, 0), 0);
	m->base = m->base == 0x1000 ? 0x2000 : 0x1000;
	assert_int_equal(bus_register(m->bus, m->base, 0x10, d, 0), 0);
	m->moves++;
}

static const struct device_ops mover_ops = { .write = mover_write };

static void test_handler_moves_itself(void **state)
{
	struct bus b;
	struct mover m = { .dev.ops = &mover_ops, .bus = &b, .base = 0x1000 };
	uint32_t v = 1;

	(void)state;
	bus_init(&b, BUS_MMIO);
	assert_int_equal(bus_register(&b, 0x1000, 0x10, &m.dev, 0), 0);
	for (unsigned i = 0; i < 100000; i++)
		assert_true(bus_access(&b, m.base, &v, 4, true));
	assert_int_equal(m.moves, 100000);
	assert_int_equal(bus_count(&b), 1);
	bus_free(&b);
}

/* A vCPU's one-entry cache must follow every change of the bus. */
static void test_cache_follows_changes(void **state)
{
	struct bus b;
	struct bus_cache c;
	struct rec_dev a = { .dev.ops = &rec_ops }, d = { .dev.ops = &rec_ops };
	uint32_t v = 1;

	(void)state;
	bus_init(&b, BUS_MMIO);
	bus_cache_init(&c);
	assert_int_equal(bus_register(&b, 0x1000, 0x100, &a.dev, 3), 0);
	assert_true(bus_access_fast(&b, &c, 0x1010, &v, 4, true));
	assert_true(bus_access_fast(&b, &c, 0x1020, &v, 4, true));
	assert_int_equal(a.writes, 2);
	assert_int_equal(a.offset, 0x20);
	/* outside the cached range: a real lookup, unclaimed */
	assert_false(bus_access_fast(&b, &c, 0x1100, &v, 4, true));
	/* the range now belongs to another device */
	assert_int_equal(bus_unregister(&b, 0x1000, &a.dev, 3), 0);
	assert_false(bus_access_fast(&b, &c, 0x1010, &v, 4, true));
	assert_int_equal(bus_register(&b, 0x1000, 0x80, &d.dev, 1), 0);
	assert_true(bus_access_fast(&b, &c, 0x1010, &v, 4, true));
	assert_int_equal(a.writes, 2);
	assert_int_equal(d.writes, 1);
	assert_int_equal(d.region, 1);
	/* and shrank: 0x1090 was in the cached range, no longer decodes */
	assert_false(bus_access_fast(&b, &c, 0x1090, &v, 4, true));
	assert_int_equal(d.writes, 1);
	bus_free(&b);
}

/* Growing past the first array keeps every range, and the outgrown arrays
 * total less than the live one. */
static void test_growth(void **state)
{
	struct bus b;
	struct rec_dev d = { .dev.ops = &rec_ops };
	struct bus_range r;

	(void)state;
	bus_init(&b, BUS_PIO);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(bus_register(&b, 0x8000 - i * 4, 2, &d.dev,
					      i), 0);
	assert_int_equal(bus_count(&b), 300);
	assert_true(b.nr_retired <= 5);
	for (unsigned i = 0; i < 300; i++) {
		assert_true(bus_find(&b, 0x8000 - i * 4 + 1, 1, &r));
		assert_int_equal(r.region, i);
		assert_false(bus_find(&b, 0x8000 - i * 4 + 2, 1, &r));
	}
	bus_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_register_and_dispatch),
		cmocka_unit_test(test_unclaimed_and_straddle),
		cmocka_unit_test(test_sorted_lookup_many),
		cmocka_unit_test(test_unregister_and_move),
		cmocka_unit_test(test_handler_moves_itself),
		cmocka_unit_test(test_cache_follows_changes),
		cmocka_unit_test(test_growth),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* The bus under concurrency: vCPU-like readers (with their caches) look
 * ranges up while a writer places, moves and removes others, as PCI BAR
 * programming does. A reader must never see a torn range: every access is
 * either claimed by the right device at the right offset or unclaimed. */
#include <pthread.h>
#include <stdatomic.h>

#include "unit.h"
#include "bus/bus_fast.h"
#include "devices/device.h"

#define READS	200000
#define MOVES	20000
#define FIXED	0x10000         /* never moves */
#define MOVER_A	0x20000         /* the mover alternates between these */
#define MOVER_B	0x30000

struct ident {
	struct device dev;
	unsigned id;
};

/* A pure function of who was reached and where: thread-safe. */
static uint64_t ident_read(struct device *d, unsigned region, uint64_t off,
			   unsigned size)
{
	return (uint64_t)((struct ident *)d)->id << 32 | region << 16 | off;
}

static const struct device_ops ident_ops = { .read = ident_read };

static struct bus bus;
static struct ident fixed = { { .ops = &ident_ops }, 1 };
static struct ident mover = { { .ops = &ident_ops }, 2 };
static struct ident filler[40];
static atomic_bool writer_done;
static atomic_uint bad, mover_hits;

static void check_read(struct bus_cache *c, uint64_t addr, unsigned id,
		       uint64_t base)
{
	uint64_t v = 0;

	if (!bus_access_fast(&bus, c, addr, &v, 8, false)) {
		if (id == 1 || v != ~0ULL)
			atomic_fetch_add(&bad, 1);
		return;
	}
	if (v != ((uint64_t)id << 32 | (addr - base)))
		atomic_fetch_add(&bad, 1);
	if (id == 2)
		atomic_fetch_add(&mover_hits, 1);
}

static void *reader(void *arg)
{
	struct bus_cache c;

	(void)arg;
	bus_cache_init(&c);
	/* Until the writer is done, so the two overlap whatever the timing. */
	for (unsigned i = 0; i < READS || !atomic_load(&writer_done); i++) {
		unsigned off = (i * 8) % 0x100;

		check_read(&c, FIXED + off, 1, FIXED);
		check_read(&c, MOVER_A + off, 2, MOVER_A);
		check_read(&c, MOVER_B + off, 2, MOVER_B);
	}
	return NULL;
}

/* Moves the mover and churns filler ranges below and between the others,
 * so the array's entries shift under the readers. */
static void *writer(void *arg)
{
	uint64_t at = MOVER_A;

	(void)arg;
	for (unsigned i = 0; i < MOVES; i++) {
		struct ident *f = &filler[i % 40];
		uint64_t fbase = 0x1000 + (i % 40) * 0x100 +
				 (i / 40 % 2) * 0x18000;

		assert_int_equal(bus_unregister(&bus, at, &mover.dev, 0), 0);
		at = at == MOVER_A ? MOVER_B : MOVER_A;
		assert_int_equal(bus_register(&bus, at, 0x100, &mover.dev, 0),
				 0);
		if (i >= 40) {
			uint64_t old = 0x1000 + (i % 40) * 0x100 +
				       ((i - 40) / 40 % 2) * 0x18000;
			assert_int_equal(bus_unregister(&bus, old, &f->dev,
							0), 0);
		}
		assert_int_equal(bus_register(&bus, fbase, 0x80, &f->dev, 0),
				 0);
	}
	atomic_store(&writer_done, true);
	return NULL;
}

static void test_readers_and_writer(void **state)
{
	pthread_t r[2], w;

	(void)state;
	bus_init(&bus, BUS_MMIO);
	for (unsigned i = 0; i < 40; i++)
		filler[i] = (struct ident){ { .ops = &ident_ops }, 100 + i };
	assert_int_equal(bus_register(&bus, FIXED, 0x100, &fixed.dev, 0), 0);
	assert_int_equal(bus_register(&bus, MOVER_A, 0x100, &mover.dev, 0),
			 0);
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&r[i], NULL, reader, NULL), 0);
	assert_int_equal(pthread_create(&w, NULL, writer, NULL), 0);
	pthread_join(w, NULL);
	for (unsigned i = 0; i < 2; i++)
		pthread_join(r[i], NULL);
	assert_true(atomic_load(&writer_done));
	assert_int_equal(atomic_load(&bad), 0);
	/* the mover was reachable at one place or the other throughout */
	assert_true(atomic_load(&mover_hits) > 0);
	assert_int_equal(bus_count(&bus), 2 + 40);
	bus_free(&bus);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_and_writer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

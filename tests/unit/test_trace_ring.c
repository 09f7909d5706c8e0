/* The trace ring (src/trace/ring.h): order across the wrap, a full ring
 * dropping and counting instead of waiting, and a drain running while
 * the producer appends (whatever the interleaving: every record arrives
 * once, in order, or is counted as dropped). */
#include <pthread.h>
#include <stdlib.h>

#include "unit.h"
#include "trace/ring.h"

static struct trace_rec rec(uint64_t seq)
{
	return (struct trace_rec){ .tsc = seq, .addr = seq * 3,
				   .value = ~seq, .event = 6 };
}

static void test_wrap(void **state)
{
	struct trace_ring r;
	struct trace_rec out[8];
	uint64_t next_in = 0, next_out = 0;

	assert_int_equal(trace_ring_init(&r, 3), 0);     /* 8 records */
	/* 5 in, 5 out, many times: the indexes pass the end again and again */
	for (int round = 0; round < 40; round++) {
		for (int i = 0; i < 5; i++) {
			struct trace_rec x = rec(next_in++);

			assert_true(trace_ring_put(&r, &x));
		}
		assert_int_equal(trace_ring_take(&r, out, 8), 5);
		for (int i = 0; i < 5; i++, next_out++) {
			assert_int_equal(out[i].tsc, next_out);
			assert_int_equal(out[i].addr, next_out * 3);
			assert_int_equal(out[i].value, ~next_out);
		}
	}
	assert_int_equal(trace_ring_take(&r, out, 8), 0);
	assert_int_equal(trace_ring_overruns(&r), 0);
	trace_ring_free(&r);
}

static void test_overrun(void **state)
{
	struct trace_ring r;
	struct trace_rec out[16];

	assert_int_equal(trace_ring_init(&r, 2), 0);     /* 4 records */
	for (uint64_t i = 0; i < 10; i++) {
		struct trace_rec x = rec(i);

		/* the first four fit; the rest are dropped, not waited for */
		assert_int_equal(trace_ring_put(&r, &x), i < 4);
	}
	assert_int_equal(trace_ring_overruns(&r), 6);
	/* a partial take frees room for exactly that many */
	assert_int_equal(trace_ring_take(&r, out, 1), 1);
	assert_int_equal(out[0].tsc, 0);
	{
		struct trace_rec x = rec(100), y = rec(101);

		assert_true(trace_ring_put(&r, &x));
		assert_false(trace_ring_put(&r, &y));
	}
	assert_int_equal(trace_ring_overruns(&r), 7);
	assert_int_equal(trace_ring_take(&r, out, 16), 4);
	assert_int_equal(out[0].tsc, 1);
	assert_int_equal(out[2].tsc, 3);
	assert_int_equal(out[3].tsc, 100);
	/* discard: the consumer forgets everything there */
	{
		struct trace_rec x = rec(7);

		assert_true(trace_ring_put(&r, &x));
	}
	trace_ring_discard(&r);
	assert_int_equal(trace_ring_take(&r, out, 16), 0);
	trace_ring_free(&r);
}

#define PRODUCED 200000

static void *producer(void *arg)
{
	struct trace_ring *r = arg;

	for (uint64_t i = 0; i < PRODUCED; i++) {
		struct trace_rec x = rec(i);

		trace_ring_put(r, &x);
	}
	return NULL;
}

static void test_concurrent_drain(void **state)
{
	static struct trace_rec out[64];
	struct trace_ring r;
	pthread_t t;
	uint64_t got = 0, last = 0;
	bool any = false, done = false;

	assert_int_equal(trace_ring_init(&r, 6), 0);     /* 64 records */
	assert_int_equal(pthread_create(&t, NULL, producer, &r), 0);
	while (!done) {
		/* seen the end of production before this take: it gets
		 * everything left */
		uint64_t seen = __atomic_load_n(&r.head, __ATOMIC_ACQUIRE) +
				trace_ring_overruns(&r);
		size_t n = trace_ring_take(&r, out, 64);

		done = seen == PRODUCED && !n;
		for (size_t i = 0; i < n; i++) {
			/* in order, each once; gaps are drops */
			if (any)
				assert_true(out[i].tsc > last);
			assert_int_equal(out[i].addr, out[i].tsc * 3);
			assert_int_equal(out[i].value, ~out[i].tsc);
			last = out[i].tsc;
			any = true;
		}
		got += n;
	}
	pthread_join(t, NULL);
	assert_int_equal(got + trace_ring_overruns(&r), PRODUCED);
	trace_ring_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_wrap),
		cmocka_unit_test(test_overrun),
		cmocka_unit_test(test_concurrent_drain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* Random rings: descriptors, indirect tables and avail entries filled with
 * values biased towards the edges (region ends, 0, ~0, sizes around the
 * queue size). Whatever the guest writes, pop must return -EIO, 0 or 1,
 * and a returned request must describe only guest memory of the right
 * kind, within the caller's iovec budget. Deterministic (fixed seed). */
#include <errno.h>

#include "unit.h"
#include "core/util.h"
#include "test_virtq_helpers.h"

#define QSIZE	8
#define ITERS	40000
#define MAXIOV	16

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd(void)
{
	/* xorshift64* */
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t rnd_addr(void)
{
	static const uint64_t edges[] = {
		0, RAM_GPA, BUF_GPA, TABLE_GPA, RAM2_GPA,
		RAM2_GPA + RAM2_SIZE, ROM_GPA, ROM_GPA + ROM_SIZE, HOLE_GPA,
		~0ULL, RING_DESC, RING_USED,
	};
	uint64_t base = edges[rnd() % ARRAY_SIZE(edges)];

	switch (rnd() % 4) {
	case 0: return base;
	case 1: return base - (rnd() % 64);
	case 2: return base + (rnd() % 64);
	default: return rnd();
	}
}


static uint32_t rnd_len(void)
{
	switch (rnd() % 5) {
	case 0: return 0;
	case 1: return (uint32_t)(rnd() % 64);
	case 2: return 16 * (uint32_t)(rnd() % 8);
	case 3: return 0xffffffffu - (uint32_t)(rnd() % 4);
	default: return (uint32_t)rnd();
	}
}

static void rnd_desc(struct fake_vm *vm, uint64_t table, unsigned i,
		     unsigned table_size)
{
	uint16_t flags = (uint16_t)(rnd() % 8);
	uint16_t next = (uint16_t)(rnd() % 4 ? rnd() % (table_size + 2)
					     : rnd());

	if (rnd() % 3 == 0) {
		/* a plausible indirect pointer */
		put_desc(vm, table, i, TABLE_GPA + 16 * (rnd() % 4),
			 16 * (uint32_t)(rnd() % 6), flags, next);
		return;
	}
	put_desc(vm, table, i, rnd_addr(), rnd_len(), flags, next);
}

static bool iov_in(struct fake_vm *vm, const struct iovec *v, bool write)
{
	const uint8_t *b = v->iov_base;

	if (write)
		return (b >= vm->ram && b + v->iov_len <= vm->ram + RAM_SIZE) ||
		       (b >= vm->ram2 && b + v->iov_len <= vm->ram2 + RAM2_SIZE);
	return host_in_guest(vm, b, v->iov_len);
}

static void check_req(struct fake_vm *vm, const struct virtq_req *r)
{
	uint64_t rd = 0, wr = 0;
	unsigned i;

	assert_true(r->head < QSIZE);
	assert_true(r->nr_read + r->nr_write <= MAXIOV);
	for (i = 0; i < r->nr_read + r->nr_write; i++) {
		bool w = i >= r->nr_read;

		assert_true(r->iov[i].iov_len > 0);
		assert_true(iov_in(vm, &r->iov[i], w));
		*(w ? &wr : &rd) += r->iov[i].iov_len;
	}
	assert_int_equal(rd, r->read_len);
	assert_int_equal(wr, r->write_len);
	assert_true(rd <= UINT32_MAX && wr <= UINT32_MAX);
}

static void test_random_rings(void **state)
{
	struct fake_vm vm;
	struct virtq q;
	struct iovec iov[MAXIOV];
	struct virtq_req r = { .iov = iov, .max_iov = MAXIOV };
	unsigned it, i, outcomes[3] = { 0 };

	(void)state;
	fake_vm_init(&vm, QSIZE);
	for (it = 0; it < ITERS; it++) {
		int rc = 0, n;

		virtq_init(&q, &vm.mem, QSIZE);
		q.desc_gpa = RING_DESC;
		q.avail_gpa = RING_AVAIL;
		q.used_gpa = RING_USED;
		assert_int_equal(virtq_enable(&q, (unsigned)(rnd() % 4)), 0);
		for (i = 0; i < QSIZE; i++)
			rnd_desc(&vm, RING_DESC, i, QSIZE);
		for (i = 0; i < 4 * 6; i++)
			rnd_desc(&vm, TABLE_GPA, i, 6);
		set_avail_idx(&vm, 0);
		for (i = 0; i < QSIZE; i++)
			*avail_word(&vm, 2 + i) = htole16(rnd() % 8 ?
				(uint16_t)(rnd() % QSIZE) : (uint16_t)rnd());
		set_avail_idx(&vm, (uint16_t)(rnd() % 4 ? rnd() % (QSIZE + 2)
						       : rnd()));
		for (n = 0; n < QSIZE + 2; n++) {
			rc = virtq_pop(&q, &r);
			assert_true(rc == 1 || rc == 0 || rc == -EIO);
			outcomes[rc < 0 ? 2 : rc]++;
			if (rc <= 0)
				break;
			check_req(&vm, &r);
			virtq_push(&q, &r, (uint32_t)rnd());
			assert_false(q.broken);
		}
		if (rc < 0)
			assert_int_not_equal(q.err, VIRTQ_OK);
	}
	/* the generator reaches all three outcomes */
	assert_true(outcomes[0] > 0 && outcomes[1] > 0 && outcomes[2] > 0);
	fake_vm_free(&vm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_rings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

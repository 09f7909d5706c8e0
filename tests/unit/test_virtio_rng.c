/* virtio-rng (virtio-entropy) through the virtio core API: buffers come
 * back filled, with the right used length, bounded per request. */
#include <stdlib.h>

#include "unit.h"
#include "test_vdev_helpers.h"

/* Constructors from src/virtio/rng.c (no header: only the vdev type is
 * public). */
struct virtio_dev *virtio_rng_new(struct guest_mem *mem);
void virtio_rng_release(struct virtio_dev *d);

struct fix {
	struct fake_vm vm;
	struct virtio_dev *d;
	struct irq_count irqs;
	struct tv_queue tq;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	fake_vm_init(&f->vm, TEST_QSIZE);
	f->d = virtio_rng_new(&f->vm.mem);
	assert_non_null(f->d);
	tv_attach(f->d, &f->irqs);
	tv_bring_up(f->d, 1, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	virtio_rng_release(f->d);
	fake_vm_free(&f->vm);
	free(f);
	return 0;
}

static unsigned nonzero(const uint8_t *p, size_t len)
{
	unsigned n = 0;

	for (size_t i = 0; i < len; i++)
		n += p[i] != 0;
	return n;
}

static void test_fills_buffers(void **state)
{
	struct fix *f = *state;
	struct seg s[2] = { { BUF_GPA, 100, true },
			    { BUF_GPA + 0x1000, 4000, true } };

	assert_int_equal(f->d->device_id, VIRTIO_ID_RNG);
	tv_chain(&f->vm, &f->tq, s, 2);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 1);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 4100);
	/* random bytes: a handful of zeros at most */
	assert_true(nonzero(gpa_host(&f->vm, BUF_GPA), 100) > 80);
	assert_true(nonzero(gpa_host(&f->vm, BUF_GPA + 0x1000), 4000) > 3900);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, BUF_GPA + 100), 0);
	assert_int_equal(f->irqs.used, 1);
}

static void test_bounded_request(void **state)
{
	struct fix *f = *state;
	struct seg s = { BUF_GPA, 0x30000, true };

	tv_chain(&f->vm, &f->tq, &s, 1);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 64 * 1024);
	assert_int_equal(*(uint8_t *)gpa_host(&f->vm, BUF_GPA + 0x10000 + 5),
			 0);
}

static void test_several_and_readonly(void **state)
{
	struct fix *f = *state;
	struct seg ro = { BUF_GPA, 64, false };
	struct seg a = { BUF_GPA + 0x100, 16, true };

	tv_chain(&f->vm, &f->tq, &ro, 1);      /* nothing to fill */
	tv_chain(&f->vm, &f->tq, &a, 1);
	tv_chain(&f->vm, &f->tq, &a, 1);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 3);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 0).len, 0);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 1).len, 16);
	assert_int_equal(tv_used_elem(&f->vm, &f->tq, 2).len, 16);
	assert_false(virtio_dev_status(f->d) & VIRTIO_STATUS_NEEDS_RESET);
}

/* A guest that keeps the queue full of 64 KiB buffers cannot hold the
 * event loop: a kick fills 256 KiB worth, then asks to be run again;
 * every buffer is filled in the end. */
static void test_budget_per_kick(void **state)
{
	struct fix *f = *state;
	unsigned n = 10;

	tv_attach_requeue(f->d, &f->irqs);
	for (unsigned i = 0; i < n; i++) {
		struct seg s = { BUF_GPA + i * 0x10000ULL, 0x10000, true };

		tv_chain(&f->vm, &f->tq, &s, 1);
	}
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 4);
	assert_int_equal(f->irqs.requeues, 1);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 8);
	assert_int_equal(f->irqs.requeues, 2);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), n);
	assert_int_equal(f->irqs.requeues, 2);          /* ran dry: no more */
	for (unsigned i = 0; i < n; i++)
		assert_int_equal(tv_used_elem(&f->vm, &f->tq, i).len, 0x10000);
	/* A transport that cannot requeue: one kick does it all. */
	tv_attach(f->d, &f->irqs);
	for (unsigned i = 0; i < n; i++) {
		struct seg s = { BUF_GPA + i * 0x10000ULL, 0x10000, true };

		tv_chain(&f->vm, &f->tq, &s, 1);
	}
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 2 * n);
}

/* Requests with nothing to fill cost no bytes, but a kick still takes at
 * most 32 of them before it asks to be run again: a guest reposting them
 * from another vCPU kept the loop in one kick for ever (here 40 were all
 * taken at once). */
static void test_empty_requests_bounded(void **state)
{
	struct fix *f = *state;
	struct seg ro = { BUF_GPA, 64, false };

	tv_attach_requeue(f->d, &f->irqs);
	for (unsigned i = 0; i < 40; i++)
		tv_chain(&f->vm, &f->tq, &ro, 1);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 32);
	assert_int_equal(f->irqs.requeues, 1);
	virtio_queue_notify(f->d, 0);
	assert_int_equal(tv_used_idx(&f->vm, &f->tq), 40);
	assert_int_equal(f->irqs.requeues, 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fills_buffers),
		T(test_bounded_request),
		T(test_several_and_readonly),
		T(test_budget_per_kick),
		T(test_empty_requests_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

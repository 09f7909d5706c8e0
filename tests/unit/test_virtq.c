/* Split virtqueue: well-formed chains, notification decisions, wraparound.
 * The malformed cases are in test_virtq_malformed.c. */
#include <errno.h>

#include "unit.h"
#include "test_virtq_helpers.h"

struct fix {
	struct fake_vm vm;
	struct virtq q;
	struct iovec iov[64];
	struct virtq_req req;
};

static void enable(struct fix *f, uint16_t size, unsigned features)
{
	f->vm.size = size;
	virtq_init(&f->q, &f->vm.mem, 256);
	f->q.size = size;
	f->q.desc_gpa = RING_DESC;
	f->q.avail_gpa = RING_AVAIL;
	f->q.used_gpa = RING_USED;
	assert_int_equal(virtq_enable(&f->q, features), 0);
	assert_true(f->q.ready);
}

/* A ring enabled again after a reset asks for kicks, whatever its used
 * flags said before (a device may have left NO_NOTIFY there while busy). */
static void test_enable_wants_kicks(void **state)
{
	struct fix *f = *state;
	uint16_t *used = gpa_host(&f->vm, RING_USED);

	virtq_disable_notify(&f->q);
	enable(f, 16, VIRTQ_FEAT_INDIRECT);
	virtq_disable_notify(&f->q);
	assert_int_equal(le16toh(used[0]), VIRTQ_USED_F_NO_NOTIFY);
	enable(f, 16, VIRTQ_FEAT_INDIRECT);
	assert_int_equal(le16toh(used[0]), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	fake_vm_init(&f->vm, 16);
	f->req.iov = f->iov;
	f->req.max_iov = 64;
	enable(f, 16, VIRTQ_FEAT_INDIRECT | VIRTQ_FEAT_EVENT_IDX);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	fake_vm_free(&f->vm);
	free(f);
	return 0;
}

static void test_empty(void **state)
{
	struct fix *f = *state;

	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_false(virtq_has_work(&f->q));
	assert_false(f->q.broken);
}

static void test_not_ready_pops_nothing(void **state)
{
	struct fix *f = *state;

	virtq_reset(&f->q);
	set_desc(&f->vm, 0, BUF_GPA, 16, 0, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_int_equal(f->q.size, 256);     /* reset: size back to max */
}

static void test_single_readable(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 3, BUF_GPA, 100, 0, 0);
	avail_add(&f->vm, 3);
	assert_true(virtq_has_work(&f->q));
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.head, 3);
	assert_int_equal(f->req.nr_read, 1);
	assert_int_equal(f->req.nr_write, 0);
	assert_int_equal(f->req.read_len, 100);
	assert_ptr_equal(f->iov[0].iov_base, gpa_host(&f->vm, BUF_GPA));
	assert_int_equal(f->iov[0].iov_len, 100);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_int_equal(f->q.inflight, 1);
}

static void test_read_write_split(void **state)
{
	struct fix *f = *state;
	struct virtq_used_elem e;

	/* 2 readable, 2 writable, out of order in the table */
	set_desc(&f->vm, 5, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 9);
	set_desc(&f->vm, 9, BUF_GPA + 0x1000, 512, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA + 0x2000, 4096,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 15);
	set_desc(&f->vm, 15, BUF_GPA + 0x3000, 1, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 5);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_read, 2);
	assert_int_equal(f->req.nr_write, 2);
	assert_int_equal(f->req.read_len, 528);
	assert_int_equal(f->req.write_len, 4097);
	assert_ptr_equal(f->iov[2].iov_base, gpa_host(&f->vm, BUF_GPA + 0x2000));
	assert_int_equal(f->iov[3].iov_len, 1);

	virtq_push(&f->q, &f->req, 4097);
	assert_int_equal(get_used_idx(&f->vm), 1);
	e = get_used(&f->vm, 0);
	assert_int_equal(e.id, 5);
	assert_int_equal(e.len, 4097);
	assert_int_equal(f->q.inflight, 0);
}

static void test_written_clamped(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	virtq_push(&f->q, &f->req, 1000);
	assert_int_equal(get_used(&f->vm, 0).len, 8);
}

static void test_zero_length_skipped(void **state)
{
	struct fix *f = *state;

	/* a 0-length descriptor may point anywhere: it maps nothing */
	set_desc(&f->vm, 0, BUF_GPA, 4, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, HOLE_GPA, 0, VIRTQ_DESC_F_NEXT, 2);
	set_desc(&f->vm, 2, BUF_GPA + 64, 4, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_read, 1);
	assert_int_equal(f->req.nr_write, 1);
}

static void test_spans_adjacent_regions(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, RAM2_GPA - 100, 300, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_write, 2);
	assert_int_equal(f->iov[0].iov_len, 100);
	assert_int_equal(f->iov[1].iov_len, 200);
	assert_ptr_equal(f->iov[1].iov_base, f->vm.ram2);
	assert_true(host_in_guest(&f->vm, f->iov[0].iov_base, 100));
}

static void test_readable_in_rom(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, ROM_GPA, 64, 0, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_ptr_equal(f->iov[0].iov_base, f->vm.rom);
}

static void test_indirect(void **state)
{
	struct fix *f = *state;

	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 2);
	put_desc(&f->vm, TABLE_GPA, 2, BUF_GPA + 0x100, 32,
		 VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	put_desc(&f->vm, TABLE_GPA, 1, BUF_GPA + 0x200, 64,
		 VIRTQ_DESC_F_WRITE, 0);
	/* WRITE on the pointing descriptor is ignored (spec 2.7.5.3.2) */
	set_desc(&f->vm, 7, TABLE_GPA, 3 * 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 7);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.head, 7);
	assert_int_equal(f->req.nr_read, 1);
	assert_int_equal(f->req.nr_write, 2);
	assert_int_equal(f->req.write_len, 96);
	assert_ptr_equal(f->iov[2].iov_base, gpa_host(&f->vm, BUF_GPA + 0x200));
}

static void test_direct_then_indirect(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 16, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA + 0x100, 8,
		 VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_read, 1);
	assert_int_equal(f->req.nr_write, 1);
}

static void test_indirect_max_table(void **state)
{
	struct fix *f = *state;
	unsigned i;

	f->req.max_iov = 64;
	for (i = 0; i < VIRTQ_MAX_INDIRECT; i++)
		put_desc(&f->vm, TABLE_GPA, i, BUF_GPA, 0,
			 i + 1 < VIRTQ_MAX_INDIRECT ? VIRTQ_DESC_F_NEXT : 0,
			 i + 1);
	set_desc(&f->vm, 0, TABLE_GPA, VIRTQ_MAX_INDIRECT * 16,
		 VIRTQ_DESC_F_INDIRECT, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
}

static void test_full_length_chain(void **state)
{
	struct fix *f = *state;
	unsigned i;

	/* exactly `size` descriptors is legal */
	for (i = 0; i < 16; i++)
		set_desc(&f->vm, i, BUF_GPA + 16 * i, 16,
			 i < 15 ? VIRTQ_DESC_F_NEXT : 0, i + 1);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.nr_read, 16);
}

static void test_many_in_flight_and_batch(void **state)
{
	struct fix *f = *state;
	struct virtq_req reqs[16];
	struct iovec iovs[16][2];
	unsigned i;

	for (i = 0; i < 16; i++) {
		set_desc(&f->vm, i, BUF_GPA + 64 * i, 64, VIRTQ_DESC_F_WRITE, 0);
		avail_add(&f->vm, i);
	}
	for (i = 0; i < 16; i++) {
		reqs[i] = (struct virtq_req){ .iov = iovs[i], .max_iov = 2 };
		assert_int_equal(virtq_pop(&f->q, &reqs[i]), 1);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	/* complete in reverse order, one flush */
	for (i = 16; i-- > 0;)
		virtq_fill(&f->q, &reqs[i], i);
	assert_int_equal(get_used_idx(&f->vm), 0);
	virtq_flush(&f->q);
	assert_int_equal(get_used_idx(&f->vm), 16);
	assert_int_equal(get_used(&f->vm, 0).id, 15);
	assert_int_equal(get_used(&f->vm, 15).len, 0);
}

static void test_unpop(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 2, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 2);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	virtq_unpop(&f->q);
	assert_int_equal(f->q.inflight, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(f->req.head, 2);
}

static void test_avail_idx_wraparound(void **state)
{
	struct fix *f = *state;
	unsigned i;

	/* Driver and device both near the top of the 16-bit index space. */
	f->q.last_avail_idx = f->q.shadow_avail = 65534;
	f->q.used_idx = f->q.used_pub = 65534;
	set_avail_idx(&f->vm, 65534);
	for (i = 0; i < 4; i++) {
		set_desc(&f->vm, i, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
		avail_add(&f->vm, i);
	}
	assert_int_equal(f->vm.avail_idx, 2);
	for (i = 0; i < 4; i++) {
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
		assert_int_equal(f->req.head, i);
		virtq_push(&f->q, &f->req, 1);
	}
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
	assert_int_equal(get_used_idx(&f->vm), 2);
	assert_int_equal(get_used(&f->vm, 65535).id, 1);
	assert_int_equal(get_used(&f->vm, 1).id, 3);
	assert_false(f->q.broken);
}

static void test_avail_idx_full_ring(void **state)
{
	struct fix *f = *state;
	unsigned i;

	/* exactly size entries ahead is legal, across the wrap */
	f->q.last_avail_idx = f->q.shadow_avail = 65530;
	set_avail_idx(&f->vm, 65530);
	for (i = 0; i < 16; i++) {
		set_desc(&f->vm, i, BUF_GPA, 8, 0, 0);
		avail_add(&f->vm, i);
	}
	for (i = 0; i < 16; i++)
		assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
}

static void test_vring_need_event(void **state)
{
	(void)state;
	/* driver asked for an interrupt after entry `event` is used */
	assert_true(vring_need_event(0, 1, 0));
	assert_false(vring_need_event(5, 3, 0));
	assert_true(vring_need_event(5, 6, 0));
	assert_true(vring_need_event(5, 6, 5));
	assert_false(vring_need_event(5, 6, 6));     /* nothing new */
	assert_false(vring_need_event(5, 5, 3));     /* event not passed */
	/* wraparound at 65535 */
	assert_true(vring_need_event(65535, 0, 65534));
	assert_true(vring_need_event(65535, 1, 65535));
	assert_false(vring_need_event(65534, 1, 65535));
	assert_true(vring_need_event(65534, 2, 65530));
	assert_false(vring_need_event(3, 2, 65530));
}

static void pop_push_one(struct fix *f, uint16_t head)
{
	set_desc(&f->vm, head, BUF_GPA, 8, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, head);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	virtq_push(&f->q, &f->req, 8);
}

static void test_event_idx_notify(void **state)
{
	struct fix *f = *state;

	/* first interrupt is always sent: nothing signalled yet */
	set_used_event(&f->vm, 100);
	pop_push_one(f, 0);
	assert_true(virtq_needs_notify(&f->q));
	/* driver wants one after used entry 100: not yet */
	pop_push_one(f, 1);
	assert_false(virtq_needs_notify(&f->q));
	/* driver wants one after entry 2 (used idx moves past 2) */
	set_used_event(&f->vm, 2);
	pop_push_one(f, 2);
	assert_true(virtq_needs_notify(&f->q));
	/* nothing pushed since: no interrupt */
	assert_false(virtq_needs_notify(&f->q));
	/* NO_INTERRUPT flag is ignored under EVENT_IDX */
	*avail_word(&f->vm, 0) = htole16(VIRTQ_AVAIL_F_NO_INTERRUPT);
	set_used_event(&f->vm, 3);
	pop_push_one(f, 3);
	assert_true(virtq_needs_notify(&f->q));
}

static void test_event_idx_notify_wrap(void **state)
{
	struct fix *f = *state;

	f->q.last_avail_idx = f->q.shadow_avail = 65534;
	f->q.used_idx = f->q.used_pub = 65534;
	f->q.signalled_used = 65534;
	f->q.signalled_valid = true;
	set_avail_idx(&f->vm, 65534);
	set_used_event(&f->vm, 65535);
	pop_push_one(f, 0);                        /* used idx 65535 */
	assert_false(virtq_needs_notify(&f->q));
	pop_push_one(f, 1);                        /* used idx 0 */
	assert_true(virtq_needs_notify(&f->q));
}

static void test_avail_event_published(void **state)
{
	struct fix *f = *state;

	pop_push_one(f, 0);
	pop_push_one(f, 1);
	assert_int_equal(get_avail_event(&f->vm), 2);
	/* disabled: avail_event is left behind */
	virtq_disable_notify(&f->q);
	pop_push_one(f, 2);
	assert_int_equal(get_avail_event(&f->vm), 2);
	/* re-enable: catches up, reports no pending work */
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(get_avail_event(&f->vm), 3);
	/* work that raced in while disabled is reported */
	virtq_disable_notify(&f->q);
	set_desc(&f->vm, 4, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 4);
	assert_true(virtq_enable_notify(&f->q));
	virtq_set_avail_event(&f->q, 77);
	assert_int_equal(get_avail_event(&f->vm), 77);
}

static void test_no_event_idx_flags(void **state)
{
	struct fix *f = *state;

	enable(f, 16, 0);
	pop_push_one(f, 0);
	assert_true(virtq_needs_notify(&f->q));
	/* nothing used since: no interrupt (a spurious one on a level line
	 * is IRQ_NONE to Linux; it was sent) */
	assert_false(virtq_needs_notify(&f->q));
	*avail_word(&f->vm, 0) = htole16(VIRTQ_AVAIL_F_NO_INTERRUPT);
	pop_push_one(f, 1);
	assert_false(virtq_needs_notify(&f->q));
	/* what NO_INTERRUPT held back is news once it is cleared */
	*avail_word(&f->vm, 0) = 0;
	assert_true(virtq_needs_notify(&f->q));
	assert_false(virtq_needs_notify(&f->q));
	/* device side: NO_NOTIFY in used->flags */
	virtq_disable_notify(&f->q);
	assert_int_equal(le16toh(*used_word(&f->vm, 0)), VIRTQ_USED_F_NO_NOTIFY);
	assert_false(virtq_enable_notify(&f->q));
	assert_int_equal(le16toh(*used_word(&f->vm, 0)), 0);
	/* avail_event is not written without EVENT_IDX */
	assert_int_equal(get_avail_event(&f->vm), 0);
}

static void test_max_size_queue(void **state)
{
	struct fix *f = *state;

	/* 32768 entries: rings still fit in the fake RAM */
	f->vm.size = 32768;
	virtq_init(&f->q, &f->vm.mem, 32768);
	f->q.size = 32768;
	f->q.desc_gpa = RING_DESC + 0x200000;       /* 512 KiB table */
	f->q.avail_gpa = RING_AVAIL;
	f->q.used_gpa = RING_USED + 0x100000;
	assert_int_equal(virtq_enable(&f->q, 0), 0);
	assert_true(virtq_size_valid(32768, 32768));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty),
		T(test_enable_wants_kicks),
		T(test_not_ready_pops_nothing),
		T(test_single_readable),
		T(test_read_write_split),
		T(test_written_clamped),
		T(test_zero_length_skipped),
		T(test_spans_adjacent_regions),
		T(test_readable_in_rom),
		T(test_indirect),
		T(test_direct_then_indirect),
		T(test_indirect_max_table),
		T(test_full_length_chain),
		T(test_many_in_flight_and_batch),
		T(test_unpop),
		T(test_avail_idx_wraparound),
		T(test_avail_idx_full_ring),
		T(test_vring_need_event),
		T(test_event_idx_notify),
		T(test_event_idx_notify_wrap),
		T(test_avail_event_published),
		T(test_no_event_idx_flags),
		T(test_max_size_queue),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

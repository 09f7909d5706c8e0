/* Split virtqueue against a hostile driver: every malformed ring must
 * break the queue with the right reason, and nothing outside the fake
 * guest memory may be touched (the regions are heap buffers: ASan). */
#include <errno.h>

#include "unit.h"
#include "test_virtq_helpers.h"

#define QSIZE 16

struct fix {
	struct fake_vm vm;
	struct virtq q;
	struct iovec iov[64];
	struct virtq_req req;
};

static void configure(struct fix *f, uint16_t size)
{
	virtq_init(&f->q, &f->vm.mem, 256);
	f->q.size = size;
	f->q.desc_gpa = RING_DESC;
	f->q.avail_gpa = RING_AVAIL;
	f->q.used_gpa = RING_USED;
}

static void enable(struct fix *f, unsigned features)
{
	configure(f, QSIZE);
	assert_int_equal(virtq_enable(&f->q, features), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	fake_vm_init(&f->vm, QSIZE);
	f->req.iov = f->iov;
	f->req.max_iov = 64;
	enable(f, VIRTQ_FEAT_INDIRECT | VIRTQ_FEAT_EVENT_IDX);
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

/* Pop must fail with err, stay failed, and leave no trace in used. */
static void expect_broken(struct fix *f, enum virtq_err err)
{
	uint32_t inflight = f->q.inflight;
	uint16_t used = get_used_idx(&f->vm);
	unsigned i;

	assert_int_equal(virtq_pop(&f->q, &f->req), -EIO);
	assert_true(f->q.broken);
	assert_int_equal(f->q.err, err);
	assert_string_not_equal(virtq_err_str(err), "?");
	assert_int_equal(virtq_pop(&f->q, &f->req), -EIO);
	assert_int_equal(f->q.inflight, inflight);
	/* a broken queue publishes nothing and asks for no interrupt */
	virtq_push(&f->q, &f->req, 1);
	assert_int_equal(get_used_idx(&f->vm), used);
	assert_false(virtq_needs_notify(&f->q));
	assert_false(virtq_has_work(&f->q));
	/* whatever was mapped before the error stays inside guest memory */
	for (i = 0; i < f->req.nr_read + f->req.nr_write; i++)
		assert_true(host_in_guest(&f->vm, f->iov[i].iov_base,
					  f->iov[i].iov_len));
}

static void chain1(struct fix *f, uint64_t addr, uint32_t len, uint16_t flags)
{
	set_desc(&f->vm, 0, addr, len, flags, 0);
	avail_add(&f->vm, 0);
}

static void test_head_out_of_range(void **state)
{
	struct fix *f = *state;

	avail_add(&f->vm, QSIZE);
	expect_broken(f, VIRTQ_ERR_HEAD);
}

static void test_head_out_of_range_max(void **state)
{
	struct fix *f = *state;

	avail_add(&f->vm, 0xffff);
	expect_broken(f, VIRTQ_ERR_HEAD);
}

static void test_next_out_of_range(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, QSIZE);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_NEXT);
}

static void test_loop(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(&f->vm, 2, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_LOOP);
}

static void test_self_loop_zero_len(void **state)
{
	struct fix *f = *state;

	/* zero-length descriptors still count against the chain bound */
	set_desc(&f->vm, 4, 0, 0, VIRTQ_DESC_F_NEXT, 4);
	avail_add(&f->vm, 4);
	expect_broken(f, VIRTQ_ERR_LOOP);
}

static void test_chain_longer_than_size(void **state)
{
	struct fix *f = *state;
	unsigned i;

	/* all 16 entries chained and the last one back to the first: the
	 * 17th visit is refused */
	for (i = 0; i < QSIZE; i++)
		set_desc(&f->vm, i, BUF_GPA, 1, VIRTQ_DESC_F_NEXT,
			 (i + 1) % QSIZE);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_LOOP);
}

static void test_desc_outside_ram(void **state)
{
	struct fix *f = *state;

	chain1(f, HOLE_GPA, 16, 0);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_desc_below_ram(void **state)
{
	struct fix *f = *state;

	chain1(f, 0, 16, 0);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_desc_straddles_ram_end(void **state)
{
	struct fix *f = *state;

	/* last 8 bytes of RAM2 plus 8 bytes of the hole */
	chain1(f, RAM2_GPA + RAM2_SIZE - 8, 16, VIRTQ_DESC_F_WRITE);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_desc_straddles_rom_end(void **state)
{
	struct fix *f = *state;

	chain1(f, ROM_GPA + ROM_SIZE - 1, 2, 0);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_desc_addr_overflow(void **state)
{
	struct fix *f = *state;

	chain1(f, ~0ULL - 4, 16, 0);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_desc_huge_len(void **state)
{
	struct fix *f = *state;

	chain1(f, RAM_GPA, 0xffffffff, VIRTQ_DESC_F_WRITE);
	expect_broken(f, VIRTQ_ERR_DESC_ADDR);
}

static void test_writable_in_rom(void **state)
{
	struct fix *f = *state;

	chain1(f, ROM_GPA, 16, VIRTQ_DESC_F_WRITE);
	expect_broken(f, VIRTQ_ERR_DESC_ROM);
}

static void test_readable_after_writable(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA + 8, 8, 0, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_ORDER);
}

static void test_readable_after_empty_writable(void **state)
{
	struct fix *f = *state;

	/* the order rule holds for zero-length descriptors too */
	set_desc(&f->vm, 0, BUF_GPA, 0, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA + 8, 8, 0, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_ORDER);
}

static void test_indirect_not_negotiated(void **state)
{
	struct fix *f = *state;

	enable(f, VIRTQ_FEAT_EVENT_IDX);
	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	chain1(f, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_with_next(void **state)
{
	struct fix *f = *state;

	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	set_desc(&f->vm, 0, TABLE_GPA, 16,
		 VIRTQ_DESC_F_INDIRECT | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_nested(void **state)
{
	struct fix *f = *state;

	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	put_desc(&f->vm, TABLE_GPA, 1, TABLE_GPA + 0x1000, 16,
		 VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(&f->vm, TABLE_GPA + 0x1000, 0, BUF_GPA, 8, 0, 0);
	chain1(f, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_NESTED);
}

static void test_indirect_self_reference(void **state)
{
	struct fix *f = *state;

	/* a table whose only entry points back at the table itself */
	put_desc(&f->vm, TABLE_GPA, 0, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	chain1(f, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_NESTED);
}

static void test_indirect_len_not_multiple(void **state)
{
	struct fix *f = *state;

	chain1(f, TABLE_GPA, 24, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT_LEN);
}

static void test_indirect_len_zero(void **state)
{
	struct fix *f = *state;

	chain1(f, TABLE_GPA, 0, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT_LEN);
}

static void test_indirect_too_long(void **state)
{
	struct fix *f = *state;

	chain1(f, TABLE_GPA, (VIRTQ_MAX_INDIRECT + 1) * 16,
	       VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT_LEN);
}

static void test_indirect_table_outside_ram(void **state)
{
	struct fix *f = *state;

	chain1(f, HOLE_GPA - 16, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT_ADDR);
}

static void test_indirect_table_overflow(void **state)
{
	struct fix *f = *state;

	chain1(f, ~0ULL - 15, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_INDIRECT_ADDR);
}

static void test_indirect_next_out_of_table(void **state)
{
	struct fix *f = *state;

	/* next 2 is a valid main-table index but not in a 2-entry table */
	set_desc(&f->vm, 2, BUF_GPA, 8, 0, 0);
	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	put_desc(&f->vm, TABLE_GPA, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	chain1(f, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_NEXT);
}

static void test_indirect_loop(void **state)
{
	struct fix *f = *state;

	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	put_desc(&f->vm, TABLE_GPA, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 0);
	chain1(f, TABLE_GPA, 32, VIRTQ_DESC_F_INDIRECT);
	expect_broken(f, VIRTQ_ERR_LOOP);
}

static void test_indirect_order(void **state)
{
	struct fix *f = *state;

	/* writable direct descriptor, then a readable one inside the table */
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, TABLE_GPA, 16, VIRTQ_DESC_F_INDIRECT, 0);
	put_desc(&f->vm, TABLE_GPA, 0, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_ORDER);
}

static void test_avail_idx_jump(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 8, 0, 0);
	set_avail_idx(&f->vm, QSIZE + 1);
	expect_broken(f, VIRTQ_ERR_AVAIL_IDX);
}

static void test_avail_idx_backwards(void **state)
{
	struct fix *f = *state;

	/* idx going back by one looks like 65535 new entries */
	set_desc(&f->vm, 0, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 0);
	assert_int_equal(virtq_pop(&f->q, &f->req), 1);
	set_avail_idx(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_AVAIL_IDX);
}

static void test_too_many_segments(void **state)
{
	struct fix *f = *state;

	f->req.max_iov = 2;
	set_desc(&f->vm, 0, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA, 8, VIRTQ_DESC_F_NEXT, 2);
	set_desc(&f->vm, 2, BUF_GPA, 8, 0, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_IOV);
}

static void test_segments_split_count(void **state)
{
	struct fix *f = *state;

	/* one descriptor over two regions needs two iovecs */
	f->req.max_iov = 1;
	chain1(f, RAM2_GPA - 8, 16, 0);
	expect_broken(f, VIRTQ_ERR_IOV);
}

static void test_total_length_overflow(void **state)
{
	struct fix *f = *state;

	set_desc(&f->vm, 0, BUF_GPA, 16, VIRTQ_DESC_F_WRITE | VIRTQ_DESC_F_NEXT, 1);
	set_desc(&f->vm, 1, BUF_GPA, 0xffffffff, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
	expect_broken(f, VIRTQ_ERR_TOO_LONG);
}

static void test_push_without_pop(void **state)
{
	struct fix *f = *state;

	f->req.head = 0;
	f->req.gen = f->q.gen;    /* of this session, never popped */
	virtq_push(&f->q, &f->req, 0);
	assert_true(f->q.broken);
	assert_int_equal(f->q.err, VIRTQ_ERR_PUSH);
	assert_int_equal(get_used_idx(&f->vm), 0);
}

static void test_reset_clears_broken(void **state)
{
	struct fix *f = *state;

	avail_add(&f->vm, QSIZE);
	expect_broken(f, VIRTQ_ERR_HEAD);
	virtq_reset(&f->q);
	assert_false(f->q.broken);
	assert_false(f->q.ready);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
}

/* --- set-up checks (virtq_enable) --- */

static void expect_enable_fails(struct fix *f, enum virtq_err err)
{
	assert_int_equal(virtq_enable(&f->q, 0), -EINVAL);
	assert_false(f->q.ready);
	assert_int_equal(f->q.err, err);
	assert_int_equal(virtq_pop(&f->q, &f->req), 0);
}

static void test_bad_sizes(void **state)
{
	struct fix *f = *state;
	static const uint32_t bad[] = { 0, 3, 6, 100, 512, 65535, 65536 };
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_false(virtq_size_valid(bad[i], 256));
	assert_false(virtq_size_valid(65536, 32768));
	assert_true(virtq_size_valid(1, 256));
	assert_true(virtq_size_valid(256, 256));
	configure(f, 0);
	expect_enable_fails(f, VIRTQ_ERR_SIZE);
	configure(f, 12);
	expect_enable_fails(f, VIRTQ_ERR_SIZE);
	configure(f, 512);                      /* above max_size 256 */
	expect_enable_fails(f, VIRTQ_ERR_SIZE);
}

static void test_misaligned_rings(void **state)
{
	struct fix *f = *state;

	configure(f, QSIZE);
	f->q.desc_gpa = RING_DESC + 8;
	expect_enable_fails(f, VIRTQ_ERR_ALIGN);
	configure(f, QSIZE);
	f->q.avail_gpa = RING_AVAIL + 1;
	expect_enable_fails(f, VIRTQ_ERR_ALIGN);
	configure(f, QSIZE);
	f->q.used_gpa = RING_USED + 2;
	expect_enable_fails(f, VIRTQ_ERR_ALIGN);
}

static void test_rings_outside_ram(void **state)
{
	struct fix *f = *state;

	configure(f, QSIZE);
	f->q.desc_gpa = HOLE_GPA;
	expect_enable_fails(f, VIRTQ_ERR_RING_ADDR);
	configure(f, QSIZE);
	f->q.desc_gpa = RAM2_GPA + RAM2_SIZE - 16 * 8;  /* half in the hole */
	expect_enable_fails(f, VIRTQ_ERR_RING_ADDR);
	configure(f, QSIZE);
	f->q.avail_gpa = ~0ULL - 1;
	expect_enable_fails(f, VIRTQ_ERR_RING_ADDR);
	/* the used ring is written by the device: not in ROM */
	configure(f, QSIZE);
	f->q.used_gpa = ROM_GPA;
	expect_enable_fails(f, VIRTQ_ERR_RING_ADDR);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_head_out_of_range),
		T(test_head_out_of_range_max),
		T(test_next_out_of_range),
		T(test_loop),
		T(test_self_loop_zero_len),
		T(test_chain_longer_than_size),
		T(test_desc_outside_ram),
		T(test_desc_below_ram),
		T(test_desc_straddles_ram_end),
		T(test_desc_straddles_rom_end),
		T(test_desc_addr_overflow),
		T(test_desc_huge_len),
		T(test_writable_in_rom),
		T(test_readable_after_writable),
		T(test_readable_after_empty_writable),
		T(test_indirect_not_negotiated),
		T(test_indirect_with_next),
		T(test_indirect_nested),
		T(test_indirect_self_reference),
		T(test_indirect_len_not_multiple),
		T(test_indirect_len_zero),
		T(test_indirect_too_long),
		T(test_indirect_table_outside_ram),
		T(test_indirect_table_overflow),
		T(test_indirect_next_out_of_table),
		T(test_indirect_loop),
		T(test_indirect_order),
		T(test_avail_idx_jump),
		T(test_avail_idx_backwards),
		T(test_too_many_segments),
		T(test_segments_split_count),
		T(test_total_length_overflow),
		T(test_push_without_pop),
		T(test_reset_clears_broken),
		T(test_bad_sizes),
		T(test_misaligned_rings),
		T(test_rings_outside_ram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

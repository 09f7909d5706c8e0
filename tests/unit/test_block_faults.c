/* Block backend faults, on both engines: a failed flush makes every later
 * flush fail (the kernel reports a writeback error once), flushes queued
 * behind one another all complete, and a write cut short by the file size
 * limit fails as a whole instead of reporting success for part of it. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test_block.h"

#define DISK_SIZE (1024 * 1024)

static const char *engine;

static int setup(void **state)
{
	*state = blk_fix_new(engine, DISK_SIZE);
	return 0;
}

/* No io_uring here (seccomp, sysctl): the uring tests skip. */
static struct blk_fix *fixture(void **state)
{
	struct blk_fix *f = *state;

	if (!f->b) {
		print_message("SKIP: no io_uring here (kernel, seccomp or "
			      "kernel.io_uring_disabled): the uring backend "
			      "did not open\n");
		skip();
	}
	return f;
}

static int teardown(void **state)
{
	blk_fix_free(*state);
	return 0;
}

static void done_cb(struct blk_io *io)
{
	(*(int *)io->opaque)++;
}

/* Submit op, wait for it, return its result. */
static int64_t run(struct blk_backend *b, enum blk_op op, uint64_t off,
		   void *buf, size_t len)
{
	struct iovec iov = { buf, len };
	int calls = 0;
	struct blk_io io = { .op = op, .offset = off, .iov = &iov,
			     .iovcnt = buf ? 1 : 0, .done = done_cb,
			     .opaque = &calls };

	assert_int_equal(blk_backend_submit(b, &io), 0);
	blk_backend_drain(b);
	assert_int_equal(calls, 1);
	return io.result;
}

/* fdatasync on a pipe fails (EINVAL): swap one in under the backend for a
 * single flush, then put the image back. */
static void test_flush_failure_sticks(void **state)
{
	struct blk_fix *f = fixture(state);
	char buf[4096];
	int p[2], saved = dup(f->b->fd);

	assert_true(saved >= 0);
	assert_int_equal(pipe(p), 0);
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(run(f->b, BLK_OP_WRITE, 0, buf, sizeof(buf)), 4096);
	assert_int_equal(run(f->b, BLK_OP_FLUSH, 0, NULL, 0), 0);

	assert_true(dup2(p[0], f->b->fd) >= 0);
	assert_true(run(f->b, BLK_OP_FLUSH, 0, NULL, 0) < 0);
	assert_true(dup2(saved, f->b->fd) >= 0);

	/* fdatasync works again, but what it should have covered may be
	 * gone: the guest must keep hearing about it. */
	assert_int_equal(fdatasync(f->b->fd), 0);
	assert_int_equal(run(f->b, BLK_OP_FLUSH, 0, NULL, 0), -EIO);
	assert_int_equal(run(f->b, BLK_OP_FLUSH, 0, NULL, 0), -EIO);
	/* Reads and writes go on. */
	assert_int_equal(run(f->b, BLK_OP_WRITE, 4096, buf, sizeof(buf)), 4096);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(run(f->b, BLK_OP_READ, 0, buf, sizeof(buf)), 4096);
	assert_int_equal(buf[4095], 0x5a);
	close(saved);
	close(p[0]);
	close(p[1]);
}

/* Write-zeroes with FUA (a write-through disk: the driver took no FLUSH)
 * ends with an fdatasync, so the zeros are durable when it completes (it
 * completed after the fallocate alone); its failure fails the request
 * and every later flush. Driven step by step, as an engine does. */
static void test_zeroes_fua_synced(void **state)
{
	struct blk_fix *f = fixture(state);
	struct blk_range r = { .offset = 4096, .len = 8192 };
	struct blk_io io = { .op = BLK_OP_WRITE_ZEROES, .flags = BLK_IO_FUA,
			     .ranges = &r, .nr_ranges = 1 };
	int64_t res;

	assert_int_equal(blk_io_start(f->b, &io), 0);
	res = io.step.kind == BLK_STEP_WRITE ? (int64_t)io.step.iov->iov_len
					      : 0;
	assert_true(blk_io_step_done(f->b, &io, res));
	assert_int_equal(io.step.kind, BLK_STEP_FSYNC);
	assert_false(blk_io_step_done(f->b, &io, 0));
	assert_int_equal(io.result, 0);
	/* without FUA: done after the ranges */
	io = (struct blk_io){ .op = BLK_OP_WRITE_ZEROES, .ranges = &r,
			      .nr_ranges = 1 };
	assert_int_equal(blk_io_start(f->b, &io), 0);
	res = io.step.kind == BLK_STEP_WRITE ? (int64_t)io.step.iov->iov_len
					      : 0;
	assert_false(blk_io_step_done(f->b, &io, res));
	/* the sync failed: so does the request, and later flushes */
	io = (struct blk_io){ .op = BLK_OP_WRITE_ZEROES, .flags = BLK_IO_FUA,
			      .ranges = &r, .nr_ranges = 1 };
	assert_int_equal(blk_io_start(f->b, &io), 0);
	res = io.step.kind == BLK_STEP_WRITE ? (int64_t)io.step.iov->iov_len
					      : 0;
	assert_true(blk_io_step_done(f->b, &io, res));
	assert_false(blk_io_step_done(f->b, &io, -EIO));
	assert_int_equal(io.result, -EIO);
	assert_int_equal(run(f->b, BLK_OP_FLUSH, 0, NULL, 0), -EIO);
}

/* Many flushes at once: they run one at a time, and all complete. */
static void test_flushes_queue(void **state)
{
	struct blk_fix *f = fixture(state);
	struct blk_io io[16];
	int calls = 0;

	for (unsigned i = 0; i < 16; i++) {
		io[i] = (struct blk_io){ .op = BLK_OP_FLUSH, .done = done_cb,
					 .opaque = &calls, .result = 1 };
		assert_int_equal(blk_backend_submit(f->b, &io[i]), 0);
	}
	blk_backend_kick(f->b);
	blk_backend_drain(f->b);
	assert_int_equal(calls, 16);
	assert_int_equal(blk_backend_inflight(f->b), 0);
	for (unsigned i = 0; i < 16; i++)
		assert_int_equal(io[i].result, 0);
	assert_false(f->b->flush_busy);
}

/* RLIMIT_FSIZE cuts a write short at the limit and refuses the rest
 * (EFBIG): the request fails; it is not reported as done. */
static void test_short_write_fails(void **state)
{
	struct blk_fix *f = fixture(state);
	struct rlimit old, lim = { 4096 + 512, RLIM_INFINITY };
	char buf[8192];

	memset(buf, 0xa5, sizeof(buf));
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim.rlim_max = old.rlim_max;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	int64_t r = run(f->b, BLK_OP_WRITE, 0, buf, sizeof(buf));
	int64_t r2 = run(f->b, BLK_OP_WRITE, 8192, buf, 512);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(r, -EFBIG);
	assert_int_equal(r2, -EFBIG);
	/* The backend is still usable. */
	assert_int_equal(run(f->b, BLK_OP_WRITE, 0, buf, sizeof(buf)), 8192);
	assert_int_equal(run(f->b, BLK_OP_FLUSH, 0, NULL, 0), 0);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_flush_failure_sticks),
		T(test_flushes_queue),
		T(test_short_write_fails),
		T(test_zeroes_fua_synced),
	};
	int rc;

	engine = "sync";
	rc = cmocka_run_group_tests_name("block faults, sync", tests, NULL,
					 NULL);
	engine = "uring";
	rc |= cmocka_run_group_tests_name("block faults, uring", tests, NULL,
					  NULL);
	return rc;
}

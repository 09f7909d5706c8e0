/* blk_backend_quiet on the io_uring engine: a request completed while the
 * backend is quiet does not signal the completion eventfd (the LSI's vCPU
 * takes it itself, and the event loop is not woken); one completed after
 * it signals as before. Counted on the eventfd, whose value adds up: one
 * signal per completion, or two if quiet did nothing. */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "test_block.h"

static int setup(void **state)
{
	*state = blk_fix_new("uring", 1 << 20);
	return 0;
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

/* One 4 KiB read, taken by polling as the LSI's vCPU takes it. */
static void read_polled(struct blk_backend *b)
{
	static char buf[4096];
	struct iovec iov = { buf, sizeof(buf) };
	int calls = 0;
	struct blk_io io = { .op = BLK_OP_READ, .iov = &iov, .iovcnt = 1,
			     .done = done_cb, .opaque = &calls };

	time_t give_up = time(NULL) + 10;

	assert_int_equal(blk_backend_submit(b, &io), 0);
	blk_backend_kick(b);
	while (!calls && time(NULL) < give_up)
		blk_backend_poll(b);
	assert_int_equal(calls, 1);
	assert_int_equal(io.result, 4096);
}

static void test_quiet_read_signals_nothing(void **state)
{
	struct blk_fix *f = *state;
	struct pollfd p;
	uint64_t n = 0;

	if (!f->b) {
		print_message("SKIP: no io_uring here (kernel, seccomp or "
			      "kernel.io_uring_disabled): the uring backend "
			      "did not open\n");
		skip();
	}
	blk_backend_quiet(f->b, true);
	read_polled(f->b);
	blk_backend_quiet(f->b, false);
	read_polled(f->b);
	p = (struct pollfd){ .fd = f->b->efd, .events = POLLIN };
	assert_int_equal(poll(&p, 1, 5000), 1);   /* the second one's */
	assert_int_equal(read(f->b->efd, &n, sizeof(n)), sizeof(n));
	assert_int_equal(n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_quiet_read_signals_nothing,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

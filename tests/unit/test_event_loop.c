/* The event loop: fd callbacks, cross-thread calls, start/stop. */
#include <pthread.h>
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"
#include "event/loop.h"

static int hits;
static char got;

static void on_read(void *opaque, uint32_t ev)
{
	int fd = *(int *)opaque;

	assert_true(ev & EPOLLIN);
	assert_int_equal(read(fd, &got, 1), 1);
	hits++;
}

static void on_call(void *opaque)
{
	(*(int *)opaque)++;
}

static void test_fd_callback(void **state)
{
	struct event_loop *l = event_loop_new();
	int p[2];

	(void)state;
	assert_non_null(l);
	assert_int_equal(pipe(p), 0);
	hits = 0;
	assert_int_equal(event_loop_add(l, p[0], EPOLLIN, on_read, &p[0]), 0);
	assert_int_equal(event_loop_poll(l, 0), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(event_loop_poll(l, 1000), 1);
	assert_int_equal(hits, 1);
	assert_int_equal(got, 'x');
	/* disabled: data waits */
	assert_int_equal(event_loop_mod(l, p[0], 0), 0);
	assert_int_equal(write(p[1], "y", 1), 1);
	assert_int_equal(event_loop_poll(l, 0), 0);
	assert_int_equal(event_loop_del(l, p[0]), 0);
	assert_int_equal(event_loop_del(l, p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	event_loop_free(l);
}

/* write(2) calls of this process so far (/proc/self/io's syscw), or -1
 * where the kernel does not count them. */
static long writes_so_far(void)
{
	return unit_proc_io("syscw");
}

/* A call asked for again before it ran runs once, and wakes the loop
 * once: the second asking is no system call. */
static void test_calls_coalesce(void **state)
{
	struct event_loop *l = event_loop_new();
	long w0, w1;
	int n = 0;

	(void)state;
	w0 = writes_so_far();
	assert_int_equal(event_loop_call(l, on_call, &n), 0);
	for (int i = 0; i < 10; i++)
		assert_int_equal(event_loop_call(l, on_call, &n), 0);
	w1 = writes_so_far();
	if (w0 >= 0)
		assert_int_equal(w1 - w0, 1);
	event_loop_poll(l, 1000);
	assert_int_equal(n, 1);
	/* run: the next asking queues and wakes again */
	assert_int_equal(event_loop_call(l, on_call, &n), 0);
	event_loop_poll(l, 1000);
	assert_int_equal(n, 2);
	event_loop_free(l);
	if (w0 < 0) {
		/* the runs were checked; the one wake's write(2) was not */
		print_message("SKIP: no /proc/self/io write count on this "
			      "kernel (CONFIG_TASK_IO_ACCOUNTING): the single "
			      "wake-up write was not counted\n");
		skip();
	}
}

static int work_seq;

/* Counts the node's runs, and keeps the order of its first. */
static void on_work(void *opaque)
{
	int *n = opaque;

	n[0]++;
	n[1] = work_seq++;
}

struct repost {
	struct event_loop *l;
	struct loop_work w;
	int runs;
};

static void on_repost(void *opaque)
{
	struct repost *r = opaque;

	if (++r->runs == 1)
		event_loop_post(r->l, &r->w);   /* from its own run */
}

/* Posted work: many nodes all run, in order of posting, each once
 * however often it was posted; one posted from its own run comes back
 * on the next round. */
static void test_post(void **state)
{
	struct event_loop *l = event_loop_new();
	struct loop_work w[200];
	int n[200][2] = { { 0 } };
	struct repost r = { .l = l };

	(void)state;
	work_seq = 0;
	for (unsigned i = 0; i < 200; i++) {
		w[i] = (struct loop_work){ .fn = on_work, .opaque = n[i] };
		event_loop_post(l, &w[i]);
		event_loop_post(l, &w[i]);
	}
	assert_true(event_loop_poll(l, 1000) > 0);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(n[i][0], 1);
		assert_int_equal(n[i][1], (int)i);
	}
	r.w = (struct loop_work){ .fn = on_repost, .opaque = &r };
	event_loop_post(l, &r.w);
	assert_true(event_loop_poll(l, 1000) > 0);
	assert_int_equal(r.runs, 1);
	assert_true(event_loop_poll(l, 1000) > 0);
	assert_int_equal(r.runs, 2);
	assert_int_equal(event_loop_poll(l, 0), 0);
	event_loop_free(l);
}

static void on_call_seq(void *opaque)
{
	on_work(opaque);
}

/* Calls are never refused: far more than the first list holds (64) all
 * run, in order, each once. The 65th was refused (-ENOSPC), and what
 * waited on it (a paused backend's resume, the console's room) stalled
 * for good. */
static void test_calls_never_refused(void **state)
{
	struct event_loop *l = event_loop_new();
	int n[200][2] = { { 0 } };

	(void)state;
	work_seq = 0;
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(event_loop_call(l, on_call_seq, n[i]), 0);
		assert_int_equal(event_loop_call(l, on_call_seq, n[i]), 0);
	}
	assert_true(event_loop_poll(l, 1000) > 0);
	for (unsigned i = 0; i < 200; i++) {
		assert_int_equal(n[i][0], 1);
		assert_int_equal(n[i][1], (int)i);
	}
	event_loop_free(l);
}

static void test_thread_runs_calls(void **state)
{
	struct event_loop *l = event_loop_new();
	int _Atomic n = 0;

	(void)state;
	assert_int_equal(event_loop_start(l), 0);
	assert_int_equal(event_loop_call(l, on_call, (void *)&n), 0);
	for (int i = 0; i < 5000 && !n; i++)
		usleep(1000);
	assert_int_equal(n, 1);
	event_loop_stop(l);
	event_loop_free(l);
}

/* event_loop_del_sync from another thread while the fd's callback runs:
 * it must return only once the callback has (then the fd may be closed
 * without the callback reading a reused number). The callback waits
 * until the slot is gone (event_loop_mod says -ENOENT: the deleting
 * thread holds the loop's lock from the removal to its wait), then
 * takes its turn; the deleter takes its turn after del_sync returned. */
struct del_race {
	struct event_loop *l;
	int fd;
	int _Atomic entered, turn, cb_turn, del_turn;
};

static void on_slow(void *opaque, uint32_t ev)
{
	struct del_race *r = opaque;

	(void)ev;
	r->entered = 1;
	while (event_loop_mod(r->l, r->fd, EPOLLIN) != -ENOENT)
		sched_yield();
	r->cb_turn = ++r->turn;
}

static void test_del_sync_waits_for_callback(void **state)
{
	struct del_race r = { .l = event_loop_new() };
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	r.fd = p[0];
	assert_int_equal(event_loop_add(r.l, p[0], EPOLLIN, on_slow, &r), 0);
	assert_int_equal(event_loop_start(r.l), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	while (!r.entered)
		sched_yield();
	assert_int_equal(event_loop_del_sync(r.l, p[0]), 0);
	r.del_turn = ++r.turn;
	assert_int_equal(r.cb_turn, 1);
	assert_int_equal(r.del_turn, 2);
	assert_int_equal(event_loop_del_sync(r.l, p[0]), -ENOENT);
	event_loop_stop(r.l);
	event_loop_free(r.l);
	close(p[0]);
	close(p[1]);
}

/* A callback deleting its own fd with del_sync does not wait for itself. */
static int self_fd;
static void on_self_del(void *opaque, uint32_t ev)
{
	(void)ev;
	assert_int_equal(event_loop_del_sync(opaque, self_fd), 0);
	hits++;
}

static void test_del_sync_own_fd(void **state)
{
	struct event_loop *l = event_loop_new();
	int p[2];

	(void)state;
	assert_int_equal(pipe(p), 0);
	self_fd = p[0];
	hits = 0;
	assert_int_equal(event_loop_add(l, p[0], EPOLLIN, on_self_del, l), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	assert_int_equal(event_loop_poll(l, 1000), 1);
	assert_int_equal(hits, 1);
	close(p[0]);
	close(p[1]);
	event_loop_free(l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fd_callback),
		cmocka_unit_test(test_calls_coalesce),
		cmocka_unit_test(test_post),
		cmocka_unit_test(test_calls_never_refused),
		cmocka_unit_test(test_thread_runs_calls),
		cmocka_unit_test(test_del_sync_waits_for_callback),
		cmocka_unit_test(test_del_sync_own_fd),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}

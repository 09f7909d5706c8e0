/* core/log: levels, the --log file and its timestamps, the rate limit per
 * message kind and its suppressed counts. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "core/log.h"

static char path[] = "/tmp/cvisor-test-log-XXXXXX";
static uint64_t fake_now;

static uint64_t fake_clock(void)
{
	return fake_now;
}

static int setup(void **state)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(log_open_file(path), 0);
	if (truncate(path, 0))
		return -1;
	log_set_mask(LOG_MASK_UPTO(LOG_WARN), true);
	log_clock_ns = fake_clock;
	fake_now = 1000000000ull;
	return 0;
}

static int teardown(void **state)
{
	log_flush_suppressed();
	log_reset();
	log_clock_ns = NULL;
	unlink(path);
	strcpy(path, "/tmp/cvisor-test-log-XXXXXX");
	return 0;
}

static char *read_log(void)
{
	static char buf[64 * 1024];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

static unsigned count(const char *hay, const char *needle)
{
	unsigned n = 0;

	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_levels(void **state)
{
	pr_err("e1");
	pr_warn("w1");
	pr_info("i1");
	log_set_threshold(LOG_INFO);
	pr_info("i2");
	pr_debug("d2");
	log_set_threshold(LOG_ERR);
	pr_warn("w3");
	char *s = read_log();
	assert_non_null(strstr(s, "error: e1\n"));
	assert_non_null(strstr(s, "warning: w1\n"));
	assert_null(strstr(s, "i1"));
	assert_non_null(strstr(s, "info: i2\n"));
	assert_null(strstr(s, "d2"));
	assert_null(strstr(s, "w3"));
}

/* QNX `logger error,debug`: exactly those levels, not a threshold. */
static void test_mask(void **state)
{
	log_set_mask((1u << LOG_ERR) | (1u << LOG_DEBUG), true);
	pr_err("e1");
	pr_warn("w1");
	pr_debug("d1");
	char *s = read_log();
	assert_non_null(strstr(s, "e1"));
	assert_null(strstr(s, "w1"));
	assert_non_null(strstr(s, "d1"));
}

/* A log file is not a terminal: seconds since start on every line. */
static void test_timestamps(void **state)
{
	pr_warn("stamped");
	char *s = read_log();
	unsigned long sec, usec;
	char word[32];

	assert_int_equal(sscanf(s, "cvisor: %lu.%6lu %31[a-z]: stamped", &sec,
				&usec, word), 3);
	assert_string_equal(word, "warning");
}

static void limited(unsigned i)
{
	log_ratelimited(LOG_WARN, "kind A %u", i);
}

static void other(unsigned i)
{
	log_ratelimited(LOG_WARN, "kind B %u", i);
}

/* One kind flooding does not silence another kind (it did when both
 * shared a device's bucket), and its suppressed count is said when its
 * window ends. */
static void test_per_kind(void **state)
{
	for (unsigned i = 0; i < 3 * LOG_KIND_BURST; i++)
		limited(i);
	other(1);
	char *s = read_log();
	assert_int_equal(count(s, "kind A"), LOG_KIND_BURST);
	assert_non_null(strstr(s, "kind B 1"));
	assert_null(strstr(s, "suppressed"));
	fake_now += (LOG_KIND_WINDOW_S + 1) * 1000000000ull;
	limited(100);
	s = read_log();
	assert_non_null(strstr(s, "20 more like this suppressed: kind A 9"));
	assert_non_null(strstr(s, "kind A 100"));
}

/* ...and at exit, whatever the window. */
static void test_flush_at_exit(void **state)
{
	for (unsigned i = 0; i < LOG_KIND_BURST + 4; i++)
		limited(i);
	log_flush_suppressed();
	char *s = read_log();
	assert_non_null(strstr(s, "4 more like this suppressed"));
	log_flush_suppressed();
	assert_int_equal(count(read_log(), "suppressed"), 1);
}

static void probe(unsigned i)
{
	log_ratelimited(LOG_INFO, "probe %u", i);
}

/* Messages the level hides are neither shown nor counted: no
 * "62 similar messages suppressed" about lines nobody saw. */
static void test_hidden_not_counted(void **state)
{
	for (unsigned i = 0; i < 100; i++)
		probe(i);
	fake_now += (LOG_KIND_WINDOW_S + 1) * 1000000000ull;
	probe(200);
	log_flush_suppressed();
	assert_string_equal(read_log(), "");
}

/* vdev `log`: one source's levels, the others' unchanged (runs last:
 * sources cannot be removed). */
static void test_source_mask(void **state)
{
	assert_int_equal(log_set_source_mask("dev", LOG_MASK_UPTO(LOG_DEBUG)),
			 0);
	assert_int_equal(log_set_source_mask("quiet", 1u << LOG_ERR), 0);
	pr_debug("dev: shown");
	pr_debug("other: hidden");
	pr_warn("quiet: hidden too");
	pr_warn("devx: not the source dev");
	char *s = read_log();
	assert_non_null(strstr(s, "debug: dev: shown"));
	assert_null(strstr(s, "other"));
	assert_null(strstr(s, "quiet"));
	assert_non_null(strstr(s, "warning: devx: not the source dev"));
}

/* ---- a reader that stopped: only the main thread may wait ---- */

static int stalled[2];

static void *log_one(void *arg)
{
	pr_warn("%s", (const char *)arg);
	return NULL;
}

static void log_from_thread(const char *text)
{
	pthread_t t;

	assert_int_equal(pthread_create(&t, NULL, log_one, (void *)text), 0);
	/* it waited for the reader for good before: this join hung */
	assert_int_equal(pthread_join(t, NULL), 0);
}

static size_t drain(char *buf, size_t size)
{
	size_t n = 0;
	ssize_t k;

	while (n < size - 1 && (k = read(stalled[0], buf + n,
					 size - 1 - n)) > 0)
		n += (size_t)k;
	buf[n] = 0;
	return n;
}

/* The log on a pipe nobody reads, filled to the last byte. */
static void stall_pipe(void)
{
	char path_fd[32], buf[4096];

	assert_int_equal(pipe2(stalled, O_CLOEXEC), 0);
	snprintf(path_fd, sizeof(path_fd), "/proc/self/fd/%d", stalled[1]);
	assert_int_equal(log_open_file(path_fd), 0);
	assert_int_equal(fcntl(stalled[1], F_SETFL, O_NONBLOCK), 0);
	memset(buf, 'x', sizeof(buf));
	while (write(stalled[1], buf, sizeof(buf)) > 0)
		;
	while (write(stalled[1], buf, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
}

static void unstall_pipe(void)
{
	log_reset();
	close(stalled[0]);
	close(stalled[1]);
}

static void test_full_pipe(void **state)
{
	static char buf[128 * 1024];

	stall_pipe();
	log_from_thread("one");
	log_from_thread("two");
	/* the reader is back: the count comes first, then the line */
	assert_int_equal(fcntl(stalled[0], F_SETFL, O_NONBLOCK), 0);
	drain(buf, sizeof(buf));
	assert_null(strstr(buf, "one"));
	log_from_thread("three");
	drain(buf, sizeof(buf));
	assert_non_null(strstr(buf, "warning: 2 log messages dropped: the "
			       "log's reader was not taking them\ncvisor: "));
	assert_non_null(strstr(buf, "warning: three\n"));
	unstall_pipe();
}

static void *log_one_waiting(void *arg)
{
	log_thread_may_block();
	pr_warn("%s", (const char *)arg);
	return NULL;
}

/* The count is said by a thread that may wait too (the main thread at a
 * VM's stop, with nothing else logging), not only by the next line of a
 * thread that may not. */
static void test_dropped_said_by_main(void **state)
{
	static char buf[128 * 1024];
	pthread_t t;

	stall_pipe();
	log_from_thread("lost");
	assert_int_equal(fcntl(stalled[0], F_SETFL, O_NONBLOCK), 0);
	drain(buf, sizeof(buf));
	assert_int_equal(pthread_create(&t, NULL, log_one_waiting, "main"), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	drain(buf, sizeof(buf));
	assert_non_null(strstr(buf, "warning: 1 log message dropped: the "
			       "log's reader was not taking them\ncvisor: "));
	assert_non_null(strstr(buf, "warning: main\n"));
	unstall_pipe();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_levels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timestamps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_per_kind, setup, teardown),
		cmocka_unit_test_setup_teardown(test_flush_at_exit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_hidden_not_counted, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_source_mask, setup,
						teardown),
		cmocka_unit_test(test_full_pipe),
		cmocka_unit_test(test_dropped_said_by_main),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

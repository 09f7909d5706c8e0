/* The log on a pipe that nobody reads, filled up: the next message's
 * write blocks, as on a stalled stderr, until log_unstall drains it. A
 * device call that logs in a thread of its own then shows whether it
 * holds the device's lock across the write: another call that takes
 * the lock (the event loop's, say) must still get through. */
#ifndef CVISOR_TESTS_STALL_LOG_H
#define CVISOR_TESTS_STALL_LOG_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"

struct stall_log {
	int rfd, wfd;
	pthread_t logger, other;
};

/* Each test's messages start a new rate-limit window: earlier tests of
 * the binary may have used up the burst of the kind under test. */
static uint64_t stall_log_ns;

static uint64_t stall_log_clock(void)
{
	return stall_log_ns;
}

static inline void log_stall(struct stall_log *s)
{
	char path[64], buf[4096];
	int p[2];

	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[1]);
	assert_int_equal(log_open_file(path), 0);   /* a blocking writer */
	assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	memset(buf, 'x', sizeof(buf));
	while (write(p[1], buf, sizeof(buf)) > 0)
		;
	while (write(p[1], buf, 1) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	if (!stall_log_ns) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		stall_log_ns = (uint64_t)now.tv_sec * 1000000000ULL;
	}
	stall_log_ns += 3600ULL * 1000000000ULL;      /* an hour later */
	log_clock_ns = stall_log_clock;
	s->rfd = p[0];
	s->wfd = p[1];
}

/* The logger thread waits for the log's reader as the main thread
 * would (log_thread_may_block): the device must not hold its lock then
 * either. It says which task it is, for stall_log_in_write. */
struct stall_logger {
	void *(*fn)(void *);
	void *arg;
	pid_t tid;                   /* atomic */
};

static void *stall_log_blocking(void *p)
{
	struct stall_logger *l = p;

	log_thread_may_block();
	__atomic_store_n(&l->tid, gettid(), __ATOMIC_RELEASE);
	return l->fn(l->arg);
}

/* Is task tid inside write(2) now (the log's, on the stalled pipe: the
 * test's threads write nothing else)? /proc gives the system call's
 * number first. */
static inline bool stall_log_in_write(pid_t tid)
{
	char path[64], line[256];
	long nr = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/task/%d/syscall", (int)tid);
	f = fopen(path, "r");
	if (!f)
		return false;
	if (fgets(line, sizeof(line), f))
		sscanf(line, "%ld", &nr);
	fclose(f);
	return nr == SYS_write;
}

/* Runs logger(arg), which logs and blocks in the write; once it is in
 * that write (seen in /proc, not guessed from a sleep), other(arg).
 * True when other finished while the logger was still blocked; false
 * after 30 s (a hang guard: other waits for the logger's lock). */
static inline bool log_stall_race(struct stall_log *s,
				  void *(*logger)(void *),
				  void *(*other)(void *), void *arg)
{
	static struct stall_logger l;
	struct timespec ts, nap = { 0, 1000000 };
	pid_t tid;
	bool done;

	l = (struct stall_logger){ logger, arg, 0 };
	assert_int_equal(pthread_create(&s->logger, NULL, stall_log_blocking,
					&l), 0);
	while (!(tid = __atomic_load_n(&l.tid, __ATOMIC_ACQUIRE)))
		nanosleep(&nap, NULL);
	/* the premise: the logger is blocked on the full pipe */
	while (!stall_log_in_write(tid)) {
		assert_int_equal(pthread_tryjoin_np(s->logger, NULL), EBUSY);
		nanosleep(&nap, NULL);
	}
	assert_int_equal(pthread_create(&s->other, NULL, other, arg), 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += 30;
	done = pthread_timedjoin_np(s->other, NULL, &ts) == 0;
	/* still blocked: other got through beside it, not after it */
	assert_int_equal(pthread_tryjoin_np(s->logger, NULL), EBUSY);
	return done;
}

/* Drain the pipe so that the logger finishes, join both, back to
 * stderr. */
static inline void log_unstall(struct stall_log *s, bool other_done)
{
	char buf[4096];

	assert_int_equal(fcntl(s->rfd, F_SETFL, O_NONBLOCK), 0);
	while (read(s->rfd, buf, sizeof(buf)) > 0)
		;
	pthread_join(s->logger, NULL);
	if (!other_done)
		pthread_join(s->other, NULL);
	log_reset();
	log_clock_ns = NULL;
	close(s->rfd);
	close(s->wfd);
}

#endif

/* The tracer: the vCPUs' rings, the drain thread and the file's life.
 *
 * The drain thread runs under the main thread's seccomp list
 * (SANDBOX_CONTROL): it opens the files `trace-start` names, which only
 * that list allows, and the main thread makes it (before its own filter
 * goes on). Everything else it does is write(2) and waiting. The control
 * socket's requests reach it through `req`; the thread holds the lock
 * while it drains, so a VM cannot be detached (and its vCPUs' rings
 * freed) under it.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "sandbox/sandbox.h"
#include "stats/tsc.h"
#include "trace/file.h"
#include "trace/trace.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define DRAIN_PERIOD_MS 10
#define DRAIN_BATCH     1024

enum trace_req { REQ_NONE, REQ_OPEN, REQ_CLOSE, REQ_QUIT };

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake, done;
	pthread_t thread;
	bool thread_up;
	enum trace_req req;
	const char *req_path;
	int req_result;
	struct vm *vm;
	int fd;                     /* the file, -1 when no trace is on */
	char path[256];
	uint64_t start_tsc, start_ns;
	uint64_t records, lost, write_errors;
	struct trace_rec buf[DRAIN_BATCH];
} T = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.fd = -1,
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* write(2) all of it; false (and the trace ends) on an error. */
static bool put(const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(T.fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			T.write_errors++;
			pr_warn("trace %s: %s; the trace stops", T.path,
				n < 0 ? strerror(errno) : "short write");
			return false;
		}
		c += n;
		len -= (size_t)n;
	}
	return true;
}

/* Point every vCPU at its ring (on) or at nothing (off). */
static void set_rings(bool on)
{
	struct vm *vm = T.vm;

	if (!vm)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];

		if (on && !v->tring) {
			struct trace_ring *r = malloc(sizeof(*r));

			if (!r || trace_ring_init(r, TRACE_RING_ORDER)) {
				free(r);
				pr_warn("trace: no memory for vcpu %u's ring",
					i);
				continue;
			}
			v->tring = r;
		}
		if (on)
			trace_ring_discard(v->tring);  /* an older trace's */
		__atomic_store_n(&v->trace, on ? v->tring : NULL,
				 __ATOMIC_RELEASE);
	}
}

static void close_file(void);

/* Every ring to the file, and a LOST record where one dropped some. */
static void drain_all(void)
{
	struct vm *vm = T.vm;

	if (!vm || T.fd < 0)
		return;
	for (unsigned i = 0; i < vm->nr_vcpus && T.fd >= 0; i++) {
		struct trace_ring *r = vm->vcpus[i]->tring;
		uint64_t over;
		size_t n;

		if (!r)
			continue;
		while ((n = trace_ring_take(r, T.buf, DRAIN_BATCH))) {
			if (!put(T.buf, n * sizeof(T.buf[0]))) {
				close_file();
				return;
			}
			T.records += n;
		}
		over = trace_ring_overruns(r);
		if (over != r->lost_reported) {
			struct trace_rec l = {
				.tsc = tsc_read(), .vcpu = (uint16_t)i,
				.event = TRACE_EV_LOST,
				.value = over - r->lost_reported,
			};

			T.lost += l.value;
			r->lost_reported = over;
			if (!put(&l, sizeof(l))) {
				close_file();
				return;
			}
		}
	}
}

/* The END record (the TSC rate over the whole trace), then close. */
static void close_file(void)
{
	if (T.fd < 0)
		return;
	set_rings(false);
	if (!T.write_errors) {
		uint64_t tsc = tsc_read(), ns = clock_ns(CLOCK_MONOTONIC);
		struct trace_rec end = {
			.tsc = tsc, .event = TRACE_EV_END, .vcpu = 0xffff,
			.addr = T.records,
		};

		if (ns > T.start_ns && tsc > T.start_tsc)
			end.value = (uint64_t)((unsigned __int128)
				(tsc - T.start_tsc) * 1000000000u /
				(ns - T.start_ns));
		put(&end, sizeof(end));
	}
	close(T.fd);
	T.fd = -1;
}

/* Take fd as the trace file: the header, then the rings on. */
static int begin(int fd)
{
	struct trace_file_hdr h;

	T.fd = fd;
	T.records = T.lost = T.write_errors = 0;
	T.start_tsc = tsc_read();
	T.start_ns = clock_ns(CLOCK_MONOTONIC);
	trace_hdr_init(&h, T.start_tsc, clock_ns(CLOCK_REALTIME));
	if (!put(&h, sizeof(h))) {
		close(fd);
		T.fd = -1;
		return -EIO;
	}
	set_rings(true);
	return 0;
}

static int open_file(const char *path)
{
	/* O_NONBLOCK: a FIFO nobody reads fails instead of hanging */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NONBLOCK, 0644);

	if (fd < 0)
		return -errno;
	fcntl(fd, F_SETFL, 0);
	return fd;
}

static void serve_request(void)
{
	int fd;

	switch (T.req) {
	case REQ_OPEN:
		fd = open_file(T.req_path);
		T.req_result = fd < 0 ? fd : begin(fd);
		if (!T.req_result)
			snprintf(T.path, sizeof(T.path), "%s", T.req_path);
		break;
	case REQ_CLOSE:
		drain_all();
		T.req_result = T.fd < 0 ? -EIO : 0;
		close_file();
		break;
	default:
		return;
	}
	T.req = REQ_NONE;
	pthread_cond_broadcast(&T.done);
}

static void *drain_thread(void *arg)
{
	(void)arg;
	sandbox_enter(SANDBOX_CONTROL);
	pthread_mutex_lock(&T.lock);
	while (T.req != REQ_QUIT) {
		serve_request();
		drain_all();
		if (T.req != REQ_NONE)
			continue;
		if (T.fd >= 0) {
			struct timespec ts;
			uint64_t ns = clock_ns(CLOCK_MONOTONIC) +
				      DRAIN_PERIOD_MS * 1000000u;

			ts.tv_sec = (time_t)(ns / 1000000000u);
			ts.tv_nsec = (long)(ns % 1000000000u);
			pthread_cond_timedwait(&T.wake, &T.lock, &ts);
		} else {
			pthread_cond_wait(&T.wake, &T.lock);
		}
	}
	drain_all();
	close_file();
	pthread_mutex_unlock(&T.lock);
	return NULL;
}

int trace_set_file(const char *path)
{
	int fd = open_file(path);

	if (fd < 0)
		return fd;
	pthread_mutex_lock(&T.lock);
	if (T.fd >= 0)
		close(T.fd);
	snprintf(T.path, sizeof(T.path), "%s", path);
	fd = begin(fd);      /* the rings come with the first VM */
	pthread_mutex_unlock(&T.lock);
	return fd;
}

static int start_thread(void)
{
	pthread_condattr_t ca;
	int err;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&T.wake, &ca);
	pthread_condattr_destroy(&ca);
	err = pthread_create(&T.thread, NULL, drain_thread, NULL);
	if (err) {
		pr_err("trace: drain thread: %s", strerror(err));
		return -err;
	}
	pthread_setname_np(T.thread, "cvisor-trace");
	T.thread_up = true;
	return 0;
}

int trace_attach(struct vm *vm, bool can_start)
{
	int ret = 0;

	pthread_mutex_lock(&T.lock);
	T.vm = vm;
	if (T.fd >= 0)
		set_rings(true);
	if (!T.thread_up && (T.fd >= 0 || can_start))
		ret = start_thread();
	pthread_mutex_unlock(&T.lock);
	return ret;
}

void trace_detach(struct vm *vm)
{
	pthread_mutex_lock(&T.lock);
	if (T.vm == vm) {
		drain_all();
		T.vm = NULL;
	}
	pthread_mutex_unlock(&T.lock);
}

/* Hand a request to the drain thread and wait for its answer. */
static int request(enum trace_req req, const char *path)
{
	int ret;

	while (T.req != REQ_NONE)
		pthread_cond_wait(&T.done, &T.lock);
	T.req = req;
	T.req_path = path;
	pthread_cond_signal(&T.wake);
	while (T.req == req)
		pthread_cond_wait(&T.done, &T.lock);
	ret = T.req_result;
	return ret;
}

void trace_shutdown(void)
{
	pthread_mutex_lock(&T.lock);
	if (!T.thread_up) {
		drain_all();
		close_file();
		pthread_mutex_unlock(&T.lock);
		return;
	}
	T.req = REQ_QUIT;
	pthread_cond_signal(&T.wake);
	pthread_mutex_unlock(&T.lock);
	pthread_join(T.thread, NULL);
	T.thread_up = false;
	T.req = REQ_NONE;
}

int trace_start(const char *path)
{
	int ret;

	pthread_mutex_lock(&T.lock);
	if (!T.thread_up)
		ret = -ENOSYS;
	else if (T.fd >= 0)
		ret = -EBUSY;
	else
		ret = request(REQ_OPEN, path);
	pthread_mutex_unlock(&T.lock);
	return ret;
}

int trace_stop(void)
{
	int ret;

	pthread_mutex_lock(&T.lock);
	if (T.fd < 0)
		ret = -ENOENT;
	else if (!T.thread_up) {
		drain_all();
		close_file();
		ret = 0;
	} else
		ret = request(REQ_CLOSE, NULL);
	pthread_mutex_unlock(&T.lock);
	return ret;
}

void trace_get_status(struct trace_status *st)
{
	pthread_mutex_lock(&T.lock);
	st->active = T.fd >= 0;
	snprintf(st->path, sizeof(st->path), "%s", T.path);
	st->records = T.records;
	st->lost = T.lost;
	st->write_errors = T.write_errors;
	pthread_mutex_unlock(&T.lock);
}

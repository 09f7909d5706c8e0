/* The tracer: the vCPUs' rings, the drain thread and the file's life.
 *
 * The drain thread runs under the main thread's seccomp list
 * (SANDBOX_CONTROL): it opens the files `trace-start` names, which only
 * that list allows, and the main thread makes it (before its own filter
 * goes on). Everything else it does is write(2) and waiting.
 *
 * The file may be anything the operator names: a disk on NFS, a FIFO
 * into a program that stops reading. So the lock is never held across
 * the file's I/O: the thread takes a batch out of the rings under it,
 * then writes without it, and a file that takes nothing for
 * TRACE_STALL_MS ends the trace. The control socket's requests are
 * answered through a callback, never waited for; the status is read
 * under the lock; a detached VM's rings are handed to the thread
 * (orphans) instead of being drained by the caller. Nothing but the
 * thread itself ever waits for the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

enum trace_req { REQ_NONE, REQ_OPEN, REQ_CLOSE };

/* A detached VM's vCPU ring, still to be written out. */
struct orphan {
	struct trace_ring *ring;
	unsigned vcpu;
	struct orphan *next;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	bool thread_up, quit;
	bool closing;               /* finish() under way: rings stay off */
	enum trace_req req;         /* asked, not yet taken by the thread */
	bool busy;                  /* asked, not yet answered */
	char req_path[256];
	trace_done_fn *done;
	void *done_opaque;
	struct vm *vm;
	struct orphan *orphans;
	int fd;                     /* the file, -1 when no trace is on */
	char path[256];
	uint64_t start_tsc, start_ns;
	uint64_t records, lost, write_errors;
	int file_err;               /* why the last file failed: -errno */
	struct trace_rec buf[DRAIN_BATCH];    /* the writer's */
} T = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.fd = -1,
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int stall_ms;

/* Read once, by the main thread before the drain thread exists. */
static void stall_ms_init(void)
{
	const char *e = getenv("CVISOR_TRACE_STALL_MS");
	long v = e ? strtol(e, NULL, 10) : 0;

	stall_ms = v > 0 && v <= 3600000 ? (int)v : TRACE_STALL_MS;
}

int trace_stall_ms(void)
{
	return stall_ms ? stall_ms : TRACE_STALL_MS;
}

/* write(2) all of it to a non-blocking fd, waiting for room at most
 * trace_stall_ms() at a time. 0 or -errno (-ETIMEDOUT: the file stalled). */
static int put(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };
		int r;

		if (n > 0) {
			c += n;
			len -= (size_t)n;
			continue;
		}
		if (n == 0)
			return -EIO;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN)
			return -errno;
		r = poll(&pfd, 1, trace_stall_ms());
		if (r < 0 && errno != EINTR)
			return -errno;
		if (!r)
			return -ETIMEDOUT;
	}
	return 0;
}

static void warn_file(int err)
{
	if (err == -ETIMEDOUT)
		pr_warn("trace %s: the file took nothing for %d ms; the trace "
			"stops", T.path, trace_stall_ms());
	else
		pr_warn("trace %s: %s; the trace stops", T.path,
			strerror(-err));
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

static void free_orphan(struct orphan *o)
{
	trace_ring_free(o->ring);
	free(o->ring);
	free(o);
}

static void drop_orphans(void)
{
	while (T.orphans) {
		struct orphan *o = T.orphans;

		T.orphans = o->next;
		free_orphan(o);
	}
}

/* No file any more: the rings off, the detached ones' records gone. */
static void end_file(void)
{
	int fd = T.fd;

	T.closing = false;
	set_rings(false);
	drop_orphans();
	T.fd = -1;
	pthread_mutex_unlock(&T.lock);
	close(fd);                  /* may wait (NFS): not under the lock */
	pthread_mutex_lock(&T.lock);
}

/* Write len bytes from the writer's own buffer to the file, the lock
 * dropped meanwhile. false when the file failed: the trace has ended. */
static bool write_out(const void *p, size_t len)
{
	int err;

	pthread_mutex_unlock(&T.lock);
	err = put(T.fd, p, len);    /* only the writer changes T.fd */
	pthread_mutex_lock(&T.lock);
	if (!err)
		return true;
	T.write_errors++;
	T.file_err = err;
	warn_file(err);
	end_file();
	return false;
}

/* Append ring r's records to T.buf from n on, then a LOST record if it
 * dropped some since the last one. The new count; *data counts the
 * ring's own records. */
static size_t take(struct trace_ring *r, unsigned vcpu, size_t n,
		   uint64_t *data)
{
	size_t got = trace_ring_take(r, T.buf + n, DRAIN_BATCH - n);
	uint64_t over;

	*data += got;
	n += got;
	if (n == DRAIN_BATCH)
		return n;           /* the LOST record with the next batch */
	over = trace_ring_overruns(r);
	if (over != r->lost_reported) {
		T.buf[n++] = (struct trace_rec){
			.tsc = tsc_read(), .vcpu = (uint16_t)vcpu,
			.event = TRACE_EV_LOST,
			.value = over - r->lost_reported,
		};
		T.lost += over - r->lost_reported;
		r->lost_reported = over;
	}
	return n;
}

/* Under the lock: fill T.buf from the detached VMs' rings (freed once
 * empty), then the VM's. The number of records, 0 when none wait. */
static size_t gather(uint64_t *data)
{
	struct orphan **pp = &T.orphans;
	struct vm *vm = T.vm;
	size_t n = 0;

	while (*pp && n < DRAIN_BATCH) {
		struct orphan *o = *pp;

		n = take(o->ring, o->vcpu, n, data);
		if (n < DRAIN_BATCH) {        /* taken whole */
			*pp = o->next;
			free_orphan(o);
		}
	}
	for (unsigned i = 0; vm && i < vm->nr_vcpus && n < DRAIN_BATCH;
	     i++)
		if (vm->vcpus[i]->tring)
			n = take(vm->vcpus[i]->tring, i, n, data);
	return n;
}

/* The rings to the file, a batch at a time. A request or the quit
 * asked meanwhile ends a pass early when `yield`: a guest whose exits
 * come faster than the file takes them keeps the rings from emptying,
 * and would otherwise keep a trace-stop waiting for good. false when the
 * file failed. */
static bool drain(bool yield)
{
	size_t n;
	uint64_t data = 0;

	while (T.fd >= 0 && (n = gather(&data))) {
		if (!write_out(T.buf, n * sizeof(T.buf[0])))
			return false;
		T.records += data;
		data = 0;
		if (yield && (T.req != REQ_NONE || T.quit))
			break;
	}
	return T.fd >= 0;
}

/* The rest of the rings, the END record (the TSC rate over the whole
 * trace), then close. 0, or why the file failed (now or before). */
static int finish(void)
{
	uint64_t tsc, ns;

	if (T.fd < 0)
		return T.file_err ? T.file_err : -EIO;
	/* The rings off, and off they stay: a VM a reset attaches while
	 * the lock is dropped below gets none (trace_attach). So the
	 * drain ends, with what came before the stop. */
	T.closing = true;
	set_rings(false);
	if (!drain(false))
		return T.file_err;
	tsc = tsc_read();
	ns = clock_ns(CLOCK_MONOTONIC);
	T.buf[0] = (struct trace_rec){
		.tsc = tsc, .event = TRACE_EV_END, .vcpu = 0xffff,
		.addr = T.records,
	};
	if (ns > T.start_ns && tsc > T.start_tsc)
		T.buf[0].value = (uint64_t)((unsigned __int128)
			(tsc - T.start_tsc) * 1000000000u /
			(ns - T.start_ns));
	if (!write_out(T.buf, sizeof(T.buf[0])))
		return T.file_err;
	end_file();
	return 0;
}

/* Take fd as the trace file: the header, then the rings on. 0 or
 * -errno (fd closed). */
static int begin(int fd, const char *path)
{
	struct trace_file_hdr h;
	uint64_t tsc = tsc_read(), ns = clock_ns(CLOCK_MONOTONIC);
	int err;

	trace_hdr_init(&h, tsc, clock_ns(CLOCK_REALTIME));
	pthread_mutex_unlock(&T.lock);
	err = put(fd, &h, sizeof(h));
	if (err)
		close(fd);
	pthread_mutex_lock(&T.lock);
	if (err)
		return err;
	T.fd = fd;
	T.start_tsc = tsc;
	T.start_ns = ns;
	T.records = T.lost = T.write_errors = 0;
	T.file_err = 0;
	snprintf(T.path, sizeof(T.path), "%s", path);
	set_rings(true);
	return 0;
}

static int open_file(const char *path)
{
	/* O_NONBLOCK, and kept: a FIFO nobody reads fails the open, one
	 * whose reader stops fails the trace (put), neither hangs. */
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
		      O_NONBLOCK, 0644);

	return fd < 0 ? -errno : fd;
}

/* The answer to the request taken, through the asker's callback. */
static void answer(int result)
{
	trace_done_fn *fn = T.done;

	T.busy = false;
	T.done = NULL;
	if (fn)
		fn(T.done_opaque, result);
}

static void serve_open(void)
{
	char path[sizeof(T.req_path)];
	int fd;

	memcpy(path, T.req_path, sizeof(path));
	pthread_mutex_unlock(&T.lock);
	fd = open_file(path);       /* may wait (NFS): not under the lock */
	pthread_mutex_lock(&T.lock);
	answer(fd < 0 ? fd : begin(fd, path));
}

static void serve_request(void)
{
	enum trace_req req = T.req;

	T.req = REQ_NONE;
	if (req == REQ_OPEN)
		serve_open();
	else if (req == REQ_CLOSE)
		answer(finish());
}

static void wait_for_work(void)
{
	struct timespec ts;
	uint64_t ns;

	if (T.req != REQ_NONE || T.quit)
		return;
	if (T.fd < 0) {
		pthread_cond_wait(&T.wake, &T.lock);
		return;
	}
	ns = clock_ns(CLOCK_MONOTONIC) + DRAIN_PERIOD_MS * 1000000u;
	ts.tv_sec = (time_t)(ns / 1000000000u);
	ts.tv_nsec = (long)(ns % 1000000000u);
	pthread_cond_timedwait(&T.wake, &T.lock, &ts);
}

static void *drain_thread(void *arg)
{
	(void)arg;
	sandbox_enter(SANDBOX_CONTROL);
	pthread_mutex_lock(&T.lock);
	for (;;) {
		serve_request();
		if (T.quit)
			break;
		drain(true);
		wait_for_work();
	}
	finish();
	drop_orphans();
	pthread_mutex_unlock(&T.lock);
	return NULL;
}

int trace_set_file(const char *path)
{
	int fd = open_file(path), ret;

	stall_ms_init();
	if (fd < 0)
		return fd;
	pthread_mutex_lock(&T.lock);
	ret = T.fd >= 0 ? (close(fd), -EBUSY) : begin(fd, path);
	pthread_mutex_unlock(&T.lock);   /* the rings come with the VM */
	return ret;
}

static int start_thread(void)
{
	pthread_condattr_t ca;
	int err;

	stall_ms_init();
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
	if (T.fd >= 0 && !T.closing)
		set_rings(true);
	if (!T.thread_up && (T.fd >= 0 || can_start))
		ret = start_thread();
	pthread_mutex_unlock(&T.lock);
	return ret;
}

/* vm's rings go to the thread, which writes them out and frees them:
 * the caller waits for no file. A ring with no room for its node keeps
 * its records to itself (freed with the vCPU), counted as lost. */
static void adopt_rings(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		struct orphan *o;

		if (!v->tring)
			continue;
		__atomic_store_n(&v->trace, NULL, __ATOMIC_RELEASE);
		o = malloc(sizeof(*o));
		if (!o) {
			T.lost += v->tring->head - v->tring->tail;
			continue;
		}
		*o = (struct orphan){ v->tring, i, T.orphans };
		T.orphans = o;
		v->tring = NULL;
	}
}

void trace_detach(struct vm *vm)
{
	pthread_mutex_lock(&T.lock);
	if (T.vm == vm) {
		if (T.fd >= 0 && T.thread_up)
			adopt_rings(vm);
		else if (T.fd >= 0)
			drain(false);    /* no thread: the caller writes */
		T.vm = NULL;
		if (T.thread_up)
			pthread_cond_signal(&T.wake);
	}
	pthread_mutex_unlock(&T.lock);
}

void trace_shutdown(void)
{
	pthread_mutex_lock(&T.lock);
	if (!T.thread_up) {
		finish();
		pthread_mutex_unlock(&T.lock);
		return;
	}
	T.quit = true;
	pthread_cond_signal(&T.wake);
	pthread_mutex_unlock(&T.lock);
	pthread_join(T.thread, NULL);
	T.thread_up = T.quit = false;
}

/* Hand req to the thread; answered through done. */
static void ask(enum trace_req req, trace_done_fn *done, void *opaque)
{
	T.req = req;
	T.busy = true;
	T.done = done;
	T.done_opaque = opaque;
	pthread_cond_signal(&T.wake);
}

int trace_start(const char *path, trace_done_fn *done, void *opaque)
{
	int ret = 0;

	if (strlen(path) >= sizeof(T.req_path))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&T.lock);
	if (!T.thread_up)
		ret = -ENOSYS;
	else if (T.busy)
		ret = -EALREADY;
	else if (T.fd >= 0)
		ret = -EBUSY;
	else {
		snprintf(T.req_path, sizeof(T.req_path), "%s", path);
		ask(REQ_OPEN, done, opaque);
	}
	pthread_mutex_unlock(&T.lock);
	return ret;
}

int trace_stop(trace_done_fn *done, void *opaque)
{
	int ret = 0;

	pthread_mutex_lock(&T.lock);
	if (!T.thread_up)
		ret = -ENOSYS;
	else if (T.busy)
		ret = -EALREADY;
	else if (T.fd < 0)
		ret = -ENOENT;
	else
		ask(REQ_CLOSE, done, opaque);
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

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"
#include "sandbox/sandbox.h"

/* Handlers are looked up by fd in a small table; the epoll data carries the
 * slot index. Slots are few (consoles, queues, sockets). */
#define LOOP_MAX_FDS 256
#define LOOP_FIRST_CALLS 64     /* the list grows beyond: never refused */

struct loop_slot {
	int fd;
	event_fn fn;
	void *opaque;
};

struct loop_call {
	void (*fn)(void *opaque);
	void *opaque;
};

struct event_loop {
	int epfd;
	int wake_fd;            /* eventfd: stop requests and queued calls */
	pthread_t thread;
	bool running;
	bool _Atomic stop;
	pthread_mutex_t lock;   /* slots and calls */
	/* The slot whose callback runs now (-1: none), on which thread, and
	 * the wake-up of event_loop_del_sync() when it returns. */
	int cb_slot;
	pthread_t cb_thread;
	pthread_cond_t cb_done;
	struct loop_slot slots[LOOP_MAX_FDS];
	/* Pending calls; run_calls swaps in the spare and runs the taken
	 * list from there, so a call made meanwhile never waits on it. */
	struct loop_call *calls, *spare;
	unsigned nr_calls, cap_calls, cap_spare;
	struct loop_work *work, **work_tail;    /* posted, in order */
};

struct event_loop *event_loop_new(void)
{
	struct event_loop *l = xcalloc(1, sizeof(*l));
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = UINT32_MAX };

	for (unsigned i = 0; i < LOOP_MAX_FDS; i++)
		l->slots[i].fd = -1;
	l->cb_slot = -1;
	l->work_tail = &l->work;
	l->calls = xcalloc(LOOP_FIRST_CALLS, sizeof(*l->calls));
	l->spare = xcalloc(LOOP_FIRST_CALLS, sizeof(*l->spare));
	l->cap_calls = l->cap_spare = LOOP_FIRST_CALLS;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->cb_done, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	l->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->epfd < 0 || l->wake_fd < 0 ||
	    epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->wake_fd, &ev) < 0) {
		pr_err("event loop: %s", strerror(errno));
		event_loop_free(l);
		return NULL;
	}
	return l;
}

void event_loop_free(struct event_loop *l)
{
	if (!l)
		return;
	event_loop_stop(l);
	if (l->epfd >= 0)
		close(l->epfd);
	if (l->wake_fd >= 0)
		close(l->wake_fd);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->cb_done);
	free(l->calls);
	free(l->spare);
	free(l);
}

static int find_slot(struct event_loop *l, int fd)
{
	for (unsigned i = 0; i < LOOP_MAX_FDS; i++)
		if (l->slots[i].fd == fd)
			return i;
	return -1;
}

int event_loop_add(struct event_loop *l, int fd, uint32_t events,
		   event_fn fn, void *opaque)
{
	struct epoll_event ev = { .events = events };
	int i, ret = 0;

	pthread_mutex_lock(&l->lock);
	i = find_slot(l, -1);
	if (i < 0) {
		ret = -ENOSPC;
		goto out;
	}
	ev.data.u32 = i;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		ret = -errno;
		goto out;
	}
	l->slots[i] = (struct loop_slot){ fd, fn, opaque };
out:
	pthread_mutex_unlock(&l->lock);
	return ret;
}

int event_loop_mod(struct event_loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };
	int i, ret = 0;

	pthread_mutex_lock(&l->lock);
	i = find_slot(l, fd);
	ev.data.u32 = i;
	if (i < 0)
		ret = -ENOENT;
	else if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
		ret = -errno;
	pthread_mutex_unlock(&l->lock);
	return ret;
}

/* Lock held. */
static int del_locked(struct event_loop *l, int fd)
{
	int i = find_slot(l, fd);

	if (i < 0)
		return -ENOENT;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->slots[i].fd = -1;
	return i;
}

int event_loop_del(struct event_loop *l, int fd)
{
	int ret;

	pthread_mutex_lock(&l->lock);
	ret = del_locked(l, fd);
	pthread_mutex_unlock(&l->lock);
	return ret < 0 ? ret : 0;
}

int event_loop_del_sync(struct event_loop *l, int fd)
{
	int i;

	pthread_mutex_lock(&l->lock);
	i = del_locked(l, fd);
	/* A callback deleting its own fd must not wait for itself. */
	while (i >= 0 && l->cb_slot == i &&
	       !pthread_equal(l->cb_thread, pthread_self()))
		pthread_cond_wait(&l->cb_done, &l->lock);
	pthread_mutex_unlock(&l->lock);
	return i < 0 ? i : 0;
}

static void wake(struct event_loop *l)
{
	uint64_t one = 1;

	if (write(l->wake_fd, &one, sizeof(one)) < 0 && errno != EAGAIN)
		pr_warn("event loop wake: %s", strerror(errno));
}

int event_loop_call(struct event_loop *l, void (*fn)(void *opaque),
		    void *opaque)
{
	bool queued = false;

	pthread_mutex_lock(&l->lock);
	/* Coalesce repeated requests: "the UART has room" twice is once,
	 * and needs no second wake-up (a system call per frame for slirp,
	 * which asks for a resync after each): the queued one has its own,
	 * and run_calls takes the list only after reading the wake-up. */
	for (unsigned i = 0; i < l->nr_calls; i++)
		if (l->calls[i].fn == fn && l->calls[i].opaque == opaque)
			goto out;
	/* Never refused: a lost call can stall what waits on it for good
	 * (a paused backend's resume, the console's room). */
	if (l->nr_calls == l->cap_calls) {
		l->cap_calls *= 2;
		l->calls = xreallocarray(l->calls, l->cap_calls,
					 sizeof(*l->calls));
	}
	l->calls[l->nr_calls++] = (struct loop_call){ fn, opaque };
	queued = true;
out:
	pthread_mutex_unlock(&l->lock);
	if (queued)
		wake(l);
	return 0;
}

void event_loop_post(struct event_loop *l, struct loop_work *w)
{
	bool queued = false;

	pthread_mutex_lock(&l->lock);
	if (!w->queued) {
		w->queued = queued = true;
		w->next = NULL;
		*l->work_tail = w;
		l->work_tail = &w->next;
	}
	pthread_mutex_unlock(&l->lock);
	if (queued)
		wake(l);
}

/* The posted nodes, taken as a list. Each stays marked queued until just
 * before it runs: a post meanwhile (from any thread) is then the run it
 * is about to get, and cannot relink a node this list still walks. */
static void run_work(struct event_loop *l)
{
	struct loop_work *w, *next;

	pthread_mutex_lock(&l->lock);
	w = l->work;
	l->work = NULL;
	l->work_tail = &l->work;
	pthread_mutex_unlock(&l->lock);
	for (; w; w = next) {
		pthread_mutex_lock(&l->lock);
		next = w->next;
		w->queued = false;
		pthread_mutex_unlock(&l->lock);
		w->fn(w->opaque);
	}
}

/* The loop thread only (event_loop_poll is never run by two threads at
 * once, nor from inside a callback): the taken list is the spare until
 * the next round swaps it back in. */
static void run_calls(struct event_loop *l)
{
	struct loop_call *calls;
	unsigned n, cap;
	uint64_t v;

	if (read(l->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("event loop: %s", strerror(errno));
	pthread_mutex_lock(&l->lock);
	calls = l->calls;
	cap = l->cap_calls;
	n = l->nr_calls;
	l->calls = l->spare;
	l->cap_calls = l->cap_spare;
	l->nr_calls = 0;
	l->spare = calls;
	l->cap_spare = cap;
	pthread_mutex_unlock(&l->lock);
	for (unsigned i = 0; i < n; i++)
		calls[i].fn(calls[i].opaque);
	run_work(l);
}

int event_loop_poll(struct event_loop *l, int timeout_ms)
{
	struct epoll_event evs[32];
	int n = epoll_wait(l->epfd, evs, ARRAY_SIZE(evs), timeout_ms);

	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		uint32_t idx = evs[i].data.u32;
		struct loop_slot s;

		if (idx == UINT32_MAX) {
			run_calls(l);
			continue;
		}
		/* Copy under the lock: a callback may delete its own fd. */
		pthread_mutex_lock(&l->lock);
		s = l->slots[idx];
		if (s.fd >= 0) {
			l->cb_slot = (int)idx;
			l->cb_thread = pthread_self();
		}
		pthread_mutex_unlock(&l->lock);
		if (s.fd < 0)
			continue;
		s.fn(s.opaque, evs[i].events);
		pthread_mutex_lock(&l->lock);
		l->cb_slot = -1;
		pthread_cond_broadcast(&l->cb_done);
		pthread_mutex_unlock(&l->lock);
	}
	return n;
}

static void *loop_thread(void *arg)
{
	struct event_loop *l = arg;

	sandbox_enter(SANDBOX_EVENTS);
	while (!l->stop)
		if (event_loop_poll(l, -1) < 0)
			break;
	return NULL;
}

int event_loop_start(struct event_loop *l)
{
	int err;

	l->stop = false;
	err = pthread_create(&l->thread, NULL, loop_thread, l);
	if (err)
		return -err;
	pthread_setname_np(l->thread, "cvisor-events");
	l->running = true;
	return 0;
}

void event_loop_stop(struct event_loop *l)
{
	if (!l->running)
		return;
	l->stop = true;
	wake(l);
	pthread_join(l->thread, NULL);
	l->running = false;
}

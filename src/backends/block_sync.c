/* The portable block engine: blocking system calls on a few worker
 * threads, so that neither a vCPU nor the event loop ever waits for the
 * disk. Finished requests go back through an eventfd and are completed on
 * the event loop thread (or by blk_backend_drain()).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "backends/block_priv.h"
#include "core/log.h"
#include "core/util.h"
#include "sandbox/sandbox.h"

#define SYNC_MIN_WORKERS 4
#define SYNC_MAX_WORKERS 16

struct io_list {
	struct blk_io *head, *tail;
};

struct sync_engine {
	pthread_mutex_t lock;
	pthread_cond_t work;
	struct io_list todo, done;
	bool stop;
	unsigned nr_workers;
	pthread_t workers[SYNC_MAX_WORKERS];
};

static void list_add(struct io_list *l, struct blk_io *io)
{
	io->next = NULL;
	if (l->tail)
		l->tail->next = io;
	else
		l->head = io;
	l->tail = io;
}

static struct blk_io *list_take_all(struct io_list *l)
{
	struct blk_io *io = l->head;

	l->head = l->tail = NULL;
	return io;
}

static void run_io(struct blk_backend *b, struct blk_io *io)
{
	int64_t res;

	do {
		res = blk_step_exec(b, &io->step);
	} while (blk_io_step_done(b, io, res));
}

static void *worker(void *arg)
{
	struct blk_backend *b = arg;
	struct sync_engine *e = b->eng_priv;
	uint64_t one = 1;

	sandbox_enter(SANDBOX_BLOCK);
	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct blk_io *io;

		while (!e->stop && !e->todo.head)
			pthread_cond_wait(&e->work, &e->lock);
		if (!e->todo.head)
			break;        /* stopping, and nothing left to do */
		io = e->todo.head;
		e->todo.head = io->next;
		if (!e->todo.head)
			e->todo.tail = NULL;
		pthread_mutex_unlock(&e->lock);
		run_io(b, io);
		pthread_mutex_lock(&e->lock);
		list_add(&e->done, io);
		if (write(b->efd, &one, sizeof(one)) < 0 && errno != EAGAIN)
			pr_warn("block: eventfd: %s", strerror(errno));
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void sync_fini(struct blk_backend *b)
{
	struct sync_engine *e = b->eng_priv;

	if (!e)
		return;
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (unsigned i = 0; i < e->nr_workers; i++)
		pthread_join(e->workers[i], NULL);
	pthread_cond_destroy(&e->work);
	pthread_mutex_destroy(&e->lock);
	if (b->efd >= 0)
		close(b->efd);
	b->efd = -1;
	free(e);
	b->eng_priv = NULL;
}

static int sync_init(struct blk_backend *b, unsigned nr_queues)
{
	struct sync_engine *e = xcalloc(1, sizeof(*e));
	unsigned n = MIN(MAX(nr_queues * 2, SYNC_MIN_WORKERS),
			 SYNC_MAX_WORKERS);

	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work, NULL);
	b->eng_priv = e;
	b->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (b->efd < 0) {
		int rc = -errno;

		sync_fini(b);
		return rc;
	}
	for (unsigned i = 0; i < n; i++) {
		char name[16];

		if (pthread_create(&e->workers[i], NULL, worker, b))
			break;
		/* At most 15 characters: the kernel's limit. */
		snprintf(name, sizeof(name), "cvisor-blk%u", i % 10000);
		pthread_setname_np(e->workers[i], name);
		e->nr_workers++;
	}
	if (!e->nr_workers) {
		sync_fini(b);
		return -EAGAIN;
	}
	return 0;
}

static int sync_submit(struct blk_backend *b, struct blk_io *io)
{
	struct sync_engine *e = b->eng_priv;

	pthread_mutex_lock(&e->lock);
	list_add(&e->todo, io);
	pthread_cond_signal(&e->work);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void sync_kick(struct blk_backend *b)
{
	/* Workers start at submit: nothing is held back. */
}

static void sync_reap(struct blk_backend *b)
{
	struct sync_engine *e = b->eng_priv;
	struct blk_io *io, *next;

	pthread_mutex_lock(&e->lock);
	io = list_take_all(&e->done);
	pthread_mutex_unlock(&e->lock);
	if (!io)
		return;
	for (; io; io = next) {
		next = io->next;
		blk_io_complete(b, io);
	}
	blk_batch_end(b);
}

static bool sync_ready(struct blk_backend *b)
{
	struct sync_engine *e = b->eng_priv;

	/* A racy peek is enough: a miss is seen on the next look, or
	 * through the eventfd when polling stops. */
	return __atomic_load_n(&e->done.head, __ATOMIC_RELAXED) != NULL;
}

const struct blk_engine_ops blk_sync_engine = {
	.name = "sync",
	.init = sync_init,
	.fini = sync_fini,
	.submit = sync_submit,
	.kick = sync_kick,
	.reap = sync_reap,
	.ready = sync_ready,
};

/* Block backend: opening the image, choosing an engine, submission and
 * draining. The request state machine is in block_io.c, the engines in
 * block_sync.c and block_uring.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "backends/block_priv.h"
#include "core/log.h"
#include "core/util.h"
#include "event/loop.h"

/* The largest logical block we accept for O_DIRECT. */
#define BLK_MAX_LOGICAL 4096

/* O_DIRECT on a file needs the alignment of the device under it, which
 * the file does not tell (statx DIOALIGN is too new to rely on): probe
 * with a 512-byte read, which fails with EINVAL on a 4K-sector disk. */
static uint32_t probe_dio_align(int fd)
{
	void *buf;
	uint32_t a = 512;

	if (posix_memalign(&buf, BLK_MAX_LOGICAL, BLK_MAX_LOGICAL))
		return BLK_MAX_LOGICAL;
	if (pread(fd, buf, 512, 0) < 0 && errno == EINVAL)
		a = BLK_MAX_LOGICAL;
	free(buf);
	return a;
}

static int blockdev_info(struct blk_backend *b)
{
	uint64_t size;
	int lsz = 512, psz = 512;

	if (ioctl(b->fd, BLKGETSIZE64, &size) < 0)
		return -errno;
	if (ioctl(b->fd, BLKSSZGET, &lsz) < 0)
		lsz = 512;
	if (ioctl(b->fd, BLKPBSZGET, &psz) < 0)
		psz = lsz;
	b->info.size = size;
	b->info.is_blockdev = true;
	b->info.logical_block = b->info.direct ? (uint32_t)lsz : 512;
	b->info.physical_block = (uint32_t)psz;
	b->info.discard_granularity = (uint32_t)psz;
	return 0;
}

static int read_info(struct blk_backend *b)
{
	struct stat st;
	int rc = 0;

	if (fstat(b->fd, &st) < 0)
		return -errno;
	b->info.dev = st.st_dev;
	b->info.ino = st.st_ino;
	if (S_ISBLK(st.st_mode)) {
		b->info.dev = st.st_rdev;
		rc = blockdev_info(b);
	} else if (S_ISREG(st.st_mode)) {
		b->info.size = (uint64_t)st.st_size;
		b->info.logical_block = b->info.direct ?
					probe_dio_align(b->fd) : 512;
		b->info.physical_block = b->info.logical_block;
		b->info.discard_granularity = st.st_blksize > 0 ?
					      (uint32_t)st.st_blksize : 4096;
	} else {
		return -ENOTBLK;
	}
	if (rc)
		return rc;
	if (b->info.logical_block < 512 ||
	    b->info.logical_block > BLK_MAX_LOGICAL ||
	    (b->info.logical_block & (b->info.logical_block - 1)))
		return -EINVAL;
	if (b->info.physical_block < b->info.logical_block ||
	    (b->info.physical_block & (b->info.physical_block - 1)))
		b->info.physical_block = b->info.logical_block;
	/* The guest sees whole sectors; a ragged tail is not addressable. */
	b->info.size = ALIGN_DOWN(b->info.size,
				  (uint64_t)b->info.logical_block);
	return 0;
}

/* CVISOR_BLOCK_ENGINE=sync|uring forces an engine; otherwise io_uring,
 * unless the kernel refuses it (seccomp, kernel.io_uring_disabled). */
static int pick_engine(struct blk_backend *b, unsigned nr_queues)
{
	static bool told;
	const char *want = getenv("CVISOR_BLOCK_ENGINE");
	int rc;

	if (want && !strcmp(want, "sync")) {
		b->eng = &blk_sync_engine;
		return b->eng->init(b, nr_queues);
	}
	if (want && *want && strcmp(want, "uring"))
		pr_warn("block: CVISOR_BLOCK_ENGINE=%s unknown (sync|uring)",
			want);
	b->eng = &blk_uring_engine;
	rc = b->eng->init(b, nr_queues);
	if (!rc)
		return 0;
	if (want && !strcmp(want, "uring")) {
		pr_err("block: io_uring unavailable: %s", strerror(-rc));
		return rc;
	}
	if (!__atomic_exchange_n(&told, true, __ATOMIC_RELAXED))
		pr_info("block: io_uring unavailable (%s), using the sync "
			"engine", strerror(-rc));
	b->eng = &blk_sync_engine;
	return b->eng->init(b, nr_queues);
}

static void completion_event(void *opaque, uint32_t events)
{
	struct blk_backend *b = opaque;
	uint64_t v;

	if (read(b->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("block: %s: eventfd: %s", b->path, strerror(errno));
	b->eng->reap(b);
}

static int open_image(struct blk_backend *b, int fd, bool read_only,
		      bool direct)
{
	int flags = (read_only ? O_RDONLY : O_RDWR) | O_CLOEXEC |
		    (direct ? O_DIRECT : 0);

	b->fd = fd >= 0 ? fd : open(b->path, flags);
	if (b->fd < 0)
		return -errno;
	b->info.read_only = read_only;
	b->info.direct = direct;
	return read_info(b);
}

struct blk_backend *blk_backend_open(const char *path, bool read_only,
				     bool direct, unsigned nr_queues,
				     struct event_loop *loop)
{
	return blk_backend_open_fd(-1, path, read_only, direct, nr_queues,
				   loop);
}

bool blk_backend_flush_failed(const struct blk_backend *b)
{
	return __atomic_load_n(&b->flush_failed, __ATOMIC_ACQUIRE);
}

int blk_backend_fd(const struct blk_backend *b)
{
	return b->fd;
}

void blk_backend_set_flush_failed(struct blk_backend *b)
{
	__atomic_store_n(&b->flush_failed, true, __ATOMIC_RELEASE);
}

struct blk_backend *blk_backend_open_fd(int fd, const char *path,
					bool read_only, bool direct,
					unsigned nr_queues,
					struct event_loop *loop)
{
	struct blk_backend *b = xcalloc(1, sizeof(*b));
	int rc;

	pthread_mutex_init(&b->flush_lock, NULL);
	b->path = xstrdup(path);
	b->efd = -1;
	b->loop = loop;
	/* The caller reports open errors: it knows the config position. */
	rc = open_image(b, fd, read_only, direct);
	if (rc)
		goto fail;
	b->zeros = mmap(NULL, BLK_ZERO_CHUNK, PROT_READ,
			MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->zeros == MAP_FAILED) {
		b->zeros = NULL;
		rc = -ENOMEM;
		goto fail;
	}
	rc = pick_engine(b, nr_queues ? nr_queues : 1);
	if (rc) {
		b->eng = NULL;
		goto fail;
	}
	b->info.engine = b->eng->name;
	if (loop) {
		rc = event_loop_add(loop, b->efd, EPOLLIN, completion_event, b);
		if (rc) {
			pr_err("block: %s: event loop: %s", path, strerror(-rc));
			goto fail;
		}
	}
	return b;
fail:
	b->loop = NULL;
	blk_backend_close(b);
	errno = -rc;
	return NULL;
}

void blk_backend_close(struct blk_backend *b)
{
	if (!b)
		return;
	if (b->loop && b->efd >= 0)
		event_loop_del(b->loop, b->efd);
	if (b->eng)
		b->eng->fini(b);
	if (b->zeros)
		munmap(b->zeros, BLK_ZERO_CHUNK);
	if (b->fd >= 0)
		close(b->fd);
	pthread_mutex_destroy(&b->flush_lock);
	free(b->path);
	free(b);
}

const struct blk_info *blk_backend_info(const struct blk_backend *b)
{
	return &b->info;
}

int blk_backend_submit(struct blk_backend *b, struct blk_io *io)
{
	int rc = blk_io_start(b, io);

	if (rc)
		return rc;
	__atomic_fetch_add(&b->inflight, 1, __ATOMIC_RELAXED);
	if (io->op == BLK_OP_FLUSH && !blk_flush_gate(b, io))
		return 0;         /* starts when the flush ahead of it ends */
	rc = b->eng->submit(b, io);
	if (rc) {
		if (io->op == BLK_OP_FLUSH)
			blk_flush_next(b, false);
		blk_bounce_free(b, io);
		__atomic_fetch_sub(&b->inflight, 1, __ATOMIC_RELAXED);
	}
	return rc;
}

void blk_backend_kick(struct blk_backend *b)
{
	b->eng->kick(b);
}

void blk_backend_set_batch_hook(struct blk_backend *b,
				void (*fn)(void *opaque), void *opaque)
{
	b->batch_fn = fn;
	b->batch_opaque = opaque;
}

unsigned blk_backend_inflight(struct blk_backend *b)
{
	return __atomic_load_n(&b->inflight, __ATOMIC_ACQUIRE);
}

bool blk_backend_poll(struct blk_backend *b)
{
	if (!b->eng->ready(b))
		return false;
	b->eng->reap(b);
	return true;
}

void blk_backend_quiet(struct blk_backend *b, bool quiet)
{
	if (b->eng->quiet)
		b->eng->quiet(b, quiet);
}

/* Device reset and close wait here. Completions may be reaped by this
 * thread or by the event loop concurrently; either way inflight drops
 * only after done() returned. Poll briefly rather than block in the
 * engine, so that a completion taken by the other thread is not waited
 * for twice. */
void blk_backend_drain(struct blk_backend *b)
{
	struct timespec ts = { 0, 100 * 1000 };

	b->eng->kick(b);
	while (blk_backend_inflight(b)) {
		b->eng->reap(b);
		if (blk_backend_inflight(b))
			nanosleep(&ts, NULL);
	}
}

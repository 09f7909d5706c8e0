/* virtio-blk device: configuration space, features, reset, and the
 * `vdev virtio-blk` type. Requests are in blk_req.c, the disk I/O in
 * backends/block*.c. docs/virtio-devices.md describes the options.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/persist.h"
#include "core/util.h"
#include "devices/registry.h"
#include "virtio/blk_priv.h"
#include "virtio/vdev.h"


static struct virtio_blk *to_blk(struct virtio_dev *d)
{
	return container_of(d, struct virtio_blk, vdev);
}

static unsigned ilog2_u32(uint32_t v)
{
	unsigned n = 0;

	while (v >>= 1)
		n++;
	return n;
}

static void fill_config(struct virtio_blk *blk, const struct blk_info *bi)
{
	struct virtio_blk_config *c = &blk->cfg;
	uint32_t lb = bi->logical_block;
	uint32_t gran = MAX(bi->discard_granularity, lb);

	c->capacity = htole64(blk->capacity);
	c->size_max = htole32(VIRTIO_BLK_SIZE_MAX);
	c->seg_max = htole32(VIRTIO_BLK_SEG_MAX);
	c->blk_size = htole32(lb);
	c->physical_block_exp = (uint8_t)ilog2_u32(bi->physical_block / lb);
	c->min_io_size = htole16(1);
	c->opt_io_size = htole32(0);
	c->num_queues = htole16((uint16_t)blk->nr_queues);
	c->max_discard_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_discard_seg = htole32(VIRTIO_BLK_MAX_DWZ_SEG);
	c->discard_sector_alignment = htole32(gran / 512);
	c->max_write_zeroes_sectors = htole32(VIRTIO_BLK_MAX_DWZ_SECTORS);
	c->max_write_zeroes_seg = htole32(VIRTIO_BLK_MAX_DWZ_SEG);
	c->write_zeroes_may_unmap = 1;
}

static uint64_t features(const struct virtio_blk *blk)
{
	uint64_t f = VIRTIO_BIT(VIRTIO_BLK_F_SIZE_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_SEG_MAX) |
		     VIRTIO_BIT(VIRTIO_BLK_F_BLK_SIZE) |
		     VIRTIO_BIT(VIRTIO_BLK_F_FLUSH) |
		     VIRTIO_BIT(VIRTIO_BLK_F_TOPOLOGY) |
		     VIRTIO_BIT(VIRTIO_BLK_F_MQ);

	/* A read-only disk has nothing to discard or zero. */
	if (blk->read_only)
		f |= VIRTIO_BIT(VIRTIO_BLK_F_RO);
	else
		f |= VIRTIO_BIT(VIRTIO_BLK_F_DISCARD) |
		     VIRTIO_BIT(VIRTIO_BLK_F_WRITE_ZEROES);
	return f;
}

/* A serial the guest can rely on across runs (/dev/disk/by-id): a hash
 * of the backing file's device and inode. */
static void make_serial(struct virtio_blk *blk, const char *name,
			const struct blk_info *bi)
{
	char buf[VIRTIO_BLK_ID_BYTES + 1] = { 0 };
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
	uint64_t key[2] = { (uint64_t)bi->dev, (uint64_t)bi->ino };
	const uint8_t *p = (const uint8_t *)key;

	if (name && *name) {
		/* Up to 20 bytes; NUL-padded when shorter (spec 5.2.6). */
		memcpy(blk->serial, name,
		       MIN(strlen(name), (size_t)VIRTIO_BLK_ID_BYTES));
		return;
	}
	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	/* "cv" + 16 hex digits: 18 bytes, NUL-padded to 20 */
	snprintf(buf, sizeof(buf), "cv%016llx", (unsigned long long)h);
	memcpy(blk->serial, buf, VIRTIO_BLK_ID_BYTES);
}

/* Driver reset, on a vCPU thread: nothing waits for the disk here.
 * Requests the backend still holds come back on the event loop, see
 * that they are stale and only free their slots; the last one completes
 * the reset (virtio_dev_work_put). */
static void blk_reset(struct virtio_dev *d)
{
	struct virtio_blk *blk = to_blk(d);

	for (unsigned i = 0; i < blk->nr_queues; i++) {
		virtio_queue_lock(d, i);
		blk_queue_stop(&blk->queues[i]);
		virtio_queue_unlock(d, i);
	}
}

/* Teardown: complete what the backend holds on this thread. */
static void blk_drain(struct virtio_dev *d)
{
	blk_backend_drain(to_blk(d)->be);
}

static const struct virtio_dev_ops blk_ops = {
	.reset = blk_reset,
	.drain = blk_drain,
	.queue_notify = blk_queue_notify,
};

static void init_queues(struct virtio_blk *blk)
{
	for (unsigned i = 0; i < blk->nr_queues; i++) {
		struct blk_queue *bq = &blk->queues[i];

		bq->blk = blk;
		bq->index = i;
		bq->reqs = xcalloc(VIRTIO_BLK_QUEUE_SIZE, sizeof(*bq->reqs));
		blk_queue_init_slots(bq);
	}
}

/* The image: the kept one after a reset, else opened (and kept). */
static struct blk_backend *open_backend(const struct virtio_blk_params *p,
					unsigned nq, struct event_loop *loop)
{
	struct blk_kept *k = p->kept;
	struct blk_backend *be;
	int fd;

	if (!k || k->fd < 0) {
		be = blk_backend_open(p->path, p->read_only, p->direct, nq,
				      loop);
		if (be && k)
			k->fd = fcntl(blk_backend_fd(be), F_DUPFD_CLOEXEC, 3);
		return be;
	}
	fd = fcntl(k->fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return NULL;
	be = blk_backend_open_fd(fd, p->path, p->read_only, p->direct, nq,
				 loop);
	if (be && k->flush_failed)
		blk_backend_set_flush_failed(be);
	return be;
}

struct virtio_blk *virtio_blk_new(const struct virtio_blk_params *p,
				  struct guest_mem *mem,
				  struct event_loop *loop)
{
	struct virtio_blk *blk;
	const struct blk_info *bi;
	unsigned nq = p->nr_queues ? p->nr_queues : 1;

	if (nq > VIRTIO_BLK_MAX_QUEUES) {
		errno = EINVAL;
		return NULL;
	}
	blk = xcalloc(1, sizeof(*blk));
	blk->be = open_backend(p, nq, loop);
	if (!blk->be) {
		free(blk);
		return NULL;
	}
	blk->kept = p->kept;
	bi = blk_backend_info(blk->be);
	blk->read_only = p->read_only;
	blk->capacity = bi->size / 512;
	blk->nr_queues = nq;
	blk->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	blk->loop = loop;
	blk->poll_ns = blk->poll_window_ns = (uint64_t)p->poll_us * 1000;
	make_serial(blk, p->serial, bi);
	fill_config(blk, bi);
	if (virtio_dev_init(&blk->vdev, "virtio-blk", VIRTIO_ID_BLOCK,
			    &blk_ops, mem, features(blk), &blk->cfg,
			    sizeof(blk->cfg), nq, VIRTIO_BLK_QUEUE_SIZE)) {
		blk_backend_close(blk->be);
		free(blk);
		errno = EINVAL;
		return NULL;
	}
	init_queues(blk);
	blk_backend_set_batch_hook(blk->be, blk_batch_done, blk);
	pr_debug("virtio-blk: %s: %llu sectors, %u queue(s), engine %s%s%s",
		 p->path, (unsigned long long)blk->capacity, nq, bi->engine,
		 p->read_only ? ", read-only" : "", p->direct ? ", O_DIRECT" : "");
	return blk;
}

struct virtio_dev *virtio_blk_vdev(struct virtio_blk *blk)
{
	return &blk->vdev;
}

void virtio_blk_free(struct virtio_blk *blk)
{
	if (!blk)
		return;
	blk_backend_drain(blk->be);
	if (blk->kept && blk_backend_flush_failed(blk->be))
		blk->kept->flush_failed = true;
	blk_backend_close(blk->be);
	for (unsigned i = 0; i < blk->nr_queues; i++)
		free(blk->queues[i].reqs);
	virtio_dev_uninit(&blk->vdev);
	free(blk);
}

void virtio_blk_release(struct virtio_dev *d)
{
	virtio_blk_free(to_blk(d));
}

/* --- vdev type --- */

static const struct devopt_spec blk_opts[] = {
	{ .key = "threads", .kind = DEVOPT_NUM, .min = 1,
	  .max = VIRTIO_BLK_MAX_QUEUES },
	{ .key = "dio", .kind = DEVOPT_ENUM, .choices = "enable|disable" },
	{ .key = "delayed", .kind = DEVOPT_STR },
	{ .key = "legacy", .kind = DEVOPT_FLAG },
	{ .key = "poll-us", .kind = DEVOPT_NUM, .min = 0,
	  .max = VIRTIO_BLK_MAX_POLL_US },
	/* firmware's boot order, lowest first (fw_cfg `bootorder`) */
	{ .key = "bootindex", .kind = DEVOPT_NUM, .min = 0, .max = 0xffff },
	{ 0 },
};

static void where(char *buf, size_t len, const struct cfg_pos *pos)
{
	snprintf(buf, len, "%s:%u:%u", pos->file ? pos->file : "?",
		 pos->line, pos->col);
}

/* What the options say together, for `cvisor check` and every run
 * (check_vdev): one disk image, read-write or read-only. */
static const char *blk_check_vdev(const struct vdev_config *vc,
				  const struct cfg_pos **at)
{
	const struct cfg_hostdev *hd = vc->hostdevs;
	const char *why = virtio_check_vdev(vc, at);

	if (why)
		return why;
	if (!vc->nr_hostdevs)
		return "needs a disk image: `hostdev [<]path`";
	if (vc->nr_hostdevs > 1) {
		*at = &vc->hostdevs[1].pos;
		return "takes one hostdev (one disk image)";
	}
	if (hd->is_pipe || hd->dir == HOSTDEV_OUT || !hd->path ||
	    !*hd->path) {
		*at = &hd->pos;
		return "hostdev must be `path` or `<path` (read-only)";
	}
	return NULL;
}

/* The config layer checked the options; here is what is left. */
static int parse_params(const struct vdev_config *vc,
			struct virtio_blk_params *p)
{
	const struct cfg_devopt *o;
	const struct cfg_hostdev *hd = vc->hostdevs;
	const struct cfg_pos *pos = &vc->pos;
	const char *why = blk_check_vdev(vc, &pos);
	char at[300];

	if (why) {
		where(at, sizeof(at), pos);
		pr_err("%s: vdev virtio-blk: %s", at, why);
		return -EINVAL;
	}
	p->path = hd->path;
	p->read_only = hd->dir == HOSTDEV_IN;
	o = vdev_opt(vc, "threads");
	p->nr_queues = o ? (unsigned)o->num : 1;
	o = vdev_opt(vc, "poll-us");
	p->poll_us = o ? (unsigned)o->num : VIRTIO_BLK_DEFAULT_POLL_US;
	o = vdev_opt(vc, "dio");
	p->direct = o && o->value && !strcmp(o->value, "enable");
	p->serial = vc->name[0] ? vc->name : NULL;
	if ((o = vdev_opt(vc, "delayed")))
		pr_info("virtio-blk: `delayed` has no effect in cvisor");
	return 0;
}

/* open(2)'s EINVAL for O_DIRECT says nothing about why: name the cause. */
static const char *open_error(int rc, const struct virtio_blk_params *p)
{
	if (rc == -ENOTBLK)
		return "not a regular file or block device";
	if (rc == -EINVAL && p->direct)
		return "its file system does not support O_DIRECT (`dio enable`)";
	return strerror(-rc);
}

static void free_kept(void *obj)
{
	struct blk_kept *k = obj;

	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static struct blk_kept *find_kept(const struct dev_env *env,
				  const struct vdev_config *vc)
{
	struct blk_kept *k;

	if (!env->persist)
		return NULL;
	k = persist_get(env->persist, vc, PERSIST_BLOCK);
	if (k)
		return k;
	k = xcalloc(1, sizeof(*k));
	k->fd = -1;
	if (persist_put(env->persist, vc, PERSIST_BLOCK, k, free_kept)) {
		free(k);
		return NULL;    /* not kept: reopened after a reset */
	}
	return k;
}

static int blk_create(const struct vdev_config *vc, const struct dev_env *env,
		      struct device **out)
{
	struct virtio_blk_params p;
	struct virtio_blk *blk;
	char at[300];
	int rc;

	rc = parse_params(vc, &p);
	if (rc)
		return rc;
	p.kept = find_kept(env, vc);
	blk = virtio_blk_new(&p, env->mem, env->loop);
	if (!blk) {
		rc = errno ? -errno : -EIO;
		where(at, sizeof(at), &vc->hostdevs[0].pos);
		pr_err("%s: virtio-blk: %s: %s", at, p.path, open_error(rc, &p));
		return rc;
	}
	/* From here the glue owns blk: it releases it on failure. */
	return virtio_vdev_create(vc, env, &blk->vdev, virtio_blk_release,
				  out);
}

const struct vdev_type virtio_blk_type = {
	.name = "virtio-blk",
	.class = VDEV_VIRTIO,
	.supported = true,
	.allow_hostdev = true,
	.region_len = 0x200,
	.opts = blk_opts,
	.check_vdev = blk_check_vdev,
	.create = blk_create,
};

/* virtio-rng (virtio 1.2 section 5.4), QNX's `virtio-entropy`: one
 * request queue whose writable buffers are filled from getrandom().
 *
 * getrandom() on a few KiB never blocks once the host pool is initialised,
 * so requests are served on the event loop thread. A request gets at most
 * RNG_MAX_REQ bytes (the used length says how many), which bounds the time
 * one kick can take however large the guest's buffers are.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/util.h"
#include "devices/registry.h"
#include "virtio/vdev.h"
#include "virtio/virtio.h"

#define RNG_QUEUE_SIZE	64
#define RNG_MAX_REQ	(64 * 1024)
#define RNG_MAX_IOV	64
/* Bytes a kick fills before the loop serves others: a guest that keeps
 * refilling the queue must not hold the event loop. The handler comes
 * back on the next round (virtio_queue_requeue). */
#define RNG_BUDGET	(256 * 1024)
/* Requests a kick takes whatever their size: one with nothing to fill
 * costs no bytes, and a guest reposting them from another vCPU kept the
 * loop here for ever. */
#define RNG_MAX_REQS	32


struct virtio_rng {
	struct virtio_dev vdev;
	struct iovec iov[RNG_MAX_IOV];
};

/* Fill up to RNG_MAX_REQ bytes of the writable buffers; returns bytes. */
static uint32_t fill(const struct virtq_req *r)
{
	uint32_t done = 0;

	for (unsigned i = r->nr_read; i < r->nr_read + r->nr_write; i++) {
		uint8_t *p = r->iov[i].iov_base;
		size_t left = MIN(r->iov[i].iov_len,
				  (size_t)(RNG_MAX_REQ - done));

		while (left) {
			/* Never wait for the host's pool (early boot): the
			 * guest gets what there is, maybe nothing. */
			ssize_t n = getrandom(p, left, GRND_NONBLOCK);

			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done;
			p += n;
			left -= (size_t)n;
			done += (uint32_t)n;
		}
		if (done == RNG_MAX_REQ)
			break;
	}
	return done;
}

static void rng_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_rng *rng = container_of(d, struct virtio_rng, vdev);
	struct virtq_req r = { .iov = rng->iov, .max_iov = RNG_MAX_IOV };
	struct virtq *vq = virtio_dev_vq(d, q);
	uint64_t budget = RNG_BUDGET;
	unsigned reqs = 0;

	while (virtio_queue_pop(d, q, &r) > 0) {
		uint32_t n = fill(&r);
		bool spent = n >= budget || ++reqs == RNG_MAX_REQS;

		virtq_fill(vq, &r, n);
		r = (struct virtq_req){ .iov = rng->iov,
					.max_iov = RNG_MAX_IOV };
		/* Spent: the rest on a later round; no loop: carry on. */
		if (spent && virtio_queue_requeue(d, q))
			break;
		budget = n >= budget ? UINT64_MAX : budget - n;
		reqs %= RNG_MAX_REQS;
	}
	virtq_flush(vq);
	virtio_queue_interrupt(d, q);
}

static const struct virtio_dev_ops rng_ops = {
	.queue_notify = rng_queue_notify,
};

struct virtio_dev *virtio_rng_new(struct guest_mem *mem);
void virtio_rng_release(struct virtio_dev *d);

struct virtio_dev *virtio_rng_new(struct guest_mem *mem)
{
	struct virtio_rng *rng = xcalloc(1, sizeof(*rng));

	if (virtio_dev_init(&rng->vdev, "virtio-rng", VIRTIO_ID_RNG, &rng_ops,
			    mem, 0, NULL, 0, 1, RNG_QUEUE_SIZE)) {
		free(rng);
		return NULL;
	}
	return &rng->vdev;
}

void virtio_rng_release(struct virtio_dev *d)
{
	virtio_dev_uninit(d);
	free(container_of(d, struct virtio_rng, vdev));
}

static const struct devopt_spec rng_opts[] = {
	{ .key = "legacy", .kind = DEVOPT_FLAG },
	{ 0 },
};

/* `legacy` is refused by check_vdev (virtio_check_vdev), at config time:
 * virtio_vdev_create checks it again. */
static int rng_create(const struct vdev_config *vc, const struct dev_env *env,
		      struct device **out)
{
	struct virtio_dev *d = virtio_rng_new(env->mem);

	if (!d)
		return -ENOMEM;
	return virtio_vdev_create(vc, env, d, virtio_rng_release, out);
}

const struct vdev_type virtio_entropy_type = {
	.name = "virtio-entropy",
	.aliases = (const char *const[]){ "virtio-rng", NULL },
	.class = VDEV_VIRTIO,
	.supported = true,
	.region_len = 0x200,
	.opts = rng_opts,
	.check_vdev = virtio_check_vdev,
	.create = rng_create,
};

/* LSI 53C895A: the PCI function (0x1000:0x0012, an I/O BAR and a memory
 * BAR onto the register file, and 8 KiB of SCRIPTS RAM), and `vdev
 * lsi53c895a` with a `hostdev FILE` per disk, each followed by its
 * `target N`, `lun N`, `cdrom` and `bootindex N`. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/persist.h"
#include "core/util.h"
#include "devices/lsi53c895a.h"
#include "devices/lsi53c895a_priv.h"
#include "devices/registry.h"

static struct lsi *to_lsi(struct pci_func *f)
{
	return container_of(f, struct lsi, f);
}

/* How long a read of ISTAT or DSTAT, the registers a polling driver
 * reads until its command ends (the test guest's ISTAT loop, SeaBIOS's
 * DSTAT loop), looks for the disk's completion before it answers. A
 * write into the page cache ends on an io_uring worker some tens of
 * microseconds after the submission (4 KiB: 36 us median on the
 * development host), about one VM exit: looking that long answers the
 * driver's first poll instead of its third. Bounded, so a register read
 * never waits for the disk itself; a driver that takes interrupts
 * (sym53c8xx) reads them when the command has ended. */
#define LSI_POLL_NS	50000

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* Lock held. While the disk has a command, a vCPU that touches the
 * registers takes its completion if the backend has it, instead of
 * leaving it to the event loop: a driver polling ISTAT, or one that just
 * started a command whose read the kernel did inline at submission, sees
 * the command end without the event loop thread's wake-up on its path
 * (on a loaded host that wake-up costs more than the I/O). The
 * completion runs as on the loop, where lsi_cmd_done takes the lock: so
 * the lock is dropped first, and the look goes on for up to spin_ns
 * while nothing has come. true: the lock was dropped. */
static bool poll_disk(struct lsi *s, uint64_t spin_ns)
{
	struct scsi_lun *l = lsi_cmd_lun(s);
	uint64_t t0;

	if (!s->vcpu_reap || !s->io_busy || !l)
		return false;
	pthread_mutex_unlock(&s->lock);
	if (blk_backend_poll(l->be) || !spin_ns)
		return true;
	/* Until the completion comes here, or the loop took it first. */
	t0 = now_ns();
	while (__atomic_load_n(&s->io_busy, __ATOMIC_RELAXED) &&
	       !blk_backend_poll(l->be) && now_ns() - t0 < spin_ns)
		cpu_relax();
	return true;
}

static bool covers(uint64_t off, unsigned size, unsigned reg)
{
	return off <= reg && reg < off + size;
}

static uint64_t lsi_bar_read(struct pci_func *f, unsigned bar, uint64_t off,
			     unsigned size)
{
	struct lsi *s = to_lsi(f);
	uint64_t v = 0;

	pthread_mutex_lock(&s->lock);
	if (bar != LSI_BAR_RAM &&
	    poll_disk(s, covers(off, size, ISTAT) || covers(off, size, DSTAT) ?
			 LSI_POLL_NS : 0))
		pthread_mutex_lock(&s->lock);
	if (bar == LSI_BAR_RAM) {
		memcpy(&v, s->ram + off, size);       /* little-endian host */
	} else {
		for (unsigned i = 0; i < size; i++)
			if (off + i < LSI_REGS_SIZE)
				v |= (uint64_t)lsi_reg_readb(s, (unsigned)off + i)
				     << (8 * i);
	}
	pthread_mutex_unlock(&s->lock);
	return v;
}

/* The disk of the command this vCPU started signals the event loop
 * again; what completed while it was quiet is taken here, since nothing
 * announced it (the usual case: a read the kernel did inline, which
 * poll_disk already took, leaves nothing). Without the lock. */
static void end_quiet(struct blk_backend *be)
{
	if (!be)
		return;
	blk_backend_quiet(be, false);
	blk_backend_poll(be);
}

static void lsi_bar_write(struct pci_func *f, unsigned bar, uint64_t off,
			  unsigned size, uint64_t v)
{
	struct lsi *s = to_lsi(f);
	struct blk_backend *be = NULL;

	pthread_mutex_lock(&s->lock);
	if (bar == LSI_BAR_RAM) {
		memcpy(s->ram + off, &v, size);
	} else {
		for (unsigned i = 0; i < size; i++)
			if (off + i < LSI_REGS_SIZE)
				lsi_reg_writeb(s, (unsigned)off + i,
					       (uint8_t)(v >> (8 * i)));
		/* DSP written, STD set, SIGP for a WAIT RESELECT: go. */
		s->quiet_ok = true;
		lsi_run(s);
		s->quiet_ok = false;
		be = s->quiet_be;
		s->quiet_be = NULL;
		if (poll_disk(s, 0)) {
			end_quiet(be);
			return;
		}
	}
	pthread_mutex_unlock(&s->lock);
	end_quiet(be);
}

/* The memory BAR's DSA as coalesced MMIO (vm/coalesced_mmio.c): a driver
 * writes it before each command's DSP write, and only the SCRIPTS that
 * DSP write starts (it exits, and so applies the DSA write first) use
 * it: one exit of the seven of a command at one table (the test guest's
 * driver) goes. Not the I/O BAR: KVM coalesces port writes only
 * elsewhere. A failed registration leaves the write exiting, as before.
 * No unregistering when the device goes: its zones go with the VM. */
static void lsi_bar_moved(struct pci_func *f, unsigned bar, uint64_t addr)
{
	struct lsi *s = to_lsi(f);

	if (bar != LSI_BAR_MMIO || !s->env.coalesce)
		return;
	if (s->dsa_zone != PCI_BAR_UNMAPPED)
		s->env.coalesce(s->env.ctx, s->dsa_zone + DSA, 4, false);
	s->dsa_zone = PCI_BAR_UNMAPPED;
	if (addr != PCI_BAR_UNMAPPED &&
	    !s->env.coalesce(s->env.ctx, addr + DSA, 4, true))
		s->dsa_zone = addr;
}

static void lsi_reset(struct pci_func *f)
{
	struct lsi *s = to_lsi(f);

	pthread_mutex_lock(&s->lock);
	lsi_soft_reset(s);
	memset(s->ram, 0, sizeof(s->ram));
	pthread_mutex_unlock(&s->lock);
}

/* The disks' I/O completes (on this thread) before anything goes. The
 * SCRIPTS stop first, for good: a completion during the drains would
 * run the guest's program on, which could start a command on another
 * disk (one closed already: a use-after-free) or on the same one again
 * (the drain would never end). The bus has at most one command out, so
 * one pass of drains leaves none. */
static void lsi_free(struct pci_func *f)
{
	struct lsi *s = to_lsi(f);

	dev_quiesce_del(&s->quiesce);
	pthread_mutex_lock(&s->lock);
	s->quiesced = true;             /* lsi_run does nothing from here */
	s->running = false;
	pthread_mutex_unlock(&s->lock);
	for (unsigned i = 0; i < LSI_MAX_TARGETS; i++)
		for (unsigned l = 0; l < SCSI_MAX_LUNS; l++)
			if (s->targets[i].t.luns[l])
				blk_backend_drain(s->targets[i].t.luns[l]->be);
	for (unsigned i = 0; i < LSI_MAX_TARGETS; i++)
		for (unsigned l = 0; l < SCSI_MAX_LUNS; l++) {
			scsi_lun_close(s->targets[i].t.luns[l]);
			s->targets[i].t.luns[l] = NULL;
		}
	scsi_cmd_free(&s->cmd);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static const struct pci_func_ops lsi_ops = {
	.bar_read = lsi_bar_read,
	.bar_write = lsi_bar_write,
	.bar_moved = lsi_bar_moved,
	.reset = lsi_reset,
	.free = lsi_free,
};

static int add_disk(struct lsi *s, const struct lsi_disk *d,
		    const struct dev_env *env, int fd)
{
	struct scsi_lun_params p = {
		.path = d->path, .fd = fd, .read_only = d->read_only,
		.cdrom = d->cdrom, .loop = env->loop,
	};
	struct lsi_target *t;
	struct scsi_lun *l;

	if (d->target >= LSI_MAX_TARGETS || d->lun >= SCSI_MAX_LUNS ||
	    s->targets[d->target].t.luns[d->lun]) {
		errno = EINVAL;
		return -EINVAL;
	}
	t = &s->targets[d->target];
	l = scsi_lun_open(&p);
	if (!l)
		return errno ? -errno : -EIO;
	t->t.id = d->target;
	t->t.luns[d->lun] = l;
	t->present = true;
	return 0;
}

/* Paused with the VM (devices/quiesce.h): the SCRIPTS hold where they
 * are; a disk completion meanwhile is kept (lsi_cmd_done) and the
 * resume runs them on from it. The bus has at most one command out. */
static unsigned lsi_quiesce(struct dev_quiesce *q, bool on)
{
	struct lsi *s = container_of(q, struct lsi, quiesce);
	unsigned out;

	pthread_mutex_lock(&s->lock);
	s->quiesced = on;
	if (!on)
		lsi_run(s);
	out = s->io_busy;
	pthread_mutex_unlock(&s->lock);
	return out;
}

static struct lsi *lsi_alloc(const struct dev_env *env)
{
	struct lsi *s = xcalloc(1, sizeof(*s));

	s->env = *env;
	s->dsa_zone = PCI_BAR_UNMAPPED;
	s->rl = (struct ratelimit)RATELIMIT_INIT(10, 5);
	pthread_mutex_init(&s->lock, NULL);
	pci_func_init(&s->f, "lsi53c895a", &lsi_ops, &s->env, LSI_VENDOR,
		      LSI_DEVICE, LSI_CLASS, LSI_REVISION, LSI_VENDOR, 0x1000);
	if (pci_func_add_bar(&s->f, LSI_BAR_IO, LSI_REGS_SIZE,
			     PCI_BAR_SPACE_IO) ||
	    pci_func_add_bar(&s->f, LSI_BAR_MMIO, LSI_MMIO_SIZE, 0) ||
	    pci_func_add_bar(&s->f, LSI_BAR_RAM, LSI_RAM_SIZE, 0)) {
		pthread_mutex_destroy(&s->f.intx.lock);
		pthread_mutex_destroy(&s->lock);
		free(s);
		return NULL;
	}
	/* Commands run on vCPU threads: their buffer is there from the start
	 * and never grows there (no allocation on a vCPU's path). */
	scsi_cmd_init(&s->cmd);
	s->vcpu_reap = true;
	lsi_soft_reset(s);
	s->quiesce.set = lsi_quiesce;
	dev_quiesce_add(&s->quiesce);
	return s;
}

static struct pci_func *build(const struct lsi_disk *disks, unsigned n,
			      const struct dev_env *env, const int *fds)
{
	struct lsi *s = lsi_alloc(env);

	if (!s)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		int rc = add_disk(s, &disks[i], env, fds ? fds[i] : -1);

		if (rc) {
			pr_err("lsi53c895a: %s: %s", disks[i].path,
			       rc == -ENOTBLK ? "not a regular file or block "
			       "device" : strerror(-rc));
			for (unsigned j = i + 1; fds && j < n; j++)
				if (fds[j] >= 0)
					close(fds[j]);
			lsi_free(&s->f);
			return NULL;
		}
	}
	return &s->f;
}

struct pci_func *lsi53c895a_new(const struct lsi_disk *disks, unsigned n,
				const struct dev_env *env)
{
	return build(disks, n, env, NULL);
}

/* --- vdev type --- */

static const struct devopt_spec lsi_opts[] = {
	{ .key = "target", .kind = DEVOPT_NUM, .min = 0,
	  .max = LSI_MAX_TARGETS - 1, .repeatable = true },
	{ .key = "lun", .kind = DEVOPT_NUM, .min = 0, .max = SCSI_MAX_LUNS - 1,
	  .repeatable = true },
	{ .key = "cdrom", .kind = DEVOPT_FLAG, .repeatable = true },
	{ .key = "bootindex", .kind = DEVOPT_NUM, .min = 0, .max = 0xffff,
	  .repeatable = true },
	{ 0 },
};

/* The hostdev an option describes: the last one before it. */
static int owner_of(const struct vdev_config *vc, const struct cfg_devopt *o)
{
	int h = -1;

	for (unsigned i = 0; i < vc->nr_hostdevs; i++)
		if (vc->hostdevs[i].pos.seq < o->pos.seq)
			h = (int)i;
	return h;
}

/* Disks from the config: each hostdev with its options. NULL, or what
 * is wrong and where. */
static const char *collect(const struct vdev_config *vc,
			   struct lsi_disk *d, const struct cfg_pos **at)
{
	const struct cfg_pos *tpos[CFG_MAX_HOSTDEVS];
	bool seen[CFG_MAX_HOSTDEVS][4] = { { false } };

	if (!vc->nr_hostdevs)
		return "needs a `hostdev FILE` per disk";
	for (unsigned i = 0; i < vc->nr_hostdevs; i++) {
		const struct cfg_hostdev *hd = &vc->hostdevs[i];

		*at = &hd->pos;
		if (hd->is_pipe || hd->dir == HOSTDEV_OUT || !hd->path)
			return "a disk's hostdev is `FILE` or `<FILE` "
			       "(read-only)";
		d[i] = (struct lsi_disk){ .path = hd->path, .target = i,
					  .read_only = hd->dir == HOSTDEV_IN };
		tpos[i] = &hd->pos;
	}
	for (unsigned k = 0; k < vc->nr_opts; k++) {
		const struct cfg_devopt *o = &vc->opts[k];
		int h = owner_of(vc, o);
		unsigned which;

		if (!strcmp(o->key, "shared"))
			continue;     /* the vdev's, for config/disk_lock.c */
		which = !strcmp(o->key, "target") ? 0 :
			!strcmp(o->key, "lun") ? 1 :
			!strcmp(o->key, "cdrom") ? 2 : 3;

		*at = &o->pos;
		if (h < 0)
			return "`target`, `lun`, `cdrom` and `bootindex` "
			       "follow the `hostdev` they describe";
		if (seen[h][which])
			return "given twice for one hostdev";
		seen[h][which] = true;
		if (which == 0) {
			d[h].target = (unsigned)o->num;
			tpos[h] = &o->pos;
		} else if (which == 1) {
			d[h].lun = (unsigned)o->num;
		} else if (which == 2) {
			d[h].cdrom = true;
		}
	}
	for (unsigned i = 0; i < vc->nr_hostdevs; i++) {
		*at = tpos[i];
		if (d[i].target == LSI_HOST_ID)
			return "target 7 is the controller's own SCSI ID";
		for (unsigned j = 0; j < i; j++)
			if (d[j].target == d[i].target && d[j].lun == d[i].lun)
				return "two disks with the same target id "
				       "(and lun)";
	}
	return NULL;
}

unsigned lsi53c895a_boot_disks(const struct vdev_config *vc,
			       struct lsi_boot_disk *out)
{
	struct lsi_disk d[CFG_MAX_HOSTDEVS];
	const struct cfg_pos *at;
	unsigned n = 0;

	if (collect(vc, d, &at))
		return 0;
	for (unsigned k = 0; k < vc->nr_opts && n < LSI_MAX_DISKS; k++) {
		const struct cfg_devopt *o = &vc->opts[k];
		int h = owner_of(vc, o);

		if (!strcmp(o->key, "bootindex") && h >= 0)
			out[n++] = (struct lsi_boot_disk){
				o->num, d[h].target, d[h].lun };
	}
	return n;
}

bool lsi53c895a_disk_read_only(const struct vdev_config *vc, unsigned i)
{
	if (i >= vc->nr_hostdevs)
		return false;
	if (vc->hostdevs[i].dir == HOSTDEV_IN)
		return true;
	for (unsigned k = 0; k < vc->nr_opts; k++)
		if (!strcmp(vc->opts[k].key, "cdrom") &&
		    owner_of(vc, &vc->opts[k]) == (int)i)
			return true;
	return false;
}

static const char *lsi_check(const struct vdev_config *vc,
			     const struct cfg_pos **at)
{
	struct lsi_disk d[CFG_MAX_HOSTDEVS];

	if (vc->nr_locs && (vc->locs[0].space != LOC_PCI ||
			    vc->locs[0].pci_by_id)) {
		*at = &vc->locs[0].pos;
		return "a PCI device: it takes `loc pci:0:D.F` (or no loc), "
		       "not a memory or I/O address";
	}
	if (vc->nr_intrs) {
		*at = &vc->intrs[0].pos;
		return "takes no `intr`: its INTx line follows its PCI slot";
	}
	return collect(vc, d, at);
}

static void free_kept(void *obj)
{
	int *fd = obj;

	if (*fd >= 0)
		close(*fd);
	free(fd);
}

/* A disk's image, opened once and kept across guest resets (as
 * virtio-blk does): the rebuilt VM may be in a chroot without it. The
 * returned fd is the caller's. */
static int kept_fd(const struct dev_env *env, const struct cfg_hostdev *hd,
		   bool ro)
{
	int *k;

	if (!env->persist)
		return -1;
	k = persist_get(env->persist, hd, PERSIST_BLOCK);
	if (!k) {
		struct blk_backend *be = blk_backend_open(hd->path, ro, false,
							  1, NULL);

		if (!be)
			return -1;
		k = xcalloc(1, sizeof(*k));
		*k = fcntl(blk_backend_fd(be), F_DUPFD_CLOEXEC, 3);
		blk_backend_close(be);
		if (persist_put(env->persist, hd, PERSIST_BLOCK, k,
				free_kept)) {
			free_kept(k);
			return -1;
		}
	}
	return *k >= 0 ? fcntl(*k, F_DUPFD_CLOEXEC, 3) : -1;
}

static int lsi_create(const struct vdev_config *vc, const struct dev_env *env,
		      struct device **out)
{
	struct lsi_disk d[CFG_MAX_HOSTDEVS];
	int fds[CFG_MAX_HOSTDEVS];
	const struct cfg_pos *at = &vc->pos;
	const char *why = lsi_check(vc, &at);
	struct pci_func *f;

	if (why) {
		pr_err("%s:%u:%u: vdev lsi53c895a: %s", at->file, at->line,
		       at->col, why);
		return -EINVAL;
	}
	collect(vc, d, &at);
	for (unsigned i = 0; i < vc->nr_hostdevs; i++)
		fds[i] = kept_fd(env, &vc->hostdevs[i],
				 d[i].read_only || d[i].cdrom);
	f = build(d, vc->nr_hostdevs, env, fds);
	if (!f)
		return -EIO;
	*out = &f->dev;
	return 0;
}

const struct vdev_type lsi53c895a_type = {
	.name = "lsi53c895a",
	.class = VDEV_PCI,
	.pci_io_bar = true,
	.supported = true,
	.allow_hostdev = true,
	.check_vdev = lsi_check,
	.opts = lsi_opts,
	.create = lsi_create,
};

/* Two VMs writing one disk image corrupt it: like QEMU, each writable
 * virtio-blk image (and each lsi53c895a disk) is locked for the life of the process with an open
 * file description lock (F_OFD_SETLK: a write lock for a writable image,
 * a read lock for `<image`), so a second cvisor is refused at start (and
 * by `cvisor check`), unless the vdev says `shared`. The lock is taken on
 * a description of its own, kept open until exit, so the backend's own
 * descriptions (reopened after a reset, or dup'ed) never conflict with it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/cfg_internal.h"
#include "config/host_check.h"
#include "core/log.h"
#include "devices/lsi53c895a.h"
#include "devices/registry.h"

/* A file system without locks (9p, some FUSE): the image is used
 * unlocked, as before, and -v says so. */
static int unlockable(int fd, const char *path)
{
	pr_info("disk image '%s': no lock (%s): another process could use "
		"it at the same time", path, strerror(errno));
	close(fd);
	return 0;
}

static int lock_one(const struct cfg_hostdev *hd, bool ro, bool hold,
		    struct cfg_error *err)
{
	struct flock fl = { .l_type = ro ? F_RDLCK : F_WRLCK,
			    .l_whence = SEEK_SET };
	int fd = open(hd->path, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);

	if (fd < 0)
		return 0;     /* the device reports why it cannot open it */
	if (!hold) {
		/* check: see the lock, do not take it */
		if (fcntl(fd, F_OFD_GETLK, &fl) < 0)
			return unlockable(fd, hd->path);
		if (fl.l_type == F_UNLCK) {
			close(fd);
			return 0;
		}
	} else if (fcntl(fd, F_OFD_SETLK, &fl) == 0) {
		return 0;     /* fd stays open: the lock lasts until exit */
	} else if (errno != EAGAIN && errno != EACCES) {
		return unlockable(fd, hd->path);
	}
	close(fd);
	return cfg_err(err, &hd->pos, "disk image '%s' is in use by another "
		       "process (locked%s); add 'shared' to the vdev if "
		       "sharing it is intended", hd->path,
		       ro ? " for writing" : "");
}

/* An lsi53c895a has a disk per hostdev; a `cdrom` is read-only. */
static int lock_lsi(const struct vdev_config *vc, bool hold,
		    struct cfg_error *err)
{
	for (unsigned i = 0; i < vc->nr_hostdevs; i++) {
		const struct cfg_hostdev *hd = &vc->hostdevs[i];

		if (hd->is_pipe || hd->dir == HOSTDEV_OUT || !hd->path)
			continue;     /* refused by its check_vdev */
		if (lock_one(hd, lsi53c895a_disk_read_only(vc, i), hold, err))
			return -1;
	}
	return 0;
}

int lock_disk_images(const struct vm_config *cfg, bool hold,
		     struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		if (vdev_opt(vc, "shared"))
			continue;
		if (vc->type == &lsi53c895a_type) {
			if (lock_lsi(vc, hold, err))
				return -1;
			continue;
		}
		if (vc->type != &virtio_blk_type || vc->nr_hostdevs != 1 ||
		    vc->hostdevs[0].is_pipe ||
		    vc->hostdevs[0].dir == HOSTDEV_OUT)
			continue;
		if (lock_one(&vc->hostdevs[0],
			     vc->hostdevs[0].dir == HOSTDEV_IN, hold, err))
			return -1;
	}
	return 0;
}

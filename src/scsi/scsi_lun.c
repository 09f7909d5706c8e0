/* A logical unit on a block backend: a disk (512-byte blocks) or a
 * read-only CD-ROM (2048-byte blocks), with the identity INQUIRY reports. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "scsi/scsi.h"

/* A serial and a NAA name stable across runs: a hash of the image's
 * device and inode (the guest's /dev/disk/by-id must not move). */
static void make_identity(struct scsi_lun *l, const struct blk_info *bi)
{
	uint64_t h = 0xcbf29ce484222325ULL;   /* FNV-1a */
	uint64_t key[2] = { (uint64_t)bi->dev, (uint64_t)bi->ino };
	const uint8_t *p = (const uint8_t *)key;

	for (size_t i = 0; i < sizeof(key); i++)
		h = (h ^ p[i]) * 0x100000001b3ULL;
	snprintf(l->serial, sizeof(l->serial), "cv%016llx",
		 (unsigned long long)h);
	/* NAA 6 (IEEE registered extended), OUI 0 ("locally made"): the
	 * top nibble says the format, the rest is the hash. */
	l->naa = 0x6ULL << 60 | (h & 0x0fffffffffffffffULL);
}

struct scsi_lun *scsi_lun_open(const struct scsi_lun_params *p)
{
	bool ro = p->read_only || p->cdrom;
	struct scsi_lun *l = xcalloc(1, sizeof(*l));
	const struct blk_info *bi;

	if (p->fd >= 0)
		l->be = blk_backend_open_fd(p->fd, p->path, ro, false, 1,
					    p->loop);
	else
		l->be = blk_backend_open(p->path, ro, false, 1, p->loop);
	if (!l->be) {
		free(l);
		return NULL;
	}
	bi = blk_backend_info(l->be);
	l->type = p->cdrom ? SCSI_TYPE_CDROM : SCSI_TYPE_DISK;
	l->read_only = ro;
	l->block_size = p->cdrom ? 2048 : 512;
	l->nr_blocks = bi->size / l->block_size;
	/* Discard punches holes in a file or discards on a device; a
	 * read-only unit has nothing to unmap. */
	l->can_unmap = !ro;
	make_identity(l, bi);
	return l;
}

void scsi_lun_close(struct scsi_lun *l)
{
	if (!l)
		return;
	blk_backend_drain(l->be);
	blk_backend_close(l->be);
	free(l);
}

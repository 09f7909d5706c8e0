/* fw_cfg's `bootorder` (see bootorder.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/bootorder.h"
#include "bus/pci.h"
#include "config/config.h"
#include "core/util.h"
#include "devices/lsi53c895a.h"

struct boot_dev {
	uint64_t index;
	unsigned seq;          /* config order breaks ties */
	const struct pci_func *f;
	bool scsi;             /* a disk behind a SCSI controller */
	unsigned target, lun;
};

static int by_index(const void *a, const void *b)
{
	const struct boot_dev *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* SeaBIOS's disk drivers look their PCI device up with a wildcard name,
 * so the name is only for people reading the file: QEMU's. A SCSI
 * controller's disk adds its channel, target and LUN (SeaBIOS's
 * bootprio_find_scsi_device: ANY@0/ANY@TARGET,LUN below it, in hex). */
static int put_path(char *buf, size_t len, const struct boot_dev *b)
{
	const struct pci_func *f = b->f;
	char fn[8] = "";

	if (f->fn)
		snprintf(fn, sizeof(fn), ",%x", f->fn);
	if (b->scsi)
		return snprintf(buf, len, "/pci@i0cf8/scsi@%x%s/channel@0/"
				"disk@%x,%x\n", f->slot, fn, b->target,
				b->lun);
	return snprintf(buf, len, "/pci@i0cf8/scsi@%x%s/disk@0,0\n",
			f->slot, fn);
}

/* The LSI 53C895A's disks with a bootindex, one entry each. */
static unsigned add_scsi(struct boot_dev *list, const struct device *d,
			 unsigned seq, const struct pci_func *f)
{
	struct lsi_boot_disk b[LSI_MAX_DISKS];
	unsigned n = lsi53c895a_boot_disks(d->vdev, b);

	for (unsigned i = 0; i < n; i++)
		list[i] = (struct boot_dev){ b[i].index, seq, f, true,
					     b[i].target, b[i].lun };
	return n;
}

char *x86_bootorder(struct device *const *devs, unsigned nr)
{
	struct boot_dev *list = calloc(nr ? nr * LSI_MAX_DISKS : 1,
				       sizeof(*list));
	unsigned n = 0;
	size_t len = 0, cap = 64;
	char *out = NULL;

	for (unsigned i = 0; list && i < nr; i++) {
		const struct cfg_devopt *o = devs[i]->vdev ?
			vdev_opt(devs[i]->vdev, "bootindex") : NULL;
		const struct pci_func *f = pci_func_of(devs[i]);

		if (f && devs[i]->vdev &&
		    devs[i]->vdev->type == &lsi53c895a_type)
			n += add_scsi(list + n, devs[i], i, f);
		else if (o && f)
			list[n++] = (struct boot_dev){ .index = o->num,
						       .seq = i, .f = f };
	}
	if (n) {
		qsort(list, n, sizeof(*list), by_index);
		out = malloc(cap * n);
	}
	for (unsigned i = 0; out && i < n; i++)
		len += (size_t)put_path(out + len, cap * n - len, &list[i]);
	free(list);
	return out;
}

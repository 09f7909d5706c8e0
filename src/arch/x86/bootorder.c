/* fw_cfg's `bootorder` (see bootorder.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/bootorder.h"
#include "bus/pci.h"
#include "config/config.h"
#include "core/util.h"

struct boot_dev {
	uint64_t index;
	unsigned seq;          /* config order breaks ties */
	const struct pci_func *f;
};

static int by_index(const void *a, const void *b)
{
	const struct boot_dev *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* SeaBIOS's disk drivers look their PCI device up with a wildcard name,
 * so the name is only for people reading the file: QEMU's. */
static int put_path(char *buf, size_t len, const struct pci_func *f)
{
	if (f->fn)
		return snprintf(buf, len, "/pci@i0cf8/scsi@%x,%x/disk@0,0\n",
				f->slot, f->fn);
	return snprintf(buf, len, "/pci@i0cf8/scsi@%x/disk@0,0\n", f->slot);
}

char *x86_bootorder(struct device *const *devs, unsigned nr)
{
	struct boot_dev *list = calloc(nr ? nr : 1, sizeof(*list));
	unsigned n = 0;
	size_t len = 0, cap = 64;
	char *out = NULL;

	for (unsigned i = 0; list && i < nr; i++) {
		const struct cfg_devopt *o = devs[i]->vdev ?
			vdev_opt(devs[i]->vdev, "bootindex") : NULL;
		const struct pci_func *f = pci_func_of(devs[i]);

		if (o && f)
			list[n++] = (struct boot_dev){ o->num, i, f };
	}
	if (n) {
		qsort(list, n, sizeof(*list), by_index);
		out = malloc(cap * n);
	}
	for (unsigned i = 0; out && i < n; i++)
		len += (size_t)put_path(out + len, cap * n - len, list[i].f);
	free(list);
	return out;
}

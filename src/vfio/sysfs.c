/* Which host device a `pass` names, read from sysfs: its directory (by
 * address, by vendor/device id and index, or by path), its driver (a PCI
 * function must be bound to vfio-pci: cvisor never rebinds drivers) and
 * its IOMMU group. Everything under a sysroot so tests can fake it. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vfio/vfio.h"

/* Copy s into dst; false (and dst empty) when it does not fit. */
static bool put(char *dst, size_t size, const char *s)
{
	size_t n = strlen(s);

	dst[0] = '\0';
	if (n >= size)
		return false;
	memcpy(dst, s, n + 1);
	return true;
}

static int read_hex(const char *dir, const char *file, unsigned long *v)
{
	char path[600], buf[32];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return -1;
	ok = fgets(buf, sizeof(buf), f) != NULL;
	fclose(f);
	if (!ok)
		return -1;
	*v = strtoul(buf, NULL, 16);
	return 0;
}

/* The last path component a symlink points to ("" when none). */
static void link_base(const char *dir, const char *file, char *out,
		      size_t size)
{
	char path[600], target[PATH_MAX];
	ssize_t n;
	const char *b;

	out[0] = '\0';
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return;
	target[n] = '\0';
	b = strrchr(target, '/');
	put(out, size, b ? b + 1 : target);
}

static int cmp_names(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int skip_dots(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* The index-th function with these ids, in address order. */
static int find_by_id(const char *sysroot, const struct pass_config *pc,
		      char *path, size_t size, char *why, size_t len)
{
	char dir[512];
	struct dirent **list;
	unsigned seen = 0;
	int n, found = -1;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", sysroot);
	n = scandir(dir, &list, skip_dots, cmp_names);
	if (n < 0) {
		snprintf(why, len, "cannot list %s: %s", dir, strerror(errno));
		return -ENODEV;
	}
	for (int i = 0; i < n; i++) {
		unsigned long vid, did;
		char d[600];

		if (snprintf(d, sizeof(d), "%s/%s", dir, list[i]->d_name) >=
		    (int)sizeof(d)) {
			free(list[i]);
			continue;
		}
		if (found < 0 && !read_hex(d, "vendor", &vid) &&
		    !read_hex(d, "device", &did) && vid == pc->vid &&
		    did == pc->did && seen++ == pc->index) {
			found = put(path, size, d) ? i : -1;
		}
		free(list[i]);
	}
	free(list);
	if (found >= 0)
		return 0;
	snprintf(why, len, "no PCI device %04x:%04x%s in %s (%u found; "
		 "lspci -nn lists them)", pc->vid, pc->did,
		 pc->index ? " with that index" : "", dir, seen);
	return -ENODEV;
}

static int device_dir(const char *sysroot, const struct pass_config *pc,
		      char *path, size_t size, char *why, size_t len)
{
	switch (pc->kind) {
	case PASS_PCI_ADDR:
		snprintf(path, size, "%s/bus/pci/devices/%04x:%02x:%02x.%x",
			 sysroot, pc->seg, pc->bus, pc->dev, pc->fn);
		break;
	case PASS_PCI_ID:
		return find_by_id(sysroot, pc, path, size, why, len);
	case PASS_SYSFS:
		/* the config's /sys/... under the sysroot */
		snprintf(path, size, "%s%s", sysroot, pc->sysfs + 4);
		break;
	}
	if (access(path, F_OK)) {
		snprintf(why, len, "no such device: %s", path);
		return -ENODEV;
	}
	return 0;
}

static void bind_help(const struct vfio_host_dev *d, const char *drv,
		      char *why, size_t len)
{
	int n = snprintf(why, len, "%s (%s) is bound to %s, not to vfio-pci; "
			 "cvisor does not rebind drivers itself. As root:\n"
			 "  modprobe vfio-pci\n", d->name, d->path,
			 drv[0] ? drv : "no driver");

	if (n < 0 || (size_t)n >= len)
		return;
	if (drv[0])
		n += snprintf(why + n, len - (size_t)n, "  echo %s > "
			      "%s/driver/unbind\n", d->name, d->path);
	if ((size_t)n < len)
		snprintf(why + n, len - (size_t)n, "  echo vfio-pci > "
			 "%s/driver_override\n  echo %s > "
			 "/sys/bus/pci/drivers_probe", d->path, d->name);
}

int vfio_find_device(const char *sysroot, const struct pass_config *pc,
		     struct vfio_host_dev *out, char *why, size_t len)
{
	char dir[512], real[PATH_MAX], drv[64], grp[32], vendor[600];
	const char *base;
	int ret = device_dir(sysroot, pc, dir, sizeof(dir), why, len);

	if (ret)
		return ret;
	if (!realpath(dir, real))
		snprintf(real, sizeof(real), "%s", dir);
	memset(out, 0, sizeof(*out));
	/* Messages name the path the user would type: the /sys one. */
	snprintf(out->path, sizeof(out->path), "%s", dir);
	base = strrchr(real, '/');
	if (!put(out->name, sizeof(out->name), base ? base + 1 : real)) {
		snprintf(why, len, "device name too long: %s", real);
		return -ENODEV;
	}
	snprintf(vendor, sizeof(vendor), "%s/vendor", dir);
	out->is_pci = !access(vendor, F_OK);
	link_base(dir, "driver", drv, sizeof(drv));
	if (out->is_pci && strcmp(drv, "vfio-pci")) {
		bind_help(out, drv, why, len);
		return -EBUSY;
	}
	link_base(dir, "iommu_group", grp, sizeof(grp));
	if (!grp[0] || (out->group = atoi(grp)) < 0 ||
	    strspn(grp, "0123456789") != strlen(grp)) {
		snprintf(why, len, "%s (%s) has no IOMMU group: is the IOMMU "
			 "on (intel_iommu=on or amd_iommu=on on the kernel "
			 "command line, VT-d/AMD-Vi in the firmware)?",
			 out->name, dir);
		return -ENOENT;
	}
	return 0;
}

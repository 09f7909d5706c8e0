/* The VFIO container of a VM and its groups: /dev/vfio/vfio with the
 * type1 v2 IOMMU, each group checked viable and added, and every guest RAM
 * region mapped for DMA at IOVA = GPA (ROM and device windows never: a
 * device cannot DMA anywhere but the guest's RAM, the IOMMU enforces it).
 * Guest RAM does not change after the builder made it, so the mappings
 * are made once, with the first group, and last as long as the container.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "mem/guest_mem.h"
#include "vfio/vfio_priv.h"

struct vfio_ctx *vfio_ctx_new(int vm_fd, struct guest_mem *mem,
			      unsigned first_slot)
{
	struct vfio_ctx *c = xcalloc(1, sizeof(*c));

	c->refs = 1;
	c->vm_fd = vm_fd;
	c->mem = mem;
	c->first_slot = first_slot;
	c->container = -1;
	c->kvm_dev = -1;
	return c;
}

void vfio_ctx_put(struct vfio_ctx *c)
{
	if (!c || --c->refs)
		return;
	for (unsigned i = 0; i < c->nr_groups; i++)
		if (c->groups[i].fd >= 0)
			close(c->groups[i].fd);
	if (c->kvm_dev >= 0)
		close(c->kvm_dev);
	/* Closing the container unmaps everything and detaches the IOMMU. */
	if (c->container >= 0)
		close(c->container);
	free(c);
}

static int open_container(struct vfio_ctx *c)
{
	int fd = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		int e = errno;

		pr_err("pass: cannot open /dev/vfio/vfio: %s (is the vfio "
		       "module loaded? modprobe vfio-pci)", strerror(e));
		return -e;
	}
	if (ioctl(fd, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		pr_err("pass: /dev/vfio/vfio speaks another VFIO API version");
		close(fd);
		return -EINVAL;
	}
	if (ioctl(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1v2_IOMMU) <= 0) {
		pr_err("pass: the host's VFIO has no type1 v2 IOMMU (no IOMMU "
		       "driver: intel_iommu=on or amd_iommu=on?)");
		close(fd);
		return -ENOTSUP;
	}
	c->container = fd;
	return 0;
}

/* Every RAM region of the guest at IOVA = GPA, readable and writable. */
static int map_ram(struct vfio_ctx *c)
{
	/* Before the first page is pinned: the loaders run later, and a
	 * bss page they gave back would part the guest's view of it from
	 * the device's. */
	guest_mem_pin(c->mem);
	for (unsigned i = 0; i < c->mem->nr; i++) {
		const struct guest_region *r = &c->mem->regions[i];
		struct vfio_iommu_type1_dma_map m = {
			.argsz = sizeof(m),
			.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
			.vaddr = (uintptr_t)r->host, .iova = r->gpa,
			.size = r->size,
		};

		if (r->kind != GUEST_RAM)
			continue;
		if (ioctl(c->container, VFIO_IOMMU_MAP_DMA, &m)) {
			int e = errno;

			pr_err("pass: DMA map of ram %#llx-%#llx: %s%s",
			       (unsigned long long)r->gpa,
			       (unsigned long long)(r->gpa + r->size - 1),
			       strerror(e), e == ENOMEM ? " (the locked "
			       "memory limit, ulimit -l, must cover guest RAM)"
			       : "");
			return -e;
		}
		pr_debug("pass: DMA map %#llx+%#llx", (unsigned long long)r->gpa,
			 (unsigned long long)r->size);
	}
	c->dma_mapped = true;
	return 0;
}

static int group_check(int fd, int nr)
{
	struct vfio_group_status st = { .argsz = sizeof(st) };

	if (ioctl(fd, VFIO_GROUP_GET_STATUS, &st)) {
		pr_err("pass: /dev/vfio/%d: VFIO_GROUP_GET_STATUS: %s", nr,
		       strerror(errno));
		return -errno;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		pr_err("pass: IOMMU group %d is not viable: every device in "
		       "/sys/kernel/iommu_groups/%d/devices must be bound to "
		       "vfio-pci (or to no driver)", nr, nr);
		return -EBUSY;
	}
	return 0;
}

static int set_iommu(struct vfio_ctx *c)
{
	if (!ioctl(c->container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU))
		return 0;
	if (errno == EPERM)
		pr_err("pass: VFIO_SET_IOMMU: %s: the IOMMU cannot remap "
		       "interrupts (intremap=on for an emulated one; or the "
		       "vfio_iommu_type1 allow_unsafe_interrupts parameter, "
		       "which gives up the isolation of MSI)", strerror(errno));
	else
		pr_err("pass: VFIO_SET_IOMMU: %s", strerror(errno));
	return -errno;
}

static int open_group(struct vfio_ctx *c, int nr, int *out)
{
	char path[64];
	int fd = -1, ret;

	snprintf(path, sizeof(path), "/dev/vfio/%d", nr);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		pr_err("pass: cannot open %s: %s%s", path, strerror(errno),
		       errno == EBUSY ? " (another process, maybe another VM, "
		       "holds the group)" : errno == EACCES ? " (the user needs "
		       "access to it, and a locked memory limit that covers "
		       "guest RAM)" : "");
		return ret;
	}
	ret = group_check(fd, nr);
	if (!ret && c->container < 0)
		ret = open_container(c);
	if (!ret && ioctl(fd, VFIO_GROUP_SET_CONTAINER, &c->container)) {
		ret = -errno;
		pr_err("pass: %s: VFIO_GROUP_SET_CONTAINER: %s", path,
		       strerror(errno));
	}
	/* The IOMMU type is set once, after the first group joined. */
	if (!ret && !c->dma_mapped)
		ret = set_iommu(c);
	if (!ret && !c->dma_mapped)
		ret = map_ram(c);
	if (ret) {
		close(fd);
		return ret;
	}
	*out = fd;
	return 0;
}

int vfio_ctx_add_group(struct vfio_ctx *c, int nr, struct vfio_group **out)
{
	struct vfio_group *g;
	int fd = -1, ret;

	for (unsigned i = 0; i < c->nr_groups; i++)
		if (c->groups[i].nr == nr && c->groups[i].fd >= 0) {
			c->groups[i].users++;
			*out = &c->groups[i];
			return 0;
		}
	if (c->nr_groups == VFIO_MAX_GROUPS)
		return -ENOSPC;
	ret = open_group(c, nr, &fd);
	if (ret)
		return ret;
	g = &c->groups[c->nr_groups++];
	*g = (struct vfio_group){ .nr = nr, .fd = fd, .users = 1 };
	/* KVM learns of the group (coherent DMA, and on some hosts what
	 * the device may do with KVM's pages); failure is not fatal. */
	vfio_kvm_add_group(c, fd, true);
	*out = g;
	return 0;
}

void vfio_ctx_drop_group(struct vfio_ctx *c, struct vfio_group *g)
{
	if (!g || --g->users)
		return;
	vfio_kvm_add_group(c, g->fd, false);
	close(g->fd);
	g->fd = -1;
}

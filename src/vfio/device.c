/* A passed device's life: found in sysfs, its group joined to the VM's
 * container, its fd opened and reset, its guest function built (config.c,
 * bars.c, rom.c), its INTx wired once the slot is known; reset with the
 * VM and at exit (FLR or whatever reset VFIO offers). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "devices/device.h"
#include "vfio/vfio_priv.h"

static void dev_reset(struct vfio_pass *p)
{
	if (p->can_reset && ioctl(p->fd, VFIO_DEVICE_RESET))
		pr_warn("pass %s: VFIO_DEVICE_RESET: %s", p->host.name,
			strerror(errno));
}

/* pci_func_reset has put the virtual config space back: the device
 * follows (interrupts off, reset, INTx back as after attach). */
static void pass_reset(struct pci_func *f)
{
	struct vfio_pass *p = pass_of(f);
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);

	vfio_msi_disable(p);
	vfio_msix_off(p);
	vfio_intx_disable(p);
	dev_reset(p);
	vfio_cfg_write_dev(p, PCI_COMMAND, 2, cmd);
	if (p->pin)
		vfio_intx_enable(p);
}

static void pass_free(struct pci_func *f)
{
	struct vfio_pass *p = pass_of(f);

	vfio_msi_free(p);
	vfio_msix_off(p);
	vfio_intx_disable(p);
	/* Leave the device as we found it: quiet, no DMA. */
	if (p->fd >= 0) {
		vfio_cfg_write_dev(p, PCI_COMMAND, 2, 0);
		dev_reset(p);
	}
	vfio_bars_free(p);
	vfio_rom_free(p);
	if (p->fd >= 0)
		close(p->fd);
	vfio_ctx_drop_group(p->ctx, p->group);
	vfio_ctx_put(p->ctx);
	pthread_mutex_destroy(&p->irq_lock);
	free(p);
}

const struct pci_func_ops vfio_pass_ops = {
	.bar_read = vfio_bar_read,
	.bar_write = vfio_bar_write,
	.bar_moved = vfio_bar_moved,
	.reset = pass_reset,
	.free = pass_free,
};

static int open_device(struct vfio_pass *p)
{
	struct vfio_device_info info = { .argsz = sizeof(info) };
	struct vfio_region_info cfg = {
		.argsz = sizeof(cfg), .index = VFIO_PCI_CONFIG_REGION_INDEX,
	};

	p->fd = ioctl(p->group->fd, VFIO_GROUP_GET_DEVICE_FD, p->host.name);
	if (p->fd < 0) {
		pr_err("pass %s: VFIO_GROUP_GET_DEVICE_FD: %s", p->host.name,
		       strerror(errno));
		return -errno;
	}
	if (ioctl(p->fd, VFIO_DEVICE_GET_INFO, &info)) {
		pr_err("pass %s: VFIO_DEVICE_GET_INFO: %s", p->host.name,
		       strerror(errno));
		return -errno;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		pr_err("pass %s: not a PCI device (VFIO flags %#x)",
		       p->host.name, info.flags);
		return -ENOTSUP;
	}
	p->can_reset = info.flags & VFIO_DEVICE_FLAGS_RESET;
	if (ioctl(p->fd, VFIO_DEVICE_GET_REGION_INFO, &cfg) ||
	    cfg.size < PCI_CFG_SIZE) {
		pr_err("pass %s: no configuration space region",
		       p->host.name);
		return -EIO;
	}
	p->cfg_off = cfg.offset;
	p->cfg_size = cfg.size;
	if (!p->can_reset)
		pr_warn("pass %s: the device has no reset VFIO can do; it "
			"keeps its state across guest resets", p->host.name);
	dev_reset(p);
	return 0;
}

static struct vfio_pass *pass_new(struct vfio_ctx *c)
{
	struct vfio_pass *p = xcalloc(1, sizeof(*p));

	c->refs++;
	p->ctx = c;
	p->idx = c->nr_devs++;
	p->fd = p->intx_efd = p->intx_rfd = -1;
	pthread_mutex_init(&p->irq_lock, NULL);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		p->bars[i].slot_gpa = PCI_BAR_UNMAPPED;
	p->rom_mapped = PCI_BAR_UNMAPPED;
	vfio_msi_init(p);
	return p;
}

int vfio_pass_create(struct vfio_ctx *c, const struct pass_config *pc,
		     const struct dev_env *env, struct pci_func **out)
{
	struct vfio_pass *p;
	char why[1024];
	int ret;

	p = pass_new(c);
	p->mmap_off = pc->mmap_off;
	p->env = env;
	ret = vfio_find_device("/sys", pc, &p->host, why, sizeof(why));
	if (ret) {
		pr_err("%s:%u:%u: pass: %s", pc->pos.file, pc->pos.line,
		       pc->pos.col, why);
		goto fail;
	}
	ret = vfio_ctx_add_group(c, p->host.group, &p->group);
	if (!ret)
		ret = open_device(p);
	if (!ret)
		ret = vfio_config_init(p);
	/* after the BARs are known: the ROM goes after them in config */
	if (!ret)
		ret = vfio_rom_init(p, pc);
	if (ret)
		goto fail;
	p->f.env = env;
	pr_info("pass %s (%s): group %d, %s", p->host.name, p->host.path,
		p->host.group, p->can_reset ? "resettable" : "no reset");
	*out = &p->f;
	return 0;
fail:
	/* The function is not initialised yet: free by hand. */
	p->f.ops = &vfio_pass_ops;
	pass_free(&p->f);
	return ret ? ret : -EINVAL;
}

int vfio_pass_attached(struct pci_func *f)
{
	struct vfio_pass *p = pass_of(f);
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);

	/* The device decodes what firmware (pci_bars_place) enabled. */
	if (vfio_cfg_write_dev(p, PCI_COMMAND, 2, cmd))
		return -EIO;
	return p->pin ? vfio_intx_enable(p) : 0;
}

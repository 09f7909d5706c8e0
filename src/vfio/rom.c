/* A passed device's expansion ROM: the device's own ROM region (default),
 * a file's bytes in its place (`romfile`, as QEMU's romfile=), or none
 * (`rombar off`). The guest sizes and places it through the ROM BAR at
 * 0x30 like any BAR; while its enable bit and memory decoding are on, it
 * reads on the MMIO bus (never mapped: firmware reads it once). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/vfio_priv.h"

#define ROM_ADDR_MASK 0xfffff800u
#define ROM_ENABLE    0x1u

static struct vfio_pass *rom_pass(struct device *d)
{
	return container_of(d, struct vfio_pass, rom_dev);
}

static uint64_t rom_read(struct device *d, unsigned region, uint64_t off,
			 unsigned size)
{
	struct vfio_pass *p = rom_pass(d);
	uint64_t v = 0;

	if (off >= p->rom_size || size > p->rom_size - off)
		return ~0ull;
	if (p->rom_file) {
		memcpy(&v, p->rom_file + off, size);
		return v;
	}
	if (pread(p->fd, &v, size, (off_t)(p->rom_off + off)) != size)
		return ~0ull;
	return v;
}

static void rom_write(struct device *d, unsigned region, uint64_t off,
		      unsigned size, uint64_t v)
{
}

static const struct device_ops rom_ops = {
	.read = rom_read, .write = rom_write,
};

/* Where the ROM decodes now, after a write to 0x30 or COMMAND (host lock
 * held). An address that overlaps another device leaves it dark. */
static void rom_update(struct vfio_pass *p)
{
	struct pci_func *f = &p->f;
	uint32_t bar = pci_cfg_get(f, PCI_ROM_ADDRESS, 4);
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);
	uint64_t to = bar & ROM_ADDR_MASK;

	if (!(bar & ROM_ENABLE) || !(cmd & PCI_COMMAND_MEMORY) || !to ||
	    to + p->rom_size - 1 >= 0xffffffffull)
		to = PCI_BAR_UNMAPPED;
	if (to == p->rom_mapped || !f->host)
		return;
	if (p->rom_mapped != PCI_BAR_UNMAPPED)
		bus_unregister(f->host->mmio, p->rom_mapped, &p->rom_dev, 0);
	p->rom_mapped = PCI_BAR_UNMAPPED;
	if (to != PCI_BAR_UNMAPPED &&
	    !bus_register(f->host->mmio, to, p->rom_size, &p->rom_dev, 0))
		p->rom_mapped = to;
}

static void rom_cfg_write(struct pci_func *f, unsigned off, unsigned size,
			  uint32_t v)
{
	rom_update(pass_of(f));
}

static int load_file(struct vfio_pass *p, const char *path)
{
	size_t len;
	void *data = read_file(path, VFIO_ROM_FILE_MAX, &len);
	uint64_t size = 2048;

	if (!data || !len) {
		pr_err("pass %s: romfile %s: %s", p->host.name, path,
		       data ? "empty" : strerror(errno));
		free(data);
		return -EINVAL;
	}
	while (size < len)
		size <<= 1;
	p->rom_file = xcalloc(1, size);
	memcpy(p->rom_file, data, len);
	free(data);
	p->rom_size = size;
	return 0;
}

int vfio_rom_init(struct vfio_pass *p, const struct pass_config *pc)
{
	struct pci_func *f = &p->f;
	struct vfio_region_info ri = {
		.argsz = sizeof(ri), .index = VFIO_PCI_ROM_REGION_INDEX,
	};

	if (pc->rombar_off)
		return 0;
	if (pc->romfile) {
		if (load_file(p, pc->romfile))
			return -EINVAL;
	} else if (!ioctl(p->fd, VFIO_DEVICE_GET_REGION_INFO, &ri) &&
		   ri.size >= 2048 &&
		   !(ri.size & (ri.size - 1))) {
		p->rom_size = ri.size;
		p->rom_off = ri.offset;
	} else {
		return 0;       /* no ROM */
	}
	p->rom_dev = (struct device){ .ops = &rom_ops, .name = "pass-rom" };
	pci_cfg_put(f, PCI_ROM_ADDRESS, 4, 0);
	for (unsigned i = 0; i < 4; i++)
		f->wmask[PCI_ROM_ADDRESS + i] =
			(((uint32_t)~(p->rom_size - 1) & ROM_ADDR_MASK) |
			 ROM_ENABLE) >> (8 * i);
	if (pci_cfg_add_hook(f, PCI_ROM_ADDRESS, 4, NULL, rom_cfg_write) ||
	    pci_cfg_add_hook(f, PCI_COMMAND, 2, NULL, rom_cfg_write))
		return -ENOSPC;
	pr_info("pass %s: expansion ROM %#llx bytes%s%s", p->host.name,
		(unsigned long long)p->rom_size, p->rom_file ? " from " : "",
		p->rom_file ? pc->romfile : "");
	return 0;
}

void vfio_rom_free(struct vfio_pass *p)
{
	/* The bus goes with the VM; nothing reaches the ROM by then. */
	free(p->rom_file);
	p->rom_file = NULL;
}

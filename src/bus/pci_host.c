/* The PCI host bridge: configuration mechanism #1 at 0xCF8/0xCFC, the ECAM
 * window, the reset control register at 0xCF9, slots of bus 0, and the
 * bridge's own function at 00:00.0. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_msix.h"
#include "bus/pci_priv.h"
#include "core/log.h"
#include "core/util.h"

#define CF8_ENABLE   0x80000000u
#define CF8_STORED   0x80fffffcu    /* enable, bus, device, function, reg */

void pci_layout_default(struct pci_layout *l, uint64_t ram_end,
			uint64_t mmio64_size)
{
	memset(l, 0, sizeof(*l));
	l->hole_base = PCI_ECAM_BASE_DEFAULT;
	l->ecam_base = PCI_ECAM_BASE_DEFAULT;
	l->ecam_size = PCI_ECAM_SIZE_BUS0;
	l->mmio32_base = PCI_MMIO32_BASE_DEFAULT;
	l->mmio32_size = PCI_MMIO32_END_DEFAULT - PCI_MMIO32_BASE_DEFAULT;
	l->mmio64_base = ALIGN_UP(MAX(ram_end, 4 * GiB), 1 * GiB);
	l->mmio64_size = mmio64_size;
	l->io_base = PCI_IO_BASE_DEFAULT;
	l->io_size = PCI_IO_END_DEFAULT - PCI_IO_BASE_DEFAULT;
	l->intx_base = PCI_INTX_GSI_BASE;
	l->msi_base = MSI_ADDR_BASE;
	l->msi_size = 1 * MiB;
}

uint32_t pci_intx_gsi(unsigned slot, unsigned pin)
{
	if (pin < 1 || pin > 4)
		pin = PCI_INTX_PIN_A;
	return PCI_INTX_GSI_BASE + (slot + pin - 1) % PCI_INTX_GSI_NR;
}

uint32_t pci_layout_intx(const struct pci_layout *l, unsigned slot,
			 unsigned pin)
{
	return pci_intx_gsi(slot, pin) - PCI_INTX_GSI_BASE + l->intx_base;
}

bool pci_layout_msi_ok(const struct pci_layout *l, uint64_t addr)
{
	if (!l)
		return (addr & ~0xfffffull) == MSI_ADDR_BASE;
	return addr >= l->msi_base && addr - l->msi_base < l->msi_size;
}

static struct pci_host *to_host(struct device *dev)
{
	return container_of(dev, struct pci_host, dev);
}

static struct pci_func *lookup(struct pci_host *h, unsigned bus,
			       unsigned slot, unsigned fn)
{
	if (bus || slot >= PCI_MAX_SLOTS || fn >= PCI_MAX_FNS)
		return NULL;
	return h->fns[slot][fn];
}

/* Absent functions answer all-ones (a master abort); bytes past the 256
 * implemented ones read as zero. */
static uint32_t cfg_read(struct pci_host *h, unsigned bus, unsigned slot,
			 unsigned fn, unsigned reg, unsigned size)
{
	struct pci_func *f = lookup(h, bus, slot, fn);

	if (!f)
		return size == 4 ? ~0u : (1u << (8 * size)) - 1;
	if (reg >= PCI_CFG_SIZE)
		return 0;
	return pci_func_cfg_read(f, reg, size);
}

static void cfg_write(struct pci_host *h, unsigned bus, unsigned slot,
		      unsigned fn, unsigned reg, unsigned size, uint32_t v)
{
	struct pci_func *f = lookup(h, bus, slot, fn);

	if (f && reg < PCI_CFG_SIZE)
		pci_func_cfg_write(f, reg, size, v);
}

/* Mechanism #1 data port: the latched address names the dword, the port
 * offset and size the bytes in it (the bus keeps them inside 0xCFC-0xCFF). */
static uint64_t conf1_access(struct pci_host *h, unsigned off, unsigned size,
			     bool is_write, uint32_t v)
{
	uint32_t a = h->cf8;
	unsigned bus = (a >> 16) & 0xff, slot = (a >> 11) & 0x1f;
	unsigned fn = (a >> 8) & 7, reg = (a & 0xfc) + off;

	if (!(a & CF8_ENABLE) || size > 4)
		return ~0ull;
	if (is_write) {
		cfg_write(h, bus, slot, fn, reg, size, v);
		return 0;
	}
	return cfg_read(h, bus, slot, fn, reg, size);
}

/* ECAM: bus[27:20] device[19:15] function[14:12] register[11:0]. Only
 * naturally aligned 1, 2 and 4-byte accesses are defined. */
static uint64_t ecam_access(struct pci_host *h, uint64_t off, unsigned size,
			    bool is_write, uint32_t v)
{
	unsigned bus = off >> 20, slot = (off >> 15) & 0x1f;
	unsigned fn = (off >> 12) & 7, reg = off & 0xfff;

	if (size > 4 || !IS_ALIGNED(reg, size))
		return ~0ull;
	if (is_write) {
		cfg_write(h, bus, slot, fn, reg, size, v);
		return 0;
	}
	return cfg_read(h, bus, slot, fn, reg, size);
}

/* 0xCF9 shares the CONFIG_ADDRESS dword but is its own byte register:
 * RST_CNT of the PIIX3/ICH. Writing RST_CPU resets (hard with SYS_RST,
 * soft INIT without; a VM reset either way); the bit itself reads 0. */
static bool rst_cnt_write(struct pci_host *h, uint8_t v)
{
	h->rst_cnt = v & (PCI_RST_CNT_SYS_RST | PCI_RST_CNT_FULL_RST);
	return v & PCI_RST_CNT_RST_CPU;
}

static uint64_t host_read(struct device *dev, unsigned region, uint64_t off,
			  unsigned size)
{
	struct pci_host *h = to_host(dev);
	uint64_t v = ~0ull;

	pthread_mutex_lock(&h->lock);
	if (region == PCI_HOST_REGION_CF8) {
		/* Only a dword access reaches CONFIG_ADDRESS. */
		if (off == 0 && size == 4)
			v = h->cf8;
		else if (off == 1 && size == 1)
			v = h->rst_cnt;
	} else if (region == PCI_HOST_REGION_CFC) {
		v = conf1_access(h, off, size, false, 0);
	} else if (region == PCI_HOST_REGION_ECAM) {
		v = ecam_access(h, off, size, false, 0);
	}
	pthread_mutex_unlock(&h->lock);
	return v;
}

static void host_write(struct device *dev, unsigned region, uint64_t off,
		       unsigned size, uint64_t v)
{
	struct pci_host *h = to_host(dev);
	bool reset = false;

	pthread_mutex_lock(&h->lock);
	if (region == PCI_HOST_REGION_CF8) {
		if (off == 0 && size == 4)
			h->cf8 = v & CF8_STORED;
		else if (off == 1 && size == 1)
			reset = rst_cnt_write(h, v);
	} else if (region == PCI_HOST_REGION_CFC) {
		conf1_access(h, off, size, true, v);
	} else if (region == PCI_HOST_REGION_ECAM) {
		ecam_access(h, off, size, true, v);
	}
	pthread_mutex_unlock(&h->lock);
	/* Outside the lock: the VM may reset every device, this one too. */
	if (reset && h->env && h->env->power)
		h->env->power(h->env->ctx, POWER_RESET, 0);
}

static void host_reset(struct device *dev)
{
	struct pci_host *h = to_host(dev);

	pthread_mutex_lock(&h->lock);
	h->cf8 = 0;
	h->rst_cnt = 0;
	pthread_mutex_unlock(&h->lock);
	pci_func_reset(&h->bridge);
}

static void host_free(struct device *dev)
{
	pci_host_free(to_host(dev));
}

static const struct device_ops host_ops = {
	.read = host_read,
	.write = host_write,
	.reset = host_reset,
	.free = host_free,
};

static const struct pci_func_ops bridge_ops = { 0 };

static void alloc_init(struct pci_alloc *a, uint64_t base, uint64_t size)
{
	a->next = base;
	a->end = range_ok(base, size) ? base + size : base;
}

struct pci_host *pci_host_create(const struct dev_env *env,
				 const struct pci_layout *layout,
				 struct bus *pio, struct bus *mmio)
{
	struct pci_host *h = xcalloc(1, sizeof(*h));

	if (layout)
		h->layout = *layout;
	else
		pci_layout_default(&h->layout, 0, 0);
	h->dev.ops = &host_ops;
	h->dev.name = "pci-host";
	h->env = env;
	h->pio = pio;
	h->mmio = mmio;
	pthread_mutex_init(&h->lock, NULL);
	alloc_init(&h->alloc_mem32, h->layout.mmio32_base,
		   h->layout.mmio32_size);
	alloc_init(&h->alloc_mem64, h->layout.mmio64_base,
		   h->layout.mmio64_size);
	alloc_init(&h->alloc_io, h->layout.io_base, h->layout.io_size);
	device_add_region(&h->dev, BUS_PIO, 0xcf8, 4);
	device_add_region(&h->dev, BUS_PIO, 0xcfc, 4);
	device_add_region(&h->dev, BUS_MMIO, h->layout.ecam_base,
			  h->layout.ecam_size);

	pci_func_init(&h->bridge, "pci-host", &bridge_ops, env,
		      PCI_HOST_VENDOR, PCI_HOST_DEVICE, PCI_CLASS_HOST_BRIDGE,
		      0, 0x1af4, 0x1100);
	pci_cfg_put(&h->bridge, PCI_INTERRUPT_PIN, 1, 0);
	pci_host_attach(h, &h->bridge, 0, 0);
	return h;
}

static int free_slot(const struct pci_host *h)
{
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		bool empty = true;

		for (unsigned fn = 0; fn < PCI_MAX_FNS; fn++)
			empty = empty && !h->fns[s][fn];
		if (empty)
			return s;
	}
	return -1;
}

/* Function 0 announces that the slot has more functions. */
static void update_multifunction(struct pci_host *h, unsigned slot)
{
	struct pci_func *f0 = h->fns[slot][0];
	bool multi = false;

	for (unsigned fn = 1; fn < PCI_MAX_FNS; fn++)
		multi = multi || h->fns[slot][fn];
	if (!f0 || !multi)
		return;
	f0->cfg[PCI_HEADER_TYPE] |= PCI_HEADER_MULTIFUNCTION;
	f0->cfg_reset[PCI_HEADER_TYPE] |= PCI_HEADER_MULTIFUNCTION;
}

/* Like firmware: the interrupt line register names the IOAPIC input
 * (arm64: the GIC's INTID, which a device tree guest does not read). */
static void wire_intx(struct pci_host *h, struct pci_func *f)
{
	unsigned pin = pci_cfg_get(f, PCI_INTERRUPT_PIN, 1);

	f->intx.gsi = pin ? pci_layout_intx(&h->layout, f->slot, pin) : 0;
	pci_cfg_put(f, PCI_INTERRUPT_LINE, 1,
		    pin && f->intx.gsi < 0xff ? f->intx.gsi : 0xff);
	f->intx.disabled = pci_cfg_get(f, PCI_COMMAND, 2) &
			   PCI_COMMAND_INTX_DISABLE;
}

static int attach_locked(struct pci_host *h, struct pci_func *f, int slot,
			 unsigned fn)
{
	int ret;

	if (slot < 0) {
		slot = free_slot(h);
		fn = 0;
		if (slot < 0)
			return -ENOSPC;
	}
	if (slot >= PCI_MAX_SLOTS || fn >= PCI_MAX_FNS || f->host)
		return -EINVAL;
	if (h->fns[slot][fn])
		return -EBUSY;
	f->slot = slot;
	f->fn = fn;
	ret = pci_bars_place(h, f);
	if (ret)
		return ret;
	wire_intx(h, f);
	memcpy(f->cfg_reset, f->cfg, sizeof(f->cfg));
	f->host = h;
	h->fns[slot][fn] = f;
	update_multifunction(h, slot);
	pci_bars_update(f);
	return 0;
}

int pci_host_attach(struct pci_host *h, struct pci_func *f, int slot,
		    unsigned fn)
{
	int ret;

	pthread_mutex_lock(&h->lock);
	ret = attach_locked(h, f, slot, fn);
	pthread_mutex_unlock(&h->lock);
	if (ret)
		pr_err("pci: cannot attach %s at slot %d fn %u: %s",
		       f->dev.name ? f->dev.name : "device", slot, fn,
		       strerror(-ret));
	return ret;
}

/* Functions belong to their devices, which the VM frees on its own. */
void pci_host_free(struct pci_host *h)
{
	if (!h)
		return;
	pthread_mutex_destroy(&h->bridge.intx.lock);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

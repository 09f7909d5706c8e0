/* A PCI function's configuration space: the 256 header and capability
 * bytes with their write masks, the capability list, config hooks and INTx.
 * Guest accesses arrive here from the host bridge with its lock held. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_msix.h"
#include "bus/pci_priv.h"
#include "core/log.h"
#include "core/util.h"

uint32_t pci_cfg_get(const struct pci_func *f, unsigned off, unsigned size)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++)
		v |= (uint32_t)f->cfg[off + i] << (8 * i);
	return v;
}

void pci_cfg_put(struct pci_func *f, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++)
		f->cfg[off + i] = v >> (8 * i);
}

static void set_mask(uint8_t *mask, unsigned off, unsigned size, uint32_t v)
{
	for (unsigned i = 0; i < size && off + i < PCI_CFG_SIZE; i++)
		mask[off + i] = v >> (8 * i);
}

void pci_func_init(struct pci_func *f, const char *name,
		   const struct pci_func_ops *ops, const struct dev_env *env,
		   uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id)
{
	memset(f, 0, sizeof(*f));
	f->dev.ops = &pci_func_dev_ops;
	f->dev.name = name;
	f->ops = ops;
	f->env = env;
	pthread_mutex_init(&f->intx.lock, NULL);
	for (unsigned i = 0; i < PCI_NUM_BARS; i++)
		f->bars[i].mapped = PCI_BAR_UNMAPPED;

	pci_cfg_put(f, PCI_VENDOR_ID, 2, vendor);
	pci_cfg_put(f, PCI_DEVICE_ID, 2, device);
	pci_cfg_put(f, PCI_REVISION_ID, 1, revision);
	pci_cfg_put(f, PCI_CLASS_PROG, 3, class_code);
	pci_cfg_put(f, PCI_SUBSYSTEM_VENDOR, 2, subsys_vendor);
	pci_cfg_put(f, PCI_SUBSYSTEM_ID, 2, subsys_id);
	pci_cfg_put(f, PCI_INTERRUPT_PIN, 1, PCI_INTX_PIN_A);

	set_mask(f->wmask, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
		 PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR |
		 PCI_COMMAND_INTX_DISABLE);
	set_mask(f->w1c, PCI_STATUS, 2, PCI_STATUS_W1C);
	set_mask(f->wmask, PCI_CACHE_LINE_SIZE, 1, 0xff);
	set_mask(f->wmask, PCI_INTERRUPT_LINE, 1, 0xff);
	f->cap_end = 0x40;
}

int pci_add_cap(struct pci_func *f, uint8_t id, const void *body,
		unsigned len)
{
	unsigned off = f->cap_end, total = ALIGN_UP(2 + len, 4);

	if (len > PCI_CFG_SIZE || (len && !body))
		return -EINVAL;
	if (off + total > PCI_CFG_SIZE)
		return -ENOSPC;
	f->cfg[off] = id;
	f->cfg[off + 1] = 0;
	if (len)
		memcpy(&f->cfg[off + 2], body, len);
	/* Append, so the guest walks capabilities in the order added. */
	f->cfg[f->cap_last ? f->cap_last + 1 : PCI_CAP_PTR] = off;
	f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	f->cap_last = off;
	f->cap_end = off + total;
	return off;
}

void pci_cfg_set_writable(struct pci_func *f, unsigned off, unsigned len)
{
	for (unsigned i = off; i < off + len && i < PCI_CFG_SIZE; i++)
		f->wmask[i] = 0xff;
}

int pci_cfg_add_hook(struct pci_func *f, unsigned off, unsigned len,
		     pci_cfg_read_fn read, pci_cfg_write_fn write)
{
	if (!len || off + len > PCI_CFG_SIZE || off + len < off)
		return -EINVAL;
	if (f->nr_hooks == PCI_MAX_CFG_HOOKS)
		return -ENOSPC;
	f->hooks[f->nr_hooks++] = (struct pci_cfg_hook){ off, len, read,
							  write };
	return 0;
}

static const struct pci_cfg_hook *find_hook(const struct pci_func *f,
					    unsigned off, unsigned size,
					    bool want_read)
{
	for (unsigned i = 0; i < f->nr_hooks; i++) {
		const struct pci_cfg_hook *h = &f->hooks[i];

		if (pci_overlaps(off, size, h->off, h->len) &&
		    (want_read ? h->read != NULL : h->write != NULL))
			return h;
	}
	return NULL;
}

/* The caller guarantees size is 1, 2 or 4 and the access does not leave
 * the 256 bytes; anything else reads as all-ones, as nothing answered. */
static bool access_ok(unsigned off, unsigned size)
{
	return (size == 1 || size == 2 || size == 4) && off < PCI_CFG_SIZE &&
	       off + size <= PCI_CFG_SIZE;
}

uint32_t pci_func_cfg_read(struct pci_func *f, unsigned off, unsigned size)
{
	const struct pci_cfg_hook *h;
	uint32_t v;

	if (!access_ok(off, size))
		return ~0u;
	h = find_hook(f, off, size, true);
	if (h)
		return h->read(f, off, size);
	v = pci_cfg_get(f, off, size);
	/* STATUS.INTERRUPT follows the device's line, which another thread
	 * drives; it is not stored in the bytes. */
	if (pci_overlaps(off, size, PCI_STATUS, 1) &&
	    __atomic_load_n(&f->intx.level, __ATOMIC_RELAXED))
		v |= (uint32_t)PCI_STATUS_INTERRUPT << (8 * (PCI_STATUS - off));
	return v;
}

static void intx_sync(struct pci_func *f)
{
	struct pci_intx *x = &f->intx;
	bool out = x->level && !x->disabled && !x->msix_on;

	if (out == x->out || !f->host)
		return;
	x->out = out;
	if (f->env && f->env->irq_set)
		f->env->irq_set(f->env->ctx, x->gsi, out);
}

void pci_func_set_irq(struct pci_func *f, bool level)
{
	pthread_mutex_lock(&f->intx.lock);
	__atomic_store_n(&f->intx.level, level, __ATOMIC_RELAXED);
	intx_sync(f);
	pthread_mutex_unlock(&f->intx.lock);
}

void pci_intx_msix_changed(struct pci_func *f, bool msix_on)
{
	pthread_mutex_lock(&f->intx.lock);
	f->intx.msix_on = msix_on;
	intx_sync(f);
	pthread_mutex_unlock(&f->intx.lock);
}

static void command_changed(struct pci_func *f, uint16_t old)
{
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);

	if ((cmd ^ old) & (PCI_COMMAND_IO | PCI_COMMAND_MEMORY))
		pci_bars_update(f);
	if ((cmd ^ old) & PCI_COMMAND_INTX_DISABLE) {
		pthread_mutex_lock(&f->intx.lock);
		f->intx.disabled = cmd & PCI_COMMAND_INTX_DISABLE;
		intx_sync(f);
		pthread_mutex_unlock(&f->intx.lock);
	}
}

/* BARs whose registers the access touched (a 64-bit BAR has two). */
static void bars_written(struct pci_func *f, unsigned off, unsigned size)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		const struct pci_bar *b = &f->bars[n];
		unsigned len = b->flags & PCI_BAR_MEM_TYPE_64 ? 8 : 4;

		if (b->size && pci_overlaps(off, size, PCI_BAR0 + 4 * n, len))
			pci_bar_update(f, n);
	}
}

void pci_func_cfg_write(struct pci_func *f, unsigned off, unsigned size,
			uint32_t value)
{
	uint16_t old_cmd = pci_cfg_get(f, PCI_COMMAND, 2);

	if (!access_ok(off, size))
		return;
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = value >> (8 * i);

		f->cfg[o] = (f->cfg[o] & ~f->wmask[o]) | (b & f->wmask[o]);
		f->cfg[o] &= ~(b & f->w1c[o]);
	}
	if (pci_overlaps(off, size, PCI_COMMAND, 2))
		command_changed(f, old_cmd);
	if (pci_overlaps(off, size, PCI_BAR0, 4 * PCI_NUM_BARS))
		bars_written(f, off, size);
	for (unsigned i = 0; i < f->nr_hooks; i++) {
		const struct pci_cfg_hook *h = &f->hooks[i];

		if (h->write && pci_overlaps(off, size, h->off, h->len))
			h->write(f, off, size, value);
	}
}

struct pci_func *pci_func_of(struct device *dev)
{
	if (!dev || dev->ops != &pci_func_dev_ops)
		return NULL;
	return container_of(dev, struct pci_func, dev);
}

void pci_func_reset(struct pci_func *f)
{
	struct pci_host *h = f->host;

	if (h)
		pthread_mutex_lock(&h->lock);
	memcpy(f->cfg, f->cfg_reset, sizeof(f->cfg));
	pci_bars_update(f);
	pthread_mutex_lock(&f->intx.lock);
	__atomic_store_n(&f->intx.level, false, __ATOMIC_RELAXED);
	f->intx.disabled = pci_cfg_get(f, PCI_COMMAND, 2) &
			   PCI_COMMAND_INTX_DISABLE;
	f->intx.msix_on = false;
	intx_sync(f);
	pthread_mutex_unlock(&f->intx.lock);
	if (f->msix)
		pci_msix_reset(f->msix);
	if (h)
		pthread_mutex_unlock(&h->lock);
	if (f->ops && f->ops->reset)
		f->ops->reset(f);
}

static void func_dev_reset(struct device *dev)
{
	pci_func_reset(pci_func_of(dev));
}

/* Buses and host are torn down separately: after the vCPUs stop, nothing
 * can reach the BARs, so they are not unregistered here. */
static void func_dev_free(struct device *dev)
{
	struct pci_func *f = pci_func_of(dev);

	if (f->msix)
		pci_msix_free(f->msix);
	f->msix = NULL;
	pthread_mutex_destroy(&f->intx.lock);
	if (f->ops && f->ops->free)
		f->ops->free(f);
}

const struct device_ops pci_func_dev_ops = {
	.read = pci_bar_read,
	.write = pci_bar_write,
	.reset = func_dev_reset,
	.free = func_dev_free,
};

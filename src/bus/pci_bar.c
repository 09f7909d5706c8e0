/* BARs: declaration, placement in the host's windows, sizing masks, mapping
 * on the VM's buses as the guest moves them or toggles decoding, and the
 * dispatch of BAR accesses to the device. Mapping runs under the host lock. */
#include <errno.h>

#include "bus/pci_msix.h"
#include "bus/pci_priv.h"
#include "core/log.h"
#include "core/util.h"

static bool is_pow2(uint64_t v)
{
	return v && !(v & (v - 1));
}

int pci_func_add_bar(struct pci_func *f, unsigned n, uint64_t size,
		     uint8_t flags)
{
	bool io = flags & PCI_BAR_SPACE_IO, is64 = flags & PCI_BAR_MEM_TYPE_64;
	uint64_t mask = ~(size - 1);
	unsigned reg = PCI_BAR0 + 4 * n;

	if (n >= PCI_NUM_BARS || (is64 && n + 1 >= PCI_NUM_BARS) ||
	    !is_pow2(size) || f->bars[n].size || (is64 && f->bars[n + 1].size))
		return -EINVAL;
	/* The upper half of a 64-bit BAR is not a BAR of its own. */
	if (n && (f->bars[n - 1].flags & PCI_BAR_MEM_TYPE_64))
		return -EINVAL;
	if (io ? (flags != PCI_BAR_SPACE_IO || size < 4 || size > 256) :
		 (size < 16 || (!is64 && size > 2 * GiB)))
		return -EINVAL;
	f->bars[n].size = size;
	f->bars[n].flags = flags;
	/* Sizing is the write mask: all-ones written reads back ~(size - 1)
	 * with the read-only type bits below it. */
	pci_cfg_put(f, reg, 4, flags);
	for (unsigned i = 0; i < 4; i++)
		f->wmask[reg + i] = (uint32_t)(mask & (io ? ~3u : ~0xfu)) >>
				    (8 * i);
	if (is64)
		for (unsigned i = 0; i < 4; i++)
			f->wmask[reg + 4 + i] = (mask >> 32) >> (8 * i);
	return 0;
}

static uint64_t bar_addr(const struct pci_func *f, unsigned n)
{
	const struct pci_bar *b = &f->bars[n];
	uint32_t lo = pci_cfg_get(f, PCI_BAR0 + 4 * n, 4);

	if (b->flags & PCI_BAR_SPACE_IO)
		return lo & ~3u;
	if (!(b->flags & PCI_BAR_MEM_TYPE_64))
		return lo & ~0xfu;
	return (lo & ~0xfull) |
	       (uint64_t)pci_cfg_get(f, PCI_BAR0 + 4 * (n + 1), 4) << 32;
}

/* Where BAR n decodes now. Address 0 means unassigned, and a range reaching
 * the top of what the BAR can address is the sizing pattern left in place
 * (or junk): neither decodes, as on QEMU and real chipsets. */
static uint64_t bar_target(const struct pci_func *f, unsigned n)
{
	const struct pci_bar *b = &f->bars[n];
	bool io = b->flags & PCI_BAR_SPACE_IO;
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);
	uint64_t a = bar_addr(f, n), last;

	if (!b->size || !(cmd & (io ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)))
		return PCI_BAR_UNMAPPED;
	last = a + (b->size - 1);
	if (!a || last < a)
		return PCI_BAR_UNMAPPED;
	if (io ? last > 0xffff :
	    (b->flags & PCI_BAR_MEM_TYPE_64) ? last == ~0ull :
	    last >= 0xffffffffull)
		return PCI_BAR_UNMAPPED;
	return a;
}

static struct bus *bar_bus(const struct pci_func *f, unsigned n)
{
	return f->bars[n].flags & PCI_BAR_SPACE_IO ? f->host->pio :
						     f->host->mmio;
}

static void bar_moved(struct pci_func *f, unsigned n, uint64_t addr)
{
	f->bars[n].mapped = addr;
	if (f->ops && f->ops->bar_moved)
		f->ops->bar_moved(f, n, addr);
}

/* Map BAR n at addr. A guest can aim a BAR at another device's range:
 * the bus refuses the overlap, the BAR stays dark, and it is retried when
 * some other BAR moves away. */
static void bar_try_map(struct pci_func *f, unsigned n, uint64_t addr)
{
	static struct ratelimit rl = RATELIMIT_INIT(5, 10);
	struct pci_bar *b = &f->bars[n];
	int ret = bus_register(bar_bus(f, n), addr, b->size, &f->dev, n);

	b->want_map = ret != 0;
	if (!ret) {
		bar_moved(f, n, addr);
		return;
	}
	pr_warn_ratelimited(&rl, "pci 00:%02x.%x (%s): BAR%u at %#llx+%#llx "
			    "overlaps another device (%d); left unmapped",
			    f->slot, f->fn, f->dev.name, n,
			    (unsigned long long)addr,
			    (unsigned long long)b->size, ret);
}

void pci_bar_update(struct pci_func *f, unsigned n)
{
	struct pci_bar *b = &f->bars[n];
	uint64_t to;
	bool freed = false;

	if (!f->host || !b->size)
		return;
	to = bar_target(f, n);
	if (to == b->mapped)
		return;
	if (b->mapped != PCI_BAR_UNMAPPED) {
		bus_unregister(bar_bus(f, n), b->mapped, &f->dev, n);
		bar_moved(f, n, PCI_BAR_UNMAPPED);
		freed = true;
	}
	b->want_map = false;
	if (to != PCI_BAR_UNMAPPED)
		bar_try_map(f, n, to);
	if (freed)
		pci_host_retry_maps(f->host);
}

void pci_bars_update(struct pci_func *f)
{
	for (unsigned n = 0; n < PCI_NUM_BARS; n++)
		pci_bar_update(f, n);
}

void pci_host_retry_maps(struct pci_host *h)
{
	for (unsigned s = 0; s < PCI_MAX_SLOTS; s++)
		for (unsigned fn = 0; fn < PCI_MAX_FNS; fn++) {
			struct pci_func *f = h->fns[s][fn];

			for (unsigned n = 0; f && n < PCI_NUM_BARS; n++) {
				uint64_t to;

				if (!f->bars[n].want_map)
					continue;
				to = bar_target(f, n);
				if (to != PCI_BAR_UNMAPPED)
					bar_try_map(f, n, to);
			}
		}
}

static bool alloc_from(struct pci_alloc *a, uint64_t size, uint64_t align,
		       uint64_t *out)
{
	uint64_t base = ALIGN_UP(a->next, align);

	if (base < a->next || base >= a->end || size > a->end - base)
		return false;
	a->next = base + size;
	*out = base;
	return true;
}

/* Memory BARs get at least a page, so that a guest can map each one by
 * itself (the test guest uses BARs from ring 3). 64-bit BARs prefer the
 * 32-bit window, which every guest can reach, and overflow above RAM. */
static bool place_one(struct pci_host *h, const struct pci_bar *b,
		      uint64_t *addr)
{
	uint64_t align = MAX(b->size, 4 * KiB);

	if (b->flags & PCI_BAR_SPACE_IO)
		return alloc_from(&h->alloc_io, b->size, b->size, addr);
	if (alloc_from(&h->alloc_mem32, b->size, align, addr))
		return true;
	return (b->flags & PCI_BAR_MEM_TYPE_64) &&
	       alloc_from(&h->alloc_mem64, b->size, align, addr);
}

int pci_bars_place(struct pci_host *h, struct pci_func *f)
{
	uint16_t cmd = pci_cfg_get(f, PCI_COMMAND, 2);

	for (unsigned n = 0; n < PCI_NUM_BARS; n++) {
		struct pci_bar *b = &f->bars[n];
		unsigned reg = PCI_BAR0 + 4 * n;
		uint64_t addr;

		if (!b->size)
			continue;
		if (!place_one(h, b, &addr)) {
			pr_err("pci 00:%02x.%x (%s): no room for BAR%u (%#llx "
			       "bytes)", f->slot, f->fn, f->dev.name, n,
			       (unsigned long long)b->size);
			return -ENOSPC;
		}
		pci_cfg_put(f, reg, 4, (uint32_t)addr | b->flags);
		if (b->flags & PCI_BAR_MEM_TYPE_64)
			pci_cfg_put(f, reg + 4, 4, addr >> 32);
		cmd |= b->flags & PCI_BAR_SPACE_IO ? PCI_COMMAND_IO :
						     PCI_COMMAND_MEMORY;
	}
	pci_cfg_put(f, PCI_COMMAND, 2, cmd);
	return 0;
}

/* Bus dispatch: region n of the function's device is BAR n. */
uint64_t pci_bar_read(struct device *dev, unsigned bar, uint64_t off,
		      unsigned size)
{
	struct pci_func *f = pci_func_of(dev);
	uint64_t v = ~0ull;

	if (bar >= PCI_NUM_BARS)
		return v;
	if (f->msix && pci_msix_bar_access(f, bar, off, size, false, &v))
		return v;
	if (f->ops && f->ops->bar_read)
		v = f->ops->bar_read(f, bar, off, size);
	return v;
}

void pci_bar_write(struct device *dev, unsigned bar, uint64_t off,
		   unsigned size, uint64_t value)
{
	struct pci_func *f = pci_func_of(dev);

	if (bar >= PCI_NUM_BARS)
		return;
	if (f->msix && pci_msix_bar_access(f, bar, off, size, true, &value))
		return;
	if (f->ops && f->ops->bar_write)
		f->ops->bar_write(f, bar, off, size, value);
}

/* A fake VM for the PCI tests: PIO and MMIO buses with the host bridge
 * placed on them, a dev_env recording INTx, resets and MSI calls, and a
 * test device whose BARs record accesses. Everything goes through
 * bus_access, as a vCPU's exits would. */
#ifndef CVISOR_TEST_PCI_HELPERS_H
#define CVISOR_TEST_PCI_HELPERS_H

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>

#include "unit.h"
#include "bus/bus.h"
#include "bus/pci.h"
#include "bus/pci_msix.h"
#include "core/util.h"

#define FAKE_ROUTES 64

struct fake_vm {
	struct bus pio, mmio;
	struct dev_env env;
	struct pci_host *host;
	int irq[32];                 /* last level per GSI */
	unsigned irq_calls, resets;
	struct { uint64_t addr; uint32_t data, devid; int efd; bool bound;
		 bool freed; } route[FAKE_ROUTES];
	unsigned nr_routes, route_calls, bind_calls, unbind_calls;
	struct { uint64_t addr; uint32_t data; } sig[16];
	unsigned nr_sig;
	int route_fail;              /* msi_route returns this when < 0 */
};

static inline void fake_irq_set(void *ctx, uint32_t gsi, int level)
{
	struct fake_vm *vm = ctx;

	if (gsi < 32)
		vm->irq[gsi] = level;
	vm->irq_calls++;
}

static inline void fake_power(void *ctx, enum power_request req, int status)
{
	struct fake_vm *vm = ctx;

	(void)status;
	if (req == POWER_RESET)
		vm->resets++;
}

static inline int fake_msi_route(void *ctx, int route, uint64_t addr,
				 uint32_t data, uint32_t devid)
{
	struct fake_vm *vm = ctx;

	vm->route_calls++;
	if (vm->route_fail < 0)
		return vm->route_fail;
	if (route < 0) {
		if (vm->nr_routes == FAKE_ROUTES)
			return -ENOSPC;
		route = vm->nr_routes++;
	}
	assert_true(route < (int)vm->nr_routes);
	vm->route[route].addr = addr;
	vm->route[route].data = data;
	vm->route[route].devid = devid;
	return route;
}

static inline int fake_msi_irqfd(void *ctx, int route, int efd, bool assign)
{
	struct fake_vm *vm = ctx;

	assert_true(route >= 0 && route < (int)vm->nr_routes);
	assert_int_equal(vm->route[route].bound, !assign);
	vm->route[route].bound = assign;
	vm->route[route].efd = efd;
	if (assign)
		vm->bind_calls++;
	else
		vm->unbind_calls++;
	return 0;
}

static inline void fake_msi_route_free(void *ctx, int route)
{
	struct fake_vm *vm = ctx;

	vm->route[route].freed = true;
}

static inline int fake_msi_signal(void *ctx, uint64_t addr, uint32_t data,
				  uint32_t devid)
{
	struct fake_vm *vm = ctx;

	(void)devid;
	if (vm->nr_sig < 16) {
		vm->sig[vm->nr_sig].addr = addr;
		vm->sig[vm->nr_sig].data = data;
	}
	vm->nr_sig++;
	return 0;
}

/* What KVM would inject for a bound route: the eventfd's count. */
static inline uint64_t fake_deliveries(const struct fake_vm *vm, int route)
{
	eventfd_t n = 0;

	if (!vm->route[route].bound)
		return 0;
	if (eventfd_read(vm->route[route].efd, &n) < 0)
		return 0;
	return n;
}

/* Place a device's own regions, as the builder does. */
static inline void fake_place(struct fake_vm *vm, struct device *d)
{
	for (unsigned i = 0; i < d->nr_regions; i++) {
		const struct dev_region *r = &d->regions[i];

		assert_int_equal(bus_register(r->space == BUS_PIO ? &vm->pio :
					      &vm->mmio, r->base, r->len, d,
					      i), 0);
	}
}

static inline struct fake_vm *fake_vm_new(bool irqfd)
{
	struct fake_vm *vm = calloc(1, sizeof(*vm));

	bus_init(&vm->pio, BUS_PIO);
	bus_init(&vm->mmio, BUS_MMIO);
	vm->env.ctx = vm;
	vm->env.irq_set = fake_irq_set;
	vm->env.power = fake_power;
	vm->env.msi_signal = fake_msi_signal;
	vm->env.msi_route_free = fake_msi_route_free;
	if (irqfd) {
		vm->env.msi_route = fake_msi_route;
		vm->env.msi_irqfd = fake_msi_irqfd;
	}
	vm->host = pci_host_create(&vm->env, NULL, &vm->pio, &vm->mmio);
	fake_place(vm, &vm->host->dev);
	return vm;
}

static inline void fake_vm_free(struct fake_vm *vm)
{
	vm->host->dev.ops->free(&vm->host->dev);
	bus_free(&vm->pio);
	bus_free(&vm->mmio);
	free(vm);
}

/* ---- guest-side accessors ---- */

static inline uint64_t pio_in(struct fake_vm *vm, uint64_t port,
			      unsigned size)
{
	uint64_t v = 0;

	bus_access(&vm->pio, port, &v, size, false);
	return v;
}

static inline void pio_out(struct fake_vm *vm, uint64_t port, unsigned size,
			   uint64_t v)
{
	bus_access(&vm->pio, port, &v, size, true);
}

static inline uint64_t mmio_rd(struct fake_vm *vm, uint64_t addr,
			       unsigned size)
{
	uint64_t v = 0;

	bus_access(&vm->mmio, addr, &v, size, false);
	return v;
}

static inline void mmio_wr(struct fake_vm *vm, uint64_t addr, unsigned size,
			   uint64_t v)
{
	bus_access(&vm->mmio, addr, &v, size, true);
}

static inline uint32_t cf8_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return 0x80000000u | slot << 11 | fn << 8 | (reg & 0xfc);
}

/* Mechanism #1 access of size bytes at reg (inside one dword). */
static inline uint32_t conf1_read(struct fake_vm *vm, unsigned slot,
				  unsigned fn, unsigned reg, unsigned size)
{
	pio_out(vm, 0xcf8, 4, cf8_addr(slot, fn, reg));
	return pio_in(vm, 0xcfc + (reg & 3), size);
}

static inline void conf1_write(struct fake_vm *vm, unsigned slot,
			       unsigned fn, unsigned reg, unsigned size,
			       uint32_t v)
{
	pio_out(vm, 0xcf8, 4, cf8_addr(slot, fn, reg));
	pio_out(vm, 0xcfc + (reg & 3), size, v);
}

static inline uint64_t ecam_addr(unsigned slot, unsigned fn, unsigned reg)
{
	return PCI_ECAM_BASE_DEFAULT + ((uint64_t)slot << 15) +
	       ((uint64_t)fn << 12) + reg;
}

static inline uint32_t ecam_read(struct fake_vm *vm, unsigned slot,
				 unsigned fn, unsigned reg, unsigned size)
{
	return mmio_rd(vm, ecam_addr(slot, fn, reg), size);
}

static inline void ecam_write(struct fake_vm *vm, unsigned slot, unsigned fn,
			      unsigned reg, unsigned size, uint32_t v)
{
	mmio_wr(vm, ecam_addr(slot, fn, reg), size, v);
}

/* ---- a test device ---- */

struct tdev {
	struct pci_func f;
	unsigned reads, writes, last_bar, last_size, resets;
	uint64_t last_off, last_val;
	uint64_t moved[PCI_NUM_BARS];
	unsigned moves;
};

static inline uint64_t tdev_read(struct pci_func *f, unsigned bar,
				 uint64_t off, unsigned size)
{
	struct tdev *t = (struct tdev *)f;

	t->reads++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_size = size;
	return 0xd0d0000000000000ull | (uint64_t)bar << 32 | off;
}

static inline void tdev_write(struct pci_func *f, unsigned bar, uint64_t off,
			      unsigned size, uint64_t v)
{
	struct tdev *t = (struct tdev *)f;

	t->writes++;
	t->last_bar = bar;
	t->last_off = off;
	t->last_size = size;
	t->last_val = v;
}

static inline void tdev_moved(struct pci_func *f, unsigned bar, uint64_t a)
{
	struct tdev *t = (struct tdev *)f;

	t->moved[bar] = a;
	t->moves++;
}

static inline void tdev_reset(struct pci_func *f)
{
	((struct tdev *)f)->resets++;
}

static inline void tdev_free(struct pci_func *f)
{
	free(f);
}

static const struct pci_func_ops tdev_ops = {
	.bar_read = tdev_read, .bar_write = tdev_write,
	.bar_moved = tdev_moved, .reset = tdev_reset, .free = tdev_free,
};

/* A device with BAR0 = 4 KiB MEM32, BAR1 = 32-byte IO, BAR2/3 = 16 KiB
 * 64-bit prefetchable, not yet attached. */
static inline struct tdev *tdev_new(struct fake_vm *vm, uint16_t did)
{
	struct tdev *t = calloc(1, sizeof(*t));

	pci_func_init(&t->f, "tdev", &tdev_ops, &vm->env, 0x1af4, did,
		      0x018000, 1, 0x1af4, 0x0002);
	assert_int_equal(pci_func_add_bar(&t->f, 0, 4096, 0), 0);
	assert_int_equal(pci_func_add_bar(&t->f, 1, 32, PCI_BAR_SPACE_IO), 0);
	assert_int_equal(pci_func_add_bar(&t->f, 2, 16384,
					  PCI_BAR_MEM_TYPE_64 |
					  PCI_BAR_MEM_PREFETCH), 0);
	return t;
}

static inline void tdev_free_dev(struct tdev *t)
{
	t->f.dev.ops->free(&t->f.dev);
}

#endif

/* Fixture for the virtio-pci tests: a toy echo device on the transport,
 * attached to the PCI host of a fake VM (test_pci_helpers.h: buses, INTx
 * and MSI hooks that record), with guest memory and hand-built rings from
 * test_virtq_helpers.h and an ioeventfd hook that records registrations.
 * The "guest" reaches the device only through bus_access: config space
 * through ECAM, the BARs where the host placed them.
 */
#ifndef CVISOR_TESTS_VIRTIO_PCI_H
#define CVISOR_TESTS_VIRTIO_PCI_H

#include <pthread.h>

/* Both helper headers call their VM "fake_vm"; rename the PCI one. */
#define fake_vm pci_vm
#define fake_vm_free pci_vm_free
#include "test_pci_helpers.h"
#undef fake_vm
#undef fake_vm_free
#include "test_virtq_helpers.h"
#include "test_virtio_toy.h"

#include "event/loop.h"
#include "virtio/pci.h"
#include "virtio/virtio.h"

#define TOY_QUEUES	2
#define APIC		0xfee00000u

struct io_reg {
	uint64_t addr;
	unsigned len;
	int fd;
	bool datamatch, assign;
	uint64_t match;
};

struct fix {
	struct pci_vm pv;         /* first: env.ctx points at both */
	struct fake_vm gm;        /* guest memory */
	struct toy *toy;
	struct device *dev;
	struct pci_func *f;
	unsigned slot, released;
	uint64_t bar1, bar4;      /* where the host placed them */
	struct io_reg io[32];
	unsigned nr_io;
	int io_rc;                /* what the fake ioeventfd hook returns */
};


static inline int fix_ioeventfd(void *ctx, enum bus_space space,
				uint64_t addr, unsigned len, int fd,
				bool datamatch, uint64_t match, bool assign)
{
	struct fix *f = ctx;

	assert_int_equal(space, BUS_MMIO);
	if (f->nr_io < 32)
		f->io[f->nr_io++] = (struct io_reg){ addr, len, fd, datamatch,
						     assign, match };
	return f->io_rc;
}

static inline struct toy *toy_new(struct fix *f, uint32_t cfg_len)
{
	struct toy *t = xcalloc(1, sizeof(*t));

	for (unsigned i = 0; i < sizeof(t->config); i++)
		t->config[i] = (uint8_t)(0x10 + i);
	t->released = &f->released;
	assert_int_equal(virtio_dev_init(&t->vdev, "toy", VIRTIO_ID_RNG,
					 &toy_ops, &f->gm.mem, 1u << 3,
					 cfg_len ? t->config : NULL, cfg_len,
					 TOY_QUEUES, 256), 0);
	virtio_dev_set_queue_max(&t->vdev, 1, 64);
	return t;
}

/* The fake VM as fake_vm_new() builds it, but inside the fixture so the
 * ioeventfd hook finds it, with guest memory, and optionally irqfds and
 * an event loop. Nothing placed yet. */
static inline struct fix *fix_new(bool irqfd, bool loop)
{
	struct fix *f = xcalloc(1, sizeof(*f));
	struct pci_vm *vm = &f->pv;

	fake_vm_init(&f->gm, 16);
	bus_init(&vm->pio, BUS_PIO);
	bus_init(&vm->mmio, BUS_MMIO);
	vm->env.ctx = f;
	vm->env.mem = &f->gm.mem;
	vm->env.irq_set = fake_irq_set;
	vm->env.power = fake_power;
	vm->env.msi_signal = fake_msi_signal;
	vm->env.msi_route_free = fake_msi_route_free;
	vm->env.ioeventfd = fix_ioeventfd;
	if (irqfd) {
		vm->env.msi_route = fake_msi_route;
		vm->env.msi_irqfd = fake_msi_irqfd;
	}
	if (loop) {
		vm->env.loop = event_loop_new();
		assert_non_null(vm->env.loop);
	}
	vm->host = pci_host_create(&vm->env, NULL, &vm->pio, &vm->mmio);
	fake_place(vm, &vm->host->dev);
	return f;
}

/* Create the toy on virtio-pci and attach it as the builder does. */
static inline void fix_place_cfg(struct fix *f, uint32_t cfg_len)
{
	f->toy = toy_new(f, cfg_len);
	assert_int_equal(virtio_pci_create(&f->toy->vdev, &f->pv.env,
					   toy_release, &f->dev), 0);
	f->f = pci_func_of(f->dev);
	assert_non_null(f->f);
	assert_int_equal(f->dev->nr_regions, 0);   /* BARs are PCI's */
	assert_int_equal(pci_host_attach(f->pv.host, f->f, -1, 0), 0);
	f->slot = f->f->slot;
	f->bar1 = f->f->bars[VIRTIO_PCI_MSIX_BAR].mapped;
	f->bar4 = f->f->bars[VIRTIO_PCI_BAR].mapped;
	assert_true(f->bar1 != PCI_BAR_UNMAPPED);
	assert_true(f->bar4 != PCI_BAR_UNMAPPED);
}

static inline void fix_place(struct fix *f)
{
	fix_place_cfg(f, TOY_CFG_LEN);
}

static inline void fix_free_dev(struct fix *f)
{
	if (f->dev)
		f->dev->ops->free(f->dev);
	f->dev = NULL;
	f->f = NULL;
}

static inline int fix_teardown(void **state)
{
	struct fix *f = *state;

	unit_uncap_fds();         /* a test that failed while capped */
	fix_free_dev(f);
	f->pv.host->dev.ops->free(&f->pv.host->dev);
	bus_free(&f->pv.pio);
	bus_free(&f->pv.mmio);
	if (f->pv.env.loop)
		event_loop_free(f->pv.env.loop);
	fake_vm_free(&f->gm);
	free(f);
	return 0;
}

/* --- the guest side --- */

static inline uint32_t cfg_rd(struct fix *f, unsigned reg, unsigned size)
{
	return ecam_read(&f->pv, f->slot, 0, reg, size);
}

static inline void cfg_wr(struct fix *f, unsigned reg, unsigned size,
			  uint32_t v)
{
	ecam_write(&f->pv, f->slot, 0, reg, size, v);
}

static inline uint64_t bar_rd(struct fix *f, uint64_t off, unsigned size)
{
	return mmio_rd(&f->pv, f->bar4 + off, size);
}

static inline void bar_wr(struct fix *f, uint64_t off, unsigned size,
			  uint64_t v)
{
	mmio_wr(&f->pv, f->bar4 + off, size, v);
}

/* Common config fields at their natural width. */
static const unsigned common_width[0x3c] = {
	[VIRTIO_PCI_COMMON_DFSELECT] = 4, [VIRTIO_PCI_COMMON_DF] = 4,
	[VIRTIO_PCI_COMMON_GFSELECT] = 4, [VIRTIO_PCI_COMMON_GF] = 4,
	[VIRTIO_PCI_COMMON_MSIX] = 2, [VIRTIO_PCI_COMMON_NUMQ] = 2,
	[VIRTIO_PCI_COMMON_STATUS] = 1, [VIRTIO_PCI_COMMON_CFGGEN] = 1,
	[VIRTIO_PCI_COMMON_Q_SELECT] = 2, [VIRTIO_PCI_COMMON_Q_SIZE] = 2,
	[VIRTIO_PCI_COMMON_Q_MSIX] = 2, [VIRTIO_PCI_COMMON_Q_ENABLE] = 2,
	[VIRTIO_PCI_COMMON_Q_NOFF] = 2, [VIRTIO_PCI_COMMON_Q_DESC] = 8,
	[VIRTIO_PCI_COMMON_Q_AVAIL] = 8, [VIRTIO_PCI_COMMON_Q_USED] = 8,
	[VIRTIO_PCI_COMMON_Q_NDATA] = 2, [VIRTIO_PCI_COMMON_Q_RESET] = 2,
};

static inline uint64_t c_rd(struct fix *f, unsigned off)
{
	return bar_rd(f, VIRTIO_PCI_COMMON_OFF + off, common_width[off]);
}

static inline void c_wr(struct fix *f, unsigned off, uint64_t v)
{
	bar_wr(f, VIRTIO_PCI_COMMON_OFF + off, common_width[off], v);
}

/* A 64-bit field as Linux writes it: low half, then high half. */
static inline void c_wr64(struct fix *f, unsigned off, uint64_t v)
{
	bar_wr(f, VIRTIO_PCI_COMMON_OFF + off, 4, (uint32_t)v);
	bar_wr(f, VIRTIO_PCI_COMMON_OFF + off + 4, 4, v >> 32);
}

static inline uint8_t isr_rd(struct fix *f)
{
	return (uint8_t)bar_rd(f, VIRTIO_PCI_ISR_OFF, 1);
}

static inline void notify(struct fix *f, unsigned q)
{
	bar_wr(f, VIRTIO_PCI_NOTIFY_OFF + VIRTIO_PCI_NOTIFY_MULT * q, 2, q);
}

static inline int intx_level(struct fix *f)
{
	return f->pv.irq[f->f->intx.gsi];
}

#define S_ACK	VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV	VIRTIO_STATUS_DRIVER
#define S_FOK	VIRTIO_STATUS_FEATURES_OK
#define S_DOK	VIRTIO_STATUS_DRIVER_OK

/* Driver init (spec 3.1.1) up to FEATURES_OK, accepting VERSION_1 only. */
static inline void drv_negotiate(struct fix *f)
{
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, 0);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV);
	c_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 0);
	c_wr(f, VIRTIO_PCI_COMMON_GF, 0);
	c_wr(f, VIRTIO_PCI_COMMON_GFSELECT, 1);
	c_wr(f, VIRTIO_PCI_COMMON_GF, 1);            /* VERSION_1 */
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS),
			 S_ACK | S_DRV | S_FOK);
}

static inline void drv_queue(struct fix *f, unsigned q, uint16_t size)
{
	c_wr(f, VIRTIO_PCI_COMMON_Q_SELECT, q);
	c_wr(f, VIRTIO_PCI_COMMON_Q_SIZE, size);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_DESC, RING_DESC);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_AVAIL, RING_AVAIL);
	c_wr64(f, VIRTIO_PCI_COMMON_Q_USED, RING_USED);
	c_wr(f, VIRTIO_PCI_COMMON_Q_ENABLE, 1);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_Q_ENABLE), 1);
}

static inline void drv_bring_up(struct fix *f)
{
	drv_negotiate(f);
	drv_queue(f, 0, 16);
	c_wr(f, VIRTIO_PCI_COMMON_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(c_rd(f, VIRTIO_PCI_COMMON_STATUS),
			 S_ACK | S_DRV | S_FOK | S_DOK);
}

/* One device-writable buffer of len bytes made available as chain 0. */
static inline void drv_post(struct fix *f, uint32_t len)
{
	set_desc(&f->gm, 0, BUF_GPA, len, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->gm, 0);
}

/* The config offset of the vendor capability of cfg_type, or 0. */
static inline unsigned find_vcap(struct fix *f, uint8_t type)
{
	for (unsigned c = cfg_rd(f, PCI_CAP_PTR, 1), n = 0; c && n < 48;
	     c = cfg_rd(f, c + 1, 1), n++)
		if (cfg_rd(f, c, 1) == PCI_CAP_ID_VNDR &&
		    cfg_rd(f, c + VIRTIO_PCI_CAP_CFG_TYPE, 1) == type)
			return c;
	return 0;
}

static inline unsigned find_cap(struct fix *f, uint8_t id)
{
	for (unsigned c = cfg_rd(f, PCI_CAP_PTR, 1), n = 0; c && n < 48;
	     c = cfg_rd(f, c + 1, 1), n++)
		if (cfg_rd(f, c, 1) == id)
			return c;
	return 0;
}

/* Program MSI-X vector i (data 0x40 + i), unmasked, and enable MSI-X. */
static inline void msix_setup(struct fix *f, unsigned nr)
{
	unsigned cap = find_cap(f, PCI_CAP_ID_MSIX);

	assert_true(cap >= 0x40);
	for (unsigned i = 0; i < nr; i++) {
		uint64_t e = f->bar1 + VIRTIO_PCI_MSIX_TABLE + 16 * i;

		mmio_wr(&f->pv, e, 4, APIC);
		mmio_wr(&f->pv, e + 4, 4, 0);
		mmio_wr(&f->pv, e + 8, 4, 0x40 + i);
		mmio_wr(&f->pv, e + 12, 4, 0);
	}
	cfg_wr(f, cap + 2, 2, PCI_MSIX_CTRL_ENABLE);
	assert_true(pci_msix_enabled(f->f));
}

#endif

/* Fixture for the virtio-mmio tests: a toy echo device on the transport,
 * placed on a real bus, with a fake dev_env that records the interrupt
 * line and ioeventfd registrations. The "guest" talks to the device only
 * through bus_access(), as a vCPU exit would.
 */
#ifndef CVISOR_TESTS_VIRTIO_MMIO_H
#define CVISOR_TESTS_VIRTIO_MMIO_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>

#include "unit.h"
#include "bus/bus.h"
#include "core/util.h"
#include "event/loop.h"
#include "test_virtq_helpers.h"
#include "test_virtio_toy.h"
#include "virtio/mmio.h"
#include "virtio/virtio.h"

#define MMIO_BASE	0xd0000000ULL
#define MMIO_GSI	10
#define TOY_QUEUES	2

struct io_reg {
	uint64_t addr;
	unsigned len;
	int fd;
	bool datamatch, assign;
	uint64_t match;
};

struct fix {
	struct fake_vm vm;
	struct bus bus;
	struct dev_env env;
	struct device *dev;
	struct toy *toy;
	unsigned released;
	int level;               /* last level set on MMIO_GSI, -1 none */
	unsigned irq_calls;
	struct io_reg io[16];
	unsigned nr_io;
	int io_rc;               /* what the fake ioeventfd hook returns */
};


static inline void fake_irq_set(void *ctx, uint32_t gsi, int level)
{
	struct fix *f = ctx;

	assert_int_equal(gsi, MMIO_GSI);
	f->level = level;
	f->irq_calls++;
}

static inline int fake_ioeventfd(void *ctx, enum bus_space space,
				 uint64_t addr, unsigned len, int fd,
				 bool datamatch, uint64_t match, bool assign)
{
	struct fix *f = ctx;

	assert_int_equal(space, BUS_MMIO);
	if (f->nr_io < 16)
		f->io[f->nr_io++] = (struct io_reg){ addr, len, fd, datamatch,
						     assign, match };
	return f->io_rc;
}

static inline struct toy *toy_new(struct fix *f)
{
	struct toy *t = xcalloc(1, sizeof(*t));

	for (unsigned i = 0; i < sizeof(t->config); i++)
		t->config[i] = (uint8_t)(0x10 + i);
	t->released = &f->released;
	assert_int_equal(virtio_dev_init(&t->vdev, "toy", VIRTIO_ID_RNG,
					 &toy_ops, &f->vm.mem, 1u << 3,
					 t->config, sizeof(t->config),
					 TOY_QUEUES, 256), 0);
	virtio_dev_set_queue_max(&t->vdev, 1, 64);
	return t;
}

/* The fixture without a device: tests that create their own use it. */
static inline struct fix *fix_new(void)
{
	struct fix *f = xcalloc(1, sizeof(*f));

	fake_vm_init(&f->vm, 16);
	bus_init(&f->bus, BUS_MMIO);
	f->level = -1;
	f->env = (struct dev_env){ .mem = &f->vm.mem, .irq_set = fake_irq_set,
				   .ctx = f };
	return f;
}

/* Create the toy on the transport at MMIO_BASE and put it on the bus. */
static inline void fix_place(struct fix *f)
{
	struct virtio_mmio_place at = { MMIO_BASE, VIRTIO_MMIO_REGION_LEN,
					MMIO_GSI };

	f->toy = toy_new(f);
	assert_int_equal(virtio_mmio_create(&f->toy->vdev, &f->env, &at,
					    toy_release, &f->dev), 0);
	assert_int_equal(f->dev->nr_regions, 1);
	assert_int_equal(bus_register(&f->bus, f->dev->regions[0].base,
				      f->dev->regions[0].len, f->dev, 0), 0);
}

static inline void fix_free_dev(struct fix *f)
{
	if (f->dev)
		f->dev->ops->free(f->dev);
	f->dev = NULL;
}

static inline int fix_teardown(void **state)
{
	struct fix *f = *state;

	unit_uncap_fds();         /* a test that failed while capped */
	fix_free_dev(f);
	bus_free(&f->bus);
	if (f->env.loop)
		event_loop_free(f->env.loop);
	fake_vm_free(&f->vm);
	free(f);
	return 0;
}

/* --- the guest side: accesses through the bus --- */

static inline uint64_t rd(struct fix *f, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	assert_true(bus_access(&f->bus, MMIO_BASE + off, &v, size, false));
	return v;
}

static inline void wr(struct fix *f, uint64_t off, unsigned size, uint64_t v)
{
	assert_true(bus_access(&f->bus, MMIO_BASE + off, &v, size, true));
}

static inline uint32_t r32(struct fix *f, uint64_t off)
{
	return (uint32_t)rd(f, off, 4);
}

static inline void w32(struct fix *f, uint64_t off, uint32_t v)
{
	wr(f, off, 4, v);
}

#define S_ACK	VIRTIO_STATUS_ACKNOWLEDGE
#define S_DRV	VIRTIO_STATUS_DRIVER
#define S_FOK	VIRTIO_STATUS_FEATURES_OK
#define S_DOK	VIRTIO_STATUS_DRIVER_OK

/* Driver init sequence (spec 3.1.1) up to FEATURES_OK, accepting
 * VERSION_1 and EVENT_IDX-less rings. */
static inline void drv_negotiate(struct fix *f)
{
	w32(f, VIRTIO_MMIO_STATUS, 0);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 0);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(f, VIRTIO_MMIO_DRIVER_FEATURES, 1);       /* VERSION_1 */
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS), S_ACK | S_DRV | S_FOK);
}

static inline void drv_queue(struct fix *f, unsigned q, uint32_t size)
{
	w32(f, VIRTIO_MMIO_QUEUE_SEL, q);
	w32(f, VIRTIO_MMIO_QUEUE_NUM, size);
	w32(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)RING_DESC);
	w32(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
	w32(f, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)RING_AVAIL);
	w32(f, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, 0);
	w32(f, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)RING_USED);
	w32(f, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, 0);
	w32(f, VIRTIO_MMIO_QUEUE_READY, 1);
	assert_int_equal(r32(f, VIRTIO_MMIO_QUEUE_READY), 1);
}

static inline void drv_bring_up(struct fix *f)
{
	drv_negotiate(f);
	drv_queue(f, 0, 16);
	w32(f, VIRTIO_MMIO_STATUS, S_ACK | S_DRV | S_FOK | S_DOK);
	assert_int_equal(r32(f, VIRTIO_MMIO_STATUS),
			 S_ACK | S_DRV | S_FOK | S_DOK);
}

/* One device-writable buffer of len bytes made available as chain 0. */
static inline void drv_post(struct fix *f, uint32_t len)
{
	set_desc(&f->vm, 0, BUF_GPA, len, VIRTQ_DESC_F_WRITE, 0);
	avail_add(&f->vm, 0);
}

#endif

/* Coalesced MMIO (vm/coalesced_mmio.c): what a vCPU does with the ring
 * KVM fills, checked on a ring in plain memory: every queued write reaches
 * its device through the bus, in order and once, the indices end equal,
 * the count is kept, and what KVM never writes (a bad length, an index
 * past the ring) costs an entry or ends the drain, not a wild access. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "unit.h"
#include "bus/bus_fast.h"
#include "devices/device.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define MAXW 16

struct rec_dev {
	struct device dev;
	unsigned n;
	uint64_t off[MAXW], val[MAXW];
	unsigned size[MAXW];
};

static uint64_t rec_read(struct device *d, unsigned region, uint64_t off,
			 unsigned size)
{
	return 0;
}

static void rec_write(struct device *d, unsigned region, uint64_t off,
		      unsigned size, uint64_t v)
{
	struct rec_dev *r = (struct rec_dev *)d;

	if (r->n < MAXW) {
		r->off[r->n] = off;
		r->size[r->n] = size;
		r->val[r->n] = v;
	}
	r->n++;
}

static const struct device_ops rec_ops = { .read = rec_read,
					   .write = rec_write };

struct fix {
	struct vm vm;
	struct vcpu v;
	struct rec_dev dev;
	struct kvm_coalesced_mmio_ring *ring;
};

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	long page = sysconf(_SC_PAGESIZE);

	f->dev.dev.ops = &rec_ops;
	bus_init(&f->vm.mmio, BUS_MMIO);
	assert_int_equal(bus_register(&f->vm.mmio, 0xc0000000, 0x400,
				      &f->dev.dev, 0), 0);
	pthread_mutex_init(&f->vm.coalesced_lock, NULL);
	f->vm.coalesced_max = (uint32_t)((page -
		sizeof(struct kvm_coalesced_mmio_ring)) /
		sizeof(struct kvm_coalesced_mmio));
	assert_int_equal(posix_memalign((void **)&f->ring, (size_t)page,
					(size_t)page), 0);
	memset(f->ring, 0, (size_t)page);
	f->v.vm = &f->vm;
	f->v.coalesced = f->ring;
	bus_cache_init(&f->v.mmio_cache);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;

	bus_free(&f->vm.mmio);
	pthread_mutex_destroy(&f->vm.coalesced_lock);
	free(f->ring);
	free(f);
	return 0;
}

/* What KVM does for a guest write into a zone. */
static void queue(struct fix *f, uint64_t addr, uint32_t len, uint64_t v)
{
	struct kvm_coalesced_mmio *e = &f->ring->coalesced_mmio[f->ring->last];

	e->phys_addr = addr;
	e->len = len;
	memcpy(e->data, &v, sizeof(v));
	f->ring->last = (f->ring->last + 1) % f->vm.coalesced_max;
}

static void test_drain_in_order(void **state)
{
	struct fix *f = *state;

	vcpu_coalesced_check(&f->v);           /* empty: nothing happens */
	assert_int_equal(f->dev.n, 0);
	queue(f, 0xc0000010, 4, 0x11223344);
	queue(f, 0xc0000010, 4, 0x55667788);   /* the later value wins */
	queue(f, 0xc0000034, 1, 0xab);
	vcpu_coalesced_check(&f->v);
	assert_int_equal(f->dev.n, 3);
	assert_int_equal(f->dev.off[0], 0x10);
	assert_int_equal(f->dev.val[0], 0x11223344);
	assert_int_equal(f->dev.val[1], 0x55667788);
	assert_int_equal(f->dev.off[2], 0x34);
	assert_int_equal(f->dev.size[2], 1);
	assert_int_equal(f->dev.val[2], 0xab);
	assert_int_equal(f->ring->first, f->ring->last);
	assert_int_equal(f->v.stats.coalesced, 3);
	vcpu_coalesced_check(&f->v);           /* applied once */
	assert_int_equal(f->dev.n, 3);
}

/* Around the end of the ring: the indices wrap, nothing is lost. */
static void test_drain_wraps(void **state)
{
	struct fix *f = *state;
	uint32_t max = f->vm.coalesced_max;

	f->ring->first = f->ring->last = max - 2;
	for (unsigned i = 0; i < 5; i++)
		queue(f, 0xc0000000 + 4 * i, 4, i);
	assert_int_equal(f->ring->last, 3);
	vcpu_coalesced_drain(&f->v);
	assert_int_equal(f->dev.n, 5);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(f->dev.val[i], i);
	assert_int_equal(f->ring->first, 3);
}

/* Entries KVM would never write: skipped, or the drain stops. */
static void test_drain_bad_entries(void **state)
{
	struct fix *f = *state;

	queue(f, 0xc0000010, 0, 1);            /* no length */
	queue(f, 0xc0000010, 9, 2);            /* more than data[] */
	queue(f, 0xd0000000, 4, 3);            /* nobody's address */
	queue(f, 0xc0000010, 4, 4);
	vcpu_coalesced_drain(&f->v);
	assert_int_equal(f->dev.n, 1);
	assert_int_equal(f->dev.val[0], 4);
	assert_int_equal(f->ring->first, f->ring->last);
	assert_int_equal(f->v.stats.coalesced, 2);   /* the unclaimed too */

	f->ring->last = f->vm.coalesced_max + 7;     /* out of the ring */
	vcpu_coalesced_drain(&f->v);
	assert_int_equal(f->dev.n, 1);
	assert_int_equal(f->ring->first, 4);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_drain_in_order, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_wraps, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_drain_bad_entries, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

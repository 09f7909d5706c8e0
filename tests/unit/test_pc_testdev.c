/* pc-testdev: the scratch register in every width and both views, the
 * flush-page port, the IRQ lines through the interrupt callback, the
 * IORAM, and the fixed placement. */
#include <errno.h>
#include <string.h>

#include "unit.h"
#include "core/util.h"
#include "devices/registry.h"
#include "mem/guest_mem.h"

enum { PORTS, IRQ, IORAM };

static struct {
	unsigned calls;
	uint32_t gsi;
	int level;
} irq;

static void fake_irq(void *ctx, uint32_t gsi, int level)
{
	irq.calls++;
	irq.gsi = gsi;
	irq.level = level;
}

static struct device *make(struct guest_mem *mem)
{
	struct vdev_config vc = { .type = &pc_testdev_type };
	static struct dev_env env;
	struct device *d = NULL;

	memset(&irq, 0, sizeof(irq));
	env = (struct dev_env){ .irq_set = fake_irq, .mem = mem };
	assert_int_equal(pc_testdev_type.create(&vc, &env, &d), 0);
	assert_non_null(d);
	return d;
}

static void test_regions(void **state)
{
	struct device *d = make(NULL);

	assert_int_equal(d->nr_regions, 3);
	assert_int_equal(d->regions[PORTS].space, BUS_PIO);
	assert_int_equal(d->regions[PORTS].base, 0xe0);
	assert_int_equal(d->regions[PORTS].len, 12);
	assert_int_equal(d->regions[IRQ].space, BUS_PIO);
	assert_int_equal(d->regions[IRQ].base, 0x2000);
	assert_int_equal(d->regions[IRQ].len, 24);
	assert_int_equal(d->regions[IORAM].space, BUS_MMIO);
	assert_int_equal(d->regions[IORAM].base, 0xff000000);
	assert_int_equal(d->regions[IORAM].len, 0x10000);
	d->ops->free(d);
}

static void test_scratch(void **state)
{
	struct device *d = make(NULL);

	d->ops->write(d, PORTS, 0, 4, 0x12345678);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0x12345678);
	assert_int_equal(d->ops->read(d, PORTS, 1, 1), 0x56);
	assert_int_equal(d->ops->read(d, PORTS, 2, 2), 0x1234);
	d->ops->write(d, PORTS, 2, 2, 0xabcd);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0xabcd5678);
	/* 0xe8-0xeb: the same register */
	assert_int_equal(d->ops->read(d, PORTS, 8, 4), 0xabcd5678);
	assert_int_equal(d->ops->read(d, PORTS, 9, 1), 0x56);
	d->ops->write(d, PORTS, 11, 1, 0x11);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0x11cd5678);
	/* flush page: accepted, changes nothing, reads 0 */
	d->ops->write(d, PORTS, 4, 4, 0x1000);
	assert_int_equal(d->ops->read(d, PORTS, 4, 4), 0);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0x11cd5678);
	/* an access across 0xe3/0xe4: only the scratch lanes count */
	d->ops->write(d, PORTS, 3, 2, 0xffee);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0xeecd5678);
	assert_int_equal(d->ops->read(d, PORTS, 3, 2), 0x00ee);
	d->ops->reset(d);
	assert_int_equal(d->ops->read(d, PORTS, 0, 4), 0);
	d->ops->free(d);
}

static void test_irq_lines(void **state)
{
	struct device *d = make(NULL);

	d->ops->write(d, IRQ, 5, 1, 1);
	assert_int_equal(irq.calls, 1);
	assert_int_equal(irq.gsi, 5);
	assert_int_equal(irq.level, 1);
	d->ops->write(d, IRQ, 5, 1, 0x80);         /* !!data */
	assert_int_equal(irq.level, 1);
	d->ops->write(d, IRQ, 23, 1, 0);
	assert_int_equal(irq.gsi, 23);
	assert_int_equal(irq.level, 0);
	/* wider writes are refused, as QEMU refuses them; reads are 0 */
	d->ops->write(d, IRQ, 0, 2, 0x0101);
	d->ops->write(d, IRQ, 0, 4, 1);
	assert_int_equal(irq.calls, 3);
	assert_int_equal(d->ops->read(d, IRQ, 5, 1), 0);
	d->ops->free(d);
}

static void test_ioram(void **state)
{
	struct device *d = make(NULL);

	assert_int_equal(d->ops->read(d, IORAM, 0x800, 8), 0);
	d->ops->write(d, IORAM, 0, 1, 0x5a);
	d->ops->write(d, IORAM, 0x102, 2, 0xbeef);
	d->ops->write(d, IORAM, 0x204, 4, 0xc0ffee11);
	d->ops->write(d, IORAM, 0xfff8, 8, 0x0123456789abcdefULL);
	assert_int_equal(d->ops->read(d, IORAM, 0, 1), 0x5a);
	assert_int_equal(d->ops->read(d, IORAM, 0x102, 2), 0xbeef);
	assert_int_equal(d->ops->read(d, IORAM, 0x204, 4), 0xc0ffee11);
	assert_int_equal(d->ops->read(d, IORAM, 0xfff8, 8),
			 0x0123456789abcdefULL);
	assert_int_equal(d->ops->read(d, IORAM, 0xffff, 1), 0x01);
	assert_int_equal(d->ops->read(d, IORAM, 0x205, 2), 0xffee);
	/* a narrow write keeps its neighbours */
	d->ops->write(d, IORAM, 0x205, 1, 0);
	assert_int_equal(d->ops->read(d, IORAM, 0x204, 4), 0xc0ff0011);
	d->ops->reset(d);
	assert_int_equal(d->ops->read(d, IORAM, 0xfff8, 8), 0);
	d->ops->free(d);
}

static void test_fixed_and_free(void **state)
{
	struct vdev_config vc = { .type = &pc_testdev_type, .nr_locs = 1 };
	const struct cfg_pos *at = NULL;
	struct guest_mem mem;
	struct dev_env env = { .mem = &mem };
	struct device *d = NULL;
	static uint8_t ram[0x1000];

	vc.locs[0] = (struct cfg_loc){ .space = LOC_IO, .addr = 0xe0 };
	assert_null(pc_testdev_type.check_vdev(&vc, &at));
	vc.locs[0].addr = 0xf0;
	assert_non_null(pc_testdev_type.check_vdev(&vc, &at));
	assert_ptr_equal(at, &vc.locs[0].pos);
	/* RAM where the IORAM goes: KVM would serve it, refused */
	guest_mem_init(&mem);
	assert_non_null(guest_mem_add_host(&mem, 0xff008000, sizeof(ram), ram,
					   GUEST_RAM));
	vc.nr_locs = 0;
	assert_int_equal(pc_testdev_type.create(&vc, &env, &d), -EEXIST);
	assert_null(d);
	guest_mem_free(&mem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_regions),
		cmocka_unit_test(test_scratch),
		cmocka_unit_test(test_irq_lines),
		cmocka_unit_test(test_ioram),
		cmocka_unit_test(test_fixed_and_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* pc-testdev (`vdev pc-testdev`, QEMU's -device pc-testdev): the ISA test
 * device kvm-unit-tests drives, at QEMU's fixed addresses:
 *
 *   io 0xe0-0xe3     a 32-bit scratch register, any width, byte lanes
 *   io 0xe4-0xe7     "flush page": QEMU drops the host mapping of the
 *                    page whose address is written; accepted and ignored
 *                    here (unmapping guest RAM under a running device
 *                    thread could fault it)
 *   io 0xe8-0xeb     the same scratch register, byte-wise (as QEMU)
 *   io 0x2000-0x2017 a byte written to 0x2000 + N sets interrupt line N
 *                    (ISA IRQ N on the PIC, IOAPIC pin N) to !!byte
 *   mem 0xff000000   64 KiB "IORAM": reads return what was written, any
 *                    width, and every access exits to cvisor, which is
 *                    what the instruction-emulation tests want
 *
 * Hostile-guest rules: offsets come from the bus, always inside the
 * region; a wider-than-byte write to the IRQ lines is ignored, as QEMU
 * refuses it; the device holds no guest pointer.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "devices/registry.h"
#include "mem/guest_mem.h"

#define TESTDEV_IO_BASE    0xe0
#define TESTDEV_IO_LEN     12
#define TESTDEV_FLUSH_OFF  4
#define TESTDEV_BYTE_OFF   8
#define TESTDEV_IRQ_BASE   0x2000
#define TESTDEV_IRQ_LINES  24
#define TESTDEV_IORAM_BASE 0xff000000ULL
#define TESTDEV_IORAM_LEN  0x10000

enum { REG_PORTS, REG_IRQ, REG_IORAM };

struct pc_testdev {
	struct device dev;
	struct dev_env env;
	pthread_mutex_t lock;      /* vCPUs share the scratch and IORAM */
	uint32_t scratch;
	uint8_t ioram[TESTDEV_IORAM_LEN];
};

static struct pc_testdev *to_pt(struct device *d)
{
	return container_of(d, struct pc_testdev, dev);
}

static bool is_scratch(uint64_t off)
{
	return off < TESTDEV_FLUSH_OFF || off >= TESTDEV_BYTE_OFF;
}

static uint64_t ports_read(struct pc_testdev *t, uint64_t off, unsigned size)
{
	uint64_t v = 0;

	/* Byte by byte, so that any width at any offset reads its lanes. */
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = off + i;
		uint8_t b = is_scratch(at) ?
			    (uint8_t)(t->scratch >> (8 * (at & 3))) : 0;

		v |= (uint64_t)b << (8 * i);
	}
	return v;
}

static void ports_write(struct pc_testdev *t, uint64_t off, unsigned size,
			uint64_t v)
{
	for (unsigned i = 0; i < size; i++) {
		uint64_t at = off + i;
		unsigned shift = 8 * (at & 3);

		if (!is_scratch(at))
			continue;       /* flush page: nothing to do */
		t->scratch = (t->scratch & ~(0xffu << shift)) |
			     (uint32_t)(uint8_t)(v >> (8 * i)) << shift;
	}
}

static uint64_t pt_read(struct device *dev, unsigned region, uint64_t off,
			unsigned size)
{
	struct pc_testdev *t = to_pt(dev);
	uint64_t v = 0;

	if (region == REG_IRQ)
		return 0;
	pthread_mutex_lock(&t->lock);
	if (region == REG_PORTS)
		v = ports_read(t, off, size);
	else
		memcpy(&v, t->ioram + off, size);     /* little-endian host */
	pthread_mutex_unlock(&t->lock);
	return v;
}

static void pt_write(struct device *dev, unsigned region, uint64_t off,
		     unsigned size, uint64_t value)
{
	struct pc_testdev *t = to_pt(dev);

	if (region == REG_IRQ) {
		if (size == 1 && t->env.irq_set)
			t->env.irq_set(t->env.ctx, (uint32_t)off, !!value);
		return;
	}
	pthread_mutex_lock(&t->lock);
	if (region == REG_PORTS)
		ports_write(t, off, size, value);
	else
		memcpy(t->ioram + off, &value, size);
	pthread_mutex_unlock(&t->lock);
}

static void pt_reset(struct device *dev)
{
	struct pc_testdev *t = to_pt(dev);

	pthread_mutex_lock(&t->lock);
	t->scratch = 0;
	memset(t->ioram, 0, sizeof(t->ioram));
	pthread_mutex_unlock(&t->lock);
}

static void pt_free(struct device *dev)
{
	struct pc_testdev *t = to_pt(dev);

	pthread_mutex_destroy(&t->lock);
	free(t);
}

static const struct device_ops pc_testdev_ops = {
	.read = pt_read,
	.write = pt_write,
	.reset = pt_reset,
	.free = pt_free,
};

static bool pc_testdev_default_loc(unsigned index, uint64_t *addr)
{
	*addr = TESTDEV_IO_BASE;
	return index == 0;
}

static const char *pc_testdev_check(const struct vdev_config *vc,
				    const struct cfg_pos **at)
{
	if (vc->nr_locs && (vc->locs[0].space != LOC_IO ||
			    vc->locs[0].addr != TESTDEV_IO_BASE)) {
		*at = &vc->locs[0].pos;
		return "its addresses are QEMU's and fixed (io 0xe0-0xeb, io "
		       "0x2000-0x2017, mem 0xff000000-0xff00ffff)";
	}
	return NULL;
}

/* RAM or ROM there would be served by KVM, never by the device. */
static bool ioram_on_memory(const struct guest_mem *mem)
{
	for (unsigned i = 0; mem && i < mem->nr; i++)
		if (ranges_overlap(mem->regions[i].gpa, mem->regions[i].size,
				   TESTDEV_IORAM_BASE, TESTDEV_IORAM_LEN))
			return true;
	return false;
}

static int pc_testdev_create(const struct vdev_config *vc,
			     const struct dev_env *env, struct device **out)
{
	struct pc_testdev *t;

	if (ioram_on_memory(env->mem)) {
		pr_err("vdev pc-testdev: its IORAM at 0x%llx overlaps guest "
		       "memory", TESTDEV_IORAM_BASE);
		return -EEXIST;
	}
	t = xcalloc(1, sizeof(*t));
	t->env = *env;
	pthread_mutex_init(&t->lock, NULL);
	t->dev.ops = &pc_testdev_ops;
	t->dev.name = "pc-testdev";
	device_add_region(&t->dev, BUS_PIO, TESTDEV_IO_BASE, TESTDEV_IO_LEN);
	device_add_region(&t->dev, BUS_PIO, TESTDEV_IRQ_BASE,
			  TESTDEV_IRQ_LINES);
	device_add_region(&t->dev, BUS_MMIO, TESTDEV_IORAM_BASE,
			  TESTDEV_IORAM_LEN);
	*out = &t->dev;
	return 0;
}

/* QEMU's ISA test device (a cvisor extension to QNX's vdevs). */
const struct vdev_type pc_testdev_type = {
	.name = "pc-testdev",
	.class = VDEV_PLATFORM,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = TESTDEV_IO_LEN,
	.default_loc = pc_testdev_default_loc,
	.check_vdev = pc_testdev_check,
	.create = pc_testdev_create,
};

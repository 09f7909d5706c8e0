/* Interrupt controllers and timers that KVM emulates in the kernel
 * (KVM_CREATE_IRQCHIP, KVM_CREATE_PIT2). Their vdev declarations are accepted
 * so QNX x86 configs parse unchanged, and checked against where KVM really
 * puts them; the builder creates nothing for them. */
#include "devices/registry.h"

static bool ioapic_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0xfec00000;
	return index == 0;
}

static const struct devopt_spec ioapic_opts[] = {
	{ .key = "hostvector", .kind = DEVOPT_NUM, .min = 0, .max = 255 },
	{ 0 },
};

const struct vdev_type ioapic_type = {
	.name = "ioapic",
	.class = VDEV_IRQCHIP,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_MEM,
	.region_len = 0x1000,
	.default_loc = ioapic_default_loc,
	.opts = ioapic_opts,
};

static bool pic8259_default_loc(unsigned index, uint64_t *addr)
{
	static const uint16_t base[] = { 0x20, 0xa0 };

	if (index >= 2)
		return false;
	*addr = base[index];
	return true;
}

const struct vdev_type pic8259_type = {
	.name = "8259",
	.class = VDEV_INKERNEL,
	.supported = true,
	.max_instances = 2,
	.loc_space = LOC_IO,
	.region_len = 2,
	.default_loc = pic8259_default_loc,
};

static bool timer8254_default_loc(unsigned index, uint64_t *addr)
{
	*addr = 0x40;
	return index == 0;
}

static bool timer8254_default_intr(unsigned index, uint32_t *line)
{
	*line = 0;
	return index == 0;
}

const struct vdev_type timer8254_type = {
	.name = "timer8254",
	.class = VDEV_INKERNEL,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_IO,
	.region_len = 4,
	.default_loc = timer8254_default_loc,
	.default_intr = timer8254_default_intr,
};

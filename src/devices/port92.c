/* Port 0x92, the PC's "system control port A" (fast A20 and fast reset),
 * which every PC chipset has and firmware uses: SeaBIOS reads it on each
 * switch from 16- to 32-bit code (sixteen times per disk read through
 * INT 13h) to keep A20 enabled; without it each read counted as an
 * unclaimed access.
 *
 * Bit 1 is the A20 gate. KVM guest memory never wraps at 1 MiB, so A20 is
 * always on: the bit reads as the guest last wrote it (1 from reset, as
 * after firmware), which is all software looks at. Bit 0 set from clear is
 * a reset of the machine (Linux's reboot=q, some boot loaders), and reads
 * back 0 once the rebuilt VM runs. The other bits are kept, as QEMU's.
 */
#include <stdlib.h>

#include "core/util.h"
#include "devices/registry.h"

#define PORT92_A20	0x02
#define PORT92_RESET	0x01

struct port92 {
	struct device dev;
	struct dev_env env;
	uint8_t value;
};

static struct port92 *to_p92(struct device *dev)
{
	return container_of(dev, struct port92, dev);
}

static uint64_t p92_read(struct device *dev, unsigned region, uint64_t off,
			 unsigned size)
{
	return __atomic_load_n(&to_p92(dev)->value, __ATOMIC_RELAXED);
}

static void p92_write(struct device *dev, unsigned region, uint64_t off,
		      unsigned size, uint64_t value)
{
	struct port92 *p = to_p92(dev);
	/* One exchange: two vCPUs writing at once see one rising edge. */
	uint8_t old = __atomic_exchange_n(&p->value, (uint8_t)value,
					  __ATOMIC_RELAXED);
	bool reset = (value & PORT92_RESET) && !(old & PORT92_RESET);

	if (reset && p->env.power)
		p->env.power(p->env.ctx, POWER_RESET, 0);
}

static void p92_reset(struct device *dev)
{
	__atomic_store_n(&to_p92(dev)->value, PORT92_A20, __ATOMIC_RELAXED);
}

static void p92_free(struct device *dev)
{
	free(to_p92(dev));
}

static const struct device_ops port92_ops = {
	.read = p92_read,
	.write = p92_write,
	.reset = p92_reset,
	.free = p92_free,
};

struct device *port92_create(const struct dev_env *env)
{
	struct port92 *p = xcalloc(1, sizeof(*p));

	p->dev.ops = &port92_ops;
	p->dev.name = "port92";
	p->env = *env;
	p->value = PORT92_A20;
	device_add_region(&p->dev, BUS_PIO, 0x92, 1);
	return &p->dev;
}

/* arm64's interrupt controller as the config sees it: implicit and named
 * `gic` (QNX's form); `vdev gic version 2|3` picks the architecture of
 * the in-kernel vGIC (default 3). Its frames sit at fixed addresses
 * (arm64.h), so the declaration takes only options; validate.c checks
 * the rest (arm64 only, no loc, no intr, GICv2's 8 CPUs). The builder
 * creates nothing for it: the vGIC is made by kvm_host.c. */
#include <string.h>

#include "arch/arm64/arm64.h"
#include "devices/registry.h"

static const struct devopt_spec gic_opts[] = {
	{ .key = "version", .kind = DEVOPT_NUM, .min = 2, .max = 3 },
	{ 0 },
};

const struct vdev_type gic_type = {
	.name = "gic",
	.class = VDEV_IRQCHIP,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_MEM,
	.opts = gic_opts,
};

unsigned arm64_gic_version(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct cfg_devopt *o;

		if (cfg->vdevs[i].type != &gic_type)
			continue;
		o = vdev_opt(&cfg->vdevs[i], "version");
		if (o && o->num == 2)
			return 2;
	}
	return 3;
}

/* `vdev pmu` (a cvisor extension, arm64 only; QNX's language has no
 * word for it): the architected performance monitors, PMUv3, emulated by
 * KVM on every vCPU, as QEMU's `-cpu ...,pmu=on` gives them. The
 * declaration is all there is: no location, no line of the config's (its
 * overflow interrupt is PPI 23, as on QEMU's virt board), nothing in user
 * space; the tree gets an `arm,armv8-pmuv3` node so that Linux's perf
 * finds it. The KVM side is in kvm_host.c. */
#include "arch/arm64/arm64.h"
#include "config/config.h"
#include "devices/registry.h"

const struct vdev_type pmu_type = {
	.name = "pmu",
	.class = VDEV_INKERNEL,
	.supported = true,
	.max_instances = 1,
	.loc_space = LOC_MEM,
};

bool arm64_has_pmu(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].type == &pmu_type)
			return true;
	return false;
}

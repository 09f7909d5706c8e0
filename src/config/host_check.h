/* Checks of a valid config against this host (config/host_check.c), and
 * its description for -v (config/describe.c). */
#ifndef CVISOR_CONFIG_HOST_CHECK_H
#define CVISOR_CONFIG_HOST_CHECK_H

#include "config/config.h"

#define HOST_CHECK_DEVICES 1u   /* build each device without KVM */
#define HOST_CHECK_BOOT    2u   /* load the boot image into scratch RAM */

/* The runmask's host CPUs always; what `what` asks for on top. Describes
 * the VM at info level (-v). 0, or -1 with err filled (err->file empty
 * when no position applies). */
int config_check_host(const struct vm_config *cfg, unsigned what,
		      struct cfg_error *err);

/* At info level: memory map, devices (location, interrupt, backend),
 * vCPUs. */
void config_describe(const struct vm_config *cfg);

#endif

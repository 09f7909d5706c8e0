/* Checks of a valid config against this host (config/host_check.c), and
 * its description for -v (config/describe.c). */
#ifndef CVISOR_CONFIG_HOST_CHECK_H
#define CVISOR_CONFIG_HOST_CHECK_H

#include "config/config.h"

#define HOST_CHECK_DEVICES 1u   /* build each device without KVM */
#define HOST_CHECK_BOOT    2u   /* load the boot image into scratch RAM */
#define HOST_CHECK_LOCK    4u   /* lock the disk images (a run) */

/* The runmask's host CPUs always; what `what` asks for on top. Describes
 * the VM at info level (-v). 0, or -1 with err filled (err->file empty
 * when no position applies). */
int config_check_host(const struct vm_config *cfg, unsigned what,
		      struct cfg_error *err);

/* Lock each virtio-blk image without `shared` against other processes
 * (hold: for the life of the process; else only look). 0, or -1 with err
 * filled when another process holds a conflicting lock. */
int lock_disk_images(const struct vm_config *cfg, bool hold,
		     struct cfg_error *err);

/* At info level: memory map, devices (location, interrupt, backend),
 * vCPUs. */
void config_describe(const struct vm_config *cfg);

#endif

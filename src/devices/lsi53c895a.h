/* LSI 53C895A SCSI host controller (`vdev lsi53c895a`): see
 * lsi53c895a_priv.h for the files and docs/devices.md for the device. */
#ifndef CVISOR_DEVICES_LSI53C895A_H
#define CVISOR_DEVICES_LSI53C895A_H

#include <stdbool.h>
#include <stdint.h>

#include "devices/device.h"

#define LSI_MAX_DISKS	4             /* CFG_MAX_HOSTDEVS */

struct lsi_disk {
	const char *path;
	bool read_only, cdrom;
	unsigned target, lun;
};

/* A controller with these disks, as a PCI function (its create() for
 * the tests). NULL with a message logged. */
struct pci_func *lsi53c895a_new(const struct lsi_disk *disks, unsigned n,
				const struct dev_env *env);

/* Whether the config's hostdev i is opened read-only (`<FILE` or a
 * `cdrom`): config/disk_lock.c takes a read lock on it, not a write lock. */
struct vdev_config;
bool lsi53c895a_disk_read_only(const struct vdev_config *vc, unsigned i);

/* The disks given a `bootindex` (fw_cfg's bootorder, arch/x86/
 * bootorder.c): their index, target and LUN into out (LSI_MAX_DISKS
 * entries); how many. The config was checked. */
struct lsi_boot_disk {
	uint64_t index;
	unsigned target, lun;
};
unsigned lsi53c895a_boot_disks(const struct vdev_config *vc,
			       struct lsi_boot_disk *out);

extern const struct vdev_type lsi53c895a_type;

#endif

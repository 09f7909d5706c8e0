/* fw_cfg's `bootorder`: the devices with a `bootindex` option, lowest
 * index first, as firmware device paths that SeaBIOS matches its drives
 * against (its boot.c: "/pci@i0cf8/ANY@SLOT[,FN]" for a PCI device, ANY
 * a wildcard; QEMU's
 * "/pci@i0cf8/scsi@4/disk@0,0" for a virtio-blk in slot 4, and
 * ".../channel@0/disk@TARGET,LUN" below it for an lsi53c895a's disk). */
#ifndef CVISOR_ARCH_X86_BOOTORDER_H
#define CVISOR_ARCH_X86_BOOTORDER_H

#include "devices/device.h"

/* One path a line, from the placed devices; NULL when no device has a
 * bootindex (or out of memory: firmware then boots in its own order).
 * The caller frees it. */
char *x86_bootorder(struct device *const *devs, unsigned nr);

#endif

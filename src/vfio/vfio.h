/* Pass-through of host PCI devices through VFIO (`pass`, config/pass.c).
 *
 * A passed device is a struct pci_func like any emulated one: the host
 * bridge places it, the guest sizes and moves its BARs, and the bus sends
 * it what it traps. Behind it: the VFIO container and group (type1 v2
 * IOMMU, all guest RAM mapped for DMA at IOVA = GPA: container.c), the
 * device fd (device.c), the virtualized configuration space (config.c),
 * BARs mmap'd into KVM memory slots or trapped and forwarded (bars.c),
 * INTx through a resampling irqfd (intx.c), MSI through GSI routes and
 * irqfds (msi.c), and the kvm-vfio device (kvm_dev.c). See
 * docs/passthrough.md.
 */
#ifndef CVISOR_VFIO_VFIO_H
#define CVISOR_VFIO_VFIO_H

#include <stdbool.h>
#include <stddef.h>

#include "config/config.h"

struct dev_env;
struct guest_mem;
struct pci_func;
struct vfio_ctx;

/* The VM's side: its fd (memory slots for BARs, the kvm-vfio device), its
 * RAM (mapped for DMA) and the first KVM memory slot the BARs may use. */
struct vfio_ctx *vfio_ctx_new(int vm_fd, struct guest_mem *mem,
			      unsigned first_slot);
/* Each device holds a reference; the builder drops its own when done. */
void vfio_ctx_put(struct vfio_ctx *c);

/* Open the host device pc names and build its guest function. 0, or
 * -errno with a message logged (an unbound device: the commands that
 * bind it). *out is freed through the function's ops like any device. */
int vfio_pass_create(struct vfio_ctx *c, const struct pass_config *pc,
		     const struct dev_env *env, struct pci_func **out);
/* After pci_host_attach: the guest slot (and so its INTx line) is known. */
int vfio_pass_attached(struct pci_func *f);

/* The largest `romfile` (rom.c; config/host_check.c checks it too). */
#define VFIO_ROM_FILE_MAX (16u << 20)

/* ---- sysfs.c: which host device a `pass` names ---- */
struct vfio_host_dev {
	char path[512];        /* its sysfs directory, resolved */
	char name[64];         /* 0000:00:03.0, or an mdev's UUID */
	int group;             /* IOMMU group number: /dev/vfio/N */
	bool is_pci;           /* a PCI function (not a mediated device) */
};

/* Find the device under sysroot ("/sys"; tests give a fake tree). 0, or
 * -ENODEV (no such device), -EBUSY (not bound to vfio-pci), -ENOENT (no
 * IOMMU group) with why filled: a message naming the sysfs path and, when
 * unbound, the exact commands that bind it. */
int vfio_find_device(const char *sysroot, const struct pass_config *pc,
		     struct vfio_host_dev *out, char *why, size_t len);

#endif

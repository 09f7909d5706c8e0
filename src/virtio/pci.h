/* virtio-pci modern transport (virtio 1.2 section 4.1), non-transitional.
 *
 * A virtio device becomes one PCI function (vendor 0x1AF4, device 0x1040 +
 * virtio device id, revision 1) with two memory BARs:
 *
 *   BAR1       32-bit, 4 KiB: MSI-X table at 0x000, PBA at 0x800
 *   BAR4/5     64-bit, 16 KiB, not prefetchable (the ISR clears on read):
 *     0x0000   common configuration (struct virtio_pci_common_cfg)
 *     0x1000   ISR status, one byte, read clears
 *     0x2000   device configuration (absent when the device has none)
 *     0x3000   notifications: queue q at 0x3000 + 4 * q
 *
 * located by vendor capabilities (COMMON, NOTIFY, ISR, DEVICE, PCI_CFG)
 * and an MSI-X capability with nr_queues + 1 vectors, which the driver
 * assigns freely through config_msix_vector and queue_msix_vector.
 *
 * Notifications follow virtio-mmio: each queue gets an eventfd polled on
 * the event loop once the driver enables it, registered with
 * env->ioeventfd as a 2-byte write of the queue index at the queue's
 * notify address while BAR4 decodes (bar_moved moves it); a notify write
 * that still exits signals the same eventfd. Interrupts: the queue's or
 * config vector through MSI-X when enabled, else INTA with level = ISR
 * != 0, lowered when the driver reads the ISR.
 */
#ifndef CVISOR_VIRTIO_PCI_H
#define CVISOR_VIRTIO_PCI_H

#include <stdint.h>

#include "devices/device.h"
#include "virtio/mmio.h"          /* virtio_release_fn */
#include "virtio/virtio.h"

#define VIRTIO_PCI_VENDOR		0x1af4
#define VIRTIO_PCI_DEVICE_BASE		0x1040	/* + virtio device id */
#define VIRTIO_PCI_REVISION		1
/* QEMU's subsystem id: >= 0x40, so legacy drivers (which match the
 * subsystem id against the device type) leave the function alone. */
#define VIRTIO_PCI_SUBSYS_ID		0x1100

/* Vendor capability cfg_type values (spec 4.1.4). */
#define VIRTIO_PCI_CAP_COMMON_CFG	1
#define VIRTIO_PCI_CAP_NOTIFY_CFG	2
#define VIRTIO_PCI_CAP_ISR_CFG		3
#define VIRTIO_PCI_CAP_DEVICE_CFG	4
#define VIRTIO_PCI_CAP_PCI_CFG		5

/* Byte offsets inside struct virtio_pci_cap (from the capability id). */
#define VIRTIO_PCI_CAP_LEN		2
#define VIRTIO_PCI_CAP_CFG_TYPE		3
#define VIRTIO_PCI_CAP_BAR		4
#define VIRTIO_PCI_CAP_ID		5
#define VIRTIO_PCI_CAP_OFFSET		8
#define VIRTIO_PCI_CAP_LENGTH		12
#define VIRTIO_PCI_CAP_SIZE		16
#define VIRTIO_PCI_NOTIFY_CAP_MULT	16	/* notify_off_multiplier */
#define VIRTIO_PCI_CFG_CAP_DATA		16	/* pci_cfg_data[4] */
#define VIRTIO_PCI_CAP_EXT_SIZE		20	/* notify and pci_cfg caps */

/* struct virtio_pci_common_cfg (spec 4.1.4.3), little-endian. */
#define VIRTIO_PCI_COMMON_DFSELECT	0x00	/* le32 */
#define VIRTIO_PCI_COMMON_DF		0x04	/* le32 */
#define VIRTIO_PCI_COMMON_GFSELECT	0x08	/* le32 */
#define VIRTIO_PCI_COMMON_GF		0x0c	/* le32 */
#define VIRTIO_PCI_COMMON_MSIX		0x10	/* le16 config_msix_vector */
#define VIRTIO_PCI_COMMON_NUMQ		0x12	/* le16 */
#define VIRTIO_PCI_COMMON_STATUS	0x14	/* u8 */
#define VIRTIO_PCI_COMMON_CFGGEN	0x15	/* u8 */
#define VIRTIO_PCI_COMMON_Q_SELECT	0x16	/* le16 */
#define VIRTIO_PCI_COMMON_Q_SIZE	0x18	/* le16 */
#define VIRTIO_PCI_COMMON_Q_MSIX	0x1a	/* le16 */
#define VIRTIO_PCI_COMMON_Q_ENABLE	0x1c	/* le16 */
#define VIRTIO_PCI_COMMON_Q_NOFF	0x1e	/* le16 queue_notify_off */
#define VIRTIO_PCI_COMMON_Q_DESC	0x20	/* le64 */
#define VIRTIO_PCI_COMMON_Q_AVAIL	0x28	/* le64 queue_driver */
#define VIRTIO_PCI_COMMON_Q_USED	0x30	/* le64 queue_device */
#define VIRTIO_PCI_COMMON_Q_NDATA	0x38	/* le16 queue_notify_data */
#define VIRTIO_PCI_COMMON_Q_RESET	0x3a	/* le16, RING_RESET not offered */
#define VIRTIO_PCI_COMMON_LEN		0x3c

#define VIRTIO_MSI_NO_VECTOR		0xffff

/* The layout described at the top. */
#define VIRTIO_PCI_BAR			4
#define VIRTIO_PCI_BAR_SIZE		0x4000
#define VIRTIO_PCI_COMMON_OFF		0x0000
#define VIRTIO_PCI_ISR_OFF		0x1000
#define VIRTIO_PCI_DEVICE_OFF		0x2000
#define VIRTIO_PCI_DEVICE_MAX		0x1000	/* config bytes that fit */
#define VIRTIO_PCI_NOTIFY_OFF		0x3000
#define VIRTIO_PCI_NOTIFY_MULT		4
#define VIRTIO_PCI_MSIX_BAR		1
#define VIRTIO_PCI_MSIX_BAR_SIZE	0x1000
#define VIRTIO_PCI_MSIX_TABLE		0x000
#define VIRTIO_PCI_MSIX_PBA		0x800	/* room for 128 vectors */

/* The PCI class code (base << 16 | sub << 8 | prog-if) QEMU gives a
 * virtio device of this type; unknown types are "other" (0x00ff00). */
uint32_t virtio_pci_class(uint32_t device_id);

/* Wrap an initialised vdev in a virtio-pci function. 0 and *out (a device
 * whose pci_func_of() is its function, not yet attached: the builder puts
 * it in a slot with pci_host_attach), or -errno with a message logged.
 * Same ownership rule as virtio_mmio_create(): release(vdev) runs when
 * the device is freed, or before an error is returned. */
int virtio_pci_create(struct virtio_dev *vdev, const struct dev_env *env,
		      virtio_release_fn release, struct device **out);

#endif

/* virtio-mmio version 2 transport (virtio 1.2 section 4.2.2).
 *
 * One MMIO region of registers (0x000-0x0ff) followed by the device's
 * config space (0x100-), one level-triggered interrupt line whose level is
 * InterruptStatus != 0. Device types do not call this directly: they go
 * through virtio_vdev_create() (vdev.h), which picks the transport.
 *
 * Notifications: each queue gets an eventfd polled on the event loop when
 * the driver first makes it ready. With env->ioeventfd, KVM signals it for
 * a 4-byte QueueNotify write of the queue's index (no exit at all); a
 * QueueNotify write that still exits (no hook, or registration failed)
 * signals the same eventfd, so queue work always runs on the event loop
 * thread, never on a vCPU. A queue for which no eventfd could be made
 * gets its kicks handed to the loop as posted work (virtio_queue_call).
 * Only without an event loop (unit tests) does the vCPU thread call
 * virtio_queue_notify() itself.
 *
 * Interrupts: where the VM offers it (env->line_irqfd), the line is an
 * irqfd with a resample eventfd (devices/line_irqfd.h): a raise is an
 * eventfd write from whichever thread completed the request, the guest's
 * InterruptACK costs no ioctl, and KVM lowers the line at the EOI. Else
 * env->irq_set drives the level (KVM_IRQ_LINE).
 */
#ifndef CVISOR_VIRTIO_MMIO_H
#define CVISOR_VIRTIO_MMIO_H

#include <stdint.h>

#include "devices/device.h"
#include "virtio/virtio.h"

/* Register offsets (spec 4.2.2, table 4.1). */
#define VIRTIO_MMIO_MAGIC_VALUE		0x000
#define VIRTIO_MMIO_VERSION		0x004
#define VIRTIO_MMIO_DEVICE_ID		0x008
#define VIRTIO_MMIO_VENDOR_ID		0x00c
#define VIRTIO_MMIO_DEVICE_FEATURES	0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL	0x014
#define VIRTIO_MMIO_DRIVER_FEATURES	0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL	0x024
#define VIRTIO_MMIO_QUEUE_SEL		0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX	0x034
#define VIRTIO_MMIO_QUEUE_NUM		0x038
#define VIRTIO_MMIO_QUEUE_READY		0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY	0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS	0x060
#define VIRTIO_MMIO_INTERRUPT_ACK	0x064
#define VIRTIO_MMIO_STATUS		0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW	0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH	0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW	0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH	0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW	0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH	0x0a4
#define VIRTIO_MMIO_SHM_SEL		0x0ac
#define VIRTIO_MMIO_SHM_LEN_LOW		0x0b0
#define VIRTIO_MMIO_SHM_LEN_HIGH	0x0b4
#define VIRTIO_MMIO_SHM_BASE_LOW	0x0b8
#define VIRTIO_MMIO_SHM_BASE_HIGH	0x0bc
#define VIRTIO_MMIO_QUEUE_RESET		0x0c0
#define VIRTIO_MMIO_CONFIG_GENERATION	0x0fc
#define VIRTIO_MMIO_CONFIG		0x100

#define VIRTIO_MMIO_MAGIC		0x74726976	/* "virt" */
#define VIRTIO_MMIO_VERSION_MODERN	2
/* "QEMU", as QEMU, kvmtool and Firecracker report: drivers ignore it,
 * and nothing is gained by inventing a new one. */
#define VIRTIO_MMIO_VENDOR		0x554d4551
/* What the spec's device tree example and Linux's cmdline devices use;
 * a larger `loc mem:ADDR,LEN` decodes LEN bytes. */
#define VIRTIO_MMIO_REGION_LEN		0x200

/* Called from the transport's free op, after the virtio device has been
 * reset (ops->reset ran, no queue_notify runs or will start): the device
 * type stops its backends, calls virtio_dev_uninit() and frees itself. */
typedef void (*virtio_release_fn)(struct virtio_dev *vdev);

struct virtio_mmio_place {
	uint64_t base, len;      /* len >= VIRTIO_MMIO_REGION_LEN */
	uint32_t gsi;            /* the interrupt line */
};

/* Wrap an initialised vdev in a virtio-mmio device. 0 and *out, or
 * -errno with a message logged; release(vdev) has been called either way
 * the device is gone (on failure: before returning). */
int virtio_mmio_create(struct virtio_dev *vdev, const struct dev_env *env,
		       const struct virtio_mmio_place *at,
		       virtio_release_fn release, struct device **out);

#endif

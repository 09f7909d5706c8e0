/* A small virtio 1.x driver for the test guest's ring 3: device discovery
 * on PCI (modern interface) and virtio-mmio (version 2), the status
 * handshake, split virtqueues polled through the used ring. No
 * interrupts: completions are found by reading guest memory, which costs
 * nothing, whereas every device register access is a VM exit.
 */
#ifndef TESTGUEST_VIRTIO_H
#define TESTGUEST_VIRTIO_H

#include "guest.h"

#define VIRTIO_ID_BLK     2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG     4

#define VIRTIO_F_INDIRECT_DESC (1ull << 28)
#define VIRTIO_F_EVENT_IDX     (1ull << 29)
#define VIRTIO_F_VERSION_1     (1ull << 32)

#define VIRTIO_STATUS_ACK         1
#define VIRTIO_STATUS_DRIVER      2
#define VIRTIO_STATUS_DRIVER_OK   4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED      128

#define VIRTQ_DESC_F_NEXT     1
#define VIRTQ_DESC_F_WRITE    2
#define VIRTQ_DESC_F_INDIRECT 4
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
#define VIRTQ_USED_F_NO_NOTIFY     1

#define VIRTQ_MAX_SIZE 128   /* we never ask for more */

struct virtq_desc {
	u64 addr;
	u32 len;
	u16 flags, next;
};

struct virtq_avail {
	u16 flags, idx;
	u16 ring[];
};

struct virtq_used_elem {
	u32 id, len;
};

struct virtq_used {
	u16 flags, idx;
	struct virtq_used_elem ring[];
};

struct virtq {
	u16 index, size;
	struct virtq_desc *desc;
	struct virtq_avail *avail;
	volatile struct virtq_used *used;
	u16 next_avail;      /* our shadow of avail->idx */
	u16 last_used;       /* used entries consumed so far */
	u16 unkicked;        /* published since the last notify */
	u64 notify_addr;     /* where the queue index is written to kick */
	bool notify16;       /* PCI: 16-bit write; MMIO: 32-bit */
	u64 kicks;
};

enum { VIRTIO_PCI = 1, VIRTIO_MMIO = 2 };

struct vdev {
	u32 id, transport;
	u64 features;        /* negotiated */
	/* virtio-mmio */
	u64 base;
	/* virtio-pci: absolute addresses of the capability windows */
	u32 bdf;
	u64 common, notify, isr, devcfg;
	u32 notify_mult;
	bool msix;           /* its queues raise MSI-X vector 0 */
};

/* A buffer of a chain: device-writable when write is set. */
struct vbuf {
	u64 addr;
	u32 len;
	bool write;
};

/* Finds device type `id` on the transport chosen by the transport= and
 * mmio= parameters (default: PCI, then virtio-mmio probing). 0 or -1. */
int virtio_find(struct vdev *d, u32 id);
/* Reset, ACK, DRIVER, features (VERSION_1 | (offered & wanted)),
 * FEATURES_OK. 0 or -1 (status FAILED set). */
int virtio_negotiate(struct vdev *d, u64 wanted);
/* Set up queue `index` with min(max, want) entries. 0 or -1. */
int virtio_queue_setup(struct vdev *d, struct virtq *q, u16 index, u16 want);
void virtio_driver_ok(struct vdev *d);
void virtio_reset(struct vdev *d);
u8 virtio_status(struct vdev *d);
u32 virtio_cfg_read(struct vdev *d, u32 off, u32 size);
u64 virtio_cfg_read64(struct vdev *d, u32 off);

/* Writes bufs as a chain at descriptors [head, head + n), or, with a
 * table given, as an indirect table whose one descriptor is `head`;
 * then makes it available. Does not notify. */
void virtq_add(struct virtq *q, u16 head, const struct vbuf *bufs, int n,
	       struct virtq_desc *table);
/* Notifies the device of what was added since the last kick, unless the
 * device asked not to be (VIRTQ_USED_F_NO_NOTIFY). */
void virtq_kick(struct virtq *q);
/* Takes one used entry if there is one: true and *id / *len set. */
bool virtq_get(struct virtq *q, u32 *id, u32 *len);
/* Waits for a used entry until the TSC reaches deadline. */
bool virtq_wait(struct virtq *q, u32 *id, u32 *len, u64 deadline);

/* pci.c: modern virtio functions on bus 0 of type id; fills the PCI
 * fields of d, assigning BARs that are missing or above 4 GiB. */
int pci_find_virtio(struct vdev *d, u32 id);
/* The architecture's MSI controller: vector 0's message for the function
 * bdf (then its queues use the vector), or false (polling only). */
bool pci_arch_msi(u32 bdf, u64 *addr, u32 *data);

#endif

/* Internal to the virtio-pci transport (pci.c, pci_common.c). */
#ifndef CVISOR_VIRTIO_PCI_PRIV_H
#define CVISOR_VIRTIO_PCI_PRIV_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/pci.h"
#include "core/log.h"
#include "virtio/pci.h"

struct virtio_pci;

struct vpci_queue {
	struct virtio_pci *p;
	unsigned index;
	int efd;                 /* -1 until first enabled; kept until free */
	bool by_call;            /* no eventfd could be made: loop calls */
	bool enabled;            /* the driver enabled it (and it took) */
	bool assigned;           /* registered with env->ioeventfd at... */
	uint64_t assigned_addr;  /* ...this address */
	uint16_t vector;         /* MSI-X vector, atomic: read by callbacks */
};

struct virtio_pci {
	struct pci_func f;
	struct virtio_dev *vdev;
	struct dev_env env;
	virtio_release_fn release;

	/* Common config selectors, queue state, notify address. Taken under
	 * the host lock (bar_moved, PCI_CFG window) and before the core's. */
	pthread_mutex_t lock;
	uint32_t dev_feat_sel, drv_feat_sel;
	uint16_t queue_sel;
	uint16_t config_vector;  /* atomic, like vpci_queue.vector */
	uint64_t bar_addr;       /* BAR4 base, or PCI_BAR_UNMAPPED */
	bool warned_ioeventfd;
	struct vpci_queue *qs;   /* vdev->nr_queues */

	pthread_mutex_t irq_lock; /* pairs an ISR change with the INTx level */
	bool irq_level;
	unsigned cfg_cap;        /* config offset of the PCI_CFG capability */
	struct ratelimit rl;
};

/* pci_common.c: the common configuration structure, p->lock held. */
uint64_t vpci_common_read(struct virtio_pci *p, uint64_t off, unsigned size);
void vpci_common_write(struct virtio_pci *p, uint64_t off, unsigned size,
		       uint64_t val);

/* pci.c, for pci_common.c; p->lock held. */
void vpci_reset_locked(struct virtio_pci *p, bool sync);
void vpci_queue_enabled(struct virtio_pci *p, unsigned q);

#endif

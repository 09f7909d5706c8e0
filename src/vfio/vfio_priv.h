/* Internal glue between the src/vfio files. */
#ifndef CVISOR_VFIO_VFIO_PRIV_H
#define CVISOR_VFIO_VFIO_PRIV_H

#include <linux/vfio.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/pci.h"
#include "bus/pci_msix.h"
#include "vfio/vfio.h"

#define VFIO_MAX_GROUPS   CFG_MAX_PASS
#define VFIO_SLOTS_PER_DEV 16   /* KVM memory slots: 2 per BAR and spare */
#define VFIO_MSI_MAX      32

struct vfio_group {
	int nr;                /* /dev/vfio/nr */
	int fd;
	unsigned users;
};

/* One container per VM: every group in it shares the IOMMU mappings. */
struct vfio_ctx {
	unsigned refs;
	int vm_fd;
	struct guest_mem *mem;
	unsigned first_slot, nr_devs;
	int container;         /* /dev/vfio/vfio, -1 until the first group */
	bool dma_mapped;
	int kvm_dev;           /* the kvm-vfio device, -1 until needed */
	struct vfio_group groups[VFIO_MAX_GROUPS];
	unsigned nr_groups;
};

/* One BAR as the host gives it. */
struct vfio_bar {
	uint64_t size;         /* VFIO region size (0: none) */
	uint64_t region_off;   /* offset of the region in the device fd */
	uint8_t flags;         /* PCI_BAR_* of the real BAR */
	void *map;             /* mmap of the whole BAR, or NULL: trapped */
	/* KVM memory slots mapping [0, split) and [split_end, size) of the
	 * mapping: the MSI-X table's pages stay trapped */
	uint64_t split, split_end;
	uint64_t slot_gpa;     /* where the slots are, or PCI_BAR_UNMAPPED */
};

struct vfio_msi {
	unsigned cap;          /* config offset of the MSI capability, 0 none */
	bool is64, maskable;
	unsigned max_vec;      /* 1 << MMC */
	bool on;               /* vectors handed to VFIO */
	unsigned nr_on;
	uint64_t addr;         /* the message routed, while on */
	uint16_t data;
	int efd[VFIO_MSI_MAX];
	int route[VFIO_MSI_MAX];
	bool bound[VFIO_MSI_MAX];
};

struct vfio_pass {
	struct pci_func f;
	struct vfio_ctx *ctx;
	struct vfio_host_dev host;
	struct vfio_group *group;
	int fd;                /* the device */
	unsigned idx;          /* nth passed device: its KVM slots */
	bool can_reset;
	bool mmap_off;                 /* `mmap off`: every BAR access traps */
	uint64_t cfg_off, cfg_size;    /* the config region */
	uint8_t emu[PCI_CFG_SIZE];     /* 1: the byte is cvisor's */
	struct vfio_bar bars[PCI_NUM_BARS];
	/* expansion ROM: the region (or a file's bytes) behind 0x30 */
	uint64_t rom_size, rom_off;
	uint8_t *rom_file;
	struct device rom_dev;
	uint64_t rom_mapped;
	/* INTx */
	unsigned pin;
	int intx_efd, intx_rfd;
	bool intx_on;
	struct vfio_msi msi;
	bool msix_on;                  /* VFIO signals pci_msix's eventfds */
	const struct dev_env *env;     /* the VM's, from create on */
	pthread_mutex_t irq_lock;      /* INTx/MSI switching */
};

static inline struct vfio_pass *pass_of(struct pci_func *f)
{
	return (struct vfio_pass *)f;
}

/* container.c */
int vfio_ctx_add_group(struct vfio_ctx *c, int nr, struct vfio_group **out);
void vfio_ctx_drop_group(struct vfio_ctx *c, struct vfio_group *g);
/* kvm_dev.c */
int vfio_kvm_add_group(struct vfio_ctx *c, int group_fd, bool add);
/* config.c */
int vfio_cfg_read_dev(struct vfio_pass *p, unsigned off, unsigned size,
		      uint32_t *v);
int vfio_cfg_write_dev(struct vfio_pass *p, unsigned off, unsigned size,
		       uint32_t v);
int vfio_config_init(struct vfio_pass *p);
/* bars.c */
int vfio_bars_init(struct vfio_pass *p);
void vfio_bar_moved(struct pci_func *f, unsigned bar, uint64_t addr);
uint64_t vfio_bar_read(struct pci_func *f, unsigned bar, uint64_t off,
		       unsigned size);
void vfio_bar_write(struct pci_func *f, unsigned bar, uint64_t off,
		    unsigned size, uint64_t v);
void vfio_bars_free(struct vfio_pass *p);
/* rom.c */
int vfio_rom_init(struct vfio_pass *p, const struct pass_config *pc);
void vfio_rom_free(struct vfio_pass *p);
/* intx.c */
int vfio_intx_enable(struct vfio_pass *p);
void vfio_intx_disable(struct vfio_pass *p);
/* msix.c */
int vfio_msix_init(struct vfio_pass *p, const uint8_t *raw, unsigned off,
		   unsigned last);
void vfio_msix_off(struct vfio_pass *p);
/* bars.c: keep [off, off+len) of BAR bar out of its memory slots */
void vfio_bar_hole(struct vfio_pass *p, unsigned bar, uint64_t off,
		   uint64_t len);
/* msi.c */
void vfio_msi_init(struct vfio_pass *p);
void vfio_msi_cfg_written(struct vfio_pass *p);
void vfio_msi_disable(struct vfio_pass *p);
void vfio_msi_free(struct vfio_pass *p);
/* irq.c: VFIO_DEVICE_SET_IRQS with eventfds (fds NULL, n 0: disable) */
int vfio_set_irqs(int dev_fd, unsigned index, unsigned action,
		  const int *fds, unsigned n);

#endif

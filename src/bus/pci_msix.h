/* MSI-X for a PCI function: the capability, the vector table and the PBA in
 * a BAR of the device's choosing, masking and pending bits, and delivery.
 *
 * Each vector owns an eventfd. When the VM offers irqfds (dev_env.msi_irqfd)
 * a live vector (MSI-X enabled, function and vector unmasked, valid x86
 * address) has its eventfd bound to a route that carries its message, so
 * raising it is one write(2) from any thread with no lock and no exit. A
 * masked vector is unbound: writes pile up in the eventfd and become the
 * pending bit when the guest reads the PBA or unmasks, which then delivers
 * them. Without irqfds, pci_msix_notify takes the lock and uses msi_signal.
 *
 * Route updates happen only when a vector becomes live (unmasked, or MSI-X
 * enabled or the function unmasked with it unmasked). A message written
 * while the vector stays live is stored (and reads back) but the route
 * keeps the old one until the next unmask or enable: PCI leaves such a
 * write undefined, drivers mask around it (Linux does), QEMU behaves the
 * same, and it keeps a guest that rewrites a live entry in a loop from
 * costing a routing-table update (KVM_SET_GSI_ROUTING) per write. The
 * slow path reads the table at each delivery, so there it applies at once.
 */
#ifndef CVISOR_BUS_PCI_MSIX_H
#define CVISOR_BUS_PCI_MSIX_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

struct pci_func;

#define PCI_MSIX_MAX_VECTORS  2048
#define PCI_MSIX_ENTRY_SIZE   16
#define PCI_MSIX_CTRL_ENABLE  0x8000    /* message control bits */
#define PCI_MSIX_CTRL_MASKALL 0x4000
#define PCI_MSIX_VEC_MASKED   0x1       /* vector control bit */

/* x86: messages go to the local APICs' window, 0xFEExxxxx. */
#define MSI_ADDR_BASE   0xfee00000ULL    /* 1 MiB; upper 32 bits zero */

struct pci_msix_vec {
	int efd;                   /* the device writes it to raise the vector */
	int route;                 /* VM route id, -1 before the first */
	uint64_t route_addr;       /* message the route carries */
	uint32_t route_data;
	bool bound;                /* efd is bound to route (irqfd) */
};

struct pci_msix {
	pthread_mutex_t lock;      /* table, PBA, binding; never on the fast path */
	struct pci_func *f;
	unsigned nr;               /* vectors */
	unsigned cap;              /* config offset of the capability */
	unsigned table_bar, pba_bar;
	uint64_t table_off, pba_off;
	bool enabled, masked;      /* message control, read without the lock */
	bool use_irqfd;
	uint32_t *table;           /* nr * 4 dwords: addr lo, addr hi, data, ctrl */
	uint64_t *pba;
	struct pci_msix_vec *vec;
};

/* Add the MSI-X capability with nr vectors (1..2048), the table at
 * table_off in BAR table_bar and the PBA at pba_off in BAR pba_bar. The
 * BARs must already be declared and large enough; offsets 8-byte aligned,
 * table and PBA disjoint. Returns the capability offset or -errno. */
int pci_msix_init(struct pci_func *f, unsigned nr, unsigned table_bar,
		  uint64_t table_off, unsigned pba_bar, uint64_t pba_off);
/* Raise vector vec (ignored when vec >= nr). Any thread; lock-free with
 * irqfds. The device must only call it while MSI-X is enabled. */
void pci_msix_notify(struct pci_func *f, unsigned vec);
/* The eventfd of vec for an IO thread to write directly, or -1 when
 * deliveries need pci_msix_notify (no irqfd) or vec is out of range. */
int pci_msix_fd(const struct pci_func *f, unsigned vec);
/* MSI-X enable bit (any thread): when clear, the device uses INTx. */
bool pci_msix_enabled(const struct pci_func *f);
unsigned pci_msix_nr(const struct pci_func *f);

/* For pci_func.c: BAR accesses in the table or PBA (true when handled),
 * reset to power-on (all masked, disabled, nothing pending), and free. */
bool pci_msix_bar_access(struct pci_func *f, unsigned bar, uint64_t off,
			 unsigned size, bool is_write, uint64_t *val);
void pci_msix_reset(struct pci_msix *m);
void pci_msix_free(struct pci_msix *m);

#endif

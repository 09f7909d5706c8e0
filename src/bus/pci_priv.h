/* Internal glue between the PCI files; devices use pci.h and pci_msix.h. */
#ifndef CVISOR_BUS_PCI_PRIV_H
#define CVISOR_BUS_PCI_PRIV_H

#include "bus/pci.h"

extern const struct device_ops pci_func_dev_ops;

/* pci_bar.c; the host lock is held for all of these. */
void pci_bar_update(struct pci_func *f, unsigned n);
void pci_bars_update(struct pci_func *f);
int pci_bars_place(struct pci_host *h, struct pci_func *f);
void pci_host_retry_maps(struct pci_host *h);
uint64_t pci_bar_read(struct device *dev, unsigned bar, uint64_t off,
		      unsigned size);
void pci_bar_write(struct device *dev, unsigned bar, uint64_t off,
		   unsigned size, uint64_t value);

/* pci_func.c: MSI-X enable changed, so INTx may have to drop or return. */
void pci_intx_msix_changed(struct pci_func *f, bool msix_on);

static inline bool pci_overlaps(unsigned off, unsigned size, unsigned reg,
				unsigned len)
{
	return off < reg + len && reg < off + size;
}

#endif

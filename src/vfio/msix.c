/* MSI-X of a passed device: the capability, table and PBA are bus/
 * pci_msix.c's, at the device's own offsets (config.c puts the capability
 * where the device has it, bars.c keeps the table and PBA pages out of
 * the BAR's memory slots so the guest's accesses trap). Each vector's
 * eventfd is the one pci_msix binds to a KVM route while the vector is
 * live; here VFIO is told to signal those eventfds while the guest has
 * MSI-X enabled, and INTx is off meanwhile. A masked vector's eventfd
 * is unbound by pci_msix: what the device raises stays there as the
 * pending bit and is delivered at unmask. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "bus/pci_msix.h"
#include "core/log.h"
#include "core/util.h"
#include "vfio/vfio_priv.h"

static int msix_on(struct vfio_pass *p)
{
	unsigned n = pci_msix_nr(&p->f);
	int *fds = xcalloc(n ? n : 1, sizeof(*fds)), ret = 0;

	for (unsigned i = 0; i < n && !ret; i++) {
		fds[i] = pci_msix_fd(&p->f, i);
		if (fds[i] < 0)
			ret = -ENOTSUP;    /* no irqfds: nothing to hand VFIO */
	}
	vfio_msi_disable(p);
	vfio_intx_disable(p);
	if (!ret)
		ret = vfio_set_irqs(p->fd, VFIO_PCI_MSIX_IRQ_INDEX,
				    VFIO_IRQ_SET_ACTION_TRIGGER, fds, n);
	free(fds);
	if (ret) {
		log_ratelimited(LOG_ERR, "pass %s: MSI-X with %u vectors: %s",
				p->host.name, n, strerror(-ret));
		vfio_intx_enable(p);
		return ret;
	}
	p->msix_on = true;
	return 0;
}

void vfio_msix_off(struct vfio_pass *p)
{
	if (!p->msix_on)
		return;
	vfio_set_irqs(p->fd, VFIO_PCI_MSIX_IRQ_INDEX,
		      VFIO_IRQ_SET_ACTION_TRIGGER, NULL, 0);
	p->msix_on = false;
}

/* After pci_msix's own hook has taken the guest's control write. */
static void ctrl_write(struct pci_func *f, unsigned off, unsigned size,
		       uint32_t v)
{
	struct vfio_pass *p = pass_of(f);
	bool on = pci_msix_enabled(f);

	if (on == p->msix_on)
		return;
	if (on) {
		msix_on(p);
		return;
	}
	vfio_msix_off(p);
	/* MSI enabled meanwhile (ignored while MSI-X was on) takes over
	 * now; else INTx comes back. */
	if (p->msi.cap)
		vfio_msi_cfg_written(p);
	if (!p->msi.on)
		vfio_intx_enable(p);
}

/* The device's capability at off (raw: its config bytes): the same
 * table and PBA for the guest, in BARs cvisor has declared. 0, or -1
 * when it cannot be given (then hidden). */
int vfio_msix_init(struct vfio_pass *p, const uint8_t *raw, unsigned off,
		   unsigned last)
{
	struct pci_func *f = &p->f;
	unsigned nr, tbar, pbar;
	uint32_t t, b;
	int ret;

	if (off + 12 > PCI_CFG_SIZE)
		return -1;
	nr = ((raw[off + 2] | raw[off + 3] << 8) & 0x7ff) + 1;
	t = raw[off + 4] | raw[off + 5] << 8 | raw[off + 6] << 16 |
	    (uint32_t)raw[off + 7] << 24;
	b = raw[off + 8] | raw[off + 9] << 8 | raw[off + 10] << 16 |
	    (uint32_t)raw[off + 11] << 24;
	tbar = t & 7;
	pbar = b & 7;
	if (tbar >= PCI_NUM_BARS || pbar >= PCI_NUM_BARS ||
	    !p->bars[tbar].size || !p->bars[pbar].size)
		return -1;
	/* The real table and PBA stay out of the guest's mapping even when
	 * the capability must be hidden below: what the guest writes there
	 * must never reach the device. */
	vfio_bar_hole(p, tbar, t & ~7u, (uint64_t)nr * PCI_MSIX_ENTRY_SIZE);
	vfio_bar_hole(p, pbar, b & ~7u, ALIGN_UP((uint64_t)nr, 64) / 8);
	/* pci_add_cap appends at cap_end after cap_last: here, in place. */
	f->cap_end = off;
	f->cap_last = last;
	ret = pci_msix_init(f, nr, tbar, t & ~7u, pbar, b & ~7u);
	if (ret != (int)off) {
		pr_warn("pass %s: MSI-X (%u vectors, table BAR%u+%#x, PBA "
			"BAR%u+%#x) cannot be emulated (%d): hidden",
			p->host.name, nr, tbar, t & ~7u, pbar, b & ~7u, ret);
		return -1;
	}
	if (pci_cfg_add_hook(f, off + 2, 2, NULL, ctrl_write))
		return -1;
	for (unsigned i = 0; i < 12; i++)
		p->emu[off + i] = 1;
	pr_info("pass %s: MSI-X %u vectors, table BAR%u+%#x, PBA BAR%u+%#x",
		p->host.name, nr, tbar, t & ~7u, pbar, b & ~7u);
	return 0;
}

/* The passed device's configuration space as the guest sees it.
 *
 * The header is cvisor's (a pci_func like any other): IDs, class and
 * revision copied from the device, BARs sized and placed by the guest
 * over the device's real sizes and types, the command register forwarded.
 * The capability list is filtered: power management, PCI Express and
 * vendor capabilities are the device's, MSI and MSI-X are emulated (msi.c,
 * msix.c), the rest left out of the chain.
 * Every other byte from 0x40 up is the device's, read and written
 * through VFIO, whose own tables keep the guest from the dangerous bits.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "vfio/vfio_priv.h"

#define CAP_ID_PM   0x01
#define CAP_ID_MSI  0x05
#define CAP_ID_EXP  0x10

extern const struct pci_func_ops vfio_pass_ops;

int vfio_cfg_read_dev(struct vfio_pass *p, unsigned off, unsigned size,
		      uint32_t *v)
{
	uint8_t b[4] = { 0 };

	*v = 0;
	if (size > 4 || off + size > p->cfg_size ||
	    pread(p->fd, b, size, (off_t)(p->cfg_off + off)) != (ssize_t)size)
		return -EIO;
	for (unsigned i = 0; i < size; i++)
		*v |= (uint32_t)b[i] << (8 * i);
	return 0;
}

int vfio_cfg_write_dev(struct vfio_pass *p, unsigned off, unsigned size,
		       uint32_t v)
{
	uint8_t b[4];

	if (size > 4 || off + size > p->cfg_size || p->fd < 0)
		return -EIO;
	for (unsigned i = 0; i < size; i++)
		b[i] = v >> (8 * i);
	if (pwrite(p->fd, b, size, (off_t)(p->cfg_off + off)) != (ssize_t)size)
		return -EIO;
	return 0;
}

/* Bytes from 0x40: the device's unless emulated. */
static uint32_t caps_read(struct pci_func *f, unsigned off, unsigned size)
{
	struct vfio_pass *p = pass_of(f);
	uint32_t dev = 0, v = 0;

	vfio_cfg_read_dev(p, off, size, &dev);
	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;
		uint8_t b = p->emu[o] ? f->cfg[o] : dev >> (8 * i);

		v |= (uint32_t)b << (8 * i);
	}
	return v;
}

static void caps_write(struct pci_func *f, unsigned off, unsigned size,
		       uint32_t v)
{
	struct vfio_pass *p = pass_of(f);
	bool msi = false;

	for (unsigned i = 0; i < size; i++) {
		unsigned o = off + i;

		if (o < 0x40)
			continue;
		if (!p->emu[o])
			vfio_cfg_write_dev(p, o, 1, v >> (8 * i));
		else if (p->msi.cap && o >= p->msi.cap && o < p->msi.cap + 24)
			msi = true;
	}
	if (msi)
		vfio_msi_cfg_written(p);
}

/* The command register: the virtual one drives the BAR mappings; the
 * device gets the guest's bits (VFIO emulates INTx disable). */
static void command_write(struct pci_func *f, unsigned off, unsigned size,
			  uint32_t v)
{
	struct vfio_pass *p = pass_of(f);

	vfio_cfg_write_dev(p, PCI_COMMAND, 2, pci_cfg_get(f, PCI_COMMAND, 2));
}

static unsigned msi_len(const uint8_t *c)
{
	uint16_t ctl = c[2] | c[3] << 8;

	return 10 + (ctl & 0x80 ? 4 : 0) + (ctl & 0x100 ? 10 : 0);
}

/* Walk the device's list (each offset once: a broken device can loop it),
 * keep the capabilities we can give, chained in their original order. */
static void filter_caps(struct vfio_pass *p, const uint8_t *raw)
{
	struct pci_func *f = &p->f;
	unsigned off = raw[PCI_CAP_PTR] & ~3u, last = 0;
	bool seen[PCI_CFG_SIZE / 4] = { false };

	f->cfg[PCI_CAP_PTR] = 0;
	f->cfg[PCI_STATUS] &= ~PCI_STATUS_CAP_LIST;
	for (; off >= 0x40 && off < PCI_CFG_SIZE && !seen[off / 4];) {
		uint8_t id = raw[off];
		unsigned next = raw[off + 1] & ~3u;

		seen[off / 4] = true;

		bool keep = id == CAP_ID_PM || id == CAP_ID_EXP ||
			    id == PCI_CAP_ID_VNDR || (id == CAP_ID_MSI &&
			    off + msi_len(&raw[off]) <= PCI_CFG_SIZE);

		if (id == PCI_CAP_ID_MSIX && !vfio_msix_init(p, raw, off, last)) {
			last = off;     /* pci_msix linked it */
		} else if (keep) {
			f->cfg[last ? last + 1 : PCI_CAP_PTR] = off;
			f->cfg[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
			f->cfg[off] = id;
			f->cfg[off + 1] = 0;
			p->emu[off] = p->emu[off + 1] = 1;
			last = off;
			if (id == CAP_ID_MSI)
				p->msi.cap = off;
		} else {
			pr_debug("pass %s: capability %#x at %#x hidden",
				 p->host.name, id, off);
		}
		off = next;
	}
	f->cap_last = last;
	f->cap_end = PCI_CFG_SIZE;   /* nothing of cvisor's is appended */
}

/* MSI: the whole capability is cvisor's; the guest writes the enable and
 * vector-count bits, the message and (when maskable) the mask bits. */
static void msi_setup(struct vfio_pass *p, const uint8_t *raw)
{
	struct pci_func *f = &p->f;
	unsigned m = p->msi.cap, len;
	uint16_t ctl;

	if (!m)
		return;
	len = msi_len(&raw[m]);
	memcpy(&f->cfg[m + 2], &raw[m + 2], len - 2);
	ctl = (raw[m + 2] | raw[m + 3] << 8) & ~0x71;   /* off, 1 vector */
	pci_cfg_put(f, m + 2, 2, ctl);
	for (unsigned i = 2; i < len; i++)
		p->emu[m + i] = 1;
	memset(&f->cfg[m + 4], 0, len - 4);
	p->msi.is64 = ctl & 0x80;
	p->msi.maskable = ctl & 0x100;
	p->msi.max_vec = 1u << MIN((ctl >> 1) & 7, 5);
	f->wmask[m + 2] = 0x71;
	for (unsigned i = 4; i < 8; i++)
		f->wmask[m + i] = i == 4 ? 0xfc : 0xff;
	if (p->msi.is64)
		memset(&f->wmask[m + 8], 0xff, 4);
	f->wmask[m + (p->msi.is64 ? 12 : 8)] = 0xff;
	f->wmask[m + (p->msi.is64 ? 13 : 9)] = 0xff;
	if (p->msi.maskable)
		memset(&f->wmask[m + (p->msi.is64 ? 16 : 12)], 0xff, 4);
}

int vfio_config_init(struct vfio_pass *p)
{
	struct pci_func *f = &p->f;
	uint8_t raw[PCI_CFG_SIZE];
	uint32_t class_rev;
	int ret;

	if (pread(p->fd, raw, sizeof(raw), (off_t)p->cfg_off) != sizeof(raw)) {
		pr_err("pass %s: reading its configuration space: %s",
		       p->host.name, strerror(errno));
		return -EIO;
	}
	if ((raw[PCI_HEADER_TYPE] & 0x7f) != 0) {
		pr_err("pass %s: header type %#x: only endpoints (type 0) can "
		       "be passed, not bridges", p->host.name,
		       raw[PCI_HEADER_TYPE]);
		return -ENOTSUP;
	}
	class_rev = raw[8] | raw[9] << 8 | raw[10] << 16 | (uint32_t)raw[11] << 24;
	pci_func_init(f, "pass", &vfio_pass_ops, p->env,
		      raw[0] | raw[1] << 8, raw[2] | raw[3] << 8,
		      class_rev >> 8, class_rev & 0xff,
		      raw[0x2c] | raw[0x2d] << 8, raw[0x2e] | raw[0x2f] << 8);
	p->pin = raw[PCI_INTERRUPT_PIN] <= 4 ? raw[PCI_INTERRUPT_PIN] : 0;
	pci_cfg_put(f, PCI_INTERRUPT_PIN, 1, p->pin);
	for (unsigned i = 0; i < 0x40; i++)
		p->emu[i] = 1;
	ret = vfio_bars_init(p);
	if (ret)
		return ret;
	filter_caps(p, raw);
	msi_setup(p, raw);
	if (pci_cfg_add_hook(f, PCI_COMMAND, 2, NULL, command_write) ||
	    pci_cfg_add_hook(f, 0x40, PCI_CFG_SIZE - 0x40, caps_read,
			     caps_write))
		return -ENOSPC;
	return 0;
}

/* PCI enumeration for the virtio driver: bus 0 through configuration
 * mechanism #1 (ports 0xCF8/0xCFC, which works on QEMU pc, q35 and cvisor).
 * The port accesses are ring-0 service calls (ring 3 cannot do port I/O
 * here); the scan, the capability walk and the BAR logic are ring 3.
 * The AArch64 guest reaches the same registers through the tree's ECAM
 * window (guest_arch.h's pci_cfg_read/write) and gives its devices an
 * MSI-X vector where it has an MSI controller (pci_arch_msi).
 */
#include "virtio.h"

#define PCI_VENDOR_VIRTIO 0x1af4
#define PCI_CAP_ID_VNDR   0x09

#define PCI_COMMAND_MEM         0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_INTX_DISABLE 0x0400

/* virtio_pci_cap.cfg_type */
#define VIRTIO_PCI_CAP_COMMON 1
#define VIRTIO_PCI_CAP_NOTIFY 2
#define VIRTIO_PCI_CAP_ISR    3
#define VIRTIO_PCI_CAP_DEVICE 4

/* Where we put a BAR the firmware left unassigned (or above 4 GiB, which
 * our page tables do not map). Inside cvisor's 32-bit window
 * (0xC0000000-0xFBFFFFFF, filled from the bottom) and above what SeaBIOS
 * uses on pc (from 0xE0000000 up); override with pcimem=. */
#ifdef PCI_BAR_WINDOW_BASE
#define BAR_FALLBACK_BASE PCI_BAR_WINDOW_BASE
#define BAR_FALLBACK_END  PCI_BAR_WINDOW_END
#define cfg_read  pci_cfg_read
#define cfg_write pci_cfg_write
#else
#define BAR_FALLBACK_BASE 0xF0000000ull
#define BAR_FALLBACK_END  0xFB000000ull

static u32 cfg_read(u32 bdf, u32 reg, u32 size)
{
	return (u32)svc(SVC_PCI_READ, bdf | reg, size, 0);
}

static void cfg_write(u32 bdf, u32 reg, u32 size, u32 val)
{
	svc(SVC_PCI_WRITE, bdf | reg, size, val);
}
#endif

#define PCI_CAP_ID_MSIX 0x11

static u64 bar_next;

/* Where the architecture has an MSI controller for this function: the
 * message (address, data) of its vector 0. The x86 guest polls. */
__attribute__((weak)) bool pci_arch_msi(u32 bdf, u64 *addr, u32 *data)
{
	(void)bdf;
	(void)addr;
	(void)data;
	return false;
}

static void print_bdf(u32 bdf)
{
	printf("%02x:%02x.%x", (bdf >> 16) & 0xff, (bdf >> 11) & 0x1f,
	       (bdf >> 8) & 7);
}

/* Size a memory BAR and place it in the fallback window. Decoding is off
 * (command MEM clear) while the sizing pattern is in the register. */
static u64 bar_assign(u32 bdf, int bar, bool is64)
{
	u32 reg = 0x10 + 4 * (u32)bar;
	u16 cmd = (u16)cfg_read(bdf, 0x04, 2);
	cfg_write(bdf, 0x04, 2, cmd & ~PCI_COMMAND_MEM);
	cfg_write(bdf, reg, 4, 0xffffffff);
	u64 mask = cfg_read(bdf, reg, 4) & ~0xfu;
	if (is64) {
		cfg_write(bdf, reg + 4, 4, 0xffffffff);
		mask |= (u64)cfg_read(bdf, reg + 4, 4) << 32;
	} else {
		mask |= 0xffffffff00000000ull;
	}
	u64 size = ~mask + 1;
	if (!bar_next)
		bar_next = param_u64("pcimem", BAR_FALLBACK_BASE);
	u64 align = size < 4096 ? 4096 : size;
	u64 addr = (bar_next + align - 1) & ~(align - 1);
	if (!mask || addr + size > BAR_FALLBACK_END) {
		printf("virtio-pci: cannot place BAR%d (size 0x%lx)\n", bar, size);
		addr = 0;
	} else {
		bar_next = addr + size;
	}
	cfg_write(bdf, reg, 4, (u32)addr);
	if (is64)
		cfg_write(bdf, reg + 4, 4, (u32)(addr >> 32));
	cfg_write(bdf, 0x04, 2, cmd);
	print_bdf(bdf);
	printf(" BAR%d assigned 0x%lx (size 0x%lx)\n", bar, addr, size);
	return addr;
}

/* The address of memory BAR `bar`, assigning it if need be; 0 if it is an
 * I/O BAR or cannot be placed. */
static u64 bar_address(u32 bdf, int bar)
{
	u32 reg = 0x10 + 4 * (u32)bar;
	u32 lo = cfg_read(bdf, reg, 4);
	if (lo & 1)
		return 0;
	bool is64 = ((lo >> 1) & 3) == 2;
	if (is64 && bar == 5)
		return 0;
	u64 addr = lo & ~0xfull;
	if (is64)
		addr |= (u64)cfg_read(bdf, reg + 4, 4) << 32;
	/* Only the low 4 GiB are mapped; 0 means the firmware did not
	 * assign it (cvisor and SeaBIOS both do). */
	if (!addr || addr >= 0x100000000ull)
		addr = bar_assign(bdf, bar, is64);
	return addr;
}

/* Virtio device type of a virtio function, or 0. Modern IDs are 0x1040 +
 * type; transitional ones (0x1000-0x103F) carry the type in the subsystem
 * ID and are fine as long as they have the modern capabilities. */
static u32 virtio_type(u32 bdf, u32 vendev)
{
	u32 dev = vendev >> 16;
	if ((vendev & 0xffff) != PCI_VENDOR_VIRTIO)
		return 0;
	if (dev >= 0x1040 && dev <= 0x107f)
		return dev - 0x1040;
	if (dev >= 0x1000 && dev <= 0x103f)
		return cfg_read(bdf, 0x2e, 2);
	return 0;
}

/* Walks the capability list for the four virtio windows. */
static int map_caps(struct vdev *d, u32 bdf)
{
	u64 bars[6] = { 0 };
	bool have[6] = { false };
	d->common = d->notify = d->isr = d->devcfg = 0;

	if (!(cfg_read(bdf, 0x06, 2) & 0x10))   /* status: capability list */
		return -1;
	u32 p = cfg_read(bdf, 0x34, 1) & 0xfc;
	for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
		u32 hdr = cfg_read(bdf, p, 4);   /* id, next, len, cfg_type */
		u32 next = (hdr >> 8) & 0xfc;
		if ((hdr & 0xff) != PCI_CAP_ID_VNDR)
			goto next;
		u32 type = hdr >> 24;
		u32 bar = cfg_read(bdf, p + 4, 1);
		u32 off = cfg_read(bdf, p + 8, 4);
		if (bar > 5 || type < VIRTIO_PCI_CAP_COMMON ||
		    type > VIRTIO_PCI_CAP_DEVICE)
			goto next;
		if (!have[bar]) {
			bars[bar] = bar_address(bdf, (int)bar);
			have[bar] = true;
		}
		if (!bars[bar])
			goto next;
		u64 addr = bars[bar] + off;
		/* The spec lets a device repeat a capability type; the
		 * first one is the preferred one. */
		switch (type) {
		case VIRTIO_PCI_CAP_COMMON:
			if (!d->common)
				d->common = addr;
			break;
		case VIRTIO_PCI_CAP_NOTIFY:
			if (!d->notify) {
				d->notify = addr;
				d->notify_mult = cfg_read(bdf, p + 16, 4);
			}
			break;
		case VIRTIO_PCI_CAP_ISR:
			if (!d->isr)
				d->isr = addr;
			break;
		case VIRTIO_PCI_CAP_DEVICE:
			if (!d->devcfg)
				d->devcfg = addr;
			break;
		}
next:
		p = next;
	}
	return d->common && d->notify ? 0 : -1;
}

/* MSI-X vector 0 of the function gets (addr, data), unmasked, and MSI-X
 * is enabled (INTx then stays quiet). 0, or -1 without the capability. */
static int msix_setup(u32 bdf, u64 addr, u32 data)
{
	u32 p = cfg_read(bdf, 0x34, 1) & 0xfc;

	for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
		u32 hdr = cfg_read(bdf, p, 4);
		if ((hdr & 0xff) != PCI_CAP_ID_MSIX) {
			p = (hdr >> 8) & 0xfc;
			continue;
		}
		u32 table = cfg_read(bdf, p + 4, 4);
		u64 base = bar_address(bdf, (int)(table & 7));
		if (!base)
			return -1;
		base += table & ~7u;
		mmio_write32(base, (u32)addr);
		mmio_write32(base + 4, (u32)(addr >> 32));
		mmio_write32(base + 8, data);
		mmio_write32(base + 12, 0);                 /* unmasked */
		u16 ctrl = (u16)cfg_read(bdf, p + 2, 2);
		cfg_write(bdf, p + 2, 2, (ctrl | 0x8000) & ~0x4000);
		return 0;
	}
	return -1;
}

int pci_find_virtio(struct vdev *d, u32 id)
{
	for (u32 dev = 0; dev < 32; dev++) {
		u32 nfn = 1;
		for (u32 fn = 0; fn < nfn; fn++) {
			u32 bdf = PCI_BDF(0, dev, fn);
			u32 vendev = cfg_read(bdf, 0x00, 4);
			if ((vendev & 0xffff) == 0xffff)
				continue;
			if (fn == 0 && (cfg_read(bdf, 0x0e, 1) & 0x80))
				nfn = 8;
			if (virtio_type(bdf, vendev) != id)
				continue;
			if (map_caps(d, bdf) < 0) {
				print_bdf(bdf);
				printf(" %04x:%04x: no modern virtio capabilities, "
				       "skipped\n", vendev & 0xffff, vendev >> 16);
				continue;
			}
			/* Decode memory, allow DMA (QEMU drops a device's
			 * memory accesses without bus mastering), and keep
			 * INTx quiet: we poll. */
			u16 cmd = (u16)cfg_read(bdf, 0x04, 2);
			cfg_write(bdf, 0x04, 2, cmd | PCI_COMMAND_MEM |
				  PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE);
			d->transport = VIRTIO_PCI;
			d->id = id;
			d->bdf = bdf;
			u64 maddr;
			u32 mdata;
			d->msix = pci_arch_msi(bdf, &maddr, &mdata) &&
				  msix_setup(bdf, maddr, mdata) == 0;
			if (d->msix)
				printf("virtio: pci msix vector 0: 0x%lx data "
				       "0x%x\n", maddr, mdata);
			printf("virtio: pci ");
			print_bdf(bdf);
			printf(" %04x:%04x type %u common=0x%lx notify=0x%lx "
			       "mult=%u device=0x%lx\n", vendev & 0xffff,
			       vendev >> 16, id, d->common, d->notify,
			       d->notify_mult, d->devcfg);
			return 0;
		}
	}
	return -1;
}

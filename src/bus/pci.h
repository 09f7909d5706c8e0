/* PCI: one host bridge, bus 0, conventional type-0 functions.
 *
 * The host bridge decodes configuration mechanism #1 (ports 0xCF8/0xCFC) and
 * an ECAM window, and owns up to 32 slots of 8 functions. A PCI device embeds
 * a struct pci_func, describes its IDs, BARs and capabilities with the calls
 * below, and is attached to a slot; from then on the host maps its BARs on
 * the VM's PIO and MMIO buses whenever the guest enables decoding, and sends
 * BAR accesses to the function's ops. See docs/pci.md.
 *
 * Locking: every configuration access runs under the host's lock (config
 * cycles are rare). BAR accesses take no PCI lock. INTx and MSI-X have their
 * own small locks, so a device may raise interrupts from any thread.
 */
#ifndef CVISOR_BUS_PCI_H
#define CVISOR_BUS_PCI_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "devices/device.h"

/* Standard type-0 header registers. */
#define PCI_VENDOR_ID        0x00
#define PCI_DEVICE_ID        0x02
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_REVISION_ID      0x08
#define PCI_CLASS_PROG       0x09
#define PCI_CLASS_DEVICE     0x0a
#define PCI_CACHE_LINE_SIZE  0x0c
#define PCI_HEADER_TYPE      0x0e
#define PCI_BAR0             0x10
#define PCI_SUBSYSTEM_VENDOR 0x2c
#define PCI_SUBSYSTEM_ID     0x2e
#define PCI_ROM_ADDRESS      0x30
#define PCI_CAP_PTR          0x34
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_INTERRUPT_PIN    0x3d

#define PCI_COMMAND_IO       0x0001
#define PCI_COMMAND_MEMORY   0x0002
#define PCI_COMMAND_MASTER   0x0004
#define PCI_COMMAND_PARITY   0x0040
#define PCI_COMMAND_SERR     0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400

#define PCI_STATUS_INTERRUPT 0x0008
#define PCI_STATUS_CAP_LIST  0x0010
#define PCI_STATUS_W1C       0xf900    /* error bits: write 1 to clear */

#define PCI_HEADER_MULTIFUNCTION 0x80

#define PCI_BAR_SPACE_IO     0x01      /* low bits of a BAR register */
#define PCI_BAR_MEM_TYPE_64  0x04
#define PCI_BAR_MEM_PREFETCH 0x08

#define PCI_CAP_ID_VNDR      0x09
#define PCI_CAP_ID_MSIX      0x11

#define PCI_CFG_SIZE         256       /* implemented per function */
#define PCI_ECAM_FN_SIZE     4096      /* ECAM stride per function */
#define PCI_NUM_BARS         6
#define PCI_MAX_SLOTS        32
#define PCI_MAX_FNS          8
#define PCI_MAX_CFG_HOOKS    8
#define PCI_INTX_PIN_A       1         /* interrupt pin register: 1 = INTA */

#define PCI_BAR_UNMAPPED     (~0ULL)

/* The host bridge function at 00:00.0: Red Hat's neutral "PCIe host bridge"
 * (QEMU's gpex), which no guest driver binds to. */
#define PCI_HOST_VENDOR      0x1b36
#define PCI_HOST_DEVICE      0x0008
#define PCI_CLASS_HOST_BRIDGE 0x060000

/* Where PCI lives in the guest-physical and port spaces. RAM must stay out of
 * [hole_base, 4 GiB) and out of the 64-bit window when it has one. */
struct pci_layout {
	uint64_t hole_base;          /* lowest address RAM below 4G may not use */
	uint64_t ecam_base, ecam_size;
	uint64_t mmio32_base, mmio32_size;  /* BAR window below 4 GiB */
	uint64_t mmio64_base, mmio64_size;  /* above RAM; size 0 = none */
	uint64_t io_base, io_size;          /* IO BAR window */
	/* The wired INTx lines: pin INTA-INTD of slot s goes to line
	 * intx_base + (s + pin - 1) % 4 (the standard swizzle): the PC's
	 * IOAPIC inputs 16-19, arm64's GIC INTIDs. */
	uint32_t intx_base;
	/* Where MSI-X messages may go (x86: the local APICs' 0xFEExxxxx,
	 * arm64: the ITS's GITS_TRANSLATER frame); size 0: nowhere (arm64
	 * with a GICv2, which has no ITS: INTx only). */
	uint64_t msi_base, msi_size;
};

#define PCI_ECAM_BASE_DEFAULT   0xb0000000ULL
#define PCI_ECAM_SIZE_BUS0      0x100000ULL   /* 1 MiB: bus 0 only */
#define PCI_MMIO32_BASE_DEFAULT 0xc0000000ULL
#define PCI_MMIO32_END_DEFAULT  0xfc000000ULL /* IOAPIC, HPET, LAPIC above */
#define PCI_IO_BASE_DEFAULT     0xc000ULL
#define PCI_IO_END_DEFAULT      0x10000ULL

/* Defaults: ECAM at 0xB0000000 (1 MiB), BARs in 0xC0000000-0xFBFFFFFF, IO
 * BARs in 0xC000-0xFFFF, and a 64-bit window of mmio64_size bytes (may be 0)
 * at the first 1 GiB boundary at or above max(ram_end, 4 GiB). */
void pci_layout_default(struct pci_layout *l, uint64_t ram_end,
			uint64_t mmio64_size);

/* The IOAPIC input of INTx pin (1 = INTA .. 4 = INTD) of a device in slot:
 * GSIs 16-19, swizzled by slot. The one place that decides; ACPI _PRT and
 * the interrupt line register use it too. */
#define PCI_INTX_GSI_BASE 16
#define PCI_INTX_GSI_NR   4
uint32_t pci_intx_gsi(unsigned slot, unsigned pin);
/* The same for the layout's lines (l->intx_base). */
uint32_t pci_layout_intx(const struct pci_layout *l, unsigned slot,
			 unsigned pin);
/* addr is in the layout's MSI window (l may be NULL: x86's). */
bool pci_layout_msi_ok(const struct pci_layout *l, uint64_t addr);

struct pci_func;
struct pci_host;
struct pci_msix;

struct pci_func_ops {
	/* Accesses to a mapped BAR (the MSI-X table and PBA are handled
	 * before these). offset + size <= the BAR's size; size 1 to 8: KVM
	 * splits an access that crosses a page into odd sizes (3, 5-7),
	 * which each handler must bound or refuse itself. */
	uint64_t (*bar_read)(struct pci_func *f, unsigned bar, uint64_t offset,
			     unsigned size);
	void (*bar_write)(struct pci_func *f, unsigned bar, uint64_t offset,
			  unsigned size, uint64_t value);
	/* Optional: the BAR now decodes at addr, or not at all (addr ==
	 * PCI_BAR_UNMAPPED). For ioeventfds that must follow the BAR. Runs
	 * under the host lock, in the thread of the config write. */
	void (*bar_moved)(struct pci_func *f, unsigned bar, uint64_t addr);
	void (*reset)(struct pci_func *f);   /* device state to power-on */
	void (*free)(struct pci_func *f);    /* free the containing struct */
};

/* Hooks on a range of config bytes (device-specific capabilities). A write
 * first updates the bytes through the write mask, then calls write with the
 * whole access; a read calls read instead of returning the bytes. Both run
 * under the host lock; off is the register offset of the access. */
typedef uint32_t (*pci_cfg_read_fn)(struct pci_func *f, unsigned off,
				    unsigned size);
typedef void (*pci_cfg_write_fn)(struct pci_func *f, unsigned off,
				 unsigned size, uint32_t value);

struct pci_cfg_hook {
	unsigned off, len;
	pci_cfg_read_fn read;       /* may be NULL */
	pci_cfg_write_fn write;     /* may be NULL */
};

struct pci_bar {
	uint64_t size;              /* 0: not implemented */
	uint8_t flags;              /* PCI_BAR_SPACE_IO, _MEM_TYPE_64, _PREFETCH */
	uint64_t mapped;            /* base on the bus, or PCI_BAR_UNMAPPED */
	bool want_map;              /* decoding on, but the bus refused it */
};

struct pci_intx {
	pthread_mutex_t lock;
	uint32_t gsi;
	bool level;                 /* the device's line */
	bool disabled;              /* COMMAND.INTX_DISABLE */
	bool msix_on;               /* MSI-X enabled: INTx is not used */
	bool out;                   /* what the IOAPIC was last told */
};

struct pci_func {
	/* What the bus sees: region n of this device is BAR n. A PCI device's
	 * create() returns &func->dev; the builder attaches it to the host. */
	struct device dev;
	const struct pci_func_ops *ops;
	const struct dev_env *env;
	struct pci_host *host;      /* set by pci_host_attach */
	uint8_t slot, fn;

	uint8_t cfg[PCI_CFG_SIZE];
	uint8_t wmask[PCI_CFG_SIZE];  /* guest-writable bits */
	uint8_t w1c[PCI_CFG_SIZE];    /* write-1-to-clear bits */
	uint8_t cfg_reset[PCI_CFG_SIZE]; /* state after placement, for reset */
	unsigned cap_end;             /* next free byte for a capability */
	unsigned cap_last;            /* offset of the last capability, or 0 */

	struct pci_bar bars[PCI_NUM_BARS];
	struct pci_cfg_hook hooks[PCI_MAX_CFG_HOOKS];
	unsigned nr_hooks;
	struct pci_intx intx;
	struct pci_msix *msix;        /* NULL without MSI-X */
	void *priv;                   /* the device's, untouched by PCI */
};

/* Set up f: IDs, class (base << 16 | sub << 8 | prog-if), INTA pin. name is
 * the device type name for messages. */
void pci_func_init(struct pci_func *f, const char *name,
		   const struct pci_func_ops *ops, const struct dev_env *env,
		   uint16_t vendor, uint16_t device, uint32_t class_code,
		   uint8_t revision, uint16_t subsys_vendor, uint16_t subsys_id);
/* Declare BAR n: size a power of two (IO >= 4, memory >= 16 bytes), flags
 * PCI_BAR_SPACE_IO or memory with PCI_BAR_MEM_TYPE_64 and/or
 * PCI_BAR_MEM_PREFETCH. A 64-bit BAR uses n and n+1. 0 or -EINVAL. */
int pci_func_add_bar(struct pci_func *f, unsigned n, uint64_t size,
		     uint8_t flags);
/* Append a capability: id, then body (the bytes after the id and next
 * pointer, len of them). Returns its config offset, or -ENOSPC/-EINVAL. */
int pci_add_cap(struct pci_func *f, uint8_t id, const void *body,
		unsigned len);
/* Let the guest write all bits of config bytes [off, off+len). */
void pci_cfg_set_writable(struct pci_func *f, unsigned off, unsigned len);
int pci_cfg_add_hook(struct pci_func *f, unsigned off, unsigned len,
		     pci_cfg_read_fn read, pci_cfg_write_fn write);

/* Plain little-endian access to a function's config bytes, for the device
 * (before attach, or from its hooks). off + size must be <= 256. */
uint32_t pci_cfg_get(const struct pci_func *f, unsigned off, unsigned size);
void pci_cfg_put(struct pci_func *f, unsigned off, unsigned size, uint32_t v);

/* A guest configuration access (the host calls these; tests may too). */
uint32_t pci_func_cfg_read(struct pci_func *f, unsigned off, unsigned size);
void pci_func_cfg_write(struct pci_func *f, unsigned off, unsigned size,
			uint32_t value);

/* Drive the function's INTx line (level-triggered). Any thread. */
void pci_func_set_irq(struct pci_func *f, bool level);

/* The function's requester ID on bus 0 (devfn), for MSI routing. */
static inline uint32_t pci_devid(const struct pci_func *f)
{
	return (uint32_t)f->slot << 3 | f->fn;
}

/* The PCI function behind a device, or NULL when dev is not one. */
struct pci_func *pci_func_of(struct device *dev);
/* Back to the state left by pci_host_attach; calls ops->reset. */
void pci_func_reset(struct pci_func *f);

/* ---- host bridge ---- */

struct pci_alloc {
	uint64_t next, end;
};

struct pci_host {
	struct device dev;          /* regions: 0xCF8, 0xCFC, ECAM */
	const struct dev_env *env;
	struct bus *pio, *mmio;
	struct pci_layout layout;
	pthread_mutex_t lock;       /* config accesses, attach, BAR maps */
	uint32_t cf8;               /* CONFIG_ADDRESS latch */
	uint8_t rst_cnt;            /* 0xCF9 reset control */
	struct pci_alloc alloc_mem32, alloc_mem64, alloc_io;
	struct pci_func bridge;     /* 00:00.0 */
	struct pci_func *fns[PCI_MAX_SLOTS][PCI_MAX_FNS];
};

/* Host bridge regions in host->dev.regions[]. */
enum { PCI_HOST_REGION_CF8, PCI_HOST_REGION_CFC, PCI_HOST_REGION_ECAM };

/* Create the host bridge. Its regions (0xCF8-0xCFB, 0xCFC-0xCFF and the
 * ECAM window) are in host->dev.regions for the builder to place like any
 * device; BARs go on pio and mmio, which must outlive the host. */
struct pci_host *pci_host_create(const struct dev_env *env,
				 const struct pci_layout *layout,
				 struct bus *pio, struct bus *mmio);
/* Put f at 00:slot.fn (slot < 0: the first free slot from 1, fn 0), place
 * its BARs in the windows and enable decoding, as firmware would. 0,
 * -EBUSY (slot taken), -ENOSPC (no slot or no window space), -EINVAL. */
int pci_host_attach(struct pci_host *h, struct pci_func *f, int slot,
		    unsigned fn);
void pci_host_free(struct pci_host *h);

/* 0xCF9 reset control register (PIIX/ICH RST_CNT) bits. */
#define PCI_RST_CNT_SYS_RST  0x02   /* hard reset when RST_CPU is set */
#define PCI_RST_CNT_RST_CPU  0x04   /* writing 1 resets */
#define PCI_RST_CNT_FULL_RST 0x08   /* full reset (power cycle) */

#endif

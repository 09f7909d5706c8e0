/* Resource conflicts between statements: the same interrupt line used
 * twice, overlapping regions in each address space (mem, io, pci slots),
 * and, when some vdev is on PCI, memory in the PCI hole. Items are
 * compared in source order (cfg_pos.seq) so the error is reported at the
 * later one and names the earlier one. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arch/arm64/arm64.h"
#include "arch/x86/arch.h"
#include "arch/x86/firmware.h"
#include "bus/pci.h"
#include "config/cfg_internal.h"
#include "core/util.h"
#include "devices/registry.h"

#define LAPIC_BASE   0xfee00000ULL
#define LAPIC_SIZE   (1 * MiB)
#define IOAPIC_BASE  0xfec00000ULL
#define IOAPIC_SIZE  (4 * KiB)
#define VIRTIO_MMIO_SIZE 0x200

/* The PCI hole the host bridge claims below 4 GiB: ECAM (with room for
 * more buses) and the 32-bit BAR window, pci_layout_default's numbers.
 * The IOAPIC, HPET and LAPIC windows above it are checked on their own. */
#define PCI_HOLE_START PCI_ECAM_BASE_DEFAULT
#define PCI_HOLE_END   PCI_MMIO32_END_DEFAULT

/* What the config can name, the firmware image, and the windows every
 * VM has (x86: six, arm64: five; add_region checks). */
#define MAX_BUILTIN_REGIONS 6
#define MAX_REGIONS (CFG_MAX_RAM + CFG_MAX_ROM + CFG_MAX_RESERVE + \
		     CFG_MAX_VDEVS + CFG_MAX_PASS + 1 + MAX_BUILTIN_REGIONS)
#define MAX_IRQS    (CFG_MAX_RESERVE + CFG_MAX_VDEVS * CFG_MAX_INTRS + 4)

struct region {
	enum cfg_space space;
	uint64_t start, len;       /* PCI: start = bus << 8 | dev << 3 | fn */
	const char *what;          /* "ram", "vdev ser8250", ... */
	const struct cfg_pos *pos; /* NULL for implicit windows */
	unsigned seq;
};

struct irq_use {
	const struct cfg_intr *intr;
	const char *what;
	bool reserved;
};

static int by_seq(const void *a, const void *b)
{
	const struct region *x = a, *y = b;

	if (x->seq != y->seq)
		return x->seq < y->seq ? -1 : 1;
	return 0;
}

static void add_region(struct region *r, unsigned *n, enum cfg_space space,
		       uint64_t start, uint64_t len, const char *what,
		       const struct cfg_pos *pos)
{
	/* The table is sized from the CFG_MAX_* counts: more is a bug here
	 * (the built-in windows outgrew MAX_BUILTIN_REGIONS), not input. */
	if (*n == MAX_REGIONS)
		abort();
	r[(*n)++] = (struct region){ space, start, len, what, pos,
				     pos ? pos->seq : 0 };
}

/* A device takes its own size whatever the loc's length says (the
 * length only widens what the firmware tables announce), so the larger
 * of the two is what must not overlap. */
static void add_loc(struct region *r, unsigned *n, const struct cfg_loc *l,
		    uint64_t dev_len, const char *what)
{
	if (l->space == LOC_PCI) {
		/* a vendor/device id names no slot until the builder runs */
		if (!l->pci_by_id)
			add_region(r, n, LOC_PCI, (uint64_t)l->bus << 8 |
				   l->dev << 3 | l->fn, 1, what, &l->pos);
		return;
	}
	add_region(r, n, l->space, l->addr,
		   l->has_len ? MAX(l->len, dev_len) : dev_len, what, &l->pos);
}

static void vdev_regions(struct arena *a, const struct vm_config *cfg,
			 struct region *r, unsigned *n)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];
		const char *what = arena_printf(a, "vdev %s", vc->type->name);
		uint64_t len = vc->type->region_len;
		const struct cfg_devopt *rs = vdev_opt(vc, "regshift");

		if (!vc->nr_locs)
			continue;
		if (rs)             /* an MMIO 16550's registers spread out */
			len <<= rs->num;
		if (vc->type->class == VDEV_VIRTIO)
			len = VIRTIO_MMIO_SIZE;
		add_loc(r, n, &vc->locs[0], len, what);
	}
}

static bool has_ioapic_vdev(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].type->class == VDEV_IRQCHIP)
			return true;
	return false;
}

static unsigned collect_regions(struct arena *a, const struct vm_config *cfg,
				struct region *r)
{
	unsigned n = 0;

	if (cfg->arch == CFG_ARCH_ARM64) {
		/* The vGIC's distributor, and the GICv3's redistributors or
		 * the GICv2's CPU interface. */
		add_region(r, &n, LOC_MEM, ARM64_GICD_BASE, ARM64_GICD_SIZE,
			   "the gic distributor", NULL);
		if (arm64_gic_version(cfg) == 2)
			add_region(r, &n, LOC_MEM, ARM64_GICC_BASE,
				   ARM64_GICV2_CPU_LEN, "the gic cpu interface",
				   NULL);
		else
			add_region(r, &n, LOC_MEM, ARM64_GICR_BASE,
				   ARM64_GICR_STRIDE *
				   (cfg->nr_cpus ? cfg->nr_cpus : 1),
				   "the gic redistributors", NULL);
		/* With PCI: the bridge's windows and the GICv3's ITS. */
		if (arm64_has_its(cfg))
			add_region(r, &n, LOC_MEM, ARM64_ITS_BASE,
				   ARM64_ITS_SIZE, "the gic its", NULL);
		if (vm_config_has_pci(cfg)) {
			add_region(r, &n, LOC_MEM, ARM64_PCI_ECAM_BASE,
				   ARM64_PCI_ECAM_SIZE, "the pci ecam window",
				   NULL);
			add_region(r, &n, LOC_MEM, ARM64_PCI_MMIO32_BASE,
				   ARM64_PCI_MMIO32_SIZE,
				   "the pci memory window", NULL);
		}
		goto config;
	}
	/* KVM's LAPIC and IOAPIC windows are there whether declared or not;
	 * a declared ioapic vdev stands for its own window. */
	add_region(r, &n, LOC_MEM, LAPIC_BASE, LAPIC_SIZE,
		   "the local apic window", NULL);
	/* So are KVM's own pages and the devices every VM gets. */
	add_region(r, &n, LOC_MEM, X86_KVM_IDENTITY_MAP, X86_KVM_PRIVATE_LEN,
		   "kvm's real-mode tss and identity map", NULL);
	add_region(r, &n, LOC_IO, 0x80, 1, "the port 0x80 sink", NULL);
	add_region(r, &n, LOC_IO, 0x92, 1, "system control port a (0x92)",
		   NULL);
	add_region(r, &n, LOC_IO, X86_ACPI_SLEEP_CTL_PORT,
		   X86_ACPI_PM_PORTS_LEN, "the acpi power registers", NULL);
	if (!has_ioapic_vdev(cfg))
		add_region(r, &n, LOC_MEM, IOAPIC_BASE, IOAPIC_SIZE,
			   "the ioapic window", NULL);
config:
	if (cfg->firmware.path)     /* a BIOS image ends at 4 GiB */
		add_region(r, &n, LOC_MEM, cfg->firmware.addr,
			   cfg->firmware_size, "firmware", &cfg->firmware.pos);
	for (unsigned i = 0; i < cfg->nr_ram; i++)
		add_region(r, &n, LOC_MEM, cfg->ram[i].start, cfg->ram[i].size,
			   "ram", &cfg->ram[i].pos);
	for (unsigned i = 0; i < cfg->nr_rom; i++)
		add_region(r, &n, LOC_MEM, cfg->rom[i].start, cfg->rom[i].size,
			   "rom", &cfg->rom[i].pos);
	for (unsigned i = 0; i < cfg->nr_reserve; i++)
		if (cfg->reserve[i].kind == RESERVE_LOC)
			add_loc(r, &n, &cfg->reserve[i].loc, 1, "reserve");
	vdev_regions(a, cfg, r, &n);
	for (unsigned i = 0; i < cfg->nr_pass; i++) {
		const struct pass_config *pc = &cfg->passes[i];

		if (pc->has_guest_slot)
			add_region(r, &n, LOC_PCI, pc->guest_dev << 3 |
				   pc->guest_fn, 1, "pass", &pc->guest_pos);
	}
	return n;
}

static void describe(const struct region *r, char *buf, size_t size)
{
	if (r->space == LOC_PCI)
		snprintf(buf, size, "%s pci %u:%u.%u", r->what,
			 (unsigned)(r->start >> 8), (unsigned)(r->start >> 3) & 31,
			 (unsigned)r->start & 7);
	else
		snprintf(buf, size, "%s %s 0x%llx-0x%llx", r->what,
			 space_name(r->space), (unsigned long long)r->start,
			 (unsigned long long)(r->start + r->len - 1));
}

static int overlap_error(const struct region *old, const struct region *new,
			 struct cfg_error *err)
{
	char a[128], b[128], p[POS_STR_MAX] = "";

	describe(new, a, sizeof(a));
	describe(old, b, sizeof(b));
	if (old->pos) {
		strcpy(p, " at ");
		pos_str(old->pos, p + 4, sizeof(p) - 4);
	}
	return cfg_err(err, new->pos, "%s overlaps %s%s", a, b, p);
}

static const struct vdev_config *first_pci_vdev(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (cfg->vdevs[i].on_pci)
			return &cfg->vdevs[i];
	return NULL;
}

/* RAM, ROM, reserved memory and MMIO devices must leave the PCI hole to
 * the host bridge, which exists only when some vdev is on PCI: its BARs
 * and ECAM would otherwise land on them. r is sorted by seq, so the first
 * offender in the source is reported. */
static int check_pci_hole(const struct vm_config *cfg, const struct region *r,
			  unsigned n, struct cfg_error *err)
{
	const struct vdev_config *vc = first_pci_vdev(cfg);
	const struct cfg_pos *by = vc ? &vc->pos :
				   cfg->nr_pass ? &cfg->passes[0].pos : NULL;
	const char *by_name = vc ? vc->type->name : "pass";
	char a[128], p[POS_STR_MAX];

	/* arm64's windows are regions of their own (collect_regions) */
	if (!by || cfg->arch == CFG_ARCH_ARM64)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		if (r[i].space != LOC_MEM || !r[i].pos ||
		    !ranges_overlap(r[i].start, r[i].len, PCI_HOLE_START,
				    PCI_HOLE_END - PCI_HOLE_START))
			continue;
		describe(&r[i], a, sizeof(a));
		return cfg_err(err, r[i].pos, "%s overlaps the PCI hole "
			       "0x%llx-0x%llx (needed by %s%s at %s)", a,
			       (unsigned long long)PCI_HOLE_START,
			       (unsigned long long)PCI_HOLE_END - 1,
			       vc ? "vdev " : "", by_name,
			       pos_str(by, p, sizeof(p)));
	}
	return 0;
}

/* Both tables are bounded by the CFG_MAX_* counts (a few KiB), so they
 * live on the stack: no allocation that could fail on this input path. */
static int check_regions(struct vm_config *cfg, struct cfg_error *err)
{
	struct region r[MAX_REGIONS];
	struct arena *a = cfg->arena;
	unsigned n;
	int ret = 0;

	n = collect_regions(a, cfg, r);
	qsort(r, n, sizeof(*r), by_seq);
	ret = check_pci_hole(cfg, r, n, err);
	for (unsigned j = 1; j < n && !ret; j++)
		for (unsigned i = 0; i < j && !ret; i++)
			if (r[i].space == r[j].space &&
			    ranges_overlap(r[i].start, r[i].len,
					   r[j].start, r[j].len))
				ret = overlap_error(&r[i], &r[j], err);
	return ret;
}

/* arm64's PCI INTx lines, taken when some device is on PCI. */
static const struct cfg_intr arm64_intx[4] = {
	{ .pic = "gic", .line = ARM64_PCI_INTX_BASE },
	{ .pic = "gic", .line = ARM64_PCI_INTX_BASE + 1 },
	{ .pic = "gic", .line = ARM64_PCI_INTX_BASE + 2 },
	{ .pic = "gic", .line = ARM64_PCI_INTX_BASE + 3 },
};

static unsigned collect_irqs(const struct vm_config *cfg, struct irq_use *u)
{
	unsigned n = 0;

	if (cfg->arch == CFG_ARCH_ARM64 && vm_config_has_pci(cfg))
		for (unsigned i = 0; i < 4; i++)
			u[n++] = (struct irq_use){ &arm64_intx[i],
						   "the pci intx lines", true };
	for (unsigned i = 0; i < cfg->nr_reserve; i++)
		if (cfg->reserve[i].kind == RESERVE_INTR)
			u[n++] = (struct irq_use){ &cfg->reserve[i].intr,
						   "reserve", true };
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		for (unsigned k = 0; k < vc->nr_intrs; k++)
			if (!vc->intrs[k].is_apic)
				u[n++] = (struct irq_use){ &vc->intrs[k],
							   vc->type->name,
							   false };
	}
	return n;
}

static int by_intr_seq(const void *a, const void *b)
{
	const struct irq_use *x = a, *y = b;

	if (x->intr->pos.seq != y->intr->pos.seq)
		return x->intr->pos.seq < y->intr->pos.seq ? -1 : 1;
	return 0;
}

static int irq_error(const struct irq_use *old, const struct irq_use *new,
		     struct cfg_error *err)
{
	char p[POS_STR_MAX];

	pos_str(&old->intr->pos, p, sizeof(p));
	if (!old->intr->pos.file)        /* implicit: no position */
		return cfg_err(err, &new->intr->pos, "interrupt %s:%u is one "
			       "of %s", new->intr->pic, new->intr->line,
			       old->what);
	if (old->reserved)
		return cfg_err(err, &new->intr->pos, "interrupt %s:%u already "
			       "reserved at %s", new->intr->pic,
			       new->intr->line, p);
	return cfg_err(err, &new->intr->pos, "interrupt %s:%u already used by "
		       "%s at %s", new->intr->pic, new->intr->line, old->what, p);
}

static int check_irqs(struct vm_config *cfg, struct cfg_error *err)
{
	struct irq_use u[MAX_IRQS];
	unsigned n;
	int ret = 0;

	n = collect_irqs(cfg, u);
	qsort(u, n, sizeof(*u), by_intr_seq);
	for (unsigned j = 1; j < n && !ret; j++)
		for (unsigned i = 0; i < j && !ret; i++)
			if (u[i].intr->line == u[j].intr->line &&
			    !strcmp(u[i].intr->pic, u[j].intr->pic))
				ret = irq_error(&u[i], &u[j], err);
	return ret;
}

int check_conflicts(struct vm_config *cfg, struct cfg_error *err)
{
	if (check_irqs(cfg, err))
		return -1;
	return check_regions(cfg, err);
}

/* Second pass: with the whole config known, fill in defaults (vdev loc and
 * intr, one vCPU), resolve interrupt controller names, and check what a
 * single statement could not (QNX §5.4 rules; conflicts are in
 * conflicts.c). */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/cfg_internal.h"
#include "core/log.h"
#include "core/util.h"
#include "devices/registry.h"

#define IOAPIC_BASE  0xfec00000ULL
#define IOAPIC_LINES 24

/* A renamed ioapic (`vdev ioapic name myioapic`) renames the implicit one:
 * KVM's in-kernel IOAPIC is the only one there is. */
static void resolve_ioapic_name(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		struct vdev_config *vc = &cfg->vdevs[i];

		if (vc->type->class == VDEV_IRQCHIP && vc->name[0])
			snprintf(cfg->ioapic_name, sizeof(cfg->ioapic_name),
				 "%s", vc->name);
	}
}

/* arm64: the GIC is implicit and named `gic` (QNX's form); a line is an
 * INTID, and devices get SPIs: 32-1019 (0-31 are each CPU's SGIs and
 * PPIs, 1020-1023 are special). */
static int check_gic_intr(struct vm_config *cfg, struct cfg_intr *in,
			  struct cfg_error *err)
{
	if (!in->pic[0])           /* `reserve intr N` */
		snprintf(in->pic, sizeof(in->pic), "gic");
	if (strcmp(in->pic, "gic"))
		return cfg_err(err, &in->pos, "undefined interrupt controller "
			       "'%s' (an arm64 VM has 'gic')", in->pic);
	if (cfg->arch != CFG_ARCH_ARM64)
		return cfg_err(err, &in->pos, "undefined interrupt "
			       "controller 'gic' (arm64's: add 'arch arm64' "
			       "to the config, or check with --arch arm64)");
	if (in->line < 32 || in->line > 1019)
		return cfg_err(err, &in->pos, "interrupt line %u out of range "
			       "for gic (SPIs: 32-1019)", in->line);
	return 0;
}

static int check_intr(struct vm_config *cfg, struct cfg_intr *in,
		      struct cfg_error *err)
{
	if (cfg->arch == CFG_ARCH_ARM64 || !strcmp(in->pic, "gic"))
		return check_gic_intr(cfg, in, err);
	if (!in->pic[0])           /* `reserve intr N` */
		snprintf(in->pic, sizeof(in->pic), "%s", cfg->ioapic_name);
	if (in->is_apic)
		return cfg_err(err, &in->pos, "'intr apic' is only valid for "
			       "vdev ioapic");
	if (!strcmp(in->pic, "apic"))
		return cfg_err(err, &in->pos, "the local apic has no lines; "
			       "write 'intr apic'");
	if (strcmp(in->pic, cfg->ioapic_name))
		return cfg_err(err, &in->pos, "undefined interrupt controller "
			       "'%s'", in->pic);
	if (in->line >= IOAPIC_LINES)
		return cfg_err(err, &in->pos, "interrupt line %u out of range "
			       "for %s (0-%d)", in->line, in->pic,
			       IOAPIC_LINES - 1);
	return 0;
}

static int default_loc(struct vdev_config *vc, struct cfg_error *err)
{
	const struct vdev_type *t = vc->type;
	uint64_t addr;

	if (!t->default_loc || !t->default_loc(vc->index, &addr))
		return cfg_err(err, &vc->pos, "vdev %s needs 'loc' (it has no "
			       "default location)", t->name);
	vc->locs[0] = (struct cfg_loc){ .space = t->loc_space, .addr = addr,
					.pos = vc->pos };
	vc->nr_locs = 1;
	return 0;
}

/* Devices KVM emulates sit where KVM puts them: a loc is only a check. */
static int check_fixed_loc(struct vdev_config *vc, struct cfg_error *err)
{
	const struct vdev_type *t = vc->type;
	const struct cfg_loc *l = &vc->locs[0];
	unsigned max = t->max_instances ? t->max_instances : 1;
	uint64_t addr;

	if (t->class == VDEV_IRQCHIP && l->addr != IOAPIC_BASE)
		return cfg_err(err, &l->pos, "ioapic loc must be 0xfec00000 (the "
			       "in-kernel ioapic cannot move)");
	for (unsigned i = 0; i < max; i++)
		if (t->default_loc && t->default_loc(i, &addr) &&
		    addr == l->addr)
			return 0;
	return cfg_err(err, &l->pos, "vdev %s is emulated by kvm and cannot "
		       "move to %s 0x%llx", t->name, space_name(l->space),
		       (unsigned long long)l->addr);
}

static int resolve_loc(struct vm_config *cfg, struct vdev_config *vc,
		       struct cfg_error *err)
{
	const struct vdev_type *t = vc->type;
	const struct cfg_loc *l = &vc->locs[0];

	/* arm64 has no port I/O: its PC defaults do not apply, and a device
	 * that has an MMIO form takes that one */
	if (cfg->arch == CFG_ARCH_ARM64 && t->mem_loc_too) {
		if (!vc->nr_locs)
			return cfg_err(err, &vc->pos, "vdev %s needs 'loc ADDR' "
				       "on arm64 (a mem loc: it has no port "
				       "I/O)", t->name);
		if (l->space != LOC_MEM)
			return cfg_err(err, &l->pos, "vdev %s needs a mem "
				       "location on arm64 (it has no port "
				       "I/O)", t->name);
		return 0;
	}
	if (!vc->nr_locs)
		return default_loc(vc, err);
	if (l->space != t->loc_space)
		return cfg_err(err, &l->pos, "vdev %s needs an %s location, not "
			       "%s", t->name, space_name(t->loc_space),
			       space_name(l->space));
	if (t->class == VDEV_IRQCHIP || t->class == VDEV_INKERNEL)
		return check_fixed_loc(vc, err);
	return 0;
}

static int resolve_irqchip_intr(struct vdev_config *vc,
				struct cfg_error *err)
{
	for (unsigned i = 0; i < vc->nr_intrs; i++)
		if (!vc->intrs[i].is_apic)
			return cfg_err(err, &vc->intrs[i].pos, "vdev %s only "
				       "takes 'intr apic'", vc->type->name);
	return 0;
}

static int resolve_intr(struct vm_config *cfg, struct vdev_config *vc,
			struct cfg_error *err)
{
	const struct vdev_type *t = vc->type;
	uint32_t line;
	bool has_default = t->default_intr && t->default_intr(vc->index, &line);

	if (t->class == VDEV_IRQCHIP)
		return resolve_irqchip_intr(vc, err);
	if (!vc->nr_intrs) {
		/* the defaults are the PC's lines */
		if (cfg->arch == CFG_ARCH_ARM64 && (has_default ||
						    t->needs_intr))
			return cfg_err(err, &vc->pos, "vdev %s needs 'intr "
				       "gic:N' on arm64", t->name);
		if (!has_default && t->needs_intr)
			return cfg_err(err, &vc->pos, "vdev %s needs 'intr' (it "
				       "has no default interrupt)", t->name);
		if (!has_default)
			return 0;
		vc->intrs[0] = (struct cfg_intr){ .line = line, .pos = vc->pos };
		snprintf(vc->intrs[0].pic, sizeof(vc->intrs[0].pic), "%s",
			 cfg->ioapic_name);
		vc->nr_intrs = 1;
		return 0;
	}
	if (!has_default && !t->needs_intr)
		return cfg_err(err, &vc->intrs[0].pos, "vdev %s does not take "
			       "'intr'", t->name);
	if (vc->nr_intrs > 1)
		return cfg_err(err, &vc->intrs[1].pos, "vdev %s takes one "
			       "interrupt", t->name);
	if (check_intr(cfg, &vc->intrs[0], err))
		return -1;
	if (t->class == VDEV_INKERNEL && has_default &&
	    vc->intrs[0].line != line)
		return cfg_err(err, &vc->intrs[0].pos, "vdev %s is emulated by "
			       "kvm on line %u and cannot move to line %u",
			       t->name, line, vc->intrs[0].line);
	return 0;
}

/* cvisor's host bridge has one bus, and is itself 00:00.0. */
static int check_pci_slot(const struct cfg_loc *l, struct cfg_error *err)
{
	if (l->pci_by_id)
		return 0;
	if (l->bus)
		return cfg_err(err, &l->pos, "pci bus %u does not exist (there "
			       "is only bus 0)", l->bus);
	if (l->dev == 0)
		return cfg_err(err, &l->pos, "pci slot 0 is the host bridge");
	return 0;
}

/* QNX: virtio is on PCI unless given both loc and intr (then MMIO). */
static int resolve_virtio(struct vm_config *cfg, struct vdev_config *vc,
			  struct cfg_error *err)
{
	bool loc = vc->nr_locs, intr = vc->nr_intrs;

	if (loc && vc->locs[0].space == LOC_PCI) {
		vc->on_pci = true;
		if (intr)
			return cfg_err(err, &vc->intrs[0].pos, "vdev %s on pci "
				       "takes no 'intr'", vc->type->name);
		return check_pci_slot(&vc->locs[0], err);
	}
	vc->on_pci = !loc && !intr;
	if (vc->on_pci)
		return 0;
	if (!loc || !intr)
		return cfg_err(err, &vc->pos, "virtio-mmio vdev %s needs both "
			       "'loc' and 'intr'", vc->type->name);
	if (vc->locs[0].space != LOC_MEM)
		return cfg_err(err, &vc->locs[0].pos, "vdev %s needs a mem or "
			       "pci location", vc->type->name);
	/* virtio-mmio has one line (mmio_create wires intrs[0] only) */
	if (vc->nr_intrs > 1)
		return cfg_err(err, &vc->intrs[1].pos, "vdev %s takes one "
			       "interrupt", vc->type->name);
	return check_intr(cfg, &vc->intrs[0], err);
}

/* A PCI function: in a slot of bus 0, its INTx routed by the slot. The
 * type's check_vdev refused any other loc and an intr already. */
static int resolve_pci(struct vm_config *cfg, struct vdev_config *vc,
		       struct cfg_error *err)
{
	if (cfg->arch == CFG_ARCH_ARM64 && vc->type->pci_io_bar)
		return cfg_err(err, &vc->pos, "vdev %s has an I/O BAR, and "
			       "arm64's PCI bridge has no I/O space",
			       vc->type->name);
	vc->on_pci = true;
	return vc->nr_locs ? check_pci_slot(&vc->locs[0], err) : 0;
}

/* `vdev pmu`: arm64's, KVM's on every vCPU, nothing to place. */
static int resolve_pmu(const struct vm_config *cfg,
		       const struct vdev_config *vc, struct cfg_error *err)
{
	if (cfg->arch != CFG_ARCH_ARM64)
		return cfg_err(err, &vc->pos, "vdev pmu is arm64's performance "
			       "monitor unit (add 'arch arm64', or check with "
			       "--arch arm64)");
	if (vc->nr_locs)
		return cfg_err(err, &vc->locs[0].pos, "vdev pmu is in the "
			       "vCPUs: it takes no 'loc'");
	if (vc->nr_intrs)
		return cfg_err(err, &vc->intrs[0].pos, "vdev pmu's interrupt "
			       "is PPI 23: it takes no 'intr'");
	return 0;
}

/* arm64's implicit GIC declared (`vdev gic version 2|3`): its frames are
 * at fixed addresses, it has no line of its own, and a GICv2 serves at
 * most 8 CPUs. */
static int resolve_gic(struct vm_config *cfg, struct vdev_config *vc,
		       struct cfg_error *err)
{
	const struct cfg_devopt *v = vdev_opt(vc, "version");

	if (cfg->arch != CFG_ARCH_ARM64)
		return cfg_err(err, &vc->pos, "vdev gic is arm64's interrupt "
			       "controller (add 'arch arm64', or check with "
			       "--arch arm64)");
	if (vc->nr_locs)
		return cfg_err(err, &vc->locs[0].pos, "the gic's frames are at "
			       "fixed addresses: vdev gic takes no 'loc'");
	if (vc->nr_intrs)
		return cfg_err(err, &vc->intrs[0].pos, "vdev gic takes no "
			       "'intr'");
	if (vc->name[0] && strcmp(vc->name, "gic"))
		return cfg_err(err, &vc->pos, "the gic is named 'gic', not "
			       "'%s'", vc->name);
	if (v && v->num == 2 && cfg->nr_cpus > 8)
		return cfg_err(err, &v->pos, "a GICv2 serves at most 8 CPUs, "
			       "not %u", cfg->nr_cpus);
	return 0;
}

static int resolve_vdev(struct vm_config *cfg, struct vdev_config *vc,
			struct cfg_error *err)
{
	if (vc->type->check_vdev) {
		const struct cfg_pos *at = &vc->pos;
		const char *why = vc->type->check_vdev(vc, &at);

		if (why)
			return cfg_err(err, at, "vdev %s: %s", vc->type->name,
				       why);
	}
	if (vc->type == &gic_type)
		return resolve_gic(cfg, vc, err);
	if (vc->type == &pmu_type)
		return resolve_pmu(cfg, vc, err);
	if (vc->type->class == VDEV_VIRTIO)
		return resolve_virtio(cfg, vc, err);
	if (vc->type->class == VDEV_PCI)
		return resolve_pci(cfg, vc, err);
	if (resolve_loc(cfg, vc, err))
		return -1;
	return resolve_intr(cfg, vc, err);
}

static const struct cfg_pos *region_of(const struct vm_config *cfg,
				       uint64_t addr, uint64_t *start,
				       uint64_t *end)
{
	for (unsigned i = 0; i < cfg->nr_ram; i++) {
		const struct ram_config *r = &cfg->ram[i];

		if (addr >= r->start && addr - r->start < r->size) {
			*start = r->start;
			*end = r->start + r->size;
			return &r->pos;
		}
	}
	for (unsigned i = 0; i < cfg->nr_rom; i++) {
		const struct rom_config *r = &cfg->rom[i];

		if (addr >= r->start && addr - r->start < r->size) {
			*start = r->start;
			*end = r->start + r->size;
			return &r->pos;
		}
	}
	return NULL;
}

/* `load ADDR,PATH`: ADDR inside RAM/ROM that is declared before the load
 * (QNX's ordering rule), and the file fits there. */
static int check_load(const struct vm_config *cfg,
		      const struct load_config *ld, struct cfg_error *err)
{
	const struct cfg_pos *rp;
	uint64_t start, end;
	struct stat st;
	char buf[POS_STR_MAX];

	if (!ld->has_addr)
		return 0;
	rp = region_of(cfg, ld->addr, &start, &end);
	if (!rp)
		return cfg_err(err, &ld->pos, "load address 0x%llx is outside "
			       "ram and rom", (unsigned long long)ld->addr);
	if (rp->seq > ld->pos.seq)
		return cfg_err(err, &ld->pos, "ram must be allocated before "
			       "components that refer to guest memory (ram at "
			       "%s comes after this load)",
			       pos_str(rp, buf, sizeof(buf)));
	if (!stat(ld->path, &st) && S_ISREG(st.st_mode) &&
	    (uint64_t)st.st_size > end - ld->addr)
		return cfg_err(err, &ld->pos, "'%s' (%llu bytes) does not fit "
			       "at 0x%llx: memory ends at 0x%llx", ld->path,
			       (unsigned long long)st.st_size,
			       (unsigned long long)ld->addr,
			       (unsigned long long)end);
	return 0;
}

/* QNX warns about this rather than refusing: two FIFO vCPUs pinned to one
 * host CPU can starve each other. */
static void warn_runmask(const struct vm_config *cfg)
{
	char a[POS_STR_MAX], b[POS_STR_MAX];

	for (unsigned i = 0; i < cfg->nr_cpus; i++) {
		for (unsigned j = i + 1; j < cfg->nr_cpus; j++) {
			const struct cpu_config *x = &cfg->cpus[i];
			const struct cpu_config *y = &cfg->cpus[j];
			cpu_set_t both;

			if (!x->has_runmask || !y->has_runmask ||
			    (x->policy != SCHED_POL_FIFO &&
			     y->policy != SCHED_POL_FIFO))
				continue;
			CPU_AND(&both, &x->runmask, &y->runmask);
			if (CPU_COUNT(&both))
				pr_warn("%s: cpu runmask overlaps the cpu at %s "
					"while sched f is set",
					pos_str(&y->pos, a, sizeof(a)),
					pos_str(&x->pos, b, sizeof(b)));
		}
	}
}

static bool has_guest(const struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nr_loads; i++)
		if (cfg->loads[i].type == BLOB_GUEST)
			return true;
	return false;
}

static int check_reserved_intrs(struct vm_config *cfg, struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_reserve; i++)
		if (cfg->reserve[i].kind == RESERVE_INTR &&
		    check_intr(cfg, &cfg->reserve[i].intr, err))
			return -1;
	return 0;
}

/* After check_conflicts, which names both sides of two statements in
 * one slot: what is left is running out of slots, as the builder would. */
static int check_pci_slots(const struct vm_config *cfg, struct cfg_error *err)
{
	struct cfg_pci_plan plan;

	return config_pci_plan(cfg, &plan, err);
}

int validate_config(struct vm_config *cfg, const struct cfg_pos *start,
		    struct cfg_error *err)
{
	if (!cfg->nr_ram)
		return cfg_err(err, start, "no ram: add `ram SIZE`");
	if (validate_firmware(cfg, err))
		return -1;
	if (!has_guest(cfg) && !cfg->firmware.path)
		return cfg_err(err, start, "no guest image: add `load PATH`");
	resolve_ioapic_name(cfg);
	for (unsigned i = 0; i < cfg->nr_vdevs; i++)
		if (resolve_vdev(cfg, &cfg->vdevs[i], err))
			return -1;
	/* Once PCI is known: `ram SIZE` split around the device window. */
	if (place_implicit_ram(cfg, err))
		return -1;
	if (check_reserved_intrs(cfg, err) || validate_passes(cfg, err) ||
	    check_conflicts(cfg, err) || check_pci_slots(cfg, err))
		return -1;
	for (unsigned i = 0; i < cfg->nr_loads; i++)
		if (check_load(cfg, &cfg->loads[i], err))
			return -1;
	if (!cfg->nr_cpus) {
		memset(&cfg->cpus[0], 0, sizeof(cfg->cpus[0]));
		cfg->cpus[0].pos = *start;
		cfg->nr_cpus = 1;
	}
	warn_runmask(cfg);
	return 0;
}

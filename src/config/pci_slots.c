/* The guest's PCI slots: which 00:D.F each PCI function gets. One place
 * decides, for `cvisor check` as for the builder, so that a config check
 * accepts is one the builder can place.
 *
 * Slot 0 is the host bridge's. The slots a config names come first: a
 * vdev's `loc pci:0:D.F`, a pass's `guest-loc`, a `reserve loc pci:`.
 * Then each function without one (vdevs on PCI in config order, then
 * passes) takes the first slot from 1 that has no function at all, as
 * function 0: so it never takes a slot that a later statement names.
 * Bus 0 has 31 slots besides the bridge; a function that finds none is
 * refused at its position.
 */
#include <stdio.h>
#include <string.h>

#include "bus/pci.h"
#include "config/cfg_internal.h"
#include "devices/registry.h"

/* Who took a function: "vdev " and the type's name, "pass", "reserve". */
struct owner {
	const char *kind, *name;
	const struct cfg_pos *pos;      /* NULL: the host bridge */
};

struct slot_map {
	struct owner by[PCI_MAX_SLOTS][PCI_MAX_FNS];   /* kind NULL: free */
};

/* Takes 0:dev.fn; two statements naming one function are refused at
 * the later. conflicts.c reports those first, with its overlap message:
 * this keeps a plan of a config that was not validated honest. */
static int take(struct slot_map *m, unsigned dev, unsigned fn,
		struct owner who, struct cfg_error *err)
{
	struct owner old = m->by[dev][fn], new = who;
	char p[POS_STR_MAX];

	if (!old.kind) {
		m->by[dev][fn] = who;
		return 0;
	}
	if (old.pos && old.pos->seq > new.pos->seq) {
		new = old;
		old = who;
	}
	if (!old.pos)
		return cfg_err(err, new.pos, "%s%s: pci slot 0:%u.%u is the "
			       "host bridge", new.kind, new.name, dev, fn);
	return cfg_err(err, new.pos, "%s%s: pci slot 0:%u.%u is taken by "
		       "%s%s at %s", new.kind, new.name, dev, fn, old.kind,
		       old.name, pos_str(old.pos, p, sizeof(p)));
}

static int first_free(const struct slot_map *m)
{
	for (unsigned s = 1; s < PCI_MAX_SLOTS; s++) {
		bool empty = true;

		for (unsigned fn = 0; fn < PCI_MAX_FNS; fn++)
			empty = empty && !m->by[s][fn].kind;
		if (empty)
			return s;
	}
	return -1;
}

/* A vdev the builder attaches to the host bridge: on PCI and built by
 * cvisor (the builder skips types without a constructor). */
static bool vdev_on_pci(const struct vdev_config *vc)
{
	return vc->on_pci && vc->type->create;
}

/* Its `loc pci:0:D.F`, or NULL: no loc, or one by vendor/device id
 * (which names no slot). */
static const struct cfg_loc *vdev_slot(const struct vdev_config *vc)
{
	const struct cfg_loc *l = vc->nr_locs ? &vc->locs[0] : NULL;

	return l && l->space == LOC_PCI && !l->pci_by_id ? l : NULL;
}

static int take_named(const struct vm_config *cfg, struct slot_map *m,
		      struct cfg_pci_plan *plan, struct cfg_error *err)
{
	const struct cfg_loc *l;

	for (unsigned i = 0; i < cfg->nr_reserve; i++) {
		l = &cfg->reserve[i].loc;
		/* bus 0's slots only; slot 0 is the bridge's anyway */
		if (cfg->reserve[i].kind == RESERVE_LOC &&
		    l->space == LOC_PCI && !l->pci_by_id && !l->bus &&
		    l->dev &&
		    take(m, l->dev, l->fn, (struct owner){ "reserve", "",
							   &l->pos }, err))
			return -1;
	}
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		if (!vdev_on_pci(vc) || !(l = vdev_slot(vc)))
			continue;
		if (take(m, l->dev, l->fn, (struct owner){ "vdev ",
			 vc->type->name, &l->pos }, err))
			return -1;
		plan->vdev[i] = (struct cfg_pci_place){ true, l->dev, l->fn };
	}
	for (unsigned i = 0; i < cfg->nr_pass; i++) {
		const struct pass_config *pc = &cfg->passes[i];

		if (!pc->has_guest_slot)
			continue;
		if (take(m, pc->guest_dev, pc->guest_fn, (struct owner){
			 "pass", "", &pc->guest_pos }, err))
			return -1;
		plan->pass[i] = (struct cfg_pci_place){ true, pc->guest_dev,
							pc->guest_fn };
	}
	return 0;
}

static int take_free(struct slot_map *m, struct cfg_pci_place *out,
		     struct owner who, struct cfg_error *err)
{
	int s = first_free(m);

	if (s < 0)
		return cfg_err(err, who.pos, "%s%s: no free pci slot (bus 0 "
			       "has %u besides the host bridge's, all taken)",
			       who.kind, who.name, PCI_MAX_SLOTS - 1);
	*out = (struct cfg_pci_place){ true, (uint8_t)s, 0 };
	return take(m, s, 0, who, err);
}

static int take_rest(const struct vm_config *cfg, struct slot_map *m,
		     struct cfg_pci_plan *plan, struct cfg_error *err)
{
	for (unsigned i = 0; i < cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &cfg->vdevs[i];

		if (!vdev_on_pci(vc) || plan->vdev[i].placed)
			continue;
		if (take_free(m, &plan->vdev[i], (struct owner){ "vdev ",
			      vc->type->name, &vc->pos }, err))
			return -1;
	}
	for (unsigned i = 0; i < cfg->nr_pass; i++)
		if (!plan->pass[i].placed &&
		    take_free(m, &plan->pass[i], (struct owner){ "pass", "",
			      &cfg->passes[i].pos }, err))
			return -1;
	return 0;
}

int config_pci_plan(const struct vm_config *cfg, struct cfg_pci_plan *plan,
		    struct cfg_error *err)
{
	struct slot_map m;

	memset(&m, 0, sizeof(m));
	memset(plan, 0, sizeof(*plan));
	if (!vm_config_has_pci(cfg))
		return 0;
	m.by[0][0] = (struct owner){ "the host bridge", "", NULL };
	if (take_named(cfg, &m, plan, err))
		return -1;
	return take_rest(cfg, &m, plan, err);
}

/* The `status` answer: what the VM is and does, from the VM's own tables
 * (memory regions, the devices the builder placed) and the configuration
 * (each vdev's type, location, interrupt and backend). Read-only: safe on
 * the event loop and on the main thread (SIGUSR1) while vCPUs run.
 */
#include <stdio.h>
#include <time.h>

#include "core/util.h"
#include "ctl/ctl_priv.h"
#include "devices/registry.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

uint64_t ctl_uptime_ms(const struct vm *vm)
{
	struct timespec ts;
	uint64_t now;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return now > vm->start_ns ? (now - vm->start_ns) / 1000000 : 0;
}

static json_object *hex(uint64_t v)
{
	char s[24];

	snprintf(s, sizeof(s), "0x%llx", (unsigned long long)v);
	return json_object_new_string(s);
}

static json_object *vcpus_json(struct vm *vm)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		json_object *o = json_object_new_object();
		bool parked = v->parked;

		json_object_object_add(o, "id", json_object_new_int((int)v->id));
		json_object_object_add(o, "state", json_object_new_string(
			!v->started ? "stopped" : parked ? "paused" :
			"running"));
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *memory_json(struct vm *vm)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < vm->mem.nr; i++) {
		const struct guest_region *r = &vm->mem.regions[i];
		json_object *o = json_object_new_object();

		json_object_object_add(o, "kind", json_object_new_string(
			r->kind == GUEST_ROM ? "rom" : "ram"));
		json_object_object_add(o, "start", hex(r->gpa));
		json_object_object_add(o, "size",
				       json_object_new_int64((int64_t)r->size));
		json_object_array_add(a, o);
	}
	return a;
}

static const char *transport(const struct vdev_config *vc)
{
	if (vc->type->class == VDEV_INKERNEL ||
	    vc->type->class == VDEV_IRQCHIP)
		return "in-kernel";
	if (vc->type->class == VDEV_VIRTIO)
		return vc->on_pci ? "pci" : "mmio";
	return vc->type->loc_space == LOC_IO ? "io" : "mmio";
}

static json_object *loc_json(const struct cfg_loc *l)
{
	char s[48];

	switch (l->space) {
	case LOC_PCI:
		if (l->pci_by_id)
			snprintf(s, sizeof(s), "pci:%04x/%04x", l->vid, l->did);
		else
			snprintf(s, sizeof(s), "pci:%u:%u.%u", l->bus, l->dev,
				 l->fn);
		break;
	case LOC_IO:
		snprintf(s, sizeof(s), "io:%#llx", (unsigned long long)l->addr);
		break;
	default:
		snprintf(s, sizeof(s), "mem:%#llx",
			 (unsigned long long)l->addr);
	}
	return json_object_new_string(s);
}

static json_object *vdev_json(const struct vdev_config *vc)
{
	json_object *o = json_object_new_object();
	json_object *locs = json_object_new_array();
	json_object *intrs = json_object_new_array();
	json_object *hds = json_object_new_array();
	char s[CFG_NAME_MAX + 16];

	json_object_object_add(o, "type", json_object_new_string(vc->type->name));
	if (vc->name[0])
		json_object_object_add(o, "name", json_object_new_string(vc->name));
	json_object_object_add(o, "index", json_object_new_int((int)vc->index));
	json_object_object_add(o, "transport",
			       json_object_new_string(transport(vc)));
	for (unsigned i = 0; i < vc->nr_locs; i++)
		json_object_array_add(locs, loc_json(&vc->locs[i]));
	for (unsigned i = 0; i < vc->nr_intrs; i++) {
		if (vc->intrs[i].is_apic)
			snprintf(s, sizeof(s), "apic");
		else
			snprintf(s, sizeof(s), "%s:%u", vc->intrs[i].pic,
				 vc->intrs[i].line);
		json_object_array_add(intrs, json_object_new_string(s));
	}
	for (unsigned i = 0; i < vc->nr_hostdevs; i++) {
		const struct cfg_hostdev *h = &vc->hostdevs[i];

		snprintf(s, sizeof(s), "%s%.60s", h->dir == HOSTDEV_IN ? "<" :
			 h->dir == HOSTDEV_OUT ? ">" : "", h->path);
		json_object_array_add(hds, json_object_new_string(s));
	}
	json_object_object_add(o, "loc", locs);
	json_object_object_add(o, "intr", intrs);
	json_object_object_add(o, "hostdev", hds);
	return o;
}

/* What the builder placed on the buses (the vdevs, the PCI host bridge,
 * the platform's own devices) and where. */
static json_object *regions_json(struct vm *vm)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; i < vm->nr_devices; i++) {
		const struct device *d = vm->devices[i];

		for (unsigned k = 0; k < d->nr_regions; k++) {
			json_object *o = json_object_new_object();

			json_object_object_add(o, "device",
					       json_object_new_string(d->name));
			json_object_object_add(o, "space", json_object_new_string(
				d->regions[k].space == BUS_PIO ? "io" : "mem"));
			json_object_object_add(o, "base",
					       hex(d->regions[k].base));
			json_object_object_add(o, "len", json_object_new_int64(
				(int64_t)d->regions[k].len));
			json_object_array_add(a, o);
		}
	}
	return a;
}

json_object *ctl_status_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	json_object *devs = json_object_new_array();

	json_object_object_add(o, "state",
			       json_object_new_string(vm_state_name(vm)));
	json_object_object_add(o, "uptime_ms",
			       json_object_new_int64((int64_t)ctl_uptime_ms(vm)));
	if (vm->cfg->system[0])
		json_object_object_add(o, "system",
				       json_object_new_string(vm->cfg->system));
	json_object_object_add(o, "vcpus", vcpus_json(vm));
	json_object_object_add(o, "memory", memory_json(vm));
	for (unsigned i = 0; i < vm->cfg->nr_vdevs; i++)
		json_object_array_add(devs, vdev_json(&vm->cfg->vdevs[i]));
	json_object_object_add(o, "devices", devs);
	json_object_object_add(o, "regions", regions_json(vm));
	return o;
}

/* The `stats` answer. Each group of counters is one member of the answer,
 * so more add members without changing the existing ones:
 *   vcpus    per vCPU: exits in total and by KVM exit reason, and the time
 *            each reason's exits spent in cvisor (stats/stats.h)
 *   devices  per device region: reads and writes (summed over vCPUs)
 *   unclaimed accesses no device decoded, per bus
 *   virtio   per virtio device, in configuration order: notifications,
 *            requests completed, the bytes they wrote to the guest,
 *            interrupts (virtio/virtio.h)
 *   lines    per wired interrupt line asserted at least once or given
 *            to a vdev by `intr`: its assertions (vm/irq_count.c) and
 *            the vdevs configured on it
 *   trace    the trace's state (trace/trace.h)
 *   tsc_hz   the host TSC rate the times are counted in
 */
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "ctl/ctl_priv.h"
#include "devices/device.h"
#include "devices/registry.h"
#include "stats/stats.h"
#include "trace/trace.h"
#include "virtio/virtio.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static json_object *u64(uint64_t n)
{
	return json_object_new_int64(n > INT64_MAX ? INT64_MAX : (int64_t)n);
}

static const char *reason_name(unsigned r, char *buf, size_t len)
{
	const char *n = stats_exit_name(r);

	if (n)
		return n;
	snprintf(buf, len, "reason_%u", r);
	return buf;
}

/* {"count", "cycles", "p50_cycles", "p99_cycles", "log2_cycles":
 *  {"LOW": n...}}: bucket LOW holds exits of LOW..2*LOW-1 cycles. */
static json_object *exit_time(const struct vcpu_stats *s, unsigned r)
{
	json_object *o = json_object_new_object();
	json_object *h = json_object_new_object();

	json_object_object_add(o, "count", u64(stats_get(&s->exits[r])));
	json_object_object_add(o, "cycles", u64(stats_get(&s->cycles[r])));
	json_object_object_add(o, "p50_cycles",
			       u64(stats_hist_percentile(s->hist[r], 50)));
	json_object_object_add(o, "p99_cycles",
			       u64(stats_hist_percentile(s->hist[r], 99)));
	for (unsigned b = 0; b < STATS_HIST_BUCKETS; b++) {
		uint64_t n = stats_get(&s->hist[r][b]);
		char low[24];

		if (!n)
			continue;
		snprintf(low, sizeof(low), "%" PRIu64, (uint64_t)1 << b);
		json_object_object_add(h, low, u64(n));
	}
	json_object_object_add(o, "log2_cycles", h);
	return o;
}

static json_object *vcpu_exits(struct vcpu *v)
{
	const struct vcpu_stats *s = &v->stats;
	json_object *o = json_object_new_object();
	json_object *by = json_object_new_object();
	json_object *times = json_object_new_object();
	uint64_t total = 0;

	json_object_object_add(o, "id", json_object_new_int((int)v->id));
	for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++) {
		/* written by the vCPU thread only: a relaxed read is a
		 * consistent (if instantly stale) count */
		uint64_t n = stats_get(&s->exits[r]);
		char other[16];
		const char *name = reason_name(r, other, sizeof(other));

		if (!n)
			continue;
		total += n;
		json_object_object_add(by, name, u64(n));
		json_object_object_add(times, name, exit_time(s, r));
	}
	json_object_object_add(o, "exits", u64(total));
	/* guest writes that did not exit (vm/coalesced_mmio.c) */
	json_object_object_add(o, "coalesced_writes",
			       u64(stats_get(&s->coalesced)));
	json_object_object_add(o, "exits_by_reason", by);
	json_object_object_add(o, "exit_time", times);
	return o;
}

/* The index of dev in vm->devices, or -1 (the PCI host bridge...). */
static int device_index(const struct vm *vm, const struct device *dev)
{
	for (unsigned i = 0; i < vm->nr_devices; i++)
		if (vm->devices[i] == dev)
			return (int)i;
	return -1;
}

/* One region some vCPU touched, and its sums over every vCPU. */
struct region_sum {
	struct stats_region key;
	int index;                  /* in vm->devices, -1: not there */
};

static json_object *region_json(const struct region_sum *rs)
{
	const struct stats_region *k = &rs->key;
	json_object *o = json_object_new_object();
	char base[24];

	snprintf(base, sizeof(base), "0x%" PRIx64, k->base);
	json_object_object_add(o, "space", json_object_new_string(
		k->space == BUS_MMIO ? "mmio" : "io"));
	json_object_object_add(o, "region", json_object_new_int((int)k->region));
	json_object_object_add(o, "base", json_object_new_string(base));
	json_object_object_add(o, "reads", u64(k->reads));
	json_object_object_add(o, "writes", u64(k->writes));
	return o;
}

static bool same_region(const struct stats_region *a,
			const struct stats_region *b)
{
	return a->dev == b->dev && a->region == b->region &&
	       a->space == b->space;
}

/* The distinct regions of every vCPU's slots, with their counts summed:
 * at most devices x regions of them, however many vCPUs. */
static size_t collect_regions(struct vm *vm, struct region_sum **out)
{
	size_t n = 0, cap = 0;
	struct region_sum *a = NULL;

	for (unsigned vi = 0; vi < vm->nr_vcpus; vi++) {
		const struct vcpu_stats *s = &vm->vcpus[vi]->stats;
		unsigned nr = __atomic_load_n(&s->nr_regions, __ATOMIC_ACQUIRE);

		for (unsigned si = 0; si < nr; si++) {
			const struct stats_region *k = &s->regions[si];
			size_t j;

			for (j = 0; j < n && !same_region(&a[j].key, k); j++)
				;
			if (j == n) {
				if (n == cap) {
					cap = cap ? 2 * cap : 16;
					a = xreallocarray(a, cap, sizeof(*a));
				}
				a[n].key = *k;
				a[n].key.reads = a[n].key.writes = 0;
				a[n].index = device_index(vm, k->dev);
				n++;
			}
			a[j].key.reads += stats_get(&k->reads);
			a[j].key.writes += stats_get(&k->writes);
		}
	}
	*out = a;
	return n;
}

/* Every region some vCPU touched, under its device: the configuration's
 * devices in their order, then the others (the PCI host bridge...). */
static json_object *devices_json(struct vm *vm)
{
	json_object *a = json_object_new_array();
	struct region_sum *rs;
	size_t n = collect_regions(vm, &rs);
	bool *done = xcalloc(n ? n : 1, sizeof(*done));

	for (int want = 0; want <= (int)vm->nr_devices; want++) {
		for (size_t i = 0; i < n; i++) {
			json_object *d, *regions;

			if (done[i] || (want < (int)vm->nr_devices ?
					rs[i].index != want : rs[i].index >= 0))
				continue;
			d = json_object_new_object();
			regions = json_object_new_array();
			json_object_object_add(d, "type", json_object_new_string(
				rs[i].key.dev->name ? rs[i].key.dev->name : "?"));
			json_object_object_add(d, "index",
					       json_object_new_int(rs[i].index));
			json_object_object_add(d, "regions", regions);
			json_object_array_add(a, d);
			/* this device's other regions with it */
			for (size_t j = i; j < n; j++)
				if (!done[j] && rs[j].key.dev == rs[i].key.dev) {
					json_object_array_add(regions,
							region_json(&rs[j]));
					done[j] = true;
				}
		}
	}
	free(done);
	free(rs);
	return a;
}

static json_object *unclaimed_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	uint64_t pio = 0, mmio = 0, over = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu_stats *s = &vm->vcpus[i]->stats;

		pio += stats_get(&s->unclaimed[BUS_PIO]);
		mmio += stats_get(&s->unclaimed[BUS_MMIO]);
		over += stats_get(&s->region_overflow);
	}
	json_object_object_add(o, "io", u64(pio));
	json_object_object_add(o, "mmio", u64(mmio));
	if (over)
		json_object_object_add(o, "regions_not_tracked", u64(over));
	return o;
}

static json_object *trace_json(void)
{
	struct trace_status st;
	json_object *o = json_object_new_object();

	trace_get_status(&st);
	json_object_object_add(o, "active", json_object_new_boolean(st.active));
	if (st.path[0])
		json_object_object_add(o, "file",
				       json_object_new_string(st.path));
	json_object_object_add(o, "records", u64(st.records));
	json_object_object_add(o, "lost", u64(st.lost));
	if (st.write_errors)
		json_object_object_add(o, "write_errors", u64(st.write_errors));
	return o;
}

static void virtio_one(struct virtio_dev *d, void *opaque)
{
	json_object *o = json_object_new_object();
	struct virtio_dev_counters c;

	virtio_dev_get_counters(d, &c);
	json_object_object_add(o, "type", json_object_new_string(d->name));
	json_object_object_add(o, "notifies", u64(c.notifies));
	json_object_object_add(o, "requests", u64(c.requests));
	json_object_object_add(o, "bytes_to_guest", u64(c.bytes_to_guest));
	json_object_object_add(o, "interrupts", u64(c.interrupts));
	json_object_object_add(o, "config_interrupts",
			       u64(c.config_interrupts));
	json_object_array_add(opaque, o);
}

/* The vdevs whose `intr` names this line (the PCI functions' INTx
 * lines come from the host bridge: none named there). */
static json_object *line_devices(struct vm *vm, uint32_t line)
{
	json_object *a = json_object_new_array();

	for (unsigned i = 0; vm->cfg && i < vm->cfg->nr_vdevs; i++) {
		const struct vdev_config *vc = &vm->cfg->vdevs[i];

		for (unsigned k = 0; k < vc->nr_intrs; k++)
			if (!vc->intrs[k].is_apic && vc->intrs[k].line == line) {
				json_object_array_add(a, json_object_new_string(
					vc->name[0] ? vc->name : vc->type->name));
				break;
			}
	}
	return a;
}

static json_object *lines_json(struct vm *vm)
{
	json_object *a = json_object_new_array();

	for (uint32_t line = 0; line < VM_IRQ_LINES; line++) {
		uint64_t n = vm_irq_count(vm, line);
		json_object *devs = line_devices(vm, line), *o;

		if (!n && !json_object_array_length(devs)) {
			json_object_put(devs);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "line", json_object_new_int((int)line));
		json_object_object_add(o, "asserted", u64(n));
		json_object_object_add(o, "devices", devs);
		json_object_array_add(a, o);
	}
	return a;
}

static json_object *virtio_json(void)
{
	json_object *a = json_object_new_array();

	virtio_for_each_dev(virtio_one, a);
	return a;
}

json_object *ctl_stats_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	json_object *vcpus = json_object_new_array();

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		json_object_array_add(vcpus, vcpu_exits(vm->vcpus[i]));
	json_object_object_add(o, "vcpus", vcpus);
	json_object_object_add(o, "devices", devices_json(vm));
	json_object_object_add(o, "unclaimed", unclaimed_json(vm));
	json_object_object_add(o, "virtio", virtio_json());
	json_object_object_add(o, "lines", lines_json(vm));
	json_object_object_add(o, "trace", trace_json());
	json_object_object_add(o, "tsc_hz", u64(stats_tsc_hz()));
	return o;
}

void ctl_print_stats_vm(FILE *f, struct vm *vm)
{
	json_object *st = ctl_stats_json(vm);

	ctl_print_stats(f, st);
	json_object_put(st);
}

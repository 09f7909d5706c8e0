/* The `stats` answer. Today: each vCPU's exits by KVM exit reason (the
 * counters vcpu.c keeps). Each group of counters is one member of the
 * answer, so more (per device, per queue...) add members without
 * changing the existing ones.
 */
#include <linux/kvm.h>
#include <stdio.h>

#include "core/util.h"
#include "ctl/ctl_priv.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

static const char *const exit_names[VCPU_EXIT_REASONS] = {
	[KVM_EXIT_UNKNOWN] = "unknown",
	[KVM_EXIT_EXCEPTION] = "exception",
	[KVM_EXIT_IO] = "io",
	[KVM_EXIT_HYPERCALL] = "hypercall",
	[KVM_EXIT_DEBUG] = "debug",
	[KVM_EXIT_HLT] = "hlt",
	[KVM_EXIT_MMIO] = "mmio",
	[KVM_EXIT_IRQ_WINDOW_OPEN] = "irq_window_open",
	[KVM_EXIT_SHUTDOWN] = "shutdown",
	[KVM_EXIT_FAIL_ENTRY] = "fail_entry",
	[KVM_EXIT_INTR] = "intr",
	[KVM_EXIT_SET_TPR] = "set_tpr",
	[KVM_EXIT_TPR_ACCESS] = "tpr_access",
	[KVM_EXIT_NMI] = "nmi",
	[KVM_EXIT_INTERNAL_ERROR] = "internal_error",
	[KVM_EXIT_SYSTEM_EVENT] = "system_event",
};

static json_object *vcpu_exits(struct vcpu *v)
{
	json_object *o = json_object_new_object();
	json_object *by = json_object_new_object();
	uint64_t total = 0;

	json_object_object_add(o, "id", json_object_new_int((int)v->id));
	for (unsigned r = 0; r < VCPU_EXIT_REASONS; r++) {
		/* written by the vCPU thread only: a relaxed read is a
		 * consistent (if instantly stale) count */
		uint64_t n = __atomic_load_n(&v->exits[r], __ATOMIC_RELAXED);
		char other[16];

		if (!n)
			continue;
		total += n;
		if (!exit_names[r])
			snprintf(other, sizeof(other), "reason_%u", r);
		json_object_object_add(by, exit_names[r] ? exit_names[r] : other,
				       json_object_new_int64((int64_t)n));
	}
	json_object_object_add(o, "exits", json_object_new_int64((int64_t)total));
	json_object_object_add(o, "exits_by_reason", by);
	return o;
}

json_object *ctl_stats_json(struct vm *vm)
{
	json_object *o = json_object_new_object();
	json_object *vcpus = json_object_new_array();

	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		json_object_array_add(vcpus, vcpu_exits(vm->vcpus[i]));
	json_object_object_add(o, "vcpus", vcpus);
	return o;
}

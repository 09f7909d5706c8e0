/* CPUID for the guest: what KVM supports on this host, with the topology made
 * consistent with the configured vCPUs and the hypervisor leaves filled in. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/arch.h"
#include "core/log.h"
#include "core/util.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define CPUID_MAX_ENTRIES 256

#define LEAF1_ECX_HYPERVISOR (1u << 31)
#define LEAF1_ECX_TSC_DEADLINE (1u << 24)
#define LEAF1_EDX_HTT        (1u << 28)
#define KVM_LEAF_BASE        0x40000000u
#define KVM_LEAF_TIMING      0x40000010u  /* TSC and APIC bus kHz */

static struct kvm_cpuid_entry2 *find(struct kvm_cpuid2 *c, uint32_t fn,
				     uint32_t idx)
{
	for (uint32_t i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn &&
		    (!(c->entries[i].flags & KVM_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     c->entries[i].index == idx))
			return &c->entries[i];
	return NULL;
}

static unsigned order_base2(unsigned n)
{
	unsigned o = 0;

	while ((1u << o) < n)
		o++;
	return o;
}

static void adjust_topology(struct kvm_cpuid2 *c, unsigned apic_id,
			    unsigned nr_cpus)
{
	struct kvm_cpuid_entry2 *e;

	/* One package, nr_cpus cores, one thread each: APIC ids 0..n-1. */
	e = find(c, 1, 0);
	if (e) {
		e->ecx |= LEAF1_ECX_HYPERVISOR;
		e->ebx &= 0x0000ffff;
		e->ebx |= apic_id << 24;
		if (nr_cpus > 1) {
			e->ebx |= MIN(nr_cpus, 255u) << 16;
			e->edx |= LEAF1_EDX_HTT;
		} else {
			e->edx &= ~LEAF1_EDX_HTT;
		}
	}
	for (uint32_t i = 0; i < c->nent; i++) {
		e = &c->entries[i];
		if (e->function == 4 && (e->eax & 0x1f)) {
			/* cores per package - 1; caches private per core
			 * except the last level, shared by all */
			unsigned level = (e->eax >> 5) & 7;
			e->eax &= 0x3fff;
			e->eax |= (nr_cpus - 1) << 26;
			if (level == 3)
				e->eax |= (nr_cpus - 1) << 14;
		}
		if (e->function == 0xb) {
			unsigned shift = e->index == 0 ? 0 : order_base2(nr_cpus);
			e->edx = apic_id;
			if (e->index == 0) {
				e->eax = 0;
				e->ebx = 1;
				e->ecx = 1 << 8;        /* SMT level */
			} else if (e->index == 1) {
				e->eax = shift;
				e->ebx = nr_cpus;
				e->ecx = (2 << 8) | 1;  /* core level */
			} else {
				e->eax = e->ebx = 0;
				e->ecx = e->index;      /* invalid level */
			}
		}
	}
}

static void add_timing_leaf(struct kvm_cpuid2 *c, uint32_t tsc_khz)
{
	struct kvm_cpuid_entry2 *base = find(c, KVM_LEAF_BASE, 0);

	if (!base || !tsc_khz || c->nent >= CPUID_MAX_ENTRIES ||
	    find(c, KVM_LEAF_TIMING, 0))
		return;
	/* The VMware-defined timing leaf QEMU also offers: guests (ours
	 * included) learn the TSC rate without calibrating in slow ring 0. */
	if (base->eax < KVM_LEAF_TIMING)
		base->eax = KVM_LEAF_TIMING;
	c->entries[c->nent++] = (struct kvm_cpuid_entry2){
		.function = KVM_LEAF_TIMING,
		.eax = tsc_khz,
		.ebx = 1000000,  /* KVM's LAPIC timer runs at 1 GHz */
	};
}

void x86_cpuid_adjust(struct kvm_cpuid2 *c, unsigned apic_id,
		      unsigned nr_cpus, uint32_t tsc_khz)
{
	adjust_topology(c, apic_id, nr_cpus ? nr_cpus : 1);
	add_timing_leaf(c, tsc_khz);
}

static struct kvm_cpuid2 *supported_cpuid(int kvm_fd)
{
	struct kvm_cpuid2 *c = xcalloc(1, sizeof(*c) + CPUID_MAX_ENTRIES *
				       sizeof(struct kvm_cpuid_entry2));

	c->nent = CPUID_MAX_ENTRIES - 1;  /* room for the timing leaf */
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		pr_err("KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
		free(c);
		return NULL;
	}
	return c;
}

/* KVM emulates the LAPIC's TSC-deadline mode but leaves it out of
 * KVM_GET_SUPPORTED_CPUID (it depends on the in-kernel LAPIC, which is
 * userspace's choice): QEMU adds it when KVM_CAP_TSC_DEADLINE_TIMER says
 * so, and so does cvisor. Without it Linux calibrates the LAPIC timer
 * against the PIT and, where ticks are late (a nested machine), disables
 * it ("APIC timer disabled due to verification failure", acpi=off). */
static void offer_tsc_deadline(struct kvm_cpuid2 *c, int kvm_fd)
{
	struct kvm_cpuid_entry2 *e = find(c, 1, 0);

	if (e && ioctl(kvm_fd, KVM_CHECK_EXTENSION,
		       KVM_CAP_TSC_DEADLINE_TIMER) > 0)
		e->ecx |= LEAF1_ECX_TSC_DEADLINE;
}

int x86_vcpu_set_cpuid(struct vcpu *v, unsigned nr_cpus)
{
	struct kvm_cpuid2 *c = supported_cpuid(v->vm->kvm_fd);
	int tsc_khz, ret = 0;

	if (!c)
		return -EIO;
	tsc_khz = ioctl(v->fd, KVM_GET_TSC_KHZ);
	x86_cpuid_adjust(c, v->id, nr_cpus, tsc_khz > 0 ? tsc_khz : 0);
	offer_tsc_deadline(c, v->vm->kvm_fd);
	if (x86_cpuid_apply_config(c, CPUID_MAX_ENTRIES, v->vm->cfg))
		pr_warn("cpuid: no room for every leaf the config sets");
	if (ioctl(v->fd, KVM_SET_CPUID2, c) < 0) {
		ret = -errno;
		pr_err("KVM_SET_CPUID2: %s", strerror(errno));
	}
	free(c);
	return ret;
}

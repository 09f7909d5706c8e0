/* One thread per vCPU: KVM_RUN, exit dispatch to the buses, statistics,
 * parking while the VM is paused.
 *
 * Kicking is race-free: the kick's handler sets immediate_exit in the
 * thread's own kvm_run (vcpu.c), so a kick sent at any moment either
 * interrupts a running KVM_RUN or makes the next one return at once with
 * EINTR; then the thread sees the stop or the pause request. kvmtool loses
 * kicks here (its 2-vCPU shutdown hangs); this cannot.
 */
#ifndef CVISOR_VCPU_VCPU_H
#define CVISOR_VCPU_VCPU_H

#include <linux/kvm.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "bus/bus.h"
#include "stats/stats.h"

struct vm;
struct trace_ring;

#define VCPU_EXIT_REASONS STATS_REASONS  /* KVM exit reasons we count */

struct vcpu {
	struct vm *vm;
	unsigned id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool started;
	bool _Atomic parked;     /* out of KVM_RUN, waiting for a resume */
	bool _Atomic s3_wake;    /* restart as after ACPI S3 (vm/suspend.c) */
	struct bus_cache pio_cache, mmio_cache;  /* vCPU thread only */
	/* Written by the vCPU thread only (stats/stats.h). */
	struct vcpu_stats stats;
	/* The trace (trace/trace.h): the ring while a trace is on, else
	 * NULL (read and written with __atomic builtins); the ring itself
	 * (tring) lives until vcpu_destroy. */
	struct trace_ring *trace;
	struct trace_ring *tring;
	/* The VM's coalesced MMIO ring in this vCPU's mapping, or NULL */
	struct kvm_coalesced_mmio_ring *coalesced;
};

/* A real-time signal no library uses (glibc keeps 32-34 for itself):
 * SIGUSR1 is the operator's (QNX qvm prints the status on it). A number,
 * not SIGRTMIN + n, so the seccomp lists can name it in a constant. */
#define VCPU_KICK_SIGNAL 40

/* Create the KVM vCPU and map its run area. */
struct vcpu *vcpu_create(struct vm *vm, unsigned id);
void vcpu_destroy(struct vcpu *v);
/* vm/coalesced_mmio.c: find the ring in v's mapping; apply what it holds
 * (on v's own thread, before v handles its exit). */
void vcpu_coalesced_map(struct vcpu *v);
void vcpu_coalesced_drain(struct vcpu *v);

/* Writes waiting in the ring: one comparison on every exit. */
static inline void vcpu_coalesced_check(struct vcpu *v)
{
	struct kvm_coalesced_mmio_ring *r = v->coalesced;

	if (r && __atomic_load_n(&r->first, __ATOMIC_RELAXED) !=
		 __atomic_load_n(&r->last, __ATOMIC_ACQUIRE))
		vcpu_coalesced_drain(v);
}
int vcpu_start(struct vcpu *v);
void vcpu_kick(struct vcpu *v);
void vcpu_join(struct vcpu *v);
/* Install the (empty) kick signal handler; once per process. */
void vcpu_signals_init(void);

/* Print registers, segments and control registers to stderr. */
void vcpu_dump(struct vcpu *v, const char *why);

#endif

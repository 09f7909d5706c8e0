#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/arch.h"
#include "bus/bus_fast.h"
#include "core/exit_codes.h"
#include "core/log.h"
#include "core/util.h"
#include "sandbox/sandbox.h"
#include "stats/tsc.h"
#include "trace/ring.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

/* Kicks use KVM_CAP_IMMEDIATE_EXIT, as the KVM API recommends over
 * KVM_SET_SIGNAL_MASK (which costs the kernel two sigprocmask calls on every
 * KVM_RUN). The handler sets immediate_exit in the kicked thread's own
 * kvm_run: a kick landing between the stop check and KVM_RUN makes KVM_RUN
 * return EINTR at once, one landing inside KVM_RUN interrupts it, so no
 * kick is ever lost. */
static __thread struct kvm_run *kick_run;

static void kick_handler(int sig)
{
	struct kvm_run *r = kick_run;

	(void)sig;
	if (r)
		r->immediate_exit = 1;
}

void vcpu_signals_init(void)
{
	/* SA_RESTART: device code on a vCPU thread never sees EINTR;
	 * KVM_RUN returns it all the same (it is not restartable). */
	struct sigaction sa = { .sa_handler = kick_handler,
				.sa_flags = SA_RESTART };

	if (VCPU_KICK_SIGNAL < SIGRTMIN || VCPU_KICK_SIGNAL > SIGRTMAX)
		pr_warn("the vCPU kick signal %d is outside SIGRTMIN..SIGRTMAX",
			VCPU_KICK_SIGNAL);
	sigemptyset(&sa.sa_mask);
	sigaction(VCPU_KICK_SIGNAL, &sa, NULL);
}

struct vcpu *vcpu_create(struct vm *vm, unsigned id)
{
	struct vcpu *v = xcalloc(1, sizeof(*v));

	v->vm = vm;
	v->id = id;
	v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, (unsigned long)id);
	if (v->fd < 0) {
		pr_err("KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		goto fail;
	}
	v->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE,
		      MAP_SHARED, v->fd, 0);
	if (v->run == MAP_FAILED) {
		v->run = NULL;
		pr_err("mmap vcpu %u: %s", id, strerror(errno));
		goto fail;
	}
	vcpu_coalesced_map(v);
	return v;
fail:
	vcpu_destroy(v);
	return NULL;
}

void vcpu_destroy(struct vcpu *v)
{
	if (!v)
		return;
	if (v->run)
		munmap(v->run, v->vm->vcpu_mmap_size);
	if (v->fd >= 0)
		close(v->fd);
	if (v->tring) {
		trace_ring_free(v->tring);
		free(v->tring);
	}
	free(v);
}

void vcpu_dump(struct vcpu *v, const char *why)
{
	fprintf(stderr, "cvisor: vcpu %u: %s\n", v->id, why);
	arch_vcpu_dump(v);
}

static void handle_io(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	uint8_t *data = (uint8_t *)r + r->io.data_offset;
	bool wr = r->io.direction == KVM_EXIT_IO_OUT;

	/* `rep ins/outs` arrive as count accesses in one buffer. The kernel
	 * bounds data_offset/size/count to the run page; check anyway. */
	if ((uint64_t)r->io.data_offset + (uint64_t)r->io.size * r->io.count >
	    (uint64_t)v->vm->vcpu_mmap_size)
		return;
	for (uint32_t i = 0; i < r->io.count; i++, data += r->io.size) {
		bool hit = bus_access_fast(&v->vm->pio, &v->pio_cache,
					   r->io.port, data, r->io.size, wr);

		stats_access(&v->stats, BUS_PIO, hit ? &v->pio_cache.r : NULL,
			     wr, 1);
	}
}

static void fatal_exit(struct vcpu *v, const char *why, int status)
{
	vcpu_dump(v, why);
	vm_request_stop(v->vm, VM_STOP_EXIT, status);
}

/* Always worth a register dump; then either the end of the VM (default)
 * or, with `triplefault reset`, a reset request like any other (Linux's
 * reboot=t), which `reboot` then turns into a rebuild or an exit. */
static void handle_triple_fault(struct vcpu *v)
{
	vcpu_dump(v, "triple fault (shutdown)");
	if (v->vm->cfg->triplefault == REBOOT_RESET)
		v->vm->env.power(v->vm, POWER_RESET, 0);
	else
		vm_request_stop(v->vm, VM_STOP_EXIT, CV_EXIT_TRIPLE_FAULT);
}

static void handle_internal_error(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char why[256];
	int n = snprintf(why, sizeof(why), "KVM internal error, suberror %u",
			 r->internal.suberror);

	for (uint32_t i = 0; i < r->internal.ndata && i < 16 &&
	     n < (int)sizeof(why) - 20; i++)
		n += snprintf(why + n, sizeof(why) - n, " %#llx",
			      (unsigned long long)r->internal.data[i]);
	arch_explain_internal_error(v);  /* instruction, mode, hint */
	fatal_exit(v, why, CV_EXIT_UNEXPECTED);
}

static void handle_system_event(struct vcpu *v)
{
	switch (v->run->system_event.type) {
	case KVM_SYSTEM_EVENT_SHUTDOWN:
		vm_request_stop(v->vm, VM_STOP_EXIT, CV_EXIT_OK);
		break;
	case KVM_SYSTEM_EVENT_RESET:
		v->vm->env.power(v->vm, POWER_RESET, 0);
		break;
	default:
		fatal_exit(v, "guest reported a crash (system event)",
			   CV_EXIT_POSTSTART);
	}
}

/* Every exit but I/O and MMIO: rare, kept out of the hot path. */
static __attribute__((noinline)) bool dispatch_other(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	char why[128];
	bool go_on;

	switch (r->exit_reason) {
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_HLT:
		/* Only without an in-kernel LAPIC; ours has one. A halted
		 * vCPU that exits here has nothing left to wake it. */
		pr_info("vcpu %u halted for good", v->id);
		vm_request_stop(v->vm, VM_STOP_EXIT, CV_EXIT_OK);
		return false;
	case KVM_EXIT_SHUTDOWN:
		handle_triple_fault(v);
		return false;
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed, reason %#llx",
			 (unsigned long long)
			 r->fail_entry.hardware_entry_failure_reason);
		fatal_exit(v, why, CV_EXIT_UNEXPECTED);
		return false;
	case KVM_EXIT_INTERNAL_ERROR:
		handle_internal_error(v);
		return false;
	case KVM_EXIT_SYSTEM_EVENT:
		handle_system_event(v);
		return false;
	default:
		if (arch_vcpu_exit(v, &go_on))
			return go_on;
		snprintf(why, sizeof(why), "unhandled exit reason %u",
			 r->exit_reason);
		fatal_exit(v, why, CV_EXIT_UNSUPPORTED);
		return false;
	}
}

/* Handle one exit; false when this vCPU must stop. */
static inline bool dispatch(struct vcpu *v)
{
	struct kvm_run *r = v->run;
	bool hit;

	switch (r->exit_reason) {
	case KVM_EXIT_IO:
		handle_io(v);
		return true;
	case KVM_EXIT_MMIO:
		hit = bus_access_fast(&v->vm->mmio, &v->mmio_cache,
				      r->mmio.phys_addr, r->mmio.data,
				      r->mmio.len, r->mmio.is_write);
		stats_access(&v->stats, BUS_MMIO, hit ? &v->mmio_cache.r : NULL,
			     r->mmio.is_write, 1);
		return true;
	default:
		return dispatch_other(v);
	}
}

/* A trace is on: one record for the exit just handled, built from what
 * kvm_run still holds (a read's data is the device's answer by now). */
static __attribute__((noinline)) void trace_exit(struct vcpu *v,
						 struct trace_ring *ring,
						 uint32_t reason, uint64_t t0,
						 uint64_t t1)
{
	struct kvm_run *r = v->run;
	uint64_t spent = t1 - t0;
	struct trace_rec rec = {
		.tsc = t0, .vcpu = (uint16_t)v->id,
		.event = reason < 0xfe ? (uint8_t)reason : 0xfd,
		.cycles = spent > UINT32_MAX ? UINT32_MAX : (uint32_t)spent,
	};

	if (reason == KVM_EXIT_MMIO) {
		unsigned len = r->mmio.len <= 8 ? r->mmio.len : 8;

		rec.addr = r->mmio.phys_addr;
		rec.flags = (uint8_t)(len | (r->mmio.is_write ? TRACE_F_WRITE
							       : 0));
		memcpy(&rec.value, r->mmio.data, len);
	} else if (reason == KVM_EXIT_IO) {
		unsigned len = r->io.size <= 8 ? r->io.size : 8;

		rec.addr = r->io.port;
		rec.flags = (uint8_t)(len |
			(r->io.direction == KVM_EXIT_IO_OUT ? TRACE_F_WRITE : 0) |
			(r->io.count > 1 ? TRACE_F_REP : 0));
		if ((uint64_t)r->io.data_offset + len <=
		    (uint64_t)v->vm->vcpu_mmap_size)
			memcpy(&rec.value, (uint8_t *)r + r->io.data_offset,
			       len);
	}
	trace_ring_put(ring, &rec);
}

/* The kick signal is blocked until kick_run points at this vCPU's run. */
static void unblock_kick(struct vcpu *v)
{
	sigset_t set;

	kick_run = v->run;
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
}

/* Paused (vm_pause): wait outside KVM_RUN until resumed or stopped. The
 * last vCPU to park tells the VM, which finishes the pause on the event
 * loop; the kick that brought us here was the one vm_pause() sent. */
static void park(struct vcpu *v)
{
	struct vm *vm = v->vm;

	pthread_mutex_lock(&vm->pause_lock);
	v->parked = true;
	if (++vm->nr_parked == vm->nr_vcpus) {
		vm_all_parked(vm);
		vm_s3_parked(vm);
	}
	while ((vm->pause_req || vm->suspended) && vm->stop == VM_RUNNING)
		pthread_cond_wait(&vm->pause_cond, &vm->pause_lock);
	vm->nr_parked--;
	v->parked = false;
	pthread_mutex_unlock(&vm->pause_lock);
}

/* Leaving ACPI S3 (vm/suspend.c): the vCPU starts over as the platform's
 * wake-up leaves it. Nothing to wake up to (no usable waking vector) is
 * what real firmware would crash on: a triple fault, with its rule. */
static bool s3_wake(struct vcpu *v)
{
	v->s3_wake = false;
	if (!arch_vcpu_s3_wake(v))
		return true;
	handle_triple_fault(v);
	return false;
}

/* Handle one exit and account for it: the counters always, the trace
 * when one is on (one load and a predicted branch when not). */
static inline bool handle_exit(struct vcpu *v, uint64_t t0)
{
	uint32_t reason = v->run->exit_reason;
	bool go_on = dispatch(v);
	uint64_t t1 = tsc_read();
	struct trace_ring *ring = __atomic_load_n(&v->trace, __ATOMIC_ACQUIRE);

	stats_exit(&v->stats, reason, t1 - t0);
	if (__builtin_expect(ring != NULL, 0))
		trace_exit(v, ring, reason, t0, t1);
	return go_on;
}

static void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;

	sandbox_enter(SANDBOX_VCPU);   /* before the guest's first instruction */
	/* The buses may be new (a rebuilt VM): forget earlier hits. */
	bus_cache_init(&v->pio_cache);
	bus_cache_init(&v->mmio_cache);
	unblock_kick(v);
	while (v->vm->stop == VM_RUNNING) {
		if (v->vm->pause_req || v->vm->suspended) {
			park(v);
			continue;
		}
		if (v->s3_wake && !s3_wake(v))
			break;
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			int err = errno;

			vcpu_coalesced_check(v);
			if (err == EINTR || err == EAGAIN) {
				/* Cleared before the stop check: a kick
				 * after it sets the flag again. */
				v->run->immediate_exit = 0;
				v->run->exit_reason = KVM_EXIT_INTR;
				handle_exit(v, tsc_read());
				continue;
			}
			pr_err("vcpu %u: KVM_RUN: %s", v->id, strerror(err));
			arch_explain_run_error(v, err);
			vm_request_stop(v->vm, VM_STOP_EXIT, CV_EXIT_POSTSTART);
			break;
		}
		vcpu_coalesced_check(v);
		if (!handle_exit(v, tsc_read()))
			break;
	}
	vcpu_coalesced_check(v);   /* nothing left behind for a rebuilt VM */
	return NULL;
}

/* QNX `cpu runmask` and `sched`: thread affinity and real-time policy. */
static void apply_cpu_config(struct vcpu *v)
{
	static bool warned;
	const struct vm_config *cfg = v->vm->cfg;
	const struct cpu_config *c;
	struct sched_param sp;
	int policy, err;

	if (v->id >= cfg->nr_cpus)
		return;
	c = &cfg->cpus[v->id];
	if (c->has_runmask) {
		err = pthread_setaffinity_np(v->thread, sizeof(c->runmask),
					     &c->runmask);
		if (err)
			pr_warn("vcpu %u: runmask: %s", v->id, strerror(err));
	}
	if (!c->has_sched || c->policy == SCHED_POL_NONE)
		return;
	policy = c->policy == SCHED_POL_FIFO ? SCHED_FIFO :
		 c->policy == SCHED_POL_RR ? SCHED_RR : SCHED_OTHER;
	sp.sched_priority = policy == SCHED_OTHER ? 0 : c->priority;
	err = pthread_setschedparam(v->thread, policy, &sp);
	if (err && !warned) {
		warned = true;
		pr_warn("cpu sched %d: %s; vCPUs keep the default policy",
			c->priority, strerror(err));
	}
}

int vcpu_start(struct vcpu *v)
{
	sigset_t set, old;
	int err;
	char name[16];

	/* The thread starts with the kick blocked: unblock_kick() lets it in
	 * once the handler can find the thread's kvm_run. */
	sigemptyset(&set);
	sigaddset(&set, VCPU_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	err = pthread_create(&v->thread, NULL, vcpu_thread, v);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		pr_err("vcpu %u thread: %s", v->id, strerror(err));
		return -err;
	}
	snprintf(name, sizeof(name), "cvisor-vcpu%u", v->id);
	pthread_setname_np(v->thread, name);
	v->started = true;
	apply_cpu_config(v);
	return 0;
}

void vcpu_kick(struct vcpu *v)
{
	if (v->started)
		pthread_kill(v->thread, VCPU_KICK_SIGNAL);
}

void vcpu_join(struct vcpu *v)
{
	if (v->started)
		pthread_join(v->thread, NULL);
	v->started = false;
}

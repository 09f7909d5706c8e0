/* fakekvm.so: a test double for /dev/kvm, loaded with LD_PRELOAD.
 *
 * It cannot run guest code. It answers the KVM ioctls cvisor makes, records
 * what cvisor asked for (memory slots, irqchip, boot registers, the boot
 * structures in guest memory, interrupt lines) in $FAKEKVM_LOG, and turns
 * KVM_RUN on vCPU 0 into a scripted sequence of exits ($FAKEKVM_SCRIPT).
 * That exercises the real builder, vCPU loop, exit dispatch, devices, stop
 * paths and teardown on machines without KVM. Blocking KVM_RUNs honour
 * immediate_exit and the signal mask set with KVM_SET_SIGNAL_MASK exactly
 * as KVM does, so lost kicks show up as hangs.
 *
 * Script steps, separated by ';':
 *   out PORT SIZE VALUE     io write          in PORT SIZE     io read (logged)
 *   outs PORT TEXT          one `rep outsb`   mmiow ADDR SIZE VALUE / mmior ADDR SIZE
 *   shutdown | internal | failentry | reset | poweroff | crash | unknown N
 *   block                   wait for a kick (returns EINTR), then go on
 *   stuck                   never return, kicked or not (a vCPU wedged in
 *                           the kernel: the stop path's deadline is tested)
 * Steps that touch guest memory, as the guest's CPU would, without an exit:
 *   memw GPA SIZE VALUE     store (SIZE 1, 2, 4 or 8), little-endian
 *   memr GPA SIZE           load, logged as `memr GPA = VALUE`
 *   memfill GPA LEN BYTE    memset
 *   memwait GPA SIZE VALUE  poll until the value is there (5 s at most),
 *                           logged as `memwait GPA = VALUE ok|timeout`
 *   irqwait GSI [LEVEL]     wait (5 s at most) for the line to be at LEVEL (1)
 * KVM_IOEVENTFD is recorded (and logged); an `mmiow`/`out` step that
 * matches a registration signals its eventfd instead of exiting, as KVM
 * does, and is logged as `ioeventfd kick ADDR = VALUE`.
 * When the script ends, every KVM_RUN blocks until kicked.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define MAX_FDS 64
#define MMAP_SIZE (3 * 4096)

enum kind { K_NONE, K_SYS, K_VM, K_VCPU };

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	sigset_t run_mask;
	bool has_mask;
	struct kvm_run *run;
	unsigned id;
	bool logged_boot;
};

static struct {
	enum kind kind;
	struct vcpu_state *vcpu;
} fds[MAX_FDS];

static struct kvm_userspace_memory_region slots[32];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned step;   /* next script step, across VM rebuilds */

/* Last level of each interrupt line, for `irqwait`. */
static pthread_mutex_t irq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t irq_cond = PTHREAD_COND_INITIALIZER;
static unsigned irq_level[64];

/* KVM_IOEVENTFD registrations of the current VM. */
struct ioev {
	uint64_t addr;
	uint32_t len;
	int fd;
	bool pio, datamatch;
	uint64_t match;
};
static struct ioev ioevs[64];
static unsigned nr_ioevs;

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...)
{
	const char *path = getenv("FAKEKVM_LOG");
	va_list ap;
	FILE *f;

	if (!path || !(f = fopen(path, "a")))
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
	fclose(f);
}

static int new_fd(enum kind k)
{
	int fd = memfd_create("fakekvm", MFD_CLOEXEC);

	if (fd < 0 || fd >= MAX_FDS) {
		if (fd >= 0)
			close(fd);
		errno = EMFILE;
		return -1;
	}
	fds[fd].kind = k;
	return fd;
}

static int (*real_open)(const char *, int, ...);
static int (*real_ioctl)(int, unsigned long, ...);
static int (*real_close)(int);

__attribute__((constructor)) static void init(void)
{
	real_open = dlsym(RTLD_NEXT, "open");
	real_ioctl = dlsym(RTLD_NEXT, "ioctl");
	real_close = dlsym(RTLD_NEXT, "close");
	/* The fake opens its log and sleeps in sigsuspend on vCPU threads,
	 * which cvisor's seccomp filters rightly refuse there: run the VMM
	 * unfiltered unless the test asks otherwise (docs/sandbox.md). */
	setenv("CVISOR_SECCOMP", "off", 0);
}

int open(const char *path, int flags, ...);
int open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	if (!strcmp(path, "/dev/kvm"))
		return new_fd(K_SYS);
	va_start(ap, flags);
	mode = va_arg(ap, mode_t);
	va_end(ap);
	return real_open(path, flags, mode);
}

int open64(const char *path, int flags, ...) __attribute__((alias("open")));

int close(int fd)
{
	if (fd >= 0 && fd < MAX_FDS && fds[fd].kind != K_NONE) {
		if (fds[fd].kind == K_VM)
			logf_("close vm");
		if (fds[fd].vcpu && fds[fd].vcpu->run)
			munmap(fds[fd].vcpu->run, MMAP_SIZE);
		free(fds[fd].vcpu);
		fds[fd].vcpu = NULL;
		fds[fd].kind = K_NONE;
	}
	return real_close(fd);
}

static void *gpa_to_host(uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < 32; i++) {
		struct kvm_userspace_memory_region *s = &slots[i];
		if (s->memory_size && gpa >= s->guest_phys_addr &&
		    gpa + len <= s->guest_phys_addr + s->memory_size)
			return (void *)(uintptr_t)(s->userspace_addr +
						   gpa - s->guest_phys_addr);
	}
	return NULL;
}

static const char *guest_str(uint64_t gpa)
{
	const char *s = gpa_to_host(gpa, 1);

	return s ? s : "(not in guest memory)";
}

/* What the boot vCPU starts with, and the boot structures it points at. */
static void log_boot(struct vcpu_state *v)
{
	struct kvm_regs *r = &v->regs;
	struct kvm_sregs *s = &v->sregs;

	logf_("boot rip=%#llx rax=%#llx rbx=%#llx cr0=%#llx efer=%#llx "
	      "cs.db=%u cs.l=%u cs.limit=%#x", r->rip, r->rax, r->rbx, s->cr0,
	      s->efer, s->cs.db, s->cs.l, s->cs.limit);
	uint32_t *si = gpa_to_host(r->rbx, 56);
	if (si && si[0] == 0x336ec578) {
		uint64_t cmd, mm, rsdp;
		memcpy(&cmd, si + 6, 8);
		memcpy(&rsdp, si + 8, 8);
		memcpy(&mm, si + 10, 8);
		logf_("pvh version=%u nr_modules=%u cmdline='%s' memmap_entries=%u",
		      si[1], si[3], cmd ? guest_str(cmd) : "", si[12]);
		const char *sig = gpa_to_host(rsdp, 8);
		logf_("pvh rsdp=%#llx sig='%.8s'", (unsigned long long)rsdp,
		      sig ? sig : "");
		for (uint32_t i = 0; i < si[12] && i < 64; i++) {
			uint64_t *e = gpa_to_host(mm + 24 * i, 24);
			if (e)
				logf_("pvh memmap %#llx %#llx %u",
				      (unsigned long long)e[0],
				      (unsigned long long)e[1], (unsigned)e[2]);
		}
	}
	uint32_t *mbi = gpa_to_host(r->rbx, 52);
	if (r->rax == 0x2badb002 && mbi)
		logf_("multiboot flags=%#x mem_lower=%u mem_upper=%u cmdline='%s'",
		      mbi[0], mbi[1], mbi[2],
		      (mbi[0] & 4) ? guest_str(mbi[4]) : "");
}

static int sys_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case KVM_GET_API_VERSION:
		return KVM_API_VERSION;
	case KVM_CHECK_EXTENSION:
		/* No coalesced MMIO ring here: its "page offset" 1 would be
		 * the page where the port I/O data lives. */
		if ((long)arg == KVM_CAP_COALESCED_MMIO)
			return 0;
		return (long)arg == KVM_CAP_NR_MEMSLOTS ? 32 : 1;
	case KVM_CREATE_VM:
		logf_("create vm");
		memset(slots, 0, sizeof(slots));
		nr_ioevs = 0;
		return new_fd(K_VM);
	case KVM_GET_VCPU_MMAP_SIZE:
		return MMAP_SIZE;
	case KVM_GET_SUPPORTED_CPUID: {
		struct kvm_cpuid2 *c = arg;
		if (c->nent < 3) {
			errno = E2BIG;
			return -1;
		}
		c->nent = 3;
		c->entries[0] = (struct kvm_cpuid_entry2){ .function = 0, .eax = 0xd };
		c->entries[1] = (struct kvm_cpuid_entry2){ .function = 1 };
		c->entries[2] = (struct kvm_cpuid_entry2){ .function = 0x40000000,
			.eax = 0x40000001, .ebx = 0x4b4d564b };
		return 0;
	}
	}
	errno = ENOTTY;
	return -1;
}

static int create_vcpu(unsigned long id)
{
	int fd = new_fd(K_VCPU);
	struct vcpu_state *v;

	if (fd < 0 || ftruncate(fd, MMAP_SIZE) < 0)
		return -1;
	v = calloc(1, sizeof(*v));
	v->id = id;
	v->sregs.cs.limit = 0xffff;
	fds[fd].vcpu = v;
	logf_("vcpu %lu", id);
	return fd;
}

static bool ioev_same(const struct ioev *a, const struct ioev *b)
{
	return a->addr == b->addr && a->len == b->len && a->pio == b->pio &&
	       a->datamatch == b->datamatch &&
	       (!a->datamatch || a->match == b->match);
}

/* KVM: -EEXIST for a second registration of the same address, length and
 * match; deassign needs the same arguments and fd, else -ENOENT. */
static int ioeventfd(struct kvm_ioeventfd *e)
{
	struct ioev n = {
		.addr = e->addr, .len = e->len, .fd = e->fd,
		.pio = e->flags & KVM_IOEVENTFD_FLAG_PIO,
		.datamatch = e->flags & KVM_IOEVENTFD_FLAG_DATAMATCH,
		.match = e->datamatch,
	};
	bool deassign = e->flags & KVM_IOEVENTFD_FLAG_DEASSIGN;
	unsigned i;

	logf_("ioeventfd %s %s %#llx len %u datamatch %s%#llx",
	      deassign ? "deassign" : "assign", n.pio ? "pio" : "mmio",
	      (unsigned long long)n.addr, n.len, n.datamatch ? "" : "any ",
	      (unsigned long long)n.match);
	for (i = 0; i < nr_ioevs && !ioev_same(&ioevs[i], &n); i++)
		;
	if (deassign) {
		if (i == nr_ioevs || ioevs[i].fd != n.fd) {
			errno = ENOENT;
			return -1;
		}
		ioevs[i] = ioevs[--nr_ioevs];
		return 0;
	}
	if (i < nr_ioevs || nr_ioevs == 64 ||
	    (n.len != 0 && n.len != 1 && n.len != 2 && n.len != 4 &&
	     n.len != 8)) {
		errno = i < nr_ioevs ? EEXIST : EINVAL;
		return -1;
	}
	ioevs[nr_ioevs++] = n;
	return 0;
}

/* Would KVM have signalled an eventfd for this write? Then do it. */
static bool ioev_kick(bool pio, uint64_t addr, unsigned len, uint64_t val)
{
	uint64_t mask = len >= 8 ? ~0ULL : (1ULL << (8 * len)) - 1;
	uint64_t one = 1;

	for (unsigned i = 0; i < nr_ioevs; i++) {
		struct ioev *e = &ioevs[i];
		if (e->pio != pio || e->addr != addr ||
		    (e->len && e->len != len) ||
		    (e->datamatch && e->match != (val & mask)))
			continue;
		if (write(e->fd, &one, sizeof(one)) != sizeof(one))
			logf_("ioeventfd write: %s", strerror(errno));
		logf_("ioeventfd kick %#llx = %#llx", (unsigned long long)addr,
		      (unsigned long long)(val & mask));
		return true;
	}
	return false;
}

static int vm_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case KVM_SET_IDENTITY_MAP_ADDR:
	case KVM_SET_TSS_ADDR:
		return 0;
	case KVM_CREATE_IRQCHIP:
		logf_("irqchip");
		return 0;
	case KVM_CREATE_PIT2:
		logf_("pit2 flags=%#x", ((struct kvm_pit_config *)arg)->flags);
		return 0;
	case KVM_SET_USER_MEMORY_REGION: {
		struct kvm_userspace_memory_region *m = arg;
		if (m->slot >= 32) {
			errno = EINVAL;
			return -1;
		}
		slots[m->slot] = *m;
		logf_("slot %u gpa=%#llx size=%#llx flags=%#x", m->slot,
		      m->guest_phys_addr, m->memory_size, m->flags);
		return 0;
	}
	case KVM_CREATE_VCPU:
		return create_vcpu((unsigned long)arg);
	case KVM_IOEVENTFD: {
		int ret;
		pthread_mutex_lock(&lock);
		ret = ioeventfd(arg);
		pthread_mutex_unlock(&lock);
		return ret;
	}
	case KVM_IRQ_LINE: {
		struct kvm_irq_level *l = arg;
		logf_("irq %u level %u", l->irq, l->level);
		pthread_mutex_lock(&irq_lock);
		if (l->irq < 64)
			irq_level[l->irq] = l->level;
		pthread_cond_broadcast(&irq_cond);
		pthread_mutex_unlock(&irq_lock);
		return 0;
	}
	case KVM_SET_GSI_ROUTING: {
		struct kvm_irq_routing *t = arg;
		logf_("gsi routing nr=%u", t->nr);
		for (unsigned i = 0; i < t->nr; i++)
			if (t->entries[i].type == KVM_IRQ_ROUTING_MSI)
				logf_("msi route gsi=%u addr=%#x data=%#x",
				      t->entries[i].gsi,
				      t->entries[i].u.msi.address_lo,
				      t->entries[i].u.msi.data);
		return 0;
	}
	case KVM_IRQFD: {
		struct kvm_irqfd *f = arg;
		/* No in-kernel IOAPIC here to lower a line at EOI: refuse
		 * resampling irqfds, as a kernel without them would, so
		 * level lines come through KVM_IRQ_LINE, which irqwait sees.
		 * (The nested machine's real KVM runs the irqfd path.) */
		if (f->flags & KVM_IRQFD_FLAG_RESAMPLE) {
			logf_("irqfd gsi=%u resample refused", f->gsi);
			errno = EINVAL;
			return -1;
		}
		logf_("irqfd gsi=%u %s", f->gsi,
		      f->flags & KVM_IRQFD_FLAG_DEASSIGN ? "deassign" : "assign");
		return 0;
	}
	case KVM_SIGNAL_MSI: {
		struct kvm_msi *m = arg;
		logf_("signal msi addr=%#x data=%#x", m->address_lo, m->data);
		return 1;
	}
	}
	errno = ENOTTY;
	return -1;
}

/* irqwait GSI [LEVEL]: until the line's last KVM_IRQ_LINE level is LEVEL
 * (default 1), at most 5 s; the guest "waits for its interrupt". */
static void irq_wait(unsigned gsi, unsigned level)
{
	struct timespec dl;
	bool ok;

	clock_gettime(CLOCK_REALTIME, &dl);
	dl.tv_sec += 5;
	pthread_mutex_lock(&irq_lock);
	while (gsi < 64 && irq_level[gsi] != level &&
	       pthread_cond_timedwait(&irq_cond, &irq_lock, &dl) == 0)
		;
	ok = gsi < 64 && irq_level[gsi] == level;
	pthread_mutex_unlock(&irq_lock);
	logf_("irqwait %u %u %s", gsi, level, ok ? "ok" : "timeout");
}

/* Sleep until a signal the KVM_RUN mask lets through arrives: EINTR. As
 * in KVM, immediate_exit set before the call (or by a handler that ran
 * just before it) returns EINTR at once; signals are blocked around that
 * check so one arriving after it is taken by sigsuspend, never lost. */
static int block_for_kick(struct vcpu_state *v)
{
	sigset_t all, old, m;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	if (!v->run->immediate_exit) {
		m = v->has_mask ? v->run_mask : old;
		sigsuspend(&m);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = EINTR;
	return -1;
}

static bool kick_pending(struct vcpu_state *v)
{
	sigset_t p;

	sigpending(&p);
	for (int s = 1; s < 64; s++)
		if (sigismember(&p, s) && !sigismember(&v->run_mask, s))
			return true;
	return false;
}

static char *next_step(void)
{
	const char *script = getenv("FAKEKVM_SCRIPT");
	static char buf[256];
	unsigned i = 0;

	if (!script)
		return NULL;
	for (const char *p = script; *p; i++) {
		const char *e = strchr(p, ';');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (i == step) {
			snprintf(buf, sizeof(buf), "%.*s", (int)n, p);
			step++;
			return buf;
		}
		if (!e)
			break;
		p = e + 1;
	}
	return NULL;
}

static void set_io(struct kvm_run *r, int dir, unsigned port, unsigned size,
		   unsigned count)
{
	r->exit_reason = KVM_EXIT_IO;
	r->io.direction = dir;
	r->io.port = port;
	r->io.size = size;
	r->io.count = count;
	r->io.data_offset = 4096;
}

/* The exit cvisor handled last time: log what a read returned. */
static void log_previous(struct kvm_run *r)
{
	if (r->exit_reason == KVM_EXIT_IO && r->io.direction == KVM_EXIT_IO_IN) {
		uint64_t v = 0;
		memcpy(&v, (uint8_t *)r + r->io.data_offset, r->io.size);
		logf_("in %#x = %#llx", r->io.port, (unsigned long long)v);
	} else if (r->exit_reason == KVM_EXIT_MMIO && !r->mmio.is_write) {
		uint64_t v = 0;
		memcpy(&v, r->mmio.data, r->mmio.len);
		logf_("mmior %#llx = %#llx", r->mmio.phys_addr,
		      (unsigned long long)v);
	}
	r->exit_reason = KVM_EXIT_UNKNOWN;
}

static void mem_wait(uint64_t gpa, unsigned size, uint64_t want)
{
	uint64_t v = 0;
	void *p = gpa_to_host(gpa, size);

	for (int i = 0; p && i < 5000; i++) {
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		memcpy(&v, p, size);
		if (v == want)
			break;
		usleep(1000);
	}
	logf_("memwait %#llx = %#llx %s", (unsigned long long)gpa,
	      (unsigned long long)v, v == want ? "ok" : "timeout");
}

/* Steps a guest CPU does without exiting: 1 if s was one of them. */
static int mem_step(const char *op, uint64_t a, uint64_t b, uint64_t c,
		    bool b_given)
{
	unsigned size = b;
	void *p;

	if (!strcmp(op, "irqwait")) {
		irq_wait(a, b_given ? b : 1);
		return 1;
	}
	if (!strcmp(op, "memfill")) {
		if ((p = gpa_to_host(a, b)))
			memset(p, (int)c, b);
		else
			logf_("memfill %#llx: not guest memory",
			      (unsigned long long)a);
		return 1;
	}
	if (strcmp(op, "memw") && strcmp(op, "memr") && strcmp(op, "memwait"))
		return 0;
	if ((size != 1 && size != 2 && size != 4 && size != 8) ||
	    !(p = gpa_to_host(a, size))) {
		logf_("%s %#llx size %u: not guest memory", op,
		      (unsigned long long)a, size);
		return 1;
	}
	if (!strcmp(op, "memw")) {
		memcpy(p, &c, size);
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
	} else if (!strcmp(op, "memr")) {
		uint64_t v = 0;
		memcpy(&v, p, size);
		logf_("memr %#llx = %#llx", (unsigned long long)a,
		      (unsigned long long)v);
	} else {
		mem_wait(a, size, c);
	}
	return 1;
}

/* 0: an exit is set up in the run area; 1: the step needed no exit;
 * -1: blocked and interrupted (EINTR). */
static int run_step(struct vcpu_state *v, char *s)
{
	struct kvm_run *r = v->run;
	char op[16] = "", text[200] = "";
	unsigned long long a = 0, b = 0, c = 0;

	int nargs = sscanf(s, "%15s %lli %lli %lli", op, &a, &b, &c);
	if (mem_step(op, a, b, c, nargs >= 3))
		return 1;
	if (!strcmp(op, "mmiow") || !strcmp(op, "out")) {
		bool kicked;

		pthread_mutex_lock(&lock);
		kicked = ioev_kick(op[0] == 'o', a, b, c);
		pthread_mutex_unlock(&lock);
		if (kicked)
			return 1;
	}
	memset(&r->io, 0, sizeof(r->io) > sizeof(r->mmio) ? sizeof(r->io) :
	       sizeof(r->mmio));
	if (!strcmp(op, "out") || !strcmp(op, "in")) {
		set_io(r, op[0] == 'o' ? KVM_EXIT_IO_OUT : KVM_EXIT_IO_IN, a, b, 1);
		memcpy((uint8_t *)r + 4096, &c, 8);
	} else if (!strcmp(op, "outs")) {
		sscanf(s, "%*s %*s %199[^\n]", text);
		set_io(r, KVM_EXIT_IO_OUT, a, 1, strlen(text));
		memcpy((uint8_t *)r + 4096, text, strlen(text));
	} else if (!strcmp(op, "mmiow") || !strcmp(op, "mmior")) {
		r->exit_reason = KVM_EXIT_MMIO;
		r->mmio.phys_addr = a;
		r->mmio.len = b;
		r->mmio.is_write = op[4] == 'w';
		memcpy(r->mmio.data, &c, 8);
	} else if (!strcmp(op, "shutdown")) {
		r->exit_reason = KVM_EXIT_SHUTDOWN;
	} else if (!strcmp(op, "internal")) {
		r->exit_reason = KVM_EXIT_INTERNAL_ERROR;
		r->internal.suberror = 1;
		r->internal.ndata = 1;
		r->internal.data[0] = 0xdead;
	} else if (!strcmp(op, "failentry")) {
		r->exit_reason = KVM_EXIT_FAIL_ENTRY;
		r->fail_entry.hardware_entry_failure_reason = 0x21;
	} else if (!strcmp(op, "reset") || !strcmp(op, "poweroff") ||
		   !strcmp(op, "crash")) {
		r->exit_reason = KVM_EXIT_SYSTEM_EVENT;
		r->system_event.type = op[0] == 'r' ? KVM_SYSTEM_EVENT_RESET :
			op[0] == 'p' ? KVM_SYSTEM_EVENT_SHUTDOWN :
			KVM_SYSTEM_EVENT_CRASH;
	} else if (!strcmp(op, "unknown")) {
		r->exit_reason = a;
	} else if (!strcmp(op, "stuck")) {
		for (;;)
			pause();
	} else {
		return block_for_kick(v);   /* "block" */
	}
	return 0;
}

static int vcpu_run(struct vcpu_state *v)
{
	char *s;

	if (v->id == 0 && !v->logged_boot) {
		v->logged_boot = true;
		log_boot(v);
	}
	if (!v->run) {
		errno = EFAULT;
		return -1;
	}
	log_previous(v->run);
	if (v->run->immediate_exit || kick_pending(v))
		return block_for_kick(v);
	if (v->id != 0)
		return block_for_kick(v);
	for (;;) {
		int ret;

		pthread_mutex_lock(&lock);
		s = next_step();
		pthread_mutex_unlock(&lock);
		if (!s)
			return block_for_kick(v);
		ret = run_step(v, s);
		if (ret != 1)
			return ret;
	}
}

static int vcpu_ioctl(int fd, struct vcpu_state *v, unsigned long req,
		      void *arg)
{
	switch (req) {
	case KVM_SET_SIGNAL_MASK: {
		struct kvm_signal_mask *m = arg;
		sigemptyset(&v->run_mask);
		memcpy(&v->run_mask, m->sigset, m->len < 8 ? m->len : 8);
		v->has_mask = true;
		return 0;
	}
	case KVM_GET_REGS:
		*(struct kvm_regs *)arg = v->regs;
		return 0;
	case KVM_SET_REGS:
		v->regs = *(struct kvm_regs *)arg;
		return 0;
	case KVM_GET_SREGS:
		*(struct kvm_sregs *)arg = v->sregs;
		return 0;
	case KVM_SET_SREGS:
		v->sregs = *(struct kvm_sregs *)arg;
		return 0;
	case KVM_GET_LAPIC:
		memset(arg, 0, sizeof(struct kvm_lapic_state));
		return 0;
	case KVM_SET_LAPIC: {
		uint32_t l0;
		memcpy(&l0, ((struct kvm_lapic_state *)arg)->regs + 0x350, 4);
		logf_("vcpu %u lint0 mode %u", v->id, (l0 >> 8) & 7);
		return 0;
	}
	case KVM_SET_FPU:
		return 0;
	case KVM_SET_CPUID2: {
		struct kvm_cpuid2 *c = arg;
		logf_("vcpu %u cpuid nent=%u", v->id, c->nent);
		return 0;
	}
	case KVM_GET_TSC_KHZ:
		return 2000000;
	case KVM_RUN:
		if (!v->run) {
			v->run = mmap(NULL, MMAP_SIZE, PROT_READ | PROT_WRITE,
				      MAP_SHARED, fd, 0);
			if (v->run == MAP_FAILED)
				v->run = NULL;
		}
		return vcpu_run(v);
	}
	errno = ENOTTY;
	return -1;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd < 0 || fd >= MAX_FDS || fds[fd].kind == K_NONE)
		return real_ioctl(fd, req, arg);
	switch (fds[fd].kind) {
	case K_SYS:
		return sys_ioctl(req, arg);
	case K_VM:
		return vm_ioctl(req, arg);
	default:
		return vcpu_ioctl(fd, fds[fd].vcpu, req, arg);
	}
}

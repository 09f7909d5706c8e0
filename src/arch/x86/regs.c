/* Register state of x86 vCPUs: reset-time setup shared by all vCPUs and the
 * boot vCPU's entry state for each boot protocol. */
#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/arch.h"
#include "core/log.h"
#include "vcpu/vcpu.h"

#define APIC_LVT_LINT0 0x350
#define APIC_LVT_LINT1 0x360
#define APIC_MODE_NMI    0x4
#define APIC_MODE_EXTINT 0x7

#define CR0_PE (1u << 0)
#define CR0_ET (1u << 4)
#define CR0_NE (1u << 5)
#define CR0_PG (1u << 31)
#define CR4_PAE (1u << 5)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)

static void lapic_set_mode(struct kvm_lapic_state *st, unsigned reg,
			   unsigned mode)
{
	uint32_t v;

	memcpy(&v, st->regs + reg, sizeof(v));
	v = (v & ~0x700u) | (mode << 8);
	memcpy(st->regs + reg, &v, sizeof(v));
}

/* What firmware does on real hardware: LINT0 takes the 8259's ExtINT
 * (virtual-wire mode) and LINT1 is NMI. Guests that boot without firmware,
 * Linux included, rely on it. */
static int setup_lint(struct vcpu *v)
{
	struct kvm_lapic_state st;

	if (ioctl(v->fd, KVM_GET_LAPIC, &st) < 0)
		return -errno;
	lapic_set_mode(&st, APIC_LVT_LINT0, APIC_MODE_EXTINT);
	lapic_set_mode(&st, APIC_LVT_LINT1, APIC_MODE_NMI);
	if (ioctl(v->fd, KVM_SET_LAPIC, &st) < 0)
		return -errno;
	return 0;
}

static int setup_fpu(struct vcpu *v)
{
	struct kvm_fpu fpu = { .fcw = 0x37f, .mxcsr = 0x1f80 };

	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? -errno : 0;
}

int x86_vcpu_init(struct vcpu *v, unsigned nr_cpus)
{
	int ret = x86_vcpu_set_cpuid(v, nr_cpus);

	if (!ret && (ret = setup_lint(v)))
		pr_err("vcpu %u: LAPIC LINT setup: %s", v->id, strerror(-ret));
	if (!ret && (ret = setup_fpu(v)))
		pr_err("vcpu %u: KVM_SET_FPU: %s", v->id, strerror(-ret));
	return ret;
}

static struct kvm_segment flat_seg(uint16_t sel, uint8_t type, bool code64)
{
	return (struct kvm_segment){
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = !code64, .s = 1, .l = code64,
		.g = 1,
	};
}

static void set_prot32(struct kvm_sregs *s)
{
	/* PVH and multiboot both ask for this state: flat 4 GiB segments,
	 * protection on, paging off. */
	s->cs = flat_seg(0x10, 0xb, false);
	s->ds = s->es = s->fs = s->gs = s->ss = flat_seg(0x18, 0x3, false);
	s->cr0 = CR0_PE | CR0_ET;
	s->cr4 = 0;
	s->efer = 0;
}

static void set_long64(struct kvm_sregs *s, const struct x86_boot_state *b)
{
	s->cs = flat_seg(0x10, 0xb, true);
	s->ds = s->es = s->fs = s->gs = s->ss = flat_seg(0x18, 0x3, false);
	s->cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	s->cr3 = b->cr3;
	s->cr4 = CR4_PAE;
	s->efer = EFER_LME | EFER_LMA;
	if (b->gdt_base) {
		s->gdt.base = b->gdt_base;
		s->gdt.limit = 4 * 8 - 1;
	}
}

static void set_real(struct kvm_sregs *s, __u64 *rip)
{
	uint16_t seg = (*rip >> 4) & 0xf000;

	/* CS:IP with the largest segment that reaches rip (below 1 MiB). */
	s->cs.selector = seg;
	s->cs.base = (uint64_t)seg << 4;
	s->cs.limit = 0xffff;
	*rip -= s->cs.base;
	s->ds = s->es = s->fs = s->gs = s->ss = s->cs;
	s->ds.type = s->es.type = s->fs.type = s->gs.type = s->ss.type = 0x3;
	s->cr0 = CR0_ET;
	s->cr4 = 0;
	s->efer = 0;
}

/* The power-on state a BIOS expects (Intel SDM 9.1.4): CS F000 with base
 * FFFF0000, so that IP FFF0 fetches from the top of 4 GiB; the other
 * segments 0; caching off in CR0, as a PC comes up. */
static void set_reset(struct kvm_sregs *s)
{
	struct kvm_segment data = { .limit = 0xffff, .type = 0x3, .s = 1,
				    .present = 1 };

	s->cs = data;
	s->cs.type = 0xb;
	s->cs.selector = 0xf000;
	s->cs.base = 0xffff0000;
	s->ds = s->es = s->fs = s->gs = s->ss = data;
	s->gdt.base = s->idt.base = 0;
	s->gdt.limit = s->idt.limit = 0xffff;
	s->cr0 = 0x60000010;	/* CD, NW, ET */
	s->cr4 = 0;
	s->efer = 0;
}

int x86_vcpu_set_boot_state(struct vcpu *v, const struct x86_boot_state *b)
{
	struct kvm_sregs sregs;
	struct kvm_regs regs = { .rflags = 0x2 };

	if (ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0)
		return -errno;
	regs.rip = b->rip;
	switch (b->mode) {
	case X86_MODE_REAL:
		if (b->rip >= 0x100000)
			return -EINVAL;
		set_real(&sregs, &regs.rip);
		break;
	case X86_MODE_PROT32:
		if (b->rip > 0xffffffffULL)
			return -EINVAL;
		set_prot32(&sregs);
		break;
	case X86_MODE_LONG64:
		set_long64(&sregs, b);
		break;
	case X86_MODE_RESET:
		set_reset(&sregs);
		break;
	}
	regs.rsp = b->rsp;
	regs.rax = b->rax;
	regs.rbx = b->rbx;
	regs.rsi = b->rsi;
	if (ioctl(v->fd, KVM_SET_SREGS, &sregs) < 0 ||
	    ioctl(v->fd, KVM_SET_REGS, &regs) < 0)
		return -errno;
	return 0;
}

static void dump_seg(const char *name, const struct kvm_segment *s)
{
	fprintf(stderr, "  %-3s sel=%04x base=%016llx limit=%08x type=%x "
		"p=%u dpl=%u db=%u s=%u l=%u g=%u\n", name, s->selector,
		(unsigned long long)s->base, s->limit, s->type, s->present,
		s->dpl, s->db, s->s, s->l, s->g);
}

void x86_vcpu_dump(struct vcpu *v)
{
	struct kvm_regs r;
	struct kvm_sregs s;

	if (ioctl(v->fd, KVM_GET_REGS, &r) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &s) < 0) {
		fprintf(stderr, "  (registers unavailable: %s)\n",
			strerror(errno));
		return;
	}
	fprintf(stderr,
		"  rip=%016llx rflags=%016llx\n"
		"  rax=%016llx rbx=%016llx rcx=%016llx rdx=%016llx\n"
		"  rsi=%016llx rdi=%016llx rsp=%016llx rbp=%016llx\n"
		"  r8 =%016llx r9 =%016llx r10=%016llx r11=%016llx\n"
		"  r12=%016llx r13=%016llx r14=%016llx r15=%016llx\n",
		r.rip, r.rflags, r.rax, r.rbx, r.rcx, r.rdx, r.rsi, r.rdi,
		r.rsp, r.rbp, r.r8, r.r9, r.r10, r.r11, r.r12, r.r13, r.r14,
		r.r15);
	dump_seg("cs", &s.cs);
	dump_seg("ds", &s.ds);
	dump_seg("ss", &s.ss);
	dump_seg("tr", &s.tr);
	fprintf(stderr,
		"  cr0=%016llx cr2=%016llx cr3=%016llx cr4=%016llx\n"
		"  efer=%016llx apic_base=%016llx\n"
		"  gdt=%016llx/%04x idt=%016llx/%04x\n",
		s.cr0, s.cr2, s.cr3, s.cr4, s.efer, s.apic_base,
		s.gdt.base, s.gdt.limit, s.idt.base, s.idt.limit);
}

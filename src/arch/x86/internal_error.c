/* A KVM internal error means KVM stopped the guest because it could not
 * go on by itself, most often because it had to emulate an instruction it
 * cannot (suberror 1): an MMIO access by an exotic instruction, or, on
 * hosts where KVM emulates guest ring 0 (kvm_pvm, some nested setups),
 * ordinary kernel code such as `cmpxchg16b`. A bare "suberror 1" tells a
 * user nothing: say which instruction, where, in which mode, and why.
 * The instruction bytes come from KVM when it reports them (Linux 5.14+,
 * KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES), else from guest
 * memory at CS.base + RIP (through KVM_TRANSLATE when paging is on), and
 * only through the bounds-checked accessor.
 */
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "arch/x86/internal_error.h"
#include "core/log.h"
#include "mem/guest_mem.h"
#include "vcpu/vcpu.h"
#include "vm/vm.h"

#define X86_CR0_PE   (1ull << 0)
#define X86_CR0_PG   (1ull << 31)
#define X86_EFER_LMA (1ull << 10)
#define INSN_MAX     15

#ifndef KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES
#define KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES (1ull << 0)
#endif

const char *x86_mode_words(uint64_t cr0, uint64_t efer, int cs_l, int cs_db)
{
	if (!(cr0 & X86_CR0_PE))
		return "real mode";
	if (efer & X86_EFER_LMA)
		return cs_l ? "64-bit long mode" : cs_db ?
		       "32-bit compatibility mode" : "16-bit compatibility mode";
	return cs_db ? "32-bit protected mode" : "16-bit protected mode";
}

/* Skip legacy prefixes and (in long mode) one REX; *rex gets REX.W. */
static size_t skip_prefixes(const uint8_t *b, size_t n, int long_mode,
			    int *rex_w)
{
	size_t i = 0;

	*rex_w = 0;
	while (i < n && (b[i] == 0x66 || b[i] == 0x67 || b[i] == 0xf0 ||
			 b[i] == 0xf2 || b[i] == 0xf3 || b[i] == 0x2e ||
			 b[i] == 0x36 || b[i] == 0x3e || b[i] == 0x26 ||
			 b[i] == 0x64 || b[i] == 0x65))
		i++;
	if (long_mode && i < n && (b[i] & 0xf0) == 0x40) {
		*rex_w = !!(b[i] & 0x08);
		i++;
	}
	return i;
}

const char *x86_internal_error_hint(uint32_t suberror, const uint8_t *b,
				    size_t n, int long_mode)
{
	int rex_w;
	size_t i;

	switch (suberror) {
	case KVM_INTERNAL_ERROR_SIMUL_EX:
		return "an exception while the guest was taking another one: "
		       "its IDT, GDT or stack is broken";
	case KVM_INTERNAL_ERROR_DELIVERY_EV:
		return "an exception KVM could not deliver to the guest (a bad "
		       "IDT entry or stack)";
	case KVM_INTERNAL_ERROR_EMULATION:
		break;
	default:
		return NULL;
	}
	i = skip_prefixes(b, n, long_mode, &rex_w);
	if (i + 2 < n && b[i] == 0x0f && b[i + 1] == 0xc7 &&
	    ((b[i + 2] >> 3) & 7) == 1)
		return rex_w ? "cmpxchg16b: this host's KVM cannot emulate it "
			       "(a host that emulates guest kernel code, such "
			       "as kvm_pvm or some nested setups; run the guest "
			       "on a host with hardware virtualization)"
			     : "cmpxchg8b: this host's KVM cannot emulate it "
			       "(run the guest on a host with hardware "
			       "virtualization)";
	if (i + 1 < n && b[i] == 0x0f && (b[i + 1] == 0x01 || b[i + 1] == 0x00))
		return "a system instruction (descriptor tables, VMX/SVM, "
		       "xsetbv...) this host's KVM cannot emulate";
	if (n && (b[i] == 0x0f && i + 1 < n && (b[i + 1] & 0xf0) == 0x10))
		return "an SSE/AVX instruction on an MMIO address or where "
		       "KVM emulates: KVM's emulator does not handle it";
	return "KVM could not emulate this instruction: an MMIO access by an "
	       "instruction its emulator lacks, or guest kernel code on a "
	       "host that emulates it";
}

/* The instruction's bytes: from KVM's report, else from guest memory. */
static size_t insn_bytes(struct vcpu *v, const struct kvm_sregs *s,
			 uint64_t rip, uint8_t *out)
{
	struct kvm_run *r = v->run;
	uint64_t lin = s->cs.base + rip, gpa = lin;
	const uint8_t *p;

	if (r->internal.suberror == KVM_INTERNAL_ERROR_EMULATION &&
	    r->internal.ndata >= 2 && r->internal.ndata <= 16 &&
	    (r->internal.data[0] &
	     KVM_INTERNAL_ERROR_EMULATION_FLAG_INSTRUCTION_BYTES)) {
		size_t n = r->internal.data[1] & 0xff;
		size_t room = (r->internal.ndata - 2) * 8;

		n = n > INSN_MAX ? INSN_MAX : n;
		n = n > room ? room : n;
		memcpy(out, &r->internal.data[2], n);
		return n;
	}
	if (s->cr0 & X86_CR0_PG) {
		struct kvm_translation t = { .linear_address = lin };

		if (ioctl(v->fd, KVM_TRANSLATE, &t) < 0 || !t.valid)
			return 0;
		gpa = t.physical_address;
	}
	for (size_t n = INSN_MAX; n; n--) {
		p = guest_mem_ptr(&v->vm->mem, gpa, n);  /* bounds-checked */
		if (p) {
			memcpy(out, p, n);
			return n;
		}
	}
	return 0;
}

void x86_explain_internal_error(struct vcpu *v)
{
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	uint8_t b[INSN_MAX];
	char hex[INSN_MAX * 3 + 1] = "";
	const char *mode, *hint;
	size_t n;

	if (ioctl(v->fd, KVM_GET_REGS, &regs) < 0 ||
	    ioctl(v->fd, KVM_GET_SREGS, &sregs) < 0) {
		pr_err("vcpu %u: KVM internal error (registers unreadable)",
		       v->id);
		return;
	}
	mode = x86_mode_words(sregs.cr0, sregs.efer, sregs.cs.l, sregs.cs.db);
	n = insn_bytes(v, &sregs, regs.rip, b);
	for (size_t i = 0, k = 0; i < n && k < sizeof(hex); i++)
		k += (size_t)snprintf(hex + k, sizeof(hex) - k, "%s%02x",
				      i ? " " : "", b[i]);
	hint = x86_internal_error_hint(v->run->internal.suberror, b, n,
				       (sregs.efer & X86_EFER_LMA) && sregs.cs.l);
	pr_err("vcpu %u: KVM internal error at rip %#llx (cs base %#llx) in "
	       "%s, ring %u; instruction bytes: %s", v->id,
	       (unsigned long long)regs.rip,
	       (unsigned long long)sregs.cs.base, mode, sregs.cs.dpl,
	       n ? hex : "(not readable)");
	if (hint)
		pr_err("vcpu %u: hint: %s", v->id, hint);
}

/* Ring 0 of the test guest: the least that must run at CPL 0. On the KVM
 * this guest is written for, ring 0 is instruction-emulated (~1M instr/s),
 * so kmain does a handful of port writes and descriptor loads, then drops
 * to ring 3 for good; ring 3 comes back only through exceptions, device
 * interrupts and the ud2 service call.
 */
#include "guest.h"

struct trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx,
	    rax;
	u64 vector, error, rip, cs, rflags, rsp, ss;
};

struct idt_entry {
	u16 off_lo, sel;
	u8 ist, type;
	u16 off_mid;
	u32 off_hi, zero;
} __attribute__((packed));

struct tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3, iomap_base;
} __attribute__((packed));

struct desc_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

void kmain(void);
void trap(struct trap_frame *f);
void enter_user(void (*rip)(void), void *rsp) __attribute__((noreturn));
void user_main(void);

extern u64 isr_table[52], isr_spurious;
extern u64 tss_desc[2];
extern struct desc_ptr idt_ptr;

static struct idt_entry idt[256] __attribute__((aligned(16)));
static struct tss tss __attribute__((aligned(16)));
/* Stacks are NOBITS: never read before written, no need to zero them. */
static u8 kstack[8192] __attribute__((aligned(16), section(".bss.stack")));
static u8 ustack[65536] __attribute__((aligned(16), section(".bss.stack")));

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline void outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" :: "a"(v), "Nd"(port));
}

static inline void outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" :: "a"(v), "Nd"(port));
}

static inline u16 inw(u16 port)
{
	u16 v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 inl(u16 port)
{
	u32 v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u8 inb(u16 port)
{
	u8 v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static void serial_init(void)
{
	outb(COM1 + 1, 0x00);   /* IER: polled */
	outb(COM1 + 3, 0x80);   /* LCR: DLAB */
	outb(COM1 + 0, 0x01);   /* DLL: 115200 */
	outb(COM1 + 1, 0x00);   /* DLM */
	outb(COM1 + 3, 0x03);   /* LCR: 8n1 */
	/* FCR left alone: changing FIFO mode discards bytes the host may
	 * already have queued for the echo workload. */
	outb(COM1 + 4, 0x03);   /* MCR: DTR, RTS */
}

static void serial_write(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		/* Bounded: a missing UART must not hang the guest. */
		for (int t = 0; t < 100000 && !(inb(COM1 + 5) & 0x20); t++)
			;
		outb(COM1, (u8)s[i]);
	}
}

static void kprintf(const char *f, ...) __attribute__((format(printf, 1, 2)));
static void kprintf(const char *f, ...)
{
	char buf[160];
	va_list ap;
	va_start(ap, f);
	int n = vfmt(buf, sizeof(buf), f, ap);
	va_end(ap);
	serial_write(buf, (size_t)n);
}

static __attribute__((noreturn)) void do_exit(u32 status)
{
	outl(DEBUG_EXIT, status);
	for (;;)
		__asm__ volatile("cli; hlt");
}

/* Legacy 8259s: move them off the exception vectors (the BIOS leaves the
 * master at vector 8) and mask every line; interrupts come via the IOAPIC. */
static void pic_disable(void)
{
	outb(0x20, 0x11); outb(0xa0, 0x11);
	outb(0x21, VEC_PIC_BASE); outb(0xa1, VEC_PIC_BASE + 8);
	outb(0x21, 0x04); outb(0xa1, 0x02);
	outb(0x21, 0x01); outb(0xa1, 0x01);
	outb(0x21, 0xff); outb(0xa1, 0xff);
}

static void set_gate(unsigned vec, u64 handler)
{
	struct idt_entry *e = &idt[vec];
	e->off_lo = (u16)handler;
	e->sel = SEL_KCODE64;
	e->ist = 0;
	e->type = 0x8e;   /* present, DPL 0, 64-bit interrupt gate */
	e->off_mid = (u16)(handler >> 16);
	e->off_hi = (u32)(handler >> 32);
	e->zero = 0;
}

static void idt_init(void)
{
	/* Only the vectors we have stubs for; the rest stay not-present
	 * (idt is in .data thanks to -fno-zero-initialized-in-bss). */
	for (unsigned v = 0; v < 52; v++)
		set_gate(v, isr_table[v]);
	set_gate(VEC_SPURIOUS, isr_spurious);
	idt_ptr.limit = sizeof(idt) - 1;
	idt_ptr.base = (u64)idt;
	__asm__ volatile("lidt %0" :: "m"(idt_ptr));
}

static void tss_init(void)
{
	u64 base = (u64)&tss;
	u64 limit = sizeof(tss) - 1;
	tss.rsp[0] = (u64)(kstack + sizeof(kstack));
	tss.iomap_base = sizeof(tss);   /* no I/O bitmap */
	tss_desc[0] = (limit & 0xffff) | ((base & 0xffffff) << 16) |
		      (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
		      (((base >> 24) & 0xff) << 56);
	tss_desc[1] = base >> 32;
	__asm__ volatile("ltr %w0" :: "r"(SEL_TSS));
}

void kmain(void)
{
	serial_init();
	pic_disable();
	idt_init();
	tss_init();
	enter_user(user_main, ustack + sizeof(ustack));
}

/* TSC ticks during 10 ms of PIT channel 2 (mode 0, gate via port 0x61),
 * or 0 if no PIT answers. Polls an I/O port, so it is ring 0; a handful of
 * instructions per iteration keeps it cheap even when emulated. */
static u64 pit_tsc_10ms(void)
{
	const u16 latch = 11932;   /* 1193182 Hz / 100 */
	u8 v = inb(0x61);
	outb(0x61, (u8)((v & ~0x02) | 0x01));   /* gate on, speaker off */
	outb(0x43, 0xb0);                       /* ch2, lo/hi, mode 0 */
	outb(0x42, latch & 0xff);
	outb(0x42, latch >> 8);
	u64 t0 = rdtsc(), t1;
	u32 n = 0;
	/* Bounded in iterations and in TSC ticks (0.5 s even at 1 GHz):
	 * without a PIT every inb may be a slow exit to the VMM. */
	do {
		t1 = rdtsc();
		if (inb(0x61) & 0x20)
			break;
	} while (++n < 1000000 && t1 - t0 < 500000000);
	outb(0x61, v);
	/* Output high at once means no PIT behind port 0x61. */
	if (n == 0 || n >= 1000000 || t1 - t0 >= 500000000)
		return 0;
	return t1 - t0;
}

/* COM1 receive interrupt (uart-irq workload): drain what is there so the
 * line drops, count it. */
volatile u32 uart_irq_count, uart_irq_bytes;

static void uart_irq(void)
{
	for (int i = 0; i < 16 && (inb(COM1 + 5) & 0x01); i++) {
		(void)inb(COM1);
		uart_irq_bytes++;
	}
	uart_irq_count++;
}

/* VEC_LINE: a pin a workload raised itself (pc-testdev); counting is all. */
volatile u32 line_irq_count;

static u32 port_in(u16 port, u64 size)
{
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void port_out(u16 port, u64 size, u32 v)
{
	if (size == 1)
		outb(port, (u8)v);
	else if (size == 2)
		outw(port, (u16)v);
	else
		outl(port, v);
}

/* PCI configuration mechanism #1: latch the dword in CONFIG_ADDRESS, then
 * access the 1, 2 or 4 bytes of it through CONFIG_DATA. Ring 3 does the
 * enumeration; only these few port accesses are ring 0. */
static u32 pci_cfg(u32 addr, u32 size, u32 val, bool write)
{
	u16 port = (u16)(0xcfc + (addr & 3));
	outl(0xcf8, 0x80000000u | (addr & 0xfffffc));
	if (write) {
		if (size == 1)
			outb(port, (u8)val);
		else if (size == 2)
			outw(port, (u16)val);
		else
			outl(port, val);
		return 0;
	}
	return size == 1 ? inb(port) : size == 2 ? inw(port) : inl(port);
}

static void triple_fault(void)
{
	static const struct desc_ptr empty = { 0, 0 };
	/* ud2 first: every emulator can raise #UD, while int3 in an
	 * emulated ring 0 is known to be troublesome on some hosts. */
	__asm__ volatile("lidt %0; ud2; int3" :: "m"(empty));
}

static void service(struct trap_frame *f)
{
	switch (f->rax) {
	case SVC_WRITE:
		serial_write((const char *)f->rdi, f->rsi);
		f->rax = f->rsi;
		break;
	case SVC_EXIT:
		do_exit((u32)f->rdi);
	case SVC_GETC: {
		long c = -1;
		for (u64 i = 0; i < f->rdi; i++) {
			if (inb(COM1 + 5) & 0x01) {
				c = inb(COM1);
				break;
			}
		}
		f->rax = (u64)c;
		break;
	}
	case SVC_IRQ:
		if (f->rdi)
			f->rflags |= 0x200;
		else
			f->rflags &= ~0x200ull;
		f->rax = 0;
		break;
	case SVC_PIT_TSC:
		f->rax = pit_tsc_10ms();
		break;
	case SVC_TRIPLE_FAULT:
		triple_fault();
		f->rax = (u64)-1;
		break;
	case SVC_INB:
		f->rax = inb((u16)f->rdi);
		break;
	case SVC_OUTB:
		outb((u16)f->rdi, (u8)f->rsi);
		f->rax = 0;
		break;
	case SVC_PCI_READ:
		f->rax = pci_cfg((u32)f->rdi, (u32)f->rsi, 0, false);
		break;
	case SVC_PCI_WRITE:
		f->rax = pci_cfg((u32)f->rdi, (u32)f->rsi, (u32)f->rdx, true);
		break;
	case SVC_IN:
		f->rax = port_in((u16)f->rdi, f->rsi);
		break;
	case SVC_OUT:
		port_out((u16)f->rdi, f->rsi, (u32)f->rdx);
		f->rax = 0;
		break;
	case SVC_INSB: {
		/* One exit per batch where the VMM takes `rep ins` whole. */
		u64 dst = f->rsi, n = f->rdx;
		__asm__ volatile("rep insb" : "+D"(dst), "+c"(n)
				 : "d"((u16)f->rdi) : "memory");
		f->rax = 0;
		break;
	}
	default:
		f->rax = (u64)-1;
		break;
	}
}

static void lapic_eoi(void)
{
	mmio_write32(LAPIC_BASE + 0xb0, 0);
}

void trap(struct trap_frame *f)
{
	if (f->vector == VEC_UD && (f->cs & 3) == 3 && f->rip < 0xfffffffe) {
		const u8 *ip = phys(f->rip);
		if (ip[0] == 0x0f && ip[1] == 0x0b) {
			service(f);
			f->rip += 2;
			return;
		}
	}
	if (f->vector == VEC_DEVICE) {
		pl011_irq();
		lapic_eoi();
		return;
	}
	if (f->vector == VEC_UART) {
		uart_irq();
		lapic_eoi();
		return;
	}
	if (f->vector == VEC_LINE) {
		line_irq_count++;
		lapic_eoi();
		return;
	}
	if (f->vector == VEC_EDU) {
		edu_irq();
		lapic_eoi();
		return;
	}
	/* Spurious: LAPIC spurious vector and the masked PIC's IRQ7/15 need
	 * no EOI. */
	if (f->vector == VEC_SPURIOUS ||
	    (f->vector >= VEC_PIC_BASE && f->vector < VEC_PIC_BASE + 16))
		return;

	u64 cr2;
	__asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
	kprintf("testguest: exception vector=%lu error=0x%lx rip=0x%lx cs=0x%lx "
		"rsp=0x%lx cr2=0x%lx\n", f->vector, f->error, f->rip, f->cs,
		f->rsp, cr2);
	do_exit(EXIT_EXCEPTION);
}

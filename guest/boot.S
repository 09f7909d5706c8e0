/* Boot code of the test guest: the multiboot v1 header, the PVH ELF note,
 * the 32-bit entry points, the switch to long mode, the AP trampoline and
 * the interrupt stubs.
 *
 * Ring 0 is instruction-emulated on the KVM this is written for (about 1M
 * instructions/s), so nothing here loops over memory: the GDT and the page
 * tables are static data, built by the assembler, and the loader copies
 * them in with the image.
 */

#define MB_MAGIC   0x1BADB002
#define MB_FLAGS   0x00000003   /* page-align modules, want memory info */
#define MB_BOOT_EAX 0x2BADB002

#define SEL_KCODE32 0x08
#define SEL_KDATA   0x10
#define SEL_KCODE64 0x18

#define CR0_PE 0x00000001
#define CR0_PG 0x80000000
#define CR4_PAE 0x20
#define MSR_EFER 0xC0000080
#define EFER_LME 0x100

#define AP_TRAMP_ADDR 0x8000
#define AP_STACK_SIZE 4096
#define MAX_CPUS 64

/* Page-table entry bits. Every page is user-accessible (U) so the ring-3
 * workloads can touch boot structures, low memory and device registers. */
#define PTE_P   0x01
#define PTE_RW  0x02
#define PTE_U   0x04
#define PTE_PWT 0x08
#define PTE_PCD 0x10
#define PTE_PS  0x80

/* ------------------------------------------------------------------ */
/* QEMU's -kernel tries multiboot before PVH on every machine type, so
 * the PVH path can only be exercised under QEMU by an image without this
 * header: the Makefile builds testguest-pvh.elf with -DNO_MULTIBOOT. */
#ifndef NO_MULTIBOOT
	.section .multiboot, "a"
	.balign 4
multiboot_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
#endif

/* PVH: Xen note XEN_ELFNOTE_PHYS32_ENTRY (18) with the 32-bit entry. */
	.section .note.pvh, "a", @note
	.balign 4
	.long 4          /* namesz */
	.long 4          /* descsz */
	.long 18         /* type */
	.asciz "Xen"
	.long pvh_entry

/* ------------------------------------------------------------------ */
/* Shared by the BSP and the APs: PAE, our page tables, EFER.LME, paging.
 * A macro rather than a call: APs arrive together and have no stack yet. */
.macro ENTER_LONG_MODE
	movw $SEL_KDATA, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movl %cr4, %eax
	orl $CR4_PAE, %eax
	movl %eax, %cr4
	movl $pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	wrmsr
	movl %cr0, %eax
	orl $(CR0_PG | CR0_PE), %eax
	movl %eax, %cr0
.endm

	.section .text.boot, "ax"
	.code32
	.globl mb_entry
mb_entry:
	cli
	movl %eax, boot_magic
	movl %ebx, boot_info
	movl $1, boot_proto
	jmp common32

	.globl pvh_entry
pvh_entry:
	cli
	movl %ebx, boot_info
	movl $2, boot_proto
	jmp common32

common32:
	movl $boot_stack_top, %esp
	lgdt gdt_ptr
	ljmp $SEL_KCODE32, $1f
1:	ENTER_LONG_MODE
	ljmp $SEL_KCODE64, $long64

/* AP, arriving from the trampoline in 32-bit protected mode. */
ap_entry32:
	ENTER_LONG_MODE
	ljmp $SEL_KCODE64, $ap_long64

	.code64
long64:
	movabsq $boot_stack_top, %rsp
	call kmain
2:	cli
	hlt
	jmp 2b

ap_long64:
	/* Own stack: slot = atomic ticket. */
	movl $1, %eax
	lock xaddl %eax, ap_next_slot
	cmpl $(MAX_CPUS - 1), %eax
	jae 3f
	incl %eax
	imull $AP_STACK_SIZE, %eax
	leaq ap_stacks(%rip), %rsp
	addq %rax, %rsp
	lidt idt_ptr
	lock incl ap_checked_in
3:	cli
	hlt
	jmp 3b

/* ------------------------------------------------------------------ */
/* AP trampoline: ring 3 copies [ap_tramp_start, ap_tramp_end) to
 * AP_TRAMP_ADDR and sends SIPI vector AP_TRAMP_ADDR >> 12. Runs in real
 * mode at CS = 0x0800, IP = 0; addresses are absolute with DS = 0. */
#define TRAMP(x) ((x) - ap_tramp_start + AP_TRAMP_ADDR)
	.code16
	.globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
	cli
	xorw %ax, %ax
	movw %ax, %ds
	lgdtl TRAMP(tramp_gdt_ptr)
	movl %cr0, %eax
	orl $CR0_PE, %eax
	movl %eax, %cr0
	ljmpl $SEL_KCODE32, $ap_entry32
	.balign 4
tramp_gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt
ap_tramp_end:

/* ------------------------------------------------------------------ */
/* Interrupt stubs: push a zero error code where the CPU does not, then
 * the vector, and go to trap() with a struct trap_frame. */
	.code64
	.text
.macro ISR vec
	.balign 16
isr\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp isr_common
.endm

.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51,255
	ISR \v
.endr

isr_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rsp, %rdi
	cld
	call trap
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	addq $16, %rsp
	iretq

/* Enter ring 3: enter_user(rip, rsp). IF stays clear until SVC_IRQ. */
	.globl enter_user
enter_user:
	movw $(0x20 | 3), %ax
	movw %ax, %ds
	movw %ax, %es
	pushq $(0x20 | 3)        /* ss */
	pushq %rsi               /* rsp */
	pushq $0x2               /* rflags */
	pushq $(0x28 | 3)        /* cs */
	pushq %rdi               /* rip */
	iretq

	.section .rodata
	.balign 8
	.globl isr_table
isr_table:
.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31,32,33,34,35,36,37,38,39,40,41,42,43,44,45,46,47,48,49,50,51
	.quad isr\v
.endr
	.globl isr_spurious
isr_spurious:
	.quad isr255

/* ------------------------------------------------------------------ */
	.data
	.balign 16
	.globl gdt, tss_desc
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff   /* 0x08 ring-0 code, 32-bit */
	.quad 0x00cf92000000ffff   /* 0x10 ring-0 data */
	.quad 0x00af9a000000ffff   /* 0x18 ring-0 code, 64-bit */
	.quad 0x00cff2000000ffff   /* 0x20 ring-3 data */
	.quad 0x00affa000000ffff   /* 0x28 ring-3 code, 64-bit */
tss_desc:
	.quad 0, 0                 /* 0x30 TSS, filled in by kmain */
gdt_end:
	.balign 8
	.word 0, 0, 0
gdt_ptr:
	.word gdt_end - gdt - 1
	.long gdt

	.balign 8
	.word 0, 0, 0
	.globl idt_ptr
idt_ptr:
	.word 0
	.quad 0

	.globl boot_proto, boot_magic, boot_info, ap_checked_in
boot_proto:    .long 0
boot_magic:    .long 0
boot_info:     .long 0
ap_checked_in: .long 0
ap_next_slot:  .long 0

/* Identity map of the low 4 GiB with 2 MiB pages; 3-4 GiB (the MMIO
 * hole: LAPIC, IOAPIC, PL011, testdev) uncached. 16 KiB of tables, built
 * at assembly time so ring 0 spends no instructions on them. */
	.balign 4096
pml4:
	.quad pdpt + (PTE_P | PTE_RW | PTE_U)
	.fill 511, 8, 0
pdpt:
	.quad pd + 0x0000 + (PTE_P | PTE_RW | PTE_U)
	.quad pd + 0x1000 + (PTE_P | PTE_RW | PTE_U)
	.quad pd + 0x2000 + (PTE_P | PTE_RW | PTE_U)
	.quad pd + 0x3000 + (PTE_P | PTE_RW | PTE_U)
	.fill 508, 8, 0
pd:
	.set i, 0
	.rept 1536
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_U | PTE_PS)
	.set i, i + 1
	.endr
	.rept 512
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_U | PTE_PS | PTE_PCD | PTE_PWT)
	.set i, i + 1
	.endr

/* Stacks are never read before written, so they live in NOBITS .bss
 * and the loader need not even zero them. */
	.section .bss.stack, "aw", @nobits
	.balign 4096
	.space 16384
	.globl boot_stack_top
boot_stack_top:
	.balign 4096
ap_stacks:
	.space AP_STACK_SIZE * MAX_CPUS

	.section .note.GNU-stack, "", @progbits

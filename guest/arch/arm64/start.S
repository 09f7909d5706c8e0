/* The AArch64 test guest's entry, exception vectors and PSCI call.
 * Entered at EL1 with the MMU off and x0 = the device tree (the arm64
 * boot protocol, as cvisor and QEMU's -kernel give it). */
	.section .text.start, "ax"
	.global _start
/* The arm64 Linux Image header (Documentation/arm64/booting.rst): cvisor
 * and QEMU's -kernel both load it at the start of RAM + text_offset
 * and pass the device tree in x0. */
_start:
	b	entry
	.long	0
	.quad	0x80000			/* text_offset */
	.quad	_image_size		/* image_size, BSS included */
	.quad	0			/* flags: little-endian */
	.quad	0, 0, 0
	.ascii	"ARM\x64"
	.long	0
entry:
	ldr	x1, =stack0_top
	mov	sp, x1
	bl	set_vectors
	bl	guest_main		/* x0: the device tree */
1:	wfi
	b	1b

/* PSCI CPU_ON's entry for the secondaries: x0 = their stack top. */
	.global secondary_entry
secondary_entry:
	mov	sp, x0
	bl	set_vectors
	bl	secondary_main
1:	wfi
	b	1b

set_vectors:
	adr	x1, vectors
	msr	vbar_el1, x1
	isb
	ret

/* uint64_t psci_call(fn, a1, a2, a3): SMCCC through hvc #0. */
	.global psci_call
psci_call:
	hvc	#0
	ret

/* Each vector saves the caller-saved registers, calls
 * exception_entry(kind) and returns (IRQs come back; synchronous
 * exceptions do not: the handler ends the guest). */
	.macro	vec kind
	.align	7
	sub	sp, sp, #192
	stp	x0, x1, [sp, #0]
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x30, [sp, #144]
	mov	x0, #\kind
	bl	exception_entry
	ldp	x0, x1, [sp, #0]
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x30, [sp, #144]
	add	sp, sp, #192
	eret
	.endm

	.align	11
vectors:
	vec 0	/* current EL, SP_EL0: sync */
	vec 1	/* irq */
	vec 2	/* fiq */
	vec 3	/* serror */
	vec 4	/* current EL, SP_ELx: sync */
	vec 5
	vec 6
	vec 7
	vec 8	/* lower EL, AArch64 */
	vec 9
	vec 10
	vec 11
	vec 12	/* lower EL, AArch32 */
	vec 13
	vec 14
	vec 15

	.section .bss.stacks, "aw", %nobits
	.align	12
	.space	16384
stack0_top:

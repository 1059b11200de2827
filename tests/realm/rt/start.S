/* Realm payload entry points and EL1 exception vectors. */
#define FRAME_SIZE (36 * 8)
#define STACK_SIZE 0x4000

	.section .text.boot, "ax"
	.global _start
/* Boot CPU: entered by REC_CREATE's PC with X0..X7 from RmiRecParams. */
_start:
	mov	x19, x0
	adr	x9, rt_vectors
	msr	vbar_el1, x9
	isb
	ldr	x9, =__stacks_start
	add	x9, x9, #STACK_SIZE
	mov	sp, x9
	mov	x0, x19
	bl	rt_boot
1:	b	1b

/* Secondary CPUs: PSCI CPU_ON entry, X0 = context id = CPU index. */
	.global rt_secondary_entry
rt_secondary_entry:
	mov	x19, x0
	adr	x9, rt_vectors
	msr	vbar_el1, x9
	isb
	ldr	x9, =__stacks_start
	add	x10, x0, #1
	mov	x11, #STACK_SIZE
	madd	x9, x10, x11, x9
	mov	sp, x9
	mov	x0, x19
	bl	rt_secondary
1:	b	1b

/* void rt_eret_to(uint64_t pc, uint64_t spsr, uint64_t sp_el0) */
	.global rt_eret_to
rt_eret_to:
	msr	elr_el1, x0
	msr	spsr_el1, x1
	msr	sp_el0, x2
	isb
	eret

	.text
.macro ventry kind
	.balign 0x80
	sub	sp, sp, #FRAME_SIZE
	stp	x0, x1, [sp, #0]
	mov	x0, #\kind
	b	rt_vector_common
.endm

	.balign 2048
	.global rt_vectors
rt_vectors:
	ventry 0
	ventry 1
	ventry 2
	ventry 3
	ventry 4
	ventry 5
	ventry 6
	ventry 7
	ventry 8
	ventry 9
	ventry 10
	ventry 11
	ventry 12
	ventry 13
	ventry 14
	ventry 15

rt_vector_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	mrs	x2, elr_el1
	stp	x30, x2, [sp, #240]
	mrs	x2, spsr_el1
	mrs	x3, esr_el1
	stp	x2, x3, [sp, #256]
	mrs	x2, far_el1
	mrs	x3, sp_el0
	stp	x2, x3, [sp, #272]
	mov	x1, sp
	bl	rt_exception
	ldp	x2, x3, [sp, #272]
	msr	sp_el0, x3
	ldp	x2, x3, [sp, #256]
	msr	spsr_el1, x2
	ldp	x30, x2, [sp, #240]
	msr	elr_el1, x2
	ldp	x28, x29, [sp, #224]
	ldp	x26, x27, [sp, #208]
	ldp	x24, x25, [sp, #192]
	ldp	x22, x23, [sp, #176]
	ldp	x20, x21, [sp, #160]
	ldp	x18, x19, [sp, #144]
	ldp	x16, x17, [sp, #128]
	ldp	x14, x15, [sp, #112]
	ldp	x12, x13, [sp, #96]
	ldp	x10, x11, [sp, #80]
	ldp	x8, x9, [sp, #64]
	ldp	x6, x7, [sp, #48]
	ldp	x4, x5, [sp, #32]
	ldp	x2, x3, [sp, #16]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME_SIZE
	eret

/*
 * The benchmark loops as a bare-metal program for qemu-system-aarch64 -M virt (EL1, no RMM): the
 * iteration count is read from 0x44000000 and the kind from 0x44000008 (0: subs/b.ne, 1: the same
 * with a store to memory, as tests/realm/loop.c), both written by -device loader; then PSCI
 * SYSTEM_OFF through HVC (the virt board's PSCI conduit without EL2) ends QEMU.
 */
	.global _start
_start:
	ldr	x1, =0x44000000
	ldr	x0, [x1]
	ldr	x2, [x1, #8]
	add	x3, x1, #16
	cbz	x0, 3f
	cbnz	x2, 2f
1:	subs	x0, x0, #1
	b.ne	1b
	b	3f
2:	str	x0, [x3]
	subs	x0, x0, #1
	b.ne	2b
3:	ldr	x0, =0x84000008
	hvc	#0
4:	b	4b

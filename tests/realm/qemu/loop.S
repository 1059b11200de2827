/*
 * The benchmark loop as a bare-metal program for qemu-system-aarch64 -M virt (EL1, no RMM): the
 * iteration count is read from 0x44000000 (written by -device loader), then PSCI SYSTEM_OFF
 * through HVC (the virt board's PSCI conduit without EL2) ends QEMU.
 */
	.global _start
_start:
	ldr	x1, =0x44000000
	ldr	x0, [x1]
	cbz	x0, 2f
1:	subs	x0, x0, #1
	b.ne	1b
2:	ldr	x0, =0x84000008
	hvc	#0
3:	b	3b

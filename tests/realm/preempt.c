/*
 * Preemption stress (tests/unit/test_emu_basic.c): work in which nearly every translation block
 * has memory accesses with side effects — post-indexed stores, pre-indexed stack pushes in calls —
 * run while the host preempts the REC every few microseconds. A stop that took effect inside a
 * block and resumed it from its start (docs/vcpu.md, quirk 6) would repeat some of that work; the
 * host compares the printed result with its own computation (preempt_expected in the test).
 * Every 64 rounds the realm asks the host (host call PREEMPT_HC) whether to go on: the host keeps
 * it working until it has preempted the REC often enough, so the test does not depend on speed.
 */
#include "rt.h"

#define WORDS  1024
#define MIN_ROUNDS 192
#define ASK_EVERY  64      /* rounds between two questions to the host */
#define PREEMPT_HC 0x70
#define MULT   0x5851F42D4C957F2DULL

static uint64_t buf[WORDS];

/* A call with a frame (stp x29, x30, [sp, #-N]!): pre-indexed writeback on the stack. */
static __attribute__((noinline)) uint64_t fold(uint64_t x, unsigned depth)
{
	if (!depth)
		return x ^ (x >> 29);
	uint64_t y = fold(x * MULT + depth, depth - 1);
	__asm__ volatile("" : "+r"(y));
	return y + depth;
}

void main(void)
{
	uint64_t acc = 1;
	unsigned round;
	struct rt_host_call hc;
	for (round = 0; round < MIN_ROUNDS || round % ASK_EVERY ||
			   rt_host_call(PREEMPT_HC, round, acc, &hc); round++) {
		uint64_t *p = buf, i = 0, n = WORDS, mult = MULT, v;
		__asm__ volatile(
			"1: ldr   %[v], [%[p]]\n"
			"   eor   %[v], %[v], %[acc]\n"
			"   madd  %[v], %[v], %[mult], %[i]\n"
			"   str   %[v], [%[p]], #8\n"
			"   add   %[acc], %[acc], %[v]\n"
			"   add   %[i], %[i], #1\n"
			"   cmp   %[i], %[n]\n"
			"   b.ne  1b\n"
			: [v] "=&r"(v), [p] "+r"(p), [i] "+r"(i), [acc] "+r"(acc)
			: [mult] "r"(mult), [n] "r"(n)
			: "cc", "memory");
		acc = fold(acc, 6);
	}
	rt_printf("preempt rounds=%u acc=%#lx\n", round, (unsigned long)acc);
}

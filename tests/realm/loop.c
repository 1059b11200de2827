/*
 * Benchmark payload (bench/bench_emu.c): a counted loop of two instructions, emulated MMIO reads,
 * RSI calls handled without an exit, and host calls, each phase bracketed by a host call the host
 * timestamps. Counts come from the host in the first host call's results.
 */
#include "rt.h"

#define HC_PARAMS 0xB0   /* host returns x0 = loop iterations, x1 = MMIO reads, x2 = RSI calls, x3 = host calls */
#define HC_MARK   0xB1   /* x1 = phase */
#define HC_NOP    0xB2

static struct rt_host_call hc;

void main(void)
{
	rt_host_call(HC_PARAMS, 0, 0, &hc);
	uint64_t n = hc.gprs[0], kmmio = hc.gprs[1], krsi = hc.gprs[2], khc = hc.gprs[3];

	/* Three timed rounds of the loop (marks 10, 11, 12, 13). */
	for (unsigned round = 0; round < 3; round++) {
		uint64_t k = n;
		rt_host_call(HC_MARK, 10 + round, 0, &hc);
		if (k)
			__asm__ volatile("1: subs %0, %0, #1\n b.ne 1b" : "+r"(k) : : "cc");
	}
	rt_host_call(HC_MARK, 13, 0, &hc);
	/* The same loop with a store to the stack in it (marks 14, 15): n / 10 iterations. */
	uint64_t k = n / 10, slot = 0;
	if (k)
		__asm__ volatile("1: str %0, [%1]\n subs %0, %0, #1\n b.ne 1b" : "+r"(k) : "r"(&slot) : "cc", "memory");
	rt_host_call(HC_MARK, 15, 0, &hc);
	rt_host_call(HC_MARK, 2, 0, &hc);
	volatile uint32_t *d = rt_mmio(RT_TESTDEV_OFFSET);
	for (uint64_t i = 0; i < kmmio; i++)
		(void)*d;
	rt_host_call(HC_MARK, 3, 0, &hc);
	/* Bare SMCs (no stores in the loop, see docs/vcpu.md on store cost). */
	for (uint64_t i = 0; i < krsi; i++)
		__asm__ volatile("mov x0, %0\n mov x1, %1\n smc #0"
				 : : "r"(RSI_VERSION), "r"(RSI_ABI_1_0)
				 : "x0", "x1", "x2", "x3", "x4", "x5", "x6", "x7", "x8", "x9", "x10", "x11", "x12",
				   "x13", "x14", "x15", "x16", "x17", "memory");
	rt_host_call(HC_MARK, 4, 0, &hc);
	for (uint64_t i = 0; i < khc; i++)
		rt_host_call(HC_NOP, i, 0, &hc);
	rt_host_call(HC_MARK, 5, 0, &hc);
}

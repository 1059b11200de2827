/*
 * Several RECs: CPU 0 starts CPUs 1 and 2 with PSCI CPU_ON (PSCI exits the host completes with
 * RMI_PSCI_COMPLETE), they report on the console and turn themselves off; CPU 0 waits with
 * AFFINITY_INFO. Errors: CPU_ON of itself / of a running CPU, an unknown MPIDR. Then code written
 * by CPU 0 is run by CPU 1, rewritten, and run again (each REC has its own engine: CPU 0's IC IVAU
 * drops CPU 1's translation of the old code, so the second run sees the new code).
 */
#include "rt.h"

static volatile unsigned arrived[4];
static uint32_t code[1024] __attribute__((aligned(4096)));
static volatile unsigned round;
static volatile uint64_t results[4];

void secondary_main(unsigned cpu)
{
	rt_printf("cpu %u up (mpidr %lx)\n", cpu, (unsigned long)(read_sysreg(mpidr_el1) & 0xFFFFFF));
	if (round > 0)
		results[round] = ((uint64_t (*)(void))(uintptr_t)code)();
	arrived[cpu] = 1;
}

static void write_code(uint32_t mov_w0)
{
	code[0] = mov_w0;
	code[1] = 0xD65F03C0; /* ret */
	__asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish\n isb" : : "r"(code) : "memory");
}

static void run_on_cpu1(unsigned r)
{
	round = r;
	arrived[1] = 0;
	CHECK_EQ("cpu_on again", rt_smc6(PSCI_CPU_ON, 1, (uint64_t)rt_secondary_entry, 1, 0, 0, NULL), 0);
	for (unsigned i = 0; i < 100000 && rt_smc6(PSCI_AFFINITY_INFO, 1, 0, 0, 0, 0, NULL) != 1; i++)
		;
}

static void wait_off(unsigned cpu)
{
	for (unsigned i = 0; i < 100000; i++)
		if (rt_smc6(PSCI_AFFINITY_INFO, cpu, 0, 0, 0, 0, NULL) == 1)
			return;
	rt_check(false, "wait off", "cpu %u", cpu);
}

void main(void)
{
	CHECK_EQ("cpu_on self", rt_smc6(PSCI_CPU_ON, 0, (uint64_t)rt_secondary_entry, 0, 0, 0, NULL), (uint64_t)-4);
	CHECK_EQ("cpu_on bad mpidr", rt_smc6(PSCI_CPU_ON, 7, (uint64_t)rt_secondary_entry, 7, 0, 0, NULL), (uint64_t)-2);
	CHECK_EQ("affinity off", rt_smc6(PSCI_AFFINITY_INFO, 1, 0, 0, 0, 0, NULL), 1);
	for (unsigned cpu = 1; cpu <= 2; cpu++) {
		CHECK_EQ("cpu_on", rt_smc6(PSCI_CPU_ON, cpu, (uint64_t)rt_secondary_entry, cpu, 0, 0, NULL), 0);
		wait_off(cpu);
		CHECK_EQ("secondary ran", arrived[cpu], 1);
	}
	CHECK_EQ("affinity self", rt_smc6(PSCI_AFFINITY_INFO, 0, 0, 0, 0, 0, NULL), 0);

	write_code(0x52800020);   /* mov w0, #1 */
	run_on_cpu1(1);
	write_code(0x52800040);   /* mov w0, #2 */
	run_on_cpu1(2);
	CHECK_EQ("cpu 1 ran code from cpu 0", results[1], 1);
	CHECK_EQ("cpu 1 ran the rewritten code", results[2], 2);
}

/*
 * Two RECs running at the same time (tests/unit/test_emu_smp.c, bench/bench_emu.c). The host enters
 * each REC from its own thread with no time slice, so every spin-wait below ends only if the other
 * REC runs meanwhile: on one host thread, or with RECs serialised in the RMM, the realm would hang.
 *   - ping-pong: CPU 0 and CPU 1 hand a counter back and forth through memory;
 *   - code: CPU 1 writes a function (then DC CVAU, DSB, IC IVAU, DSB), CPU 0 (which ran the previous
 *     version, so its engine has it translated) sees the flag, ISB, calls it: it must get the new one;
 *   - work: the same computation with stores on both CPUs at once (the bench's parallel speed-up),
 *     its size asked from the host (host call SMP_HC: X0 = units, X1 = CPUs working, 1 or 2).
 */
#include "rt.h"

#define PINGS       1000
#define CODE_ROUNDS 64
#define SMP_HC      0x71
#define WORK_WORDS  512

static volatile uint64_t ping, pong;
static volatile unsigned code_round, code_ready;
static uint32_t code[1024] __attribute__((aligned(4096)));
static volatile unsigned cpu1_done;
static volatile uint64_t work_units, work_result[2];
static uint64_t work_buf[2][WORK_WORDS] __attribute__((aligned(4096)));

/* A store in every step: the engine's store path matters (quirk 12). */
static uint64_t work(unsigned cpu, uint64_t units)
{
	uint64_t *b = work_buf[cpu], acc = 0x9E3779B97F4A7C15ULL;
	for (uint64_t u = 0; u < units; u++) {
		for (unsigned i = 0; i < WORK_WORDS; i++) {
			acc = acc * 0x5851F42D4C957F2DULL + i;
			b[i] ^= acc;
			acc += b[i] >> 7;
		}
	}
	return acc;
}

static void write_code(unsigned value)
{
	code[0] = 0x52800000U | (value << 5);   /* mov w0, #value */
	code[1] = 0xD65F03C0U;                  /* ret */
	__asm__ volatile("dc cvau, %0\n dsb ish\n ic ivau, %0\n dsb ish" : : "r"(code) : "memory");
}

void secondary_main(unsigned cpu)
{
	for (uint64_t i = 1; i <= PINGS; i++) {
		while (ping != i)
			;
		pong = i;
	}
	for (unsigned r = 1; r <= CODE_ROUNDS; r++) {
		while (code_round != r)
			;
		write_code(r);
		code_ready = r;
	}
	if (work_units)
		work_result[1] = work(cpu, work_units);
	cpu1_done = 1;
}

void main(void)
{
	struct rt_host_call hc;
	uint64_t units = rt_host_call(SMP_HC, 0, 0, &hc), cpus = hc.gprs[1];
	work_units = cpus == 2 ? units : 0;
	CHECK_EQ("cpu_on", rt_smc6(PSCI_CPU_ON, 1, (uint64_t)rt_secondary_entry, 1, 0, 0, NULL), 0);

	for (uint64_t i = 1; i <= PINGS; i++) {
		ping = i;
		while (pong != i)
			;
	}
	CHECK_EQ("ping-pong between two running RECs", pong, PINGS);

	unsigned wrong = 0, first_wrong = 0;
	write_code(0);
	CHECK_EQ("code before", ((uint64_t (*)(void))(uintptr_t)code)(), 0);
	for (unsigned r = 1; r <= CODE_ROUNDS; r++) {
		code_round = r;
		while (code_ready != r)
			;
		isb();
		uint64_t got = ((uint64_t (*)(void))(uintptr_t)code)();
		if (got != r && !wrong++)
			first_wrong = r;
	}
	rt_check(wrong == 0, "cpu 0 runs the code cpu 1 rewrote", "%u stale of %u (first in round %u)",
		 wrong, CODE_ROUNDS, first_wrong);

	if (units) {
		uint64_t acc = work(0, units);
		if (cpus == 1)
			acc = work(1, units);
		work_result[0] = acc;
	}
	while (!cpu1_done)
		;
	if (cpus == 2)
		CHECK_EQ("both cpus computed the same", work_result[0], work_result[1]);
	for (unsigned i = 0; i < 1000000 && rt_smc6(PSCI_AFFINITY_INFO, 1, 0, 0, 0, 0, NULL) != 1; i++)
		;
	CHECK_EQ("cpu 1 off", rt_smc6(PSCI_AFFINITY_INFO, 1, 0, 0, 0, 0, NULL), 1);
}

/*
 * vCPU backend (emu/): realm payloads running in Unicorn, driven by a host loop of RMI calls.
 * Console output, MMIO exits of every size, exceptions taken by the payload's vectors.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "emu/vcpu.h"
#include "realm_host.h"

static void test_hello(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "hello", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	rh_suite_show(&r);
	CU_ASSERT(rh_uart_has(&r, "hello from realm cpu 0 (IPA width 33)\n"));
	CU_ASSERT(rh_uart_has(&r, "DONE pass=0 fail=0\n"));
	CU_ASSERT(r.system_off);
	/* Every console byte was an MMIO write exit; bss/stack were populated on demand. */
	CU_ASSERT_EQUAL(r.st.mmio_writes, r.st.uart_bytes);
	CU_ASSERT(r.st.data_faults > 0);
	CU_ASSERT(rh_realm_destroy(&r));
}

static void test_mmio(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "mmio", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	rh_suite_show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "PASS ldrsw\n"));
	CU_ASSERT(rh_uart_has(&r, "PASS no device -> SEA\n"));
	CU_ASSERT_EQUAL(r.st.sea_injected, 3);
	CU_ASSERT(r.st.mmio_reads >= 14);
	/* the register file as the realm left it */
	CU_ASSERT_EQUAL(r.testdev[0], 0x81);
	CU_ASSERT_EQUAL(r.testdev[0x0F], 0x8f);
	CU_ASSERT(rh_realm_destroy(&r));
}

static void test_exceptions(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "exceptions", 33, 1));
	r.trap_wfe = true;
	CU_ASSERT(rh_run(&r, 10000));
	rh_suite_show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "PASS stage-1 data abort\n"));
	CU_ASSERT(rh_uart_has(&r, "PASS el0 exceptions\n"));
	/* The EL0 WFE traps to the host with SCTLR_EL1.nTWE = 1, not with nTWE = 0 (the realm's
	 * EL1 trap would come first). */
	CU_ASSERT_EQUAL(r.st.wfe_traps, 1);
	CU_ASSERT(rh_realm_destroy(&r));
}

/* What tests/realm/preempt.c computes, computed here. */
static uint64_t preempt_fold(uint64_t x, unsigned depth)
{
	if (!depth)
		return x ^ (x >> 29);
	return preempt_fold(x * 0x5851F42D4C957F2DULL + depth, depth - 1) + depth;
}

static uint64_t preempt_expected(unsigned rounds)
{
	static uint64_t buf[1024];
	uint64_t acc = 1;
	memset(buf, 0, sizeof(buf));
	for (unsigned round = 0; round < rounds; round++) {
		for (uint64_t i = 0; i < 1024; i++) {
			uint64_t v = (buf[i] ^ acc) * 0x5851F42D4C957F2DULL + i;
			buf[i] = v;
			acc += v;
		}
		acc = preempt_fold(acc, 6);
	}
	return acc;
}

#define PREEMPT_HC       0x70
#define PREEMPT_STOPS    100     /* preemptions the realm must see before it may finish */
#define PREEMPT_ROUNDS   2000000 /* give up: preemption does not happen */

/* The realm asks every 64 rounds whether to go on: yes until it was preempted often enough. */
static void preempt_host_call(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in,
			      uint64_t *out)
{
	(void)rec;
	CU_ASSERT_EQUAL(imm, PREEMPT_HC);
	out[0] = r->st.exits[RMI_EXIT_IRQ] < PREEMPT_STOPS && in[1] < PREEMPT_ROUNDS;
}

/* Runs preempted every 20 us until 100 stops from the watchdog thread have happened (however fast
 * the machine), none of which may repeat or lose part of a block (docs/vcpu.md, quirk 6). */
static void test_preempt(void)
{
	/* On Unicorn 2.1.1 the stop flag is found: preemption costs nothing (the fallback,
	 * a per-block hook, is tested by the *_blockhook runs). */
	const struct emu_calib *cal = emu_calibrate();
	if (!getenv("RMMEMU_VCPU_BLOCK_HOOK")) {
		CU_ASSERT(cal->no_exit_off != 0);
		if (!cal->no_exit_off)
			fprintf(stderr, "stop flag not found: %s\n", cal->stop_note);
	} else {
		CU_ASSERT_EQUAL(cal->no_exit_off, 0);
	}
	/* And its engines use 4 KiB pages (quirk 19). */
	CU_ASSERT(cal->page_bits_off != 0);
	if (!cal->page_bits_off)
		fprintf(stderr, "page size field not found: %s\n", cal->page_note);
	struct rh_realm r;
	char want[64];
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 20);
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "preempt", 33, 1));
	r.on_host_call = preempt_host_call;
	bool ran = rh_run(&r, 100000000);
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 20000);
	CU_ASSERT(ran);
	rh_suite_show(&r);
	unsigned rounds = 192 + 64 * (r.st.host_calls - 1);  /* preempt.c asks every 64 rounds */
	snprintf(want, sizeof(want), "preempt rounds=%u acc=%#lx\n", rounds,
		 (unsigned long)preempt_expected(rounds));
	CU_ASSERT(rh_uart_has(&r, want));
	if (!rh_uart_has(&r, want))
		fprintf(stderr, "preempt: expected \"%s\"\n", want);
	CU_ASSERT(rh_uart_has(&r, "DONE pass=0 fail=0\n"));
	CU_ASSERT(r.st.exits[RMI_EXIT_IRQ] >= 100);
	if (rh_suite.verbose)
		printf("preempt: %u IRQ exits, %u entries\n", r.st.exits[RMI_EXIT_IRQ], r.st.entries);
	CU_ASSERT(rh_realm_destroy(&r));
}

static const struct th_test tests[] = {
	{ "hello", test_hello },
	{ "mmio", test_mmio },
	{ "exceptions", test_exceptions },
	{ "preempt", test_preempt },
};

int main(void)
{
	return TH_RUN("emu_basic", rh_suite_init, rh_suite_fini, tests);
}

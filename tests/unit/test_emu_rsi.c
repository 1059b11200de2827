/*
 * vCPU backend (emu/): realm payloads making RSI and PSCI calls from real code. SMCs are handled
 * inside the emulation (no REC exit) unless the call needs the host: host calls, RIPAS changes,
 * PSCI CPU_ON / AFFINITY_INFO / CPU_OFF / SYSTEM_OFF.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "realm_host.h"

static uint64_t printed_hex(const struct rh_realm *r, const char *tag)
{
	const char *p = strstr(r->uart, tag);
	return p ? strtoull(p + strlen(tag), NULL, 16) : 0;
}

static void test_rsi(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "rsi", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	rh_suite_show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "PASS empty access -> SEA\n"));
	/* Exactly one host call and six RIPAS changes reached the host. */
	CU_ASSERT_EQUAL(r.st.host_calls, 1);
	CU_ASSERT_EQUAL(r.st.ripas_changes, 6);
	CU_ASSERT_EQUAL(r.st.last_ripas_value, RMI_RAM);
	CU_ASSERT_EQUAL(r.st.last_ripas_top - r.st.last_ripas_base, 4096);
	/* The page came back as the granule it had before (the host reuses freed granules), and the
	 * code the realm ran from it was not run again (docs/vcpu.md, "RTT changes"). */
	CU_ASSERT(rh_suite.reused >= 3);
	CU_ASSERT(rh_uart_has(&r, "PASS ram again, old code gone (undefined instruction)\n"));
	CU_ASSERT(rh_uart_has(&r, "PASS granules swapped between pages: no old code runs\n"));
	/* What the realm read with RSI_MEASUREMENT_READ is the RMM's RIM and REM1. */
	uint8_t m[64];
	size_t len;
	uint64_t w;
	CU_ASSERT_EQUAL_FATAL(rmmemu_debug_measurement(rh_suite.emu, r.rd, 0, m, &len), RMMEMU_OK);
	memcpy(&w, m, 8);
	CU_ASSERT_EQUAL(printed_hex(&r, "RIM "), w);
	CU_ASSERT_EQUAL_FATAL(rmmemu_debug_measurement(rh_suite.emu, r.rd, 1, m, &len), RMMEMU_OK);
	memcpy(&w, m, 8);
	CU_ASSERT_EQUAL(printed_hex(&r, "REM1 "), w);
	CU_ASSERT(w != 0);
	CU_ASSERT(rh_realm_destroy(&r));
}

static void test_psci_secondaries(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "psci", 33, 3));
	CU_ASSERT(rh_run(&r, 100000));
	rh_suite_show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "cpu 1 up (mpidr 1)\n"));
	CU_ASSERT(rh_uart_has(&r, "cpu 2 up (mpidr 2)\n"));
	CU_ASSERT(!r.on[1] && !r.on[2]);
	CU_ASSERT(rh_realm_destroy(&r));
}

static const struct th_test tests[] = {
	{ "rsi", test_rsi },
	{ "psci_secondaries", test_psci_secondaries },
};

int main(void)
{
	return TH_RUN("emu_rsi", rh_suite_init, rh_suite_fini, tests);
}

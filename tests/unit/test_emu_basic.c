/*
 * vCPU backend (emu/): realm payloads running in Unicorn, driven by a host loop of RMI calls.
 * Console output, MMIO exits of every size, exceptions taken by the payload's vectors.
 */
#include <CUnit/Basic.h>
#include <stdio.h>
#include <string.h>

#include "realm_host.h"

static struct rh_env env;

static int suite_init(void)
{
	return rh_env_init(&env, 64) ? 0 : -1;
}

static int suite_fini(void)
{
	rh_env_fini(&env);
	return 0;
}

static void show(const struct rh_realm *r)
{
	rh_show(r, env.verbose);
}

static void test_hello(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&env, &r, "hello", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	show(&r);
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
	CU_ASSERT_FATAL(rh_realm_setup(&env, &r, "mmio", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	show(&r);
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
	CU_ASSERT_FATAL(rh_realm_setup(&env, &r, "exceptions", 33, 1));
	CU_ASSERT(rh_run(&r, 10000));
	show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "PASS stage-1 data abort\n"));
	CU_ASSERT(rh_uart_has(&r, "PASS el0 exceptions\n"));
	CU_ASSERT(rh_realm_destroy(&r));
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("emu_basic", suite_init, suite_fini);
	CU_add_test(s, "hello", test_hello);
	CU_add_test(s, "mmio", test_mmio);
	CU_add_test(s, "exceptions", test_exceptions);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

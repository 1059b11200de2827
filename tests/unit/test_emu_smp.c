/*
 * vCPU backend (emu/): RECs of one realm running at the same time, each entered from its own host
 * thread (KVM's vCPU threads), without a time slice: the payload's spin-waits end only if both RECs
 * run at once (tests/realm/smp.c). Also two realms of one instance running side by side, and RMI
 * calls from a third thread while RECs run. Built and run under ThreadSanitizer by scripts/test.sh.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "realm_host.h"

#define SMP_HC 0x71

static uint64_t smp_units = 8, smp_cpus = 2;

/* The payload asks how much work to do, and on how many CPUs. */
static void smp_host_call(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	(void)r;
	(void)rec;
	(void)in;
	CU_ASSERT_EQUAL(imm, SMP_HC);
	out[0] = smp_units;
	out[1] = smp_cpus;
}

static struct rh_realm ra, rb;

/* Ping-pong, code written by CPU 1 and run by CPU 0, the same work on both: both RECs in REC_ENTER
 * at once, or the realm could not finish. */
static void test_two_recs_at_once(void)
{
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 0);
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &ra, "smp", 33, 2));
	ra.on_host_call = smp_host_call;
	CU_ASSERT(rh_run_parallel(&ra, 1000000));
	rh_suite_show(&ra);
	CU_ASSERT(rh_payload_passed(&ra));
	CU_ASSERT(rh_uart_has(&ra, "PASS cpu 0 runs the code cpu 1 rewrote\n"));
	CU_ASSERT_EQUAL(ra.max_in_enter, 2);
	CU_ASSERT(rh_realm_destroy(&ra));
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 20000);
}

struct realm_job {
	struct rh_realm *r;
	bool ok;
	int done;
};

static void *realm_thread(void *arg)
{
	struct realm_job *j = arg;
	j->ok = rh_run_parallel(j->r, 1000000);
	__atomic_store_n(&j->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

/* Two realms of one RMM instance, each with two RECs on their own threads (four at once on a
 * two-core host), while a fifth thread keeps issuing RMI calls: granule delegation, and stage-2
 * changes of a running realm (map and unmap of an unprotected page: each unmap is a TLB shootdown
 * that stops the realm's running engines and waits for them). */
static void test_two_realms_and_rmi(void)
{
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 0);
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &ra, "smp", 33, 2));
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &rb, "smp", 33, 2));
	ra.on_host_call = smp_host_call;
	rb.on_host_call = smp_host_call;
	struct realm_job ja = { &ra, false, 0 }, jb = { &rb, false, 0 };
	smp_units = 400;     /* long enough for many RMI calls while both realms run */
	pthread_t ta, tb;
	CU_ASSERT_FATAL(pthread_create(&ta, NULL, realm_thread, &ja) == 0);
	CU_ASSERT_FATAL(pthread_create(&tb, NULL, realm_thread, &jb) == 0);
	uint64_t g = rh_ns(&rh_suite, 1), shared = rh_ns(&rh_suite, 1);
	uint64_t ipa = (1ULL << 32) | 0x0B000000ULL;   /* unprotected half of the 33-bit realm */
	unsigned rounds = 0;
	while (!__atomic_load_n(&ja.done, __ATOMIC_ACQUIRE) || !__atomic_load_n(&jb.done, __ATOMIC_ACQUIRE) ||
	       rounds == 0) {
		rounds++;
		CU_ASSERT_EQUAL(rh_call(&rh_suite, SMC_RMI_GRANULE_DELEGATE, g, 0, 0, 0, 0, NULL), RMI_SUCCESS);
		CU_ASSERT_EQUAL(rh_call(&rh_suite, SMC_RMI_GRANULE_UNDELEGATE, g, 0, 0, 0, 0, NULL), RMI_SUCCESS);
		CU_ASSERT(rh_map_unprotected(&ra, ipa, shared));
		CU_ASSERT(rh_unmap_unprotected(&ra, ipa));
	}
	pthread_join(ta, NULL);
	pthread_join(tb, NULL);
	smp_units = 8;
	if (rh_suite.verbose)
		printf("two_realms_and_rmi: %u rounds of RMI calls while the realms ran\n", rounds);
	rh_suite_show(&ra);
	rh_suite_show(&rb);
	CU_ASSERT(ja.ok && jb.ok);
	CU_ASSERT(rh_payload_passed(&ra));
	CU_ASSERT(rh_payload_passed(&rb));
	CU_ASSERT(rh_realm_destroy(&ra));
	CU_ASSERT(rh_realm_destroy(&rb));
	char msg[256];
	CU_ASSERT_EQUAL(rmmemu_check_invariants(rh_suite.emu, msg, sizeof(msg)), 0);
	rmmemu_vcpu_set_timeslice(rh_suite.emu, 20000);
}

static const struct th_test tests[] = {
	{ "two_recs_at_once", test_two_recs_at_once },
	{ "two_realms_and_rmi", test_two_realms_and_rmi },
};

int main(void)
{
	return TH_RUN("emu_smp", rh_suite_init, rh_suite_fini, tests);
}

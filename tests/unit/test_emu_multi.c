/*
 * vCPU backend (emu/): several realms in one RMM instance (their RECs entered alternately), a
 * 40-bit realm (start level 1), several RMM instances in one process, and instances driven from
 * concurrent threads. Also: the backend can be disabled and enabled again.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "realm_host.h"

static void show(const struct rh_realm *r)
{
	rh_show(r, false);
}

static struct rh_realm ra, rb, rc;

static void test_two_realms_interleaved(void)
{
	struct rh_env env;
	CU_ASSERT_FATAL(rh_env_init(&env, 64));
	CU_ASSERT_FATAL(rh_realm_setup(&env, &ra, "rsi", 33, 1));
	CU_ASSERT_FATAL(rh_realm_setup(&env, &rb, "mmio", 40, 1));
	/* One REC_ENTER each in turn: each REC's engine keeps its own state and memory view. */
	for (unsigned n = 0; n < 20000 && !(ra.system_off && rb.system_off); n++) {
		struct rh_realm *r = (n & 1) ? &rb : &ra;
		if (!r->system_off)
			CU_ASSERT_FATAL(rh_enter(r, 0) >= 0);
	}
	show(&ra);
	show(&rb);
	CU_ASSERT(ra.system_off && rb.system_off);
	CU_ASSERT(rh_payload_passed(&ra));
	CU_ASSERT(rh_payload_passed(&rb));
	/* The 40-bit realm's devices are in its own unprotected half. */
	CU_ASSERT_EQUAL(rb.testdev[0], 0x81);
	CU_ASSERT_EQUAL(ra.testdev[0], 0);
	CU_ASSERT(rh_realm_destroy(&ra));
	CU_ASSERT(rh_realm_destroy(&rb));
	char msg[256];
	CU_ASSERT_EQUAL(rmmemu_check_invariants(env.emu, msg, sizeof(msg)), 0);
	rh_env_fini(&env);
}

static void test_disable_enable(void)
{
	struct rh_env env;
	CU_ASSERT_FATAL(rh_env_init(&env, 64));
	CU_ASSERT_FATAL(rh_realm_setup(&env, &ra, "hello", 33, 1));
	/* A few entries, then the backend goes away: the REC is then entered without it (IRQ exit,
	 * nothing runs), and comes back with a fresh engine that resumes the saved state. */
	for (unsigned i = 0; i < 5; i++)
		CU_ASSERT(rh_enter(&ra, 0) >= 0);
	/* While enabled, RMI_FEATURES offers the CPU model's 44-bit IPA range; the platform's 48
	 * without it. */
	struct rmmemu_smc_result res;
	CU_ASSERT_EQUAL(rh_call(&env, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, &res), RMI_SUCCESS);
	CU_ASSERT_EQUAL(res.x[1] & 0xFF, 44);
	rmmemu_disable_vcpu(env.emu);
	CU_ASSERT_EQUAL(rh_call(&env, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, &res), RMI_SUCCESS);
	CU_ASSERT_EQUAL(res.x[1] & 0xFF, 48);
	size_t len = ra.uart_len;
	CU_ASSERT_EQUAL(rh_enter(&ra, 0), RMI_EXIT_IRQ);
	CU_ASSERT_EQUAL(ra.uart_len, len);
	CU_ASSERT_EQUAL(rmmemu_enable_vcpu(env.emu), RMMEMU_OK);
	CU_ASSERT_EQUAL(rh_call(&env, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, &res), RMI_SUCCESS);
	CU_ASSERT_EQUAL(res.x[1] & 0xFF, 44);
	CU_ASSERT(rh_run(&ra, 10000));
	show(&ra);
	CU_ASSERT(rh_uart_has(&ra, "hello from realm cpu 0"));
	CU_ASSERT(rh_realm_destroy(&ra));
	rh_env_fini(&env);
}

struct job {
	const char *payload;
	unsigned ipa_bits;
	bool ok;
	struct rh_realm *r;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct rh_env env;
	j->ok = false;
	if (!rh_env_init(&env, 32))
		return NULL;
	if (rh_realm_setup(&env, j->r, j->payload, j->ipa_bits, 3) && rh_run(j->r, 100000))
		j->ok = rh_payload_passed(j->r) && rh_realm_destroy(j->r);
	rh_env_fini(&env);
	return NULL;
}

static void test_instances_in_threads(void)
{
	struct job jobs[3] = {
		{ "psci", 33, false, &ra }, { "exceptions", 33, false, &rb }, { "rsi", 33, false, &rc },
	};
	pthread_t th[3];
	for (unsigned i = 0; i < 3; i++)
		CU_ASSERT_FATAL(pthread_create(&th[i], NULL, run_job, &jobs[i]) == 0);
	for (unsigned i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	for (unsigned i = 0; i < 3; i++) {
		show(jobs[i].r);
		CU_ASSERT(jobs[i].ok);
	}
}

/* tests/realm/loop.c asks for its counts first: a loop long enough (~2e10 iterations, seconds)
 * that only a kick ends the entry that runs it. */
static void loop_params(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	(void)r;
	(void)rec;
	(void)in;
	if (imm == 0xB0) {
		out[0] = 20000000000ULL;
		out[1] = out[2] = out[3] = 0;
	}
}

/* 50 ms after it starts (the REC is in its loop by then), another thread kicks. */
static void *kick_later(void *arg)
{
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	rmmemu_vcpu_kick(arg);
	return NULL;
}

/* rmmemu_vcpu_kick from another thread ends the REC run in progress with an IRQ exit (no time
 * slice here: nothing else would); a kick with no run in progress makes the next entry exit. */
static void test_kick(void)
{
	struct rh_env env;
	CU_ASSERT_FATAL(rh_env_init(&env, 64));
	rmmemu_vcpu_set_timeslice(env.emu, 0);
	CU_ASSERT_FATAL(rh_realm_setup(&env, &ra, "loop", 33, 1));
	ra.on_host_call = loop_params;
	/* Up to the first mark (host call 0xB1 with x1 = 10): the loop comes next. */
	int reason = 0;
	for (unsigned n = 0; n < 10000; n++) {
		reason = rh_enter(&ra, 0);
		CU_ASSERT_FATAL(reason >= 0);
		if (reason == RMI_EXIT_HOST_CALL && ra.st.host_calls == 2)
			break;
	}
	CU_ASSERT_FATAL(ra.st.host_calls == 2);
	pthread_t t;
	CU_ASSERT_FATAL(pthread_create(&t, NULL, kick_later, env.emu) == 0);
	unsigned irq_before = ra.st.exits[RMI_EXIT_IRQ];
	reason = rh_enter(&ra, 0);
	pthread_join(t, NULL);
	/* The loop did not finish (that would be the next mark, a host call): the kick ended it. */
	CU_ASSERT_EQUAL(reason, RMI_EXIT_IRQ);
	CU_ASSERT_EQUAL(ra.st.host_calls, 2);
	CU_ASSERT_EQUAL(ra.st.exits[RMI_EXIT_IRQ], irq_before + 1);
	/* Kicked between runs: the next entry exits at once, the one after runs on. */
	rmmemu_vcpu_kick(env.emu);
	CU_ASSERT_EQUAL(rh_enter(&ra, 0), RMI_EXIT_IRQ);
	CU_ASSERT_EQUAL(ra.st.host_calls, 2);
	CU_ASSERT(rh_realm_destroy(&ra));
	rh_env_fini(&env);
}

static const struct th_test tests[] = {
	{ "two_realms_interleaved", test_two_realms_interleaved },
	{ "disable_enable", test_disable_enable },
	{ "instances_in_threads", test_instances_in_threads },
	{ "kick", test_kick },
};

int main(void)
{
	return TH_RUN("emu_multi", NULL, NULL, tests);
}

/*
 * RMI_REC_CREATE / REC_DESTROY / REC_ENTER / PSCI_COMPLETE.
 *
 * REC_ENTER's own checks are exercised without a vCPU backend (exit RMI_EXIT_IRQ) and with the
 * scripted fake backend of helpers/th_vcpu.c, which lets a test make the "realm" take an
 * emulatable data abort, issue PSCI calls through the RSI, or be running while the host issues
 * another command (a REC in use).
 */
#include <string.h>

#include "helpers/th.h"

#define UNPROT (1ULL << 39)

/* Shared state of the run callbacks. */
struct script {
	uint64_t a[6];           /* arguments of the action */
	uint64_t rc[8];          /* results of commands issued while the REC runs */
	uint64_t regs[31], pc;   /* REC state at the start of the run */
	uint64_t rec_pa;
	bool trap_wfi, trap_wfe, inject_sea;
	unsigned n;
};
static struct script sc;

static void capture(struct rec *rec, uint64_t rec_pa)
{
	memcpy(sc.regs, rec->regs, sizeof(sc.regs));
	sc.pc = rec->pc;
	sc.rec_pa = rec_pa;
	sc.trap_wfi = rec->trap_wfi;
	sc.trap_wfe = rec->trap_wfe;
	sc.inject_sea = rec->inject_sea;
	sc.n++;
}

static void run_irq(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	(void)e;
	capture(rec, rec_pa);
	th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

/* The realm reads 4 bytes from unprotected IPA a[0] into X5 (or what a[1..] say). */
static void run_mmio(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	(void)e;
	capture(rec, rec_pa);
	th_exit_data_abort(exit, rec, sc.a[0], sc.a[1] & 1, (sc.a[1] >> 1) & 1, (unsigned)sc.a[2],
			   (unsigned)sc.a[3], (sc.a[1] >> 2) & 1, (sc.a[1] >> 3) & 1);
}

/* The realm makes the SMC a[0] with a[1..4]. */
static void run_smc(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	capture(rec, rec_pa);
	if (!th_realm_smc(e, exit, rec, sc.a[0], sc.a[1], sc.a[2], sc.a[3], sc.a[4]))
		th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

/* While the REC runs, the host (on another CPU) issues commands on it. */
static void run_busy(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	capture(rec, rec_pa);
	uint64_t run2 = sc.a[0], rd = sc.a[1], other = sc.a[2];
	sc.rc[0] = th_call_locked(e, SMC_RMI_REC_ENTER, rec_pa, run2, 0, 0, 0, NULL);
	sc.rc[1] = th_call_locked(e, SMC_RMI_REC_DESTROY, rec_pa, 0, 0, 0, 0, NULL);
	sc.rc[2] = th_call_locked(e, SMC_RMI_RTT_SET_RIPAS, rd, rec_pa, 0, GRANULE_SIZE, 0, NULL);
	sc.rc[3] = th_call_locked(e, SMC_RMI_REC_ENTER, rec_pa, TH_SECURE_BASE, 0, 0, 0, NULL);
	sc.rc[4] = th_call_locked(e, SMC_RMI_PSCI_COMPLETE, rec_pa, other, PSCI_RETURN_SUCCESS, 0, 0, NULL);
	sc.rc[5] = th_call_locked(e, SMC_RMI_REC_ENTER, rec_pa, rd, 0, 0, 0, NULL);   /* run not NS */
	th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

/* An active realm with REC 0 runnable and REC 1 not runnable. */
struct world {
	struct th_env e;
	struct th_realm r;
	uint64_t rec0, rec1, run;
};

static void world_init(struct world *w, const struct rmmemu_platform_config *cfg, bool backend)
{
	memset(&sc, 0, sizeof(sc));
	th_init(&w->e, cfg);
	th_realm(&w->e, &w->r);
	EXPECT_OK(th_build_rec(&w->e, &w->r, &w->rec0, 0, true, 0x1000));
	EXPECT_OK(th_build_rec(&w->e, &w->r, &w->rec1, 1, false, 0x2000));
	EXPECT_OK(th_realm_activate(&w->e, w->r.rd));
	w->run = th_run_granule(&w->e);
	if (backend)
		th_vcpu_install(&w->e);
}

static void world_fini(struct world *w)
{
	CHECK_INV(&w->e);
	th_teardown(&w->e, &w->r);
	CHECK_INV(&w->e);
	EXPECT_ALL_UNDELEGATED(&w->e);
	th_fini(&w->e);
}

/* ---- REC_CREATE ---- */

struct rec_try {
	uint64_t rec, params;
	struct th_rec_params p;
};

static void rec_try_init(struct th_env *e, struct rec_try *t, unsigned idx)
{
	memset(&t->p, 0, sizeof(t->p));
	t->p.flags = RMI_REC_PARAMS_FLAG_RUNNABLE;
	t->p.mpidr = th_mpidr(idx);
	t->p.pc = 0x8000;
	t->p.num_aux = RMI_MAX_REC_AUX_GRANULES;
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		t->p.aux[i] = th_dg(e);
	t->rec = th_dg(e);
	t->params = th_ns(e);
}

static uint64_t rec_try(struct th_env *e, uint64_t rd, struct rec_try *t)
{
	th_write_rec_params(e, t->params, &t->p);
	return th_rec_create(e, rd, t->rec, t->params);
}

/* After a failed REC_CREATE every granule is as before. */
static void rec_try_unchanged(struct th_env *e, const struct rec_try *t, const char *file, int line)
{
	th_state(e, t->rec, RMMEMU_GRANULE_DELEGATED, file, line);
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		th_state(e, t->p.aux[i], RMMEMU_GRANULE_DELEGATED, file, line);
}
#define UNCHANGED(e, t) rec_try_unchanged((e), (t), __FILE__, __LINE__)

static void test_rec_create_success(void)
{
	struct th_env e;
	struct th_realm r;
	struct rec_try t;
	uint8_t m0[MAX_MEASUREMENT_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r);
	memcpy(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0));
	rec_try_init(&e, &t, 0);
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		t.p.gprs[i] = 0xA0 + i;
	EXPECT_OK(rec_try(&e, r.rd, &t));
	EXPECT_STATE(&e, t.rec, RMMEMU_GRANULE_REC);
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		EXPECT_STATE(&e, t.p.aux[i], RMMEMU_GRANULE_REC_AUX);
	CU_ASSERT_EQUAL(th_meta(&e, r.rd)->refcount, 1);
	struct rec *rec = th_rec(&e, t.rec);
	CU_ASSERT_EQUAL(rec->rec_idx, 0);
	CU_ASSERT(rec->runnable);
	CU_ASSERT_EQUAL(rec->pc, 0x8000);
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		CU_ASSERT_EQUAL(rec->regs[i], 0xA0 + i);
	CU_ASSERT_EQUAL(rec->regs[8], 0);
	CU_ASSERT_EQUAL(rec->rd.val, r.rd);
	/* A runnable REC is measured. */
	CU_ASSERT(memcmp(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0)) != 0);
	memcpy(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0));
	r.recs[r.nrecs++] = t.rec;

	/* RECs 1..17 (not runnable: not measured); index 16 is Aff1 = 1. */
	for (unsigned idx = 1; idx <= 17; idx++) {
		uint64_t rec_pa;
		EXPECT_OK(th_build_rec(&e, &r, &rec_pa, idx, false, 0));
		CU_ASSERT_EQUAL(th_rec(&e, rec_pa)->rec_idx, idx);
		CU_ASSERT(!th_rec(&e, rec_pa)->runnable);
		/* th_build_rec tracks the first TH_MAX_RECS for the teardown; destroy the others now. */
		if (idx >= TH_MAX_RECS)
			EXPECT_OK(th_rec_destroy(&e, rec_pa));
	}
	CU_ASSERT(memcmp(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0)) == 0);
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->rec_count, 18);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static void test_rec_create_failures(void)
{
	struct th_env e;
	struct th_realm r, other;
	struct rec_try t;
	uint8_t m0[MAX_MEASUREMENT_SIZE], img[GRANULE_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r);
	th_realm(&e, &other);
	uint64_t live;
	EXPECT_OK(th_build_rec(&e, &r, &live, 0, true, 0));
	uint64_t live_aux = th_rec(&e, live)->aux[0].val;
	memcpy(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0));
	rec_try_init(&e, &t, 1);
	th_write_rec_params(&e, t.params, &t.p);

	/* Params granule. */
	const uint64_t bad_params[] = { t.params + 8, TH_DEVICE_BASE, TH_HOLE, TH_BEYOND_DRAM, t.rec, r.rd, live };
	for (unsigned i = 0; i < sizeof(bad_params) / sizeof(bad_params[0]); i++)
		EXPECT_RC(th_rec_create(&e, r.rd, t.rec, bad_params[i]), RMI_ERROR_INPUT);
	th_peek(&e, t.params, img, sizeof(img));
	th_poke(&e, TH_SECURE_BASE, img, sizeof(img));
	EXPECT_RC(th_rec_create(&e, r.rd, t.rec, TH_SECURE_BASE), RMI_ERROR_INPUT);
	th_poke(&e, TH_ROOT_BASE, img, sizeof(img));
	EXPECT_RC(th_rec_create(&e, r.rd, t.rec, TH_ROOT_BASE), RMI_ERROR_INPUT);
	UNCHANGED(&e, &t);

	/* num_aux too large. */
	const uint64_t bad_num[] = { 17, 64, 1ULL << 32, ~0ULL };
	for (unsigned i = 0; i < 4; i++) {
		t.p.num_aux = bad_num[i];
		EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	}
	t.p.num_aux = RMI_MAX_REC_AUX_GRANULES;
	UNCHANGED(&e, &t);

	/* An aux granule that is not DELEGATED (at the first, a middle, the last position):
	 * the ones claimed before it are released. */
	const unsigned pos[] = { 0, 7, 15 };
	const uint64_t bad_aux[] = { th_ns(&e), t.p.aux[0] + 8, TH_DEVICE_BASE, TH_SECURE_BASE, r.rd, live,
				     live_aux, r.rtt_base };
	for (unsigned p = 0; p < 3; p++)
		for (unsigned i = 0; i < sizeof(bad_aux) / sizeof(bad_aux[0]); i++) {
			uint64_t save = t.p.aux[pos[p]];
			t.p.aux[pos[p]] = bad_aux[i];
			EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
			t.p.aux[pos[p]] = save;
			UNCHANGED(&e, &t);
		}
	/* Duplicate aux; aux equal to the REC; aux equal to the RD. */
	uint64_t save = t.p.aux[9];
	t.p.aux[9] = t.p.aux[3];
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.aux[9] = t.rec;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.aux[9] = save;
	UNCHANGED(&e, &t);
	EXPECT_STATE(&e, save, RMMEMU_GRANULE_DELEGATED);

	/* REC granule. */
	const uint64_t bad_rec[] = { th_ns(&e), t.rec + 8, live, r.rd, other.rd, r.rtt_base, live_aux,
				     TH_DEVICE_BASE, TH_SECURE_BASE };
	for (unsigned i = 0; i < sizeof(bad_rec) / sizeof(bad_rec[0]); i++) {
		th_write_rec_params(&e, t.params, &t.p);
		EXPECT_RC(th_rec_create(&e, r.rd, bad_rec[i], t.params), RMI_ERROR_INPUT);
		UNCHANGED(&e, &t);
	}
	/* RD. */
	const uint64_t bad_rd[] = { th_dg(&e), th_ns(&e), r.rd + 8, live, r.rtt_base, t.rec };
	for (unsigned i = 0; i < sizeof(bad_rd) / sizeof(bad_rd[0]); i++) {
		EXPECT_RC(th_rec_create(&e, bad_rd[i], t.rec, t.params), RMI_ERROR_INPUT);
		UNCHANGED(&e, &t);
	}
	/* MPIDR: invalid bits, wrong index (0 is taken, 2 is not next), another realm's index. */
	const uint64_t bad_mpidr[] = { th_mpidr(1) | 0x10, th_mpidr(1) | (1ULL << 32), th_mpidr(1) | (1ULL << 63),
				       th_mpidr(0), th_mpidr(2), 0x100 };
	for (unsigned i = 0; i < sizeof(bad_mpidr) / sizeof(bad_mpidr[0]); i++) {
		t.p.mpidr = bad_mpidr[i];
		EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
		UNCHANGED(&e, &t);
	}
	t.p.mpidr = th_mpidr(1);
	/* num_aux valid but not RecAuxCount. */
	t.p.num_aux = 15;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.num_aux = 0;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.num_aux = RMI_MAX_REC_AUX_GRANULES;
	UNCHANGED(&e, &t);
	CU_ASSERT_EQUAL(th_meta(&e, r.rd)->refcount, 1);
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->rec_count, 1);
	CU_ASSERT(memcmp(m0, th_rd(&e, r.rd)->measurement[0], sizeof(m0)) == 0);
	CHECK_INV(&e);

	/* Realm not NEW: RMI_ERROR_REALM after the granule checks, before MPIDR and num_aux. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	t.p.mpidr = th_mpidr(5) | 0x10;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	t.p.mpidr = th_mpidr(1);
	t.p.num_aux = 15;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	t.p.num_aux = 17;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.num_aux = RMI_MAX_REC_AUX_GRANULES;
	save = t.p.aux[4];
	t.p.aux[4] = th_ns(&e);
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_INPUT);
	t.p.aux[4] = save;
	EXPECT_RC(th_rec_create(&e, r.rd, th_ns(&e), t.params), RMI_ERROR_INPUT);
	EXPECT_RC(th_rec_create(&e, r.rd, t.rec, t.params + 8), RMI_ERROR_INPUT);
	th_rd(&e, r.rd)->state = REALM_SYSTEM_OFF;
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	th_rd(&e, r.rd)->state = REALM_ACTIVE;
	UNCHANGED(&e, &t);
	CU_ASSERT_EQUAL(th_meta(&e, r.rd)->refcount, 1);
	/* The other realm (NEW, no RECs) takes exactly these granules with index 0. */
	t.p.mpidr = th_mpidr(0);
	EXPECT_OK(rec_try(&e, other.rd, &t));
	other.recs[other.nrecs++] = t.rec;
	CHECK_INV(&e);
	th_teardown(&e, &r);
	th_teardown(&e, &other);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* MAX_RECS_ORDER 10: at most 1023 RECs per realm; the next one is RMI_ERROR_REALM. */
static void test_rec_create_max(void)
{
	struct rmmemu_platform_config cfg;
	struct th_env e;
	struct th_realm r;

	th_platform_small(&cfg);
	cfg.dram[0].size = 128ULL << 20;
	cfg.secure[0].base = TH_DRAM_BASE + (124ULL << 20);
	cfg.root[0].base = TH_DRAM_BASE + (126ULL << 20);
	th_init(&e, &cfg);
	e.end = cfg.secure[0].base;
	th_realm(&e, &r);
	struct rec_try t;
	rec_try_init(&e, &t, 0);
	t.p.flags = 0;
	const unsigned max = (1U << 10) - 1;
	for (unsigned idx = 0; idx < max; idx++) {
		t.p.mpidr = th_mpidr(idx);
		uint64_t rc = rec_try(&e, r.rd, &t);
		if (rc != RMI_SUCCESS) {
			EXPECT_OK(rc);
			break;
		}
		/* fresh granules for the next REC */
		for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
			t.p.aux[i] = th_dg(&e);
		t.rec = th_dg(&e);
	}
	CU_ASSERT_EQUAL(th_meta(&e, r.rd)->refcount, max);
	t.p.mpidr = th_mpidr(max);
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	t.p.mpidr = th_mpidr(max) | 0x10;          /* refcount check comes first */
	EXPECT_RC(rec_try(&e, r.rd, &t), RMI_ERROR_REALM);
	UNCHANGED(&e, &t);
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);
	CHECK_INV(&e);
	/* Destroy them all (every REC granule of the platform). */
	for (uint64_t a = cfg.dram[0].base; a < e.end; a += GRANULE_SIZE) {
		struct rmmemu_granule_info info;
		if (rmmemu_granule_info(e.emu, a, &info) == RMMEMU_OK && info.state == RMMEMU_GRANULE_REC)
			EXPECT_OK(th_rec_destroy(&e, a));
	}
	CU_ASSERT_EQUAL(th_meta(&e, r.rd)->refcount, 0);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- REC_DESTROY ---- */

static void test_rec_destroy(void)
{
	struct world w;
	struct th_env *e = &w.e;

	world_init(&w, NULL, true);
	struct rec *rec = th_rec(e, w.rec1);
	rmm_pa_t aux[RMI_MAX_REC_AUX_GRANULES];
	memcpy(aux, rec->aux, sizeof(aux));

	const uint64_t bad[] = { th_dg(e), th_ns(e), w.r.rd, w.rec1 + 8, aux[0].val, w.r.rtt_base,
				 TH_DEVICE_BASE, TH_HOLE, 0 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_rec_destroy(e, bad[i]), RMI_ERROR_INPUT);

	/* A REC in use (running) cannot be destroyed, entered again, or be the target of SET_RIPAS. */
	e->on_run = run_busy;
	sc.a[0] = th_run_granule(e);
	sc.a[1] = w.r.rd;
	sc.a[2] = w.rec1;
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	CU_ASSERT_EQUAL(sc.n, 1);
	EXPECT_RC(sc.rc[0], RMI_ERROR_REC);   /* REC_ENTER */
	EXPECT_RC(sc.rc[1], RMI_ERROR_REC);   /* REC_DESTROY */
	EXPECT_RC(sc.rc[2], RMI_ERROR_REC);   /* RTT_SET_RIPAS */
	EXPECT_RC(sc.rc[3], RMI_ERROR_REC);   /* REC_ENTER, run in the secure PAS: busy comes first */
	EXPECT_RC(sc.rc[4], RMI_ERROR_INPUT); /* PSCI_COMPLETE with a running caller */
	EXPECT_RC(sc.rc[5], RMI_ERROR_INPUT); /* REC_ENTER, run granule not NS: checked before the REC */
	CU_ASSERT_EQUAL(th_meta(e, w.rec0)->refcount, 0);   /* released after the run */
	e->on_run = NULL;

	/* Success: the REC and its aux granules are DELEGATED and scrubbed. */
	rec->vcpu = (void *)rec;   /* pretend the backend holds state: it is told */
	unsigned destroys = e->rec_destroys;
	EXPECT_OK(th_rec_destroy(e, w.rec1));
	CU_ASSERT_EQUAL(e->rec_destroys, destroys + 1);
	EXPECT_STATE(e, w.rec1, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(e, w.rec1));
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++) {
		EXPECT_STATE(e, aux[i].val, RMMEMU_GRANULE_DELEGATED);
		CU_ASSERT(th_mem_is_zero(e, aux[i].val));
	}
	CU_ASSERT_EQUAL(th_meta(e, w.r.rd)->refcount, 1);
	EXPECT_RC(th_rec_destroy(e, w.rec1), RMI_ERROR_INPUT);
	w.r.recs[1] = w.r.recs[0];
	w.r.nrecs = 1;
	world_fini(&w);
}

/* ---- REC_ENTER ---- */

static void test_rec_enter_no_backend(void)
{
	struct world w;
	struct th_env *e = &w.e;
	struct th_rec_enter en;

	world_init(&w, NULL, false);
	memset(&en, 0, sizeof(en));
	en.gicv3_hcr = (1ULL << 1) | (1ULL << 14);
	en.gicv3_lrs[0] = (1ULL << 62) | (0xA0ULL << 48) | 27;   /* pending vINTID 27, priority 0xA0 */
	en.gicv3_lrs[1] = (2ULL << 62) | 8200;                    /* active LPI */
	en.flags = RMI_REC_ENTER_FLAG_TRAP_WFI | RMI_REC_ENTER_FLAG_RIPAS_RESPONSE;
	th_write_rec_enter(e, w.run, &en);
	CU_ASSERT_EQUAL(rmmemu_ns_write64(e->emu, w.run + RMI_REC_EXIT_REASON, 0xDEAD), RMMEMU_OK);

	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_REASON), RMI_EXIT_IRQ);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_HCR), (1ULL << 1) | (1ULL << 14));
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS), en.gicv3_lrs[0]);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS + 8), en.gicv3_lrs[1]);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_ESR), 0);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GPRS), 0);
	/* The entry half is the host's and is left alone. */
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_ENTER_FLAGS), en.flags);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_ENTER_GICV3_HCR), en.gicv3_hcr);
	CU_ASSERT(th_rec(e, w.rec0)->trap_wfi);
	CU_ASSERT(!th_rec(e, w.rec0)->trap_wfe);
	CU_ASSERT_EQUAL(th_meta(e, w.rec0)->refcount, 0);
	/* Entering again works (no state left behind). */
	en.flags = RMI_REC_ENTER_FLAG_TRAP_WFE;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	CU_ASSERT(!th_rec(e, w.rec0)->trap_wfi);
	CU_ASSERT(th_rec(e, w.rec0)->trap_wfe);
	world_fini(&w);
}

/* Failures of REC_ENTER other than the GIC state, and their order. */
static void test_rec_enter_failures(void)
{
	struct world w;
	struct th_env *e = &w.e;
	struct th_realm fresh;

	world_init(&w, NULL, false);
	th_realm(e, &fresh);   /* stays NEW */
	uint64_t fresh_rec;
	EXPECT_OK(th_build_rec(e, &fresh, &fresh_rec, 0, true, 0));
	/* Mark the exit half to prove failed calls leave it alone. */
	EXPECT_U64(rmmemu_ns_write64(e->emu, w.run + RMI_REC_EXIT_REASON, 0x5A5A), RMMEMU_OK);
	uint64_t aux0 = th_rec(e, w.rec0)->aux[0].val;

	/* Run granule. */
	const uint64_t bad_run[] = { w.run + 8, w.run + 0x800, th_dg(e), w.r.rd, w.rec1, aux0, TH_DEVICE_BASE,
				     TH_HOLE, TH_BEYOND_DRAM, TH_SECURE_BASE, TH_ROOT_BASE };
	for (unsigned i = 0; i < sizeof(bad_run) / sizeof(bad_run[0]); i++)
		EXPECT_RC(th_rec_enter(e, w.rec0, bad_run[i]), RMI_ERROR_INPUT);
	/* REC granule. */
	const uint64_t bad_rec[] = { w.rec0 + 8, w.r.rd, th_dg(e), th_ns(e), aux0, w.r.rtt_base, TH_DEVICE_BASE };
	for (unsigned i = 0; i < sizeof(bad_rec) / sizeof(bad_rec[0]); i++)
		EXPECT_RC(th_rec_enter(e, bad_rec[i], w.run), RMI_ERROR_INPUT);
	/* Realm NEW: RMI_ERROR_REALM, index 0. */
	EXPECT_RC(th_rec_enter(e, fresh_rec, w.run), RC_REALM(0));
	/* Not runnable. */
	EXPECT_RC(th_rec_enter(e, w.rec1, w.run), RMI_ERROR_REC);
	/* EMUL_MMIO / INJECT_SEA without a data abort to complete. */
	struct th_rec_enter en;
	memset(&en, 0, sizeof(en));
	en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	en.flags = RMI_REC_ENTER_FLAG_INJECT_SEA;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	en.flags = RMI_REC_ENTER_FLAG_INJECT_SEA | RMI_REC_ENTER_FLAG_EMUL_MMIO;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_REASON), 0x5A5A);
	CU_ASSERT_EQUAL(th_rec(e, w.rec0)->pc, 0x1000);

	/* Priorities. */
	en.flags = 0;
	en.gicv3_hcr = 1;   /* invalid GIC state */
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, fresh_rec, th_dg(e)), RMI_ERROR_INPUT);        /* run before realm */
	EXPECT_RC(th_rec_enter(e, fresh.rd, th_dg(e)), RMI_ERROR_INPUT);
	EXPECT_RC(th_rec_enter(e, fresh_rec, TH_SECURE_BASE), RMI_ERROR_INPUT);  /* run PAS before realm */
	EXPECT_RC(th_rec_enter(e, fresh_rec, w.run), RC_REALM(0));               /* realm before GIC */
	th_build_rec(e, &fresh, NULL, 1, false, 0);
	EXPECT_RC(th_rec_enter(e, fresh.recs[1], w.run), RC_REALM(0));           /* realm before runnable */
	EXPECT_RC(th_rec_enter(e, w.rec1, w.run), RMI_ERROR_REC);                /* runnable before GIC */
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_REASON), 0x5A5A);
	CHECK_INV(e);
	th_teardown(e, &fresh);
	world_fini(&w);
}

/* GIC state validation in RmiRecEnter. */
static void test_rec_enter_gic(void)
{
	struct rmmemu_platform_config cfg;
	struct world w;
	struct th_env *e;
	struct th_rec_enter en;

	th_platform_small(&cfg);
	cfg.gicv3_num_lrs = 3;   /* LRs 0..3 */
	world_init(&w, &cfg, false);
	e = &w.e;

#define ENTER_GIC(hcr_, set_lrs, expect) do { \
		memset(&en, 0, sizeof(en)); en.gicv3_hcr = (hcr_); set_lrs; \
		th_write_rec_enter(e, w.run, &en); \
		EXPECT_RC(th_rec_enter(e, w.rec0, w.run), (expect)); } while (0)

	const uint64_t P = 1ULL << 62, A = 2ULL << 62, PA = 3ULL << 62;
	/* ICH_HCR_EL2: only UIE, LRENPIE, NPIE, VGrp0/1 EIE/DIE and TDIR may be set. */
	for (unsigned b = 1; b <= 7; b++)
		ENTER_GIC(1ULL << b, (void)0, RMI_SUCCESS);
	ENTER_GIC(1ULL << 14, (void)0, RMI_SUCCESS);
	ENTER_GIC(0xFEULL | (1ULL << 14), (void)0, RMI_SUCCESS);
	const unsigned bad_bits[] = { 0, 8, 9, 10, 11, 12, 13, 15, 27, 31, 32, 63 };
	for (unsigned i = 0; i < sizeof(bad_bits) / sizeof(bad_bits[0]); i++)
		ENTER_GIC(1ULL << bad_bits[i], (void)0, RMI_ERROR_REC);

	/* List registers. */
	ENTER_GIC(0, (en.gicv3_lrs[0] = P | 1, en.gicv3_lrs[3] = PA | 1019), RMI_SUCCESS);
	ENTER_GIC(0, en.gicv3_lrs[2] = A | 8192, RMI_SUCCESS);
	ENTER_GIC(0, en.gicv3_lrs[2] = A | 0xFFFF, RMI_SUCCESS);
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (0xF8ULL << 48) | (1ULL << 41) | 33, RMI_SUCCESS); /* EOI only */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (1ULL << 60) | 40, RMI_SUCCESS);                  /* Group 1 */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (1ULL << 61) | 40, RMI_ERROR_REC);               /* HW */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (1ULL << 48) | 40, RMI_ERROR_REC);               /* priority RES0 */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (4ULL << 48) | 40, RMI_ERROR_REC);
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (1ULL << 32) | 40, RMI_ERROR_REC);               /* pINTID */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | (1ULL << 44) | 40, RMI_ERROR_REC);
	ENTER_GIC(0, en.gicv3_lrs[1] = P | 1020, RMI_ERROR_REC);                            /* special */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | 1023, RMI_ERROR_REC);
	ENTER_GIC(0, en.gicv3_lrs[1] = P | 8191, RMI_ERROR_REC);
	ENTER_GIC(0, en.gicv3_lrs[1] = P | 0x10000, RMI_ERROR_REC);                         /* > 16 ID bits */
	ENTER_GIC(0, en.gicv3_lrs[1] = P | 0xFFFFFFFFULL, RMI_ERROR_REC);
	ENTER_GIC(0, (en.gicv3_lrs[0] = P | 40, en.gicv3_lrs[3] = A | 40), RMI_ERROR_REC);  /* duplicate */
	ENTER_GIC(0, (en.gicv3_lrs[1] = PA | 40, en.gicv3_lrs[2] = P | 40), RMI_ERROR_REC);
	/* Invalid LRs are not checked and do not count as duplicates. */
	ENTER_GIC(0, (en.gicv3_lrs[0] = P | 40, en.gicv3_lrs[1] = 40), RMI_SUCCESS);
	ENTER_GIC(0, en.gicv3_lrs[2] = (1ULL << 61) | 0xFFFFFFFFULL, RMI_SUCCESS);
	/* LRs beyond the implemented ones are ignored, and read back as zero. */
	ENTER_GIC(0, (en.gicv3_lrs[4] = P | (1ULL << 61) | 1020, en.gicv3_lrs[15] = ~0ULL,
		      en.gicv3_lrs[0] = P | 50, en.gicv3_lrs[5] = P | 50), RMI_SUCCESS);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS), P | 50);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS + 4 * 8), 0);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS + 15 * 8), 0);

	/* A rejected GIC state has no effect on the REC's saved LRs. */
	ENTER_GIC(0, en.gicv3_lrs[0] = P | 77, RMI_SUCCESS);
	ENTER_GIC(1ULL << 0, en.gicv3_lrs[0] = P | 88, RMI_ERROR_REC);
	ENTER_GIC(0, (void)0, RMI_SUCCESS);
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_GICV3_LRS), 0);

	/* Priority: realm and REC state checks come before the GIC checks. */
	ENTER_GIC(1ULL << 0, (void)0, RMI_ERROR_REC);
	memset(&en, 0, sizeof(en));
	en.gicv3_lrs[0] = P | (1ULL << 61);
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec1, w.run), RMI_ERROR_REC);
#undef ENTER_GIC
	world_fini(&w);
}

/* Completion of an emulatable data abort (EMUL_MMIO) and SEA injection. */
static void test_rec_enter_mmio(void)
{
	struct world w;
	struct th_env *e;
	struct th_rec_enter en;

	world_init(&w, NULL, true);
	e = &w.e;
	memset(&en, 0, sizeof(en));
	uint64_t mmio = UNPROT + 0x9000;

	struct { uint64_t flags, srt, sas, val, expect; } reads[] = {
		{ 1, 5, 2, 0x1122334455667788ULL, 0x55667788ULL },              /* 32-bit read */
		{ 1, 0, 3, 0x1122334455667788ULL, 0x1122334455667788ULL },      /* 64-bit read into X0 */
		{ 1, 7, 0, 0xFFFFULL, 0xFFULL },                                 /* byte */
		{ 1 | 4 | 8, 9, 1, 0x8001ULL, 0xFFFFFFFFFFFF8001ULL },           /* sign-extended, 64-bit */
		{ 1 | 4, 9, 1, 0x8001ULL, 0xFFFF8001ULL },                       /* sign-extended, 32-bit */
		{ 1 | 4 | 8, 9, 1, 0x7001ULL, 0x7001ULL },
	};
	for (unsigned i = 0; i < sizeof(reads) / sizeof(reads[0]); i++) {
		e->on_run = run_mmio;
		sc.a[0] = mmio;
		sc.a[1] = reads[i].flags;
		sc.a[2] = reads[i].srt;
		sc.a[3] = reads[i].sas;
		en.flags = 0;
		th_write_rec_enter(e, w.run, &en);
		EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
		EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_REASON), RMI_EXIT_SYNC);
		EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_HPFAR), (mmio >> 12) << 4);
		uint64_t pc = th_rec(e, w.rec0)->pc;
		e->on_run = run_irq;
		en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
		en.gprs[0] = reads[i].val;
		th_write_rec_enter(e, w.run, &en);
		EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
		EXPECT_U64(sc.regs[reads[i].srt], reads[i].expect);
		EXPECT_U64(sc.pc, pc + 4);
		/* The abort was consumed: EMUL_MMIO again is an error. */
		EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	}
	/* A write: nothing is loaded, the PC advances. Loads into XZR load nothing. */
	struct { uint64_t flags, srt; } others[] = { { 1 | 2, 4 }, { 1, 31 } };
	for (unsigned i = 0; i < 2; i++) {
		e->on_run = run_mmio;
		sc.a[0] = mmio;
		sc.a[1] = others[i].flags;
		sc.a[2] = others[i].srt;
		sc.a[3] = 3;
		en.flags = 0;
		th_write_rec_enter(e, w.run, &en);
		EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
		struct rec *rec = th_rec(e, w.rec0);
		uint64_t pc = rec->pc, before[31];
		memcpy(before, rec->regs, sizeof(before));
		e->on_run = run_irq;
		en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
		en.gprs[0] = 0xABCDEF;
		th_write_rec_enter(e, w.run, &en);
		EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
		EXPECT_U64(sc.pc, pc + 4);
		CU_ASSERT(memcmp(before, sc.regs, sizeof(before)) == 0);
	}
	/* No syndrome (ISV = 0): not emulatable. */
	e->on_run = run_mmio;
	sc.a[1] = 0;
	en.flags = 0;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	uint64_t pc = th_rec(e, w.rec0)->pc;
	en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	CU_ASSERT_EQUAL(th_rec(e, w.rec0)->pc, pc);
	/* ...but an SEA may be injected for it; EMUL_MMIO is then ignored. */
	e->on_run = run_irq;
	en.flags = RMI_REC_ENTER_FLAG_INJECT_SEA | RMI_REC_ENTER_FLAG_EMUL_MMIO;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	CU_ASSERT(sc.inject_sea);
	EXPECT_U64(sc.pc, pc);
	/* An SEA for a protected IPA abort is refused. */
	e->on_run = run_mmio;
	sc.a[0] = 0x5000;
	sc.a[1] = 1;
	en.flags = 0;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	en.flags = RMI_REC_ENTER_FLAG_INJECT_SEA;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	/* A pending MMIO read is not completed by an entry with a bad GIC state. */
	sc.a[0] = mmio;
	sc.a[1] = 1;
	sc.a[2] = 6;
	sc.a[3] = 3;
	en.flags = 0;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	struct rec *rec = th_rec(e, w.rec0);
	pc = rec->pc;
	uint64_t x6 = rec->regs[6];
	en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
	en.gprs[0] = 0x77;
	en.gicv3_hcr = 1;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RMI_ERROR_REC);
	CU_ASSERT_EQUAL(rec->pc, pc);
	CU_ASSERT_EQUAL(rec->regs[6], x6);
	e->on_run = run_irq;
	en.gicv3_hcr = 0;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	EXPECT_U64(sc.regs[6], 0x77);
	EXPECT_U64(sc.pc, pc + 4);
	world_fini(&w);
}

/* ---- PSCI via the RSI, completed with RMI_PSCI_COMPLETE ---- */

struct psci_world {
	struct world w;
	uint64_t rec2;
	struct th_realm other;
	uint64_t other0, other1;
};

static void psci_init(struct psci_world *p)
{
	struct th_env *e;
	memset(&sc, 0, sizeof(sc));
	th_init(&p->w.e, NULL);
	e = &p->w.e;
	th_realm(e, &p->w.r);
	EXPECT_OK(th_build_rec(e, &p->w.r, &p->w.rec0, 0, true, 0x1000));
	EXPECT_OK(th_build_rec(e, &p->w.r, &p->w.rec1, 1, false, 0x2000));
	EXPECT_OK(th_build_rec(e, &p->w.r, &p->rec2, 2, false, 0x3000));
	EXPECT_OK(th_realm_activate(e, p->w.r.rd));
	th_realm(e, &p->other);
	EXPECT_OK(th_build_rec(e, &p->other, &p->other0, 0, true, 0));
	EXPECT_OK(th_build_rec(e, &p->other, &p->other1, 1, false, 0));
	EXPECT_OK(th_realm_activate(e, p->other.rd));
	p->w.run = th_run_granule(e);
	th_vcpu_install(e);
}

/* REC 0 makes PSCI call fid on target REC index idx. */
static void psci_call(struct psci_world *p, uint64_t fid, unsigned idx, uint64_t entry, uint64_t ctx)
{
	struct th_env *e = &p->w.e;
	e->on_run = run_smc;
	sc.a[0] = fid;
	sc.a[1] = th_mpidr_el1(idx);
	sc.a[2] = entry;
	sc.a[3] = ctx;
	EXPECT_OK(th_rec_enter(e, p->w.rec0, p->w.run));
	EXPECT_U64(th_run_get64(e, p->w.run, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	EXPECT_U64(th_run_get64(e, p->w.run, RMI_REC_EXIT_GPRS), fid);
	EXPECT_U64(th_run_get64(e, p->w.run, RMI_REC_EXIT_GPRS + 8), th_mpidr_el1(idx));
	CU_ASSERT(th_rec(e, p->w.rec0)->psci_info.pending);
	e->on_run = run_irq;
}

static void test_psci_complete_failures(void)
{
	struct psci_world p;
	struct th_env *e;

	psci_init(&p);
	e = &p.w.e;
	uint64_t rec0 = p.w.rec0, rec1 = p.w.rec1, rec2 = p.rec2;

	/* Nothing pending yet. */
	EXPECT_RC(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS), RMI_ERROR_INPUT);

	psci_call(&p, TH_PSCI_CPU_ON_64, 1, 0x4000, 0x77);
	/* A REC with a pending PSCI request cannot run. */
	EXPECT_RC(th_rec_enter(e, rec0, p.w.run), RMI_ERROR_REC);

	const uint64_t s = PSCI_RETURN_SUCCESS;
	EXPECT_RC(th_psci_complete(e, rec0 + 8, rec1, s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, rec0, rec1 + 0x800, s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, p.w.r.rd, rec1, s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, rec0, p.w.r.rd, s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, rec0, th_dg(e), s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, th_ns(e), rec1, s), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, rec0, rec0, s), RMI_ERROR_INPUT);            /* same REC */
	EXPECT_RC(th_psci_complete(e, rec0, rec2, s), RMI_ERROR_INPUT);            /* not the target */
	EXPECT_RC(th_psci_complete(e, rec0, p.other1, s), RMI_ERROR_INPUT);        /* other realm, index 1 */
	EXPECT_RC(th_psci_complete(e, rec1, rec0, s), RMI_ERROR_INPUT);            /* caller not pending */
	const uint64_t bad_status[] = { PSCI_RETURN_NOT_SUPPORTED, PSCI_RETURN_INVALID_PARAMS,
					PSCI_RETURN_ALREADY_ON, 1, 0x100000000ULL };
	for (unsigned i = 0; i < sizeof(bad_status) / sizeof(bad_status[0]); i++)
		EXPECT_RC(th_psci_complete(e, rec0, rec1, bad_status[i]), RMI_ERROR_INPUT);
	/* None of this changed anything. */
	CU_ASSERT(th_rec(e, rec0)->psci_info.pending);
	CU_ASSERT(!th_rec(e, rec1)->runnable);
	CU_ASSERT_EQUAL(th_rec(e, rec0)->regs[0], TH_PSCI_CPU_ON_64);

	/* AFFINITY_INFO accepts only SUCCESS. */
	EXPECT_OK(th_psci_complete(e, rec0, rec1, s));
	EXPECT_OK(th_rec_enter(e, rec0, p.w.run));
	psci_call(&p, TH_PSCI_AFFINITY_INFO_64, 2, 0, 0);
	EXPECT_RC(th_psci_complete(e, rec0, rec2, PSCI_RETURN_DENIED), RMI_ERROR_INPUT);
	EXPECT_RC(th_psci_complete(e, rec0, rec1, s), RMI_ERROR_INPUT);
	EXPECT_OK(th_psci_complete(e, rec0, rec2, s));
	CHECK_INV(e);
	th_teardown(e, &p.other);
	world_fini(&p.w);
}

static void test_psci_cpu_on(void)
{
	struct psci_world p;
	struct th_env *e;

	psci_init(&p);
	e = &p.w.e;
	uint64_t rec0 = p.w.rec0, rec1 = p.w.rec1, rec2 = p.rec2;
	/* REC 0's SCTLR_EL1.EE propagates to the RECs it starts. */
	th_rec(e, rec0)->sysregs.sctlr_el1 |= SCTLR_EL1_EE;

	/* CPU_ON REC 1: the host agrees. */
	psci_call(&p, TH_PSCI_CPU_ON_64, 1, 0x4000, 0x77);
	EXPECT_OK(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS));
	struct rec *r0 = th_rec(e, rec0), *r1 = th_rec(e, rec1), *r2 = th_rec(e, rec2);
	CU_ASSERT(!r0->psci_info.pending);
	CU_ASSERT_EQUAL(r0->regs[0], PSCI_RETURN_SUCCESS);
	CU_ASSERT_EQUAL(r0->regs[1], 0);
	CU_ASSERT_EQUAL(r0->regs[2], 0);
	CU_ASSERT_EQUAL(r0->regs[3], 0);
	CU_ASSERT(r1->runnable);
	CU_ASSERT_EQUAL(r1->pc, 0x4000);
	CU_ASSERT_EQUAL(r1->regs[0], 0x77);
	CU_ASSERT(r1->sysregs.sctlr_el1 & SCTLR_EL1_EE);
	/* Completed twice: the second is an error. */
	EXPECT_RC(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS), RMI_ERROR_INPUT);
	EXPECT_OK(th_rec_enter(e, rec1, p.w.run));
	EXPECT_OK(th_rec_enter(e, rec0, p.w.run));

	/* CPU_ON REC 2, denied by the host: the realm sees DENIED, REC 2 stays off. */
	psci_call(&p, TH_PSCI_CPU_ON_32, 2, 0x5000, 0);
	EXPECT_OK(th_psci_complete(e, rec0, rec2, PSCI_RETURN_DENIED));
	CU_ASSERT_EQUAL(r0->regs[0], PSCI_RETURN_DENIED);
	CU_ASSERT(!r2->runnable);
	CU_ASSERT(!r0->psci_info.pending);
	EXPECT_RC(th_rec_enter(e, rec2, p.w.run), RMI_ERROR_REC);

	/* CPU_ON REC 1 which is already on: SUCCESS from the host gives ALREADY_ON... */
	psci_call(&p, TH_PSCI_CPU_ON_64, 1, 0x6000, 0);
	EXPECT_OK(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS));
	CU_ASSERT_EQUAL(r0->regs[0], PSCI_RETURN_ALREADY_ON);
	CU_ASSERT_EQUAL(r1->pc, 0x4000);
	/* ...and DENIED is a host error, though the request is still completed. */
	psci_call(&p, TH_PSCI_CPU_ON_64, 1, 0x6000, 0);
	EXPECT_RC(th_psci_complete(e, rec0, rec1, PSCI_RETURN_DENIED), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(r0->regs[0], PSCI_RETURN_ALREADY_ON);
	CU_ASSERT(!r0->psci_info.pending);

	/* AFFINITY_INFO: REC 1 is on, REC 2 is off. */
	psci_call(&p, TH_PSCI_AFFINITY_INFO_64, 1, 0, 0);
	EXPECT_OK(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS));
	CU_ASSERT_EQUAL(r0->regs[0], 0);   /* ON */
	psci_call(&p, TH_PSCI_AFFINITY_INFO_32, 2, 0, 0);
	EXPECT_OK(th_psci_complete(e, rec0, rec2, PSCI_RETURN_SUCCESS));
	CU_ASSERT_EQUAL(r0->regs[0], 1);   /* OFF */

	/* The target is running while the host completes: it counts as on. */
	psci_call(&p, TH_PSCI_CPU_ON_64, 1, 0x6000, 0);
	e->on_run = run_busy;   /* REC 1 runs; from there complete REC 0's request */
	sc.a[0] = th_run_granule(e);
	sc.a[1] = p.w.r.rd;
	sc.a[2] = rec2;
	EXPECT_OK(th_rec_enter(e, rec1, p.w.run));
	/* run_busy's PSCI_COMPLETE named REC 1 as caller: not pending -> INPUT */
	EXPECT_RC(sc.rc[4], RMI_ERROR_INPUT);
	e->on_run = run_irq;
	EXPECT_OK(th_psci_complete(e, rec0, rec1, PSCI_RETURN_SUCCESS));
	CU_ASSERT_EQUAL(r0->regs[0], PSCI_RETURN_ALREADY_ON);
	CHECK_INV(e);
	th_teardown(e, &p.other);
	world_fini(&p.w);
}

/* SYSTEM_OFF from the realm: every REC_ENTER is RMI_ERROR_REALM index 1. */
static void test_rec_enter_system_off(void)
{
	struct world w;
	struct th_env *e;

	world_init(&w, NULL, true);
	e = &w.e;
	e->on_run = run_smc;
	sc.a[0] = TH_PSCI_SYSTEM_OFF;
	EXPECT_OK(th_rec_enter(e, w.rec0, w.run));
	EXPECT_U64(th_run_get64(e, w.run, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	CU_ASSERT_EQUAL(th_rd(e, w.r.rd)->state, REALM_SYSTEM_OFF);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RC_REALM(1));
	EXPECT_RC(th_rec_enter(e, w.rec1, w.run), RC_REALM(1));   /* before "not runnable" */
	struct th_rec_enter en;
	memset(&en, 0, sizeof(en));
	en.gicv3_hcr = 1;
	th_write_rec_enter(e, w.run, &en);
	EXPECT_RC(th_rec_enter(e, w.rec0, w.run), RC_REALM(1));   /* before the GIC checks */
	EXPECT_RC(th_rec_enter(e, w.rec0, th_dg(e)), RMI_ERROR_INPUT);
	EXPECT_RC(th_realm_activate(e, w.r.rd), RMI_ERROR_REALM);
	/* The realm can still be torn down. */
	world_fini(&w);
}

static const struct th_test tests[] = {
	{ "REC_CREATE success, indexes, RIM of runnable RECs", test_rec_create_success },
	{ "REC_CREATE failures and their priority", test_rec_create_failures },
	{ "REC_CREATE: 1023 RECs, then RMI_ERROR_REALM", test_rec_create_max },
	{ "REC_DESTROY; commands on a running REC", test_rec_destroy },
	{ "REC_ENTER without a backend: IRQ exit, GIC echo, flags", test_rec_enter_no_backend },
	{ "REC_ENTER failures and their priority", test_rec_enter_failures },
	{ "REC_ENTER GIC state validation", test_rec_enter_gic },
	{ "REC_ENTER EMUL_MMIO and INJECT_SEA", test_rec_enter_mmio },
	{ "REC_ENTER after SYSTEM_OFF", test_rec_enter_system_off },
	{ "PSCI_COMPLETE failures", test_psci_complete_failures },
	{ "PSCI_COMPLETE: CPU_ON / AFFINITY_INFO outcomes", test_psci_cpu_on },
};

int main(void)
{
	return th_run_suite("rmi_rec", tests, sizeof(tests) / sizeof(tests[0]));
}

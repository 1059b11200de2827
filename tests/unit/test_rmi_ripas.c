/*
 * RMI_RTT_INIT_RIPAS and RMI_RTT_SET_RIPAS (the latter driven by a realm's RSI_IPA_STATE_SET
 * through the fake vCPU backend), including the completion of the request on the next REC_ENTER.
 */
#include <string.h>

#include "helpers/th.h"

#define UNPROT (1ULL << 39)
#define G GRANULE_SIZE

static bool rim_equal(struct th_env *e, uint64_t rd, const uint8_t *m)
{
	return memcmp(th_rd(e, rd)->measurement[RIM_MEASUREMENT_SLOT], m, MAX_MEASUREMENT_SIZE) == 0;
}

/* ---- RTT_INIT_RIPAS ---- */

static void test_init_ripas(void)
{
	struct th_env e;
	struct th_realm r;
	uint8_t m[MAX_MEASUREMENT_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));

	/* Within one L3 table. */
	memcpy(m, th_rd(&e, r.rd)->measurement[0], sizeof(m));
	EXPECT_OK(th_init_ripas(&e, r.rd, 0, 4 * G));
	EXPECT_U64(e.res.x[1], 4 * G);
	for (unsigned i = 0; i < 4; i++)
		EXPECT_ENTRY(&e, r.rd, i * G, 3, 3, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_ENTRY(&e, r.rd, 4 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT(!rim_equal(&e, r.rd, m));
	/* Again over RAM entries: accepted (and measured again). */
	memcpy(m, th_rd(&e, r.rd)->measurement[0], sizeof(m));
	EXPECT_OK(th_init_ripas(&e, r.rd, 2 * G, 6 * G));
	EXPECT_U64(e.res.x[1], 6 * G);
	CU_ASSERT(!rim_equal(&e, r.rd, m));

	/* Across the end of the L3 table: progress up to it. */
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L2_SIZE - 2 * G, TH_L2_SIZE + 2 * G));
	EXPECT_U64(e.res.x[1], TH_L2_SIZE);
	/* The rest is under a level 2 entry that is larger than the range: RTT error at 2. */
	memcpy(m, th_rd(&e, r.rd)->measurement[0], sizeof(m));
	EXPECT_RC(th_init_ripas(&e, r.rd, TH_L2_SIZE, TH_L2_SIZE + 2 * G), RC_RTT(2));
	CU_ASSERT(rim_equal(&e, r.rd, m));
	/* Whole level 2 entries, and whole level 1 entries of the root. */
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L2_SIZE, 4 * TH_L2_SIZE));
	EXPECT_U64(e.res.x[1], 4 * TH_L2_SIZE);
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L1_SIZE, 3 * TH_L1_SIZE + TH_L2_SIZE));
	EXPECT_U64(e.res.x[1], 3 * TH_L1_SIZE);
	EXPECT_ENTRY(&e, r.rd, 2 * TH_L1_SIZE, 1, 1, RMI_UNASSIGNED, 0, RMI_RAM);
	/* Base inside a larger entry: RTT error at the level where the walk ended. */
	EXPECT_RC(th_init_ripas(&e, r.rd, 4 * TH_L2_SIZE + G, 4 * TH_L2_SIZE + 2 * G), RC_RTT(2));
	EXPECT_RC(th_init_ripas(&e, r.rd, 5 * TH_L1_SIZE + TH_L2_SIZE, 5 * TH_L1_SIZE + 2 * TH_L2_SIZE), RC_RTT(1));

	/* Stops at an entry that is neither UNASSIGNED EMPTY nor RAM. */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, th_dg(&e), 10 * G));        /* ASSIGNED EMPTY */
	EXPECT_OK(th_init_ripas(&e, r.rd, 8 * G, 16 * G));
	EXPECT_U64(e.res.x[1], 10 * G);
	EXPECT_RC(th_init_ripas(&e, r.rd, 10 * G, 16 * G), RC_RTT(3));
	EXPECT_OK(th_init_ripas(&e, r.rd, 11 * G, 12 * G));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, th_dg(&e), 11 * G));        /* ASSIGNED RAM */
	EXPECT_RC(th_init_ripas(&e, r.rd, 11 * G, 12 * G), RC_RTT(3));
	EXPECT_OK(th_data_destroy(&e, r.rd, 11 * G));                           /* UNASSIGNED DESTROYED */
	EXPECT_RC(th_init_ripas(&e, r.rd, 11 * G, 12 * G), RC_RTT(3));
	/* The last granule of the PAR. */
	EXPECT_OK(th_rtt_path(&e, &r, UNPROT - G, 3));
	EXPECT_OK(th_init_ripas(&e, r.rd, UNPROT - 2 * G, UNPROT));
	EXPECT_U64(e.res.x[1], UNPROT);

	/* Input failures; nothing measured. */
	memcpy(m, th_rd(&e, r.rd)->measurement[0], sizeof(m));
	uint64_t l2;
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 1));
	l2 = e.res.x[3];
	const struct { uint64_t rd, base, top; } bad[] = {
		{ r.rd, 20 * G, 20 * G }, { r.rd, 20 * G, 19 * G }, { r.rd, 20 * G, 0 },
		{ th_dg(&e), 20 * G, 21 * G }, { r.rd + 8, 20 * G, 21 * G }, { l2, 20 * G, 21 * G },
		{ r.rd, 20 * G + 8, 21 * G }, { r.rd, 20 * G, 21 * G + 8 },
		{ r.rd, UNPROT, UNPROT + G }, { r.rd, UNPROT - G, UNPROT + G },
		{ r.rd, 0, 1ULL << 40 }, { r.rd, 1ULL << 40, (1ULL << 40) + G }, { r.rd, 20 * G, ~0ULL & ~(G - 1) },
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_init_ripas(&e, bad[i].rd, bad[i].base, bad[i].top), RMI_ERROR_INPUT);
	CU_ASSERT(rim_equal(&e, r.rd, m));

	/* Realm not NEW: RMI_ERROR_REALM after the input checks, before the walk. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_RC(th_init_ripas(&e, r.rd, 20 * G, 21 * G), RMI_ERROR_REALM);
	EXPECT_RC(th_init_ripas(&e, r.rd, TH_L2_SIZE * 7 + G, TH_L2_SIZE * 7 + 2 * G), RMI_ERROR_REALM);
	EXPECT_RC(th_init_ripas(&e, r.rd, 10 * G, 11 * G), RMI_ERROR_REALM);
	EXPECT_RC(th_init_ripas(&e, r.rd, 20 * G + 8, 21 * G), RMI_ERROR_INPUT);
	EXPECT_RC(th_init_ripas(&e, r.rd, UNPROT, UNPROT + G), RMI_ERROR_INPUT);
	EXPECT_RC(th_init_ripas(&e, r.rd, 21 * G, 20 * G), RMI_ERROR_INPUT);
	th_rd(&e, r.rd)->state = REALM_SYSTEM_OFF;
	EXPECT_RC(th_init_ripas(&e, r.rd, 20 * G, 21 * G), RMI_ERROR_REALM);
	th_rd(&e, r.rd)->state = REALM_ACTIVE;
	EXPECT_ENTRY(&e, r.rd, 20 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT(rim_equal(&e, r.rd, m));
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- RTT_SET_RIPAS ---- */

static struct {
	uint64_t a[5];
	uint64_t regs[31];
	unsigned n;
} sc;

/* The realm calls RSI_IPA_STATE_SET(a[1], a[2], a[3], a[4]) (a[0] = 1), or just exits. */
static void run_ripas(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	(void)rec_pa;
	memcpy(sc.regs, rec->regs, sizeof(sc.regs));
	sc.n++;
	if (sc.a[0] && th_realm_smc(e, exit, rec, TH_RSI_IPA_STATE_SET, sc.a[1], sc.a[2], sc.a[3], sc.a[4]))
		return;
	th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

struct rworld {
	struct th_env e;
	struct th_realm r, other;
	uint64_t rec, rec_b, other_rec, run;
	uint64_t d_empty, d_ram, d_gone;
};

/* Entries of the L3 table at 0: 0 ASSIGNED EMPTY, 1 UNASSIGNED EMPTY, 2 ASSIGNED RAM,
 * 3 UNASSIGNED RAM, 4 UNASSIGNED DESTROYED, 5 ASSIGNED DESTROYED. */
static void rworld_init(struct rworld *w)
{
	struct th_env *e = &w->e;
	memset(&sc, 0, sizeof(sc));
	th_init(e, NULL);
	th_realm(e, &w->r);
	th_realm(e, &w->other);
	EXPECT_OK(th_rtt_path(e, &w->r, 0, 3));
	uint64_t src = th_ns(e);
	th_fill(e, src, 0x11);
	w->d_empty = th_dg(e);
	w->d_ram = th_dg(e);
	EXPECT_OK(th_data_create_unknown(e, w->r.rd, w->d_empty, 0));
	EXPECT_OK(th_data_create(e, w->r.rd, w->d_ram, 2 * G, src, RMI_MEASURE_CONTENT));
	EXPECT_OK(th_init_ripas(e, w->r.rd, 3 * G, 5 * G));
	EXPECT_OK(th_data_create_unknown(e, w->r.rd, th_dg(e), 4 * G));
	EXPECT_OK(th_data_destroy(e, w->r.rd, 4 * G));
	EXPECT_OK(th_init_ripas(e, w->r.rd, 5 * G, 6 * G));
	EXPECT_OK(th_data_create_unknown(e, w->r.rd, th_dg(e), 5 * G));
	EXPECT_OK(th_data_destroy(e, w->r.rd, 5 * G));
	w->d_gone = th_dg(e);
	EXPECT_OK(th_data_create_unknown(e, w->r.rd, w->d_gone, 5 * G));
	EXPECT_ENTRY(e, w->r.rd, 4 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	EXPECT_ENTRY(e, w->r.rd, 5 * G, 3, 3, RMI_ASSIGNED, 0, RMI_DESTROYED);
	EXPECT_OK(th_build_rec(e, &w->r, &w->rec, 0, true, 0x1000));
	EXPECT_OK(th_build_rec(e, &w->r, &w->rec_b, 1, true, 0x1000));
	EXPECT_OK(th_build_rec(e, &w->other, &w->other_rec, 0, true, 0x1000));
	EXPECT_OK(th_realm_activate(e, w->r.rd));
	EXPECT_OK(th_realm_activate(e, w->other.rd));
	w->run = th_run_granule(e);
	th_vcpu_install(e);
	e->on_run = run_ripas;
}

static void rworld_fini(struct rworld *w)
{
	CHECK_INV(&w->e);
	th_teardown(&w->e, &w->r);
	th_teardown(&w->e, &w->other);
	CHECK_INV(&w->e);
	EXPECT_ALL_UNDELEGATED(&w->e);
	th_fini(&w->e);
}

/* The realm asks for [base, top) -> ripas. */
static void request(struct rworld *w, uint64_t rec, uint64_t base, uint64_t top, uint64_t ripas, bool destroyed)
{
	struct th_rec_enter en;
	memset(&en, 0, sizeof(en));
	th_write_rec_enter(&w->e, w->run, &en);
	sc.a[0] = 1;
	sc.a[1] = base;
	sc.a[2] = top;
	sc.a[3] = ripas;
	sc.a[4] = destroyed;
	EXPECT_OK(th_rec_enter(&w->e, rec, w->run));
	EXPECT_U64(th_run_get64(&w->e, w->run, RMI_REC_EXIT_REASON), RMI_EXIT_RIPAS_CHANGE);
	EXPECT_U64(th_run_get64(&w->e, w->run, RMI_REC_EXIT_RIPAS_BASE), base);
	EXPECT_U64(th_run_get64(&w->e, w->run, RMI_REC_EXIT_RIPAS_TOP), top);
	EXPECT_U64(th_run_get64(&w->e, w->run, RMI_REC_EXIT_RIPAS_VALUE) & 0xFF, ripas);
	sc.a[0] = 0;
}

/* The next entry completes the request: X0 = RSI_SUCCESS, X1 = progress, X2 = response. */
static void complete(struct rworld *w, uint64_t rec, bool reject, uint64_t x1, uint64_t x2)
{
	struct th_rec_enter en;
	memset(&en, 0, sizeof(en));
	en.flags = reject ? RMI_REC_ENTER_FLAG_RIPAS_RESPONSE : 0;
	th_write_rec_enter(&w->e, w->run, &en);
	EXPECT_OK(th_rec_enter(&w->e, rec, w->run));
	EXPECT_U64(sc.regs[0], 0);
	EXPECT_U64(sc.regs[1], x1);
	EXPECT_U64(sc.regs[2], x2);
}

static void test_set_ripas_ram(void)
{
	struct rworld w;
	struct th_env *e = &w.e;

	rworld_init(&w);
	/* Nothing requested: any range is wrong. */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, G), RMI_ERROR_INPUT);

	request(&w, w.rec, 0, 8 * G, RMI_RAM, false);
	/* A REC with a pending request may still be entered, so failures first. */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, G, G), RMI_ERROR_INPUT);           /* top <= base */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, G, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, th_dg(e), w.rec, 0, G), RMI_ERROR_INPUT);         /* rd */
	EXPECT_RC(th_set_ripas(e, w.r.rd + 8, w.rec, 0, G), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.rec, w.rec, 0, G), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.r.rd, 0, G), RMI_ERROR_INPUT);          /* rec */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec + 8, 0, G), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.r.rd, th_dg(e), 0, G), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.other.rd, w.rec, 0, G), RMI_ERROR_REC);         /* REC of another realm */
	EXPECT_RC(th_set_ripas(e, w.other.rd, w.rec, 3 * G, 4 * G), RMI_ERROR_REC); /* ...before the range */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.other_rec, 0, G), RMI_ERROR_REC);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec_b, 0, G), RMI_ERROR_INPUT);        /* nothing pending there */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, G, 2 * G), RMI_ERROR_INPUT);       /* base != next address */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 9 * G), RMI_ERROR_INPUT);       /* beyond the request */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 1ULL << 40), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 8, 2 * G), RMI_ERROR_INPUT);
	EXPECT_ENTRY(e, w.r.rd, G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);

	/* Progress in steps chosen by the host. */
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 0, 2 * G));
	EXPECT_U64(e->res.x[1], 2 * G);
	EXPECT_ENTRY(e, w.r.rd, 0, 3, 3, RMI_ASSIGNED, w.d_empty, RMI_RAM);
	EXPECT_ENTRY(e, w.r.rd, G, 3, 3, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 2 * G), RMI_ERROR_INPUT);       /* already done */
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 2 * G, 8 * G));
	/* RAM entries stay; the DESTROYED one stops the progress (no CHANGE_DESTROYED). */
	EXPECT_U64(e->res.x[1], 4 * G);
	EXPECT_ENTRY(e, w.r.rd, 2 * G, 3, 3, RMI_ASSIGNED, w.d_ram, RMI_RAM);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 4 * G, 8 * G), RC_RTT(3));
	EXPECT_ENTRY(e, w.r.rd, 4 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	CU_ASSERT_EQUAL(th_rec(e, w.rec)->set_ripas.addr, 4 * G);
	CHECK_INV(e);

	/* The realm is told how far it got; RAM with REJECT and unfinished: REJECT. */
	complete(&w, w.rec, true, 4 * G, 1);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 4 * G, 5 * G), RMI_ERROR_INPUT);   /* request closed */

	/* With CHANGE_DESTROYED, DESTROYED entries (unassigned and assigned) become RAM. */
	request(&w, w.rec, 4 * G, 6 * G, RMI_RAM, true);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 4 * G, 6 * G));
	EXPECT_U64(e->res.x[1], 6 * G);
	EXPECT_ENTRY(e, w.r.rd, 4 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_ENTRY(e, w.r.rd, 5 * G, 3, 3, RMI_ASSIGNED, w.d_gone, RMI_RAM);
	complete(&w, w.rec, true, 6 * G, 0);    /* finished: ACCEPT despite REJECT */

	/* Across the end of the L3 table, then a level 2 entry larger than what is left. */
	request(&w, w.rec, TH_L2_SIZE - 2 * G, TH_L2_SIZE + 2 * G, RMI_RAM, false);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, TH_L2_SIZE - 2 * G, TH_L2_SIZE + 2 * G));
	EXPECT_U64(e->res.x[1], TH_L2_SIZE);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, TH_L2_SIZE, TH_L2_SIZE + 2 * G), RC_RTT(2));
	complete(&w, w.rec, false, TH_L2_SIZE, 0);
	/* A whole level 2 entry changes at once; base inside a larger entry is an RTT error. */
	request(&w, w.rec, 2 * TH_L2_SIZE, 3 * TH_L2_SIZE, RMI_RAM, false);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 2 * TH_L2_SIZE, 3 * TH_L2_SIZE));
	EXPECT_ENTRY(e, w.r.rd, 2 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_RAM);
	complete(&w, w.rec, false, 3 * TH_L2_SIZE, 0);
	request(&w, w.rec, 4 * TH_L2_SIZE + G, 4 * TH_L2_SIZE + 3 * G, RMI_RAM, false);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 4 * TH_L2_SIZE + G, 4 * TH_L2_SIZE + 3 * G), RC_RTT(2));
	complete(&w, w.rec, false, 4 * TH_L2_SIZE + G, 0);
	rworld_fini(&w);
}

static void test_set_ripas_empty(void)
{
	struct rworld w;
	struct th_env *e = &w.e;

	rworld_init(&w);
	uint64_t inval = e->invalidations;
	request(&w, w.rec, 0, 6 * G, RMI_EMPTY, false);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 0, 6 * G));
	EXPECT_U64(e->res.x[1], 4 * G);   /* stops at the DESTROYED entry */
	EXPECT_ENTRY(e, w.r.rd, 0, 3, 3, RMI_ASSIGNED, w.d_empty, RMI_EMPTY);
	EXPECT_ENTRY(e, w.r.rd, G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, w.r.rd, 2 * G, 3, 3, RMI_ASSIGNED, w.d_ram, RMI_EMPTY);   /* RAM -> EMPTY */
	EXPECT_ENTRY(e, w.r.rd, 3 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT(e->invalidations > inval);   /* a valid mapping was removed */
	/* EMPTY requests are never rejected. */
	complete(&w, w.rec, true, 4 * G, 0);
	/* The data of an ASSIGNED EMPTY entry is kept (DATA_DESTROY finds it). */
	EXPECT_STATE(e, w.d_ram, RMMEMU_GRANULE_DATA);
	request(&w, w.rec, 4 * G, 6 * G, RMI_EMPTY, true);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 4 * G, 6 * G));
	EXPECT_U64(e->res.x[1], 6 * G);
	EXPECT_ENTRY(e, w.r.rd, 4 * G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, w.r.rd, 5 * G, 3, 3, RMI_ASSIGNED, w.d_gone, RMI_EMPTY);
	complete(&w, w.rec, false, 6 * G, 0);
	/* Requests of two RECs are independent. */
	request(&w, w.rec, 0, G, RMI_RAM, false);
	request(&w, w.rec_b, G, 2 * G, RMI_RAM, false);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec_b, 0, G), RMI_ERROR_INPUT);
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec_b, G, 2 * G));
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 0, G));
	complete(&w, w.rec, false, G, 0);
	complete(&w, w.rec_b, false, 2 * G, 0);
	rworld_fini(&w);
}

/* top_gran_align (added by TF-RMM after rmm-spec-v1.0-rel0, docs/rmi.md): an unaligned top is
 * RMI_ERROR_INPUT, checked with top <= base before the RD, the REC and the walk; nothing changes. */
static void test_set_ripas_top_gran_align(void)
{
	struct rworld w;
	struct th_env *e = &w.e;

	rworld_init(&w);
	request(&w, w.rec, 0, 8 * G, RMI_RAM, false);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 0x800), RMI_ERROR_INPUT);       /* inside the first granule */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, G + 0x800), RMI_ERROR_INPUT);   /* one whole granule before it */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 8 * G - 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.other.rd, w.rec, 0, G + 0x800), RMI_ERROR_INPUT); /* before rec_owner */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.other_rec, 0, G + 0x800), RMI_ERROR_INPUT);
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, G, G + 0x800), RMI_ERROR_INPUT);   /* before base != next address */
	EXPECT_RC(th_set_ripas(e, w.r.rd, w.rec, 0, 8 * G + 0x800), RMI_ERROR_INPUT);
	EXPECT_ENTRY(e, w.r.rd, 0, 3, 3, RMI_ASSIGNED, w.d_empty, RMI_EMPTY);
	EXPECT_ENTRY(e, w.r.rd, G, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_rec(e, w.rec)->set_ripas.addr, 0);
	/* The same request then progresses with aligned tops. */
	EXPECT_OK(th_set_ripas(e, w.r.rd, w.rec, 0, G));
	EXPECT_U64(e->res.x[1], G);
	EXPECT_ENTRY(e, w.r.rd, 0, 3, 3, RMI_ASSIGNED, w.d_empty, RMI_RAM);
	complete(&w, w.rec, false, G, 0);
	rworld_fini(&w);
}

static const struct th_test tests[] = {
	{ "RTT_INIT_RIPAS: progress, levels, stops, failures, RIM", test_init_ripas },
	{ "RTT_SET_RIPAS to RAM: failures, progress, DESTROYED, completion", test_set_ripas_ram },
	{ "RTT_SET_RIPAS to EMPTY; requests of two RECs", test_set_ripas_empty },
	{ "RTT_SET_RIPAS: top not granule aligned (top_gran_align)", test_set_ripas_top_gran_align },
};

int main(void)
{
	return th_run_suite("rmi_ripas", tests, sizeof(tests) / sizeof(tests[0]));
}

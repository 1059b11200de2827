/*
 * RMI_REALM_CREATE / REALM_ACTIVATE / REALM_DESTROY / REC_AUX_COUNT: success paths, every
 * failure condition, the geometries validation accepts and rejects, VMID accounting.
 */
#include <string.h>

#include "helpers/th.h"

/* A fresh RD + roots + params granule for params p (rtt_base allocated here). */
struct attempt {
	uint64_t rd, params;
	unsigned nalloc;        /* root granules delegated for this attempt */
	struct th_realm_params p;
};

static void attempt_init(struct th_env *e, struct attempt *a, unsigned s2sz, int sl, unsigned nroots)
{
	unsigned alloc = nroots ? nroots : 1;
	if (alloc > 16)
		alloc = 16;
	uint64_t base = th_dg_n(e, alloc, (uint64_t)alloc * GRANULE_SIZE);
	th_realm_params_init(e, &a->p, s2sz, sl, nroots, base);
	a->rd = th_dg(e);
	a->params = th_ns(e);
	a->nalloc = alloc;
}

static uint64_t attempt_create(struct th_env *e, struct attempt *a)
{
	th_write_realm_params(e, a->params, &a->p);
	return th_realm_create(e, a->rd, a->params);
}

/* Expect rc; on success, check the RD/roots and destroy the realm again. */
static void attempt_expect(struct th_env *e, struct attempt *a, uint64_t expect, const char *file, int line)
{
	uint64_t rc = attempt_create(e, a);
	th_expect_rc(rc, expect, "REALM_CREATE", file, line);
	if (rc == RMI_SUCCESS) {
		th_state(e, a->rd, RMMEMU_GRANULE_RD, file, line);
		for (unsigned i = 0; i < a->p.rtt_num_start; i++)
			th_state(e, a->p.rtt_base + i * GRANULE_SIZE, RMMEMU_GRANULE_RTT, file, line);
		th_check_invariants(e, file, line);
		th_expect_rc(th_realm_destroy(e, a->rd), RMI_SUCCESS, "REALM_DESTROY", file, line);
	} else {
		/* Nothing changed: RD and roots are still DELEGATED. */
		th_state(e, a->rd, RMMEMU_GRANULE_DELEGATED, file, line);
		for (unsigned i = 0; i < a->nalloc; i++)
			th_state(e, a->p.rtt_base + i * GRANULE_SIZE, RMMEMU_GRANULE_DELEGATED, file, line);
	}
}
#define ATTEMPT(e, a, expect) attempt_expect((e), (a), (expect), __FILE__, __LINE__)

static uint64_t map_size(int level)
{
	return 1ULL << (12 + 9 * (3 - level));
}

/* ---- geometry ---- */

struct geom {
	unsigned s2sz;
	int sl;
	unsigned nroots;
};

static void check_geometry(struct th_env *e, const struct geom *g)
{
	struct th_realm r;
	uint64_t rc = th_build_realm(e, &r, g->s2sz, g->sl, g->nroots);
	EXPECT_OK(rc);
	if (rc != RMI_SUCCESS) {
		fprintf(stderr, "  geometry s2sz %u sl %d roots %u rejected\n", g->s2sz, g->sl, g->nroots);
		return;
	}
	uint64_t ipa_size = 1ULL << g->s2sz, par = th_par(&r), sz = map_size(g->sl);
	/* Root entries: first, last protected, first and last unprotected (in the last root). */
	EXPECT_ENTRY(e, r.rd, 0, g->sl, (uint64_t)g->sl, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, r.rd, par - sz, g->sl, (uint64_t)g->sl, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, r.rd, par, g->sl, (uint64_t)g->sl, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, r.rd, ipa_size - sz, g->sl, (uint64_t)g->sl, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_RC(th_read_entry(e, r.rd, ipa_size, g->sl), RMI_ERROR_INPUT);
	/* Level start-1 and deeper-than-page levels are not entries. */
	EXPECT_RC(th_read_entry(e, r.rd, 0, g->sl - 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(e, r.rd, 0, 4), RMI_ERROR_INPUT);
	/* Reading at level 3 stops at the root. */
	EXPECT_ENTRY(e, r.rd, par - GRANULE_SIZE, 3, (uint64_t)g->sl, RMI_UNASSIGNED, 0, RMI_EMPTY);
	/* The unprotected half is really unprotected: an NS page can be mapped there once
	 * the path exists; the protected half refuses it. */
	if (g->sl < 3) {
		EXPECT_OK(th_rtt_path(e, &r, ipa_size - GRANULE_SIZE, 3));
		EXPECT_OK(th_map_unprot(e, r.rd, ipa_size - GRANULE_SIZE, 3, TH_DRAM_BASE | TH_NS_ATTRS));
		EXPECT_RC(th_map_unprot(e, r.rd, par - GRANULE_SIZE, 3, TH_DRAM_BASE | TH_NS_ATTRS),
			  RMI_ERROR_INPUT);
		EXPECT_OK(th_rtt_path(e, &r, par - GRANULE_SIZE, 3));
		EXPECT_OK(th_data_create_unknown(e, r.rd, th_dg(e), par - GRANULE_SIZE));
	}
	CHECK_INV(e);
	th_teardown(e, &r);
	EXPECT_ALL_UNDELEGATED(e);
	CHECK_INV(e);
}

static void test_geometries_accepted(void)
{
	static const struct geom ok48[] = {
		{ 32, 1, 1 }, { 33, 1, 1 }, { 39, 1, 1 }, { 40, 1, 2 }, { 41, 1, 4 }, { 42, 1, 8 },
		{ 43, 1, 16 }, { 32, 2, 4 }, { 33, 2, 8 }, { 34, 2, 16 }, { 40, 0, 1 }, { 44, 0, 1 },
		{ 47, 0, 1 }, { 48, 0, 1 },
	};
	struct th_env e;

	th_init(&e, NULL);
	for (unsigned i = 0; i < sizeof(ok48) / sizeof(ok48[0]); i++)
		check_geometry(&e, &ok48[i]);
	th_fini(&e);
}

static void test_geometries_rejected(void)
{
	static const struct geom bad48[] = {
		{ 31, 1, 1 },   /* below the minimum IPA size */
		{ 49, 0, 1 },   /* above the PA size */
		{ 52, 0, 1 },
		{ 0, 1, 1 }, { 255, 1, 1 },
		{ 39, 0, 1 },   /* too small for a level 0 start */
		{ 44, 1, 32 },  /* would need 32 concatenated tables */
		{ 35, 2, 32 },
		{ 40, 1, 1 },   /* wrong number of root RTTs */
		{ 40, 1, 4 }, { 32, 1, 2 }, { 33, 2, 4 }, { 48, 0, 2 }, { 40, 1, 0 },
		{ 32, 3, 1 },   /* level 3 start is never consistent with >= 32 bits */
		{ 40, -1, 1 },  /* LPA2 levels need LPA2 */
		{ 40, 4, 1 },
	};
	struct th_env e;
	struct attempt a;

	th_init(&e, NULL);
	for (unsigned i = 0; i < sizeof(bad48) / sizeof(bad48[0]); i++) {
		attempt_init(&e, &a, bad48[i].s2sz, bad48[i].sl, bad48[i].nroots);
		ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	}
	/* Out-of-range 64-bit starting levels and root counts. */
	attempt_init(&e, &a, 40, 1, 2);
	a.p.rtt_level_start = (int64_t)(1ULL << 32) + 1;
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	attempt_init(&e, &a, 40, 1, 2);
	a.p.rtt_level_start = INT64_MIN;
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	attempt_init(&e, &a, 40, 1, 2);
	a.p.rtt_num_start = 0xFFFFFFFFU;
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	a.p.rtt_num_start = 2;
	a.p.vmid = (uint16_t)e.next_vmid++;
	ATTEMPT(&e, &a, RMI_SUCCESS);
	CHECK_INV(&e);
	th_fini(&e);
}

/* The platform's PA size bounds S2SZ and decides whether level 0 can start a walk. */
static void test_geometry_pa_bits(void)
{
	struct rmmemu_platform_config cfg;
	struct th_env e;
	struct attempt a;

	th_platform_small(&cfg);
	cfg.pa_bits = 40;
	th_init(&e, &cfg);
	attempt_init(&e, &a, 40, 0, 1);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);       /* level 0 start needs PA >= 44 bits */
	attempt_init(&e, &a, 41, 1, 4);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);       /* S2SZ > PA size */
	attempt_init(&e, &a, 40, 1, 2);
	ATTEMPT(&e, &a, RMI_SUCCESS);
	th_fini(&e);

	th_platform_small(&cfg);
	cfg.pa_bits = 44;
	th_init(&e, &cfg);
	attempt_init(&e, &a, 44, 0, 1);
	ATTEMPT(&e, &a, RMI_SUCCESS);
	attempt_init(&e, &a, 40, 0, 1);
	ATTEMPT(&e, &a, RMI_SUCCESS);
	attempt_init(&e, &a, 45, 0, 1);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	th_fini(&e);

	th_platform_small(&cfg);
	cfg.pa_bits = 32;
	cfg.dram[0].size = 64ULL << 20;
	th_init(&e, &cfg);
	attempt_init(&e, &a, 32, 1, 1);
	ATTEMPT(&e, &a, RMI_SUCCESS);
	attempt_init(&e, &a, 33, 1, 1);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	th_fini(&e);

	/* 52-bit PA without LPA2: IPA size still capped at 48 bits. */
	th_platform_pa52(&cfg);
	th_init(&e, &cfg);
	attempt_init(&e, &a, 52, 0, 1);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	attempt_init(&e, &a, 49, 0, 2);
	ATTEMPT(&e, &a, RMI_ERROR_INPUT);
	attempt_init(&e, &a, 48, 0, 1);
	ATTEMPT(&e, &a, RMI_SUCCESS);
	th_fini(&e);
}

/* ---- RmiRealmParams fields ---- */

static void test_params_fields(void)
{
	struct th_env e;
	struct attempt a;

	th_init(&e, NULL);   /* pmu 6 counters, no SVE, 5 bps, 3 wps, no HPMN0, VMID16 */
#define TRY(mutate, expect) do { attempt_init(&e, &a, 40, 1, 2); mutate; ATTEMPT(&e, &a, expect); } while (0)
	TRY((void)0, RMI_SUCCESS);
	TRY(a.p.flags = RMI_REALM_FLAGS_LPA2, RMI_ERROR_INPUT);
	TRY(a.p.flags = RMI_REALM_FLAGS_SVE, RMI_ERROR_INPUT);           /* no SVE on this platform */
	TRY(a.p.sve_vl = 15, RMI_SUCCESS);                                /* ignored without the flag */
	TRY((a.p.flags = RMI_REALM_FLAGS_PMU, a.p.pmu_num_ctrs = 6), RMI_SUCCESS);
	TRY((a.p.flags = RMI_REALM_FLAGS_PMU, a.p.pmu_num_ctrs = 7), RMI_ERROR_INPUT);
	TRY((a.p.flags = RMI_REALM_FLAGS_PMU, a.p.pmu_num_ctrs = 0), RMI_ERROR_INPUT); /* no HPMN0 */
	TRY(a.p.pmu_num_ctrs = 31, RMI_SUCCESS);                          /* ignored without the flag */
	TRY(a.p.num_bps = 0, RMI_ERROR_INPUT);
	TRY(a.p.num_bps = 6, RMI_ERROR_INPUT);
	TRY(a.p.num_bps = 255, RMI_ERROR_INPUT);
	TRY(a.p.num_bps = 1, RMI_SUCCESS);
	TRY(a.p.num_wps = 0, RMI_ERROR_INPUT);
	TRY(a.p.num_wps = 4, RMI_ERROR_INPUT);
	TRY(a.p.num_wps = 1, RMI_SUCCESS);
	TRY(a.p.hash_algo = RMI_HASH_SHA_512, RMI_SUCCESS);
	TRY(a.p.hash_algo = 2, RMI_ERROR_INPUT);
	TRY(a.p.hash_algo = 0xFF, RMI_ERROR_INPUT);
	TRY(a.p.vmid = 0, RMI_SUCCESS);
	TRY(a.p.vmid = 0xFFFF, RMI_SUCCESS);
	/* Two wrong fields: still INPUT (every params check reports INPUT). */
	TRY((a.p.num_bps = 0, a.p.hash_algo = 9), RMI_ERROR_INPUT);
	CHECK_INV(&e);
	th_fini(&e);

	struct rmmemu_platform_config cfg;
	th_platform_small(&cfg);
	cfg.sve = true;
	cfg.sve_vl = 3;
	cfg.feat_hpmn0 = true;
	cfg.vmid16 = false;
	th_init(&e, &cfg);
	TRY((a.p.flags = RMI_REALM_FLAGS_SVE, a.p.sve_vl = 3), RMI_SUCCESS);
	TRY((a.p.flags = RMI_REALM_FLAGS_SVE, a.p.sve_vl = 0), RMI_SUCCESS);
	TRY((a.p.flags = RMI_REALM_FLAGS_SVE, a.p.sve_vl = 4), RMI_ERROR_INPUT);
	TRY((a.p.flags = RMI_REALM_FLAGS_PMU, a.p.pmu_num_ctrs = 0), RMI_SUCCESS);  /* HPMN0 */
	TRY(a.p.vmid = 255, RMI_SUCCESS);
	TRY(a.p.vmid = 256, RMI_ERROR_INPUT);                              /* 8-bit VMIDs */
	TRY(a.p.vmid = 0xFFFF, RMI_ERROR_INPUT);
	th_fini(&e);

	th_platform_small(&cfg);
	cfg.pmu = false;
	th_init(&e, &cfg);
	TRY((a.p.flags = RMI_REALM_FLAGS_PMU, a.p.pmu_num_ctrs = 1), RMI_ERROR_INPUT);
	TRY(a.p.pmu_num_ctrs = 1, RMI_SUCCESS);
	th_fini(&e);
#undef TRY
}

/* ---- the params granule ---- */

static void test_params_granule(void)
{
	struct th_env e;
	struct attempt a;
	uint8_t img[GRANULE_SIZE];

	th_init(&e, NULL);
	attempt_init(&e, &a, 40, 1, 2);
	th_write_realm_params(&e, a.params, &a.p);
	th_realm_params_image(&a.p, img);

	/* Unaligned, device, hole, beyond DRAM. */
	const uint64_t bad[] = { a.params + 8, a.params + 0x800, TH_DEVICE_BASE, TH_HOLE, TH_BEYOND_DRAM, ~0ULL };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_realm_create(&e, a.rd, bad[i]), RMI_ERROR_INPUT);

	/* Valid contents in a granule of the secure / root PAS, or a delegated one: refused. */
	th_poke(&e, TH_SECURE_BASE, img, sizeof(img));
	EXPECT_RC(th_realm_create(&e, a.rd, TH_SECURE_BASE), RMI_ERROR_INPUT);
	th_poke(&e, TH_ROOT_BASE, img, sizeof(img));
	EXPECT_RC(th_realm_create(&e, a.rd, TH_ROOT_BASE), RMI_ERROR_INPUT);
	uint64_t dg = th_dg(&e);
	th_poke(&e, dg, img, sizeof(img));
	EXPECT_RC(th_realm_create(&e, a.rd, dg), RMI_ERROR_INPUT);
	memset(img, 0, sizeof(img));
	th_poke(&e, dg, img, sizeof(img));   /* keep DELEGATED granules zero */
	/* The RD granule itself as params (it is DELEGATED). */
	EXPECT_RC(th_realm_create(&e, a.rd, a.rd), RMI_ERROR_INPUT);

	EXPECT_STATE(&e, a.rd, RMMEMU_GRANULE_DELEGATED);
	CHECK_INV(&e);
	/* The VMID was never taken: the same params succeed now. */
	EXPECT_OK(th_realm_create(&e, a.rd, a.params));
	EXPECT_OK(th_realm_destroy(&e, a.rd));
	th_fini(&e);
}

/* ---- the RD and the root RTTs ---- */

static void test_rd_and_rtt_granules(void)
{
	struct th_env e;
	struct attempt a;
	struct th_realm other;

	th_init(&e, NULL);
	th_realm(&e, &other);

	attempt_init(&e, &a, 40, 1, 2);
	uint64_t rd = a.rd, base = a.p.rtt_base;
	const uint64_t bad_rd[] = {
		th_ns(&e),               /* not delegated */
		rd + 8, rd + 0xFFF,      /* unaligned */
		other.rd,                /* already an RD */
		other.rtt_base,          /* an RTT */
		base, base + GRANULE_SIZE,  /* aliases one of its own roots */
		TH_DEVICE_BASE, TH_HOLE, TH_SECURE_BASE, TH_ROOT_BASE, TH_BEYOND_DRAM,
	};
	for (unsigned i = 0; i < sizeof(bad_rd) / sizeof(bad_rd[0]); i++) {
		th_write_realm_params(&e, a.params, &a.p);
		EXPECT_RC(th_realm_create(&e, bad_rd[i], a.params), RMI_ERROR_INPUT);
	}

	/* Root RTT problems: unaligned base, first/second root not delegated, in use, device. */
	uint64_t ns_pair = th_ns_n(&e, 2, 2 * GRANULE_SIZE);
	uint64_t half = th_ns_n(&e, 2, 2 * GRANULE_SIZE);
	EXPECT_OK(th_delegate(&e, half));            /* first delegated, second not */
	uint64_t half2 = th_ns_n(&e, 2, 2 * GRANULE_SIZE);
	EXPECT_OK(th_delegate(&e, half2 + GRANULE_SIZE));   /* second delegated, first not */
	const uint64_t bad_base[] = {
		base + 8, base + 0x800, ns_pair, half, half2, other.rtt_base, other.rd,
		TH_DEVICE_BASE, TH_HOLE, TH_SECURE_BASE, TH_BEYOND_DRAM - GRANULE_SIZE, TH_BEYOND_DRAM,
		~0ULL & ~GRANULE_MASK,
	};
	for (unsigned i = 0; i < sizeof(bad_base) / sizeof(bad_base[0]); i++) {
		a.p.rtt_base = bad_base[i];
		th_write_realm_params(&e, a.params, &a.p);
		EXPECT_RC(th_realm_create(&e, rd, a.params), RMI_ERROR_INPUT);
		EXPECT_STATE(&e, rd, RMMEMU_GRANULE_DELEGATED);
	}
	/* Nothing was left half-transitioned. */
	EXPECT_STATE(&e, half, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, half2 + GRANULE_SIZE, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, base, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, base + GRANULE_SIZE, RMMEMU_GRANULE_DELEGATED);
	CHECK_INV(&e);

	/* Every failure above released the VMID: the same VMID works now. */
	a.p.rtt_base = base;
	th_write_realm_params(&e, a.params, &a.p);
	EXPECT_OK(th_realm_create(&e, rd, a.params));
	CHECK_INV(&e);
	EXPECT_OK(th_realm_destroy(&e, rd));

	/* The RD may sit above or below its roots. */
	uint64_t lo_rd = th_dg(&e);
	uint64_t roots = th_dg_n(&e, 2, 2 * GRANULE_SIZE);
	uint64_t hi_rd = th_dg(&e);
	struct th_realm_params p;
	th_realm_params_init(&e, &p, 40, 1, 2, roots);
	th_write_realm_params(&e, a.params, &p);
	EXPECT_OK(th_realm_create(&e, lo_rd, a.params));
	EXPECT_OK(th_realm_destroy(&e, lo_rd));
	EXPECT_OK(th_realm_create(&e, hi_rd, a.params));
	EXPECT_OK(th_realm_destroy(&e, hi_rd));

	th_teardown(&e, &other);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- VMIDs ---- */

static void test_vmid(void)
{
	struct th_env e;
	struct attempt a, b;

	th_init(&e, NULL);
	attempt_init(&e, &a, 40, 1, 2);
	a.p.vmid = 77;
	EXPECT_OK(attempt_create(&e, &a));

	/* A second realm with the same VMID fails, and its failure must not free VMID 77. */
	attempt_init(&e, &b, 40, 1, 2);
	b.p.vmid = 77;
	EXPECT_RC(attempt_create(&e, &b), RMI_ERROR_INPUT);
	EXPECT_RC(attempt_create(&e, &b), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, b.rd, RMMEMU_GRANULE_DELEGATED);

	/* Failing after the VMID check (alias) releases the VMID it reserved. */
	b.p.vmid = 78;
	uint64_t real_base = b.p.rtt_base;
	th_write_realm_params(&e, b.params, &b.p);
	EXPECT_RC(th_realm_create(&e, real_base, b.params), RMI_ERROR_INPUT);   /* RD == root */
	b.p.rtt_base = th_ns_n(&e, 2, 2 * GRANULE_SIZE);                        /* roots not delegated */
	th_write_realm_params(&e, b.params, &b.p);
	EXPECT_RC(th_realm_create(&e, b.rd, b.params), RMI_ERROR_INPUT);
	b.p.rtt_base = real_base;
	th_write_realm_params(&e, b.params, &b.p);
	EXPECT_RC(th_realm_create(&e, th_ns(&e), b.params), RMI_ERROR_INPUT);  /* RD not delegated */
	EXPECT_OK(th_realm_create(&e, b.rd, b.params));                         /* 78 was free */

	/* Destroying the first realm frees VMID 77. */
	EXPECT_OK(th_realm_destroy(&e, a.rd));
	struct attempt c;
	attempt_init(&e, &c, 40, 1, 2);
	c.p.vmid = 77;
	EXPECT_OK(attempt_create(&e, &c));
	CHECK_INV(&e);
	EXPECT_OK(th_realm_destroy(&e, c.rd));
	EXPECT_OK(th_realm_destroy(&e, b.rd));
	th_undelegate_all(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- REALM_ACTIVATE ---- */

static void test_activate(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	const uint64_t bad[] = { th_dg(&e), th_ns(&e), r.rd + 8, r.rtt_base, rec, TH_DEVICE_BASE,
				 TH_HOLE, TH_SECURE_BASE, ~0ULL };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_realm_activate(&e, bad[i]), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->state, REALM_NEW);

	EXPECT_OK(th_realm_activate(&e, r.rd));
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->state, REALM_ACTIVE);
	EXPECT_RC(th_realm_activate(&e, r.rd), RMI_ERROR_REALM);
	/* SYSTEM_OFF cannot be activated either. */
	th_rd(&e, r.rd)->state = REALM_SYSTEM_OFF;
	EXPECT_RC(th_realm_activate(&e, r.rd), RMI_ERROR_REALM);
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->state, REALM_SYSTEM_OFF);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- REALM_DESTROY ---- */

static void test_destroy(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, false, 0));

	const uint64_t bad[] = { th_dg(&e), th_ns(&e), r.rd + 8, r.rd + 0x800, r.rtt_base,
				 r.rtt_base + GRANULE_SIZE, rec, TH_DEVICE_BASE, TH_HOLE, TH_ROOT_BASE, 0 };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_realm_destroy(&e, bad[i]), RMI_ERROR_INPUT);

	/* Live REC. */
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);
	EXPECT_OK(th_rec_destroy(&e, rec));
	r.nrecs = 0;

	/* Live RTT below the second root (unprotected half of a 2-root realm). */
	uint64_t rtt = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, rtt, 1ULL << 39, 2));
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 1ULL << 39, 2));
	/* Live RTT below the first root, with a DATA granule. */
	EXPECT_OK(th_rtt_path(&e, &r, 0x200000, 3));
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 0x200000));
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);
	EXPECT_STATE(&e, r.rd, RMMEMU_GRANULE_RD);
	CHECK_INV(&e);
	EXPECT_OK(th_data_destroy(&e, r.rd, 0x200000));
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);   /* the RTTs are still there */
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0x200000, 3));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 2));

	/* Active realm: destroy does not depend on the state. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_OK(th_realm_destroy(&e, r.rd));
	EXPECT_STATE(&e, r.rd, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, r.rtt_base, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, r.rtt_base + GRANULE_SIZE, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, r.rd));
	CU_ASSERT(th_mem_is_zero(&e, r.rtt_base));
	CU_ASSERT(th_mem_is_zero(&e, r.rtt_base + GRANULE_SIZE));
	CHECK_INV(&e);
	/* Gone: a second destroy, activate, or use fails. */
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_INPUT);
	EXPECT_RC(th_realm_activate(&e, r.rd), RMI_ERROR_INPUT);
	EXPECT_RC(th_rec_aux_count(&e, r.rd), RMI_ERROR_INPUT);

	/* The same granules make a new realm. */
	struct th_realm_params p;
	th_realm_params_init(&e, &p, 40, 1, 2, r.rtt_base);
	th_write_realm_params(&e, r.params, &p);
	EXPECT_OK(th_realm_create(&e, r.rd, r.params));
	EXPECT_OK(th_realm_destroy(&e, r.rd));
	th_undelegate_all(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- REC_AUX_COUNT ---- */

static void test_rec_aux_count(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rec_aux_count(&e, r.rd));
	EXPECT_U64(e.res.x[1], RMI_MAX_REC_AUX_GRANULES);
	const uint64_t bad[] = { th_dg(&e), th_ns(&e), r.rd + 8, r.rtt_base, TH_DEVICE_BASE, TH_HOLE, ~0ULL };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_rec_aux_count(&e, bad[i]), RMI_ERROR_INPUT);
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_OK(th_rec_aux_count(&e, r.rd));
	EXPECT_U64(e.res.x[1], RMI_MAX_REC_AUX_GRANULES);
	th_teardown(&e, &r);
	th_fini(&e);
}

/* ---- RIM: REALM_CREATE measures the params, and only the measured fields ---- */

static void test_rim_realm_params(void)
{
	struct th_env e;
	struct th_realm r1, r2, r3;
	uint8_t m1[MAX_MEASUREMENT_SIZE], m2[MAX_MEASUREMENT_SIZE], m3[MAX_MEASUREMENT_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r1);
	th_realm(&e, &r2);   /* differs in VMID, rtt_base, RPV equal: same RIM */
	memcpy(m1, th_rd(&e, r1.rd)->measurement[RIM_MEASUREMENT_SLOT], sizeof(m1));
	memcpy(m2, th_rd(&e, r2.rd)->measurement[RIM_MEASUREMENT_SLOT], sizeof(m2));
	CU_ASSERT(memcmp(m1, m2, sizeof(m1)) == 0);
	uint8_t zero[MAX_MEASUREMENT_SIZE] = { 0 };
	CU_ASSERT(memcmp(m1, zero, sizeof(m1)) != 0);
	CU_ASSERT_EQUAL(th_rd(&e, r1.rd)->algorithm, HASH_SHA_256);
	EXPECT_OK(th_build_realm(&e, &r3, 41, 1, 4));   /* another S2SZ: another RIM */
	memcpy(m3, th_rd(&e, r3.rd)->measurement[RIM_MEASUREMENT_SLOT], sizeof(m3));
	CU_ASSERT(memcmp(m1, m3, sizeof(m1)) != 0);
	th_teardown(&e, &r1);
	th_teardown(&e, &r2);
	th_teardown(&e, &r3);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "REALM_CREATE: accepted geometries (incl. 2..16 concatenated roots)", test_geometries_accepted },
	{ "REALM_CREATE: rejected geometries", test_geometries_rejected },
	{ "REALM_CREATE: geometry vs platform PA size", test_geometry_pa_bits },
	{ "REALM_CREATE: RmiRealmParams field validation", test_params_fields },
	{ "REALM_CREATE: params granule (alignment, PAS, state)", test_params_granule },
	{ "REALM_CREATE: RD and root RTT granules, alias, VMID release", test_rd_and_rtt_granules },
	{ "REALM_CREATE/DESTROY: VMID uniqueness and release", test_vmid },
	{ "REALM_ACTIVATE", test_activate },
	{ "REALM_DESTROY: failures, live children, scrub", test_destroy },
	{ "REC_AUX_COUNT", test_rec_aux_count },
	{ "REALM_CREATE: RIM of the measured params", test_rim_realm_params },
};

int main(void)
{
	return th_run_suite("rmi_realm", tests, sizeof(tests) / sizeof(tests[0]));
}

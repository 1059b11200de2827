/*
 * Whole realm life cycles through RMI only, with rmmemu_check_invariants() after every step:
 * create (with concatenated roots), RTTs, INIT_RIPAS, measured and unmeasured DATA, unprotected
 * mappings, RECs, ACTIVATE, REC_ENTER, then an explicit teardown in the order a host uses, after
 * which every granule is UNDELEGATED and scrubbed. Also: the RIM is deterministic, two realms
 * live side by side, and a life cycle with a running realm (PSCI, RIPAS change, MMIO).
 */
#include <string.h>

#include "helpers/th.h"

#define G GRANULE_SIZE

struct geometry {
	unsigned s2sz;
	int sl;
	unsigned nroots;
};

/* Everything a life cycle allocates, to check it afterwards. */
struct used {
	uint64_t g[512];
	unsigned n;
};

static void use(struct used *u, uint64_t pa)
{
	if (u->n < sizeof(u->g) / sizeof(u->g[0]))
		u->g[u->n++] = pa;
}

static uint64_t level_size(int level)
{
	return 1ULL << (12 + 9 * (3 - level));
}

/* Create the RTT path to a level-3 table covering ipa, recording the RTTs (top-down). */
static void rtt_path(struct th_env *e, const struct th_realm *r, uint64_t ipa, struct used *rtts)
{
	for (int l = r->sl + 1; l <= 3; l++) {
		uint64_t a = ipa & ~(level_size(l - 1) - 1);
		EXPECT_OK(th_read_entry(e, r->rd, a, l - 1));
		if (e->res.x[2] == RMI_TABLE && e->res.x[1] == (uint64_t)(l - 1))
			continue;
		uint64_t rtt = th_dg(e);
		EXPECT_OK(th_rtt_create(e, r->rd, rtt, a, l));
		use(rtts, rtt);
		use(rtts, a);
		use(rtts, (uint64_t)l);
		CHECK_INV(e);
	}
}

/* One life cycle; returns the RIM in rim_out. */
static void lifecycle(const struct geometry *g, uint8_t rim_out[MAX_MEASUREMENT_SIZE])
{
	struct th_env e;
	struct th_realm r;
	struct used all = { .n = 0 }, rtts = { .n = 0 };

	th_init(&e, NULL);
	uint64_t first = e.next;
	/* The host fills what will become realm memory with a pattern. */
	for (uint64_t a = first; a < first + (2ULL << 20); a += G)
		th_fill(&e, a, 0xD7);

	/* 1. Realm. */
	EXPECT_OK(th_build_realm(&e, &r, g->s2sz, g->sl, g->nroots));
	CHECK_INV(&e);
	EXPECT_STATE(&e, r.rd, RMMEMU_GRANULE_RD);
	for (unsigned i = 0; i < g->nroots; i++)
		EXPECT_STATE(&e, r.rtt_base + i * G, RMMEMU_GRANULE_RTT);
	EXPECT_OK(th_rec_aux_count(&e, r.rd));
	EXPECT_U64(e.res.x[1], RMI_MAX_REC_AUX_GRANULES);

	/* 2. Memory layout: image at the start of the PAR and at the start of the last
	 * protected root; unprotected window at the start of the unprotected half. */
	uint64_t par = th_par(&r);
	uint64_t root_span = level_size(g->sl) * 512;
	uint64_t image = 0;
	uint64_t image2 = g->nroots > 1 ? (par - root_span) + 4 * TH_L2_SIZE : par - TH_L2_SIZE;
	uint64_t window = par;
	rtt_path(&e, &r, image, &rtts);
	rtt_path(&e, &r, image2, &rtts);
	rtt_path(&e, &r, window, &rtts);

	/* 3. RIPAS RAM over the image (may take several calls). */
	uint64_t base = image, top = image + 32 * G;
	while (base < top) {
		EXPECT_OK(th_init_ripas(&e, r.rd, base, top));
		if (e.res.x[0] != RMI_SUCCESS)
			break;
		base = e.res.x[1];
	}
	EXPECT_OK(th_init_ripas(&e, r.rd, image2, image2 + 8 * G));
	EXPECT_U64(e.res.x[1], image2 + 8 * G);
	CHECK_INV(&e);

	/* 4. DATA: 16 measured, 4 unmeasured, 4 unknown in the image; 8 more in image2. */
	uint64_t src = th_ns(&e);
	uint8_t content[G];
	for (unsigned i = 0; i < G; i++)
		content[i] = (uint8_t)(i * 31 + 7);
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, src, content, sizeof(content)), RMMEMU_OK);
	uint64_t data[32];
	unsigned nd = 0;
	for (unsigned i = 0; i < 24; i++) {
		uint64_t d = th_dg(&e);
		uint64_t ipa = image + i * G;
		if (i < 16)
			EXPECT_OK(th_data_create(&e, r.rd, d, ipa, src, RMI_MEASURE_CONTENT));
		else if (i < 20)
			EXPECT_OK(th_data_create(&e, r.rd, d, ipa, src, RMI_NO_MEASURE_CONTENT));
		else
			EXPECT_OK(th_data_create_unknown(&e, r.rd, d, ipa));
		data[nd++] = d;
		use(&all, d);
	}
	for (unsigned i = 0; i < 8; i++) {
		uint64_t d = th_dg(&e);
		EXPECT_OK(th_data_create(&e, r.rd, d, image2 + i * G, src, RMI_MEASURE_CONTENT));
		data[nd++] = d;
		use(&all, d);
	}
	EXPECT_ENTRY(&e, r.rd, image, 3, 3, RMI_ASSIGNED, data[0], RMI_RAM);
	EXPECT_ENTRY(&e, r.rd, image + 20 * G, 3, 3, RMI_ASSIGNED, data[20], RMI_RAM);   /* unknown on RAM */
	CHECK_INV(&e);

	/* 5. Unprotected mappings of host memory. */
	uint64_t shared = th_ns(&e);
	for (unsigned i = 0; i < 4; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, window + i * G, 3, (shared & ~(G - 1)) | TH_NS_ATTRS));
	CHECK_INV(&e);

	/* 6. RECs: 0 runnable, 1 and 2 not. */
	uint64_t recs[3];
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_OK(th_build_rec(&e, &r, &recs[i], i, i == 0, 0x1000));
		CHECK_INV(&e);
	}

	/* 7. Activate; the RIM is now final. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	CHECK_INV(&e);
	memcpy(rim_out, th_rd(&e, r.rd)->measurement[RIM_MEASUREMENT_SLOT], MAX_MEASUREMENT_SIZE);
	EXPECT_RC(th_data_create(&e, r.rd, th_dg(&e), image + 30 * G, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_init_ripas(&e, r.rd, image + 30 * G, image + 31 * G), RMI_ERROR_REALM);

	/* 8. Run REC 0 (no vCPU backend: IRQ exit), twice. */
	uint64_t run = th_run_granule(&e);
	for (unsigned i = 0; i < 2; i++) {
		EXPECT_OK(th_rec_enter(&e, recs[0], run));
		EXPECT_U64(th_run_get64(&e, run, RMI_REC_EXIT_REASON), RMI_EXIT_IRQ);
		CHECK_INV(&e);
	}
	EXPECT_RC(th_rec_enter(&e, recs[1], run), RMI_ERROR_REC);

	/* 9. Teardown: RECs, DATA, unprotected mappings, RTTs bottom-up, realm, undelegate. */
	for (unsigned i = 0; i < 3; i++) {
		EXPECT_OK(th_rec_destroy(&e, recs[i]));
		CHECK_INV(&e);
	}
	r.nrecs = 0;
	for (unsigned i = 0; i < 24; i++) {
		EXPECT_OK(th_data_destroy(&e, r.rd, image + i * G));
		EXPECT_U64(e.res.x[1], data[i]);
		EXPECT_U64(e.res.x[2], i < 23 ? image + (i + 1) * G : image + TH_L2_SIZE);
	}
	for (unsigned i = 0; i < 8; i++) {
		EXPECT_OK(th_data_destroy(&e, r.rd, image2 + i * G));
		EXPECT_U64(e.res.x[1], data[24 + i]);
	}
	CHECK_INV(&e);
	for (unsigned i = 0; i < 4; i++) {
		EXPECT_OK(th_unmap_unprot(&e, r.rd, window + i * G, 3));
		EXPECT_U64(e.res.x[1], i < 3 ? window + (i + 1) * G : window + TH_L2_SIZE);
	}
	CHECK_INV(&e);
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);   /* RTTs still there */
	/* RTTs were recorded top-down as (rtt, ipa, level) triples: destroy in reverse. */
	for (unsigned i = rtts.n; i >= 3; i -= 3) {
		uint64_t rtt = rtts.g[i - 3], ipa = rtts.g[i - 2];
		int64_t level = (int64_t)rtts.g[i - 1];
		EXPECT_OK(th_rtt_destroy(&e, r.rd, ipa, level));
		EXPECT_U64(e.res.x[1], rtt);
		use(&all, rtt);
		CHECK_INV(&e);
	}
	EXPECT_OK(th_realm_destroy(&e, r.rd));
	CHECK_INV(&e);
	use(&all, r.rd);
	for (unsigned i = 0; i < g->nroots; i++)
		use(&all, r.rtt_base + i * G);
	th_undelegate_all(&e);
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	/* Scrubbed: everything the realm owned reads as zero (the host's pattern is gone too). */
	for (unsigned i = 0; i < all.n; i++)
		CU_ASSERT(th_is_zero(&e, all.g[i]));
	uint8_t back[G];
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, src, back, sizeof(back)), RMMEMU_OK);
	CU_ASSERT(memcmp(back, content, sizeof(back)) == 0);
	th_fini(&e);
}

static void test_lifecycles(void)
{
	static const struct geometry geoms[] = {
		{ 40, 1, 2 },    /* level 1 start, 2 concatenated roots */
		{ 33, 2, 8 },    /* level 2 start, 8 concatenated roots */
		{ 34, 2, 16 },   /* 16 roots */
		{ 43, 1, 16 },
		{ 48, 0, 1 },    /* level 0 start */
		{ 32, 1, 1 },
		{ 39, 1, 1 },
	};
	for (unsigned i = 0; i < sizeof(geoms) / sizeof(geoms[0]); i++) {
		uint8_t rim[MAX_MEASUREMENT_SIZE];
		lifecycle(&geoms[i], rim);
	}
}

/* The same life cycle twice gives the same RIM; another geometry gives another RIM. */
static void test_rim_deterministic(void)
{
	static const struct geometry g1 = { 40, 1, 2 }, g2 = { 33, 2, 8 };
	uint8_t a[MAX_MEASUREMENT_SIZE], b[MAX_MEASUREMENT_SIZE], c[MAX_MEASUREMENT_SIZE];
	lifecycle(&g1, a);
	lifecycle(&g1, b);
	lifecycle(&g2, c);
	CU_ASSERT(memcmp(a, b, sizeof(a)) == 0);
	CU_ASSERT(memcmp(a, c, sizeof(a)) != 0);
}

/* Two realms interleaved; destroying one leaves the other intact. */
static void test_two_realms(void)
{
	struct th_env e;
	struct th_realm a, b;

	th_init(&e, NULL);
	th_realm(&e, &a);
	EXPECT_OK(th_build_realm(&e, &b, 33, 2, 8));
	EXPECT_OK(th_rtt_path(&e, &a, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &b, 0, 3));
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x12);
	uint64_t da[8], db[8];
	for (unsigned i = 0; i < 8; i++) {
		da[i] = th_dg(&e);
		db[i] = th_dg(&e);
		EXPECT_OK(th_data_create(&e, a.rd, da[i], i * G, src, RMI_MEASURE_CONTENT));
		EXPECT_OK(th_data_create(&e, b.rd, db[i], i * G, src, RMI_MEASURE_CONTENT));
		CHECK_INV(&e);
	}
	uint64_t ra, rb;
	EXPECT_OK(th_build_rec(&e, &a, &ra, 0, true, 0));
	EXPECT_OK(th_build_rec(&e, &b, &rb, 0, true, 0));
	EXPECT_OK(th_realm_activate(&e, a.rd));
	EXPECT_OK(th_realm_activate(&e, b.rd));
	uint64_t run = th_run_granule(&e);
	EXPECT_OK(th_rec_enter(&e, ra, run));
	EXPECT_OK(th_rec_enter(&e, rb, run));
	/* Commands on one realm with the other's objects fail. */
	EXPECT_RC(th_psci_complete(&e, ra, rb, PSCI_RETURN_SUCCESS), RMI_ERROR_INPUT);
	CHECK_INV(&e);
	th_teardown(&e, &a);
	CHECK_INV(&e);
	for (unsigned i = 0; i < 8; i++)
		EXPECT_ENTRY(&e, b.rd, i * G, 3, 3, RMI_ASSIGNED, db[i], RMI_RAM);
	EXPECT_OK(th_rec_enter(&e, rb, run));
	th_teardown(&e, &b);
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* A running realm: CPU_ON, a RIPAS change and an MMIO read, then teardown. */
static struct {
	unsigned step;
	uint64_t rec1_pc, x1_after_ripas, x5_after_mmio;
} rs;

static void realm_program(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	(void)rec_pa;
	if (rec->rec_idx == 1) {
		rs.rec1_pc = rec->pc;
		th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
		return;
	}
	switch (rs.step++) {
	case 0:   /* CPU_ON REC 1 at 0x8000 */
		th_realm_smc(e, exit, rec, TH_PSCI_CPU_ON_64, th_mpidr_el1(1), 0x8000, 0, 0);
		break;
	case 1:   /* RIPAS of [2 MiB, 2 MiB + 16 KiB) to RAM */
		th_realm_smc(e, exit, rec, TH_RSI_IPA_STATE_SET, TH_L2_SIZE, TH_L2_SIZE + 4 * G, RMI_RAM, 0);
		break;
	case 2:   /* the RIPAS result, then an MMIO read of the unprotected window into X5 */
		rs.x1_after_ripas = rec->regs[1];
		th_exit_data_abort(exit, rec, (1ULL << 39) + 0x40, true, false, 5, 2, false, true);
		break;
	default:
		rs.x5_after_mmio = rec->regs[5];
		th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
		break;
	}
}

static void test_running_realm(void)
{
	struct th_env e;
	struct th_realm r;
	struct th_rec_enter en;

	memset(&rs, 0, sizeof(rs));
	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &r, TH_L2_SIZE, 3));
	EXPECT_OK(th_init_ripas(&e, r.rd, 0, TH_L2_SIZE));
	uint64_t recs[2];
	EXPECT_OK(th_build_rec(&e, &r, &recs[0], 0, true, 0x1000));
	EXPECT_OK(th_build_rec(&e, &r, &recs[1], 1, false, 0));
	EXPECT_OK(th_realm_activate(&e, r.rd));
	th_vcpu_install(&e);
	e.on_run = realm_program;
	uint64_t run = th_run_granule(&e);
	memset(&en, 0, sizeof(en));

	th_write_rec_enter(&e, run, &en);
	EXPECT_OK(th_rec_enter(&e, recs[0], run));
	EXPECT_U64(th_run_get64(&e, run, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	EXPECT_OK(th_psci_complete(&e, recs[0], recs[1], PSCI_RETURN_SUCCESS));
	CHECK_INV(&e);
	EXPECT_OK(th_rec_enter(&e, recs[1], run));
	EXPECT_U64(rs.rec1_pc, 0x8000);

	EXPECT_OK(th_rec_enter(&e, recs[0], run));
	EXPECT_U64(th_run_get64(&e, run, RMI_REC_EXIT_REASON), RMI_EXIT_RIPAS_CHANGE);
	EXPECT_OK(th_set_ripas(&e, r.rd, recs[0], TH_L2_SIZE, TH_L2_SIZE + 4 * G));
	CHECK_INV(&e);
	EXPECT_OK(th_rec_enter(&e, recs[0], run));
	EXPECT_U64(rs.x1_after_ripas, TH_L2_SIZE + 4 * G);
	EXPECT_U64(th_run_get64(&e, run, RMI_REC_EXIT_REASON), RMI_EXIT_SYNC);
	en.flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
	en.gprs[0] = 0xCAFEF00D;
	th_write_rec_enter(&e, run, &en);
	EXPECT_OK(th_rec_enter(&e, recs[0], run));
	EXPECT_U64(rs.x5_after_mmio, 0xCAFEF00D);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "life cycles for 7 geometries (1..16 roots, start levels 0..2)", test_lifecycles },
	{ "RIM: same life cycle, same RIM", test_rim_deterministic },
	{ "two realms side by side", test_two_realms },
	{ "running realm: CPU_ON, RIPAS change, MMIO, teardown", test_running_realm },
};

int main(void)
{
	return th_run_suite("rmi_lifecycle", tests, sizeof(tests) / sizeof(tests[0]));
}

/*
 * Security properties observable at the SMC interface:
 *  - nothing a realm owned survives into the normal world (scrub on undelegate, on DATA_DESTROY,
 *    on RTT/REC/realm destruction);
 *  - a granule belongs to at most one realm and has one role;
 *  - a realm with live children cannot be destroyed;
 *  - the normal world cannot read or write realm (or secure/root) memory, and a refused access
 *    changes nothing on either side;
 *  - REC exits do not leak stale data into the run granule.
 */
#include <string.h>

#include "helpers/th.h"

#define UNPROT (1ULL << 39)

/* ---- scrubbing ---- */

/* Host pattern in every granule before delegation; after the realm is gone and everything is
 * undelegated, the host reads zeros everywhere. */
static void test_undelegate_scrubs_every_role(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	/* Pre-fill a region with a pattern; everything the realm uses comes from it. */
	uint64_t base = e.next;
	for (uint64_t a = base; a < base + (4ULL << 20); a += GRANULE_SIZE)
		th_fill(&e, a, (uint8_t)(0xA0 | ((a >> 12) & 0xF)));

	th_realm(&e, &r);                                   /* RD + roots */
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));               /* RTTs */
	EXPECT_OK(th_rtt_path(&e, &r, UNPROT, 3));
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0x1234));   /* REC + 16 REC_AUX */
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0xEE);
	uint64_t d1 = th_dg(&e), d2 = th_dg(&e), d3 = th_dg(&e);
	EXPECT_OK(th_data_create(&e, r.rd, d1, 0, src, RMI_MEASURE_CONTENT));       /* realm data */
	EXPECT_OK(th_data_create(&e, r.rd, d2, GRANULE_SIZE, src, RMI_NO_MEASURE_CONTENT));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d3, 2 * GRANULE_SIZE));
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT, 3, src | TH_NS_ATTRS));
	/* The realm "writes" secrets into every granule it owns (white box). */
	uint8_t secret[64];
	memset(secret, 0x5E, sizeof(secret));
	for (uint64_t a = base; a < e.next; a += GRANULE_SIZE) {
		struct rmmemu_granule_info info;
		CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, a, &info), RMMEMU_OK);
		if (info.state == RMMEMU_GRANULE_DATA)
			th_poke(&e, a + GRANULE_SIZE - sizeof(secret), secret, sizeof(secret));
	}
	EXPECT_OK(th_realm_activate(&e, r.rd));
	uint64_t run = th_run_granule(&e);
	th_fill(&e, run, 0);   /* an empty RmiRecEnter (the region was pre-filled) */
	EXPECT_OK(th_rec_enter(&e, rec, run));
	CHECK_INV(&e);
	uint64_t used_end = e.next;

	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	/* Every granule the realm used reads as zero; the host's own granules are intact. */
	unsigned zero = 0;
	for (uint64_t a = base; a < used_end; a += GRANULE_SIZE) {
		if (a == src || a == run || a == r.params)
			continue;
		bool z = th_is_zero(&e, a);
		if (z)
			zero++;
		else {
			/* Only never-delegated NS granules (params) may hold data. */
			struct rmmemu_granule_info info;
			rmmemu_granule_info(e.emu, a, &info);
			uint8_t b;
			rmmemu_ns_read(e.emu, a, &b, 1);
			CU_ASSERT(b != 0x5E);
		}
	}
	/* RD, 2 roots, 4 RTTs, REC + 16 aux, 3 DATA */
	if (zero < 1 + 2 + 4 + 17 + 3)
		fprintf(stderr, "only %u scrubbed granules\n", zero);
	CU_ASSERT(zero >= 1 + 2 + 4 + 17 + 3);
	EXPECT_U64(th_run_get64(&e, src, 0), 0xEEEEEEEEEEEEEEEEULL);
	th_fini(&e);
}

/* Each destroy command scrubs at once (the granule is zero while still DELEGATED). */
static void test_destroy_commands_scrub(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x77);
	uint64_t d = th_dg(&e);
	EXPECT_OK(th_data_create(&e, r.rd, d, 0, src, RMI_MEASURE_CONTENT));
	CU_ASSERT(!th_mem_is_zero(&e, d));
	EXPECT_OK(th_data_destroy(&e, r.rd, 0));
	CU_ASSERT(th_mem_is_zero(&e, d));
	/* A second realm given this granule as unknown data sees zeros. */
	struct th_realm r2;
	th_realm(&e, &r2);
	EXPECT_OK(th_rtt_path(&e, &r2, 0, 3));
	EXPECT_OK(th_data_create_unknown(&e, r2.rd, d, 0));
	CU_ASSERT(th_mem_is_zero(&e, d));

	/* RTT_DESTROY, RTT_FOLD, REC_DESTROY and REALM_DESTROY scrub their granules. */
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t l3 = e.res.x[3];
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 3));
	CU_ASSERT(th_mem_is_zero(&e, l3));
	EXPECT_OK(th_rtt_create(&e, r.rd, l3, TH_L2_SIZE, 3));
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L2_SIZE, TH_L2_SIZE + GRANULE_SIZE));
	CU_ASSERT(!th_mem_is_zero(&e, l3));
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L2_SIZE + GRANULE_SIZE, 2 * TH_L2_SIZE));
	EXPECT_OK(th_rtt_fold(&e, r.rd, TH_L2_SIZE, 3));
	CU_ASSERT(th_mem_is_zero(&e, l3));
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0xFFFF));
	rmm_pa_t aux[RMI_MAX_REC_AUX_GRANULES];
	memcpy(aux, th_rec(&e, rec)->aux, sizeof(aux));
	th_poke(&e, aux[3].val, "secret", 6);
	EXPECT_OK(th_rec_destroy(&e, rec));
	r.nrecs = 0;
	CU_ASSERT(th_mem_is_zero(&e, rec));
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		CU_ASSERT(th_mem_is_zero(&e, aux[i].val));
	th_teardown(&e, &r2);
	th_teardown(&e, &r);
	CU_ASSERT(th_mem_is_zero(&e, r.rd));
	CU_ASSERT(th_is_zero(&e, r.rd));
	CU_ASSERT(th_is_zero(&e, r.rtt_base));
	CU_ASSERT(th_is_zero(&e, r.rtt_base + GRANULE_SIZE));
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- one realm, one role ---- */

static void test_granule_exclusive(void)
{
	struct th_env e;
	struct th_realm a, b;

	th_init(&e, NULL);
	th_realm(&e, &a);
	th_realm(&e, &b);
	EXPECT_OK(th_rtt_path(&e, &a, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &b, 0, 3));
	uint64_t a_rec;
	EXPECT_OK(th_build_rec(&e, &a, &a_rec, 0, true, 0));
	uint64_t a_aux = th_rec(&e, a_rec)->aux[5].val;
	uint64_t a_data = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, a.rd, a_data, 0));
	EXPECT_OK(th_read_entry(&e, a.rd, 0, 2));
	uint64_t a_l3 = e.res.x[3];
	EXPECT_OK(th_read_entry(&e, a.rd, 0, 1));
	uint64_t a_l2 = e.res.x[3];
	const uint64_t owned[] = { a.rd, a.rtt_base, a.rtt_base + GRANULE_SIZE, a_l2, a_l3, a_rec, a_aux, a_data };
	struct rmmemu_granule_info before[8];
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, owned[i], &before[i]), RMMEMU_OK);

	uint64_t params = th_ns(&e);
	for (unsigned i = 0; i < 8; i++) {
		uint64_t g = owned[i];
		/* As B's DATA, RTT, REC, RD, root, aux. */
		EXPECT_RC(th_data_create_unknown(&e, b.rd, g, GRANULE_SIZE), RMI_ERROR_INPUT);
		EXPECT_RC(th_data_create(&e, b.rd, g, GRANULE_SIZE, params, RMI_NO_MEASURE_CONTENT), RMI_ERROR_INPUT);
		EXPECT_RC(th_rtt_create(&e, b.rd, g, TH_L2_SIZE, 3), RMI_ERROR_INPUT);
		/* ...and as A's own, in another role. */
		EXPECT_RC(th_data_create_unknown(&e, a.rd, g, GRANULE_SIZE), RMI_ERROR_INPUT);
		EXPECT_RC(th_rtt_create(&e, a.rd, g, TH_L2_SIZE, 3), RMI_ERROR_INPUT);
		struct th_rec_params rp;
		memset(&rp, 0, sizeof(rp));
		rp.mpidr = th_mpidr(0);
		rp.num_aux = RMI_MAX_REC_AUX_GRANULES;
		for (unsigned k = 0; k < RMI_MAX_REC_AUX_GRANULES; k++)
			rp.aux[k] = th_dg(&e);
		th_write_rec_params(&e, params, &rp);
		EXPECT_RC(th_rec_create(&e, b.rd, g, params), RMI_ERROR_INPUT);
		rp.aux[7] = g;
		uint64_t rec_g = th_dg(&e);
		th_write_rec_params(&e, params, &rp);
		EXPECT_RC(th_rec_create(&e, b.rd, rec_g, params), RMI_ERROR_INPUT);
		struct th_realm_params p;
		th_realm_params_init(&e, &p, 32, 1, 1, g);
		th_write_realm_params(&e, params, &p);
		EXPECT_RC(th_realm_create(&e, th_dg(&e), params), RMI_ERROR_INPUT);
		p.rtt_base = th_dg(&e);
		th_write_realm_params(&e, params, &p);
		EXPECT_RC(th_realm_create(&e, g, params), RMI_ERROR_INPUT);
		EXPECT_RC(th_delegate(&e, g), RMI_ERROR_INPUT);
		EXPECT_RC(th_undelegate(&e, g), RMI_ERROR_INPUT);
	}
	for (unsigned i = 0; i < 8; i++) {
		struct rmmemu_granule_info after;
		CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, owned[i], &after), RMMEMU_OK);
		CU_ASSERT_EQUAL(after.state, before[i].state);
		CU_ASSERT_EQUAL(after.refcount, before[i].refcount);
	}
	/* A's objects are not B's: B's commands on A's addresses fail. */
	EXPECT_RC(th_data_destroy(&e, b.rd, 0), RC_RTT(3));
	EXPECT_ENTRY(&e, a.rd, 0, 3, 3, RMI_ASSIGNED, a_data, RMI_EMPTY);
	EXPECT_RC(th_rtt_destroy(&e, b.rd, 0, 3), RMI_SUCCESS);   /* B's own empty L3 */
	EXPECT_ENTRY(&e, a.rd, 0, 2, 2, RMI_TABLE, a_l3, RMI_EMPTY);
	CHECK_INV(&e);
	th_teardown(&e, &a);
	th_teardown(&e, &b);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- live children ---- */

static void test_destroy_with_children(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t d = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d, 0));
	EXPECT_OK(th_realm_activate(&e, r.rd));

	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);        /* REC, RTTs, DATA */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 2), RC_RTT(2));          /* L2 has L3 */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 3), RC_RTT(3));          /* L3 has DATA */
	EXPECT_OK(th_rec_destroy(&e, rec));
	r.nrecs = 0;
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);        /* RTTs, DATA */
	EXPECT_OK(th_data_destroy(&e, r.rd, 0));
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);        /* RTTs */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 2), RC_RTT(2));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 3));
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 2));
	/* The realm was untouched by every refused destroy. */
	EXPECT_STATE(&e, r.rd, RMMEMU_GRANULE_RD);
	CU_ASSERT_EQUAL(th_rd(&e, r.rd)->state, REALM_ACTIVE);
	CHECK_INV(&e);
	EXPECT_OK(th_realm_destroy(&e, r.rd));
	th_undelegate_all(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- the normal world's view of memory ---- */

static void test_ns_access_gpf(void)
{
	struct th_env e;
	struct th_realm r;
	uint8_t buf[3 * GRANULE_SIZE], img[GRANULE_SIZE], img2[GRANULE_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x21);
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_data_create(&e, r.rd, data, 0, src, RMI_MEASURE_CONTENT));
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t l3 = e.res.x[3];
	uint64_t delegated = th_dg(&e);
	const uint64_t realm_pas[] = { delegated, r.rd, r.rtt_base, l3, rec, th_rec(&e, rec)->aux[0].val, data };

	for (unsigned i = 0; i < sizeof(realm_pas) / sizeof(realm_pas[0]); i++) {
		uint64_t g = realm_pas[i];
		th_peek(&e, g, img, sizeof(img));
		/* Reads: GPF, buffer untouched, for any offset and length. */
		const struct { uint64_t off; size_t len; } acc[] = { { 0, 1 }, { 0, 8 }, { 0x7F8, 16 },
								     { 0, GRANULE_SIZE }, { 0xFFF, 1 } };
		for (unsigned k = 0; k < 5; k++) {
			memset(buf, 0xCD, sizeof(buf));
			CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, g + acc[k].off, buf, acc[k].len), RMMEMU_E_GPF);
			for (size_t j = 0; j < sizeof(buf); j++)
				if (buf[j] != 0xCD) {
					CU_FAIL("rmmemu_ns_read wrote into the buffer on GPF");
					break;
				}
			memset(buf, 0x99, sizeof(buf));
			CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, g + acc[k].off, buf, acc[k].len), RMMEMU_E_GPF);
		}
		uint64_t v = 0x1111;
		CU_ASSERT_EQUAL(rmmemu_ns_read64(e.emu, g + 8, &v), RMMEMU_E_GPF);
		CU_ASSERT_EQUAL(v, 0x1111);
		CU_ASSERT_EQUAL(rmmemu_ns_write64(e.emu, g + 8, 0xBAD), RMMEMU_E_GPF);
		/* Accesses that start or end in an NS neighbour fail as a whole. */
		uint64_t before = g - GRANULE_SIZE;
		struct rmmemu_granule_info info;
		rmmemu_granule_info(e.emu, before, &info);
		if (info.pas == RMMEMU_PAS_NONSECURE) {
			uint8_t nb[GRANULE_SIZE];
			CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, before, nb, sizeof(nb)), RMMEMU_OK);
			memset(buf, 0xCD, sizeof(buf));
			CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, before + 0x800, buf, 0x1000), RMMEMU_E_GPF);
			CU_ASSERT_EQUAL(buf[0], 0xCD);
			memset(buf, 0x99, sizeof(buf));
			CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, before + 0x800, buf, 0x1000), RMMEMU_E_GPF);
			uint8_t nb2[GRANULE_SIZE];
			CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, before, nb2, sizeof(nb2)), RMMEMU_OK);
			CU_ASSERT(memcmp(nb, nb2, sizeof(nb)) == 0);   /* the NS part was not written */
		}
		th_peek(&e, g, img2, sizeof(img2));
		CU_ASSERT(memcmp(img, img2, sizeof(img)) == 0);   /* the realm granule was not written */
	}
	/* Secure and root PAS behave the same. */
	const uint64_t other[] = { TH_SECURE_BASE, TH_ROOT_BASE, TH_ROOT_BASE + TH_ROOT_SIZE - GRANULE_SIZE };
	for (unsigned i = 0; i < 3; i++) {
		memset(buf, 0xCD, sizeof(buf));
		CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, other[i], buf, 8), RMMEMU_E_GPF);
		CU_ASSERT_EQUAL(buf[0], 0xCD);
		CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, other[i], buf, 8), RMMEMU_E_GPF);
		CU_ASSERT(th_mem_is_zero(&e, other[i]));
	}
	/* Not memory at all. */
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, TH_DEVICE_BASE, buf, 8), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, TH_HOLE, buf, 8), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, TH_DRAM_BASE - 4, buf, 8), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, ~0ULL - 3, buf, 8), RMMEMU_E_INVAL);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, src, buf, 0), RMMEMU_OK);
	/* After undelegation the host sees zeros where the realm's data was. */
	CHECK_INV(&e);
	th_teardown(&e, &r);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, data, buf, GRANULE_SIZE), RMMEMU_OK);
	for (unsigned j = 0; j < GRANULE_SIZE; j++)
		if (buf[j]) {
			CU_FAIL("data granule not scrubbed");
			break;
		}
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* A REC exit rewrites the whole RmiRecExit: nothing stale, nothing from the RMM. */
static void test_rec_exit_no_leak(void)
{
	struct th_env e;
	struct th_realm r;
	uint8_t page[GRANULE_SIZE];

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	EXPECT_OK(th_realm_activate(&e, r.rd));
	uint64_t run = th_run_granule(&e);
	memset(page, 0xAA, sizeof(page));
	memset(page, 0, RMI_REC_ENTER_SIZE);   /* a valid, empty RmiRecEnter */
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, run, page, sizeof(page)), RMMEMU_OK);
	EXPECT_OK(th_rec_enter(&e, rec, run));
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, run, page, sizeof(page)), RMMEMU_OK);
	unsigned stale = 0, nonzero = 0;
	for (unsigned i = RMI_REC_EXIT_BASE; i < GRANULE_SIZE; i++) {
		stale += page[i] == 0xAA;
		nonzero += page[i] != 0;
	}
	CU_ASSERT_EQUAL(stale, 0);
	CU_ASSERT_EQUAL(page[RMI_REC_EXIT_REASON], RMI_EXIT_IRQ);
	CU_ASSERT(nonzero <= 16);   /* exit reason and the echoed ICH_HCR/LR state only */
	th_teardown(&e, &r);
	th_fini(&e);
}

/* The run granule delegated while the REC runs: the exit cannot be written, the call fails,
 * and the REC is released. */
static void run_steal(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit)
{
	(void)rec;
	(void)rec_pa;
	uint64_t run = *(uint64_t *)e->user;
	th_call_locked(e, SMC_RMI_GRANULE_DELEGATE, run, 0, 0, 0, 0, NULL);
	th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

static void test_run_granule_taken_during_run(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	EXPECT_OK(th_realm_activate(&e, r.rd));
	uint64_t run = th_run_granule(&e);
	th_vcpu_install(&e);
	e.user = &run;
	e.on_run = run_steal;
	EXPECT_RC(th_rec_enter(&e, rec, run), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, run, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, run));
	CU_ASSERT_EQUAL(th_meta(&e, rec)->refcount, 0);
	e.on_run = NULL;
	EXPECT_OK(th_undelegate(&e, run));
	EXPECT_OK(th_rec_enter(&e, rec, run));
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* Every command that removes or changes a valid stage-2 mapping drops the translations of the
 * whole range it affected, so a running realm cannot keep using them. */
static void test_stale_translations(void)
{
	struct th_env e;
	struct th_realm r;
	const uint64_t attrs = TH_NS_ATTRS;

	th_init(&e, NULL);
	th_realm(&e, &r);
	th_vcpu_install(&e);
	uint64_t src = th_ns(&e);

	/* DATA_DESTROY of RAM. */
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t d = th_dg(&e);
	EXPECT_OK(th_data_create(&e, r.rd, d, 5 * GRANULE_SIZE, src, RMI_MEASURE_CONTENT));
	th_inval_clear(&e);
	EXPECT_OK(th_data_destroy(&e, r.rd, 5 * GRANULE_SIZE));
	CU_ASSERT(th_invalidated(&e, 5 * GRANULE_SIZE, GRANULE_SIZE));

	/* RTT_UNMAP_UNPROTECTED at levels 3, 2, 1. */
	uint64_t u = UNPROT + TH_L1_SIZE;
	EXPECT_OK(th_rtt_path(&e, &r, u, 3));
	EXPECT_OK(th_map_unprot(&e, r.rd, u + 3 * GRANULE_SIZE, 3, src | attrs));
	th_inval_clear(&e);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, u + 3 * GRANULE_SIZE, 3));
	CU_ASSERT(th_invalidated(&e, u + 3 * GRANULE_SIZE, GRANULE_SIZE));
	EXPECT_OK(th_map_unprot(&e, r.rd, u + 4 * TH_L2_SIZE, 2, TH_L2_SIZE | attrs));
	th_inval_clear(&e);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, u + 4 * TH_L2_SIZE, 2));
	CU_ASSERT(th_invalidated(&e, u + 4 * TH_L2_SIZE, TH_L2_SIZE));
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 9 * TH_L1_SIZE, 1, TH_L1_SIZE | attrs));
	th_inval_clear(&e);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, UNPROT + 9 * TH_L1_SIZE, 1));
	CU_ASSERT(th_invalidated(&e, UNPROT + 9 * TH_L1_SIZE, TH_L1_SIZE));

	/* RTT_DESTROY of an unprotected RTT with live NS pages: the whole range. */
	for (unsigned i = 0; i < 4; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, u + i * 100 * GRANULE_SIZE, 3, src | attrs));
	th_inval_clear(&e);
	EXPECT_OK(th_rtt_destroy(&e, r.rd, u, 3));
	CU_ASSERT(th_invalidated(&e, u, TH_L2_SIZE));

	/* RTT_FOLD of pages into a block, and RTT_CREATE unfolding a valid block. */
	uint64_t blk = th_dg_n(&e, 512, TH_L2_SIZE);
	EXPECT_OK(th_rtt_path(&e, &r, TH_L2_SIZE, 3));
	EXPECT_OK(th_init_ripas(&e, r.rd, TH_L2_SIZE, 2 * TH_L2_SIZE));
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_data_create_unknown(&e, r.rd, blk + i * GRANULE_SIZE, TH_L2_SIZE + i * GRANULE_SIZE));
	th_inval_clear(&e);
	EXPECT_OK(th_rtt_fold(&e, r.rd, TH_L2_SIZE, 3));
	CU_ASSERT(th_invalidated(&e, TH_L2_SIZE, TH_L2_SIZE));
	th_inval_clear(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, th_dg(&e), TH_L2_SIZE, 3));
	CU_ASSERT(th_invalidated(&e, TH_L2_SIZE, TH_L2_SIZE));

	/* (RTT_SET_RIPAS RAM -> EMPTY: see test_rmi_ripas.) */
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "undelegate after use in every role: host reads zeros", test_undelegate_scrubs_every_role },
	{ "DATA/RTT/REC/REALM destroy and RTT_FOLD scrub at once", test_destroy_commands_scrub },
	{ "a granule is in one realm with one role", test_granule_exclusive },
	{ "a realm with live RECs, RTTs or DATA cannot be destroyed", test_destroy_with_children },
	{ "NS access to realm/secure/root PAS: GPF, nothing changed", test_ns_access_gpf },
	{ "REC exit rewrites the whole RmiRecExit", test_rec_exit_no_leak },
	{ "run granule delegated during the run", test_run_granule_taken_during_run },
	{ "removed mappings are invalidated over their whole range", test_stale_translations },
};

int main(void)
{
	return th_run_suite("rmi_security", tests, sizeof(tests) / sizeof(tests[0]));
}

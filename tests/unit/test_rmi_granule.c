/*
 * RMI_VERSION, RMI_FEATURES, unknown function IDs, RMI_GRANULE_DELEGATE / UNDELEGATE, including
 * the platform-dependent cases (device, hole, unaligned, secure and root PAS).
 */
#include <string.h>

#include "helpers/th.h"

/* ---- RMI_VERSION ---- */

static void test_version(void)
{
	struct th_env e;
	static const uint64_t bad[] = { 0, 1, 0x10001, 0x20000, 0x00010000ULL | (1ULL << 32), ~0ULL };

	th_init(&e, NULL);
	EXPECT_OK(th_call(&e, SMC_RMI_VERSION, RMI_ABI_VERSION, 0, 0, 0, 0));
	EXPECT_U64(e.res.x[1], RMI_ABI_VERSION);   /* lower */
	EXPECT_U64(e.res.x[2], RMI_ABI_VERSION);   /* higher */
	EXPECT_U64(RMI_ABI_VERSION, 0x10000);
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_RC(th_call(&e, SMC_RMI_VERSION, bad[i], 0, 0, 0, 0), RMI_ERROR_INPUT);
		/* The supported range is reported on failure too. */
		EXPECT_U64(e.res.x[1], RMI_ABI_VERSION);
		EXPECT_U64(e.res.x[2], RMI_ABI_VERSION);
	}
	th_fini(&e);
}

/* ---- RMI_FEATURES ---- */

static uint64_t field(uint64_t reg, unsigned shift, unsigned width)
{
	return (reg >> shift) & ((1ULL << width) - 1);
}

static void check_feat0(const struct rmmemu_platform_config *cfg)
{
	struct th_env e;

	th_init(&e, cfg);
	EXPECT_OK(th_call(&e, SMC_RMI_FEATURES, 0, 0, 0, 0, 0));
	uint64_t f = e.res.x[1];
	EXPECT_U64(field(f, RMI_FEAT0_S2SZ_SHIFT, RMI_FEAT0_S2SZ_WIDTH), cfg->pa_bits);
	EXPECT_U64(field(f, RMI_FEAT0_LPA2_SHIFT, 1), 0);
	EXPECT_U64(field(f, RMI_FEAT0_SVE_EN_SHIFT, 1), cfg->sve);
	EXPECT_U64(field(f, RMI_FEAT0_SVE_VL_SHIFT, RMI_FEAT0_SVE_VL_WIDTH), cfg->sve ? cfg->sve_vl : 0);
	EXPECT_U64(field(f, RMI_FEAT0_NUM_BPS_SHIFT, RMI_FEAT0_NUM_BPS_WIDTH), cfg->num_bps);
	EXPECT_U64(field(f, RMI_FEAT0_NUM_WPS_SHIFT, RMI_FEAT0_NUM_WPS_WIDTH), cfg->num_wps);
	EXPECT_U64(field(f, RMI_FEAT0_PMU_EN_SHIFT, 1), cfg->pmu);
	EXPECT_U64(field(f, RMI_FEAT0_PMU_NUM_CTRS_SHIFT, RMI_FEAT0_PMU_NUM_CTRS_WIDTH),
		   cfg->pmu ? cfg->pmu_num_ctrs : 0);
	EXPECT_U64(field(f, RMI_FEAT0_HASH_SHA_256_SHIFT, 1), 1);
	EXPECT_U64(field(f, RMI_FEAT0_HASH_SHA_512_SHIFT, 1), 1);
	EXPECT_U64(field(f, RMI_FEAT0_GICV3_NUM_LRS_SHIFT, RMI_FEAT0_GICV3_NUM_LRS_WIDTH), cfg->gicv3_num_lrs);
	EXPECT_U64(field(f, RMI_FEAT0_MAX_RECS_ORDER_SHIFT, RMI_FEAT0_MAX_RECS_ORDER_WIDTH), 10);
	/* Bits above MAX_RECS_ORDER are reserved. */
	EXPECT_U64(f >> (RMI_FEAT0_MAX_RECS_ORDER_SHIFT + RMI_FEAT0_MAX_RECS_ORDER_WIDTH), 0);

	/* Every other index reads as zero, with success. */
	static const uint64_t idx[] = { 1, 2, 0xFF, 1ULL << 32, ~0ULL };
	for (unsigned i = 0; i < sizeof(idx) / sizeof(idx[0]); i++) {
		EXPECT_OK(th_call(&e, SMC_RMI_FEATURES, idx[i], 0, 0, 0, 0));
		EXPECT_U64(e.res.x[1], 0);
	}
	th_fini(&e);
}

static void test_features(void)
{
	struct rmmemu_platform_config cfg;

	th_platform_small(&cfg);
	check_feat0(&cfg);

	th_platform_small(&cfg);
	cfg.pa_bits = 40;
	cfg.sve = true;
	cfg.sve_vl = 3;
	cfg.pmu = false;
	cfg.num_bps = 15;
	cfg.num_wps = 1;
	cfg.gicv3_num_lrs = 3;
	check_feat0(&cfg);

	th_platform_small(&cfg);
	cfg.pmu_num_ctrs = 31;
	cfg.num_bps = 63;
	cfg.num_wps = 63;
	cfg.sve = true;
	cfg.sve_vl = 15;
	cfg.gicv3_num_lrs = 0;
	check_feat0(&cfg);
}

/* ---- unknown function IDs ---- */

static void test_unknown_fids(void)
{
	struct th_env e;
	static const uint64_t fids[] = {
		RMI_FID(0x06), RMI_FID(0x10), RMI_FID(0x13), RMI_FID(0x1A), RMI_FID(0x1F), RMI_FID(0x20),
		RMI_FID(0x3F), 0xC400014FULL,            /* just below the RMI range */
		0x84000150ULL,                           /* SMC32 RMI_VERSION */
		0x84000151ULL,                           /* SMC32 GRANULE_DELEGATE */
		0xC4000190ULL,                           /* RSI_VERSION is not a host call */
		0x84000000ULL,                           /* PSCI_VERSION */
		0x80000000ULL,                           /* SMCCC_VERSION */
		0xC5000150ULL,                           /* wrong owning entity */
		0x44000150ULL,                           /* yielding call */
		0, ~0ULL,
	};

	th_init(&e, NULL);
	uint64_t pa = th_ns(&e);
	for (unsigned i = 0; i < sizeof(fids) / sizeof(fids[0]); i++) {
		/* Arguments that would be valid for GRANULE_DELEGATE must not be acted upon. */
		EXPECT_RC(th_call(&e, fids[i], pa, 0, 0, 0, 0), SMCCC_NOT_SUPPORTED);
		EXPECT_STATE(&e, pa, RMMEMU_GRANULE_UNDELEGATED);
	}
	CHECK_INV(&e);
	th_fini(&e);
}

/* The FID is W0 (SMCCC): bits 63:32 of X0 are not part of it, and bit 16 is the SMCCC 1.3 SVE
 * hint, which the RMM accepts and ignores (TF-RMM handle_ns_smc). */
static void test_fid_w0_and_sve_hint(void)
{
	struct th_env e;

	th_init(&e, NULL);
	EXPECT_OK(th_call(&e, SMC_RMI_VERSION | (1ULL << 16), RMI_ABI_VERSION, 0, 0, 0, 0));
	EXPECT_U64(e.res.x[1], RMI_ABI_VERSION);
	EXPECT_OK(th_call(&e, SMC_RMI_VERSION | (0xFFFFFFFFULL << 32), RMI_ABI_VERSION, 0, 0, 0, 0));
	uint64_t pa = th_ns(&e);
	EXPECT_OK(th_call(&e, SMC_RMI_GRANULE_DELEGATE | (1ULL << 16), pa, 0, 0, 0, 0));
	EXPECT_STATE(&e, pa, RMMEMU_GRANULE_DELEGATED);
	EXPECT_OK(th_call(&e, SMC_RMI_GRANULE_UNDELEGATE | (1ULL << 40), pa, 0, 0, 0, 0));
	EXPECT_STATE(&e, pa, RMMEMU_GRANULE_UNDELEGATED);
	/* Other bits of 23:16 remain part of an unknown FID. */
	EXPECT_RC(th_call(&e, SMC_RMI_VERSION | (1ULL << 17), RMI_ABI_VERSION, 0, 0, 0, 0), SMCCC_NOT_SUPPORTED);
	EXPECT_RC(th_call(&e, RMI_FID(0x06) | (1ULL << 16), 0, 0, 0, 0, 0), SMCCC_NOT_SUPPORTED);
	th_fini(&e);
}

/* Names, decoding, and tracing (which must not change any result). */
static void test_names_and_trace(void)
{
	static const struct { uint64_t fid; const char *name; unsigned nargs, nres; } cmds[] = {
		{ SMC_RMI_VERSION, "RMI_VERSION", 1, 2 },
		{ SMC_RMI_GRANULE_DELEGATE, "RMI_GRANULE_DELEGATE", 1, 0 },
		{ SMC_RMI_GRANULE_UNDELEGATE, "RMI_GRANULE_UNDELEGATE", 1, 0 },
		{ SMC_RMI_DATA_CREATE, "RMI_DATA_CREATE", 5, 0 },
		{ SMC_RMI_DATA_CREATE_UNKNOWN, "RMI_DATA_CREATE_UNKNOWN", 3, 0 },
		{ SMC_RMI_DATA_DESTROY, "RMI_DATA_DESTROY", 2, 2 },
		{ SMC_RMI_REALM_ACTIVATE, "RMI_REALM_ACTIVATE", 1, 0 },
		{ SMC_RMI_REALM_CREATE, "RMI_REALM_CREATE", 2, 0 },
		{ SMC_RMI_REALM_DESTROY, "RMI_REALM_DESTROY", 1, 0 },
		{ SMC_RMI_REC_CREATE, "RMI_REC_CREATE", 3, 0 },
		{ SMC_RMI_REC_DESTROY, "RMI_REC_DESTROY", 1, 0 },
		{ SMC_RMI_REC_ENTER, "RMI_REC_ENTER", 2, 0 },
		{ SMC_RMI_RTT_CREATE, "RMI_RTT_CREATE", 4, 0 },
		{ SMC_RMI_RTT_DESTROY, "RMI_RTT_DESTROY", 3, 2 },
		{ SMC_RMI_RTT_MAP_UNPROTECTED, "RMI_RTT_MAP_UNPROTECTED", 4, 0 },
		{ SMC_RMI_RTT_READ_ENTRY, "RMI_RTT_READ_ENTRY", 3, 4 },
		{ SMC_RMI_RTT_UNMAP_UNPROTECTED, "RMI_RTT_UNMAP_UNPROTECTED", 3, 1 },
		{ SMC_RMI_PSCI_COMPLETE, "RMI_PSCI_COMPLETE", 3, 0 },
		{ SMC_RMI_FEATURES, "RMI_FEATURES", 1, 1 },
		{ SMC_RMI_RTT_FOLD, "RMI_RTT_FOLD", 3, 1 },
		{ SMC_RMI_REC_AUX_COUNT, "RMI_REC_AUX_COUNT", 1, 1 },
		{ SMC_RMI_RTT_INIT_RIPAS, "RMI_RTT_INIT_RIPAS", 3, 1 },
		{ SMC_RMI_RTT_SET_RIPAS, "RMI_RTT_SET_RIPAS", 4, 1 },
	};
	for (unsigned i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		const char *n = rmmemu_rmi_name(cmds[i].fid);
		CU_ASSERT_PTR_NOT_NULL_FATAL(n);
		CU_ASSERT_STRING_EQUAL(n, cmds[i].name);
		EXPECT_U64(rmmemu_rmi_fid(cmds[i].name), cmds[i].fid);
		EXPECT_U64(rmmemu_rmi_fid(cmds[i].name + 4), cmds[i].fid);   /* without "RMI_" */
		EXPECT_U64(rmmemu_rmi_nargs(cmds[i].fid), cmds[i].nargs);
		EXPECT_U64(rmmemu_rmi_nresults(cmds[i].fid), cmds[i].nres);
	}
	EXPECT_U64(rmmemu_rmi_fid("smc_rmi_rtt_fold"), SMC_RMI_RTT_FOLD);
	EXPECT_U64(rmmemu_rmi_fid("Rtt_Read_Entry"), SMC_RMI_RTT_READ_ENTRY);
	EXPECT_U64(rmmemu_rmi_fid("RMI_NOPE"), 0);
	CU_ASSERT_PTR_NULL(rmmemu_rmi_name(RMI_FID(0x06)));
	CU_ASSERT_PTR_NULL(rmmemu_rmi_name(0x84000150ULL));

	char buf[64];
	rmmemu_format_return(RMI_SUCCESS, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "RMI_SUCCESS");
	rmmemu_format_return(RC_RTT(2), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "RMI_ERROR_RTT(level 2)");
	rmmemu_format_return(RC_RTT(0), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "RMI_ERROR_RTT(level 0)");
	rmmemu_format_return(RC_REALM(1), buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "RMI_ERROR_REALM(index 1)");
	rmmemu_format_return(RMI_ERROR_REC, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "RMI_ERROR_REC");
	rmmemu_format_return(SMCCC_NOT_SUPPORTED, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "SMCCC_NOT_SUPPORTED");
	CU_ASSERT_STRING_EQUAL(rmmemu_rmi_status_name(RMI_ERROR_INPUT), "RMI_ERROR_INPUT");

	/* Tracing everything changes no result. */
	struct th_env e;
	th_init(&e, NULL);
	FILE *f = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	rmmemu_set_trace(e.emu, f, RMMEMU_TRACE_RMI | RMMEMU_TRACE_STATE);
	uint64_t pa = th_ns(&e);
	EXPECT_OK(th_delegate(&e, pa));
	EXPECT_RC(th_delegate(&e, pa), RMI_ERROR_INPUT);
	EXPECT_RC(th_call(&e, RMI_FID(0x06), 0, 0, 0, 0, 0), SMCCC_NOT_SUPPORTED);
	EXPECT_OK(th_call(&e, SMC_RMI_GRANULE_UNDELEGATE | (1ULL << 16), pa, 0, 0, 0, 0));
	struct th_realm r;
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 2), RC_RTT(2));
	th_teardown(&e, &r);
	rmmemu_set_trace(e.emu, NULL, 0);
	long size = ftell(f);
	CU_ASSERT(size > 200);
	rewind(f);
	char line[512];
	bool saw_delegate = false, saw_state = false, saw_unknown = false;
	while (fgets(line, sizeof(line), f)) {
		saw_delegate |= strstr(line, "RMI_GRANULE_DELEGATE") != NULL;
		saw_state |= strstr(line, "DELEGATED") != NULL && strstr(line, "->") != NULL;
		saw_unknown |= strstr(line, "SMCCC_NOT_SUPPORTED") != NULL;
	}
	CU_ASSERT(saw_delegate);
	CU_ASSERT(saw_state);
	CU_ASSERT(saw_unknown);
	fclose(f);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- GRANULE_DELEGATE ---- */

static void test_delegate_success(void)
{
	struct th_env e;
	struct rmmemu_granule_info info;
	uint8_t buf[64];

	th_init(&e, NULL);
	uint64_t pa = th_ns(&e);
	th_fill(&e, pa, 0x5A);
	EXPECT_OK(th_delegate(&e, pa));
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, pa, &info), RMMEMU_OK);
	CU_ASSERT_EQUAL(info.state, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT_EQUAL(info.pas, RMMEMU_PAS_REALM);
	CU_ASSERT_EQUAL(info.refcount, 0);
	/* The host cannot see it any more. */
	memset(buf, 0x77, sizeof(buf));
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, pa, buf, sizeof(buf)), RMMEMU_E_GPF);
	for (unsigned i = 0; i < sizeof(buf); i++)
		CU_ASSERT_EQUAL(buf[i], 0x77);
	CHECK_INV(&e);   /* includes: DELEGATED granules are zero */

	/* First and last granule of DRAM (below the secure range) too. */
	EXPECT_OK(th_delegate(&e, TH_DRAM_BASE + TH_DRAM_SIZE - (4ULL << 20) - GRANULE_SIZE));
	EXPECT_OK(th_undelegate(&e, TH_DRAM_BASE + TH_DRAM_SIZE - (4ULL << 20) - GRANULE_SIZE));

	EXPECT_OK(th_undelegate(&e, pa));
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, pa, &info), RMMEMU_OK);
	CU_ASSERT_EQUAL(info.state, RMMEMU_GRANULE_UNDELEGATED);
	CU_ASSERT_EQUAL(info.pas, RMMEMU_PAS_NONSECURE);
	CU_ASSERT(th_is_zero(&e, pa));   /* the host's pattern is gone */

	/* Delegate again: the cycle can repeat. */
	EXPECT_OK(th_delegate(&e, pa));
	EXPECT_OK(th_undelegate(&e, pa));
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static void test_delegate_failures(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	uint64_t pa = th_ns(&e);
	const uint64_t bad[] = {
		pa + 1, pa + 8, pa + 0x800, pa + 0xFFF,   /* unaligned */
		TH_DEVICE_BASE, 0,                        /* device */
		TH_HOLE, 0x40000000ULL, TH_DRAM_BASE - GRANULE_SIZE, /* holes */
		TH_BEYOND_DRAM, 1ULL << 47, (1ULL << 48) - GRANULE_SIZE, 1ULL << 52, 1ULL << 63,
		~0ULL & ~GRANULE_MASK, ~0ULL,
		TH_SECURE_BASE, TH_SECURE_BASE + TH_SECURE_SIZE - GRANULE_SIZE,   /* secure PAS */
		TH_ROOT_BASE, TH_ROOT_BASE + TH_ROOT_SIZE - GRANULE_SIZE,         /* root PAS */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_delegate(&e, bad[i]), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, TH_SECURE_BASE, RMMEMU_GRANULE_UNDELEGATED);
	EXPECT_STATE(&e, TH_ROOT_BASE, RMMEMU_GRANULE_UNDELEGATED);
	struct rmmemu_granule_info info;
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, TH_SECURE_BASE, &info), RMMEMU_OK);
	CU_ASSERT_EQUAL(info.pas, RMMEMU_PAS_SECURE);
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, TH_ROOT_BASE, &info), RMMEMU_OK);
	CU_ASSERT_EQUAL(info.pas, RMMEMU_PAS_ROOT);

	/* Already delegated. */
	EXPECT_OK(th_delegate(&e, pa));
	EXPECT_RC(th_delegate(&e, pa), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, pa, RMMEMU_GRANULE_DELEGATED);

	/* Granules in use by a realm: RD, RTT, REC, REC_AUX, DATA. */
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	struct rec *rp = th_rec(&e, rec);
	uint64_t aux0 = rp->aux[0].val;
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 0));
	const uint64_t used[] = { r.rd, r.rtt_base, r.rtt_base + GRANULE_SIZE, rec, aux0, data };
	const enum rmmemu_granule_state st[] = { RMMEMU_GRANULE_RD, RMMEMU_GRANULE_RTT, RMMEMU_GRANULE_RTT,
						 RMMEMU_GRANULE_REC, RMMEMU_GRANULE_REC_AUX,
						 RMMEMU_GRANULE_DATA };
	for (unsigned i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		EXPECT_RC(th_delegate(&e, used[i]), RMI_ERROR_INPUT);
		EXPECT_STATE(&e, used[i], st[i]);
	}
	CHECK_INV(&e);
	th_teardown(&e, &r);
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- GRANULE_UNDELEGATE ---- */

static void test_undelegate_failures(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	uint64_t pa = th_dg(&e);
	uint64_t ns = th_ns(&e);
	const uint64_t bad[] = {
		ns,                                       /* not delegated */
		pa + 1, pa + 0x10, pa + 0xFFF,            /* unaligned (of a delegated granule) */
		TH_DEVICE_BASE, TH_HOLE, TH_BEYOND_DRAM, ~0ULL & ~GRANULE_MASK,
		TH_SECURE_BASE, TH_ROOT_BASE,             /* never delegated */
	};
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_RC(th_undelegate(&e, bad[i]), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, pa, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, ns, RMMEMU_GRANULE_UNDELEGATED);

	/* In-use granules cannot be undelegated. */
	th_realm(&e, &r);
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, true, 0));
	uint64_t aux0 = th_rec(&e, rec)->aux[0].val;
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t l3 = e.res.x[3];
	uint64_t data = th_dg(&e);
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x33);
	EXPECT_OK(th_data_create(&e, r.rd, data, 0, src, RMI_MEASURE_CONTENT));
	const uint64_t used[] = { r.rd, r.rtt_base, r.rtt_base + GRANULE_SIZE, l3, rec, aux0, data };
	for (unsigned i = 0; i < sizeof(used) / sizeof(used[0]); i++) {
		struct rmmemu_granule_info before, after;
		CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, used[i], &before), RMMEMU_OK);
		EXPECT_RC(th_undelegate(&e, used[i]), RMI_ERROR_INPUT);
		CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, used[i], &after), RMMEMU_OK);
		CU_ASSERT_EQUAL(before.state, after.state);
		CU_ASSERT_EQUAL(after.pas, RMMEMU_PAS_REALM);
	}
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	CHECK_INV(&e);
	th_fini(&e);
}

/* Delegating a whole range and undelegating it in the other order leaves nothing behind. */
static void test_delegate_many(void)
{
	struct th_env e;

	th_init(&e, NULL);
	uint64_t base = th_ns_n(&e, 256, GRANULE_SIZE);
	for (unsigned i = 0; i < 256; i++) {
		th_fill(&e, base + i * GRANULE_SIZE, (uint8_t)(i | 1));
		EXPECT_OK(th_delegate(&e, base + i * GRANULE_SIZE));
	}
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(e.emu, counts);
	EXPECT_U64(counts[RMMEMU_GRANULE_DELEGATED], 256);
	CHECK_INV(&e);
	for (unsigned i = 256; i-- > 0;)
		EXPECT_OK(th_undelegate(&e, base + i * GRANULE_SIZE));
	for (unsigned i = 0; i < 256; i++)
		CU_ASSERT(th_is_zero(&e, base + i * GRANULE_SIZE));
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "RMI_VERSION: 1.0 accepted, others INPUT, range reported", test_version },
	{ "RMI_FEATURES: register 0 per platform, other indexes zero", test_features },
	{ "unknown FIDs return SMCCC_NOT_SUPPORTED and change nothing", test_unknown_fids },
	{ "FID taken from W0, SVE hint bit ignored", test_fid_w0_and_sve_hint },
	{ "command names, return code decoding, tracing", test_names_and_trace },
	{ "GRANULE_DELEGATE/UNDELEGATE success, PAS and scrub", test_delegate_success },
	{ "GRANULE_DELEGATE failures (alignment, device, hole, secure, root, states)", test_delegate_failures },
	{ "GRANULE_UNDELEGATE failures (states, alignment, in-use granules)", test_undelegate_failures },
	{ "delegate/undelegate 256 granules", test_delegate_many },
};

int main(void)
{
	return th_run_suite("rmi_granule", tests, sizeof(tests) / sizeof(tests[0]));
}

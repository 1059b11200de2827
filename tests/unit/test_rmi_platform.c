/*
 * Platform-dependent behaviour: a 52-bit PA platform with DRAM on both sides of 2^48 (RTT and
 * DATA granules must be below 2^48 without LPA2), platform configuration errors, normal-world
 * access at the platform's edges.
 */
#include <string.h>

#include "helpers/th.h"

#define P48 (1ULL << 48)

static void test_pa52_rtt_and_data_width(void)
{
	struct rmmemu_platform_config cfg;
	struct th_env e;
	struct th_realm r;

	th_platform_pa52(&cfg);
	th_init(&e, &cfg);
	EXPECT_OK(th_call(&e, SMC_RMI_FEATURES, 0, 0, 0, 0, 0));
	EXPECT_U64(e.res.x[1] & 0xFF, 52);

	/* Granules on both sides of 2^48 can be delegated. */
	const uint64_t lo = P48 - GRANULE_SIZE, lo2 = P48 - 2 * GRANULE_SIZE, lo3 = P48 - 3 * GRANULE_SIZE;
	const uint64_t hi = P48, hi2 = P48 + GRANULE_SIZE, hi_far = P48 + TH_L2_SIZE - GRANULE_SIZE;
	const uint64_t all[] = { lo, lo2, lo3, hi, hi2, hi_far };
	for (unsigned i = 0; i < 6; i++)
		EXPECT_OK(th_delegate(&e, all[i]));

	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 2));
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x66);

	/* RTT_CREATE: RTT granule at or above 2^48 -> INPUT, even where the walk or the entry
	 * would give an RTT error (the address check comes first), but after the level check. */
	EXPECT_RC(th_rtt_create(&e, r.rd, hi, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, hi_far, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, hi, TH_L1_SIZE + TH_L2_SIZE, 3), RMI_ERROR_INPUT);  /* walk stops at 1 */
	EXPECT_RC(th_rtt_create(&e, r.rd, hi, 0, 2), RMI_ERROR_INPUT);                        /* table exists */
	EXPECT_RC(th_rtt_create(&e, r.rd, hi, 0, 1), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, hi, RMMEMU_GRANULE_DELEGATED);
	/* Just below 2^48 is fine. */
	EXPECT_OK(th_rtt_create(&e, r.rd, lo, 0, 3));
	EXPECT_ENTRY(&e, r.rd, 0, 2, 2, RMI_TABLE, lo, RMI_EMPTY);

	/* DATA_CREATE / DATA_CREATE_UNKNOWN: same rule for the DATA granule. */
	EXPECT_RC(th_data_create(&e, r.rd, hi, 0, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, hi_far, 0, src, RMI_NO_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, hi2, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, hi, TH_L2_SIZE, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT); /* no L3 */
	EXPECT_RC(th_data_create_unknown(&e, r.rd, hi, TH_L1_SIZE), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, hi, 0, TH_SECURE_BASE, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_OK(th_data_create(&e, r.rd, lo2, 0, src, RMI_MEASURE_CONTENT));
	EXPECT_ENTRY(&e, r.rd, 0, 3, 3, RMI_ASSIGNED, lo2, RMI_RAM);
	EXPECT_RC(th_data_create(&e, r.rd, hi, 0, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);       /* entry used */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, lo3, GRANULE_SIZE));
	/* ...but the address/state checks that come before it still win. */
	EXPECT_RC(th_data_create(&e, r.rd, hi, (1ULL << 39), src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, hi, 0, src, 5), RMI_ERROR_INPUT);
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_RC(th_data_create(&e, r.rd, hi, 2 * GRANULE_SIZE, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, hi, 2 * GRANULE_SIZE), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, hi, RMMEMU_GRANULE_DELEGATED);
	EXPECT_STATE(&e, hi2, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, hi));

	/* RD, REC and aux granules above 2^48 are just granules. */
	struct th_realm r2;
	EXPECT_OK(th_build_realm(&e, &r2, 40, 1, 2));
	uint64_t rd_hi = P48 + 16 * GRANULE_SIZE;
	EXPECT_OK(th_delegate(&e, rd_hi));
	struct th_realm_params p;
	uint64_t roots = th_dg_n(&e, 2, 2 * GRANULE_SIZE);
	th_realm_params_init(&e, &p, 40, 1, 2, roots);
	uint64_t params = P48 + 32 * GRANULE_SIZE;    /* an NS params granule above 2^48 */
	th_write_realm_params(&e, params, &p);
	EXPECT_OK(th_realm_create(&e, rd_hi, params));
	EXPECT_OK(th_realm_destroy(&e, rd_hi));

	/* Unprotected mappings: the host address must be below 2^48 too. */
	EXPECT_OK(th_rtt_path(&e, &r, (1ULL << 39), 3));
	EXPECT_RC(th_map_unprot(&e, r.rd, 1ULL << 39, 3, P48 | TH_NS_ATTRS), RMI_ERROR_INPUT);
	EXPECT_OK(th_map_unprot(&e, r.rd, 1ULL << 39, 3, (P48 - GRANULE_SIZE) | TH_NS_ATTRS));
	CHECK_INV(&e);
	th_teardown(&e, &r2);
	th_teardown(&e, &r);
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* Normal-world access across the two DRAM ranges and at their edges. */
static void test_pa52_ns_access(void)
{
	struct rmmemu_platform_config cfg;
	struct th_env e;
	uint8_t buf[3 * GRANULE_SIZE], back[3 * GRANULE_SIZE];

	th_platform_pa52(&cfg);
	th_init(&e, &cfg);
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i ^ 0x5A);
	/* Across 2^48 inside one range. */
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, P48 - GRANULE_SIZE - 7, buf, sizeof(buf)), RMMEMU_OK);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, P48 - GRANULE_SIZE - 7, back, sizeof(back)), RMMEMU_OK);
	CU_ASSERT(memcmp(buf, back, sizeof(buf)) == 0);
	/* Past the end of a range: nothing is written. */
	uint64_t end = TH_HIGH_BASE + TH_HIGH_SIZE;
	memset(back, 0, sizeof(back));
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, end - GRANULE_SIZE, buf, 2 * GRANULE_SIZE), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, end - GRANULE_SIZE, back, GRANULE_SIZE), RMMEMU_OK);
	for (unsigned i = 0; i < GRANULE_SIZE; i++)
		CU_ASSERT_EQUAL(back[i], 0);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, TH_HIGH_BASE - 8, back, 16), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, 1ULL << 51, back, 8), RMMEMU_E_NOMEM);
	struct rmmemu_granule_info info;
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, 1ULL << 51, &info), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, TH_DEVICE_BASE, &info), RMMEMU_E_NOMEM);
	CU_ASSERT_EQUAL(rmmemu_granule_info(e.emu, P48 + 5, &info), RMMEMU_OK);
	CU_ASSERT_EQUAL(info.state, RMMEMU_GRANULE_UNDELEGATED);
	th_fini(&e);
}

static void expect_config_rejected(const struct rmmemu_platform_config *cfg, const char *why)
{
	char err[256] = "";
	struct rmmemu *emu = rmmemu_create(cfg, err, sizeof(err));
	CU_ASSERT_PTR_NULL(emu);
	CU_ASSERT(err[0] != '\0');
	if (emu) {
		fprintf(stderr, "  accepted: %s\n", why);
		rmmemu_destroy(emu);
	}
}

static void test_platform_config_errors(void)
{
	struct rmmemu_platform_config cfg;

	th_platform_small(&cfg);
	cfg.pa_bits = 47;
	expect_config_rejected(&cfg, "pa_bits 47");
	th_platform_small(&cfg);
	cfg.num_dram = 0;
	expect_config_rejected(&cfg, "no DRAM");
	th_platform_small(&cfg);
	cfg.dram[0].base += 0x800;
	expect_config_rejected(&cfg, "unaligned DRAM");
	th_platform_small(&cfg);
	cfg.dram[0].size = 0;
	expect_config_rejected(&cfg, "empty DRAM");
	th_platform_small(&cfg);
	cfg.pa_bits = 32;
	cfg.dram[0] = (struct rmmemu_range){ 0xFF000000ULL, 32ULL << 20 };
	cfg.num_secure = cfg.num_root = 0;
	expect_config_rejected(&cfg, "DRAM beyond 2^pa_bits");
	th_platform_small(&cfg);
	cfg.device[0] = (struct rmmemu_range){ 0, TH_DRAM_BASE + GRANULE_SIZE };
	expect_config_rejected(&cfg, "DRAM overlaps a device range");
	th_platform_small(&cfg);
	cfg.dram[1] = (struct rmmemu_range){ TH_DRAM_BASE + (32ULL << 20), 64ULL << 20 };
	cfg.num_dram = 2;
	expect_config_rejected(&cfg, "DRAM ranges overlap");
	th_platform_small(&cfg);
	cfg.secure[0] = (struct rmmemu_range){ TH_HOLE, 1ULL << 20 };
	expect_config_rejected(&cfg, "secure range outside DRAM");
	th_platform_small(&cfg);
	cfg.root[0] = (struct rmmemu_range){ TH_DRAM_BASE + TH_DRAM_SIZE - GRANULE_SIZE, 2 * GRANULE_SIZE };
	expect_config_rejected(&cfg, "root range crossing the end of DRAM");
	/* Secure and root ranges are granule ranges too, and a granule has one PAS. */
	th_platform_small(&cfg);
	cfg.secure[0].size = GRANULE_SIZE + GRANULE_SIZE / 2;
	expect_config_rejected(&cfg, "secure range size not a multiple of 4 KiB");
	th_platform_small(&cfg);
	cfg.root[0].base += 0x800;
	expect_config_rejected(&cfg, "unaligned root range");
	th_platform_small(&cfg);
	cfg.secure[0].size = 0;
	expect_config_rejected(&cfg, "empty secure range");
	th_platform_small(&cfg);
	cfg.root[0] = (struct rmmemu_range){ TH_SECURE_BASE + TH_SECURE_SIZE - GRANULE_SIZE, TH_ROOT_SIZE };
	expect_config_rejected(&cfg, "root range overlapping the secure range");
	th_platform_small(&cfg);
	cfg.secure[1] = (struct rmmemu_range){ TH_SECURE_BASE, GRANULE_SIZE };
	cfg.num_secure = 2;
	expect_config_rejected(&cfg, "two secure ranges overlapping");
	th_platform_small(&cfg);
	cfg.num_bps = 0;
	expect_config_rejected(&cfg, "num_bps 0");
	th_platform_small(&cfg);
	cfg.gicv3_num_lrs = 16;
	expect_config_rejected(&cfg, "16 list registers");

	/* Two adjacent DRAM ranges are fine, and an NS access may cross from one to the other. */
	struct th_env e;
	th_platform_small(&cfg);
	cfg.dram[1] = (struct rmmemu_range){ TH_DRAM_BASE + TH_DRAM_SIZE, 1ULL << 20 };
	cfg.num_dram = 2;
	th_init(&e, &cfg);
	uint8_t b[32];
	memset(b, 0x3E, sizeof(b));
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, TH_DRAM_BASE + TH_DRAM_SIZE - 16, b, sizeof(b)), RMMEMU_OK);
	EXPECT_OK(th_delegate(&e, TH_DRAM_BASE + TH_DRAM_SIZE));
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, TH_DRAM_BASE + TH_DRAM_SIZE - 16, b, sizeof(b)), RMMEMU_E_GPF);
	EXPECT_OK(th_undelegate(&e, TH_DRAM_BASE + TH_DRAM_SIZE));
	th_fini(&e);
}

/* Realm creation limits that come from the platform: 8-bit VMIDs run out at 256. */
static void test_vmid8_exhaustion(void)
{
	struct rmmemu_platform_config cfg;
	struct th_env e;

	th_platform_small(&cfg);
	cfg.vmid16 = false;
	th_init(&e, &cfg);
	uint64_t roots = th_dg(&e);
	uint64_t params = th_ns(&e);
	struct th_realm_params p;
	th_realm_params_init(&e, &p, 32, 1, 1, roots);
	/* One realm per VMID, each with its own RD and root. */
	uint64_t rds[256];
	for (unsigned v = 0; v < 256; v++) {
		rds[v] = th_dg(&e);
		p.vmid = (uint16_t)v;
		p.rtt_base = v == 0 ? roots : th_dg(&e);
		th_write_realm_params(&e, params, &p);
		EXPECT_OK(th_realm_create(&e, rds[v], params));
	}
	for (unsigned v = 0; v < 256; v++) {
		p.vmid = (uint16_t)v;
		p.rtt_base = th_dg(&e);
		th_write_realm_params(&e, params, &p);
		EXPECT_RC(th_realm_create(&e, th_dg(&e), params), RMI_ERROR_INPUT);
		if (v == 100)
			break;
	}
	CHECK_INV(&e);
	for (unsigned v = 0; v < 256; v++)
		EXPECT_OK(th_realm_destroy(&e, rds[v]));
	th_undelegate_all(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "pa_bits 52: RTT and DATA granules must be below 2^48 (priority)", test_pa52_rtt_and_data_width },
	{ "pa_bits 52: NS access across 2^48 and range ends", test_pa52_ns_access },
	{ "platform configuration errors; adjacent DRAM ranges", test_platform_config_errors },
	{ "8-bit VMIDs: 256 realms, then none", test_vmid8_exhaustion },
};

int main(void)
{
	return th_run_suite("rmi_platform", tests, sizeof(tests) / sizeof(tests[0]));
}

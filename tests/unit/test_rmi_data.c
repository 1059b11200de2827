/*
 * RMI_DATA_CREATE / DATA_CREATE_UNKNOWN / DATA_DESTROY: success paths for every RIPAS, every
 * failure condition, their priority, the RIM, scrubbing, and the X1/X2 outputs of DATA_DESTROY.
 */
#include <string.h>

#include "helpers/th.h"

#define UNPROT (1ULL << 39)

static void rim(struct th_env *e, uint64_t rd, uint8_t out[MAX_MEASUREMENT_SIZE])
{
	memcpy(out, th_rd(e, rd)->measurement[RIM_MEASUREMENT_SLOT], MAX_MEASUREMENT_SIZE);
}

static bool same_rim(struct th_env *e, uint64_t rd, const uint8_t m[MAX_MEASUREMENT_SIZE])
{
	return memcmp(th_rd(e, rd)->measurement[RIM_MEASUREMENT_SLOT], m, MAX_MEASUREMENT_SIZE) == 0;
}

/* A realm with an L3 table at IPA 0 (2 MiB), RIPAS RAM at entry 1, DESTROYED at entry 2. */
static void setup(struct th_env *e, struct th_realm *r)
{
	th_init(e, NULL);
	th_realm(e, r);
	EXPECT_OK(th_rtt_path(e, r, 0, 3));
	EXPECT_OK(th_init_ripas(e, r->rd, GRANULE_SIZE, 3 * GRANULE_SIZE));
	uint64_t d = th_dg(e);
	EXPECT_OK(th_data_create_unknown(e, r->rd, d, 2 * GRANULE_SIZE));
	EXPECT_OK(th_data_destroy(e, r->rd, 2 * GRANULE_SIZE));
	EXPECT_ENTRY(e, r->rd, 0, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(e, r->rd, GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_ENTRY(e, r->rd, 2 * GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
}

static void finish(struct th_env *e, struct th_realm *r)
{
	CHECK_INV(e);
	th_teardown(e, r);
	CHECK_INV(e);
	EXPECT_ALL_UNDELEGATED(e);
	th_fini(e);
}

/* ---- DATA_CREATE ---- */

static void test_create_success(void)
{
	struct th_env e;
	struct th_realm r;
	uint8_t m0[MAX_MEASUREMENT_SIZE], m1[MAX_MEASUREMENT_SIZE], buf[GRANULE_SIZE];

	setup(&e, &r);
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t rtt = e.res.x[3];
	uint64_t src = th_ns(&e);
	for (unsigned i = 0; i < GRANULE_SIZE; i++)
		buf[i] = (uint8_t)(i * 13 + 1);
	CU_ASSERT_EQUAL(rmmemu_ns_write(e.emu, src, buf, sizeof(buf)), RMMEMU_OK);

	/* On every kind of unassigned entry the result is ASSIGNED RAM with the contents. */
	const uint64_t ipas[] = { 0, GRANULE_SIZE, 2 * GRANULE_SIZE };
	for (unsigned i = 0; i < 3; i++) {
		uint64_t data = th_dg(&e);
		unsigned ref = th_meta(&e, rtt)->refcount;
		rim(&e, r.rd, m0);
		EXPECT_OK(th_data_create(&e, r.rd, data, ipas[i], src, i == 1 ? RMI_NO_MEASURE_CONTENT
								       : RMI_MEASURE_CONTENT));
		EXPECT_STATE(&e, data, RMMEMU_GRANULE_DATA);
		EXPECT_ENTRY(&e, r.rd, ipas[i], 3, 3, RMI_ASSIGNED, data, RMI_RAM);
		CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, ref + 1);
		uint8_t got[GRANULE_SIZE];
		th_peek(&e, data, got, sizeof(got));
		CU_ASSERT(memcmp(got, buf, sizeof(buf)) == 0);
		CU_ASSERT(!same_rim(&e, r.rd, m0));   /* the RIM was extended */
	}
	/* The source is untouched and still the host's. */
	uint8_t again[GRANULE_SIZE];
	CU_ASSERT_EQUAL(rmmemu_ns_read(e.emu, src, again, sizeof(again)), RMMEMU_OK);
	CU_ASSERT(memcmp(again, buf, sizeof(buf)) == 0);
	EXPECT_STATE(&e, src, RMMEMU_GRANULE_UNDELEGATED);

	/* Measured and unmeasured content give different RIMs; the same sequence the same RIM. */
	struct th_realm a, b, c;
	th_realm(&e, &a);
	th_realm(&e, &b);
	th_realm(&e, &c);
	EXPECT_OK(th_rtt_path(&e, &a, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &b, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &c, 0, 3));
	EXPECT_OK(th_data_create(&e, a.rd, th_dg(&e), 0, src, RMI_MEASURE_CONTENT));
	EXPECT_OK(th_data_create(&e, b.rd, th_dg(&e), 0, src, RMI_NO_MEASURE_CONTENT));
	EXPECT_OK(th_data_create(&e, c.rd, th_dg(&e), 0, src, RMI_MEASURE_CONTENT));
	rim(&e, a.rd, m0);
	rim(&e, b.rd, m1);
	CU_ASSERT(memcmp(m0, m1, sizeof(m0)) != 0);
	CU_ASSERT(same_rim(&e, c.rd, m0));
	/* Unmeasured content: the contents do not matter, the address does. */
	th_fill(&e, src, 0x99);
	EXPECT_OK(th_data_create(&e, c.rd, th_dg(&e), GRANULE_SIZE, src, RMI_NO_MEASURE_CONTENT));
	EXPECT_OK(th_data_create(&e, b.rd, th_dg(&e), GRANULE_SIZE, src, RMI_NO_MEASURE_CONTENT));
	rim(&e, b.rd, m1);
	th_teardown(&e, &a);
	th_teardown(&e, &b);
	th_teardown(&e, &c);
	finish(&e, &r);
}

static void test_create_failures(void)
{
	struct th_env e;
	struct th_realm r, other;
	uint8_t m0[MAX_MEASUREMENT_SIZE];

	setup(&e, &r);
	th_realm(&e, &other);
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0x42);
	uint64_t data = th_dg(&e);
	uint64_t used = th_dg(&e);
	EXPECT_OK(th_data_create(&e, r.rd, used, 5 * GRANULE_SIZE, src, RMI_MEASURE_CONTENT));
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t rtt = e.res.x[3];
	uint64_t rec;
	EXPECT_OK(th_build_rec(&e, &r, &rec, 0, false, 0));
	unsigned ref = th_meta(&e, rtt)->refcount;
	rim(&e, r.rd, m0);
	const uint64_t ipa = 6 * GRANULE_SIZE;

	/* flags */
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src, ~0ULL), RMI_ERROR_INPUT);
	/* src: alignment, not DRAM, not in the NS state/PAS */
	const uint64_t bad_src[] = { src + 8, src + 0x800, TH_DEVICE_BASE, TH_HOLE, TH_BEYOND_DRAM, ~0ULL,
				     data, r.rd, rtt, used, rec, TH_SECURE_BASE, TH_ROOT_BASE };
	for (unsigned i = 0; i < sizeof(bad_src) / sizeof(bad_src[0]); i++)
		EXPECT_RC(th_data_create(&e, r.rd, data, ipa, bad_src[i], RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	/* data granule */
	const uint64_t bad_data[] = { th_ns(&e), data + 8, TH_DEVICE_BASE, TH_HOLE, TH_SECURE_BASE, r.rd,
				      other.rd, rtt, used, rec, r.rtt_base };
	for (unsigned i = 0; i < sizeof(bad_data) / sizeof(bad_data[0]); i++)
		EXPECT_RC(th_data_create(&e, r.rd, bad_data[i], ipa, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	/* rd */
	const uint64_t bad_rd[] = { th_dg(&e), th_ns(&e), r.rd + 8, rtt, rec, used, data };
	for (unsigned i = 0; i < sizeof(bad_rd) / sizeof(bad_rd[0]); i++)
		EXPECT_RC(th_data_create(&e, bad_rd[i], data, ipa, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	/* ipa: unprotected, unaligned, outside the IPA space */
	const uint64_t bad_ipa[] = { UNPROT, UNPROT + 5 * GRANULE_SIZE, (1ULL << 40) - GRANULE_SIZE, ipa + 8,
				     ipa + 0x800, 1ULL << 40, 1ULL << 47, ~0ULL & ~GRANULE_MASK };
	for (unsigned i = 0; i < sizeof(bad_ipa) / sizeof(bad_ipa[0]); i++)
		EXPECT_RC(th_data_create(&e, r.rd, data, bad_ipa[i], src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	/* walk */
	EXPECT_RC(th_data_create(&e, r.rd, data, TH_L2_SIZE, src, RMI_MEASURE_CONTENT), RC_RTT(2));
	EXPECT_RC(th_data_create(&e, r.rd, data, TH_L1_SIZE, src, RMI_MEASURE_CONTENT), RC_RTT(1));
	/* entry already assigned */
	EXPECT_RC(th_data_create(&e, r.rd, data, 5 * GRANULE_SIZE, src, RMI_MEASURE_CONTENT), RC_RTT(3));
	/* src in the secure / root PAS: only noticed when the contents are read, i.e. last */
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, TH_SECURE_BASE, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, data, TH_L2_SIZE, TH_SECURE_BASE, RMI_MEASURE_CONTENT), RC_RTT(2));
	EXPECT_RC(th_data_create(&e, r.rd, data, 5 * GRANULE_SIZE, TH_ROOT_BASE, RMI_MEASURE_CONTENT), RC_RTT(3));

	/* Priority among input checks. */
	EXPECT_RC(th_data_create(&e, th_dg(&e), th_ns(&e), UNPROT + 1, th_dg(&e), 7), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, data, TH_L2_SIZE + 8, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);

	/* Nothing changed. */
	EXPECT_STATE(&e, data, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, data));
	EXPECT_ENTRY(&e, r.rd, ipa, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, ref);
	CU_ASSERT(same_rim(&e, r.rd, m0));
	CHECK_INV(&e);

	/* Realm not NEW: RMI_ERROR_REALM, which ranks after the granule checks and before the
	 * address checks. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create(&e, r.rd, data, UNPROT, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa + 8, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create(&e, r.rd, data, TH_L2_SIZE, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create(&e, r.rd, data, 5 * GRANULE_SIZE, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	EXPECT_RC(th_data_create(&e, r.rd, th_ns(&e), ipa, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src + 8, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src, 3), RMI_ERROR_INPUT);
	th_rd(&e, r.rd)->state = REALM_SYSTEM_OFF;
	EXPECT_RC(th_data_create(&e, r.rd, data, ipa, src, RMI_MEASURE_CONTENT), RMI_ERROR_REALM);
	th_rd(&e, r.rd)->state = REALM_ACTIVE;
	EXPECT_STATE(&e, data, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(same_rim(&e, r.rd, m0));
	th_teardown(&e, &other);
	finish(&e, &r);
}

/* ---- DATA_CREATE_UNKNOWN ---- */

static void test_create_unknown(void)
{
	struct th_env e;
	struct th_realm r;
	uint8_t m0[MAX_MEASUREMENT_SIZE];

	setup(&e, &r);
	rim(&e, r.rd, m0);
	uint64_t d0 = th_dg(&e), d1 = th_dg(&e), d2 = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d0, 0));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d1, GRANULE_SIZE));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d2, 2 * GRANULE_SIZE));
	/* The RIPAS is kept. */
	EXPECT_ENTRY(&e, r.rd, 0, 3, 3, RMI_ASSIGNED, d0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, GRANULE_SIZE, 3, 3, RMI_ASSIGNED, d1, RMI_RAM);
	EXPECT_ENTRY(&e, r.rd, 2 * GRANULE_SIZE, 3, 3, RMI_ASSIGNED, 0, RMI_DESTROYED);
	CU_ASSERT(th_mem_is_zero(&e, d0));
	CU_ASSERT(th_mem_is_zero(&e, d1));
	CU_ASSERT(same_rim(&e, r.rd, m0));   /* not measured */

	/* Failures. */
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t rtt = e.res.x[3];
	const uint64_t bad_data[] = { th_ns(&e), data + 8, TH_DEVICE_BASE, TH_SECURE_BASE, r.rd, rtt, d0 };
	for (unsigned i = 0; i < sizeof(bad_data) / sizeof(bad_data[0]); i++)
		EXPECT_RC(th_data_create_unknown(&e, r.rd, bad_data[i], 8 * GRANULE_SIZE), RMI_ERROR_INPUT);
	const uint64_t bad_rd[] = { th_dg(&e), r.rd + 8, rtt, d0, TH_HOLE };
	for (unsigned i = 0; i < sizeof(bad_rd) / sizeof(bad_rd[0]); i++)
		EXPECT_RC(th_data_create_unknown(&e, bad_rd[i], data, 8 * GRANULE_SIZE), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, UNPROT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, 8 * GRANULE_SIZE + 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, 1ULL << 40), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, TH_L2_SIZE), RC_RTT(2));
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, 3 * TH_L1_SIZE), RC_RTT(1));
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, 0), RC_RTT(3));
	EXPECT_RC(th_data_create_unknown(&e, r.rd, data, TH_L2_SIZE + 8), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, r.rd, r.rd, 8 * GRANULE_SIZE), RMI_ERROR_INPUT);
	EXPECT_STATE(&e, data, RMMEMU_GRANULE_DELEGATED);

	/* No realm state condition: ACTIVE and SYSTEM_OFF realms accept it. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 8 * GRANULE_SIZE));
	th_rd(&e, r.rd)->state = REALM_SYSTEM_OFF;
	EXPECT_OK(th_data_create_unknown(&e, r.rd, th_dg(&e), 9 * GRANULE_SIZE));
	th_rd(&e, r.rd)->state = REALM_ACTIVE;
	CU_ASSERT(same_rim(&e, r.rd, m0));
	finish(&e, &r);
}

/* ---- DATA_DESTROY ---- */

static void test_destroy(void)
{
	struct th_env e;
	struct th_realm r;

	setup(&e, &r);
	th_vcpu_install(&e);
	EXPECT_OK(th_read_entry(&e, r.rd, 0, 2));
	uint64_t rtt = e.res.x[3];
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0xC3);
	uint64_t d_empty = th_dg(&e), d_ram = th_dg(&e), d_destroyed = th_dg(&e), d_far = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d_empty, 0));                         /* ASSIGNED EMPTY */
	EXPECT_OK(th_data_create(&e, r.rd, d_ram, GRANULE_SIZE, src, RMI_MEASURE_CONTENT)); /* ASSIGNED RAM */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d_destroyed, 2 * GRANULE_SIZE));       /* ASSIGNED DESTROYED */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d_far, 100 * GRANULE_SIZE));
	CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, 4);

	/* Input failures: X2 = 0. */
	EXPECT_RC(th_data_destroy(&e, th_dg(&e), 0), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);
	EXPECT_RC(th_data_destroy(&e, r.rd + 8, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_destroy(&e, rtt, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_destroy(&e, d_ram, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_destroy(&e, r.rd, UNPROT), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);
	EXPECT_RC(th_data_destroy(&e, r.rd, 8), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_destroy(&e, r.rd, 1ULL << 40), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);
	/* The walk stops above level 3: error at that level, X2 = next live entry there. */
	EXPECT_RC(th_data_destroy(&e, r.rd, 3 * TH_L2_SIZE), RC_RTT(2));
	EXPECT_U64(e.res.x[2], TH_L1_SIZE);
	EXPECT_RC(th_data_destroy(&e, r.rd, TH_L1_SIZE), RC_RTT(1));
	EXPECT_U64(e.res.x[2], UNPROT);
	/* Not assigned: RTT error at level 3, X2 = next live entry. */
	EXPECT_RC(th_data_destroy(&e, r.rd, 3 * GRANULE_SIZE), RC_RTT(3));
	EXPECT_U64(e.res.x[2], 100 * GRANULE_SIZE);
	EXPECT_RC(th_data_destroy(&e, r.rd, 101 * GRANULE_SIZE), RC_RTT(3));
	EXPECT_U64(e.res.x[2], TH_L2_SIZE);
	EXPECT_STATE(&e, d_ram, RMMEMU_GRANULE_DATA);
	CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, 4);

	/* Success: X1 = the DATA granule, X2 = next live entry; scrubbed; RIPAS rules. */
	uint64_t inval = e.invalidations;
	EXPECT_OK(th_data_destroy(&e, r.rd, GRANULE_SIZE));
	EXPECT_U64(e.res.x[1], d_ram);
	EXPECT_U64(e.res.x[2], 2 * GRANULE_SIZE);
	EXPECT_ENTRY(&e, r.rd, GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);   /* RAM -> DESTROYED */
	CU_ASSERT(e.invalidations > inval);    /* a valid mapping went away */
	EXPECT_STATE(&e, d_ram, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, d_ram));
	EXPECT_OK(th_data_destroy(&e, r.rd, 0));
	EXPECT_U64(e.res.x[1], d_empty);
	EXPECT_U64(e.res.x[2], 2 * GRANULE_SIZE);
	EXPECT_ENTRY(&e, r.rd, 0, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);                   /* EMPTY stays */
	EXPECT_OK(th_data_destroy(&e, r.rd, 2 * GRANULE_SIZE));
	EXPECT_U64(e.res.x[1], d_destroyed);
	EXPECT_U64(e.res.x[2], 100 * GRANULE_SIZE);
	EXPECT_ENTRY(&e, r.rd, 2 * GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, 1);
	/* Twice: the second one fails. */
	EXPECT_RC(th_data_destroy(&e, r.rd, 2 * GRANULE_SIZE), RC_RTT(3));
	/* On an active realm too; the last one reports the end of the table. */
	EXPECT_OK(th_realm_activate(&e, r.rd));
	EXPECT_OK(th_data_destroy(&e, r.rd, 100 * GRANULE_SIZE));
	EXPECT_U64(e.res.x[1], d_far);
	EXPECT_U64(e.res.x[2], TH_L2_SIZE);
	CU_ASSERT_EQUAL(th_meta(&e, rtt)->refcount, 0);
	/* The granules can be undelegated and read back as zeros. */
	const uint64_t all[] = { d_empty, d_ram, d_destroyed, d_far };
	for (unsigned i = 0; i < 4; i++) {
		EXPECT_OK(th_undelegate(&e, all[i]));
		CU_ASSERT(th_is_zero(&e, all[i]));
	}
	finish(&e, &r);
}

/* DATA granules from the top of a 64 MiB platform, and data reuse across realms. */
static void test_reuse_across_realms(void)
{
	struct th_env e;
	struct th_realm a, b;

	th_init(&e, NULL);
	th_realm(&e, &a);
	th_realm(&e, &b);
	EXPECT_OK(th_rtt_path(&e, &a, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &b, 0, 3));
	uint64_t src = th_ns(&e);
	th_fill(&e, src, 0xAB);
	uint64_t d = th_dg(&e);
	EXPECT_OK(th_data_create(&e, a.rd, d, 0, src, RMI_MEASURE_CONTENT));
	/* Already a DATA granule: realm b cannot take it, in any role. */
	EXPECT_RC(th_data_create(&e, b.rd, d, 0, src, RMI_MEASURE_CONTENT), RMI_ERROR_INPUT);
	EXPECT_RC(th_data_create_unknown(&e, b.rd, d, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, b.rd, d, TH_L1_SIZE, 2), RMI_ERROR_INPUT);
	/* After DATA_DESTROY in a it is zero and b may use it. */
	EXPECT_OK(th_data_destroy(&e, a.rd, 0));
	CU_ASSERT(th_mem_is_zero(&e, d));
	EXPECT_OK(th_data_create_unknown(&e, b.rd, d, 0));
	CU_ASSERT(th_mem_is_zero(&e, d));
	CHECK_INV(&e);
	th_teardown(&e, &a);
	th_teardown(&e, &b);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "DATA_CREATE success on EMPTY/RAM/DESTROYED entries, contents, RIM", test_create_success },
	{ "DATA_CREATE failures and their priority (flags, src, data, rd, state, ipa, RTT)", test_create_failures },
	{ "DATA_CREATE_UNKNOWN keeps the RIPAS, any realm state, failures", test_create_unknown },
	{ "DATA_DESTROY: RIPAS rules, X1/X2, scrub, failures", test_destroy },
	{ "DATA granules move between realms only through DATA_DESTROY", test_reuse_across_realms },
};

int main(void)
{
	return th_run_suite("rmi_data", tests, sizeof(tests) / sizeof(tests[0]));
}

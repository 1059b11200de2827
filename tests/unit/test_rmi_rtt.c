/*
 * RMI_RTT_CREATE / RTT_DESTROY / RTT_FOLD / RTT_MAP_UNPROTECTED / RTT_UNMAP_UNPROTECTED /
 * RTT_READ_ENTRY: success paths, every failure condition with its RTT level, the unfold of
 * every kind of parent entry inside RTT_CREATE and the fold back, and the outputs X1..X4.
 *
 * The default realm: S2SZ 40, start level 1, 2 concatenated roots. PAR = [0, 2^39): root 0 is
 * the protected half, root 1 the unprotected half.
 */
#include <string.h>

#include "helpers/th.h"

#define UNPROT (1ULL << 39)   /* first unprotected IPA of the default realm */

/* X3 of the entry at `level` covering ipa. */
static uint64_t entry_pa(struct th_env *e, uint64_t rd, uint64_t ipa, int level)
{
	ipa &= ~((1ULL << (12 + 9 * (3 - level))) - 1);
	EXPECT_OK(th_read_entry(e, rd, ipa, level));
	return e->res.x[3];
}

/* ---- RTT_CREATE ---- */

static void test_create_success(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t l2 = th_dg(&e), l3 = th_dg(&e);

	EXPECT_OK(th_rtt_create(&e, r.rd, l2, 0, 2));
	EXPECT_STATE(&e, l2, RMMEMU_GRANULE_RTT);
	EXPECT_ENTRY(&e, r.rd, 0, 1, 1, RMI_TABLE, l2, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0, 2, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0x3FE00000, 2, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0x1000, 3, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);   /* walk stops at 2 */
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base)->refcount, 1);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 0);

	EXPECT_OK(th_rtt_create(&e, r.rd, l3, 0x200000, 3));
	EXPECT_ENTRY(&e, r.rd, 0x200000, 2, 2, RMI_TABLE, l3, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0x3FF000, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0x1000, 3, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 1);
	CU_ASSERT_EQUAL(th_meta(&e, l3)->refcount, 0);

	/* Unprotected half, second root: tables hang off root 1. */
	uint64_t u2 = th_dg(&e), u3 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, u2, UNPROT + 5 * TH_L1_SIZE, 2));
	EXPECT_OK(th_rtt_create(&e, r.rd, u3, UNPROT + 5 * TH_L1_SIZE + 7 * TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, UNPROT + 5 * TH_L1_SIZE, 1, 1, RMI_TABLE, u2, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, UNPROT + 5 * TH_L1_SIZE + 7 * TH_L2_SIZE, 2, 2, RMI_TABLE, u3, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base + GRANULE_SIZE)->refcount, 1);
	/* Last entry of the IPA space. */
	uint64_t last = (1ULL << 40) - TH_L1_SIZE;
	EXPECT_OK(th_rtt_create(&e, r.rd, th_dg(&e), last, 2));
	EXPECT_OK(th_rtt_create(&e, r.rd, th_dg(&e), (1ULL << 40) - TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, (1ULL << 40) - GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static void test_create_failures(void)
{
	struct th_env e;
	struct th_realm r, other;

	th_init(&e, NULL);
	th_realm(&e, &r);
	th_realm(&e, &other);
	uint64_t rtt = th_dg(&e);
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 0));
	uint64_t l2 = entry_pa(&e, r.rd, 0, 1);

	/* The RTT granule. */
	const uint64_t bad_rtt[] = { th_ns(&e), rtt + 8, rtt + 0x800, TH_DEVICE_BASE, TH_HOLE, TH_SECURE_BASE,
				     TH_BEYOND_DRAM, r.rd, other.rd, l2, r.rtt_base, data, ~0ULL & ~GRANULE_MASK };
	for (unsigned i = 0; i < sizeof(bad_rtt) / sizeof(bad_rtt[0]); i++)
		EXPECT_RC(th_rtt_create(&e, r.rd, bad_rtt[i], TH_L1_SIZE, 2), RMI_ERROR_INPUT);
	/* The RD. */
	const uint64_t bad_rd[] = { th_dg(&e), th_ns(&e), r.rd + 8, l2, data, rtt, TH_DEVICE_BASE, 0 };
	for (unsigned i = 0; i < sizeof(bad_rd) / sizeof(bad_rd[0]); i++)
		EXPECT_RC(th_rtt_create(&e, bad_rd[i], rtt, TH_L1_SIZE, 2), RMI_ERROR_INPUT);
	/* Level: the root level and above, past the page level. */
	const int64_t bad_level[] = { 1, 0, -1, 4, 5, INT64_MIN, (int64_t)(1ULL << 32) + 2 };
	for (unsigned i = 0; i < sizeof(bad_level) / sizeof(bad_level[0]); i++)
		EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE, bad_level[i]), RMI_ERROR_INPUT);
	/* Address: not aligned to the parent entry, outside the IPA space. */
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE + TH_L2_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE + GRANULE_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L2_SIZE + GRANULE_SIZE, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, 1ULL << 40, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, 1ULL << 47, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, ~0ULL & ~(TH_L1_SIZE - 1), 2), RMI_ERROR_INPUT);

	/* The walk stops above level - 1: RMI_ERROR_RTT with the level reached. */
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE, 3), RC_RTT(1));
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, UNPROT + TH_L2_SIZE, 3), RC_RTT(1));
	/* A table is already there. */
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, 0, 2), RC_RTT(1));
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, 0, 3), RC_RTT(2));

	/* Priorities. */
	EXPECT_RC(th_rtt_create(&e, r.rd, th_ns(&e), 0, 2), RMI_ERROR_INPUT);        /* rtt state before RTT */
	EXPECT_RC(th_rtt_create(&e, th_dg(&e), rtt, TH_L1_SIZE, 9), RMI_ERROR_INPUT); /* rd before level */
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE + GRANULE_SIZE, 3), RMI_ERROR_INPUT); /* align before walk */
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, 0, 1), RMI_ERROR_INPUT);               /* level before table */
	EXPECT_RC(th_rtt_create(&e, r.rd, r.rd, 0, 2), RMI_ERROR_INPUT);              /* rtt == rd */
	/* A table of another realm is not a table of this one. */
	EXPECT_OK(th_rtt_create(&e, other.rd, rtt, 0, 2));
	EXPECT_RC(th_rtt_create(&e, r.rd, rtt, TH_L1_SIZE, 2), RMI_ERROR_INPUT);

	EXPECT_ENTRY(&e, r.rd, TH_L1_SIZE, 1, 1, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	th_teardown(&e, &other);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- unfold of unassigned parents and fold back ---- */

static void expect_children(struct th_env *e, uint64_t rd, uint64_t base, int level, uint64_t state,
			    uint64_t ripas)
{
	uint64_t sz = 1ULL << (12 + 9 * (3 - level));
	const unsigned idx[] = { 0, 1, 255, 511 };
	for (unsigned i = 0; i < 4; i++)
		EXPECT_ENTRY(e, rd, base + idx[i] * sz, level, (uint64_t)level, state, 0, ripas);
}

static void test_unfold_fold_unassigned(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 2));
	uint64_t l2 = entry_pa(&e, r.rd, 0, 1);

	/* unassigned_empty */
	uint64_t t = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, t, 2 * TH_L2_SIZE, 3));
	expect_children(&e, r.rd, 2 * TH_L2_SIZE, 3, RMI_UNASSIGNED, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 1);
	EXPECT_OK(th_rtt_fold(&e, r.rd, 2 * TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], t);
	EXPECT_STATE(&e, t, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, t));
	EXPECT_ENTRY(&e, r.rd, 2 * TH_L2_SIZE, 3, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 0);
	CHECK_INV(&e);

	/* unassigned_ram: RIPAS RAM set at level 2, then unfolded. */
	EXPECT_OK(th_init_ripas(&e, r.rd, 3 * TH_L2_SIZE, 4 * TH_L2_SIZE));
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_OK(th_rtt_create(&e, r.rd, t, 3 * TH_L2_SIZE, 3));
	expect_children(&e, r.rd, 3 * TH_L2_SIZE, 3, RMI_UNASSIGNED, RMI_RAM);
	EXPECT_OK(th_rtt_fold(&e, r.rd, 3 * TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], t);
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_RAM);
	CHECK_INV(&e);

	/* unassigned_destroyed: an RTT destroyed in the protected half leaves DESTROYED. */
	EXPECT_OK(th_rtt_create(&e, r.rd, t, 4 * TH_L2_SIZE, 3));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 4 * TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, 4 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	EXPECT_OK(th_rtt_create(&e, r.rd, t, 4 * TH_L2_SIZE, 3));
	expect_children(&e, r.rd, 4 * TH_L2_SIZE, 3, RMI_UNASSIGNED, RMI_DESTROYED);
	EXPECT_OK(th_rtt_fold(&e, r.rd, 4 * TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, 4 * TH_L2_SIZE, 2, 2, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	CHECK_INV(&e);

	/* unassigned_ns at level 1 (root) and 2. */
	uint64_t u2 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, u2, UNPROT, 2));
	expect_children(&e, r.rd, UNPROT, 2, RMI_UNASSIGNED, RMI_EMPTY);
	EXPECT_OK(th_rtt_create(&e, r.rd, t, UNPROT + TH_L2_SIZE, 3));
	expect_children(&e, r.rd, UNPROT + TH_L2_SIZE, 3, RMI_UNASSIGNED, RMI_EMPTY);
	/* ...and they are NS entries: an unprotected mapping is accepted there. */
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + TH_L2_SIZE + 5 * GRANULE_SIZE, 3, TH_DRAM_BASE | TH_NS_ATTRS));
	EXPECT_OK(th_unmap_unprot(&e, r.rd, UNPROT + TH_L2_SIZE + 5 * GRANULE_SIZE, 3));
	EXPECT_OK(th_rtt_fold(&e, r.rd, UNPROT + TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], t);
	EXPECT_OK(th_rtt_fold(&e, r.rd, UNPROT, 2));
	EXPECT_U64(e.res.x[1], u2);
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT, 1, 0x40000000ULL | TH_NS_ATTRS));   /* NS at level 1 */
	EXPECT_OK(th_unmap_unprot(&e, r.rd, UNPROT, 1));

	/* The level 2 table now mixes EMPTY, RAM and DESTROYED: not foldable. */
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 2), RC_RTT(2));
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* Fold of a level 2 table back into the level 1 root entry. */
static void test_fold_level2(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t l2 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l2, 3 * TH_L1_SIZE, 2));
	EXPECT_OK(th_rtt_fold(&e, r.rd, 3 * TH_L1_SIZE, 2));
	EXPECT_U64(e.res.x[1], l2);
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L1_SIZE, 1, 1, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base)->refcount, 0);
	/* RAM at level 1: INIT_RIPAS over the whole 1 GiB entry of the root. */
	EXPECT_OK(th_init_ripas(&e, r.rd, 3 * TH_L1_SIZE, 4 * TH_L1_SIZE));
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L1_SIZE, 1, 1, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_OK(th_rtt_create(&e, r.rd, l2, 3 * TH_L1_SIZE, 2));
	expect_children(&e, r.rd, 3 * TH_L1_SIZE, 2, RMI_UNASSIGNED, RMI_RAM);
	EXPECT_OK(th_rtt_fold(&e, r.rd, 3 * TH_L1_SIZE, 2));
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L1_SIZE, 1, 1, RMI_UNASSIGNED, 0, RMI_RAM);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	th_fini(&e);
}

/* ---- assigned blocks: fold 512 pages into a 2 MiB block, unfold it again ---- */

enum fill { FILL_UNKNOWN, FILL_MEASURED };

/* 512 DATA granules, contiguous from data (2 MiB aligned), at ipa .. ipa + 2 MiB. */
static void fill_l3(struct th_env *e, const struct th_realm *r, uint64_t ipa, uint64_t data, enum fill how)
{
	uint64_t src = 0;
	if (how == FILL_MEASURED) {
		src = th_ns(e);
		th_fill(e, src, 0x3C);
	}
	for (unsigned i = 0; i < 512; i++) {
		uint64_t rc = how == FILL_UNKNOWN
			? th_data_create_unknown(e, r->rd, data + i * GRANULE_SIZE, ipa + i * GRANULE_SIZE)
			: th_data_create(e, r->rd, data + i * GRANULE_SIZE, ipa + i * GRANULE_SIZE, src,
					 RMI_NO_MEASURE_CONTENT);
		if (rc != RMI_SUCCESS) {
			EXPECT_OK(rc);
			return;
		}
	}
}

static void check_block_cycle(struct th_env *e, const struct th_realm *r, uint64_t ipa, uint64_t data,
			      uint64_t ripas)
{
	uint64_t l3 = entry_pa(e, r->rd, ipa, 2);
	uint64_t l2 = entry_pa(e, r->rd, ipa, 1);
	uint64_t x3 = ripas == RMI_DESTROYED ? 0 : data;
	unsigned l2_ref = th_meta(e, l2)->refcount;

	CU_ASSERT_EQUAL(th_meta(e, l3)->refcount, 512);
	EXPECT_OK(th_rtt_fold(e, r->rd, ipa, 3));
	EXPECT_U64(e->res.x[1], l3);
	EXPECT_STATE(e, l3, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(e, l3));
	EXPECT_ENTRY(e, r->rd, ipa, 2, 2, RMI_ASSIGNED, x3, ripas);
	EXPECT_ENTRY(e, r->rd, ipa + 0x1000, 3, 2, RMI_ASSIGNED, x3, ripas);
	CU_ASSERT_EQUAL(th_meta(e, l2)->refcount, l2_ref);   /* the block still counts once */
	EXPECT_STATE(e, data, RMMEMU_GRANULE_DATA);
	EXPECT_STATE(e, data + 511 * GRANULE_SIZE, RMMEMU_GRANULE_DATA);
	th_check_invariants(e, __FILE__, __LINE__);

	/* A block cannot be DATA_DESTROYed page by page: the walk ends at level 2. */
	EXPECT_RC(th_data_destroy(e, r->rd, ipa + 0x5000), RC_RTT(2));

	/* Unfold into a fresh RTT: 512 page entries with consecutive addresses. */
	uint64_t n3 = th_dg(e);
	EXPECT_OK(th_rtt_create(e, r->rd, n3, ipa, 3));
	CU_ASSERT_EQUAL(th_meta(e, n3)->refcount, 512);
	CU_ASSERT_EQUAL(th_meta(e, l2)->refcount, l2_ref);
	const unsigned idx[] = { 0, 1, 100, 511 };
	for (unsigned i = 0; i < 4; i++)
		EXPECT_ENTRY(e, r->rd, ipa + idx[i] * GRANULE_SIZE, 3, 3, RMI_ASSIGNED,
			     ripas == RMI_DESTROYED ? 0 : data + idx[i] * GRANULE_SIZE, ripas);
	if (ripas == RMI_DESTROYED) {
		/* X3 reads 0 for DESTROYED; the addresses are still right (white box). */
		const uint64_t *tbl = (const uint64_t *)granule_mem(e->rmm, PA(n3));
		for (unsigned i = 0; i < 512; i++)
			CU_ASSERT_EQUAL(tbl[i] & 0xFFFFFFFFF000ULL, data + i * GRANULE_SIZE);
	}
	th_check_invariants(e, __FILE__, __LINE__);
	/* And fold again. */
	EXPECT_OK(th_rtt_fold(e, r->rd, ipa, 3));
	EXPECT_U64(e->res.x[1], n3);
	EXPECT_ENTRY(e, r->rd, ipa, 2, 2, RMI_ASSIGNED, x3, ripas);
	th_check_invariants(e, __FILE__, __LINE__);
}

static void test_unfold_fold_assigned(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t d_empty = th_dg_n(&e, 512, TH_L2_SIZE);
	uint64_t d_ram = th_dg_n(&e, 512, TH_L2_SIZE);
	uint64_t d_destroyed = th_dg_n(&e, 512, TH_L2_SIZE);
	uint64_t d_measured = th_dg_n(&e, 512, TH_L2_SIZE);

	/* assigned_empty block */
	EXPECT_OK(th_rtt_path(&e, &r, 1 * TH_L2_SIZE, 3));
	fill_l3(&e, &r, 1 * TH_L2_SIZE, d_empty, FILL_UNKNOWN);
	check_block_cycle(&e, &r, 1 * TH_L2_SIZE, d_empty, RMI_EMPTY);

	/* assigned_ram block (RIPAS RAM first, then DATA_CREATE_UNKNOWN) */
	EXPECT_OK(th_rtt_path(&e, &r, 2 * TH_L2_SIZE, 3));
	EXPECT_OK(th_init_ripas(&e, r.rd, 2 * TH_L2_SIZE, 3 * TH_L2_SIZE));
	EXPECT_U64(e.res.x[1], 3 * TH_L2_SIZE);
	fill_l3(&e, &r, 2 * TH_L2_SIZE, d_ram, FILL_UNKNOWN);
	check_block_cycle(&e, &r, 2 * TH_L2_SIZE, d_ram, RMI_RAM);

	/* assigned_ram block made by DATA_CREATE */
	EXPECT_OK(th_rtt_path(&e, &r, 5 * TH_L2_SIZE, 3));
	fill_l3(&e, &r, 5 * TH_L2_SIZE, d_measured, FILL_MEASURED);
	check_block_cycle(&e, &r, 5 * TH_L2_SIZE, d_measured, RMI_RAM);

	/* assigned_destroyed block: DESTROYED entries, then DATA_CREATE_UNKNOWN on them */
	EXPECT_OK(th_rtt_path(&e, &r, 3 * TH_L2_SIZE, 3));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 3 * TH_L2_SIZE, 3));
	EXPECT_OK(th_rtt_create(&e, r.rd, th_dg(&e), 3 * TH_L2_SIZE, 3));
	fill_l3(&e, &r, 3 * TH_L2_SIZE, d_destroyed, FILL_UNKNOWN);
	EXPECT_ENTRY(&e, r.rd, 3 * TH_L2_SIZE, 3, 3, RMI_ASSIGNED, 0, RMI_DESTROYED);
	check_block_cycle(&e, &r, 3 * TH_L2_SIZE, d_destroyed, RMI_DESTROYED);

	/* Unfold of an assigned_ram block is break-before-make: the backend is told. */
	th_vcpu_install(&e);
	uint64_t before = e.invalidations;
	EXPECT_OK(th_rtt_create(&e, r.rd, th_dg(&e), 2 * TH_L2_SIZE, 3));
	CU_ASSERT(e.invalidations > before);

	CHECK_INV(&e);
	th_teardown(&e, &r);   /* unfolds the remaining blocks and destroys every page */
	CHECK_INV(&e);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* Blocks of unprotected memory: MAP_UNPROTECTED at level 2, unfold, fold. */
static void test_unfold_fold_assigned_ns(void)
{
	struct th_env e;
	struct th_realm r;
	const uint64_t ns_pa = 0x40000000ULL;   /* any 2 MiB-aligned host address */
	const uint64_t attrs = TH_NS_ATTRS;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t l2 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l2, UNPROT, 2));
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + TH_L2_SIZE, 2, ns_pa | attrs));
	EXPECT_ENTRY(&e, r.rd, UNPROT + TH_L2_SIZE, 2, 2, RMI_ASSIGNED, ns_pa | attrs, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 0);   /* NS mappings hold no reference */

	uint64_t l3 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l3, UNPROT + TH_L2_SIZE, 3));
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 1);
	CU_ASSERT_EQUAL(th_meta(&e, l3)->refcount, 0);
	const unsigned idx[] = { 0, 1, 300, 511 };
	for (unsigned i = 0; i < 4; i++)
		EXPECT_ENTRY(&e, r.rd, UNPROT + TH_L2_SIZE + idx[i] * GRANULE_SIZE, 3, 3, RMI_ASSIGNED,
			     (ns_pa + idx[i] * GRANULE_SIZE) | attrs, RMI_EMPTY);
	CHECK_INV(&e);
	EXPECT_OK(th_rtt_fold(&e, r.rd, UNPROT + TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], l3);
	EXPECT_ENTRY(&e, r.rd, UNPROT + TH_L2_SIZE, 2, 2, RMI_ASSIGNED, ns_pa | attrs, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 0);

	/* 512 pages mapped one by one, contiguous and with equal attributes, fold too. */
	EXPECT_OK(th_rtt_create(&e, r.rd, l3, UNPROT + 2 * TH_L2_SIZE, 3));
	const uint64_t ro = RMI_S2TTE_MEMATTR_NORMAL_WB | (1ULL << 6);
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 2 * TH_L2_SIZE + i * GRANULE_SIZE, 3,
					(ns_pa + TH_L2_SIZE + i * GRANULE_SIZE) | ro));
	EXPECT_OK(th_rtt_fold(&e, r.rd, UNPROT + 2 * TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, UNPROT + 2 * TH_L2_SIZE, 2, 2, RMI_ASSIGNED, (ns_pa + TH_L2_SIZE) | ro, RMI_EMPTY);

	/* Not foldable: one page with other attributes; non-contiguous; misaligned base;
	 * a mixture of mapped and unmapped entries. */
	uint64_t base = UNPROT + 3 * TH_L2_SIZE;
	EXPECT_OK(th_rtt_create(&e, r.rd, l3, base, 3));
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, base + i * GRANULE_SIZE, 3,
					(ns_pa + i * GRANULE_SIZE) | (i == 77 ? ro : attrs)));
	EXPECT_RC(th_rtt_fold(&e, r.rd, base, 3), RC_RTT(3));
	EXPECT_OK(th_unmap_unprot(&e, r.rd, base + 77 * GRANULE_SIZE, 3));
	EXPECT_RC(th_rtt_fold(&e, r.rd, base, 3), RC_RTT(3));        /* mixed */
	EXPECT_OK(th_map_unprot(&e, r.rd, base + 77 * GRANULE_SIZE, 3, (ns_pa + 78 * GRANULE_SIZE) | attrs));
	EXPECT_RC(th_rtt_fold(&e, r.rd, base, 3), RC_RTT(3));        /* non-contiguous */
	EXPECT_OK(th_unmap_unprot(&e, r.rd, base + 77 * GRANULE_SIZE, 3));
	EXPECT_OK(th_map_unprot(&e, r.rd, base + 77 * GRANULE_SIZE, 3, (ns_pa + 77 * GRANULE_SIZE) | attrs));
	EXPECT_OK(th_rtt_fold(&e, r.rd, base, 3));                   /* now it folds */
	uint64_t mis = UNPROT + 4 * TH_L2_SIZE;
	uint64_t l3b = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l3b, mis, 3));
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, mis + i * GRANULE_SIZE, 3,
					(ns_pa + (i + 1) * GRANULE_SIZE) | attrs));
	EXPECT_RC(th_rtt_fold(&e, r.rd, mis, 3), RC_RTT(3));         /* base not 2 MiB aligned */

	/* RTT_DESTROY of an unprotected RTT with live NS mappings succeeds (they hold no
	 * reference) and leaves UNASSIGNED_NS behind. */
	EXPECT_OK(th_rtt_destroy(&e, r.rd, mis, 3));
	EXPECT_U64(e.res.x[1], l3b);
	EXPECT_ENTRY(&e, r.rd, mis, 3, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_OK(th_map_unprot(&e, r.rd, mis, 2, ns_pa | attrs));
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* 1 GiB unprotected blocks: unfold into 512 level 2 blocks, fold back; build one from 512. */
static void test_unfold_fold_ns_level1(void)
{
	struct th_env e;
	struct th_realm r;
	const uint64_t attrs = TH_NS_ATTRS;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t ipa = UNPROT + 2 * TH_L1_SIZE, pa = 3 * TH_L1_SIZE;
	EXPECT_OK(th_map_unprot(&e, r.rd, ipa, 1, pa | attrs));
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base + GRANULE_SIZE)->refcount, 0);
	uint64_t l2 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l2, ipa, 2));
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base + GRANULE_SIZE)->refcount, 1);
	const unsigned idx[] = { 0, 1, 256, 511 };
	for (unsigned i = 0; i < 4; i++)
		EXPECT_ENTRY(&e, r.rd, ipa + idx[i] * TH_L2_SIZE, 2, 2, RMI_ASSIGNED,
			     (pa + idx[i] * TH_L2_SIZE) | attrs, RMI_EMPTY);
	/* ...and one of them further into pages. */
	uint64_t l3 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l3, ipa + 7 * TH_L2_SIZE, 3));
	EXPECT_ENTRY(&e, r.rd, ipa + 7 * TH_L2_SIZE + 9 * GRANULE_SIZE, 3, 3, RMI_ASSIGNED,
		     (pa + 7 * TH_L2_SIZE + 9 * GRANULE_SIZE) | attrs, RMI_EMPTY);
	EXPECT_RC(th_rtt_fold(&e, r.rd, ipa, 2), RC_RTT(2));          /* a table among the blocks */
	EXPECT_OK(th_rtt_fold(&e, r.rd, ipa + 7 * TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], l3);
	CHECK_INV(&e);
	EXPECT_OK(th_rtt_fold(&e, r.rd, ipa, 2));
	EXPECT_U64(e.res.x[1], l2);
	EXPECT_ENTRY(&e, r.rd, ipa, 1, 1, RMI_ASSIGNED, pa | attrs, RMI_EMPTY);
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base + GRANULE_SIZE)->refcount, 0);

	/* 512 level 2 blocks mapped one by one fold into a level 1 block. */
	uint64_t ipa2 = UNPROT + 5 * TH_L1_SIZE;
	EXPECT_OK(th_rtt_create(&e, r.rd, l2, ipa2, 2));
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, ipa2 + i * TH_L2_SIZE, 2, (pa + i * TH_L2_SIZE) | attrs));
	EXPECT_OK(th_rtt_fold(&e, r.rd, ipa2, 2));
	EXPECT_ENTRY(&e, r.rd, ipa2, 1, 1, RMI_ASSIGNED, pa | attrs, RMI_EMPTY);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, ipa2, 1));
	EXPECT_ENTRY(&e, r.rd, ipa2, 1, 1, RMI_UNASSIGNED, 0, RMI_EMPTY);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static void test_fold_failures(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t data = th_dg_n(&e, 512, TH_L2_SIZE);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t l2 = entry_pa(&e, r.rd, 0, 1);

	/* Input checks. */
	EXPECT_RC(th_rtt_fold(&e, th_dg(&e), 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd + 8, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, l2, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 1), RMI_ERROR_INPUT);      /* the root cannot be folded */
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 0), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 4), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, -1), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, GRANULE_SIZE, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, TH_L2_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 1ULL << 40, 3), RMI_ERROR_INPUT);

	/* The walk stops early; the parent entry is not a table. */
	EXPECT_RC(th_rtt_fold(&e, r.rd, TH_L1_SIZE, 3), RC_RTT(1));
	EXPECT_RC(th_rtt_fold(&e, r.rd, TH_L2_SIZE, 3), RC_RTT(2));
	EXPECT_RC(th_rtt_fold(&e, r.rd, TH_L1_SIZE, 2), RC_RTT(1));

	/* Mixed unassigned entries (EMPTY and RAM). */
	EXPECT_OK(th_init_ripas(&e, r.rd, 0, GRANULE_SIZE));
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));
	/* Some entries assigned (refcount between 0 and 512). */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 0));
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));
	/* The L2 table has a live child: not foldable at level 2. */
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 2), RC_RTT(2));
	/* All 512 assigned but with two RIPAS values. */
	for (unsigned i = 1; i < 512; i++)
		EXPECT_OK(th_data_create_unknown(&e, r.rd, data + i * GRANULE_SIZE, i * GRANULE_SIZE));
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));       /* entry 0 RAM, the rest EMPTY */
	CHECK_INV(&e);
	/* All assigned EMPTY but not contiguous. */
	EXPECT_OK(th_data_destroy(&e, r.rd, 0));
	EXPECT_OK(th_data_destroy(&e, r.rd, GRANULE_SIZE));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data + GRANULE_SIZE, 0));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, GRANULE_SIZE));
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));
	/* Contiguous but the first address is not 2 MiB aligned. */
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_data_destroy(&e, r.rd, i * GRANULE_SIZE));
	th_undelegate_all(&e);
	uint64_t d2 = th_dg_n(&e, 513, TH_L2_SIZE);
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_data_create_unknown(&e, r.rd, d2 + (i + 1) * GRANULE_SIZE, i * GRANULE_SIZE));
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));
	/* DESTROYED entries among EMPTY ones (entry 0 went RAM -> DESTROYED above). */
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_data_destroy(&e, r.rd, i * GRANULE_SIZE));
	EXPECT_ENTRY(&e, r.rd, 0, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	EXPECT_ENTRY(&e, r.rd, GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 3), RC_RTT(3));
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* Folding a level 1 table of blocks would make a level 0 block: RMI_ERROR_RTT at level 0. */
static void test_fold_level1_forbidden(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	EXPECT_OK(th_build_realm(&e, &r, 48, 0, 1));
	uint64_t par = th_par(&r);
	uint64_t l1 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, l1, par, 1));
	/* 512 contiguous 1 GiB NS blocks from PA 0 (aligned to 512 GiB). */
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_map_unprot(&e, r.rd, par + i * TH_L1_SIZE, 1, ((uint64_t)i * TH_L1_SIZE) | TH_NS_ATTRS));
	EXPECT_RC(th_rtt_fold(&e, r.rd, par, 1), RC_RTT(0));
	EXPECT_ENTRY(&e, r.rd, par, 0, 0, RMI_TABLE, l1, RMI_EMPTY);
	/* Unmapped again it folds (UNASSIGNED_NS is fine at level 0). */
	for (unsigned i = 0; i < 512; i++)
		EXPECT_OK(th_unmap_unprot(&e, r.rd, par + i * TH_L1_SIZE, 1));
	EXPECT_OK(th_rtt_fold(&e, r.rd, par, 1));
	EXPECT_U64(e.res.x[1], l1);
	/* MAP_UNPROTECTED at level 0 is never allowed. */
	EXPECT_RC(th_map_unprot(&e, r.rd, par, 0, 0 | TH_NS_ATTRS), RMI_ERROR_INPUT);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- RTT_DESTROY ---- */

static void test_destroy(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	EXPECT_OK(th_rtt_path(&e, &r, 3 * TH_L2_SIZE, 3));
	uint64_t l2 = entry_pa(&e, r.rd, 0, 1);
	uint64_t l3a = entry_pa(&e, r.rd, 0, 2);
	uint64_t l3b = entry_pa(&e, r.rd, 3 * TH_L2_SIZE, 2);
	uint64_t data = th_dg(&e);
	EXPECT_OK(th_data_create_unknown(&e, r.rd, data, 3 * TH_L2_SIZE + 5 * GRANULE_SIZE));

	/* Input checks: X2 is 0. */
	EXPECT_RC(th_rtt_destroy(&e, th_dg(&e), 0, 3), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);
	EXPECT_RC(th_rtt_destroy(&e, l2, 0, 3), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);
	EXPECT_RC(th_rtt_destroy(&e, r.rd + 8, 0, 3), RMI_ERROR_INPUT);
	const int64_t bad_level[] = { 1, 0, -1, 4, (int64_t)(1ULL << 32) + 3 };
	for (unsigned i = 0; i < sizeof(bad_level) / sizeof(bad_level[0]); i++) {
		EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, bad_level[i]), RMI_ERROR_INPUT);
		EXPECT_U64(e.res.x[2], 0);
	}
	EXPECT_RC(th_rtt_destroy(&e, r.rd, GRANULE_SIZE, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_destroy(&e, r.rd, TH_L2_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 1ULL << 40, 2), RMI_ERROR_INPUT);
	EXPECT_U64(e.res.x[2], 0);

	/* Live RTTs: RMI_ERROR_RTT at the RTT's level, X2 = the address given. */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 3 * TH_L2_SIZE, 3), RC_RTT(3));
	EXPECT_U64(e.res.x[2], 3 * TH_L2_SIZE);
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 2), RC_RTT(2));
	EXPECT_U64(e.res.x[2], 0);

	/* The parent entry is not a table: level - 1, X2 = next live entry of that table. */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, TH_L2_SIZE, 3), RC_RTT(2));
	EXPECT_U64(e.res.x[2], 3 * TH_L2_SIZE);            /* entry 3 holds the next table */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 4 * TH_L2_SIZE, 3), RC_RTT(2));
	EXPECT_U64(e.res.x[2], TH_L1_SIZE);                /* nothing live up to the table's end */
	/* The walk stops above: the level reached, X2 from that table. */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, TH_L1_SIZE + TH_L2_SIZE, 3), RC_RTT(1));
	EXPECT_U64(e.res.x[2], 1ULL << 39);                /* end of root 0 */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 5 * TH_L1_SIZE, 2), RC_RTT(1));
	EXPECT_U64(e.res.x[2], 1ULL << 39);

	/* Success: X1 = the RTT, X2 = next live entry in the parent table. */
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 3));
	EXPECT_U64(e.res.x[1], l3a);
	EXPECT_U64(e.res.x[2], 3 * TH_L2_SIZE);
	EXPECT_STATE(&e, l3a, RMMEMU_GRANULE_DELEGATED);
	CU_ASSERT(th_mem_is_zero(&e, l3a));
	EXPECT_ENTRY(&e, r.rd, 0, 3, 2, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	CU_ASSERT_EQUAL(th_meta(&e, l2)->refcount, 1);
	EXPECT_OK(th_data_destroy(&e, r.rd, 3 * TH_L2_SIZE + 5 * GRANULE_SIZE));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 3 * TH_L2_SIZE, 3));
	EXPECT_U64(e.res.x[1], l3b);
	EXPECT_U64(e.res.x[2], TH_L1_SIZE);
	EXPECT_OK(th_rtt_destroy(&e, r.rd, 0, 2));
	EXPECT_U64(e.res.x[1], l2);
	EXPECT_ENTRY(&e, r.rd, 0, 1, 1, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base)->refcount, 0);

	/* Unprotected half: the parent becomes UNASSIGNED_NS (MAP_UNPROTECTED works there). */
	uint64_t u2 = th_dg(&e);
	EXPECT_OK(th_rtt_create(&e, r.rd, u2, UNPROT + TH_L1_SIZE, 2));
	EXPECT_OK(th_rtt_destroy(&e, r.rd, UNPROT + TH_L1_SIZE, 2));
	EXPECT_U64(e.res.x[1], u2);
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + TH_L1_SIZE, 1, TH_L1_SIZE | TH_NS_ATTRS));
	EXPECT_ENTRY(&e, r.rd, UNPROT + TH_L1_SIZE, 1, 1, RMI_ASSIGNED, TH_L1_SIZE | TH_NS_ATTRS, RMI_EMPTY);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- RTT_MAP_UNPROTECTED / RTT_UNMAP_UNPROTECTED ---- */

static void test_map_unprotected(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t ipa3 = UNPROT + TH_L2_SIZE + 3 * GRANULE_SIZE;
	EXPECT_OK(th_rtt_path(&e, &r, ipa3, 3));
	uint64_t l3 = entry_pa(&e, r.rd, ipa3, 2);

	/* Success at every level, with any host attributes but the reserved MemAttr. */
	const uint64_t attrs[] = { TH_NS_ATTRS, 0, RMI_S2TTE_MEMATTR_NORMAL_WB, (1ULL << 6), (2ULL << 6),
				   (5ULL << 2) | (3ULL << 6), (7ULL << 2) };
	for (unsigned i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		uint64_t desc = (TH_DRAM_BASE + i * GRANULE_SIZE) | attrs[i];
		EXPECT_OK(th_map_unprot(&e, r.rd, ipa3 + i * GRANULE_SIZE, 3, desc));
		EXPECT_ENTRY(&e, r.rd, ipa3 + i * GRANULE_SIZE, 3, 3, RMI_ASSIGNED, desc, RMI_EMPTY);
	}
	CU_ASSERT_EQUAL(th_meta(&e, l3)->refcount, 0);
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 9 * TH_L2_SIZE, 2, 0x7FFFE00000ULL | TH_NS_ATTRS));
	EXPECT_ENTRY(&e, r.rd, UNPROT + 9 * TH_L2_SIZE, 2, 2, RMI_ASSIGNED, 0x7FFFE00000ULL | TH_NS_ATTRS, RMI_EMPTY);
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 7 * TH_L1_SIZE, 1, 0xFFFFC0000000ULL | TH_NS_ATTRS));
	EXPECT_ENTRY(&e, r.rd, UNPROT + 7 * TH_L1_SIZE, 1, 1, RMI_ASSIGNED, 0xFFFFC0000000ULL | TH_NS_ATTRS, RMI_EMPTY);
	/* The host may map any address: device memory, a delegated granule, the RD. */
	EXPECT_OK(th_map_unprot(&e, r.rd, ipa3 + 20 * GRANULE_SIZE, 3, TH_DEVICE_BASE | TH_NS_ATTRS));
	EXPECT_OK(th_map_unprot(&e, r.rd, ipa3 + 21 * GRANULE_SIZE, 3, r.rd | TH_NS_ATTRS));
	CHECK_INV(&e);

	uint64_t free3 = ipa3 + 100 * GRANULE_SIZE;
	uint64_t good = TH_DRAM_BASE | TH_NS_ATTRS;
	/* Level. */
	const int64_t bad_level[] = { 0, -1, 4, 5, (int64_t)(1ULL << 32) + 3 };
	for (unsigned i = 0; i < sizeof(bad_level) / sizeof(bad_level[0]); i++)
		EXPECT_RC(th_map_unprot(&e, r.rd, free3, bad_level[i], good), RMI_ERROR_INPUT);
	/* RD. */
	EXPECT_RC(th_map_unprot(&e, th_dg(&e), free3, 3, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, l3, free3, 3, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd + 8, free3, 3, good), RMI_ERROR_INPUT);
	/* Descriptor: RMM-owned bits, address alignment and width, reserved MemAttr. */
	const uint64_t bad_desc[] = {
		good | 1, good | 3, good | (1ULL << 10) /* AF */, good | (3ULL << 8) /* SH */,
		good | (1ULL << 55) /* NS */, good | (2ULL << 53) /* XN */, good | (1ULL << 51),
		good | (1ULL << 63), (TH_DRAM_BASE + 0x800) | TH_NS_ATTRS, (1ULL << 48) | TH_NS_ATTRS,
		TH_DRAM_BASE | (4ULL << 2) /* MemAttr 0b100 is reserved with FWB */,
		TH_DRAM_BASE | (4ULL << 2) | (3ULL << 6),
	};
	for (unsigned i = 0; i < sizeof(bad_desc) / sizeof(bad_desc[0]); i++)
		EXPECT_RC(th_map_unprot(&e, r.rd, free3, 3, bad_desc[i]), RMI_ERROR_INPUT);
	/* Address alignment per level. */
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 10 * TH_L2_SIZE, 2, (TH_DRAM_BASE + GRANULE_SIZE) | TH_NS_ATTRS),
		  RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 2 * TH_L1_SIZE, 1, (TH_DRAM_BASE + TH_L2_SIZE) | TH_NS_ATTRS),
		  RMI_ERROR_INPUT);
	/* IPA: protected, unaligned, beyond the IPA space. */
	EXPECT_RC(th_map_unprot(&e, r.rd, 0, 3, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT - GRANULE_SIZE, 3, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, free3 + 8, 3, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + GRANULE_SIZE, 2, good), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, 1ULL << 40, 1, good), RMI_ERROR_INPUT);
	/* Walk stops above the level: error at the level reached. */
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 3, good), RC_RTT(1));
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 2, good), RC_RTT(1));
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 3 * TH_L2_SIZE, 3, good), RC_RTT(2));
	/* Entry not UNASSIGNED_NS: already mapped, or a table. */
	EXPECT_RC(th_map_unprot(&e, r.rd, ipa3, 3, good), RC_RTT(3));
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 9 * TH_L2_SIZE, 2, good), RC_RTT(2));
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + TH_L2_SIZE, 2, good), RC_RTT(2));   /* table */
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT, 1, good), RC_RTT(1));                  /* table */
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 7 * TH_L1_SIZE, 1, good), RC_RTT(1));
	/* Priorities: input checks before the walk. */
	EXPECT_RC(th_map_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 3, good | 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, ipa3, 3, good | (1ULL << 10)), RMI_ERROR_INPUT);
	EXPECT_RC(th_map_unprot(&e, r.rd, 0, 0, good), RMI_ERROR_INPUT);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static void test_unmap_unprotected(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	uint64_t base = UNPROT + 4 * TH_L2_SIZE;
	EXPECT_OK(th_rtt_path(&e, &r, base, 3));
	EXPECT_OK(th_map_unprot(&e, r.rd, base, 3, TH_DRAM_BASE | TH_NS_ATTRS));
	EXPECT_OK(th_map_unprot(&e, r.rd, base + 5 * GRANULE_SIZE, 3, TH_DRAM_BASE | TH_NS_ATTRS));
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 6 * TH_L2_SIZE, 2, TH_L2_SIZE | TH_NS_ATTRS));
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 1, TH_L1_SIZE | TH_NS_ATTRS));

	/* Input checks. */
	const int64_t bad_level[] = { 0, -1, 4, (int64_t)(1ULL << 32) + 3 };
	for (unsigned i = 0; i < sizeof(bad_level) / sizeof(bad_level[0]); i++)
		EXPECT_RC(th_unmap_unprot(&e, r.rd, base, bad_level[i]), RMI_ERROR_INPUT);
	EXPECT_RC(th_unmap_unprot(&e, th_dg(&e), base, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_unmap_unprot(&e, r.rd + 8, base, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, 0, 3), RMI_ERROR_INPUT);            /* protected */
	EXPECT_RC(th_unmap_unprot(&e, r.rd, base + 8, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, base + GRANULE_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, 1ULL << 40, 3), RMI_ERROR_INPUT);

	/* Not mapped: RTT error at the level, X1 = next live entry. */
	EXPECT_RC(th_unmap_unprot(&e, r.rd, base + GRANULE_SIZE, 3), RC_RTT(3));
	EXPECT_U64(e.res.x[1], base + 5 * GRANULE_SIZE);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, base + 6 * GRANULE_SIZE, 3), RC_RTT(3));
	EXPECT_U64(e.res.x[1], base + TH_L2_SIZE);
	/* Walk stops above: error at the level reached; X1 from that table. */
	EXPECT_RC(th_unmap_unprot(&e, r.rd, UNPROT + 5 * TH_L2_SIZE, 3), RC_RTT(2));
	EXPECT_U64(e.res.x[1], UNPROT + 6 * TH_L2_SIZE);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, UNPROT + 6 * TH_L2_SIZE, 3), RC_RTT(2));   /* a block */
	EXPECT_U64(e.res.x[1], UNPROT + 6 * TH_L2_SIZE);
	EXPECT_RC(th_unmap_unprot(&e, r.rd, UNPROT + 2 * TH_L1_SIZE, 2), RC_RTT(1));
	EXPECT_U64(e.res.x[1], UNPROT + 3 * TH_L1_SIZE);
	/* A table is not an unprotected mapping. */
	EXPECT_RC(th_unmap_unprot(&e, r.rd, UNPROT + 4 * TH_L2_SIZE, 2), RC_RTT(2));

	/* Success: X1 = next live entry. */
	EXPECT_OK(th_unmap_unprot(&e, r.rd, base, 3));
	EXPECT_U64(e.res.x[1], base + 5 * GRANULE_SIZE);
	EXPECT_ENTRY(&e, r.rd, base, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, base + 5 * GRANULE_SIZE, 3));
	EXPECT_U64(e.res.x[1], base + TH_L2_SIZE);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, UNPROT + 6 * TH_L2_SIZE, 2));
	EXPECT_U64(e.res.x[1], UNPROT + TH_L1_SIZE);
	EXPECT_OK(th_unmap_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 1));
	EXPECT_U64(e.res.x[1], 1ULL << 40);
	/* Unmapped twice. */
	EXPECT_RC(th_unmap_unprot(&e, r.rd, UNPROT + 3 * TH_L1_SIZE, 1), RC_RTT(1));
	/* Remapped after unmapping. */
	EXPECT_OK(th_map_unprot(&e, r.rd, base, 3, (TH_DRAM_BASE + GRANULE_SIZE) | TH_NS_ATTRS));
	/* Unmap invalidates the backend's translations. */
	th_vcpu_install(&e);
	uint64_t before = e.invalidations;
	EXPECT_OK(th_unmap_unprot(&e, r.rd, base, 3));
	CU_ASSERT(e.invalidations > before);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* ---- RTT_READ_ENTRY ---- */

static void test_read_entry(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	th_realm(&e, &r);
	EXPECT_OK(th_rtt_path(&e, &r, 0, 3));
	uint64_t l2 = entry_pa(&e, r.rd, 0, 1);
	uint64_t l3 = entry_pa(&e, r.rd, 0, 2);
	CU_ASSERT(l2 != 0 && l3 != 0);
	uint64_t d1 = th_dg(&e), d2 = th_dg(&e), d3 = th_dg(&e);

	/* entries 0..: EMPTY, RAM, DESTROYED unassigned; assigned EMPTY, RAM, DESTROYED */
	EXPECT_OK(th_init_ripas(&e, r.rd, 1 * GRANULE_SIZE, 2 * GRANULE_SIZE));
	EXPECT_OK(th_init_ripas(&e, r.rd, 2 * GRANULE_SIZE, 3 * GRANULE_SIZE));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d1, 2 * GRANULE_SIZE));
	EXPECT_OK(th_data_destroy(&e, r.rd, 2 * GRANULE_SIZE));              /* -> UNASSIGNED DESTROYED */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d1, 3 * GRANULE_SIZE));   /* ASSIGNED EMPTY */
	EXPECT_OK(th_init_ripas(&e, r.rd, 4 * GRANULE_SIZE, 5 * GRANULE_SIZE));
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d2, 4 * GRANULE_SIZE));   /* ASSIGNED RAM */
	EXPECT_OK(th_data_create_unknown(&e, r.rd, d3, 2 * GRANULE_SIZE));   /* ASSIGNED DESTROYED */

	EXPECT_ENTRY(&e, r.rd, 0, 3, 3, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 1 * GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_RAM);
	EXPECT_ENTRY(&e, r.rd, 3 * GRANULE_SIZE, 3, 3, RMI_ASSIGNED, d1, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 4 * GRANULE_SIZE, 3, 3, RMI_ASSIGNED, d2, RMI_RAM);
	EXPECT_ENTRY(&e, r.rd, 2 * GRANULE_SIZE, 3, 3, RMI_ASSIGNED, 0, RMI_DESTROYED);
	EXPECT_OK(th_data_destroy(&e, r.rd, 2 * GRANULE_SIZE));
	EXPECT_ENTRY(&e, r.rd, 2 * GRANULE_SIZE, 3, 3, RMI_UNASSIGNED, 0, RMI_DESTROYED);
	/* Tables at levels 1 and 2; the root level; a walk that stops early. */
	EXPECT_ENTRY(&e, r.rd, 0, 1, 1, RMI_TABLE, l2, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, 0, 2, 2, RMI_TABLE, l3, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, TH_L1_SIZE, 3, 1, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, TH_L2_SIZE, 3, 2, RMI_UNASSIGNED, 0, RMI_EMPTY);
	/* Unprotected: UNASSIGNED_NS reads as UNASSIGNED/EMPTY; ASSIGNED_NS gives the host's desc. */
	EXPECT_ENTRY(&e, r.rd, UNPROT, 1, 1, RMI_UNASSIGNED, 0, RMI_EMPTY);
	EXPECT_OK(th_map_unprot(&e, r.rd, UNPROT, 1, TH_L1_SIZE | (1ULL << 6)));
	EXPECT_ENTRY(&e, r.rd, UNPROT, 1, 1, RMI_ASSIGNED, TH_L1_SIZE | (1ULL << 6), RMI_EMPTY);
	EXPECT_ENTRY(&e, r.rd, UNPROT + GRANULE_SIZE, 3, 1, RMI_ASSIGNED, TH_L1_SIZE | (1ULL << 6), RMI_EMPTY);

	/* Failures. */
	EXPECT_RC(th_read_entry(&e, th_dg(&e), 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, l2, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd + 8, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, TH_DEVICE_BASE, 0, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 0, 0), RMI_ERROR_INPUT);       /* above the start level */
	EXPECT_RC(th_read_entry(&e, r.rd, 0, -1), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 0, 4), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 0, (int64_t)(1ULL << 32) + 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 8, 3), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, GRANULE_SIZE, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, TH_L2_SIZE, 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 1ULL << 40, 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, ~0ULL & ~GRANULE_MASK, 3), RMI_ERROR_INPUT);
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

/* RTT commands in a realm with 8 concatenated level-2 roots (S2SZ 33). */
static void test_concatenated_level2_roots(void)
{
	struct th_env e;
	struct th_realm r;

	th_init(&e, NULL);
	EXPECT_OK(th_build_realm(&e, &r, 33, 2, 8));
	/* Each root covers 1 GiB; roots 0..3 are protected, 4..7 unprotected. */
	for (unsigned t = 0; t < 8; t++) {
		uint64_t ipa = t * TH_L1_SIZE + 5 * TH_L2_SIZE;
		uint64_t rtt = th_dg(&e);
		EXPECT_OK(th_rtt_create(&e, r.rd, rtt, ipa, 3));
		EXPECT_ENTRY(&e, r.rd, ipa, 2, 2, RMI_TABLE, rtt, RMI_EMPTY);
		CU_ASSERT_EQUAL(th_meta(&e, r.rtt_base + t * GRANULE_SIZE)->refcount, 1);
		if (t < 4) {
			uint64_t d = th_dg(&e);
			EXPECT_OK(th_data_create_unknown(&e, r.rd, d, ipa + GRANULE_SIZE));
			EXPECT_ENTRY(&e, r.rd, ipa + GRANULE_SIZE, 3, 3, RMI_ASSIGNED, d, RMI_EMPTY);
			EXPECT_RC(th_map_unprot(&e, r.rd, ipa, 3, TH_DRAM_BASE | TH_NS_ATTRS), RMI_ERROR_INPUT);
		} else {
			EXPECT_OK(th_map_unprot(&e, r.rd, ipa, 3, TH_DRAM_BASE | TH_NS_ATTRS));
			EXPECT_RC(th_data_create_unknown(&e, r.rd, th_dg(&e), ipa), RMI_ERROR_INPUT);
		}
	}
	/* Level 2 is the root: structure commands on level 2 are refused. */
	EXPECT_RC(th_rtt_create(&e, r.rd, th_dg(&e), 0, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_destroy(&e, r.rd, 0, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_rtt_fold(&e, r.rd, 0, 2), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 0, 1), RMI_ERROR_INPUT);
	EXPECT_RC(th_read_entry(&e, r.rd, 1ULL << 33, 2), RMI_ERROR_INPUT);
	/* RTT_DESTROY X2 stays within the root that holds the entry. */
	EXPECT_RC(th_rtt_destroy(&e, r.rd, TH_L1_SIZE + 6 * TH_L2_SIZE, 3), RC_RTT(2));
	EXPECT_U64(e.res.x[2], 2 * TH_L1_SIZE);
	EXPECT_RC(th_realm_destroy(&e, r.rd), RMI_ERROR_REALM);   /* root 7 alone would suffice */
	CHECK_INV(&e);
	th_teardown(&e, &r);
	EXPECT_ALL_UNDELEGATED(&e);
	th_fini(&e);
}

static const struct th_test tests[] = {
	{ "RTT_CREATE success at levels 2 and 3, both roots", test_create_success },
	{ "RTT_CREATE failures and their priority", test_create_failures },
	{ "RTT_CREATE unfold of UNASSIGNED EMPTY/RAM/DESTROYED/NS, RTT_FOLD back", test_unfold_fold_unassigned },
	{ "RTT_FOLD of a level 2 table into the root", test_fold_level2 },
	{ "RTT_CREATE unfold of ASSIGNED EMPTY/RAM/DESTROYED blocks, RTT_FOLD back", test_unfold_fold_assigned },
	{ "RTT_CREATE unfold of ASSIGNED_NS blocks, RTT_FOLD back and its failures", test_unfold_fold_assigned_ns },
	{ "RTT_CREATE unfold of a 1 GiB ASSIGNED_NS block, RTT_FOLD back", test_unfold_fold_ns_level1 },
	{ "RTT_FOLD failures", test_fold_failures },
	{ "RTT_FOLD into a level 0 block is refused", test_fold_level1_forbidden },
	{ "RTT_DESTROY: failures with X2, success with X1/X2", test_destroy },
	{ "RTT_MAP_UNPROTECTED", test_map_unprotected },
	{ "RTT_UNMAP_UNPROTECTED with X1", test_unmap_unprotected },
	{ "RTT_READ_ENTRY: X1..X4 for every entry kind, failures", test_read_entry },
	{ "RTT commands with 8 concatenated level 2 roots", test_concatenated_level2_roots },
};

int main(void)
{
	return th_run_suite("rmi_rtt", tests, sizeof(tests) / sizeof(tests[0]));
}

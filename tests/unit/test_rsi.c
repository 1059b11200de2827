/*
 * RSI 1.0 and realm PSCI, driven directly with a REC context (no vCPU): the test plays the realm by
 * setting the REC's registers and calling rsi_handle_smc(), and plays the host with real RMI calls
 * (RTT_SET_RIPAS, REC_ENTER, PSCI_COMPLETE).
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <openssl/evp.h>
#include <string.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rsi/rsi.h"
#include "rmmemu/rmmemu.h"

#define DRAM_BASE 0x80000000ULL
#define RD        (DRAM_BASE + 0x100000)
#define RTT_ROOT  (DRAM_BASE + 0x108000)       /* 8 concatenated level-2 roots */
#define RTT_L3    (DRAM_BASE + 0x110000)
#define DATA0     (DRAM_BASE + 0x120000)       /* 4 DATA granules at IPA 0x0..0x3fff */
#define REC0      (DRAM_BASE + 0x130000)
#define REC1      (DRAM_BASE + 0x131000)
#define AUX0      (DRAM_BASE + 0x140000)       /* 16 aux for REC0 */
#define AUX1      (DRAM_BASE + 0x150000)       /* 16 aux for REC1 */
#define PARAMS    (DRAM_BASE + 0x1000)
#define RUN       (DRAM_BASE + 0x2000)
#define SRC       (DRAM_BASE + 0x3000)

static struct rmmemu *emu;
static struct rmm *rmm;

static uint64_t smc(uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
		    struct rmmemu_smc_result *r)
{
	return rmmemu_smc6(emu, fid, a1, a2, a3, a4, a5, 0, r);
}

static void w64(uint64_t pa, uint64_t v) { CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write64(emu, pa, v), 0); }

static void zero_granule(uint64_t pa)
{
	static const uint8_t z[4096];
	CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write(emu, pa, z, sizeof(z)), 0);
}

static struct rec *rec_ptr(uint64_t pa) { return granule_mem(rmm, PA(pa)); }
static struct rd *rd_ptr(void) { return granule_mem(rmm, PA(RD)); }

static void delegate(uint64_t pa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_GRANULE_DELEGATE, pa + i * 4096ULL, 0, 0, 0, 0, NULL), RMI_SUCCESS);
}

static void create_rec(uint64_t rec, uint64_t aux, uint64_t mpidr, bool runnable)
{
	delegate(rec, 1);
	delegate(aux, 16);
	zero_granule(PARAMS);
	w64(PARAMS + RMI_REC_PARAMS_FLAGS, runnable ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0);
	w64(PARAMS + RMI_REC_PARAMS_MPIDR, mpidr);
	w64(PARAMS + RMI_REC_PARAMS_PC, 0x1000);
	w64(PARAMS + RMI_REC_PARAMS_NUM_AUX, 16);
	for (unsigned i = 0; i < 16; i++)
		w64(PARAMS + RMI_REC_PARAMS_AUX + 8 * i, aux + i * 4096ULL);
	CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_REC_CREATE, RD, rec, PARAMS, 0, 0, NULL), RMI_SUCCESS);
}

/* An active realm: 33-bit IPA, RIPAS RAM on [0, 2 MiB) at level 3 with 4 DATA granules, 2 RECs. */
static int setup(void)
{
	struct rmmemu_platform_config cfg;
	rmmemu_platform_default(&cfg);
	cfg.dram[0].size = 64ULL << 20;
	emu = rmmemu_create(&cfg, NULL, 0);
	if (!emu)
		return -1;
	rmm = rmmemu_core(emu);
	return 0;
}

static int teardown(void)
{
	rmmemu_destroy(emu);
	return 0;
}

static void build_realm(void)
{
	delegate(RD, 1);
	delegate(RTT_ROOT, 8);
	zero_granule(PARAMS);
	w64(PARAMS + RMI_REALM_PARAMS_S2SZ, 33);
	w64(PARAMS + RMI_REALM_PARAMS_NUM_BPS, 1);
	w64(PARAMS + RMI_REALM_PARAMS_NUM_WPS, 1);
	w64(PARAMS + RMI_REALM_PARAMS_HASH_ALGO, RMI_HASH_SHA_256);
	w64(PARAMS + RMI_REALM_PARAMS_RPV, 0x1122334455667788ULL);
	w64(PARAMS + RMI_REALM_PARAMS_VMID, 7);
	w64(PARAMS + RMI_REALM_PARAMS_RTT_BASE, RTT_ROOT);
	w64(PARAMS + RMI_REALM_PARAMS_RTT_LEVEL_START, 2);
	w64(PARAMS + RMI_REALM_PARAMS_RTT_NUM_START, 8);
	CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_REALM_CREATE, RD, PARAMS, 0, 0, 0, NULL), RMI_SUCCESS);
	delegate(RTT_L3, 1);
	CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_RTT_CREATE, RD, RTT_L3, 0, 3, 0, NULL), RMI_SUCCESS);
	struct rmmemu_smc_result r;
	CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_RTT_INIT_RIPAS, RD, 0, 0x200000, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[1], 0x200000);
	delegate(DATA0, 4);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_DATA_CREATE, RD, DATA0 + i * 4096ULL, i * 4096ULL, SRC, 1, NULL),
				      RMI_SUCCESS);
	create_rec(REC0, AUX0, 0, true);
	create_rec(REC1, AUX1, 1, false);
	CU_ASSERT_EQUAL_FATAL(smc(SMC_RMI_REALM_ACTIVATE, RD, 0, 0, 0, 0, NULL), RMI_SUCCESS);
}

/* The realm executes SMC with X0..X7 = fid, args. Returns true if the REC exits to the host. */
static bool realm_smc(struct rec *rec, struct rec_exit_image *x, uint64_t fid, uint64_t a1, uint64_t a2,
		      uint64_t a3, uint64_t a4)
{
	memset(x, 0, sizeof(*x));
	rec->regs[0] = fid;
	rec->regs[1] = a1;
	rec->regs[2] = a2;
	rec->regs[3] = a3;
	rec->regs[4] = a4;
	return rsi_handle_smc(rmm, rec, x);
}

static uint64_t rec_enter(uint64_t rec, uint64_t flags, const uint64_t *gprs)
{
	zero_granule(RUN);
	w64(RUN + RMI_REC_ENTER_FLAGS, flags);
	for (unsigned i = 0; gprs && i < 31; i++)
		w64(RUN + RMI_REC_ENTER_GPRS + 8 * i, gprs[i]);
	return smc(SMC_RMI_REC_ENTER, rec, RUN, 0, 0, 0, NULL);
}

static void test_version_features(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	uint64_t pc = rec->pc;
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_VERSION, RSI_ABI_VERSION, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x10000);
	CU_ASSERT_EQUAL(rec->regs[2], 0x10000);
	CU_ASSERT_EQUAL(rec->pc, pc + 4);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_VERSION, 0x20000, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_EQUAL(rec->regs[1], 0x10000);
	/* SVE hint bit (16) is ignored */
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_VERSION | (1ULL << 16), RSI_ABI_VERSION, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_FEATURES, 0, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, 0x80000000ULL, 0, 0, 0, 0)); /* SMCCC_VERSION */
	CU_ASSERT_EQUAL(rec->regs[0], 0x10002);
	/* Unknown FIDs: SMCCC NOT_SUPPORTED, X4 preserved */
	CU_ASSERT_FALSE(realm_smc(rec, &x, 0xC400019AULL, 0, 0, 0, 0x44));
	CU_ASSERT_EQUAL(rec->regs[0], (uint64_t)-1);
	CU_ASSERT_EQUAL(rec->regs[4], 0x44);
	CU_ASSERT_FALSE(realm_smc(rec, &x, 0xC4000150ULL, 0, 0, 0, 0)); /* an RMI FID from the realm */
	CU_ASSERT_EQUAL(rec->regs[0], (uint64_t)-1);
}

static void test_realm_config(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_REALM_CONFIG, 0x1000, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	const uint8_t *cfg = granule_mem(rmm, PA(DATA0 + 0x1000));
	uint64_t width, rpv;
	memcpy(&width, cfg + RSI_REALM_CONFIG_IPA_WIDTH, 8);
	memcpy(&rpv, cfg + RSI_REALM_CONFIG_RPV, 8);
	CU_ASSERT_EQUAL(width, 33);
	CU_ASSERT_EQUAL(cfg[RSI_REALM_CONFIG_HASH_ALGO], RSI_HASH_SHA_256);
	CU_ASSERT_EQUAL(rpv, 0x1122334455667788ULL);
	/* Misaligned, unprotected, RIPAS EMPTY: RSI_ERROR_INPUT */
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_REALM_CONFIG, 0x1008, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_REALM_CONFIG, 1ULL << 32, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_REALM_CONFIG, 0x400000, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	/* RIPAS RAM but no DATA: a stage-2 data abort exit; the SMC is not retired */
	uint64_t pc = rec->pc;
	CU_ASSERT_TRUE(realm_smc(rec, &x, SMC_RSI_REALM_CONFIG, 0x10000, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->pc, pc);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_SYNC);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_ESR), (0x24ULL << 26) | 0x7); /* level 3 translation */
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_HPFAR), 0x10000 >> 8);
	CU_ASSERT_EQUAL(rec->regs[0], SMC_RSI_REALM_CONFIG); /* registers untouched */
}

static void test_measurements(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	struct rd *rd = rd_ptr();
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_READ, 0, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(memcmp(&rec->regs[1], rd->measurement[0], 32), 0);
	CU_ASSERT_EQUAL(rec->regs[5], 0); /* SHA-256: X5..X8 are zero */
	CU_ASSERT_EQUAL(rec->regs[8], 0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_READ, 5, 0, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);

	/* REM1 := SHA-256(REM1 (32 zero bytes) || 32 bytes of data) */
	uint8_t data[64], expect[32], in[64] = { 0 };
	for (unsigned i = 0; i < 64; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	memcpy(&rec->regs[3], data, 64);
	memcpy(in + 32, data, 32);
	CU_ASSERT_FATAL(EVP_Digest(in, 64, expect, NULL, EVP_sha256(), NULL));
	rec->regs[0] = SMC_RSI_MEASUREMENT_EXTEND;
	rec->regs[1] = 1;
	rec->regs[2] = 32;
	CU_ASSERT_FALSE(rsi_handle_smc(rmm, rec, &x));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(memcmp(rd->measurement[1], expect, 32), 0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_READ, 1, 0, 0, 0));
	CU_ASSERT_EQUAL(memcmp(&rec->regs[1], expect, 32), 0);
	/* RIM cannot be extended; size > 64; slot 5 */
	uint8_t rim[64];
	memcpy(rim, rd->measurement[0], 64);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_EXTEND, 0, 8, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_EQUAL(memcmp(rim, rd->measurement[0], 64), 0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_EXTEND, 2, 65, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_MEASUREMENT_EXTEND, 5, 8, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
}

static void test_ipa_state_get(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_GET, 0, 0x200000, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x200000);
	CU_ASSERT_EQUAL(rec->regs[2], RMI_RAM);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_GET, 0x200000, 0x800000, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x800000);
	CU_ASSERT_EQUAL(rec->regs[2], RMI_EMPTY);
	/* The answer stops at the requested end */
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_GET, 0x1000, 0x3000, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[1], 0x3000);
	static const uint64_t bad[][2] = { { 0x1001, 0x2000 }, { 0x1000, 0x1800 }, { 0x2000, 0x2000 },
					   { 0x3000, 0x2000 }, { 0xFFFFF000, 0x100001000ULL } };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_GET, bad[i][0], bad[i][1], 0, 0));
		CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	}
}

static void test_ipa_state_set(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	struct rmmemu_smc_result r;

	/* Bad requests never reach the host */
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x200000, 0x400000, 2, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x200800, 0x400000, 1, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x400000, 0x200000, 1, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0xFFFFF000, 0x100001000ULL, 1, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);

	/* EMPTY -> RAM over [2 MiB, 4 MiB): RIPAS_CHANGE exit, host applies, REC_ENTER completes */
	CU_ASSERT_TRUE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x200000, 0x400000, RMI_RAM, 0));
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_RIPAS_CHANGE);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_RIPAS_BASE), 0x200000);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_RIPAS_TOP), 0x400000);
	CU_ASSERT_EQUAL(x.bytes[RMI_REC_EXIT_RIPAS_VALUE - RMI_REC_EXIT_BASE], RMI_RAM);
	/* Host gets the range wrong first */
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC0, 0x201000, 0x400000, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC0, 0x200000, 0x600000, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC1, 0x200000, 0x400000, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC0, 0x200000, 0x400000, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[1], 0x400000);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_READ_ENTRY, RD, 0x200000, 2, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[4], RMI_RAM);
	CU_ASSERT_EQUAL(rec_enter(REC0, 0, NULL), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x400000);
	CU_ASSERT_EQUAL(rec->regs[2], RSI_ACCEPT);
	/* No change is pending any more */
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC0, 0x200000, 0x400000, 0, &r), RMI_ERROR_INPUT);

	/* The host rejects: nothing applied, the realm sees REJECT with its base unchanged */
	CU_ASSERT_TRUE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x400000, 0x600000, RMI_RAM, 0));
	CU_ASSERT_EQUAL(rec_enter(REC0, RMI_REC_ENTER_FLAG_RIPAS_RESPONSE, NULL), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x400000);
	CU_ASSERT_EQUAL(rec->regs[2], RSI_REJECT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_READ_ENTRY, RD, 0x400000, 2, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[4], RMI_EMPTY);

	/* RAM -> EMPTY of the DATA pages: ASSIGNED RAM becomes ASSIGNED EMPTY */
	CU_ASSERT_TRUE(realm_smc(rec, &x, SMC_RSI_IPA_STATE_SET, 0x2000, 0x4000, RMI_EMPTY, 0));
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_SET_RIPAS, RD, REC0, 0x2000, 0x4000, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec_enter(REC0, 0, NULL), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[1], 0x4000);
	CU_ASSERT_EQUAL(smc(SMC_RMI_RTT_READ_ENTRY, RD, 0x2000, 3, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[2], RMI_ASSIGNED);
	CU_ASSERT_EQUAL(r.x[4], RMI_EMPTY);
	char msg[256];
	CU_ASSERT_EQUAL(rmmemu_check_invariants(emu, msg, sizeof(msg)), 0);
}

static void test_host_call(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	uint8_t *page = granule_mem(rmm, PA(DATA0 + 0x1000));
	uint16_t imm = 0x1234;
	memcpy(page + 0x100 + RSI_HOST_CALL_IMM, &imm, 2);
	for (uint64_t i = 0; i < 31; i++) {
		uint64_t v = 0xA000 + i;
		memcpy(page + 0x100 + RSI_HOST_CALL_GPRS + 8 * i, &v, 8);
	}
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_HOST_CALL, 0x1110, 0, 0, 0)); /* not 256-byte aligned */
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_HOST_CALL, 0x400100, 0, 0, 0)); /* RIPAS EMPTY */
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_TRUE(realm_smc(rec, &x, SMC_RSI_HOST_CALL, 0x1100, 0, 0, 0));
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_HOST_CALL);
	CU_ASSERT_EQUAL(x.bytes[RMI_REC_EXIT_IMM - RMI_REC_EXIT_BASE], 0x34);
	CU_ASSERT_EQUAL(x.bytes[RMI_REC_EXIT_IMM + 1 - RMI_REC_EXIT_BASE], 0x12);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_GPRS + 8 * 30), 0xA000 + 30);
	uint64_t gprs[31];
	for (unsigned i = 0; i < 31; i++)
		gprs[i] = 0xB000 + i;
	CU_ASSERT_EQUAL(rec_enter(REC0, 0, gprs), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec->regs[0], RSI_SUCCESS);
	uint64_t v;
	memcpy(&v, page + 0x100 + RSI_HOST_CALL_GPRS + 8 * 5, 8);
	CU_ASSERT_EQUAL(v, 0xB005);
	CU_ASSERT_FALSE(rec->host_call);
}

static void test_psci(void)
{
	struct rec_exit_image x;
	struct rec *rec0 = rec_ptr(REC0), *rec1 = rec_ptr(REC1);
	struct rmmemu_smc_result r;

	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0x84000000ULL, 0, 0, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], 0x10001);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0x8400000AULL, 0xC4000003ULL, 0, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], 0);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0x8400000AULL, 0x84000012ULL, 0, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], (uint64_t)-1);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0x84000012ULL, 0, 0, 0, 0)); /* SYSTEM_RESET2: not supported */
	CU_ASSERT_EQUAL(rec0->regs[0], (uint64_t)-1);
	/* CPU_ON: self, bad target, entry outside the protected IPA space */
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000003ULL, 0, 0x1000, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_ALREADY_ON);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000003ULL, 2, 0x1000, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_INVALID_PARAMS);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000003ULL, 1, 1ULL << 32, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_INVALID_ADDRESS);
	/* AFFINITY_INFO of itself is local */
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000004ULL, 0, 0, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], 0);
	CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000004ULL, 1, 1, 0, 0));
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_INVALID_PARAMS);
	/* A target_cpu that is not a valid MPIDR is the RMM's PSCI_INVALID_PARAMETERS even when its
	 * affinity fields alone would name REC1: Aff0[7:4], bits 31:24 (MPIDR_EL1's RES1 bit 31 too),
	 * bits 63:40 (fuzz_rsi found these going to the host as requests for REC1). */
	static const uint64_t bad_mpidr[] = { 0x11, 0x71, 0x80000001ULL, 0x1000001ULL, 0x10000000001ULL, 1ULL << 63 | 1 };
	for (unsigned i = 0; i < sizeof(bad_mpidr) / sizeof(bad_mpidr[0]); i++) {
		CU_ASSERT_FALSE(realm_smc(rec0, &x, 0xC4000003ULL, bad_mpidr[i], 0x1000, 0, 0));
		CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_INVALID_PARAMS);
		CU_ASSERT_FALSE(realm_smc(rec0, &x, 0x84000004ULL, bad_mpidr[i], 0, 0, 0));
		CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_INVALID_PARAMS);
		CU_ASSERT_FALSE(rec0->psci_info.pending);
	}

	/* REC1 is off: AFFINITY_INFO goes to the host */
	CU_ASSERT_TRUE(realm_smc(rec0, &x, 0xC4000004ULL, 1, 0, 0, 0));
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_GPRS), 0xC4000004ULL);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_GPRS + 8), 1);
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_GPRS + 16), 0);
	CU_ASSERT_EQUAL(rec_enter(REC0, 0, NULL), RMI_ERROR_REC); /* PSCI request pending */
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC1, (uint64_t)-3, 0, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC0, 0, 0, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC1, 0, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec0->regs[0], 1); /* OFF */
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC1, 0, 0, 0, &r), RMI_ERROR_INPUT); /* nothing pending */

	/* CPU_ON REC1 at 0x2000 with context id 0x77 */
	CU_ASSERT_TRUE(realm_smc(rec0, &x, 0xC4000003ULL, 1, 0x2000, 0x77, 0));
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	CU_ASSERT_EQUAL(rec_enter(REC1, 0, NULL), RMI_ERROR_REC); /* not runnable yet */
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC1, 0, 0, 0, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_SUCCESS);
	CU_ASSERT_TRUE(rec1->runnable);
	CU_ASSERT_EQUAL(rec1->pc, 0x2000);
	CU_ASSERT_EQUAL(rec1->regs[0], 0x77);
	CU_ASSERT_EQUAL(rec_enter(REC1, 0, NULL), RMI_SUCCESS);
	/* CPU_ON again: the host may not deny a CPU that is on; the realm sees ALREADY_ON */
	CU_ASSERT_TRUE(realm_smc(rec0, &x, 0xC4000003ULL, 1, 0x2000, 0, 0));
	CU_ASSERT_EQUAL(smc(SMC_RMI_PSCI_COMPLETE, REC0, REC1, (uint64_t)-3, 0, 0, &r), RMI_ERROR_INPUT);
	CU_ASSERT_EQUAL(rec0->regs[0], PSCI_RETURN_ALREADY_ON);
	/* CPU_OFF on REC1 */
	CU_ASSERT_TRUE(realm_smc(rec1, &x, 0x84000002ULL, 0, 0, 0, 0));
	CU_ASSERT_FALSE(rec1->runnable);
	CU_ASSERT_EQUAL(rec_enter(REC1, 0, NULL), RMI_ERROR_REC);
	/* SYSTEM_OFF: the realm can no longer run */
	CU_ASSERT_TRUE(realm_smc(rec0, &x, 0x84000008ULL, 0, 0, 0, 0));
	CU_ASSERT_EQUAL(rec_exit_get64(&x, RMI_REC_EXIT_REASON), RMI_EXIT_PSCI);
	CU_ASSERT_EQUAL(rec_enter(REC0, 0, NULL), RMI_PACK_RETURN(RMI_ERROR_REALM, 1));
}

static void test_attest_protocol_errors(void)
{
	struct rec_exit_image x;
	struct rec *rec = rec_ptr(REC0);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_ATTEST_TOKEN_CONTINUE, 0x1000, 0, 4096, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_STATE); /* no INIT */
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_ATTEST_TOKEN_CONTINUE, 0x1008, 0, 8, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_ATTEST_TOKEN_CONTINUE, 0x1000, 4096, 0, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_ATTEST_TOKEN_CONTINUE, 0x1000, 8, 4096, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
	CU_ASSERT_FALSE(realm_smc(rec, &x, SMC_RSI_ATTEST_TOKEN_CONTINUE, 1ULL << 32, 0, 8, 0));
	CU_ASSERT_EQUAL(rec->regs[0], RSI_ERROR_INPUT);
}

/* Order matters: the realm is built once and the PSCI test ends with SYSTEM_OFF. */
static const struct th_test tests[] = {
	{ "build an active realm", build_realm },
	{ "RSI_VERSION, RSI_FEATURES, SMCCC_VERSION, unknown FIDs", test_version_features },
	{ "RSI_REALM_CONFIG", test_realm_config },
	{ "RSI_MEASUREMENT_READ / EXTEND", test_measurements },
	{ "RSI_IPA_STATE_GET", test_ipa_state_get },
	{ "RSI_IPA_STATE_SET + RTT_SET_RIPAS + REC_ENTER", test_ipa_state_set },
	{ "RSI_HOST_CALL + REC_ENTER completion", test_host_call },
	{ "RSI attestation protocol errors", test_attest_protocol_errors },
	{ "PSCI from a realm + RMI_PSCI_COMPLETE", test_psci },
};

int main(void)
{
	return TH_RUN("rsi", setup, teardown, tests);
}

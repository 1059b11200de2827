/*
 * Shared helpers of the RMI unit tests (tests/unit/test_rmi_*.c).
 *
 *  - a small platform (64 MiB DRAM with a secure and a root range, a device range, a hole);
 *  - a bump allocator of normal-world granules, optionally delegated;
 *  - one wrapper per RMI command (returns X0, keeps X0..X4 of the last call in env->res);
 *  - writers of RmiRealmParams / RmiRecParams / RmiRecEnter images in NS memory;
 *  - build-a-realm / build-a-REC / create-an-RTT-path helpers and a generic teardown that
 *    destroys everything a realm owns and undelegates every DELEGATED granule;
 *  - a scripted fake vCPU backend (the test decides what the "realm" did before each exit);
 *  - assertion helpers that print decoded RMI return codes on failure.
 *
 * White-box access (struct rd / struct rec inside their granules) is available through
 * th_rd()/th_rec() for checks the SMC interface cannot express.
 */
#ifndef TESTS_UNIT_HELPERS_TH_H
#define TESTS_UNIT_HELPERS_TH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <CUnit/Basic.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rmmemu/rmi_defs.h"
#include "rmmemu/rmmemu.h"

/* ---- platform ---- */
#define TH_DRAM_BASE     0x80000000ULL
#define TH_DRAM_SIZE     (64ULL << 20)
#define TH_SECURE_BASE   (TH_DRAM_BASE + TH_DRAM_SIZE - (4ULL << 20))
#define TH_SECURE_SIZE   (1ULL << 20)
#define TH_ROOT_BASE     (TH_DRAM_BASE + TH_DRAM_SIZE - (2ULL << 20))
#define TH_ROOT_SIZE     (1ULL << 20)
#define TH_ALLOC_END     TH_SECURE_BASE         /* the allocator stays below the secure range */
#define TH_DEVICE_BASE   0x09000000ULL          /* inside the device range [0, 1 GiB) */
#define TH_HOLE          0x60000000ULL          /* neither device nor DRAM */
#define TH_BEYOND_DRAM   (TH_DRAM_BASE + TH_DRAM_SIZE)

#define TH_L3_SIZE       0x1000ULL
#define TH_L2_SIZE       0x200000ULL
#define TH_L1_SIZE       0x40000000ULL
#define TH_L0_SIZE       0x8000000000ULL

#define RC_RTT(level)    RMI_PACK_RETURN(RMI_ERROR_RTT, (level))
#define RC_REALM(index)  RMI_PACK_RETURN(RMI_ERROR_REALM, (index))

/* The host-side MemAttr/S2AP of an unprotected mapping (normal WB, RW). */
#define TH_NS_ATTRS      (RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW)

struct th_env;
typedef void (*th_run_fn)(struct th_env *e, struct rec *rec, uint64_t rec_pa, uint8_t *exit);

struct th_env {
	struct rmmemu *emu;
	struct rmm *rmm;                      /* white-box view of the core */
	struct rmmemu_platform_config cfg;
	uint64_t next, end;                   /* bump allocator over DRAM range 0 */
	unsigned next_vmid;
	struct rmmemu_smc_result res;         /* X0..X4 of the last RMI call */
	/* Fake vCPU backend (th_vcpu_install). */
	th_run_fn on_run;                     /* NULL: exit with RMI_EXIT_IRQ */
	unsigned runs;
	uint64_t invalidations;               /* s2_invalidate calls seen */
	struct { uint64_t ipa, size; } inval_log[64];   /* the last 64 invalidated ranges */
	unsigned rec_destroys;                /* rec_destroy calls seen */
	void *user;
};

/* Platform configurations. */
void th_platform_small(struct rmmemu_platform_config *cfg);
/* pa_bits 52, a DRAM range that straddles 2^48 (TH_HIGH_BASE .. +4 MiB) besides the small one. */
#define TH_HIGH_BASE     ((1ULL << 48) - (2ULL << 20))
#define TH_HIGH_SIZE     (4ULL << 20)
void th_platform_pa52(struct rmmemu_platform_config *cfg);

/* Environment: create with cfg (NULL = th_platform_small). CU_FAIL_FATAL on error. */
void th_init(struct th_env *e, const struct rmmemu_platform_config *cfg);
void th_fini(struct th_env *e);

/* ---- allocation ---- */
uint64_t th_ns(struct th_env *e);                                  /* one NS granule */
uint64_t th_ns_n(struct th_env *e, unsigned n, uint64_t align);    /* n contiguous NS granules */
uint64_t th_dg(struct th_env *e);                                  /* one delegated granule */
uint64_t th_dg_n(struct th_env *e, unsigned n, uint64_t align);    /* n contiguous, delegated */
void th_fill(struct th_env *e, uint64_t pa, uint8_t byte);         /* host writes a pattern */
bool th_is_zero(struct th_env *e, uint64_t pa);                    /* host reads zeros */
void th_state(struct th_env *e, uint64_t pa, enum rmmemu_granule_state expect, const char *file,
	      int line);
#define EXPECT_STATE(e, pa, st) th_state((e), (pa), (st), __FILE__, __LINE__)

/* ---- RMI wrappers: return X0, full result in e->res ---- */
uint64_t th_call(struct th_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5);
uint64_t th_delegate(struct th_env *e, uint64_t pa);
uint64_t th_undelegate(struct th_env *e, uint64_t pa);
uint64_t th_realm_create(struct th_env *e, uint64_t rd, uint64_t params);
uint64_t th_realm_activate(struct th_env *e, uint64_t rd);
uint64_t th_realm_destroy(struct th_env *e, uint64_t rd);
uint64_t th_rec_create(struct th_env *e, uint64_t rd, uint64_t rec, uint64_t params);
uint64_t th_rec_destroy(struct th_env *e, uint64_t rec);
uint64_t th_rec_enter(struct th_env *e, uint64_t rec, uint64_t run);
uint64_t th_rec_aux_count(struct th_env *e, uint64_t rd);
uint64_t th_data_create(struct th_env *e, uint64_t rd, uint64_t data, uint64_t ipa, uint64_t src,
			uint64_t flags);
uint64_t th_data_create_unknown(struct th_env *e, uint64_t rd, uint64_t data, uint64_t ipa);
uint64_t th_data_destroy(struct th_env *e, uint64_t rd, uint64_t ipa);
uint64_t th_rtt_create(struct th_env *e, uint64_t rd, uint64_t rtt, uint64_t ipa, int64_t level);
uint64_t th_rtt_destroy(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level);
uint64_t th_rtt_fold(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level);
uint64_t th_map_unprot(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level, uint64_t desc);
uint64_t th_unmap_unprot(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level);
uint64_t th_read_entry(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level);
uint64_t th_init_ripas(struct th_env *e, uint64_t rd, uint64_t base, uint64_t top);
uint64_t th_set_ripas(struct th_env *e, uint64_t rd, uint64_t rec, uint64_t base, uint64_t top);
uint64_t th_psci_complete(struct th_env *e, uint64_t calling, uint64_t target, uint64_t status);

/* ---- assertions ---- */
void th_expect_rc(uint64_t got, uint64_t expect, const char *what, const char *file, int line);
void th_expect_u64(uint64_t got, uint64_t expect, const char *what, const char *file, int line);
#define EXPECT_RC(call, expect) th_expect_rc((call), (expect), #call, __FILE__, __LINE__)
#define EXPECT_OK(call) th_expect_rc((call), RMI_SUCCESS, #call, __FILE__, __LINE__)
#define EXPECT_U64(got, expect) th_expect_u64((uint64_t)(got), (uint64_t)(expect), #got, __FILE__, __LINE__)
/* rmmemu_check_invariants() == 0, message printed otherwise. */
void th_check_invariants(struct th_env *e, const char *file, int line);
#define CHECK_INV(e) th_check_invariants((e), __FILE__, __LINE__)
/* RTT_READ_ENTRY(ipa, level) returns SUCCESS with X1..X4 as given. */
void th_expect_entry(struct th_env *e, uint64_t rd, uint64_t ipa, int level, uint64_t walk_level,
		     uint64_t state, uint64_t desc, uint64_t ripas, const char *file, int line);
#define EXPECT_ENTRY(e, rd, ipa, level, wl, state, desc, ripas) \
	th_expect_entry((e), (rd), (ipa), (level), (wl), (state), (desc), (ripas), __FILE__, __LINE__)

/* ---- parameter images ---- */
struct th_realm_params {
	uint64_t flags;
	uint8_t s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs, hash_algo;
	uint8_t rpv[RMI_RPV_SIZE];
	uint16_t vmid;
	uint64_t rtt_base;
	int64_t rtt_level_start;
	uint32_t rtt_num_start;
};
/* Valid defaults for the platform (bps/wps/pmu from cfg), s2sz/start level/roots as given. */
void th_realm_params_init(struct th_env *e, struct th_realm_params *p, unsigned s2sz, int sl,
			  unsigned nroots, uint64_t rtt_base);
void th_realm_params_image(const struct th_realm_params *p, uint8_t img[GRANULE_SIZE]);
void th_write_realm_params(struct th_env *e, uint64_t pa, const struct th_realm_params *p);

struct th_rec_params {
	uint64_t flags, mpidr, pc;
	uint64_t gprs[RMI_REC_CREATE_NR_GPRS];
	uint64_t num_aux;
	uint64_t aux[RMI_MAX_REC_AUX_GRANULES];
};
void th_write_rec_params(struct th_env *e, uint64_t pa, const struct th_rec_params *p);

struct th_rec_enter {
	uint64_t flags;
	uint64_t gprs[RMI_REC_NR_GPRS];
	uint64_t gicv3_hcr;
	uint64_t gicv3_lrs[RMI_REC_GIC_NUM_LRS];
};
void th_write_rec_enter(struct th_env *e, uint64_t run, const struct th_rec_enter *en);
uint64_t th_run_get64(struct th_env *e, uint64_t run, unsigned off);

/* RmiRecMpidr of REC index idx (Aff0 = idx[3:0], Aff1 = idx[11:4], ...). */
uint64_t th_mpidr(unsigned idx);
/* MPIDR_EL1 form (Aff3 at 39:32) as a realm names a CPU in PSCI calls. */
uint64_t th_mpidr_el1(unsigned idx);

/* ---- realms ---- */
#define TH_MAX_RECS 8
struct th_realm {
	uint64_t rd, params, rtt_base;
	unsigned s2sz, nroots;
	int sl;
	unsigned vmid;
	uint64_t recs[TH_MAX_RECS];
	unsigned nrecs;
};
/* Delegate RD + roots, write params (vmid from the env's counter), REALM_CREATE; returns X0. */
uint64_t th_build_realm(struct th_env *e, struct th_realm *r, unsigned s2sz, int sl, unsigned nroots);
/* Same with default geometry: s2sz 40, start level 1, 2 roots. CU_FAIL_FATAL if it fails. */
void th_realm(struct th_env *e, struct th_realm *r);
static inline uint64_t th_par(const struct th_realm *r) { return 1ULL << (r->s2sz - 1); }

/* Create the missing RTTs from start level + 1 down to `level` on the path to ipa. Returns
 * RMI_SUCCESS or the first failing X0. */
uint64_t th_rtt_path(struct th_env *e, const struct th_realm *r, uint64_t ipa, int level);

/* Delegate a REC + 16 aux granules, write params, REC_CREATE; returns X0; on success the
 * REC is recorded in r->recs. */
uint64_t th_build_rec(struct th_env *e, struct th_realm *r, uint64_t *rec_out, unsigned idx,
		      bool runnable, uint64_t pc);

/* A REC run granule with a zero RmiRecEnter (NS). */
uint64_t th_run_granule(struct th_env *e);

/* Destroy everything the realm owns (RECs, DATA, RTTs, unprotected mappings), the realm itself,
 * then undelegate every DELEGATED granule of the platform. Asserts success of each step. */
void th_teardown(struct th_env *e, struct th_realm *r);
/* Undelegate every DELEGATED granule of the platform. */
void th_undelegate_all(struct th_env *e);
/* Census: every DRAM granule UNDELEGATED. */
void th_expect_all_undelegated(struct th_env *e, const char *file, int line);
#define EXPECT_ALL_UNDELEGATED(e) th_expect_all_undelegated((e), __FILE__, __LINE__)

/* ---- white box ---- */
struct rd *th_rd(struct th_env *e, uint64_t rd_pa);
struct rec *th_rec(struct th_env *e, uint64_t rec_pa);
struct granule *th_meta(struct th_env *e, uint64_t pa);
/* Raw access to any DRAM granule's contents, whatever its PAS (within one granule). */
void th_poke(struct th_env *e, uint64_t pa, const void *buf, size_t len);
void th_peek(struct th_env *e, uint64_t pa, void *buf, size_t len);
bool th_mem_is_zero(struct th_env *e, uint64_t pa);
/* Issue an RMI command from inside a vCPU run callback (the core lock is already held). */
uint64_t th_call_locked(struct th_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4, uint64_t a5, uint64_t res[5]);

/* ---- fake vCPU backend ---- */
void th_vcpu_install(struct th_env *e);
/* True if an s2_invalidate since the last th_inval_clear() covered all of [ipa, ipa + size). */
bool th_invalidated(const struct th_env *e, uint64_t ipa, uint64_t size);
void th_inval_clear(struct th_env *e);
void th_exit_put64(uint8_t *exit, unsigned off, uint64_t v);
/* What the RMM does when the realm makes a data abort on ipa (emulatable when isv). */
void th_exit_data_abort(uint8_t *exit, struct rec *rec, uint64_t ipa, bool isv, bool write,
			unsigned srt, unsigned sas, bool sse, bool sf);
/* The realm executes SMC with X0..X4 = fid, x1..x4: handled by the RSI (rsi_handle_smc), as
 * the vCPU would do. Returns true when the REC exits to the host (the exit image is filled). */
bool th_realm_smc(struct th_env *e, uint8_t *exit, struct rec *rec, uint64_t fid, uint64_t x1,
		  uint64_t x2, uint64_t x3, uint64_t x4);

#define TH_PSCI_CPU_ON_64        0xC4000003ULL
#define TH_PSCI_AFFINITY_INFO_64 0xC4000004ULL
#define TH_PSCI_CPU_ON_32        0x84000003ULL
#define TH_PSCI_AFFINITY_INFO_32 0x84000004ULL
#define TH_PSCI_SYSTEM_OFF       0x84000008ULL
#define TH_RSI_IPA_STATE_SET     0xC4000197ULL

/* ---- CUnit driver ---- */
struct th_test {
	const char *name;
	void (*fn)(void);
};
/* Register one suite with the tests, run verbosely, return non-zero on any failure. */
int th_run_suite(const char *suite, const struct th_test *tests, unsigned n);
/* The same with a suite set-up and clean-up (CUnit's init/cleanup; a failing set-up fails the run). */
int th_run_suite_fixture(const char *suite, int (*init)(void), int (*fini)(void), const struct th_test *tests,
			 unsigned n);
#define TH_RUN(suite, init, fini, tests) \
	th_run_suite_fixture(suite, init, fini, tests, (unsigned)(sizeof(tests) / sizeof((tests)[0])))

#endif

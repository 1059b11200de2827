/*
 * Realm Descriptor (RD) and Realm Execution Context (REC) objects. Both live inside their own
 * granule (realm PAS), as in the firmware: the host can never read them, and scrubbing the granule
 * destroys them.
 */
#ifndef RMM_REALM_H
#define RMM_REALM_H

#include <stdbool.h>
#include <stdint.h>

#include "rmm.h"

enum realm_state {
	REALM_NEW = 0,
	REALM_ACTIVE,
	REALM_SYSTEM_OFF,
};

enum hash_algo {
	HASH_SHA_256 = 0,
	HASH_SHA_512 = 1,
};

#define MEASUREMENT_SLOT_NR   5      /* RIM + 4 REMs */
#define RIM_MEASUREMENT_SLOT  0

/* SCTLR_EL1 at REC creation / PSCI reset: SPAN, EIS, nTWE, nTWI, EOS, nAA, CP15BEN, SA0, SA. */
#define SCTLR_EL1_FLAGS       0x00C50878ULL
#define SCTLR_EL1_EE          (1ULL << 25)
/* PSTATE at REC creation: EL1h, AArch64, D, A, I, F masked. */
#define PSTATE_EL1H_DAIF      0x3C5ULL
#define MAX_MEASUREMENT_SIZE  64

/* Stage-2 translation context of a realm. */
struct s2tt_ctx {
	rmm_pa_t rtt_base;      /* first root RTT; the rest are contiguous */
	unsigned ipa_bits;      /* S2SZ */
	int start_level;
	unsigned num_root_rtts;
	bool lpa2;
	unsigned vmid;
};

struct rd {
	uint8_t state;          /* enum realm_state */
	uint8_t algorithm;      /* enum hash_algo */
	uint64_t rec_count;     /* RECs created so far (next REC index) */
	struct s2tt_ctx s2;
	uint8_t rpv[RMI_RPV_SIZE];
	bool sve_en;
	unsigned sve_vl;
	bool pmu_en;
	unsigned pmu_num_ctrs;
	unsigned num_bps, num_wps;
	unsigned num_rec_aux;
	uint8_t measurement[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE];
};
_Static_assert(sizeof(struct rd) <= GRANULE_SIZE, "RD must fit in a granule");

static inline uint64_t realm_ipa_size(const struct rd *rd) { return 1ULL << rd->s2.ipa_bits; }
static inline uint64_t realm_par_size(const struct rd *rd) { return 1ULL << (rd->s2.ipa_bits - 1); }
static inline bool addr_in_par(const struct rd *rd, uint64_t ipa) { return ipa < realm_par_size(rd); }

enum ripas_response { RIPAS_ACCEPT = 0, RIPAS_REJECT = 1 };

struct rec {
	rmm_pa_t self;          /* this REC's granule */
	rmm_pa_t rd;            /* owning realm */
	uint64_t rec_idx;
	uint64_t mpidr;         /* RmiRecMpidr as given at creation */
	bool runnable;

	/* Architectural state (loaded into the vCPU on entry, saved on exit). */
	uint64_t regs[31];
	uint64_t pc;
	uint64_t pstate;
	uint64_t sp_el0, sp_el1;
	struct {
		uint64_t sctlr_el1, tcr_el1, ttbr0_el1, ttbr1_el1, mair_el1, amair_el1;
		uint64_t vbar_el1, elr_el1, spsr_el1, esr_el1, far_el1, contextidr_el1;
		uint64_t tpidr_el0, tpidrro_el0, tpidr_el1, cpacr_el1, csselr_el1, par_el1;
		uint64_t afsr0_el1, afsr1_el1, cntkctl_el1, mdscr_el1, actlr_el1;
		uint64_t cntv_ctl, cntv_cval, cntp_ctl, cntp_cval;
		uint64_t vmpidr_el2;
	} sysregs;
	struct {
		uint64_t hcr, lrs[RMI_REC_GIC_NUM_LRS], misr, vmcr;
	} gic;
	bool trap_wfi, trap_wfe;

	unsigned num_rec_aux;
	rmm_pa_t aux[RMI_MAX_REC_AUX_GRANULES];

	/* Outstanding requests towards the host. */
	struct {
		bool pending;
	} psci_info;
	struct {
		uint64_t base, top;     /* requested region (base == top: none pending) */
		uint64_t addr;          /* progress: next address to change */
		uint8_t ripas_val;
		bool change_destroyed;
		uint8_t response;       /* enum ripas_response */
	} set_ripas;
	struct {
		uint64_t esr, far, hpfar;
	} last_run_info;
	bool host_call;
	bool inject_sea;         /* host asked for an SEA on the last emulated-MMIO abort */
	bool inject_sea_forced;  /* fault injection: the SEA is not tied to an abort (FAR 0) */

	void *vcpu;             /* vCPU backend state (emu/), NULL until first run */

	/* FP/SIMD state (V0..V31 as two 64-bit halves, low first), saved on exit, loaded on entry by
	 * the vCPU backend (emu/). */
	struct {
		uint64_t v[32][2];
		uint64_t fpsr, fpcr;
	} simd;
};
_Static_assert(sizeof(struct rec) <= GRANULE_SIZE, "REC must fit in a granule");

/* RmiRecMpidr: Aff0[3:0], Aff1[15:8], Aff2[23:16], Aff3[31:24]. */
static inline bool rec_mpidr_is_valid(uint64_t m)
{
	return (m & ~(0xFULL | 0xFF00ULL | 0xFF0000ULL | 0xFF000000ULL)) == 0;
}
static inline uint64_t rec_mpidr_to_idx(uint64_t m)
{
	return (m & 0xFULL) | ((m & 0xFF00ULL) >> 4) | ((m & 0xFF0000ULL) >> 4) |
	       ((m & 0xFF000000ULL) >> 4);
}
/* An MPIDR a realm names a CPU by in PSCI calls: MPIDR_EL1 affinity fields Aff0[3:0], Aff1[15:8],
 * Aff2[23:16], Aff3[39:32], every other bit zero (DEN0137 1.0-rel0: any other target_cpu is
 * PSCI_INVALID_PARAMETERS, not a request for the host; TF-RMM's psci_lookup_target checks the same). */
static inline bool mpidr_is_valid(uint64_t m)
{
	return (m & ~0xFF00FFFF0FULL) == 0;
}
/* MPIDR_EL1 layout (Aff3 at 39:32) to REC index, as a realm names its CPUs in PSCI calls. */
static inline uint64_t mpidr_to_rec_idx(uint64_t m)
{
	return (m & 0xFULL) | ((m & 0xFF00ULL) >> 4) | ((m & 0xFF0000ULL) >> 4) |
	       ((m & 0xFF00000000ULL) >> 12);
}

#endif

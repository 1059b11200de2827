/*
 * Stage-2 data aborts taken from a realm: what the RMM makes of them (DEN0137 1.0, "Realm data
 * access"; TF-RMM rmm-spec-v1.0-rel0 handle_data_abort, inject_sync_idabort). The rules are pure
 * functions of the syndrome and the realm's RTTs, shared by the vCPU backend (emu/run.c, aborts
 * Unicorn raises) and the console's realm_access (rmm/debug.c, an access the RMM walks itself).
 */
#include "rmm/esr.h"
#include "rmm/realm.h"
#include "rmm/vcpu_ops.h"
#include "rsi/rsi.h"

static bool fsc_is_external_abort(uint64_t esr)
{
	uint64_t fsc = esr & ESR_FSC_MASK;
	return fsc == ESR_FSC_SEA || (fsc >= ESR_FSC_SEA_TTW_FIRST && fsc <= ESR_FSC_SEA_TTW_LAST);
}

enum rmm_dabort_kind rmm_dabort_classify(struct rmm *rmm, const struct rec *rec, uint64_t esr, uint64_t hpfar)
{
	const struct rd *rd = granule_mem(rmm, rec->rd);
	uint64_t fipa = IPA_FROM_HPFAR(hpfar);
	struct rsi_walk_result w;

	if (fsc_is_external_abort(esr))
		return RMM_DABORT_EXTERNAL;
	/* Outside the IPA space, or a protected IPA whose RIPAS is EMPTY: the realm's own error. */
	if (fipa >= realm_ipa_size(rd))
		return RMM_DABORT_INJECT_SEA;
	if (realm_ipa_to_pa(rmm, rec, IPA(fipa), &w) != WALK_INVALID_PARAMS && w.ripas == RIPAS_EMPTY)
		return RMM_DABORT_INJECT_SEA;
	return addr_in_par(rd, fipa) ? RMM_DABORT_PROTECTED : RMM_DABORT_UNPROTECTED;
}

void rmm_dabort_exit(struct rec *rec, enum rmm_dabort_kind kind, uint64_t esr, uint64_t far, uint64_t hpfar,
		     uint64_t xt, struct rec_exit_image *exit)
{
	uint64_t esr_out = esr & ESR_ABORT_REPORTED, far_out = 0, hpfar_out = hpfar, write_val = 0;

	switch (kind) {
	case RMM_DABORT_EXTERNAL:
		/* HPFAR_EL2 is UNKNOWN for an external abort, and FAR is of no use without it. */
		hpfar_out = 0;
		break;
	case RMM_DABORT_UNPROTECTED:
		/* Emulatable MMIO when the syndrome is valid: the access size and direction, the page
		 * offset of the address, and the value of a write (not which register holds it). */
		esr_out = esr & ESR_ABORT_EMULATABLE;
		far_out = far & GRANULE_MASK;
		if ((esr & ESR_ISV) && (esr & ESR_WNR) && ((esr & ESR_SRT_MASK) >> ESR_SRT_SHIFT) != 31) {
			unsigned bytes = 1U << ((esr & ESR_SAS_MASK) >> ESR_SAS_SHIFT);
			write_val = bytes == 8 ? xt : xt & ((1ULL << (bytes * 8)) - 1);
		}
		break;
	case RMM_DABORT_PROTECTED:
	case RMM_DABORT_INJECT_SEA:
		break;
	}
	rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_SYNC);
	rec_exit_put64(exit, RMI_REC_EXIT_ESR, esr_out);
	rec_exit_put64(exit, RMI_REC_EXIT_FAR, far_out);
	rec_exit_put64(exit, RMI_REC_EXIT_HPFAR, hpfar_out);
	if (kind != RMM_DABORT_EXTERNAL)
		rec_exit_put64(exit, RMI_REC_EXIT_GPRS, write_val);
	/* What REC_ENTER completes. Only an abort reported with ISV = 1 is emulatable: the next entry
	 * may not claim to have emulated any other (RMI_ERROR_REC), so ISV is kept only then. */
	rec->last_run_info.esr = (esr_out & ESR_ISV) ? esr : esr & ~ESR_ISV;
	rec->last_run_info.far = far;
	rec->last_run_info.hpfar = hpfar;
}

uint64_t rmm_sea_esr_el1(uint64_t esr_el2, bool from_el0)
{
	/* The abort's ISS except FSC (now SEA), FnV and S1PTW; EA set; EC of an abort taken from the
	 * realm's current EL when that is EL1 (EC + 1), from a lower EL when it is EL0. */
	uint64_t ec = ESR_EC(esr_el2) + (from_el0 ? 0 : 1);
	uint64_t esr = esr_el2 & ~((ESR_EC_MASK << ESR_EC_SHIFT) | ESR_FSC_MASK | ESR_FNV | ESR_S1PTW);
	return esr | ESR_EC_VAL(ec) | ESR_FSC_SEA | ESR_EA;
}

/* PSTATE fields (SPSR_EL2 layout) the exception entry needs. */
#define PSTATE_MODE_MASK  0xFULL
#define PSTATE_MODE_EL1T  0x4ULL
#define PSTATE_MODE_EL1H  0x5ULL
#define PSTATE_NRW        (1ULL << 4)

void rmm_rec_inject_sea(struct rec *rec, uint64_t esr_el2, uint64_t far)
{
	uint64_t mode = rec->pstate & PSTATE_MODE_MASK, off;
	bool from_el0 = (mode >> 2) == 0;

	if (mode == PSTATE_MODE_EL1H)
		off = 0x200;                    /* current EL with SP_ELx */
	else if (mode == PSTATE_MODE_EL1T)
		off = 0x000;                    /* current EL with SP_EL0 */
	else
		off = (rec->pstate & PSTATE_NRW) ? 0x600 : 0x400;   /* lower EL, AArch32 / AArch64 */
	rec->sysregs.esr_el1 = rmm_sea_esr_el1(esr_el2, from_el0);
	rec->sysregs.far_el1 = far;
	rec->sysregs.elr_el1 = rec->pc;
	rec->sysregs.spsr_el1 = rec->pstate;
	rec->pstate = PSTATE_EL1H_DAIF;
	rec->pc = rec->sysregs.vbar_el1 + off;
}

/*
 * Exceptions delivered to the realm's EL1, and EL changes.
 *
 * Unicorn reports a guest exception to the INTR hook instead of taking it, so the backend performs
 * the architectural entry itself (ESR/FAR/ELR/SPSR_EL1, PSTATE, PC = VBAR_EL1 + offset). From EL1
 * that is a matter of writing registers. A change of exception level is different: QEMU caches
 * translation flags (current EL, MMU index, ...) that only its own exception entry/return code
 * rebuilds, and Unicorn's register API does not for PSTATE (quirk 3). So to enter EL1 from EL0
 * (or to load a REC whose translation regime differs from the engine's) the backend lets QEMU take
 * a virtual IRQ (HCR_EL2.VI) to a vector base at EMU_TRAMP_VA, an address that cannot be
 * translated. QEMU performs a real exception entry (rebuilding its flags for EL1) and faults
 * fetching the vector; that prefetch abort comes back to the INTR hook, which restores the
 * guest's VBAR/ELR/SPSR and completes the intended exception entry or state load.
 */
#include <inttypes.h>

#include "emu/arch.h"
#include "emu/vcpu.h"

static uint64_t vector_offset(uint64_t pstate)
{
	if (PSR_EL(pstate) == 0)
		return VEC_LOW_A64;
	return PSR_SPSEL(pstate) ? VEC_CUR_SPX : VEC_CUR_SP0;
}

void emu_inject_sync(struct emu_vcpu *v, uint64_t esr, uint64_t far, bool far_valid, uint64_t pc)
{
	uc_engine *uc = v->uc;
	uint64_t pstate = emu_reg_read(uc, UC_ARM64_REG_PSTATE);

	if (PSR_EL(pstate) == 0) {
		v->el_change.exc = (struct emu_pending_exc){
			.active = true, .esr = esr, .far = far, .far_valid = far_valid,
			.elr = pc, .spsr = pstate, .vector_off = VEC_LOW_A64,
		};
		v->el_change.resume = false;
		emu_el_change_start(v);
		return;
	}
	uint64_t vbar = emu_reg_read(uc, UC_ARM64_REG_VBAR_EL1);
	emu_reg_write(uc, UC_ARM64_REG_ELR_EL1, pc);
	emu_cp_write(uc, 3, 0, 4, 0, 0, pstate); /* SPSR_EL1 */
	emu_reg_write(uc, UC_ARM64_REG_ESR_EL1, esr);
	if (far_valid)
		emu_reg_write(uc, UC_ARM64_REG_FAR_EL1, far);
	if (!PSR_SPSEL(pstate)) {
		/* EL1t -> EL1h: the live SP becomes SP_EL1. */
		uint64_t sp = emu_reg_read(uc, UC_ARM64_REG_SP);
		emu_reg_write(uc, UC_ARM64_REG_SP_EL0, sp);
		emu_reg_write(uc, UC_ARM64_REG_SP, emu_reg_read(uc, UC_ARM64_REG_SP_EL1));
	}
	emu_reg_write(uc, UC_ARM64_REG_PSTATE, PSR_MODE_EL1H | PSR_DAIF);
	emu_reg_write(uc, UC_ARM64_REG_PC, vbar + vector_offset(pstate));
}

void emu_inject_sea(struct emu_vcpu *v, uint64_t esr_el2, uint64_t far, uint64_t pc)
{
	/* TF-RMM inject_sync_idabort: the syndrome is the RMM's rule (rmm/abort.c). */
	uint64_t pstate = emu_reg_read(v->uc, UC_ARM64_REG_PSTATE);
	emu_inject_sync(v, rmm_sea_esr_el1(esr_el2, PSR_EL(pstate) == 0), far, true, pc);
}

void emu_inject_undef(struct emu_vcpu *v, uint64_t pc)
{
	emu_inject_sync(v, (EC_UNKNOWN << ESR_EC_SHIFT) | ESR_IL, 0, false, pc);
}

void emu_el_change_start(struct emu_vcpu *v)
{
	uc_engine *uc = v->uc;

	v->el_change.active = true;
	v->el_change.vbar = emu_reg_read(uc, UC_ARM64_REG_VBAR_EL1);
	v->el_change.elr = emu_reg_read(uc, UC_ARM64_REG_ELR_EL1);
	v->el_change.spsr = emu_cp_read(uc, 3, 0, 4, 0, 0);
	emu_reg_write(uc, UC_ARM64_REG_VBAR_EL1, EMU_TRAMP_VA);
	/* Unmask IRQs at the current EL (no change of mode: QEMU's flags stay consistent). */
	uint64_t pstate = emu_reg_read(uc, UC_ARM64_REG_PSTATE);
	emu_reg_write(uc, UC_ARM64_REG_PSTATE, pstate & ~PSR_I);
	emu_set_hcr(v, v->m->hcr | HCR_VI);
}

void emu_el_change_finish(struct emu_vcpu *v)
{
	uc_engine *uc = v->uc;
	uint64_t pc = emu_reg_read(uc, UC_ARM64_REG_PC);

	v->el_change.active = false;
	if ((pc & ~0x7FFULL) != EMU_TRAMP_VA || PSR_EL(emu_reg_read(uc, UC_ARM64_REG_PSTATE)) != 1) {
		emu_log("EL change did not reach EL1 (PC %#" PRIx64 ")", pc);
		v->error = true;
	}
	emu_reg_write(uc, UC_ARM64_REG_VBAR_EL1, v->el_change.vbar);
	emu_reg_write(uc, UC_ARM64_REG_ELR_EL1, v->el_change.elr);
	emu_cp_write(uc, 3, 0, 4, 0, 0, v->el_change.spsr);
	emu_gic_update(v);

	struct emu_pending_exc *x = &v->el_change.exc;
	if (x->active) {
		/* QEMU's entry left EL1h with DAIF masked: what the exception needs. */
		x->active = false;
		emu_reg_write(uc, UC_ARM64_REG_ELR_EL1, x->elr);
		emu_cp_write(uc, 3, 0, 4, 0, 0, x->spsr);
		emu_reg_write(uc, UC_ARM64_REG_ESR_EL1, x->esr);
		if (x->far_valid)
			emu_reg_write(uc, UC_ARM64_REG_FAR_EL1, x->far);
		emu_reg_write(uc, UC_ARM64_REG_PC, v->el_change.vbar + x->vector_off);
	} else if (v->el_change.resume) {
		v->el_change.resume = false;
		uint64_t ps = v->el_change.resume_pstate;
		emu_reg_write(uc, UC_ARM64_REG_SP_EL0, v->el_change.resume_sp_el0);
		emu_reg_write(uc, UC_ARM64_REG_SP_EL1, v->el_change.resume_sp_el1);
		emu_reg_write(uc, UC_ARM64_REG_PSTATE, ps);
		emu_reg_write(uc, UC_ARM64_REG_SP,
			      PSR_SPSEL(ps) ? v->el_change.resume_sp_el1 : v->el_change.resume_sp_el0);
		emu_reg_write(uc, UC_ARM64_REG_PC, v->el_change.resume_pc);
	}
}

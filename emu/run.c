/*
 * Running a REC: entry, the Unicorn hooks that play the RMM's exception handlers (TF-RMM
 * runtime/core/exit.c), and the exit.
 *
 * Exceptions reach the INTR hook with QEMU's exception number, syndrome, faulting address and
 * target EL:
 *   - target EL2: what hardware would route to the RMM (stage-2 aborts, WFI trapped by
 *     HCR_EL2.TWI);
 *   - target EL3: SMC (RSI / PSCI), handled by rsi_handle_smc() inside the hook;
 *   - target EL1: the realm's own exceptions (SVC, UNDEF, HVC, stage-1 aborts, BRK), delivered to
 *     its VBAR_EL1 by the backend.
 * A hook that produces a REC exit fills the exit image and stops the engine without changing the
 * PC (a PC write makes Unicorn cancel the stop); the PC the exit needs is applied when the state is
 * saved.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "emu/arch.h"
#include "emu/vcpu.h"
#include "rsi/rsi.h"

/* QEMU exception numbers passed to UC_HOOK_INTR */
#define EXCP_UDEF            1
#define EXCP_SWI             2
#define EXCP_PREFETCH_ABORT  3
#define EXCP_DATA_ABORT      4
#define EXCP_BKPT            7
#define EXCP_SMC             13

#define HPFAR_FIPA_MASK      (((1ULL << 40) - 1) << 4)

void emu_request_exit(struct emu_vcpu *v)
{
	v->exiting = true;
	/* No virtual IRQ may be taken between this hook and the stop. */
	emu_set_hcr(v, v->m->hcr & ~HCR_VI);
	uc_emu_stop(v->uc);
}

static void put_exit(struct emu_vcpu *v, uint64_t reason)
{
	rec_exit_put64(v->exit, RMI_REC_EXIT_REASON, reason);
}

static void exit_sync(struct emu_vcpu *v, uint64_t esr_out, uint64_t far_out, uint64_t hpfar_out,
		      uint64_t esr, uint64_t far, uint64_t hpfar)
{
	struct rec *rec = v->rec;
	put_exit(v, RMI_EXIT_SYNC);
	rec_exit_put64(v->exit, RMI_REC_EXIT_ESR, esr_out);
	rec_exit_put64(v->exit, RMI_REC_EXIT_FAR, far_out);
	rec_exit_put64(v->exit, RMI_REC_EXIT_HPFAR, hpfar_out);
	rec->last_run_info.esr = esr;
	rec->last_run_info.far = far;
	rec->last_run_info.hpfar = hpfar;
	v->last_abort_esr = esr;
	v->last_abort_far = far;
	emu_request_exit(v);
}

static void set_exit_pc(struct emu_vcpu *v, uint64_t pc)
{
	v->have_exit_pc = true;
	v->exit_pc = pc;
}

static bool ipa_is_empty(struct emu_vcpu *v, uint64_t ipa)
{
	struct rsi_walk_result w;
	emu_hook_lock(v);       /* the RTTs may be changed by RMI calls from other threads */
	enum rsi_walk s = realm_ipa_to_pa(v->rmm, v->rec, IPA(ipa & ~GRANULE_MASK), &w);
	emu_hook_unlock(v);
	return s != WALK_INVALID_PARAMS && w.ripas == RIPAS_EMPTY;
}

static bool fsc_is_sea(uint64_t esr)
{
	uint64_t fsc = esr & ESR_FSC_MASK;
	return fsc == FSC_SEA || (fsc >= FSC_SEA_TTW_FIRST && fsc <= FSC_SEA_TTW_LAST);
}

/* The PA a realm VA reads through stage 1 and 2 (AT S12E1R; PAR_EL1 preserved); false if none. */
static bool va_to_pa(struct emu_vcpu *v, uint64_t va, uint64_t *pa)
{
	uc_engine *uc = v->uc;
	uint64_t par_saved = emu_cp_read(uc, 3, 0, 7, 4, 0);
	emu_cp_write(uc, 1, 4, 7, 8, 4, va); /* AT S12E1R */
	uint64_t par = emu_cp_read(uc, 3, 0, 7, 4, 0);
	emu_cp_write(uc, 3, 0, 7, 4, 0, par_saved);
	*pa = (par & 0xFFFFFFFFF000ULL) | (va & 0xFFFULL);
	return !(par & 1);
}

/* Read the instruction at a realm VA. */
static bool read_insn(struct emu_vcpu *v, uint64_t va, uint32_t *insn)
{
	uint64_t pa;
	if (!va_to_pa(v, va, &pa))
		return false;
	for (unsigned i = 0; i < v->rmm->ndram; i++) {
		const struct dram_region *r = &v->rmm->dram[i];
		if (pa >= r->base && pa + 4 <= r->base + r->size) {
			memcpy(insn, r->mem + (pa - r->base), 4);
			return true;
		}
	}
	return false;
}

/* ---- stage-2 aborts (TF-RMM handle_data_abort / handle_instruction_abort) ---- */

static void stage2_data_abort(struct emu_vcpu *v, uint64_t esr, uint64_t far, uint64_t pc)
{
	uint64_t hpfar = emu_cp_read(v->uc, 3, 4, 6, 0, 4);

	emu_hook_lock(v);       /* the RTTs may be changed by RMI calls from other threads */
	enum rmm_dabort_kind kind = rmm_dabort_classify(v->rmm, v->rec, esr, hpfar);
	emu_hook_unlock(v);
	if (kind == RMM_DABORT_INJECT_SEA) {
		emu_inject_sea(v, esr, far, pc);
		return;
	}
	uint64_t xt = 0;
	if (kind == RMM_DABORT_UNPROTECTED) {
		/* QEMU 5.0 sets ISV for loads/stores with writeback; the architecture does not (ISV=0
		 * there): not emulatable. */
		uint32_t insn;
		if ((esr & ESR_ISV) && read_insn(v, pc, &insn) && (insn & 0x3B200400U) == 0x38000400U)
			esr &= ~(ESR_ISV | ESR_SAS_MASK | ESR_SSE | ESR_SRT_MASK | ESR_SF | ESR_AR);
		if ((esr & ESR_ISV) && (esr & ESR_WNR))
			xt = emu_read_gpr(v->uc, (unsigned)((esr & ESR_SRT_MASK) >> ESR_SRT_SHIFT));
	}
	rmm_dabort_exit(v->rec, kind, esr, far, hpfar, xt, v->exit);
	v->last_abort_esr = esr;
	v->last_abort_far = far;
	emu_request_exit(v);
}

static void stage2_insn_abort(struct emu_vcpu *v, uint64_t esr, uint64_t far, uint64_t pc)
{
	uint64_t hpfar = emu_cp_read(v->uc, 3, 4, 6, 0, 4);
	uint64_t fipa = (hpfar & HPFAR_FIPA_MASK) << 8;
	uint64_t ipa_size = 1ULL << v->m->ipa_bits, par_size = ipa_size >> 1;

	if (fsc_is_sea(esr)) {
		exit_sync(v, esr & ESR_NONEMULATED_ABORT_MASK, 0, 0, esr, far, hpfar);
		return;
	}
	if (fipa >= ipa_size || fipa >= par_size || ipa_is_empty(v, fipa)) {
		emu_inject_sea(v, esr, far, pc);
		return;
	}
	if ((esr & FSC_TYPE_MASK) != FSC_TRANSLATION) {
		emu_log("unhandled instruction abort: ESR %#" PRIx64 " FAR %#" PRIx64 " HPFAR %#" PRIx64,
			esr, far, hpfar);
		exit_sync(v, 0, 0, 0, esr, far, hpfar);
		return;
	}
	exit_sync(v, esr & ESR_NONEMULATED_ABORT_MASK, 0, hpfar, esr, far, hpfar);
}

/* ---- SMC: RSI and PSCI ---- */

static void handle_smc(struct emu_vcpu *v, uint64_t smc_pc)
{
	struct rec *rec = v->rec;
	uint64_t before[31];

	emu_read_gprs(v->uc, rec->regs);
	memcpy(before, rec->regs, sizeof(before));
	rec->pc = smc_pc;
	v->smc_calls++;
	emu_hook_lock(v);
	bool to_host = rsi_handle_smc(v->rmm, rec, v->exit);
	emu_hook_unlock(v);
	for (unsigned i = 0; i < 31; i++)
		if (rec->regs[i] != before[i])
			emu_write_gpr(v->uc, i, rec->regs[i]);
	if (to_host) {
		uint64_t esr, far;
		unsigned tel;
		emu_exception_info(v, &esr, &far, &tel);
		rec->last_run_info.esr = esr;
		rec->last_run_info.far = 0;
		rec->last_run_info.hpfar = 0;
		set_exit_pc(v, rec->pc);
		emu_request_exit(v);
	} else if (rec->pc != smc_pc + 4) {
		emu_reg_write(v->uc, UC_ARM64_REG_PC, rec->pc);
	}
}

/* ---- WFI / WFE (trapped to EL2 by HCR_EL2.TWI; QEMU never traps WFE) ---- */

static void handle_wfx(struct emu_vcpu *v, uint64_t esr, uint64_t pc)
{
	struct rec *rec = v->rec;
	bool wfe = (esr & ESR_WFX_TI_WFE) != 0;

	if (wfe ? rec->trap_wfe : rec->trap_wfi) {
		set_exit_pc(v, pc + 4);
		exit_sync(v, esr & (ESR_EC_MASK | ESR_WFX_TI_WFE), 0, 0, esr, 0, 0);
		return;
	}
	if (emu_gic_any_pending(rec)) {
		/* A pending virtual interrupt wakes WFI at once (even when PSTATE.I masks it). */
		emu_reg_write(v->uc, UC_ARM64_REG_PC, pc + 4);
		return;
	}
	/* Nothing to wake up for: the PE would sleep until a physical interrupt, which ends the
	 * REC's run. rmmemu lets that interrupt arrive at once: an IRQ exit, WFI completed. */
	set_exit_pc(v, pc + 4);
	put_exit(v, RMI_EXIT_IRQ);
	emu_request_exit(v);
}

static void handle_undef(struct emu_vcpu *v, uint64_t esr, unsigned target_el, uint64_t pc)
{
	if (v->sys_pending.active && v->sys_pending.pc == pc) {
		/* An ICC access the MRS/MSR hook emulated: complete it here. */
		v->sys_pending.active = false;
		switch (v->sys_pending.kind) {
		case SYSP_COMPLETE:
			emu_reg_write(v->uc, UC_ARM64_REG_PC, pc + 4);
			break;
		case SYSP_EXIT_SYSREG:
			set_exit_pc(v, pc + 4);
			rec_exit_put64(v->exit, RMI_REC_EXIT_GPRS, v->sys_pending.value);
			exit_sync(v, v->sys_pending.esr, 0, 0, v->sys_pending.esr, 0, 0);
			break;
		case SYSP_EXIT_IRQ:
			set_exit_pc(v, pc + 4);
			put_exit(v, RMI_EXIT_IRQ);
			emu_request_exit(v);
			break;
		}
		return;
	}
	if (target_el == 2 && ESR_EC(esr) == EC_WFX) {
		handle_wfx(v, esr, pc);
		return;
	}
	if (target_el != 1) {
		emu_log("unexpected trap to EL%u (ESR %#" PRIx64 ") at %#" PRIx64 ": UNDEF injected",
			target_el, esr, pc);
		emu_inject_undef(v, pc);
		return;
	}
	/* Undefined instruction, HVC (undefined in a realm: SCR_EL3.HCE = 0), trapped FP access... */
	emu_inject_sync(v, esr, 0, false, pc);
}

static void hook_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct emu_vcpu *v = ((struct emu_machine *)user)->cur;
	uint64_t esr, far;
	unsigned tel;
	uint64_t pc = emu_reg_read(uc, UC_ARM64_REG_PC);

	if (v->exiting)
		return;
	if (intno == EXCP_SMC) {
		/* The hot path (RSI calls): the syndrome is only read if the call exits. */
		handle_smc(v, pc - 4);
		return;
	}
	emu_exception_info(v, &esr, &far, &tel);
	switch (intno) {
	case EXCP_UDEF:
		handle_undef(v, esr, tel, pc);
		break;
	case EXCP_SWI:
	case EXCP_BKPT:
		emu_inject_sync(v, esr, 0, false, pc);
		break;
	case EXCP_PREFETCH_ABORT:
		if (v->el_change.active && (pc & ~0x7FFULL) == EMU_TRAMP_VA) {
			emu_el_change_finish(v);
			break;
		}
		if (tel == 2)
			stage2_insn_abort(v, esr, far, pc);
		else
			emu_inject_sync(v, esr, far, true, pc);
		break;
	case EXCP_DATA_ABORT:
		if (tel == 2)
			stage2_data_abort(v, esr, far, pc);
		else
			emu_inject_sync(v, esr, far, true, pc);
		break;
	default:
		emu_log("unexpected exception %u (ESR %#" PRIx64 ", EL%u) at %#" PRIx64, intno, esr, tel, pc);
		v->error = true;
		emu_request_exit(v);
		break;
	}
}

/* ---- MRS / MSR: GIC CPU interface, timers ---- */

static uint64_t current_el(struct emu_vcpu *v)
{
	return PSR_EL(emu_reg_read(v->uc, UC_ARM64_REG_PSTATE));
}

static void rearm_timer(struct emu_vcpu *v)
{
	uint64_t d = emu_timer_deadline(v);
	if (!d || d > v->slice_deadline)
		d = v->slice_deadline;
	emu_wd_update(v->be, v, d);
}

static uint32_t hook_sys(struct emu_vcpu *v, uc_arm64_reg rt, const uc_arm64_cp_reg *cp, bool is_read)
{
	if (!is_read)
		v->msr_seen = true;
	if (cp->op0 != 3)
		return 0;
	if (cp->op1 == 0 && ((cp->crn == 12 && cp->crm >= 8) || (cp->crn == 4 && cp->crm == 6 && cp->op2 == 0))) {
		if (current_el(v) == 0)
			return 0;   /* UNDEF at EL0 */
		uint64_t val = cp->val;
		uint64_t misr_before = emu_gic_misr(v->rec);
		int r = emu_gic_sysreg(v, cp, is_read, &val);
		if (r == 0)
			return 0;
		v->sys_pending.active = true;
		v->sys_pending.pc = emu_reg_read(v->uc, UC_ARM64_REG_PC);
		if (r == 2) {
			v->sys_pending.kind = SYSP_EXIT_SYSREG;
			v->sys_pending.esr = esr_sysreg(cp->op0, cp->op1, cp->crn, cp->crm, cp->op2, emu_gpr_index(rt), 0);
			v->sys_pending.value = cp->val;
			return 0;
		}
		if (is_read && rt != UC_ARM64_REG_XZR)
			emu_reg_write(v->uc, rt, val);
		emu_gic_update(v);
		/* A maintenance interrupt asserted by this access ends the run (after it). */
		v->sys_pending.kind = (!misr_before && emu_gic_misr(v->rec)) ? SYSP_EXIT_IRQ : SYSP_COMPLETE;
		return 0;   /* QEMU raises UNDEF on the instruction; hook_intr completes it */
	}
	if (cp->op1 == 3 && cp->crn == 14 && (cp->crm == 2 || cp->crm == 3) && cp->op2 <= 2) {
		if (current_el(v) == 0)
			return 0;   /* EL0 access rules (CNTKCTL_EL1) are QEMU's */
		if (is_read) {
			if (cp->op2 != 1)
				return 0;
			uint64_t ctl = emu_cp_read(v->uc, 3, 3, 14, cp->crm, 1);
			uint64_t cval = emu_cp_read(v->uc, 3, 3, 14, cp->crm, 2);
			if (rt != UC_ARM64_REG_XZR)
				emu_reg_write(v->uc, rt, emu_timer_ctl(v, ctl, cval));
			return 1;
		}
		emu_cp_write(v->uc, 3, 3, 14, cp->crm, cp->op2, cp->val);
		rearm_timer(v);
		return 1;
	}
	return 0;
}

static uint32_t hook_mrs(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	(void)uc;
	return hook_sys(((struct emu_machine *)user)->cur, reg, cp, true);
}

static uint32_t hook_msr(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	(void)uc;
	return hook_sys(((struct emu_machine *)user)->cur, reg, cp, false);
}

/* ---- IC: code another REC translated from memory this REC rewrote ---- */

#define IC_IALLUIS 0, 7, 1, 0
#define IC_IALLU   0, 7, 5, 0
#define IC_IVAU    3, 7, 5, 1
static bool is_sys(const uc_arm64_cp_reg *cp, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
	return cp->op1 == op1 && cp->crn == crn && cp->crm == crm && cp->op2 == op2;
}

/*
 * Each REC has its own engine, and QEMU notices writes to translated code only within one engine.
 * The architecture makes software that changes code issue IC IVAU (or IC IALLU/IALLUIS), then DSB
 * and ISB, before any PE runs it: there the other engines of the realm drop what they translated
 * from that granule (or everything). An engine running realm code is stopped at its next block
 * start to do so, and the IC completes only once it has (a stop sent just before an engine starts
 * running is lost, so waiting is what makes sure), before the writer can tell the other PE to go.
 */
static uint32_t hook_ic(uc_engine *uc, uc_arm64_reg reg, const uc_arm64_cp_reg *cp, void *user)
{
	struct emu_machine *m = user;
	struct emu_vcpu *v = m->cur;
	uint64_t pa;
	(void)uc;
	(void)reg;

	if (cp->op0 != 1)
		return 0;
	if (is_sys(cp, IC_IVAU)) {
		if (!va_to_pa(v, cp->val, &pa))
			return 0;        /* not mapped for reading: nothing this realm can run there */
	} else if (is_sys(cp, IC_IALLU) || is_sys(cp, IC_IALLUIS)) {
		pa = UINT64_MAX;
	} else {
		return 0;
	}
	emu_ic_invalidate(v, pa);
	return 0;                        /* QEMU then executes the instruction (a no-op there) */
}

/* ---- WFE (QEMU 5.0 executes it as a YIELD hint, never trapped: quirk 8) ---- */

/* Before a WFE executes: trapped when the host asked for it, as TF-RMM's WFx exit (PC past the
 * instruction). Not trapped, it completes at once (a WFE may always complete: the event register
 * may be set). At EL0 with SCTLR_EL1.nTWE = 0 the realm's own EL1 trap would come first; it is
 * not emulated, the WFE completes (the same freedom), and so there is no EL2 trap either. */
static void hook_wfe(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct emu_vcpu *v = ((struct emu_machine *)user)->cur;
	uint32_t insn;
	(void)uc;
	(void)size;
	/* The same VA may hold other code in another stage-1 context: look at the instruction. */
	if (!v->rec->trap_wfe || v->exiting || !read_insn(v, address, &insn) || insn != INSN_WFE)
		return;
	if (current_el(v) == 0 && !(emu_cp_read(v->uc, 3, 0, 1, 0, 0) & SCTLR_NTWE))
		return;
	handle_wfx(v, (EC_WFX << ESR_EC_SHIFT) | ESR_IL | ESR_WFX_CV_COND_AL | ESR_WFX_TI_WFE, address);
}

static bool wfe_site_known(const struct emu_machine *m, uint64_t va)
{
	for (unsigned i = 0; i < m->nwfe_sites; i++)
		if (m->wfe_sites[i].va == va)
			return true;
	return false;
}

/*
 * A block about to run for the first time: a WFE ends its block. The first time a WFE address is
 * seen, a code hook is added for it and the block is dropped; writing PC makes Unicorn look the
 * block up again (quit_request: the run goes on), so it is translated anew with the hook before
 * any of it runs.
 */
static void scan_block_for_wfe(struct emu_machine *m, uint64_t pc, uint64_t size)
{
	uc_engine *uc = m->uc;
	struct emu_vcpu *v = m->cur;
	uint32_t insn;
	if (size < 4)
		return;
	uint64_t va = pc + size - 4;
	if (!read_insn(v, va, &insn) || insn != INSN_WFE || wfe_site_known(m, va))
		return;
	if (m->nwfe_sites == m->wfe_sites_cap) {
		unsigned cap = m->wfe_sites_cap ? 2 * m->wfe_sites_cap : 16;
		struct emu_wfe_site *s = realloc(m->wfe_sites, cap * sizeof(*s));
		if (!s)
			return;
		m->wfe_sites = s;
		m->wfe_sites_cap = cap;
	}
	struct emu_wfe_site *site = &m->wfe_sites[m->nwfe_sites];
	if (uc_hook_add(uc, &site->h, UC_HOOK_CODE, (void *)hook_wfe, m, va, va) != UC_ERR_OK)
		return;
	site->va = va;
	m->nwfe_sites++;
	uc_ctl_remove_cache(uc, pc, pc + size);
	emu_reg_write(uc, UC_ARM64_REG_PC, pc);
}

/* Every newly translated block (UC_HOOK_EDGE_GENERATED), except the engine's very first one:
 * Unicorn reports new blocks only once a block has run. */
static void hook_new_block(uc_engine *uc, uc_tb *cur, uc_tb *prev, void *user)
{
	(void)uc;
	(void)prev;
	scan_block_for_wfe(user, cur->pc, cur->size);
}

/* The engine's very first block: a block hook bounded to the realm's entry point for its first
 * run. It runs at the block's start, before the block's own exit check, so the block has not
 * executed anything when it is dropped. */
static void hook_first_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	(void)uc;
	scan_block_for_wfe(user, address, size);
}

/* At the start of every translation block: the only point where a stop is safe (the block's
 * exit check runs before any of its instructions). */
static void hook_block(uc_engine *uc, uint64_t address, uint32_t size, void *user)
{
	struct emu_vcpu *v = ((struct emu_machine *)user)->cur;
	(void)address;
	(void)size;
	if (__atomic_load_n(&v->preempt, __ATOMIC_ACQUIRE)) {
		__atomic_store_n(&v->preempt, 0, __ATOMIC_RELAXED);
		/* No virtual IRQ may be taken before the stop either. */
		emu_set_hcr(v, v->m->hcr & ~HCR_VI);
		uc_emu_stop(uc);
	}
}

static bool hook_unmapped(uc_engine *uc, uc_mem_type type, uint64_t address, int size, int64_t value,
			  void *user)
{
	struct emu_vcpu *v = ((struct emu_machine *)user)->cur;
	(void)uc;
	(void)value;
	emu_log("access to unmapped address %#" PRIx64 " (type %d, size %d)", address, (int)type, size);
	v->error = true;
	return false;
}

void emu_install_hooks(struct emu_machine *m)
{
	uc_hook_add(m->uc, &m->h_intr, UC_HOOK_INTR, (void *)hook_intr, m, 1, 0);
	uc_hook_add(m->uc, &m->h_mrs, UC_HOOK_INSN, (void *)hook_mrs, m, 1, 0, UC_ARM64_INS_MRS);
	uc_hook_add(m->uc, &m->h_msr, UC_HOOK_INSN, (void *)hook_msr, m, 1, 0, UC_ARM64_INS_MSR);
	uc_hook_add(m->uc, &m->h_ic, UC_HOOK_INSN, (void *)hook_ic, m, 1, 0, UC_ARM64_INS_SYS);
	/* The watchdog stops runs itself (time slice, timer deadline, kick) when Unicorn's exit checks
	 * inside blocks are off; otherwise the block hook does (docs/vcpu.md, quirk 6). */
	if (!m->no_exit_off)
		uc_hook_add(m->uc, &m->h_block, UC_HOOK_BLOCK, (void *)hook_block, m, 1, 0);
	uc_hook_add(m->uc, &m->h_unmapped, UC_HOOK_MEM_UNMAPPED, (void *)hook_unmapped, m, 1, 0);
	uc_hook_add(m->uc, &m->h_new_block, UC_HOOK_EDGE_GENERATED, (void *)hook_new_block, m, 1, 0);
}

/* ---- the run ---- */

/* Unicorn's AArch32 translator rewrites the no_exit_request flag at every instruction: once the
 * realm ran AArch32 code (EL0), blocks translated since may stop half-way, and only the block hook
 * stops runs safely from then on (blocks translated before it was added are not preempted). */
static void fall_back_to_block_hook(struct emu_machine *m)
{
	emu_log("the realm ran AArch32 code: time slices now use the block hook (slower)");
	m->no_exit_off = 0;
	uc_hook_add(m->uc, &m->h_block, UC_HOOK_BLOCK, (void *)hook_block, m, 1, 0);
}

static void report_timers(struct emu_vcpu *v)
{
	struct rec *rec = v->rec;
	rec->sysregs.cntv_ctl = emu_timer_ctl(v, rec->sysregs.cntv_ctl, rec->sysregs.cntv_cval);
	rec->sysregs.cntp_ctl = emu_timer_ctl(v, rec->sysregs.cntp_ctl, rec->sysregs.cntp_cval);
}

static void inject_sea_on_entry(struct emu_vcpu *v)
{
	struct rec *rec = v->rec;
	uint64_t esr_el2 = v->last_abort_esr;

	if (rec->inject_sea_forced) {
		/* Fault injection: an SEA not tied to an abort, as a data abort with FAR 0. */
		rec->inject_sea_forced = false;
		v->last_abort_esr = (EC_DABT_LOW << ESR_EC_SHIFT) | ESR_IL;
		v->last_abort_far = 0;
		esr_el2 = v->last_abort_esr;
	}

	if (!v->el_change.active) {
		emu_inject_sea(v, esr_el2, v->last_abort_far, rec->pc);
		return;
	}
	/* The entry is changing the translation regime: deliver the SEA when it completes. */
	uint64_t ec = ESR_EC(esr_el2) + (PSR_EL(rec->pstate) != 0 ? 1 : 0);
	uint64_t esr = (esr_el2 & ~(ESR_EC_MASK | ESR_FSC_MASK | ESR_FNV | ESR_S1PTW)) |
		       (ec << ESR_EC_SHIFT) | FSC_SEA | ESR_EA;
	uint64_t off = PSR_EL(rec->pstate) == 0 ? VEC_LOW_A64 : (PSR_SPSEL(rec->pstate) ? VEC_CUR_SPX : VEC_CUR_SP0);
	v->el_change.exc = (struct emu_pending_exc){
		.active = true, .esr = esr, .far = v->last_abort_far, .far_valid = true,
		.elr = rec->pc, .spsr = rec->pstate, .vector_off = off,
	};
}

/*
 * Realm code runs without the RMM lock (RECs of a realm run in parallel; hooks that need the RMM
 * take it), until the REC exits, the watchdog ends the run (time slice, timer, kick), or another
 * thread invalidated something in this engine: that is applied here and the run goes on.
 */
static uc_err run_unlocked(struct emu_vcpu *v, struct rmm *rmm)
{
	struct emu_machine *m = v->m;
	uc_err err;

	pthread_mutex_unlock(&rmm->lock);
	for (;;) {
		uint64_t deadline = emu_timer_deadline(v);
		if (!deadline || deadline > v->slice_deadline)
			deadline = v->slice_deadline;
		pthread_mutex_lock(&m->mu);
		emu_machine_sync(m, v);
		emu_machine_set_where(m, EMU_GUEST);
		pthread_mutex_unlock(&m->mu);
		__atomic_store_n(&v->preempt, 0, __ATOMIC_RELAXED);
		if (m->no_exit_off)
			((volatile uint8_t *)v->uc)[m->no_exit_off] = 1;
		emu_wd_arm(v->be, v, deadline);
		/* An invalidation that came before the watchdog knew this run could not stop it. */
		if (__atomic_load_n(&m->pending, __ATOMIC_SEQ_CST))
			emu_wd_poke(v->be, v);
		err = uc_emu_start(v->uc, emu_reg_read(v->uc, UC_ARM64_REG_PC), 0, 0, 0);
		bool kicked = emu_wd_disarm(v->be, v);
		pthread_mutex_lock(&m->mu);
		m->has_run = true;
		emu_machine_set_where(m, EMU_OUT);
		bool pending = m->req_gen != m->done_gen;
		pthread_mutex_unlock(&m->mu);
		/* v->wd_deadline: as the realm's timer writes left it (this thread's own). */
		if (err != UC_ERR_OK || v->exiting || v->error || kicked || !pending ||
		    emu_now_ns() >= v->wd_deadline)
			break;
		/* Stopped only to apply another thread's invalidation (next iteration). */
	}
	pthread_mutex_lock(&rmm->lock);
	return err;
}

void emu_run(struct emu_vcpu *v, struct rmm *rmm, struct rec_exit_image *exit)
{
	struct rec *rec = v->rec;
	struct emu_backend *be = v->be;

	v->rmm = rmm;
	v->exit = exit;
	v->exiting = false;
	v->have_exit_pc = false;
	v->error = false;
	v->sys_pending.active = false;
	v->runs++;
	emu_machine_switch(v->m, v);

	if (v->m->ipa_bits > EMU_PA_BITS) {
		/* Only a realm created before the backend was enabled (RMI_FEATURES says 44 since). */
		emu_log("realms with an IPA width above %u bits cannot run (Unicorn's A72: %u-bit PA)",
			EMU_PA_BITS, EMU_PA_BITS);
		put_exit(v, RMI_EXIT_SERROR);
		return;
	}
	if (v->synced) {
		/* As TF-RMM's check_pending_timers: a timer output that changed since the last exit
		 * (the realm's timer interrupt) is reported before running. */
		if (emu_timers_changed(v)) {
			report_timers(v);
			put_exit(v, RMI_EXIT_IRQ);
			return;
		}
		/* An asserted maintenance interrupt exits at once, as the physical one would. */
		if (emu_gic_misr(rec)) {
			emu_gic_exit(v);
			put_exit(v, RMI_EXIT_IRQ);
			return;
		}
	}

	emu_load_state(v);
	if (!v->el_change.active)
		emu_reg_write(v->uc, UC_ARM64_REG_PC, rec->pc);
	if (rec->inject_sea) {
		rec->inject_sea = false;
		inject_sea_on_entry(v);
	}
	if (!v->el_change.active)
		emu_gic_update(v);

	uint64_t now = emu_now_ns();
	v->slice_deadline = be->slice_ns ? now + be->slice_ns : UINT64_MAX;
	uc_hook first = 0;
	if (!v->m->has_run)
		uc_hook_add(v->uc, &first, UC_HOOK_BLOCK, (void *)hook_first_block, v->m, rec->pc, rec->pc);
	uc_err err = run_unlocked(v, rmm);
	if (first)
		uc_hook_del(v->uc, first);
	if (v->m->no_exit_off && !((volatile uint8_t *)v->uc)[v->m->no_exit_off])
		fall_back_to_block_hook(v->m);

	if (v->el_change.active)
		emu_el_change_finish(v);
	if (err != UC_ERR_OK) {
		emu_log("emulation stopped: %s at PC %#" PRIx64, uc_strerror(err),
			emu_reg_read(v->uc, UC_ARM64_REG_PC));
		v->error = true;
	}
	if (v->error) {
		memset(exit->bytes, 0, sizeof(exit->bytes));
		put_exit(v, RMI_EXIT_SERROR);
	} else if (!v->exiting) {
		/* Stopped by the watchdog: end of the time slice, or a timer deadline. */
		put_exit(v, RMI_EXIT_IRQ);
	}
	emu_save_state(v);
	emu_gic_exit(v);
	v->exits++;
}

/* The debug / teaching interface (see include/rmmemu/rmmemu.h). */
#include <string.h>

#include "attest/measurement.h"
#include "rmm/esr.h"
#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rsi/rsi.h"
#include "rtt/s2tt.h"

int rmmemu_debug_measurement(struct rmmemu *emu, uint64_t rd_pa, unsigned slot, uint8_t out[64], size_t *len)
{
	struct rmm *rmm = rmmemu_core(emu);
	struct gref g;
	int rc = RMMEMU_E_INVAL;

	pthread_mutex_lock(&rmm->lock);
	if (slot < MEASUREMENT_SLOT_NR && granule_find_state(rmm, PA(rd_pa), GRANULE_STATE_RD, &g)) {
		const struct rd *rd = g.mem;
		memcpy(out, rd->measurement[slot], MAX_MEASUREMENT_SIZE);
		*len = measurement_size((enum hash_algo)rd->algorithm);
		rc = RMMEMU_OK;
	}
	pthread_mutex_unlock(&rmm->lock);
	return rc;
}

int rmm_debug_realm_smc(struct rmm *rmm, uint64_t rec_pa, uint64_t x[RMMEMU_REALM_SMC_REGS],
			struct rec_exit_image *exit, int *exit_reason)
{
	struct gref g;

	memset(exit, 0, sizeof(*exit));
	pthread_mutex_lock(&rmm->lock);
	if (!granule_find_state(rmm, PA(rec_pa), GRANULE_STATE_REC, &g) || g.g->refcount != 0) {
		pthread_mutex_unlock(&rmm->lock);
		return RMMEMU_E_INVAL;
	}
	struct rec *rec = g.mem;
	memcpy(rec->regs, x, RMMEMU_REALM_SMC_REGS * sizeof(x[0]));
	bool exited = rsi_handle_smc(rmm, rec, exit);
	memcpy(x, rec->regs, RMMEMU_REALM_SMC_REGS * sizeof(x[0]));
	*exit_reason = exited ? (int)rec_exit_get64(exit, RMI_REC_EXIT_REASON) : -1;
	pthread_mutex_unlock(&rmm->lock);
	return RMMEMU_OK;
}

int rmmemu_debug_realm_smc(struct rmmemu *emu, uint64_t rec_pa, uint64_t x[RMMEMU_REALM_SMC_REGS], int *exit_reason)
{
	struct rec_exit_image exit;
	return rmm_debug_realm_smc(rmmemu_core(emu), rec_pa, x, &exit, exit_reason);
}

int rmmemu_debug_realm_read(struct rmmemu *emu, uint64_t rd_pa, uint64_t ipa, void *buf, size_t len)
{
	struct rmm *rmm = rmmemu_core(emu);
	struct gref g;
	int rc = RMMEMU_OK;

	pthread_mutex_lock(&rmm->lock);
	if (!granule_find_state(rmm, PA(rd_pa), GRANULE_STATE_RD, &g)) {
		rc = RMMEMU_E_INVAL;
		goto out;
	}
	const struct rd *rd = g.mem;
	for (size_t done = 0; done < len;) {
		uint64_t cur = ipa + done, page = cur & ~GRANULE_MASK;
		struct s2tt_walk wi;
		if (cur < ipa || !addr_in_par(rd, page)) {
			rc = RMMEMU_E_INVAL;
			goto out;
		}
		s2tt_walk(rmm, &rd->s2, IPA(page), S2TT_PAGE_LEVEL, &wi);
		uint64_t e = wi.table[wi.index];
		if (!s2tte_is_assigned_ram(e, wi.last_level)) {
			rc = RMMEMU_E_INVAL;
			goto out;
		}
		uint64_t pa = s2tte_pa(e, wi.last_level).val + (page & (s2tte_map_size(wi.last_level) - 1));
		size_t off = cur & GRANULE_MASK, n = GRANULE_SIZE - off;
		if (n > len - done)
			n = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)granule_mem(rmm, PA(pa)) + off, n);
		done += n;
	}
out:
	pthread_mutex_unlock(&rmm->lock);
	return rc;
}

/* The REC at rec_pa if it exists and is not in use (a REC_ENTER in progress holds it). */
static struct rec *idle_rec(struct rmm *rmm, uint64_t rec_pa)
{
	struct gref g;
	if (!granule_find_state(rmm, PA(rec_pa), GRANULE_STATE_REC, &g) || g.g->refcount != 0)
		return NULL;
	return g.mem;
}

/* The host memory of a realm access that stage 2 translated to pa: DATA (protected) or a granule
 * of non-secure DRAM (unprotected; anything else would be a granule protection fault). */
static uint8_t *access_target(struct rmm *rmm, uint64_t pa, bool ns)
{
	struct gref g;
	if (!granule_find(rmm, PA(pa & ~GRANULE_MASK), &g))
		return NULL;
	if (ns && g.g->pas != RMMEMU_PAS_NONSECURE)
		return NULL;
	return (uint8_t *)g.mem + (pa & GRANULE_MASK);
}

static int realm_access(struct rmm *rmm, struct rec *rec, struct rmm_debug_access *a, struct rec_exit_image *exit)
{
	const struct rd *rd = granule_mem(rmm, rec->rd);
	struct s2tt_walk wi;

	if (rd->state != REALM_ACTIVE || !rec->runnable || rec->psci_info.pending)
		return RMM_ACCESS_E_NOT_RUNNABLE;
	if (rec->last_run_info.esr)
		return RMM_ACCESS_E_EXITED;
	if (a->ipa >= realm_ipa_size(rd))
		return RMM_ACCESS_E_IPA_RANGE;
	if (a->ipa & (a->size - 1))
		return RMM_ACCESS_E_ALIGN;

	/* Stage 2: a protected IPA reaches its DATA granule if the RTT entry is ASSIGNED with RIPAS
	 * RAM; an unprotected one the NS page the host mapped. Anything else is a translation fault
	 * at the level where the walk stopped. */
	bool prot = addr_in_par(rd, a->ipa);
	s2tt_walk(rmm, &rd->s2, IPA(a->ipa & ~GRANULE_MASK), S2TT_PAGE_LEVEL, &wi);
	uint64_t e = wi.table[wi.index];
	int level = wi.last_level;
	if (prot ? s2tte_is_assigned_ram(e, level) : s2tte_is_assigned_ns(e, level)) {
		uint64_t pa = s2tte_pa(e, level).val + (a->ipa & (s2tte_map_size(level) - 1));
		uint8_t *mem = access_target(rmm, pa, !prot);
		a->pa = pa;
		if (!mem)
			return RMM_ACCESS_E_GPF;
		uint64_t v = 0;
		if (a->write) {
			v = a->rt == 31 ? 0 : a->value;
			if (a->rt != 31)
				rec->regs[a->rt] = v;
			memcpy(mem, &v, a->size);   /* little-endian, as the realm (SCTLR_EL1.EE = 0) */
		} else {
			memcpy(&v, mem, a->size);
			if (a->rt != 31)
				rec->regs[a->rt] = v;
		}
		a->value = v;
		a->ns = !prot;
		a->outcome = RMM_ACCESS_DONE;
		rec->pc += 4;
		return RMM_ACCESS_OK;
	}

	/* The abort a CPU takes to EL2: data abort from a lower EL, 32-bit instruction, valid
	 * syndrome (a load/store without writeback) with the size, register and direction. */
	unsigned sas = a->size == 1 ? 0 : a->size == 2 ? 1 : a->size == 4 ? 2 : 3;
	a->esr = ESR_EC_VAL(ESR_EC_DABT_LOW) | ESR_IL | ESR_ISV | ((uint64_t)sas << ESR_SAS_SHIFT) |
		 ((uint64_t)a->rt << ESR_SRT_SHIFT) | (a->size == 8 ? ESR_SF : 0) | (a->write ? ESR_WNR : 0) |
		 (ESR_FSC_TRANSLATION_L0 + (uint64_t)level);
	a->far = a->ipa;
	a->hpfar = HPFAR_FROM_IPA(a->ipa);
	if (a->write && a->rt != 31)
		rec->regs[a->rt] = a->value;
	enum rmm_dabort_kind kind = rmm_dabort_classify(rmm, rec, a->esr, a->hpfar);
	if (kind == RMM_DABORT_INJECT_SEA) {
		rmm_rec_inject_sea(rec, a->esr, a->far);
		a->outcome = RMM_ACCESS_SEA;
		return RMM_ACCESS_OK;
	}
	rmm_dabort_exit(rec, kind, a->esr, a->far, a->hpfar, a->rt == 31 ? 0 : rec->regs[a->rt], exit);
	a->outcome = RMM_ACCESS_EXIT;
	return RMM_ACCESS_OK;
}

int rmm_debug_realm_access(struct rmm *rmm, uint64_t rec_pa, struct rmm_debug_access *a, struct rec_exit_image *exit)
{
	memset(exit, 0, sizeof(*exit));
	if ((a->size != 1 && a->size != 2 && a->size != 4 && a->size != 8) || a->rt > 31)
		return RMMEMU_E_INVAL;
	pthread_mutex_lock(&rmm->lock);
	struct rec *rec = idle_rec(rmm, rec_pa);
	int rc = rec ? realm_access(rmm, rec, a, exit) : RMM_ACCESS_E_NOT_REC;
	pthread_mutex_unlock(&rmm->lock);
	return rc;
}

int rmm_debug_rec_state(struct rmm *rmm, uint64_t rec_pa, struct rmm_debug_rec_state *st)
{
	pthread_mutex_lock(&rmm->lock);
	const struct rec *rec = idle_rec(rmm, rec_pa);
	if (rec) {
		memcpy(st->regs, rec->regs, sizeof(st->regs));
		st->pc = rec->pc;
		st->pstate = rec->pstate;
		st->esr_el1 = rec->sysregs.esr_el1;
		st->far_el1 = rec->sysregs.far_el1;
		st->elr_el1 = rec->sysregs.elr_el1;
		st->spsr_el1 = rec->sysregs.spsr_el1;
		st->vbar_el1 = rec->sysregs.vbar_el1;
	}
	pthread_mutex_unlock(&rmm->lock);
	return rec ? RMMEMU_OK : RMMEMU_E_INVAL;
}

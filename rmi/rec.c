/* RMI_REC_CREATE / REC_DESTROY / REC_AUX_COUNT / PSCI_COMPLETE */
#include <string.h>

#include "rmi/rmi.h"
#include "rmm/measure_hooks.h"
#include "rmm/realm.h"
#include "rmm/vcpu_ops.h"

#define SMC32_PSCI_CPU_ON        0x84000003ULL
#define SMC64_PSCI_CPU_ON        0xC4000003ULL
#define SMC32_PSCI_AFFINITY_INFO 0x84000004ULL
#define SMC64_PSCI_AFFINITY_INFO 0xC4000004ULL
#define PSCI_AFFINITY_INFO_ON    0ULL
#define PSCI_AFFINITY_INFO_OFF   1ULL

static uint64_t rd64(const uint8_t *p, unsigned off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

/* MPIDR_EL1 value of a REC: RmiRecMpidr affinity fields, Aff3 moved to bits 39:32, RES1 bit 31. */
static uint64_t rec_mpidr_to_mpidr_el1(uint64_t m)
{
	return (m & 0xFFFFFFULL) | ((m & 0xFF000000ULL) << 8) | (1ULL << 31);
}

static void release_aux(struct rmm *rmm, const rmm_pa_t *aux, unsigned n, bool scrub)
{
	for (unsigned i = 0; i < n; i++) {
		struct gref g;
		granule_find(rmm, aux[i], &g);
		if (scrub)
			granule_zero(&g);
		granule_set_state(rmm, &g, GRANULE_STATE_DELEGATED);
	}
}

static void init_rec(struct rec *rec, const uint8_t *img, const struct rd *rd, rmm_pa_t rd_pa,
		     uint64_t rec_idx, const rmm_pa_t *aux, unsigned num_aux)
{
	memset(rec, 0, sizeof(*rec));
	rec->rd = rd_pa;
	rec->rec_idx = rec_idx;
	rec->mpidr = rd64(img, RMI_REC_PARAMS_MPIDR);
	rec->runnable = (rd64(img, RMI_REC_PARAMS_FLAGS) & RMI_REC_PARAMS_FLAG_RUNNABLE) != 0;
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		rec->regs[i] = rd64(img, RMI_REC_PARAMS_GPRS + 8 * i);
	rec->pc = rd64(img, RMI_REC_PARAMS_PC);
	rec->pstate = PSTATE_EL1H_DAIF;
	rec->sysregs.sctlr_el1 = SCTLR_EL1_FLAGS;
	rec->sysregs.mdscr_el1 = 1ULL << 12; /* TDCC */
	rec->sysregs.vmpidr_el2 = rec_mpidr_to_mpidr_el1(rec->mpidr);
	rec->gic.hcr = 1; /* ICH_HCR_EL2.En */
	rec->num_rec_aux = num_aux;
	memcpy(rec->aux, aux, num_aux * sizeof(aux[0]));
	(void)rd;
}

void rmi_rec_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	rmm_pa_t rd_pa = PA(a[0]), rec_pa = PA(a[1]);
	uint8_t img[GRANULE_SIZE];
	rmm_pa_t aux[RMI_MAX_REC_AUX_GRANULES];
	struct gref g_params, g_rec, g_rd;

	if (!granule_find_state(rmm, PA(a[2]), GRANULE_STATE_UNDELEGATED, &g_params) ||
	    !ns_granule_read(rmm, PA(a[2]), img, GRANULE_SIZE)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	uint64_t num_aux64 = rd64(img, RMI_REC_PARAMS_NUM_AUX);
	if (num_aux64 > RMI_MAX_REC_AUX_GRANULES) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	unsigned num_aux = (unsigned)num_aux64;
	/* Each auxiliary granule must be DELEGATED; claimed one by one, so duplicates fail. */
	for (unsigned i = 0; i < num_aux; i++) {
		struct gref g;
		aux[i] = PA(rd64(img, RMI_REC_PARAMS_AUX + 8 * i));
		if (!granule_find_state(rmm, aux[i], GRANULE_STATE_DELEGATED, &g)) {
			release_aux(rmm, aux, i, false);
			res[0] = RMI_ERROR_INPUT;
			return;
		}
		granule_set_state(rmm, &g, GRANULE_STATE_REC_AUX);
	}

	uint64_t ret;
	if (!granule_find_two(rmm, rec_pa, GRANULE_STATE_DELEGATED, &g_rec, rd_pa, GRANULE_STATE_RD, &g_rd)) {
		ret = RMI_ERROR_INPUT;
		goto fail;
	}
	if (g_rd.g->refcount == REFCOUNT_MAX) {
		ret = RMI_ERROR_REALM;
		goto fail;
	}
	struct rd *rd = g_rd.mem;
	if (rd->state != REALM_NEW) {
		ret = RMI_ERROR_REALM;
		goto fail;
	}
	uint64_t mpidr = rd64(img, RMI_REC_PARAMS_MPIDR);
	uint64_t rec_idx = rd->rec_count;
	if (!rec_mpidr_is_valid(mpidr) || rec_mpidr_to_idx(mpidr) != rec_idx) {
		ret = RMI_ERROR_INPUT;
		goto fail;
	}
	if (num_aux != rd->num_rec_aux) {
		ret = RMI_ERROR_INPUT;
		goto fail;
	}

	struct rec *rec = g_rec.mem;
	init_rec(rec, img, rd, rd_pa, rec_idx, aux, num_aux);
	rec->self = rec_pa;
	if (rec->runnable)
		measurement_rec_params_measure(rd, img);
	granule_get(&g_rd);
	granule_set_state(rmm, &g_rec, GRANULE_STATE_REC);
	rd->rec_count = rec_idx + 1;
	res[0] = RMI_SUCCESS;
	return;
fail:
	release_aux(rmm, aux, num_aux, false);
	res[0] = ret;
}

void rmi_rec_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g_rec, g_rd;

	/* A REC is in use while it runs (its refcount is held by REC_ENTER). */
	int found = granule_find_unused(rmm, PA(a[0]), GRANULE_STATE_REC, &g_rec);
	if (found) {
		res[0] = found < 0 ? RMI_ERROR_INPUT : RMI_ERROR_REC;
		return;
	}
	struct rec *rec = g_rec.mem;
	if (rec->vcpu && rmm->vcpu_ops && rmm->vcpu_ops->rec_destroy)
		rmm->vcpu_ops->rec_destroy(rmm->vcpu_ctx, rec);
	granule_find(rmm, rec->rd, &g_rd);
	release_aux(rmm, rec->aux, rec->num_rec_aux, true);
	granule_zero(&g_rec);
	granule_set_state(rmm, &g_rec, GRANULE_STATE_DELEGATED);
	granule_put(&g_rd);
	res[0] = RMI_SUCCESS;
}

void rmi_rec_aux_count(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g_rd;

	if (!granule_find_state(rmm, PA(a[0]), GRANULE_STATE_RD, &g_rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	res[0] = RMI_SUCCESS;
	res[1] = ((struct rd *)g_rd.mem)->num_rec_aux;
}

/* Reset of a REC brought up by PSCI CPU_ON: EL1h with exceptions masked, MMU off,
 * endianness of the caller. */
static void psci_reset_rec(struct rec *rec, uint64_t caller_sctlr)
{
	rec->pstate = PSTATE_EL1H_DAIF;
	rec->sysregs.sctlr_el1 = SCTLR_EL1_FLAGS | (caller_sctlr & SCTLR_EL1_EE);
}

static uint64_t complete_psci_cpu_on(struct gref *g_target, uint64_t entry, uint64_t context_id,
				     uint64_t caller_sctlr, uint64_t status)
{
	struct rec *target = g_target->mem;
	if (g_target->g->refcount != 0 || target->runnable)
		return PSCI_RETURN_ALREADY_ON;
	/* The host may deny CPU_ON of a CPU that is not already on. */
	if (status == PSCI_RETURN_DENIED)
		return PSCI_RETURN_DENIED;
	psci_reset_rec(target, caller_sctlr);
	target->regs[0] = context_id;
	target->pc = entry;
	target->runnable = true;
	return PSCI_RETURN_SUCCESS;
}

static uint64_t complete_psci_affinity_info(struct gref *g_target)
{
	struct rec *target = g_target->mem;
	if (g_target->g->refcount != 0 || target->runnable)
		return PSCI_AFFINITY_INFO_ON;
	return PSCI_AFFINITY_INFO_OFF;
}

void rmi_psci_complete(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g_calling, g_target;
	uint64_t status = a[2];

	res[0] = RMI_ERROR_INPUT;
	if (!granule_aligned(a[0]) || !granule_aligned(a[1]))
		return;
	if (!granule_find_two(rmm, PA(a[0]), GRANULE_STATE_REC, &g_calling, PA(a[1]), GRANULE_STATE_REC,
			      &g_target))
		return;
	if (g_calling.g->refcount != 0)
		return;
	struct rec *calling = g_calling.mem, *target = g_target.mem;
	if (!calling->psci_info.pending)
		return;
	if (calling->rd.val != target->rd.val)
		return;
	if (mpidr_to_rec_idx(calling->regs[1]) != target->rec_idx)
		return;

	uint64_t ret = RMI_SUCCESS, rec_ret;
	switch (calling->regs[0]) {
	case SMC32_PSCI_CPU_ON:
	case SMC64_PSCI_CPU_ON:
		if (status != PSCI_RETURN_SUCCESS && status != PSCI_RETURN_DENIED)
			return;
		rec_ret = complete_psci_cpu_on(&g_target, calling->regs[2], calling->regs[3],
					       calling->sysregs.sctlr_el1, status);
		/* Denying a CPU that is already on is a host error; the realm still sees ALREADY_ON. */
		if (status == PSCI_RETURN_DENIED && rec_ret == PSCI_RETURN_ALREADY_ON)
			ret = RMI_ERROR_INPUT;
		break;
	case SMC32_PSCI_AFFINITY_INFO:
	case SMC64_PSCI_AFFINITY_INFO:
		if (status != PSCI_RETURN_SUCCESS)
			return;
		rec_ret = complete_psci_affinity_info(&g_target);
		break;
	default:
		/* A pending PSCI request is only ever CPU_ON or AFFINITY_INFO. */
		return;
	}
	calling->regs[0] = rec_ret;
	calling->regs[1] = 0;
	calling->regs[2] = 0;
	calling->regs[3] = 0;
	calling->psci_info.pending = false;
	res[0] = ret;
}

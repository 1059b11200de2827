/* RSI dispatch and the RSI commands other than attestation and PSCI. */
#include <string.h>
#include <strings.h>

#include "attest/measurement.h"
#include "rmm/esr.h"
#include "rsi/rsi_internal.h"
#include "rtt/s2tt.h"

#define SMC_SVE_HINT (1U << 16)

static bool addr_in_rec_par(struct rmm *rmm, const struct rec *rec, uint64_t ipa)
{
	return addr_in_par(rec_rd(rmm, rec), ipa);
}

enum rsi_walk realm_ipa_to_pa(struct rmm *rmm, const struct rec *rec, rmm_ipa_t ipa, struct rsi_walk_result *r)
{
	struct s2tt_walk wi;
	const struct rd *rd = rec_rd(rmm, rec);

	/* An IPA outside the PAR has no RIPAS: callers treat it as EMPTY (the realm's error). */
	r->ripas = RIPAS_EMPTY;
	r->rtt_level = 0;
	if (!granule_aligned(ipa.val) || !addr_in_par(rd, ipa.val))
		return WALK_INVALID_PARAMS;
	s2tt_walk(rmm, &rd->s2, ipa, S2TT_PAGE_LEVEL, &wi);
	uint64_t e = wi.table[wi.index];
	r->rtt_level = wi.last_level;
	if (s2tte_is_assigned_ram(e, wi.last_level)) {
		uint64_t off = ipa.val & (s2tte_map_size(wi.last_level) - 1);
		r->pa = PA(s2tte_pa(e, wi.last_level).val + off);
		r->ripas = RIPAS_RAM;
		return WALK_SUCCESS;
	}
	if (s2tte_is_unassigned_destroyed(e) || s2tte_is_assigned_destroyed(e, wi.last_level))
		r->ripas = RIPAS_DESTROYED;
	else if (s2tte_is_unassigned_ram(e))
		r->ripas = RIPAS_RAM;
	else
		r->ripas = RIPAS_EMPTY;
	return WALK_FAIL;
}

/* A walk failure is the realm's error when the RIPAS is EMPTY, otherwise the host must map the page. */
static void walk_failed(const struct rsi_walk_result *w, struct rsi_result *res)
{
	if (w->ripas == RIPAS_EMPTY) {
		res->x[0] = RSI_ERROR_INPUT;
	} else {
		res->action = RSI_STAGE_2_FAULT;
		res->rtt_level = w->rtt_level;
	}
}

void rsi_forward_args_to_host(const struct rec *rec, unsigned count, struct rec_exit_image *exit)
{
	for (unsigned i = 0; i < RMI_REC_NR_GPRS; i++)
		rec_exit_put64(exit, RMI_REC_EXIT_GPRS + 8 * i, i < count ? rec->regs[i] : 0);
}

static void emulate_stage2_data_abort(struct rec *rec, struct rec_exit_image *exit, int level)
{
	uint64_t fipa = rec->regs[1];
	rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_SYNC);
	rec_exit_put64(exit, RMI_REC_EXIT_ESR, ESR_EC_VAL(ESR_EC_DABT_LOW) | (ESR_FSC_TRANSLATION_L0 + (uint64_t)level));
	rec_exit_put64(exit, RMI_REC_EXIT_FAR, 0);
	rec_exit_put64(exit, RMI_REC_EXIT_HPFAR, fipa >> 8);
}

static void handle_rsi_version(struct rec *rec, struct rsi_result *res)
{
	res->x[0] = rec->regs[1] == RSI_ABI_VERSION ? RSI_SUCCESS : RSI_ERROR_INPUT;
	res->x[1] = RSI_ABI_VERSION;
	res->x[2] = RSI_ABI_VERSION;
}

static void handle_rsi_features(struct rec *rec, struct rsi_result *res)
{
	(void)rec;
	/* No RSI features are defined for index 0 in 1.0; every other index reads as zero too. */
	res->x[0] = RSI_SUCCESS;
	res->x[1] = 0;
}

static void handle_rsi_realm_config(struct rmm *rmm, struct rec *rec, struct rsi_result *res)
{
	uint64_t ipa = rec->regs[1];
	struct rsi_walk_result w;

	if (!granule_aligned(ipa) || !addr_in_rec_par(rmm, rec, ipa)) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	if (realm_ipa_to_pa(rmm, rec, IPA(ipa), &w) != WALK_SUCCESS) {
		walk_failed(&w, res);
		return;
	}
	const struct rd *rd = rec_rd(rmm, rec);
	uint8_t *cfg = granule_mem(rmm, w.pa);
	uint64_t width = rd->s2.ipa_bits;
	memcpy(cfg + RSI_REALM_CONFIG_IPA_WIDTH, &width, sizeof(width));
	cfg[RSI_REALM_CONFIG_HASH_ALGO] = rd->algorithm == HASH_SHA_256 ? RSI_HASH_SHA_256 : RSI_HASH_SHA_512;
	memcpy(cfg + RSI_REALM_CONFIG_RPV, rd->rpv, RMI_RPV_SIZE);
	res->x[0] = RSI_SUCCESS;
}

static void handle_rsi_measurement_read(struct rmm *rmm, struct rec *rec, struct rsi_result *res)
{
	uint64_t idx = rec->regs[1];
	if (idx >= MEASUREMENT_SLOT_NR) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	const struct rd *rd = rec_rd(rmm, rec);
	uint64_t words[MAX_MEASUREMENT_SIZE / 8];
	memcpy(words, rd->measurement[idx], sizeof(words));
	size_t n = measurement_size((enum hash_algo)rd->algorithm) / 8;
	/* X1..X4 through the result; X5..X8 written directly; unused words are zero. */
	for (unsigned i = 0; i < 4; i++)
		res->x[i + 1] = words[i];
	for (unsigned i = 4; i < MAX_MEASUREMENT_SIZE / 8; i++)
		rec->regs[i + 1] = i < n ? words[i] : 0;
	res->x[0] = RSI_SUCCESS;
}

static void handle_rsi_measurement_extend(struct rmm *rmm, struct rec *rec, struct rsi_result *res)
{
	uint64_t idx = rec->regs[1], size = rec->regs[2];
	struct rd *rd = rec_rd(rmm, rec);

	if (idx == RIM_MEASUREMENT_SLOT || idx >= MEASUREMENT_SLOT_NR || size > MAX_MEASUREMENT_SIZE) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	uint8_t data[MAX_MEASUREMENT_SIZE];
	memcpy(data, &rec->regs[3], sizeof(data)); /* X3..X10, little-endian */
	measurement_extend((enum hash_algo)rd->algorithm, rd->measurement[idx], data, size, rd->measurement[idx]);
	res->x[0] = RSI_SUCCESS;
}

static void handle_rsi_ipa_state_set(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
				     struct rsi_result *res)
{
	uint64_t base = rec->regs[1], top = rec->regs[2], ripas = rec->regs[3], flags = rec->regs[4];

	if (ripas > RIPAS_RAM || !granule_aligned(base) || !granule_aligned(top) || top <= base ||
	    !addr_in_rec_par(rmm, rec, base) || !addr_in_rec_par(rmm, rec, top - 1)) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	rec->set_ripas.base = base;
	rec->set_ripas.top = top;
	rec->set_ripas.addr = base;
	rec->set_ripas.ripas_val = (uint8_t)ripas;
	rec->set_ripas.change_destroyed = flags == RSI_CHANGE_DESTROYED;
	rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_RIPAS_CHANGE);
	rec_exit_put64(exit, RMI_REC_EXIT_RIPAS_BASE, base);
	rec_exit_put64(exit, RMI_REC_EXIT_RIPAS_TOP, top);
	rec_exit_put64(exit, RMI_REC_EXIT_RIPAS_VALUE, ripas);
	res->action = RSI_UPDATE_EXIT_TO_HOST;
	res->x[0] = RSI_SUCCESS;
	res->x[1] = top;
}

static void handle_rsi_ipa_state_get(struct rmm *rmm, struct rec *rec, struct rsi_result *res)
{
	uint64_t start = rec->regs[1], end = rec->regs[2];
	struct s2tt_walk wi;

	if (!granule_aligned(start) || !addr_in_rec_par(rmm, rec, start) || !granule_aligned(end) ||
	    start >= end || !addr_in_rec_par(rmm, rec, end - 1)) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	const struct rd *rd = rec_rd(rmm, rec);
	s2tt_walk(rmm, &rd->s2, IPA(start), S2TT_PAGE_LEVEL, &wi);
	int l = wi.last_level;
	uint64_t size = s2tte_map_size(l);
	uint64_t first = start & ~(size - 1), addr = first;
	enum ripas ripas = RIPAS_EMPTY;
	/* The longest run of entries with the same RIPAS, within the table reached. */
	for (unsigned i = wi.index; i < S2TTES_PER_S2TT; i++) {
		uint64_t e = wi.table[i];
		if (!s2tte_has_ripas(e, l))
			break;
		enum ripas r = s2tte_is_assigned_ram(e, l) ? RIPAS_RAM : s2tte_get_ripas(e);
		if (addr == first)
			ripas = r;
		else if (r != ripas)
			break;
		addr += size;
		if (addr >= end)
			break;
	}
	if (addr == first) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	res->x[0] = RSI_SUCCESS;
	res->x[1] = addr > end ? end : addr;
	res->x[2] = ripas;
}

/* Copy between the REC's registers / host gprs and the realm's RsiHostCall structure. */
static void do_host_call(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
			 const uint64_t *enter_gprs, struct rsi_result *res)
{
	uint64_t ipa = rec->regs[1], page = ipa & ~GRANULE_MASK;
	struct rsi_walk_result w;

	if (realm_ipa_to_pa(rmm, rec, IPA(page), &w) != WALK_SUCCESS) {
		walk_failed(&w, res);
		return;
	}
	uint8_t *hc = (uint8_t *)granule_mem(rmm, w.pa) + (ipa - page);
	if (exit) {
		uint16_t imm;
		memcpy(&imm, hc + RSI_HOST_CALL_IMM, sizeof(imm));
		rec_exit_put64(exit, RMI_REC_EXIT_IMM, imm);
		for (unsigned i = 0; i < RSI_HOST_CALL_NR_GPRS; i++) {
			uint64_t v;
			memcpy(&v, hc + RSI_HOST_CALL_GPRS + 8 * i, 8);
			rec_exit_put64(exit, RMI_REC_EXIT_GPRS + 8 * i, v);
		}
		rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_HOST_CALL);
		rec->host_call = true;
		res->action = RSI_EXIT_TO_HOST;
	} else if (enter_gprs) {
		memcpy(hc + RSI_HOST_CALL_GPRS, enter_gprs, 8 * RSI_HOST_CALL_NR_GPRS);
		rec->regs[0] = RSI_SUCCESS;
	}
}

static void handle_rsi_host_call(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
				 struct rsi_result *res)
{
	uint64_t ipa = rec->regs[1];
	if ((ipa & (RSI_HOST_CALL_SIZE - 1)) != 0 || !addr_in_rec_par(rmm, rec, ipa)) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	do_host_call(rmm, rec, exit, NULL, res);
}

bool rsi_complete_host_call(struct rmm *rmm, struct rec *rec, const uint64_t gprs[RMI_REC_NR_GPRS],
			    struct rec_exit_image *exit)
{
	struct rsi_result res = { 0 };
	if (!rec->host_call)
		return true;
	do_host_call(rmm, rec, NULL, gprs, &res);
	if (res.action & RSI_FLAG_STAGE_2_ABORT) {
		emulate_stage2_data_abort(rec, exit, res.rtt_level);
		return false;
	}
	rec->host_call = false;
	return true;
}

static const struct {
	const char *name;
	uint64_t fid;
} realm_smc_names[] = {
	{ "RSI_VERSION", SMC_RSI_VERSION }, { "RSI_FEATURES", SMC_RSI_FEATURES },
	{ "RSI_MEASUREMENT_READ", SMC_RSI_MEASUREMENT_READ }, { "RSI_MEASUREMENT_EXTEND", SMC_RSI_MEASUREMENT_EXTEND },
	{ "RSI_ATTEST_TOKEN_INIT", SMC_RSI_ATTEST_TOKEN_INIT }, { "RSI_ATTEST_TOKEN_CONTINUE", SMC_RSI_ATTEST_TOKEN_CONTINUE },
	{ "RSI_REALM_CONFIG", SMC_RSI_REALM_CONFIG }, { "RSI_IPA_STATE_SET", SMC_RSI_IPA_STATE_SET },
	{ "RSI_IPA_STATE_GET", SMC_RSI_IPA_STATE_GET }, { "RSI_HOST_CALL", SMC_RSI_HOST_CALL },
	{ "PSCI_VERSION", PSCI_VERSION }, { "PSCI_CPU_SUSPEND", PSCI_CPU_SUSPEND_64 },
	{ "PSCI_CPU_SUSPEND32", PSCI_CPU_SUSPEND_32 }, { "PSCI_CPU_OFF", PSCI_CPU_OFF },
	{ "PSCI_CPU_ON", PSCI_CPU_ON_64 }, { "PSCI_CPU_ON32", PSCI_CPU_ON_32 },
	{ "PSCI_AFFINITY_INFO", PSCI_AFFINITY_INFO_64 }, { "PSCI_AFFINITY_INFO32", PSCI_AFFINITY_INFO_32 },
	{ "PSCI_SYSTEM_OFF", PSCI_SYSTEM_OFF }, { "PSCI_SYSTEM_RESET", PSCI_SYSTEM_RESET },
	{ "PSCI_FEATURES", PSCI_FEATURES }, { "SMCCC_VERSION", SMCCC_VERSION_FID },
};

const char *rmmemu_realm_smc_name(uint64_t fid)
{
	fid = (uint32_t)fid & ~SMC_SVE_HINT;
	for (unsigned i = 0; i < sizeof(realm_smc_names) / sizeof(realm_smc_names[0]); i++)
		if ((realm_smc_names[i].fid & 0xFFFFFFFF) == fid)
			return realm_smc_names[i].name;
	return NULL;
}

uint64_t rmmemu_realm_smc_fid(const char *name)
{
	for (unsigned i = 0; i < sizeof(realm_smc_names) / sizeof(realm_smc_names[0]); i++)
		if (!strcasecmp(name, realm_smc_names[i].name) ||
		    (!strncmp(realm_smc_names[i].name, "RSI_", 4) && !strcasecmp(name, realm_smc_names[i].name + 4)))
			return realm_smc_names[i].fid;
	return 0;
}

const char *rmmemu_exit_reason_name(unsigned reason)
{
	static const char *const names[] = { "RMI_EXIT_SYNC", "RMI_EXIT_IRQ", "RMI_EXIT_FIQ", "RMI_EXIT_PSCI",
					     "RMI_EXIT_RIPAS_CHANGE", "RMI_EXIT_HOST_CALL", "RMI_EXIT_SERROR" };
	return reason < 7 ? names[reason] : "RMI_EXIT_?";
}

static void trace_realm_smc(struct rmm *rmm, const struct rec *rec, const struct rmmemu_event *ev, bool exited,
			    const struct rec_exit_image *exit)
{
	const char *name = rmmemu_realm_smc_name(ev->fid);
	rmm_trace(rmm, RMMEMU_TRACE_RMI, "  realm REC 0x%llx: ", (unsigned long long)rec->self.val);
	if (name)
		rmm_trace(rmm, RMMEMU_TRACE_RMI, "%s", name);
	else
		rmm_trace(rmm, RMMEMU_TRACE_RMI, "SMC 0x%llx", (unsigned long long)ev->fid);
	rmm_trace(rmm, RMMEMU_TRACE_RMI, "(0x%llx, 0x%llx, 0x%llx) -> x0=0x%llx x1=0x%llx x2=0x%llx%s%s\n",
		  (unsigned long long)ev->args[0], (unsigned long long)ev->args[1], (unsigned long long)ev->args[2],
		  (unsigned long long)ev->res[0], (unsigned long long)ev->res[1], (unsigned long long)ev->res[2],
		  exited ? ", exit to host: " : "",
		  exited ? rmmemu_exit_reason_name((unsigned)rec_exit_get64(exit, RMI_REC_EXIT_REASON)) : "");
}

static bool handle_smc(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit);

bool rsi_handle_smc(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit)
{
	if (!rmm->trace && !rmm->event_fn)
		return handle_smc(rmm, rec, exit);
	struct rmmemu_event ev = { .kind = RMMEMU_EV_REALM_SMC, .addr = rec->self.val, .fid = rec->regs[0] };
	memcpy(ev.args, &rec->regs[1], sizeof(ev.args));
	bool exited = handle_smc(rmm, rec, exit);
	memcpy(ev.res, rec->regs, sizeof(ev.res));
	if (rmm->trace)
		trace_realm_smc(rmm, rec, &ev, exited, exit);
	rmm_event(rmm, &ev);
	return exited;
}

static bool handle_smc(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit)
{
	struct rsi_result res = { .action = RSI_RETURN_TO_REALM };
	uint32_t fid = (uint32_t)rec->regs[0] & ~SMC_SVE_HINT;

	res.x[4] = rec->regs[4];
	switch (fid) {
	case SMCCC_VERSION_FID:
		res.x[0] = SMCCC_VERSION_1_2;
		break;
	case SMC_RSI_VERSION & 0xFFFFFFFF:
		handle_rsi_version(rec, &res);
		break;
	case SMC_RSI_FEATURES & 0xFFFFFFFF:
		handle_rsi_features(rec, &res);
		break;
	case SMC_RSI_MEASUREMENT_READ & 0xFFFFFFFF:
		handle_rsi_measurement_read(rmm, rec, &res);
		break;
	case SMC_RSI_MEASUREMENT_EXTEND & 0xFFFFFFFF:
		handle_rsi_measurement_extend(rmm, rec, &res);
		break;
	case SMC_RSI_ATTEST_TOKEN_INIT & 0xFFFFFFFF:
		handle_rsi_attest_token_init(rmm, rec, &res);
		break;
	case SMC_RSI_ATTEST_TOKEN_CONTINUE & 0xFFFFFFFF:
		handle_rsi_attest_token_continue(rmm, rec, exit, &res);
		break;
	case SMC_RSI_REALM_CONFIG & 0xFFFFFFFF:
		handle_rsi_realm_config(rmm, rec, &res);
		break;
	case SMC_RSI_IPA_STATE_SET & 0xFFFFFFFF:
		handle_rsi_ipa_state_set(rmm, rec, exit, &res);
		break;
	case SMC_RSI_IPA_STATE_GET & 0xFFFFFFFF:
		handle_rsi_ipa_state_get(rmm, rec, &res);
		break;
	case SMC_RSI_HOST_CALL & 0xFFFFFFFF:
		handle_rsi_host_call(rmm, rec, exit, &res);
		break;
	default:
		if ((fid >= PSCI_FID_32_MIN && fid <= PSCI_FID_32_MAX) ||
		    (fid >= PSCI_FID_64_MIN && fid <= PSCI_FID_64_MAX))
			handle_psci(rmm, rec, exit, &res);
		else
			res.x[0] = SMCCC_UNKNOWN;
		break;
	}
	if (res.action & RSI_FLAG_UPDATE_REC)
		for (unsigned i = 0; i < 5; i++)
			rec->regs[i] = res.x[i];
	if (res.action & RSI_FLAG_STAGE_2_ABORT)
		emulate_stage2_data_abort(rec, exit, res.rtt_level);
	else
		rec->pc += 4;
	return (res.action & RSI_FLAG_EXIT_TO_HOST) != 0;
}

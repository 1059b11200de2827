/* PSCI 1.1 as seen from a realm: local answers, or PSCI REC exits the host completes. */
#include "rsi/rsi_internal.h"

static void psci_set_exit(struct rec_exit_image *exit)
{
	rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_PSCI);
}

/* CPU_ON / AFFINITY_INFO name another REC of the realm by MPIDR: answered here when the target is
 * not a valid MPIDR (bits outside the affinity fields, Aff0[7:4]), out of range or the caller itself, otherwise a PSCI exit the host completes with PSCI_COMPLETE
 * (X0 is written then). */
static void psci_target_request(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
				struct rsi_result *res, uint64_t self_answer)
{
	const struct rd *rd = rec_rd(rmm, rec);
	uint64_t idx = mpidr_to_rec_idx(rec->regs[1]);
	if (!mpidr_is_valid(rec->regs[1]) || idx >= rd->rec_count) {
		res->x[0] = PSCI_RETURN_INVALID_PARAMS;
		return;
	}
	if (idx == rec->rec_idx) {
		res->x[0] = self_answer;
		return;
	}
	rec->psci_info.pending = true;
	rsi_forward_args_to_host(rec, 2, exit);
	res->action = RSI_EXIT_TO_HOST;
}

static void psci_cpu_on(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit, struct rsi_result *res)
{
	if (!addr_in_par(rec_rd(rmm, rec), rec->regs[2])) { /* entry point */
		res->x[0] = PSCI_RETURN_INVALID_ADDRESS;
		return;
	}
	psci_target_request(rmm, rec, exit, res, PSCI_RETURN_ALREADY_ON);
}

static void psci_affinity_info(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
			       struct rsi_result *res)
{
	if (rec->regs[2] != 0) { /* lowest affinity level */
		res->x[0] = PSCI_RETURN_INVALID_PARAMS;
		return;
	}
	psci_target_request(rmm, rec, exit, res, PSCI_AFFINITY_ON);
}

static void psci_features(struct rec *rec, struct rsi_result *res)
{
	switch ((uint32_t)rec->regs[1]) {
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64 & 0xFFFFFFFF:
	case PSCI_CPU_OFF:
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64 & 0xFFFFFFFF:
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64 & 0xFFFFFFFF:
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET:
	case PSCI_FEATURES:
	case SMCCC_VERSION_FID:
		res->x[0] = PSCI_RETURN_SUCCESS;
		break;
	default:
		res->x[0] = PSCI_RETURN_NOT_SUPPORTED;
		break;
	}
}

void handle_psci(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit, struct rsi_result *res)
{
	switch ((uint32_t)rec->regs[0]) {
	case PSCI_VERSION:
		res->x[0] = PSCI_VERSION_1_1;
		break;
	case PSCI_CPU_SUSPEND_32:
	case PSCI_CPU_SUSPEND_64 & 0xFFFFFFFF:
		/* The host decides how to wait; the realm sees success. */
		rsi_forward_args_to_host(rec, 1, exit);
		res->x[0] = PSCI_RETURN_SUCCESS;
		res->action = RSI_UPDATE_EXIT_TO_HOST;
		break;
	case PSCI_CPU_OFF:
		rec->runnable = false;
		rsi_forward_args_to_host(rec, 1, exit);
		res->x[0] = PSCI_RETURN_SUCCESS;
		res->action = RSI_UPDATE_EXIT_TO_HOST;
		break;
	case PSCI_CPU_ON_32:
	case PSCI_CPU_ON_64 & 0xFFFFFFFF:
		psci_cpu_on(rmm, rec, exit, res);
		break;
	case PSCI_AFFINITY_INFO_32:
	case PSCI_AFFINITY_INFO_64 & 0xFFFFFFFF:
		psci_affinity_info(rmm, rec, exit, res);
		break;
	case PSCI_SYSTEM_OFF:
	case PSCI_SYSTEM_RESET: {
		struct rd *rd = rec_rd(rmm, rec);
		if (rd->state != REALM_SYSTEM_OFF)
			rmm_event_realm_state(rmm, rec->rd, rd->state, REALM_SYSTEM_OFF);
		rd->state = REALM_SYSTEM_OFF;
		rsi_forward_args_to_host(rec, 1, exit);
		res->action = RSI_EXIT_TO_HOST;
		break;
	}
	case PSCI_FEATURES:
		psci_features(rec, res);
		break;
	default:
		res->x[0] = PSCI_RETURN_NOT_SUPPORTED;
		break;
	}
	if (res->action & RSI_FLAG_EXIT_TO_HOST)
		psci_set_exit(exit);
}

/* Shared between the RSI handlers. */
#ifndef RSI_RSI_INTERNAL_H
#define RSI_RSI_INTERNAL_H

#include "rsi/rsi.h"

#define RSI_FLAG_UPDATE_REC    1U   /* copy x[0..4] into the REC's X0..X4 */
#define RSI_FLAG_EXIT_TO_HOST  2U   /* the REC exits to the host (exit image filled) */
#define RSI_FLAG_STAGE_2_ABORT 4U   /* report a stage-2 data abort at rtt_level; the SMC is retried */

#define RSI_RETURN_TO_REALM        RSI_FLAG_UPDATE_REC
#define RSI_UPDATE_EXIT_TO_HOST    (RSI_FLAG_UPDATE_REC | RSI_FLAG_EXIT_TO_HOST)
#define RSI_EXIT_TO_HOST           RSI_FLAG_EXIT_TO_HOST
#define RSI_STAGE_2_FAULT          (RSI_FLAG_EXIT_TO_HOST | RSI_FLAG_STAGE_2_ABORT)

struct rsi_result {
	unsigned action;
	int rtt_level;
	uint64_t x[5];
};

static inline struct rd *rec_rd(struct rmm *rmm, const struct rec *rec)
{
	return granule_mem(rmm, rec->rd);
}

/* Forward X0..X(count-1) of the REC to the host in the exit's gprs, the rest zero. */
void rsi_forward_args_to_host(const struct rec *rec, unsigned count, struct rec_exit_image *exit);

void handle_psci(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit, struct rsi_result *res);
void handle_rsi_attest_token_init(struct rmm *rmm, struct rec *rec, struct rsi_result *res);
void handle_rsi_attest_token_continue(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
				      struct rsi_result *res);

#endif

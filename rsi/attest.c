/*
 * RSI_ATTEST_TOKEN_INIT / RSI_ATTEST_TOKEN_CONTINUE. The attestation state and the token live in
 * the REC's auxiliary granules (aux[0]: state, aux[1..]: token buffer), as in the firmware.
 */
#include <string.h>

#include "rmm/attest_glue.h"
#include "rsi/rsi_internal.h"

#define ATTEST_CHALLENGE_SIZE 64

enum attest_state { ATTEST_NONE = 0, ATTEST_TOKEN_READY = 1 };

struct rec_attest_data {
	uint32_t state;
	uint32_t len;           /* token length */
	uint32_t copied;        /* bytes already handed to the realm */
};
_Static_assert(sizeof(struct rec_attest_data) <= GRANULE_SIZE, "attest state fits in aux[0]");

static struct rec_attest_data *attest_data(struct rmm *rmm, const struct rec *rec)
{
	return granule_mem(rmm, rec->aux[0]);
}

/* The token buffer spans aux[1 .. RSI_ATTEST_TOKEN_PAGES]. */
static void token_buf_copy(struct rmm *rmm, const struct rec *rec, size_t off, void *dst, const void *src, size_t len)
{
	while (len) {
		size_t page = off / GRANULE_SIZE, in = off % GRANULE_SIZE, n = GRANULE_SIZE - in;
		if (n > len)
			n = len;
		uint8_t *mem = (uint8_t *)granule_mem(rmm, rec->aux[1 + page]) + in;
		if (dst) {
			memcpy(dst, mem, n);
			dst = (uint8_t *)dst + n;
		} else {
			memcpy(mem, src, n);
			src = (const uint8_t *)src + n;
		}
		off += n;
		len -= n;
	}
}

void handle_rsi_attest_token_init(struct rmm *rmm, struct rec *rec, struct rsi_result *res)
{
	struct rec_attest_data *ad = attest_data(rmm, rec);
	uint8_t challenge[ATTEST_CHALLENGE_SIZE], token[RSI_ATTEST_TOKEN_BUF_SIZE];
	size_t len = 0;

	memset(ad, 0, sizeof(*ad));
	memcpy(challenge, &rec->regs[1], sizeof(challenge)); /* X1..X8 */
	/* The claims (RIM, REMs) are taken now; the host cannot change them afterwards. */
	if (rmm_attest_token(rmm, rec_rd(rmm, rec), challenge, token, sizeof(token), &len) != 0 ||
	    len > RSI_ATTEST_TOKEN_BUF_SIZE) {
		res->x[0] = RSI_ERROR_UNKNOWN;
		return;
	}
	token_buf_copy(rmm, rec, 0, NULL, token, len);
	ad->len = (uint32_t)len;
	ad->copied = 0;
	ad->state = ATTEST_TOKEN_READY;
	res->x[0] = RSI_SUCCESS;
	res->x[1] = RSI_ATTEST_TOKEN_BUF_SIZE;
}

void handle_rsi_attest_token_continue(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit,
				      struct rsi_result *res)
{
	uint64_t ipa = rec->regs[1], offset = rec->regs[2], size = rec->regs[3];
	struct rec_attest_data *ad = attest_data(rmm, rec);
	struct rsi_walk_result w;
	(void)exit;

	if (!granule_aligned(ipa) || offset >= GRANULE_SIZE || offset + size > GRANULE_SIZE || offset + size < offset ||
	    !addr_in_par(rec_rd(rmm, rec), ipa)) {
		res->x[0] = RSI_ERROR_INPUT;
		return;
	}
	if (ad->state != ATTEST_TOKEN_READY) {
		res->x[0] = RSI_ERROR_STATE;
		return;
	}
	if (realm_ipa_to_pa(rmm, rec, IPA(ipa), &w) != WALK_SUCCESS) {
		if (w.ripas == RIPAS_EMPTY) {
			res->x[0] = RSI_ERROR_INPUT;
		} else {
			res->action = RSI_STAGE_2_FAULT;
			res->rtt_level = w.rtt_level;
		}
		return;
	}
	if (size == 0) {
		res->x[0] = RSI_INCOMPLETE;
		return;
	}
	uint64_t left = ad->len - ad->copied;
	uint64_t n = size < left ? size : left;
	token_buf_copy(rmm, rec, ad->copied, (uint8_t *)granule_mem(rmm, w.pa) + offset, NULL, n);
	ad->copied += (uint32_t)n;
	if (ad->copied < ad->len) {
		res->x[0] = RSI_INCOMPLETE;
	} else {
		res->x[0] = RSI_SUCCESS;
		ad->state = ATTEST_NONE;
	}
	res->x[1] = n;
}

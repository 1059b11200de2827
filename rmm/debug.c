/* The debug / teaching interface (see include/rmmemu/rmmemu.h). */
#include <string.h>

#include "attest/measurement.h"
#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rsi/rsi.h"

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

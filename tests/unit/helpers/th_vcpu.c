/*
 * A scripted fake vCPU backend for the RMI tests. Realm code does not run: before each REC exit
 * the test's on_run callback plays the part of the realm (and of the RMM's exit handling) by
 * setting the REC state a real exit would leave behind: a pending emulatable data abort, a
 * forwarded PSCI request, a RIPAS change request, SYSTEM_OFF.
 */
#include <string.h>

#include "helpers/th.h"
#include "rmm/vcpu_ops.h"
#include "rsi/rsi.h"

#include "rmm/esr.h"

#define ESR_DFSC_TF_L3    0x07ULL

void th_exit_put64(uint8_t *exit, unsigned off, uint64_t v)
{
	memcpy(exit + (off - RMI_REC_EXIT_BASE), &v, sizeof(v));
}

static void fake_run(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa,
		     struct rec_exit_image *exit)
{
	struct th_env *e = ctx;
	(void)rmm;
	e->runs++;
	if (e->on_run)
		e->on_run(e, rec, rec_pa.val, exit->bytes);
	else
		th_exit_put64(exit->bytes, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
}

static void fake_s2_invalidate(void *ctx, const struct s2tt_ctx *s2, uint64_t ipa, uint64_t size)
{
	struct th_env *e = ctx;
	(void)s2;
	unsigned n = sizeof(e->inval_log) / sizeof(e->inval_log[0]);
	e->inval_log[e->invalidations % n].ipa = ipa;
	e->inval_log[e->invalidations % n].size = size;
	e->invalidations++;
}

void th_inval_clear(struct th_env *e)
{
	memset(e->inval_log, 0, sizeof(e->inval_log));
}

bool th_invalidated(const struct th_env *e, uint64_t ipa, uint64_t size)
{
	unsigned n = sizeof(e->inval_log) / sizeof(e->inval_log[0]);
	for (unsigned i = 0; i < n; i++) {
		uint64_t b = e->inval_log[i].ipa, s = e->inval_log[i].size;
		if (s && b <= ipa && ipa + size <= b + s)
			return true;
	}
	return false;
}

static void fake_rec_destroy(void *ctx, struct rec *rec)
{
	struct th_env *e = ctx;
	(void)rec;
	e->rec_destroys++;
}

static const struct rmm_vcpu_ops fake_ops = {
	.run = fake_run,
	.s2_invalidate = fake_s2_invalidate,
	.rec_destroy = fake_rec_destroy,
};

void th_vcpu_install(struct th_env *e)
{
	rmm_set_vcpu_ops(e->rmm, &fake_ops, e);
}

void th_exit_data_abort(uint8_t *exit, struct rec *rec, uint64_t ipa, bool isv, bool write,
			unsigned srt, unsigned sas, bool sse, bool sf)
{
	uint64_t esr = ESR_EC_VAL(ESR_EC_DABT_LOW) | ESR_IL | ESR_DFSC_TF_L3;
	if (isv)
		esr |= ESR_ISV | ((uint64_t)sas << ESR_SAS_SHIFT) | (sse ? ESR_SSE : 0) |
		       ((uint64_t)srt << ESR_SRT_SHIFT) | (sf ? ESR_SF : 0);
	if (write)
		esr |= ESR_WNR;
	uint64_t hpfar = (ipa >> 12) << 4;
	rec->last_run_info.esr = esr;
	rec->last_run_info.far = ipa;
	rec->last_run_info.hpfar = hpfar;
	th_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_SYNC);
	th_exit_put64(exit, RMI_REC_EXIT_ESR, esr);
	th_exit_put64(exit, RMI_REC_EXIT_FAR, ipa & 0xFFF);
	th_exit_put64(exit, RMI_REC_EXIT_HPFAR, hpfar);
	if (write && isv)
		th_exit_put64(exit, RMI_REC_EXIT_GPRS, srt == 31 ? 0 : rec->regs[srt]);
}

bool th_realm_smc(struct th_env *e, uint8_t *exit, struct rec *rec, uint64_t fid, uint64_t x1,
		  uint64_t x2, uint64_t x3, uint64_t x4)
{
	rec->regs[0] = fid;
	rec->regs[1] = x1;
	rec->regs[2] = x2;
	rec->regs[3] = x3;
	rec->regs[4] = x4;
	/* exit points at the bytes of a struct rec_exit_image (its only member). */
	return rsi_handle_smc(e->rmm, rec, (struct rec_exit_image *)(void *)exit);
}

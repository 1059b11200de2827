/*
 * RMI_REC_ENTER: validate the entry, complete what the previous exit asked of the host (emulated
 * MMIO, SEA injection, RIPAS change response, system register emulation), run the REC through the
 * vCPU backend and write the exit back into RmiRecRun.
 *
 * Without a vCPU backend the REC does not execute: every entry returns at once with
 * RMI_EXIT_IRQ (as if a host interrupt were pending), carrying the REC's timer and GIC state.
 */
#include <string.h>

#include "rmi/rmi.h"
#include "rmm/esr.h"
#include "rmm/realm.h"
#include "rmm/vcpu_ops.h"
#include "rsi/rsi.h"

/* GICv3 list register fields (ICH_LR<n>_EL2) and ICH_HCR_EL2 bits the host may set. */
#define ICH_LR_VINTID_MASK  0xFFFFFFFFULL
#define ICH_LR_PINTID_MASK  (0x1FFFULL << 32)
#define ICH_LR_EOI          (1ULL << 41)
#define ICH_LR_PRIORITY_SHIFT 48
#define ICH_LR_HW           (1ULL << 61)
#define ICH_LR_STATE_SHIFT  62
#define ICH_HCR_NS_MASK     (0xFEULL | (1ULL << 14)) /* UIE, LRENPIE, NPIE, VGrp0/1 E/D IE, TDIR */
#define ICH_HCR_EOICOUNT_MASK (0x1FULL << 27)
#define GIC_PRI_BITS        5
#define GIC_MAX_SPI_ID      1019ULL
#define GIC_MIN_LPI_ID      8192ULL
#define GIC_MAX_VINTID      0xFFFFULL /* 16 ID bits */

static bool valid_vintid(uint64_t id)
{
	return id <= GIC_MAX_SPI_ID || (id >= GIC_MIN_LPI_ID && id <= GIC_MAX_VINTID);
}

static bool gic_validate_state(const struct rmm *rmm, const uint64_t hcr, const uint64_t *lrs)
{
	unsigned nr = rmm->cfg.gicv3_num_lrs; /* index of the last implemented LR */
	uint64_t pri_res0 = (1ULL << (8 - GIC_PRI_BITS)) - 1;

	if (hcr & ~ICH_HCR_NS_MASK)
		return false;
	for (unsigned i = 0; i <= nr; i++) {
		uint64_t lr = lrs[i];
		if ((lr >> ICH_LR_STATE_SHIFT) == 0)
			continue;
		if ((lr & ICH_LR_HW) || (((lr >> ICH_LR_PRIORITY_SHIFT) & 0xFF) & pri_res0) ||
		    (lr & ICH_LR_PINTID_MASK & ~ICH_LR_EOI) || !valid_vintid(lr & ICH_LR_VINTID_MASK))
			return false;
		for (unsigned j = i + 1; j <= nr; j++)
			if ((lrs[j] >> ICH_LR_STATE_SHIFT) != 0 &&
			    (lrs[j] & ICH_LR_VINTID_MASK) == (lr & ICH_LR_VINTID_MASK))
				return false;
	}
	return true;
}

/* The host asked for an SEA instead of emulating an unprotected-IPA data abort. */
static bool complete_sea_insertion(struct rec *rec, uint64_t flags, const struct rd *rd)
{
	if (!(flags & RMI_REC_ENTER_FLAG_INJECT_SEA))
		return true;
	if (ESR_EC(rec->last_run_info.esr) != ESR_EC_DABT_LOW)
		return false;
	uint64_t fipa = IPA_FROM_HPFAR(rec->last_run_info.hpfar);
	if (addr_in_par(rd, fipa))
		return false;
	rec->inject_sea = true;
	return true;
}

static bool complete_mmio_emulation(struct rec *rec, uint64_t flags, const uint64_t *gprs)
{
	uint64_t esr = rec->last_run_info.esr;
	if (!(flags & RMI_REC_ENTER_FLAG_EMUL_MMIO) || (flags & RMI_REC_ENTER_FLAG_INJECT_SEA))
		return true;
	if (ESR_EC(esr) != ESR_EC_DABT_LOW || !(esr & ESR_ISV))
		return false;
	unsigned rt = (esr >> ESR_SRT_SHIFT) & 0x1F;
	if (!(esr & ESR_WNR) && rt != 31) {
		unsigned bytes = 1U << ((esr >> ESR_SAS_SHIFT) & 3);
		uint64_t mask = bytes == 8 ? ~0ULL : (1ULL << (bytes * 8)) - 1;
		uint64_t val = gprs[0] & mask;
		if (esr & ESR_SSE) {
			uint64_t sign = 1ULL << (bytes * 8 - 1);
			val = (val ^ sign) - sign;
			if (!(esr & ESR_SF))
				val &= 0xFFFFFFFFULL;
		}
		rec->regs[rt] = val;
	}
	rec->pc += 4;
	return true;
}

static void complete_set_ripas(struct rec *rec)
{
	if (rec->set_ripas.base == rec->set_ripas.top)
		return;
	/* RSI_IPA_STATE_SET returns: X0 = RSI_SUCCESS, X1 = new base, X2 = response. */
	rec->regs[0] = 0;
	rec->regs[1] = rec->set_ripas.addr;
	if (rec->set_ripas.ripas_val == 1 /* RAM */ && rec->set_ripas.addr != rec->set_ripas.top &&
	    rec->set_ripas.response == RIPAS_REJECT)
		rec->regs[2] = 1; /* RSI_REJECT */
	else
		rec->regs[2] = 0; /* RSI_ACCEPT */
	rec->set_ripas.base = 0;
	rec->set_ripas.top = 0;
}

static void complete_sysreg_emulation(struct rec *rec, const uint64_t *gprs)
{
	uint64_t esr = rec->last_run_info.esr;
	if (ESR_EC(esr) != ESR_EC_SYSREG || !(esr & ESR_SYSREG_READ))
		return;
	unsigned rt = (esr >> ESR_SYSREG_RT_SHIFT) & 0x1F;
	if (rt != 31)
		rec->regs[rt] = gprs[0];
}

/* GIC and timer state every exit reports. */
static void fill_exit_common(const struct rec *rec, struct rec_exit_image *x)
{
	rec_exit_put64(x, RMI_REC_EXIT_GICV3_HCR, rec->gic.hcr & (ICH_HCR_EOICOUNT_MASK | ICH_HCR_NS_MASK));
	for (unsigned i = 0; i < RMI_REC_GIC_NUM_LRS; i++)
		rec_exit_put64(x, RMI_REC_EXIT_GICV3_LRS + 8 * i, rec->gic.lrs[i]);
	rec_exit_put64(x, RMI_REC_EXIT_GICV3_MISR, rec->gic.misr);
	rec_exit_put64(x, RMI_REC_EXIT_GICV3_VMCR, rec->gic.vmcr);
	rec_exit_put64(x, RMI_REC_EXIT_CNTP_CTL, rec->sysregs.cntp_ctl);
	rec_exit_put64(x, RMI_REC_EXIT_CNTP_CVAL, rec->sysregs.cntp_cval);
	rec_exit_put64(x, RMI_REC_EXIT_CNTV_CTL, rec->sysregs.cntv_ctl);
	rec_exit_put64(x, RMI_REC_EXIT_CNTV_CVAL, rec->sysregs.cntv_cval);
}

void rmi_rec_enter(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	rmm_pa_t run_pa = PA(a[1]);
	struct gref g_run, g_rec, g_rd;
	uint8_t enter[RMI_REC_ENTER_SIZE];
	struct rec_exit_image exit_img;

	memset(&exit_img, 0, sizeof(exit_img));
	if (!granule_find_state(rmm, run_pa, GRANULE_STATE_UNDELEGATED, &g_run)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	int found = granule_find_unused(rmm, PA(a[0]), GRANULE_STATE_REC, &g_rec);
	if (found) {
		res[0] = found < 0 ? RMI_ERROR_INPUT : RMI_ERROR_REC;
		return;
	}
	if (!ns_granule_read(rmm, run_pa, enter, sizeof(enter))) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	/* The REC is in use until this call returns. */
	granule_get(&g_rec);

	struct rec *rec = g_rec.mem;
	granule_find(rmm, rec->rd, &g_rd);
	struct rd *rd = g_rd.mem;
	uint64_t flags, hcr, lrs[RMI_REC_GIC_NUM_LRS], gprs[RMI_REC_NR_GPRS];
	memcpy(&flags, enter + RMI_REC_ENTER_FLAGS, 8);
	memcpy(gprs, enter + RMI_REC_ENTER_GPRS, sizeof(gprs));
	memcpy(&hcr, enter + RMI_REC_ENTER_GICV3_HCR, 8);
	memcpy(lrs, enter + RMI_REC_ENTER_GICV3_LRS, sizeof(lrs));

	uint64_t ret;
	if (rd->state == REALM_NEW) {
		ret = pack_return_code(RMI_ERROR_REALM, 0);
		goto out;
	}
	if (rd->state == REALM_SYSTEM_OFF) {
		ret = pack_return_code(RMI_ERROR_REALM, 1);
		goto out;
	}
	if (!rec->runnable || rec->psci_info.pending) {
		ret = RMI_ERROR_REC;
		goto out;
	}
	if (!gic_validate_state(rmm, hcr, lrs)) {
		ret = RMI_ERROR_REC;
		goto out;
	}
	for (unsigned i = 0; i <= rmm->cfg.gicv3_num_lrs; i++)
		rec->gic.lrs[i] = lrs[i];
	rec->gic.hcr = (rec->gic.hcr & ~ICH_HCR_NS_MASK) | (hcr & ICH_HCR_NS_MASK);

	if (!complete_sea_insertion(rec, flags, rd) || !complete_mmio_emulation(rec, flags, gprs)) {
		ret = RMI_ERROR_REC;
		goto out;
	}
	rec->set_ripas.response = (flags & RMI_REC_ENTER_FLAG_RIPAS_RESPONSE) ? RIPAS_REJECT : RIPAS_ACCEPT;
	complete_set_ripas(rec);
	complete_sysreg_emulation(rec, gprs);
	/* A pending host call gets the host's results; if its page went away, that is the exit. */
	if (!rsi_complete_host_call(rmm, rec, gprs, &exit_img)) {
		ret = RMI_SUCCESS;
		goto write_exit;
	}

	rec->last_run_info.esr = 0;
	rec->trap_wfi = (flags & RMI_REC_ENTER_FLAG_TRAP_WFI) != 0;
	rec->trap_wfe = (flags & RMI_REC_ENTER_FLAG_TRAP_WFE) != 0;

	if (rmm->event_fn) {
		struct rmmemu_event ev = { .kind = RMMEMU_EV_REC_RUN, .addr = g_rec.pa.val };
		rmm_event(rmm, &ev);
	}
	bool forced_irq = false;
	if (rmm->irq_count) {
		if (rmm->irq_skip) {
			rmm->irq_skip--;
		} else {
			rmm->irq_count--;
			forced_irq = true;
		}
	}
	if (!forced_irq && rmm->sea_count) {
		if (rmm->sea_skip) {
			rmm->sea_skip--;
		} else {
			rmm->sea_count--;
			rec->inject_sea = true;
			rec->inject_sea_forced = true;
		}
	}
	if (forced_irq || !rmm->vcpu_ops || !rmm->vcpu_ops->run) {
		uint64_t reason = RMI_EXIT_IRQ;
		memcpy(&exit_img.bytes[0], &reason, sizeof(reason));
	} else {
		rmm->vcpu_ops->run(rmm->vcpu_ctx, rmm, rec, g_rec.pa, &exit_img);
	}
	fill_exit_common(rec, &exit_img);
	ret = RMI_SUCCESS;
	if (rmm->trace || rmm->event_fn) {
		unsigned reason = (unsigned)rec_exit_get64(&exit_img, RMI_REC_EXIT_REASON);
		rmm_trace(rmm, RMMEMU_TRACE_RMI, "  REC 0x%llx exits: %s esr=0x%llx hpfar=0x%llx\n",
			  (unsigned long long)g_rec.pa.val, rmmemu_exit_reason_name(reason),
			  (unsigned long long)rec_exit_get64(&exit_img, RMI_REC_EXIT_ESR),
			  (unsigned long long)rec_exit_get64(&exit_img, RMI_REC_EXIT_HPFAR));
		struct rmmemu_event ev = { .kind = RMMEMU_EV_REC_EXIT, .addr = g_rec.pa.val, .to = reason };
		rmm_event(rmm, &ev);
	}
write_exit:
	if (!ns_granule_write(rmm, run_pa, RMI_REC_EXIT_BASE, exit_img.bytes, sizeof(exit_img.bytes)))
		ret = RMI_ERROR_INPUT;
out:
	granule_put(&g_rec);
	res[0] = ret;
}

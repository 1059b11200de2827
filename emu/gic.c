/*
 * The GICv3 virtual CPU interface seen by the realm (ICC_* system registers at EL1 with
 * HCR_EL2.IMO set), driven by the list registers the host passes in RmiRecEnter. Unicorn has no
 * GIC: the MRS/MSR hook lands here. Interrupts are signalled through HCR_EL2.VI, so QEMU itself
 * takes the IRQ exception (to VBAR_EL1 + 0x80/0x280/0x480) when PSTATE.I allows.
 *
 * Model: 5 priority bits (as RMI_REC_ENTER validates), 16-bit INTIDs, group 1 signalled as IRQ;
 * group 0 is never signalled (no virtual FIQ); the binary point registers are stored but priority
 * comparisons use the full 5-bit priority. Writes to ICC_SGI0R/SGI1R/ASGI1R (and ICC_DIR when the
 * host set ICH_HCR_EL2.TDIR) are REC exits with EC 0x18, as in TF-RMM.
 */
#include "emu/arch.h"
#include "emu/vcpu.h"

#define LR_STATE(lr)   (((lr) >> LR_STATE_SHIFT) & 3ULL)
#define ST_INVALID     0ULL
#define ST_PENDING     1ULL
#define ST_ACTIVE      2ULL
#define ST_PEND_ACT    3ULL
#define LR_PRIO(lr)    (((lr) >> LR_PRIORITY_SHIFT) & 0xFFULL)
#define PRIO_IDX(p)    ((unsigned)((p) >> (8 - GIC_PRI_BITS)))
#define PRIO_MASK      ((0xFFULL << (8 - GIC_PRI_BITS)) & 0xFFULL)
#define IDLE_PRIO      0xFFULL

static unsigned num_lrs(const struct emu_vcpu *v)
{
	return v->be->rmm->cfg.gicv3_num_lrs + 1;
}

static uint64_t running_prio(const struct emu_vcpu *v)
{
	uint32_t act = v->ap0r | v->ap1r;
	if (!act)
		return IDLE_PRIO;
	return (uint64_t)__builtin_ctz(act) << (8 - GIC_PRI_BITS);
}

static uint64_t vmcr_pmr(const struct rec *rec)
{
	return (rec->gic.vmcr & VMCR_PMR_MASK) >> VMCR_PMR_SHIFT;
}

/* Highest-priority pending group-1 LR, or -1. */
static int hppi(const struct emu_vcpu *v, bool group1)
{
	const struct rec *rec = v->rec;
	int best = -1;
	uint64_t best_prio = 0x100;
	for (unsigned i = 0; i < num_lrs(v); i++) {
		uint64_t lr = rec->gic.lrs[i];
		if (LR_STATE(lr) != ST_PENDING || ((lr & LR_GROUP1) != 0) != group1)
			continue;
		if (LR_PRIO(lr) < best_prio) {
			best_prio = LR_PRIO(lr);
			best = (int)i;
		}
	}
	return best;
}

static bool can_signal(const struct emu_vcpu *v, int lr)
{
	const struct rec *rec = v->rec;
	if (lr < 0 || !(rec->gic.hcr & ICH_HCR_EN) || !(rec->gic.vmcr & VMCR_ENG1))
		return false;
	uint64_t prio = LR_PRIO(rec->gic.lrs[lr]) & PRIO_MASK;
	return prio < vmcr_pmr(rec) && prio < running_prio(v);
}

void emu_gic_update(struct emu_vcpu *v)
{
	bool vi = can_signal(v, hppi(v, true));
	emu_set_hcr(v, vi ? (v->m->hcr | HCR_VI) : (v->m->hcr & ~HCR_VI));
}

bool emu_gic_any_pending(const struct rec *rec)
{
	for (unsigned i = 0; i < RMI_REC_GIC_NUM_LRS; i++)
		if (LR_STATE(rec->gic.lrs[i]) & ST_PENDING)
			return true;
	return false;
}

uint64_t emu_gic_misr(const struct rec *rec)
{
	uint64_t hcr = rec->gic.hcr, vmcr = rec->gic.vmcr, misr = 0;
	unsigned valid = 0;
	bool pending = false;
	for (unsigned i = 0; i < RMI_REC_GIC_NUM_LRS; i++) {
		uint64_t lr = rec->gic.lrs[i];
		if (LR_STATE(lr) != ST_INVALID)
			valid++;
		if (LR_STATE(lr) & ST_PENDING)
			pending = true;
		if (LR_STATE(lr) == ST_INVALID && !(lr & LR_HW) && (lr & LR_EOI))
			misr |= ICH_MISR_EOI;
	}
	if ((hcr & ICH_HCR_UIE) && valid <= 1)
		misr |= ICH_MISR_U;
	if ((hcr & ICH_HCR_LRENPIE) && (hcr & ICH_HCR_EOICOUNT_MASK))
		misr |= ICH_MISR_LRENP;
	if ((hcr & ICH_HCR_NPIE) && !pending)
		misr |= ICH_MISR_NP;
	if ((hcr & ICH_HCR_VGRP0EIE) && (vmcr & VMCR_ENG0))
		misr |= ICH_MISR_VGRP0E;
	if ((hcr & ICH_HCR_VGRP0DIE) && !(vmcr & VMCR_ENG0))
		misr |= ICH_MISR_VGRP0D;
	if ((hcr & ICH_HCR_VGRP1EIE) && (vmcr & VMCR_ENG1))
		misr |= ICH_MISR_VGRP1E;
	if ((hcr & ICH_HCR_VGRP1DIE) && !(vmcr & VMCR_ENG1))
		misr |= ICH_MISR_VGRP1D;
	if (!(hcr & ICH_HCR_EN))
		misr = 0;
	return misr;
}

void emu_gic_exit(struct emu_vcpu *v)
{
	v->rec->gic.misr = emu_gic_misr(v->rec);
}

static uint64_t acknowledge(struct emu_vcpu *v, bool group1)
{
	struct rec *rec = v->rec;
	int lr = hppi(v, group1);
	if (!group1 || !can_signal(v, lr))
		return GIC_SPURIOUS;
	uint64_t val = rec->gic.lrs[lr];
	uint64_t intid = val & LR_VINTID_MASK;
	v->ap1r |= 1U << PRIO_IDX(LR_PRIO(val));
	val &= ~LR_STATE_MASK;
	if (intid < 8192)              /* LPIs have no active state */
		val |= ST_ACTIVE << LR_STATE_SHIFT;
	rec->gic.lrs[lr] = val;
	return intid;
}

static void deactivate(struct emu_vcpu *v, uint64_t intid)
{
	struct rec *rec = v->rec;
	for (unsigned i = 0; i < num_lrs(v); i++) {
		uint64_t lr = rec->gic.lrs[i];
		if ((lr & LR_VINTID_MASK) == intid && (LR_STATE(lr) & ST_ACTIVE)) {
			rec->gic.lrs[i] = lr & ~(ST_ACTIVE << LR_STATE_SHIFT);
			return;
		}
	}
	/* No LR: count it for the hypervisor (ICH_HCR_EL2.EOIcount). */
	uint64_t cnt = ((rec->gic.hcr & ICH_HCR_EOICOUNT_MASK) >> ICH_HCR_EOICOUNT_SHIFT) + 1;
	rec->gic.hcr = (rec->gic.hcr & ~ICH_HCR_EOICOUNT_MASK) |
		       ((cnt << ICH_HCR_EOICOUNT_SHIFT) & ICH_HCR_EOICOUNT_MASK);
}

static void end_of_interrupt(struct emu_vcpu *v, uint64_t intid, bool group1)
{
	uint32_t *ap = group1 ? &v->ap1r : &v->ap0r;
	intid &= 0xFFFFFF;
	if (intid >= 1020 && intid <= 1023)
		return;
	if (*ap)
		*ap &= *ap - 1; /* drop the highest active priority */
	if (!(v->rec->gic.vmcr & VMCR_EOIM) && intid < 8192)
		deactivate(v, intid);
}

static void set_vmcr(struct rec *rec, uint64_t mask, uint64_t val)
{
	rec->gic.vmcr = (rec->gic.vmcr & ~mask) | (val & mask);
}

/* ICC register encodings (op0 = 3, op1 = 0): crn << 8 | crm << 4 | op2 */
#define ICC(crn, crm, op2) (((crn) << 8) | ((crm) << 4) | (op2))

int emu_gic_sysreg(struct emu_vcpu *v, const uc_arm64_cp_reg *cp, bool is_read, uint64_t *val)
{
	struct rec *rec = v->rec;
	if (cp->op0 != 3 || cp->op1 != 0)
		return 0;
	unsigned key = ICC(cp->crn, cp->crm, cp->op2);
	uint64_t w = is_read ? 0 : *val;

	switch (key) {
	case ICC(4, 6, 0): /* ICC_PMR_EL1 */
		if (is_read)
			*val = vmcr_pmr(rec);
		else
			set_vmcr(rec, VMCR_PMR_MASK, (w & PRIO_MASK) << VMCR_PMR_SHIFT);
		return 1;
	case ICC(12, 12, 0): /* ICC_IAR1_EL1 */
	case ICC(12, 8, 0):  /* ICC_IAR0_EL1 */
		if (!is_read)
			return 0;
		*val = acknowledge(v, key == ICC(12, 12, 0));
		return 1;
	case ICC(12, 12, 1): /* ICC_EOIR1_EL1 */
	case ICC(12, 8, 1):  /* ICC_EOIR0_EL1 */
		if (is_read)
			return 0;
		end_of_interrupt(v, w, key == ICC(12, 12, 1));
		return 1;
	case ICC(12, 12, 2): /* ICC_HPPIR1_EL1 */
	case ICC(12, 8, 2): { /* ICC_HPPIR0_EL1 */
		if (!is_read)
			return 0;
		int lr = hppi(v, key == ICC(12, 12, 2));
		*val = lr < 0 ? GIC_SPURIOUS : (rec->gic.lrs[lr] & LR_VINTID_MASK);
		return 1;
	}
	case ICC(12, 11, 1): /* ICC_DIR_EL1 */
		if (is_read)
			return 0;
		if (rec->gic.hcr & ICH_HCR_TDIR)
			return 2;
		if (rec->gic.vmcr & VMCR_EOIM)
			deactivate(v, w & 0xFFFFFF);
		return 1;
	case ICC(12, 11, 3): /* ICC_RPR_EL1 */
		if (!is_read)
			return 0;
		*val = running_prio(v);
		return 1;
	case ICC(12, 11, 5): /* ICC_SGI1R_EL1 */
	case ICC(12, 11, 6): /* ICC_ASGI1R_EL1 */
	case ICC(12, 11, 7): /* ICC_SGI0R_EL1 */
		return is_read ? 0 : 2;
	case ICC(12, 12, 3): /* ICC_BPR1_EL1 */
		if (is_read)
			*val = (rec->gic.vmcr & VMCR_BPR1_MASK) >> VMCR_BPR1_SHIFT;
		else
			set_vmcr(rec, VMCR_BPR1_MASK, w << VMCR_BPR1_SHIFT);
		return 1;
	case ICC(12, 8, 3): /* ICC_BPR0_EL1 */
		if (is_read)
			*val = (rec->gic.vmcr & VMCR_BPR0_MASK) >> VMCR_BPR0_SHIFT;
		else
			set_vmcr(rec, VMCR_BPR0_MASK, w << VMCR_BPR0_SHIFT);
		return 1;
	case ICC(12, 12, 4): /* ICC_CTLR_EL1: PRIbits = 4 (5 bits), IDbits = 0 (16), A3V */
		if (is_read)
			*val = ((rec->gic.vmcr & VMCR_EOIM) ? 2U : 0U) | ((rec->gic.vmcr & VMCR_CBPR) ? 1U : 0U) |
			       ((uint64_t)(GIC_PRI_BITS - 1) << 8) | (1ULL << 15);
		else
			set_vmcr(rec, VMCR_EOIM | VMCR_CBPR, ((w & 2) ? VMCR_EOIM : 0) | ((w & 1) ? VMCR_CBPR : 0));
		return 1;
	case ICC(12, 12, 5): /* ICC_SRE_EL1: SRE, DFB, DIB fixed */
		if (is_read)
			*val = 7;
		return 1;
	case ICC(12, 12, 6): /* ICC_IGRPEN0_EL1 */
		if (is_read)
			*val = (rec->gic.vmcr & VMCR_ENG0) ? 1 : 0;
		else
			set_vmcr(rec, VMCR_ENG0, (w & 1) ? VMCR_ENG0 : 0);
		return 1;
	case ICC(12, 12, 7): /* ICC_IGRPEN1_EL1 */
		if (is_read)
			*val = (rec->gic.vmcr & VMCR_ENG1) ? 1 : 0;
		else
			set_vmcr(rec, VMCR_ENG1, (w & 1) ? VMCR_ENG1 : 0);
		return 1;
	case ICC(12, 9, 0): /* ICC_AP1R0_EL1 */
		if (is_read)
			*val = v->ap1r;
		else
			v->ap1r = (uint32_t)w;
		return 1;
	case ICC(12, 8, 4): /* ICC_AP0R0_EL1 */
		if (is_read)
			*val = v->ap0r;
		else
			v->ap0r = (uint32_t)w;
		return 1;
	case ICC(12, 9, 1): case ICC(12, 9, 2): case ICC(12, 9, 3):
	case ICC(12, 8, 5): case ICC(12, 8, 6): case ICC(12, 8, 7):
		if (is_read)
			*val = 0;   /* 5 priority bits: only AP<n>R0 exists; RAZ/WI */
		return 1;
	default:
		return 0;
	}
}

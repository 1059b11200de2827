/*
 * AArch64 architectural constants used by the vCPU backend (ESR, PSTATE, HCR_EL2, GICv3 list
 * registers, generic timer). Values from the Arm ARM (DDI 0487) and the GICv3 specification.
 */
#ifndef EMU_ARCH_H
#define EMU_ARCH_H

#include <stdint.h>

/* ---- ESR_ELx ---- */
#define ESR_EC_SHIFT            26
#define ESR_EC_MASK             (0x3FULL << ESR_EC_SHIFT)
#define ESR_EC(esr)             (((esr) >> ESR_EC_SHIFT) & 0x3FULL)
#define ESR_IL                  (1ULL << 25)
#define ESR_ISS_MASK            0x1FFFFFFULL

#define EC_UNKNOWN              0x00ULL
#define EC_WFX                  0x01ULL
#define EC_FP_ASIMD             0x07ULL
#define EC_SVC64                0x15ULL
#define EC_HVC64                0x16ULL
#define EC_SMC64                0x17ULL
#define EC_SYSREG               0x18ULL
#define EC_IABT_LOW             0x20ULL
#define EC_IABT_CUR             0x21ULL
#define EC_DABT_LOW             0x24ULL
#define EC_DABT_CUR             0x25ULL
#define EC_BRK64                0x3CULL

/* Data / instruction abort ISS */
#define ESR_ISV                 (1ULL << 24)
#define ESR_SAS_SHIFT           22
#define ESR_SAS_MASK            (3ULL << ESR_SAS_SHIFT)
#define ESR_SSE                 (1ULL << 21)
#define ESR_SRT_SHIFT           16
#define ESR_SRT_MASK            (0x1FULL << ESR_SRT_SHIFT)
#define ESR_SF                  (1ULL << 15)
#define ESR_AR                  (1ULL << 14)
#define ESR_SET_MASK            (3ULL << 11)
#define ESR_FNV                 (1ULL << 10)
#define ESR_EA                  (1ULL << 9)
#define ESR_S1PTW               (1ULL << 7)
#define ESR_WNR                 (1ULL << 6)
#define ESR_FSC_MASK            0x3FULL
#define FSC_TYPE_MASK           0x3CULL   /* FSC without the level */
#define FSC_ADDR_SIZE           0x00ULL
#define FSC_TRANSLATION         0x04ULL
#define FSC_ACCESS_FLAG         0x08ULL
#define FSC_PERMISSION          0x0CULL
#define FSC_SEA                 0x10ULL
#define FSC_SEA_TTW_FIRST       0x13ULL
#define FSC_SEA_TTW_LAST        0x17ULL

/* What the RMM reports of an abort it does not emulate, and of one it does (TF-RMM masks). */
#define ESR_NONEMULATED_ABORT_MASK (ESR_EC_MASK | ESR_SET_MASK | ESR_FNV | ESR_EA | ESR_FSC_MASK)
#define ESR_EMULATED_ABORT_MASK    (ESR_NONEMULATED_ABORT_MASK | ESR_ISV | ESR_SAS_MASK | ESR_SF | ESR_WNR)

/* WFx ISS */
#define ESR_WFX_TI_WFE          (1ULL << 0)
#define ESR_WFX_CV_COND_AL      ((1ULL << 24) | (0xEULL << 20))   /* CV = 1, COND = always */
#define INSN_WFE                0xD503205FU

/* System register trap ISS (EC 0x18) */
#define ESR_SYSREG_DIR_READ     (1ULL << 0)
static inline uint64_t esr_sysreg(unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
				  unsigned rt, int is_read)
{
	return (EC_SYSREG << ESR_EC_SHIFT) | ESR_IL | ((uint64_t)op0 << 20) | ((uint64_t)op2 << 17) |
	       ((uint64_t)op1 << 14) | ((uint64_t)crn << 10) | ((uint64_t)rt << 5) | ((uint64_t)crm << 1) |
	       (is_read ? ESR_SYSREG_DIR_READ : 0);
}

/* ---- PSTATE / SPSR (AArch64) ---- */
#define PSR_MODE_MASK           0xFULL
#define PSR_MODE_EL0T           0x0ULL
#define PSR_MODE_EL1T           0x4ULL
#define PSR_MODE_EL1H           0x5ULL
#define PSR_NRW                 (1ULL << 4)   /* 1: AArch32 */
#define PSR_F                   (1ULL << 6)
#define PSR_I                   (1ULL << 7)
#define PSR_A                   (1ULL << 8)
#define PSR_D                   (1ULL << 9)
#define PSR_DAIF                (PSR_D | PSR_A | PSR_I | PSR_F)
#define PSR_EL(p)               (((p) >> 2) & 3ULL)
#define PSR_SPSEL(p)            ((p) & 1ULL)

/* Vector offsets from VBAR_EL1 */
#define VEC_CUR_SP0             0x000ULL
#define VEC_CUR_SPX             0x200ULL
#define VEC_LOW_A64             0x400ULL
#define VEC_SYNC                0x000ULL
#define VEC_IRQ                 0x080ULL

/* ---- HCR_EL2 / SCR_EL3 ---- */
#define HCR_VM                  (1ULL << 0)
#define SCTLR_M                 (1ULL << 0)
#define SCTLR_NTWE              (1ULL << 18)
#define HCR_FMO                 (1ULL << 3)
#define HCR_IMO                 (1ULL << 4)
#define HCR_AMO                 (1ULL << 5)
#define HCR_VI                  (1ULL << 7)
#define HCR_TWI                 (1ULL << 13)
#define HCR_TWE                 (1ULL << 14)
#define HCR_RW                  (1ULL << 31)
#define SCR_NS                  (1ULL << 0)
#define SCR_RW                  (1ULL << 10)

/* ---- VTCR_EL2 ---- */
#define VTCR_RES1               (1ULL << 31)
#define VTCR_SL0_SHIFT          6
#define VTCR_IRGN0_WBWA         (1ULL << 8)
#define VTCR_ORGN0_WBWA         (1ULL << 10)
#define VTCR_SH0_INNER          (3ULL << 12)
#define VTCR_PS_SHIFT           16
#define VTCR_PS_44BIT           4ULL

/* ---- Generic timer ---- */
#define CNTCTL_ENABLE           (1ULL << 0)
#define CNTCTL_IMASK            (1ULL << 1)
#define CNTCTL_ISTATUS          (1ULL << 2)
#define CNTHCTL_EL1PCTEN        (1ULL << 0)
#define CNTHCTL_EL1PCEN         (1ULL << 1)
#define INTID_VTIMER            27U
#define INTID_PTIMER            30U

/* ---- GICv3 ICH_LR<n>_EL2 ---- */
#define LR_VINTID_MASK          0xFFFFFFFFULL
#define LR_PRIORITY_SHIFT       48
#define LR_GROUP1               (1ULL << 60)
#define LR_HW                   (1ULL << 61)
#define LR_EOI                  (1ULL << 41)
#define LR_STATE_SHIFT          62
#define LR_STATE_MASK           (3ULL << LR_STATE_SHIFT)
#define LR_PENDING              (1ULL << 62)
#define LR_ACTIVE               (2ULL << 62)

/* ICH_HCR_EL2 */
#define ICH_HCR_EN              (1ULL << 0)
#define ICH_HCR_UIE             (1ULL << 1)
#define ICH_HCR_LRENPIE         (1ULL << 2)
#define ICH_HCR_NPIE            (1ULL << 3)
#define ICH_HCR_VGRP0EIE        (1ULL << 4)
#define ICH_HCR_VGRP0DIE        (1ULL << 5)
#define ICH_HCR_VGRP1EIE        (1ULL << 6)
#define ICH_HCR_VGRP1DIE        (1ULL << 7)
#define ICH_HCR_TDIR            (1ULL << 14)
#define ICH_HCR_EOICOUNT_SHIFT  27
#define ICH_HCR_EOICOUNT_MASK   (0x1FULL << ICH_HCR_EOICOUNT_SHIFT)

/* ICH_MISR_EL2 */
#define ICH_MISR_EOI            (1ULL << 0)
#define ICH_MISR_U              (1ULL << 1)
#define ICH_MISR_LRENP          (1ULL << 2)
#define ICH_MISR_NP             (1ULL << 3)
#define ICH_MISR_VGRP0E         (1ULL << 4)
#define ICH_MISR_VGRP0D         (1ULL << 5)
#define ICH_MISR_VGRP1E         (1ULL << 6)
#define ICH_MISR_VGRP1D         (1ULL << 7)

/* ICH_VMCR_EL2 */
#define VMCR_ENG0               (1ULL << 0)
#define VMCR_ENG1               (1ULL << 1)
#define VMCR_CBPR               (1ULL << 4)
#define VMCR_EOIM               (1ULL << 9)
#define VMCR_BPR1_SHIFT         18
#define VMCR_BPR1_MASK          (7ULL << VMCR_BPR1_SHIFT)
#define VMCR_BPR0_SHIFT         21
#define VMCR_BPR0_MASK          (7ULL << VMCR_BPR0_SHIFT)
#define VMCR_PMR_SHIFT          24
#define VMCR_PMR_MASK           (0xFFULL << VMCR_PMR_SHIFT)

#define GIC_PRI_BITS            5U    /* as rmi/rec_enter.c validates */
#define GIC_SPURIOUS            1023ULL

#endif

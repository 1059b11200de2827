/* ESR_ELx syndrome fields (Arm ARM D17.2.37) used by the RMM core, RSI and the vCPU. */
#ifndef RMM_ESR_H
#define RMM_ESR_H

#include <stdint.h>

#define ESR_EC_SHIFT         26
#define ESR_EC_MASK          0x3FULL
#define ESR_EC(esr)          (((esr) >> ESR_EC_SHIFT) & ESR_EC_MASK)
#define ESR_EC_VAL(ec)       ((uint64_t)(ec) << ESR_EC_SHIFT)
#define ESR_EC_UNKNOWN       0x00ULL
#define ESR_EC_WFX           0x01ULL
#define ESR_EC_SVC64         0x15ULL
#define ESR_EC_HVC64         0x16ULL
#define ESR_EC_SMC64         0x17ULL
#define ESR_EC_SYSREG        0x18ULL
#define ESR_EC_IABT_LOW      0x20ULL
#define ESR_EC_IABT_CUR      0x21ULL
#define ESR_EC_DABT_LOW      0x24ULL
#define ESR_EC_DABT_CUR      0x25ULL
#define ESR_IL               (1ULL << 25)

/* Data abort ISS */
#define ESR_ISV              (1ULL << 24)
#define ESR_SAS_SHIFT        22
#define ESR_SAS_MASK         (3ULL << ESR_SAS_SHIFT)
#define ESR_SSE              (1ULL << 21)
#define ESR_SRT_SHIFT        16
#define ESR_SRT_MASK         (0x1FULL << ESR_SRT_SHIFT)
#define ESR_SF               (1ULL << 15)
#define ESR_SET_MASK         (3ULL << 11)
#define ESR_FNV              (1ULL << 10)
#define ESR_EA               (1ULL << 9)
#define ESR_S1PTW            (1ULL << 7)
#define ESR_WNR              (1ULL << 6)
#define ESR_FSC_MASK         0x3FULL
#define ESR_FSC_TRANSLATION_L0 0x04ULL   /* + level */
#define ESR_FSC_SEA          0x10ULL
#define ESR_FSC_SEA_TTW_FIRST 0x13ULL  /* SEA on a translation table walk, levels -1..3 */
#define ESR_FSC_SEA_TTW_LAST  0x17ULL

/* The fields of a stage-2 abort's syndrome the RMM reports to the host (DEN0137 1.0: RmiRecExit
 * esr; TF-RMM ESR_NONEMULATED_ABORT_MASK / ESR_EMULATED_ABORT_MASK). SRT, SSE, AR never leave. */
#define ESR_ABORT_REPORTED   ((ESR_EC_MASK << ESR_EC_SHIFT) | ESR_SET_MASK | ESR_FNV | ESR_EA | ESR_FSC_MASK)
#define ESR_ABORT_EMULATABLE (ESR_ABORT_REPORTED | ESR_ISV | ESR_SAS_MASK | ESR_SF | ESR_WNR)

/* System register trap ISS */
#define ESR_SYSREG_RT_SHIFT  5
#define ESR_SYSREG_READ      (1ULL << 0)

/* HPFAR_EL2.FIPA: IPA[51:12] in bits 43:4 */
#define HPFAR_FIPA_MASK      (((1ULL << 40) - 1) << 4)
#define HPFAR_FROM_IPA(ipa)  (((ipa) >> 8) & HPFAR_FIPA_MASK)
#define IPA_FROM_HPFAR(h)    (((h) & HPFAR_FIPA_MASK) << 8)

#endif

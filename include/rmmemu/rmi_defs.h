/*
 * rmmemu public constants of the Realm Management Interface, RMM 1.0 (Arm DEN0137 1.0-rel0).
 *
 * Everything a host needs to speak RMI to rmmemu: function IDs, status codes, field encodings
 * and the byte offsets of the structures exchanged through non-secure memory
 * (RmiRealmParams, RmiRecParams, RmiRecRun).
 */
#ifndef RMMEMU_RMI_DEFS_H
#define RMMEMU_RMI_DEFS_H

#include <stdint.h>

/* SMCCC: SMC64, fast call, standard secure service owner, function numbers 0x150.. */
#define RMI_FID(n)                      (0xC4000150ULL + (n))
#define SMC_RMI_VERSION                 RMI_FID(0x00)
#define SMC_RMI_GRANULE_DELEGATE        RMI_FID(0x01)
#define SMC_RMI_GRANULE_UNDELEGATE      RMI_FID(0x02)
#define SMC_RMI_DATA_CREATE             RMI_FID(0x03)
#define SMC_RMI_DATA_CREATE_UNKNOWN     RMI_FID(0x04)
#define SMC_RMI_DATA_DESTROY            RMI_FID(0x05)
#define SMC_RMI_REALM_ACTIVATE          RMI_FID(0x07)
#define SMC_RMI_REALM_CREATE            RMI_FID(0x08)
#define SMC_RMI_REALM_DESTROY           RMI_FID(0x09)
#define SMC_RMI_REC_CREATE              RMI_FID(0x0A)
#define SMC_RMI_REC_DESTROY             RMI_FID(0x0B)
#define SMC_RMI_REC_ENTER               RMI_FID(0x0C)
#define SMC_RMI_RTT_CREATE              RMI_FID(0x0D)
#define SMC_RMI_RTT_DESTROY             RMI_FID(0x0E)
#define SMC_RMI_RTT_MAP_UNPROTECTED     RMI_FID(0x0F)
#define SMC_RMI_RTT_READ_ENTRY          RMI_FID(0x11)
#define SMC_RMI_RTT_UNMAP_UNPROTECTED   RMI_FID(0x12)
#define SMC_RMI_PSCI_COMPLETE           RMI_FID(0x14)
#define SMC_RMI_FEATURES                RMI_FID(0x15)
#define SMC_RMI_RTT_FOLD                RMI_FID(0x16)
#define SMC_RMI_REC_AUX_COUNT           RMI_FID(0x17)
#define SMC_RMI_RTT_INIT_RIPAS          RMI_FID(0x18)
#define SMC_RMI_RTT_SET_RIPAS           RMI_FID(0x19)

/* SMCCC return value for an unknown function ID. */
#define SMCCC_NOT_SUPPORTED             0xFFFFFFFFFFFFFFFFULL

/* ABI version 1.0: major in bits 30:16, minor in bits 15:0. */
#define RMI_ABI_VERSION_MAJOR           1U
#define RMI_ABI_VERSION_MINOR           0U
#define RMI_ABI_VERSION                 ((RMI_ABI_VERSION_MAJOR << 16) | RMI_ABI_VERSION_MINOR)

/* RmiCommandReturnCode: status in bits 7:0, index in bits 15:8. */
#define RMI_SUCCESS                     0U
#define RMI_ERROR_INPUT                 1U
#define RMI_ERROR_REALM                 2U
#define RMI_ERROR_REC                   3U
#define RMI_ERROR_RTT                   4U
#define RMI_RETURN_STATUS(r)            ((unsigned)((r) & 0xFFU))
#define RMI_RETURN_INDEX(r)             ((unsigned)(((r) >> 8) & 0xFFU))
#define RMI_PACK_RETURN(status, index)  ((uint64_t)(status) | ((uint64_t)(index) << 8))

/* RmiFeatureRegister0 fields (shift, width). */
#define RMI_FEAT0_S2SZ_SHIFT            0
#define RMI_FEAT0_S2SZ_WIDTH            8
#define RMI_FEAT0_LPA2_SHIFT            8
#define RMI_FEAT0_SVE_EN_SHIFT          9
#define RMI_FEAT0_SVE_VL_SHIFT          10
#define RMI_FEAT0_SVE_VL_WIDTH          4
#define RMI_FEAT0_NUM_BPS_SHIFT         14
#define RMI_FEAT0_NUM_BPS_WIDTH         6
#define RMI_FEAT0_NUM_WPS_SHIFT         20
#define RMI_FEAT0_NUM_WPS_WIDTH         6
#define RMI_FEAT0_PMU_EN_SHIFT          26
#define RMI_FEAT0_PMU_NUM_CTRS_SHIFT    27
#define RMI_FEAT0_PMU_NUM_CTRS_WIDTH    5
#define RMI_FEAT0_HASH_SHA_256_SHIFT    32
#define RMI_FEAT0_HASH_SHA_512_SHIFT    33
#define RMI_FEAT0_GICV3_NUM_LRS_SHIFT   34
#define RMI_FEAT0_GICV3_NUM_LRS_WIDTH   4
#define RMI_FEAT0_MAX_RECS_ORDER_SHIFT  38
#define RMI_FEAT0_MAX_RECS_ORDER_WIDTH  4

/* RmiHashAlgorithm */
#define RMI_HASH_SHA_256                0U
#define RMI_HASH_SHA_512                1U

/* RmiRealmFlags */
#define RMI_REALM_FLAGS_LPA2            (1ULL << 0)
#define RMI_REALM_FLAGS_SVE             (1ULL << 1)
#define RMI_REALM_FLAGS_PMU             (1ULL << 2)

/* RmiRealmParams byte offsets (one 4 KiB granule). */
#define RMI_REALM_PARAMS_FLAGS          0x000 /* u64 */
#define RMI_REALM_PARAMS_S2SZ           0x008 /* u8  */
#define RMI_REALM_PARAMS_SVE_VL         0x010 /* u8  */
#define RMI_REALM_PARAMS_NUM_BPS        0x018 /* u8  */
#define RMI_REALM_PARAMS_NUM_WPS        0x020 /* u8  */
#define RMI_REALM_PARAMS_PMU_NUM_CTRS   0x028 /* u8  */
#define RMI_REALM_PARAMS_HASH_ALGO      0x030 /* u8  */
#define RMI_REALM_PARAMS_RPV            0x400 /* 64 bytes */
#define RMI_REALM_PARAMS_VMID           0x800 /* u16 */
#define RMI_REALM_PARAMS_RTT_BASE       0x808 /* u64 */
#define RMI_REALM_PARAMS_RTT_LEVEL_START 0x810 /* s64 */
#define RMI_REALM_PARAMS_RTT_NUM_START  0x818 /* u32 */
#define RMI_RPV_SIZE                    64

/* RmiRecParams byte offsets. */
#define RMI_REC_PARAMS_FLAGS            0x000 /* u64, bit 0 RUNNABLE */
#define RMI_REC_PARAMS_MPIDR            0x100 /* u64 */
#define RMI_REC_PARAMS_PC               0x200 /* u64 */
#define RMI_REC_PARAMS_GPRS             0x300 /* u64[8] */
#define RMI_REC_PARAMS_NUM_AUX          0x800 /* u64 */
#define RMI_REC_PARAMS_AUX              0x808 /* u64[16] */
#define RMI_REC_PARAMS_FLAG_RUNNABLE    (1ULL << 0)
#define RMI_REC_CREATE_NR_GPRS          8
#define RMI_MAX_REC_AUX_GRANULES        16

/* RmiRecRun byte offsets: RmiRecEnter at 0x000, RmiRecExit at 0x800. */
#define RMI_REC_ENTER_FLAGS             0x000
#define RMI_REC_ENTER_GPRS              0x200 /* u64[31] */
#define RMI_REC_ENTER_GICV3_HCR         0x300
#define RMI_REC_ENTER_GICV3_LRS         0x308 /* u64[16] */
#define RMI_REC_ENTER_SIZE              0x800
#define RMI_REC_EXIT_BASE               0x800
#define RMI_REC_EXIT_REASON             0x800 /* u64 */
#define RMI_REC_EXIT_ESR                0x900
#define RMI_REC_EXIT_FAR                0x908
#define RMI_REC_EXIT_HPFAR              0x910
#define RMI_REC_EXIT_GPRS               0xA00 /* u64[31] */
#define RMI_REC_EXIT_GICV3_HCR          0xB00
#define RMI_REC_EXIT_GICV3_LRS          0xB08 /* u64[16] */
#define RMI_REC_EXIT_GICV3_MISR         0xB88
#define RMI_REC_EXIT_GICV3_VMCR         0xB90
#define RMI_REC_EXIT_CNTP_CTL           0xC00
#define RMI_REC_EXIT_CNTP_CVAL          0xC08
#define RMI_REC_EXIT_CNTV_CTL           0xC10
#define RMI_REC_EXIT_CNTV_CVAL          0xC18
#define RMI_REC_EXIT_RIPAS_BASE         0xD00
#define RMI_REC_EXIT_RIPAS_TOP          0xD08
#define RMI_REC_EXIT_RIPAS_VALUE        0xD10 /* u8 */
#define RMI_REC_EXIT_IMM                0xE00 /* u16 */
#define RMI_REC_EXIT_PMU_OVF_STATUS     0xF00
#define RMI_REC_EXIT_SIZE               0x800
#define RMI_REC_NR_GPRS                 31
#define RMI_REC_GIC_NUM_LRS             16

/* RmiRecEnterFlags */
#define RMI_REC_ENTER_FLAG_EMUL_MMIO    (1ULL << 0)
#define RMI_REC_ENTER_FLAG_INJECT_SEA   (1ULL << 1)
#define RMI_REC_ENTER_FLAG_TRAP_WFI     (1ULL << 2)
#define RMI_REC_ENTER_FLAG_TRAP_WFE     (1ULL << 3)
#define RMI_REC_ENTER_FLAG_RIPAS_RESPONSE (1ULL << 4)

/* RmiRecExitReason */
#define RMI_EXIT_SYNC                   0U
#define RMI_EXIT_IRQ                    1U
#define RMI_EXIT_FIQ                    2U
#define RMI_EXIT_PSCI                   3U
#define RMI_EXIT_RIPAS_CHANGE           4U
#define RMI_EXIT_HOST_CALL              5U
#define RMI_EXIT_SERROR                 6U

/* RmiRttEntryState (RTT_READ_ENTRY X2) */
#define RMI_UNASSIGNED                  0U
#define RMI_ASSIGNED                    1U
#define RMI_TABLE                       2U

/* RmiRipas (RTT_READ_ENTRY X4) */
#define RMI_EMPTY                       0U
#define RMI_RAM                         1U
#define RMI_DESTROYED                   2U

/* RmiDataFlags */
#define RMI_NO_MEASURE_CONTENT          0U
#define RMI_MEASURE_CONTENT             1U

/* PSCI status values accepted by RMI_PSCI_COMPLETE */
#define PSCI_RETURN_SUCCESS             0ULL
#define PSCI_RETURN_NOT_SUPPORTED       ((uint64_t)-1)
#define PSCI_RETURN_INVALID_PARAMS      ((uint64_t)-2)
#define PSCI_RETURN_DENIED              ((uint64_t)-3)
#define PSCI_RETURN_ALREADY_ON          ((uint64_t)-4)

/* Stage-2 descriptor attributes a host passes to RMI_RTT_MAP_UNPROTECTED (FWB encoding). */
#define RMI_S2TTE_MEMATTR_SHIFT         2
#define RMI_S2TTE_MEMATTR_NORMAL_WB     (6ULL << 2)   /* MemAttr[2:0] = 0b110 with FWB */
#define RMI_S2TTE_AP_RW                 (3ULL << 6)

#endif

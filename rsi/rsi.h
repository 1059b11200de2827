/*
 * rsi/ — the Realm Services Interface (RSI 1.0) and PSCI as seen from a realm.
 *
 * The entry point handles the SMC a REC has just executed: the FID is in rec->regs[0], the
 * arguments in regs[1..], and rec->pc holds the address of the SMC instruction. On return the
 * results are in rec->regs and rec->pc points past the SMC, except when the call is reported to
 * the host as a stage-2 data abort (then the REC retries the SMC after the host has mapped the
 * page). It is callable from the vCPU (emu/) and directly from tests with a REC.
 */
#ifndef RSI_RSI_H
#define RSI_RSI_H

#include <stdbool.h>
#include <stdint.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"
#include "rtt/s2tt.h"

/* Function IDs (SMC64 fast, standard service, 0x190..) */
#define SMC_RSI_VERSION               0xC4000190ULL
#define SMC_RSI_FEATURES              0xC4000191ULL
#define SMC_RSI_MEASUREMENT_READ      0xC4000192ULL
#define SMC_RSI_MEASUREMENT_EXTEND    0xC4000193ULL
#define SMC_RSI_ATTEST_TOKEN_INIT     0xC4000194ULL
#define SMC_RSI_ATTEST_TOKEN_CONTINUE 0xC4000195ULL
#define SMC_RSI_REALM_CONFIG          0xC4000196ULL
#define SMC_RSI_IPA_STATE_SET         0xC4000197ULL
#define SMC_RSI_IPA_STATE_GET         0xC4000198ULL
#define SMC_RSI_HOST_CALL             0xC4000199ULL

#define RSI_ABI_VERSION               ((1ULL << 16) | 0ULL)

/* Status codes */
#define RSI_SUCCESS       0ULL
#define RSI_ERROR_INPUT   1ULL
#define RSI_ERROR_STATE   2ULL
#define RSI_INCOMPLETE    3ULL
#define RSI_ERROR_UNKNOWN 4ULL

#define RSI_HASH_SHA_256  0U
#define RSI_HASH_SHA_512  1U
#define RSI_ACCEPT        0ULL
#define RSI_REJECT        1ULL
#define RSI_NO_CHANGE_DESTROYED 0ULL
#define RSI_CHANGE_DESTROYED    1ULL

/* RsiRealmConfig (one granule) */
#define RSI_REALM_CONFIG_IPA_WIDTH 0x000  /* u64 */
#define RSI_REALM_CONFIG_HASH_ALGO 0x008  /* u8 */
#define RSI_REALM_CONFIG_RPV       0x200  /* 64 bytes */

/* RsiHostCall (0x100 bytes, 256-byte aligned): imm (u16) at 0, gprs[31] at 8 */
#define RSI_HOST_CALL_SIZE   0x100
#define RSI_HOST_CALL_IMM    0x000
#define RSI_HOST_CALL_GPRS   0x008
#define RSI_HOST_CALL_NR_GPRS 31

/* SMCCC and PSCI */
#define SMCCC_VERSION_FID       0x80000000ULL
#define SMCCC_VERSION_1_2       0x10002ULL
#define SMCCC_UNKNOWN           ((uint64_t)-1)
#define PSCI_VERSION            0x84000000ULL
#define PSCI_CPU_SUSPEND_32     0x84000001ULL
#define PSCI_CPU_SUSPEND_64     0xC4000001ULL
#define PSCI_CPU_OFF            0x84000002ULL
#define PSCI_CPU_ON_32          0x84000003ULL
#define PSCI_CPU_ON_64          0xC4000003ULL
#define PSCI_AFFINITY_INFO_32   0x84000004ULL
#define PSCI_AFFINITY_INFO_64   0xC4000004ULL
#define PSCI_SYSTEM_OFF         0x84000008ULL
#define PSCI_SYSTEM_RESET       0x84000009ULL
#define PSCI_FEATURES           0x8400000AULL
#define PSCI_FID_32_MIN         0x84000000ULL
#define PSCI_FID_32_MAX         0x84000014ULL
#define PSCI_FID_64_MIN         0xC4000000ULL
#define PSCI_FID_64_MAX         0xC4000014ULL
#define PSCI_VERSION_1_1        0x10001ULL
#define PSCI_RETURN_INVALID_ADDRESS ((uint64_t)-9)
#define PSCI_AFFINITY_ON        0ULL

/* Size of the attestation token buffer kept in the REC's auxiliary granules (RSI_ATTEST_TOKEN_INIT X1). */
#define RSI_ATTEST_TOKEN_PAGES  1U
#define RSI_ATTEST_TOKEN_BUF_SIZE (RSI_ATTEST_TOKEN_PAGES * GRANULE_SIZE)

/* Handle the REC's SMC. Returns true if the REC must exit to the host; `exit` is then filled. */
bool rsi_handle_smc(struct rmm *rmm, struct rec *rec, struct rec_exit_image *exit);

/* On REC_ENTER after a host call exit: copy the host's enter.gprs into the realm's RsiHostCall.
 * Returns false if that page is no longer mapped (a stage-2 data abort exit is then in `exit`). */
bool rsi_complete_host_call(struct rmm *rmm, struct rec *rec, const uint64_t gprs[RMI_REC_NR_GPRS],
			    struct rec_exit_image *exit);

/* Translate a protected IPA of the REC's realm (granule aligned) for an RSI call. */
enum rsi_walk { WALK_SUCCESS, WALK_FAIL, WALK_INVALID_PARAMS };
struct rsi_walk_result {
	rmm_pa_t pa;
	enum ripas ripas;
	int rtt_level;
};
enum rsi_walk realm_ipa_to_pa(struct rmm *rmm, const struct rec *rec, rmm_ipa_t ipa, struct rsi_walk_result *r);

#endif

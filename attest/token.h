/*
 * The CCA attestation token (RMM 1.0-rel0, Arm DEN0137, section A7.2.3) of a realm, and the
 * simulated CCA platform that supplies the platform token and the Realm Attestation Key (RAK).
 *
 *   cca-token = #6.399({ 44234: bstr(platform COSE_Sign1_Tagged),
 *                        44241: bstr(realm COSE_Sign1_Tagged) })
 *
 * Both COSE_Sign1 are #6.18([ bstr({1: -35}), {}, bstr(claims), bstr(r || s) ]), ES384.
 * The platform token is signed by the simulated CPAK (CCA Platform Attestation Key; the spec
 * calls it the IAK), the realm token by the RAK. The platform challenge is SHA-256 of the realm
 * public key claim (the RAK as a COSE_Key), which binds the two. Claim maps and their order follow
 * TF-RMM rmm-spec-v1.0-rel0; see docs/attestation.md.
 *
 * As in TF-RMM, the platform token is made once (at platform initialisation: there it comes from
 * EL3 at boot) and the RAK is fixed for the platform's life; every realm token is signed on demand.
 */
#ifndef ATTEST_TOKEN_H
#define ATTEST_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "attest/keys.h"
#include "rmm/realm.h"

#define ATTEST_REALM_CHALLENGE_SIZE  64
#define ATTEST_RPV_SIZE              64
/* Upper bound of attest_cca_token() output: one granule (the actual size is below 2 KiB). */
#define ATTEST_CCA_TOKEN_MAX_SIZE    4096

/* CBOR tags and COSE values. */
#define CCA_TOKEN_COLLECTION_TAG           399
#define CCA_PLATFORM_TOKEN_LABEL           44234
#define CCA_REALM_DELEGATED_TOKEN_LABEL    44241
#define COSE_SIGN1_TAG                     18
#define COSE_HEADER_ALG                    1
#define COSE_ALG_ES384                     (-35)
#define COSE_KEY_KTY                       1
#define COSE_KEY_CRV                       (-1)
#define COSE_KEY_X                         (-2)
#define COSE_KEY_Y                         (-3)
#define COSE_KTY_EC2                       2
#define COSE_CRV_P384                      2

/* Realm claims (A7.2.3.1). */
#define CCA_REALM_CHALLENGE                10
#define CCA_REALM_PROFILE                  265
#define CCA_REALM_PERSONALIZATION_VALUE    44235
#define CCA_REALM_HASH_ALGO_ID             44236
#define CCA_REALM_PUB_KEY                  44237
#define CCA_REALM_INITIAL_MEASUREMENT      44238
#define CCA_REALM_EXTENSIBLE_MEASUREMENTS  44239
#define CCA_REALM_PUB_KEY_HASH_ALGO_ID     44240
#define CCA_REALM_PROFILE_STR              "tag:arm.com,2023:realm#1.0.0"
#define CCA_REALM_NUM_REMS                 4

/* CCA platform claims (A7.2.3.2). */
#define CCA_PLATFORM_PROFILE               265
#define CCA_PLATFORM_CHALLENGE             10
#define CCA_PLATFORM_IMPLEMENTATION_ID     2396
#define CCA_PLATFORM_INSTANCE_ID           256
#define CCA_PLATFORM_CONFIG                2401
#define CCA_PLATFORM_LIFECYCLE             2395
#define CCA_PLATFORM_SW_COMPONENTS         2399
#define CCA_PLATFORM_VERIFICATION_SERVICE  2400
#define CCA_PLATFORM_HASH_ALGO_ID          2402
#define CCA_PLATFORM_PROFILE_STR           "tag:arm.com,2023:cca_platform#1.0.0"
#define CCA_PLATFORM_IMPL_ID_SIZE          32
#define CCA_PLATFORM_INST_ID_SIZE          33

/* Keys of one cca-platform-sw-component map. */
#define CCA_SW_COMP_TYPE                   1
#define CCA_SW_COMP_MEASUREMENT_VALUE      2
#define CCA_SW_COMP_VERSION                4
#define CCA_SW_COMP_SIGNER_ID              5
#define CCA_SW_COMP_HASH_ALGO_ID           6

/* The simulated platform: CPAK, RAK, platform claims and the signed platform token. */
struct attest_platform;

/* The seed used when none is given: the 32 ASCII bytes "rmmemu simulated CCA platform v1". */
extern const uint8_t attest_default_seed[ATTEST_SEED_SIZE];

/* Derive CPAK and RAK from seed (attest/keys.h) and sign the platform token. */
int attest_platform_init_seed(struct attest_platform **p, const uint8_t seed[ATTEST_SEED_SIZE]);

/* Same with keys loaded from PEM files (P-384 private keys, SEC1 or PKCS#8). */
int attest_platform_init_pem(struct attest_platform **p, const char *rak_pem, const char *cpak_pem,
			     char *err, size_t errlen);

void attest_platform_free(struct attest_platform *p);

/* Replace the platform token's claims (NULL or unset fields: built-in values) and sign it again. */
int attest_platform_set_claims(struct attest_platform *p, const struct rmmemu_platform_claims *claims);

enum attest_key_id { ATTEST_KEY_CPAK = 0, ATTEST_KEY_RAK = 1 };

/* Public key (SEC1 uncompressed, ATTEST_EC_POINT_SIZE bytes) of the CPAK or the RAK. */
const uint8_t *attest_platform_pub(const struct attest_platform *p, enum attest_key_id which);

/* PEM of the CPAK or RAK, public (SPKI) or private (SEC1), into buf (NUL-terminated). */
int attest_platform_key_pem(const struct attest_platform *p, enum attest_key_id which,
			    bool private_key, char *buf, size_t cap);

/* The signed platform token (tagged COSE_Sign1) held by the platform. */
const uint8_t *attest_platform_token(const struct attest_platform *p, size_t *len);

/*
 * The realm token alone (tagged COSE_Sign1, signed with the RAK).
 *   algo          realm hash algorithm: measurement sizes 32 (SHA-256) or 64 (SHA-512) bytes
 *   measurements  slot 0 RIM, slots 1..4 REMs, each zero-extended to 64 bytes
 *   rpv           Realm Personalization Value, 64 bytes
 *   challenge     the realm's challenge; challenge_len must be ATTEST_REALM_CHALLENGE_SIZE
 * On success writes *len bytes to out. If cap is too small returns ATTEST_E_NOSPC with *len set
 * to the size needed. Deterministic: the same inputs give the same bytes.
 */
int attest_realm_token(const struct attest_platform *p, enum hash_algo algo,
		       const uint8_t measurements[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE],
		       const uint8_t rpv[ATTEST_RPV_SIZE], const uint8_t *challenge,
		       size_t challenge_len, uint8_t *out, size_t cap, size_t *len);

/* The whole CCA attestation token (tag 399 collection): same arguments and rules. */
int attest_cca_token(const struct attest_platform *p, enum hash_algo algo,
		     const uint8_t measurements[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE],
		     const uint8_t rpv[ATTEST_RPV_SIZE], const uint8_t *challenge,
		     size_t challenge_len, uint8_t *out, size_t cap, size_t *len);

/* Upper bound of a CCA token (ATTEST_CCA_TOKEN_MAX_SIZE), for RSI_ATTESTATION_TOKEN_INIT. */
size_t attest_cca_token_max_size(void);

/* "invalid argument", ... for an ATTEST_E_* code. */
const char *attest_strerror(int err);

#endif

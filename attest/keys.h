/*
 * Attestation keys of the simulated CCA platform: P-384 key pairs, ES384 (ECDSA P-384 with
 * SHA-384, deterministic per RFC 6979) signatures in the COSE r||s form, the COSE_Key encoding of a
 * public key, and the hashes named by IANA hash names. OpenSSL 3 libcrypto underneath.
 *
 * Deterministic key derivation from a 32-byte seed (reproducible with any HMAC implementation,
 * see docs/attestation.md and tests/unit/verify_token.py):
 *
 *   for ctr = 0, 1, ..., 255:
 *       t = HMAC-SHA-512(key = seed, msg = "rmmemu-attest-key-v1" 0x00 label 0x00 ctr)
 *       d = big-endian integer of t[0..48)
 *       if 1 <= d < n (the P-384 group order): private key = d, stop
 *
 * label is "CPAK" for the platform key and "RAK" for the Realm Attestation Key.
 */
#ifndef ATTEST_KEYS_H
#define ATTEST_KEYS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ATTEST_SEED_SIZE       32
#define ATTEST_EC_COORD_SIZE   48                               /* P-384 coordinate / scalar */
#define ATTEST_EC_POINT_SIZE   (1 + 2 * ATTEST_EC_COORD_SIZE)   /* SEC1 uncompressed: 04 || x || y */
#define ATTEST_ES384_SIG_SIZE  (2 * ATTEST_EC_COORD_SIZE)       /* COSE signature: r || s */
#define ATTEST_COSE_KEY_SIZE   107                              /* encoding of an EC2 P-384 COSE_Key */
#define ATTEST_MAX_HASH_SIZE   64

/* Error codes (negative) shared by attest/keys.c and attest/token.c. */
#define ATTEST_OK         0
#define ATTEST_E_INVAL   (-1)   /* bad argument */
#define ATTEST_E_NOSPC   (-2)   /* output buffer too small */
#define ATTEST_E_CRYPTO  (-3)   /* libcrypto failure or key rejected */
#define ATTEST_E_NOMEM   (-4)   /* allocation failure */
#define ATTEST_E_IO      (-5)   /* file cannot be read or parsed */
#define ATTEST_E_CBOR    (-6)   /* CBOR encoding failure */

/* A P-384 key pair: private scalar (big-endian) and public point (SEC1 uncompressed). */
struct attest_key {
	uint8_t priv[ATTEST_EC_COORD_SIZE];
	uint8_t pub[ATTEST_EC_POINT_SIZE];
};

/* Derive a key pair from seed and label as described above. */
int attest_key_derive(struct attest_key *k, const uint8_t seed[ATTEST_SEED_SIZE], const char *label);

/* Load a P-384 private key from a PEM (or DER) file: SEC1 "EC PRIVATE KEY" or PKCS#8. */
int attest_key_load_pem(struct attest_key *k, const char *path, char *err, size_t errlen);

/* Write the key as PEM into buf (NUL-terminated): the private key (SEC1) or the public key (SPKI). */
int attest_key_write_pem(const struct attest_key *k, bool private_key, char *buf, size_t cap);

/* Load a P-384 public key from a PEM/DER file holding either a public or a private key. */
int attest_pub_load_pem(uint8_t pub[ATTEST_EC_POINT_SIZE], const char *path, char *err,
			size_t errlen);

/* Overwrite the private part. */
void attest_key_wipe(struct attest_key *k);

/* ES384 over msg: SHA-384, deterministic ECDSA (RFC 6979), r || s big-endian, 48 bytes each. */
int attest_es384_sign(const struct attest_key *k, const void *msg, size_t len,
		      uint8_t sig[ATTEST_ES384_SIG_SIZE]);

/* ATTEST_OK if sig (r || s) is a valid ES384 signature of msg under pub, else ATTEST_E_CRYPTO. */
int attest_es384_verify(const uint8_t pub[ATTEST_EC_POINT_SIZE], const void *msg, size_t len,
			const uint8_t sig[ATTEST_ES384_SIG_SIZE]);

/* ATTEST_OK if pub is a valid point of P-384 (uncompressed form). */
int attest_pub_check(const uint8_t pub[ATTEST_EC_POINT_SIZE]);

/*
 * COSE_Key (RFC 8152 section 13.1.1) of a P-384 public key, as t_cose_key_encode writes it in
 * TF-RMM: a 4-entry map in the order kty (1) = EC2 (2), crv (-1) = P-384 (2), x (-2) = bstr 48,
 * y (-3) = bstr 48. Always ATTEST_COSE_KEY_SIZE bytes.
 */
void attest_cose_key_encode(const uint8_t pub[ATTEST_EC_POINT_SIZE],
			    uint8_t out[ATTEST_COSE_KEY_SIZE]);

/*
 * Hash by IANA hash function name: "sha-256", "sha-384" or "sha-512". Writes the digest into out
 * (ATTEST_MAX_HASH_SIZE bytes available) and returns its size, or 0 for an unknown name.
 */
size_t attest_hash_by_name(const char *name, const void *data, size_t len,
			   uint8_t out[ATTEST_MAX_HASH_SIZE]);

#endif

/*
 * CCA attestation token tools for the CLI: decode a token to JSON, and verify it.
 *
 * Both accept any RMM 1.0 CCA token (tag 399 collection of a platform and a realm COSE_Sign1), not
 * only rmmemu's. Input is checked to be well-formed CBOR with definite lengths (nesting depth at
 * most 16) before it is decoded.
 */
#ifndef HOST_TOKEN_TOOL_H
#define HOST_TOKEN_TOOL_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "attest/keys.h"

/*
 * Print the token as JSON: for each of "cca-platform-token" and "cca-realm-delegated-token" the
 * COSE headers, the signature and every claim under its spec name ("cca-realm-challenge", ...;
 * unknown claims under their number). Byte strings are lower-case hex. Returns 0, or non-zero
 * with a reason in err when the token cannot be decoded.
 */
int token_show_json(FILE *out, const uint8_t *tok, size_t len, char *err, size_t errlen);

/*
 * Verify the token: structure, every claim's type and size (RMM 1.0-rel0 A7.2.3), the realm
 * signature with the RAK from the realm public key claim, the platform signature with the
 * simulated CPAK of the default seed (attest_default_seed), and the binding
 * platform challenge == H(realm public key claim) with the realm public key hash algorithm.
 * Writes one line per check to report (if not NULL). Returns 0 when every check passes, else
 * non-zero with the first failure in err.
 */
int token_verify(const uint8_t *tok, size_t len, FILE *report, char *err, size_t errlen);

/* Same with a given CPAK public key (SEC1 uncompressed P-384 point); NULL = default seed's CPAK. */
int token_verify_with_cpak(const uint8_t *tok, size_t len, const uint8_t cpak_pub[ATTEST_EC_POINT_SIZE],
			   FILE *report, char *err, size_t errlen);

/* The CPAK public key of a seed, or from a PEM/DER file (public or private key). 0 on success. */
int token_cpak_from_seed(const uint8_t seed[ATTEST_SEED_SIZE], uint8_t cpak_pub[ATTEST_EC_POINT_SIZE]);
int token_cpak_from_pem(const char *path, uint8_t cpak_pub[ATTEST_EC_POINT_SIZE], char *err,
			size_t errlen);

/* Read a whole file (at most 1 MiB) into a malloc'ed buffer. 0 on success. */
int token_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen);

#endif

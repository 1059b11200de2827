/*
 * Realm measurement primitives (RMM 1.0): hashing with the realm's algorithm and measurement
 * extension. Used by the RIM hooks (rmm/measure_hooks.h) and by RSI_MEASUREMENT_EXTEND for REMs.
 *
 * A measurement is always held in a MAX_MEASUREMENT_SIZE (64-byte) buffer: the digest in the
 * first measurement_size(algo) bytes, zeros after it.
 */
#ifndef ATTEST_MEASUREMENT_H
#define ATTEST_MEASUREMENT_H

#include <stddef.h>
#include <stdint.h>

#include "rmm/realm.h"

/* Digest size in bytes of a RmmHashAlgorithm: 32 (SHA-256) or 64 (SHA-512). */
size_t measurement_size(enum hash_algo algo);

/* out = H(data[0..len)), zero-extended to 64 bytes. */
void measurement_hash(enum hash_algo algo, const void *data, size_t len,
		      uint8_t out[MAX_MEASUREMENT_SIZE]);

/*
 * out = H(old[0..measurement_size(algo)) || data[0..len)), zero-extended to 64 bytes.
 * out may be the same buffer as old.
 */
void measurement_extend(enum hash_algo algo, const uint8_t old[MAX_MEASUREMENT_SIZE],
			const void *data, size_t len, uint8_t out[MAX_MEASUREMENT_SIZE]);

#endif

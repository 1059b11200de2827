/* The link between the RMM core and attest/: build a realm's CCA attestation token. */
#ifndef RMM_ATTEST_GLUE_H
#define RMM_ATTEST_GLUE_H

#include <stddef.h>
#include <stdint.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"

/* Token for `rd` with the realm's 64-byte challenge. 0 on success. */
int rmm_attest_token(struct rmm *rmm, const struct rd *rd, const uint8_t challenge[64], uint8_t *out,
		     size_t cap, size_t *len);

#endif

/* Attestation token glue (until attest/token.c is wired in: no token can be built). */
#include "rmm/attest_glue.h"

int rmm_attest_token(struct rmm *rmm, const struct rd *rd, const uint8_t challenge[64], uint8_t *out,
		     size_t cap, size_t *len)
{
	(void)rmm; (void)rd; (void)challenge; (void)out; (void)cap;
	*len = 0;
	return -1;
}

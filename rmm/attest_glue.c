/* The link between the RMM core and attest/: the simulated platform and the realm's CCA token. */
#include "rmm/attest_glue.h"

#include "attest/token.h"

int rmm_attest_token(struct rmm *rmm, const struct rd *rd, const uint8_t challenge[64], uint8_t *out,
		     size_t cap, size_t *len)
{
	if (!rmm->attest) {
		const struct rmmemu_platform_config *c = &rmm->cfg;
		int rc;
		if (c->rak_pem[0] && c->cpak_pem[0]) {
			char err[256];
			rc = attest_platform_init_pem(&rmm->attest, c->rak_pem, c->cpak_pem, err, sizeof(err));
			if (rc)
				rmm_trace(rmm, RMMEMU_TRACE_RMI, "  attestation keys: %s\n", err);
		} else {
			rc = attest_platform_init_seed(&rmm->attest, c->attest_seed_set ? c->attest_seed : attest_default_seed);
		}
		if (!rc && (c->claims.implementation_id_set || c->claims.lifecycle_set ||
			    c->claims.verification_service[0] || c->claims.num_sw))
			rc = attest_platform_set_claims(rmm->attest, &c->claims);
		if (rc) {
			attest_platform_free(rmm->attest);
			rmm->attest = NULL;
			return -1;
		}
	}
	return attest_cca_token(rmm->attest, (enum hash_algo)rd->algorithm, rd->measurement, rd->rpv, challenge,
				ATTEST_REALM_CHALLENGE_SIZE, out, cap, len) ? -1 : 0;
}

/*
 * CCA attestation token generation (RMM 1.0-rel0 A7.2.3), with a simulated CCA platform.
 *
 * CBOR is produced with libcbor. Every integer is built at its smallest width and every length is
 * definite, so the output is in CBOR preferred serialization; map entries keep the order they are
 * added in, which is the order TF-RMM (realm claims) and the TF-RMM host platform token
 * (platform claims) use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>

#include "attest/measurement.h"
#include "attest/token.h"

const uint8_t attest_default_seed[ATTEST_SEED_SIZE] = {
	'r', 'm', 'm', 'e', 'm', 'u', ' ', 's', 'i', 'm', 'u', 'l', 'a', 't', 'e', 'd',
	' ', 'C', 'C', 'A', ' ', 'p', 'l', 'a', 't', 'f', 'o', 'r', 'm', ' ', 'v', '1',
};

struct attest_platform {
	struct attest_key cpak;
	struct attest_key rak;
	uint8_t rak_cose_key[ATTEST_COSE_KEY_SIZE];  /* the realm public key claim */
	uint8_t *platform_token;
	size_t platform_token_len;
	struct rmmemu_platform_claims claims;   /* overrides of the simulated claims */
};

/* ---- simulated platform claims ---- */

#define SIM_LIFECYCLE          0x3000   /* psa-lifecycle-secured, IMPLEMENTATION DEFINED 0 */
#define SIM_HASH_ALGO          "sha-256"
#define SIM_VERIFICATION_URL   "https://veraison.example/.well-known/veraison/verification"
#define SIM_IMPL_ID_TEXT       "rmmemu simulated CCA platform implementation"
#define SIM_SIGNER_TEXT        "rmmemu simulated firmware signing key"
static const uint8_t sim_config[] = { 0xcf, 0xcf, 0xcf, 0xcf };

/* Firmware the simulated platform "booted": type and version; the measurement value is
 * SHA-256("rmmemu simulated <type> image"), the signer ID SHA-256(SIM_SIGNER_TEXT). */
static const struct {
	const char *type;
	const char *version;
} sim_sw[] = {
	{ "AP_BL1", "1.0.0" },
	{ "AP_BL2", "1.0.0" },
	{ "AP_BL31", "1.0.0" },
	{ "RMM", "1.0.0" },
	{ "HW_CONFIG", "1.0.0" },
};

static void sha256(const void *data, size_t len, uint8_t out[32])
{
	uint8_t h[ATTEST_MAX_HASH_SIZE];

	if (attest_hash_by_name("sha-256", data, len, h) != 32)
		abort();
	memcpy(out, h, 32);
}

/* ---- libcbor helpers: a builder records the first allocation failure ---- */

struct cb {
	bool fail;
};

static cbor_item_t *cb_chk(struct cb *b, cbor_item_t *it)
{
	if (!it)
		b->fail = true;
	return it;
}

static cbor_item_t *cb_uint(struct cb *b, uint64_t v)
{
	if (v <= UINT8_MAX)
		return cb_chk(b, cbor_build_uint8((uint8_t)v));
	if (v <= UINT16_MAX)
		return cb_chk(b, cbor_build_uint16((uint16_t)v));
	if (v <= UINT32_MAX)
		return cb_chk(b, cbor_build_uint32((uint32_t)v));
	return cb_chk(b, cbor_build_uint64(v));
}

static cbor_item_t *cb_int(struct cb *b, int64_t v)
{
	uint64_t n;

	if (v >= 0)
		return cb_uint(b, (uint64_t)v);
	n = (uint64_t)(-(v + 1));      /* CBOR major type 1 encodes -1 - n */
	if (n <= UINT8_MAX)
		return cb_chk(b, cbor_build_negint8((uint8_t)n));
	if (n <= UINT16_MAX)
		return cb_chk(b, cbor_build_negint16((uint16_t)n));
	if (n <= UINT32_MAX)
		return cb_chk(b, cbor_build_negint32((uint32_t)n));
	return cb_chk(b, cbor_build_negint64(n));
}

static cbor_item_t *cb_bytes(struct cb *b, const void *p, size_t n)
{
	if (n == 0)
		return cb_chk(b, cbor_new_definite_bytestring());
	return cb_chk(b, cbor_build_bytestring((cbor_data)p, n));
}

static cbor_item_t *cb_text(struct cb *b, const char *s)
{
	return cb_chk(b, cbor_build_string(s));
}

static cbor_item_t *cb_map(struct cb *b, size_t n)
{
	return cb_chk(b, cbor_new_definite_map(n));
}

static cbor_item_t *cb_array(struct cb *b, size_t n)
{
	return cb_chk(b, cbor_new_definite_array(n));
}

/* Add key: val to map. Takes over the caller's references to key and val. */
static void cb_put(struct cb *b, cbor_item_t *map, cbor_item_t *key, cbor_item_t *val)
{
	if (!map || !key || !val || !cbor_map_add(map, (struct cbor_pair){ .key = key, .value = val }))
		b->fail = true;
	if (key)
		cbor_decref(&key);
	if (val)
		cbor_decref(&val);
}

static void cb_put_int(struct cb *b, cbor_item_t *map, int64_t key, cbor_item_t *val)
{
	cb_put(b, map, cb_int(b, key), val);
}

/* Append item to array. Takes over the caller's reference to item. */
static void cb_push(struct cb *b, cbor_item_t *array, cbor_item_t *item)
{
	if (!array || !item || !cbor_array_push(array, item))
		b->fail = true;
	if (item)
		cbor_decref(&item);
}

/* Tag item. Takes over the caller's reference to item. */
static cbor_item_t *cb_tag(struct cb *b, uint64_t tag, cbor_item_t *item)
{
	cbor_item_t *t = NULL;

	if (item) {
		t = cb_chk(b, cbor_build_tag(tag, item));
		cbor_decref(&item);
	} else {
		b->fail = true;
	}
	return t;
}

/* Serialize item into a malloc'ed buffer and release item. */
static int cb_finish(struct cb *b, cbor_item_t *item, uint8_t **out, size_t *len)
{
	unsigned char *buf = NULL;
	size_t bufsize = 0, n = 0;

	if (item && !b->fail)
		n = cbor_serialize_alloc(item, &buf, &bufsize);
	if (item)
		cbor_decref(&item);
	if (n == 0) {
		free(buf);
		return b->fail ? ATTEST_E_NOMEM : ATTEST_E_CBOR;
	}
	*out = buf;
	*len = n;
	return ATTEST_OK;
}

/* ---- COSE_Sign1 ---- */

/*
 * #6.18([ protected: bstr({1: -35}), unprotected: {}, payload: bstr, signature: bstr(r || s) ])
 * signed over Sig_structure = [ "Signature1", protected, external_aad: h'', payload ].
 */
static int cose_sign1_es384(const struct attest_key *key, const uint8_t *payload, size_t plen,
			    uint8_t **out, size_t *olen)
{
	struct cb b = { false };
	cbor_item_t *hdr, *tbs, *msg;
	uint8_t *prot = NULL, *tbs_buf = NULL, sig[ATTEST_ES384_SIG_SIZE];
	size_t prot_len = 0, tbs_len = 0;
	int ret;

	hdr = cb_map(&b, 1);
	cb_put_int(&b, hdr, COSE_HEADER_ALG, cb_int(&b, COSE_ALG_ES384));
	ret = cb_finish(&b, hdr, &prot, &prot_len);
	if (ret != ATTEST_OK)
		return ret;

	tbs = cb_array(&b, 4);
	cb_push(&b, tbs, cb_text(&b, "Signature1"));
	cb_push(&b, tbs, cb_bytes(&b, prot, prot_len));
	cb_push(&b, tbs, cb_bytes(&b, NULL, 0));
	cb_push(&b, tbs, cb_bytes(&b, payload, plen));
	ret = cb_finish(&b, tbs, &tbs_buf, &tbs_len);
	if (ret != ATTEST_OK)
		goto out;
	ret = attest_es384_sign(key, tbs_buf, tbs_len, sig);
	if (ret != ATTEST_OK)
		goto out;

	msg = cb_array(&b, 4);
	cb_push(&b, msg, cb_bytes(&b, prot, prot_len));
	cb_push(&b, msg, cb_map(&b, 0));
	cb_push(&b, msg, cb_bytes(&b, payload, plen));
	cb_push(&b, msg, cb_bytes(&b, sig, sizeof(sig)));
	ret = cb_finish(&b, cb_tag(&b, COSE_SIGN1_TAG, msg), out, olen);
out:
	free(tbs_buf);
	free(prot);
	return ret;
}

/* ---- platform token ---- */

static int platform_claims(const struct attest_platform *p, uint8_t **out, size_t *len)
{
	struct cb b = { false };
	cbor_item_t *map, *sw;
	uint8_t challenge[32], impl_id[CCA_PLATFORM_IMPL_ID_SIZE], inst_id[CCA_PLATFORM_INST_ID_SIZE];
	uint8_t signer[32], mval[32];
	char text[96];

	const struct rmmemu_platform_claims *cl = &p->claims;
	sha256(p->rak_cose_key, sizeof(p->rak_cose_key), challenge);
	if (cl->implementation_id_set)
		memcpy(impl_id, cl->implementation_id, sizeof(impl_id));
	else
		sha256(SIM_IMPL_ID_TEXT, strlen(SIM_IMPL_ID_TEXT), impl_id);
	inst_id[0] = 0x01;   /* EAT UEID type RAND; then the hash of the CPAK public key */
	sha256(p->cpak.pub, sizeof(p->cpak.pub), inst_id + 1);
	sha256(SIM_SIGNER_TEXT, strlen(SIM_SIGNER_TEXT), signer);

	map = cb_map(&b, 9);
	cb_put_int(&b, map, CCA_PLATFORM_PROFILE, cb_text(&b, CCA_PLATFORM_PROFILE_STR));
	cb_put_int(&b, map, CCA_PLATFORM_CHALLENGE, cb_bytes(&b, challenge, sizeof(challenge)));
	cb_put_int(&b, map, CCA_PLATFORM_IMPLEMENTATION_ID, cb_bytes(&b, impl_id, sizeof(impl_id)));
	cb_put_int(&b, map, CCA_PLATFORM_INSTANCE_ID, cb_bytes(&b, inst_id, sizeof(inst_id)));
	cb_put_int(&b, map, CCA_PLATFORM_CONFIG, cb_bytes(&b, sim_config, sizeof(sim_config)));
	cb_put_int(&b, map, CCA_PLATFORM_LIFECYCLE, cb_uint(&b, cl->lifecycle_set ? cl->lifecycle : SIM_LIFECYCLE));
	cb_put_int(&b, map, CCA_PLATFORM_HASH_ALGO_ID, cb_text(&b, SIM_HASH_ALGO));
	cb_put_int(&b, map, CCA_PLATFORM_VERIFICATION_SERVICE,
		   cb_text(&b, cl->verification_service[0] ? cl->verification_service : SIM_VERIFICATION_URL));

	size_t nsw = cl->num_sw ? cl->num_sw : sizeof(sim_sw) / sizeof(sim_sw[0]);
	sw = cb_array(&b, nsw);
	for (size_t i = 0; i < nsw; i++) {
		cbor_item_t *c = cb_map(&b, 5);
		const char *type = cl->num_sw ? cl->sw[i].type : sim_sw[i].type;
		const char *version = cl->num_sw ? cl->sw[i].version : sim_sw[i].version;

		if (cl->num_sw) {
			memcpy(mval, cl->sw[i].measurement, sizeof(mval));
		} else {
			snprintf(text, sizeof(text), "rmmemu simulated %s image", type);
			sha256(text, strlen(text), mval);
		}
		cb_put_int(&b, c, CCA_SW_COMP_TYPE, cb_text(&b, type));
		cb_put_int(&b, c, CCA_SW_COMP_MEASUREMENT_VALUE, cb_bytes(&b, mval, sizeof(mval)));
		cb_put_int(&b, c, CCA_SW_COMP_VERSION, cb_text(&b, version));
		cb_put_int(&b, c, CCA_SW_COMP_SIGNER_ID, cb_bytes(&b, signer, sizeof(signer)));
		cb_put_int(&b, c, CCA_SW_COMP_HASH_ALGO_ID, cb_text(&b, SIM_HASH_ALGO));
		cb_push(&b, sw, c);
	}
	cb_put_int(&b, map, CCA_PLATFORM_SW_COMPONENTS, sw);
	return cb_finish(&b, map, out, len);
}

static int platform_finish_init(struct attest_platform *p)
{
	uint8_t *claims = NULL;
	size_t claims_len = 0;
	int ret;

	attest_cose_key_encode(p->rak.pub, p->rak_cose_key);
	ret = platform_claims(p, &claims, &claims_len);
	if (ret == ATTEST_OK)
		ret = cose_sign1_es384(&p->cpak, claims, claims_len, &p->platform_token,
				       &p->platform_token_len);
	free(claims);
	return ret;
}

int attest_platform_set_claims(struct attest_platform *p, const struct rmmemu_platform_claims *claims)
{
	if (!p || (claims && claims->num_sw > RMMEMU_MAX_SW_COMPONENTS))
		return ATTEST_E_INVAL;
	if (claims)
		p->claims = *claims;
	else
		memset(&p->claims, 0, sizeof(p->claims));
	p->claims.verification_service[sizeof(p->claims.verification_service) - 1] = '\0';
	for (unsigned i = 0; i < p->claims.num_sw; i++) {
		p->claims.sw[i].type[sizeof(p->claims.sw[i].type) - 1] = '\0';
		p->claims.sw[i].version[sizeof(p->claims.sw[i].version) - 1] = '\0';
	}
	free(p->platform_token);
	p->platform_token = NULL;
	p->platform_token_len = 0;
	return platform_finish_init(p);
}

int attest_platform_init_seed(struct attest_platform **pp, const uint8_t seed[ATTEST_SEED_SIZE])
{
	struct attest_platform *p;
	int ret;

	if (!pp || !seed)
		return ATTEST_E_INVAL;
	*pp = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ATTEST_E_NOMEM;
	ret = attest_key_derive(&p->cpak, seed, "CPAK");
	if (ret == ATTEST_OK)
		ret = attest_key_derive(&p->rak, seed, "RAK");
	if (ret == ATTEST_OK)
		ret = platform_finish_init(p);
	if (ret != ATTEST_OK) {
		attest_platform_free(p);
		return ret;
	}
	*pp = p;
	return ATTEST_OK;
}

int attest_platform_init_pem(struct attest_platform **pp, const char *rak_pem, const char *cpak_pem,
			     char *err, size_t errlen)
{
	struct attest_platform *p;
	int ret;

	if (!pp || !rak_pem || !cpak_pem)
		return ATTEST_E_INVAL;
	*pp = NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return ATTEST_E_NOMEM;
	ret = attest_key_load_pem(&p->rak, rak_pem, err, errlen);
	if (ret == ATTEST_OK)
		ret = attest_key_load_pem(&p->cpak, cpak_pem, err, errlen);
	if (ret == ATTEST_OK) {
		ret = platform_finish_init(p);
		if (ret != ATTEST_OK && err && errlen)
			snprintf(err, errlen, "cannot sign the platform token: %s", attest_strerror(ret));
	}
	if (ret != ATTEST_OK) {
		attest_platform_free(p);
		return ret;
	}
	*pp = p;
	return ATTEST_OK;
}

void attest_platform_free(struct attest_platform *p)
{
	if (!p)
		return;
	attest_key_wipe(&p->cpak);
	attest_key_wipe(&p->rak);
	free(p->platform_token);
	free(p);
}

const uint8_t *attest_platform_pub(const struct attest_platform *p, enum attest_key_id which)
{
	if (!p)
		return NULL;
	return which == ATTEST_KEY_RAK ? p->rak.pub : p->cpak.pub;
}

int attest_platform_key_pem(const struct attest_platform *p, enum attest_key_id which,
			    bool private_key, char *buf, size_t cap)
{
	if (!p)
		return ATTEST_E_INVAL;
	return attest_key_write_pem(which == ATTEST_KEY_RAK ? &p->rak : &p->cpak, private_key, buf, cap);
}

const uint8_t *attest_platform_token(const struct attest_platform *p, size_t *len)
{
	if (!p) {
		if (len)
			*len = 0;
		return NULL;
	}
	if (len)
		*len = p->platform_token_len;
	return p->platform_token;
}

/* ---- realm token ---- */

static const char *hash_algo_name(enum hash_algo algo)
{
	switch (algo) {
	case HASH_SHA_256:
		return "sha-256";
	case HASH_SHA_512:
		return "sha-512";
	}
	return NULL;
}

static int check_realm_args(const struct attest_platform *p, enum hash_algo algo,
			    const void *measurements, const uint8_t *rpv, const uint8_t *challenge,
			    size_t challenge_len, const size_t *len)
{
	if (!p || !measurements || !rpv || !challenge || !len)
		return ATTEST_E_INVAL;
	if (challenge_len != ATTEST_REALM_CHALLENGE_SIZE)
		return ATTEST_E_INVAL;
	if (!hash_algo_name(algo))
		return ATTEST_E_INVAL;
	return ATTEST_OK;
}

/* The realm token into a malloc'ed buffer. Arguments already checked. */
static int realm_token_alloc(const struct attest_platform *p, enum hash_algo algo,
			     const uint8_t measurements[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE],
			     const uint8_t rpv[ATTEST_RPV_SIZE], const uint8_t *challenge,
			     uint8_t **out, size_t *olen)
{
	struct cb b = { false };
	cbor_item_t *map, *rems;
	uint8_t *claims = NULL;
	size_t claims_len = 0, msize = measurement_size(algo);
	int ret;

	/* Claim order as in TF-RMM attest_realm_token_create(). */
	map = cb_map(&b, 8);
	cb_put_int(&b, map, CCA_REALM_CHALLENGE, cb_bytes(&b, challenge, ATTEST_REALM_CHALLENGE_SIZE));
	cb_put_int(&b, map, CCA_REALM_PERSONALIZATION_VALUE, cb_bytes(&b, rpv, ATTEST_RPV_SIZE));
	cb_put_int(&b, map, CCA_REALM_PUB_KEY, cb_bytes(&b, p->rak_cose_key, sizeof(p->rak_cose_key)));
	cb_put_int(&b, map, CCA_REALM_HASH_ALGO_ID, cb_text(&b, hash_algo_name(algo)));
	cb_put_int(&b, map, CCA_REALM_PUB_KEY_HASH_ALGO_ID, cb_text(&b, "sha-256"));
	cb_put_int(&b, map, CCA_REALM_PROFILE, cb_text(&b, CCA_REALM_PROFILE_STR));
	cb_put_int(&b, map, CCA_REALM_INITIAL_MEASUREMENT,
		   cb_bytes(&b, measurements[RIM_MEASUREMENT_SLOT], msize));
	rems = cb_array(&b, CCA_REALM_NUM_REMS);
	for (unsigned i = 1; i <= CCA_REALM_NUM_REMS; i++)
		cb_push(&b, rems, cb_bytes(&b, measurements[i], msize));
	cb_put_int(&b, map, CCA_REALM_EXTENSIBLE_MEASUREMENTS, rems);
	ret = cb_finish(&b, map, &claims, &claims_len);
	if (ret != ATTEST_OK)
		return ret;
	ret = cose_sign1_es384(&p->rak, claims, claims_len, out, olen);
	free(claims);
	return ret;
}

static int copy_out(const uint8_t *src, size_t n, uint8_t *out, size_t cap, size_t *len)
{
	*len = n;
	if (!out || cap < n)
		return ATTEST_E_NOSPC;
	memcpy(out, src, n);
	return ATTEST_OK;
}

int attest_realm_token(const struct attest_platform *p, enum hash_algo algo,
		       const uint8_t measurements[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE],
		       const uint8_t rpv[ATTEST_RPV_SIZE], const uint8_t *challenge,
		       size_t challenge_len, uint8_t *out, size_t cap, size_t *len)
{
	uint8_t *tok = NULL;
	size_t tok_len = 0;
	int ret;

	ret = check_realm_args(p, algo, measurements, rpv, challenge, challenge_len, len);
	if (ret != ATTEST_OK)
		return ret;
	*len = 0;
	ret = realm_token_alloc(p, algo, measurements, rpv, challenge, &tok, &tok_len);
	if (ret == ATTEST_OK)
		ret = copy_out(tok, tok_len, out, cap, len);
	free(tok);
	return ret;
}

int attest_cca_token(const struct attest_platform *p, enum hash_algo algo,
		     const uint8_t measurements[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE],
		     const uint8_t rpv[ATTEST_RPV_SIZE], const uint8_t *challenge,
		     size_t challenge_len, uint8_t *out, size_t cap, size_t *len)
{
	struct cb b = { false };
	cbor_item_t *map;
	uint8_t *realm = NULL, *cca = NULL;
	size_t realm_len = 0, cca_len = 0;
	int ret;

	ret = check_realm_args(p, algo, measurements, rpv, challenge, challenge_len, len);
	if (ret != ATTEST_OK)
		return ret;
	*len = 0;
	ret = realm_token_alloc(p, algo, measurements, rpv, challenge, &realm, &realm_len);
	if (ret != ATTEST_OK)
		return ret;

	/* Collection order as in TF-RMM attest_cca_token_create(): platform, then realm. */
	map = cb_map(&b, 2);
	cb_put_int(&b, map, CCA_PLATFORM_TOKEN_LABEL,
		   cb_bytes(&b, p->platform_token, p->platform_token_len));
	cb_put_int(&b, map, CCA_REALM_DELEGATED_TOKEN_LABEL, cb_bytes(&b, realm, realm_len));
	ret = cb_finish(&b, cb_tag(&b, CCA_TOKEN_COLLECTION_TAG, map), &cca, &cca_len);
	if (ret == ATTEST_OK)
		ret = copy_out(cca, cca_len, out, cap, len);
	free(cca);
	free(realm);
	return ret;
}

size_t attest_cca_token_max_size(void)
{
	return ATTEST_CCA_TOKEN_MAX_SIZE;
}

const char *attest_strerror(int err)
{
	switch (err) {
	case ATTEST_OK:
		return "success";
	case ATTEST_E_INVAL:
		return "invalid argument";
	case ATTEST_E_NOSPC:
		return "output buffer too small";
	case ATTEST_E_CRYPTO:
		return "cryptographic operation failed";
	case ATTEST_E_NOMEM:
		return "out of memory";
	case ATTEST_E_IO:
		return "cannot read key file";
	case ATTEST_E_CBOR:
		return "CBOR encoding failed";
	}
	return "unknown error";
}

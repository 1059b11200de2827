/*
 * P-384 attestation keys and ES384 signatures (see attest/keys.h), with OpenSSL 3 libcrypto.
 *
 * Every OpenSSL object is created and freed within one call: a struct attest_key is plain bytes,
 * so several threads may sign with the same key at once.
 *
 * OpenSSL 3.0 (Debian bookworm) signs ECDSA with random nonces only (RFC 6979 came in 3.2), while
 * tokens must be reproducible byte for byte. So attest_es384_sign computes the RFC 6979 nonce with
 * HMAC-SHA-384 and the signature equation with BIGNUM arithmetic on the P-384 EC_GROUP. This is
 * the computation mbedTLS's mbedtls_ecdsa_sign_det_ext did before (its HMAC_DRBG seeded with the
 * private key and the reduced hash is RFC 6979 section 3.2): the same keys sign the same r || s,
 * which the token pins in tests/unit/test_token.c check. Timing side channels are not a goal: the
 * keys are a simulator's, derived from a seed anyone may know (docs/attestation.md).
 */
#include <stdio.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/param_build.h>

#include "attest/keys.h"

#define KEY_DERIVE_DOMAIN "rmmemu-attest-key-v1"
#define P384_GROUP_NAME   "secp384r1"

static void set_err(char *err, size_t errlen, const char *msg, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", path ? path : "", path ? ": " : "", msg);
}

/* ---- HMAC over a list of chunks ---- */

struct chunk {
	const void *p;
	size_t n;
};

struct hmac {
	EVP_MAC *mac;
	EVP_MAC_CTX *ctx;
};

/* digest: an OpenSSL digest name ("SHA2-384", "SHA2-512"). */
static int hmac_open(struct hmac *h, const char *digest)
{
	OSSL_PARAM params[] = {
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)digest, 0),
		OSSL_PARAM_construct_end(),
	};

	h->mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	h->ctx = h->mac ? EVP_MAC_CTX_new(h->mac) : NULL;
	return h->ctx && EVP_MAC_CTX_set_params(h->ctx, params) ? ATTEST_OK : ATTEST_E_CRYPTO;
}

static void hmac_close(struct hmac *h)
{
	EVP_MAC_CTX_free(h->ctx);
	EVP_MAC_free(h->mac);
}

/* out = HMAC(key, c[0] || c[1] || ...), exactly outlen bytes. out may overlap key or a chunk. */
static int hmac_chunks(struct hmac *h, const uint8_t *key, size_t klen, const struct chunk *c,
		       size_t nc, uint8_t *out, size_t outlen)
{
	size_t n = 0;

	if (!EVP_MAC_init(h->ctx, key, klen, NULL))
		return ATTEST_E_CRYPTO;
	for (size_t i = 0; i < nc; i++)
		if (c[i].n && !EVP_MAC_update(h->ctx, c[i].p, c[i].n))
			return ATTEST_E_CRYPTO;
	if (!EVP_MAC_final(h->ctx, out, &n, outlen) || n != outlen)
		return ATTEST_E_CRYPTO;
	return ATTEST_OK;
}

/* ---- P-384 arithmetic ---- */

/* d from 48 big-endian bytes into a new BIGNUM if 1 <= d < n, else NULL. */
static BIGNUM *scalar_read(const EC_GROUP *grp, const uint8_t b[ATTEST_EC_COORD_SIZE])
{
	BIGNUM *d = BN_bin2bn(b, ATTEST_EC_COORD_SIZE, NULL);

	if (d && (BN_is_zero(d) || BN_cmp(d, EC_GROUP_get0_order(grp)) >= 0)) {
		BN_clear_free(d);
		return NULL;
	}
	if (d)
		BN_set_flags(d, BN_FLG_CONSTTIME);
	return d;
}

/* pub = d * G on P-384, d given as 48 big-endian bytes (1 <= d < n). */
static int pub_from_priv(const uint8_t priv[ATTEST_EC_COORD_SIZE], uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
	EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
	BIGNUM *d = grp ? scalar_read(grp, priv) : NULL;
	BN_CTX *bn = BN_CTX_new();
	int ret = ATTEST_E_CRYPTO;

	if (q && d && bn && EC_POINT_mul(grp, q, d, NULL, NULL, bn) &&
	    EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub, ATTEST_EC_POINT_SIZE, bn) ==
		    ATTEST_EC_POINT_SIZE)
		ret = ATTEST_OK;
	BN_CTX_free(bn);
	BN_clear_free(d);
	EC_POINT_free(q);
	EC_GROUP_free(grp);
	return ret;
}

/* A P-384 point in any SEC1 form (compressed or not) into the uncompressed form. */
static int pub_uncompress(const uint8_t *in, size_t len, uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	EC_GROUP *grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
	EC_POINT *q = grp ? EC_POINT_new(grp) : NULL;
	int ret = ATTEST_E_CRYPTO;

	if (q && EC_POINT_oct2point(grp, q, in, len, NULL) && !EC_POINT_is_at_infinity(grp, q) &&
	    EC_POINT_point2oct(grp, q, POINT_CONVERSION_UNCOMPRESSED, pub, ATTEST_EC_POINT_SIZE, NULL) ==
		    ATTEST_EC_POINT_SIZE)
		ret = ATTEST_OK;
	EC_POINT_free(q);
	EC_GROUP_free(grp);
	return ret;
}

int attest_pub_check(const uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	EC_GROUP *grp;
	EC_POINT *q;
	int ret = ATTEST_E_CRYPTO;

	if (!pub)
		return ATTEST_E_INVAL;
	if (pub[0] != 0x04)   /* the uncompressed form only (not the hybrid forms 06/07) */
		return ATTEST_E_CRYPTO;
	grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
	q = grp ? EC_POINT_new(grp) : NULL;
	/* oct2point refuses coordinates >= p and points off the curve. */
	if (q && EC_POINT_oct2point(grp, q, pub, ATTEST_EC_POINT_SIZE, NULL) == 1)
		ret = ATTEST_OK;
	EC_POINT_free(q);
	EC_GROUP_free(grp);
	ERR_clear_error();
	return ret;
}

/* ---- key derivation ---- */

int attest_key_derive(struct attest_key *k, const uint8_t seed[ATTEST_SEED_SIZE], const char *label)
{
	uint8_t msg[sizeof(KEY_DERIVE_DOMAIN) + 32 + 2], t[64];
	size_t dlen = sizeof(KEY_DERIVE_DOMAIN); /* includes the 0x00 separator */
	size_t llen, mlen;
	struct hmac h;
	EC_GROUP *grp = NULL;
	BIGNUM *d;
	int ret;

	if (!k || !seed || !label)
		return ATTEST_E_INVAL;
	llen = strlen(label);
	if (llen == 0 || llen > 32)
		return ATTEST_E_INVAL;
	memcpy(msg, KEY_DERIVE_DOMAIN, dlen);
	memcpy(msg + dlen, label, llen);
	msg[dlen + llen] = 0;
	mlen = dlen + llen + 2;

	ret = hmac_open(&h, "SHA2-512");
	if (ret == ATTEST_OK) {
		grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
		ret = grp ? ATTEST_E_CRYPTO : ATTEST_E_NOMEM;
	}
	for (unsigned ctr = 0; grp && ctr < 256; ctr++) {
		const struct chunk c = { msg, mlen };

		msg[mlen - 1] = (uint8_t)ctr;
		if (hmac_chunks(&h, seed, ATTEST_SEED_SIZE, &c, 1, t, sizeof(t)) != ATTEST_OK)
			break;
		d = scalar_read(grp, t);
		if (d) {
			BN_clear_free(d);
			memcpy(k->priv, t, ATTEST_EC_COORD_SIZE);
			ret = pub_from_priv(k->priv, k->pub);
			break;
		}
	}
	OPENSSL_cleanse(t, sizeof(t));
	EC_GROUP_free(grp);
	hmac_close(&h);
	if (ret != ATTEST_OK)
		attest_key_wipe(k);
	return ret;
}

void attest_key_wipe(struct attest_key *k)
{
	if (k)
		OPENSSL_cleanse(k->priv, sizeof(k->priv));
}

/* ---- EVP_PKEY in and out ---- */

/* An EVP_PKEY on P-384 from the public point (uncompressed) and, if priv, the private scalar. */
static EVP_PKEY *pkey_from(const uint8_t pub[ATTEST_EC_POINT_SIZE], const uint8_t *priv)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	EVP_PKEY *pkey = NULL;
	BIGNUM *d = NULL;

	if (pub[0] != 0x04 || !bld)
		goto out;
	if (!OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, P384_GROUP_NAME, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub, ATTEST_EC_POINT_SIZE))
		goto out;
	if (priv) {
		/* A "secure" BIGNUM makes the builder clear the parameter copy when it is freed. */
		d = BN_secure_new();
		if (!d || !BN_bin2bn(priv, ATTEST_EC_COORD_SIZE, d) ||
		    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d))
			goto out;
	}
	params = OSSL_PARAM_BLD_to_param(bld);
	pctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
	if (!params || !pctx || EVP_PKEY_fromdata_init(pctx) <= 0 ||
	    EVP_PKEY_fromdata(pctx, &pkey, priv ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY, params) <= 0)
		pkey = NULL;
out:
	EVP_PKEY_CTX_free(pctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_clear_free(d);
	return pkey;
}

/* Encrypted key files are refused, never prompted for. */
static int no_passphrase(char *pass, size_t cap, size_t *len, const OSSL_PARAM params[], void *arg)
{
	return 0;
}

/*
 * Read a key file, PEM or DER: structure NULL takes any ("PrivateKeyInfo", SEC1 "type-specific",
 * ...); selection says which part must be there.
 */
static EVP_PKEY *pkey_read(const char *path, const char *structure, int selection)
{
	EVP_PKEY *pkey = NULL;
	OSSL_DECODER_CTX *dctx = NULL;
	BIO *in = BIO_new_file(path, "rb");

	if (in)
		dctx = OSSL_DECODER_CTX_new_for_pkey(&pkey, NULL, structure, NULL, selection, NULL, NULL);
	if (dctx && OSSL_DECODER_CTX_set_passphrase_cb(dctx, no_passphrase, NULL))
		OSSL_DECODER_from_bio(dctx, in);
	OSSL_DECODER_CTX_free(dctx);
	BIO_free(in);
	return pkey;
}

/* NULL if pkey is an EC key on P-384, else why not. */
static const char *pkey_not_p384(const EVP_PKEY *pkey)
{
	char name[32];

	if (!EVP_PKEY_is_a(pkey, "EC"))
		return "not an EC key (ECDSA P-384 needed)";
	if (!EVP_PKEY_get_group_name(pkey, name, sizeof(name), NULL) || strcmp(name, P384_GROUP_NAME) != 0)
		return "not a P-384 (secp384r1) key";
	return NULL;
}

/* The public point of a P-384 pkey, uncompressed whatever form the file used. */
static int pkey_pub(const EVP_PKEY *pkey, uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	uint8_t enc[ATTEST_EC_POINT_SIZE];
	size_t n = 0;

	if (!EVP_PKEY_get_octet_string_param(pkey, OSSL_PKEY_PARAM_PUB_KEY, enc, sizeof(enc), &n))
		return ATTEST_E_CRYPTO;
	return pub_uncompress(enc, n, pub);
}

int attest_key_load_pem(struct attest_key *k, const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	BIGNUM *d = NULL;
	const char *why;
	uint8_t file_pub[ATTEST_EC_POINT_SIZE];
	int ret = ATTEST_E_IO;

	if (!k || !path)
		return ATTEST_E_INVAL;
	pkey = pkey_read(path, NULL, OSSL_KEYMGMT_SELECT_PRIVATE_KEY);
	if (!pkey) {
		set_err(err, errlen, "cannot read a private key (PEM or DER) from this file", path);
		goto out;
	}
	why = pkey_not_p384(pkey);
	if (why) {
		set_err(err, errlen, why, path);
		goto out;
	}
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_PRIV_KEY, &d) ||
	    BN_bn2binpad(d, k->priv, ATTEST_EC_COORD_SIZE) != ATTEST_EC_COORD_SIZE ||
	    pub_from_priv(k->priv, k->pub) != ATTEST_OK) {
		set_err(err, errlen, "invalid P-384 private key", path);
		goto out;
	}
	/* OpenSSL computes the public point when the file has none; one it carries must match. */
	if (pkey_pub(pkey, file_pub) != ATTEST_OK || memcmp(file_pub, k->pub, sizeof(file_pub)) != 0) {
		set_err(err, errlen, "public key does not match the private key", path);
		goto out;
	}
	ret = ATTEST_OK;
out:
	BN_clear_free(d);
	EVP_PKEY_free(pkey);
	if (ret != ATTEST_OK) {
		attest_key_wipe(k);
		ERR_clear_error();
	}
	return ret;
}

int attest_pub_load_pem(uint8_t pub[ATTEST_EC_POINT_SIZE], const char *path, char *err, size_t errlen)
{
	EVP_PKEY *pkey;
	struct attest_key k;
	const char *why;
	int ret = ATTEST_E_IO;

	if (!pub || !path)
		return ATTEST_E_INVAL;
	pkey = pkey_read(path, "SubjectPublicKeyInfo", EVP_PKEY_PUBLIC_KEY);
	if (!pkey) {
		/* Maybe a private key file: take its public half. */
		ERR_clear_error();
		ret = attest_key_load_pem(&k, path, err, errlen);
		if (ret == ATTEST_OK)
			memcpy(pub, k.pub, ATTEST_EC_POINT_SIZE);
		attest_key_wipe(&k);
		return ret;
	}
	why = pkey_not_p384(pkey);
	if (why) {
		set_err(err, errlen, why, path);
		goto out;
	}
	if (pkey_pub(pkey, pub) != ATTEST_OK || attest_pub_check(pub) != ATTEST_OK) {
		set_err(err, errlen, "invalid P-384 public key", path);
		goto out;
	}
	ret = ATTEST_OK;
out:
	EVP_PKEY_free(pkey);
	if (ret != ATTEST_OK)
		ERR_clear_error();
	return ret;
}

int attest_key_write_pem(const struct attest_key *k, bool private_key, char *buf, size_t cap)
{
	EVP_PKEY *pkey;
	OSSL_ENCODER_CTX *ectx = NULL;
	unsigned char *pem = NULL;
	size_t len = 0;
	int ret = ATTEST_E_CRYPTO;

	if (!k || !buf || cap == 0)
		return ATTEST_E_INVAL;
	pkey = pkey_from(k->pub, private_key ? k->priv : NULL);
	/* "type-specific" is SEC1 ("EC PRIVATE KEY") for a private key; the public one is SPKI. */
	if (pkey)
		ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, private_key ? EVP_PKEY_KEYPAIR : EVP_PKEY_PUBLIC_KEY,
						     "PEM", private_key ? "type-specific" : "SubjectPublicKeyInfo",
						     NULL);
	if (!ectx || !OSSL_ENCODER_to_data(ectx, &pem, &len))
		goto out;
	if (len >= cap) {
		ret = ATTEST_E_NOSPC;
		goto out;
	}
	memcpy(buf, pem, len);
	buf[len] = '\0';
	ret = ATTEST_OK;
out:
	OPENSSL_clear_free(pem, len);
	OSSL_ENCODER_CTX_free(ectx);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ret;
}

/* ---- ES384 ---- */

/*
 * RFC 6979 section 3.2 for P-384 with SHA-384. qlen = hlen = 384 bits, so bits2int is the plain
 * big-endian reading of 48 bytes and bits2octets(h1) is h1 mod q in 48 bytes.
 */
struct rfc6979 {
	struct hmac h;
	uint8_t k[48], v[48];
	bool started;
};

/* Steps b to g: V = 0x01..., K = 0x00..., then K and V keyed with x || (h1 mod q), twice. */
static int rfc6979_init(struct rfc6979 *r, const uint8_t x[48], const uint8_t h1_mod_q[48])
{
	int ret = hmac_open(&r->h, "SHA2-384");

	memset(r->v, 0x01, sizeof(r->v));
	memset(r->k, 0x00, sizeof(r->k));
	r->started = false;
	for (uint8_t sep = 0; ret == ATTEST_OK && sep <= 1; sep++) {
		const struct chunk c[] = { { r->v, 48 }, { &sep, 1 }, { x, 48 }, { h1_mod_q, 48 } };
		const struct chunk v = { r->v, 48 };

		ret = hmac_chunks(&r->h, r->k, 48, c, 4, r->k, 48);
		if (ret == ATTEST_OK)
			ret = hmac_chunks(&r->h, r->k, 48, &v, 1, r->v, 48);
	}
	return ret;
}

/*
 * Step h: the next candidate T = V = HMAC_K(V). Before every candidate but the first, step h.3:
 * K = HMAC_K(V || 0x00), V = HMAC_K(V).
 */
static int rfc6979_next(struct rfc6979 *r, uint8_t t[48])
{
	static const uint8_t zero = 0;
	const struct chunk v = { r->v, 48 };
	const struct chunk v0[] = { { r->v, 48 }, { &zero, 1 } };
	int ret = ATTEST_OK;

	if (r->started) {
		ret = hmac_chunks(&r->h, r->k, 48, v0, 2, r->k, 48);
		if (ret == ATTEST_OK)
			ret = hmac_chunks(&r->h, r->k, 48, &v, 1, r->v, 48);
	}
	r->started = true;
	if (ret == ATTEST_OK)
		ret = hmac_chunks(&r->h, r->k, 48, &v, 1, r->v, 48);
	if (ret == ATTEST_OK)
		memcpy(t, r->v, 48);
	return ret;
}

static void rfc6979_done(struct rfc6979 *r)
{
	hmac_close(&r->h);
	OPENSSL_cleanse(r->k, sizeof(r->k));
	OPENSSL_cleanse(r->v, sizeof(r->v));
}

/*
 * One ECDSA signature with nonce k (1 <= k < n): r = x(k * G) mod n, s = k^-1 (e + r d) mod n,
 * k^-1 = k^(n-2) (n is prime). Returns ATTEST_OK, or ATTEST_E_INVAL when r or s is 0 (the next
 * nonce must be tried).
 */
static int ecdsa_with_k(const EC_GROUP *grp, const BIGNUM *d, const BIGNUM *e, const BIGNUM *k,
			BN_CTX *bn, uint8_t sig[ATTEST_ES384_SIG_SIZE])
{
	const BIGNUM *n = EC_GROUP_get0_order(grp);
	EC_POINT *p = EC_POINT_new(grp);
	BIGNUM *x, *r, *s, *kinv, *nm2;
	int ret = ATTEST_E_CRYPTO;

	BN_CTX_start(bn);
	x = BN_CTX_get(bn);
	r = BN_CTX_get(bn);
	s = BN_CTX_get(bn);
	kinv = BN_CTX_get(bn);
	nm2 = BN_CTX_get(bn);
	if (!p || !nm2 || !EC_POINT_mul(grp, p, k, NULL, NULL, bn) ||
	    !EC_POINT_get_affine_coordinates(grp, p, x, NULL, bn) || !BN_nnmod(r, x, n, bn))
		goto out;
	if (BN_is_zero(r)) {
		ret = ATTEST_E_INVAL;
		goto out;
	}
	BN_set_flags(kinv, BN_FLG_CONSTTIME);
	if (!BN_copy(nm2, n) || !BN_sub_word(nm2, 2) ||
	    !BN_mod_exp_mont_consttime(kinv, k, nm2, n, bn, NULL) ||
	    !BN_mod_mul(s, r, d, n, bn) || !BN_mod_add(s, s, e, n, bn) || !BN_mod_mul(s, s, kinv, n, bn))
		goto out;
	if (BN_is_zero(s)) {
		ret = ATTEST_E_INVAL;
		goto out;
	}
	if (BN_bn2binpad(r, sig, ATTEST_EC_COORD_SIZE) == ATTEST_EC_COORD_SIZE &&
	    BN_bn2binpad(s, sig + ATTEST_EC_COORD_SIZE, ATTEST_EC_COORD_SIZE) == ATTEST_EC_COORD_SIZE)
		ret = ATTEST_OK;
out:
	BN_clear(kinv);
	BN_CTX_end(bn);
	EC_POINT_free(p);
	return ret;
}

int attest_es384_sign(const struct attest_key *key, const void *msg, size_t len,
		      uint8_t sig[ATTEST_ES384_SIG_SIZE])
{
	uint8_t h[48], z[48], t[48];
	struct rfc6979 nonce;
	EC_GROUP *grp;
	BN_CTX *bn;
	BIGNUM *d, *e = NULL, *k = NULL;
	int ret = ATTEST_E_CRYPTO;

	if (!key || (!msg && len) || !sig)
		return ATTEST_E_INVAL;
	if (!EVP_Digest(msg, len, h, NULL, EVP_sha384(), NULL))
		return ATTEST_E_CRYPTO;
	grp = EC_GROUP_new_by_curve_name(NID_secp384r1);
	bn = BN_CTX_new();
	d = grp ? scalar_read(grp, key->priv) : NULL;
	/* e = h mod n, which is also bits2octets(h) of RFC 6979. */
	if (!grp || !bn || !d || !(e = BN_bin2bn(h, sizeof(h), NULL)) ||
	    !BN_nnmod(e, e, EC_GROUP_get0_order(grp), bn) || BN_bn2binpad(e, z, sizeof(z)) != sizeof(z) ||
	    !(k = BN_new())) {
		memset(&nonce, 0, sizeof(nonce));
		goto out;
	}
	BN_set_flags(k, BN_FLG_CONSTTIME);
	ret = rfc6979_init(&nonce, key->priv, z);
	/* A candidate outside [1, n) or giving r = 0 or s = 0 moves on to the next (probability ~2^-190). */
	for (unsigned tries = 0; ret == ATTEST_OK; tries++) {
		ret = tries < 64 ? rfc6979_next(&nonce, t) : ATTEST_E_CRYPTO;
		if (ret != ATTEST_OK)
			break;
		if (!BN_bin2bn(t, sizeof(t), k)) {
			ret = ATTEST_E_CRYPTO;
			break;
		}
		if (BN_is_zero(k) || BN_cmp(k, EC_GROUP_get0_order(grp)) >= 0)
			continue;
		ret = ecdsa_with_k(grp, d, e, k, bn, sig);
		if (ret == ATTEST_E_INVAL)
			ret = ATTEST_OK;   /* try the next candidate */
		else
			break;
	}
out:
	rfc6979_done(&nonce);
	OPENSSL_cleanse(t, sizeof(t));
	BN_clear_free(k);
	BN_free(e);
	BN_clear_free(d);
	BN_CTX_free(bn);
	EC_GROUP_free(grp);
	return ret;
}

int attest_es384_verify(const uint8_t pub[ATTEST_EC_POINT_SIZE], const void *msg, size_t len,
			const uint8_t sig[ATTEST_ES384_SIG_SIZE])
{
	EVP_PKEY *pkey;
	EVP_MD_CTX *mctx = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int der_len = 0, ret = ATTEST_E_CRYPTO;

	if (!pub || (!msg && len) || !sig)
		return ATTEST_E_INVAL;
	/* OpenSSL verifies DER signatures: r || s becomes SEQUENCE { INTEGER r, INTEGER s }. */
	pkey = pkey_from(pub, NULL);
	es = ECDSA_SIG_new();
	r = BN_bin2bn(sig, ATTEST_EC_COORD_SIZE, NULL);
	s = BN_bin2bn(sig + ATTEST_EC_COORD_SIZE, ATTEST_EC_COORD_SIZE, NULL);
	if (!pkey || !es || !r || !s || !ECDSA_SIG_set0(es, r, s))
		goto out;
	r = s = NULL;   /* es owns them now */
	der_len = i2d_ECDSA_SIG(es, &der);
	mctx = EVP_MD_CTX_new();
	if (der_len > 0 && mctx &&
	    EVP_DigestVerifyInit_ex(mctx, NULL, "SHA2-384", NULL, NULL, pkey, NULL) == 1 &&
	    EVP_DigestVerify(mctx, der, (size_t)der_len, msg, len) == 1)
		ret = ATTEST_OK;
out:
	EVP_MD_CTX_free(mctx);
	OPENSSL_free(der);
	BN_free(s);
	BN_free(r);
	ECDSA_SIG_free(es);
	EVP_PKEY_free(pkey);
	ERR_clear_error();
	return ret;
}

void attest_cose_key_encode(const uint8_t pub[ATTEST_EC_POINT_SIZE], uint8_t out[ATTEST_COSE_KEY_SIZE])
{
	/*
	 * a4                 map(4)
	 *   01 02            kty (1): EC2 (2)
	 *   20 02            crv (-1): P-384 (2)
	 *   21 58 30 <48>    x (-2): bstr(48)
	 *   22 58 30 <48>    y (-3): bstr(48)
	 */
	static const uint8_t head[] = { 0xa4, 0x01, 0x02, 0x20, 0x02, 0x21, 0x58, ATTEST_EC_COORD_SIZE };
	static const uint8_t ymid[] = { 0x22, 0x58, ATTEST_EC_COORD_SIZE };
	uint8_t *p = out;

	_Static_assert(sizeof(head) + ATTEST_EC_COORD_SIZE + sizeof(ymid) + ATTEST_EC_COORD_SIZE ==
			       ATTEST_COSE_KEY_SIZE, "COSE_Key size");
	memcpy(p, head, sizeof(head));
	p += sizeof(head);
	memcpy(p, pub + 1, ATTEST_EC_COORD_SIZE);
	p += ATTEST_EC_COORD_SIZE;
	memcpy(p, ymid, sizeof(ymid));
	p += sizeof(ymid);
	memcpy(p, pub + 1 + ATTEST_EC_COORD_SIZE, ATTEST_EC_COORD_SIZE);
}

size_t attest_hash_by_name(const char *name, const void *data, size_t len,
			   uint8_t out[ATTEST_MAX_HASH_SIZE])
{
	const EVP_MD *md;
	unsigned int n = 0;

	if (!name)
		return 0;
	if (strcmp(name, "sha-256") == 0)
		md = EVP_sha256();
	else if (strcmp(name, "sha-384") == 0)
		md = EVP_sha384();
	else if (strcmp(name, "sha-512") == 0)
		md = EVP_sha512();
	else
		return 0;
	if (!EVP_Digest(data, len, out, &n, md, NULL))
		return 0;
	return n;
}

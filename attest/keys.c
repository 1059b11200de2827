/*
 * P-384 attestation keys and ES384 signatures (see attest/keys.h).
 *
 * Every mbedTLS object lives on the stack of one call: a struct attest_key is plain bytes, so
 * several threads may sign with the same key at once (mbedTLS caches precomputed tables inside an
 * ecp_group, which therefore must not be shared).
 */
#include <stdio.h>
#include <string.h>

#include <mbedtls/asn1.h>
#include <mbedtls/base64.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/hmac_drbg.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/platform_util.h>

#include "attest/keys.h"

#define KEY_DERIVE_DOMAIN "rmmemu-attest-key-v1"

static void set_err(char *err, size_t errlen, const char *msg, const char *path)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s%s", path ? path : "", path ? ": " : "", msg);
}

/*
 * A deterministic random source for the blinding mbedTLS applies inside scalar multiplications
 * and signatures. The blinding values never change a result, so a source seeded from the inputs
 * keeps the functions pure.
 */
static int blind_rng_init(mbedtls_hmac_drbg_context *drbg, const uint8_t *a, size_t alen,
			  const uint8_t *b, size_t blen)
{
	uint8_t seed[ATTEST_EC_COORD_SIZE + ATTEST_MAX_HASH_SIZE];
	int ret;

	mbedtls_hmac_drbg_init(drbg);
	if (alen + blen > sizeof(seed))
		return ATTEST_E_INVAL;
	memcpy(seed, a, alen);
	if (blen)
		memcpy(seed + alen, b, blen);
	ret = mbedtls_hmac_drbg_seed_buf(drbg, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), seed,
					 alen + blen);
	mbedtls_platform_zeroize(seed, sizeof(seed));
	return ret == 0 ? ATTEST_OK : ATTEST_E_CRYPTO;
}

/* pub = d * G on P-384, d given as 48 big-endian bytes. */
static int pub_from_priv(const uint8_t priv[ATTEST_EC_COORD_SIZE], uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi d;
	mbedtls_hmac_drbg_context drbg;
	size_t olen = 0;
	int ret = ATTEST_E_CRYPTO;

	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&d);
	if (blind_rng_init(&drbg, priv, ATTEST_EC_COORD_SIZE, NULL, 0) != ATTEST_OK)
		goto out;
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
	    mbedtls_mpi_read_binary(&d, priv, ATTEST_EC_COORD_SIZE) != 0 ||
	    mbedtls_ecp_check_privkey(&grp, &d) != 0 ||
	    mbedtls_ecp_mul(&grp, &q, &d, &grp.G, mbedtls_hmac_drbg_random, &drbg) != 0 ||
	    mbedtls_ecp_point_write_binary(&grp, &q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub,
					   ATTEST_EC_POINT_SIZE) != 0 ||
	    olen != ATTEST_EC_POINT_SIZE)
		goto out;
	ret = ATTEST_OK;
out:
	mbedtls_hmac_drbg_free(&drbg);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return ret;
}

int attest_key_derive(struct attest_key *k, const uint8_t seed[ATTEST_SEED_SIZE], const char *label)
{
	const mbedtls_md_info_t *md = mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
	uint8_t msg[sizeof(KEY_DERIVE_DOMAIN) + 32 + 2], t[64];
	size_t dlen = sizeof(KEY_DERIVE_DOMAIN); /* includes the 0x00 separator */
	size_t llen, mlen;
	mbedtls_ecp_group grp;
	mbedtls_mpi d;
	int ret = ATTEST_E_CRYPTO;

	if (!k || !seed || !label)
		return ATTEST_E_INVAL;
	llen = strlen(label);
	if (llen == 0 || llen > 32)
		return ATTEST_E_INVAL;
	memcpy(msg, KEY_DERIVE_DOMAIN, dlen);
	memcpy(msg + dlen, label, llen);
	msg[dlen + llen] = 0;
	mlen = dlen + llen + 2;

	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) != 0)
		goto out;
	for (unsigned ctr = 0; ctr < 256; ctr++) {
		msg[mlen - 1] = (uint8_t)ctr;
		if (mbedtls_md_hmac(md, seed, ATTEST_SEED_SIZE, msg, mlen, t) != 0 ||
		    mbedtls_mpi_read_binary(&d, t, ATTEST_EC_COORD_SIZE) != 0)
			goto out;
		if (mbedtls_mpi_cmp_int(&d, 1) >= 0 && mbedtls_mpi_cmp_mpi(&d, &grp.N) < 0) {
			memcpy(k->priv, t, ATTEST_EC_COORD_SIZE);
			ret = pub_from_priv(k->priv, k->pub);
			goto out;
		}
	}
out:
	mbedtls_platform_zeroize(t, sizeof(t));
	mbedtls_mpi_free(&d);
	mbedtls_ecp_group_free(&grp);
	if (ret != ATTEST_OK)
		attest_key_wipe(k);
	return ret;
}

void attest_key_wipe(struct attest_key *k)
{
	if (k)
		mbedtls_platform_zeroize(k->priv, sizeof(k->priv));
}

/* The P-384 key pair inside a parsed pk context, or NULL with a message. */
static mbedtls_ecp_keypair *pk_p384(mbedtls_pk_context *pk, const char **why)
{
	mbedtls_ecp_keypair *ec;

	if (mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECKEY && mbedtls_pk_get_type(pk) != MBEDTLS_PK_ECDSA) {
		*why = "not an elliptic-curve key";
		return NULL;
	}
	ec = mbedtls_pk_ec(*pk);
	if (ec->grp.id != MBEDTLS_ECP_DP_SECP384R1) {
		*why = "not a P-384 (secp384r1) key";
		return NULL;
	}
	return ec;
}

int attest_key_load_pem(struct attest_key *k, const char *path, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	mbedtls_ecp_keypair *ec;
	const char *why = NULL;
	uint8_t file_pub[ATTEST_EC_POINT_SIZE];
	size_t olen = 0;
	int ret = ATTEST_E_IO;

	if (!k || !path)
		return ATTEST_E_INVAL;
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_keyfile(&pk, path, NULL) != 0) {
		set_err(err, errlen, "cannot read a private key (PEM or DER) from this file", path);
		goto out;
	}
	ec = pk_p384(&pk, &why);
	if (!ec) {
		set_err(err, errlen, why, path);
		goto out;
	}
	if (mbedtls_mpi_write_binary(&ec->d, k->priv, ATTEST_EC_COORD_SIZE) != 0 ||
	    pub_from_priv(k->priv, k->pub) != ATTEST_OK) {
		set_err(err, errlen, "invalid P-384 private key", path);
		goto out;
	}
	/* A file that carries a public point must carry the matching one. */
	if (mbedtls_ecp_is_zero(&ec->Q) == 0) {
		if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
						   file_pub, sizeof(file_pub)) != 0 ||
		    olen != ATTEST_EC_POINT_SIZE || memcmp(file_pub, k->pub, olen) != 0) {
			set_err(err, errlen, "public key does not match the private key", path);
			goto out;
		}
	}
	ret = ATTEST_OK;
out:
	mbedtls_pk_free(&pk);
	if (ret != ATTEST_OK)
		attest_key_wipe(k);
	return ret;
}

int attest_pub_load_pem(uint8_t pub[ATTEST_EC_POINT_SIZE], const char *path, char *err, size_t errlen)
{
	mbedtls_pk_context pk;
	mbedtls_ecp_keypair *ec;
	struct attest_key k;
	const char *why = NULL;
	size_t olen = 0;
	int ret = ATTEST_E_IO;

	if (!pub || !path)
		return ATTEST_E_INVAL;
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_parse_public_keyfile(&pk, path) != 0) {
		/* Maybe a private key file: take its public half. */
		mbedtls_pk_free(&pk);
		ret = attest_key_load_pem(&k, path, err, errlen);
		if (ret == ATTEST_OK)
			memcpy(pub, k.pub, ATTEST_EC_POINT_SIZE);
		attest_key_wipe(&k);
		return ret;
	}
	ec = pk_p384(&pk, &why);
	if (!ec) {
		set_err(err, errlen, why, path);
		goto out;
	}
	if (mbedtls_ecp_point_write_binary(&ec->grp, &ec->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen, pub,
					   ATTEST_EC_POINT_SIZE) != 0 ||
	    olen != ATTEST_EC_POINT_SIZE || attest_pub_check(pub) != ATTEST_OK) {
		set_err(err, errlen, "invalid P-384 public key", path);
		goto out;
	}
	ret = ATTEST_OK;
out:
	mbedtls_pk_free(&pk);
	return ret;
}

int attest_key_write_pem(const struct attest_key *k, bool private_key, char *buf, size_t cap)
{
	mbedtls_pk_context pk;
	mbedtls_ecp_keypair *ec;
	int ret = ATTEST_E_CRYPTO, r;

	if (!k || !buf || cap == 0)
		return ATTEST_E_INVAL;
	mbedtls_pk_init(&pk);
	if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
		goto out;
	ec = mbedtls_pk_ec(pk);
	if (mbedtls_ecp_group_load(&ec->grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
	    mbedtls_ecp_point_read_binary(&ec->grp, &ec->Q, k->pub, ATTEST_EC_POINT_SIZE) != 0)
		goto out;
	if (private_key && mbedtls_mpi_read_binary(&ec->d, k->priv, ATTEST_EC_COORD_SIZE) != 0)
		goto out;
	r = private_key ? mbedtls_pk_write_key_pem(&pk, (unsigned char *)buf, cap)
			: mbedtls_pk_write_pubkey_pem(&pk, (unsigned char *)buf, cap);
	if (r == MBEDTLS_ERR_BASE64_BUFFER_TOO_SMALL || r == MBEDTLS_ERR_ASN1_BUF_TOO_SMALL) {
		ret = ATTEST_E_NOSPC;
		goto out;
	}
	if (r != 0)
		goto out;
	ret = ATTEST_OK;
out:
	mbedtls_pk_free(&pk);
	return ret;
}

int attest_es384_sign(const struct attest_key *k, const void *msg, size_t len,
		      uint8_t sig[ATTEST_ES384_SIG_SIZE])
{
	uint8_t h[48];
	mbedtls_ecp_group grp;
	mbedtls_mpi d, r, s;
	mbedtls_hmac_drbg_context drbg;
	int ret = ATTEST_E_CRYPTO;

	if (!k || (!msg && len) || !sig)
		return ATTEST_E_INVAL;
	if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), msg, len, h) != 0)
		return ATTEST_E_CRYPTO;
	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&d);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (blind_rng_init(&drbg, k->priv, sizeof(k->priv), h, sizeof(h)) != ATTEST_OK)
		goto out;
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
	    mbedtls_mpi_read_binary(&d, k->priv, ATTEST_EC_COORD_SIZE) != 0 ||
	    mbedtls_ecdsa_sign_det_ext(&grp, &r, &s, &d, h, sizeof(h), MBEDTLS_MD_SHA384,
				       mbedtls_hmac_drbg_random, &drbg) != 0 ||
	    mbedtls_mpi_write_binary(&r, sig, ATTEST_EC_COORD_SIZE) != 0 ||
	    mbedtls_mpi_write_binary(&s, sig + ATTEST_EC_COORD_SIZE, ATTEST_EC_COORD_SIZE) != 0)
		goto out;
	ret = ATTEST_OK;
out:
	mbedtls_hmac_drbg_free(&drbg);
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&r);
	mbedtls_mpi_free(&d);
	mbedtls_ecp_group_free(&grp);
	return ret;
}

int attest_es384_verify(const uint8_t pub[ATTEST_EC_POINT_SIZE], const void *msg, size_t len,
			const uint8_t sig[ATTEST_ES384_SIG_SIZE])
{
	uint8_t h[48];
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	mbedtls_mpi r, s;
	int ret = ATTEST_E_CRYPTO;

	if (!pub || (!msg && len) || !sig)
		return ATTEST_E_INVAL;
	if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA384), msg, len, h) != 0)
		return ATTEST_E_CRYPTO;
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	mbedtls_mpi_init(&r);
	mbedtls_mpi_init(&s);
	if (mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) != 0 ||
	    mbedtls_ecp_point_read_binary(&grp, &q, pub, ATTEST_EC_POINT_SIZE) != 0 ||
	    mbedtls_ecp_check_pubkey(&grp, &q) != 0 ||
	    mbedtls_mpi_read_binary(&r, sig, ATTEST_EC_COORD_SIZE) != 0 ||
	    mbedtls_mpi_read_binary(&s, sig + ATTEST_EC_COORD_SIZE, ATTEST_EC_COORD_SIZE) != 0 ||
	    mbedtls_ecdsa_verify(&grp, h, sizeof(h), &q, &r, &s) != 0)
		goto out;
	ret = ATTEST_OK;
out:
	mbedtls_mpi_free(&s);
	mbedtls_mpi_free(&r);
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
	return ret;
}

int attest_pub_check(const uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	mbedtls_ecp_group grp;
	mbedtls_ecp_point q;
	int ret = ATTEST_E_CRYPTO;

	if (!pub)
		return ATTEST_E_INVAL;
	mbedtls_ecp_group_init(&grp);
	mbedtls_ecp_point_init(&q);
	if (pub[0] == 0x04 && mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP384R1) == 0 &&
	    mbedtls_ecp_point_read_binary(&grp, &q, pub, ATTEST_EC_POINT_SIZE) == 0 &&
	    mbedtls_ecp_check_pubkey(&grp, &q) == 0)
		ret = ATTEST_OK;
	mbedtls_ecp_point_free(&q);
	mbedtls_ecp_group_free(&grp);
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
	mbedtls_md_type_t t;
	const mbedtls_md_info_t *md;

	if (!name)
		return 0;
	if (strcmp(name, "sha-256") == 0)
		t = MBEDTLS_MD_SHA256;
	else if (strcmp(name, "sha-384") == 0)
		t = MBEDTLS_MD_SHA384;
	else if (strcmp(name, "sha-512") == 0)
		t = MBEDTLS_MD_SHA512;
	else
		return 0;
	md = mbedtls_md_info_from_type(t);
	if (!md || mbedtls_md(md, data, len, out) != 0)
		return 0;
	return mbedtls_md_get_size(md);
}

/*
 * Realm Initial Measurement (RIM), RMM 1.0-rel0.
 *
 * REALM_CREATE sets RIM = H(measured RmiRealmParams). Every later measured event builds a
 * 256-byte measurement descriptor that embeds the current RIM and sets RIM = H(descriptor):
 * DATA_CREATE (RmmMeasurementDescriptorData), RTT_INIT_RIPAS (RmmMeasurementDescriptorRipas)
 * and REC_CREATE of a runnable REC (RmmMeasurementDescriptorRec). H is the realm's hash
 * algorithm; digests are stored zero-extended to 64 bytes. Multi-byte fields are little-endian.
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "attest/measurement.h"
#include "rmm/measure_hooks.h"
#include "rmmemu/rmi_defs.h"

/* Measurement descriptor: common header, then a type-specific body; zero-padded to 0x100. */
#define MEASURE_DESC_SIZE          0x100
#define MEASURE_DESC_TYPE          0x00 /* u8 */
#define MEASURE_DESC_LEN           0x08 /* u64, = MEASURE_DESC_SIZE */
#define MEASURE_DESC_RIM           0x10 /* current RIM, 64 bytes */

#define MEASURE_DESC_TYPE_DATA     0x0
#define MEASURE_DESC_DATA_IPA      0x50 /* u64 */
#define MEASURE_DESC_DATA_FLAGS    0x58 /* u64, RmiDataFlags */
#define MEASURE_DESC_DATA_CONTENT  0x60 /* H(granule) or zero, 64 bytes */

#define MEASURE_DESC_TYPE_REC      0x1
#define MEASURE_DESC_REC_CONTENT   0x50 /* H(measured RmiRecParams), 64 bytes */

#define MEASURE_DESC_TYPE_RIPAS    0x2
#define MEASURE_DESC_RIPAS_BASE    0x50 /* u64 */
#define MEASURE_DESC_RIPAS_TOP     0x58 /* u64 */

/* A field of a parameter granule that takes part in a measurement. */
struct measured_field {
	uint16_t offset;
	uint16_t size;
};

/* RmiRealmParams fields that initialise the RIM; everything else is measured as zero. */
static const struct measured_field realm_params_measured[] = {
	{ RMI_REALM_PARAMS_FLAGS, 8 },
	{ RMI_REALM_PARAMS_S2SZ, 1 },
	{ RMI_REALM_PARAMS_SVE_VL, 1 },
	{ RMI_REALM_PARAMS_NUM_BPS, 1 },
	{ RMI_REALM_PARAMS_NUM_WPS, 1 },
	{ RMI_REALM_PARAMS_PMU_NUM_CTRS, 1 },
	{ RMI_REALM_PARAMS_HASH_ALGO, 1 },
};

/* RmiRecParams fields in the REC descriptor's content hash; mpidr and aux are not measured. */
static const struct measured_field rec_params_measured[] = {
	{ RMI_REC_PARAMS_FLAGS, 8 },
	{ RMI_REC_PARAMS_PC, 8 },
	{ RMI_REC_PARAMS_GPRS, 8 * RMI_REC_CREATE_NR_GPRS },
};

/*
 * The two digests are fetched from OpenSSL's default provider once per process: an implicit fetch
 * (EVP_sha256()) looks the provider up again on every EVP_DigestInit, about 8% of a granule's
 * SHA-256. A fetched EVP_MD is immutable, so every thread may hash with it at once.
 *
 * Each thread hashes with its own EVP_MD_CTX per algorithm, kept for its next hash: EVP_Digest
 * would allocate and free a context and the provider's digest state on every call, twice per
 * measured granule. They are freed when the thread exits (md_ctx_key's destructor).
 */
static EVP_MD *md_sha256, *md_sha512;
static pthread_key_t md_ctx_key;
static bool md_ctx_key_ok;
static pthread_once_t md_once = PTHREAD_ONCE_INIT;

struct md_ctxs {
	EVP_MD_CTX *ctx[2];   /* by enum hash_algo */
};

static void md_ctxs_free(void *p)
{
	struct md_ctxs *c = p;

	for (unsigned i = 0; i < 2; i++)
		EVP_MD_CTX_free(c->ctx[i]);
	free(c);
}

static void md_init(void)
{
	md_sha256 = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	md_sha512 = EVP_MD_fetch(NULL, "SHA2-512", NULL);
	md_ctx_key_ok = pthread_key_create(&md_ctx_key, md_ctxs_free) == 0;
}

/*
 * This thread's context for algo, started for a new hash. Aborts when it cannot be had: REALM_CREATE
 * accepts only the two algorithms (anything else is an RMM bug), and an RMM that cannot hash
 * cannot measure.
 */
static EVP_MD_CTX *md_start(enum hash_algo algo)
{
	const EVP_MD *md = NULL;
	struct md_ctxs *c;

	if (pthread_once(&md_once, md_init) != 0 || !md_ctx_key_ok)
		abort();
	switch (algo) {
	case HASH_SHA_256:
		md = md_sha256;
		break;
	case HASH_SHA_512:
		md = md_sha512;
		break;
	}
	if (md == NULL)
		abort();
	c = pthread_getspecific(md_ctx_key);
	if (c == NULL) {
		c = calloc(1, sizeof(*c));
		if (c == NULL || pthread_setspecific(md_ctx_key, c) != 0)
			abort();
	}
	if (c->ctx[algo] == NULL)
		c->ctx[algo] = EVP_MD_CTX_new();
	if (c->ctx[algo] == NULL || !EVP_DigestInit_ex2(c->ctx[algo], md, NULL))
		abort();
	return c->ctx[algo];
}

size_t measurement_size(enum hash_algo algo)
{
	switch (algo) {
	case HASH_SHA_256:
		return 32;
	case HASH_SHA_512:
		return 64;
	}
	abort();
}

void measurement_hash(enum hash_algo algo, const void *data, size_t len,
		      uint8_t out[MAX_MEASUREMENT_SIZE])
{
	uint8_t digest[MAX_MEASUREMENT_SIZE] = { 0 };
	EVP_MD_CTX *ctx = md_start(algo);

	if (!EVP_DigestUpdate(ctx, data, len) || !EVP_DigestFinal_ex(ctx, digest, NULL))
		abort();
	memcpy(out, digest, MAX_MEASUREMENT_SIZE);
}

void measurement_extend(enum hash_algo algo, const uint8_t old[MAX_MEASUREMENT_SIZE],
			const void *data, size_t len, uint8_t out[MAX_MEASUREMENT_SIZE])
{
	uint8_t digest[MAX_MEASUREMENT_SIZE] = { 0 };
	EVP_MD_CTX *ctx = md_start(algo);

	if (!EVP_DigestUpdate(ctx, old, measurement_size(algo)) || !EVP_DigestUpdate(ctx, data, len) ||
	    !EVP_DigestFinal_ex(ctx, digest, NULL))
		abort();
	memcpy(out, digest, MAX_MEASUREMENT_SIZE);
}

static enum hash_algo rd_algo(const struct rd *rd)
{
	return (enum hash_algo)rd->algorithm;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Hash a parameter granule in which only the listed fields are kept (copied byte for byte). */
static void hash_measured_params(enum hash_algo algo, const uint8_t *granule,
				 const struct measured_field *fields, size_t nfields,
				 uint8_t out[MAX_MEASUREMENT_SIZE])
{
	uint8_t measured[GRANULE_SIZE] = { 0 };

	for (size_t i = 0; i < nfields; i++)
		memcpy(measured + fields[i].offset, granule + fields[i].offset, fields[i].size);
	measurement_hash(algo, measured, sizeof(measured), out);
}

/* Start a measurement descriptor: zero it, set type and length, embed the current RIM. */
static void desc_init(uint8_t desc[MEASURE_DESC_SIZE], uint8_t type, const struct rd *rd)
{
	memset(desc, 0, MEASURE_DESC_SIZE);
	desc[MEASURE_DESC_TYPE] = type;
	put_u64(desc + MEASURE_DESC_LEN, MEASURE_DESC_SIZE);
	memcpy(desc + MEASURE_DESC_RIM, rd->measurement[RIM_MEASUREMENT_SLOT],
	       measurement_size(rd_algo(rd)));
}

/* RIM := H(descriptor). */
static void rim_update(struct rd *rd, const uint8_t desc[MEASURE_DESC_SIZE])
{
	measurement_hash(rd_algo(rd), desc, MEASURE_DESC_SIZE,
			 rd->measurement[RIM_MEASUREMENT_SLOT]);
}

void measurement_realm_params_measure(struct rd *rd, const uint8_t *params_granule)
{
	hash_measured_params(rd_algo(rd), params_granule, realm_params_measured,
			     sizeof(realm_params_measured) / sizeof(realm_params_measured[0]),
			     rd->measurement[RIM_MEASUREMENT_SLOT]);
}

void measurement_data_granule_measure(struct rd *rd, const void *data, uint64_t ipa,
				      uint64_t flags)
{
	uint8_t desc[MEASURE_DESC_SIZE];

	desc_init(desc, MEASURE_DESC_TYPE_DATA, rd);
	put_u64(desc + MEASURE_DESC_DATA_IPA, ipa);
	put_u64(desc + MEASURE_DESC_DATA_FLAGS, flags);
	/* Unmeasured content leaves the content field zero; data is not read. */
	if (flags == RMI_MEASURE_CONTENT)
		measurement_hash(rd_algo(rd), data, GRANULE_SIZE,
				 desc + MEASURE_DESC_DATA_CONTENT);
	rim_update(rd, desc);
}

void measurement_init_ripas_measure(struct rd *rd, uint64_t base, uint64_t top)
{
	uint8_t desc[MEASURE_DESC_SIZE];

	desc_init(desc, MEASURE_DESC_TYPE_RIPAS, rd);
	put_u64(desc + MEASURE_DESC_RIPAS_BASE, base);
	put_u64(desc + MEASURE_DESC_RIPAS_TOP, top);
	rim_update(rd, desc);
}

void measurement_rec_params_measure(struct rd *rd, const uint8_t *params_granule)
{
	uint8_t desc[MEASURE_DESC_SIZE];

	desc_init(desc, MEASURE_DESC_TYPE_REC, rd);
	hash_measured_params(rd_algo(rd), params_granule, rec_params_measured,
			     sizeof(rec_params_measured) / sizeof(rec_params_measured[0]),
			     desc + MEASURE_DESC_REC_CONTENT);
	rim_update(rd, desc);
}

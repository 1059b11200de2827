/*
 * CCA attestation token (attest/token.c, attest/keys.c, host/token_tool.c).
 *
 * Tokens are built for SHA-256 and SHA-512 realms from fixed seeds, so every byte is reproducible.
 * Besides the C verifier (token_verify), every token is checked by tests/unit/verify_token.py,
 * an independent verifier written with python3-cbor2 and python3-cryptography only: it decodes
 * the token, derives the keys from the seed itself, checks both ES384 signatures, the binding,
 * every claim, and compares the JSON printed by token_show_json.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <openssl/ec.h>
#include <openssl/encoder.h>
#include <openssl/evp.h>

#include "attest/keys.h"
#include "attest/measurement.h"
#include "attest/token.h"
#include "host/token_tool.h"
#include "rmm/realm.h"

/*
 * Regression pins: SHA-256 of the whole token for seed A and the inputs below. Computed by this
 * implementation; the tokens they pin are checked independently by verify_token.py (signatures,
 * keys derived in Python, claims, binding). Any change of encoding, claims or keys moves them.
 */
static const char *const pin_sha256_token =
	"5d9a859d8f034f26e9857ad5f36864a47a0f3c175dcf2058bf7e2b284349e8e2";
static const char *const pin_sha512_token =
	"a20ca9d51f888c20daacc6b33926048a3f3d98576366e2960221444c9ba12b61";

static uint8_t seed_a[ATTEST_SEED_SIZE], seed_b[ATTEST_SEED_SIZE];
static uint8_t meas256[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE];
static uint8_t meas512[MEASUREMENT_SLOT_NR][MAX_MEASUREMENT_SIZE];
static uint8_t rpv[ATTEST_RPV_SIZE], challenge[ATTEST_REALM_CHALLENGE_SIZE];
static struct attest_platform *plat_a, *plat_b;
static char tmpdir[256];

/* ---- helpers ---- */

static void hex(const uint8_t *p, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
	out[2 * n] = 0;
}

static void sha256_hex(const uint8_t *p, size_t n, char out[65])
{
	uint8_t h[ATTEST_MAX_HASH_SIZE];

	CU_ASSERT_EQUAL_FATAL(attest_hash_by_name("sha-256", p, n, h), 32);
	hex(h, 32, out);
}

static const uint8_t (*meas_for(enum hash_algo algo))[MAX_MEASUREMENT_SIZE]
{
	return algo == HASH_SHA_256 ? meas256 : meas512;
}

/* Build a token; asserts success. */
static size_t make_token(const struct attest_platform *p, enum hash_algo algo, uint8_t *out, size_t cap)
{
	size_t len = 0;
	int ret = attest_cca_token(p, algo, meas_for(algo), rpv, challenge, sizeof(challenge), out, cap,
				   &len);

	CU_ASSERT_EQUAL_FATAL(ret, ATTEST_OK);
	CU_ASSERT_FATAL(len > 0 && len <= cap);
	return len;
}

static void write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(fwrite(p, 1, n, f), n);
	CU_ASSERT_EQUAL(fclose(f), 0);
}

static void tmp_path(char *out, size_t cap, const char *name)
{
	snprintf(out, cap, "%s/%s", tmpdir, name);
}

/* Append s to the command, single-quoted for the shell. */
static void append_quoted(char *cmd, size_t cap, const char *s)
{
	size_t n = strlen(cmd);

	if (n + 3 >= cap)
		return;
	cmd[n++] = ' ';
	cmd[n++] = '\'';
	for (; *s && n + 6 < cap; s++) {
		if (*s == '\'') {
			memcpy(cmd + n, "'\\''", 4);
			n += 4;
		} else {
			cmd[n++] = *s;
		}
	}
	cmd[n++] = '\'';
	cmd[n] = 0;
}

static const char *python(void)
{
	const char *env = getenv("RMMEMU_PYTHON");

	if (env && *env)
		return env;
	/* Debian's interpreter, where python3-cbor2 / python3-cryptography are installed. */
	if (access("/usr/bin/python3", X_OK) == 0)
		return "/usr/bin/python3";
	return "python3";
}

static void script_path(char *out, size_t cap)
{
	const char *src = getenv("RMMEMU_SRC");
	const char *slash;

	if (src && *src) {
		snprintf(out, cap, "%s/tests/unit/verify_token.py", src);
		return;
	}
	slash = strrchr(__FILE__, '/');
	if (slash)
		snprintf(out, cap, "%.*s/verify_token.py", (int)(slash - __FILE__), __FILE__);
	else
		snprintf(out, cap, "verify_token.py");
}

/*
 * Run verify_token.py TOKEN ARGS... (NULL-terminated); returns its exit status (-1: no exit).
 * With python_silent set, its output (expected failures) is discarded.
 */
static bool python_silent;

static int run_python(const char *token_path, ...)
{
	char cmd[4096] = "", script[1024];
	const char *arg;
	va_list ap;
	int st;

	script_path(script, sizeof(script));
	snprintf(cmd, sizeof(cmd), "%s", python());
	append_quoted(cmd, sizeof(cmd), script);
	append_quoted(cmd, sizeof(cmd), token_path);
	va_start(ap, token_path);
	while ((arg = va_arg(ap, const char *)) != NULL)
		append_quoted(cmd, sizeof(cmd), arg);
	va_end(ap);
	if (python_silent)
		strncat(cmd, " >/dev/null", sizeof(cmd) - strlen(cmd) - 1);
	fflush(stdout);
	st = system(cmd);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

/* ---- tests ---- */

static void test_reproducible(void)
{
	static uint8_t t1[ATTEST_CCA_TOKEN_MAX_SIZE], t2[ATTEST_CCA_TOKEN_MAX_SIZE];
	static const enum hash_algo algos[] = { HASH_SHA_256, HASH_SHA_512 };
	struct attest_platform *again = NULL;
	const uint8_t *pa, *pb;
	size_t la, lb, n1, n2;

	CU_ASSERT_EQUAL_FATAL(attest_platform_init_seed(&again, seed_a), ATTEST_OK);
	pa = attest_platform_token(plat_a, &la);
	pb = attest_platform_token(again, &lb);
	CU_ASSERT_FATAL(pa && pb && la == lb);
	CU_ASSERT(memcmp(pa, pb, la) == 0);
	CU_ASSERT(memcmp(attest_platform_pub(plat_a, ATTEST_KEY_RAK), attest_platform_pub(again, ATTEST_KEY_RAK),
			 ATTEST_EC_POINT_SIZE) == 0);

	for (unsigned i = 0; i < 2; i++) {
		n1 = make_token(plat_a, algos[i], t1, sizeof(t1));
		n2 = make_token(again, algos[i], t2, sizeof(t2));
		CU_ASSERT_EQUAL(n1, n2);
		CU_ASSERT(memcmp(t1, t2, n1) == 0);
		CU_ASSERT(n1 <= attest_cca_token_max_size());
		/* Another seed: other keys, other token. */
		n2 = make_token(plat_b, algos[i], t2, sizeof(t2));
		CU_ASSERT(n1 != n2 || memcmp(t1, t2, n1) != 0);
	}
	/* Different keys per seed and per role. */
	CU_ASSERT(memcmp(attest_platform_pub(plat_a, ATTEST_KEY_RAK), attest_platform_pub(plat_b, ATTEST_KEY_RAK),
			 ATTEST_EC_POINT_SIZE) != 0);
	CU_ASSERT(memcmp(attest_platform_pub(plat_a, ATTEST_KEY_RAK), attest_platform_pub(plat_a, ATTEST_KEY_CPAK),
			 ATTEST_EC_POINT_SIZE) != 0);
	attest_platform_free(again);
}

static void test_pins(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	char h[65];
	size_t n;

	n = make_token(plat_a, HASH_SHA_256, tok, sizeof(tok));
	sha256_hex(tok, n, h);
	printf("\n    SHA-256 realm: token %zu bytes, sha256 %s ", n, h);
	CU_ASSERT_STRING_EQUAL(h, pin_sha256_token);
	n = make_token(plat_a, HASH_SHA_512, tok, sizeof(tok));
	sha256_hex(tok, n, h);
	printf("\n    SHA-512 realm: token %zu bytes, sha256 %s ", n, h);
	CU_ASSERT_STRING_EQUAL(h, pin_sha512_token);
}

static void test_layout(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	const uint8_t *pt;
	uint8_t cose_key[ATTEST_COSE_KEY_SIZE], h[ATTEST_MAX_HASH_SIZE];
	size_t n, pl;

	n = make_token(plat_a, HASH_SHA_256, tok, sizeof(tok));
	/* #6.399({44234: bstr, ...}): d9 01 8f a2 19 ac ca 59 <len> then the platform token. */
	CU_ASSERT(n > 8 && tok[0] == 0xd9 && tok[1] == 0x01 && tok[2] == 0x8f && tok[3] == 0xa2);
	CU_ASSERT(tok[4] == 0x19 && tok[5] == 0xac && tok[6] == 0xca);
	pt = attest_platform_token(plat_a, &pl);
	CU_ASSERT(tok[7] == 0x59 && ((size_t)tok[8] << 8 | tok[9]) == pl);
	CU_ASSERT(memcmp(tok + 10, pt, pl) == 0);
	/* COSE_Sign1_Tagged with the ES384 protected header and an empty unprotected header. */
	CU_ASSERT(memcmp(pt, "\xd2\x84\x44\xa1\x01\x38\x22\xa0", 8) == 0);
	/* Then 19 ac d1 59 <len> and the realm token, same header. */
	CU_ASSERT(tok[10 + pl] == 0x19 && tok[11 + pl] == 0xac && tok[12 + pl] == 0xd1);
	CU_ASSERT(memcmp(tok + 16 + pl, "\xd2\x84\x44\xa1\x01\x38\x22\xa0", 8) == 0);
	CU_ASSERT_EQUAL(16 + pl + ((size_t)tok[14 + pl] << 8 | tok[15 + pl]), n);

	/* The platform challenge (a 32-byte bstr 58 20 after "0a") is SHA-256 of the RAK COSE_Key. */
	attest_cose_key_encode(attest_platform_pub(plat_a, ATTEST_KEY_RAK), cose_key);
	CU_ASSERT(cose_key[0] == 0xa4 && cose_key[1] == 0x01 && cose_key[2] == 0x02);
	CU_ASSERT(attest_hash_by_name("sha-256", cose_key, sizeof(cose_key), h) == 32);
	CU_ASSERT_PTR_NOT_NULL(memmem(pt, pl, "\x0a\x58\x20", 3));
	CU_ASSERT_PTR_NOT_NULL(memmem(pt, pl, h, 32));
	/* The realm token carries that COSE_Key as its public key claim (19 ac cd 58 6b). */
	CU_ASSERT_PTR_NOT_NULL(memmem(tok, n, "\x19\xac\xcd\x58\x6b", 5));
	CU_ASSERT_PTR_NOT_NULL(memmem(tok, n, cose_key, sizeof(cose_key)));
}

static void test_verify_c(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	struct attest_platform *def = NULL;
	char err[256];
	FILE *devnull = fopen("/dev/null", "w");
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	n = make_token(plat_a, HASH_SHA_256, tok, sizeof(tok));
	CU_ASSERT_EQUAL(token_verify_with_cpak(tok, n, attest_platform_pub(plat_a, ATTEST_KEY_CPAK), devnull,
					       err, sizeof(err)), 0);
	/* token_verify() trusts the default seed's CPAK only. */
	CU_ASSERT_NOT_EQUAL(token_verify(tok, n, devnull, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "platform token: ES384 signature"));
	/* The CPAK of seed B does not verify seed A's platform token. */
	CU_ASSERT_NOT_EQUAL(token_verify_with_cpak(tok, n, attest_platform_pub(plat_b, ATTEST_KEY_CPAK), NULL,
						   err, sizeof(err)), 0);

	n = make_token(plat_a, HASH_SHA_512, tok, sizeof(tok));
	CU_ASSERT_EQUAL(token_verify_with_cpak(tok, n, attest_platform_pub(plat_a, ATTEST_KEY_CPAK), NULL, err,
					       sizeof(err)), 0);

	CU_ASSERT_EQUAL_FATAL(attest_platform_init_seed(&def, attest_default_seed), ATTEST_OK);
	n = make_token(def, HASH_SHA_512, tok, sizeof(tok));
	CU_ASSERT_EQUAL(token_verify(tok, n, NULL, err, sizeof(err)), 0);
	attest_platform_free(def);
	fclose(devnull);
}

static void test_api_errors(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	static const size_t bad_sizes[] = { 0, 1, 32, 48, 63, 65, 128 };
	struct attest_platform *p = (struct attest_platform *)0x1;
	char err[256] = "", path[512];
	size_t len = 12345, need;

	for (unsigned i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, bad_sizes[i],
						 tok, sizeof(tok), &len), ATTEST_E_INVAL);
		CU_ASSERT_EQUAL(attest_realm_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, bad_sizes[i],
						   tok, sizeof(tok), &len), ATTEST_E_INVAL);
	}
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, (enum hash_algo)2, meas256, rpv, challenge, 64, tok,
					 sizeof(tok), &len), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_cca_token(NULL, HASH_SHA_256, meas256, rpv, challenge, 64, tok, sizeof(tok),
					 &len), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, NULL, rpv, challenge, 64, tok, sizeof(tok),
					 &len), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, NULL, challenge, 64, tok, sizeof(tok),
					 &len), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, NULL, 64, tok, sizeof(tok),
					 &len), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, 64, tok, sizeof(tok),
					 NULL), ATTEST_E_INVAL);

	/* Too small: ATTEST_E_NOSPC with the size needed; a size query with no buffer. */
	need = make_token(plat_a, HASH_SHA_256, tok, sizeof(tok));
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, 64, tok, need - 1,
					 &len), ATTEST_E_NOSPC);
	CU_ASSERT_EQUAL(len, need);
	len = 0;
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, 64, NULL, 0, &len),
			ATTEST_E_NOSPC);
	CU_ASSERT_EQUAL(len, need);
	CU_ASSERT_EQUAL(attest_cca_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, 64, tok, need, &len),
			ATTEST_OK);

	CU_ASSERT_EQUAL(attest_platform_init_seed(NULL, seed_a), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_platform_init_seed(&p, NULL), ATTEST_E_INVAL);
	tmp_path(path, sizeof(path), "does-not-exist.pem");
	p = (struct attest_platform *)0x1;
	CU_ASSERT_EQUAL(attest_platform_init_pem(&p, path, path, err, sizeof(err)), ATTEST_E_IO);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT(strstr(err, "does-not-exist.pem") != NULL);
	CU_ASSERT_STRING_EQUAL(attest_strerror(ATTEST_E_INVAL), "invalid argument");
	attest_platform_free(NULL);
}

/* A P-256 private key PEM (SEC1, "EC PRIVATE KEY"), to be refused. */
static void write_p256_pem(const char *path)
{
	EVP_PKEY *pkey = EVP_EC_gen("P-256");
	OSSL_ENCODER_CTX *ectx;
	unsigned char *pem = NULL;
	size_t len = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(pkey);
	ectx = OSSL_ENCODER_CTX_new_for_pkey(pkey, EVP_PKEY_KEYPAIR, "PEM", "type-specific", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ectx);
	CU_ASSERT_FATAL(OSSL_ENCODER_to_data(ectx, &pem, &len));
	write_file(path, pem, len);
	OPENSSL_free(pem);
	OSSL_ENCODER_CTX_free(ectx);
	EVP_PKEY_free(pkey);
}

static void test_pem(void)
{
	static uint8_t t1[ATTEST_CCA_TOKEN_MAX_SIZE], t2[ATTEST_CCA_TOKEN_MAX_SIZE];
	char rak[512], cpak[512], cpak_pub[512], p256[512], pem[1024], err[256] = "";
	uint8_t pub[ATTEST_EC_POINT_SIZE];
	struct attest_platform *p = NULL;
	size_t n1, n2;

	tmp_path(rak, sizeof(rak), "rak.pem");
	tmp_path(cpak, sizeof(cpak), "cpak.pem");
	tmp_path(cpak_pub, sizeof(cpak_pub), "cpak_pub.pem");
	tmp_path(p256, sizeof(p256), "p256.pem");
	CU_ASSERT_EQUAL_FATAL(attest_platform_key_pem(plat_a, ATTEST_KEY_RAK, true, pem, sizeof(pem)), ATTEST_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(pem, "BEGIN EC PRIVATE KEY"));
	write_file(rak, pem, strlen(pem));
	CU_ASSERT_EQUAL_FATAL(attest_platform_key_pem(plat_a, ATTEST_KEY_CPAK, true, pem, sizeof(pem)), ATTEST_OK);
	write_file(cpak, pem, strlen(pem));
	CU_ASSERT_EQUAL_FATAL(attest_platform_key_pem(plat_a, ATTEST_KEY_CPAK, false, pem, sizeof(pem)), ATTEST_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(pem, "BEGIN PUBLIC KEY"));
	write_file(cpak_pub, pem, strlen(pem));
	CU_ASSERT_EQUAL(attest_platform_key_pem(plat_a, ATTEST_KEY_CPAK, true, pem, 16), ATTEST_E_NOSPC);

	/* Keys loaded from PEM give the same tokens as the seed they came from. */
	CU_ASSERT_EQUAL_FATAL(attest_platform_init_pem(&p, rak, cpak, err, sizeof(err)), ATTEST_OK);
	n1 = make_token(plat_a, HASH_SHA_512, t1, sizeof(t1));
	n2 = make_token(p, HASH_SHA_512, t2, sizeof(t2));
	CU_ASSERT(n1 == n2 && memcmp(t1, t2, n1) == 0);
	attest_platform_free(p);
	p = NULL;

	/* The CPAK public key from its PEM (public or private) verifies the token. */
	CU_ASSERT_EQUAL(token_cpak_from_pem(cpak_pub, pub, err, sizeof(err)), 0);
	CU_ASSERT(memcmp(pub, attest_platform_pub(plat_a, ATTEST_KEY_CPAK), sizeof(pub)) == 0);
	CU_ASSERT_EQUAL(token_cpak_from_pem(cpak, pub, err, sizeof(err)), 0);
	CU_ASSERT(memcmp(pub, attest_platform_pub(plat_a, ATTEST_KEY_CPAK), sizeof(pub)) == 0);
	CU_ASSERT_EQUAL(token_verify_with_cpak(t1, n1, pub, NULL, err, sizeof(err)), 0);

	/* Refused: a P-256 key, a public key where a private one is needed. */
	write_p256_pem(p256);
	CU_ASSERT_NOT_EQUAL(attest_platform_init_pem(&p, p256, cpak, err, sizeof(err)), ATTEST_OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "P-384"));
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_NOT_EQUAL(attest_platform_init_pem(&p, rak, cpak_pub, err, sizeof(err)), ATTEST_OK);
	CU_ASSERT_PTR_NULL(p);
	CU_ASSERT_NOT_EQUAL(token_cpak_from_pem(p256, pub, err, sizeof(err)), 0);

	/* The public PEM also drives the Python verifier. */
	tmp_path(p256, sizeof(p256), "t512.cbor");
	write_file(p256, t1, n1);
	CU_ASSERT_EQUAL(run_python(p256, "--cpak-pem", cpak_pub, "--quiet", NULL), 0);
	unlink(rak);
	unlink(cpak);
	unlink(cpak_pub);
	unlink(p256);
	tmp_path(p256, sizeof(p256), "p256.pem");
	unlink(p256);
}

/* Collection of two COSE tokens of < 64 KiB, encoded by hand. */
static size_t collection(uint8_t *out, const uint8_t *pt, size_t pl, const uint8_t *rt, size_t rl)
{
	size_t n = 0;

	memcpy(out, "\xd9\x01\x8f\xa2\x19\xac\xca\x59", 8);
	n = 8;
	out[n++] = (uint8_t)(pl >> 8);
	out[n++] = (uint8_t)pl;
	memcpy(out + n, pt, pl);
	n += pl;
	memcpy(out + n, "\x19\xac\xd1\x59", 4);
	n += 4;
	out[n++] = (uint8_t)(rl >> 8);
	out[n++] = (uint8_t)rl;
	memcpy(out + n, rt, rl);
	return n + rl;
}

static void test_tamper(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE], bad[ATTEST_CCA_TOKEN_MAX_SIZE];
	static uint8_t realm[ATTEST_CCA_TOKEN_MAX_SIZE];
	const uint8_t *cpak = attest_platform_pub(plat_a, ATTEST_KEY_CPAK);
	const uint8_t *pt;
	char err[256], path[512];
	FILE *devnull = fopen("/dev/null", "w");
	size_t n, pl, rl;
	unsigned flips = 0, rejected = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	n = make_token(plat_a, HASH_SHA_256, tok, sizeof(tok));

	/* One bit flipped anywhere: rejected (and the JSON printer copes). */
	for (size_t i = 0; i < n; i += (i < 64 || i + 128 > n) ? 1 : 5) {
		memcpy(bad, tok, n);
		bad[i] ^= (uint8_t)(1u << (i % 8));
		flips++;
		if (token_verify_with_cpak(bad, n, cpak, NULL, err, sizeof(err)) != 0)
			rejected++;
		else
			printf("\n    accepted with byte %zu flipped ", i);
		token_show_json(devnull, bad, n, err, sizeof(err));
	}
	CU_ASSERT_EQUAL(rejected, flips);

	/* Truncated, or with a trailing byte: rejected. */
	for (size_t l = 0; l < n; l += (l < 32 || l + 32 > n) ? 1 : 37)
		CU_ASSERT_NOT_EQUAL(token_verify_with_cpak(tok, l, cpak, NULL, err, sizeof(err)), 0);
	memcpy(bad, tok, n);
	bad[n] = 0;
	CU_ASSERT_NOT_EQUAL(token_verify_with_cpak(bad, n + 1, cpak, NULL, err, sizeof(err)), 0);
	CU_ASSERT_NOT_EQUAL(token_show_json(devnull, bad, n + 1, err, sizeof(err)), 0);

	/* Seed A's realm token with seed B's platform token: platform signature fine, binding broken. */
	CU_ASSERT_EQUAL_FATAL(attest_realm_token(plat_a, HASH_SHA_256, meas256, rpv, challenge, 64, realm,
						 sizeof(realm), &rl), ATTEST_OK);
	pt = attest_platform_token(plat_b, &pl);
	n = collection(bad, pt, pl, realm, rl);
	CU_ASSERT_NOT_EQUAL(token_verify_with_cpak(bad, n, attest_platform_pub(plat_b, ATTEST_KEY_CPAK), NULL,
						   err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "binding"));
	/* The same pair, correctly matched, passes (the hand-made collection is the real one). */
	pt = attest_platform_token(plat_a, &pl);
	n = collection(bad, pt, pl, realm, rl);
	CU_ASSERT_EQUAL(n, make_token(plat_a, HASH_SHA_256, tok, sizeof(tok)));
	CU_ASSERT(memcmp(bad, tok, n) == 0);

	/* The independent verifier rejects a flipped signature bit and a foreign platform token. */
	memcpy(bad, tok, n);
	bad[n - 1] ^= 0x01;
	tmp_path(path, sizeof(path), "tampered.cbor");
	write_file(path, bad, n);
	python_silent = true;
	CU_ASSERT_EQUAL(run_python(path, "--seed", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
				   "--quiet", NULL), 1);
	pt = attest_platform_token(plat_b, &pl);
	n = collection(bad, pt, pl, realm, rl);
	write_file(path, bad, n);
	CU_ASSERT_EQUAL(run_python(path, "--seed", "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
				   "--quiet", NULL), 1);
	python_silent = false;
	unlink(path);
	fclose(devnull);
}

static void test_json(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	char *buf = NULL, err[256], rim[2 * 64 + 1];
	size_t size = 0, n;
	FILE *f;

	n = make_token(plat_a, HASH_SHA_512, tok, sizeof(tok));
	f = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(token_show_json(f, tok, n, err, sizeof(err)), 0);
	fclose(f);
	hex(meas512[0], 64, rim);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-realm-initial-measurement\": \""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, rim));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-realm-hash-algo-id\": \"sha-512\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-realm-profile\": \"tag:arm.com,2023:realm#1.0.0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-platform-profile\": \"tag:arm.com,2023:cca_platform#1.0.0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-platform-sw-components\": ["));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"component-type\": \"RMM\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-realm-public-key-cose-key\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"alg\": -35"));
	free(buf);
	CU_ASSERT_NOT_EQUAL(token_show_json(stdout, (const uint8_t *)"\xa0", 1, err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "tag 399"));
}

/* Each token, its JSON, and the Python verifier with every expected value. */
static void python_check(enum hash_algo algo, const char *name)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	char tpath[512], jpath[512], seed[65], ch[129], rv[129], rim[129], rems[4][129], err[256];
	size_t n, ms = measurement_size(algo);
	const uint8_t (*m)[MAX_MEASUREMENT_SIZE] = meas_for(algo);
	FILE *f;

	n = make_token(plat_a, algo, tok, sizeof(tok));
	snprintf(tpath, sizeof(tpath), "%s/%s.cbor", tmpdir, name);
	snprintf(jpath, sizeof(jpath), "%s/%s.json", tmpdir, name);
	write_file(tpath, tok, n);
	f = fopen(jpath, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(token_show_json(f, tok, n, err, sizeof(err)), 0);
	fclose(f);
	hex(seed_a, sizeof(seed_a), seed);
	hex(challenge, sizeof(challenge), ch);
	hex(rpv, sizeof(rpv), rv);
	hex(m[0], ms, rim);
	for (unsigned i = 0; i < 4; i++)
		hex(m[1 + i], ms, rems[i]);
	CU_ASSERT_EQUAL(run_python(tpath, "--seed", seed, "--expect-challenge", ch, "--expect-rpv", rv,
				   "--expect-hash-algo", algo == HASH_SHA_256 ? "sha-256" : "sha-512",
				   "--expect-rim", rim, "--expect-rem", rems[0], "--expect-rem", rems[1],
				   "--expect-rem", rems[2], "--expect-rem", rems[3], "--json", jpath, "--quiet",
				   NULL), 0);
	unlink(tpath);
	unlink(jpath);
}

static void test_python_sha256(void)
{
	python_check(HASH_SHA_256, "sha256");
}

static void test_python_sha512(void)
{
	python_check(HASH_SHA_512, "sha512");
}

struct thread_arg {
	enum hash_algo algo;
	uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	size_t len;
	int ret;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 8; i++)
		a->ret |= attest_cca_token(plat_a, a->algo, meas_for(a->algo), rpv, challenge, 64, a->tok,
					   sizeof(a->tok), &a->len);
	return NULL;
}

/* One platform shared by several threads: same tokens as serially. */
static void test_threads(void)
{
	static struct thread_arg args[4];
	static uint8_t ref[2][ATTEST_CCA_TOKEN_MAX_SIZE];
	size_t ref_len[2];
	pthread_t th[4];

	ref_len[0] = make_token(plat_a, HASH_SHA_256, ref[0], sizeof(ref[0]));
	ref_len[1] = make_token(plat_a, HASH_SHA_512, ref[1], sizeof(ref[1]));
	for (unsigned i = 0; i < 4; i++) {
		args[i].algo = i % 2 ? HASH_SHA_512 : HASH_SHA_256;
		args[i].ret = 0;
		CU_ASSERT_EQUAL_FATAL(pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (unsigned i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		CU_ASSERT_EQUAL(args[i].ret, 0);
		CU_ASSERT_EQUAL(args[i].len, ref_len[i % 2]);
		CU_ASSERT(memcmp(args[i].tok, ref[i % 2], ref_len[i % 2]) == 0);
	}
}

/* Configured platform claims replace the simulated ones; the token stays valid for both verifiers. */
static void test_claims(void)
{
	static uint8_t tok[ATTEST_CCA_TOKEN_MAX_SIZE];
	struct attest_platform *p = NULL;
	struct rmmemu_platform_claims cl;
	char *buf = NULL, err[256], path[512], seed[65], impl[65], meas[65];
	size_t size = 0, n;
	FILE *f;

	memset(&cl, 0, sizeof(cl));
	cl.implementation_id_set = true;
	for (unsigned i = 0; i < 32; i++)
		cl.implementation_id[i] = (uint8_t)(0xc0 + i);
	cl.lifecycle_set = true;
	cl.lifecycle = 0x3003;
	snprintf(cl.verification_service, sizeof(cl.verification_service), "https://veraison.example/");
	cl.num_sw = 2;
	snprintf(cl.sw[0].type, sizeof(cl.sw[0].type), "BL2");
	snprintf(cl.sw[0].version, sizeof(cl.sw[0].version), "2.9.0");
	memset(cl.sw[0].measurement, 0x5a, 32);
	snprintf(cl.sw[1].type, sizeof(cl.sw[1].type), "RMM");
	snprintf(cl.sw[1].version, sizeof(cl.sw[1].version), "1.0-rel0");
	memset(cl.sw[1].measurement, 0xa5, 32);

	CU_ASSERT_EQUAL_FATAL(attest_platform_init_seed(&p, seed_a), ATTEST_OK);
	CU_ASSERT_EQUAL_FATAL(attest_platform_set_claims(p, &cl), ATTEST_OK);
	n = make_token(p, HASH_SHA_256, tok, sizeof(tok));
	CU_ASSERT_EQUAL(token_verify_with_cpak(tok, n, attest_platform_pub(p, ATTEST_KEY_CPAK), NULL, err,
					       sizeof(err)), 0);
	f = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(token_show_json(f, tok, n, err, sizeof(err)), 0);
	fclose(f);
	hex(cl.implementation_id, 32, impl);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, impl));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-platform-lifecycle\": 12291"));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"cca-platform-verification-service\": \"https://veraison.example/\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"component-type\": \"BL2\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "\"version\": \"1.0-rel0\""));
	hex(cl.sw[1].measurement, 32, meas);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, meas));
	/* Only the configured components: the built-in list is gone. */
	CU_ASSERT_PTR_NULL(strstr(buf, "AP_BL31"));
	free(buf);

	snprintf(path, sizeof(path), "%s/claims.cbor", tmpdir);
	write_file(path, tok, n);
	hex(seed_a, sizeof(seed_a), seed);
	CU_ASSERT_EQUAL(run_python(path, "--seed", seed, "--quiet", NULL), 0);
	unlink(path);

	/* Too many components is refused; NULL restores the built-in claims. */
	cl.num_sw = RMMEMU_MAX_SW_COMPONENTS + 1;
	CU_ASSERT_EQUAL(attest_platform_set_claims(p, &cl), ATTEST_E_INVAL);
	CU_ASSERT_EQUAL(attest_platform_set_claims(p, NULL), ATTEST_OK);
	n = make_token(p, HASH_SHA_256, tok, sizeof(tok));
	buf = NULL;
	f = open_memstream(&buf, &size);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(token_show_json(f, tok, n, err, sizeof(err)), 0);
	fclose(f);
	CU_ASSERT_PTR_NULL(strstr(buf, "\"BL2\""));
	CU_ASSERT_PTR_NULL(strstr(buf, impl));
	free(buf);
	attest_platform_free(p);
}

/* ---- setup ---- */

static int suite_init(void)
{
	const char *base = getenv("TMPDIR");
	uint8_t zero[MAX_MEASUREMENT_SIZE] = { 0 };
	char msg[32];

	for (unsigned i = 0; i < ATTEST_SEED_SIZE; i++) {
		seed_a[i] = (uint8_t)i;
		seed_b[i] = (uint8_t)(0xa5 ^ i);
	}
	for (unsigned i = 0; i < ATTEST_RPV_SIZE; i++) {
		rpv[i] = (uint8_t)(3 * i + 1);
		challenge[i] = (uint8_t)(0x40 + i);
	}
	/* A RIM and REMs as a realm would have them: hashes and extensions with its algorithm. */
	measurement_hash(HASH_SHA_256, "rmmemu test RIM", 15, meas256[0]);
	measurement_hash(HASH_SHA_512, "rmmemu test RIM", 15, meas512[0]);
	for (unsigned i = 1; i < MEASUREMENT_SLOT_NR; i++) {
		snprintf(msg, sizeof(msg), "REM %u", i);
		measurement_extend(HASH_SHA_256, zero, msg, strlen(msg), meas256[i]);
		measurement_extend(HASH_SHA_512, zero, msg, strlen(msg), meas512[i]);
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/rmmemu_token_XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpdir))
		return 1;
	if (attest_platform_init_seed(&plat_a, seed_a) != ATTEST_OK ||
	    attest_platform_init_seed(&plat_b, seed_b) != ATTEST_OK)
		return 1;
	return 0;
}

static int suite_clean(void)
{
	attest_platform_free(plat_a);
	attest_platform_free(plat_b);
	rmdir(tmpdir);
	return 0;
}

static const struct th_test tests[] = {
	{ "reproducible tokens, per-seed keys", test_reproducible },
	{ "regression pins (SHA-256, SHA-512 realms)", test_pins },
	{ "layout: tag 399, COSE headers, binding bytes", test_layout },
	{ "C verifier accepts, checks the CPAK", test_verify_c },
	{ "API argument errors", test_api_errors },
	{ "PEM keys", test_pem },
	{ "tampered tokens rejected", test_tamper },
	{ "JSON", test_json },
	{ "Python verifier, SHA-256 realm", test_python_sha256 },
	{ "Python verifier, SHA-512 realm", test_python_sha512 },
	{ "threads share a platform", test_threads },
	{ "configured platform claims", test_claims },
};

int main(void)
{
	return TH_RUN("token", suite_init, suite_clean, tests);
}

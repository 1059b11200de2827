/*
 * The CBOR decoder of token show / token verify (host/token_tool.c): work linear in the input,
 * and malformed input refused with the usual reasons.
 *
 * Issue 11, finding 2: finding each array or map element rescanned the ones before it, and the
 * duplicate-claim check compared every key with every later one, so a 1 MiB token with one large
 * array took more than 30 minutes and a 16 KiB token with a 4,000-pair map several minutes. The
 * tokens here are generated in the test. Nothing is timed: the decoder counts its steps (CBOR
 * heads read, key comparisons; token_tool_internal.h) and the tests bound them by a multiple of
 * the input size. Each large case runs in a child process with a CPU-time limit far above what
 * linear decoding needs, so a regression fails the test instead of hanging it.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "helpers/th.h"

#include "attest/token.h"
#include "host/token_tool.h"
#include "host/token_tool_internal.h"

/*
 * Steps allowed per input byte. A walk reads each head at most once per enclosing container
 * (nesting <= 16) and verification looks up ~30 claims, each one walk of the claims map; the
 * cases below need at most ~40 steps per byte for show and verify together. The old decoder
 * needed ~10^5 per byte on them.
 */
#define STEPS_PER_BYTE 64
/* CPU seconds a child may use: linear decoding of these tokens takes well under one. */
#define CHILD_CPU_LIMIT 20

/* ---- a small CBOR writer ---- */

struct buf {
	uint8_t *p;
	size_t n, cap;
};

static void put(struct buf *b, const void *p, size_t n)
{
	if (b->n + n > b->cap) {
		b->cap = (b->n + n) * 2;
		b->p = realloc(b->p, b->cap);
		CU_ASSERT_PTR_NOT_NULL_FATAL(b->p);
	}
	memcpy(b->p + b->n, p, n);
	b->n += n;
}

static void put_byte(struct buf *b, uint8_t v)
{
	put(b, &v, 1);
}

/* A head in preferred serialization. */
static void put_head(struct buf *b, unsigned major, uint64_t val)
{
	unsigned n = val < 24 ? 0 : val <= 0xff ? 1 : val <= 0xffff ? 2 : val <= 0xffffffffULL ? 4 : 8;

	put_byte(b, (uint8_t)(major << 5 | (n == 0 ? val : n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27)));
	for (unsigned i = 0; i < n; i++)
		put_byte(b, (uint8_t)(val >> (8 * (n - 1 - i))));
}

static void put_bstr(struct buf *b, const void *p, size_t n)
{
	put_head(b, 2, n);
	put(b, p, n);
}

static void put_tstr(struct buf *b, const char *s)
{
	put_head(b, 3, strlen(s));
	put(b, s, strlen(s));
}

/* A COSE_Sign1_Tagged around a payload: protected {1: -35}, no unprotected header, a zero signature. */
static void put_cose(struct buf *b, const struct buf *payload)
{
	static const uint8_t sig[96];

	put(b, "\xd2\x84\x44\xa1\x01\x38\x22\xa0", 8);
	put_bstr(b, payload->p, payload->n);
	put_bstr(b, sig, sizeof(sig));
}

/* A tag 399 collection of two COSE_Sign1 with these claims maps (already encoded). */
static struct buf make_token(const struct buf *plat_claims, const struct buf *realm_claims)
{
	struct buf plat = { 0 }, realm = { 0 }, tok = { 0 };

	put_cose(&plat, plat_claims);
	put_cose(&realm, realm_claims);
	put(&tok, "\xd9\x01\x8f\xa2", 4);
	put_head(&tok, 0, CCA_PLATFORM_TOKEN_LABEL);
	put_bstr(&tok, plat.p, plat.n);
	put_head(&tok, 0, CCA_REALM_DELEGATED_TOKEN_LABEL);
	put_bstr(&tok, realm.p, realm.n);
	free(plat.p);
	free(realm.p);
	return tok;
}

/* A small realm claims map: challenge and profile. */
static struct buf small_realm_claims(void)
{
	static const uint8_t ch[64];
	struct buf b = { 0 };

	put_head(&b, 5, 2);
	put_head(&b, 0, CCA_REALM_CHALLENGE);
	put_bstr(&b, ch, sizeof(ch));
	put_head(&b, 0, CCA_REALM_PROFILE);
	put_tstr(&b, CCA_REALM_PROFILE_STR);
	return b;
}

/* ---- running the decoder ---- */

struct run {
	int show, verify;          /* return values */
	uint64_t steps;            /* steps of both */
	char show_err[256], verify_err[256];
	char *report;              /* verify's report (malloc'ed) */
	size_t report_len;
};

static void run_both(const uint8_t *tok, size_t n, struct run *r)
{
	FILE *devnull = fopen("/dev/null", "w"), *rep;
	uint64_t before = token_decode_steps();

	CU_ASSERT_PTR_NOT_NULL_FATAL(devnull);
	memset(r, 0, sizeof(*r));
	r->show = token_show_json(devnull, tok, n, r->show_err, sizeof(r->show_err));
	rep = open_memstream(&r->report, &r->report_len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rep);
	r->verify = token_verify(tok, n, rep, r->verify_err, sizeof(r->verify_err));
	fclose(rep);
	fclose(devnull);
	r->steps = token_decode_steps() - before;
}

/*
 * show and verify of tok in a child under a CPU-time limit; returns the steps they took, or
 * UINT64_MAX if the child did not finish (killed at the limit, or crashed).
 */
static uint64_t steps_in_child(const uint8_t *tok, size_t n)
{
	int fd[2], status;
	uint64_t steps = UINT64_MAX;
	pid_t pid;

	CU_ASSERT_EQUAL_FATAL(pipe(fd), 0);
	fflush(NULL);
	pid = fork();
	CU_ASSERT_FATAL(pid >= 0);
	if (pid == 0) {
		struct rlimit rl = { CHILD_CPU_LIMIT, CHILD_CPU_LIMIT + 1 };
		struct run r;

		close(fd[0]);
		setrlimit(RLIMIT_CPU, &rl);
		run_both(tok, n, &r);
		free(r.report);
		_exit(write(fd[1], &r.steps, sizeof(r.steps)) == sizeof(r.steps) ? 0 : 1);
	}
	close(fd[1]);
	if (read(fd[0], &steps, sizeof(steps)) != sizeof(steps))
		steps = UINT64_MAX;
	close(fd[0]);
	CU_ASSERT_EQUAL(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("\n    child %s %d ", WIFSIGNALED(status) ? "killed by signal" : "exited with",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		steps = UINT64_MAX;
	}
	return steps;
}

/* Bounded work for tok; false if the child did not finish (then the caller skips decoding it here). */
static bool check_linear(const char *what, const struct buf *tok)
{
	uint64_t steps = steps_in_child(tok->p, tok->n);

	if (steps == UINT64_MAX) {
		printf("\n    %s: %zu bytes, not decoded within %d s of CPU time ", what, tok->n, CHILD_CPU_LIMIT);
		CU_FAIL("decoding did not finish");
		return false;
	}
	printf("\n    %s: %zu bytes, %llu steps (%.1f per byte) ", what, tok->n, (unsigned long long)steps,
	       (double)steps / (double)tok->n);
	CU_ASSERT(steps <= (uint64_t)STEPS_PER_BYTE * tok->n);
	return true;
}

/* Occurrences of s in text. */
static size_t count(const char *text, const char *s)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, s)) != NULL; p += strlen(s))
		n++;
	return n;
}

/* ---- linear work ---- */

/* One unknown platform claim holding an array of ~1 M one-byte integers: a 1 MiB token. */
static void test_large_array(void)
{
	const size_t items = 1024 * 1024 - 512;
	struct buf claims = { 0 }, realm = small_realm_claims(), tok;
	struct run r;

	put_head(&claims, 5, 2);
	put_head(&claims, 0, CCA_PLATFORM_PROFILE);
	put_tstr(&claims, CCA_PLATFORM_PROFILE_STR);
	put_head(&claims, 0, 9999);
	put_head(&claims, 4, items);
	for (size_t i = 0; i < items; i++)
		put_byte(&claims, (uint8_t)(i % 24));
	tok = make_token(&claims, &realm);
	CU_ASSERT(tok.n >= 1024 * 1024 - 512 && tok.n <= 1024 * 1024);
	if (!check_linear("1 MiB array", &tok))
		goto out;

	/* Decoded and checked as before: shown, and refused for the missing claims, not the array. */
	run_both(tok.p, tok.n, &r);
	CU_ASSERT_EQUAL(r.show, 0);
	CU_ASSERT_EQUAL(r.verify, 1);
	CU_ASSERT_STRING_EQUAL(r.verify_err, "cca-realm-personalization-value (44235): missing");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.report, "note  platform: unknown claim 9999 ignored\n"));
	free(r.report);
out:
	free(claims.p);
	free(realm.p);
	free(tok.p);
}

/* A platform claims map of 4,096 distinct unknown keys (a 16 KiB token). */
static void test_large_map(void)
{
	const unsigned pairs = 4096;
	struct buf claims = { 0 }, realm = small_realm_claims(), tok;
	struct run r;

	put_head(&claims, 5, pairs);
	for (unsigned i = 0; i < pairs; i++) {
		put_head(&claims, 0, 3000 + i);
		put_byte(&claims, 0);
	}
	tok = make_token(&claims, &realm);
	CU_ASSERT(tok.n <= 16 * 1024 + 512);
	if (!check_linear("4,096-pair map", &tok))
		goto out;

	run_both(tok.p, tok.n, &r);
	CU_ASSERT_EQUAL(r.show, 0);
	CU_ASSERT_EQUAL(r.verify, 1);
	CU_ASSERT_EQUAL(count(r.report, "note  platform: unknown claim"), pairs);
	CU_ASSERT_PTR_NULL(strstr(r.report, "appears"));
	free(r.report);
out:
	free(claims.p);
	free(realm.p);
	free(tok.p);
}

/* The same map with one key 4,096 times: reported once, without comparing every pair. */
static void test_large_map_one_key(void)
{
	const unsigned pairs = 4096;
	struct buf realm = { 0 }, plat = small_realm_claims(), tok;
	struct run r;

	put_head(&realm, 5, pairs);
	for (unsigned i = 0; i < pairs; i++) {
		put_head(&realm, 0, CCA_REALM_CHALLENGE);
		put_byte(&realm, 0);
	}
	tok = make_token(&plat, &realm);
	if (!check_linear("4,096 pairs of one key", &tok))
		goto out;

	run_both(tok.p, tok.n, &r);
	CU_ASSERT_EQUAL(r.show, 0);
	CU_ASSERT_EQUAL(r.verify, 1);
	CU_ASSERT_STRING_EQUAL(r.verify_err, "realm: claim 10 appears 4096 times");
	CU_ASSERT_PTR_NOT_NULL(strstr(r.report, "FAIL  realm: claim 10 appears 4096 times\n"));
	CU_ASSERT_PTR_NULL(strstr(r.report, "appears twice"));
	free(r.report);
out:
	free(realm.p);
	free(plat.p);
	free(tok.p);
}

/* ---- duplicate keys ---- */

/* Realm claims {10: h'', 265: "x", 10: h'', 7: 0, 7: 1, 7: 2}: both repeats reported, in map order. */
static void test_duplicate_keys(void)
{
	struct buf realm = { 0 }, plat = small_realm_claims(), tok;
	struct run r;
	const char *a, *b;

	put_head(&realm, 5, 6);
	put(&realm, "\x0a\x40", 2);
	put_head(&realm, 0, CCA_REALM_PROFILE);
	put_tstr(&realm, "x");
	put(&realm, "\x0a\x40\x07\x00\x07\x01\x07\x02", 8);
	tok = make_token(&plat, &realm);
	run_both(tok.p, tok.n, &r);
	CU_ASSERT_EQUAL(r.show, 0);
	CU_ASSERT_EQUAL(r.verify, 1);
	CU_ASSERT_STRING_EQUAL(r.verify_err, "realm: claim 10 appears twice");
	a = strstr(r.report, "FAIL  realm: claim 10 appears twice\n");
	b = strstr(r.report, "FAIL  realm: claim 7 appears 3 times\nnote  realm: unknown claim 7 ignored\n");
	CU_ASSERT(a && b && a < b);
	CU_ASSERT_EQUAL(count(r.report, "claim 10 appears"), 1);
	CU_ASSERT_EQUAL(count(r.report, "claim 7 appears"), 1);
	free(r.report);
	free(realm.p);
	free(plat.p);
	free(tok.p);
}

/* ---- malformed input ---- */

static const char not_wf[] = "token is not well-formed CBOR (or uses indefinite lengths, or has trailing bytes)";

static void expect_refused(const uint8_t *p, size_t n, const char *err)
{
	struct run r;

	run_both(p, n, &r);
	CU_ASSERT_NOT_EQUAL(r.show, 0);
	CU_ASSERT_EQUAL(r.verify, 1);
	CU_ASSERT_STRING_EQUAL(r.show_err, err);
	CU_ASSERT_STRING_EQUAL(r.verify_err, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.report, "result: FAIL\n"));
	/* Refusing is linear too (a little more for tiny inputs: the verifier's fixed lookups). */
	CU_ASSERT(r.steps <= (uint64_t)STEPS_PER_BYTE * (n + 16));
	free(r.report);
}

/* Every proper prefix of a token is refused as not well-formed. */
static void test_truncated(void)
{
	struct buf plat = small_realm_claims(), realm = small_realm_claims(), tok = make_token(&plat, &realm);
	struct run r;

	run_both(tok.p, tok.n, &r);
	CU_ASSERT_EQUAL(r.show, 0);
	free(r.report);
	for (size_t n = 0; n < tok.n; n++)
		expect_refused(tok.p, n, not_wf);
	put_byte(&tok, 0);
	expect_refused(tok.p, tok.n, not_wf);           /* a trailing byte */
	free(plat.p);
	free(realm.p);
	free(tok.p);
}

/* Lengths and counts beyond the input, indefinite lengths, reserved and invalid heads. */
static void test_bad_heads(void)
{
	static const struct {
		const char *what;
		const char *cbor;
		size_t len;
	} cases[] = {
		{ "bstr longer than the input", "\xd9\x01\x8f\x5a\xff\xff\xff\xff\x00", 9 },
		{ "bstr length 2^64 - 1", "\xd9\x01\x8f\x5b\xff\xff\xff\xff\xff\xff\xff\xff\x00", 13 },
		{ "array count beyond the input", "\xd9\x01\x8f\x9a\x00\x01\x00\x00\x00\x00", 10 },
		{ "map count 2^63", "\xd9\x01\x8f\xbb\x80\x00\x00\x00\x00\x00\x00\x00\x00\x00", 14 },
		{ "map count of more pairs than bytes / 2", "\xd9\x01\x8f\xa2\x00\x00\x00", 7 },
		{ "head argument cut", "\xd9\x01\x8f\x19\x01", 5 },
		{ "indefinite-length array", "\xd9\x01\x8f\x9f\x00\xff", 6 },
		{ "indefinite-length map", "\xd9\x01\x8f\xbf\xff", 5 },
		{ "indefinite-length bstr", "\xd9\x01\x8f\x5f\x40\xff", 6 },
		{ "break outside a container", "\xd9\x01\x8f\xff", 4 },
		{ "reserved additional info 28", "\xd9\x01\x8f\x1c", 4 },
		{ "reserved additional info 30", "\xd9\x01\x8f\xde", 4 },
		{ "one-byte simple value below 32", "\xd9\x01\x8f\xf8\x10", 5 },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		printf("\n    %s ", cases[i].what);
		expect_refused((const uint8_t *)cases[i].cbor, cases[i].len, not_wf);
	}
}

/* Nesting deeper than 16 is refused, in the token and inside a COSE payload, without recursing further. */
static void test_deep_nesting(void)
{
	struct buf deep = { 0 }, plat, realm = small_realm_claims(), tok;
	struct run r;

	/* 100,000 nested arrays: refused at the 17th level. */
	put(&deep, "\xd9\x01\x8f", 3);
	for (unsigned i = 0; i < 100000; i++)
		put_byte(&deep, 0x81);
	put_byte(&deep, 0);
	expect_refused(deep.p, deep.n, not_wf);

	/*
	 * In a claims map: 16 levels below the map (15 arrays and the integer in the last) pass, one
	 * more is refused.
	 */
	for (unsigned extra = 0; extra < 2; extra++) {
		plat = (struct buf){ 0 };
		put_head(&plat, 5, 1);
		put_head(&plat, 0, 9999);
		for (unsigned i = 0; i < 15 + extra; i++)
			put_byte(&plat, 0x81);
		put_byte(&plat, 0);
		tok = make_token(&plat, &realm);
		run_both(tok.p, tok.n, &r);
		if (extra) {
			CU_ASSERT_NOT_EQUAL(r.show, 0);
			CU_ASSERT_STRING_EQUAL(r.show_err, "platform token: payload is not well-formed CBOR");
			CU_ASSERT_STRING_EQUAL(r.verify_err, "platform token: payload is not well-formed CBOR");
		} else {
			CU_ASSERT_EQUAL(r.show, 0);
			CU_ASSERT_EQUAL(r.verify, 1);
			CU_ASSERT_PTR_NULL(strstr(r.verify_err, "well-formed"));
		}
		free(r.report);
		free(plat.p);
		free(tok.p);
	}
	free(deep.p);
	free(realm.p);
}

static const struct th_test tests[] = {
	{ "1 MiB array: linear steps", test_large_array },
	{ "4,096-pair map: linear steps", test_large_map },
	{ "4,096 pairs of one key: reported once", test_large_map_one_key },
	{ "duplicate claim keys", test_duplicate_keys },
	{ "truncated tokens", test_truncated },
	{ "bad lengths, indefinite lengths, reserved heads", test_bad_heads },
	{ "nesting depth bounded", test_deep_nesting },
};

int main(void)
{
	return TH_RUN("token_decode", NULL, NULL, tests);
}

/*
 * Fuzz target: CCA attestation token decoding and verification (host/token_tool.c, the
 * `rmmemu token show|verify` commands and the console's `token`).
 *
 * The input is a token file. token_show_json decodes it to JSON, token_verify checks it with the
 * default seed's CPAK, and token_verify_with_cpak with a CPAK point taken from the input's last
 * bytes when there are enough of them. Invariants: a failure always comes with a reason, and the
 * decoder's work stays linear in the input (the bound tests/unit/test_token_decode.c asserts).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/token_tool.h"
#include "host/token_tool_internal.h"
#include "fuzz_util.h"

/* Decoding steps allowed per input byte (and a constant for tiny inputs), per call. */
#define STEPS_PER_BYTE 64
#define STEPS_BASE     256

static void check_steps(uint64_t before, size_t size, const char *what)
{
	uint64_t steps = token_decode_steps() - before;
	if (steps > STEPS_BASE + (uint64_t)STEPS_PER_BYTE * size)
		fuzz_fail("%s took %llu decoding steps for %zu bytes (not linear)", what, (unsigned long long)steps, size);
}

static void check_err(int rc, const char *err, const char *what)
{
	if (rc && !err[0])
		fuzz_fail("%s failed without a reason", what);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The CLI reads at most 1 MiB; libFuzzer's inputs are far smaller anyway. */
	if (size > (1U << 20))
		return -1;
	/* A private copy, so a read past the input is a heap overflow ASan sees. */
	uint8_t *tok = malloc(size ? size : 1);
	if (!tok)
		fuzz_fail("out of memory");
	memcpy(tok, data, size);
	char err[512];
	uint64_t before;
	int rc;

	err[0] = '\0';
	before = token_decode_steps();
	rc = token_show_json(fuzz_out(), tok, size, err, sizeof(err));
	check_steps(before, size, "token_show_json");
	check_err(rc, err, "token_show_json");

	err[0] = '\0';
	before = token_decode_steps();
	int vrc = token_verify(tok, size, fuzz_out(), err, sizeof(err));
	check_steps(before, size, "token_verify");
	check_err(vrc, err, "token_verify");
	/* What does not decode cannot verify. */
	if (rc && !vrc)
		fuzz_fail("token_verify accepted a token token_show_json could not decode");

	if (size >= ATTEST_EC_POINT_SIZE) {
		err[0] = '\0';
		before = token_decode_steps();
		rc = token_verify_with_cpak(tok, size - ATTEST_EC_POINT_SIZE, tok + size - ATTEST_EC_POINT_SIZE,
					    fuzz_out(), err, sizeof(err));
		check_steps(before, size, "token_verify_with_cpak");
		check_err(rc, err, "token_verify_with_cpak");
	}
	free(tok);
	return 0;
}

/*
 * Test hook of host/token_tool.c: how much work its CBOR decoder did.
 *
 * Every CBOR head read and every key comparison of the duplicate-claim check counts one step.
 * Decoding is linear in the input (issue 11, finding 2), so tests/unit/test_token_decode.c can
 * assert steps <= c * input size instead of timing anything.
 */
#ifndef HOST_TOKEN_TOOL_INTERNAL_H
#define HOST_TOKEN_TOOL_INTERNAL_H

#include <stdint.h>

/* Steps counted so far by the calling thread (the counter is thread-local and never reset). */
uint64_t token_decode_steps(void);

#endif

/*
 * Helpers shared by the libFuzzer targets (tests/fuzz/fuzz_*.c, docs/fuzzing.md).
 *
 * Library output goes to /dev/null so libFuzzer's own report stays readable; set RMMEMU_FUZZ_VERBOSE=1
 * to see it on stderr when reproducing one input. A broken invariant is reported on stderr and
 * aborts, which libFuzzer records as a crash with the input that caused it.
 */
#ifndef TESTS_FUZZ_FUZZ_UTIL_H
#define TESTS_FUZZ_FUZZ_UTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rmmemu/rmmemu.h"

/* Where the code under test prints: /dev/null, or stderr with RMMEMU_FUZZ_VERBOSE=1. */
static inline FILE *fuzz_out(void)
{
	static FILE *out;
	if (!out) {
		const char *v = getenv("RMMEMU_FUZZ_VERBOSE");
		out = v && *v && strcmp(v, "0") ? stderr : fopen("/dev/null", "w");
		if (!out)
			out = stderr;
	}
	return out;
}

static inline void __attribute__((noreturn, format(printf, 1, 2))) fuzz_fail(const char *fmt, ...)
{
	va_list ap;
	fputs("rmmemu fuzz: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}

/* The RMM's global invariants (rmmemu_check_invariants) must hold whatever the input did. */
static inline void fuzz_check_invariants(struct rmmemu *emu, const char *when)
{
	char msg[256];
	if (rmmemu_check_invariants(emu, msg, sizeof(msg)))
		fuzz_fail("invariant violated %s: %s", when, msg);
}

/*
 * The default platform with 512 MiB of DRAM at 0x80000000 instead of 2 GiB: the addresses the
 * console scripts and scenarios use (0x80000000..0x9fffffff) stay DRAM, and the invariant check,
 * which looks at every granule, costs a quarter as much per input.
 */
static inline void fuzz_small_platform(struct rmmemu_platform_config *pc)
{
	rmmemu_platform_default(pc);
	pc->num_dram = 1;
	pc->dram[0].base = 0x80000000ULL;
	pc->dram[0].size = 512ULL << 20;
}

/* A NUL-terminated copy of the input (the parsers take C strings); NULL if the input holds a NUL
 * byte and `reject_nul` is set. Free with free(). */
static inline char *fuzz_strdup(const unsigned char *data, size_t size, int reject_nul)
{
	if (reject_nul && memchr(data, 0, size))
		return NULL;
	char *s = malloc(size + 1);
	if (!s)
		fuzz_fail("out of memory");
	memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

#endif

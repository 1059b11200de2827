/*
 * Fuzz target: RMI console lines (host/console.c, docs/console.md).
 *
 * The input is a console script: one command per line, run against a fresh instance (the default
 * platform with 512 MiB of DRAM at 0x80000000: fuzz_small_platform), echoing on, not stopping at
 * errors, file writes refused. After the last line the RMM's global invariants must hold.
 * Lines are also fed to console_exec_line one by one, the way the scenario runner does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/console.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Bounded work per input: at most 64 KiB of script (a line can delegate 65536 granules). */
	if (size > 65536)
		return -1;
	struct rmmemu_platform_config pc;
	char err[256];
	fuzz_small_platform(&pc);
	struct rmmemu *emu = rmmemu_create(&pc, err, sizeof(err));
	if (!emu)
		fuzz_fail("rmmemu_create: %s", err);
	const struct console_opts opts = { .echo_input = true, .no_file_writes = true };
	struct console *c = console_new(emu, fuzz_out(), &opts);
	if (!c)
		fuzz_fail("console_new failed");

	/* The first byte chooses how lines arrive: as a stream (console_run_string, which stops at a
	 * NUL and splits overlong lines) or one console_exec_line call per line. */
	if (size && (data[0] & 1)) {
		char *text = fuzz_strdup(data + 1, size - 1, 0);
		console_run_string(c, text, "fuzz");
		free(text);
	} else if (size) {
		char *text = fuzz_strdup(data + 1, size - 1, 0);
		size_t len = size - 1;
		unsigned lineno = 0;
		for (size_t pos = 0; pos < len && !console_done(c);) {
			char *nl = memchr(text + pos, '\n', len - pos);
			size_t end = nl ? (size_t)(nl - text) + 1 : len;
			char saved = text[end < len ? end : len];
			text[end < len ? end : len] = '\0';
			char where[32];
			snprintf(where, sizeof(where), "fuzz:%u", ++lineno);
			console_exec_line(c, text + pos, where);
			text[end < len ? end : len] = saved;
			pos = end;
		}
		free(text);
	}
	uint64_t fid;
	struct rmmemu_smc_result res;
	(void)console_last_result(c, &fid, &res);
	fuzz_check_invariants(emu, "after the console script");
	console_free(c);
	rmmemu_destroy(emu);
	return 0;
}

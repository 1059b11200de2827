/*
 * Fuzz target: RMI scenario files (host/scenario.c, docs/scenarios.md).
 *
 * The input is a scenario (YAML). It is parsed and run against a fresh instance, as
 * `rmmemu scenario FILE` does, with console steps unable to write files and 512 MiB of DRAM
 * unless the file sets its own (fuzz_small_platform). Whatever the steps did,
 * the RMM's global invariants must hold afterwards; a scenario that fails its expectations is
 * fine (that is a result, not a bug).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/scenario.h"
#include "fuzz_util.h"

static void after_run(struct rmmemu *emu, void *arg)
{
	fuzz_check_invariants(emu, "after the scenario's last step");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Keep each input well below a second: a scenario can ask for 65536 delegations per step. */
	if (size > 16384)
		return -1;
	static struct rmmemu_platform_config pc;
	if (!pc.num_dram)
		fuzz_small_platform(&pc);
	const struct scenario_opts opts = { .no_file_writes = true, .platform = &pc, .after_run = after_run };
	int rc = scenario_run_text("fuzz.yaml", data, size, fuzz_out(), &opts);
	if (rc < -1 || rc > 1)
		fuzz_fail("scenario_run_text returned %d", rc);
	return 0;
}

/* RMI scenario files (docs/scenarios.md). */
#ifndef HOST_SCENARIO_H
#define HOST_SCENARIO_H

#include <stdbool.h>
#include <stdio.h>

/* Run one scenario file, reporting to `out`. 0 = passed, 1 = a step failed, -1 = the file is
 * unreadable or malformed (reason printed with file:line). */
int scenario_run_file(const char *path, FILE *out, bool verbose);

struct rmmemu;
struct rmmemu_platform_config;

/* Options of scenario_run_text (tests and fuzzing, tests/fuzz/fuzz_scenario.c). */
struct scenario_opts {
	bool verbose;
	bool no_file_writes;    /* console steps may not write files (`token ... FILE` is refused) */
	/* The platform before the file's `platform:` key (NULL: rmmemu_platform_default's). */
	const struct rmmemu_platform_config *platform;
	/* If set, called with the scenario's instance after the last step, before it is destroyed. */
	void (*after_run)(struct rmmemu *emu, void *arg);
	void *arg;
};

/* The same for a scenario in memory (len bytes, need not be NUL-terminated); `name` is used in
 * messages as the file name is. Same return values. */
int scenario_run_text(const char *name, const void *text, size_t len, FILE *out, const struct scenario_opts *opts);

#endif

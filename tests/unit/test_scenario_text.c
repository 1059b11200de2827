/*
 * scenario_run_text (host/scenario.h): a scenario from memory with options, as the fuzz target
 * tests/fuzz/fuzz_scenario.c runs it: the platform it starts from, the hook that sees the instance
 * after the last step, and console steps that may not write files.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <CUnit/Basic.h>

#include "helpers/th.h"

#include "host/scenario.h"

struct seen {
	int calls;
	struct rmmemu_granule_info g;
	int info_rc;
	char invariants[256];
	int inv_rc;
};

static void after_run(struct rmmemu *emu, void *arg)
{
	struct seen *s = arg;
	s->calls++;
	/* 64 MiB of DRAM at 0x80000000: the first named granule is at the middle, 0x82000000. */
	s->info_rc = rmmemu_granule_info(emu, 0x82000000ULL, &s->g);
	s->inv_rc = rmmemu_check_invariants(emu, s->invariants, sizeof(s->invariants));
}

/* Run `text`; the report goes to a memory buffer (*report, to be freed). */
static int run(const char *text, const struct scenario_opts *opts, char **report)
{
	size_t len;
	FILE *out = open_memstream(report, &len);
	CU_ASSERT_FATAL(out != NULL);
	int rc = scenario_run_text("mem.yaml", text, strlen(text), out, opts);
	fclose(out);
	return rc;
}

static void test_platform_and_hook(void)
{
	static const char text[] =
		"scenario: delegate one named granule\n"
		"granules: [g]\n"
		"steps:\n"
		"  - call: GRANULE_DELEGATE\n"
		"    args: [g]\n"
		"    expect: SUCCESS\n";
	struct rmmemu_platform_config pc;
	rmmemu_platform_default(&pc);
	pc.num_dram = 1;
	pc.dram[0].base = 0x80000000ULL;
	pc.dram[0].size = 64ULL << 20;
	struct seen seen = { 0 };
	const struct scenario_opts opts = { .platform = &pc, .after_run = after_run, .arg = &seen };
	char *report = NULL;
	CU_ASSERT_EQUAL(run(text, &opts, &report), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "PASS mem.yaml: delegate one named granule (1 steps)"));
	CU_ASSERT_EQUAL(seen.calls, 1);
	CU_ASSERT_EQUAL(seen.info_rc, 0);
	CU_ASSERT_EQUAL(seen.g.state, RMMEMU_GRANULE_DELEGATED);   /* still delegated: before teardown */
	CU_ASSERT_EQUAL(seen.inv_rc, 0);
	free(report);
}

static void test_no_file_writes(void)
{
	char path[] = "/tmp/rmmemu-scenario-text-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	close(fd);
	unlink(path);
	char text[512];
	snprintf(text, sizeof(text),
		 "scenario: a token line that would save a file\n"
		 "steps:\n"
		 "  - console: \"token 0x80000000 0x1000 16 %s\"\n", path);
	const struct scenario_opts opts = { .no_file_writes = true };
	char *report = NULL;
	CU_ASSERT_EQUAL(run(text, &opts, &report), 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "writing files is disabled"));
	CU_ASSERT_NOT_EQUAL(access(path, F_OK), 0);
	free(report);
}

static void test_malformed(void)
{
	struct seen seen = { 0 };
	const struct scenario_opts opts = { .after_run = after_run, .arg = &seen };
	char *report = NULL;
	/* Not YAML: no instance, no hook. */
	CU_ASSERT_EQUAL(run("steps: [\n", &opts, &report), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "mem.yaml:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "YAML error"));
	CU_ASSERT_EQUAL(seen.calls, 0);
	free(report);
	/* YAML but not a scenario; and the empty document. */
	report = NULL;
	CU_ASSERT_EQUAL(run("scenario: no steps\n", &opts, &report), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(report, "'steps' (a list) are required"));
	free(report);
	report = NULL;
	CU_ASSERT_EQUAL(run("", NULL, &report), -1);
	free(report);
}

static const struct th_test tests[] = {
	{ "platform and after_run hook", test_platform_and_hook },
	{ "no_file_writes refuses token ... FILE", test_no_file_writes },
	{ "malformed text", test_malformed },
};

int main(void)
{
	return TH_RUN("scenario_text", NULL, NULL, tests);
}

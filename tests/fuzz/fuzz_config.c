/*
 * Fuzz target: YAML realm configurations (host/realm_config.c, docs/config.md).
 *
 * The input is a configuration text. It is parsed and validated with realm_config_parse_string
 * (which also creates the configured platform once, as `rmmemu run` does). A configuration that is
 * accepted and small (RAM up to 32 MiB, up to 4 vCPUs, platform DRAM up to 4 GiB) is then built
 * the way `rmmemu measure` does, with a tiny built-in kernel instead of the named files, and torn
 * down: every granule must be back in the normal world and the RMM's invariants must hold.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "host/realm_config.h"
#include "fuzz_util.h"

/* Paths the configuration may name (PEM keys) are opened while parsing: keep the fuzzer away from
 * device and kernel files, which may block or never end (/dev/stdin, /dev/zero). */
static int names_special_file(const char *text)
{
	return strstr(text, "/dev") || strstr(text, "/proc") || strstr(text, "/sys") || strstr(text, "/run");
}

static void build_and_destroy(struct realm_config *cfg)
{
	/* A raw binary kernel: one instruction (b .) padded to a granule's first bytes. */
	static const uint8_t kernel[16] = { 0x00, 0x00, 0x00, 0x14 };
	char err[512];

	cfg->kernel_data = kernel;
	cfg->kernel_size = sizeof(kernel);
	cfg->initrd[0] = '\0';
	cfg->dtb[0] = '\0';
	/* The default platform's 2 GiB of DRAM (the host takes its granules from the first range)
	 * shrunk to 64 MiB: the invariant check and the census visit every granule. */
	struct rmmemu_platform_config def;
	rmmemu_platform_default(&def);
	if (cfg->platform.num_dram == 1 && cfg->platform.dram[0].base == def.dram[0].base &&
	    cfg->platform.dram[0].size == def.dram[0].size)
		cfg->platform.dram[0].size = 64ULL << 20;
	struct rmmemu *emu = rmmemu_create(&cfg->platform, err, sizeof(err));
	if (!emu)
		fuzz_fail("the platform was accepted by the parser, then refused: %s", err);
	struct realm_build b;
	if (realm_build(emu, cfg, &b, err, sizeof(err)) == 0) {
		fprintf(fuzz_out(), "built: RAM [0x%llx, +0x%llx), entry 0x%llx\n", (unsigned long long)cfg->ram_base,
			(unsigned long long)cfg->ram_size, (unsigned long long)b.entry);
		fuzz_check_invariants(emu, "after building the realm");
		if (rmmemu_vm_destroy(b.vm))
			fuzz_fail("rmmemu_vm_destroy failed");
	} else {
		fprintf(fuzz_out(), "realm_build: %s\n", err);
	}
	fuzz_check_invariants(emu, "after tearing the realm down");
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
		if (s != RMMEMU_GRANULE_UNDELEGATED && counts[s])
			fuzz_fail("after teardown %llu granules are still %s",
				  (unsigned long long)counts[s], rmmemu_granule_state_name((enum rmmemu_granule_state)s));
	rmmemu_destroy(emu);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size, 1);
	if (!text)
		return 0;
	if (names_special_file(text)) {
		free(text);
		return -1;   /* not added to the corpus */
	}
	struct realm_config *cfg = malloc(sizeof(*cfg));
	char err[512];
	if (!cfg)
		fuzz_fail("out of memory");
	if (realm_config_parse_string(text, "fuzz.yaml", cfg, err, sizeof(err)) == 0) {
		uint64_t dram = 0;
		for (unsigned i = 0; i < cfg->platform.num_dram; i++)
			dram += cfg->platform.dram[i].size;
		/* The invariant check visits every DRAM granule: skip platforms of more than 4 GiB. */
		if (cfg->ram_size <= (32ULL << 20) && cfg->vcpus <= 4 && dram <= (4ULL << 30))
			build_and_destroy(cfg);
	} else if (strncmp(err, "fuzz.yaml:", 10)) {
		fuzz_fail("a configuration error without file:line: '%s'", err);
	} else {
		fprintf(fuzz_out(), "%s\n", err);
	}
	free(cfg);
	free(text);
	return 0;
}

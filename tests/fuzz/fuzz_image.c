/*
 * Fuzz target: kernel image, initrd and DTB loading (host/realm_build.c): what `rmmemu run` and
 * `rmmemu measure` do with the files a configuration names, up to REALM_ACTIVATE. The realm is
 * never run.
 *
 * Input layout (docs/fuzzing.md):
 *   byte 0      flags: bit 0 an initrd file, bit 1 a DTB file (else the generated DT), bit 2 the
 *               v12 host flow, bit 3 the kernel read from a file (else from memory, as the
 *               embedded demo), bits 4-5 RAM of 2/4/8/16 MiB, bit 6 two vCPUs, bit 7 SHA-512
 *   bytes 1-3   kernel length K (little-endian, clamped to what is left)
 *   bytes 4-6   initrd length I (likewise)
 *   then        K bytes of kernel (raw or gzip arm64 Image, ELF, or a raw binary), I bytes of
 *               initrd, and the rest is the DTB file
 * The files are memfds opened by /proc/self/fd path, so nothing touches the disk.
 * After the build the realm is torn down: every granule must be back in the normal world and the
 * RMM's invariants must hold; a successful build must have placed everything inside RAM.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "host/realm_config.h"
#include "fuzz_util.h"

#define HDR 7

struct memfile {
	int fd;
	char path[64];
};

static void memfile_init(struct memfile *m, const char *name)
{
	m->fd = memfd_create(name, MFD_CLOEXEC);
	if (m->fd < 0)
		fuzz_fail("memfd_create failed");
	snprintf(m->path, sizeof(m->path), "/proc/self/fd/%d", m->fd);
}

static void memfile_set(struct memfile *m, const uint8_t *data, size_t len)
{
	if (ftruncate(m->fd, 0))
		fuzz_fail("ftruncate failed");
	if (len && pwrite(m->fd, data, len, 0) != (ssize_t)len)
		fuzz_fail("pwrite failed");
}

static size_t take24(const uint8_t *p, size_t left)
{
	size_t n = (size_t)p[0] | (size_t)p[1] << 8 | (size_t)p[2] << 16;
	return n < left ? n : left;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct memfile kernel_f, initrd_f, dtb_f;
	static struct realm_config base;
	static int ready;
	char err[512];

	if (!ready) {
		memfile_init(&kernel_f, "kernel");
		memfile_init(&initrd_f, "initrd");
		memfile_init(&dtb_f, "dtb");
		if (realm_config_parse_string("kernel: fuzz-kernel\ncmdline: \"console=ttyAMA0\"\n"
					      "memory: {base: 0x80000000, size: 2M}\n",
					      "fuzz.yaml", &base, err, sizeof(err)))
			fuzz_fail("base configuration: %s", err);
		/* 64 MiB of DRAM: room for the host's RTTs, RD, RECs and the populated granules of a
		 * 16 MiB realm, and few granules for the invariant check and the census to visit. */
		fuzz_small_platform(&base.platform);
		base.platform.dram[0].size = 64ULL << 20;
		ready = 1;
	}
	if (size < HDR || size > (1U << 20))
		return -1;
	uint8_t flags = data[0];
	size_t left = size - HDR;
	size_t klen = take24(data + 1, left);
	size_t ilen = take24(data + 4, left - klen);
	const uint8_t *kernel = data + HDR, *initrd = kernel + klen, *dtb = initrd + ilen;
	size_t dlen = left - klen - ilen;

	struct realm_config *cfg = malloc(sizeof(*cfg));
	if (!cfg)
		fuzz_fail("out of memory");
	*cfg = base;
	cfg->ram_size = (2ULL << 20) << ((flags >> 4) & 3);
	cfg->vcpus = flags & 0x40 ? 2 : 1;
	cfg->hash = flags & 0x80 ? RMMEMU_HASH_SHA512 : RMMEMU_HASH_SHA256;
	cfg->uapi = flags & 4 ? 12 : 10;
	/* A private copy of the kernel, so ASan sees a read past its end. */
	uint8_t *kcopy = malloc(klen ? klen : 1);
	if (!kcopy)
		fuzz_fail("out of memory");
	memcpy(kcopy, kernel, klen);
	if (flags & 8) {
		memfile_set(&kernel_f, kernel, klen);
		snprintf(cfg->kernel, sizeof(cfg->kernel), "%s", kernel_f.path);
	} else {
		cfg->kernel_data = kcopy;
		cfg->kernel_size = klen;
	}
	cfg->initrd[0] = cfg->dtb[0] = '\0';
	if (flags & 1) {
		memfile_set(&initrd_f, initrd, ilen);
		snprintf(cfg->initrd, sizeof(cfg->initrd), "%s", initrd_f.path);
	}
	if (flags & 2) {
		memfile_set(&dtb_f, dtb, dlen);
		snprintf(cfg->dtb, sizeof(cfg->dtb), "%s", dtb_f.path);
	}

	struct rmmemu *emu = rmmemu_create(&cfg->platform, err, sizeof(err));
	if (!emu)
		fuzz_fail("rmmemu_create: %s", err);
	struct realm_build b;
	err[0] = '\0';
	if (realm_build(emu, cfg, &b, err, sizeof(err)) == 0) {
		uint64_t ram_end = cfg->ram_base + cfg->ram_size;
		if (b.entry < cfg->ram_base || b.entry >= ram_end || b.dtb_ipa < cfg->ram_base || b.dtb_ipa >= ram_end ||
		    (b.initrd_size && (b.initrd_ipa < cfg->ram_base || b.initrd_ipa + b.initrd_size > b.dtb_ipa)))
			fuzz_fail("realm_build placed something outside RAM: entry 0x%llx DTB 0x%llx initrd 0x%llx+0x%llx",
				  (unsigned long long)b.entry, (unsigned long long)b.dtb_ipa,
				  (unsigned long long)b.initrd_ipa, (unsigned long long)b.initrd_size);
		for (unsigned i = 0; i < b.nregions; i++)
			if (b.regions[i].ipa < cfg->ram_base || b.regions[i].ipa + b.regions[i].size > ram_end)
				fuzz_fail("region %s at 0x%llx+0x%llx is outside RAM", b.regions[i].what,
					  (unsigned long long)b.regions[i].ipa, (unsigned long long)b.regions[i].size);
		fuzz_check_invariants(emu, "after building the realm");
		if (rmmemu_vm_destroy(b.vm))
			fuzz_fail("rmmemu_vm_destroy failed");
	} else if (!err[0]) {
		fuzz_fail("realm_build failed without a reason");
	} else {
		fprintf(fuzz_out(), "realm_build: %s\n", err);
	}
	fuzz_check_invariants(emu, "after tearing the realm down");
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
		if (s != RMMEMU_GRANULE_UNDELEGATED && counts[s])
			fuzz_fail("after teardown %llu granules are still %s", (unsigned long long)counts[s],
				  rmmemu_granule_state_name((enum rmmemu_granule_state)s));
	rmmemu_destroy(emu);
	free(kcopy);
	free(cfg);
	return 0;
}

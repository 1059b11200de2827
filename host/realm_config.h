/*
 * Realm configuration files (YAML, docs/config.md) and the host's image loading: what a VMM does
 * before the first vCPU runs (RAM layout after kvmtool, kernel/initrd/DTB placement, populate).
 */
#ifndef HOST_REALM_CONFIG_H
#define HOST_REALM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rmmemu/host.h"
#include "rmmemu/rmmemu.h"

struct realm_config {
	char path[512];                 /* the file (for messages); "" for an embedded config */
	struct rmmemu_platform_config platform;
	unsigned hash;                  /* RMMEMU_HASH_* */
	uint8_t rpv[64];
	unsigned ipa_bits;              /* 0: kvmtool's rule */
	unsigned vcpus;
	uint64_t ram_base, ram_size;
	char kernel[512], initrd[512], dtb[512];
	char cmdline[1024];
	/* Devices (devices.*): IPAs without the shared bit. The generated DT names them at those IPAs
	 * (devices_protected: the protected half, for a CCA-aware kernel) or at their unprotected alias,
	 * shared bit | IPA (a stock kernel); their MMIO reaches the host at the alias either way. */
	bool devices_protected;         /* devices.placement: protected (default shared) */
	uint64_t uart_base;             /* PL011 (4 KiB) */
	unsigned uart_spi;              /* its interrupt: SPI n, INTID 32 + n */
	uint64_t gicd_base;             /* GICv3 distributor (64 KiB) */
	uint64_t gicr_base;             /* redistributors, 128 KiB per vCPU; 0 in the file: below the distributor */
	FILE *uart_in;                  /* the PL011's input (not from the file: the CLI sets it; NULL: none) */
	uint64_t max_exits;
	bool reject_ripas;              /* run.ripas_change: reject (the realm's RIPAS change requests) */
	unsigned uapi;                  /* host flow: 10 (KVM CCA v10 uAPI, default) or 12 (v12: implicit) */
	/* An image in memory instead of the `kernel` file (the embedded demo). */
	const uint8_t *kernel_data;
	size_t kernel_size;
};

/* Parse; on error returns -1 with "file:line: reason" in err. Both check the platform with
 * rmmemu_create; realm_config_load also checks that the image files open. */
int realm_config_load(const char *path, struct realm_config *cfg, char *err, size_t errlen);
int realm_config_parse_string(const char *text, const char *name, struct realm_config *cfg, char *err,
			      size_t errlen);

/* One populated region, for reporting. */
struct loaded_region {
	const char *what;
	uint64_t ipa, size;
	bool measured;
};

struct realm_build {
	struct rmmemu_vm *vm;
	uint64_t entry, dtb_ipa, initrd_ipa, initrd_size;
	struct loaded_region regions[8];
	unsigned nregions;
};

/* Build the realm of `cfg` on `emu` the way KVM + kvmtool do, up to and including ACTIVATE.
 * -1 with a reason in err on failure (the VM is destroyed then). */
int realm_build(struct rmmemu *emu, const struct realm_config *cfg, struct realm_build *out, char *err,
		size_t errlen);

#endif

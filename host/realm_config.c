/* Realm configuration files: parsing and validation (docs/config.md). */
#include "host/realm_config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "host/platform_opts.h"

struct parse {
	yaml_document_t doc;
	const char *name;
	char *err;
	size_t errlen;
	bool failed;
	bool dram_given, dev_given;   /* the first dram/device range replaces the defaults */
	/* Where keys checked after parsing are, for file:line: platform.{pa_bits, dram, device, secure,
	 * root, attest} and the image files. */
	yaml_node_t *platform_k, *pa_bits_k, *dram_k, *device_k, *secure_k, *root_k, *attest_k;
	yaml_node_t *kernel_k, *initrd_k, *dtb_k;
	/* devices: the mapping and each address key (their checks need RAM and vCPUs, known at the end) */
	yaml_node_t *devices_k, *placement_k, *uart_k, *gicd_k, *gicr_k;
};

static int perr(struct parse *p, const yaml_node_t *n, const char *fmt, ...)
{
	if (p->failed)
		return -1;
	p->failed = true;
	int k = snprintf(p->err, p->errlen, "%s:%lu: ", p->name, n ? (unsigned long)n->start_mark.line + 1 : 1UL);
	va_list ap;
	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < p->errlen)
		vsnprintf(p->err + k, p->errlen - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

static yaml_node_t *nd(struct parse *p, int id) { return yaml_document_get_node(&p->doc, id); }

static const char *str(struct parse *p, yaml_node_t *n, const char *key)
{
	if (!n || n->type != YAML_SCALAR_NODE) {
		perr(p, n, "%s: expected a scalar value", key);
		return NULL;
	}
	return (const char *)n->data.scalar.value;
}

static int num(struct parse *p, yaml_node_t *n, const char *key, uint64_t lo, uint64_t hi, uint64_t *out)
{
	const char *s = str(p, n, key);
	if (!s)
		return -1;
	if (parse_size(s, out) || *out < lo || *out > hi)
		return perr(p, n, "%s: expected a number from %llu to 0x%llx (K/M/G suffixes allowed), got '%s'", key,
			    (unsigned long long)lo, (unsigned long long)hi, s);
	return 0;
}

static int copy_str(struct parse *p, yaml_node_t *n, const char *key, char *dst, size_t cap)
{
	const char *s = str(p, n, key);
	if (!s)
		return -1;
	if (strlen(s) >= cap)
		return perr(p, n, "%s: longer than %zu characters", key, cap - 1);
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* Iterate a mapping, calling fn for each key; unknown keys are errors. */
typedef int (*kv_fn)(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg);

static int each(struct parse *p, yaml_node_t *map, const char *what, kv_fn fn, struct realm_config *cfg)
{
	if (!map || map->type != YAML_MAPPING_NODE)
		return perr(p, map, "%s: expected a mapping", what);
	for (yaml_node_pair_t *pr = map->data.mapping.pairs.start; pr < map->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = nd(p, pr->key), *v = nd(p, pr->value);
		const char *key = k && k->type == YAML_SCALAR_NODE ? (const char *)k->data.scalar.value : NULL;
		if (!key)
			return perr(p, k, "%s: keys must be plain names", what);
		if (fn(p, key, k, v, cfg))
			return -1;
	}
	return 0;
}

static int realm_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	uint64_t n;
	if (!strcmp(key, "hash")) {
		const char *s = str(p, v, "realm.hash");
		if (!s)
			return -1;
		if (!strcmp(s, "sha256"))
			cfg->hash = RMMEMU_HASH_SHA256;
		else if (!strcmp(s, "sha512"))
			cfg->hash = RMMEMU_HASH_SHA512;
		else
			return perr(p, v, "realm.hash: sha256 or sha512, got '%s'", s);
		return 0;
	}
	if (!strcmp(key, "rpv")) {
		const char *s = str(p, v, "realm.rpv");
		if (!s)
			return -1;
		if (strlen(s) > 64)
			return perr(p, v, "realm.rpv: at most 64 bytes");
		memset(cfg->rpv, 0, sizeof(cfg->rpv));
		memcpy(cfg->rpv, s, strlen(s));
		return 0;
	}
	if (!strcmp(key, "ipa_bits")) {
		if (num(p, v, "realm.ipa_bits", 0, 48, &n))
			return -1;
		if (n && n < 32)
			return perr(p, v, "realm.ipa_bits: 0 (automatic) or 32..48");
		cfg->ipa_bits = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "vcpus")) {
		if (num(p, v, "realm.vcpus", 1, 64, &n))
			return -1;
		cfg->vcpus = (unsigned)n;
		return 0;
	}
	return perr(p, k, "realm: unknown key '%s' (hash, rpv, ipa_bits, vcpus)", key);
}

static int memory_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	if (!strcmp(key, "base"))
		return num(p, v, "memory.base", 0, (1ULL << 47) - 1, &cfg->ram_base);
	if (!strcmp(key, "size"))
		return num(p, v, "memory.size", 2ULL << 20, 1ULL << 40, &cfg->ram_size);
	return perr(p, k, "memory: unknown key '%s' (base, size)", key);
}

static int devices_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	uint64_t n;
	if (!strcmp(key, "placement")) {
		p->placement_k = k;
		const char *s = str(p, v, "devices.placement");
		if (!s)
			return -1;
		if (strcmp(s, "shared") && strcmp(s, "protected"))
			return perr(p, v, "devices.placement: shared (the DT names devices at their unprotected alias: a "
				    "stock kernel) or protected (at their protected-half IPA: a CCA-aware kernel), got '%s'", s);
		cfg->devices_protected = !strcmp(s, "protected");
		return 0;
	}
	if (!strcmp(key, "uart")) {
		p->uart_k = k;
		return num(p, v, "devices.uart", 0, (1ULL << 47) - 1, &cfg->uart_base);
	}
	if (!strcmp(key, "uart_spi")) {
		/* SPIs are INTIDs 32..1019 */
		if (num(p, v, "devices.uart_spi", 0, 987, &n))
			return -1;
		cfg->uart_spi = (unsigned)n;
		return 0;
	}
	if (!strcmp(key, "gic_dist")) {
		p->gicd_k = k;
		/* from 64 KiB: the host takes a distributor at 0 for "no vGIC" */
		return num(p, v, "devices.gic_dist", 64ULL << 10, (1ULL << 47) - 1, &cfg->gicd_base);
	}
	if (!strcmp(key, "gic_redist")) {
		p->gicr_k = k;
		return num(p, v, "devices.gic_redist", 0, (1ULL << 47) - 1, &cfg->gicr_base);
	}
	return perr(p, k, "devices: unknown key '%s' (placement, uart, uart_spi, gic_dist, gic_redist)", key);
}

static int run_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	if (!strcmp(key, "max_exits"))
		return num(p, v, "run.max_exits", 1, UINT64_MAX, &cfg->max_exits);
	if (!strcmp(key, "uapi")) {
		const char *s = str(p, v, "run.uapi");
		if (!s)
			return -1;
		if (!strcmp(s, "v10"))
			cfg->uapi = 10;
		else if (!strcmp(s, "v12"))
			cfg->uapi = 12;
		else
			return perr(p, v, "run.uapi: v10 or v12 (the KVM CCA host uAPI the reference host follows), got '%s'", s);
		return 0;
	}
	if (!strcmp(key, "ripas_change")) {
		const char *s = str(p, v, "run.ripas_change");
		if (!s)
			return -1;
		if (strcmp(s, "accept") && strcmp(s, "reject"))
			return perr(p, v, "run.ripas_change: accept or reject, got '%s'", s);
		cfg->reject_ripas = !strcmp(s, "reject");
		return 0;
	}
	return perr(p, k, "run: unknown key '%s' (max_exits, uapi, ripas_change)", key);
}

static int sw_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	struct rmmemu_platform_claims *c = &cfg->platform.claims;
	unsigned i = c->num_sw - 1;
	if (!strcmp(key, "type"))
		return copy_str(p, v, "platform.attest.claims.sw_components.type", c->sw[i].type, sizeof(c->sw[i].type));
	if (!strcmp(key, "version"))
		return copy_str(p, v, "platform.attest.claims.sw_components.version", c->sw[i].version,
				sizeof(c->sw[i].version));
	if (!strcmp(key, "measurement")) {
		const char *s = str(p, v, "platform.attest.claims.sw_components.measurement");
		if (!s)
			return -1;
		if (parse_hex_bytes(s, c->sw[i].measurement, sizeof(c->sw[i].measurement)))
			return perr(p, v, "platform.attest.claims.sw_components.measurement: 64 hex digits (SHA-256) expected");
		return 0;
	}
	return perr(p, k, "platform.attest.claims.sw_components: unknown key '%s' (type, version, measurement)", key);
}

static int claims_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	struct rmmemu_platform_claims *c = &cfg->platform.claims;
	uint64_t n;
	if (!strcmp(key, "implementation_id")) {
		const char *s = str(p, v, "platform.attest.claims.implementation_id");
		if (!s)
			return -1;
		if (parse_hex_bytes(s, c->implementation_id, sizeof(c->implementation_id)))
			return perr(p, v, "platform.attest.claims.implementation_id: 64 hex digits (32 bytes) expected");
		c->implementation_id_set = true;
		return 0;
	}
	if (!strcmp(key, "lifecycle")) {
		if (num(p, v, "platform.attest.claims.lifecycle", 0, 0xffff, &n))
			return -1;
		c->lifecycle = (uint16_t)n;
		c->lifecycle_set = true;
		return 0;
	}
	if (!strcmp(key, "verification_service"))
		return copy_str(p, v, "platform.attest.claims.verification_service", c->verification_service,
				sizeof(c->verification_service));
	if (!strcmp(key, "sw_components")) {
		if (!v || v->type != YAML_SEQUENCE_NODE)
			return perr(p, v, "platform.attest.claims.sw_components: expected a list of {type, version, measurement}");
		c->num_sw = 0;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			if (c->num_sw >= RMMEMU_MAX_SW_COMPONENTS)
				return perr(p, v, "platform.attest.claims.sw_components: at most %d entries",
					    RMMEMU_MAX_SW_COMPONENTS);
			yaml_node_t *e = nd(p, *it);
			c->num_sw++;
			memset(&c->sw[c->num_sw - 1], 0, sizeof(c->sw[0]));
			if (each(p, e, "platform.attest.claims.sw_components entry", sw_kv, cfg))
				return -1;
			if (!c->sw[c->num_sw - 1].type[0])
				return perr(p, e, "platform.attest.claims.sw_components: every entry needs a type");
		}
		if (!c->num_sw)
			return perr(p, v, "platform.attest.claims.sw_components: the list must not be empty");
		return 0;
	}
	return perr(p, k,
		    "platform.attest.claims: unknown key '%s' (implementation_id, lifecycle, verification_service, sw_components)",
		    key);
}

static int attest_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	if (!strcmp(key, "claims"))
		return each(p, v, "platform.attest.claims", claims_kv, cfg);
	if (!strcmp(key, "seed")) {
		const char *s = str(p, v, "platform.attest.seed");
		if (!s)
			return -1;
		if (parse_hex_bytes(s, cfg->platform.attest_seed, sizeof(cfg->platform.attest_seed)))
			return perr(p, v, "platform.attest.seed: 64 hex digits (32 bytes) expected");
		cfg->platform.attest_seed_set = true;
		return 0;
	}
	if (!strcmp(key, "rak_pem"))
		return copy_str(p, v, "platform.attest.rak_pem", cfg->platform.rak_pem, sizeof(cfg->platform.rak_pem));
	if (!strcmp(key, "cpak_pem"))
		return copy_str(p, v, "platform.attest.cpak_pem", cfg->platform.cpak_pem, sizeof(cfg->platform.cpak_pem));
	return perr(p, k, "platform.attest: unknown key '%s' (seed, rak_pem, cpak_pem, claims)", key);
}

static int platform_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	uint64_t n;
	if (!strcmp(key, "attest")) {
		p->attest_k = k;
		return each(p, v, "platform.attest", attest_kv, cfg);
	}
	if (!strcmp(key, "pa_bits")) {
		p->pa_bits_k = k;
		if (num(p, v, "platform.pa_bits", 32, 52, &n))
			return -1;
		cfg->platform.pa_bits = (unsigned)n;
		return 0;
	}
	if (strcmp(key, "dram") && strcmp(key, "device") && strcmp(key, "secure") && strcmp(key, "root"))
		return perr(p, k, "platform: unknown key '%s' (dram, device, secure, root, pa_bits, attest)", key);
	*(!strcmp(key, "dram") ? &p->dram_k : !strcmp(key, "device") ? &p->device_k
	  : !strcmp(key, "secure") ? &p->secure_k : &p->root_k) = k;
	if (!v || v->type != YAML_SEQUENCE_NODE)
		return perr(p, v, "platform.%s: expected a list of \"BASE:SIZE\"", key);
	bool local = false, *given = !strcmp(key, "dram") ? &p->dram_given : !strcmp(key, "device") ? &p->dev_given : &local;
	if (v->data.sequence.items.start == v->data.sequence.items.top && given != &local && !*given) {
		/* An empty list removes the defaults. */
		*given = true;
		if (!strcmp(key, "dram"))
			cfg->platform.num_dram = 0;
		else
			cfg->platform.num_device = 0;
	}
	for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
		char e[200];
		const char *s = str(p, nd(p, *it), key);
		if (!s || platform_add_range(&cfg->platform, key, s, given == &local ? NULL : given, e, sizeof(e)))
			return s ? perr(p, nd(p, *it), "platform.%s: %s", key, e) : -1;
	}
	return 0;
}

static int top_kv(struct parse *p, const char *key, yaml_node_t *k, yaml_node_t *v, struct realm_config *cfg)
{
	if (!strcmp(key, "realm"))
		return each(p, v, "realm", realm_kv, cfg);
	if (!strcmp(key, "memory"))
		return each(p, v, "memory", memory_kv, cfg);
	if (!strcmp(key, "devices")) {
		p->devices_k = k;
		return each(p, v, "devices", devices_kv, cfg);
	}
	if (!strcmp(key, "run"))
		return each(p, v, "run", run_kv, cfg);
	if (!strcmp(key, "platform")) {
		p->platform_k = k;
		return each(p, v, "platform", platform_kv, cfg);
	}
	if (!strcmp(key, "kernel")) {
		p->kernel_k = k;
		return copy_str(p, v, "kernel", cfg->kernel, sizeof(cfg->kernel));
	}
	if (!strcmp(key, "initrd")) {
		p->initrd_k = k;
		return copy_str(p, v, "initrd", cfg->initrd, sizeof(cfg->initrd));
	}
	if (!strcmp(key, "dtb")) {
		p->dtb_k = k;
		return copy_str(p, v, "dtb", cfg->dtb, sizeof(cfg->dtb));
	}
	if (!strcmp(key, "cmdline"))
		return copy_str(p, v, "cmdline", cfg->cmdline, sizeof(cfg->cmdline));
	return perr(p, k, "unknown key '%s' (realm, memory, kernel, initrd, dtb, cmdline, devices, platform, run)", key);
}

static void defaults(struct realm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	rmmemu_platform_default(&cfg->platform);
	cfg->hash = RMMEMU_HASH_SHA256;
	cfg->vcpus = 1;
	cfg->ram_base = 0x80000000ULL;
	cfg->ram_size = 256ULL << 20;
	cfg->uart_base = 0x01000000ULL;
	cfg->gicd_base = 0x3FFF0000ULL;   /* gicr_base 0: the redistributors end where the distributor starts */
	cfg->max_exits = 10000000ULL;
	cfg->uapi = 10;
}

/* Relative image paths are relative to the config file's folder. */
static void resolve(const char *cfgpath, char *path, size_t cap)
{
	const char *slash = strrchr(cfgpath, '/');
	if (!path[0] || path[0] == '/' || !slash)
		return;
	char buf[1024];
	snprintf(buf, sizeof(buf), "%.*s/%s", (int)(slash - cfgpath), cfgpath, path);
	if (strlen(buf) < cap)
		memcpy(path, buf, strlen(buf) + 1);
}

/* One device range, for the checks below. */
struct dev_range {
	const char *key;
	uint64_t base, size, align;
	yaml_node_t *k;    /* the key, or NULL when the value is a default */
};

/*
 * Devices: aligned, inside the protected half of the IPA space (their unprotected alias is shared
 * bit | IPA), apart from each other, and apart from RAM when the DT names them in the protected half
 * (RAM is RIPAS RAM there) or the address was given. A default address beside RAM at IPA 0 in the
 * shared placement stays accepted, as before this check existed (the device is at the alias).
 */
static int check_devices(struct parse *p, struct realm_config *cfg, unsigned bits)
{
	uint64_t par = 1ULL << (bits - 1), ram_end = cfg->ram_base + cfg->ram_size;
	yaml_node_t *dk = p->devices_k ? p->devices_k : yaml_document_get_root_node(&p->doc);
	uint64_t rsize = (128ULL << 10) * cfg->vcpus;
	if (!cfg->gicr_base) {
		if (cfg->gicd_base < rsize)
			return perr(p, p->gicd_k ? p->gicd_k : dk, "devices.gic_dist 0x%llx: no room below it for the %u "
				    "vCPUs' redistributors (128 KiB each); set devices.gic_redist",
				    (unsigned long long)cfg->gicd_base, cfg->vcpus);
		cfg->gicr_base = cfg->gicd_base - rsize;
	}
	struct dev_range d[3] = {
		{ "devices.uart", cfg->uart_base, 0x1000, 0x1000, p->uart_k },
		{ "devices.gic_dist", cfg->gicd_base, 64ULL << 10, 64ULL << 10, p->gicd_k },
		{ "devices.gic_redist", cfg->gicr_base, rsize, 64ULL << 10, p->gicr_k },
	};
	for (unsigned i = 0; i < 3; i++) {
		yaml_node_t *k = d[i].k ? d[i].k : dk;
		if (d[i].base % d[i].align)
			return perr(p, k, "%s 0x%llx: not a multiple of %llu KiB", d[i].key, (unsigned long long)d[i].base,
				    (unsigned long long)(d[i].align >> 10));
		if (d[i].base + d[i].size > par)
			return perr(p, k, "%s [0x%llx, 0x%llx) does not fit below the shared bit of the %u-bit IPA space "
				    "(0x%llx)", d[i].key, (unsigned long long)d[i].base,
				    (unsigned long long)(d[i].base + d[i].size), bits, (unsigned long long)par);
		if ((cfg->devices_protected || d[i].k) && d[i].base < ram_end && cfg->ram_base < d[i].base + d[i].size)
			return perr(p, k, "%s [0x%llx, 0x%llx) overlaps RAM [0x%llx, 0x%llx)", d[i].key,
				    (unsigned long long)d[i].base, (unsigned long long)(d[i].base + d[i].size),
				    (unsigned long long)cfg->ram_base, (unsigned long long)ram_end);
		for (unsigned j = 0; j < i; j++) {
			if (d[i].base >= d[j].base + d[j].size || d[j].base >= d[i].base + d[i].size)
				continue;
			/* named first: the one whose key is on the line reported (a given value before a default) */
			const struct dev_range *a = d[i].k || !d[j].k ? &d[i] : &d[j], *o = a == &d[i] ? &d[j] : &d[i];
			return perr(p, a->k ? a->k : dk, "%s [0x%llx, 0x%llx) overlaps %s [0x%llx, 0x%llx)%s", a->key,
				    (unsigned long long)a->base, (unsigned long long)(a->base + a->size), o->key,
				    (unsigned long long)o->base, (unsigned long long)(o->base + o->size),
				    o->k ? "" : " (its default)");
		}
	}
	return 0;
}

static int validate(struct parse *p, struct realm_config *cfg)
{
	if (!cfg->platform.rak_pem[0] != !cfg->platform.cpak_pem[0])
		return perr(p, yaml_document_get_root_node(&p->doc),
			    "platform.attest: rak_pem and cpak_pem go together (P-384 private keys)");
	const uint64_t two_mib = 2ULL << 20;
	yaml_node_t *root = yaml_document_get_root_node(&p->doc);
	if (cfg->ram_size % two_mib || cfg->ram_base % two_mib)
		return perr(p, root, "memory: base and size must be multiples of 2 MiB (as kvmtool requires for realms)");
	uint64_t end = cfg->ram_base + cfg->ram_size;
	if (end < cfg->ram_base)
		return perr(p, root, "memory: base + size overflows");
	unsigned bits = cfg->ipa_bits;
	if (bits) {
		uint64_t par = 1ULL << (bits - 1);
		if (end > par)
			return perr(p, root, "memory [0x%llx, 0x%llx) does not fit below the shared bit of a %u-bit IPA space",
				    (unsigned long long)cfg->ram_base, (unsigned long long)end, bits);
	} else if (end > cfg->ram_base) {
		/* the host's rule (realm_build): one bit more than RAM needs, at least 33 */
		bits = 64U - (unsigned)__builtin_clzll(end - 1);
		bits = (bits > 32 ? bits : 32) + 1;
	}
	if (bits && bits <= 48 && check_devices(p, cfg, bits))
		return -1;
	if (!cfg->kernel[0])
		return perr(p, root, "'kernel' (a raw or gzip arm64 Image, or an ELF file) is required");
	return 0;
}

/*
 * The platform as rmmemu_create will see it: the loader checks each range's syntax, the platform
 * model the rest (overlaps, PARange widths, keys). The error points at the key it is about.
 */
static int check_platform(struct parse *p, struct realm_config *cfg)
{
	char e[256];
	struct rmmemu *emu = rmmemu_create(&cfg->platform, e, sizeof(e));
	if (emu) {
		rmmemu_destroy(emu);
		return 0;
	}
	yaml_node_t *k = p->platform_k;
	const char *key = "platform";
	if (!strncmp(e, "pa_bits", 7) && p->pa_bits_k)
		k = p->pa_bits_k, key = "platform.pa_bits";
	else if (strstr(e, "secure") && p->secure_k)
		k = p->secure_k, key = "platform.secure";
	else if (strstr(e, "root") && p->root_k)
		k = p->root_k, key = "platform.root";
	else if (!strncmp(e, "device", 6) && p->device_k)
		k = p->device_k, key = "platform.device";
	else if ((!strncmp(e, "DRAM", 4) || !strncmp(e, "memory ranges", 13) || !strncmp(e, "need", 4)) && p->dram_k)
		k = p->dram_k, key = "platform.dram";
	else if ((strstr(e, "PEM") || strstr(e, "key") || strstr(e, "attest")) && p->attest_k)
		k = p->attest_k, key = "platform.attest";
	return perr(p, k ? k : yaml_document_get_root_node(&p->doc), "%s: the platform refuses it: %s", key, e);
}

/*
 * A missing image file, with the command that makes it when the configuration says where it comes
 * from (a comment naming a `bash scripts/...` command) or it is under .cache/linux (.cache/linux-cca),
 * where scripts/fetch-kernel.sh (scripts/fetch-linux-cca.sh) puts the Debian kernel.
 */
static int check_file(struct parse *p, const char *text, yaml_node_t *k, const char *key, const char *path)
{
	FILE *f = path[0] ? fopen(path, "rb") : NULL;
	if (!path[0] || f) {
		if (f)
			fclose(f);
		return 0;
	}
	int e = errno;
	char hint[200] = "";
	const char *cmd = strstr(text, "`bash scripts/");
	const char *end = cmd ? strchr(cmd + 1, '`') : NULL;
	if (cmd && end && end - cmd < 150)
		snprintf(hint, sizeof(hint), " (the configuration says it comes from %.*s)", (int)(end + 1 - cmd), cmd);
	else if (strstr(path, ".cache/linux/"))
		snprintf(hint, sizeof(hint), " (fetch it with `bash scripts/fetch-kernel.sh` in the source tree)");
	else if (strstr(path, ".cache/linux-cca/"))
		snprintf(hint, sizeof(hint), " (fetch it with `bash scripts/fetch-linux-cca.sh` in the source tree)");
	return perr(p, k, "%s: cannot open '%s': %s%s", key, path, strerror(e), hint);
}

static int parse_text(const char *text, const char *name, struct realm_config *cfg, bool files, char *err,
		      size_t errlen)
{
	struct parse p = { .name = name, .err = err, .errlen = errlen };
	yaml_parser_t parser;
	defaults(cfg);
	snprintf(cfg->path, sizeof(cfg->path), "%s", name);
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	if (!yaml_parser_load(&parser, &p.doc)) {
		snprintf(err, errlen, "%s:%lu: YAML error: %s", name, (unsigned long)parser.problem_mark.line + 1,
			 parser.problem ? parser.problem : "malformed document");
		yaml_parser_delete(&parser);
		return -1;
	}
	yaml_node_t *root = yaml_document_get_root_node(&p.doc);
	int rc = -1;
	if (!root)
		perr(&p, NULL, "empty configuration");
	else if (each(&p, root, "configuration", top_kv, cfg) == 0 && validate(&p, cfg) == 0)
		rc = 0;
	resolve(name, cfg->kernel, sizeof(cfg->kernel));
	resolve(name, cfg->initrd, sizeof(cfg->initrd));
	resolve(name, cfg->dtb, sizeof(cfg->dtb));
	resolve(name, cfg->platform.rak_pem, sizeof(cfg->platform.rak_pem));
	resolve(name, cfg->platform.cpak_pem, sizeof(cfg->platform.cpak_pem));
	if (rc == 0 && files &&
	    (check_file(&p, text, p.kernel_k, "kernel", cfg->kernel) ||
	     check_file(&p, text, p.initrd_k, "initrd", cfg->initrd) ||
	     check_file(&p, text, p.dtb_k, "dtb", cfg->dtb)))
		rc = -1;
	if (rc == 0 && check_platform(&p, cfg))
		rc = -1;
	yaml_document_delete(&p.doc);
	yaml_parser_delete(&parser);
	return rc;
}

int realm_config_parse_string(const char *text, const char *name, struct realm_config *cfg, char *err,
			      size_t errlen)
{
	return parse_text(text, name, cfg, false, err, errlen);
}

int realm_config_load(const char *path, struct realm_config *cfg, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		snprintf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 4096 + 1 > cap) {
			cap = cap ? cap * 2 : 8192;
			if (cap > (16U << 20)) {
				free(text);
				fclose(f);
				snprintf(err, errlen, "%s: larger than 16 MiB", path);
				return -1;
			}
			char *n = realloc(text, cap);
			if (!n) {
				free(text);
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			text = n;
		}
		size_t got = fread(text + len, 1, 4096, f);
		len += got;
		if (got < 4096)
			break;
	}
	if (ferror(f)) {   /* a directory opens, then reads fail with EISDIR */
		int e = errno;
		free(text);
		fclose(f);
		snprintf(err, errlen, "%s: cannot read: %s", path, strerror(e));
		return -1;
	}
	fclose(f);
	text[len] = '\0';
	if (strlen(text) != len) {
		free(text);
		snprintf(err, errlen, "%s: not a text file (NUL byte)", path);
		return -1;
	}
	int rc = parse_text(text, path, cfg, true, err, errlen);
	free(text);
	return rc;
}

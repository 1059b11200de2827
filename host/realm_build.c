/*
 * Build a realm from a configuration the way KVM + kvmtool do: IPA width from the RAM end, RIPAS RAM
 * over all RAM, the kernel (raw/gzip Image or ELF) at the start of RAM, the DTB (64 KiB) below
 * min(RAM end, RAM base + 256 MiB) - 2 MiB, the initrd just below it, measured populate in ascending
 * address order, one REC per vCPU (x0 = DTB), activate.
 */
#include <errno.h>
#include <libfdt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "host/realm_config.h"

#define GRANULE      4096ULL
#define DTB_SIZE     (64ULL << 10)
#define MAX_IMAGE    (512ULL << 20)
#define GIC_DIST     0x3FFF0000ULL
#define GIC_REDIST_SIZE (128ULL << 10)

static int berr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static int read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return berr(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	if (fseek(f, 0, SEEK_END) || ftell(f) < 0) {
		fclose(f);
		return berr(err, errlen, "%s: cannot read", path);
	}
	long n = ftell(f);
	rewind(f);
	if ((uint64_t)n > MAX_IMAGE) {
		fclose(f);
		return berr(err, errlen, "%s: larger than %llu MiB", path, (unsigned long long)(MAX_IMAGE >> 20));
	}
	*buf = malloc(n ? (size_t)n : 1);
	if (!*buf) {
		fclose(f);
		return berr(err, errlen, "out of memory");
	}
	*len = fread(*buf, 1, (size_t)n, f);
	fclose(f);
	if (*len != (size_t)n) {
		free(*buf);
		return berr(err, errlen, "%s: short read", path);
	}
	return 0;
}

static int gunzip(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(*buf);
		return berr(err, errlen, "zlib init failed");
	}
	size_t cap = *len * 4 + 4096, out = 0;
	uint8_t *dst = malloc(cap);
	z.next_in = *buf;
	z.avail_in = (uInt)*len;
	int rc = Z_OK;
	while (dst && rc == Z_OK) {
		if (out == cap) {
			cap *= 2;
			uint8_t *n = cap <= MAX_IMAGE ? realloc(dst, cap) : NULL;
			if (!n) {
				free(dst);
				dst = NULL;
				break;
			}
			dst = n;
		}
		z.next_out = dst + out;
		z.avail_out = (uInt)(cap - out);
		rc = inflate(&z, Z_NO_FLUSH);
		out = cap - z.avail_out;
	}
	inflateEnd(&z);
	/* On failure the input is released too: the caller has nothing left to free. */
	if (!dst) {
		free(*buf);
		return berr(err, errlen, "%s: decompressed image larger than %llu MiB", path, (unsigned long long)(MAX_IMAGE >> 20));
	}
	if (rc != Z_STREAM_END) {
		free(dst);
		free(*buf);
		return berr(err, errlen, "%s: corrupt or truncated gzip data", path);
	}
	free(*buf);
	*buf = dst;
	*len = out;
	return 0;
}

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* The kernel as a RAM image: bytes to place at `load` (IPA), entry point. */
struct kimage {
	uint8_t *data;
	size_t size;
	uint64_t load, entry;
};

static int load_kernel(const struct realm_config *cfg, struct kimage *k, char *err, size_t errlen)
{
	uint8_t *buf;
	size_t len;
	if (cfg->kernel_data) {
		len = cfg->kernel_size;
		buf = malloc(len ? len : 1);
		if (!buf)
			return berr(err, errlen, "out of memory");
		memcpy(buf, cfg->kernel_data, len);
	} else if (read_file(cfg->kernel, &buf, &len, err, errlen)) {
		return -1;
	}
	if (len >= 2 && buf[0] == 0x1F && buf[1] == 0x8B && gunzip(cfg->kernel, &buf, &len, err, errlen))
		return -1;
	uint64_t ram_end = cfg->ram_base + cfg->ram_size;
	if (len >= 64 && !memcmp(buf, "\x7F" "ELF", 4)) {
		if (buf[4] != 2 || buf[5] != 1 || rd16(buf + 18) != 183) {
			free(buf);
			return berr(err, errlen, "%s: not a little-endian 64-bit AArch64 ELF file", cfg->kernel);
		}
		uint64_t phoff = rd64(buf + 32), entry = rd64(buf + 24);
		uint16_t phentsize = rd16(buf + 54), phnum = rd16(buf + 56);
		uint64_t lo = UINT64_MAX, hi = 0;
		if (phentsize < 56 || phoff > len || (uint64_t)phnum * phentsize > len - phoff) {
			free(buf);
			return berr(err, errlen, "%s: truncated or malformed ELF program headers", cfg->kernel);
		}
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
			if (rd32(ph) != 1 /* PT_LOAD */ || !rd64(ph + 40))
				continue;
			uint64_t pa = rd64(ph + 24), memsz = rd64(ph + 40), off = rd64(ph + 8), filesz = rd64(ph + 32);
			if (filesz > memsz || off > len || filesz > len - off) {
				free(buf);
				return berr(err, errlen, "%s: ELF segment %u lies beyond the end of the file (truncated?)", cfg->kernel, i);
			}
			if (pa < cfg->ram_base || pa + memsz > ram_end || pa + memsz < pa) {
				free(buf);
				return berr(err, errlen, "%s: ELF segment %u [0x%llx, +0x%llx) is outside RAM", cfg->kernel, i,
					    (unsigned long long)pa, (unsigned long long)memsz);
			}
			lo = pa < lo ? pa : lo;
			hi = pa + memsz > hi ? pa + memsz : hi;
		}
		if (lo == UINT64_MAX) {
			free(buf);
			return berr(err, errlen, "%s: no loadable segment", cfg->kernel);
		}
		lo &= ~(GRANULE - 1);
		k->size = hi - lo;
		k->data = calloc(1, k->size);
		if (!k->data) {
			free(buf);
			return berr(err, errlen, "out of memory");
		}
		for (unsigned i = 0; i < phnum; i++) {
			const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
			if (rd32(ph) == 1 && rd64(ph + 40))
				memcpy(k->data + (rd64(ph + 24) - lo), buf + rd64(ph + 8), rd64(ph + 32));
		}
		k->load = lo;
		k->entry = entry;
		free(buf);
		return 0;
	}
	/* arm64 Image: "ARM\x64" at 0x38, text_offset at 0x08 (0 for modern kernels). Anything else is a
	 * raw binary loaded and entered at the start of RAM. */
	uint64_t text_offset = 0;
	if (len >= 64 && !memcmp(buf + 0x38, "ARM\x64", 4))
		text_offset = rd64(buf + 8);
	k->data = buf;
	k->size = len;
	k->load = cfg->ram_base + text_offset;
	k->entry = k->load;
	if (k->load + len > ram_end || !len) {
		free(buf);
		k->data = NULL;
		return berr(err, errlen, "%s: %zu bytes do not fit in RAM at 0x%llx", cfg->kernel, len, (unsigned long long)k->load);
	}
	return 0;
}

static unsigned fls64(uint64_t x)
{
	return x ? 64U - (unsigned)__builtin_clzll(x) : 0;
}

/* The DT a VMM generates: memory, cpus (PSCI via SMC), PSCI, timer, GICv3, PL011 in the shared half. */
static int make_dtb(const struct realm_config *cfg, unsigned ipa_bits, uint64_t initrd, uint64_t initrd_size,
		    uint8_t *fdt, char *err, size_t errlen)
{
	uint64_t shared = 1ULL << (ipa_bits - 1);
	char name[64];
	int rc = fdt_create(fdt, (int)DTB_SIZE);
	rc = rc ?: fdt_finish_reservemap(fdt);
	rc = rc ?: fdt_begin_node(fdt, "");
	rc = rc ?: fdt_property_string(fdt, "compatible", "linux,dummy-virt");
	rc = rc ?: fdt_property_string(fdt, "model", "rmmemu realm");
	rc = rc ?: fdt_property_u32(fdt, "#address-cells", 2);
	rc = rc ?: fdt_property_u32(fdt, "#size-cells", 2);
	rc = rc ?: fdt_property_u32(fdt, "interrupt-parent", 1);

	rc = rc ?: fdt_begin_node(fdt, "chosen");
	if (cfg->cmdline[0])
		rc = rc ?: fdt_property_string(fdt, "bootargs", cfg->cmdline);
	snprintf(name, sizeof(name), "/pl011@%llx", (unsigned long long)(shared | cfg->uart_base));
	rc = rc ?: fdt_property_string(fdt, "stdout-path", name);
	if (initrd_size) {
		rc = rc ?: fdt_property_u64(fdt, "linux,initrd-start", initrd);
		rc = rc ?: fdt_property_u64(fdt, "linux,initrd-end", initrd + initrd_size);
	}
	rc = rc ?: fdt_end_node(fdt);

	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)cfg->ram_base);
	rc = rc ?: fdt_begin_node(fdt, name);
	rc = rc ?: fdt_property_string(fdt, "device_type", "memory");
	fdt64_t reg[4] = { cpu_to_fdt64(cfg->ram_base), cpu_to_fdt64(cfg->ram_size) };
	rc = rc ?: fdt_property(fdt, "reg", reg, 2 * sizeof(fdt64_t));
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_begin_node(fdt, "cpus");
	rc = rc ?: fdt_property_u32(fdt, "#address-cells", 1);
	rc = rc ?: fdt_property_u32(fdt, "#size-cells", 0);
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		snprintf(name, sizeof(name), "cpu@%x", i);
		rc = rc ?: fdt_begin_node(fdt, name);
		rc = rc ?: fdt_property_string(fdt, "device_type", "cpu");
		rc = rc ?: fdt_property_string(fdt, "compatible", "arm,arm-v8");
		rc = rc ?: fdt_property_u32(fdt, "reg", i);
		rc = rc ?: fdt_property_string(fdt, "enable-method", "psci");
		rc = rc ?: fdt_end_node(fdt);
	}
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_begin_node(fdt, "psci");
	static const char psci_compat[] = "arm,psci-1.0\0arm,psci-0.2";
	rc = rc ?: fdt_property(fdt, "compatible", psci_compat, sizeof(psci_compat));
	rc = rc ?: fdt_property_string(fdt, "method", "smc");
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_begin_node(fdt, "timer");
	rc = rc ?: fdt_property_string(fdt, "compatible", "arm,armv8-timer");
	/* PPIs: secure phys 13, NS phys 14, virt 11, hyp 10; level-low (8) */
	fdt32_t irqs[12] = { cpu_to_fdt32(1), cpu_to_fdt32(13), cpu_to_fdt32(8), cpu_to_fdt32(1), cpu_to_fdt32(14),
			     cpu_to_fdt32(8), cpu_to_fdt32(1), cpu_to_fdt32(11), cpu_to_fdt32(8), cpu_to_fdt32(1),
			     cpu_to_fdt32(10), cpu_to_fdt32(8) };
	rc = rc ?: fdt_property(fdt, "interrupts", irqs, sizeof(irqs));
	rc = rc ?: fdt_property(fdt, "always-on", NULL, 0);
	rc = rc ?: fdt_end_node(fdt);

	uint64_t redist = GIC_DIST - GIC_REDIST_SIZE * cfg->vcpus;
	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)(shared | redist));
	rc = rc ?: fdt_begin_node(fdt, name);
	rc = rc ?: fdt_property_string(fdt, "compatible", "arm,gic-v3");
	rc = rc ?: fdt_property_u32(fdt, "#interrupt-cells", 3);
	rc = rc ?: fdt_property(fdt, "interrupt-controller", NULL, 0);
	rc = rc ?: fdt_property_u32(fdt, "phandle", 1);
	fdt64_t gic[4] = { cpu_to_fdt64(shared | GIC_DIST), cpu_to_fdt64(0x10000),
			   cpu_to_fdt64(shared | redist), cpu_to_fdt64(GIC_REDIST_SIZE * cfg->vcpus) };
	rc = rc ?: fdt_property(fdt, "reg", gic, sizeof(gic));
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_begin_node(fdt, "apb-pclk");
	rc = rc ?: fdt_property_string(fdt, "compatible", "fixed-clock");
	rc = rc ?: fdt_property_u32(fdt, "#clock-cells", 0);
	rc = rc ?: fdt_property_u32(fdt, "clock-frequency", 24000000);
	rc = rc ?: fdt_property_u32(fdt, "phandle", 2);
	rc = rc ?: fdt_end_node(fdt);

	snprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)(shared | cfg->uart_base));
	rc = rc ?: fdt_begin_node(fdt, name);
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	rc = rc ?: fdt_property(fdt, "compatible", uart_compat, sizeof(uart_compat));
	fdt64_t ureg[2] = { cpu_to_fdt64(shared | cfg->uart_base), cpu_to_fdt64(0x1000) };
	rc = rc ?: fdt_property(fdt, "reg", ureg, sizeof(ureg));
	fdt32_t uirq[3] = { cpu_to_fdt32(0), cpu_to_fdt32(0), cpu_to_fdt32(4) };
	rc = rc ?: fdt_property(fdt, "interrupts", uirq, sizeof(uirq));
	fdt32_t clk[2] = { cpu_to_fdt32(2), cpu_to_fdt32(2) };
	rc = rc ?: fdt_property(fdt, "clocks", clk, sizeof(clk));
	static const char clk_names[] = "uartclk\0apb_pclk";
	rc = rc ?: fdt_property(fdt, "clock-names", clk_names, sizeof(clk_names));
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_end_node(fdt);
	rc = rc ?: fdt_finish(fdt);
	if (rc)
		return berr(err, errlen, "device tree generation failed: %s", fdt_strerror(rc));
	return 0;
}

static int vm_err(struct realm_build *b, int rc, const char *what, char *err, size_t errlen)
{
	char x0[64];
	rmmemu_format_return(rmmemu_vm_last_rmi(b->vm), x0, sizeof(x0));
	berr(err, errlen, "%s failed (%s%s%s)", what, strerror(-rc), rc == -ENXIO ? ", RMI " : "", rc == -ENXIO ? x0 : "");
	rmmemu_vm_destroy(b->vm);
	b->vm = NULL;
	return -1;
}

static void add_region(struct realm_build *b, const char *what, uint64_t ipa, uint64_t size, bool measured)
{
	if (b->nregions < sizeof(b->regions) / sizeof(b->regions[0]))
		b->regions[b->nregions++] = (struct loaded_region){ what, ipa, size, measured };
}

/* Populate measured data: the v10 call, or (v12 profile) KVM_ARM_RMI_POPULATE in a loop, straight
 * from the image; a last partial granule goes through a zero-padded copy as the VMM's buffer would. */
static int populate(struct realm_build *b, bool v12, uint64_t ipa, const void *data, size_t len)
{
	if (!v12)
		return rmmemu_vm_populate(b->vm, ipa, data, len, true);
	const uint8_t *src = data;
	size_t whole = len & ~(size_t)(GRANULE - 1);
	for (size_t off = 0; off < whole;) {
		int64_t n = rmmemu_vm_rmi_populate(b->vm, ipa + off, whole - off, src + off, RMMEMU_RMI_POPULATE_MEASURE);
		if (n < 0)
			return (int)n;
		off += (size_t)n;
	}
	if (whole == len)
		return 0;
	uint8_t tail[GRANULE] = { 0 };
	memcpy(tail, src + whole, len - whole);
	int64_t n = rmmemu_vm_rmi_populate(b->vm, ipa + whole, GRANULE, tail, RMMEMU_RMI_POPULATE_MEASURE);
	return n < 0 ? (int)n : 0;
}

int realm_build(struct rmmemu *emu, const struct realm_config *cfg, struct realm_build *b, char *err, size_t errlen)
{
	bool v12 = cfg->uapi == 12;
	struct kimage k = { 0 };
	uint8_t *initrd = NULL, *dtb = NULL;
	size_t initrd_len = 0, dtb_len = 0;
	int rc = -1;

	memset(b, 0, sizeof(*b));
	uint64_t ram_end = cfg->ram_base + cfg->ram_size;
	unsigned ipa_bits = cfg->ipa_bits ? cfg->ipa_bits : (fls64(ram_end - 1) > 32 ? fls64(ram_end - 1) : 32) + 1;
	if (ipa_bits > 48 || ram_end > (1ULL << (ipa_bits - 1)))
		return berr(err, errlen, "%s: RAM [0x%llx, 0x%llx) needs more than a 48-bit IPA space", cfg->path,
			    (unsigned long long)cfg->ram_base, (unsigned long long)ram_end);
	/* KVM refuses an IPA width above what RMI_FEATURES offers (S2SZ): say so before building. */
	struct rmmemu_smc_result feat;
	if (rmmemu_smc6(emu, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, 0, &feat) == RMI_SUCCESS &&
	    ipa_bits > (feat.x[1] & 0xFF))
		return berr(err, errlen, "%s: a %u-bit IPA space is wider than the platform offers (RMI_FEATURES "
			    "S2SZ %u: the platform's PA width, at most 44 bits with the vCPU, whose Cortex-A72 model "
			    "has a 44-bit PA range)", cfg->path, ipa_bits, (unsigned)(feat.x[1] & 0xFF));
	if (load_kernel(cfg, &k, err, errlen))
		return -1;
	if (cfg->initrd[0] && read_file(cfg->initrd, &initrd, &initrd_len, err, errlen))
		goto out;
	uint64_t limit = ram_end < cfg->ram_base + (256ULL << 20) ? ram_end : cfg->ram_base + (256ULL << 20);
	uint64_t dtb_ipa = (limit - (2ULL << 20) - DTB_SIZE + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	if (limit < cfg->ram_base + (4ULL << 20))
		dtb_ipa = ram_end - DTB_SIZE; /* small RAM: the DTB takes the last 64 KiB */
	uint64_t initrd_ipa = (dtb_ipa - initrd_len) & ~(GRANULE - 1);
	uint64_t kernel_end = (k.load + k.size + GRANULE - 1) & ~(GRANULE - 1);
	if (kernel_end > (initrd_len ? initrd_ipa : dtb_ipa) || dtb_ipa + DTB_SIZE > ram_end) {
		berr(err, errlen, "%s: RAM of %llu MiB is too small for the kernel (%zu bytes)%s and the DTB", cfg->path,
		     (unsigned long long)(cfg->ram_size >> 20), k.size, initrd_len ? ", the initrd" : "");
		goto out;
	}
	dtb = calloc(1, DTB_SIZE);
	if (!dtb) {
		berr(err, errlen, "out of memory");
		goto out;
	}
	if (cfg->dtb[0]) {
		uint8_t *user;
		if (read_file(cfg->dtb, &user, &dtb_len, err, errlen))
			goto out;
		if (dtb_len > DTB_SIZE || fdt_check_header(user) || fdt_totalsize(user) > dtb_len) {
			free(user);
			berr(err, errlen, "%s: not a valid device tree blob of at most 64 KiB", cfg->dtb);
			goto out;
		}
		memcpy(dtb, user, dtb_len);
		free(user);
	} else if (make_dtb(cfg, ipa_bits, initrd_ipa, initrd_len, dtb, err, errlen)) {
		goto out;
	}

	struct rmmemu_vm_params vp = { .ipa_bits = ipa_bits, .nr_vcpus = cfg->vcpus, .uart_base = cfg->uart_base };
	rc = rmmemu_vm_create(emu, &vp, &b->vm);
	if (rc) {
		berr(err, errlen, "VM creation failed: %s", strerror(-rc));
		rc = -1;
		goto out;
	}
	if ((rc = rmmemu_vm_configure(b->vm, cfg->hash, cfg->rpv)) || (!v12 && (rc = rmmemu_vm_create_realm(b->vm)))) {
		rc = vm_err(b, rc, "realm creation", err, errlen);
		goto out;
	}
	/* v12: RAM is a memslot; the realm and its RIPAS appear with the first populate. */
	if ((rc = v12 ? rmmemu_vm_add_memslot(b->vm, cfg->ram_base, cfg->ram_size)
		      : rmmemu_vm_init_ripas(b->vm, cfg->ram_base, cfg->ram_size))) {
		rc = vm_err(b, rc, "INIT_RIPAS over RAM", err, errlen);
		goto out;
	}
	/* Measured populate in ascending address order: kernel, initrd, DTB. */
	if ((rc = populate(b, v12, k.load, k.data, k.size))) {
		rc = vm_err(b, rc, "populating the kernel", err, errlen);
		goto out;
	}
	add_region(b, "kernel", k.load, kernel_end - k.load, true);
	if (initrd_len) {
		if ((rc = populate(b, v12, initrd_ipa, initrd, initrd_len))) {
			rc = vm_err(b, rc, "populating the initrd", err, errlen);
			goto out;
		}
		add_region(b, "initrd", initrd_ipa, (initrd_len + GRANULE - 1) & ~(GRANULE - 1), true);
	}
	if ((rc = populate(b, v12, dtb_ipa, dtb, DTB_SIZE))) {
		rc = vm_err(b, rc, "populating the DTB", err, errlen);
		goto out;
	}
	add_region(b, "dtb", dtb_ipa, DTB_SIZE, true);
	for (unsigned i = 0; i < cfg->vcpus; i++) {
		uint64_t x[8] = { dtb_ipa };
		if ((rc = v12 ? rmmemu_vm_set_vcpu_regs(b->vm, i, k.entry, x) : rmmemu_vm_finalize_vcpu(b->vm, i, k.entry, x))) {
			rc = vm_err(b, rc, "REC creation", err, errlen);
			goto out;
		}
	}
	/* v12: RECs and REALM_ACTIVATE come with the first run. */
	if (!v12 && (rc = rmmemu_vm_activate(b->vm))) {
		rc = vm_err(b, rc, "REALM_ACTIVATE", err, errlen);
		goto out;
	}
	b->entry = k.entry;
	b->dtb_ipa = dtb_ipa;
	b->initrd_ipa = initrd_ipa;
	b->initrd_size = initrd_len;
	rc = 0;
out:
	free(k.data);
	free(initrd);
	free(dtb);
	return rc;
}

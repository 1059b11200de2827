/*
 * Build a realm from a configuration the way KVM + kvmtool do: IPA width from the RAM end, RIPAS RAM
 * over all RAM, the kernel (raw/gzip Image or ELF) at the start of RAM, the DTB (64 KiB) below
 * min(RAM end, RAM base + 256 MiB) - 2 MiB, the initrd just below it, measured populate in ascending
 * address order, one REC per vCPU (x0 = DTB), activate.
 *
 * The files are untrusted input: every header field that places bytes in the realm is range checked
 * with overflow-safe arithmetic before anything is allocated for it, and the layout is fixed first
 * (DTB, then the initrd below it), so the kernel is loaded into the RAM left below them or refused.
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
#define GIC_REDIST_SIZE (128ULL << 10)   /* per vCPU: RD_base and SGI_base frames */

static int berr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* [base, base + size) lies inside [lo, hi), computed without wrapping. */
static bool range_within(uint64_t base, uint64_t size, uint64_t lo, uint64_t hi)
{
	uint64_t end;
	return !__builtin_add_overflow(base, size, &end) && base >= lo && end <= hi;
}

/* Read a whole file of at most `max` bytes. Returns 0, -1 with a reason in err, or 1 when the file
 * is larger than `max` (its size in *len, nothing allocated, the caller says why that is too much). */
static int read_file(const char *path, uint64_t max, uint8_t **buf, size_t *len, char *err, size_t errlen)
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
	if ((uint64_t)n > max) {
		fclose(f);
		*len = (size_t)n;
		return 1;
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

static uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static uint32_t rd32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint16_t rd16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }

/* The RAM the kernel may take: [lo, hi), up to where `above` (the initrd or the DTB) starts. */
struct kspace {
	uint64_t lo, hi;
	const char *above;
};

/* Decompress a gzip file in place (*buf, *len) into at most `bound` bytes. ISIZE (the trailer's
 * size modulo 2^32) only sizes the first allocation: the real size is what inflate produces, and
 * zlib compares the two at the end. On failure the input is released too. */
static int gunzip(const char *path, uint8_t **buf, size_t *len, uint64_t bound, char *err, size_t errlen)
{
	uint8_t *in = *buf, *dst = NULL;
	size_t inlen = *len;
	if (inlen < 18) {
		free(in);
		return berr(err, errlen, "%s: %zu bytes: corrupt or truncated gzip data", path, inlen);
	}
	/* Not refused here when above `bound`: in a truncated file these 4 bytes are not ISIZE. */
	uint32_t isize = rd32(in + inlen - 4);
	z_stream z;
	memset(&z, 0, sizeof(z));
	if (inflateInit2(&z, 15 + 16) != Z_OK) {
		free(in);
		return berr(err, errlen, "zlib init failed");
	}
	/* The first buffer: ISIZE, but no more than `bound` nor deflate's largest ratio (1032:1, zlib's
	 * FAQ) allows. It grows to one byte more than `bound`, so a stream that goes past it is seen. */
	uint64_t first = isize ? isize : 4096;
	first = first < (uint64_t)inlen * 1032 ? first : (uint64_t)inlen * 1032;
	first = first < bound ? first : bound;
	size_t cap = first ? (size_t)first : 1, out = 0;
	dst = malloc(cap);
	z.next_in = in;
	z.avail_in = (uInt)inlen;
	int rc = Z_OK;
	while (dst && rc == Z_OK && out <= bound) {
		if (out == cap) {
			size_t ncap = cap > (bound + 1) / 2 ? (size_t)bound + 1 : cap * 2;
			uint8_t *n = realloc(dst, ncap);
			if (!n) {
				free(dst);
				dst = NULL;
				break;
			}
			dst = n;
			cap = ncap;
		}
		z.next_out = dst + out;
		z.avail_out = (uInt)(cap - out);
		rc = inflate(&z, Z_NO_FLUSH);
		out = cap - z.avail_out;
	}
	/* zlib reports a trailer whose ISIZE differs from the data with this message (inflate.c). */
	bool bad_isize = rc == Z_DATA_ERROR && z.msg && !strcmp(z.msg, "incorrect length check");
	const char *zmsg = z.msg ? z.msg : ""; /* zlib's messages are static strings */
	unsigned trailing = rc == Z_STREAM_END ? z.avail_in : 0;
	inflateEnd(&z);
	free(in);
	if (!dst)
		return berr(err, errlen, "out of memory");
	if (out > bound) {
		free(dst);
		return berr(err, errlen, "%s: decompresses to more than the %llu bytes of RAM the kernel may use", path,
			    (unsigned long long)bound);
	}
	if (bad_isize) {
		free(dst);
		return berr(err, errlen, "%s: gzip ISIZE 0x%x does not match the data, which decompresses to %zu bytes",
			    path, isize, out);
	}
	if (rc != Z_STREAM_END) {
		free(dst);
		return berr(err, errlen, "%s: corrupt or truncated gzip data%s%s", path, zmsg[0] ? ": " : "", zmsg);
	}
	if (trailing) {
		free(dst);
		return berr(err, errlen, "%s: %u bytes after the end of the gzip stream (a second member or padding; "
			    "one gzip member is supported)", path, trailing);
	}
	*buf = dst;
	*len = out;
	return 0;
}

/* The kernel as a RAM image: bytes to place at `load` (IPA), entry point. */
struct kimage {
	uint8_t *data;
	size_t size;
	uint64_t load, entry;
};

/* One PT_LOAD segment, for the overlap check. */
struct seg {
	uint64_t pa, end;
	unsigned i;
};

static int seg_cmp(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;
	return x->pa < y->pa ? -1 : x->pa > y->pa;
}

/* ELF: PT_LOAD segments at p_paddr (p_vaddr is not used), entered at e_entry as an IPA. Takes buf. */
static int load_elf(const char *name, uint8_t *buf, size_t len, const struct kspace *ks, struct kimage *k, char *err,
		    size_t errlen)
{
	struct seg *segs = NULL;
	unsigned n = 0;
	int rc = -1;
	if (buf[4] != 2 || buf[5] != 1 || rd16(buf + 18) != 183) {
		berr(err, errlen, "%s: not a little-endian 64-bit AArch64 ELF file", name);
		goto out;
	}
	uint64_t phoff = rd64(buf + 32), entry = rd64(buf + 24);
	uint16_t phentsize = rd16(buf + 54), phnum = rd16(buf + 56);
	if (phentsize < 56 || phoff > len || (uint64_t)phnum * phentsize > len - phoff) {
		berr(err, errlen, "%s: truncated or malformed ELF program headers (e_phoff 0x%llx, e_phentsize %u, "
		     "e_phnum %u, %zu bytes)", name, (unsigned long long)phoff, phentsize, phnum, len);
		goto out;
	}
	segs = calloc(phnum ? phnum : 1, sizeof(*segs));
	if (!segs) {
		berr(err, errlen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
		if (rd32(ph) != 1 /* PT_LOAD */ || !rd64(ph + 40))
			continue;
		uint64_t pa = rd64(ph + 24), memsz = rd64(ph + 40), off = rd64(ph + 8), filesz = rd64(ph + 32);
		if (filesz > memsz) {
			berr(err, errlen, "%s: ELF segment %u p_filesz 0x%llx is larger than its p_memsz 0x%llx", name, i,
			     (unsigned long long)filesz, (unsigned long long)memsz);
			goto out;
		}
		if (off > len || filesz > len - off) {
			berr(err, errlen, "%s: ELF segment %u p_offset 0x%llx + p_filesz 0x%llx lies beyond the end of the "
			     "file (%zu bytes; truncated?)", name, i, (unsigned long long)off, (unsigned long long)filesz, len);
			goto out;
		}
		if (pa < ks->lo || pa >= ks->hi) {
			berr(err, errlen, "%s: ELF segment %u p_paddr 0x%llx is outside the RAM the kernel may use "
			     "[0x%llx, 0x%llx) (below the %s)", name, i, (unsigned long long)pa,
			     (unsigned long long)ks->lo, (unsigned long long)ks->hi, ks->above);
			goto out;
		}
		if (!range_within(pa, memsz, ks->lo, ks->hi)) {
			berr(err, errlen, "%s: ELF segment %u p_memsz 0x%llx at p_paddr 0x%llx runs past 0x%llx, where the "
			     "%s starts", name, i, (unsigned long long)memsz, (unsigned long long)pa,
			     (unsigned long long)ks->hi, ks->above);
			goto out;
		}
		segs[n++] = (struct seg){ pa, pa + memsz, i };
	}
	if (!n) {
		berr(err, errlen, "%s: no loadable segment", name);
		goto out;
	}
	qsort(segs, n, sizeof(*segs), seg_cmp);
	bool entry_in = false;
	for (unsigned j = 0; j < n; j++) {
		if (j && segs[j].pa < segs[j - 1].end) {
			unsigned a = segs[j - 1].i < segs[j].i ? segs[j - 1].i : segs[j].i;
			unsigned b = segs[j - 1].i < segs[j].i ? segs[j].i : segs[j - 1].i;
			berr(err, errlen, "%s: ELF segments %u and %u overlap at 0x%llx", name, a, b,
			     (unsigned long long)segs[j].pa);
			goto out;
		}
		entry_in |= entry >= segs[j].pa && entry < segs[j].end;
	}
	if (!entry_in) {
		berr(err, errlen, "%s: ELF entry 0x%llx is not inside a loadable segment", name, (unsigned long long)entry);
		goto out;
	}
	/* Every segment lies in [ks->lo, ks->hi), so the image is at most that large. */
	uint64_t lo = segs[0].pa & ~(GRANULE - 1), hi = segs[n - 1].end; /* sorted, disjoint */
	k->size = hi - lo;
	k->data = calloc(1, k->size);
	if (!k->data) {
		berr(err, errlen, "out of memory");
		goto out;
	}
	for (unsigned i = 0; i < phnum; i++) {
		const uint8_t *ph = buf + phoff + (uint64_t)i * phentsize;
		if (rd32(ph) == 1 && rd64(ph + 40))
			memcpy(k->data + (rd64(ph + 24) - lo), buf + rd64(ph + 8), rd64(ph + 32));
	}
	k->load = lo;
	k->entry = entry;
	rc = 0;
out:
	free(segs);
	free(buf);
	return rc;
}

/* arm64 Image (Documentation/arch/arm64/booting.rst): "ARM\x64" at 0x38, text_offset at 0x08, image_size
 * (the size with BSS, which must be free RAM too: kvmtool takes the larger of it and the file) at 0x10,
 * flags at 0x18. Anything else is a raw binary loaded and entered at the start of RAM. Takes buf. */
static int load_image(const char *name, uint8_t *buf, size_t len, const struct kspace *ks, struct kimage *k, char *err,
		      size_t errlen)
{
	uint64_t text_offset = 0, image_size = 0, load;
	if (len >= 64 && !memcmp(buf + 0x38, "ARM\x64", 4)) {
		text_offset = rd64(buf + 8);
		image_size = rd64(buf + 16);
		uint64_t flags = rd64(buf + 24);
		if (flags & 1) {
			free(buf);
			return berr(err, errlen, "%s: Image header flags 0x%llx: a big-endian kernel (bit 0); the realm's "
				    "vCPUs start little-endian", name, (unsigned long long)flags);
		}
		if (text_offset % GRANULE) {
			free(buf);
			return berr(err, errlen, "%s: Image header text_offset 0x%llx is not a multiple of 4 KiB (RAM is "
				    "populated in granules)", name, (unsigned long long)text_offset);
		}
		if (__builtin_add_overflow(ks->lo, text_offset, &load) || load >= ks->hi) {
			free(buf);
			return berr(err, errlen, "%s: Image header text_offset 0x%llx puts the kernel outside the RAM it may "
				    "use [0x%llx, 0x%llx) (below the %s)", name, (unsigned long long)text_offset,
				    (unsigned long long)ks->lo, (unsigned long long)ks->hi, ks->above);
		}
		if (image_size > len && !range_within(load, image_size, ks->lo, ks->hi)) {
			free(buf);
			return berr(err, errlen, "%s: Image header image_size 0x%llx: the kernel at 0x%llx runs past 0x%llx, "
				    "where the %s starts", name, (unsigned long long)image_size,
				    (unsigned long long)load, (unsigned long long)ks->hi, ks->above);
		}
	}
	load = ks->lo + text_offset;
	if (!len || !range_within(load, len, ks->lo, ks->hi)) {
		free(buf);
		return berr(err, errlen, "%s: %zu bytes at 0x%llx do not fit below 0x%llx, where the %s starts (RAM too "
			    "small for the kernel, the initrd and the DTB)", name, len, (unsigned long long)load,
			    (unsigned long long)ks->hi, ks->above);
	}
	k->data = buf;
	k->size = len;
	k->load = load;
	k->entry = load;
	return 0;
}

static int load_kernel(const struct realm_config *cfg, const struct kspace *ks, struct kimage *k, char *err,
		       size_t errlen)
{
	const char *name = cfg->kernel;
	uint8_t *buf;
	size_t len;
	if (cfg->kernel_data) {
		len = cfg->kernel_size;
		buf = malloc(len ? len : 1);
		if (!buf)
			return berr(err, errlen, "out of memory");
		memcpy(buf, cfg->kernel_data, len);
	} else {
		int r = read_file(name, MAX_IMAGE, &buf, &len, err, errlen);
		if (r > 0)
			return berr(err, errlen, "%s: larger than %llu MiB", name, (unsigned long long)(MAX_IMAGE >> 20));
		if (r)
			return -1;
	}
	uint64_t room = ks->hi - ks->lo;
	if (len >= 2 && buf[0] == 0x1F && buf[1] == 0x8B &&
	    gunzip(name, &buf, &len, room < MAX_IMAGE ? room : MAX_IMAGE, err, errlen))
		return -1;
	if (len >= 64 && !memcmp(buf, "\x7F" "ELF", 4))
		return load_elf(name, buf, len, ks, k, err, errlen);
	return load_image(name, buf, len, ks, k, err, errlen);
}

static unsigned fls64(uint64_t x)
{
	return x ? 64U - (unsigned)__builtin_clzll(x) : 0;
}

/* The redistributors: configured, or (0) ending where the distributor starts. */
static uint64_t gicr_base(const struct realm_config *cfg)
{
	return cfg->gicr_base ? cfg->gicr_base : cfg->gicd_base - GIC_REDIST_SIZE * cfg->vcpus;
}

/*
 * The DT a VMM generates: memory, cpus (PSCI via SMC), PSCI, timer, GICv3, PL011. Devices are named
 * at their unprotected alias (shared bit | IPA: devices.placement shared, what a stock kernel needs)
 * or at their protected-half IPA (protected: a CCA-aware kernel finds RIPAS EMPTY there with
 * RSI_IPA_STATE_GET and maps the device through the alias itself). Their MMIO reaches the host at
 * the alias either way.
 */
static int make_dtb(const struct realm_config *cfg, unsigned ipa_bits, uint64_t initrd, uint64_t initrd_size,
		    uint8_t *fdt, char *err, size_t errlen)
{
	uint64_t dev = cfg->devices_protected ? 0 : 1ULL << (ipa_bits - 1);   /* ORed into device IPAs */
	uint64_t gicd = dev | cfg->gicd_base, gicr = dev | gicr_base(cfg), uart = dev | cfg->uart_base;
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
	snprintf(name, sizeof(name), "/pl011@%llx", (unsigned long long)uart);
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

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)gicd);
	rc = rc ?: fdt_begin_node(fdt, name);
	rc = rc ?: fdt_property_string(fdt, "compatible", "arm,gic-v3");
	rc = rc ?: fdt_property_u32(fdt, "#interrupt-cells", 3);
	rc = rc ?: fdt_property(fdt, "interrupt-controller", NULL, 0);
	rc = rc ?: fdt_property_u32(fdt, "phandle", 1);
	fdt64_t gic[4] = { cpu_to_fdt64(gicd), cpu_to_fdt64(0x10000),
			   cpu_to_fdt64(gicr), cpu_to_fdt64(GIC_REDIST_SIZE * cfg->vcpus) };
	rc = rc ?: fdt_property(fdt, "reg", gic, sizeof(gic));
	rc = rc ?: fdt_end_node(fdt);

	rc = rc ?: fdt_begin_node(fdt, "apb-pclk");
	rc = rc ?: fdt_property_string(fdt, "compatible", "fixed-clock");
	rc = rc ?: fdt_property_u32(fdt, "#clock-cells", 0);
	rc = rc ?: fdt_property_u32(fdt, "clock-frequency", 24000000);
	rc = rc ?: fdt_property_u32(fdt, "phandle", 2);
	rc = rc ?: fdt_end_node(fdt);

	snprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)uart);
	rc = rc ?: fdt_begin_node(fdt, name);
	static const char uart_compat[] = "arm,pl011\0arm,primecell";
	rc = rc ?: fdt_property(fdt, "compatible", uart_compat, sizeof(uart_compat));
	/* The PrimeCell ID (ARM, PL011 r1) given here: Linux's AMBA bus matches the driver with it instead
	 * of reading the ID registers (0xFE0..0xFFC), which the host's console does not emulate. */
	rc = rc ?: fdt_property_u32(fdt, "arm,primecell-periphid", 0x00141011);
	fdt64_t ureg[2] = { cpu_to_fdt64(uart), cpu_to_fdt64(0x1000) };
	rc = rc ?: fdt_property(fdt, "reg", ureg, sizeof(ureg));
	/* SPI uart_spi (INTID 32 + uart_spi), level-high (4) */
	fdt32_t uirq[3] = { cpu_to_fdt32(0), cpu_to_fdt32(cfg->uart_spi), cpu_to_fdt32(4) };
	rc = rc ?: fdt_property(fdt, "interrupts", uirq, sizeof(uirq));
	fdt32_t clk[2] = { cpu_to_fdt32(2), cpu_to_fdt32(2) };
	rc = rc ?: fdt_property(fdt, "clocks", clk, sizeof(clk));
	static const char clk_names[] = "uartclk\0apb_pclk";
	rc = rc ?: fdt_property(fdt, "clock-names", clk_names, sizeof(clk_names));
	rc = rc ?: fdt_end_node(fdt);

	/* virtio-mmio transports go here (a later step): one "virtio,mmio" node per device, reg = 512 bytes
	 * at dev | its IPA, interrupts = <0 SPI 1> (edge), placed and checked like the devices above. */

	rc = rc ?: fdt_end_node(fdt);
	rc = rc ?: fdt_finish(fdt);
	if (rc)
		return berr(err, errlen, "device tree generation failed: %s", fdt_strerror(rc));
	return 0;
}

/* A DTB file into `fdt` (DTB_SIZE bytes). libfdt trusts the buffer to hold the header and totalsize
 * bytes, so both are checked against the file's size before libfdt sees it. */
static int load_dtb(const char *path, uint8_t *fdt, size_t *len, char *err, size_t errlen)
{
	uint8_t *user;
	int r = read_file(path, DTB_SIZE, &user, len, err, errlen);
	if (r > 0)
		return berr(err, errlen, "%s: %zu bytes, more than the 64 KiB the host places for the DTB", path, *len);
	if (r)
		return -1;
	if (*len < sizeof(struct fdt_header)) {
		free(user);
		return berr(err, errlen, "%s: %zu bytes, shorter than the %zu-byte FDT header", path, *len,
			    sizeof(struct fdt_header));
	}
	uint32_t magic = fdt_magic(user);
	if (magic != FDT_MAGIC) {
		free(user);
		return berr(err, errlen, "%s: not a device tree blob (magic 0x%08x)", path, magic);
	}
	uint32_t total = fdt_totalsize(user);
	if (total > *len) {
		free(user);
		return berr(err, errlen, "%s: FDT header totalsize %u is more than the file's %zu bytes", path, total,
			    *len);
	}
	int rc = fdt_check_full(user, *len);
	if (rc) {
		free(user);
		return berr(err, errlen, "%s: not a valid device tree blob: %s", path, fdt_strerror(rc));
	}
	memcpy(fdt, user, *len);
	free(user);
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
	/* The layout is fixed from the top down before any file is trusted: the DTB, the initrd below it,
	 * the kernel in what is left from the start of RAM (kvmtool's order and overlap checks). */
	uint64_t limit = ram_end < cfg->ram_base + (256ULL << 20) ? ram_end : cfg->ram_base + (256ULL << 20);
	uint64_t dtb_ipa = (limit - (2ULL << 20) - DTB_SIZE + (2ULL << 20) - 1) & ~((2ULL << 20) - 1);
	if (limit < cfg->ram_base + (4ULL << 20))
		dtb_ipa = ram_end - DTB_SIZE; /* small RAM: the DTB takes the last 64 KiB */
	if (cfg->ram_size < DTB_SIZE || !range_within(dtb_ipa, DTB_SIZE, cfg->ram_base, ram_end))
		return berr(err, errlen, "%s: RAM of %llu bytes has no room for the 64 KiB DTB", cfg->path,
			    (unsigned long long)cfg->ram_size);
	uint64_t initrd_ipa = dtb_ipa;
	if (cfg->initrd[0]) {
		int r = read_file(cfg->initrd, dtb_ipa - cfg->ram_base, &initrd, &initrd_len, err, errlen);
		if (r > 0)
			return berr(err, errlen, "%s: initrd of %zu bytes does not fit in the %llu bytes of RAM below the "
				    "DTB at 0x%llx", cfg->initrd, initrd_len, (unsigned long long)(dtb_ipa - cfg->ram_base),
				    (unsigned long long)dtb_ipa);
		if (r)
			return -1;
		/* initrd_len <= dtb_ipa - RAM base, which is 2 MiB aligned: stays in RAM. */
		initrd_ipa = (dtb_ipa - initrd_len) & ~(GRANULE - 1);
	}
	struct kspace ks = { cfg->ram_base, initrd_len ? initrd_ipa : dtb_ipa, initrd_len ? "initrd" : "DTB" };
	if (load_kernel(cfg, &ks, &k, err, errlen))
		goto out;
	/* load_kernel keeps the kernel inside ks, so it ends at or below the initrd (or the DTB). */
	uint64_t kernel_end = (k.load + k.size + GRANULE - 1) & ~(GRANULE - 1);
	dtb = calloc(1, DTB_SIZE);
	if (!dtb) {
		berr(err, errlen, "out of memory");
		goto out;
	}
	if (cfg->dtb[0] && load_dtb(cfg->dtb, dtb, &dtb_len, err, errlen))
		goto out;
	if (!cfg->dtb[0] && make_dtb(cfg, ipa_bits, initrd_ipa, initrd_len, dtb, err, errlen))
		goto out;

	/* The host's devices are where the DT says, without the shared bit whatever the placement: their
	 * MMIO exits arrive at the alias and the host strips the bit. The vGIC is always there (the DT
	 * always names a GICv3); the PL011 interrupts with its SPI. */
	struct rmmemu_vm_params vp = {
		.ipa_bits = ipa_bits, .nr_vcpus = cfg->vcpus, .uart_base = cfg->uart_base,
		.gicd_base = cfg->gicd_base, .gicr_base = gicr_base(cfg), .uart_irq = 32 + cfg->uart_spi,
		.uart_in = cfg->uart_in,
	};
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

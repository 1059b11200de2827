/*
 * RMI throughput benchmark (not a test). Prints one line per measurement:
 *     name: value unit (target ...)  [ratio against a plain reference measured in the same run]
 *
 *   - platform start time and RSS of a 64 GiB simulated DRAM platform (VmRSS, /proc/self/status);
 *   - RMI_VERSION calls/s: the dispatch floor (lock, FID lookup, handler, unlock);
 *   - RMI_RTT_READ_ENTRY calls/s on a populated realm (a 3-level walk to a DATA page);
 *   - GRANULE_DELEGATE + GRANULE_UNDELEGATE pairs/s (each scrubs the granule), against two
 *     memset(4096) per pair;
 *   - RTT_CREATE + RTT_DESTROY pairs/s (a level-3 RTT is filled and later scrubbed), against a
 *     512-entry fill plus a memset(4096) per pair;
 *   - realm build rate: REALM_CREATE, RTTs, INIT_RIPAS, N measured DATA_CREATE, REC_CREATE,
 *     REALM_ACTIVATE and the full teardown, in realms/s; DATA_CREATE (measured, SHA-256) in
 *     granules/s against memcpy(4096) + SHA-256 of the granule.
 * Every rate is the best of a few timed repetitions.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rmmemu/rmmemu.h"

#define GRANULE    4096ULL
#define MIB        (1ULL << 20)
#define GIB        (1ULL << 30)
#define DRAM_BASE  0x80000000ULL
#define DRAM_SIZE  (1ULL << 30)
#define PARAMS     (DRAM_BASE + 0x00000000ULL)   /* NS: realm / REC params, run page, DATA source */
#define REC_PARAMS (DRAM_BASE + 0x00001000ULL)
#define SRC_PAGE   (DRAM_BASE + 0x00002000ULL)
#define META_BASE  (DRAM_BASE + 0x00100000ULL)   /* RDs, RTTs, RECs: allocated upwards */
#define DATA_BASE  (DRAM_BASE + 0x10000000ULL)   /* DATA granules */
#define PAIR_BASE  (DRAM_BASE + 0x20000000ULL)   /* granules for delegate/undelegate pairs */
#define PAIR_COUNT 4096ULL                       /* 16 MiB, cycled */

#define BUILD_DATA_PAGES 256                     /* measured DATA_CREATE per realm built */
#define NAUX_MAX 16

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, uint64_t x0)
{
	char buf[64];
	rmmemu_format_return(x0, buf, sizeof(buf));
	fprintf(stderr, "bench_rmi: %s failed: %s\n", what, buf);
	exit(1);
}

static uint64_t smc(struct rmmemu *emu, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5, struct rmmemu_smc_result *r)
{
	return rmmemu_smc6(emu, fid, a1, a2, a3, a4, a5, 0, r);
}

#define OK(emu, what, fid, ...)                                                       \
	do {                                                                          \
		uint64_t x0_ = smc(emu, fid, __VA_ARGS__);                            \
		if (x0_ != RMI_SUCCESS)                                               \
			die(what, x0_);                                               \
	} while (0)

/* VmRSS of this process in KiB (0 if unavailable). */
static unsigned long vm_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	unsigned long kib = 0;
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lu kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

volatile uint64_t bench_sink;

/* ------------------------------------------------------------------------------------------ */
/* A realm to work in                                                                          */
/* ------------------------------------------------------------------------------------------ */

struct realm {
	struct rmmemu *emu;
	uint64_t rd, root;
	uint64_t next_meta;    /* next free granule in META_BASE.. */
};

static uint64_t meta_alloc(struct realm *r)
{
	uint64_t a = r->next_meta;
	r->next_meta += GRANULE;
	OK(r->emu, "delegate", SMC_RMI_GRANULE_DELEGATE, a, 0, 0, 0, 0, NULL);
	return a;
}

/* S2SZ 39, starting level 1, one root RTT: a walk to a page visits levels 1, 2 and 3. */
static void realm_create(struct realm *r, struct rmmemu *emu, uint64_t meta, unsigned vmid)
{
	uint8_t p[GRANULE];
	memset(r, 0, sizeof(*r));
	r->emu = emu;
	r->next_meta = meta;
	r->rd = meta_alloc(r);
	r->root = meta_alloc(r);
	memset(p, 0, sizeof(p));
	p[RMI_REALM_PARAMS_S2SZ] = 39;
	p[RMI_REALM_PARAMS_NUM_BPS] = 1;
	p[RMI_REALM_PARAMS_NUM_WPS] = 1;
	p[RMI_REALM_PARAMS_HASH_ALGO] = RMI_HASH_SHA_256;
	p[RMI_REALM_PARAMS_VMID] = (uint8_t)vmid;
	p[RMI_REALM_PARAMS_VMID + 1] = (uint8_t)(vmid >> 8);
	uint64_t v = r->root;
	memcpy(p + RMI_REALM_PARAMS_RTT_BASE, &v, 8);
	v = 1;
	memcpy(p + RMI_REALM_PARAMS_RTT_LEVEL_START, &v, 8);
	uint32_t n = 1;
	memcpy(p + RMI_REALM_PARAMS_RTT_NUM_START, &n, 4);
	rmmemu_ns_write(emu, PARAMS, p, sizeof(p));
	OK(emu, "REALM_CREATE", SMC_RMI_REALM_CREATE, r->rd, PARAMS, 0, 0, 0, NULL);
}

/* Level-2 and level-3 RTTs covering [ipa, ipa + size) (size a multiple of 2 MiB, within 1 GiB). */
static void realm_map_tables(struct realm *r, uint64_t ipa, uint64_t size, uint64_t *rtts, unsigned *nrtts)
{
	uint64_t l2 = meta_alloc(r);
	OK(r->emu, "RTT_CREATE L2", SMC_RMI_RTT_CREATE, r->rd, l2, ipa & ~(GIB - 1), 2, 0, NULL);
	rtts[(*nrtts)++] = l2;
	for (uint64_t off = 0; off < size; off += 2 * MIB) {
		uint64_t l3 = meta_alloc(r);
		OK(r->emu, "RTT_CREATE L3", SMC_RMI_RTT_CREATE, r->rd, l3, ipa + off, 3, 0, NULL);
		rtts[(*nrtts)++] = l3;
	}
}

static void realm_init_ripas(struct realm *r, uint64_t base, uint64_t top)
{
	struct rmmemu_smc_result res;
	while (base < top) {
		OK(r->emu, "RTT_INIT_RIPAS", SMC_RMI_RTT_INIT_RIPAS, r->rd, base, top, 0, 0, &res);
		base = res.x[1];
	}
}

/* Destroy the tables created by realm_map_tables (L3s, then the L2), the realm, and undelegate
 * every metadata granule. */
static void realm_teardown(struct realm *r, uint64_t ipa, uint64_t size, uint64_t meta)
{
	for (uint64_t off = 0; off < size; off += 2 * MIB)
		OK(r->emu, "RTT_DESTROY L3", SMC_RMI_RTT_DESTROY, r->rd, ipa + off, 3, 0, 0, NULL);
	OK(r->emu, "RTT_DESTROY L2", SMC_RMI_RTT_DESTROY, r->rd, ipa & ~(GIB - 1), 2, 0, 0, NULL);
	OK(r->emu, "REALM_DESTROY", SMC_RMI_REALM_DESTROY, r->rd, 0, 0, 0, 0, NULL);
	for (uint64_t a = meta; a < r->next_meta; a += GRANULE)
		OK(r->emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, a, 0, 0, 0, 0, NULL);
}

/* ------------------------------------------------------------------------------------------ */
/* Measurements                                                                                */
/* ------------------------------------------------------------------------------------------ */

static void bench_platform_start(void)
{
	struct rmmemu_platform_config cfg;
	char err[256];
	rmmemu_platform_default(&cfg);
	cfg.dram[0] = (struct rmmemu_range){ DRAM_BASE, 64 * GIB };
	unsigned long rss0 = vm_rss_kib();
	double t0 = now();
	struct rmmemu *emu = rmmemu_create(&cfg, err, sizeof(err));
	double t = now() - t0;
	if (!emu) {
		fprintf(stderr, "bench_rmi: rmmemu_create(64 GiB): %s\n", err);
		exit(1);
	}
	unsigned long rss1 = vm_rss_kib();
	printf("platform start (64 GiB DRAM): %.3f ms (target < 50 ms)\n", t * 1e3);
	printf("platform RSS after start (64 GiB DRAM): %.1f MiB (target < 512 MiB; +%.1f MiB over the %.1f MiB before)\n",
	       rss1 / 1024.0, (double)(rss1 - rss0) / 1024.0, rss0 / 1024.0);

	/* Touch a little: delegate + undelegate 1024 granules spread over the 64 GiB. */
	uint64_t stride = 64 * GIB / 1024;
	for (uint64_t i = 0; i < 1024; i++) {
		OK(emu, "delegate", SMC_RMI_GRANULE_DELEGATE, DRAM_BASE + i * stride, 0, 0, 0, 0, NULL);
		OK(emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, DRAM_BASE + i * stride, 0, 0, 0, 0, NULL);
	}
	unsigned long rss2 = vm_rss_kib();
	printf("platform RSS after delegate+undelegate of 1024 granules spread over 64 GiB: %.1f MiB "
	       "(+%.1f MiB: one data page and one metadata page each)\n", rss2 / 1024.0,
	       (double)(rss2 - rss1) / 1024.0);
	t0 = now();
	rmmemu_destroy(emu);
	printf("platform destroy (64 GiB DRAM): %.3f ms\n", (now() - t0) * 1e3);
}

/* Best-of-reps rate of `iters` iterations of body. */
#define RATE(result, reps, iters, body)                                        \
	do {                                                                   \
		double best_ = 1e30;                                           \
		for (int rep_ = 0; rep_ < (reps); rep_++) {                    \
			double t0_ = now();                                    \
			for (uint64_t it = 0; it < (iters); it++) {            \
				body;                                          \
			}                                                      \
			double t_ = now() - t0_;                               \
			if (t_ < best_)                                        \
				best_ = t_;                                    \
		}                                                              \
		(result) = (double)(iters) / best_;                            \
	} while (0)

static double bench_version(struct rmmemu *emu)
{
	double rate;
	uint64_t acc = 0;
	RATE(rate, 5, 2000000ULL, acc += smc(emu, SMC_RMI_VERSION, RMI_ABI_VERSION, 0, 0, 0, 0, NULL));
	bench_sink += acc;
	printf("RMI_VERSION (dispatch floor): %.2f M calls/s\n", rate / 1e6);
	return rate;
}

static void bench_read_entry(struct rmmemu *emu, double floor)
{
	struct realm r;
	const uint64_t ipa = 0x40000000ULL, size = 8 * MIB, pages = size / GRANULE;
	uint64_t rtts[16];
	unsigned nrtts = 0;
	realm_create(&r, emu, META_BASE, 1);
	realm_map_tables(&r, ipa, size, rtts, &nrtts);
	realm_init_ripas(&r, ipa, ipa + size);
	for (uint64_t i = 0; i < pages; i++) {
		OK(emu, "delegate", SMC_RMI_GRANULE_DELEGATE, DATA_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
		OK(emu, "DATA_CREATE", SMC_RMI_DATA_CREATE, r.rd, DATA_BASE + i * GRANULE, ipa + i * GRANULE, SRC_PAGE,
		   RMI_NO_MEASURE_CONTENT, NULL);
	}
	/* Sanity: a level-3 read reaches the page. */
	struct rmmemu_smc_result res;
	OK(emu, "RTT_READ_ENTRY", SMC_RMI_RTT_READ_ENTRY, r.rd, ipa + GRANULE, 3, 0, 0, &res);
	if (res.x[1] != 3 || res.x[2] != RMI_ASSIGNED || res.x[3] != DATA_BASE + GRANULE)
		die("RTT_READ_ENTRY result", res.x[2]);

	double rate;
	uint64_t acc = 0;
	RATE(rate, 5, 2000000ULL,
	     acc += smc(emu, SMC_RMI_RTT_READ_ENTRY, r.rd, ipa + (it % pages) * GRANULE, 3, 0, 0, &res);
	     acc += res.x[3]);
	bench_sink += acc;
	printf("RTT_READ_ENTRY (level 3, realm with %llu DATA pages): %.2f M calls/s (target >= 5 M calls/s); "
	       "%.2fx the time of an RMI_VERSION call\n", (unsigned long long)pages, rate / 1e6, floor / rate);

	for (uint64_t i = 0; i < pages; i++) {
		OK(emu, "DATA_DESTROY", SMC_RMI_DATA_DESTROY, r.rd, ipa + i * GRANULE, 0, 0, 0, NULL);
		OK(emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, DATA_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
	}
	realm_teardown(&r, ipa, size, META_BASE);
}

static void bench_delegate(struct rmmemu *emu)
{
	uint8_t *ref = aligned_alloc(GRANULE, PAIR_COUNT * GRANULE);
	if (!ref)
		exit(1);
	memset(ref, 1, PAIR_COUNT * GRANULE);
	/* Warm up: fault in the simulated DRAM and metadata of the cycled granules. */
	for (uint64_t i = 0; i < PAIR_COUNT; i++) {
		OK(emu, "delegate", SMC_RMI_GRANULE_DELEGATE, PAIR_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
		OK(emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, PAIR_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
	}
	double rate, ref_rate;
	uint64_t acc = 0;
	RATE(rate, 5, 1000000ULL, {
		uint64_t a = PAIR_BASE + (it % PAIR_COUNT) * GRANULE;
		acc += smc(emu, SMC_RMI_GRANULE_DELEGATE, a, 0, 0, 0, 0, NULL);
		acc += smc(emu, SMC_RMI_GRANULE_UNDELEGATE, a, 0, 0, 0, 0, NULL);
	});
	if (acc)
		die("delegate/undelegate pair", acc);
	RATE(ref_rate, 5, 1000000ULL, {
		uint8_t *p = ref + (it % PAIR_COUNT) * GRANULE;
		memset(p, 0, GRANULE);
		__asm__ volatile("" : : "r"(p) : "memory");
		memset(p, 0, GRANULE);
		__asm__ volatile("" : : "r"(p) : "memory");
	});
	printf("GRANULE_DELEGATE+UNDELEGATE pair (with scrub): %.2f M pairs/s (target >= 1 M pairs/s); "
	       "%.2fx the time of two memset(4096) (%.2f M pairs/s)\n", rate / 1e6, ref_rate / rate, ref_rate / 1e6);
	free(ref);
}

static void bench_rtt_pair(struct rmmemu *emu)
{
	struct realm r;
	const uint64_t ipa = 0x40000000ULL;
	uint64_t rtts[4];
	unsigned nrtts = 0;
	realm_create(&r, emu, META_BASE, 2);
	uint64_t l2 = meta_alloc(&r);
	OK(emu, "RTT_CREATE L2", SMC_RMI_RTT_CREATE, r.rd, l2, ipa, 2, 0, NULL);
	rtts[nrtts++] = l2;
	/* 64 level-3 RTT granules, cycled over 64 IPAs of 2 MiB. */
	uint64_t l3[64];
	for (unsigned i = 0; i < 64; i++)
		l3[i] = meta_alloc(&r);
	double rate, ref_rate;
	uint64_t acc = 0;
	RATE(rate, 5, 500000ULL, {
		unsigned k = (unsigned)(it % 64);
		acc += smc(emu, SMC_RMI_RTT_CREATE, r.rd, l3[k], ipa + k * 2 * MIB, 3, 0, NULL);
		acc += smc(emu, SMC_RMI_RTT_DESTROY, r.rd, ipa + k * 2 * MIB, 3, 0, 0, NULL);
	});
	if (acc)
		die("RTT_CREATE/RTT_DESTROY pair", acc);
	uint64_t *ref = aligned_alloc(GRANULE, 64 * GRANULE);
	if (!ref)
		exit(1);
	RATE(ref_rate, 5, 500000ULL, {
		uint64_t *t = ref + (it % 64) * 512;
		for (unsigned i = 0; i < 512; i++)
			t[i] = 0x4ULL << 2;
		__asm__ volatile("" : : "r"(t) : "memory");
		memset(t, 0, GRANULE);
		__asm__ volatile("" : : "r"(t) : "memory");
	});
	free(ref);
	printf("RTT_CREATE+RTT_DESTROY pair (level 3): %.2f M pairs/s; %.2fx the time of a 512-entry fill + "
	       "memset(4096) (%.2f M pairs/s)\n", rate / 1e6, ref_rate / rate, ref_rate / 1e6);
	OK(emu, "RTT_DESTROY L2", SMC_RMI_RTT_DESTROY, r.rd, ipa, 2, 0, 0, NULL);
	(void)rtts;
	OK(emu, "REALM_DESTROY", SMC_RMI_REALM_DESTROY, r.rd, 0, 0, 0, 0, NULL);
	for (uint64_t a = META_BASE; a < r.next_meta; a += GRANULE)
		OK(emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, a, 0, 0, 0, 0, NULL);
}

/* One full realm life: returns the time spent in the DATA_CREATE calls. */
static double build_one_realm(struct rmmemu *emu, unsigned vmid)
{
	struct realm r;
	const uint64_t ipa = 0x40000000ULL, size = (uint64_t)BUILD_DATA_PAGES * GRANULE;
	uint64_t rtts[8];
	unsigned nrtts = 0;
	realm_create(&r, emu, META_BASE, vmid);
	realm_map_tables(&r, ipa, (size + 2 * MIB - 1) & ~(2 * MIB - 1), rtts, &nrtts);
	realm_init_ripas(&r, ipa, ipa + size);
	for (unsigned i = 0; i < BUILD_DATA_PAGES; i++)
		OK(emu, "delegate", SMC_RMI_GRANULE_DELEGATE, DATA_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
	double t0 = now();
	for (unsigned i = 0; i < BUILD_DATA_PAGES; i++)
		OK(emu, "DATA_CREATE", SMC_RMI_DATA_CREATE, r.rd, DATA_BASE + i * GRANULE, ipa + i * GRANULE, SRC_PAGE,
		   RMI_MEASURE_CONTENT, NULL);
	double t_data = now() - t0;

	/* One runnable REC with its auxiliary granules. */
	struct rmmemu_smc_result res;
	OK(emu, "REC_AUX_COUNT", SMC_RMI_REC_AUX_COUNT, r.rd, 0, 0, 0, 0, &res);
	unsigned naux = (unsigned)res.x[1];
	if (naux > NAUX_MAX)
		die("REC_AUX_COUNT too large", naux);
	uint8_t p[GRANULE];
	memset(p, 0, sizeof(p));
	uint64_t v = RMI_REC_PARAMS_FLAG_RUNNABLE;
	memcpy(p + RMI_REC_PARAMS_FLAGS, &v, 8);
	v = 0x80000000ULL;
	memcpy(p + RMI_REC_PARAMS_PC, &v, 8);
	v = naux;
	memcpy(p + RMI_REC_PARAMS_NUM_AUX, &v, 8);
	uint64_t rec = meta_alloc(&r);
	for (unsigned i = 0; i < naux; i++) {
		v = meta_alloc(&r);
		memcpy(p + RMI_REC_PARAMS_AUX + 8 * i, &v, 8);
	}
	rmmemu_ns_write(emu, REC_PARAMS, p, sizeof(p));
	OK(emu, "REC_CREATE", SMC_RMI_REC_CREATE, r.rd, rec, REC_PARAMS, 0, 0, NULL);
	OK(emu, "REALM_ACTIVATE", SMC_RMI_REALM_ACTIVATE, r.rd, 0, 0, 0, 0, NULL);

	/* Teardown. */
	OK(emu, "REC_DESTROY", SMC_RMI_REC_DESTROY, rec, 0, 0, 0, 0, NULL);
	for (unsigned i = 0; i < BUILD_DATA_PAGES; i++) {
		OK(emu, "DATA_DESTROY", SMC_RMI_DATA_DESTROY, r.rd, ipa + i * GRANULE, 0, 0, 0, NULL);
		OK(emu, "undelegate", SMC_RMI_GRANULE_UNDELEGATE, DATA_BASE + i * GRANULE, 0, 0, 0, 0, NULL);
	}
	realm_teardown(&r, ipa, (size + 2 * MIB - 1) & ~(2 * MIB - 1), META_BASE);
	return t_data;
}

static void bench_realm_build(struct rmmemu *emu)
{
	uint8_t src[GRANULE];
	for (unsigned i = 0; i < GRANULE; i++)
		src[i] = (uint8_t)(i * 7 + 3);
	rmmemu_ns_write(emu, SRC_PAGE, src, sizeof(src));
	build_one_realm(emu, 3);   /* warm up */

	const int realms = 100;
	double best_total = 1e30, best_data = 1e30;
	for (int rep = 0; rep < 3; rep++) {
		double t_data = 0, t0 = now();
		for (int i = 0; i < realms; i++)
			t_data += build_one_realm(emu, 3);
		double t = now() - t0;
		if (t < best_total)
			best_total = t;
		if (t_data < best_data)
			best_data = t_data;
	}
	double realm_rate = realms / best_total;
	double data_rate = (double)realms * BUILD_DATA_PAGES / best_data;

	/* Reference: copy the granule and hash it (SHA-256), the irreducible part of a measured DATA_CREATE. */
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA2-256", NULL);
	uint8_t *dst = aligned_alloc(GRANULE, BUILD_DATA_PAGES * GRANULE), digest[32];
	if (!dst || !md)
		exit(1);
	double ref_rate;
	RATE(ref_rate, 5, 20000ULL, {
		uint8_t *d = dst + (it % BUILD_DATA_PAGES) * GRANULE;
		memcpy(d, src, GRANULE);
		EVP_Digest(d, GRANULE, digest, NULL, md, NULL);
		bench_sink += digest[0];
	});
	free(dst);
	EVP_MD_free(md);
	printf("realm build (REALM_CREATE, 2 RTTs, INIT_RIPAS, %d measured DATA_CREATE, REC_CREATE, ACTIVATE, "
	       "teardown): %.0f realms/s\n", BUILD_DATA_PAGES, realm_rate);
	printf("DATA_CREATE (measured, SHA-256): %.0f k granules/s; %.2fx the time of memcpy(4096) + SHA-256(4096) "
	       "(%.0f k granules/s)\n", data_rate / 1e3, ref_rate / data_rate, ref_rate / 1e3);
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("engine: %s\n", rmmemu_vcpu_engine());
	bench_platform_start();

	struct rmmemu_platform_config cfg;
	char err[256];
	rmmemu_platform_default(&cfg);
	cfg.dram[0] = (struct rmmemu_range){ DRAM_BASE, DRAM_SIZE };
	struct rmmemu *emu = rmmemu_create(&cfg, err, sizeof(err));
	if (!emu) {
		fprintf(stderr, "bench_rmi: %s\n", err);
		return 1;
	}
	double floor = bench_version(emu);
	bench_read_entry(emu, floor);
	bench_delegate(emu);
	bench_rtt_pair(emu);
	bench_realm_build(emu);

	uint64_t census[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, census);
	if (census[RMMEMU_GRANULE_UNDELEGATED] != DRAM_SIZE / GRANULE)
		die("final census (granules left delegated)", census[RMMEMU_GRANULE_UNDELEGATED]);
	rmmemu_destroy(emu);
	return 0;
}

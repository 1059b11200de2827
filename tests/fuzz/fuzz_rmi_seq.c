/*
 * Fuzz target: sequences of RMI calls through the public C API (rmmemu_smc).
 *
 * The input is a program for a hostile host. Each step starts with an opcode byte:
 *
 *   op % 32 <  28   one SMC (with op bit 6: arguments typed by the command, pick_typed): the RMI 1.0 commands, unused function numbers of the RMI range and an
 *                   SMC32 form; X1..X6 are each chosen by one selector byte (pick_arg) from a pool
 *                   of interesting values: granules of the instance's DRAM (a pool of 64 contiguous
 *                   ones, so RTT roots and REC aux lists can be built), the host's NS parameter
 *                   pages, IPAs at every level boundary and around the shared bit, levels, values
 *                   remembered from earlier successful calls (RD, REC, RTT, DATA and their IPAs),
 *                   unaligned / secure / root / device / hole / out-of-range addresses, raw bytes
 *   op % 32 == 28   write an RmiRealmParams image (fields from the input) into NS page 0
 *   op % 32 == 29   write an RmiRecParams image into NS page 1
 *   op % 32 == 30   write an RmiRecEnter image into the RecRun at NS page 2
 *   op % 32 == 31   delegate a run of pool granules (a shortcut the fuzzer would need many steps for);
 *                   with bit 7: fill a 2 MiB IPA range with DATA from 512 contiguous granules
 *                   (fill_block), the way to assigned blocks (RTT_FOLD) and their unfolding
 *
 * The instance has 8 MiB of DRAM with a secure and a root range and no vCPU backend: REC_ENTER
 * returns at once with an IRQ exit (rmi/rec_enter.c), so no realm code runs and an input costs
 * the same whatever it asks for. After EVERY call the RMM's global invariants must hold
 * (rmmemu_check_invariants); an RMI call must also leave every granule outside the pool as it was
 * (the host's NS pages stay NS) and must not change any granule when it fails.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "rmmemu/rmi_defs.h"
#include "rmmemu/rmmemu.h"

#define DRAM_BASE   0x80000000ULL
#define DRAM_SIZE   (8ULL << 20)
#define POOL_N      64U                              /* granules the host plays with */
#define POOL_BASE   DRAM_BASE
#define NS_PAGES    (DRAM_BASE + (1ULL << 20))       /* 4 parameter pages + 4 pages to map */
#define BIG_BASE    (DRAM_BASE + (2ULL << 20))       /* 512 granules for a 2 MiB block (FILL) */
#define BIG_N       512U
#define SECURE_BASE (DRAM_BASE + (6ULL << 20))
#define ROOT_BASE   (DRAM_BASE + (7ULL << 20))
#define GRAN        4096ULL
#define MAX_STEPS   256U

#define NS_PARAM_REALM 0U
#define NS_PARAM_REC   1U
#define NS_PARAM_RUN   2U

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t get64(struct input *in)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

static uint64_t pool(unsigned i)
{
	return POOL_BASE + (uint64_t)(i % POOL_N) * GRAN;
}

static uint64_t ns_page(unsigned i)
{
	return NS_PAGES + (uint64_t)(i % 8) * GRAN;
}

/* Values successful calls produced, for later calls to name. */
struct memo {
	uint64_t v[8];       /* rd, rec, rtt, rtt ipa, data, data ipa, unprot ipa, rtt_base */
};

static const uint64_t ipas[32] = {
	0x0, 0x1000, 0x2000, 0x1ff000, 0x200000, 0x201000, 0x400000, 0x3fe00000,
	0x40000000, 0x40200000, 0x80000000, 0x80001000, 0xc0000000, 0x7fffff000, 0x8000000000, 0x8000200000,
	/* the shared (unprotected) half of 32-, 36-, 40- and 48-bit realms, and beyond them */
	0x80000000ULL | 0x1000, 1ULL << 35, (1ULL << 35) | 0x200000, 1ULL << 39,
	(1ULL << 39) | 0x1000, (1ULL << 39) | 0x200000, (1ULL << 39) | 0x40000000, (1ULL << 40) - 0x1000,
	1ULL << 40, 1ULL << 44, 1ULL << 47, (1ULL << 48) - 0x1000,
	1ULL << 48, 1ULL << 52, 0x123, 0xfffffffffffff000ULL,
};

static const uint64_t smalls[32] = {
	0, 1, 2, 3, (uint64_t)-1, 4, 5, (uint64_t)-2,
	0x7fffffffffffffffULL, 0x8000000000000000ULL, 0xffffffffULL, 0x100000000ULL, 6, 7, 8, 16,
	/* PSCI statuses and RTT entry attributes */
	PSCI_RETURN_SUCCESS, PSCI_RETURN_NOT_SUPPORTED, PSCI_RETURN_INVALID_PARAMS, PSCI_RETURN_DENIED,
	PSCI_RETURN_ALREADY_ON, (uint64_t)-9, RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW, RMI_S2TTE_AP_RW,
	0x10000, 0x10001, 0xff, 0x100, 0x1f, 0x20, 0x3ff, 0x400,
};

static const uint64_t odd_addrs[16] = {
	POOL_BASE + 1, POOL_BASE + 0x800, SECURE_BASE, ROOT_BASE,
	0x09000000ULL /* device */, 0x60000000ULL /* hole */, DRAM_BASE + DRAM_SIZE, DRAM_BASE - GRAN,
	~0ULL, 1ULL << 52, ~0xfffULL, NS_PAGES + 8,
	SECURE_BASE + 0x1000, DRAM_BASE + DRAM_SIZE - GRAN, 0, 0xfff,
};

static const uint64_t s2szs[16] = { 32, 33, 36, 39, 40, 41, 42, 44, 48, 52, 0, 31, 49, 255, 40, 44 };
static const uint32_t nroots[8] = { 1, 2, 4, 8, 16, 0, 3, 17 };

/* One argument from its selector byte (kind in bits 7:5, index in 4:0). */
static uint64_t pick_arg(struct input *in, const struct memo *m, uint8_t sel)
{
	unsigned idx = sel & 31;
	switch (sel >> 5) {
	case 0:
		return pool(idx);
	case 1:
		return pool(32 + idx);
	case 2:
		return ipas[idx];
	case 3:
		return smalls[idx];
	case 4:
		return get64(in);
	case 5:
		return idx < 16 ? odd_addrs[idx] : ns_page(idx);
	case 6:
		if (idx < 8)
			return m->v[idx];
		if (idx < 16)   /* a valid-looking unprotected descriptor: NS page | attributes */
			return ns_page(idx) | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW;
		return m->v[idx & 7] + (idx & 8 ? GRAN : 0x200000);
	default:
		if (idx < 16)
			return ipas[idx] + 0x200000 * (idx & 3);
		if (idx < 24) {   /* the 2 MiB region: granules, and block descriptors (DRAM_BASE is 1 GiB aligned) */
			static const uint64_t big[8] = {
				BIG_BASE, BIG_BASE + GRAN, BIG_BASE + 0x1ff000, BIG_BASE + 0x100000,
				DRAM_BASE | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW,
				BIG_BASE | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW, BIG_BASE + 0x200000, BIG_BASE | 1,
			};
			return big[idx - 16];
		}
		return pool(idx) + 0x1000 * (idx & 7);
	}
}

/* Typed arguments (op bit 6): each selector byte is read as the kind of value the command expects
 * there, so most calls get past the input checks to the state checks behind them. */
enum arg_type { T_ANY, T_RD, T_GRAN, T_IPA, T_LEVEL, T_NS, T_REC, T_DESC, T_FLAG, T_STATUS };

static const uint8_t signatures[23][6] = {
	[0] = { T_ANY },                                          /* VERSION */
	[1] = { T_GRAN }, [2] = { T_GRAN },                       /* GRANULE_DELEGATE / UNDELEGATE */
	[3] = { T_RD, T_GRAN, T_IPA, T_NS, T_FLAG },              /* DATA_CREATE */
	[4] = { T_RD, T_GRAN, T_IPA },                            /* DATA_CREATE_UNKNOWN */
	[5] = { T_RD, T_IPA },                                    /* DATA_DESTROY */
	[6] = { T_RD }, [7] = { T_GRAN, T_NS }, [8] = { T_RD },   /* REALM_ACTIVATE / CREATE / DESTROY */
	[9] = { T_RD, T_GRAN, T_NS }, [10] = { T_REC },           /* REC_CREATE / DESTROY */
	[11] = { T_REC, T_NS },                                   /* REC_ENTER */
	[12] = { T_RD, T_GRAN, T_IPA, T_LEVEL },                  /* RTT_CREATE */
	[13] = { T_RD, T_IPA, T_LEVEL },                          /* RTT_DESTROY */
	[14] = { T_RD, T_IPA, T_LEVEL, T_DESC },                  /* RTT_MAP_UNPROTECTED */
	[15] = { T_RD, T_IPA, T_LEVEL }, [16] = { T_RD, T_IPA, T_LEVEL },   /* READ_ENTRY, UNMAP */
	[17] = { T_REC, T_REC, T_STATUS },                        /* PSCI_COMPLETE */
	[18] = { T_FLAG },                                        /* FEATURES */
	[19] = { T_RD, T_IPA, T_LEVEL },                          /* RTT_FOLD */
	[20] = { T_RD },                                          /* REC_AUX_COUNT */
	[21] = { T_RD, T_IPA, T_IPA },                            /* RTT_INIT_RIPAS */
	[22] = { T_RD, T_REC, T_IPA, T_IPA },                     /* RTT_SET_RIPAS */
};

static uint64_t pick_typed(struct input *in, const struct memo *m, uint8_t type, uint8_t sel)
{
	switch (type) {
	case T_RD:
		return sel < 0xe0 ? m->v[0] : pick_arg(in, m, sel);
	case T_REC:
		return sel < 0xc0 ? m->v[1] : sel < 0xe0 ? pool(sel) : pick_arg(in, m, sel);
	case T_GRAN:
		return sel < 0xc0 ? pool(sel) : sel < 0xe0 ? BIG_BASE + (uint64_t)(sel & 31) * GRAN : pick_arg(in, m, sel);
	case T_IPA: {
		static const unsigned memo_ipas[4] = { 3, 5, 6, 3 };
		switch (sel >> 6) {
		case 0:
			return ipas[sel & 31];
		case 1:
			return m->v[memo_ipas[sel & 3]] + (uint64_t)((sel >> 2) & 15) * GRAN;
		case 2:
			return 0x80000000ULL + (uint64_t)(sel & 63) * GRAN;
		default:
			return (1ULL << 39) + (uint64_t)(sel & 31) * ((sel & 32) ? 0x200000 : GRAN);
		}
	}
	case T_LEVEL:
		return sel < 0xf0 ? sel & 3 : (uint64_t)(int64_t)(int8_t)sel;   /* 0..3, or -16..-1 */
	case T_NS:
		return sel < 0xf0 ? ns_page(sel) : pick_arg(in, m, sel);
	case T_DESC:
		return sel < 0xc0 ? ns_page(sel) | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW : pick_arg(in, m, sel);
	case T_FLAG:
		return sel < 0xf0 ? sel & 1 : sel;
	case T_STATUS:
		return smalls[16 + (sel & 7)];
	default:
		return pick_arg(in, m, sel);
	}
}

static void put64(uint8_t *img, unsigned off, uint64_t v)
{
	memcpy(img + off, &v, sizeof(v));
}

static void write_page(struct rmmemu *emu, uint64_t pa, const uint8_t *img)
{
	/* The input may have delegated the page itself: then the write is refused (a GPF), and the
	 * call that reads the page sees the realm PAS. */
	int rc = rmmemu_ns_write(emu, pa, img, GRAN);
	struct rmmemu_granule_info gi;
	if (rc != RMMEMU_OK && (rc != RMMEMU_E_GPF || rmmemu_granule_info(emu, pa, &gi) || gi.pas == RMMEMU_PAS_NONSECURE))
		fuzz_fail("the host's NS page 0x%llx is not writable (%d)", (unsigned long long)pa, rc);
}

static void write_realm_params(struct rmmemu *emu, struct input *in, const struct memo *m)
{
	static uint8_t img[GRAN];
	memset(img, 0, sizeof(img));
	uint8_t flags = get8(in), s2 = get8(in), sl = get8(in), nr = get8(in), base = get8(in);
	uint8_t misc = get8(in), hash = get8(in);
	uint16_t vmid = (uint16_t)(get8(in) | (get8(in) << 8));
	put64(img, RMI_REALM_PARAMS_FLAGS, flags & 0x80 ? flags : flags & 7);
	img[RMI_REALM_PARAMS_S2SZ] = (uint8_t)s2szs[s2 & 15];
	img[RMI_REALM_PARAMS_SVE_VL] = misc & 0x80 ? misc & 0x1f : 0;
	img[RMI_REALM_PARAMS_NUM_BPS] = (uint8_t)(1 + (misc & 3));      /* 0 is invalid */
	img[RMI_REALM_PARAMS_NUM_WPS] = (uint8_t)(1 + ((misc >> 2) & 3));
	img[RMI_REALM_PARAMS_PMU_NUM_CTRS] = (misc >> 4) & 7;
	img[RMI_REALM_PARAMS_HASH_ALGO] = hash < 0xf0 ? hash & 1 : hash;
	for (unsigned i = 0; i < RMI_RPV_SIZE; i++)
		img[RMI_REALM_PARAMS_RPV + i] = (uint8_t)(hash + i);
	memcpy(img + RMI_REALM_PARAMS_VMID, &vmid, sizeof(vmid));
	put64(img, RMI_REALM_PARAMS_RTT_BASE, pick_arg(in, m, base));
	put64(img, RMI_REALM_PARAMS_RTT_LEVEL_START, sl & 0x80 ? (uint64_t)(int64_t)(int8_t)sl : (uint64_t)(sl % 6) - 1);
	uint32_t n = nroots[nr & 7];
	memcpy(img + RMI_REALM_PARAMS_RTT_NUM_START, &n, sizeof(n));
	write_page(emu, ns_page(NS_PARAM_REALM), img);
}

static void write_rec_params(struct rmmemu *emu, struct input *in, const struct memo *m)
{
	static uint8_t img[GRAN];
	memset(img, 0, sizeof(img));
	uint8_t flags = get8(in), mp = get8(in), pc = get8(in), naux = get8(in), aux = get8(in);
	put64(img, RMI_REC_PARAMS_FLAGS, flags & 0x80 ? flags : flags & 1);
	/* RmiRecMpidr: Aff0 in 3:0 (values above 15 are invalid), Aff1 in 15:8. */
	uint64_t mpidr = mp & 0x80 ? (uint64_t)(mp & 0x7f) << 4 : (mp & 0xf) | ((uint64_t)((mp >> 4) & 7) << 8);
	put64(img, RMI_REC_PARAMS_MPIDR, mpidr);
	put64(img, RMI_REC_PARAMS_PC, pick_arg(in, m, pc));
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		put64(img, RMI_REC_PARAMS_GPRS + 8 * i, 0x1000 + i);
	put64(img, RMI_REC_PARAMS_NUM_AUX, naux < 0xf0 ? naux % (RMI_MAX_REC_AUX_GRANULES + 1) : naux);
	/* aux[i] = pool(start + i * stride): stride 0 names one granule many times */
	unsigned start = aux & 63, stride = (aux >> 6) == 3 ? 0 : 1 + (aux >> 6);
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		put64(img, RMI_REC_PARAMS_AUX + 8 * i, pool(start + i * stride));
	write_page(emu, ns_page(NS_PARAM_REC), img);
}

static void write_rec_run(struct rmmemu *emu, struct input *in, const struct memo *m)
{
	static uint8_t img[GRAN];
	memset(img, 0, sizeof(img));
	uint8_t flags = get8(in), g = get8(in), lr = get8(in);
	put64(img, RMI_REC_ENTER_FLAGS, flags & 0x80 ? flags : flags & 0x1f);
	for (unsigned i = 0; i < 4; i++)
		put64(img, RMI_REC_ENTER_GPRS + 8 * i, pick_arg(in, m, (uint8_t)(g + 37 * i)));
	if (lr & 1)
		put64(img, RMI_REC_ENTER_GICV3_HCR, lr & 2 ? 1 : get64(in));
	if (lr & 4)   /* a pending virtual interrupt, valid or not */
		put64(img, RMI_REC_ENTER_GICV3_LRS + 8 * ((lr >> 3) & 15), lr & 0x80 ? get64(in) : (1ULL << 62) | 27 | (0xa0ULL << 48));
	write_page(emu, ns_page(NS_PARAM_RUN), img);
}

/* The PAS and state of granules no argument can name never change: the secure and root ranges,
 * DRAM between the pool and the NS pages. */
static void check_outside_pool(struct rmmemu *emu)
{
	static const uint64_t probes[] = { SECURE_BASE, SECURE_BASE + 8 * GRAN, ROOT_BASE, POOL_BASE + 0x80000,
					   NS_PAGES - GRAN, NS_PAGES + 16 * GRAN, DRAM_BASE + DRAM_SIZE - 4 * GRAN,
					   BIG_BASE + 0x280000 };
	for (unsigned i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		struct rmmemu_granule_info gi;
		if (rmmemu_granule_info(emu, probes[i], &gi) != RMMEMU_OK || gi.state != RMMEMU_GRANULE_UNDELEGATED)
			fuzz_fail("granule 0x%llx, which no argument names, changed state", (unsigned long long)probes[i]);
		enum rmmemu_pas want = probes[i] >= ROOT_BASE && probes[i] < ROOT_BASE + (256ULL << 10) ? RMMEMU_PAS_ROOT
				       : probes[i] >= SECURE_BASE && probes[i] < SECURE_BASE + (256ULL << 10) ? RMMEMU_PAS_SECURE
				       : RMMEMU_PAS_NONSECURE;
		if (gi.pas != want)
			fuzz_fail("granule 0x%llx, which no argument names, changed PAS to %s", (unsigned long long)probes[i],
				  rmmemu_pas_name(gi.pas));
	}
}

static const uint64_t fids[28] = {
	SMC_RMI_VERSION, SMC_RMI_GRANULE_DELEGATE, SMC_RMI_GRANULE_UNDELEGATE, SMC_RMI_DATA_CREATE,
	SMC_RMI_DATA_CREATE_UNKNOWN, SMC_RMI_DATA_DESTROY, SMC_RMI_REALM_ACTIVATE, SMC_RMI_REALM_CREATE,
	SMC_RMI_REALM_DESTROY, SMC_RMI_REC_CREATE, SMC_RMI_REC_DESTROY, SMC_RMI_REC_ENTER,
	SMC_RMI_RTT_CREATE, SMC_RMI_RTT_DESTROY, SMC_RMI_RTT_MAP_UNPROTECTED, SMC_RMI_RTT_READ_ENTRY,
	SMC_RMI_RTT_UNMAP_UNPROTECTED, SMC_RMI_PSCI_COMPLETE, SMC_RMI_FEATURES, SMC_RMI_RTT_FOLD,
	SMC_RMI_REC_AUX_COUNT, SMC_RMI_RTT_INIT_RIPAS, SMC_RMI_RTT_SET_RIPAS,
	/* not RMI 1.0 commands: must fail cleanly */
	RMI_FID(0x06), RMI_FID(0x10), RMI_FID(0x13), RMI_FID(0x1a), 0x84000150ULL,
};

/* Remember what a successful call created, for later calls to name. */
static void remember(struct memo *m, uint64_t fid, const uint64_t a[6])
{
	switch (fid) {
	case SMC_RMI_REALM_CREATE:
		m->v[0] = a[0];
		break;
	case SMC_RMI_REC_CREATE:
		m->v[1] = a[1];
		break;
	case SMC_RMI_RTT_CREATE:
		m->v[2] = a[1];
		m->v[3] = a[2];
		break;
	case SMC_RMI_DATA_CREATE:
	case SMC_RMI_DATA_CREATE_UNKNOWN:
		m->v[4] = a[1];
		m->v[5] = a[2];
		break;
	case SMC_RMI_RTT_MAP_UNPROTECTED:
		m->v[6] = a[1];
		break;
	default:
		break;
	}
}

/* Op 31 with bit 7: delegate the 512 granules of the 2 MiB region and DATA_CREATE_UNKNOWN them
 * into a 2 MiB-aligned IPA range of the remembered RD (stopping at the first failure), so that
 * RTT_FOLD can make an assigned block of them, and RTT_CREATE split it again, DATA_DESTROY... */
static void fill_block(struct rmmemu *emu, struct input *in, struct memo *m)
{
	static const uint64_t bases[4] = { 0x0, 0x200000, 0x80000000, 0x40200000 };
	uint8_t c = get8(in);
	uint64_t ipa = bases[c & 3];
	unsigned n = c & 4 ? BIG_N - 1 : BIG_N;   /* one short: a table that does not fold */
	struct rmmemu_smc_result r;
	for (unsigned i = 0; i < n; i++) {
		uint64_t pa = BIG_BASE + (uint64_t)i * GRAN;
		if (rmmemu_smc6(emu, SMC_RMI_GRANULE_DELEGATE, pa, 0, 0, 0, 0, 0, &r) != RMI_SUCCESS ||
		    rmmemu_smc6(emu, SMC_RMI_DATA_CREATE_UNKNOWN, m->v[0], pa, ipa + (uint64_t)i * GRAN, 0, 0, 0, &r) != RMI_SUCCESS)
			break;
	}
	m->v[4] = BIG_BASE;
	m->v[5] = ipa;
	fuzz_check_invariants(emu, "after filling a 2 MiB block");
}

static struct rmmemu *new_instance(void)
{
	static struct rmmemu_platform_config pc;
	char err[256];
	if (!pc.num_dram) {
		rmmemu_platform_default(&pc);
		pc.dram[0] = (struct rmmemu_range){ DRAM_BASE, DRAM_SIZE };
		pc.num_dram = 1;
		pc.device[0] = (struct rmmemu_range){ 0, 0x40000000ULL };
		pc.num_device = 1;
		pc.secure[0] = (struct rmmemu_range){ SECURE_BASE, 256ULL << 10 };
		pc.num_secure = 1;
		pc.root[0] = (struct rmmemu_range){ ROOT_BASE, 256ULL << 10 };
		pc.num_root = 1;
	}
	struct rmmemu *emu = rmmemu_create(&pc, err, sizeof(err));
	if (!emu)
		fuzz_fail("rmmemu_create: %s", err);
	return emu;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return -1;
	struct input in = { data, size };
	struct memo m = { { POOL_BASE, POOL_BASE + GRAN, POOL_BASE + 2 * GRAN, 0x200000, POOL_BASE + 3 * GRAN, 0x1000,
			    1ULL << 39, POOL_BASE } };
	struct rmmemu *emu = new_instance();
	char when[160];
	static int verbose = -1;
	if (verbose < 0)
		verbose = fuzz_out() == stderr;
	if (verbose)   /* RMMEMU_FUZZ_VERBOSE=1: every call decoded, with its state changes */
		rmmemu_set_trace(emu, stderr, RMMEMU_TRACE_RMI | RMMEMU_TRACE_STATE);

	for (unsigned step = 0; step < MAX_STEPS && in.n; step++) {
		uint8_t op = get8(&in), cmd = op & 31;
		if (cmd == 28) {
			write_realm_params(emu, &in, &m);
			continue;
		}
		if (cmd == 29) {
			write_rec_params(emu, &in, &m);
			continue;
		}
		if (cmd == 30) {
			write_rec_run(emu, &in, &m);
			continue;
		}
		if (cmd == 31 && (op & 0x80)) {
			fill_block(emu, &in, &m);
			continue;
		}
		if (cmd == 31) {
			unsigned start = get8(&in), n = get8(&in) & 31;
			for (unsigned i = 0; i < n; i++) {
				struct rmmemu_smc_result r;
				rmmemu_smc6(emu, SMC_RMI_GRANULE_DELEGATE, pool(start + i), 0, 0, 0, 0, 0, &r);
			}
			fuzz_check_invariants(emu, "after bulk delegation");
			continue;
		}
		uint64_t fid = fids[cmd], a[6];
		if (op & 0x80 && cmd >= 23)   /* an arbitrary function ID */
			fid = get64(&in);
		bool typed = (op & 0x40) && cmd < 23;
		for (unsigned i = 0; i < 6; i++)
			a[i] = typed ? pick_typed(&in, &m, signatures[cmd][i], get8(&in)) : pick_arg(&in, &m, get8(&in));
		uint64_t before[RMMEMU_GRANULE_NUM_STATES], after[RMMEMU_GRANULE_NUM_STATES];
		rmmemu_granule_census(emu, before);
		struct rmmemu_smc_result r;
		memset(&r, 0xa5, sizeof(r));
		rmmemu_smc(emu, fid, a, &r);
		const char *name = rmmemu_rmi_name(fid);
		snprintf(when, sizeof(when), "after step %u, %s(0x%llx, 0x%llx, 0x%llx, 0x%llx) = 0x%llx", step,
			 name ? name : "unknown SMC", (unsigned long long)a[0], (unsigned long long)a[1],
			 (unsigned long long)a[2], (unsigned long long)a[3], (unsigned long long)r.x[0]);
		if (verbose)
			fprintf(stderr, "%s\n", when);
		fuzz_check_invariants(emu, when);
		check_outside_pool(emu);
		rmmemu_granule_census(emu, after);
		/* A failing command changes no granule (RMM 1.0: a command either succeeds with all its
		 * effects or fails with none). */
		if (r.x[0] != RMI_SUCCESS && memcmp(before, after, sizeof(before)))
			fuzz_fail("%s: failed but changed the granule census", when);
		/* RmiCommandReturnCode: status 0..4 in bits 7:0, an index in 15:8 only for ERROR_REALM
		 * and ERROR_RTT, nothing above. */
		unsigned st = RMI_RETURN_STATUS(r.x[0]);
		if (name && ((r.x[0] >> 16) || st > RMI_ERROR_RTT ||
			     (RMI_RETURN_INDEX(r.x[0]) && st != RMI_ERROR_RTT && st != RMI_ERROR_REALM)))
			fuzz_fail("%s: not an RmiCommandReturnCode", when);
		if (!name && r.x[0] != SMCCC_NOT_SUPPORTED)
			fuzz_fail("%s: an unknown function ID did not return NOT_SUPPORTED", when);
		if (r.x[0] == RMI_SUCCESS)
			remember(&m, fid, a);
	}
	rmmemu_destroy(emu);
	return 0;
}

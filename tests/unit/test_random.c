/*
 * Randomized RMI sequence test.
 *
 * A host model issues thousands of RMI calls against a small platform (2 x 8 MiB of DRAM, with a
 * secure and a root range inside DRAM and a device range outside it). Commands and arguments are
 * chosen with a bias towards meaningful ones: granules the test knows about in their various
 * states, IPAs of existing RTT entries and of a few "hot" regions, the right levels most of the
 * time, wrong ones and garbage some of the time.
 *
 * The test keeps its own model of the RMM: the state of every DRAM granule, every realm, REC and
 * RTT (a shadow copy of each realm's stage-2 tree, entry by entry). Before each call the model
 * predicts the complete result (X0 and the output registers that are defined for that result) and
 * applies the documented state change; the call's actual result must match. After EVERY call:
 *   - rmmemu_check_invariants() must pass;
 *   - the granule census must equal the model's;
 *   - every DRAM granule named in the arguments must have the model's state, PAS and refcount.
 * Periodically every pool granule is compared, and a realm's whole RTT tree is read back with
 * RMI_RTT_READ_ENTRY and compared with the shadow tree.
 *
 * At the end of each seed every realm is torn down (RECs, DATA incl. block mappings, RTTs, RD) and
 * every granule must be UNDELEGATED again.
 *
 * Deterministic: a fixed list of seeds (5 x at least 5000 checked calls). Environment:
 *   RMMEMU_SEED=<seed>[,<seed>...]   run these seeds instead;
 *   RMMEMU_RANDOM_CALLS=<n>          checked calls per seed (default 5000; teardown comes on top);
 *   RMMEMU_RANDOM_TRACE=1            print every call;
 *   RMMEMU_RANDOM_KNOWN_BUGS=1       also issue the patterns avoided because of known bugs
 *                                    (grep "KNOWN BUG").
 * On a failure the seed, the call number and the last 20 calls (name, arguments, result and the
 * model's expectation) are printed.
 *
 * Facts about RMM 1.0 behaviour (check order, outputs on error) follow TF-RMM rmm-spec-v1.0-rel0.
 */
#include <CUnit/Basic.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rmmemu/rmmemu.h"

/* ------------------------------------------------------------------------------------------ */
/* Platform                                                                                    */
/* ------------------------------------------------------------------------------------------ */

#define GSZ          4096ULL
#define DRAM0_BASE   0x80000000ULL
#define DRAM0_SIZE   (8ULL << 20)
#define DRAM1_BASE   0x100000000ULL
#define DRAM1_SIZE   (8ULL << 20)
#define SEC_SIZE     (256ULL << 10)
#define SEC_BASE     (DRAM0_BASE + DRAM0_SIZE - SEC_SIZE)  /* last 256 KiB of DRAM0: secure */
#define ROOT_BASE    (DRAM1_BASE + (4ULL << 20))           /* 64 KiB in the middle of DRAM1: root */
#define ROOT_SIZE    (64ULL << 10)
#define DEV_BASE     0x10000000ULL
#define DEV_SIZE     (16ULL << 20)
#define PA_BITS      48U
#define CFG_NUM_BPS  5U
#define CFG_NUM_WPS  3U
#define CFG_PMU_CTRS 6U
#define CFG_NUM_LRS  15U
#define NG0          ((int)(DRAM0_SIZE / GSZ))
#define NGRAN        ((int)((DRAM0_SIZE + DRAM1_SIZE) / GSZ))

/* Scratch NS granules (never delegated by the generator): parameters, run pages, DATA sources. */
#define SCR_BASE     (DRAM0_BASE + (5ULL << 20))
#define SCR_RP       (SCR_BASE + 0 * GSZ)
#define SCR_RECP     (SCR_BASE + 1 * GSZ)
#define SCR_RUN      (SCR_BASE + 2 * GSZ)
#define SCR_SRC      (SCR_BASE + 3 * GSZ)
#define SCR_RUN2     (SCR_BASE + 4 * GSZ)

/* Pools: P0 = first 4 MiB of DRAM0 (general), P1 = first 2 MiB of DRAM1 (2 MiB aligned, used for
 * block mappings of DATA), P2 = edges (next to the secure range, the secure and root ranges, the end
 * of DRAM1). */
#define P0_BASE      DRAM0_BASE
#define P0_PAGES     1024
#define P1_BASE      DRAM1_BASE
#define POOL_PAGES   512

#define S2TTES       512U
#define L2_SIZE      (1ULL << 21)
#define NS_ATTR_MASK 0xFCULL               /* MemAttr[2:0] (bits 4:2) and S2AP (bits 7:6) */
#define OA_MASK      ((1ULL << 48) - 1)

#define MAX_REALMS   6
#define MAX_RECS     48
#define MAX_TABLES   2048
#define NAUX         16
#define HIST         32
#define HIST_PRINT   20

#define DEFAULT_CALLS_PER_SEED 5000ULL
static const uint64_t default_seeds[] = { 0x1ULL, 0x5eedULL, 0xc0ffee11ULL, 0xdeadbeef5ULL,
					  0x123456789abcdefULL };

/* ------------------------------------------------------------------------------------------ */
/* Model                                                                                       */
/* ------------------------------------------------------------------------------------------ */

enum { K_UNASSIGNED, K_ASSIGNED, K_UNASSIGNED_NS, K_ASSIGNED_NS, K_TABLE };

/* One RTT entry: ASSIGNED keeps the output address, ASSIGNED_NS the host descriptor (address |
 * MemAttr | S2AP), TABLE the model table index. */
struct ment {
	uint8_t kind;
	uint8_t ripas;
	int32_t child;
	uint64_t addr;
};

struct mtable {
	uint64_t pa;
	uint64_t ipa;     /* first IPA mapped by the table */
	int level;
	int realm;
	bool root;
	struct ment e[S2TTES];
};

enum { MREALM_NEW = 0, MREALM_ACTIVE = 1 };

struct mrealm {
	bool used;
	uint64_t rd, rtt_base;
	unsigned s2sz, nroot, vmid;
	int sl;
	int state;
	uint64_t rec_count;
	unsigned live_recs;
	int root[16];
};

struct mrec {
	bool used;
	uint64_t pa;
	int realm;
	uint64_t aux[NAUX];
	unsigned naux;
	bool runnable;
};

struct mgran {
	uint8_t state;
	uint8_t pas;
	int16_t owner;   /* RD: realm; RTT: table; REC / REC_AUX: rec; DATA: realm */
};

struct rparams {
	uint64_t flags;
	unsigned s2sz, sve_vl, bps, wps, pmu_ctrs, hash, vmid;
	uint64_t rtt_base;
	int64_t sl;
	uint32_t nroot;
};

struct recparams {
	uint64_t flags, mpidr, num_aux, aux[NAUX];
};

struct runenter {
	uint64_t flags, hcr, lr0;
};

struct expect {
	uint64_t x[5];
	unsigned mask;        /* bit i: compare X(i) */
	uint64_t ignore[5];   /* bits of X(i) not compared */
};

struct hentry {
	uint64_t n, fid, a[6], r[5];
	struct expect e;
};

/* Per command: results by status (SUCCESS, INPUT, REALM, REC, RTT). */
struct stats {
	uint64_t by[32][5], other;
};

struct ctx {
	struct rmmemu *emu;
	uint64_t seed, rng;
	uint64_t ncalls;     /* checked calls issued */
	uint64_t nreads;     /* verification reads (RTT_READ_ENTRY of the deep compare) */
	uint64_t target;     /* calls per seed */
	struct mgran g[NGRAN];
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	uint32_t resv[NGRAN];
	uint32_t resv_gen;
	bool vmid_used[256];
	struct mrealm realms[MAX_REALMS];
	struct mrec recs[MAX_RECS];
	struct mtable *tables[MAX_TABLES];
	int tab_hw;
	int pool[P0_PAGES + POOL_PAGES + 64];
	int npool;
	/* what the generator last wrote into NS memory */
	struct rparams rp;
	uint64_t rp_addr;
	struct recparams recp;
	uint64_t recp_addr;
	struct runenter run;
	uint64_t run_addr;
	/* history and failure */
	struct hentry hist[HIST];
	unsigned hpos;
	jmp_buf fail_jmp;
	bool failed;
	struct stats st;
	unsigned realms_created, blocks_folded, ns_blocks_folded;
	unsigned realms_by_sl[4], realms_concat;
};

static struct stats total_stats;
static uint64_t total_calls;
static bool trace_calls;   /* RMMEMU_RANDOM_TRACE=1: print every call */

/* ------------------------------------------------------------------------------------------ */
/* Small helpers                                                                               */
/* ------------------------------------------------------------------------------------------ */

static uint64_t next_rand(struct ctx *c)
{
	/* splitmix64 */
	uint64_t z = (c->rng += 0x9E3779B97F4A7C15ULL);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
	return z ^ (z >> 31);
}

static uint64_t rnd(struct ctx *c, uint64_t n)
{
	return n ? next_rand(c) % n : 0;
}

static bool chance(struct ctx *c, unsigned percent)
{
	return rnd(c, 100) < percent;
}

static unsigned lsb_of(int level) { return 12U + 9U * (unsigned)(3 - level); }
static uint64_t msize(int level) { return 1ULL << lsb_of(level); }
static unsigned idx_of(uint64_t ipa, int level) { return (unsigned)((ipa >> lsb_of(level)) & 511U); }
static uint64_t lvl_mask(int level) { return OA_MASK & ~(msize(level) - 1); }
static bool lvl_aligned(uint64_t a, int level) { return a == (a & lvl_mask(level)); }

static int gidx(uint64_t pa)
{
	if (pa & (GSZ - 1))
		return -1;
	if (pa - DRAM0_BASE < DRAM0_SIZE)
		return (int)((pa - DRAM0_BASE) / GSZ);
	if (pa - DRAM1_BASE < DRAM1_SIZE)
		return NG0 + (int)((pa - DRAM1_BASE) / GSZ);
	return -1;
}

static uint64_t gaddr(int i)
{
	return i < NG0 ? DRAM0_BASE + (uint64_t)i * GSZ : DRAM1_BASE + (uint64_t)(i - NG0) * GSZ;
}

static bool in_block_pool(int i) { return i >= NG0 && i < NG0 + POOL_PAGES; }

static const char *fid_name(uint64_t fid)
{
	const char *n = rmmemu_rmi_name(fid);
	return n ? n : "UNKNOWN_FID";
}

static void print_call(const struct hentry *h)
{
	unsigned na = rmmemu_rmi_nargs(h->fid), nr = rmmemu_rmi_nresults(h->fid);
	char ret[64], exp[64];
	if (na > 6)
		na = 6;
	if (nr > 4)
		nr = 4;
	fprintf(stderr, "  #%-6" PRIu64 " %s(", h->n, fid_name(h->fid));
	if (!rmmemu_rmi_name(h->fid))
		fprintf(stderr, "fid=0x%" PRIx64 "%s", h->fid, na ? ", " : "");
	for (unsigned i = 0; i < na; i++)
		fprintf(stderr, "%s0x%" PRIx64, i ? ", " : "", h->a[i]);
	rmmemu_format_return(h->r[0], ret, sizeof(ret));
	rmmemu_format_return(h->e.x[0], exp, sizeof(exp));
	fprintf(stderr, ") -> %s", ret);
	for (unsigned i = 1; i <= nr; i++)
		fprintf(stderr, " x%u=0x%" PRIx64, i, h->r[i]);
	if (h->e.mask) {
		fprintf(stderr, "   [expected %s", exp);
		for (unsigned i = 1; i <= 4; i++)
			if (h->e.mask & (1U << i))
				fprintf(stderr, " x%u=0x%" PRIx64, i, h->e.x[i]);
		fprintf(stderr, "]");
	}
	fprintf(stderr, "\n");
}

static void fail(struct ctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3), noreturn));
static void fail(struct ctx *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "\n*** test_random FAILED: seed=0x%" PRIx64 " after call #%" PRIu64 ": ", c->seed,
		c->ncalls + c->nreads);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n*** reproduce with RMMEMU_SEED=0x%" PRIx64 "; last calls (oldest first):\n", c->seed);
	unsigned n = c->hpos < HIST_PRINT ? c->hpos : HIST_PRINT;
	for (unsigned i = c->hpos - n; i < c->hpos; i++)
		print_call(&c->hist[i % HIST]);
	c->failed = true;
	longjmp(c->fail_jmp, 1);
}

/* ------------------------------------------------------------------------------------------ */
/* Model primitives                                                                            */
/* ------------------------------------------------------------------------------------------ */

static void set_state(struct ctx *c, int i, int state, int owner)
{
	struct mgran *g = &c->g[i];
	c->counts[g->state]--;
	c->counts[state]++;
	g->state = (uint8_t)state;
	g->pas = state == RMMEMU_GRANULE_UNDELEGATED ? RMMEMU_PAS_NONSECURE : RMMEMU_PAS_REALM;
	g->owner = (int16_t)owner;
}

static struct mtable *T(struct ctx *c, int t)
{
	return c->tables[t];
}

static int table_alloc(struct ctx *c, uint64_t pa, int level, uint64_t ipa, int realm, bool root)
{
	for (int t = 0; t < MAX_TABLES; t++) {
		if (c->tables[t])
			continue;
		struct mtable *m = calloc(1, sizeof(*m));
		if (!m)
			fail(c, "out of memory");
		m->pa = pa;
		m->level = level;
		m->ipa = ipa;
		m->realm = realm;
		m->root = root;
		c->tables[t] = m;
		if (t >= c->tab_hw)
			c->tab_hw = t + 1;
		return t;
	}
	fail(c, "model: too many tables");
}

static void table_free(struct ctx *c, int t)
{
	free(c->tables[t]);
	c->tables[t] = NULL;
}

/* Refcount of an RTT as the RMM keeps it: table entries and ASSIGNED (protected) entries. */
static unsigned tlive(const struct mtable *t)
{
	unsigned n = 0;
	for (unsigned i = 0; i < S2TTES; i++)
		n += t->e[i].kind == K_TABLE || t->e[i].kind == K_ASSIGNED;
	return n;
}

static bool ent_live(const struct ment *e)
{
	return e->kind == K_TABLE || e->kind == K_ASSIGNED || e->kind == K_ASSIGNED_NS;
}

static uint64_t ipa_size(const struct mrealm *r) { return 1ULL << r->s2sz; }
static uint64_t par_size(const struct mrealm *r) { return 1ULL << (r->s2sz - 1); }

static bool valid_map_addr(const struct mrealm *r, uint64_t ipa, int level)
{
	return ipa < ipa_size(r) && lvl_aligned(ipa, level);
}

struct mwalk {
	int t;
	unsigned i;
	int level;
};

static void mwalk(struct ctx *c, const struct mrealm *r, uint64_t ipa, int level, struct mwalk *w)
{
	uint64_t sl_idx = ipa >> lsb_of(r->sl);
	int t = r->root[sl_idx / S2TTES];
	int l = r->sl;
	while (l < level) {
		const struct ment *e = &T(c, t)->e[idx_of(ipa, l)];
		if (e->kind != K_TABLE)
			break;
		t = e->child;
		l++;
	}
	w->t = t;
	w->i = idx_of(ipa, l);
	w->level = l;
}

static struct ment *went(struct ctx *c, const struct mwalk *w)
{
	return &T(c, w->t)->e[w->i];
}

static uint64_t mskip(struct ctx *c, uint64_t ipa, const struct mwalk *w)
{
	const struct mtable *t = T(c, w->t);
	if (ent_live(&t->e[w->i]))
		return ipa;
	uint64_t sz = msize(w->level);
	unsigned i;
	for (i = w->i + 1; i < S2TTES; i++)
		if (ent_live(&t->e[i]))
			break;
	return (ipa & ~(sz - 1)) + (uint64_t)(i - w->i) * sz;
}

static struct mrealm *realm_of_rd(struct ctx *c, uint64_t rd)
{
	int i = gidx(rd);
	if (i < 0 || c->g[i].state != RMMEMU_GRANULE_RD)
		return NULL;
	return &c->realms[c->g[i].owner];
}

static int gstate(struct ctx *c, uint64_t pa)
{
	int i = gidx(pa);
	return i < 0 ? -1 : c->g[i].state;
}

static uint64_t expected_refcount(struct ctx *c, int i)
{
	const struct mgran *g = &c->g[i];
	if (g->state == RMMEMU_GRANULE_RD)
		return c->realms[g->owner].live_recs;
	if (g->state == RMMEMU_GRANULE_RTT)
		return tlive(T(c, g->owner));
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Predictions: compute the expected result of a call and apply its effect to the model.      */
/* Check order and error outputs follow TF-RMM rmm-spec-v1.0-rel0.                             */
/* ------------------------------------------------------------------------------------------ */

#define ST_RTT(l) RMI_PACK_RETURN(RMI_ERROR_RTT, (unsigned)(l))

static uint64_t p_delegate(struct ctx *c, uint64_t addr)
{
	int i = gidx(addr);
	if (i < 0 || c->g[i].state != RMMEMU_GRANULE_UNDELEGATED || c->g[i].pas != RMMEMU_PAS_NONSECURE)
		return RMI_ERROR_INPUT;
	set_state(c, i, RMMEMU_GRANULE_DELEGATED, -1);
	return RMI_SUCCESS;
}

static uint64_t p_undelegate(struct ctx *c, uint64_t addr)
{
	int i = gidx(addr);
	if (i < 0 || c->g[i].state != RMMEMU_GRANULE_DELEGATED)
		return RMI_ERROR_INPUT;
	set_state(c, i, RMMEMU_GRANULE_UNDELEGATED, -1);
	return RMI_SUCCESS;
}

static bool ns_readable(struct ctx *c, uint64_t pa)
{
	int i = gidx(pa);
	return i >= 0 && c->g[i].state == RMMEMU_GRANULE_UNDELEGATED && c->g[i].pas == RMMEMU_PAS_NONSECURE;
}

static bool ns_state(struct ctx *c, uint64_t pa)
{
	int i = gidx(pa);
	return i >= 0 && c->g[i].state == RMMEMU_GRANULE_UNDELEGATED;
}

static unsigned num_root_rtts(unsigned s2sz, int64_t sl)
{
	unsigned sl_bits = 9U * (unsigned)(3 - sl) + 12U + 9U;
	return sl_bits >= s2sz ? 1U : 1U << (s2sz - sl_bits);
}

static bool realm_params_valid(struct ctx *c, const struct rparams *p)
{
	if (p->flags & RMI_REALM_FLAGS_LPA2)          /* LPA2 not offered */
		return false;
	if (p->s2sz < 32 || p->s2sz > PA_BITS)
		return false;
	if (p->bps == 0 || p->bps > CFG_NUM_BPS || p->wps == 0 || p->wps > CFG_NUM_WPS)
		return false;
	if (p->flags & RMI_REALM_FLAGS_SVE)           /* SVE not offered */
		return false;
	if ((p->flags & RMI_REALM_FLAGS_PMU) && (p->pmu_ctrs > CFG_PMU_CTRS || p->pmu_ctrs == 0))
		return false;                         /* no FEAT_HPMN0 */
	if (p->s2sz > 48 || p->sl < 0 || p->sl > 3)
		return false;
	if (p->sl == 0 && PA_BITS < 44)
		return false;
	unsigned lv = (unsigned)(3 - p->sl);
	unsigned min_bits = lv * 9U + 12U + 1U, max_bits = min_bits + 8U + (p->sl > 0 ? 4U : 0U);
	if (p->s2sz < min_bits || p->s2sz > max_bits)
		return false;
	if (num_root_rtts(p->s2sz, p->sl) != p->nroot)
		return false;
	if (p->hash > 1)
		return false;
	return p->vmid < 256 && !c->vmid_used[p->vmid];
}

static void init_root(struct ctx *c, struct mrealm *r, int ri)
{
	uint64_t esz = msize(r->sl);
	for (unsigned t = 0; t < r->nroot; t++) {
		uint64_t tipa = (uint64_t)t * S2TTES * esz;
		int ti = table_alloc(c, r->rtt_base + t * GSZ, r->sl, tipa, ri, true);
		r->root[t] = ti;
		for (unsigned i = 0; i < S2TTES; i++) {
			uint64_t ipa = tipa + i * esz;
			struct ment *e = &T(c, ti)->e[i];
			e->kind = (ipa < ipa_size(r) && ipa >= par_size(r)) ? K_UNASSIGNED_NS : K_UNASSIGNED;
			e->ripas = RMI_EMPTY;
		}
		set_state(c, gidx(r->rtt_base + t * GSZ), RMMEMU_GRANULE_RTT, ti);
	}
}

static uint64_t p_realm_create(struct ctx *c, uint64_t rd, uint64_t params)
{
	if (!ns_readable(c, params))
		return RMI_ERROR_INPUT;
	if (params != c->rp_addr)
		fail(c, "test bug: realm params at 0x%" PRIx64 " were not written", params);
	const struct rparams *p = &c->rp;
	if (!realm_params_valid(c, p))
		return RMI_ERROR_INPUT;
	uint64_t end = p->rtt_base + (uint64_t)p->nroot * GSZ;
	if (rd >= p->rtt_base && rd < end)
		return RMI_ERROR_INPUT;
	if (gstate(c, rd) != RMMEMU_GRANULE_DELEGATED)
		return RMI_ERROR_INPUT;
	for (unsigned i = 0; i < p->nroot; i++)
		if (gstate(c, p->rtt_base + i * GSZ) != RMMEMU_GRANULE_DELEGATED)
			return RMI_ERROR_INPUT;
	int ri = -1;
	for (int i = 0; i < MAX_REALMS; i++)
		if (!c->realms[i].used) {
			ri = i;
			break;
		}
	if (ri < 0)
		fail(c, "test bug: no free realm slot");
	struct mrealm *r = &c->realms[ri];
	memset(r, 0, sizeof(*r));
	r->used = true;
	r->rd = rd;
	r->rtt_base = p->rtt_base;
	r->s2sz = p->s2sz;
	r->sl = (int)p->sl;
	r->nroot = p->nroot;
	r->vmid = p->vmid;
	r->state = MREALM_NEW;
	c->vmid_used[p->vmid] = true;
	set_state(c, gidx(rd), RMMEMU_GRANULE_RD, ri);
	init_root(c, r, ri);
	c->realms_created++;
	c->realms_by_sl[r->sl]++;
	c->realms_concat += r->nroot > 1;
	return RMI_SUCCESS;
}

static uint64_t p_realm_activate(struct ctx *c, uint64_t rd)
{
	struct mrealm *r = realm_of_rd(c, rd);
	if (!r)
		return RMI_ERROR_INPUT;
	if (r->state != MREALM_NEW)
		return RMI_ERROR_REALM;
	r->state = MREALM_ACTIVE;
	return RMI_SUCCESS;
}

static uint64_t p_realm_destroy(struct ctx *c, uint64_t rd)
{
	struct mrealm *r = realm_of_rd(c, rd);
	if (!r)
		return RMI_ERROR_INPUT;
	if (r->live_recs)
		return RMI_ERROR_REALM;
	for (unsigned i = 0; i < r->nroot; i++)
		if (tlive(T(c, r->root[i])))
			return RMI_ERROR_REALM;
	for (unsigned i = 0; i < r->nroot; i++) {
		table_free(c, r->root[i]);
		set_state(c, gidx(r->rtt_base + i * GSZ), RMMEMU_GRANULE_DELEGATED, -1);
	}
	set_state(c, gidx(rd), RMMEMU_GRANULE_DELEGATED, -1);
	c->vmid_used[r->vmid] = false;
	r->used = false;
	return RMI_SUCCESS;
}

static bool rec_mpidr_valid(uint64_t m)
{
	return (m & ~(0xFULL | 0xFF00ULL | 0xFF0000ULL | 0xFF000000ULL)) == 0;
}

static uint64_t rec_mpidr_idx(uint64_t m)
{
	return (m & 0xFULL) | ((m & 0xFF00ULL) >> 4) | ((m & 0xFF0000ULL) >> 4) | ((m & 0xFF000000ULL) >> 4);
}

static uint64_t idx_to_mpidr(uint64_t idx)
{
	return (idx & 0xF) | ((idx >> 4 & 0xFF) << 8) | ((idx >> 12 & 0xFF) << 16) | ((idx >> 20 & 0xFF) << 24);
}

static uint64_t p_rec_create(struct ctx *c, uint64_t rd, uint64_t rec, uint64_t params)
{
	if (!ns_readable(c, params))
		return RMI_ERROR_INPUT;
	if (params != c->recp_addr)
		fail(c, "test bug: REC params at 0x%" PRIx64 " were not written", params);
	const struct recparams *p = &c->recp;
	if (p->num_aux > NAUX)
		return RMI_ERROR_INPUT;
	/* Auxiliary granules are claimed one by one: a duplicate finds its twin already claimed. */
	unsigned n = (unsigned)p->num_aux;
	for (unsigned i = 0; i < n; i++) {
		if (gstate(c, p->aux[i]) != RMMEMU_GRANULE_DELEGATED)
			return RMI_ERROR_INPUT;
		for (unsigned j = 0; j < i; j++)
			if (p->aux[j] == p->aux[i])
				return RMI_ERROR_INPUT;
	}
	bool rec_is_aux = false;
	for (unsigned i = 0; i < n; i++)
		rec_is_aux |= p->aux[i] == rec;
	if (rec == rd || rec_is_aux || gstate(c, rec) != RMMEMU_GRANULE_DELEGATED)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, rd);
	if (!r)
		return RMI_ERROR_INPUT;
	if (r->state != MREALM_NEW)
		return RMI_ERROR_REALM;
	if (!rec_mpidr_valid(p->mpidr) || rec_mpidr_idx(p->mpidr) != r->rec_count)
		return RMI_ERROR_INPUT;
	if (n != NAUX)
		return RMI_ERROR_INPUT;
	int ki = -1;
	for (int i = 0; i < MAX_RECS; i++)
		if (!c->recs[i].used) {
			ki = i;
			break;
		}
	if (ki < 0)
		fail(c, "test bug: no free REC slot");
	struct mrec *k = &c->recs[ki];
	k->used = true;
	k->pa = rec;
	k->realm = (int)(r - c->realms);
	k->naux = n;
	memcpy(k->aux, p->aux, sizeof(k->aux));
	k->runnable = (p->flags & RMI_REC_PARAMS_FLAG_RUNNABLE) != 0;
	set_state(c, gidx(rec), RMMEMU_GRANULE_REC, ki);
	for (unsigned i = 0; i < n; i++)
		set_state(c, gidx(p->aux[i]), RMMEMU_GRANULE_REC_AUX, ki);
	r->rec_count++;
	r->live_recs++;
	return RMI_SUCCESS;
}

static struct mrec *rec_of(struct ctx *c, uint64_t pa)
{
	int i = gidx(pa);
	if (i < 0 || c->g[i].state != RMMEMU_GRANULE_REC)
		return NULL;
	return &c->recs[c->g[i].owner];
}

static uint64_t p_rec_destroy(struct ctx *c, uint64_t pa)
{
	struct mrec *k = rec_of(c, pa);
	if (!k)
		return RMI_ERROR_INPUT;
	set_state(c, gidx(pa), RMMEMU_GRANULE_DELEGATED, -1);
	for (unsigned i = 0; i < k->naux; i++)
		set_state(c, gidx(k->aux[i]), RMMEMU_GRANULE_DELEGATED, -1);
	c->realms[k->realm].live_recs--;
	k->used = false;
	return RMI_SUCCESS;
}

static uint64_t p_rec_enter(struct ctx *c, uint64_t pa, uint64_t run)
{
	if (!ns_state(c, run))
		return RMI_ERROR_INPUT;
	struct mrec *k = rec_of(c, pa);
	if (!k)
		return RMI_ERROR_INPUT;
	if (!ns_readable(c, run))
		return RMI_ERROR_INPUT;
	if (run != c->run_addr)
		fail(c, "test bug: RmiRecEnter at 0x%" PRIx64 " was not written", run);
	const struct mrealm *r = &c->realms[k->realm];
	if (r->state == MREALM_NEW)
		return RMI_PACK_RETURN(RMI_ERROR_REALM, 0);
	if (!k->runnable)
		return RMI_ERROR_REC;
	bool lr_bad = (c->run.lr0 >> 62) && (c->run.lr0 & (1ULL << 61));
	if ((c->run.hcr & 1) || lr_bad)
		return RMI_ERROR_REC;
	/* The REC never exited with a data abort, so neither an SEA nor MMIO emulation can complete. */
	if (c->run.flags & (RMI_REC_ENTER_FLAG_INJECT_SEA | RMI_REC_ENTER_FLAG_EMUL_MMIO))
		return RMI_ERROR_REC;
	return RMI_SUCCESS;
}

static uint64_t p_rtt_create(struct ctx *c, uint64_t rd, uint64_t rtt, uint64_t ipa, int64_t level)
{
	if (rd == rtt || gstate(c, rtt) != RMMEMU_GRANULE_DELEGATED)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, rd);
	if (!r)
		return RMI_ERROR_INPUT;
	if (level < r->sl + 1 || level > 3 || !valid_map_addr(r, ipa, (int)level - 1))
		return RMI_ERROR_INPUT;
	int l = (int)level;
	struct mwalk w;
	mwalk(c, r, ipa, l - 1, &w);
	if (w.level != l - 1)
		return ST_RTT(w.level);
	struct ment pe = *went(c, &w);
	if (pe.kind == K_TABLE)
		return ST_RTT(l - 1);
	int nt = table_alloc(c, rtt, l, ipa, (int)(r - c->realms), false);
	struct mtable *t = T(c, nt);
	uint64_t sz = msize(l);
	for (unsigned i = 0; i < S2TTES; i++) {
		struct ment *e = &t->e[i];
		e->kind = pe.kind;
		e->ripas = pe.ripas;
		if (pe.kind == K_ASSIGNED)
			e->addr = pe.addr + i * sz;
		else if (pe.kind == K_ASSIGNED_NS)
			e->addr = ((pe.addr & ~NS_ATTR_MASK) + i * sz) | (pe.addr & NS_ATTR_MASK);
	}
	struct ment *p = went(c, &w);
	p->kind = K_TABLE;
	p->child = nt;
	p->addr = rtt;
	set_state(c, gidx(rtt), RMMEMU_GRANULE_RTT, nt);
	return RMI_SUCCESS;
}

static uint64_t p_rtt_destroy(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct mrealm *r = realm_of_rd(c, a[0]);
	e->mask |= 1U << 2;
	if (!r || level < r->sl + 1 || level > 3 || !valid_map_addr(r, ipa, (int)level - 1)) {
		e->x[2] = 0;
		return RMI_ERROR_INPUT;
	}
	int l = (int)level;
	struct mwalk w;
	mwalk(c, r, ipa, l - 1, &w);
	struct ment *p = went(c, &w);
	if (w.level != l - 1 || p->kind != K_TABLE) {
		e->x[2] = mskip(c, ipa, &w);
		return ST_RTT(w.level);
	}
	int ct = p->child;
	if (tlive(T(c, ct))) {
		e->x[2] = ipa;
		return ST_RTT(l);
	}
	uint64_t pa = T(c, ct)->pa;
	memset(p, 0, sizeof(*p));
	if (ipa < par_size(r)) {
		p->kind = K_UNASSIGNED;
		p->ripas = RMI_DESTROYED;
	} else {
		p->kind = K_UNASSIGNED_NS;
	}
	table_free(c, ct);
	set_state(c, gidx(pa), RMMEMU_GRANULE_DELEGATED, -1);
	e->mask |= 1U << 1;
	e->x[1] = pa;
	e->x[2] = mskip(c, ipa, &w);
	return RMI_SUCCESS;
}

static bool uniform_unassigned(const struct mtable *t, int kind, int ripas)
{
	for (unsigned i = 0; i < S2TTES; i++)
		if (t->e[i].kind != kind || (kind == K_UNASSIGNED && t->e[i].ripas != ripas))
			return false;
	return true;
}

/* All entries `kind` (and same RIPAS / same NS attributes), output addresses contiguous from a
 * base aligned to the parent level. */
static bool maps_block(const struct mtable *t, int kind)
{
	const struct ment *e0 = &t->e[0];
	if (e0->kind != kind)
		return false;
	uint64_t base = e0->addr & ~NS_ATTR_MASK, attrs = e0->addr & NS_ATTR_MASK;
	if (!lvl_aligned(base, t->level - 1))
		return false;
	uint64_t sz = msize(t->level);
	for (unsigned i = 1; i < S2TTES; i++) {
		const struct ment *x = &t->e[i];
		if (x->kind != kind || (x->addr & ~NS_ATTR_MASK) != base + i * sz)
			return false;
		if (kind == K_ASSIGNED && x->ripas != e0->ripas)
			return false;
		if (kind == K_ASSIGNED_NS && (x->addr & NS_ATTR_MASK) != attrs)
			return false;
	}
	return true;
}

static uint64_t p_rtt_fold(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct mrealm *r = realm_of_rd(c, a[0]);
	if (!r || level < r->sl + 1 || level > 3 || !valid_map_addr(r, ipa, (int)level - 1))
		return RMI_ERROR_INPUT;
	int l = (int)level;
	struct mwalk w;
	mwalk(c, r, ipa, l - 1, &w);
	if (w.level != l - 1)
		return ST_RTT(w.level);
	struct ment *p = went(c, &w);
	if (p->kind != K_TABLE)
		return ST_RTT(l - 1);
	int ct = p->child;
	const struct mtable *t = T(c, ct);
	unsigned n = tlive(t);
	struct ment np = { 0 };
	if (n == 0) {
		if (uniform_unassigned(t, K_UNASSIGNED, RMI_DESTROYED)) {
			np.kind = K_UNASSIGNED;
			np.ripas = RMI_DESTROYED;
		} else if (uniform_unassigned(t, K_UNASSIGNED, RMI_EMPTY)) {
			np.kind = K_UNASSIGNED;
			np.ripas = RMI_EMPTY;
		} else if (uniform_unassigned(t, K_UNASSIGNED, RMI_RAM)) {
			np.kind = K_UNASSIGNED;
			np.ripas = RMI_RAM;
		} else if (uniform_unassigned(t, K_UNASSIGNED_NS, 0)) {
			np.kind = K_UNASSIGNED_NS;
		} else if (maps_block(t, K_ASSIGNED_NS)) {
			if (l <= 1)
				return ST_RTT(l - 1);
			np.kind = K_ASSIGNED_NS;
			np.addr = t->e[0].addr;
			c->ns_blocks_folded++;
		} else {
			return ST_RTT(l);
		}
	} else if (n == S2TTES) {
		if (l <= 1)
			return ST_RTT(l - 1);
		if (!maps_block(t, K_ASSIGNED))
			return ST_RTT(l);
		np.kind = K_ASSIGNED;
		np.ripas = t->e[0].ripas;
		np.addr = t->e[0].addr;
		c->blocks_folded++;
	} else {
		return ST_RTT(l);
	}
	uint64_t pa = t->pa;
	*p = np;
	table_free(c, ct);
	set_state(c, gidx(pa), RMMEMU_GRANULE_DELEGATED, -1);
	e->mask |= 1U << 1;
	e->x[1] = pa;
	return RMI_SUCCESS;
}

static bool host_desc_valid(uint64_t desc, int level)
{
	if (desc & ~(lvl_mask(level) | NS_ATTR_MASK))
		return false;
	return ((desc >> 2) & 7) != 4;   /* MemAttr 0b100 is reserved with FWB */
}

static uint64_t p_map_unprotected(struct ctx *c, const uint64_t a[6])
{
	uint64_t ipa = a[1], desc = a[3];
	int64_t level = (int64_t)a[2];
	if (level < 1 || level > 3)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, a[0]);
	/* level < starting level: see KNOWN BUG at map_level_fixup(); INPUT is the expected result. */
	if (!r || !host_desc_valid(desc, (int)level) || !valid_map_addr(r, ipa, (int)level) || ipa < par_size(r) ||
	    level < r->sl)
		return RMI_ERROR_INPUT;
	int l = (int)level;
	struct mwalk w;
	mwalk(c, r, ipa, l, &w);
	if (w.level != l)
		return ST_RTT(w.level);
	struct ment *x = went(c, &w);
	if (x->kind != K_UNASSIGNED_NS)
		return ST_RTT(l);
	x->kind = K_ASSIGNED_NS;
	x->addr = desc;
	return RMI_SUCCESS;
}

static uint64_t p_unmap_unprotected(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	if (level < 1 || level > 3)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, a[0]);
	if (!r || !valid_map_addr(r, ipa, (int)level) || ipa < par_size(r) || level < r->sl)
		return RMI_ERROR_INPUT;
	int l = (int)level;
	struct mwalk w;
	mwalk(c, r, ipa, l, &w);
	struct ment *x = went(c, &w);
	e->mask |= 1U << 1;
	if (w.level != l || x->kind != K_ASSIGNED_NS) {
		e->x[1] = mskip(c, ipa, &w);
		return ST_RTT(w.level);
	}
	memset(x, 0, sizeof(*x));
	x->kind = K_UNASSIGNED_NS;
	e->x[1] = mskip(c, ipa, &w);
	return RMI_SUCCESS;
}

static uint64_t p_read_entry(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct mrealm *r = realm_of_rd(c, a[0]);
	if (!r || level < r->sl || level > 3 || !valid_map_addr(r, ipa, (int)level))
		return RMI_ERROR_INPUT;
	struct mwalk w;
	mwalk(c, r, ipa, (int)level, &w);
	const struct ment *x = went(c, &w);
	e->mask |= 0x1EU;
	e->x[1] = (uint64_t)w.level;
	e->x[3] = 0;
	e->x[4] = RMI_EMPTY;
	switch (x->kind) {
	case K_UNASSIGNED:
		e->x[2] = RMI_UNASSIGNED;
		e->x[4] = x->ripas;
		break;
	case K_ASSIGNED:
		e->x[2] = RMI_ASSIGNED;
		e->x[3] = x->ripas == RMI_DESTROYED ? 0 : x->addr;
		e->x[4] = x->ripas;
		break;
	case K_UNASSIGNED_NS:
		e->x[2] = RMI_UNASSIGNED;
		break;
	case K_ASSIGNED_NS:
		e->x[2] = RMI_ASSIGNED;
		e->x[3] = x->addr;
		break;
	default:
		e->x[2] = RMI_TABLE;
		e->x[3] = x->addr;
		break;
	}
	return RMI_SUCCESS;
}

static uint64_t p_init_ripas(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t base = a[1], top = a[2];
	if (top <= base)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, a[0]);
	if (!r || !valid_map_addr(r, base, 3) || !valid_map_addr(r, top, 3) || base >= par_size(r) ||
	    top - GSZ >= par_size(r))
		return RMI_ERROR_INPUT;
	if (r->state != MREALM_NEW)
		return RMI_ERROR_REALM;
	struct mwalk w;
	mwalk(c, r, base, 3, &w);
	uint64_t sz = msize(w.level), addr = base & ~(sz - 1);
	if (addr != base)
		return ST_RTT(w.level);
	struct mtable *t = T(c, w.t);
	for (unsigned i = w.i; i < S2TTES; i++) {
		if (addr + sz > top)
			break;
		struct ment *x = &t->e[i];
		if (x->kind != K_UNASSIGNED || x->ripas == RMI_DESTROYED)
			break;
		x->ripas = RMI_RAM;
		addr += sz;
	}
	if (addr == base)
		return ST_RTT(w.level);
	e->mask |= 1U << 1;
	e->x[1] = addr;
	return RMI_SUCCESS;
}

static uint64_t p_data_create(struct ctx *c, const uint64_t a[6], bool unknown)
{
	uint64_t rd = a[0], data = a[1], ipa = a[2];
	if (!unknown) {
		if (a[4] != RMI_NO_MEASURE_CONTENT && a[4] != RMI_MEASURE_CONTENT)
			return RMI_ERROR_INPUT;
		if (!ns_state(c, a[3]))
			return RMI_ERROR_INPUT;
	}
	if (data == rd || gstate(c, data) != RMMEMU_GRANULE_DELEGATED)
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, rd);
	if (!r)
		return RMI_ERROR_INPUT;
	if (!unknown && r->state != MREALM_NEW)
		return RMI_ERROR_REALM;
	if (ipa >= par_size(r) || !valid_map_addr(r, ipa, 3))
		return RMI_ERROR_INPUT;
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	if (w.level != 3)
		return ST_RTT(w.level);
	struct ment *x = went(c, &w);
	if (x->kind != K_UNASSIGNED)
		return ST_RTT(3);
	if (!unknown && !ns_readable(c, a[3]))
		return RMI_ERROR_INPUT;
	x->kind = K_ASSIGNED;
	x->addr = data;
	if (!unknown)
		x->ripas = RMI_RAM;
	set_state(c, gidx(data), RMMEMU_GRANULE_DATA, (int)(r - c->realms));
	return RMI_SUCCESS;
}

static uint64_t p_data_destroy(struct ctx *c, const uint64_t a[6], struct expect *e)
{
	uint64_t ipa = a[1];
	struct mrealm *r = realm_of_rd(c, a[0]);
	e->mask |= 1U << 2;
	if (!r || ipa >= par_size(r) || !valid_map_addr(r, ipa, 3)) {
		e->x[2] = 0;
		return RMI_ERROR_INPUT;
	}
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	struct ment *x = went(c, &w);
	uint64_t ret;
	if (w.level != 3) {
		ret = ST_RTT(w.level);
	} else if (x->kind == K_ASSIGNED) {
		uint64_t pa = x->addr;
		x->kind = K_UNASSIGNED;
		x->addr = 0;
		x->ripas = x->ripas == RMI_EMPTY ? RMI_EMPTY : RMI_DESTROYED;
		set_state(c, gidx(pa), RMMEMU_GRANULE_DELEGATED, -1);
		e->mask |= 1U << 1;
		e->x[1] = pa;
		ret = RMI_SUCCESS;
	} else {
		ret = ST_RTT(3);
	}
	e->x[2] = mskip(c, ipa, &w);
	return ret;
}

static uint64_t p_set_ripas(struct ctx *c, const uint64_t a[6])
{
	if (a[3] <= a[2])
		return RMI_ERROR_INPUT;
	struct mrealm *r = realm_of_rd(c, a[0]);
	struct mrec *k = rec_of(c, a[1]);
	if (!r || !k || a[0] == a[1])
		return RMI_ERROR_INPUT;
	if (&c->realms[k->realm] != r)
		return RMI_ERROR_REC;
	/* No RIPAS change was ever requested by the realm: [base, top) cannot match it. */
	return RMI_ERROR_INPUT;
}

static uint64_t feat_reg0(void)
{
	return (uint64_t)PA_BITS | (uint64_t)CFG_NUM_BPS << 14 | (uint64_t)CFG_NUM_WPS << 20 | 1ULL << 26 |
	       (uint64_t)CFG_PMU_CTRS << 27 | 1ULL << 32 | 1ULL << 33 | (uint64_t)CFG_NUM_LRS << 34;
}

/* SMCCC: the function ID is W0, and bit 16 (the SVE hint of SMCCC 1.3) is ignored. */
static uint64_t fid_normalize(uint64_t fid)
{
	return (uint32_t)fid & ~(1ULL << 16);
}

static void predict(struct ctx *c, uint64_t fid, const uint64_t a[6], struct expect *e)
{
	memset(e, 0, sizeof(*e));
	e->mask = 1;
	switch (fid_normalize(fid)) {
	case SMC_RMI_VERSION:
		e->x[0] = a[0] == RMI_ABI_VERSION ? RMI_SUCCESS : RMI_ERROR_INPUT;
		e->x[1] = e->x[2] = RMI_ABI_VERSION;
		e->mask |= 6;
		break;
	case SMC_RMI_FEATURES:
		e->x[0] = RMI_SUCCESS;
		/* MAX_RECS_ORDER (bits 41:38) is implementation defined: not compared. */
		e->x[1] = a[0] == 0 ? feat_reg0() : 0;
		e->ignore[1] = a[0] == 0 ? 0xFULL << 38 : 0;
		e->mask |= 2;
		break;
	case SMC_RMI_GRANULE_DELEGATE:
		e->x[0] = p_delegate(c, a[0]);
		break;
	case SMC_RMI_GRANULE_UNDELEGATE:
		e->x[0] = p_undelegate(c, a[0]);
		break;
	case SMC_RMI_REALM_CREATE:
		e->x[0] = p_realm_create(c, a[0], a[1]);
		break;
	case SMC_RMI_REALM_ACTIVATE:
		e->x[0] = p_realm_activate(c, a[0]);
		break;
	case SMC_RMI_REALM_DESTROY:
		e->x[0] = p_realm_destroy(c, a[0]);
		break;
	case SMC_RMI_REC_CREATE:
		e->x[0] = p_rec_create(c, a[0], a[1], a[2]);
		break;
	case SMC_RMI_REC_DESTROY:
		e->x[0] = p_rec_destroy(c, a[0]);
		break;
	case SMC_RMI_REC_ENTER:
		e->x[0] = p_rec_enter(c, a[0], a[1]);
		break;
	case SMC_RMI_REC_AUX_COUNT:
		if (realm_of_rd(c, a[0])) {
			e->x[0] = RMI_SUCCESS;
			e->x[1] = NAUX;
			e->mask |= 2;
		} else {
			e->x[0] = RMI_ERROR_INPUT;
		}
		break;
	case SMC_RMI_PSCI_COMPLETE:
		/* No REC ever has a PSCI request pending (RECs do not execute without a backend). */
		e->x[0] = RMI_ERROR_INPUT;
		break;
	case SMC_RMI_RTT_CREATE:
		e->x[0] = p_rtt_create(c, a[0], a[1], a[2], (int64_t)a[3]);
		break;
	case SMC_RMI_RTT_DESTROY:
		e->x[0] = p_rtt_destroy(c, a, e);
		break;
	case SMC_RMI_RTT_FOLD:
		e->x[0] = p_rtt_fold(c, a, e);
		break;
	case SMC_RMI_RTT_MAP_UNPROTECTED:
		e->x[0] = p_map_unprotected(c, a);
		break;
	case SMC_RMI_RTT_UNMAP_UNPROTECTED:
		e->x[0] = p_unmap_unprotected(c, a, e);
		break;
	case SMC_RMI_RTT_READ_ENTRY:
		e->x[0] = p_read_entry(c, a, e);
		break;
	case SMC_RMI_RTT_INIT_RIPAS:
		e->x[0] = p_init_ripas(c, a, e);
		break;
	case SMC_RMI_RTT_SET_RIPAS:
		e->x[0] = p_set_ripas(c, a);
		break;
	case SMC_RMI_DATA_CREATE:
		e->x[0] = p_data_create(c, a, false);
		break;
	case SMC_RMI_DATA_CREATE_UNKNOWN:
		e->x[0] = p_data_create(c, a, true);
		break;
	case SMC_RMI_DATA_DESTROY:
		e->x[0] = p_data_destroy(c, a, e);
		break;
	default:
		e->x[0] = SMCCC_NOT_SUPPORTED;
		break;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Issuing calls and checking                                                                  */
/* ------------------------------------------------------------------------------------------ */

static void check_granule(struct ctx *c, int i, const char *why)
{
	struct rmmemu_granule_info info;
	uint64_t pa = gaddr(i);
	if (rmmemu_granule_info(c->emu, pa, &info) != RMMEMU_OK)
		fail(c, "granule_info(0x%" PRIx64 ") failed", pa);
	const struct mgran *g = &c->g[i];
	if (info.state != g->state || info.pas != g->pas)
		fail(c, "%s: granule 0x%" PRIx64 " is %s/%s, model says %s/%s", why, pa,
		     rmmemu_granule_state_name(info.state), rmmemu_pas_name(info.pas),
		     rmmemu_granule_state_name((enum rmmemu_granule_state)g->state),
		     rmmemu_pas_name((enum rmmemu_pas)g->pas));
	uint64_t rc = expected_refcount(c, i);
	if (info.refcount != rc)
		fail(c, "%s: granule 0x%" PRIx64 " (%s) refcount %u, model says %" PRIu64, why, pa,
		     rmmemu_granule_state_name(info.state), info.refcount, rc);
}

static void check_pool(struct ctx *c)
{
	for (int k = 0; k < c->npool; k++)
		check_granule(c, c->pool[k], "pool check");
}

static void post_checks(struct ctx *c, uint64_t fid, const uint64_t a[6])
{
	char msg[512];
	if (rmmemu_check_invariants(c->emu, msg, sizeof(msg)) != 0)
		fail(c, "rmmemu_check_invariants: %s", msg);
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(c->emu, counts);
	for (int s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
		if (counts[s] != c->counts[s])
			fail(c, "census: %" PRIu64 " granules %s, model says %" PRIu64, counts[s],
			     rmmemu_granule_state_name((enum rmmemu_granule_state)s), c->counts[s]);
	for (unsigned k = 0; k < 6; k++) {
		int i = gidx(a[k]);
		if (i >= 0)
			check_granule(c, i, "argument");
	}
	if (fid == SMC_RMI_REC_CREATE || fid == SMC_RMI_REC_DESTROY)
		for (unsigned k = 0; k < NAUX; k++) {
			int i = gidx(c->recp.aux[k]);
			if (i >= 0)
				check_granule(c, i, "REC aux");
		}
	if (c->ncalls % 64 == 0)
		check_pool(c);
}

static void record(struct ctx *c, uint64_t fid, const uint64_t a[6], const struct expect *e,
		   const struct rmmemu_smc_result *res)
{
	struct hentry *h = &c->hist[c->hpos++ % HIST];
	h->n = c->ncalls + c->nreads;
	h->fid = fid;
	memcpy(h->a, a, sizeof(h->a));
	memcpy(h->r, res->x, sizeof(h->r));
	h->e = *e;
}

static void compare(struct ctx *c, const struct expect *e, const struct rmmemu_smc_result *res)
{
	for (unsigned i = 0; i < 5; i++)
		if ((e->mask & (1U << i)) && (e->x[i] & ~e->ignore[i]) != (res->x[i] & ~e->ignore[i]))
			fail(c, "X%u = 0x%" PRIx64 ", the model expects 0x%" PRIx64, i, res->x[i], e->x[i]);
}

static void tally(struct stats *s, uint64_t fid, uint64_t x0)
{
	fid = fid_normalize(fid);
	if (fid >= RMI_FID(0) && fid <= RMI_FID(0x1F) && RMI_RETURN_STATUS(x0) <= RMI_ERROR_RTT && !(x0 >> 16))
		s->by[fid - RMI_FID(0)][RMI_RETURN_STATUS(x0)]++;
	else
		s->other++;
}

/* One checked call: predict, issue, compare, check invariants / census / granules. */
static uint64_t call6(struct ctx *c, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		      uint64_t a5, uint64_t a6, struct rmmemu_smc_result *out)
{
	const uint64_t a[6] = { a1, a2, a3, a4, a5, a6 };
	struct expect e;
	struct rmmemu_smc_result res;
	predict(c, fid, a, &e);
	c->ncalls++;
	rmmemu_smc(c->emu, fid, a, &res);
	record(c, fid, a, &e, &res);
	if (trace_calls)
		print_call(&c->hist[(c->hpos - 1) % HIST]);
	tally(&c->st, fid, res.x[0]);
	compare(c, &e, &res);
	post_checks(c, fid, a);

	/* Extra checks of documented effects. */
	if (fid == SMC_RMI_GRANULE_UNDELEGATE && res.x[0] == RMI_SUCCESS) {
		static const uint8_t zero[GSZ];
		uint8_t buf[GSZ];
		if (rmmemu_ns_read(c->emu, a1, buf, sizeof(buf)) != RMMEMU_OK)
			fail(c, "undelegated granule 0x%" PRIx64 " is not readable by the host", a1);
		if (memcmp(buf, zero, sizeof(buf)))
			fail(c, "undelegated granule 0x%" PRIx64 " was not scrubbed", a1);
	}
	if (fid == SMC_RMI_GRANULE_DELEGATE && res.x[0] == RMI_SUCCESS) {
		uint64_t v;
		if (rmmemu_ns_read64(c->emu, a1 + 8 * rnd(c, 512), &v) != RMMEMU_E_GPF)
			fail(c, "host read of delegated granule 0x%" PRIx64 " did not fault", a1);
	}
	if (fid == SMC_RMI_REC_ENTER && res.x[0] == RMI_SUCCESS) {
		uint64_t reason;
		if (rmmemu_ns_read64(c->emu, a2 + RMI_REC_EXIT_REASON, &reason) != RMMEMU_OK ||
		    reason != RMI_EXIT_IRQ)
			fail(c, "REC exit reason %" PRIu64 ", expected RMI_EXIT_IRQ", reason);
	}
	if (out)
		*out = res;
	return res.x[0];
}

#define CALL(c, fid, ...) call_n(c, fid, (uint64_t[6]){ __VA_ARGS__ })
static uint64_t call_n(struct ctx *c, uint64_t fid, const uint64_t a[6])
{
	return call6(c, fid, a[0], a[1], a[2], a[3], a[4], a[5], NULL);
}

/* Read-only verification call (not counted as a random call, no invariant pass). */
static void verify_read(struct ctx *c, uint64_t rd, uint64_t ipa, int level)
{
	const uint64_t a[6] = { rd, ipa, (uint64_t)level, 0, 0, 0 };
	struct expect e;
	struct rmmemu_smc_result res;
	predict(c, SMC_RMI_RTT_READ_ENTRY, a, &e);
	c->nreads++;
	rmmemu_smc(c->emu, SMC_RMI_RTT_READ_ENTRY, a, &res);
	record(c, SMC_RMI_RTT_READ_ENTRY, a, &e, &res);
	compare(c, &e, &res);
}

/* Read back a realm's whole tree and compare it with the shadow tree. */
static void deep_compare(struct ctx *c, int ri)
{
	struct mrealm *r = &c->realms[ri];
	for (int t = 0; t < c->tab_hw; t++) {
		struct mtable *m = c->tables[t];
		if (!m || m->realm != ri)
			continue;
		for (unsigned i = 0; i < S2TTES; i++) {
			uint64_t ipa = m->ipa + i * msize(m->level);
			if (ipa >= ipa_size(r))
				break;
			verify_read(c, r->rd, ipa, m->level);
		}
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Argument generators                                                                         */
/* ------------------------------------------------------------------------------------------ */

static void pool_init(struct ctx *c)
{
	c->npool = 0;
	for (int i = 0; i < P0_PAGES; i++)
		c->pool[c->npool++] = gidx(P0_BASE + (uint64_t)i * GSZ);
	for (int i = 0; i < POOL_PAGES; i++)
		c->pool[c->npool++] = gidx(P1_BASE + (uint64_t)i * GSZ);
	for (int i = -8; i < 8; i++)
		c->pool[c->npool++] = gidx(SEC_BASE + (uint64_t)(int64_t)i * GSZ);
	for (int i = 0; i < 4; i++)
		c->pool[c->npool++] = gidx(ROOT_BASE + (uint64_t)i * GSZ);
	for (int i = 1; i <= 4; i++)
		c->pool[c->npool++] = gidx(DRAM1_BASE + DRAM1_SIZE - (uint64_t)i * GSZ);
}

enum { PICK_GENERAL = 1, PICK_BLOCK = 2, PICK_ALL = 3 };

/* A random pool granule in `state` (-1: any), not reserved by the current action. */
static int pick_pool(struct ctx *c, int state, unsigned where, bool ns_only)
{
	int start = (int)rnd(c, (uint64_t)c->npool);
	for (int k = 0; k < c->npool; k++) {
		int i = c->pool[(start + k) % c->npool];
		bool blk = in_block_pool(i);
		if ((blk && !(where & PICK_BLOCK)) || (!blk && !(where & PICK_GENERAL)))
			continue;
		if (state >= 0 && c->g[i].state != state)
			continue;
		if (ns_only && c->g[i].pas != RMMEMU_PAS_NONSECURE && c->g[i].pas != RMMEMU_PAS_REALM)
			continue;
		if (c->resv[i] == c->resv_gen)
			continue;
		return i;
	}
	return -1;
}

/* Any address: mostly pool granules, sometimes special or garbage. */
static uint64_t any_addr(struct ctx *c)
{
	switch (rnd(c, 20)) {
	case 0: return SCR_RP + GSZ * rnd(c, 5);
	case 1: return SEC_BASE + GSZ * rnd(c, SEC_SIZE / GSZ);
	case 2: return ROOT_BASE + GSZ * rnd(c, ROOT_SIZE / GSZ);
	case 3: return DEV_BASE + GSZ * rnd(c, 16);
	case 4: return gaddr(c->pool[rnd(c, (uint64_t)c->npool)]) + 8 * (1 + rnd(c, 511));
	case 5: return DRAM1_BASE + DRAM1_SIZE + GSZ * rnd(c, 4);
	case 6: return DRAM0_BASE - GSZ;
	case 7: return rnd(c, 2) ? 0 : next_rand(c);
	case 8: return next_rand(c) & ~(GSZ - 1);
	default: {
		int i = pick_pool(c, -1, PICK_ALL, false);
		return i < 0 ? 0 : gaddr(i);
	}
	}
}

static void reserve(struct ctx *c, uint64_t pa)
{
	int i = gidx(pa);
	if (i >= 0)
		c->resv[i] = c->resv_gen;
}

static void new_action(struct ctx *c)
{
	c->resv_gen++;
}

/* A DELEGATED granule from the general pool, delegating one if needed. */
static uint64_t ensure_delegated(struct ctx *c)
{
	int i = -1;
	if (chance(c, 60))
		i = pick_pool(c, RMMEMU_GRANULE_DELEGATED, PICK_GENERAL, false);
	if (i < 0) {
		i = pick_pool(c, RMMEMU_GRANULE_UNDELEGATED, PICK_GENERAL, true);
		if (i < 0)
			i = pick_pool(c, RMMEMU_GRANULE_DELEGATED, PICK_GENERAL, false);
		if (i < 0)
			return any_addr(c);
		if (c->g[i].state == RMMEMU_GRANULE_UNDELEGATED) {
			if (chance(c, 30)) {
				uint64_t pattern = next_rand(c) | 1;
				rmmemu_ns_write64(c->emu, gaddr(i) + 8 * rnd(c, 512), pattern);
			}
			CALL(c, SMC_RMI_GRANULE_DELEGATE, gaddr(i));
		}
	}
	reserve(c, gaddr(i));
	return gaddr(i);
}

static int pick_realm(struct ctx *c, int want_state)
{
	int start = (int)rnd(c, MAX_REALMS);
	for (int k = 0; k < MAX_REALMS; k++) {
		int i = (start + k) % MAX_REALMS;
		if (c->realms[i].used && (want_state < 0 || c->realms[i].state == want_state))
			return i;
	}
	if (want_state >= 0)
		return pick_realm(c, -1);
	return -1;
}

static int live_realms(struct ctx *c)
{
	int n = 0;
	for (int i = 0; i < MAX_REALMS; i++)
		n += c->realms[i].used;
	return n;
}

/* An RD argument: a live realm's RD most of the time. */
static uint64_t rd_arg(struct ctx *c, int *ri)
{
	*ri = pick_realm(c, -1);
	if (*ri >= 0 && chance(c, 95))
		return c->realms[*ri].rd;
	*ri = -1;
	return any_addr(c);
}

/* An RD argument, preferring a realm in `state`. */
static uint64_t rd_arg_state(struct ctx *c, int *ri, int state)
{
	*ri = pick_realm(c, chance(c, 85) ? state : -1);
	if (*ri >= 0 && chance(c, 95))
		return c->realms[*ri].rd;
	*ri = -1;
	return any_addr(c);
}

/* A random model table of realm ri (non-root only if nonroot). */
static int pick_table(struct ctx *c, int ri, bool nonroot, int level)
{
	if (c->tab_hw == 0)
		return -1;
	int start = (int)rnd(c, (uint64_t)c->tab_hw);
	for (int k = 0; k < c->tab_hw; k++) {
		int t = (start + k) % c->tab_hw;
		const struct mtable *m = c->tables[t];
		if (!m || m->realm != ri || (nonroot && m->root) || (level >= 0 && m->level != level))
			continue;
		return t;
	}
	return -1;
}

/* Find an entry of realm ri satisfying `pred`, scanning a few random tables. */
typedef bool (*ent_pred)(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level);

static bool find_entry(struct ctx *c, int ri, ent_pred pred, int level, uint64_t *ipa_out, int *level_out)
{
	const struct mrealm *r = &c->realms[ri];
	for (int tries = 0; tries < 6; tries++) {
		int t = pick_table(c, ri, false, level);
		if (t < 0)
			return false;
		const struct mtable *m = T(c, t);
		unsigned start = (unsigned)rnd(c, S2TTES);
		for (unsigned k = 0; k < S2TTES; k++) {
			unsigned i = (start + k) % S2TTES;
			uint64_t ipa = m->ipa + i * msize(m->level);
			if (ipa >= ipa_size(r))
				continue;
			if (pred(r, &m->e[i], ipa, m->level)) {
				*ipa_out = ipa;
				*level_out = m->level;
				return true;
			}
		}
	}
	return false;
}

static bool pr_unassigned_l3(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return level == 3 && e->kind == K_UNASSIGNED;
}
static bool pr_assigned(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_ASSIGNED;
}
static bool pr_unassigned_empty(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_UNASSIGNED && e->ripas == RMI_EMPTY && ipa < par_size(r);
}
static bool pr_unassigned_par(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_UNASSIGNED && ipa < par_size(r);
}
static bool pr_unassigned_ns(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_UNASSIGNED_NS && level >= 1;
}
static bool pr_assigned_ns(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_ASSIGNED_NS;
}
static bool pr_table(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return e->kind == K_TABLE;
}

/* An IPA in one of a few hot regions of realm r (page aligned). */
static uint64_t hot_ipa(struct ctx *c, const struct mrealm *r)
{
	uint64_t par = par_size(r), sz = ipa_size(r), span = 8ULL << 20;
	uint64_t base;
	switch (rnd(c, 7)) {
	case 0: case 1: base = 0; break;
	case 2: base = (1ULL << 30) - span / 2; break;        /* across a 1 GiB boundary */
	case 3: base = par - span; break;                      /* top of the protected half */
	case 4: case 5: base = par; break;                     /* bottom of the unprotected half */
	default: base = sz - span; break;                      /* top of the IPA space */
	}
	return base + GSZ * rnd(c, span / GSZ);
}

/* A page in a hot region of the protected half. */
static uint64_t hot_par_ipa(struct ctx *c, const struct mrealm *r)
{
	uint64_t ipa;
	do
		ipa = hot_ipa(c, r);
	while (ipa >= par_size(r));
	return ipa;
}

/* An IPA argument for realm r (usually valid, sometimes not). */
static uint64_t ipa_arg(struct ctx *c, const struct mrealm *r)
{
	switch (rnd(c, 40)) {
	case 0: return ipa_size(r);
	case 1: return ipa_size(r) + GSZ * rnd(c, 4);
	case 2: return hot_ipa(c, r) + 8 * (1 + rnd(c, 511));
	case 3: return next_rand(c);
	case 4: case 5: case 6: case 7: return GSZ * rnd(c, ipa_size(r) / GSZ);
	default: return hot_ipa(c, r);
	}
}

static uint64_t level_garbage(struct ctx *c, const struct mrealm *r)
{
	static const uint64_t odd[] = { (uint64_t)-1, 4, 5, 0x100000003ULL, 0x8000000000000002ULL };
	if (chance(c, 70))
		return (uint64_t)(int64_t)((r ? r->sl : 0) - 1 + (int)rnd(c, 6));
	return odd[rnd(c, sizeof(odd) / sizeof(odd[0]))];
}

/* Deepest level reached at ipa and the IPA aligned to it. */
static int walk_level(struct ctx *c, const struct mrealm *r, uint64_t ipa)
{
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	return w.level;
}

/* ------------------------------------------------------------------------------------------ */
/* Actions                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static const struct { unsigned s2sz; int sl; unsigned nroot; } realm_cfgs[] = {
	{ 32, 2, 4 }, { 33, 2, 8 }, { 34, 2, 16 }, { 32, 1, 1 }, { 36, 1, 1 }, { 39, 1, 1 }, { 40, 1, 2 },
	{ 41, 1, 4 }, { 42, 1, 8 }, { 43, 1, 16 }, { 40, 0, 1 }, { 44, 0, 1 }, { 48, 0, 1 },
};

static void write_realm_params(struct ctx *c, uint64_t addr, const struct rparams *p)
{
	uint8_t img[GSZ];
	memset(img, 0, sizeof(img));
	memcpy(img + RMI_REALM_PARAMS_FLAGS, &p->flags, 8);
	img[RMI_REALM_PARAMS_S2SZ] = (uint8_t)p->s2sz;
	img[RMI_REALM_PARAMS_SVE_VL] = (uint8_t)p->sve_vl;
	img[RMI_REALM_PARAMS_NUM_BPS] = (uint8_t)p->bps;
	img[RMI_REALM_PARAMS_NUM_WPS] = (uint8_t)p->wps;
	img[RMI_REALM_PARAMS_PMU_NUM_CTRS] = (uint8_t)p->pmu_ctrs;
	img[RMI_REALM_PARAMS_HASH_ALGO] = (uint8_t)p->hash;
	for (unsigned i = 0; i < RMI_RPV_SIZE; i++)
		img[RMI_REALM_PARAMS_RPV + i] = (uint8_t)next_rand(c);
	img[RMI_REALM_PARAMS_VMID] = (uint8_t)p->vmid;
	img[RMI_REALM_PARAMS_VMID + 1] = (uint8_t)(p->vmid >> 8);
	memcpy(img + RMI_REALM_PARAMS_RTT_BASE, &p->rtt_base, 8);
	memcpy(img + RMI_REALM_PARAMS_RTT_LEVEL_START, &p->sl, 8);
	memcpy(img + RMI_REALM_PARAMS_RTT_NUM_START, &p->nroot, 4);
	c->rp_addr = ~0ULL;
	if (rmmemu_ns_write(c->emu, addr, img, sizeof(img)) == RMMEMU_OK) {
		c->rp = *p;
		c->rp_addr = addr;
	}
}

/* nroot contiguous free general-pool granules, aligned to nroot granules, all DELEGATED. */
static uint64_t prepare_root_rtts(struct ctx *c, unsigned nroot)
{
	unsigned slots = P0_PAGES / nroot;
	unsigned start = (unsigned)rnd(c, slots);
	for (unsigned k = 0; k < slots; k++) {
		uint64_t base = P0_BASE + (uint64_t)((start + k) % slots) * nroot * GSZ;
		bool ok = true;
		for (unsigned i = 0; i < nroot && ok; i++) {
			int gi = gidx(base + i * GSZ);
			ok = (c->g[gi].state == RMMEMU_GRANULE_UNDELEGATED || c->g[gi].state == RMMEMU_GRANULE_DELEGATED) &&
			     c->resv[gi] != c->resv_gen;
		}
		if (!ok)
			continue;
		for (unsigned i = 0; i < nroot; i++) {
			int gi = gidx(base + i * GSZ);
			if (c->g[gi].state == RMMEMU_GRANULE_UNDELEGATED)
				CALL(c, SMC_RMI_GRANULE_DELEGATE, base + i * GSZ);
			c->resv[gi] = c->resv_gen;
		}
		return base;
	}
	return 0;
}

static unsigned free_vmid(struct ctx *c)
{
	unsigned v = (unsigned)rnd(c, 256);
	for (unsigned k = 0; k < 256; k++)
		if (!c->vmid_used[(v + k) % 256])
			return (v + k) % 256;
	return 0;
}

static void act_realm_create(struct ctx *c)
{
	unsigned ci = (unsigned)rnd(c, sizeof(realm_cfgs) / sizeof(realm_cfgs[0]));
	struct rparams p;
	memset(&p, 0, sizeof(p));
	p.s2sz = realm_cfgs[ci].s2sz;
	p.sl = realm_cfgs[ci].sl;
	p.nroot = realm_cfgs[ci].nroot;
	p.bps = 1 + (unsigned)rnd(c, CFG_NUM_BPS);
	p.wps = 1 + (unsigned)rnd(c, CFG_NUM_WPS);
	p.hash = (unsigned)rnd(c, 2);
	if (chance(c, 50)) {
		p.flags |= RMI_REALM_FLAGS_PMU;
		p.pmu_ctrs = 1 + (unsigned)rnd(c, CFG_PMU_CTRS);
	}
	p.vmid = free_vmid(c);
	bool full = live_realms(c) >= MAX_REALMS;
	/* Corrupt one field now and then (always when no realm slot is free). */
	if (full || chance(c, 15)) {
		switch (rnd(c, 14)) {
		case 0: p.s2sz = chance(c, 50) ? 31 : 49 + (unsigned)rnd(c, 200); break;
		case 1: p.nroot = p.nroot * 2; break;
		case 2: p.sl = chance(c, 50) ? -1 : 3; break;
		case 3: p.bps = 0; break;
		case 4: p.wps = CFG_NUM_WPS + 1; break;
		case 5: p.hash = 2 + (unsigned)rnd(c, 250); break;
		case 6: p.flags |= RMI_REALM_FLAGS_SVE; break;
		case 7: p.flags |= RMI_REALM_FLAGS_LPA2; break;
		case 8: p.flags |= RMI_REALM_FLAGS_PMU; p.pmu_ctrs = chance(c, 50) ? 0 : CFG_PMU_CTRS + 1; break;
		case 9: p.vmid = 256 + (unsigned)rnd(c, 65280); break;
		case 10: {
			int o = pick_realm(c, -1);
			if (o >= 0)
				p.vmid = c->realms[o].vmid;
			else
				p.bps = CFG_NUM_BPS + 1;
			break;
		}
		case 11: p.s2sz = p.sl == 0 ? 39 : p.sl == 1 ? 44 : 35; break; /* inconsistent with sl */
		case 12: p.nroot = 0; break;
		default: p.sl = 4 + (int64_t)rnd(c, 10); break;
		}
	}
	new_action(c);
	uint64_t rtt = prepare_root_rtts(c, p.nroot ? p.nroot : 1);
	uint64_t rd = ensure_delegated(c);
	p.rtt_base = rtt ? rtt : any_addr(c);
	switch (rnd(c, 30)) {
	case 0: rd = p.rtt_base; break;                         /* alias */
	case 1: p.rtt_base += GSZ; break;                       /* last root not delegated (maybe) */
	case 2: rd = any_addr(c); break;
	case 3: p.rtt_base = any_addr(c); break;
	default: break;
	}
	uint64_t params = chance(c, 95) ? SCR_RP : any_addr(c);
	write_realm_params(c, params, &p);
	/* Never let a create succeed without a free model slot. */
	if (full && realm_params_valid(c, &p))
		p.bps = 0, write_realm_params(c, params, &p);
	CALL(c, SMC_RMI_REALM_CREATE, rd, params);
}

static void write_rec_params(struct ctx *c, uint64_t addr, const struct recparams *p)
{
	uint8_t img[GSZ];
	memset(img, 0, sizeof(img));
	memcpy(img + RMI_REC_PARAMS_FLAGS, &p->flags, 8);
	memcpy(img + RMI_REC_PARAMS_MPIDR, &p->mpidr, 8);
	uint64_t pc = next_rand(c);
	memcpy(img + RMI_REC_PARAMS_PC, &pc, 8);
	for (unsigned i = 0; i < 8; i++) {
		uint64_t v = next_rand(c);
		memcpy(img + RMI_REC_PARAMS_GPRS + 8 * i, &v, 8);
	}
	memcpy(img + RMI_REC_PARAMS_NUM_AUX, &p->num_aux, 8);
	memcpy(img + RMI_REC_PARAMS_AUX, p->aux, sizeof(p->aux));
	c->recp_addr = ~0ULL;
	if (rmmemu_ns_write(c->emu, addr, img, sizeof(img)) == RMMEMU_OK) {
		c->recp = *p;
		c->recp_addr = addr;
	}
}

static int live_recs_total(struct ctx *c)
{
	int n = 0;
	for (int i = 0; i < MAX_RECS; i++)
		n += c->recs[i].used;
	return n;
}

static void act_rec_create(struct ctx *c)
{
	int ri = pick_realm(c, chance(c, 90) ? MREALM_NEW : -1);
	struct recparams p;
	memset(&p, 0, sizeof(p));
	new_action(c);
	uint64_t rd = ri >= 0 && chance(c, 95) ? c->realms[ri].rd : any_addr(c);
	p.flags = chance(c, 75) ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0;
	p.mpidr = idx_to_mpidr(ri >= 0 ? c->realms[ri].rec_count : 0);
	p.num_aux = NAUX;
	uint64_t rec = ensure_delegated(c);
	for (unsigned i = 0; i < NAUX; i++)
		p.aux[i] = ensure_delegated(c);
	bool full = live_recs_total(c) >= MAX_RECS - 1;
	if (full || chance(c, 15)) {
		switch (rnd(c, 8)) {
		case 0: p.mpidr = idx_to_mpidr((ri >= 0 ? c->realms[ri].rec_count : 0) + 1 + rnd(c, 3)); break;
		case 1: p.mpidr |= 1ULL << (4 + rnd(c, 4)); break;      /* RES0 bits */
		case 2: p.num_aux = chance(c, 50) ? NAUX - 1 : NAUX + 1 + rnd(c, 100); break;
		case 3: p.aux[rnd(c, NAUX)] = p.aux[rnd(c, NAUX)]; break; /* maybe a duplicate */
		case 4: p.aux[rnd(c, NAUX)] = any_addr(c); break;
		case 5: p.aux[rnd(c, NAUX)] = rec; break;
		case 6: rec = any_addr(c); break;
		default: p.num_aux = 0; break;
		}
	}
	uint64_t params = chance(c, 95) ? SCR_RECP : any_addr(c);
	write_rec_params(c, params, &p);
	if (full && params == c->recp_addr) {
		/* Make sure it fails: no free model slot. */
		p.num_aux = NAUX + 1;
		write_rec_params(c, params, &p);
	}
	CALL(c, SMC_RMI_REC_CREATE, rd, rec, params);
}

static int pick_rec(struct ctx *c, bool prefer_active)
{
	int start = (int)rnd(c, MAX_RECS), fallback = -1;
	for (int k = 0; k < MAX_RECS; k++) {
		int i = (start + k) % MAX_RECS;
		if (!c->recs[i].used)
			continue;
		if (!prefer_active || (c->realms[c->recs[i].realm].state == MREALM_ACTIVE && c->recs[i].runnable))
			return i;
		fallback = i;
	}
	return fallback;
}

static void act_rec_enter(struct ctx *c)
{
	int k = pick_rec(c, true);
	if (k < 0 && chance(c, 75)) {
		act_rec_create(c);   /* nothing to run yet */
		return;
	}
	uint64_t rec = k >= 0 && chance(c, 95) ? c->recs[k].pa : any_addr(c);
	uint64_t run = chance(c, 95) ? (chance(c, 50) ? SCR_RUN : SCR_RUN2) : any_addr(c);
	struct runenter e = { 0, 0, 0 };
	if (chance(c, 15))
		e.flags = rnd(c, 32);
	if (chance(c, 5))
		e.hcr = 1;      /* ICH_HCR_EL2.En is not the host's to set */
	switch (rnd(c, 20)) {
	case 0: e.lr0 = (1ULL << 62) | (1ULL << 61) | 40; break;  /* HW bit: invalid */
	case 1: case 2: e.lr0 = (1ULL << 62) | 40; break;         /* pending vINTID 40 */
	default: break;
	}
	uint8_t img[RMI_REC_ENTER_SIZE];
	memset(img, 0, sizeof(img));
	memcpy(img + RMI_REC_ENTER_FLAGS, &e.flags, 8);
	memcpy(img + RMI_REC_ENTER_GICV3_HCR, &e.hcr, 8);
	memcpy(img + RMI_REC_ENTER_GICV3_LRS, &e.lr0, 8);
	c->run_addr = ~0ULL;
	if (rmmemu_ns_write(c->emu, run, img, sizeof(img)) == RMMEMU_OK) {
		c->run = e;
		c->run_addr = run;
	}
	CALL(c, SMC_RMI_REC_ENTER, rec, run);
}

static void act_rtt_create(struct ctx *c)
{
	int ri;
	new_action(c);
	uint64_t rd = rd_arg(c, &ri);
	uint64_t rtt = chance(c, 95) ? ensure_delegated(c) : any_addr(c);
	if (ri < 0) {
		CALL(c, SMC_RMI_RTT_CREATE, rd, rtt, next_rand(c) & ~0xFFFULL, rnd(c, 4));
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	uint64_t ipa = ipa_arg(c, r), level;
	if (chance(c, 88) && ipa < ipa_size(r)) {
		int l = walk_level(c, r, ipa & ~(GSZ - 1));
		level = (uint64_t)(l < 3 ? l + 1 : 3);
		if (l < 3)
			ipa &= ~(msize(l) - 1);
		else
			ipa &= ~(msize(2) - 1);
	} else {
		level = level_garbage(c, r);
	}
	CALL(c, SMC_RMI_RTT_CREATE, rd, rtt, ipa, level);
}

static void act_rtt_destroy_or_fold(struct ctx *c, bool fold)
{
	int ri;
	uint64_t rd = rd_arg(c, &ri);
	uint64_t fid = fold ? SMC_RMI_RTT_FOLD : SMC_RMI_RTT_DESTROY;
	if (ri < 0) {
		CALL(c, fid, rd, next_rand(c) & ~0xFFFULL, rnd(c, 4));
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	int t = chance(c, 75) ? pick_table(c, ri, true, -1) : -1;
	if (t >= 0) {
		/* Prefer an empty table for destroy. */
		if (!fold && chance(c, 50)) {
			for (int k = 0; k < 8; k++) {
				int t2 = pick_table(c, ri, true, -1);
				if (t2 >= 0 && tlive(T(c, t2)) == 0) {
					t = t2;
					break;
				}
			}
		}
		const struct mtable *m = T(c, t);
		uint64_t ipa = m->ipa;
		if (chance(c, 10))
			ipa += msize(m->level) * (1 + rnd(c, 511));  /* inside the table: misaligned */
		CALL(c, fid, rd, ipa, (uint64_t)m->level);
		return;
	}
	uint64_t ipa = ipa_arg(c, r);
	uint64_t level = chance(c, 70) ? (uint64_t)(r->sl + 1 + (int)rnd(c, (uint64_t)(3 - r->sl))) : level_garbage(c, r);
	if ((int64_t)level >= 1 && (int64_t)level <= 3 && chance(c, 80))
		ipa &= ~(msize((int)level - 1) - 1);
	CALL(c, fid, rd, ipa, level);
}

static void act_init_ripas(struct ctx *c)
{
	int ri;
	uint64_t rd = rd_arg_state(c, &ri, MREALM_NEW);
	if (ri < 0) {
		CALL(c, SMC_RMI_RTT_INIT_RIPAS, rd, 0, GSZ);
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	uint64_t base, top;
	int level;
	if (chance(c, 65) && find_entry(c, ri, chance(c, 75) ? pr_unassigned_empty : pr_unassigned_par, -1, &base,
					&level)) {
		top = base + msize(level) * (1 + rnd(c, 3));
		if (chance(c, 30))
			top = base + GSZ * (1 + rnd(c, 1024));
	} else {
		base = (chance(c, 80) ? hot_par_ipa(c, r) : ipa_arg(c, r)) & ~(GSZ - 1);
		top = base + GSZ * (1 + rnd(c, 600));
		if (chance(c, 5))
			top = base - GSZ * rnd(c, 2);
	}
	if (top > par_size(r) && chance(c, 80))
		top = par_size(r);
	CALL(c, SMC_RMI_RTT_INIT_RIPAS, rd, base, top);
}

static void act_data_create(struct ctx *c, bool unknown)
{
	int ri;
	new_action(c);
	uint64_t rd = unknown ? rd_arg(c, &ri) : rd_arg_state(c, &ri, MREALM_NEW);
	uint64_t data = chance(c, 95) ? ensure_delegated(c) : any_addr(c);
	uint64_t ipa;
	int level;
	if (ri < 0) {
		ipa = GSZ * rnd(c, 1024);
	} else if (!chance(c, 70) || !find_entry(c, ri, pr_unassigned_l3, 3, &ipa, &level)) {
		ipa = chance(c, 80) ? hot_par_ipa(c, &c->realms[ri]) : ipa_arg(c, &c->realms[ri]);
	}
	if (unknown) {
		CALL(c, SMC_RMI_DATA_CREATE_UNKNOWN, rd, data, ipa);
		return;
	}
	uint64_t src = chance(c, 95) ? SCR_SRC : any_addr(c);
	if (chance(c, 20))
		rmmemu_ns_write64(c->emu, SCR_SRC + 8 * rnd(c, 512), next_rand(c));
	uint64_t flags = chance(c, 98) ? rnd(c, 2) : 2 + rnd(c, 10);
	CALL(c, SMC_RMI_DATA_CREATE, rd, data, ipa, src, flags);
}

static void act_data_destroy(struct ctx *c)
{
	int ri, level;
	uint64_t rd = rd_arg(c, &ri), ipa;
	if (ri < 0) {
		CALL(c, SMC_RMI_DATA_DESTROY, rd, GSZ * rnd(c, 1024));
		return;
	}
	if (!chance(c, 75) || !find_entry(c, ri, pr_assigned, -1, &ipa, &level))
		ipa = chance(c, 70) ? hot_par_ipa(c, &c->realms[ri]) : ipa_arg(c, &c->realms[ri]);
	CALL(c, SMC_RMI_DATA_DESTROY, rd, ipa);
}

static uint64_t ns_desc(struct ctx *c, int level)
{
	uint64_t pa = (next_rand(c) & ((1ULL << 40) - 1)) & ~(msize(level) - 1);
	uint64_t memattr = rnd(c, 8);
	if (memattr == 4 && chance(c, 80))
		memattr = 5;
	uint64_t desc = pa | memattr << 2 | rnd(c, 4) << 6;
	switch (rnd(c, 30)) {
	case 0: desc |= 1ULL << (1 + rnd(c, 1)); break;              /* descriptor type bits */
	case 1: desc |= 1ULL << (48 + rnd(c, 16)); break;            /* beyond the OA / upper attrs */
	case 2: desc |= GSZ << rnd(c, 9); break;                     /* possibly misaligned */
	case 3: desc |= 1ULL << 10; break;                           /* AF: not the host's */
	default: break;
	}
	return desc;
}

/* Formerly a known bug (fixed in rmi/rtt.c validate_rtt_map_cmds): RMI_RTT_MAP_UNPROTECTED /
 * RMI_RTT_UNMAP_UNPROTECTED with a level below the realm's starting level (level 1 on a realm whose
 * RTTs start at level 2) must return RMI_ERROR_INPUT. Such levels are now issued by default;
 * RMMEMU_RANDOM_KNOWN_BUGS=0 replaces them by the starting level again. */
static bool known_bugs;
static uint64_t map_level_fixup(const struct mrealm *r, uint64_t level)
{
	if (!known_bugs && (int64_t)level >= 1 && (int64_t)level < r->sl)
		return (uint64_t)r->sl;
	return level;
}

static void act_map_unprotected(struct ctx *c)
{
	int ri, level;
	uint64_t rd = rd_arg(c, &ri), ipa;
	if (ri < 0) {
		CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, rd, 1ULL << 40, 3, ns_desc(c, 3));
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	uint64_t lv;
	if (chance(c, 60) && find_entry(c, ri, pr_unassigned_ns, -1, &ipa, &level)) {
		lv = (uint64_t)level;
		if (level < 3 && chance(c, 30)) {
			lv = (uint64_t)(level + 1);   /* no table there yet: RMI_ERROR_RTT */
		}
	} else {
		ipa = chance(c, 80) ? par_size(r) + GSZ * rnd(c, 2048) : ipa_arg(c, r);
		if (ipa < ipa_size(r) && chance(c, 80)) {
			int l = walk_level(c, r, ipa & ~(GSZ - 1));
			lv = (uint64_t)(l < 1 ? 1 : l);
			ipa &= ~(msize((int)lv) - 1);
		} else {
			lv = level_garbage(c, r);
		}
	}
	if (r->sl >= 2 && chance(c, 4)) {
		/* A block level above the starting level (level 1 on a level-2 realm). */
		lv = (uint64_t)(r->sl - 1);
		ipa = par_size(r) & ~(msize((int)lv) - 1);
	}
	lv = map_level_fixup(r, lv);
	uint64_t desc = ns_desc(c, (int64_t)lv >= 1 && (int64_t)lv <= 3 ? (int)lv : 3);
	CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, rd, ipa, lv, desc);
}

static void act_unmap_unprotected(struct ctx *c)
{
	int ri, level;
	uint64_t rd = rd_arg(c, &ri), ipa;
	if (ri < 0) {
		CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, rd, 1ULL << 40, 3);
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	uint64_t lv;
	if (chance(c, 70) && find_entry(c, ri, pr_assigned_ns, -1, &ipa, &level)) {
		lv = (uint64_t)level;
		if (chance(c, 10))
			lv = (uint64_t)(level == 3 ? 2 : level + 1);
	} else {
		ipa = chance(c, 70) ? par_size(r) + GSZ * rnd(c, 2048) : ipa_arg(c, r);
		lv = chance(c, 70) ? 3 : level_garbage(c, r);
	}
	if (r->sl >= 2 && chance(c, 4)) {
		lv = (uint64_t)(r->sl - 1);
		ipa = par_size(r) & ~(msize((int)lv) - 1);
	}
	lv = map_level_fixup(r, lv);
	CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, rd, ipa, lv);
}

static void act_read_entry(struct ctx *c)
{
	int ri, level;
	uint64_t rd = rd_arg(c, &ri), ipa;
	if (ri < 0) {
		CALL(c, SMC_RMI_RTT_READ_ENTRY, rd, 0, 3);
		return;
	}
	const struct mrealm *r = &c->realms[ri];
	uint64_t lv;
	switch (rnd(c, 10)) {
	case 0: case 1: case 2: case 3: {
		int t = pick_table(c, ri, false, -1);
		const struct mtable *m = T(c, t);
		ipa = m->ipa + msize(m->level) * rnd(c, S2TTES);
		lv = (uint64_t)m->level;
		break;
	}
	case 4: case 5: case 6:
		if (!find_entry(c, ri, chance(c, 50) ? pr_assigned : pr_table, -1, &ipa, &level)) {
			ipa = 0;
			level = 3;
		}
		lv = (uint64_t)level;
		break;
	case 7: case 8:
		ipa = hot_ipa(c, r);
		lv = 3;
		break;
	default:
		ipa = ipa_arg(c, r);
		lv = level_garbage(c, r);
		break;
	}
	CALL(c, SMC_RMI_RTT_READ_ENTRY, rd, ipa, lv);
}

static void act_misc(struct ctx *c)
{
	static const uint64_t bad_fids[] = { RMI_FID(0x06), RMI_FID(0x10), RMI_FID(0x13), RMI_FID(0x1A),
					     RMI_FID(0x1F), RMI_FID(0x20), 0x84000150ULL, 0xC4000000ULL,
					     0x0ULL, 0xC5000150ULL };
	int ri, k, k2;
	switch (rnd(c, 9)) {
	case 0: {
		static const uint64_t reqs[] = { RMI_ABI_VERSION, 0x10001, 0x20000, 0, 0xFFFFFFFFFFFFFFFFULL };
		CALL(c, SMC_RMI_VERSION, reqs[rnd(c, 5)]);
		break;
	}
	case 1:
		CALL(c, SMC_RMI_FEATURES, chance(c, 70) ? 0 : next_rand(c) % 4);
		break;
	case 2:
		CALL(c, SMC_RMI_REC_AUX_COUNT, rd_arg(c, &ri));
		break;
	case 3:
		k = pick_rec(c, false);
		k2 = pick_rec(c, false);
		CALL(c, SMC_RMI_PSCI_COMPLETE, k >= 0 ? c->recs[k].pa : any_addr(c),
		     k2 >= 0 && chance(c, 80) ? c->recs[k2].pa : any_addr(c), rnd(c, 2) ? 0 : (uint64_t)-3);
		break;
	case 8: {
		/* The same commands through an FID with the SVE hint bit or junk in bits 63:32. */
		uint64_t extra = chance(c, 50) ? 1ULL << 16 : (next_rand(c) << 32) | (chance(c, 50) ? 1ULL << 16 : 0);
		if (chance(c, 50))
			CALL(c, SMC_RMI_VERSION | extra, RMI_ABI_VERSION);
		else
			CALL(c, SMC_RMI_REC_AUX_COUNT | extra, rd_arg(c, &ri));
		break;
	}
	case 4: {
		uint64_t rd = rd_arg(c, &ri);
		k = pick_rec(c, false);
		uint64_t base = GSZ * rnd(c, 16);
		CALL(c, SMC_RMI_RTT_SET_RIPAS, rd, k >= 0 && chance(c, 85) ? c->recs[k].pa : any_addr(c), base,
		     base + GSZ * rnd(c, 8));
		break;
	}
	default:
		CALL(c, bad_fids[rnd(c, sizeof(bad_fids) / sizeof(bad_fids[0]))], next_rand(c), any_addr(c));
		break;
	}
}

static void act_delegate(struct ctx *c)
{
	uint64_t addr;
	int i = chance(c, 75) ? pick_pool(c, RMMEMU_GRANULE_UNDELEGATED, PICK_GENERAL, false) : -1;
	addr = i >= 0 ? gaddr(i) : any_addr(c);
	if (chance(c, 40))
		rmmemu_ns_write64(c->emu, addr + 8 * rnd(c, 512), next_rand(c) | 1);
	CALL(c, SMC_RMI_GRANULE_DELEGATE, addr);
}

static void act_undelegate(struct ctx *c)
{
	int i = chance(c, 80) ? pick_pool(c, RMMEMU_GRANULE_DELEGATED, PICK_ALL, false) : -1;
	if (i < 0 && chance(c, 50))
		i = pick_pool(c, -1, PICK_ALL, false);
	CALL(c, SMC_RMI_GRANULE_UNDELEGATE, i >= 0 ? gaddr(i) : any_addr(c));
}

/* Make sure there is an RTT at `level` covering ipa (creating tables on the way). False if an
 * entry on the way is not suitable (assigned block). */
static bool ensure_table(struct ctx *c, int ri, uint64_t ipa, int level)
{
	const struct mrealm *r = &c->realms[ri];
	for (;;) {
		struct mwalk w;
		mwalk(c, r, ipa, level, &w);
		if (w.level == level)
			return true;
		const struct ment *e = went(c, &w);
		if (e->kind != K_UNASSIGNED && e->kind != K_UNASSIGNED_NS)
			return false;
		new_action(c);
		uint64_t rtt = ensure_delegated(c);
		uint64_t aligned = ipa & ~(msize(w.level) - 1);
		if (CALL(c, SMC_RMI_RTT_CREATE, r->rd, rtt, aligned, (uint64_t)(w.level + 1)) != RMI_SUCCESS)
			return false;
	}
}

/* Map 512 contiguous DATA granules (the 2 MiB aligned block pool) at a 2 MiB aligned protected IPA
 * and fold them into a level-2 block. */
static void act_block_data(struct ctx *c)
{
	for (int k = 0; k < POOL_PAGES; k++) {
		int st = c->g[NG0 + k].state;
		if (st != RMMEMU_GRANULE_UNDELEGATED && st != RMMEMU_GRANULE_DELEGATED)
			return;
	}
	int ri = pick_realm(c, -1);
	if (ri < 0)
		return;
	struct mrealm *r = &c->realms[ri];
	uint64_t ipa = chance(c, 60) ? L2_SIZE * rnd(c, 4) : par_size(r) - L2_SIZE * (1 + rnd(c, 2));
	if (!ensure_table(c, ri, ipa, 3))
		return;
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	for (unsigned i = 0; i < S2TTES; i++)
		if (T(c, w.t)->e[i].kind != K_UNASSIGNED)
			return;
	bool measured = r->state == MREALM_NEW && chance(c, 50);
	for (unsigned i = 0; i < S2TTES; i++) {
		uint64_t pa = P1_BASE + i * GSZ;
		if (c->g[NG0 + (int)i].state == RMMEMU_GRANULE_UNDELEGATED)
			CALL(c, SMC_RMI_GRANULE_DELEGATE, pa);
		if (measured)
			CALL(c, SMC_RMI_DATA_CREATE, r->rd, pa, ipa + i * GSZ, SCR_SRC, rnd(c, 2));
		else
			CALL(c, SMC_RMI_DATA_CREATE_UNKNOWN, r->rd, pa, ipa + i * GSZ);
	}
	CALL(c, SMC_RMI_RTT_FOLD, r->rd, ipa, 3);
	deep_compare(c, ri);
}

/* Map 512 contiguous NS pages at a 2 MiB aligned unprotected IPA and fold them. */
static void act_block_ns(struct ctx *c)
{
	int ri = pick_realm(c, -1);
	if (ri < 0)
		return;
	struct mrealm *r = &c->realms[ri];
	uint64_t ipa = par_size(r) + L2_SIZE * rnd(c, 4);
	if (!ensure_table(c, ri, ipa, 3))
		return;
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	uint64_t base = L2_SIZE * (1 + rnd(c, 1000)), attrs = (chance(c, 50) ? 5ULL : 6ULL) << 2 | rnd(c, 4) << 6;
	for (unsigned i = 0; i < S2TTES; i++) {
		const struct ment *e = &T(c, w.t)->e[i];
		if (e->kind == K_ASSIGNED_NS)
			CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, ipa + i * GSZ, 3);
		uint64_t d = (base + i * GSZ) | attrs;
		if (i == 300 && chance(c, 15))
			d ^= 1ULL << 6;   /* one entry with other attributes: fold must fail */
		CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, ipa + i * GSZ, 3, d);
	}
	CALL(c, SMC_RMI_RTT_FOLD, r->rd, ipa, 3);
	if (chance(c, 50)) {
		/* Unfold it again. */
		new_action(c);
		CALL(c, SMC_RMI_RTT_CREATE, r->rd, ensure_delegated(c), ipa, 3);
	}
	deep_compare(c, ri);
}

static bool pr_l2_unassigned_ns(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return level == 2 && e->kind == K_UNASSIGNED_NS;
}
static bool pr_block(const struct mrealm *r, const struct ment *e, uint64_t ipa, int level)
{
	return level == 2 && (e->kind == K_ASSIGNED || e->kind == K_ASSIGNED_NS);
}

/* Unfold a level-2 block (mapping an NS one first if there is none), maybe disturb one entry of
 * the new table (other attributes, other address, a hole), and fold it again. */
static void act_refold(struct ctx *c)
{
	int ri = pick_realm(c, -1), level;
	uint64_t ipa;
	if (ri < 0)
		return;
	struct mrealm *r = &c->realms[ri];
	new_action(c);
	if (!find_entry(c, ri, pr_block, 2, &ipa, &level)) {
		if (!find_entry(c, ri, pr_l2_unassigned_ns, 2, &ipa, &level))
			return;
		uint64_t attrs = (chance(c, 50) ? 5ULL : 6ULL) << 2 | rnd(c, 4) << 6;
		if (CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, ipa, 2, (L2_SIZE * (1 + rnd(c, 4000))) | attrs) != RMI_SUCCESS)
			return;
	}
	if (CALL(c, SMC_RMI_RTT_CREATE, r->rd, ensure_delegated(c), ipa, 3) != RMI_SUCCESS)
		return;
	struct mwalk w;
	mwalk(c, r, ipa, 3, &w);
	uint64_t sub = ipa + GSZ * rnd(c, S2TTES);
	const struct ment *e = &T(c, w.t)->e[idx_of(sub, 3)];
	switch (rnd(c, 6)) {
	case 0:
		if (e->kind == K_ASSIGNED_NS) {
			uint64_t d = e->addr ^ (1ULL << (6 + rnd(c, 2)));   /* other S2AP */
			CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, sub, 3);
			CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, sub, 3, d);
		} else {
			CALL(c, SMC_RMI_DATA_DESTROY, r->rd, sub);
		}
		break;
	case 1:
		if (e->kind == K_ASSIGNED_NS) {
			uint64_t d = e->addr + L2_SIZE;                      /* not contiguous */
			CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, sub, 3);
			CALL(c, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, sub, 3, d);
		} else {
			CALL(c, SMC_RMI_DATA_DESTROY, r->rd, sub);
			CALL(c, SMC_RMI_DATA_CREATE_UNKNOWN, r->rd, ensure_delegated(c), sub);
		}
		break;
	case 2:
		if (e->kind == K_ASSIGNED_NS)
			CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, sub, 3);
		break;
	default:
		break;
	}
	CALL(c, SMC_RMI_RTT_FOLD, r->rd, ipa, 3);
}

/* Tear down every RTT below table t (depth first), destroying DATA and unmapping NS entries. */
static void teardown_table(struct ctx *c, int ri, int t)
{
	const struct mrealm *r = &c->realms[ri];
	bool unmap_ns = chance(c, 25);   /* else RTT_DESTROY drops the NS mappings */
	for (unsigned i = 0; i < S2TTES; i++) {
		struct mtable *m = T(c, t);
		uint64_t ipa = m->ipa + i * msize(m->level);
		if (ipa >= ipa_size(r))
			break;
		struct ment *e = &m->e[i];
		if (e->kind == K_ASSIGNED && m->level < 3) {
			/* A block: unfold it first. */
			new_action(c);
			uint64_t rtt = ensure_delegated(c);
			if (CALL(c, SMC_RMI_RTT_CREATE, r->rd, rtt, ipa, (uint64_t)(m->level + 1)) != RMI_SUCCESS)
				fail(c, "teardown: cannot unfold block at 0x%" PRIx64, ipa);
		}
		e = &T(c, t)->e[i];
		if (e->kind == K_TABLE) {
			teardown_table(c, ri, e->child);
			if (CALL(c, SMC_RMI_RTT_DESTROY, r->rd, ipa, (uint64_t)(m->level + 1)) != RMI_SUCCESS)
				fail(c, "teardown: RTT_DESTROY at 0x%" PRIx64 " failed", ipa);
		} else if (e->kind == K_ASSIGNED) {
			if (CALL(c, SMC_RMI_DATA_DESTROY, r->rd, ipa) != RMI_SUCCESS)
				fail(c, "teardown: DATA_DESTROY at 0x%" PRIx64 " failed", ipa);
		} else if (e->kind == K_ASSIGNED_NS && unmap_ns) {
			if (CALL(c, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, ipa, (uint64_t)m->level) != RMI_SUCCESS)
				fail(c, "teardown: UNMAP at 0x%" PRIx64 " failed", ipa);
		}
	}
}

static void teardown_realm(struct ctx *c, int ri)
{
	struct mrealm *r = &c->realms[ri];
	for (int k = 0; k < MAX_RECS; k++)
		if (c->recs[k].used && c->recs[k].realm == ri)
			if (CALL(c, SMC_RMI_REC_DESTROY, c->recs[k].pa) != RMI_SUCCESS)
				fail(c, "teardown: REC_DESTROY failed");
	if (chance(c, 50))
		deep_compare(c, ri);
	for (unsigned i = 0; i < r->nroot; i++)
		teardown_table(c, ri, r->root[i]);
	if (CALL(c, SMC_RMI_REALM_DESTROY, r->rd) != RMI_SUCCESS)
		fail(c, "teardown: REALM_DESTROY failed");
}

/* ------------------------------------------------------------------------------------------ */
/* The run                                                                                     */
/* ------------------------------------------------------------------------------------------ */

static void step(struct ctx *c)
{
	unsigned ndeleg = 0, nfree = 0;
	for (int k = 0; k < P0_PAGES; k++) {
		ndeleg += c->g[k].state == RMMEMU_GRANULE_DELEGATED;
		nfree += c->g[k].state == RMMEMU_GRANULE_DELEGATED || c->g[k].state == RMMEMU_GRANULE_UNDELEGATED;
	}
	int nreal = live_realms(c);
	/* Memory pressure: below a quarter of the general pool free, destroy more than create. */
	bool tight = nfree < P0_PAGES / 4;
	if (nfree < P0_PAGES / 16 && nreal) {
		teardown_realm(c, pick_realm(c, -1));
		return;
	}

	/* weights */
	unsigned w_create = tight ? 1 : nreal < 3 ? 20 : nreal < 5 ? 3 : 1;
	unsigned w_undeleg = ndeleg > 48 ? 30 : 6;
	const unsigned weights[] = {
		8,          /* 0 delegate */
		w_undeleg,  /* 1 undelegate */
		w_create,   /* 2 realm create */
		1,          /* 3 realm activate (of a NEW realm, mostly) */
		1,          /* 4 realm destroy (usually fails) */
		tight ? 4 : 14, /* 5 rtt create */
		tight ? 12 : 6, /* 6 rtt destroy */
		6,          /* 7 rtt fold */
		5,          /* 8 init ripas */
		tight ? 2 : 8,  /* 9 data create */
		tight ? 2 : 6,  /* 10 data create unknown */
		tight ? 20 : 7, /* 11 data destroy */
		7,          /* 12 map unprotected */
		4,          /* 13 unmap unprotected */
		10,         /* 14 read entry */
		tight ? 1 : 3,  /* 15 rec create */
		tight ? 6 : 2,  /* 16 rec destroy */
		4,          /* 17 rec enter */
		3,          /* 18 misc */
		2,          /* 19 unfold / disturb / refold a block */
	};
	unsigned total = 0;
	for (unsigned i = 0; i < sizeof(weights) / sizeof(weights[0]); i++)
		total += weights[i];
	unsigned x = (unsigned)rnd(c, total), a = 0;
	while (x >= weights[a])
		x -= weights[a++];

	/* Rare macro actions. */
	if (rnd(c, 700) == 0) {
		act_block_data(c);
		return;
	}
	if (rnd(c, 3000) == 0) {
		act_block_ns(c);
		return;
	}
	if (nreal >= 3 && rnd(c, 250) == 0) {
		teardown_realm(c, pick_realm(c, -1));
		return;
	}
	if (nreal && rnd(c, 300) == 0) {
		deep_compare(c, pick_realm(c, -1));
		return;
	}

	new_action(c);
	switch (a) {
	case 0: act_delegate(c); break;
	case 1: act_undelegate(c); break;
	case 2: act_realm_create(c); break;
	case 3: {
		/* Activate a NEW realm that has RECs, mostly. */
		int ri = -1, start = (int)rnd(c, MAX_REALMS);
		for (int k = 0; k < MAX_REALMS && chance(c, 80); k++) {
			const struct mrealm *r = &c->realms[(start + k) % MAX_REALMS];
			if (r->used && r->state == MREALM_NEW && r->live_recs) {
				ri = (start + k) % MAX_REALMS;
				break;
			}
		}
		CALL(c, SMC_RMI_REALM_ACTIVATE, ri >= 0 ? c->realms[ri].rd : rd_arg_state(c, &ri, MREALM_NEW));
		break;
	}
	case 4: {
		int ri;
		CALL(c, SMC_RMI_REALM_DESTROY, rd_arg(c, &ri));
		break;
	}
	case 5: act_rtt_create(c); break;
	case 6: act_rtt_destroy_or_fold(c, false); break;
	case 7: act_rtt_destroy_or_fold(c, true); break;
	case 8: act_init_ripas(c); break;
	case 9: act_data_create(c, false); break;
	case 10: act_data_create(c, true); break;
	case 11: act_data_destroy(c); break;
	case 12: act_map_unprotected(c); break;
	case 13: act_unmap_unprotected(c); break;
	case 14: act_read_entry(c); break;
	case 15: act_rec_create(c); break;
	case 16: {
		int k = pick_rec(c, false);
		if (k < 0 && chance(c, 75))
			act_rec_create(c);
		else
			CALL(c, SMC_RMI_REC_DESTROY, k >= 0 && chance(c, 90) ? c->recs[k].pa : any_addr(c));
		break;
	}
	case 17: act_rec_enter(c); break;
	case 19: act_refold(c); break;
	case 18: act_misc(c); break;
	default: break;
	}
}

static struct rmmemu *make_platform(void)
{
	struct rmmemu_platform_config cfg;
	char err[256];
	rmmemu_platform_default(&cfg);
	cfg.dram[0] = (struct rmmemu_range){ DRAM0_BASE, DRAM0_SIZE };
	cfg.dram[1] = (struct rmmemu_range){ DRAM1_BASE, DRAM1_SIZE };
	cfg.num_dram = 2;
	cfg.device[0] = (struct rmmemu_range){ DEV_BASE, DEV_SIZE };
	cfg.num_device = 1;
	cfg.secure[0] = (struct rmmemu_range){ SEC_BASE, SEC_SIZE };
	cfg.num_secure = 1;
	cfg.root[0] = (struct rmmemu_range){ ROOT_BASE, ROOT_SIZE };
	cfg.num_root = 1;
	cfg.pa_bits = PA_BITS;
	cfg.num_bps = CFG_NUM_BPS;
	cfg.num_wps = CFG_NUM_WPS;
	cfg.pmu = true;
	cfg.pmu_num_ctrs = CFG_PMU_CTRS;
	cfg.feat_hpmn0 = false;
	cfg.sve = false;
	cfg.gicv3_num_lrs = CFG_NUM_LRS;
	cfg.vmid16 = false;
	struct rmmemu *emu = rmmemu_create(&cfg, err, sizeof(err));
	if (!emu)
		fprintf(stderr, "rmmemu_create: %s\n", err);
	return emu;
}

static void model_init(struct ctx *c)
{
	memset(c->g, 0, sizeof(c->g));
	for (int i = 0; i < NGRAN; i++) {
		uint64_t pa = gaddr(i);
		c->g[i].state = RMMEMU_GRANULE_UNDELEGATED;
		c->g[i].owner = -1;
		if (pa - SEC_BASE < SEC_SIZE)
			c->g[i].pas = RMMEMU_PAS_SECURE;
		else if (pa - ROOT_BASE < ROOT_SIZE)
			c->g[i].pas = RMMEMU_PAS_ROOT;
		else
			c->g[i].pas = RMMEMU_PAS_NONSECURE;
	}
	memset(c->counts, 0, sizeof(c->counts));
	c->counts[RMMEMU_GRANULE_UNDELEGATED] = NGRAN;
	c->rp_addr = c->recp_addr = c->run_addr = ~0ULL;
	pool_init(c);
}

static void run_seed(uint64_t seed, uint64_t ncalls)
{
	struct ctx *c = calloc(1, sizeof(*c));
	CU_ASSERT_FATAL(c != NULL);
	c->seed = seed;
	c->rng = seed;
	c->target = ncalls;
	c->emu = make_platform();
	CU_ASSERT_FATAL(c->emu != NULL);
	model_init(c);
	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);

	if (setjmp(c->fail_jmp) == 0) {
		/* The platform starts consistent and fully undelegated. */
		post_checks(c, 0, (uint64_t[6]){ 0 });
		check_pool(c);
		while (c->ncalls < c->target) {
			step(c);
			/* A scratch granule delegated by a garbage argument goes straight back. */
			for (uint64_t pa = SCR_BASE; pa <= SCR_RUN2; pa += GSZ)
				if (gstate(c, pa) == RMMEMU_GRANULE_DELEGATED)
					CALL(c, SMC_RMI_GRANULE_UNDELEGATE, pa);
		}
		check_pool(c);
		for (int ri = 0; ri < MAX_REALMS; ri++)
			if (c->realms[ri].used)
				deep_compare(c, ri);
		/* Tear everything down. */
		for (int ri = 0; ri < MAX_REALMS; ri++)
			if (c->realms[ri].used)
				teardown_realm(c, ri);
		for (int i = 0; i < NGRAN; i++)
			if (c->g[i].state == RMMEMU_GRANULE_DELEGATED)
				CALL(c, SMC_RMI_GRANULE_UNDELEGATE, gaddr(i));
		uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
		rmmemu_granule_census(c->emu, counts);
		if (counts[RMMEMU_GRANULE_UNDELEGATED] != (uint64_t)NGRAN)
			fail(c, "after teardown %" PRIu64 " of %d granules are UNDELEGATED",
			     counts[RMMEMU_GRANULE_UNDELEGATED], NGRAN);
		for (int k = 0; k < c->npool; k++)
			check_granule(c, c->pool[k], "after teardown");
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	uint64_t ok = 0;
	for (int i = 0; i < 32; i++) {
		ok += c->st.by[i][RMI_SUCCESS];
		for (int k = 0; k < 5; k++)
			total_stats.by[i][k] += c->st.by[i][k];
	}
	total_stats.other += c->st.other;
	total_calls += c->ncalls;
	printf("\n  seed 0x%" PRIx64 ": %" PRIu64 " checked calls (%" PRIu64 " succeeded) + %" PRIu64
	       " verification reads, %.2f s%s\n    %u realms created (starting level 0/1/2: %u/%u/%u, %u with "
	       "concatenated roots), %u DATA blocks and %u NS blocks folded\n",
	       seed, c->ncalls, ok, c->nreads, secs, c->failed ? " FAILED" : "", c->realms_created,
	       c->realms_by_sl[0], c->realms_by_sl[1], c->realms_by_sl[2], c->realms_concat, c->blocks_folded,
	       c->ns_blocks_folded);
	CU_ASSERT(!c->failed);

	for (int t = 0; t < MAX_TABLES; t++)
		free(c->tables[t]);
	rmmemu_destroy(c->emu);
	free(c);
}

/* ------------------------------------------------------------------------------------------ */
/* CUnit plumbing                                                                              */
/* ------------------------------------------------------------------------------------------ */

#define MAX_SEEDS 16
static uint64_t seeds[MAX_SEEDS];
static unsigned nseeds;
static uint64_t calls_per_seed = DEFAULT_CALLS_PER_SEED;
static unsigned seed_cursor;

static void test_seed(void)
{
	run_seed(seeds[seed_cursor], calls_per_seed);
	seed_cursor++;
}

static void print_totals(void)
{
	printf("\n  total: %" PRIu64 " checked calls over %u seeds; results per command:\n", total_calls, nseeds);
	printf("    %-28s %8s %8s %8s %8s %8s\n", "", "SUCCESS", "INPUT", "REALM", "REC", "RTT");
	for (unsigned i = 0; i < 32; i++) {
		char name[32];
		uint64_t n = 0;
		for (int k = 0; k < 5; k++)
			n += total_stats.by[i][k];
		if (!n)
			continue;
		if (rmmemu_rmi_name(RMI_FID(i)))
			snprintf(name, sizeof(name), "%s", rmmemu_rmi_name(RMI_FID(i)) + 4);
		else
			snprintf(name, sizeof(name), "FID 0x%02x (unused)", i);
		printf("    %-28s", name);
		for (int k = 0; k < 5; k++)
			printf(" %8" PRIu64, total_stats.by[i][k]);
		printf("\n");
	}
	printf("    %-28s %8" PRIu64 " (SMCCC_NOT_SUPPORTED)\n", "other FIDs", total_stats.other);
}

int main(void)
{
	const char *env = getenv("RMMEMU_SEED");
	if (env && *env) {
		char *dup = strdup(env), *save = NULL;
		for (char *tok = strtok_r(dup, ", ", &save); tok && nseeds < MAX_SEEDS; tok = strtok_r(NULL, ", ", &save))
			seeds[nseeds++] = strtoull(tok, NULL, 0);
		free(dup);
	}
	if (!nseeds)
		for (unsigned i = 0; i < sizeof(default_seeds) / sizeof(default_seeds[0]); i++)
			seeds[nseeds++] = default_seeds[i];
	env = getenv("RMMEMU_RANDOM_KNOWN_BUGS");
	known_bugs = !env || !*env || *env != '0';
	env = getenv("RMMEMU_RANDOM_TRACE");
	trace_calls = env && *env && *env != '0';
	env = getenv("RMMEMU_RANDOM_CALLS");
	if (env && *env)
		calls_per_seed = strtoull(env, NULL, 0);

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("random RMI sequences", NULL, NULL);
	static char names[MAX_SEEDS][48];
	for (unsigned i = 0; i < nseeds; i++) {
		snprintf(names[i], sizeof(names[i]), "seed 0x%" PRIx64, seeds[i]);
		CU_add_test(s, names[i], test_seed);
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	print_totals();
	unsigned failures = CU_get_number_of_failures();
	CU_cleanup_registry();
	return failures ? 1 : 0;
}

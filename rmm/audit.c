/*
 * Global invariant check of the RMM state, for tests and debugging:
 *  - a granule is in the realm PAS iff its state is not UNDELEGATED; DELEGATED granules are zero;
 *  - every RTT granule is referenced exactly once (as a root of one realm or by one table entry);
 *  - every DATA granule is mapped exactly once, by an ASSIGNED protected entry;
 *  - RTT refcount == number of its entries that are tables or ASSIGNED protected entries;
 *  - protected-half entries carry no NS bit, unprotected-half entries are NS or tables;
 *  - RD refcount == number of its RECs; every REC_AUX belongs to exactly one REC;
 *  - an RD's stage-2 geometry is sane (IPA width, starting level, number of root RTTs) and its state
 *    is a realm state; REC_CREATE has not handed out more REC indices than the RD records;
 *  - REC indices are unique within a realm; no REC is in use (refcount 0) while the lock is held;
 *  - every live realm's VMID is reserved, no two realms share one, and no other VMID is reserved.
 * Cost is linear in the number of DRAM granules plus the size of the realms' RTT trees.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rtt/s2tt.h"


struct audit {
	struct rmm *rmm;
	uint8_t *refs;          /* references seen per granule (saturating) */
	uint64_t *index_base;   /* first global index of each DRAM region */
	char *msg;
	size_t len;
	int failed;
	/* The common invalid entries, compared as whole words before the predicates are consulted. */
	uint64_t unassigned_empty, unassigned_ram, unassigned_destroyed, unassigned_ns;
};

static void fail(struct audit *au, const char *fmt, ...)
{
	if (au->failed++)
		return;
	va_list ap;
	va_start(ap, fmt);
	if (au->msg && au->len)
		vsnprintf(au->msg, au->len, fmt, ap);
	va_end(ap);
}

static uint8_t *ref_slot(struct audit *au, uint64_t pa)
{
	for (unsigned r = 0; r < au->rmm->ndram; r++) {
		const struct dram_region *d = &au->rmm->dram[r];
		if (pa - d->base < d->size)
			return &au->refs[au->index_base[r] + ((pa - d->base) >> GRANULE_SHIFT)];
	}
	return NULL;
}

/* Record a reference to granule pa, which must be in `state`. */
static void reference(struct audit *au, uint64_t pa, granule_state_t state, const char *what)
{
	struct gref g;
	if (!granule_find(au->rmm, PA(pa), &g)) {
		fail(au, "%s 0x%llx is not a DRAM granule", what, (unsigned long long)pa);
		return;
	}
	if (g.g->state != state) {
		fail(au, "%s 0x%llx is in state %s, expected %s", what, (unsigned long long)pa,
		     rmmemu_granule_state_name(g.g->state), rmmemu_granule_state_name(state));
		return;
	}
	uint8_t *s = ref_slot(au, pa);
	if (*s) {
		fail(au, "%s 0x%llx is referenced more than once", what, (unsigned long long)pa);
		return;
	}
	*s = 1;
}

static void audit_table(struct audit *au, const struct rd *rd, uint64_t table_pa, int level, uint64_t ipa_base);

/* Number of entries of a table (first entry at ipa_base, each `size`) whose IPA is below `bound`. */
static unsigned entries_below(uint64_t ipa_base, uint64_t size, uint64_t bound)
{
	if (ipa_base >= bound)
		return 0;
	uint64_t n = (bound - ipa_base + size - 1) / size;
	return n > S2TTES_PER_S2TT ? S2TTES_PER_S2TT : (unsigned)n;
}

/* Check the one entry that is not one of the common unassigned values. */
static void audit_entry(struct audit *au, const struct rd *rd, uint64_t e, int level, uint64_t ipa, bool par,
			unsigned *expect)
{
	uint64_t size = s2tte_map_size(level);
	if (s2tte_is_table(e, level)) {
		(*expect)++;
		audit_table(au, rd, s2tte_pa(e, level).val, level + 1, ipa);
		return;
	}
	if (!par) {
		if (!s2tte_is_assigned_ns(e, level))
			fail(au, "unprotected IPA 0x%llx has entry 0x%llx (level %d), neither UNASSIGNED_NS nor ASSIGNED_NS",
			     (unsigned long long)ipa, (unsigned long long)e, level);
		else if (level < S2TT_MIN_BLOCK_LEVEL)
			fail(au, "ASSIGNED_NS entry at level %d", level);
		return;
	}
	if (e & S2TTE_NS) {
		fail(au, "protected IPA 0x%llx has an NS entry 0x%llx", (unsigned long long)ipa, (unsigned long long)e);
		return;
	}
	if (s2tte_is_unassigned(e)) {
		/* Not one of the three values the RMM writes (bad RIPAS or stray bits). */
		fail(au, "protected IPA 0x%llx has a malformed UNASSIGNED entry 0x%llx", (unsigned long long)ipa,
		     (unsigned long long)e);
		return;
	}
	if (s2tte_is_assigned_ram(e, level) || s2tte_is_assigned_empty(e, level) ||
	    s2tte_is_assigned_destroyed(e, level)) {
		if (level < S2TT_MIN_BLOCK_LEVEL) {
			fail(au, "assigned entry at level %d", level);
			return;
		}
		uint64_t pa = s2tte_pa(e, level).val;
		uint64_t canonical = s2tte_is_assigned_ram(e, level) ? s2tte_create_assigned_ram(PA(pa), level)
				   : s2tte_is_assigned_empty(e, level) ? s2tte_create_assigned_empty(PA(pa), level)
				   : s2tte_create_assigned_destroyed(PA(pa), level);
		if (e != canonical) {
			fail(au, "protected IPA 0x%llx: ASSIGNED entry 0x%llx is not 0x%llx as the RMM writes it",
			     (unsigned long long)ipa, (unsigned long long)e, (unsigned long long)canonical);
			return;
		}
		(*expect)++;
		for (uint64_t off = 0; off < size && !au->failed; off += GRANULE_SIZE)
			reference(au, pa + off, GRANULE_STATE_DATA, "DATA");
		return;
	}
	fail(au, "malformed entry 0x%llx at IPA 0x%llx level %d", (unsigned long long)e, (unsigned long long)ipa,
	     level);
}

static void audit_table(struct audit *au, const struct rd *rd, uint64_t table_pa, int level, uint64_t ipa_base)
{
	reference(au, table_pa, GRANULE_STATE_RTT, "RTT");
	if (au->failed)
		return;
	const uint64_t *t = granule_mem(au->rmm, PA(table_pa));
	const uint64_t size = s2tte_map_size(level);
	/* Entries [0, n_par) map protected IPAs, [n_par, n_ipa) unprotected ones, the rest (root tables
	 * only) lie beyond the IPA space and are not used. */
	const unsigned n_ipa = entries_below(ipa_base, size, realm_ipa_size(rd));
	const unsigned n_par = entries_below(ipa_base, size, realm_par_size(rd));
	const uint64_t ue = au->unassigned_empty, ur = au->unassigned_ram, ud = au->unassigned_destroyed;
	const uint64_t uns = au->unassigned_ns;
	unsigned expect = 0, i = 0;

	while (i < n_ipa && !au->failed) {
		/* Skip runs of the common entries (cheap even without optimisation). */
		if (i < n_par) {
			while (i < n_par && (t[i] == ue || t[i] == ur || t[i] == ud))
				i++;
			if (i == n_par)
				continue;
		} else {
			while (i < n_ipa && t[i] == uns)
				i++;
			if (i == n_ipa)
				break;
		}
		audit_entry(au, rd, t[i], level, ipa_base + i * size, i < n_par, &expect);
		i++;
	}
	struct granule *g = granule_meta(au->rmm, PA(table_pa));
	if (!au->failed && g->refcount != expect)
		fail(au, "RTT 0x%llx (level %d) refcount %u, expected %u", (unsigned long long)table_pa, level,
		     g->refcount, expect);
}

/* Sanity of an RD's stage-2 geometry before its tables are walked. */
static bool realm_geometry_ok(struct audit *au, uint64_t rd_pa, const struct rd *rd)
{
	const struct s2tt_ctx *s2 = &rd->s2;
	if (s2->ipa_bits < S2TT_MIN_IPA_BITS || s2->ipa_bits > S2TT_MAX_IPA_BITS ||
	    s2->start_level < S2TT_MIN_STARTING_LEVEL || s2->start_level > S2TT_PAGE_LEVEL ||
	    s2->num_root_rtts < 1 || s2->num_root_rtts > S2TT_MAX_CONCAT_TABLES) {
		fail(au, "RD 0x%llx: bad stage-2 geometry (S2SZ %u, starting level %d, %u root RTTs)",
		     (unsigned long long)rd_pa, s2->ipa_bits, s2->start_level, s2->num_root_rtts);
		return false;
	}
	uint64_t root_span = s2tte_map_size(s2->start_level) * S2TTES_PER_S2TT;
	if (root_span * s2->num_root_rtts < realm_ipa_size(rd) ||
	    root_span * (s2->num_root_rtts - 1) >= realm_ipa_size(rd)) {
		fail(au, "RD 0x%llx: %u root RTTs at level %d do not match S2SZ %u", (unsigned long long)rd_pa,
		     s2->num_root_rtts, s2->start_level, s2->ipa_bits);
		return false;
	}
	if (rd->state > REALM_SYSTEM_OFF) {
		fail(au, "RD 0x%llx: bad realm state %u", (unsigned long long)rd_pa, rd->state);
		return false;
	}
	return true;
}

static void audit_realm(struct audit *au, uint64_t rd_pa, const struct rd *rd)
{
	if (!realm_geometry_ok(au, rd_pa, rd))
		return;
	uint64_t root_span = s2tte_map_size(rd->s2.start_level) * S2TTES_PER_S2TT;
	for (unsigned i = 0; i < rd->s2.num_root_rtts && !au->failed; i++)
		audit_table(au, rd, rd->s2.rtt_base.val + i * GRANULE_SIZE, rd->s2.start_level, i * root_span);
}

static bool granule_is_zero(const void *p)
{
	static const uint8_t zero[GRANULE_SIZE];
	return memcmp(p, zero, GRANULE_SIZE) == 0;
}

/* One REC as seen in pass 1: its realm and index (sorted to count RECs per RD in linear time). */
struct rec_key {
	uint64_t rd;
	uint64_t idx;
	uint64_t pa;
};

static int rec_key_cmp(const void *a, const void *b)
{
	const struct rec_key *x = a, *y = b;
	if (x->rd != y->rd)
		return x->rd < y->rd ? -1 : 1;
	if (x->idx != y->idx)
		return x->idx < y->idx ? -1 : 1;
	return 0;
}

/* RECs of the RD at rd_pa: [*first, return value) in the sorted array. */
static size_t recs_of(const struct rec_key *keys, size_t n, uint64_t rd_pa, size_t *first)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (keys[mid].rd < rd_pa)
			lo = mid + 1;
		else
			hi = mid;
	}
	*first = lo;
	while (hi < n && keys[hi].rd == rd_pa)
		hi++;
	return hi;
}

int rmmemu_check_invariants(struct rmmemu *emu, char *msg, size_t len)
{
	struct rmm *rmm = rmmemu_core(emu);
	struct audit au = { .rmm = rmm, .msg = msg, .len = len,
			    .unassigned_empty = s2tte_create_unassigned_empty(),
			    .unassigned_ram = s2tte_create_unassigned_ram(),
			    .unassigned_destroyed = s2tte_create_unassigned_destroyed(),
			    .unassigned_ns = s2tte_create_unassigned_ns() };
	uint64_t total = 0, bases[RMMEMU_MAX_RANGES];
	struct rec_key *keys = NULL;
	size_t nkeys = 0, capkeys = 0;
	uint64_t nrealms = 0;

	if (msg && len)
		msg[0] = '\0';
	pthread_mutex_lock(&rmm->lock);
	for (unsigned r = 0; r < rmm->ndram; r++) {
		bases[r] = total;
		total += rmm->dram[r].size >> GRANULE_SHIFT;
	}
	au.index_base = bases;
	au.refs = calloc(total ? total : 1, 1);
	if (!au.refs) {
		fail(&au, "out of memory");
		goto out;
	}

	/* Pass 1: per-granule PAS/state consistency; walk every realm; collect RECs. */
	for (unsigned r = 0; r < rmm->ndram && !au.failed; r++) {
		const struct dram_region *d = &rmm->dram[r];
		for (uint64_t i = 0; i < d->size >> GRANULE_SHIFT && !au.failed; i++) {
			const struct granule *g = &d->meta[i];
			uint64_t pa = d->base + (i << GRANULE_SHIFT);
			bool realm_pas = g->pas == RMMEMU_PAS_REALM;
			if (g->state == GRANULE_STATE_UNDELEGATED && !realm_pas)
				continue;   /* the common case: nothing else to check */
			if ((g->state == GRANULE_STATE_UNDELEGATED) == realm_pas || g->state >= RMMEMU_GRANULE_NUM_STATES) {
				fail(&au, "granule 0x%llx: state %s in PAS %s", (unsigned long long)pa,
				     rmmemu_granule_state_name(g->state), rmmemu_pas_name(g->pas));
				break;
			}
			if (g->state == GRANULE_STATE_DELEGATED && !granule_is_zero(d->mem + (i << GRANULE_SHIFT)))
				fail(&au, "DELEGATED granule 0x%llx is not scrubbed", (unsigned long long)pa);
			if (g->state == GRANULE_STATE_RD) {
				const struct rd *rd = (const void *)(d->mem + (i << GRANULE_SHIFT));
				nrealms++;
				audit_realm(&au, pa, rd);
			}
			if (g->state == GRANULE_STATE_REC) {
				const struct rec *rec = (const void *)(d->mem + (i << GRANULE_SHIFT));
				struct gref g_rd;
				if (!granule_find_state(rmm, rec->rd, GRANULE_STATE_RD, &g_rd)) {
					fail(&au, "REC 0x%llx: its RD 0x%llx is not an RD", (unsigned long long)pa,
					     (unsigned long long)rec->rd.val);
					break;
				}
				if (g->refcount != 0) {
					fail(&au, "REC 0x%llx has refcount %u while no REC is running",
					     (unsigned long long)pa, g->refcount);
					break;
				}
				if (rec->num_rec_aux > RMI_MAX_REC_AUX_GRANULES) {
					fail(&au, "REC 0x%llx: %u auxiliary granules", (unsigned long long)pa,
					     rec->num_rec_aux);
					break;
				}
				if (rec->rec_idx >= ((const struct rd *)g_rd.mem)->rec_count) {
					fail(&au, "REC 0x%llx: index %llu but its RD handed out only %llu",
					     (unsigned long long)pa, (unsigned long long)rec->rec_idx,
					     (unsigned long long)((const struct rd *)g_rd.mem)->rec_count);
					break;
				}
				for (unsigned k = 0; k < rec->num_rec_aux && !au.failed; k++)
					reference(&au, rec->aux[k].val, GRANULE_STATE_REC_AUX, "REC_AUX");
				if (nkeys == capkeys) {
					size_t cap = capkeys ? 2 * capkeys : 64;
					struct rec_key *nk = realloc(keys, cap * sizeof(*nk));
					if (!nk) {
						fail(&au, "out of memory");
						break;
					}
					keys = nk;
					capkeys = cap;
				}
				keys[nkeys++] = (struct rec_key){ rec->rd.val, rec->rec_idx, pa };
			}
			if (g->refcount != 0 && g->state != GRANULE_STATE_RD && g->state != GRANULE_STATE_RTT &&
			    g->state != GRANULE_STATE_REC)
				fail(&au, "granule 0x%llx (%s) has refcount %u", (unsigned long long)pa,
				     rmmemu_granule_state_name(g->state), g->refcount);
		}
	}
	if (au.failed)
		goto out;
	if (nkeys)
		qsort(keys, nkeys, sizeof(*keys), rec_key_cmp);
	for (size_t k = 1; k < nkeys && !au.failed; k++)
		if (keys[k].rd == keys[k - 1].rd && keys[k].idx == keys[k - 1].idx)
			fail(&au, "RECs 0x%llx and 0x%llx of RD 0x%llx have the same index %llu",
			     (unsigned long long)keys[k - 1].pa, (unsigned long long)keys[k].pa,
			     (unsigned long long)keys[k].rd, (unsigned long long)keys[k].idx);

	/* Pass 2: every RTT/DATA/REC_AUX granule was referenced; RD refcounts == REC counts; VMIDs. */
	uint8_t *vmid_seen = calloc(65536 / 8, 1);
	if (!vmid_seen)
		fail(&au, "out of memory");
	for (unsigned r = 0; r < rmm->ndram && !au.failed; r++) {
		const struct dram_region *d = &rmm->dram[r];
		for (uint64_t i = 0; i < d->size >> GRANULE_SHIFT && !au.failed; i++) {
			const struct granule *g = &d->meta[i];
			if (g->state == GRANULE_STATE_UNDELEGATED || g->state == GRANULE_STATE_DELEGATED)
				continue;
			uint64_t pa = d->base + (i << GRANULE_SHIFT);
			bool needs_ref = g->state == GRANULE_STATE_RTT || g->state == GRANULE_STATE_DATA ||
					 g->state == GRANULE_STATE_REC_AUX;
			if (needs_ref && !au.refs[bases[r] + i])
				fail(&au, "%s granule 0x%llx is not reachable from any realm",
				     rmmemu_granule_state_name(g->state), (unsigned long long)pa);
			if (g->state == GRANULE_STATE_RD) {
				const struct rd *rd = (const void *)(d->mem + (i << GRANULE_SHIFT));
				size_t first, end = recs_of(keys, nkeys, pa, &first);
				if (end - first != g->refcount)
					fail(&au, "RD 0x%llx refcount %u but %zu RECs", (unsigned long long)pa,
					     g->refcount, end - first);
				unsigned vmid = rd->s2.vmid;
				if (vmid > 0xFFFF || !(rmm->vmids[vmid / 64] & (1ULL << (vmid % 64))))
					fail(&au, "RD 0x%llx: VMID %u is not reserved", (unsigned long long)pa, vmid);
				else if (vmid_seen[vmid / 8] & (1U << (vmid % 8)))
					fail(&au, "RD 0x%llx: VMID %u is used by another realm", (unsigned long long)pa, vmid);
				else
					vmid_seen[vmid / 8] |= (uint8_t)(1U << (vmid % 8));
			}
		}
	}
	if (!au.failed) {
		uint64_t reserved = 0;
		for (unsigned w = 0; w < sizeof(rmm->vmids) / sizeof(rmm->vmids[0]); w++)
			reserved += (uint64_t)__builtin_popcountll(rmm->vmids[w]);
		if (reserved != nrealms)
			fail(&au, "%llu VMIDs reserved but %llu realms exist", (unsigned long long)reserved,
			     (unsigned long long)nrealms);
	}
	free(vmid_seen);
out:
	free(keys);
	free(au.refs);
	pthread_mutex_unlock(&rmm->lock);
	return au.failed ? -1 : 0;
}

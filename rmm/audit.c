/*
 * Global invariant check of the RMM state, for tests and debugging:
 *  - a granule is in the realm PAS iff its state is not UNDELEGATED; DELEGATED granules are zero;
 *  - every RTT granule is referenced exactly once (as a root of one realm or by one table entry);
 *  - every DATA granule is mapped exactly once, by an ASSIGNED protected entry;
 *  - RTT refcount == number of its entries that are tables or ASSIGNED protected entries;
 *  - protected-half entries carry no NS bit, unprotected-half entries are NS or tables;
 *  - RD refcount == number of its RECs; every REC_AUX belongs to exactly one REC.
 */
#include <stdarg.h>
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

static void audit_table(struct audit *au, const struct rd *rd, uint64_t table_pa, int level, uint64_t ipa_base)
{
	reference(au, table_pa, GRANULE_STATE_RTT, "RTT");
	if (au->failed)
		return;
	const uint64_t *t = granule_mem(au->rmm, PA(table_pa));
	uint64_t size = s2tte_map_size(level);
	unsigned expect = 0;
	for (unsigned i = 0; i < S2TTES_PER_S2TT && !au->failed; i++) {
		uint64_t ipa = ipa_base + i * size;
		uint64_t e = t[i];
		if (ipa >= realm_ipa_size(rd))
			break;
		bool par = addr_in_par(rd, ipa);
		if (s2tte_is_table(e, level)) {
			expect++;
			audit_table(au, rd, s2tte_pa(e, level).val, level + 1, ipa);
			continue;
		}
		if (!par) {
			if (!s2tte_is_unassigned_ns(e) && !s2tte_is_assigned_ns(e, level))
				fail(au, "unprotected IPA 0x%llx has a non-NS entry 0x%llx", (unsigned long long)ipa,
				     (unsigned long long)e);
			continue;
		}
		if (e & S2TTE_NS) {
			fail(au, "protected IPA 0x%llx has an NS entry 0x%llx", (unsigned long long)ipa,
			     (unsigned long long)e);
			continue;
		}
		if (s2tte_is_unassigned(e))
			continue;
		if (s2tte_is_assigned_ram(e, level) || s2tte_is_assigned_empty(e, level) ||
		    s2tte_is_assigned_destroyed(e, level)) {
			if (level < S2TT_MIN_BLOCK_LEVEL) {
				fail(au, "assigned entry at level %d", level);
				continue;
			}
			expect++;
			uint64_t pa = s2tte_pa(e, level).val;
			for (uint64_t off = 0; off < size && !au->failed; off += GRANULE_SIZE)
				reference(au, pa + off, GRANULE_STATE_DATA, "DATA");
			continue;
		}
		fail(au, "malformed entry 0x%llx at IPA 0x%llx level %d", (unsigned long long)e,
		     (unsigned long long)ipa, level);
	}
	struct granule *g = granule_meta(au->rmm, PA(table_pa));
	if (!au->failed && g->refcount != expect)
		fail(au, "RTT 0x%llx (level %d) refcount %u, expected %u", (unsigned long long)table_pa, level,
		     g->refcount, expect);
}

static void audit_realm(struct audit *au, uint64_t rd_pa, const struct rd *rd)
{
	uint64_t root_span = s2tte_map_size(rd->s2.start_level) * S2TTES_PER_S2TT;
	for (unsigned i = 0; i < rd->s2.num_root_rtts && !au->failed; i++)
		audit_table(au, rd, rd->s2.rtt_base.val + i * GRANULE_SIZE, rd->s2.start_level, i * root_span);
	(void)rd_pa;
}

static bool granule_is_zero(const void *p)
{
	const uint64_t *w = p;
	for (unsigned i = 0; i < GRANULE_SIZE / 8; i++)
		if (w[i])
			return false;
	return true;
}

int rmmemu_check_invariants(struct rmmemu *emu, char *msg, size_t len)
{
	struct rmm *rmm = rmmemu_core(emu);
	struct audit au = { .rmm = rmm, .msg = msg, .len = len };
	uint64_t total = 0, bases[RMMEMU_MAX_RANGES];

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

	/* Pass 1: per-granule PAS/state consistency; walk every realm; account RECs. */
	for (unsigned r = 0; r < rmm->ndram && !au.failed; r++) {
		const struct dram_region *d = &rmm->dram[r];
		for (uint64_t i = 0; i < d->size >> GRANULE_SHIFT && !au.failed; i++) {
			const struct granule *g = &d->meta[i];
			uint64_t pa = d->base + (i << GRANULE_SHIFT);
			bool realm_pas = g->pas == RMMEMU_PAS_REALM;
			if ((g->state == GRANULE_STATE_UNDELEGATED) == realm_pas) {
				fail(&au, "granule 0x%llx: state %s in PAS %s", (unsigned long long)pa,
				     rmmemu_granule_state_name(g->state), rmmemu_pas_name(g->pas));
				break;
			}
			if (g->state == GRANULE_STATE_DELEGATED && !granule_is_zero(d->mem + (i << GRANULE_SHIFT)))
				fail(&au, "DELEGATED granule 0x%llx is not scrubbed", (unsigned long long)pa);
			if (g->state == GRANULE_STATE_RD) {
				const struct rd *rd = (const void *)(d->mem + (i << GRANULE_SHIFT));
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
				for (unsigned k = 0; k < rec->num_rec_aux && !au.failed; k++)
					reference(&au, rec->aux[k].val, GRANULE_STATE_REC_AUX, "REC_AUX");
			}
			if (g->refcount != 0 && g->state != GRANULE_STATE_RD && g->state != GRANULE_STATE_RTT &&
			    g->state != GRANULE_STATE_REC)
				fail(&au, "granule 0x%llx (%s) has refcount %u", (unsigned long long)pa,
				     rmmemu_granule_state_name(g->state), g->refcount);
		}
	}
	/* Pass 2: every RTT/DATA/REC_AUX granule was referenced; RD refcounts == REC counts. */
	for (unsigned r = 0; r < rmm->ndram && !au.failed; r++) {
		const struct dram_region *d = &rmm->dram[r];
		for (uint64_t i = 0; i < d->size >> GRANULE_SHIFT && !au.failed; i++) {
			const struct granule *g = &d->meta[i];
			uint64_t pa = d->base + (i << GRANULE_SHIFT);
			bool needs_ref = g->state == GRANULE_STATE_RTT || g->state == GRANULE_STATE_DATA ||
					 g->state == GRANULE_STATE_REC_AUX;
			if (needs_ref && !au.refs[bases[r] + i])
				fail(&au, "%s granule 0x%llx is not reachable from any realm",
				     rmmemu_granule_state_name(g->state), (unsigned long long)pa);
			if (g->state == GRANULE_STATE_RD) {
				unsigned recs = 0;
				for (unsigned r2 = 0; r2 < rmm->ndram; r2++) {
					const struct dram_region *d2 = &rmm->dram[r2];
					for (uint64_t j = 0; j < d2->size >> GRANULE_SHIFT; j++)
						if (d2->meta[j].state == GRANULE_STATE_REC &&
						    ((const struct rec *)(const void *)(d2->mem + (j << GRANULE_SHIFT)))->rd.val == pa)
							recs++;
				}
				if (recs != g->refcount)
					fail(&au, "RD 0x%llx refcount %u but %u RECs", (unsigned long long)pa,
					     g->refcount, recs);
			}
		}
	}
out:
	free(au.refs);
	pthread_mutex_unlock(&rmm->lock);
	return au.failed ? -1 : 0;
}

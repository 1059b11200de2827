/* RMI_RTT_CREATE / DESTROY / FOLD / MAP_UNPROTECTED / UNMAP_UNPROTECTED / READ_ENTRY */
#include "rmi/rmi.h"
#include "rmi/rtt_common.h"

bool validate_map_addr(uint64_t ipa, int level, const struct rd *rd)
{
	return ipa < realm_ipa_size(rd) && s2tte_is_addr_lvl_aligned(ipa, level);
}

/* RTT_CREATE, RTT_DESTROY, RTT_FOLD: the RTT at `level` hangs from an entry at level - 1. */
static bool validate_rtt_structure_cmds(uint64_t ipa, int64_t level, const struct rd *rd)
{
	if (level < rd->s2.start_level + 1 || level > S2TT_PAGE_LEVEL)
		return false;
	return validate_map_addr(ipa, (int)level - 1, rd);
}

static bool validate_rtt_map_cmds(uint64_t ipa, int64_t level, const struct rd *rd)
{
	if (level < S2TT_MIN_BLOCK_LEVEL || level > S2TT_PAGE_LEVEL)
		return false;
	/* A level above the realm's starting level has no entries to map (TF-RMM asserts here). */
	if (level < rd->s2.start_level)
		return false;
	return validate_map_addr(ipa, (int)level, rd);
}

static bool validate_rtt_entry_cmds(uint64_t ipa, int64_t level, const struct rd *rd)
{
	if (level < rd->s2.start_level || level > S2TT_PAGE_LEVEL)
		return false;
	return validate_map_addr(ipa, (int)level, rd);
}

/* Walk to the entry at level - 1 that an RTT at `level` hangs from; RMI_ERROR_RTT(level reached) in
 * res[0] if the walk stops above it. */
static bool walk_to_parent(struct rmm *rmm, const struct rd *rd, uint64_t ipa, int level, struct s2tt_walk *wi,
			   uint64_t res[5])
{
	s2tt_walk(rmm, &rd->s2, IPA(ipa), level - 1, wi);
	if (wi->last_level != level - 1) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi->last_level);
		return false;
	}
	return true;
}

bool rd_lookup(struct rmm *rmm, uint64_t addr, struct gref *g, struct rd **rd)
{
	if (!granule_find_state(rmm, PA(addr), GRANULE_STATE_RD, g))
		return false;
	*rd = g->mem;
	return true;
}

void rmi_rtt_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	rmm_pa_t rtt_pa = PA(a[1]);
	uint64_t ipa = a[2];
	int64_t level = (int64_t)a[3];
	struct gref g_tbl, g_rd;
	struct s2tt_walk wi;

	if (!granule_find_two(rmm, rtt_pa, GRANULE_STATE_DELEGATED, &g_tbl, PA(a[0]), GRANULE_STATE_RD, &g_rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	struct rd *rd = g_rd.mem;
	if (!validate_rtt_structure_cmds(ipa, level, rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	if (rtt_pa.val >= (1ULL << S2TT_MAX_PA_BITS)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	int l = (int)level;
	if (!walk_to_parent(rmm, rd, ipa, l, &wi, res))
		return;
	uint64_t parent = wi.table[wi.index];
	uint64_t *tbl = g_tbl.mem;
	struct granule *g_parent = granule_meta(rmm, wi.table_pa);

	if (s2tte_is_unassigned_empty(parent) || s2tte_is_unassigned_ram(parent) ||
	    s2tte_is_unassigned_ns(parent) || s2tte_is_unassigned_destroyed(parent)) {
		/* Unfold an unassigned entry: every child inherits its HIPAS/RIPAS. */
		s2tt_init_fill(tbl, parent);
		granule_refcount_add(g_parent, 1);
	} else if (s2tte_is_assigned_destroyed(parent, l - 1) || s2tte_is_assigned_empty(parent, l - 1)) {
		enum ripas r = s2tte_get_ripas(parent);
		s2tt_init_assigned(tbl, r, s2tte_pa(parent, l - 1), l);
		granule_refcount_add(g_tbl.g, S2TTES_PER_S2TT);
	} else if (s2tte_is_assigned_ram(parent, l - 1)) {
		/* Break-before-make of a valid block mapping. */
		wi.table[wi.index] = 0;
		s2tt_invalidate(rmm, &rd->s2, ipa, s2tte_map_size(l - 1));
		s2tt_init_assigned(tbl, RIPAS_RAM, s2tte_pa(parent, l - 1), l);
		granule_refcount_add(g_tbl.g, S2TTES_PER_S2TT);
	} else if (s2tte_is_assigned_ns(parent, l - 1)) {
		wi.table[wi.index] = 0;
		s2tt_invalidate(rmm, &rd->s2, ipa, s2tte_map_size(l - 1));
		s2tt_init_assigned_ns(tbl, parent, s2tte_pa(parent, l - 1), l);
		granule_refcount_add(g_parent, 1);
	} else {
		/* A table is already there. */
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)(l - 1));
		return;
	}
	granule_set_state(rmm, &g_tbl, GRANULE_STATE_RTT);
	wi.table[wi.index] = s2tte_create_table(rtt_pa);
	res[0] = RMI_SUCCESS;
}

void rmi_rtt_fold(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct gref g_rd, g_tbl;
	struct rd *rd;
	struct s2tt_walk wi;

	if (!rd_lookup(rmm, a[0], &g_rd, &rd) || !validate_rtt_structure_cmds(ipa, level, rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	int l = (int)level;
	if (!walk_to_parent(rmm, rd, ipa, l, &wi, res))
		return;
	uint64_t parent = wi.table[wi.index];
	if (!s2tte_is_table(parent, l - 1)) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)(l - 1));
		return;
	}
	rmm_pa_t rtt_pa = s2tte_pa(parent, l - 1);
	granule_find(rmm, rtt_pa, &g_tbl);
	const uint64_t *tbl = g_tbl.mem;
	uint64_t new_parent;
	struct granule *g_parent = granule_meta(rmm, wi.table_pa);

	if (g_tbl.g->refcount == 0) {
		if (s2tt_is_uniform(tbl, s2tte_is_unassigned_destroyed)) {
			new_parent = s2tte_create_unassigned_destroyed();
		} else if (s2tt_is_uniform(tbl, s2tte_is_unassigned_empty)) {
			new_parent = s2tte_create_unassigned_empty();
		} else if (s2tt_is_uniform(tbl, s2tte_is_unassigned_ram)) {
			new_parent = s2tte_create_unassigned_ram();
		} else if (s2tt_is_uniform(tbl, s2tte_is_unassigned_ns)) {
			new_parent = s2tte_create_unassigned_ns();
		} else if (s2tt_maps_block(tbl, l, s2tte_is_assigned_ns, true)) {
			/* No block mappings at level 0. */
			if (l <= S2TT_MIN_BLOCK_LEVEL) {
				res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
				return;
			}
			new_parent = s2tte_create_assigned_ns(tbl[0], l - 1);
		} else {
			res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
			return;
		}
		granule_refcount_sub(g_parent, 1);
	} else if (g_tbl.g->refcount == S2TTES_PER_S2TT) {
		if (l <= S2TT_MIN_BLOCK_LEVEL) {
			res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
			return;
		}
		rmm_pa_t block_pa = s2tte_pa(tbl[0], l);
		if (s2tt_maps_block(tbl, l, s2tte_is_assigned_empty, false)) {
			new_parent = s2tte_create_assigned_empty(block_pa, l - 1);
		} else if (s2tt_maps_block(tbl, l, s2tte_is_assigned_ram, false)) {
			new_parent = s2tte_create_assigned_ram(block_pa, l - 1);
		} else if (s2tt_maps_block(tbl, l, s2tte_is_assigned_destroyed, false)) {
			new_parent = s2tte_create_assigned_destroyed(block_pa, l - 1);
		} else {
			res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
			return;
		}
		/* The parent's reference moves from the table entry to the block entry. */
		granule_refcount_sub(g_tbl.g, S2TTES_PER_S2TT);
	} else {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
		return;
	}
	wi.table[wi.index] = 0;
	s2tt_invalidate(rmm, &rd->s2, ipa, s2tte_map_size(l - 1));
	wi.table[wi.index] = new_parent;
	granule_zero(&g_tbl);
	granule_set_state(rmm, &g_tbl, GRANULE_STATE_DELEGATED);
	res[0] = RMI_SUCCESS;
	res[1] = rtt_pa.val;
}

void rmi_rtt_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct gref g_rd, g_tbl;
	struct rd *rd;
	struct s2tt_walk wi;

	if (!rd_lookup(rmm, a[0], &g_rd, &rd) || !validate_rtt_structure_cmds(ipa, level, rd)) {
		res[0] = RMI_ERROR_INPUT;
		res[2] = 0;
		return;
	}
	int l = (int)level;
	bool in_par = addr_in_par(rd, ipa);
	s2tt_walk(rmm, &rd->s2, IPA(ipa), l - 1, &wi);
	uint64_t parent = wi.table[wi.index];
	if (wi.last_level != l - 1 || !s2tte_is_table(parent, l - 1)) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
		res[2] = s2tt_skip_non_live_entries(ipa, wi.table, &wi);
		return;
	}
	rmm_pa_t rtt_pa = s2tte_pa(parent, l - 1);
	granule_find(rmm, rtt_pa, &g_tbl);
	if (g_tbl.g->refcount != 0) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
		res[2] = ipa;
		return;
	}
	granule_refcount_sub(granule_meta(rmm, wi.table_pa), 1);
	wi.table[wi.index] = 0;
	s2tt_invalidate(rmm, &rd->s2, ipa, s2tte_map_size(l - 1));
	wi.table[wi.index] = in_par ? s2tte_create_unassigned_destroyed() : s2tte_create_unassigned_ns();
	granule_zero(&g_tbl);
	granule_set_state(rmm, &g_tbl, GRANULE_STATE_DELEGATED);
	res[0] = RMI_SUCCESS;
	res[1] = rtt_pa.val;
	res[2] = s2tt_skip_non_live_entries(ipa, wi.table, &wi);
}

void rmi_rtt_map_unprotected(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1], desc = a[3];
	int64_t level = (int64_t)a[2];
	struct gref g_rd;
	struct rd *rd;
	struct s2tt_walk wi;

	if (level < S2TT_MIN_BLOCK_LEVEL || level > S2TT_PAGE_LEVEL || !rd_lookup(rmm, a[0], &g_rd, &rd) ||
	    !host_ns_s2tte_is_valid(desc, (int)level) || !validate_rtt_map_cmds(ipa, level, rd) ||
	    addr_in_par(rd, ipa)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	int l = (int)level;
	s2tt_walk(rmm, &rd->s2, IPA(ipa), l, &wi);
	if (wi.last_level != l) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
		return;
	}
	if (!s2tte_is_unassigned_ns(wi.table[wi.index])) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
		return;
	}
	wi.table[wi.index] = s2tte_create_assigned_ns(desc, l);
	res[0] = RMI_SUCCESS;
}

void rmi_rtt_unmap_unprotected(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct gref g_rd;
	struct rd *rd;
	struct s2tt_walk wi;

	if (level < S2TT_MIN_BLOCK_LEVEL || level > S2TT_PAGE_LEVEL || !rd_lookup(rmm, a[0], &g_rd, &rd) ||
	    !validate_rtt_map_cmds(ipa, level, rd) || addr_in_par(rd, ipa)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	int l = (int)level;
	s2tt_walk(rmm, &rd->s2, IPA(ipa), l, &wi);
	if (wi.last_level != l || !s2tte_is_assigned_ns(wi.table[wi.index], wi.last_level)) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
	} else {
		wi.table[wi.index] = s2tte_create_unassigned_ns();
		s2tt_invalidate(rmm, &rd->s2, ipa, s2tte_map_size(l));
		res[0] = RMI_SUCCESS;
	}
	res[1] = s2tt_skip_non_live_entries(ipa, wi.table, &wi);
}

void rmi_rtt_read_entry(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1];
	int64_t level = (int64_t)a[2];
	struct gref g_rd;
	struct rd *rd;
	struct s2tt_walk wi;

	if (!rd_lookup(rmm, a[0], &g_rd, &rd) || !validate_rtt_entry_cmds(ipa, level, rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	s2tt_walk(rmm, &rd->s2, IPA(ipa), (int)level, &wi);
	uint64_t e = wi.table[wi.index];
	int l = wi.last_level;
	res[1] = (uint64_t)l;
	if (s2tte_is_unassigned_empty(e)) {
		res[2] = RMI_UNASSIGNED; res[3] = 0; res[4] = RMI_EMPTY;
	} else if (s2tte_is_unassigned_ram(e)) {
		res[2] = RMI_UNASSIGNED; res[3] = 0; res[4] = RMI_RAM;
	} else if (s2tte_is_unassigned_destroyed(e)) {
		res[2] = RMI_UNASSIGNED; res[3] = 0; res[4] = RMI_DESTROYED;
	} else if (s2tte_is_assigned_empty(e, l)) {
		res[2] = RMI_ASSIGNED; res[3] = s2tte_pa(e, l).val; res[4] = RMI_EMPTY;
	} else if (s2tte_is_assigned_ram(e, l)) {
		res[2] = RMI_ASSIGNED; res[3] = s2tte_pa(e, l).val; res[4] = RMI_RAM;
	} else if (s2tte_is_assigned_destroyed(e, l)) {
		res[2] = RMI_ASSIGNED; res[3] = 0; res[4] = RMI_DESTROYED;
	} else if (s2tte_is_unassigned_ns(e)) {
		res[2] = RMI_UNASSIGNED; res[3] = 0; res[4] = RMI_EMPTY;
	} else if (s2tte_is_assigned_ns(e, l)) {
		res[2] = RMI_ASSIGNED; res[3] = host_ns_s2tte(e, l); res[4] = RMI_EMPTY;
	} else {
		/* Table entry (anything else cannot be written by the RMM). */
		res[2] = RMI_TABLE; res[3] = s2tte_pa(e, l).val; res[4] = RMI_EMPTY;
	}
	res[0] = RMI_SUCCESS;
}

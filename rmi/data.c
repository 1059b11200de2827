/* RMI_DATA_CREATE / DATA_CREATE_UNKNOWN / DATA_DESTROY / RTT_INIT_RIPAS / RTT_SET_RIPAS */
#include "rmi/rmi.h"
#include "rmi/rtt_common.h"
#include "rmm/measure_hooks.h"
#include "rmm/vcpu_ops.h"

static uint64_t validate_data_create_unknown(uint64_t ipa, const struct rd *rd)
{
	if (!addr_in_par(rd, ipa) || !validate_map_addr(ipa, S2TT_PAGE_LEVEL, rd))
		return RMI_ERROR_INPUT;
	return RMI_SUCCESS;
}

static uint64_t validate_data_create(uint64_t ipa, const struct rd *rd)
{
	if (rd->state != REALM_NEW)
		return RMI_ERROR_REALM;
	return validate_data_create_unknown(ipa, rd);
}

/* src_pa == NULL: DATA_CREATE_UNKNOWN. */
static uint64_t data_create(struct rmm *rmm, uint64_t rd_addr, rmm_pa_t data_pa, uint64_t ipa,
			    const rmm_pa_t *src_pa, uint64_t flags)
{
	struct gref g_data, g_rd;
	struct s2tt_walk wi;

	if (!granule_find_two(rmm, data_pa, GRANULE_STATE_DELEGATED, &g_data, PA(rd_addr), GRANULE_STATE_RD, &g_rd))
		return RMI_ERROR_INPUT;
	struct rd *rd = g_rd.mem;
	uint64_t ret = src_pa ? validate_data_create(ipa, rd) : validate_data_create_unknown(ipa, rd);
	if (ret != RMI_SUCCESS)
		return ret;
	if (data_pa.val >= (1ULL << S2TT_MAX_PA_BITS))
		return RMI_ERROR_INPUT;

	s2tt_walk(rmm, &rd->s2, IPA(ipa), S2TT_PAGE_LEVEL, &wi);
	if (wi.last_level != S2TT_PAGE_LEVEL)
		return pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
	uint64_t e = wi.table[wi.index];
	if (!s2tte_is_unassigned(e))
		return pack_return_code(RMI_ERROR_RTT, S2TT_PAGE_LEVEL);

	if (src_pa) {
		if (!ns_granule_read(rmm, *src_pa, g_data.mem, GRANULE_SIZE)) {
			granule_zero(&g_data);
			return RMI_ERROR_INPUT;
		}
		measurement_data_granule_measure(rd, g_data.mem, ipa, flags);
		e = s2tte_create_assigned_ram(data_pa, S2TT_PAGE_LEVEL);
	} else {
		e = s2tte_create_assigned_unchanged(e, data_pa, S2TT_PAGE_LEVEL);
	}
	wi.table[wi.index] = e;
	granule_refcount_add(granule_meta(rmm, wi.table_pa), 1);
	granule_set_state(rmm, &g_data, GRANULE_STATE_DATA);
	return RMI_SUCCESS;
}

void rmi_data_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t flags = a[4];
	struct gref g_src;

	if (flags != RMI_NO_MEASURE_CONTENT && flags != RMI_MEASURE_CONTENT) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	rmm_pa_t src = PA(a[3]);
	if (!granule_find_state(rmm, src, GRANULE_STATE_UNDELEGATED, &g_src)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	res[0] = data_create(rmm, a[0], PA(a[1]), a[2], &src, flags);
}

void rmi_data_create_unknown(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	res[0] = data_create(rmm, a[0], PA(a[1]), a[2], NULL, 0);
}

void rmi_data_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t ipa = a[1];
	struct gref g_rd, g_data;
	struct rd *rd;
	struct s2tt_walk wi;

	if (!rd_lookup(rmm, a[0], &g_rd, &rd) || !addr_in_par(rd, ipa) ||
	    !validate_map_addr(ipa, S2TT_PAGE_LEVEL, rd)) {
		res[0] = RMI_ERROR_INPUT;
		res[2] = 0;
		return;
	}
	s2tt_walk(rmm, &rd->s2, IPA(ipa), S2TT_PAGE_LEVEL, &wi);
	uint64_t e = wi.table[wi.index];
	const int l3 = S2TT_PAGE_LEVEL;
	if (wi.last_level != l3) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)wi.last_level);
	} else if (s2tte_is_assigned_ram(e, l3) || s2tte_is_assigned_empty(e, l3) ||
		   s2tte_is_assigned_destroyed(e, l3)) {
		rmm_pa_t data_pa = s2tte_pa(e, l3);
		bool was_ram = s2tte_is_assigned_ram(e, l3);
		/* RAM and DESTROYED become DESTROYED (the realm lost the contents); EMPTY stays EMPTY. */
		wi.table[wi.index] = s2tte_is_assigned_empty(e, l3) ? s2tte_create_unassigned_empty()
								    : s2tte_create_unassigned_destroyed();
		if (was_ram)
			s2tt_invalidate(rmm, &rd->s2, ipa, GRANULE_SIZE);
		granule_refcount_sub(granule_meta(rmm, wi.table_pa), 1);
		granule_find(rmm, data_pa, &g_data);
		granule_zero(&g_data);
		if (rmm->vcpu_ops && rmm->vcpu_ops->data_destroyed)
			rmm->vcpu_ops->data_destroyed(rmm->vcpu_ctx, &rd->s2, data_pa);
		granule_set_state(rmm, &g_data, GRANULE_STATE_DELEGATED);
		res[0] = RMI_SUCCESS;
		res[1] = data_pa.val;
	} else {
		res[0] = pack_return_code(RMI_ERROR_RTT, l3);
	}
	res[2] = s2tt_skip_non_live_entries(ipa, wi.table, &wi);
}

void rmi_rtt_init_ripas(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t base = a[1], top = a[2];
	struct gref g_rd;
	struct rd *rd;
	struct s2tt_walk wi;

	if (top <= base || !rd_lookup(rmm, a[0], &g_rd, &rd) ||
	    !validate_map_addr(base, S2TT_PAGE_LEVEL, rd) || !validate_map_addr(top, S2TT_PAGE_LEVEL, rd) ||
	    !addr_in_par(rd, base) || !addr_in_par(rd, top - GRANULE_SIZE)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	if (rd->state != REALM_NEW) {
		res[0] = RMI_ERROR_REALM;
		return;
	}
	s2tt_walk(rmm, &rd->s2, IPA(base), S2TT_PAGE_LEVEL, &wi);
	int l = wi.last_level;
	uint64_t size = s2tte_map_size(l);
	uint64_t addr = base & ~(size - 1);
	if (addr != base) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
		return;
	}
	for (unsigned i = wi.index; i < S2TTES_PER_S2TT; i++) {
		uint64_t next = addr + size;
		if (next > top)
			break;
		uint64_t e = wi.table[i];
		if (s2tte_is_unassigned_empty(e))
			wi.table[i] = s2tte_create_unassigned_ram();
		else if (!s2tte_is_unassigned_ram(e))
			break;
		measurement_init_ripas_measure(rd, addr, next);
		addr = next;
	}
	if (addr > base) {
		res[0] = RMI_SUCCESS;
		res[1] = addr;
	} else {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
	}
}

/* Apply a RIPAS change to one entry: <0 stop, 0 done, 1 done and translations must be dropped. */
static int update_ripas(uint64_t *ep, int level, enum ripas to, bool change_destroyed)
{
	uint64_t e = *ep;
	if (!s2tte_has_ripas(e, level))
		return -1;
	bool destroyed = s2tte_is_unassigned_destroyed(e) || s2tte_is_assigned_destroyed(e, level);
	if (destroyed && !change_destroyed)
		return -1;
	int ret = 0;
	if (to == RIPAS_RAM) {
		if (s2tte_is_unassigned_empty(e) || s2tte_is_unassigned_destroyed(e))
			e = s2tte_create_unassigned_ram();
		else if (s2tte_is_assigned_empty(e, level) || s2tte_is_assigned_destroyed(e, level))
			e = s2tte_create_assigned_ram(s2tte_pa(e, level), level);
		else
			return 0; /* already RAM */
	} else {
		if (s2tte_is_unassigned_ram(e) || s2tte_is_unassigned_destroyed(e)) {
			e = s2tte_create_unassigned_empty();
		} else if (s2tte_is_assigned_ram(e, level) || s2tte_is_assigned_destroyed(e, level)) {
			ret = s2tte_is_assigned_ram(e, level);
			e = s2tte_create_assigned_empty(s2tte_pa(e, level), level);
		} else {
			return 0; /* already EMPTY */
		}
	}
	*ep = e;
	return ret;
}

void rmi_rtt_set_ripas(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	uint64_t base = a[2], top = a[3];
	struct gref g_rd, g_rec;
	struct s2tt_walk wi;

	/*
	 * size_valid and top_gran_align. The latter is missing from rmm-spec-v1.0-rel0 and from TF-RMM
	 * at that tag (an unaligned top walked and returned RMI_ERROR_RTT, or changed the granules
	 * below it); TF-RMM added it later in this place, and the RMM ACS expects it (docs/rmi.md).
	 */
	if (top <= base || !granule_aligned(top)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	if (!granule_find_two(rmm, PA(a[0]), GRANULE_STATE_RD, &g_rd, PA(a[1]), GRANULE_STATE_REC, &g_rec)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	if (g_rec.g->refcount != 0) {
		res[0] = RMI_ERROR_REC;
		return;
	}
	struct rec *rec = g_rec.mem;
	struct rd *rd = g_rd.mem;
	if (rec->rd.val != g_rd.pa.val) {
		res[0] = RMI_ERROR_REC;
		return;
	}
	if (base != rec->set_ripas.addr || top > rec->set_ripas.top) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	s2tt_walk(rmm, &rd->s2, IPA(base), S2TT_PAGE_LEVEL, &wi);
	int l = wi.last_level;
	if (!validate_map_addr(base, l, rd)) {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
		return;
	}
	uint64_t size = s2tte_map_size(l), addr = base;
	for (unsigned i = wi.index; i < S2TTES_PER_S2TT; i++) {
		if (addr + size > top)
			break;
		int r = update_ripas(&wi.table[i], l, (enum ripas)rec->set_ripas.ripas_val,
				     rec->set_ripas.change_destroyed);
		if (r < 0)
			break;
		if (r > 0)
			s2tt_invalidate(rmm, &rd->s2, addr, size);
		addr += size;
	}
	if (addr > base) {
		res[0] = RMI_SUCCESS;
		res[1] = addr;
		rec->set_ripas.addr = addr;
	} else {
		res[0] = pack_return_code(RMI_ERROR_RTT, (unsigned)l);
	}
}

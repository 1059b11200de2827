/* Stage-2 descriptors and walks. See s2tt.h for the encoding. */
#include "rtt/s2tt.h"

#include <assert.h>

#include "rmm/vcpu_ops.h"

static inline uint64_t desc_type(uint64_t e) { return e & S2TTE_DESC_TYPE_MASK; }

static unsigned level_lsb(int level)
{
	return GRANULE_SHIFT + S2TTE_STRIDE * (unsigned)(S2TT_PAGE_LEVEL - level);
}

uint64_t s2tte_lvl_mask(int level)
{
	unsigned lsb = level_lsb(level);
	return ((1ULL << S2TTE_OA_BITS) - 1) & ~((1ULL << lsb) - 1);
}

bool s2tte_is_addr_lvl_aligned(uint64_t addr, int level)
{
	return addr == (addr & s2tte_lvl_mask(level));
}

static unsigned addr_to_idx(uint64_t addr, int level)
{
	return (unsigned)((addr >> level_lsb(level)) & (S2TTES_PER_S2TT - 1));
}

void s2tt_walk(struct rmm *rmm, const struct s2tt_ctx *ctx, rmm_ipa_t ipa, int level,
	       struct s2tt_walk *wi)
{
	assert(level >= ctx->start_level && level <= S2TT_PAGE_LEVEL);
	assert(ipa.val < (1ULL << ctx->ipa_bits));

	/* Index into the (possibly concatenated) starting-level tables. */
	uint64_t sl_idx = ipa.val >> level_lsb(ctx->start_level);
	rmm_pa_t table_pa = PA(ctx->rtt_base.val + (sl_idx / S2TTES_PER_S2TT) * GRANULE_SIZE);
	assert(sl_idx / S2TTES_PER_S2TT < ctx->num_root_rtts);

	int l = ctx->start_level;
	uint64_t *table = granule_mem(rmm, table_pa);
	while (l < level) {
		uint64_t e = table[addr_to_idx(ipa.val, l)];
		if (!s2tte_is_table(e, l))
			break;
		table_pa = s2tte_pa(e, l);
		table = granule_mem(rmm, table_pa);
		l++;
	}
	wi->last_level = l;
	wi->table_pa = table_pa;
	wi->table = table;
	wi->index = addr_to_idx(ipa.val, l);
}

/* ---- constructors ---- */

static uint64_t invalid_entry(enum hipas h, enum ripas r)
{
	return ((uint64_t)h << S2TTE_HIPAS_SHIFT) | ((uint64_t)r << S2TTE_RIPAS_SHIFT);
}

uint64_t s2tte_create_unassigned_empty(void) { return invalid_entry(HIPAS_UNASSIGNED, RIPAS_EMPTY); }
uint64_t s2tte_create_unassigned_ram(void) { return invalid_entry(HIPAS_UNASSIGNED, RIPAS_RAM); }
uint64_t s2tte_create_unassigned_destroyed(void) { return invalid_entry(HIPAS_UNASSIGNED, RIPAS_DESTROYED); }
uint64_t s2tte_create_unassigned_ns(void) { return S2TTE_NS | invalid_entry(HIPAS_UNASSIGNED, 0); }

static uint64_t create_assigned(rmm_pa_t pa, int level, enum ripas r)
{
	assert(level >= S2TT_MIN_BLOCK_LEVEL && level <= S2TT_PAGE_LEVEL);
	assert(s2tte_is_addr_lvl_aligned(pa.val, level));
	if (r == RIPAS_RAM)
		return pa.val | S2TTE_ATTRS | (level == S2TT_PAGE_LEVEL ? S2TTE_PAGE_TYPE : S2TTE_BLOCK_TYPE);
	return pa.val | invalid_entry(HIPAS_ASSIGNED, r);
}

uint64_t s2tte_create_assigned_empty(rmm_pa_t pa, int level) { return create_assigned(pa, level, RIPAS_EMPTY); }
uint64_t s2tte_create_assigned_ram(rmm_pa_t pa, int level) { return create_assigned(pa, level, RIPAS_RAM); }
uint64_t s2tte_create_assigned_destroyed(rmm_pa_t pa, int level) { return create_assigned(pa, level, RIPAS_DESTROYED); }

uint64_t s2tte_create_assigned_unchanged(uint64_t old, rmm_pa_t pa, int level)
{
	return create_assigned(pa, level, (enum ripas)((old & S2TTE_RIPAS_MASK) >> S2TTE_RIPAS_SHIFT));
}

uint64_t s2tte_create_assigned_ns(uint64_t host_s2tte, int level)
{
	assert(level >= S2TT_MIN_BLOCK_LEVEL && level <= S2TT_PAGE_LEVEL);
	uint64_t e = (host_s2tte & ~S2TTE_DESC_TYPE_MASK) | S2TTE_SH_IS | S2TTE_AF | S2TTE_NS | S2TTE_XN;
	return e | (level == S2TT_PAGE_LEVEL ? S2TTE_PAGE_TYPE : S2TTE_BLOCK_TYPE);
}

uint64_t s2tte_create_table(rmm_pa_t pa)
{
	assert(granule_aligned(pa.val));
	return pa.val | S2TTE_TABLE_TYPE;
}

/* ---- predicates ---- */

static bool has_hipas(uint64_t e, enum hipas h)
{
	return desc_type(e) == S2TTE_INVALID && (e & S2TTE_HIPAS_MASK) == ((uint64_t)h << S2TTE_HIPAS_SHIFT);
}

static bool has_ripas(uint64_t e, enum ripas r)
{
	return (e & S2TTE_RIPAS_MASK) == ((uint64_t)r << S2TTE_RIPAS_SHIFT);
}

bool s2tte_is_unassigned(uint64_t e) { return has_hipas(e, HIPAS_UNASSIGNED); }

bool s2tte_is_unassigned_empty(uint64_t e)
{
	return !(e & S2TTE_NS) && has_hipas(e, HIPAS_UNASSIGNED) && has_ripas(e, RIPAS_EMPTY);
}
bool s2tte_is_unassigned_ram(uint64_t e) { return has_hipas(e, HIPAS_UNASSIGNED) && has_ripas(e, RIPAS_RAM); }
bool s2tte_is_unassigned_destroyed(uint64_t e)
{
	return has_hipas(e, HIPAS_UNASSIGNED) && has_ripas(e, RIPAS_DESTROYED);
}
bool s2tte_is_unassigned_ns(uint64_t e) { return (e & S2TTE_NS) && has_hipas(e, HIPAS_UNASSIGNED); }

bool s2tte_is_assigned_empty(uint64_t e, int level)
{
	(void)level;
	return has_hipas(e, HIPAS_ASSIGNED) && has_ripas(e, RIPAS_EMPTY);
}
bool s2tte_is_assigned_destroyed(uint64_t e, int level)
{
	(void)level;
	return has_hipas(e, HIPAS_ASSIGNED) && has_ripas(e, RIPAS_DESTROYED);
}

static bool is_valid_mapping(uint64_t e, int level, uint64_t ns)
{
	if ((e & S2TTE_NS) != ns)
		return false;
	if (level == S2TT_PAGE_LEVEL)
		return desc_type(e) == S2TTE_PAGE_TYPE;
	return level >= S2TT_MIN_BLOCK_LEVEL && desc_type(e) == S2TTE_BLOCK_TYPE;
}
bool s2tte_is_assigned_ram(uint64_t e, int level) { return is_valid_mapping(e, level, 0); }
bool s2tte_is_assigned_ns(uint64_t e, int level) { return is_valid_mapping(e, level, S2TTE_NS); }

bool s2tte_is_table(uint64_t e, int level)
{
	return level < S2TT_PAGE_LEVEL && desc_type(e) == S2TTE_TABLE_TYPE;
}

bool s2tte_has_ripas(uint64_t e, int level)
{
	return !(e & S2TTE_NS) && !s2tte_is_table(e, level);
}

bool s2tte_is_live(uint64_t e, int level)
{
	return desc_type(e) != S2TTE_INVALID || s2tte_is_assigned_empty(e, level) ||
	       s2tte_is_assigned_destroyed(e, level);
}

enum ripas s2tte_get_ripas(uint64_t e)
{
	if (desc_type(e) != S2TTE_INVALID)
		return RIPAS_RAM;
	return (enum ripas)((e & S2TTE_RIPAS_MASK) >> S2TTE_RIPAS_SHIFT);
}

rmm_pa_t s2tte_pa(uint64_t e, int level)
{
	if (s2tte_is_table(e, level))
		return PA(e & s2tte_lvl_mask(S2TT_PAGE_LEVEL));
	return PA(e & s2tte_lvl_mask(level));
}

uint64_t host_ns_s2tte(uint64_t e, int level)
{
	return e & (s2tte_lvl_mask(level) | S2TTE_NS_ATTR_MASK);
}

bool host_ns_s2tte_is_valid(uint64_t host_s2tte, int level)
{
	uint64_t mask = s2tte_lvl_mask(level) | S2TTE_NS_ATTR_MASK;
	if (host_s2tte & ~mask)
		return false;
	return (host_s2tte & S2TTE_MEMATTR_MASK) != S2TTE_MEMATTR_FWB_RESERVED;
}

/* ---- whole tables ---- */

void s2tt_init_fill(uint64_t *table, uint64_t entry)
{
	for (unsigned i = 0; i < S2TTES_PER_S2TT; i++)
		table[i] = entry;
}

void s2tt_init_assigned(uint64_t *table, enum ripas ripas, rmm_pa_t pa, int level)
{
	uint64_t sz = s2tte_map_size(level);
	for (unsigned i = 0; i < S2TTES_PER_S2TT; i++)
		table[i] = create_assigned(PA(pa.val + i * sz), level, ripas);
}

void s2tt_init_assigned_ns(uint64_t *table, uint64_t attrs, rmm_pa_t pa, int level)
{
	uint64_t sz = s2tte_map_size(level);
	attrs &= S2TTE_NS_ATTR_MASK;
	for (unsigned i = 0; i < S2TTES_PER_S2TT; i++)
		table[i] = s2tte_create_assigned_ns(attrs | (pa.val + i * sz), level);
}

bool s2tt_is_uniform(const uint64_t *table, bool (*pred)(uint64_t))
{
	for (unsigned i = 0; i < S2TTES_PER_S2TT; i++)
		if (!pred(table[i]))
			return false;
	return true;
}

bool s2tt_maps_block(const uint64_t *table, int level, bool (*pred)(uint64_t, int), bool ns_attrs)
{
	if (!pred(table[0], level))
		return false;
	uint64_t base = s2tte_pa(table[0], level).val;
	if (!s2tte_is_addr_lvl_aligned(base, level - 1))
		return false;
	uint64_t attrs = table[0] & S2TTE_NS_ATTR_MASK;
	uint64_t sz = s2tte_map_size(level);
	for (unsigned i = 1; i < S2TTES_PER_S2TT; i++) {
		if (!pred(table[i], level) || s2tte_pa(table[i], level).val != base + i * sz)
			return false;
		if (ns_attrs && (table[i] & S2TTE_NS_ATTR_MASK) != attrs)
			return false;
	}
	return true;
}

uint64_t s2tt_skip_non_live_entries(uint64_t ipa, const uint64_t *table, const struct s2tt_walk *wi)
{
	int level = wi->last_level;
	if (s2tte_is_live(table[wi->index], level))
		return ipa;
	uint64_t sz = s2tte_map_size(level);
	unsigned i;
	for (i = wi->index + 1; i < S2TTES_PER_S2TT; i++)
		if (s2tte_is_live(table[i], level))
			break;
	return (ipa & ~(sz - 1)) + (uint64_t)(i - wi->index) * sz;
}

void s2tt_invalidate(struct rmm *rmm, const struct s2tt_ctx *ctx, uint64_t ipa, uint64_t size)
{
	if (rmm->vcpu_ops && rmm->vcpu_ops->s2_invalidate)
		rmm->vcpu_ops->s2_invalidate(rmm->vcpu_ctx, ctx, ipa, size);
}

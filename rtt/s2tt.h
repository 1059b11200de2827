/*
 * rtt/ — Realm Translation Tables: VMSAv8-64 stage-2 descriptors (4 KiB granule) kept inside RTT
 * granules, with the RMM's encoding of HIPAS and RIPAS in invalid descriptors.
 *
 * Descriptor encodings (RMM 1.0 / TF-RMM):
 *   invalid:   bits[1:0] = 0, HIPAS in bits[4:2] (UNASSIGNED 0, ASSIGNED 1),
 *              RIPAS in bits[6:5] (EMPTY 0, RAM 1, DESTROYED 2), bit 55 (NS) set in the
 *              unprotected half. ASSIGNED invalid entries carry the output address.
 *   valid:     block (bits[1:0]=1, levels 1..2) or page (bits[1:0]=3, level 3);
 *              protected RAM: MemAttr normal WB (FWB), S2AP RW, SH inner, AF;
 *              unprotected: host's MemAttr/S2AP, plus AF, XN, NS (bit 55), SH inner.
 *   table:     bits[1:0] = 3 at levels 0..2, next-level RTT address.
 */
#ifndef RTT_S2TT_H
#define RTT_S2TT_H

#include <stdbool.h>
#include <stdint.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"

#define S2TT_MIN_IPA_BITS        32U
#define S2TT_MAX_IPA_BITS        48U
#define S2TT_MAX_PA_BITS         48U
#define S2TT_MIN_STARTING_LEVEL  0
#define S2TT_PAGE_LEVEL          3
#define S2TT_MIN_BLOCK_LEVEL     1
#define S2TTE_STRIDE             9U
#define S2TTES_PER_S2TT          512U
#define S2TT_MAX_CONCAT_TABLES   16U

/* HIPAS / RIPAS values (RMM 1.0) */
enum hipas { HIPAS_UNASSIGNED = 0, HIPAS_ASSIGNED = 1 };
enum ripas { RIPAS_EMPTY = 0, RIPAS_RAM = 1, RIPAS_DESTROYED = 2 };
enum ripas_change_destroyed { NO_CHANGE_DESTROYED = 0, CHANGE_DESTROYED = 1 };

#define S2TTE_DESC_TYPE_MASK     3ULL
#define S2TTE_INVALID            0ULL
#define S2TTE_BLOCK_TYPE         1ULL
#define S2TTE_TABLE_TYPE         3ULL
#define S2TTE_PAGE_TYPE          3ULL
#define S2TTE_HIPAS_SHIFT        2
#define S2TTE_HIPAS_MASK         (7ULL << S2TTE_HIPAS_SHIFT)
#define S2TTE_RIPAS_SHIFT        5
#define S2TTE_RIPAS_MASK         (3ULL << S2TTE_RIPAS_SHIFT)
#define S2TTE_NS                 (1ULL << 55)
#define S2TTE_AF                 (1ULL << 10)
#define S2TTE_XN                 (2ULL << 53)
#define S2TTE_MEMATTR_MASK       (7ULL << 2)
#define S2TTE_MEMATTR_FWB_NORMAL_WB ((1ULL << 4) | (2ULL << 2))
#define S2TTE_MEMATTR_FWB_RESERVED  (1ULL << 4)
#define S2TTE_AP_MASK            (3ULL << 6)
#define S2TTE_AP_RW              (3ULL << 6)
#define S2TTE_SH_MASK            (3ULL << 8)
#define S2TTE_SH_IS              (3ULL << 8)
#define S2TTE_NS_ATTR_MASK       (S2TTE_MEMATTR_MASK | S2TTE_AP_MASK)
#define S2TTE_ATTRS              (S2TTE_MEMATTR_FWB_NORMAL_WB | S2TTE_AP_RW | S2TTE_AF | S2TTE_SH_IS)
#define S2TTE_OA_BITS            48U

/* Size of the IPA range one entry at `level` maps. */
static inline uint64_t s2tte_map_size(int level)
{
	return 1ULL << (GRANULE_SHIFT + S2TTE_STRIDE * (unsigned)(S2TT_PAGE_LEVEL - level));
}

/* Result of a walk: the deepest table reached and the entry index in it. */
struct s2tt_walk {
	int last_level;
	rmm_pa_t table_pa;      /* RTT granule holding the entry */
	uint64_t *table;        /* host pointer to it */
	unsigned index;
};

/* Walk towards `level`, stopping where an entry is not a table. */
void s2tt_walk(struct rmm *rmm, const struct s2tt_ctx *ctx, rmm_ipa_t ipa, int level,
	       struct s2tt_walk *wi);

bool s2tte_is_addr_lvl_aligned(uint64_t addr, int level);
uint64_t s2tte_lvl_mask(int level);

/* Constructors */
uint64_t s2tte_create_unassigned_empty(void);
uint64_t s2tte_create_unassigned_ram(void);
uint64_t s2tte_create_unassigned_destroyed(void);
uint64_t s2tte_create_unassigned_ns(void);
uint64_t s2tte_create_assigned_empty(rmm_pa_t pa, int level);
uint64_t s2tte_create_assigned_ram(rmm_pa_t pa, int level);
uint64_t s2tte_create_assigned_destroyed(rmm_pa_t pa, int level);
uint64_t s2tte_create_assigned_unchanged(uint64_t old, rmm_pa_t pa, int level);
uint64_t s2tte_create_assigned_ns(uint64_t host_s2tte, int level);
uint64_t s2tte_create_table(rmm_pa_t pa);

/* Predicates */
bool s2tte_is_unassigned(uint64_t e);
bool s2tte_is_unassigned_empty(uint64_t e);
bool s2tte_is_unassigned_ram(uint64_t e);
bool s2tte_is_unassigned_destroyed(uint64_t e);
bool s2tte_is_unassigned_ns(uint64_t e);
bool s2tte_is_assigned_empty(uint64_t e, int level);
bool s2tte_is_assigned_ram(uint64_t e, int level);
bool s2tte_is_assigned_destroyed(uint64_t e, int level);
bool s2tte_is_assigned_ns(uint64_t e, int level);
bool s2tte_is_table(uint64_t e, int level);
bool s2tte_has_ripas(uint64_t e, int level);
bool s2tte_is_live(uint64_t e, int level);
enum ripas s2tte_get_ripas(uint64_t e);

/* Output address of an entry that has one (assigned, valid or table). */
rmm_pa_t s2tte_pa(uint64_t e, int level);
/* The host-visible part of an unprotected entry (address + MemAttr + S2AP). */
uint64_t host_ns_s2tte(uint64_t e, int level);
bool host_ns_s2tte_is_valid(uint64_t host_s2tte, int level);

/* Whole-table initialisers (512 entries) */
void s2tt_init_fill(uint64_t *table, uint64_t entry);
void s2tt_init_assigned(uint64_t *table, enum ripas ripas, rmm_pa_t pa, int level);
void s2tt_init_assigned_ns(uint64_t *table, uint64_t attrs, rmm_pa_t pa, int level);

/* Homogeneity checks for fold */
bool s2tt_is_uniform(const uint64_t *table, bool (*pred)(uint64_t));
bool s2tt_maps_block(const uint64_t *table, int level, bool (*pred)(uint64_t, int), bool ns_attrs);

/* First address after `ipa` (aligned down to the entry) whose entry in the same table is live;
 * or ipa itself when its own entry is live. */
uint64_t s2tt_skip_non_live_entries(uint64_t ipa, const uint64_t *table, const struct s2tt_walk *wi);

/* Stage-2 invalidation hook: a vCPU backend drops translations of [ipa, ipa+size). */
void s2tt_invalidate(struct rmm *rmm, const struct s2tt_ctx *ctx, uint64_t ipa, uint64_t size);

#endif

/* RMI_VERSION, RMI_FEATURES, RMI_REALM_CREATE / ACTIVATE / DESTROY */
#include <string.h>

#include "rmi/rmi.h"
#include "rmm/measure_hooks.h"
#include "rmm/realm.h"
#include "rtt/s2tt.h"

#define RMI_FEATURE_MIN_IPA_SIZE 32U

static uint64_t field(uint64_t reg, unsigned shift, unsigned width)
{
	return (reg >> shift) & ((1ULL << width) - 1);
}

void rmi_version(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	(void)rmm;
	res[0] = a[0] == RMI_ABI_VERSION ? RMI_SUCCESS : RMI_ERROR_INPUT;
	res[1] = RMI_ABI_VERSION;
	res[2] = RMI_ABI_VERSION;
}

void rmi_features(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	res[0] = RMI_SUCCESS;
	res[1] = a[0] == 0 ? rmm->feat_reg0 : 0;
}

/* RmiRealmParams as read from the host's granule. */
struct realm_params {
	uint64_t flags;
	unsigned s2sz, sve_vl, num_bps, num_wps, pmu_num_ctrs, hash_algo;
	uint8_t rpv[RMI_RPV_SIZE];
	unsigned vmid;
	uint64_t rtt_base;
	int64_t rtt_level_start;
	uint32_t rtt_num_start;
};

static uint64_t rd64(const uint8_t *p, unsigned off)
{
	uint64_t v;
	memcpy(&v, p + off, sizeof(v));
	return v;
}

static void parse_realm_params(const uint8_t *img, struct realm_params *p)
{
	p->flags = rd64(img, RMI_REALM_PARAMS_FLAGS);
	p->s2sz = img[RMI_REALM_PARAMS_S2SZ];
	p->sve_vl = img[RMI_REALM_PARAMS_SVE_VL];
	p->num_bps = img[RMI_REALM_PARAMS_NUM_BPS];
	p->num_wps = img[RMI_REALM_PARAMS_NUM_WPS];
	p->pmu_num_ctrs = img[RMI_REALM_PARAMS_PMU_NUM_CTRS];
	p->hash_algo = img[RMI_REALM_PARAMS_HASH_ALGO];
	memcpy(p->rpv, img + RMI_REALM_PARAMS_RPV, RMI_RPV_SIZE);
	p->vmid = (unsigned)(img[RMI_REALM_PARAMS_VMID] | (img[RMI_REALM_PARAMS_VMID + 1] << 8));
	p->rtt_base = rd64(img, RMI_REALM_PARAMS_RTT_BASE);
	p->rtt_level_start = (int64_t)rd64(img, RMI_REALM_PARAMS_RTT_LEVEL_START);
	uint32_t n;
	memcpy(&n, img + RMI_REALM_PARAMS_RTT_NUM_START, sizeof(n));
	p->rtt_num_start = n;
}

/* Modelled on the architecture's AArch64.S2InconsistentSL for a 4 KiB granule without LPA2. */
static bool s2_inconsistent_sl(unsigned ipa_bits, int sl)
{
	unsigned levels = (unsigned)(S2TT_PAGE_LEVEL - sl);
	unsigned min_bits = levels * S2TTE_STRIDE + GRANULE_SHIFT + 1;
	unsigned max_bits = min_bits + S2TTE_STRIDE - 1;
	if (sl > 0)
		max_bits += 4; /* up to 16 concatenated tables */
	return ipa_bits < min_bits || ipa_bits > max_bits;
}

static bool validate_ipa_bits_and_sl(const struct rmm *rmm, unsigned ipa_bits, int64_t sl)
{
	if (ipa_bits < S2TT_MIN_IPA_BITS || ipa_bits > S2TT_MAX_IPA_BITS)
		return false;
	if (sl < S2TT_MIN_STARTING_LEVEL || sl > S2TT_PAGE_LEVEL)
		return false;
	/* A starting level of 0 needs a PA range of at least 44 bits (AArch64.S2InvalidSL). */
	if (sl == 0 && rmm->cfg.pa_bits < 44)
		return false;
	return !s2_inconsistent_sl(ipa_bits, (int)sl);
}

static unsigned s2_num_root_rtts(unsigned ipa_bits, int sl)
{
	unsigned levels = (unsigned)(S2TT_PAGE_LEVEL - sl);
	unsigned sl_ipa_bits = levels * S2TTE_STRIDE + GRANULE_SHIFT + S2TTE_STRIDE;
	if (sl_ipa_bits >= ipa_bits)
		return 1;
	return 1U << (ipa_bits - sl_ipa_bits);
}

/* Validation of RmiRealmParams; on success the VMID is reserved. */
static bool validate_realm_params(struct rmm *rmm, const struct realm_params *p)
{
	uint64_t f = rmm->feat_reg0;

	if ((p->flags & RMI_REALM_FLAGS_LPA2) && !field(f, RMI_FEAT0_LPA2_SHIFT, 1))
		return false;
	if (p->s2sz < RMI_FEATURE_MIN_IPA_SIZE || p->s2sz > field(f, RMI_FEAT0_S2SZ_SHIFT, RMI_FEAT0_S2SZ_WIDTH))
		return false;
	/* Breakpoint and watchpoint counts: 0 is reserved. */
	if (p->num_bps == 0 || p->num_bps > field(f, RMI_FEAT0_NUM_BPS_SHIFT, RMI_FEAT0_NUM_BPS_WIDTH) ||
	    p->num_wps == 0 || p->num_wps > field(f, RMI_FEAT0_NUM_WPS_SHIFT, RMI_FEAT0_NUM_WPS_WIDTH))
		return false;
	if (p->flags & RMI_REALM_FLAGS_SVE) {
		if (!field(f, RMI_FEAT0_SVE_EN_SHIFT, 1))
			return false;
		if (p->sve_vl > field(f, RMI_FEAT0_SVE_VL_SHIFT, RMI_FEAT0_SVE_VL_WIDTH))
			return false;
	}
	if (p->flags & RMI_REALM_FLAGS_PMU) {
		if (!field(f, RMI_FEAT0_PMU_EN_SHIFT, 1))
			return false;
		if (p->pmu_num_ctrs > field(f, RMI_FEAT0_PMU_NUM_CTRS_SHIFT, RMI_FEAT0_PMU_NUM_CTRS_WIDTH))
			return false;
		if (p->pmu_num_ctrs == 0 && !rmm->cfg.feat_hpmn0)
			return false;
	}
	if (!validate_ipa_bits_and_sl(rmm, p->s2sz, p->rtt_level_start))
		return false;
	if (s2_num_root_rtts(p->s2sz, (int)p->rtt_level_start) != p->rtt_num_start)
		return false;
	if (p->hash_algo != RMI_HASH_SHA_256 && p->hash_algo != RMI_HASH_SHA_512)
		return false;
	return vmid_reserve(rmm, p->vmid);
}

/* Root RTT entries: protected half UNASSIGNED/EMPTY, unprotected half UNASSIGNED_NS. */
static void init_s2_starting_level(struct rmm *rmm, const struct rd *rd)
{
	uint64_t entry_size = s2tte_map_size(rd->s2.start_level);
	uint64_t ipa = 0;
	for (unsigned t = 0; t < rd->s2.num_root_rtts; t++) {
		uint64_t *tbl = granule_mem(rmm, PA(rd->s2.rtt_base.val + t * GRANULE_SIZE));
		for (unsigned i = 0; i < S2TTES_PER_S2TT; i++) {
			tbl[i] = addr_in_par(rd, ipa) ? s2tte_create_unassigned_empty()
						      : s2tte_create_unassigned_ns();
			ipa += entry_size;
			if (ipa == realm_ipa_size(rd))
				return;
		}
	}
}

void rmi_realm_create(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	rmm_pa_t rd_pa = PA(a[0]);
	uint8_t img[GRANULE_SIZE];
	struct realm_params p;
	struct gref g_rd, g_params;

	res[0] = RMI_ERROR_INPUT;
	if (!granule_find_state(rmm, PA(a[1]), GRANULE_STATE_UNDELEGATED, &g_params) ||
	    !ns_granule_read(rmm, PA(a[1]), img, GRANULE_SIZE))
		return;
	parse_realm_params(img, &p);
	if (!validate_realm_params(rmm, &p))
		return;

	/* The RD must not alias one of the starting-level RTTs. */
	uint64_t rtt_end = p.rtt_base + (uint64_t)p.rtt_num_start * GRANULE_SIZE;
	bool ok = !(rd_pa.val >= p.rtt_base && rd_pa.val < rtt_end);
	/* Every granule must be DELEGATED (checked in ascending address order, as locked). */
	if (ok && rd_pa.val < p.rtt_base)
		ok = granule_find_state(rmm, rd_pa, GRANULE_STATE_DELEGATED, &g_rd);
	for (uint32_t i = 0; ok && i < p.rtt_num_start; i++) {
		struct gref g;
		ok = granule_find_state(rmm, PA(p.rtt_base + i * GRANULE_SIZE), GRANULE_STATE_DELEGATED, &g);
	}
	if (ok && rd_pa.val > p.rtt_base)
		ok = granule_find_state(rmm, rd_pa, GRANULE_STATE_DELEGATED, &g_rd);
	if (!ok) {
		vmid_free(rmm, p.vmid);
		return;
	}

	struct rd *rd = g_rd.mem;
	memset(rd, 0, sizeof(*rd));
	rd->state = REALM_NEW;
	rd->rec_count = 0;
	rd->s2.rtt_base = PA(p.rtt_base);
	rd->s2.ipa_bits = p.s2sz;
	rd->s2.start_level = (int)p.rtt_level_start;
	rd->s2.num_root_rtts = p.rtt_num_start;
	rd->s2.lpa2 = false;
	rd->s2.vmid = p.vmid;
	memcpy(rd->rpv, p.rpv, RMI_RPV_SIZE);
	rd->num_rec_aux = RMI_MAX_REC_AUX_GRANULES;
	rd->sve_en = (p.flags & RMI_REALM_FLAGS_SVE) != 0;
	rd->sve_vl = rd->sve_en ? p.sve_vl : 0;
	rd->pmu_en = (p.flags & RMI_REALM_FLAGS_PMU) != 0;
	rd->pmu_num_ctrs = p.pmu_num_ctrs;
	rd->num_bps = p.num_bps;
	rd->num_wps = p.num_wps;
	rd->algorithm = p.hash_algo == RMI_HASH_SHA_256 ? HASH_SHA_256 : HASH_SHA_512;

	init_s2_starting_level(rmm, rd);
	measurement_realm_params_measure(rd, img);

	granule_set_state(rmm, &g_rd, GRANULE_STATE_RD);
	for (uint32_t i = 0; i < p.rtt_num_start; i++) {
		struct gref g;
		granule_find(rmm, PA(p.rtt_base + i * GRANULE_SIZE), &g);
		granule_set_state(rmm, &g, GRANULE_STATE_RTT);
	}
	res[0] = RMI_SUCCESS;
}

void rmi_realm_activate(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g_rd;

	if (!granule_find_state(rmm, PA(a[0]), GRANULE_STATE_RD, &g_rd)) {
		res[0] = RMI_ERROR_INPUT;
		return;
	}
	struct rd *rd = g_rd.mem;
	if (rd->state != REALM_NEW) {
		res[0] = RMI_ERROR_REALM;
		return;
	}
	rd->state = REALM_ACTIVE;
	rmm_event_realm_state(rmm, g_rd.pa, REALM_NEW, REALM_ACTIVE);
	res[0] = RMI_SUCCESS;
}

void rmi_realm_destroy(struct rmm *rmm, const uint64_t a[6], uint64_t res[5])
{
	struct gref g_rd;

	/* Live RECs hold references on the RD. */
	int found = granule_find_unused(rmm, PA(a[0]), GRANULE_STATE_RD, &g_rd);
	if (found) {
		res[0] = found < 0 ? RMI_ERROR_INPUT : RMI_ERROR_REALM;
		return;
	}
	struct rd *rd = g_rd.mem;
	unsigned live = 0;
	for (unsigned i = 0; i < rd->s2.num_root_rtts; i++)
		live += granule_meta(rmm, PA(rd->s2.rtt_base.val + i * GRANULE_SIZE))->refcount;
	if (live != 0) {
		res[0] = RMI_ERROR_REALM;
		return;
	}
	vmid_free(rmm, rd->s2.vmid);
	for (unsigned i = 0; i < rd->s2.num_root_rtts; i++) {
		struct gref g;
		granule_find(rmm, PA(rd->s2.rtt_base.val + i * GRANULE_SIZE), &g);
		granule_zero(&g);
		granule_set_state(rmm, &g, GRANULE_STATE_DELEGATED);
	}
	/* Scrubbing the RD also destroys the realm's measurements. */
	granule_zero(&g_rd);
	granule_set_state(rmm, &g_rd, GRANULE_STATE_DELEGATED);
	res[0] = RMI_SUCCESS;
}

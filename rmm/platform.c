/*
 * Simulated platform: sparse DRAM ranges made of 4 KiB granules, each with its physical address
 * space (the GPT model) and its RMM granule state; device ranges and holes are not memory.
 */
#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"
#include "attest/token.h"

void rmmemu_platform_default(struct rmmemu_platform_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->dram[0] = (struct rmmemu_range){ 0x80000000ULL, 2ULL << 30 };
	cfg->num_dram = 1;
	cfg->device[0] = (struct rmmemu_range){ 0x0ULL, 0x40000000ULL };
	cfg->num_device = 1;
	cfg->pa_bits = 48;
	cfg->num_bps = 5;       /* 6 breakpoints (Cortex-A72) */
	cfg->num_wps = 3;       /* 4 watchpoints */
	cfg->pmu = true;
	cfg->pmu_num_ctrs = 6;
	cfg->feat_hpmn0 = false;
	cfg->sve = false;
	cfg->sve_vl = 0;
	cfg->gicv3_num_lrs = 15;
	cfg->vmid16 = true;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
{
	if (!err || !len)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

static bool ranges_overlap(const struct rmmemu_range *a, const struct rmmemu_range *b)
{
	return a->base < b->base + b->size && b->base < a->base + a->size;
}

static bool range_ok(const struct rmmemu_range *r, unsigned pa_bits)
{
	if (r->size == 0 || !granule_aligned(r->base) || !granule_aligned(r->size))
		return false;
	if (r->base + r->size < r->base)
		return false;
	return pa_bits >= 64 || r->base + r->size <= (1ULL << pa_bits);
}

static bool pa_bits_ok(unsigned b)
{
	return b == 32 || b == 36 || b == 40 || b == 42 || b == 44 || b == 48 || b == 52;
}

static int mark_pas(struct rmm *rmm, const struct rmmemu_range *r, unsigned n, enum rmmemu_pas pas,
		    const char *what, char *err, size_t errlen)
{
	for (unsigned i = 0; i < n; i++) {
		/* Whole granules only: a partial granule would otherwise be rounded up silently. */
		if (!range_ok(&r[i], rmm->cfg.pa_bits)) {
			set_err(err, errlen, "%s range %u [0x%llx, +0x%llx) must be non-empty and 4 KiB aligned",
				what, i, (unsigned long long)r[i].base, (unsigned long long)r[i].size);
			return RMMEMU_E_INVAL;
		}
		for (uint64_t a = r[i].base; a < r[i].base + r[i].size; a += GRANULE_SIZE) {
			struct gref ref;
			if (!granule_find(rmm, PA(a), &ref)) {
				set_err(err, errlen, "%s range [0x%llx, 0x%llx) is not inside DRAM", what,
					(unsigned long long)r[i].base,
					(unsigned long long)(r[i].base + r[i].size));
				return RMMEMU_E_INVAL;
			}
			/* A granule has one PAS: secure and root ranges must not overlap. */
			if (ref.g->pas != RMMEMU_PAS_NONSECURE) {
				set_err(err, errlen, "%s range [0x%llx, 0x%llx) overlaps another secure or root range",
					what, (unsigned long long)r[i].base,
					(unsigned long long)(r[i].base + r[i].size));
				return RMMEMU_E_INVAL;
			}
			ref.g->pas = (uint8_t)pas;
		}
	}
	return RMMEMU_OK;
}

int rmm_platform_init(struct rmm *rmm, const struct rmmemu_platform_config *cfg, char *err,
		      size_t errlen)
{
	memset(rmm, 0, sizeof(*rmm));
	rmm->cfg = *cfg;
	if (!pa_bits_ok(cfg->pa_bits)) {
		set_err(err, errlen, "pa_bits %u is not a PARange width (32,36,40,42,44,48,52)", cfg->pa_bits);
		return RMMEMU_E_INVAL;
	}
	if (cfg->num_dram == 0 || cfg->num_dram > RMMEMU_MAX_RANGES || cfg->num_device > RMMEMU_MAX_RANGES ||
	    cfg->num_secure > RMMEMU_MAX_RANGES || cfg->num_root > RMMEMU_MAX_RANGES) {
		set_err(err, errlen, "need 1..%d DRAM ranges and at most %d of each other kind",
			RMMEMU_MAX_RANGES, RMMEMU_MAX_RANGES);
		return RMMEMU_E_INVAL;
	}
	if (cfg->num_bps < 1 || cfg->num_bps > 63 || cfg->num_wps < 1 || cfg->num_wps > 63 ||
	    cfg->pmu_num_ctrs > 31 || cfg->sve_vl > 15 || cfg->gicv3_num_lrs > 15) {
		set_err(err, errlen, "feature value out of range (num_bps/num_wps 1..63, pmu_num_ctrs 0..31, "
			"sve_vl 0..15, gicv3_num_lrs 0..15)");
		return RMMEMU_E_INVAL;
	}
	const struct rmmemu_range *all[2] = { cfg->dram, cfg->device };
	unsigned counts[2] = { cfg->num_dram, cfg->num_device };
	for (unsigned k = 0; k < 2; k++) {
		for (unsigned i = 0; i < counts[k]; i++) {
			if (!range_ok(&all[k][i], cfg->pa_bits)) {
				set_err(err, errlen, "%s range %u [0x%llx, +0x%llx) must be non-empty, "
					"4 KiB aligned and below 2^%u", k ? "device" : "DRAM", i,
					(unsigned long long)all[k][i].base, (unsigned long long)all[k][i].size,
					cfg->pa_bits);
				return RMMEMU_E_INVAL;
			}
			for (unsigned k2 = 0; k2 < 2; k2++)
				for (unsigned j = 0; j < counts[k2]; j++) {
					if ((k2 == k && j == i) || (k2 < k) || (k2 == k && j < i))
						continue;
					if (ranges_overlap(&all[k][i], &all[k2][j])) {
						set_err(err, errlen, "memory ranges overlap: [0x%llx, +0x%llx) and [0x%llx, +0x%llx)",
							(unsigned long long)all[k][i].base, (unsigned long long)all[k][i].size,
							(unsigned long long)all[k2][j].base, (unsigned long long)all[k2][j].size);
						return RMMEMU_E_INVAL;
					}
				}
		}
	}

	for (unsigned i = 0; i < cfg->num_dram; i++) {
		struct dram_region *d = &rmm->dram[i];
		d->base = cfg->dram[i].base;
		d->size = cfg->dram[i].size;
		d->mem = mmap(NULL, d->size, PROT_READ | PROT_WRITE,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		size_t meta_size = (d->size >> GRANULE_SHIFT) * sizeof(struct granule);
		d->meta = mmap(NULL, meta_size, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		rmm->ndram = i + 1;
		if (d->mem == MAP_FAILED || d->meta == MAP_FAILED) {
			if (d->mem == MAP_FAILED)
				d->mem = NULL;
			if (d->meta == MAP_FAILED)
				d->meta = NULL;
			set_err(err, errlen, "cannot reserve %llu bytes of simulated DRAM: %s",
				(unsigned long long)d->size, strerror(errno));
			rmm_platform_fini(rmm);
			return RMMEMU_E_SYS;
		}
	}
	int rc = mark_pas(rmm, cfg->secure, cfg->num_secure, RMMEMU_PAS_SECURE, "secure", err, errlen);
	if (rc == RMMEMU_OK)
		rc = mark_pas(rmm, cfg->root, cfg->num_root, RMMEMU_PAS_ROOT, "root", err, errlen);
	if (rc != RMMEMU_OK) {
		rmm_platform_fini(rmm);
		return rc;
	}
	rmm->feat_reg0 = rmm_feature_register_0(cfg);
	pthread_mutex_init(&rmm->lock, NULL);
	pthread_mutex_init(&rmm->ops_lock, NULL);
	return RMMEMU_OK;
}

void rmm_platform_fini(struct rmm *rmm)
{
	attest_platform_free(rmm->attest);
	rmm->attest = NULL;
	for (unsigned i = 0; i < rmm->ndram; i++) {
		struct dram_region *d = &rmm->dram[i];
		if (d->mem)
			munmap(d->mem, d->size);
		if (d->meta)
			munmap(d->meta, (d->size >> GRANULE_SHIFT) * sizeof(struct granule));
		d->mem = NULL;
		d->meta = NULL;
	}
	rmm->ndram = 0;
}

static struct dram_region *find_region(struct rmm *rmm, uint64_t pa)
{
	for (unsigned i = 0; i < rmm->ndram; i++) {
		struct dram_region *d = &rmm->dram[i];
		if (pa - d->base < d->size)
			return d;
	}
	return NULL;
}

bool granule_find(struct rmm *rmm, rmm_pa_t pa, struct gref *ref)
{
	if (!granule_aligned(pa.val))
		return false;
	struct dram_region *d = find_region(rmm, pa.val);
	if (!d)
		return false;
	uint64_t off = pa.val - d->base;
	ref->g = &d->meta[off >> GRANULE_SHIFT];
	ref->pa = pa;
	ref->mem = d->mem + off;
	return true;
}

bool granule_find_state(struct rmm *rmm, rmm_pa_t pa, granule_state_t state, struct gref *ref)
{
	return granule_find(rmm, pa, ref) && ref->g->state == state;
}

bool granule_find_two(struct rmm *rmm, rmm_pa_t pa1, granule_state_t s1, struct gref *r1,
		      rmm_pa_t pa2, granule_state_t s2, struct gref *r2)
{
	if (pa1.val == pa2.val)
		return false;
	/* Checked in ascending address order, as the RMM locks them. */
	if (pa1.val < pa2.val)
		return granule_find_state(rmm, pa1, s1, r1) && granule_find_state(rmm, pa2, s2, r2);
	return granule_find_state(rmm, pa2, s2, r2) && granule_find_state(rmm, pa1, s1, r1);
}

int granule_find_unused(struct rmm *rmm, rmm_pa_t pa, granule_state_t state, struct gref *ref)
{
	if (!granule_find_state(rmm, pa, state, ref))
		return -1;
	return ref->g->refcount != 0 ? 1 : 0;
}

/* A granule the RMM itself tracks (an RTT from a table entry, a REC's RD): a miss is an RMM bug, and
 * with NDEBUG it must still not hand back an unset reference. */
static void granule_find_known(struct rmm *rmm, rmm_pa_t pa, struct gref *ref)
{
	bool ok = granule_find(rmm, pa, ref);
	assert(ok);
	if (!ok)
		abort();
}

void *granule_mem(struct rmm *rmm, rmm_pa_t pa)
{
	struct gref ref;
	granule_find_known(rmm, pa, &ref);
	return ref.mem;
}

struct granule *granule_meta(struct rmm *rmm, rmm_pa_t pa)
{
	struct gref ref;
	granule_find_known(rmm, pa, &ref);
	return ref.g;
}

void granule_set_state(struct rmm *rmm, struct gref *ref, granule_state_t state)
{
	if (rmm->trace && (rmm->trace_flags & RMMEMU_TRACE_STATE) && ref->g->state != state)
		rmm_trace(rmm, RMMEMU_TRACE_STATE, "    granule 0x%llx: %s -> %s\n",
			  (unsigned long long)ref->pa.val, rmmemu_granule_state_name(ref->g->state),
			  rmmemu_granule_state_name(state));
	if (rmm->event_fn && ref->g->state != state) {
		struct rmmemu_event ev = { .kind = RMMEMU_EV_GRANULE, .addr = ref->pa.val,
					   .from = ref->g->state, .to = (unsigned)state };
		rmm_event(rmm, &ev);
	}
	ref->g->state = (uint8_t)state;
}

void rmm_event_realm_state(struct rmm *rmm, rmm_pa_t rd, unsigned from, unsigned to)
{
	static const char *const names[] = { "NEW", "ACTIVE", "SYSTEM_OFF" };
	rmm_trace(rmm, RMMEMU_TRACE_STATE, "    realm 0x%llx: %s -> %s\n", (unsigned long long)rd.val,
		  from < 3 ? names[from] : "?", to < 3 ? names[to] : "?");
	struct rmmemu_event ev = { .kind = RMMEMU_EV_REALM_STATE, .addr = rd.val, .from = from, .to = to };
	rmm_event(rmm, &ev);
}

void granule_zero(struct gref *ref)
{
	memset(ref->mem, 0, GRANULE_SIZE);
}

bool ns_granule_read(struct rmm *rmm, rmm_pa_t pa, void *buf, size_t len)
{
	struct gref ref;
	assert(len <= GRANULE_SIZE);
	if (!granule_find(rmm, pa, &ref) || ref.g->pas != RMMEMU_PAS_NONSECURE)
		return false;
	memcpy(buf, ref.mem, len);
	return true;
}

bool ns_granule_write(struct rmm *rmm, rmm_pa_t pa, size_t off, const void *buf, size_t len)
{
	struct gref ref;
	assert(off + len <= GRANULE_SIZE);
	if (!granule_find(rmm, pa, &ref) || ref.g->pas != RMMEMU_PAS_NONSECURE)
		return false;
	memcpy((uint8_t *)ref.mem + off, buf, len);
	return true;
}

/* The EL3 monitor's Granule Transition Service: NS <-> Realm only. */
bool gtsi_delegate(struct rmm *rmm, struct gref *ref)
{
	(void)rmm;
	if (ref->g->pas != RMMEMU_PAS_NONSECURE)
		return false;
	ref->g->pas = RMMEMU_PAS_REALM;
	return true;
}

void gtsi_undelegate(struct rmm *rmm, struct gref *ref)
{
	(void)rmm;
	assert(ref->g->pas == RMMEMU_PAS_REALM);
	ref->g->pas = RMMEMU_PAS_NONSECURE;
}

bool vmid_reserve(struct rmm *rmm, unsigned vmid)
{
	unsigned count = rmm->cfg.vmid16 ? 65536U : 256U;
	if (vmid >= count)
		return false;
	uint64_t bit = 1ULL << (vmid % 64);
	if (rmm->vmids[vmid / 64] & bit)
		return false;
	rmm->vmids[vmid / 64] |= bit;
	return true;
}

void vmid_free(struct rmm *rmm, unsigned vmid)
{
	rmm->vmids[vmid / 64] &= ~(1ULL << (vmid % 64));
}

uint64_t rmm_feature_register_0(const struct rmmemu_platform_config *cfg)
{
	uint64_t r = (uint64_t)cfg->pa_bits << RMI_FEAT0_S2SZ_SHIFT;
	/* LPA2 is not offered: bit 8 stays 0. */
	if (cfg->sve) {
		r |= 1ULL << RMI_FEAT0_SVE_EN_SHIFT;
		r |= (uint64_t)cfg->sve_vl << RMI_FEAT0_SVE_VL_SHIFT;
	}
	r |= (uint64_t)cfg->num_bps << RMI_FEAT0_NUM_BPS_SHIFT;
	r |= (uint64_t)cfg->num_wps << RMI_FEAT0_NUM_WPS_SHIFT;
	if (cfg->pmu) {
		r |= 1ULL << RMI_FEAT0_PMU_EN_SHIFT;
		r |= (uint64_t)cfg->pmu_num_ctrs << RMI_FEAT0_PMU_NUM_CTRS_SHIFT;
	}
	r |= 1ULL << RMI_FEAT0_HASH_SHA_256_SHIFT;
	r |= 1ULL << RMI_FEAT0_HASH_SHA_512_SHIFT;
	r |= (uint64_t)cfg->gicv3_num_lrs << RMI_FEAT0_GICV3_NUM_LRS_SHIFT;
	r |= (uint64_t)GRN_REFCOUNT_WIDTH << RMI_FEAT0_MAX_RECS_ORDER_SHIFT;
	return r;
}

void rmm_trace(struct rmm *rmm, unsigned flag, const char *fmt, ...)
{
	if (!rmm->trace || !(rmm->trace_flags & flag))
		return;
	va_list ap;
	va_start(ap, fmt);
	vfprintf(rmm->trace, fmt, ap);
	va_end(ap);
}

void rmm_limit_s2sz(struct rmm *rmm, unsigned bits)
{
	uint64_t f = rmm_feature_register_0(&rmm->cfg);
	uint64_t mask = ((1ULL << RMI_FEAT0_S2SZ_WIDTH) - 1) << RMI_FEAT0_S2SZ_SHIFT;
	if (bits && bits < rmm->cfg.pa_bits)
		f = (f & ~mask) | ((uint64_t)bits << RMI_FEAT0_S2SZ_SHIFT);
	rmm->feat_reg0 = f;
}

void rmm_set_vcpu_ops(struct rmm *rmm, const struct rmm_vcpu_ops *ops, void *ctx)
{
	pthread_mutex_lock(&rmm->ops_lock);
	rmm->vcpu_ops = ops;
	rmm->vcpu_ctx = ctx;
	pthread_mutex_unlock(&rmm->ops_lock);
}

const char *rmmemu_granule_state_name(enum rmmemu_granule_state s)
{
	static const char *const names[] = { "UNDELEGATED", "DELEGATED", "RD", "REC",
					     "REC_AUX", "DATA", "RTT" };
	return (unsigned)s < RMMEMU_GRANULE_NUM_STATES ? names[s] : "?";
}

const char *rmmemu_pas_name(enum rmmemu_pas p)
{
	static const char *const names[] = { "NS", "REALM", "SECURE", "ROOT" };
	return (unsigned)p <= RMMEMU_PAS_ROOT ? names[p] : "?";
}

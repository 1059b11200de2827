/*
 * rmm/ — the core of rmmemu: simulated physical memory (granules with their PAS and RMM state),
 * realm (RD) and REC objects, the SMC dispatcher. Knows nothing of Unicorn.
 */
#ifndef RMM_RMM_H
#define RMM_RMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "rmmemu/rmmemu.h"

#define GRANULE_SHIFT 12
#define GRANULE_SIZE  (1ULL << GRANULE_SHIFT)
#define GRANULE_MASK  (GRANULE_SIZE - 1)

/* Typed addresses: a physical address and an intermediate physical address cannot be mixed. */
typedef struct { uint64_t val; } rmm_pa_t;
typedef struct { uint64_t val; } rmm_ipa_t;
static inline rmm_pa_t PA(uint64_t v) { return (rmm_pa_t){ v }; }
static inline rmm_ipa_t IPA(uint64_t v) { return (rmm_ipa_t){ v }; }
static inline bool granule_aligned(uint64_t a) { return (a & GRANULE_MASK) == 0; }

typedef enum rmmemu_granule_state granule_state_t;
#define GRANULE_STATE_UNDELEGATED RMMEMU_GRANULE_UNDELEGATED
#define GRANULE_STATE_DELEGATED   RMMEMU_GRANULE_DELEGATED
#define GRANULE_STATE_RD          RMMEMU_GRANULE_RD
#define GRANULE_STATE_REC         RMMEMU_GRANULE_REC
#define GRANULE_STATE_REC_AUX     RMMEMU_GRANULE_REC_AUX
#define GRANULE_STATE_DATA        RMMEMU_GRANULE_DATA
#define GRANULE_STATE_RTT         RMMEMU_GRANULE_RTT

/* Per-granule metadata: 4 bytes, zero = UNDELEGATED in the non-secure PAS. */
struct granule {
	uint8_t state;
	uint8_t pas;
	uint16_t refcount;
};

/* Width of the refcount field as the RMM reports it (MAX_RECS_ORDER). */
#define GRN_REFCOUNT_WIDTH 10
#define REFCOUNT_MAX       ((1U << GRN_REFCOUNT_WIDTH) - 1U)

struct dram_region {
	uint64_t base, size;
	uint8_t *mem;           /* host mapping of the region (MAP_NORESERVE) */
	struct granule *meta;   /* one entry per granule (MAP_NORESERVE) */
};

/* A granule found by address: metadata, address and host pointer to its contents. */
struct gref {
	struct granule *g;
	rmm_pa_t pa;
	void *mem;
};

struct rmm_vcpu_ops;
struct attest_platform;

struct rmm {
	struct rmmemu_platform_config cfg;
	struct dram_region dram[RMMEMU_MAX_RANGES];
	unsigned ndram;
	uint64_t feat_reg0;
	uint64_t vmids[65536 / 64];
	pthread_mutex_t lock;
	/* Guards vcpu_ops/vcpu_ctx for rmmemu_vcpu_kick, which may not wait for `lock` (held by a
	 * running REC_ENTER). Taken after `lock` when both are. */
	pthread_mutex_t ops_lock;
	FILE *trace;
	unsigned trace_flags;
	struct {
		uint64_t fid, x0;
		unsigned skip, count;
	} inject[RMMEMU_MAX_INJECTIONS];
	struct attest_platform *attest;   /* created on the first attestation token */
	unsigned irq_skip, irq_count;     /* forced IRQ exits (fault injection) */
	unsigned sea_skip, sea_count;     /* SEAs injected on entry (fault injection) */
	rmmemu_event_fn event_fn;
	void *event_ctx;
	const struct rmm_vcpu_ops *vcpu_ops;
	void *vcpu_ctx;
};

/* The core behind a public instance (tests and in-tree layers only). */
struct rmm *rmmemu_core(struct rmmemu *emu);

/* ---- platform / granules (rmm/platform.c, rmm/granule.c) ---- */
int rmm_platform_init(struct rmm *rmm, const struct rmmemu_platform_config *cfg,
		      char *err, size_t errlen);
void rmm_platform_fini(struct rmm *rmm);

/* Lookup by address: false when unaligned or not DRAM. */
bool granule_find(struct rmm *rmm, rmm_pa_t pa, struct gref *ref);
/* Lookup and require a state (models TF-RMM's find_lock_granule). */
bool granule_find_state(struct rmm *rmm, rmm_pa_t pa, granule_state_t state, struct gref *ref);
/* Two distinct granules in given states (false if equal addresses or either check fails). */
bool granule_find_two(struct rmm *rmm, rmm_pa_t pa1, granule_state_t s1, struct gref *r1,
		      rmm_pa_t pa2, granule_state_t s2, struct gref *r2);
/* A granule in `state` that nobody holds a reference on (TF-RMM's find_lock_unused_granule):
 * 0 found, -1 not such a granule, 1 in use (refcount != 0). */
int granule_find_unused(struct rmm *rmm, rmm_pa_t pa, granule_state_t state, struct gref *ref);
void granule_set_state(struct rmm *rmm, struct gref *ref, granule_state_t state);
void granule_zero(struct gref *ref);
/* Host pointer to a granule already known to be valid (asserts; aborts when built with NDEBUG). */
void *granule_mem(struct rmm *rmm, rmm_pa_t pa);
struct granule *granule_meta(struct rmm *rmm, rmm_pa_t pa);

static inline void granule_get(struct gref *r) { r->g->refcount++; }
static inline void granule_put(struct gref *r) { r->g->refcount--; }
static inline void granule_refcount_add(struct granule *g, unsigned n) { g->refcount = (uint16_t)(g->refcount + n); }
static inline void granule_refcount_sub(struct granule *g, unsigned n) { g->refcount = (uint16_t)(g->refcount - n); }

/* Read a whole NS granule the way the RMM does (false if not an NS granule of DRAM). */
bool ns_granule_read(struct rmm *rmm, rmm_pa_t pa, void *buf, size_t len);
bool ns_granule_write(struct rmm *rmm, rmm_pa_t pa, size_t off, const void *buf, size_t len);

/* GPT model: transitions between PAS done by the (simulated) EL3 monitor. */
bool gtsi_delegate(struct rmm *rmm, struct gref *ref);
void gtsi_undelegate(struct rmm *rmm, struct gref *ref);

/* ---- VMIDs ---- */
bool vmid_reserve(struct rmm *rmm, unsigned vmid);
void vmid_free(struct rmm *rmm, unsigned vmid);

/* ---- features ---- */
uint64_t rmm_feature_register_0(const struct rmmemu_platform_config *cfg);
/* FeatureRegister0.S2SZ (the widest IPA REALM_CREATE accepts) lowered to bits when the platform's
 * PA width is larger (the vCPU backend's CPU model has a narrower PA range); 0 restores the
 * platform's. Caller holds rmm->lock. */
void rmm_limit_s2sz(struct rmm *rmm, unsigned bits);

/* ---- events ---- */
static inline void rmm_event(struct rmm *rmm, const struct rmmemu_event *ev)
{
	if (rmm->event_fn)
		rmm->event_fn(rmm->event_ctx, ev);
}
void rmm_event_realm_state(struct rmm *rmm, rmm_pa_t rd, unsigned from, unsigned to);

/* ---- trace ---- */
void rmm_trace(struct rmm *rmm, unsigned flag, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif

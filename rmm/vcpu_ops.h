/*
 * The interface between the RMM core and a vCPU backend (emu/). The core calls run() from
 * RMI_REC_ENTER once every entry check has passed and the entry state has been applied to the
 * REC; the backend runs realm code until a REC exit and fills the RmiRecExit image.
 * Without a backend, REC_ENTER produces a well-defined exit (see rmi/rec_enter.c).
 */
#ifndef RMM_VCPU_OPS_H
#define RMM_VCPU_OPS_H

#include <stdint.h>

#include "rmm/realm.h"

struct rec_exit_image {
	uint8_t bytes[RMI_REC_EXIT_SIZE];
};

static inline void rec_exit_put64(struct rec_exit_image *x, unsigned off, uint64_t v)
{
	__builtin_memcpy(&x->bytes[off - RMI_REC_EXIT_BASE], &v, sizeof(v));
}

static inline uint64_t rec_exit_get64(const struct rec_exit_image *x, unsigned off)
{
	uint64_t v;
	__builtin_memcpy(&v, &x->bytes[off - RMI_REC_EXIT_BASE], sizeof(v));
	return v;
}

struct rmm_vcpu_ops {
	/* Run the REC until it exits to the host; write the exit into `exit`. Called with rmm->lock
	 * held and the REC in use (its refcount); the backend may release the lock while realm code
	 * runs (other RMI calls and RECs go on meanwhile) and holds it again when it returns. */
	void (*run)(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa,
		    struct rec_exit_image *exit);
	/* Stage-2 mappings of a realm changed in [ipa, ipa + size): drop cached translations in every
	 * vCPU of the realm before returning (a TLB shootdown: the caller may scrub the granule next). */
	void (*s2_invalidate)(void *ctx, const struct s2tt_ctx *s2, uint64_t ipa, uint64_t size);
	/* DATA_DESTROY scrubbed the realm's DATA granule at pa behind the vCPU's back: code translated
	 * from it must not run again (the granule may come back at any IPA with other contents). */
	void (*data_destroyed)(void *ctx, const struct s2tt_ctx *s2, rmm_pa_t pa);
	/* A REC is being destroyed: release its backend state. */
	void (*rec_destroy)(void *ctx, struct rec *rec);
	/* The RMM instance is being destroyed: release the backend (may be NULL). */
	void (*fini)(void *ctx);
};

void rmm_set_vcpu_ops(struct rmm *rmm, const struct rmm_vcpu_ops *ops, void *ctx);

/* rmmemu_debug_realm_smc keeping the RmiRecExit the call produces (zeroed if it produced none), for
 * the console, which writes it into the REC's RecRun (rmm/debug.c). */
int rmm_debug_realm_smc(struct rmm *rmm, uint64_t rec_pa, uint64_t x[RMMEMU_REALM_SMC_REGS],
			struct rec_exit_image *exit, int *exit_reason);

#endif

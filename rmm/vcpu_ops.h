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

struct rmm_vcpu_ops {
	/* Run the REC until it exits to the host; write the exit into `exit`. */
	void (*run)(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa,
		    struct rec_exit_image *exit);
	/* Stage-2 mappings of a realm changed in [ipa, ipa + size): drop cached translations. */
	void (*s2_invalidate)(void *ctx, const struct s2tt_ctx *s2, uint64_t ipa, uint64_t size);
	/* A REC is being destroyed: release its backend state. */
	void (*rec_destroy)(void *ctx, struct rec *rec);
};

void rmm_set_vcpu_ops(struct rmm *rmm, const struct rmm_vcpu_ops *ops, void *ctx);

#endif

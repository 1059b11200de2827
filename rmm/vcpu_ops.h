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

/*
 * Stage-2 data aborts taken from the realm (rmm/abort.c): the RMM's rules, for a backend that
 * raises the abort and for the console's realm_access. esr, far, hpfar: ESR_EL2, FAR_EL2 and
 * HPFAR_EL2 as the abort was taken.
 */
enum rmm_dabort_kind {
	RMM_DABORT_EXTERNAL,    /* an SEA reported by the memory system: exit, ESR only */
	RMM_DABORT_INJECT_SEA,  /* outside the IPA space or RIPAS EMPTY: the realm takes an SEA, no exit */
	RMM_DABORT_PROTECTED,   /* protected IPA (RIPAS RAM or DESTROYED): exit, restricted ESR, HPFAR */
	RMM_DABORT_UNPROTECTED, /* unprotected IPA: exit, ESR with the access syndrome, FAR[11:0], HPFAR */
};
/* Walks the realm's RTTs: rmm->lock held. */
enum rmm_dabort_kind rmm_dabort_classify(struct rmm *rmm, const struct rec *rec, uint64_t esr, uint64_t hpfar);
/* The RMI_EXIT_SYNC for an abort of any kind but INJECT_SEA, and the REC's last_run_info (what the
 * next REC_ENTER completes). xt: the value of register ESR.SRT (the data of an emulatable write). */
void rmm_dabort_exit(struct rec *rec, enum rmm_dabort_kind kind, uint64_t esr, uint64_t far, uint64_t hpfar,
		     uint64_t xt, struct rec_exit_image *exit);
/* ESR_EL1 of the SEA injected for an abort with syndrome esr_el2 taken from EL0 or EL1. */
uint64_t rmm_sea_esr_el1(uint64_t esr_el2, bool from_el0);
/* Deliver that SEA to a REC that is not running (its saved state): ESR/FAR/ELR/SPSR_EL1, PSTATE
 * EL1h with DAIF masked, PC at the synchronous vector of VBAR_EL1. */
void rmm_rec_inject_sea(struct rec *rec, uint64_t esr_el2, uint64_t far);

/* rmmemu_debug_realm_smc keeping the RmiRecExit the call produces (zeroed if it produced none), for
 * the console, which writes it into the REC's RecRun (rmm/debug.c). */
int rmm_debug_realm_smc(struct rmm *rmm, uint64_t rec_pa, uint64_t x[RMMEMU_REALM_SMC_REGS],
			struct rec_exit_image *exit, int *exit_reason);

/* The console's realm_access (rmm/debug.c): the REC performs one data access as a realm with its
 * stage-1 MMU off would (VA = IPA), `LDR/STR{B,H} Wt|Xt, [Xn]` with t = a->rt: through stage 2,
 * with the RMM's handling of a stage-2 fault (rmm_dabort_*). */
struct rmm_debug_access {
	uint64_t ipa;
	unsigned size;          /* 1, 2, 4, 8 */
	unsigned rt;            /* 0..31 (31: WZR/XZR) */
	bool write;
	uint64_t value;         /* in: the data of a write (Xt takes it first); out: the data of a read */
	/* out */
	enum { RMM_ACCESS_DONE, RMM_ACCESS_EXIT, RMM_ACCESS_SEA } outcome;
	uint64_t esr, far, hpfar;   /* the abort as taken to EL2 (EXIT and SEA) */
	uint64_t pa;                /* DONE: the PA accessed */
	bool ns;                    /* DONE: through an unprotected IPA to non-secure memory */
};
enum rmm_debug_access_err {
	RMM_ACCESS_OK = 0,
	RMM_ACCESS_E_NOT_REC,       /* not a REC, or the REC is in use */
	RMM_ACCESS_E_NOT_RUNNABLE,  /* REC_ENTER would refuse the REC (realm not active, REC not
				       runnable, PSCI request pending) */
	RMM_ACCESS_E_EXITED,        /* the REC's last exit (a sync exception) has not been resumed */
	RMM_ACCESS_E_IPA_RANGE,     /* IPA beyond the realm's IPA space */
	RMM_ACCESS_E_ALIGN,         /* IPA not aligned to the size (an alignment fault with the MMU off) */
	RMM_ACCESS_E_GPF,           /* the unprotected IPA maps a PA outside non-secure DRAM */
};
int rmm_debug_realm_access(struct rmm *rmm, uint64_t rec_pa, struct rmm_debug_access *a, struct rec_exit_image *exit);
/* A REC's saved state as the console shows it; RMMEMU_E_INVAL if rec_pa is not a REC not in use. */
struct rmm_debug_rec_state {
	uint64_t regs[31], pc, pstate;
	uint64_t esr_el1, far_el1, elr_el1, spsr_el1, vbar_el1;
};
int rmm_debug_rec_state(struct rmm *rmm, uint64_t rec_pa, struct rmm_debug_rec_state *st);

#endif

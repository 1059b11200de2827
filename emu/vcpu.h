/*
 * emu/ — the vCPU backend: runs a REC's AArch64 code in Unicorn 2.1.1 (QEMU TCG).
 *
 * One Unicorn engine per REC (created at its first entry, released by REC_DESTROY), so the RECs of
 * a realm run at the same time on the host threads that entered them, as KVM's vCPU threads do.
 * Every engine models the physical machine: every DRAM range of the platform is mapped at its
 * physical address (sharing the host memory of the simulated DRAM), and the realm runs at EL1/EL0
 * with QEMU's own stage-2 MMU enabled (HCR_EL2.VM) and VTTBR_EL2 pointing at the realm's RTTs. So
 * the realm reaches exactly what its RTTs map, and a stage-2 fault arrives as a data/instruction
 * abort routed to EL2 with the syndrome, FAR and HPFAR_EL2 a real CPU would give the RMM.
 * The engines of a realm share memory but not translated code: instruction-cache maintenance
 * (IC IVAU, IC IALLU/IALLUIS) in one engine drops the code the others translated from that memory,
 * and RTT changes and scrubs reach every engine of the realm before the RMI call returns (a TLB
 * shootdown). See docs/vcpu.md, "RECs in parallel".
 */
#ifndef EMU_VCPU_H
#define EMU_VCPU_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <unicorn/unicorn.h>

#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"

/* Architectural state as last saved into (or loaded from) the REC: entry writes to the engine only
 * what differs from it. */
struct emu_arch_shadow {
	uint64_t regs[31];
	uint64_t pc, pstate, sp_el0, sp_el1;
	__typeof__(((struct rec *)0)->sysregs) sysregs;
	__typeof__(((struct rec *)0)->simd) simd;
};

/* A synchronous exception to be delivered to EL1 once the CPU has been brought to EL1 by QEMU
 * (see "EL changes" in docs/vcpu.md). */
struct emu_pending_exc {
	bool active;
	uint64_t esr, far, elr, spsr;
	bool far_valid;
	uint64_t vector_off;      /* from the guest's VBAR_EL1 */
};

struct emu_backend;
struct emu_vcpu;

/* Where the thread running an engine is (emu_machine.where). */
enum emu_where {
	EMU_OUT,       /* not in uc_emu_start: pending invalidations are applied before it runs */
	EMU_GUEST,     /* running realm code (or a hook that does not wait for the RMM lock) */
	EMU_LOCKING,   /* in a hook that waits (for the RMM lock, or for other engines in an IC):
			* no realm code runs until the hook applies pending invalidations */
};

/* One Unicorn engine per REC (the name is historical: the machine around one vCPU). */
struct emu_machine {
	struct emu_backend *be;
	struct emu_machine *next;
	const struct s2tt_ctx *s2;       /* &rd->s2 of the realm */
	unsigned ipa_bits;
	uc_engine *uc;
	uc_context *init_ctx;            /* CPU state after set-up, before any REC ran */
	uc_hook h_intr, h_mrs, h_msr, h_ic, h_block, h_unmapped, h_new_block;
	/* WFE instructions met in translated code, each with a code hook (QEMU never traps WFE). */
	struct emu_wfe_site { uint64_t va; uc_hook h; } *wfe_sites;
	unsigned nwfe_sites, wfe_sites_cap;
	/* Invalidations from other threads (RMI calls, other engines' IC instructions), under mu:
	 * granules whose translated code must be dropped (scrubbed by DATA_DESTROY, or code another
	 * REC rewrote) and a TLB flush (stage 2 changed). Applied by the engine's own thread before it
	 * runs realm code again; req_gen/done_gen let a thread wait until they are. `where` and
	 * `pending` are also read and written atomically without mu, so that a hook taking the RMM
	 * lock (every RSI call) costs no more than that lock (emu_hook_lock/unlock). */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int where;                       /* enum emu_where */
	int pending;                     /* req_gen != done_gen */
	int waiters;                     /* threads waiting on cv */
	uint64_t *stale_pa;
	unsigned nstale, stale_cap;
	bool all_code_stale;             /* IC IALLU(IS) elsewhere: drop every translation */
	bool tlb_dirty;
	uint64_t req_gen, done_gen;
	bool has_run;                    /* realm code has been translated in this engine */
	uint64_t hcr;                    /* HCR_EL2 as last written */
	/* Offset of Unicorn's no_exit_request flag (emu_calib), 0 if runs are preempted by the block
	 * hook instead of a stop from the watchdog thread (docs/vcpu.md, quirk 6). */
	size_t no_exit_off;
	uint64_t cntfrq;
	struct emu_vcpu *cur;            /* the REC whose CPU state is in the engine */
	unsigned nvcpus;
};

struct emu_vcpu {
	struct emu_machine *m;
	struct emu_backend *be;
	struct emu_vcpu *next;
	struct rec *rec;
	uc_engine *uc;                   /* m->uc */
	uc_context *ctx;                 /* scratch for reading the exception syndrome */
	uc_context *state;               /* this REC's CPU state while another REC runs */
	bool has_state;

	bool synced;                     /* hflags match the loaded state (see docs/vcpu.md) */
	bool msr_seen;                   /* the realm wrote a system register during the run */
	/* During one run. */
	struct rmm *rmm;
	struct rec_exit_image *exit;
	bool exiting;                    /* a hook produced a REC exit; emulation is stopping */
	bool have_exit_pc;
	uint64_t exit_pc;
	bool error;                      /* emulation failure (reported as an SError exit) */
	int preempt;                     /* set by the watchdog, acted on at the next block start
					  * (only when the machine has no no_exit_off) */
	uint64_t slice_deadline;         /* end of this run's time slice (CLOCK_MONOTONIC ns) */
	/* The watchdog's view of this vCPU (under wd.mu). */
	bool wd_armed;                   /* a run is in progress */
	uint64_t wd_deadline;            /* slice end or timer deadline */
	uint64_t wd_stopped_at;          /* last stop the watchdog issued (repeated every 1 ms) */
	bool wd_poke;                    /* stop soon: invalidations are pending */
	bool wd_kicked;                  /* stop now: the host kicked this run */
	/* An ICC_* access the MRS/MSR hook emulated. QEMU does not know these registers and a hook
	 * cannot skip an unknown one (docs/vcpu.md), so the hook lets QEMU raise UNDEF on it and the
	 * INTR hook completes the instruction there: PC + 4, or the REC exit it causes. */
	struct {
		bool active;
		uint64_t pc;
		enum { SYSP_COMPLETE, SYSP_EXIT_SYSREG, SYSP_EXIT_IRQ } kind;
		uint64_t esr, value;
	} sys_pending;

	/* EL change in progress: QEMU takes a virtual IRQ to a faulting vector at EMU_TRAMP_VA, the
	 * prefetch abort there hands control back with QEMU's cached state rebuilt for EL1. */
	struct {
		bool active;
		uint64_t vbar, elr, spsr;    /* the guest's values, restored at completion */
		bool resume;                 /* then load resume_* (REC entry) */
		uint64_t resume_pc, resume_pstate, resume_sp_el0, resume_sp_el1;
		struct emu_pending_exc exc;  /* or deliver this exception */
	} el_change;

	/* Virtual GIC CPU interface state that is not in struct rec. */
	uint32_t ap0r, ap1r;             /* active priorities (one bit per 5-bit priority) */

	/* Syndrome of the last abort exit, complete (struct rec's copy is cleared by REC_ENTER). */
	uint64_t last_abort_esr, last_abort_far;

	struct emu_arch_shadow shadow;

	/* Statistics (debug). */
	uint64_t runs, smc_calls, exits;
};

/* Watchdog: ends runs at the end of their time slice or when their virtual timer fires, as a host
 * interrupt would, stops kicked runs, and runs with pending invalidations (emu_wd_poke). One
 * thread per RMM instance for every run in progress (each REC's run on its own host thread). The
 * stop is uc_emu_stop when the engine's exit checks inside blocks are off (quirk 6), repeated every
 * millisecond until the run ends (a hook writing PC cancels it, quirk 5); otherwise v->preempt,
 * which the block hook acts on at the start of the next translation block. */
struct emu_watchdog {
	pthread_t thread;
	bool started, quit;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct emu_vcpu **armed;         /* runs in progress */
	unsigned narmed, armed_cap;
	uint64_t wait_until;             /* what the thread sleeps until (0: awake) */
	bool kick_next;                  /* rmmemu_vcpu_kick with no run in progress: the next run
					  * stops at once */
};

struct emu_backend {
	struct rmm *rmm;
	/* Changed under rmm->lock and mlock; read under either (engines' IC hooks take mlock). */
	pthread_mutex_t mlock;
	struct emu_machine *machines;
	struct emu_vcpu *vcpus;
	struct emu_watchdog wd;
	uint64_t slice_ns;               /* 0: no time slice */
};

/* Offsets of QEMU's exception record inside a saved uc_context (found once per process). */
struct emu_calib {
	int ok;
	size_t syndrome_off, vaddress_off, target_el_off;
	char err[160];
	/* Offset of Unicorn's no_exit_request flag inside the engine (0: not found; runs are then
	 * preempted from a per-block hook). See docs/vcpu.md, quirk 6. */
	size_t no_exit_off;
	char stop_note[160];             /* why no_exit_off is 0 */
	/* Offset of Unicorn's target_bits (the engine's page size, chosen before it initialises), 0
	 * if not found: the engine then uses 1 KiB pages (slower TLB; docs/vcpu.md, quirk 19). */
	size_t page_bits_off;
	char page_note[160];             /* why page_bits_off is 0 */
};
const struct emu_calib *emu_calibrate(void);
/* uc_open of an AArch64 engine as every engine of rmmemu is: Cortex-A72, 4 KiB pages. */
uc_err emu_engine_open(uc_engine **uc);

/* Physical address width of Unicorn's Cortex-A72 model (ID_AA64MMFR0_EL1.PARange = 44 bits): the
 * widest IPA its stage 2 translates, and the end of the DRAM it can reach (quirk 14). */
#define EMU_PA_BITS 44

/* The VA (beyond any PA and any translatable VA) used as a faulting vector base. */
#define EMU_TRAMP_VA 0x0080000000000000ULL

/* ---- engine.c ---- */
struct emu_machine *emu_machine_create(struct emu_backend *be, struct rmm *rmm, const struct rd *rd);
void emu_machine_free(struct emu_machine *m);
struct emu_vcpu *emu_vcpu_create(struct emu_machine *m, struct rec *rec);
void emu_vcpu_free(struct emu_vcpu *v);
/* Make v's CPU state the engine's (saving the previous REC's). */
void emu_machine_switch(struct emu_machine *m, struct emu_vcpu *v);
uint64_t emu_cp_read(uc_engine *uc, unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2);
void emu_cp_write(uc_engine *uc, unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
		  uint64_t val);
uint64_t emu_reg_read(uc_engine *uc, int reg);
void emu_reg_write(uc_engine *uc, int reg, uint64_t val);
void emu_set_hcr(struct emu_vcpu *v, uint64_t hcr);
void emu_tlb_flush(struct emu_vcpu *v);
/* Load the REC's state into the engine (entry) / save it (exit). */
void emu_load_state(struct emu_vcpu *v);
void emu_save_state(struct emu_vcpu *v);
void emu_read_gprs(uc_engine *uc, uint64_t regs[31]);
void emu_write_gpr(uc_engine *uc, unsigned n, uint64_t val);
uint64_t emu_read_gpr(uc_engine *uc, unsigned n);
/* 0..30 for X0..X30, 31 for XZR. */
unsigned emu_gpr_index(uc_arm64_reg reg);
/* Read the exception record QEMU left for the exception being reported to the INTR hook. */
void emu_exception_info(struct emu_vcpu *v, uint64_t *esr, uint64_t *far, unsigned *target_el);
/* Current SP of a mode, and writing it back. */
uint64_t emu_get_sp(struct emu_vcpu *v, unsigned el);
void emu_set_sp(struct emu_vcpu *v, unsigned el, uint64_t sp);

/* ---- exc.c ---- */
/* Deliver a synchronous exception to the realm's EL1 (from EL1 at once, from EL0 through an EL
 * change). pc is the preferred return address. */
void emu_inject_sync(struct emu_vcpu *v, uint64_t esr, uint64_t far, bool far_valid, uint64_t pc);
/* TF-RMM's inject_sync_idabort: an SEA for the abort with EL2 syndrome esr_el2. */
void emu_inject_sea(struct emu_vcpu *v, uint64_t esr_el2, uint64_t far, uint64_t pc);
void emu_inject_undef(struct emu_vcpu *v, uint64_t pc);
/* Start an EL change to EL1 (entry with a new PSTATE, or exception from EL0). */
void emu_el_change_start(struct emu_vcpu *v);
/* Complete it (from the prefetch-abort hook, or after the run if it stopped half way). */
void emu_el_change_finish(struct emu_vcpu *v);

/* ---- gic.c ---- */
/* Emulate an access to an ICC_* register. Returns 1 if handled (*val = MRS result), 0 if the
 * access must UNDEF, and 2 if it is a trapped write that becomes a REC exit (SGI, DIR). */
int emu_gic_sysreg(struct emu_vcpu *v, const uc_arm64_cp_reg *cp, bool is_read, uint64_t *val);
/* Recompute HCR_EL2.VI from the list registers. */
void emu_gic_update(struct emu_vcpu *v);
/* ICH_MISR_EL2 as the list registers and ICH_HCR/VMCR make it (non-zero: maintenance IRQ). */
uint64_t emu_gic_misr(const struct rec *rec);
/* Any list register pending (WFI wake-up condition). */
bool emu_gic_any_pending(const struct rec *rec);
void emu_gic_exit(struct emu_vcpu *v);

/* ---- timer.c ---- */
uint64_t emu_counter(struct emu_vcpu *v);
/* CNTx_CTL with ISTATUS computed at the current counter value. */
uint64_t emu_timer_ctl(struct emu_vcpu *v, uint64_t ctl, uint64_t cval);
bool emu_timer_asserted(uint64_t ctl);
/* Earliest deadline (CLOCK_MONOTONIC ns) at which a timer that is not asserted now will be; 0 if none. */
uint64_t emu_timer_deadline(struct emu_vcpu *v);
/* Whether the realm's timer outputs differ from what the last exit reported. */
bool emu_timers_changed(struct emu_vcpu *v);

/* ---- watchdog and cross-engine invalidation (backend.c) ---- */
uint64_t emu_now_ns(void);
void emu_wd_arm(struct emu_backend *be, struct emu_vcpu *v, uint64_t deadline_ns);
void emu_wd_update(struct emu_backend *be, struct emu_vcpu *v, uint64_t deadline_ns);
/* The run ended; returns true if it was kicked. */
bool emu_wd_disarm(struct emu_backend *be, struct emu_vcpu *v);
/* Stop v's run soon (invalidations pending); no effect if it is not running. */
void emu_wd_poke(struct emu_backend *be, struct emu_vcpu *v);
/* Take the RMM lock from a hook, and release it (applying what other threads invalidated). */
void emu_hook_lock(struct emu_vcpu *v);
void emu_hook_unlock(struct emu_vcpu *v);
/* An IC instruction of v (IC IVAU: the granule at pa; IC IALLU(IS): pa = UINT64_MAX): the code is
 * dropped in every other engine of the realm before the instruction completes (IC + DSB on
 * hardware); v's thread waits meanwhile as if it waited for the RMM lock. */
void emu_ic_invalidate(struct emu_vcpu *v, uint64_t pa);
/* Invalidate in every engine of the realm but `self` (NULL: all): a TLB flush and/or the code
 * translated from the granule at pa (pa == UINT64_MAX: all code). With `wait`, return only once
 * no running engine still uses what was invalidated (the caller holds rmm->lock, an RMI call,
 * or be->mlock, an IC hook in EMU_LOCKING). */
void emu_realm_invalidate(struct emu_backend *be, const struct s2tt_ctx *s2, struct emu_machine *self,
			  bool tlb, uint64_t pa, bool wait);
/* Apply m's pending invalidations (its own thread, not inside realm code). Caller holds m->mu. */
void emu_machine_sync(struct emu_machine *m, struct emu_vcpu *v);
/* Where m's own thread is now (caller holds m->mu; wakes waiting shootdowns). */
void emu_machine_set_where(struct emu_machine *m, enum emu_where w);

/* ---- run.c ---- */
void emu_run(struct emu_vcpu *v, struct rmm *rmm, struct rec_exit_image *exit);
void emu_install_hooks(struct emu_machine *m);
/* Collect a granule whose code is stale (caller holds m->mu); drop collected code (own thread). */
void emu_code_stale(struct emu_machine *m, uint64_t pa);
void emu_drop_stale_code(struct emu_machine *m);
/* Stop emulation with the exit already written into v->exit. */
void emu_request_exit(struct emu_vcpu *v);
void emu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif

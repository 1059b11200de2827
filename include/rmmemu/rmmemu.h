/*
 * rmmemu — an emulator of the Arm CCA Realm Management Monitor (RMM 1.0).
 *
 * This is the "firmware target" seen from the normal world: create an instance from a platform
 * description, issue SMCs exactly as a host at NS-EL2 would (FID in X0, arguments in X1..X6,
 * results in X0..X4), and read or write normal-world memory by physical address.
 *
 * Memory protection model: every 4 KiB granule of simulated DRAM belongs to one physical
 * address space (PAS): non-secure, realm, secure or root. rmmemu_ns_read()/rmmemu_ns_write()
 * succeed only when every granule touched is in the non-secure PAS; any other access is a
 * granule protection fault and is refused with RMMEMU_E_GPF. There is no other way to read
 * realm memory through this API.
 *
 * Thread safety: all calls on one instance are serialised by an internal lock.
 */
#ifndef RMMEMU_RMMEMU_H
#define RMMEMU_RMMEMU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rmi_defs.h"

#ifdef __cplusplus
extern "C" {
#endif

#define RMMEMU_MAX_RANGES 8

struct rmmemu_range {
	uint64_t base;
	uint64_t size;
};

/* Claims of the simulated platform's attestation token; unset fields keep the built-in values. */
#define RMMEMU_MAX_SW_COMPONENTS 8
struct rmmemu_platform_claims {
	bool implementation_id_set;
	uint8_t implementation_id[32];
	bool lifecycle_set;
	uint16_t lifecycle;                 /* PSA lifecycle, e.g. 0x3000 secured */
	char verification_service[128];     /* "" = built-in URL */
	unsigned num_sw;                    /* 0 = the built-in firmware list */
	struct {
		char type[32];              /* "RMM", "AP_BL31", ... */
		char version[16];
		uint8_t measurement[32];    /* SHA-256 of the component */
	} sw[RMMEMU_MAX_SW_COMPONENTS];
};

/* Description of the simulated platform. Fill with rmmemu_platform_default() and adjust. */
struct rmmemu_platform_config {
	/* DRAM: granules the host may delegate. Memory is committed only when touched. */
	struct rmmemu_range dram[RMMEMU_MAX_RANGES];
	unsigned num_dram;
	/* Device (MMIO) ranges: not DRAM, never delegable. */
	struct rmmemu_range device[RMMEMU_MAX_RANGES];
	unsigned num_device;
	/* Parts of DRAM that start in the secure / root PAS (delegation fails on them). */
	struct rmmemu_range secure[RMMEMU_MAX_RANGES];
	unsigned num_secure;
	struct rmmemu_range root[RMMEMU_MAX_RANGES];
	unsigned num_root;

	/* Physical address width (PARange): 32, 36, 40, 42, 44, 48 or 52. Also the maximum S2SZ. */
	unsigned pa_bits;
	/* RmiFeatureRegister0 values, encoded as the register encodes them. */
	unsigned num_bps;       /* breakpoints minus 1 (1..63) */
	unsigned num_wps;       /* watchpoints minus 1 (1..63) */
	bool pmu;               /* PMUv3 available to realms */
	unsigned pmu_num_ctrs;  /* 0..31 */
	bool feat_hpmn0;        /* FEAT_HPMN0: a realm may ask for 0 PMU counters */
	bool sve;               /* SVE available */
	unsigned sve_vl;        /* maximum SVE vector length, (VL / 128) - 1, 0..15 */
	unsigned gicv3_num_lrs; /* list registers minus 1, 0..15 */
	bool vmid16;            /* FEAT_VMID16 (else 8-bit VMIDs) */

	/* Attestation: the simulated platform's keys (CPAK signs the platform token, RAK the realm
	 * tokens) come from PEM files (P-384) when both paths are set, else are derived from a seed
	 * (attest_seed if attest_seed_set, else a built-in default), so tokens are reproducible. */
	uint8_t attest_seed[32];
	bool attest_seed_set;
	char rak_pem[256];
	char cpak_pem[256];
	struct rmmemu_platform_claims claims;
};

/* Error codes of the non-SMC API (negative return values). */
#define RMMEMU_OK          0
#define RMMEMU_E_INVAL    (-1)  /* bad argument or configuration */
#define RMMEMU_E_GPF      (-2)  /* granule protection fault: granule not in the non-secure PAS */
#define RMMEMU_E_NOMEM    (-3)  /* address is not backed by DRAM (device, hole, beyond range) */
#define RMMEMU_E_SYS      (-4)  /* host resource failure (mmap, malloc) */

struct rmmemu;

struct rmmemu_smc_result {
	uint64_t x[5];
};

/* A platform with 2 GiB of DRAM at 0x80000000, devices below 0x40000000, 48-bit PA. */
void rmmemu_platform_default(struct rmmemu_platform_config *cfg);

/* Create an instance. On failure returns NULL and writes a reason into err (if given). */
struct rmmemu *rmmemu_create(const struct rmmemu_platform_config *cfg, char *err, size_t errlen);
void rmmemu_destroy(struct rmmemu *emu);
/* The platform an instance was created with. */
const struct rmmemu_platform_config *rmmemu_get_platform(const struct rmmemu *emu);

/* Issue one SMC from the normal world. args[0..5] are X1..X6; res->x[0..4] receive X0..X4. */
void rmmemu_smc(struct rmmemu *emu, uint64_t fid, const uint64_t args[6],
		struct rmmemu_smc_result *res);

/* Convenience form of rmmemu_smc: returns X0. */
uint64_t rmmemu_smc6(struct rmmemu *emu, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
		     uint64_t a4, uint64_t a5, uint64_t a6, struct rmmemu_smc_result *res);

/* Normal-world memory access by physical address (any alignment, may span granules). */
int rmmemu_ns_read(struct rmmemu *emu, uint64_t pa, void *buf, size_t len);
int rmmemu_ns_write(struct rmmemu *emu, uint64_t pa, const void *buf, size_t len);
int rmmemu_ns_write64(struct rmmemu *emu, uint64_t pa, uint64_t val);
int rmmemu_ns_read64(struct rmmemu *emu, uint64_t pa, uint64_t *val);

/* Granule states (RMM GranuleState) and physical address spaces. */
enum rmmemu_granule_state {
	RMMEMU_GRANULE_UNDELEGATED = 0,
	RMMEMU_GRANULE_DELEGATED,
	RMMEMU_GRANULE_RD,
	RMMEMU_GRANULE_REC,
	RMMEMU_GRANULE_REC_AUX,
	RMMEMU_GRANULE_DATA,
	RMMEMU_GRANULE_RTT,
	RMMEMU_GRANULE_NUM_STATES
};

enum rmmemu_pas {
	RMMEMU_PAS_NONSECURE = 0,
	RMMEMU_PAS_REALM,
	RMMEMU_PAS_SECURE,
	RMMEMU_PAS_ROOT
};

struct rmmemu_granule_info {
	enum rmmemu_granule_state state;
	enum rmmemu_pas pas;
	unsigned refcount;
};

/* Metadata of one granule (never its contents). RMMEMU_E_NOMEM if pa is not DRAM. */
int rmmemu_granule_info(struct rmmemu *emu, uint64_t pa, struct rmmemu_granule_info *info);

/* Count granules per state over all DRAM (counts[RMMEMU_GRANULE_NUM_STATES]). */
void rmmemu_granule_census(struct rmmemu *emu, uint64_t counts[RMMEMU_GRANULE_NUM_STATES]);

const char *rmmemu_granule_state_name(enum rmmemu_granule_state s);
const char *rmmemu_pas_name(enum rmmemu_pas p);

/* Trace: log every RMI call with decoded arguments, result and granule state changes. */
#define RMMEMU_TRACE_RMI   (1U << 0)
#define RMMEMU_TRACE_STATE (1U << 1)
void rmmemu_set_trace(struct rmmemu *emu, FILE *out, unsigned flags);

/* Structured events, for tools (JSON trace, reports): every RMI call, every SMC a realm makes,
 * every REC exit, every granule and realm state change. The hook runs with the instance locked:
 * it must not call back into the instance. */
enum rmmemu_event_kind {
	RMMEMU_EV_RMI = 0,       /* fid, args = X1..X6, res = X0..X4, injected */
	RMMEMU_EV_REALM_SMC,     /* a REC's SMC (RSI, PSCI, SMCCC): addr = REC, fid, args = X1..X7, res = X0..X4 */
	RMMEMU_EV_REC_EXIT,      /* addr = REC, to = RmiRecExitReason */
	RMMEMU_EV_GRANULE,       /* addr = granule, from -> to (enum rmmemu_granule_state) */
	RMMEMU_EV_REALM_STATE,   /* addr = RD, from -> to (0 NEW, 1 ACTIVE, 2 SYSTEM_OFF) */
	RMMEMU_EV_REC_RUN,       /* REC_ENTER passed its checks: the REC at addr starts running (its
				  * realm SMCs and its exit follow; the RMI event comes when it returns) */
};
struct rmmemu_event {
	enum rmmemu_event_kind kind;
	uint64_t fid;
	uint64_t args[7];
	uint64_t res[5];
	uint64_t addr;
	unsigned from, to;
	bool injected;
};
typedef void (*rmmemu_event_fn)(void *ctx, const struct rmmemu_event *ev);
void rmmemu_set_event_hook(struct rmmemu *emu, rmmemu_event_fn fn, void *ctx);

/* Names and decoding helpers (also used by the console). */
const char *rmmemu_rmi_name(uint64_t fid);           /* "RMI_DATA_CREATE" or NULL */
uint64_t rmmemu_rmi_fid(const char *name);            /* by name, case-insensitive, with or
                                                          without "RMI_"/"SMC_RMI_"; 0 if unknown */
unsigned rmmemu_rmi_nargs(uint64_t fid);              /* number of X1.. arguments */
unsigned rmmemu_rmi_nresults(uint64_t fid);           /* number of X1.. results */
const char *rmmemu_rmi_status_name(unsigned status);  /* "RMI_ERROR_RTT" */
const char *rmmemu_realm_smc_name(uint64_t fid);      /* "RSI_HOST_CALL", "PSCI_CPU_ON" or NULL */
uint64_t rmmemu_realm_smc_fid(const char *name);      /* by name ("RSI_" optional); 0 if unknown */
const char *rmmemu_exit_reason_name(unsigned reason); /* "RMI_EXIT_PSCI" */
void rmmemu_format_return(uint64_t x0, char *buf, size_t len); /* "RMI_ERROR_RTT(level 2)" */

/* Self-check of internal invariants (granule accounting, refcounts, RTT consistency).
 * Returns 0 when consistent, else writes the first violation into msg. For tests and debugging. */
int rmmemu_check_invariants(struct rmmemu *emu, char *msg, size_t len);

/*
 * Fault injection, for exercising a host's error paths: the next `count` calls of RMI function
 * `fid`, after `skip` calls that execute normally, return `x0` (e.g. RMI_ERROR_RTT with a level:
 * RMI_PACK_RETURN(RMI_ERROR_RTT, 2)) without executing; outputs X1..X4 read as 0. count = 0 removes
 * the rule for fid. At most RMMEMU_MAX_INJECTIONS rules. RMMEMU_E_INVAL if fid is not an RMI
 * command or the table is full. Injected results are marked in the trace.
 */
#define RMMEMU_MAX_INJECTIONS 16
int rmmemu_inject_rmi_error(struct rmmemu *emu, uint64_t fid, uint64_t x0, unsigned skip, unsigned count);
/* The next `count` successful REC entries, after `skip` normal ones, end at once with RMI_EXIT_IRQ
 * (as if a host interrupt were pending) before the REC runs. count = 0 cancels. */
void rmmemu_inject_irq_exits(struct rmmemu *emu, unsigned skip, unsigned count);
/* The next `count` REC entries, after `skip` normal ones, deliver a synchronous external abort to
 * the realm at its current PC (a data abort, FAR 0) when it runs (needs the vCPU backend).
 * count = 0 cancels. */
void rmmemu_inject_sea(struct rmmemu *emu, unsigned skip, unsigned count);

/*
 * Debug and teaching interface. Not part of the RMM's ABI (a real host can never do this):
 * it lets a test or a demo look inside a realm and act as the realm itself.
 */
/* Read measurement slot (0 = RIM, 1..4 = REMs) of the realm whose RD is at rd_pa. *len gets the
 * digest size (32 or 64). RMMEMU_E_INVAL if rd_pa is not an RD or slot > 4. */
int rmmemu_debug_measurement(struct rmmemu *emu, uint64_t rd_pa, unsigned slot, uint8_t out[64], size_t *len);

/* Execute an SMC as if the REC at rec_pa had issued it from the realm (RSI, PSCI, SMCCC):
 * x[0] = FID, x[1..11] = arguments. On return x[0..11] hold the REC's X0..X11. *exit_reason is the
 * RmiRecExitReason if the call needs the host (the REC then behaves as after that exit; the host
 * completes it with RMI calls and REC_ENTER), or -1 if the realm simply continues.
 * RMMEMU_E_INVAL if rec_pa is not a REC. */
#define RMMEMU_REALM_SMC_REGS 12
int rmmemu_debug_realm_smc(struct rmmemu *emu, uint64_t rec_pa, uint64_t x[RMMEMU_REALM_SMC_REGS], int *exit_reason);

/* Copy realm memory at a protected IPA that is mapped to a DATA granule (for showing what an
 * RSI call wrote). RMMEMU_E_INVAL if the range is not fully mapped. */
int rmmemu_debug_realm_read(struct rmmemu *emu, uint64_t rd_pa, uint64_t ipa, void *buf, size_t len);

/*
 * vCPU backend (emu/): run realm code in Unicorn. Without it RMI_REC_ENTER returns at once with
 * an IRQ exit. Once enabled, REC_ENTER executes the REC's AArch64 code until a REC exit; each REC
 * gets its Unicorn engine on its first entry (released by REC_DESTROY), and RECs entered from
 * different threads run at the same time (the RMM lock is not held while realm code runs). While
 * enabled, RMI_FEATURES reports S2SZ <= 44 (the PA range of Unicorn's Cortex-A72; wider realms are refused by
 * REALM_CREATE). Returns RMMEMU_OK, RMMEMU_E_INVAL if DRAM lies above 2^44 (out of the model's
 * reach), or RMMEMU_E_SYS if Unicorn cannot be used (reason on stderr). See docs/vcpu.md.
 */
int rmmemu_enable_vcpu(struct rmmemu *emu);
/* Release the backend and every REC's engine (call before rmmemu_destroy). */
void rmmemu_disable_vcpu(struct rmmemu *emu);
/* Longest uninterrupted run of a REC, in microseconds; when it ends the REC exits with
 * RMI_EXIT_IRQ, as on a host timer tick. Default 20000, or $RMMEMU_VCPU_SLICE_US. 0 disables
 * preemption: a REC then runs until it exits by itself (or is kicked), and its virtual timer is only
 * noticed at such exits. Applies from the next REC_ENTER. */
void rmmemu_vcpu_set_timeslice(struct rmmemu *emu, unsigned us);

/* The host has work (KVM's vCPU kick, a physical IPI on hardware): every REC run in progress on this
 * instance ends promptly with RMI_EXIT_IRQ; if none is in progress, the next REC_ENTER returns
 * RMI_EXIT_IRQ without running the realm. Any thread; does not wait. No effect without the vCPU
 * backend. */
void rmmemu_vcpu_kick(struct rmmemu *emu);

/* The generic counter as realm code reads it (CNTPCT_EL0; CNTVCT_EL0 too, CNTVOFF_EL2 being 0) at
 * this moment, and its frequency (CNTFRQ_EL0, 62.5 MHz): QEMU derives it from the host's
 * CLOCK_MONOTONIC as nanoseconds / 16. What a host reading CNTPCT would see (KVM's soft timers). */
uint64_t rmmemu_realm_counter(void);
uint64_t rmmemu_realm_counter_hz(void);

/* The CPU engine the vCPU backend runs on, as loaded at run time: "Unicorn 2.1.1". */
const char *rmmemu_vcpu_engine(void);

#ifdef __cplusplus
}
#endif
#endif

/*
 * Host side of the realm payload tests: builds a realm with RMI calls (as KVM would), loads a
 * payload binary measured into it, and plays the host's REC_ENTER loop, emulating the devices the
 * payloads use (UART data register, a 256-byte test register file) and answering every REC exit:
 * MMIO (EMULATED_MMIO, or INJECT_SEA for unknown addresses and syndromes without ISV), stage-2
 * faults on protected RAM (DATA_CREATE_UNKNOWN), RIPAS changes (RTT_SET_RIPAS), PSCI
 * (PSCI_COMPLETE), host calls, the virtual timer (vINTID 27 through a list register).
 */
#ifndef REALM_HOST_H
#define REALM_HOST_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rmmemu/rmmemu.h"

#define RH_MAX_RECS      4
#define RH_MAX_DATA      1024
#define RH_MAX_RTTS      64
#define RH_RAM_BASE      0x80000000ULL          /* realm IPA of the payload image */
#define RH_RAM_SIZE      (2ULL << 20)           /* RIPAS RAM at creation */
#define RH_UART_OFFSET   0x01000000ULL
#define RH_TESTDEV_OFFSET 0x0A000000ULL
#define RH_TESTDEV_SIZE  0x100ULL
#define RH_HOSTCALL_DONE 0x0D0E

struct rh_env {
	struct rmmemu *emu;
	uint64_t dram_base, next, end;  /* NS granule bump allocator */
	uint64_t freed[64];             /* granules given back (RIPAS EMPTY), reused first as KVM's */
	unsigned nfreed;                /* allocator would */
	unsigned reused;                /* granules taken from freed */
	unsigned next_vmid;
	bool verbose;
};

struct rh_realm;
/* Host call handler: gprs_in from the exit (the realm's RsiHostCall), gprs_out to the entry. */
typedef void (*rh_host_call_fn)(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *gprs_in,
				uint64_t *gprs_out);

struct rh_stats {
	unsigned entries, exits[8];
	unsigned mmio_reads, mmio_writes, uart_bytes, sea_injected, data_faults;
	unsigned ripas_changes, host_calls, wfi_traps, wfe_traps, sysreg_traps, timer_irqs, psci;
	uint64_t last_sysreg_esr, last_sysreg_value, last_wfx_esr;
	uint64_t last_ripas_base, last_ripas_top, last_ripas_value;
};

struct rh_realm {
	struct rh_env *env;
	uint64_t rd, rtt_root;
	unsigned ipa_bits, nroots;
	int sl;
	uint64_t recs[RH_MAX_RECS], run[RH_MAX_RECS];
	bool on[RH_MAX_RECS];
	unsigned nrecs;
	/* per REC: what the next entry carries */
	uint64_t enter_flags[RH_MAX_RECS];
	uint64_t enter_gprs[RH_MAX_RECS][31];
	uint64_t lrs[RH_MAX_RECS][16];
	/* what the realm owns, for teardown */
	struct { uint64_t ipa, pa; } data[RH_MAX_DATA];
	unsigned ndata;
	struct { uint64_t ipa, pa; int level; } rtts[RH_MAX_RTTS];
	unsigned nrtts;
	/* devices */
	char uart[1 << 16];
	size_t uart_len;
	uint8_t testdev[RH_TESTDEV_SIZE];
	/* options */
	bool trap_wfi, trap_wfe;
	bool deliver_timer;           /* inject vINTID 27 while the exit shows the vtimer asserted */
	rh_host_call_fn on_host_call;
	/* results */
	bool system_off, failed;
	uint64_t done_failures;       /* X1 of the RH_HOSTCALL_DONE host call */
	bool done_call;
	struct rh_stats st;
	/* The host's own lock (RECs entered from several threads: rh_run_parallel), REC_ENTERs in
	 * progress and the most seen at once. */
	pthread_mutex_t mu;
	bool par_stop;
	unsigned in_enter, max_in_enter;
	uint64_t last_exit_reason, last_esr;
	uint8_t exit_img[RMI_REC_EXIT_SIZE];  /* RmiRecExit of the last REC_ENTER */
	char err[256];
};

/* A platform with dram_mb MiB of DRAM at 0x80000000 and the vCPU backend enabled. */
bool rh_env_init(struct rh_env *e, unsigned dram_mb);
void rh_env_fini(struct rh_env *e);
uint64_t rh_ns(struct rh_env *e, unsigned n);   /* n contiguous NS granules (aligned to n) */

/* REALM_CREATE with ipa_bits 33 (start level 2, 8 roots) or 40 (level 1, 2 roots). */
bool rh_realm_create(struct rh_env *e, struct rh_realm *r, unsigned ipa_bits);
/* RTT_INIT_RIPAS [RH_RAM_BASE, +RH_RAM_SIZE), DATA_CREATE (measured) of the payload file at
 * RH_RAM_BASE, nrecs RECs (REC 0 runnable at the image entry), REALM_ACTIVATE. */
bool rh_realm_load(struct rh_realm *r, const char *payload, unsigned nrecs);
/* Both of the above with a payload name from the build's realm directory ("hello"). */
bool rh_realm_setup(struct rh_env *e, struct rh_realm *r, const char *name, unsigned ipa_bits, unsigned nrecs);
/* Run the RECs round robin until SYSTEM_OFF, no REC left runnable, or max_entries REC_ENTERs.
 * Returns false on an RMI error or an unexpected exit (r->err says which). */
bool rh_run(struct rh_realm *r, unsigned max_entries);
/* As rh_run, with one host thread per REC entering it whenever it is on (KVM's vCPU threads);
 * at most max_entries REC_ENTERs per REC. */
bool rh_run_parallel(struct rh_realm *r, unsigned max_entries);
/* One REC_ENTER of REC idx with exit handling; returns the exit reason or -1 on error. */
int rh_enter(struct rh_realm *r, unsigned idx);
/* RTT_MAP_UNPROTECTED of the NS granule ns_pa at an unprotected IPA (RTTs created as needed), and
 * RTT_UNMAP_UNPROTECTED; from any thread, also while the realm's RECs run. */
bool rh_map_unprotected(struct rh_realm *r, uint64_t ipa, uint64_t ns_pa);
bool rh_unmap_unprotected(struct rh_realm *r, uint64_t ipa);
/* Destroy everything the realm owns and undelegate it. */
bool rh_realm_destroy(struct rh_realm *r);

/* The console text contains s. */
bool rh_uart_has(const struct rh_realm *r, const char *s);
/* "DONE pass=N fail=0" printed and no FAIL line. */
bool rh_payload_passed(const struct rh_realm *r);
/* Print the realm's console and the host's error when the run failed (or always when verbose). */
void rh_show(const struct rh_realm *r, bool verbose);

/* A CUnit suite fixture (rh_suite_init / rh_suite_fini as the suite's set-up and clean-up): one
 * 64 MiB platform with the vCPU for every test of the suite, and rh_show with its verbosity. */
extern struct rh_env rh_suite;
int rh_suite_init(void);
int rh_suite_fini(void);
void rh_suite_show(const struct rh_realm *r);
uint64_t rh_call(struct rh_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5, struct rmmemu_smc_result *res);

#endif

/*
 * Fuzz target: a hostile realm. RSI, PSCI and SMCCC calls with arbitrary X0..X11 made by the RECs
 * of an active realm (rmmemu_debug_realm_smc: the RMM's own SMC handler, as the vCPU reaches it),
 * answered by a host that completes every REC exit the way a host would, with details (PSCI status,
 * RIPAS progress and response, host call results, mapping a faulting page or not) from the input.
 *
 * rmm_debug_realm_smc is rmmemu_debug_realm_smc keeping the RmiRecExit, which the host reads.
 *
 * The realm (built per input, 40-bit IPA space, 2 RECs; the second starts stopped) has:
 *   0x80000000 +4 pages   RIPAS RAM, DATA (measured)             "protected RAM"
 *   0x80004000 +2 pages   RIPAS RAM, no DATA: a stage-2 fault the host may answer by mapping
 *   0x80006000 +2 pages   DESTROYED (DATA destroyed after activation)
 *   elsewhere             EMPTY (0x80008000.. in the level-3 table, other IPAs at higher levels)
 *   1 << 39               unprotected, mapped to a host NS page; 1 << 39 + 0x1000.. unmapped
 * Buffer arguments come from every kind of IPA: those, unaligned ones, ones crossing a granule,
 * the last granule of the protected half, beyond the IPA space, and raw values.
 *
 * Input: steps, each an opcode byte.
 *   op % 8 < 6   REC (op >> 3) & 1 makes one SMC: a FID byte, an argument count byte, one
 *                selector byte per argument (pick_arg), then an answer byte. Only while that REC
 *                may run: it has been entered and has not exited since. If the call exits, the
 *                host answers at once as the answer byte says (answer_exit; a host call's results
 *                follow it) and enters the REC again.
 *   op % 8 == 6  a host RMI action in between (DATA_DESTROY, DATA_CREATE_UNKNOWN, unprotected
 *                (un)map, RTT_SET_RIPAS / PSCI_COMPLETE out of turn, REC_DESTROY of REC 1,
 *                RTT_FOLD / RTT_DESTROY / RTT_CREATE under the realm's IPAs).
 *   op % 8 == 7  REC_ENTER of a REC with flags from the input.
 * After every call: the RMM's invariants; the host's NS pages (the one mapped unprotected
 * included) never change through an RSI call; an SMC outside RSI/PSCI/SMCCC returns NOT_SUPPORTED.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_util.h"
#include "rmmemu/rmi_defs.h"
#include "rmmemu/rmmemu.h"
#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"   /* rmm_debug_realm_smc: the public call without the RmiRecExit it produces */

#define DRAM_BASE   0x80000000ULL
#define DRAM_SIZE   (4ULL << 20)
#define GRAN        0x1000ULL
#define NS_BASE     (DRAM_BASE + (3ULL << 20))    /* host pages: params, runs, the shared page */
#define NS_PARAMS   (NS_BASE)
#define NS_SRC      (NS_BASE + GRAN)
#define NS_RUN(i)   (NS_BASE + (2 + (i)) * GRAN)
#define NS_SHARED   (NS_BASE + 4 * GRAN)
#define NS_CANARY   (NS_BASE + 5 * GRAN)
#define IPA_BITS    40
#define SHARED      (1ULL << (IPA_BITS - 1))
#define RAM_IPA     0x80000000ULL
#define LAZY_IPA    (RAM_IPA + 4 * GRAN)
#define DESTROYED_IPA (RAM_IPA + 6 * GRAN)
#define EMPTY_IPA   (RAM_IPA + 8 * GRAN)
#define MAX_STEPS   200U
#define MAX_TOKENS  3U
#define NRECS       2U

#define RSI_FID(n)  (0xC4000190ULL + (n))
#define SMC_RSI_HOST_CALL_FID RSI_FID(9)

struct input {
	const uint8_t *p;
	size_t n;
};

static uint8_t get8(struct input *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t get64(struct input *in)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)get8(in) << (8 * i);
	return v;
}

struct env {
	struct rmmemu *emu;
	uint64_t next;                  /* bump allocator of granules */
	uint64_t rd, rec[NRECS];
	bool ready[NRECS];              /* entered, no exit since: the REC's code is running */
	struct rec_exit_image exit;     /* the RmiRecExit of the last realm SMC that exited */
	bool building;                  /* set-up: the same for every input, checked once at its end */
	unsigned token_inits;           /* each signs a token (~40 ms here): at most MAX_TOKENS per input */
	uint8_t shared_img[GRAN];       /* what the host wrote to its pages */
	uint8_t canary_img[GRAN];
	char when[200];
};

static uint64_t smc(struct env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5, struct rmmemu_smc_result *out)
{
	struct rmmemu_smc_result r;
	uint64_t x0 = rmmemu_smc6(e->emu, fid, a1, a2, a3, a4, a5, 0, &r);
	if (out)
		*out = r;
	const char *name = rmmemu_rmi_name(fid);
	snprintf(e->when, sizeof(e->when), "after %s(0x%llx, 0x%llx, 0x%llx, 0x%llx) = 0x%llx", name ? name : "?",
		 (unsigned long long)a1, (unsigned long long)a2, (unsigned long long)a3, (unsigned long long)a4,
		 (unsigned long long)x0);
	if (fuzz_out() == stderr)
		fprintf(stderr, "  host: %s\n", e->when + 6);
	if (!e->building)
		fuzz_check_invariants(e->emu, e->when);
	return x0;
}

/* Set-up steps must succeed: the realm is the same for every input. */
static uint64_t must(struct env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5)
{
	struct rmmemu_smc_result r;
	if (smc(e, fid, a1, a2, a3, a4, a5, &r) != RMI_SUCCESS)
		fuzz_fail("set-up failed: %s", e->when);
	return r.x[1];
}

static uint64_t delegated(struct env *e)
{
	uint64_t pa = e->next;
	if (pa >= NS_BASE)
		return NS_CANARY;   /* out of granules: a call with this one fails */
	e->next += GRAN;
	must(e, SMC_RMI_GRANULE_DELEGATE, pa, 0, 0, 0, 0);
	return pa;
}

static void put64(uint8_t *img, unsigned off, uint64_t v)
{
	memcpy(img + off, &v, sizeof(v));
}

static void ns_write(struct env *e, uint64_t pa, const uint8_t *img)
{
	if (rmmemu_ns_write(e->emu, pa, img, GRAN) != RMMEMU_OK)
		fuzz_fail("NS write 0x%llx refused", (unsigned long long)pa);
}

static void write_enter(struct env *e, unsigned r, uint64_t flags, const uint64_t *gprs)
{
	static uint8_t img[RMI_REC_ENTER_SIZE];
	memset(img, 0, sizeof(img));
	put64(img, RMI_REC_ENTER_FLAGS, flags);
	if (gprs)
		memcpy(img + RMI_REC_ENTER_GPRS, gprs, 8 * RMI_REC_NR_GPRS);
	if (rmmemu_ns_write(e->emu, NS_RUN(r), img, sizeof(img)) != RMMEMU_OK)
		fuzz_fail("RecRun write refused");
}

static uint64_t run_get64(struct env *e, unsigned r, unsigned off)
{
	uint64_t v = 0;
	if (rmmemu_ns_read64(e->emu, NS_RUN(r) + off, &v) != RMMEMU_OK)
		fuzz_fail("RecRun read refused");
	return v;
}

/* A field of the exit a realm SMC produced (what the host reads in RecRun after REC_ENTER). */
static uint64_t exit_get64(struct env *e, unsigned off)
{
	return rec_exit_get64(&e->exit, off);
}

/* REC_ENTER: without a vCPU backend the REC does not execute; it exits with IRQ (or with the exit
 * completing the last one produced, e.g. a host call whose page went away). */
static void enter(struct env *e, unsigned r, uint64_t flags, const uint64_t *gprs)
{
	write_enter(e, r, flags, gprs);
	uint64_t rc = smc(e, SMC_RMI_REC_ENTER, e->rec[r], NS_RUN(r), 0, 0, 0, NULL);
	uint64_t reason = run_get64(e, r, RMI_REC_EXIT_REASON);
	e->ready[r] = rc == RMI_SUCCESS && (reason == RMI_EXIT_IRQ || reason == RMI_EXIT_FIQ);
}

static void build(struct env *e)
{
	static uint8_t img[GRAN];
	e->building = true;
	e->next = DRAM_BASE;
	e->rd = delegated(e);
	uint64_t roots = delegated(e);
	delegated(e);
	memset(img, 0, sizeof(img));
	put64(img, RMI_REALM_PARAMS_FLAGS, 0);
	img[RMI_REALM_PARAMS_S2SZ] = IPA_BITS;
	img[RMI_REALM_PARAMS_NUM_BPS] = 1;
	img[RMI_REALM_PARAMS_NUM_WPS] = 1;
	img[RMI_REALM_PARAMS_HASH_ALGO] = RMI_HASH_SHA_256;
	for (unsigned i = 0; i < RMI_RPV_SIZE; i++)
		img[RMI_REALM_PARAMS_RPV + i] = (uint8_t)i;
	img[RMI_REALM_PARAMS_VMID] = 1;
	put64(img, RMI_REALM_PARAMS_RTT_BASE, roots);
	put64(img, RMI_REALM_PARAMS_RTT_LEVEL_START, 1);
	put64(img, RMI_REALM_PARAMS_RTT_NUM_START, 2);
	ns_write(e, NS_PARAMS, img);
	must(e, SMC_RMI_REALM_CREATE, e->rd, NS_PARAMS, 0, 0, 0);
	uint64_t naux = must(e, SMC_RMI_REC_AUX_COUNT, e->rd, 0, 0, 0, 0);
	must(e, SMC_RMI_RTT_CREATE, e->rd, delegated(e), RAM_IPA, 2, 0);
	must(e, SMC_RMI_RTT_CREATE, e->rd, delegated(e), RAM_IPA, 3, 0);
	must(e, SMC_RMI_RTT_CREATE, e->rd, delegated(e), SHARED, 2, 0);
	must(e, SMC_RMI_RTT_CREATE, e->rd, delegated(e), SHARED, 3, 0);
	must(e, SMC_RMI_RTT_INIT_RIPAS, e->rd, RAM_IPA, EMPTY_IPA, 0, 0);
	/* code page: an endless loop (never executed here), then the data pages */
	memset(img, 0, sizeof(img));
	put64(img, 0, 0x14000000ULL);
	ns_write(e, NS_SRC, img);
	for (unsigned i = 0; i < 4; i++)
		must(e, SMC_RMI_DATA_CREATE, e->rd, delegated(e), RAM_IPA + i * GRAN, NS_SRC, i == 0 ? RMI_MEASURE_CONTENT : 0);
	for (unsigned i = 0; i < 2; i++)
		must(e, SMC_RMI_DATA_CREATE, e->rd, delegated(e), DESTROYED_IPA + i * GRAN, NS_SRC, 0);
	for (unsigned r = 0; r < NRECS; r++) {
		memset(img, 0, sizeof(img));
		put64(img, RMI_REC_PARAMS_FLAGS, r == 0 ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0);
		put64(img, RMI_REC_PARAMS_MPIDR, r);
		put64(img, RMI_REC_PARAMS_PC, RAM_IPA);
		put64(img, RMI_REC_PARAMS_NUM_AUX, naux);
		e->rec[r] = delegated(e);
		for (unsigned i = 0; i < naux && i < RMI_MAX_REC_AUX_GRANULES; i++)
			put64(img, RMI_REC_PARAMS_AUX + 8 * i, delegated(e));
		ns_write(e, NS_PARAMS, img);
		must(e, SMC_RMI_REC_CREATE, e->rd, e->rec[r], NS_PARAMS, 0, 0);
	}
	must(e, SMC_RMI_REALM_ACTIVATE, e->rd, 0, 0, 0, 0);
	for (unsigned i = 0; i < 2; i++)
		must(e, SMC_RMI_DATA_DESTROY, e->rd, DESTROYED_IPA + i * GRAN, 0, 0, 0);
	for (unsigned i = 0; i < GRAN; i++) {
		e->shared_img[i] = (uint8_t)(0x5a ^ i);
		e->canary_img[i] = (uint8_t)(0xc3 + i);
	}
	ns_write(e, NS_SHARED, e->shared_img);
	ns_write(e, NS_CANARY, e->canary_img);
	must(e, SMC_RMI_RTT_MAP_UNPROTECTED, e->rd, SHARED, 3, NS_SHARED | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW, 0);
	enter(e, 0, 0, NULL);
	if (!e->ready[0])
		fuzz_fail("set-up: REC 0 does not run");
	e->building = false;
	fuzz_check_invariants(e->emu, "after the set-up");
}

/* ---- the realm's arguments ---- */

static const uint64_t prot[16] = {
	LAZY_IPA, LAZY_IPA + GRAN, DESTROYED_IPA, DESTROYED_IPA + GRAN,
	EMPTY_IPA, RAM_IPA + 0x1ff000, RAM_IPA + 0x200000, 0,
	GRAN, 0x40000000, SHARED - GRAN, SHARED - 0x200000,
	RAM_IPA - GRAN, 0x7fc00000, LAZY_IPA + 0x800, DESTROYED_IPA + 0x100,
};
static const uint64_t unprot[8] = {
	SHARED, SHARED + GRAN, SHARED + 0x200000, (1ULL << IPA_BITS) - GRAN,
	SHARED + 0x100, SHARED + 0xff8, SHARED | RAM_IPA, SHARED + 0x40000000,
};
static const uint64_t outside[8] = {
	1ULL << IPA_BITS, (1ULL << IPA_BITS) + GRAN, 1ULL << 48, ~0ULL,
	~0xfffULL, 1ULL << 63, 1ULL << 52, (1ULL << IPA_BITS) - 1,
};
static const uint64_t smalls[32] = {
	0, 1, 2, 3, 4, 5, 6, 7, 8, 16, 32, 63, 64, 65, 0xff, 0x100,
	(uint64_t)-1, (uint64_t)-2, 0x10000, 0x10001, 0x20000, 0x7fffffff, 0x80000000, 0xffffffff,
	/* MPIDRs (MPIDR_EL1 form) */
	0x100, 0x10000, 0x100000000ULL, 0x80000000ULL, 0x1, 0x2, 0xf, 0x10,
};
static const uint64_t offs[8] = { 0, 0x100, 0xf00, 0xff8, 0x800, 0x8, 1, 0xfff };

/* One argument from its selector byte (kind in bits 7:5, index in 4:0). */
static uint64_t pick_arg(struct input *in, uint8_t sel)
{
	unsigned idx = sel & 31;
	switch (sel >> 5) {
	case 0:   /* protected RAM with DATA, at an offset (crossing the granule at 0xff8 with 16 bytes) */
		return RAM_IPA + (idx & 3) * GRAN + offs[idx >> 2];
	case 1:
		return prot[idx & 15] + (idx & 16 ? 0x100 : 0);
	case 2:
		return idx < 8 ? unprot[idx] : idx < 16 ? outside[idx - 8] : RAM_IPA + (uint64_t)(idx - 16) * GRAN;
	case 3:
	case 4:
		return smalls[idx];
	case 5:   /* ends of ranges */
		return (idx & 16 ? LAZY_IPA : RAM_IPA) + (uint64_t)(idx & 15) * GRAN;
	case 6:
		return get64(in);
	default:
		return RAM_IPA + (idx & 3) * GRAN;   /* aligned protected RAM: the usual buffer */
	}
}

static uint64_t pick_fid(struct input *in, uint8_t b)
{
	if (b < 32)
		return RSI_FID(b);                      /* RSI 1.0 range, implemented and not */
	if (b < 64)
		return 0x84000190ULL + (b - 32);        /* their SMC32 forms */
	if (b < 85)
		return 0x84000000ULL + (b - 64);        /* PSCI, SMC32 */
	if (b < 106)
		return 0xC4000000ULL + (b - 85);        /* PSCI, SMC64 */
	if (b < 110)
		return 0x80000000ULL + (b - 106);       /* SMCCC arch calls */
	if (b < 120)
		return RSI_FID(b - 110) | (1ULL << 16); /* SMCCC 1.3 SVE hint */
	if (b < 130)
		return RSI_FID(b - 120) | 0xffffffff00000000ULL;
	if (b < 136)
		return 0xC4000150ULL + (b - 130);       /* RMI from the realm */
	if (b >= 0xf8)
		return get64(in);
	return RSI_FID(b % 10);                         /* mostly: the ten RSI 1.0 commands */
}

static bool known_smc(uint64_t fid)
{
	uint32_t f = (uint32_t)fid & ~(1U << 16);
	return (f >= 0x84000000U && f <= 0x84000014U) || (f >= 0xC4000000U && f <= 0xC4000014U) ||
	       (f >= 0xC4000190U && f <= 0xC4000199U) || f == 0x80000000U;
}

/* ---- the host's answers ---- */

static unsigned rec_of_mpidr(uint64_t mpidr)
{
	/* MPIDR_EL1 form: Aff0 = REC index for the two RECs here */
	return (mpidr & ~0xffULL) == 0 && (mpidr & 0xff) < NRECS ? (unsigned)(mpidr & 0xff) : NRECS;
}

static void answer_psci(struct env *e, struct input *in, unsigned r, uint8_t c)
{
	uint64_t fid = exit_get64(e, RMI_REC_EXIT_GPRS), x1 = exit_get64(e, RMI_REC_EXIT_GPRS + 8);
	uint32_t f = (uint32_t)fid;
	bool target = f == 0x84000003U || f == 0xC4000003U || f == 0x84000004U || f == 0xC4000004U;
	/* The RMM asks the host only about another REC of the realm, named by a valid MPIDR (DEN0137
	 * PSCI_CPU_ON / PSCI_AFFINITY_INFO: any other target_cpu is the RMM's PSCI_INVALID_PARAMETERS). */
	if (target && (rec_of_mpidr(x1) >= NRECS || rec_of_mpidr(x1) == r))
		fuzz_fail("PSCI exit of REC %u for target MPIDR 0x%llx, which is not another REC's", r, (unsigned long long)x1);
	if (target) {
		static const uint64_t st[8] = { PSCI_RETURN_SUCCESS, PSCI_RETURN_SUCCESS, PSCI_RETURN_SUCCESS,
						PSCI_RETURN_DENIED, PSCI_RETURN_NOT_SUPPORTED, PSCI_RETURN_INVALID_PARAMS,
						PSCI_RETURN_ALREADY_ON, 7 };
		unsigned t = rec_of_mpidr(x1);
		uint64_t tgt = c & 0x80 ? e->rec[(t + 1) % NRECS] : t < NRECS ? e->rec[t] : e->rec[0];
		uint64_t rc = smc(e, SMC_RMI_PSCI_COMPLETE, e->rec[r], tgt, st[c & 7], 0, 0, NULL);
		if (rc != RMI_SUCCESS && t < NRECS)   /* a host that got it wrong tries again properly */
			smc(e, SMC_RMI_PSCI_COMPLETE, e->rec[r], e->rec[t], (c & 0x40) ? PSCI_RETURN_DENIED : 0, 0, 0, NULL);
	}
	enter(e, r, 0, NULL);
}

static void answer_ripas(struct env *e, struct input *in, unsigned r, uint8_t c)
{
	uint64_t base = exit_get64(e, RMI_REC_EXIT_RIPAS_BASE), top = exit_get64(e, RMI_REC_EXIT_RIPAS_TOP);
	(void)in;
	uint64_t flags = c & 1 ? RMI_REC_ENTER_FLAG_RIPAS_RESPONSE : 0;
	for (unsigned i = 0; i < ((c >> 1) & 3) && base < top; i++) {
		uint64_t want = c & 8 ? base + GRAN : c & 16 ? top + GRAN : top;
		struct rmmemu_smc_result res;
		if (smc(e, SMC_RMI_RTT_SET_RIPAS, e->rd, e->rec[r], base, want, 0, &res) != RMI_SUCCESS)
			break;
		if (res.x[1] <= base || res.x[1] > top)
			fuzz_fail("RTT_SET_RIPAS progress 0x%llx outside (0x%llx, 0x%llx]: %s", (unsigned long long)res.x[1],
				  (unsigned long long)base, (unsigned long long)top, e->when);
		base = res.x[1];
	}
	enter(e, r, flags | (c & 0x80 ? RMI_REC_ENTER_FLAG_EMUL_MMIO : 0), NULL);
	/* The realm's results once the entry completed the request: SUCCESS, X1 = where the host got
	 * to (the first IPA not changed), X2 = REJECT only when the host said so. */
	struct rmm_debug_rec_state st;
	if (e->ready[r] && rmm_debug_rec_state(rmmemu_core(e->emu), e->rec[r], &st) == RMMEMU_OK &&
	    (st.regs[0] != 0 || st.regs[1] != base || st.regs[2] > 1 || (st.regs[2] == 1 && !flags)))
		fuzz_fail("RSI_IPA_STATE_SET completed with X0..X2 = 0x%llx 0x%llx 0x%llx, host progress to 0x%llx%s",
			  (unsigned long long)st.regs[0], (unsigned long long)st.regs[1], (unsigned long long)st.regs[2],
			  (unsigned long long)base, flags ? " (rejected)" : "");
}

static void answer_host_call(struct env *e, struct input *in, unsigned r, uint8_t c)
{
	uint64_t gprs[RMI_REC_NR_GPRS];
	memset(gprs, 0, sizeof(gprs));
	for (unsigned i = 0; i < (c & 7); i++)
		gprs[i] = get64(in);
	if (c & 8)   /* the host takes the page away first */
		smc(e, SMC_RMI_DATA_DESTROY, e->rd, RAM_IPA + ((c >> 4) & 3) * GRAN, 0, 0, 0, NULL);
	enter(e, r, 0, gprs);
}

/* A stage-2 fault on the RSI call's buffer: map the page when it is RAM (KVM's fault path), or not. */
static void answer_sync(struct env *e, struct input *in, unsigned r, uint8_t c)
{
	uint64_t hpfar = exit_get64(e, RMI_REC_EXIT_HPFAR), ipa = (hpfar >> 4) << 12;
	(void)in;
	if (!(c & 1)) {
		struct rmmemu_smc_result res;
		smc(e, SMC_RMI_RTT_READ_ENTRY, e->rd, ipa & ~(GRAN - 1), 3, 0, 0, &res);
		uint64_t g = delegated(e);
		if (smc(e, SMC_RMI_DATA_CREATE_UNKNOWN, e->rd, g, ipa & ~(GRAN - 1), 0, 0, NULL) != RMI_SUCCESS && g != NS_CANARY)
			smc(e, SMC_RMI_GRANULE_UNDELEGATE, g, 0, 0, 0, 0, NULL);
	}
	enter(e, r, c & 2 ? RMI_REC_ENTER_FLAG_INJECT_SEA : 0, NULL);
}

static void answer_exit(struct env *e, struct input *in, unsigned r, int reason, uint8_t c)
{
	switch (reason) {
	case RMI_EXIT_PSCI:
		answer_psci(e, in, r, c);
		break;
	case RMI_EXIT_RIPAS_CHANGE:
		answer_ripas(e, in, r, c);
		break;
	case RMI_EXIT_HOST_CALL:
		answer_host_call(e, in, r, c);
		break;
	case RMI_EXIT_SYNC:
		answer_sync(e, in, r, c);
		break;
	default:
		fuzz_fail("a realm SMC exited with reason %d", reason);
	}
}

static void check_ns_pages(struct env *e, const char *what)
{
	static uint8_t buf[GRAN];
	if (rmmemu_ns_read(e->emu, NS_SHARED, buf, GRAN) != RMMEMU_OK || memcmp(buf, e->shared_img, GRAN))
		fuzz_fail("the host's page mapped unprotected changed %s", what);
	if (rmmemu_ns_read(e->emu, NS_CANARY, buf, GRAN) != RMMEMU_OK || memcmp(buf, e->canary_img, GRAN))
		fuzz_fail("a host page no one named changed %s", what);
}

static void realm_smc(struct env *e, struct input *in, unsigned r)
{
	uint64_t x[RMMEMU_REALM_SMC_REGS];
	memset(x, 0, sizeof(x));
	x[0] = pick_fid(in, get8(in));
	unsigned n = get8(in) % RMMEMU_REALM_SMC_REGS;
	for (unsigned i = 1; i <= n; i++)
		x[i] = pick_arg(in, get8(in));
	if (((uint32_t)x[0] & ~(1U << 16)) == (uint32_t)RSI_FID(4) && ++e->token_inits > MAX_TOKENS)
		x[0] = RSI_FID(0);   /* keep every input well below the 1 s limit */
	uint64_t fid = x[0];
	uint8_t answer = get8(in);   /* how the host answers if the call exits (read in any case) */
	int reason = -1;
	if (rmm_debug_realm_smc(rmmemu_core(e->emu), e->rec[r], x, &e->exit, &reason) != RMMEMU_OK)
		fuzz_fail("REC %u may run but is not a REC", r);
	const char *name = rmmemu_realm_smc_name(fid);
	snprintf(e->when, sizeof(e->when), "after REC %u's SMC %s (0x%llx) -> x0=0x%llx, exit %d", r, name ? name : "?",
		 (unsigned long long)fid, (unsigned long long)x[0], reason);
	if (fuzz_out() == stderr)
		fprintf(stderr, "realm: %s\n", e->when + 6);
	fuzz_check_invariants(e->emu, e->when);
	check_ns_pages(e, e->when);
	if (!known_smc(fid) && (reason >= 0 || x[0] != ~0ULL))
		fuzz_fail("%s: not SMCCC_NOT_SUPPORTED", e->when);
	if (reason >= 0) {
		e->ready[r] = false;
		answer_exit(e, in, r, reason, answer);
	}
}

static void host_action(struct env *e, struct input *in)
{
	uint8_t c = get8(in), a = get8(in);
	uint64_t ipa = pick_arg(in, a);
	switch (c % 11) {
	case 8:   /* RTTs change under the realm: fold, destroy, create (a fresh granule, given back on failure) */
		smc(e, SMC_RMI_RTT_FOLD, e->rd, ipa & ~0x1fffffULL, 3, 0, 0, NULL);
		break;
	case 9:
		smc(e, SMC_RMI_RTT_DESTROY, e->rd, ipa & ~0x1fffffULL, 3, 0, 0, NULL);
		break;
	case 10: {
		uint64_t g = delegated(e);
		if (smc(e, SMC_RMI_RTT_CREATE, e->rd, g, ipa & ~0x1fffffULL, 2 + ((c >> 4) & 1), 0, NULL) != RMI_SUCCESS &&
		    g != NS_CANARY)
			smc(e, SMC_RMI_GRANULE_UNDELEGATE, g, 0, 0, 0, 0, NULL);
		break;
	}
	case 0:
		smc(e, SMC_RMI_DATA_DESTROY, e->rd, ipa, 0, 0, 0, NULL);
		break;
	case 1: {
		uint64_t g = delegated(e);
		if (smc(e, SMC_RMI_DATA_CREATE_UNKNOWN, e->rd, g, ipa, 0, 0, NULL) != RMI_SUCCESS && g != NS_CANARY)
			smc(e, SMC_RMI_GRANULE_UNDELEGATE, g, 0, 0, 0, 0, NULL);
		break;
	}
	case 2:
		smc(e, SMC_RMI_RTT_UNMAP_UNPROTECTED, e->rd, ipa, 3, 0, 0, NULL);
		break;
	case 3:   /* always the same host page, so the page-unchanged check stays meaningful */
		smc(e, SMC_RMI_RTT_MAP_UNPROTECTED, e->rd, ipa, 3, NS_SHARED | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW, 0, NULL);
		break;
	case 4:
		smc(e, SMC_RMI_RTT_SET_RIPAS, e->rd, e->rec[c >> 7], ipa, ipa + GRAN * (1 + ((c >> 3) & 7)), 0, NULL);
		break;
	case 5:
		smc(e, SMC_RMI_PSCI_COMPLETE, e->rec[(c >> 7) & 1], e->rec[(c >> 6) & 1], (c >> 3) & 1 ? PSCI_RETURN_DENIED : 0, 0, 0,
		    NULL);
		break;
	case 6:
		if (smc(e, SMC_RMI_REC_DESTROY, e->rec[1], 0, 0, 0, 0, NULL) == RMI_SUCCESS)
			e->ready[1] = false;
		break;
	default:
		smc(e, SMC_RMI_RTT_READ_ENTRY, e->rd, ipa & ~(GRAN - 1), (c >> 3) & 3, 0, 0, NULL);
		break;
	}
}

static struct rmmemu *new_instance(void)
{
	static struct rmmemu_platform_config pc;
	char err[256];
	if (!pc.num_dram) {
		rmmemu_platform_default(&pc);
		pc.dram[0] = (struct rmmemu_range){ DRAM_BASE, DRAM_SIZE };
		pc.num_dram = 1;
	}
	struct rmmemu *emu = rmmemu_create(&pc, err, sizeof(err));
	if (!emu)
		fuzz_fail("rmmemu_create: %s", err);
	return emu;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return -1;
	static struct env e;
	memset(&e, 0, sizeof(e));
	e.emu = new_instance();
	build(&e);
	struct input in = { data, size };
	for (unsigned step = 0; step < MAX_STEPS && in.n; step++) {
		uint8_t op = get8(&in);
		unsigned r = (op >> 3) & 1;
		if (op % 8 < 6) {
			if (e.ready[r])
				realm_smc(&e, &in, r);
		} else if (op % 8 == 6) {
			host_action(&e, &in);
			check_ns_pages(&e, e.when);
		} else {
			uint8_t f = get8(&in);
			enter(&e, r, f & 0x80 ? f : f & 0x1f, NULL);
		}
	}
	rmmemu_destroy(e.emu);
	return 0;
}

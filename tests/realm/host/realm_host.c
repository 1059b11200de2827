/* The host side of the realm payload tests: see realm_host.h. */
#include "realm_host.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>
#include <time.h>

#define G 4096ULL
#define ESR_EC(e)        (((e) >> 26) & 0x3F)
#define ESR_ISV          (1ULL << 24)
#define ESR_WNR          (1ULL << 6)
#define ESR_SAS(e)       (((e) >> 22) & 3)
#define LR_PENDING       (1ULL << 62)
#define LR_STATE_MASK    (3ULL << 62)
#define LR_GROUP1        (1ULL << 60)
#define VTIMER_INTID     27ULL

static void fail(struct rh_realm *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct rh_realm *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->failed = true;
	if (r->env->verbose)
		fprintf(stderr, "realm host: %s\n", r->err);
}

uint64_t rh_call(struct rh_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		 uint64_t a5, struct rmmemu_smc_result *res)
{
	struct rmmemu_smc_result tmp;
	return rmmemu_smc6(e->emu, fid, a1, a2, a3, a4, a5, 0, res ? res : &tmp);
}

bool rh_env_init(struct rh_env *e, unsigned dram_mb)
{
	struct rmmemu_platform_config cfg;
	char err[128];
	memset(e, 0, sizeof(*e));
	rmmemu_platform_default(&cfg);
	cfg.dram[0].size = (uint64_t)dram_mb << 20;
	e->emu = rmmemu_create(&cfg, err, sizeof(err));
	if (!e->emu) {
		fprintf(stderr, "rmmemu_create: %s\n", err);
		return false;
	}
	if (rmmemu_enable_vcpu(e->emu) != RMMEMU_OK) {
		rmmemu_destroy(e->emu);
		return false;
	}
	/* The payloads rely on preemption (a busy loop waiting for the timer): whatever
	 * $RMMEMU_VCPU_SLICE_US says, use the default slice. */
	rmmemu_vcpu_set_timeslice(e->emu, 20000);
	e->dram_base = cfg.dram[0].base;
	e->next = e->dram_base + (1ULL << 20);
	e->end = e->dram_base + cfg.dram[0].size;
	e->next_vmid = 1;
	e->verbose = getenv("RMMEMU_TEST_VERBOSE") != NULL;
	return true;
}

void rh_env_fini(struct rh_env *e)
{
	if (!e->emu)
		return;
	rmmemu_disable_vcpu(e->emu);
	rmmemu_destroy(e->emu);
	e->emu = NULL;
}

/* The granule allocator and its free list are shared by every realm of an env, whose RECs may be
 * entered from several threads (rh_run_parallel). */
static pthread_mutex_t alloc_mu = PTHREAD_MUTEX_INITIALIZER;

uint64_t rh_ns(struct rh_env *e, unsigned n)
{
	uint64_t align = n * G;
	pthread_mutex_lock(&alloc_mu);
	uint64_t pa = (e->next + align - 1) / align * align;
	if (pa + n * G > e->end) {
		pthread_mutex_unlock(&alloc_mu);
		return 0;
	}
	e->next = pa + n * G;
	pthread_mutex_unlock(&alloc_mu);
	return pa;
}

static bool delegate(struct rh_env *e, uint64_t pa, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (rh_call(e, SMC_RMI_GRANULE_DELEGATE, pa + i * G, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
			return false;
	return true;
}

static uint64_t dg(struct rh_env *e)
{
	uint64_t pa = rh_ns(e, 1);
	return pa && delegate(e, pa, 1) ? pa : 0;
}

static void zero_ns(struct rh_env *e, uint64_t pa)
{
	static const uint8_t z[4096];
	rmmemu_ns_write(e->emu, pa, z, sizeof(z));
}

bool rh_realm_create(struct rh_env *e, struct rh_realm *r, unsigned ipa_bits)
{
	memset(r, 0, sizeof(*r));
	pthread_mutex_init(&r->mu, NULL);
	r->env = e;
	r->ipa_bits = ipa_bits;
	if (ipa_bits <= 34) {
		r->sl = 2;
		r->nroots = 1U << (ipa_bits - 30);
	} else {
		r->sl = 1;
		r->nroots = ipa_bits > 39 ? 1U << (ipa_bits - 39) : 1;
	}
	r->rd = dg(e);
	r->rtt_root = rh_ns(e, r->nroots);
	uint64_t params = rh_ns(e, 1);
	if (!r->rd || !r->rtt_root || !params || !delegate(e, r->rtt_root, r->nroots)) {
		fail(r, "out of memory");
		return false;
	}
	zero_ns(e, params);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_S2SZ, ipa_bits);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_NUM_BPS, 1);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_NUM_WPS, 1);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_HASH_ALGO, RMI_HASH_SHA_256);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_VMID, e->next_vmid++);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_RTT_BASE, r->rtt_root);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_RTT_LEVEL_START, (uint64_t)r->sl);
	rmmemu_ns_write64(e->emu, params + RMI_REALM_PARAMS_RTT_NUM_START, r->nroots);
	uint64_t ret = rh_call(e, SMC_RMI_REALM_CREATE, r->rd, params, 0, 0, 0, NULL);
	if (ret != RMI_SUCCESS) {
		fail(r, "REALM_CREATE: %#llx", (unsigned long long)ret);
		return false;
	}
	return true;
}

static uint64_t level_size(int level)
{
	return 1ULL << (12 + 9 * (3 - level));
}

/* Create the RTTs from the start level + 1 down to `level` on the path to ipa. */
static bool rtt_path(struct rh_realm *r, uint64_t ipa, int level)
{
	for (int l = r->sl + 1; l <= level; l++) {
		uint64_t base = ipa & ~(level_size(l - 1) - 1);
		uint64_t rtt = dg(r->env);
		if (!rtt)
			return false;
		uint64_t ret = rh_call(r->env, SMC_RMI_RTT_CREATE, r->rd, rtt, base, (uint64_t)l, 0, NULL);
		if (ret == RMI_SUCCESS) {
			if (r->nrtts < RH_MAX_RTTS) {
				r->rtts[r->nrtts].ipa = base;
				r->rtts[r->nrtts].pa = rtt;
				r->rtts[r->nrtts].level = l;
				r->nrtts++;
			}
			continue;
		}
		rh_call(r->env, SMC_RMI_GRANULE_UNDELEGATE, rtt, 0, 0, 0, 0, NULL);
		/* ERROR_RTT at level l-1 (or deeper) means this table exists already */
		if (RMI_RETURN_STATUS(ret) != RMI_ERROR_RTT || (int)RMI_RETURN_INDEX(ret) < l - 1) {
			fail(r, "RTT_CREATE(%#llx, %d): %#llx", (unsigned long long)base, l, (unsigned long long)ret);
			return false;
		}
	}
	return true;
}

static void track_data(struct rh_realm *r, uint64_t ipa, uint64_t pa)
{
	if (r->ndata < RH_MAX_DATA) {
		r->data[r->ndata].ipa = ipa;
		r->data[r->ndata].pa = pa;
		r->ndata++;
	}
}

static bool map_unknown(struct rh_realm *r, uint64_t ipa)
{
	ipa &= ~(G - 1);
	if (!rtt_path(r, ipa, 3))
		return false;
	/* A granule given back earlier is used again first, as KVM's page allocator would. */
	struct rh_env *e = r->env;
	uint64_t pa = 0;
	pthread_mutex_lock(&alloc_mu);
	if (e->nfreed)
		pa = e->freed[--e->nfreed];
	pthread_mutex_unlock(&alloc_mu);
	if (pa) {
		if (delegate(e, pa, 1))
			__atomic_fetch_add(&e->reused, 1, __ATOMIC_RELAXED);
		else
			pa = 0;
	}
	if (!pa)
		pa = dg(e);
	if (!pa) {
		fail(r, "out of memory");
		return false;
	}
	uint64_t ret = rh_call(r->env, SMC_RMI_DATA_CREATE_UNKNOWN, r->rd, pa, ipa, 0, 0, NULL);
	if (ret != RMI_SUCCESS) {
		fail(r, "DATA_CREATE_UNKNOWN(%#llx): %#llx", (unsigned long long)ipa, (unsigned long long)ret);
		return false;
	}
	track_data(r, ipa, pa);
	return true;
}

bool rh_realm_load(struct rh_realm *r, const char *payload, unsigned nrecs)
{
	struct rh_env *e = r->env;
	FILE *f = fopen(payload, "rb");
	if (!f) {
		fail(r, "cannot open %s", payload);
		return false;
	}
	uint8_t *img = malloc(RH_RAM_SIZE);
	size_t len = img ? fread(img, 1, RH_RAM_SIZE, f) : 0;
	fclose(f);
	if (len == 0 || len >= RH_RAM_SIZE) {
		free(img);
		fail(r, "bad payload %s", payload);
		return false;
	}
	/* RIPAS RAM over the payload's RAM, then the image measured granule by granule. */
	uint64_t base = RH_RAM_BASE, top = RH_RAM_BASE + RH_RAM_SIZE;
	while (base < top) {
		struct rmmemu_smc_result res;
		uint64_t ret = rh_call(e, SMC_RMI_RTT_INIT_RIPAS, r->rd, base, top, 0, 0, &res);
		if (ret == RMI_SUCCESS) {
			base = res.x[1];
		} else if (RMI_RETURN_STATUS(ret) == RMI_ERROR_RTT) {
			if (!rtt_path(r, base, (int)RMI_RETURN_INDEX(ret) + 1))
				return false;
		} else {
			fail(r, "RTT_INIT_RIPAS: %#llx", (unsigned long long)ret);
			return false;
		}
	}
	uint64_t src = rh_ns(e, 1);
	for (size_t off = 0; off < len; off += G) {
		uint8_t page[4096] = { 0 };
		memcpy(page, img + off, len - off < G ? len - off : G);
		rmmemu_ns_write(e->emu, src, page, sizeof(page));
		uint64_t ipa = RH_RAM_BASE + off, pa = dg(e);
		if (!pa || !rtt_path(r, ipa, 3)) {
			free(img);
			fail(r, "out of memory");
			return false;
		}
		uint64_t ret = rh_call(e, SMC_RMI_DATA_CREATE, r->rd, pa, ipa, src, RMI_MEASURE_CONTENT, NULL);
		if (ret != RMI_SUCCESS) {
			free(img);
			fail(r, "DATA_CREATE(%#llx): %#llx", (unsigned long long)ipa, (unsigned long long)ret);
			return false;
		}
		track_data(r, ipa, pa);
	}
	free(img);

	/* RECs: REC 0 runnable at the image entry, the others waiting for PSCI CPU_ON. */
	struct rmmemu_smc_result res;
	rh_call(e, SMC_RMI_REC_AUX_COUNT, r->rd, 0, 0, 0, 0, &res);
	unsigned naux = (unsigned)res.x[1];
	uint64_t params = rh_ns(e, 1);
	for (unsigned i = 0; i < nrecs && i < RH_MAX_RECS; i++) {
		uint64_t rec = dg(e), aux = rh_ns(e, naux);
		if (!rec || !aux || !delegate(e, aux, naux)) {
			fail(r, "out of memory");
			return false;
		}
		zero_ns(e, params);
		rmmemu_ns_write64(e->emu, params + RMI_REC_PARAMS_FLAGS, i == 0 ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0);
		rmmemu_ns_write64(e->emu, params + RMI_REC_PARAMS_MPIDR, i);
		rmmemu_ns_write64(e->emu, params + RMI_REC_PARAMS_PC, RH_RAM_BASE);
		rmmemu_ns_write64(e->emu, params + RMI_REC_PARAMS_NUM_AUX, naux);
		for (unsigned j = 0; j < naux; j++)
			rmmemu_ns_write64(e->emu, params + RMI_REC_PARAMS_AUX + 8 * j, aux + j * G);
		uint64_t ret = rh_call(e, SMC_RMI_REC_CREATE, r->rd, rec, params, 0, 0, NULL);
		if (ret != RMI_SUCCESS) {
			fail(r, "REC_CREATE: %#llx", (unsigned long long)ret);
			return false;
		}
		r->recs[i] = rec;
		r->run[i] = rh_ns(e, 1);
		r->on[i] = i == 0;
		r->nrecs++;
	}
	uint64_t ret = rh_call(e, SMC_RMI_REALM_ACTIVATE, r->rd, 0, 0, 0, 0, NULL);
	if (ret != RMI_SUCCESS) {
		fail(r, "REALM_ACTIVATE: %#llx", (unsigned long long)ret);
		return false;
	}
	return true;
}

bool rh_realm_setup(struct rh_env *e, struct rh_realm *r, const char *name, unsigned ipa_bits, unsigned nrecs)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s.bin", RMMEMU_REALM_DIR, name);
	return rh_realm_create(e, r, ipa_bits) && rh_realm_load(r, path, nrecs);
}

/* ---- devices ---- */

static uint64_t shared_bit(const struct rh_realm *r)
{
	return 1ULL << (r->ipa_bits - 1);
}

static bool dev_access(struct rh_realm *r, uint64_t off, unsigned size, bool write, uint64_t *val)
{
	if (off >= RH_UART_OFFSET && off < RH_UART_OFFSET + 8) {
		if (write) {
			if (off == RH_UART_OFFSET && r->uart_len + 1 < sizeof(r->uart)) {
				r->uart[r->uart_len++] = (char)*val;
				r->uart[r->uart_len] = 0;
				r->st.uart_bytes++;
			}
		} else {
			*val = off == RH_UART_OFFSET + 5 ? 0x60 : 0; /* LSR: THR empty */
		}
		return true;
	}
	if (off >= RH_TESTDEV_OFFSET && off + size <= RH_TESTDEV_OFFSET + RH_TESTDEV_SIZE) {
		uint8_t *p = r->testdev + (off - RH_TESTDEV_OFFSET);
		if (write) {
			for (unsigned i = 0; i < size; i++)
				p[i] = (uint8_t)(*val >> (8 * i));
		} else {
			uint64_t v = 0;
			for (unsigned i = 0; i < size; i++)
				v |= (uint64_t)p[i] << (8 * i);
			*val = v;
		}
		return true;
	}
	return false;
}

/* ---- exits ---- */

static uint64_t run_get(struct rh_realm *r, unsigned idx, unsigned off)
{
	uint64_t v;
	(void)idx;
	memcpy(&v, r->exit_img + (off - RMI_REC_EXIT_BASE), sizeof(v));
	return v;
}

static bool handle_data_abort(struct rh_realm *r, unsigned idx, uint64_t esr)
{
	uint64_t hpfar = run_get(r, idx, RMI_REC_EXIT_HPFAR), far = run_get(r, idx, RMI_REC_EXIT_FAR);
	uint64_t ipa = ((hpfar >> 4) << 12) | (far & 0xFFF);
	if (ipa < shared_bit(r)) {
		/* Protected RAM without a granule: populate it (KVM's fault path). */
		r->st.data_faults++;
		return map_unknown(r, ipa);
	}
	uint64_t off = ipa - shared_bit(r), val = 0;
	unsigned size = 1U << ESR_SAS(esr);
	bool write = (esr & ESR_WNR) != 0;
	if (!(esr & ESR_ISV)) {
		r->enter_flags[idx] |= RMI_REC_ENTER_FLAG_INJECT_SEA;
		r->st.sea_injected++;
		return true;
	}
	if (write)
		val = run_get(r, idx, RMI_REC_EXIT_GPRS);
	if (!dev_access(r, off, size, write, &val)) {
		/* No device there: an external abort for the realm. */
		r->enter_flags[idx] |= RMI_REC_ENTER_FLAG_INJECT_SEA;
		r->st.sea_injected++;
		return true;
	}
	if (write)
		r->st.mmio_writes++;
	else
		r->st.mmio_reads++;
	r->enter_gprs[idx][0] = val;
	r->enter_flags[idx] |= RMI_REC_ENTER_FLAG_EMUL_MMIO;
	return true;
}

static bool handle_sync(struct rh_realm *r, unsigned idx)
{
	uint64_t esr = run_get(r, idx, RMI_REC_EXIT_ESR);
	r->last_esr = esr;
	switch (ESR_EC(esr)) {
	case 0x24: /* data abort */
		return handle_data_abort(r, idx, esr);
	case 0x20: { /* instruction abort: protected RAM not populated */
		uint64_t hpfar = run_get(r, idx, RMI_REC_EXIT_HPFAR);
		r->st.data_faults++;
		return map_unknown(r, (hpfar >> 4) << 12);
	}
	case 0x01: /* trapped WFI/WFE (ISS.TI): nothing to wait for in this host */
		r->st.last_wfx_esr = esr;
		if (esr & 1)
			r->st.wfe_traps++;
		else
			r->st.wfi_traps++;
		return true;
	case 0x18: /* trapped system register write (ICC_SGI1R...) */
		r->st.sysreg_traps++;
		r->st.last_sysreg_esr = esr;
		r->st.last_sysreg_value = run_get(r, idx, RMI_REC_EXIT_GPRS);
		return true;
	default:
		fail(r, "unexpected sync exit ESR %#llx", (unsigned long long)esr);
		return false;
	}
}

static int rec_by_mpidr(const struct rh_realm *r, uint64_t mpidr)
{
	unsigned idx = (unsigned)(mpidr & 0xF);
	return idx < r->nrecs ? (int)idx : -1;
}

static bool handle_psci(struct rh_realm *r, unsigned idx)
{
	uint64_t fid = run_get(r, idx, RMI_REC_EXIT_GPRS) & 0xFFFFFFFF;
	uint64_t target = run_get(r, idx, RMI_REC_EXIT_GPRS + 8);
	r->st.psci++;
	switch (fid) {
	case 0x84000003: /* CPU_ON */
	case 0xC4000003:
	case 0x84000004: /* AFFINITY_INFO */
	case 0xC4000004: {
		int t = rec_by_mpidr(r, target);
		if (t < 0) {
			fail(r, "PSCI target %#llx", (unsigned long long)target);
			return false;
		}
		uint64_t ret = rh_call(r->env, SMC_RMI_PSCI_COMPLETE, r->recs[idx], r->recs[t], PSCI_RETURN_SUCCESS,
				       0, 0, NULL);
		if (ret != RMI_SUCCESS) {
			fail(r, "PSCI_COMPLETE: %#llx", (unsigned long long)ret);
			return false;
		}
		if ((fid & 0xFF) == 3)
			r->on[t] = true;
		return true;
	}
	case 0x84000002: /* CPU_OFF */
		r->on[idx] = false;
		return true;
	case 0x84000008: /* SYSTEM_OFF */
	case 0x84000009: /* SYSTEM_RESET */
		r->system_off = true;
		return true;
	default:
		return true; /* CPU_SUSPEND ... */
	}
}

static bool handle_ripas(struct rh_realm *r, unsigned idx)
{
	uint64_t base = run_get(r, idx, RMI_REC_EXIT_RIPAS_BASE), top = run_get(r, idx, RMI_REC_EXIT_RIPAS_TOP);
	uint64_t value = run_get(r, idx, RMI_REC_EXIT_RIPAS_VALUE) & 0xFF;
	r->st.ripas_changes++;
	r->st.last_ripas_base = base;
	r->st.last_ripas_top = top;
	r->st.last_ripas_value = value;
	uint64_t addr = base;
	while (addr < top) {
		struct rmmemu_smc_result res;
		uint64_t ret = rh_call(r->env, SMC_RMI_RTT_SET_RIPAS, r->rd, r->recs[idx], addr, top, 0, &res);
		if (ret == RMI_SUCCESS) {
			addr = res.x[1];
		} else if (RMI_RETURN_STATUS(ret) == RMI_ERROR_RTT && RMI_RETURN_INDEX(ret) < 3) {
			if (!rtt_path(r, addr, (int)RMI_RETURN_INDEX(ret) + 1))
				return false;
		} else {
			fail(r, "RTT_SET_RIPAS(%#llx, %#llx): %#llx", (unsigned long long)addr,
			     (unsigned long long)top, (unsigned long long)ret);
			return false;
		}
	}
	if (value == RMI_EMPTY) {
		/* As KVM: the private pages of an EMPTY range are given back. */
		for (unsigned i = 0; i < r->ndata; i++) {
			if (r->data[i].ipa < base || r->data[i].ipa >= top || !r->data[i].pa)
				continue;
			if (rh_call(r->env, SMC_RMI_DATA_DESTROY, r->rd, r->data[i].ipa, 0, 0, 0, NULL) == RMI_SUCCESS &&
			    rh_call(r->env, SMC_RMI_GRANULE_UNDELEGATE, r->data[i].pa, 0, 0, 0, 0, NULL) == RMI_SUCCESS) {
				struct rh_env *e = r->env;
				pthread_mutex_lock(&alloc_mu);
				if (e->nfreed < sizeof(e->freed) / sizeof(e->freed[0]))
					e->freed[e->nfreed++] = r->data[i].pa;
				pthread_mutex_unlock(&alloc_mu);
				r->data[i].pa = 0;
			}
		}
	}
	return true;
}

static bool handle_host_call(struct rh_realm *r, unsigned idx)
{
	uint64_t in[31], out[31];
	unsigned imm = (unsigned)(run_get(r, idx, RMI_REC_EXIT_IMM) & 0xFFFF);
	for (unsigned i = 0; i < 31; i++)
		in[i] = run_get(r, idx, RMI_REC_EXIT_GPRS + 8 * i);
	memcpy(out, in, sizeof(out));
	r->st.host_calls++;
	if (imm == RH_HOSTCALL_DONE) {
		r->done_call = true;
		r->done_failures = in[1];
	}
	if (r->on_host_call)
		r->on_host_call(r, idx, imm, in, out);
	else
		out[0] = in[1] + in[2];
	memcpy(r->enter_gprs[idx], out, sizeof(out));
	return true;
}

/* The virtual timer as the exit reports it: raise vINTID 27 while asserted (KVM's
 * kvm_realm_timers_update + vgic). */
static void update_timer_irq(struct rh_realm *r, unsigned idx)
{
	uint64_t ctl = run_get(r, idx, RMI_REC_EXIT_CNTV_CTL);
	bool asserted = (ctl & 7) == 5; /* ENABLE | ISTATUS, not IMASK */
	uint64_t *lrs = r->lrs[idx];
	int slot = -1;
	for (unsigned i = 0; i < 16; i++) {
		if ((lrs[i] & 0xFFFFFFFF) == VTIMER_INTID && (lrs[i] & LR_STATE_MASK))
			return; /* already in flight */
		if (slot < 0 && !(lrs[i] & LR_STATE_MASK))
			slot = (int)i;
	}
	if (asserted && r->deliver_timer && slot >= 0) {
		lrs[slot] = LR_PENDING | LR_GROUP1 | (0xA0ULL << 48) | VTIMER_INTID;
		r->st.timer_irqs++;
	}
}

/* The host side of one REC_ENTER is split in two around the call, so that RECs entered from
 * several threads (rh_run_parallel) only serialise the host's own work, under r->mu. */
static void host_lock(struct rh_realm *r)
{
	pthread_mutex_lock(&r->mu);
}

static void host_unlock(struct rh_realm *r)
{
	pthread_mutex_unlock(&r->mu);
}

static int enter_finish(struct rh_realm *r, unsigned idx, uint64_t ret);

int rh_enter(struct rh_realm *r, unsigned idx)
{
	struct rh_env *e = r->env;
	uint64_t run = r->run[idx];

	host_lock(r);
	uint64_t flags = r->enter_flags[idx];
	uint8_t enter[RMI_REC_ENTER_SIZE] = { 0 };
	if (r->trap_wfi)
		flags |= RMI_REC_ENTER_FLAG_TRAP_WFI;
	if (r->trap_wfe)
		flags |= RMI_REC_ENTER_FLAG_TRAP_WFE;
	memcpy(enter + RMI_REC_ENTER_FLAGS, &flags, 8);
	memcpy(enter + RMI_REC_ENTER_GPRS, r->enter_gprs[idx], 8 * 31);
	memcpy(enter + RMI_REC_ENTER_GICV3_LRS, r->lrs[idx], 8 * 16);
	rmmemu_ns_write(e->emu, run, enter, sizeof(enter));
	r->enter_flags[idx] = 0;
	memset(r->enter_gprs[idx], 0, sizeof(r->enter_gprs[idx]));
	r->st.entries++;
	if (++r->in_enter > r->max_in_enter)
		r->max_in_enter = r->in_enter;
	host_unlock(r);
	uint64_t ret = rh_call(e, SMC_RMI_REC_ENTER, r->recs[idx], run, 0, 0, 0, NULL);
	host_lock(r);
	r->in_enter--;
	int rc = enter_finish(r, idx, ret);
	host_unlock(r);
	return rc;
}

static int enter_finish(struct rh_realm *r, unsigned idx, uint64_t ret)
{
	struct rh_env *e = r->env;
	uint64_t run = r->run[idx];
	if (ret != RMI_SUCCESS) {
		if (ret == RMI_PACK_RETURN(RMI_ERROR_REALM, 1)) { /* SYSTEM_OFF raced */
			r->system_off = true;
			return RMI_EXIT_PSCI;
		}
		fail(r, "REC_ENTER(rec %u): %#llx", idx, (unsigned long long)ret);
		return -1;
	}
	rmmemu_ns_read(e->emu, run + RMI_REC_EXIT_BASE, r->exit_img, sizeof(r->exit_img));
	uint64_t reason = run_get(r, idx, RMI_REC_EXIT_REASON);
	r->last_exit_reason = reason;
	if (reason < 8)
		r->st.exits[reason]++;
	for (unsigned i = 0; i < 16; i++)
		r->lrs[idx][i] = run_get(r, idx, RMI_REC_EXIT_GICV3_LRS + 8 * i);
	update_timer_irq(r, idx);
	if (e->verbose) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		fprintf(stderr, "%ld.%06ld rec %u exit %llu esr %#llx\n", (long)ts.tv_sec, ts.tv_nsec / 1000, idx,
			(unsigned long long)reason, (unsigned long long)run_get(r, idx, RMI_REC_EXIT_ESR));
	}
	bool ok;
	switch (reason) {
	case RMI_EXIT_SYNC:
		ok = handle_sync(r, idx);
		break;
	case RMI_EXIT_IRQ:
	case RMI_EXIT_FIQ:
		ok = true;
		break;
	case RMI_EXIT_PSCI:
		ok = handle_psci(r, idx);
		break;
	case RMI_EXIT_RIPAS_CHANGE:
		ok = handle_ripas(r, idx);
		break;
	case RMI_EXIT_HOST_CALL:
		ok = handle_host_call(r, idx);
		break;
	default:
		fail(r, "exit reason %llu (ESR %#llx)", (unsigned long long)reason,
		     (unsigned long long)run_get(r, idx, RMI_REC_EXIT_ESR));
		ok = false;
		break;
	}
	return ok ? (int)reason : -1;
}

bool rh_run(struct rh_realm *r, unsigned max_entries)
{
	unsigned n = 0, idx = 0;
	while (!r->system_off && n < max_entries) {
		bool any = false;
		for (unsigned k = 0; k < r->nrecs; k++) {
			unsigned i = (idx + k) % r->nrecs;
			if (!r->on[i])
				continue;
			any = true;
			idx = i;
			break;
		}
		if (!any)
			return true;
		if (rh_enter(r, idx) < 0)
			return false;
		n++;
		/* Stay on a REC while it makes progress through emulated exits; switch on IRQ/PSCI. */
		uint64_t reason = r->last_exit_reason;
		if (reason == RMI_EXIT_IRQ || reason == RMI_EXIT_PSCI || !r->on[idx])
			idx = (idx + 1) % r->nrecs;
	}
	if (!r->system_off) {
		fail(r, "no SYSTEM_OFF after %u entries", max_entries);
		return false;
	}
	return true;
}

bool rh_map_unprotected(struct rh_realm *r, uint64_t ipa, uint64_t ns_pa)
{
	uint64_t desc = ns_pa | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW;
	uint64_t ret = rh_call(r->env, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, ipa, 3, desc, 0, NULL);
	if (RMI_RETURN_STATUS(ret) != RMI_ERROR_RTT)
		return ret == RMI_SUCCESS;
	host_lock(r);          /* the RTT list is shared with the exit handlers */
	bool ok = rtt_path(r, ipa, 3);
	host_unlock(r);
	return ok && rh_call(r->env, SMC_RMI_RTT_MAP_UNPROTECTED, r->rd, ipa, 3, desc, 0, NULL) == RMI_SUCCESS;
}

bool rh_unmap_unprotected(struct rh_realm *r, uint64_t ipa)
{
	struct rmmemu_smc_result res;
	return rh_call(r->env, SMC_RMI_RTT_UNMAP_UNPROTECTED, r->rd, ipa, 3, 0, 0, &res) == RMI_SUCCESS;
}

struct par_rec {
	struct rh_realm *r;
	unsigned idx;
	pthread_cond_t *cv;
	unsigned max_entries;
	bool ok;
};

/* One host thread per REC, as KVM's vCPU threads: enter while the REC is on, wait while it is off
 * (a PSCI CPU_ON handled by another thread turns it on). */
static void *par_thread(void *arg)
{
	struct par_rec *p = arg;
	struct rh_realm *r = p->r;
	unsigned n = 0;
	p->ok = true;
	for (;;) {
		host_lock(r);
		while (!r->on[p->idx] && !r->system_off && !r->failed && !r->par_stop)
			pthread_cond_wait(p->cv, &r->mu);
		bool go = !r->system_off && !r->failed && !r->par_stop;
		host_unlock(r);
		if (!go)
			break;
		if (n++ == p->max_entries || rh_enter(r, p->idx) < 0) {
			p->ok = false;
			host_lock(r);
			r->par_stop = true;
			host_unlock(r);
		}
		/* Whatever this exit changed (another REC on, SYSTEM_OFF) wakes the other threads; the
		 * end of the run also stops RECs still running (they may spin without a time slice). */
		host_lock(r);
		bool end = r->system_off || r->failed || r->par_stop;
		pthread_cond_broadcast(p->cv);
		host_unlock(r);
		if (end)
			rmmemu_vcpu_kick(r->env->emu);
	}
	host_lock(r);
	pthread_cond_broadcast(p->cv);
	host_unlock(r);
	return NULL;
}

bool rh_run_parallel(struct rh_realm *r, unsigned max_entries)
{
	pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
	struct par_rec p[RH_MAX_RECS];
	pthread_t t[RH_MAX_RECS];
	bool ok = true;

	host_lock(r);
	r->par_stop = false;
	host_unlock(r);
	for (unsigned i = 0; i < r->nrecs; i++) {
		p[i] = (struct par_rec){ .r = r, .idx = i, .cv = &cv, .max_entries = max_entries };
		if (pthread_create(&t[i], NULL, par_thread, &p[i]) != 0) {
			fail(r, "cannot start a vCPU thread");
			return false;
		}
	}
	for (unsigned i = 0; i < r->nrecs; i++) {
		pthread_join(t[i], NULL);
		ok = ok && p[i].ok;
	}
	pthread_cond_destroy(&cv);
	if (ok && !r->system_off) {
		fail(r, "no SYSTEM_OFF");
		ok = false;
	}
	return ok && !r->failed;
}

bool rh_realm_destroy(struct rh_realm *r)
{
	struct rh_env *e = r->env;
	bool ok = true;
	for (unsigned i = 0; i < r->nrecs; i++) {
		if (rh_call(e, SMC_RMI_REC_DESTROY, r->recs[i], 0, 0, 0, 0, NULL) != RMI_SUCCESS)
			ok = false;
	}
	for (unsigned i = 0; i < r->ndata; i++) {
		if (!r->data[i].pa)
			continue;
		if (rh_call(e, SMC_RMI_DATA_DESTROY, r->rd, r->data[i].ipa, 0, 0, 0, NULL) != RMI_SUCCESS)
			ok = false;
	}
	/* Deepest tables first. */
	for (int level = 3; level > r->sl; level--)
		for (unsigned i = r->nrtts; i-- > 0;)
			if (r->rtts[i].level == level &&
			    rh_call(e, SMC_RMI_RTT_DESTROY, r->rd, r->rtts[i].ipa, (uint64_t)level, 0, 0, NULL) != RMI_SUCCESS)
				ok = false;
	if (rh_call(e, SMC_RMI_REALM_DESTROY, r->rd, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
		ok = false;
	/* Undelegate every delegated granule the allocator handed out. */
	for (uint64_t pa = e->dram_base; pa < e->next; pa += G) {
		struct rmmemu_granule_info gi;
		if (rmmemu_granule_info(e->emu, pa, &gi) == RMMEMU_OK && gi.state == RMMEMU_GRANULE_DELEGATED)
			rh_call(e, SMC_RMI_GRANULE_UNDELEGATE, pa, 0, 0, 0, 0, NULL);
	}
	return ok;
}

bool rh_uart_has(const struct rh_realm *r, const char *s)
{
	return strstr(r->uart, s) != NULL;
}

struct rh_env rh_suite;

int rh_suite_init(void)
{
	return rh_env_init(&rh_suite, 64) ? 0 : -1;
}

int rh_suite_fini(void)
{
	rh_env_fini(&rh_suite);
	return 0;
}

void rh_suite_show(const struct rh_realm *r)
{
	rh_show(r, rh_suite.verbose);
}

void rh_show(const struct rh_realm *r, bool verbose)
{
	if (r->failed || !rh_payload_passed(r) || verbose)
		fprintf(stderr, "\n--- realm console ---\n%s--- host: %s\n", r->uart, r->err);
}

bool rh_payload_passed(const struct rh_realm *r)
{
	return !r->failed && rh_uart_has(r, "DONE pass=") && rh_uart_has(r, " fail=0\n") && !rh_uart_has(r, "FAIL");
}

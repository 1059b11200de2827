/* Shared helpers of the RMI unit tests: see th.h. */
#include "helpers/th.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rmi/rmi.h"


#define TH_ENTRIES 512U

/* ---- platform ---- */

void th_platform_small(struct rmmemu_platform_config *cfg)
{
	rmmemu_platform_default(cfg);
	cfg->dram[0] = (struct rmmemu_range){ TH_DRAM_BASE, TH_DRAM_SIZE };
	cfg->num_dram = 1;
	cfg->device[0] = (struct rmmemu_range){ 0, 0x40000000ULL };
	cfg->num_device = 1;
	cfg->secure[0] = (struct rmmemu_range){ TH_SECURE_BASE, TH_SECURE_SIZE };
	cfg->num_secure = 1;
	cfg->root[0] = (struct rmmemu_range){ TH_ROOT_BASE, TH_ROOT_SIZE };
	cfg->num_root = 1;
}

void th_platform_pa52(struct rmmemu_platform_config *cfg)
{
	th_platform_small(cfg);
	cfg->pa_bits = 52;
	cfg->dram[1] = (struct rmmemu_range){ TH_HIGH_BASE, TH_HIGH_SIZE };
	cfg->num_dram = 2;
}

void th_init(struct th_env *e, const struct rmmemu_platform_config *cfg)
{
	char err[256] = "";

	memset(e, 0, sizeof(*e));
	if (cfg)
		e->cfg = *cfg;
	else
		th_platform_small(&e->cfg);
	e->emu = rmmemu_create(&e->cfg, err, sizeof(err));
	if (!e->emu) {
		fprintf(stderr, "rmmemu_create: %s\n", err);
		CU_FAIL_FATAL("rmmemu_create failed");
	}
	e->rmm = rmmemu_core(e->emu);
	e->next = e->cfg.dram[0].base;
	e->end = e->cfg.dram[0].base + e->cfg.dram[0].size;
	if (e->cfg.dram[0].base == TH_DRAM_BASE && e->end > TH_ALLOC_END)
		e->end = TH_ALLOC_END;
	e->next_vmid = 1;
}

void th_fini(struct th_env *e)
{
	rmmemu_destroy(e->emu);
	e->emu = NULL;
	e->rmm = NULL;
}

/* ---- allocation ---- */

uint64_t th_ns_n(struct th_env *e, unsigned n, uint64_t align)
{
	if (align < GRANULE_SIZE)
		align = GRANULE_SIZE;
	uint64_t pa = (e->next + align - 1) & ~(align - 1);
	if (pa + (uint64_t)n * GRANULE_SIZE > e->end) {
		fprintf(stderr, "test allocator: out of DRAM (%u granules)\n", n);
		CU_FAIL_FATAL("test allocator out of DRAM");
	}
	e->next = pa + (uint64_t)n * GRANULE_SIZE;
	return pa;
}

uint64_t th_ns(struct th_env *e)
{
	return th_ns_n(e, 1, GRANULE_SIZE);
}

uint64_t th_dg_n(struct th_env *e, unsigned n, uint64_t align)
{
	uint64_t pa = th_ns_n(e, n, align);
	for (unsigned i = 0; i < n; i++) {
		uint64_t rc = th_delegate(e, pa + (uint64_t)i * GRANULE_SIZE);
		if (rc != RMI_SUCCESS) {
			fprintf(stderr, "delegate 0x%llx failed: 0x%llx\n",
				(unsigned long long)(pa + (uint64_t)i * GRANULE_SIZE), (unsigned long long)rc);
			CU_FAIL_FATAL("delegate failed");
		}
	}
	return pa;
}

uint64_t th_dg(struct th_env *e)
{
	return th_dg_n(e, 1, GRANULE_SIZE);
}

void th_fill(struct th_env *e, uint64_t pa, uint8_t byte)
{
	uint8_t buf[GRANULE_SIZE];
	memset(buf, byte, sizeof(buf));
	CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write(e->emu, pa, buf, sizeof(buf)), RMMEMU_OK);
}

bool th_is_zero(struct th_env *e, uint64_t pa)
{
	uint8_t buf[GRANULE_SIZE];
	memset(buf, 0xA5, sizeof(buf));
	if (rmmemu_ns_read(e->emu, pa, buf, sizeof(buf)) != RMMEMU_OK)
		return false;
	for (unsigned i = 0; i < GRANULE_SIZE; i++)
		if (buf[i])
			return false;
	return true;
}

void th_state(struct th_env *e, uint64_t pa, enum rmmemu_granule_state expect, const char *file,
	      int line)
{
	struct rmmemu_granule_info info;
	char msg[256];
	int rc = rmmemu_granule_info(e->emu, pa, &info);
	bool ok = rc == RMMEMU_OK && info.state == expect;
	if (!ok)
		snprintf(msg, sizeof(msg), "granule 0x%" PRIx64 " is %s, expected %s", pa,
			 rc == RMMEMU_OK ? rmmemu_granule_state_name(info.state) : "not DRAM",
			 rmmemu_granule_state_name(expect));
	else
		snprintf(msg, sizeof(msg), "granule state");
	CU_assertImplementation(ok, (unsigned)line, msg, file, "", CU_FALSE);
}

/* ---- RMI wrappers ---- */

uint64_t th_call(struct th_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
		 uint64_t a4, uint64_t a5)
{
	memset(&e->res, 0xEE, sizeof(e->res));
	return rmmemu_smc6(e->emu, fid, a1, a2, a3, a4, a5, 0, &e->res);
}

uint64_t th_delegate(struct th_env *e, uint64_t pa) { return th_call(e, SMC_RMI_GRANULE_DELEGATE, pa, 0, 0, 0, 0); }
uint64_t th_undelegate(struct th_env *e, uint64_t pa) { return th_call(e, SMC_RMI_GRANULE_UNDELEGATE, pa, 0, 0, 0, 0); }
uint64_t th_realm_create(struct th_env *e, uint64_t rd, uint64_t params)
{
	return th_call(e, SMC_RMI_REALM_CREATE, rd, params, 0, 0, 0);
}
uint64_t th_realm_activate(struct th_env *e, uint64_t rd) { return th_call(e, SMC_RMI_REALM_ACTIVATE, rd, 0, 0, 0, 0); }
uint64_t th_realm_destroy(struct th_env *e, uint64_t rd) { return th_call(e, SMC_RMI_REALM_DESTROY, rd, 0, 0, 0, 0); }
uint64_t th_rec_create(struct th_env *e, uint64_t rd, uint64_t rec, uint64_t params)
{
	return th_call(e, SMC_RMI_REC_CREATE, rd, rec, params, 0, 0);
}
uint64_t th_rec_destroy(struct th_env *e, uint64_t rec) { return th_call(e, SMC_RMI_REC_DESTROY, rec, 0, 0, 0, 0); }
uint64_t th_rec_enter(struct th_env *e, uint64_t rec, uint64_t run)
{
	return th_call(e, SMC_RMI_REC_ENTER, rec, run, 0, 0, 0);
}
uint64_t th_rec_aux_count(struct th_env *e, uint64_t rd) { return th_call(e, SMC_RMI_REC_AUX_COUNT, rd, 0, 0, 0, 0); }
uint64_t th_data_create(struct th_env *e, uint64_t rd, uint64_t data, uint64_t ipa, uint64_t src,
			uint64_t flags)
{
	return th_call(e, SMC_RMI_DATA_CREATE, rd, data, ipa, src, flags);
}
uint64_t th_data_create_unknown(struct th_env *e, uint64_t rd, uint64_t data, uint64_t ipa)
{
	return th_call(e, SMC_RMI_DATA_CREATE_UNKNOWN, rd, data, ipa, 0, 0);
}
uint64_t th_data_destroy(struct th_env *e, uint64_t rd, uint64_t ipa)
{
	return th_call(e, SMC_RMI_DATA_DESTROY, rd, ipa, 0, 0, 0);
}
uint64_t th_rtt_create(struct th_env *e, uint64_t rd, uint64_t rtt, uint64_t ipa, int64_t level)
{
	return th_call(e, SMC_RMI_RTT_CREATE, rd, rtt, ipa, (uint64_t)level, 0);
}
uint64_t th_rtt_destroy(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level)
{
	return th_call(e, SMC_RMI_RTT_DESTROY, rd, ipa, (uint64_t)level, 0, 0);
}
uint64_t th_rtt_fold(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level)
{
	return th_call(e, SMC_RMI_RTT_FOLD, rd, ipa, (uint64_t)level, 0, 0);
}
uint64_t th_map_unprot(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level, uint64_t desc)
{
	return th_call(e, SMC_RMI_RTT_MAP_UNPROTECTED, rd, ipa, (uint64_t)level, desc, 0);
}
uint64_t th_unmap_unprot(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level)
{
	return th_call(e, SMC_RMI_RTT_UNMAP_UNPROTECTED, rd, ipa, (uint64_t)level, 0, 0);
}
uint64_t th_read_entry(struct th_env *e, uint64_t rd, uint64_t ipa, int64_t level)
{
	return th_call(e, SMC_RMI_RTT_READ_ENTRY, rd, ipa, (uint64_t)level, 0, 0);
}
uint64_t th_init_ripas(struct th_env *e, uint64_t rd, uint64_t base, uint64_t top)
{
	return th_call(e, SMC_RMI_RTT_INIT_RIPAS, rd, base, top, 0, 0);
}
uint64_t th_set_ripas(struct th_env *e, uint64_t rd, uint64_t rec, uint64_t base, uint64_t top)
{
	return th_call(e, SMC_RMI_RTT_SET_RIPAS, rd, rec, base, top, 0);
}
uint64_t th_psci_complete(struct th_env *e, uint64_t calling, uint64_t target, uint64_t status)
{
	return th_call(e, SMC_RMI_PSCI_COMPLETE, calling, target, status, 0, 0);
}

/* ---- assertions ---- */

void th_expect_rc(uint64_t got, uint64_t expect, const char *what, const char *file, int line)
{
	char msg[512], g[64], x[64];
	if (got == expect) {
		CU_assertImplementation(CU_TRUE, (unsigned)line, what, file, "", CU_FALSE);
		return;
	}
	rmmemu_format_return(got, g, sizeof(g));
	rmmemu_format_return(expect, x, sizeof(x));
	snprintf(msg, sizeof(msg), "%s returned %s, expected %s", what, g, x);
	CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
}

void th_expect_u64(uint64_t got, uint64_t expect, const char *what, const char *file, int line)
{
	char msg[512];
	if (got == expect) {
		CU_assertImplementation(CU_TRUE, (unsigned)line, what, file, "", CU_FALSE);
		return;
	}
	snprintf(msg, sizeof(msg), "%s == 0x%" PRIx64 ", expected 0x%" PRIx64, what, got, expect);
	CU_assertImplementation(CU_FALSE, (unsigned)line, msg, file, "", CU_FALSE);
}

void th_check_invariants(struct th_env *e, const char *file, int line)
{
	char msg[512] = "", full[600];
	int rc = rmmemu_check_invariants(e->emu, msg, sizeof(msg));
	if (rc != 0) {
		snprintf(full, sizeof(full), "rmmemu_check_invariants: %s", msg);
		fprintf(stderr, "%s:%d: %s\n", file, line, full);
	} else {
		snprintf(full, sizeof(full), "invariants");
	}
	CU_assertImplementation(rc == 0, (unsigned)line, full, file, "", CU_FALSE);
}

void th_expect_entry(struct th_env *e, uint64_t rd, uint64_t ipa, int level, uint64_t walk_level,
		     uint64_t state, uint64_t desc, uint64_t ripas, const char *file, int line)
{
	char msg[512];
	uint64_t rc = th_read_entry(e, rd, ipa, level);
	const uint64_t *x = e->res.x;
	bool ok = rc == RMI_SUCCESS && x[1] == walk_level && x[2] == state && x[3] == desc && x[4] == ripas;
	if (ok)
		snprintf(msg, sizeof(msg), "RTT_READ_ENTRY(0x%" PRIx64 ", %d)", ipa, level);
	else
		snprintf(msg, sizeof(msg),
			 "RTT_READ_ENTRY(0x%" PRIx64 ", %d) = 0x%" PRIx64 " {level %" PRIu64 ", state %" PRIu64
			 ", desc 0x%" PRIx64 ", ripas %" PRIu64 "}, expected {level %" PRIu64 ", state %" PRIu64
			 ", desc 0x%" PRIx64 ", ripas %" PRIu64 "}",
			 ipa, level, rc, x[1], x[2], x[3], x[4], walk_level, state, desc, ripas);
	CU_assertImplementation(ok, (unsigned)line, msg, file, "", CU_FALSE);
}

/* ---- parameter images ---- */

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	memcpy(p + off, &v, sizeof(v));
}

void th_realm_params_init(struct th_env *e, struct th_realm_params *p, unsigned s2sz, int sl,
			  unsigned nroots, uint64_t rtt_base)
{
	memset(p, 0, sizeof(*p));
	p->s2sz = (uint8_t)s2sz;
	p->num_bps = (uint8_t)e->cfg.num_bps;
	p->num_wps = (uint8_t)e->cfg.num_wps;
	p->hash_algo = RMI_HASH_SHA_256;
	for (unsigned i = 0; i < RMI_RPV_SIZE; i++)
		p->rpv[i] = (uint8_t)(0x40 + i);
	p->vmid = (uint16_t)e->next_vmid++;
	p->rtt_base = rtt_base;
	p->rtt_level_start = sl;
	p->rtt_num_start = nroots;
}

void th_realm_params_image(const struct th_realm_params *p, uint8_t img[GRANULE_SIZE])
{
	memset(img, 0, GRANULE_SIZE);
	put64(img, RMI_REALM_PARAMS_FLAGS, p->flags);
	img[RMI_REALM_PARAMS_S2SZ] = p->s2sz;
	img[RMI_REALM_PARAMS_SVE_VL] = p->sve_vl;
	img[RMI_REALM_PARAMS_NUM_BPS] = p->num_bps;
	img[RMI_REALM_PARAMS_NUM_WPS] = p->num_wps;
	img[RMI_REALM_PARAMS_PMU_NUM_CTRS] = p->pmu_num_ctrs;
	img[RMI_REALM_PARAMS_HASH_ALGO] = p->hash_algo;
	memcpy(img + RMI_REALM_PARAMS_RPV, p->rpv, RMI_RPV_SIZE);
	memcpy(img + RMI_REALM_PARAMS_VMID, &p->vmid, sizeof(p->vmid));
	put64(img, RMI_REALM_PARAMS_RTT_BASE, p->rtt_base);
	put64(img, RMI_REALM_PARAMS_RTT_LEVEL_START, (uint64_t)p->rtt_level_start);
	memcpy(img + RMI_REALM_PARAMS_RTT_NUM_START, &p->rtt_num_start, sizeof(p->rtt_num_start));
}

void th_write_realm_params(struct th_env *e, uint64_t pa, const struct th_realm_params *p)
{
	uint8_t img[GRANULE_SIZE];
	th_realm_params_image(p, img);
	CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write(e->emu, pa, img, sizeof(img)), RMMEMU_OK);
}

void th_write_rec_params(struct th_env *e, uint64_t pa, const struct th_rec_params *p)
{
	uint8_t img[GRANULE_SIZE];
	memset(img, 0, sizeof(img));
	put64(img, RMI_REC_PARAMS_FLAGS, p->flags);
	put64(img, RMI_REC_PARAMS_MPIDR, p->mpidr);
	put64(img, RMI_REC_PARAMS_PC, p->pc);
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		put64(img, RMI_REC_PARAMS_GPRS + 8 * i, p->gprs[i]);
	put64(img, RMI_REC_PARAMS_NUM_AUX, p->num_aux);
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		put64(img, RMI_REC_PARAMS_AUX + 8 * i, p->aux[i]);
	CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write(e->emu, pa, img, sizeof(img)), RMMEMU_OK);
}

void th_write_rec_enter(struct th_env *e, uint64_t run, const struct th_rec_enter *en)
{
	uint8_t img[RMI_REC_ENTER_SIZE];
	memset(img, 0, sizeof(img));
	put64(img, RMI_REC_ENTER_FLAGS, en->flags);
	for (unsigned i = 0; i < RMI_REC_NR_GPRS; i++)
		put64(img, RMI_REC_ENTER_GPRS + 8 * i, en->gprs[i]);
	put64(img, RMI_REC_ENTER_GICV3_HCR, en->gicv3_hcr);
	for (unsigned i = 0; i < RMI_REC_GIC_NUM_LRS; i++)
		put64(img, RMI_REC_ENTER_GICV3_LRS + 8 * i, en->gicv3_lrs[i]);
	CU_ASSERT_EQUAL_FATAL(rmmemu_ns_write(e->emu, run, img, sizeof(img)), RMMEMU_OK);
}

uint64_t th_run_get64(struct th_env *e, uint64_t run, unsigned off)
{
	uint64_t v = 0;
	CU_ASSERT_EQUAL(rmmemu_ns_read64(e->emu, run + off, &v), RMMEMU_OK);
	return v;
}

uint64_t th_mpidr(unsigned idx)
{
	uint64_t i = idx;
	return (i & 0xF) | (((i >> 4) & 0xFF) << 8) | (((i >> 12) & 0xFF) << 16) | (((i >> 20) & 0xFF) << 24);
}

uint64_t th_mpidr_el1(unsigned idx)
{
	uint64_t i = idx;
	return (i & 0xF) | (((i >> 4) & 0xFF) << 8) | (((i >> 12) & 0xFF) << 16) | (((i >> 20) & 0xFF) << 32);
}

/* ---- realms ---- */

static uint64_t map_size(int level)
{
	return 1ULL << (GRANULE_SHIFT + 9U * (unsigned)(3 - level));
}

uint64_t th_build_realm(struct th_env *e, struct th_realm *r, unsigned s2sz, int sl, unsigned nroots)
{
	struct th_realm_params p;

	memset(r, 0, sizeof(*r));
	r->rtt_base = th_dg_n(e, nroots, (uint64_t)nroots * GRANULE_SIZE);
	r->rd = th_dg(e);
	r->params = th_ns(e);
	th_realm_params_init(e, &p, s2sz, sl, nroots, r->rtt_base);
	th_write_realm_params(e, r->params, &p);
	r->s2sz = s2sz;
	r->sl = sl;
	r->nroots = nroots;
	r->vmid = p.vmid;
	return th_realm_create(e, r->rd, r->params);
}

void th_realm(struct th_env *e, struct th_realm *r)
{
	uint64_t rc = th_build_realm(e, r, 40, 1, 2);
	EXPECT_OK(rc);
	CU_ASSERT_FATAL(rc == RMI_SUCCESS);
}

uint64_t th_rtt_path(struct th_env *e, const struct th_realm *r, uint64_t ipa, int level)
{
	for (int l = r->sl + 1; l <= level; l++) {
		uint64_t a = ipa & ~(map_size(l - 1) - 1);
		uint64_t rc = th_read_entry(e, r->rd, a, l - 1);
		if (rc != RMI_SUCCESS)
			return rc;
		if (e->res.x[1] == (uint64_t)(l - 1) && e->res.x[2] == RMI_TABLE)
			continue;
		rc = th_rtt_create(e, r->rd, th_dg(e), a, l);
		if (rc != RMI_SUCCESS)
			return rc;
	}
	return RMI_SUCCESS;
}

uint64_t th_build_rec(struct th_env *e, struct th_realm *r, uint64_t *rec_out, unsigned idx,
		      bool runnable, uint64_t pc)
{
	struct th_rec_params p;

	memset(&p, 0, sizeof(p));
	p.flags = runnable ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0;
	p.mpidr = th_mpidr(idx);
	p.pc = pc;
	for (unsigned i = 0; i < RMI_REC_CREATE_NR_GPRS; i++)
		p.gprs[i] = 0x1000 + i;
	p.num_aux = RMI_MAX_REC_AUX_GRANULES;
	for (unsigned i = 0; i < RMI_MAX_REC_AUX_GRANULES; i++)
		p.aux[i] = th_dg(e);
	uint64_t rec = th_dg(e), params = th_ns(e);
	th_write_rec_params(e, params, &p);
	uint64_t rc = th_rec_create(e, r->rd, rec, params);
	if (rc == RMI_SUCCESS && r->nrecs < TH_MAX_RECS)
		r->recs[r->nrecs++] = rec;
	if (rec_out)
		*rec_out = rec;
	return rc;
}

uint64_t th_run_granule(struct th_env *e)
{
	uint64_t run = th_ns(e);
	th_fill(e, run, 0);
	return run;
}

static void teardown_entry(struct th_env *e, const struct th_realm *r, uint64_t ipa, int level)
{
	uint64_t rc = th_read_entry(e, r->rd, ipa, level);
	EXPECT_OK(rc);
	if (rc != RMI_SUCCESS || e->res.x[1] != (uint64_t)level)
		return;
	uint64_t state = e->res.x[2];
	if (state == RMI_TABLE) {
		uint64_t sz = map_size(level + 1);
		for (unsigned i = 0; i < TH_ENTRIES; i++) {
			uint64_t sub = ipa + i * sz;
			if (sub >= (1ULL << r->s2sz))
				break;
			teardown_entry(e, r, sub, level + 1);
		}
		EXPECT_OK(th_rtt_destroy(e, r->rd, ipa, level + 1));
		return;
	}
	if (state != RMI_ASSIGNED)
		return;
	if (ipa >= th_par(r)) {
		EXPECT_OK(th_unmap_unprot(e, r->rd, ipa, level));
	} else if (level == 3) {
		EXPECT_OK(th_data_destroy(e, r->rd, ipa));
	} else {
		/* An assigned block: unfold it, then destroy the pages. */
		rc = th_rtt_create(e, r->rd, th_dg(e), ipa, level + 1);
		EXPECT_OK(rc);
		if (rc == RMI_SUCCESS)
			teardown_entry(e, r, ipa, level);
	}
}

void th_teardown(struct th_env *e, struct th_realm *r)
{
	for (unsigned i = 0; i < r->nrecs; i++)
		EXPECT_OK(th_rec_destroy(e, r->recs[i]));
	r->nrecs = 0;
	uint64_t sz = map_size(r->sl);
	for (uint64_t i = 0; i < (uint64_t)r->nroots * TH_ENTRIES; i++) {
		uint64_t ipa = i * sz;
		if (ipa >= (1ULL << r->s2sz))
			break;
		teardown_entry(e, r, ipa, r->sl);
	}
	EXPECT_OK(th_realm_destroy(e, r->rd));
	th_undelegate_all(e);
}

void th_undelegate_all(struct th_env *e)
{
	for (unsigned d = 0; d < e->cfg.num_dram; d++) {
		const struct rmmemu_range *rg = &e->cfg.dram[d];
		for (uint64_t a = rg->base; a < rg->base + rg->size; a += GRANULE_SIZE) {
			struct rmmemu_granule_info info;
			if (rmmemu_granule_info(e->emu, a, &info) == RMMEMU_OK &&
			    info.state == RMMEMU_GRANULE_DELEGATED)
				EXPECT_OK(th_undelegate(e, a));
		}
	}
}

void th_expect_all_undelegated(struct th_env *e, const char *file, int line)
{
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES], total = 0;
	char msg[512];
	int n = 0;

	rmmemu_granule_census(e->emu, counts);
	for (unsigned d = 0; d < e->cfg.num_dram; d++)
		total += e->cfg.dram[d].size >> GRANULE_SHIFT;
	bool ok = counts[RMMEMU_GRANULE_UNDELEGATED] == total;
	n = snprintf(msg, sizeof(msg), "census:");
	for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES && n > 0 && (size_t)n < sizeof(msg); s++)
		if (counts[s])
			n += snprintf(msg + n, sizeof(msg) - (size_t)n, " %s=%" PRIu64,
				      rmmemu_granule_state_name((enum rmmemu_granule_state)s), counts[s]);
	CU_assertImplementation(ok, (unsigned)line, msg, file, "", CU_FALSE);
}

/* ---- white box ---- */

static void *object(struct th_env *e, uint64_t pa, granule_state_t state)
{
	struct gref ref;
	if (!granule_find_state(e->rmm, PA(pa), state, &ref)) {
		fprintf(stderr, "0x%llx is not a %s granule\n", (unsigned long long)pa,
			rmmemu_granule_state_name(state));
		CU_FAIL_FATAL("white-box object lookup");
	}
	return ref.mem;
}

struct rd *th_rd(struct th_env *e, uint64_t rd_pa)
{
	return object(e, rd_pa, GRANULE_STATE_RD);
}

struct rec *th_rec(struct th_env *e, uint64_t rec_pa)
{
	return object(e, rec_pa, GRANULE_STATE_REC);
}

void th_poke(struct th_env *e, uint64_t pa, const void *buf, size_t len)
{
	memcpy((uint8_t *)granule_mem(e->rmm, PA(pa & ~GRANULE_MASK)) + (pa & GRANULE_MASK), buf, len);
}

void th_peek(struct th_env *e, uint64_t pa, void *buf, size_t len)
{
	memcpy(buf, (const uint8_t *)granule_mem(e->rmm, PA(pa & ~GRANULE_MASK)) + (pa & GRANULE_MASK), len);
}

bool th_mem_is_zero(struct th_env *e, uint64_t pa)
{
	const uint8_t *m = granule_mem(e->rmm, PA(pa));
	for (unsigned i = 0; i < GRANULE_SIZE; i++)
		if (m[i])
			return false;
	return true;
}

struct granule *th_meta(struct th_env *e, uint64_t pa)
{
	static struct granule dummy;
	struct gref ref;
	if (!granule_find(e->rmm, PA(pa), &ref)) {
		CU_FAIL("th_meta: not a DRAM granule");
		dummy.refcount = 0xFFFF;
		return &dummy;
	}
	return ref.g;
}

uint64_t th_call_locked(struct th_env *e, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3,
			uint64_t a4, uint64_t a5, uint64_t res[5])
{
	const uint64_t a[6] = { a1, a2, a3, a4, a5, 0 };
	uint64_t tmp[5];
	if (!res)
		res = tmp;
	memset(res, 0, 5 * sizeof(uint64_t));
	if (!rmi_dispatch(e->rmm, fid, a, res))
		res[0] = SMCCC_NOT_SUPPORTED;
	return res[0];
}

/* ---- CUnit driver ---- */

int th_run_suite(const char *suite_name, const struct th_test *tests, unsigned n)
{
	return th_run_suite_fixture(suite_name, NULL, NULL, tests, n);
}

int th_run_suite_fixture(const char *suite_name, int (*init)(void), int (*fini)(void), const struct th_test *tests,
			 unsigned n)
{
	CU_pSuite suite;
	unsigned failures;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	suite = CU_add_suite(suite_name, init, fini);
	if (!suite) {
		CU_cleanup_registry();
		return 1;
	}
	for (unsigned i = 0; i < n; i++)
		if (!CU_add_test(suite, tests[i].name, tests[i].fn)) {
			CU_cleanup_registry();
			return 1;
		}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failures = CU_get_number_of_failures() + CU_get_number_of_tests_failed() + CU_get_number_of_suites_failed();
	CU_cleanup_registry();
	return failures > 0 ? 1 : 0;
}

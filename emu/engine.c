/*
 * A Unicorn engine per realm: creation (memory map, EL2/EL3 configuration, stage 2), switching
 * between its RECs' CPU contexts, loading and saving a REC's architectural state, reading QEMU's
 * exception record (and finding where it is: calibration).
 */
#include <inttypes.h>
#include <malloc.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/arch.h"
#include "emu/vcpu.h"
#include "rsi/rsi.h"

/* ---- register access ---- */

uint64_t emu_cp_read(uc_engine *uc, unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2)
{
	uc_arm64_cp_reg r = { .crn = crn, .crm = crm, .op0 = op0, .op1 = op1, .op2 = op2, .val = 0 };
	if (uc_reg_read(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
		emu_log("cannot read system register S%u_%u_C%u_C%u_%u", op0, op1, crn, crm, op2);
	return r.val;
}

void emu_cp_write(uc_engine *uc, unsigned op0, unsigned op1, unsigned crn, unsigned crm, unsigned op2,
		  uint64_t val)
{
	uc_arm64_cp_reg r = { .crn = crn, .crm = crm, .op0 = op0, .op1 = op1, .op2 = op2, .val = val };
	if (uc_reg_write(uc, UC_ARM64_REG_CP_REG, &r) != UC_ERR_OK)
		emu_log("cannot write system register S%u_%u_C%u_C%u_%u", op0, op1, crn, crm, op2);
}

uint64_t emu_reg_read(uc_engine *uc, int reg)
{
	uint64_t v = 0;
	uc_reg_read(uc, reg, &v);
	return v;
}

void emu_reg_write(uc_engine *uc, int reg, uint64_t val)
{
	uc_reg_write(uc, reg, &val);
}

#define CP_SCR_EL3      3, 6, 1, 1, 0
#define CP_HCR_EL2      3, 4, 1, 1, 0
#define CP_VTCR_EL2     3, 4, 2, 1, 2
#define CP_VTTBR_EL2    3, 4, 2, 1, 0
#define CP_CNTHCTL_EL2  3, 4, 14, 1, 0
#define CP_CNTVOFF_EL2  3, 4, 14, 0, 3
#define CP_VMPIDR_EL2   3, 4, 0, 0, 5
#define CP_TLBI_ALLE1   1, 4, 8, 7, 4
#define CP_SCTLR_EL1    3, 0, 1, 0, 0

void emu_set_hcr(struct emu_vcpu *v, uint64_t hcr)
{
	if (hcr == v->m->hcr)
		return;
	v->m->hcr = hcr;
	emu_cp_write(v->uc, CP_HCR_EL2, hcr);
}

/* TLBI ALLE1 through the system-register API runs QEMU's TLBI helper (a raw write would not). */
void emu_tlb_flush(struct emu_vcpu *v)
{
	emu_cp_write(v->uc, CP_TLBI_ALLE1, 0);
	/* The translated-code cache is not flushed: UC_CTL_TB_FLUSH takes over a second with this
	 * memory map (docs/vcpu.md). QEMU drops translations when the realm writes to code pages,
	 * and emu_drop_stale_code when the RMM scrubbed one. */
}

/* ---- code translated from granules the RMM scrubbed ---- */

/*
 * Unicorn drops translated code only by virtual address (UC_CTL_TB_REMOVE_CACHE, translated
 * with the CPU's current regime); a flush of everything takes over a second (quirk 11). With stage
 * 1 and stage 2 off for the moment, a VA is the PA: the granules' code is dropped by PA, then
 * SCTLR_EL1, HCR_EL2 and the TLB are restored. Called between runs with the state of the REC that
 * ran last in the engine (its translation regime is the non-secure EL1&0 one).
 */
static void drop_code(struct emu_machine *m, const uint64_t *pa, unsigned n)
{
	uc_engine *uc = m->uc;
	uint64_t sctlr = emu_cp_read(uc, CP_SCTLR_EL1);
	emu_cp_write(uc, CP_SCTLR_EL1, sctlr & ~SCTLR_M);
	emu_cp_write(uc, CP_HCR_EL2, m->hcr & ~HCR_VM);
	emu_cp_write(uc, CP_TLBI_ALLE1, 0);
	for (unsigned i = 0; i < n; i++)
		uc_ctl_remove_cache(uc, pa[i], pa[i] + GRANULE_SIZE);
	emu_cp_write(uc, CP_SCTLR_EL1, sctlr);
	emu_cp_write(uc, CP_HCR_EL2, m->hcr);
	emu_cp_write(uc, CP_TLBI_ALLE1, 0);
}

/* QEMU notices when the realm writes to a page it has translated code from, but not when the RMM
 * rewrites a granule behind it (DATA_DESTROY scrubs it; the host may then give the same granule
 * back at any IPA). Such granules are collected, and their code dropped before the next run. */
void emu_code_stale(struct emu_machine *m, uint64_t pa)
{
	if (!m->has_run || m->all_code_stale)
		return;                  /* nothing translated yet, or everything goes anyway */
	pa &= ~GRANULE_MASK;
	for (unsigned i = m->nstale; i-- > 0 && i + 8 >= m->nstale;)
		if (m->stale_pa[i] == pa)
			return;          /* just collected (IC IVAU line by line) */
	if (m->nstale == m->stale_cap) {
		unsigned cap = m->stale_cap ? 2 * m->stale_cap : 64;
		uint64_t *p = cap <= 65536 ? realloc(m->stale_pa, cap * sizeof(*p)) : NULL;
		if (!p) {
			/* No room to collect it: everything is dropped instead. */
			m->all_code_stale = true;
			return;
		}
		m->stale_pa = p;
		m->stale_cap = cap;
	}
	m->stale_pa[m->nstale++] = pa;
}

void emu_drop_stale_code(struct emu_machine *m)
{
	if (m->all_code_stale)
		uc_ctl_flush_tb(m->uc);
	else if (m->nstale)
		drop_code(m, m->stale_pa, m->nstale);
	m->nstale = 0;
	m->all_code_stale = false;
}

/* ---- EL1 system registers kept in struct rec ---- */

#define SR(field, o0, o1, n, m, o2, ro, hf) \
	{ offsetof(__typeof__(((struct rec *)0)->sysregs), field), o0, o1, n, m, o2, ro, hf, false }
#define SRV(field, o0, o1, n, m, o2) \
	{ offsetof(__typeof__(((struct rec *)0)->sysregs), field), o0, o1, n, m, o2, false, false, true }
static const struct sysreg_desc {
	size_t off;
	uint8_t op0, op1, crn, crm, op2;
	bool read_only;   /* constant in QEMU's A72: writing through the API would corrupt state */
	bool hflags;      /* part of QEMU's cached translation flags */
	bool volatile_;   /* changed by exceptions, AT or the timers, not only by MSR */
} sysregs[] = {
	SR(sctlr_el1, 3, 0, 1, 0, 0, false, true),
	SR(tcr_el1, 3, 0, 2, 0, 2, false, true),
	SR(ttbr0_el1, 3, 0, 2, 0, 0, false, false),
	SR(ttbr1_el1, 3, 0, 2, 0, 1, false, false),
	SR(mair_el1, 3, 0, 10, 2, 0, false, false),
	SR(amair_el1, 3, 0, 10, 3, 0, true, false),
	SR(vbar_el1, 3, 0, 12, 0, 0, false, false),
	SRV(elr_el1, 3, 0, 4, 0, 1),
	SRV(spsr_el1, 3, 0, 4, 0, 0),
	SRV(esr_el1, 3, 0, 5, 2, 0),
	SRV(far_el1, 3, 0, 6, 0, 0),
	SR(contextidr_el1, 3, 0, 13, 0, 1, false, false),
	SR(tpidr_el0, 3, 3, 13, 0, 2, false, false),
	SR(tpidrro_el0, 3, 3, 13, 0, 3, false, false),
	SR(tpidr_el1, 3, 0, 13, 0, 4, false, false),
	SR(cpacr_el1, 3, 0, 1, 0, 2, false, true),
	SR(csselr_el1, 3, 2, 0, 0, 0, false, false),
	SRV(par_el1, 3, 0, 7, 4, 0),
	SR(afsr0_el1, 3, 0, 5, 1, 0, true, false),
	SR(afsr1_el1, 3, 0, 5, 1, 1, true, false),
	SR(cntkctl_el1, 3, 0, 14, 1, 0, false, false),
	SR(mdscr_el1, 2, 0, 0, 2, 2, false, true),
	SR(actlr_el1, 3, 0, 1, 0, 1, true, false),
	SRV(cntv_cval, 3, 3, 14, 3, 2),
	SRV(cntv_ctl, 3, 3, 14, 3, 1),
	SRV(cntp_cval, 3, 3, 14, 2, 2),
	SRV(cntp_ctl, 3, 3, 14, 2, 1),
	SR(vmpidr_el2, 3, 4, 0, 0, 5, false, false),
};
#define NSYSREGS (sizeof(sysregs) / sizeof(sysregs[0]))

static uint64_t *sysreg_ptr(void *base, const struct sysreg_desc *d)
{
	return (uint64_t *)((uint8_t *)base + d->off);
}

/* ---- SP banks: QEMU keeps the current SP in X31 and the others in SP_ELx ---- */

uint64_t emu_get_sp(struct emu_vcpu *v, unsigned el)
{
	uint64_t pstate = emu_reg_read(v->uc, UC_ARM64_REG_PSTATE);
	unsigned cur = (unsigned)PSR_EL(pstate);
	bool live = (el == 0) ? (cur == 0 || !PSR_SPSEL(pstate)) : (cur == el && PSR_SPSEL(pstate));
	if (live)
		return emu_reg_read(v->uc, UC_ARM64_REG_SP);
	return emu_reg_read(v->uc, el == 0 ? UC_ARM64_REG_SP_EL0 : UC_ARM64_REG_SP_EL1);
}

void emu_set_sp(struct emu_vcpu *v, unsigned el, uint64_t sp)
{
	uint64_t pstate = emu_reg_read(v->uc, UC_ARM64_REG_PSTATE);
	unsigned cur = (unsigned)PSR_EL(pstate);
	bool live = (el == 0) ? (cur == 0 || !PSR_SPSEL(pstate)) : (cur == el && PSR_SPSEL(pstate));
	emu_reg_write(v->uc, el == 0 ? UC_ARM64_REG_SP_EL0 : UC_ARM64_REG_SP_EL1, sp);
	if (live)
		emu_reg_write(v->uc, UC_ARM64_REG_SP, sp);
}

/* ---- exception record ---- */

void emu_exception_info(struct emu_vcpu *v, uint64_t *esr, uint64_t *far, unsigned *target_el)
{
	const struct emu_calib *c = emu_calibrate();
	uint32_t syn = 0, tel = 0;
	uint64_t va = 0;
	uc_context_save(v->uc, v->ctx);
	const uint8_t *p = (const uint8_t *)v->ctx;
	memcpy(&syn, p + c->syndrome_off, sizeof(syn));
	memcpy(&va, p + c->vaddress_off, sizeof(va));
	memcpy(&tel, p + c->target_el_off, sizeof(tel));
	*esr = syn;
	*far = va;
	*target_el = tel;
}

/* ---- calibration: where QEMU's exception record sits in a saved context ---- */

#define CAL_CODE   0x10000ULL
#define CAL_VA     0x0100000000000040ULL   /* beyond the 44-bit PA range: address size fault */
#define CAL_SVC    0xD4024681U             /* svc #0x1234 */
#define CAL_LDR    0xF9400020U             /* ldr x0, [x1] */
#define CAL_SYN    0x56001234U

struct cal_state {
	struct emu_calib *c;
	uc_context *ctx;
	size_t size;
	int step;
};

static void cal_intr(uc_engine *uc, uint32_t intno, void *user)
{
	struct cal_state *s = user;
	struct emu_calib *c = s->c;
	uc_context_save(uc, s->ctx);
	const uint8_t *p = (const uint8_t *)s->ctx;
	if (s->step == 0 && intno == 2) {
		for (size_t i = 0; i + 4 <= s->size; i += 4) {
			uint32_t val;
			memcpy(&val, p + i, 4);
			if (val == CAL_SYN) {
				/* QEMU: struct { uint32_t syndrome, fsr; uint64_t vaddress; uint32_t target_el; } */
				c->syndrome_off = i;
				c->vaddress_off = i + 8;
				c->target_el_off = i + 16;
				s->step = 1;
				return;
			}
		}
		snprintf(c->err, sizeof(c->err), "SVC syndrome not found in the saved CPU context");
	} else if (s->step == 1 && intno == 4) {
		uint32_t syn, tel;
		uint64_t va;
		memcpy(&syn, p + c->syndrome_off, 4);
		memcpy(&va, p + c->vaddress_off, 8);
		memcpy(&tel, p + c->target_el_off, 4);
		if (va == CAL_VA && tel == 1 && ESR_EC(syn) == EC_DABT_CUR)
			c->ok = 1;
		else
			snprintf(c->err, sizeof(c->err), "abort record mismatch (syn %#x va %#" PRIx64 " el %u)",
				 syn, va, tel);
	} else {
		snprintf(c->err, sizeof(c->err), "unexpected exception %u during calibration", intno);
	}
	uc_emu_stop(uc);
}

/* ---- calibration: Unicorn's switch for exit checks inside a block ---- */

/*
 * Unicorn 2.1.1 (as 2.0.1) checks for a stop request after every guest memory access and leaves
 * the block with QEMU's "block not started" exit, which puts PC back at the block's start while
 * registers and memory keep what the block had done (quirk 6). Its engine has a flag that turns
 * these checks off (its AArch32 translator sets it inside IT blocks); with the flag set, a stop
 * takes effect at the start of the next block only, so another thread may stop a run at any time.
 * The flag is not in the API (docs/vcpu.md, "The engine-private state", argues its use with the
 * measured cost of the public alternative, a block hook): it is found in struct uc_struct by
 * the fields declared around it in 2.1.1 (target_page_size, target_page_align,
 * qemu_host_page_size, qemu_real_host_page_size, qemu_icache_linesize, context_content,
 * cpu_context_size, next_pc, hook_insert, first_tb, no_exit_request, init_done), then checked by
 * behaviour. Anything else falls back to the block hook.
 */
#define NOX_PAGE_OFF   0       /* uint32_t target_page_size, target_page_align */
#define NOX_HOST_OFF   8       /* uint64_t qemu_host_page_size, qemu_real_host_page_size */
#define NOX_CONT_OFF   28      /* uc_context_content context_content (UC_CTL_CONTEXT_CPU) */
#define NOX_CTX_OFF    32      /* int cpu_context_size */
#define NOX_FLAG_OFF   50      /* bool no_exit_request */
#define NOX_INIT_OFF   51      /* bool init_done */
#define UC_CONTEXT_HDR 24      /* sizeof(struct uc_context) before its data */

static size_t find_no_exit(uc_engine *uc)
{
	const uint8_t *p = (const uint8_t *)uc;
	size_t n = malloc_usable_size(uc);
	uint64_t host_page = (uint64_t)sysconf(_SC_PAGESIZE);
	uint64_t ctx = (uint64_t)uc_context_size(uc) - UC_CONTEXT_HDR;
	size_t found = 0;
	unsigned matches = 0;

	for (size_t i = 0; i + NOX_INIT_OFF + 1 <= n; i += 8) {
		uint32_t page, align;
		uint64_t host, real_host;
		int32_t cpu_ctx, content;
		memcpy(&page, p + i + NOX_PAGE_OFF, 4);
		memcpy(&align, p + i + NOX_PAGE_OFF + 4, 4);
		if (page < 1024 || page > 65536 || (page & (page - 1)) || align != page - 1)
			continue;
		memcpy(&host, p + i + NOX_HOST_OFF, 8);
		memcpy(&real_host, p + i + NOX_HOST_OFF + 8, 8);
		memcpy(&cpu_ctx, p + i + NOX_CTX_OFF, 4);
		memcpy(&content, p + i + NOX_CONT_OFF, 4);
		if (content != UC_CTL_CONTEXT_CPU)
			continue;
		if (host != host_page || real_host != host_page || cpu_ctx < 0 || (uint64_t)cpu_ctx != ctx)
			continue;
		if (p[i + NOX_FLAG_OFF] != 0 || p[i + NOX_INIT_OFF] != 1)
			continue;
		found = i + NOX_FLAG_OFF;
		matches++;
	}
	return matches == 1 ? found : 0;
}

static void nox_store_hook(uc_engine *uc, uc_mem_type type, uint64_t addr, int size, int64_t value,
			   void *user)
{
	(void)type;
	(void)addr;
	(void)size;
	(void)value;
	(void)user;
	uc_emu_stop(uc);
}

/* A store whose hook asks for a stop, then two additions, then a branch to itself: with the flag
 * set, the additions run and the run ends at the branch (its block's start). */
static void calibrate_stop(struct emu_calib *c)
{
	static const uint32_t code[] = {
		0xF9000001U,   /* str x1, [x0] */
		0x91000442U,   /* add x2, x2, #1 */
		0x91000463U,   /* add x3, x3, #1 */
		0x14000000U,   /* b . */
	};
	uc_engine *uc;
	uc_hook h;

	if (emu_engine_open(&uc) != UC_ERR_OK) {
		snprintf(c->stop_note, sizeof(c->stop_note), "uc_open failed");
		return;
	}
	if (uc_mem_map(uc, CAL_CODE, 0x2000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mem_write(uc, CAL_CODE, code, sizeof(code)) != UC_ERR_OK) {
		snprintf(c->stop_note, sizeof(c->stop_note), "engine set-up failed");
		uc_close(uc);
		return;
	}
	size_t off = find_no_exit(uc);
	if (!off) {
		snprintf(c->stop_note, sizeof(c->stop_note), "flag not found in the engine");
		uc_close(uc);
		return;
	}
	((volatile uint8_t *)uc)[off] = 1;
	emu_reg_write(uc, UC_ARM64_REG_X0, CAL_CODE + 0x1000);
	uc_hook_add(uc, &h, UC_HOOK_MEM_WRITE, (void *)nox_store_hook, NULL, 1, 0);
	uc_err e = uc_emu_start(uc, CAL_CODE, 0, 0, 0);
	uint64_t pc = emu_reg_read(uc, UC_ARM64_REG_PC);
	uint64_t x2 = emu_reg_read(uc, UC_ARM64_REG_X2), x3 = emu_reg_read(uc, UC_ARM64_REG_X3);
	if (e == UC_ERR_OK && pc == CAL_CODE + 12 && x2 == 1 && x3 == 1 && ((uint8_t *)uc)[off] == 1)
		c->no_exit_off = off;
	else
		snprintf(c->stop_note, sizeof(c->stop_note),
			 "flag candidate at %zu did not defer the stop (PC %#" PRIx64 ", x2 %" PRIu64 ")",
			 off, pc, x2);
	uc_close(uc);
}

/* ---- calibration: 4 KiB target pages ---- */

/*
 * Unicorn 2.1.1 builds its AArch64 engine with QEMU's smallest variable page size, 1 KiB, so every
 * 4 KiB mapping of the realm is a large page to QEMU's TLB and a TLBI of one address flushes the
 * whole TLB (quirk 19: a Linux boot refilled its TLB ten times as often as QEMU's). Later releases
 * let uc_ctl_set_page_size() choose 4 KiB on AArch64; 2.1.1 refuses it there, though the field it
 * sets, uc_struct.target_bits, is honoured when the engine initialises. That field is the int
 * declared just before cpu_model, which the public uc_ctl_set_cpu_model() writes: it is found by
 * setting two models on a fresh engine and looking for the int that follows both, then checked by
 * behaviour: the engine must refuse to map 2 KiB and accept 4 KiB. (uc_ctl_get_page_size() would
 * say it too, but 2.1.1's UC_CTL_READ macro shifts a signed int into its sign bit: UBSan stops.)
 */
#define PAGE_BITS_4K 12

static void find_page_bits(struct emu_calib *c)
{
	uc_engine *uc;
	if (uc_open(UC_ARCH_ARM64, UC_MODE_ARM, &uc) != UC_ERR_OK) {
		snprintf(c->page_note, sizeof(c->page_note), "uc_open failed");
		return;
	}
	size_t n = malloc_usable_size(uc), found = 0;
	unsigned matches = 0;
	uint8_t *before = malloc(n);
	if (before && uc_ctl_set_cpu_model(uc, UC_CPU_ARM64_A53) == UC_ERR_OK) {
		memcpy(before, uc, n);
		uc_ctl_set_cpu_model(uc, UC_CPU_ARM64_A72);
		const uint8_t *now = (const uint8_t *)uc;
		for (size_t i = 4; i + 4 <= n; i += 4) {
			int32_t m0, m1, b0, b1;
			memcpy(&m0, before + i, 4);
			memcpy(&m1, now + i, 4);
			memcpy(&b0, before + i - 4, 4);
			memcpy(&b1, now + i - 4, 4);
			if (m0 == UC_CPU_ARM64_A53 && m1 == UC_CPU_ARM64_A72 && b0 == 0 && b1 == 0) {
				found = i - 4;
				matches++;
			}
		}
	}
	free(before);
	bool ok = false;
	if (matches == 1) {
		int32_t bits = PAGE_BITS_4K;
		memcpy((uint8_t *)uc + found, &bits, sizeof(bits));
		ok = uc_mem_map(uc, CAL_CODE, 0x800, UC_PROT_ALL) != UC_ERR_OK &&
		     uc_mem_map(uc, CAL_CODE, 0x1000, UC_PROT_ALL) == UC_ERR_OK;
	}
	uc_close(uc);
	if (ok)
		c->page_bits_off = found;
	else
		snprintf(c->page_note, sizeof(c->page_note), "page size field %s",
			 matches == 1 ? "did not take effect" : "not found");
}

static struct emu_calib calib;
static pthread_once_t calib_once = PTHREAD_ONCE_INIT;

uc_err emu_engine_open(uc_engine **uc)
{
	uc_err e = uc_open(UC_ARCH_ARM64, UC_MODE_ARM, uc);
	if (e != UC_ERR_OK)
		return e;
	uc_ctl_set_cpu_model(*uc, UC_CPU_ARM64_A72);
	if (calib.page_bits_off) {
		int32_t bits = PAGE_BITS_4K;
		memcpy((uint8_t *)*uc + calib.page_bits_off, &bits, sizeof(bits));
	}
	return UC_ERR_OK;
}

static void calibrate_once(void)
{
	struct emu_calib *c = &calib;
	uc_engine *uc;
	uc_hook h;
	struct cal_state s = { .c = c };

	find_page_bits(c);
	if (!c->page_bits_off)
		emu_log("1 KiB engine pages (slower TLB): %s", c->page_note);
	if (emu_engine_open(&uc) != UC_ERR_OK) {
		snprintf(c->err, sizeof(c->err), "uc_open failed");
		return;
	}
	uint32_t code[2] = { CAL_SVC, CAL_LDR };
	if (uc_mem_map(uc, CAL_CODE, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mmio_map(uc, CAL_VA & ~0xFFFULL, 0x1000, NULL, NULL, NULL, NULL) != UC_ERR_OK ||
	    uc_mem_protect(uc, CAL_VA & ~0xFFFULL, 0x1000, UC_PROT_ALL) != UC_ERR_OK ||
	    uc_mem_write(uc, CAL_CODE, code, sizeof(code)) != UC_ERR_OK ||
	    uc_context_alloc(uc, &s.ctx) != UC_ERR_OK) {
		snprintf(c->err, sizeof(c->err), "calibration engine setup failed");
		uc_close(uc);
		return;
	}
	s.size = uc_context_size(uc);
	emu_cp_write(uc, CP_SCR_EL3, emu_cp_read(uc, CP_SCR_EL3) | SCR_NS | SCR_RW);
	emu_cp_write(uc, CP_HCR_EL2, HCR_RW);
	emu_reg_write(uc, UC_ARM64_REG_X1, CAL_VA);
	uc_hook_add(uc, &h, UC_HOOK_INTR, (void *)cal_intr, &s, 1, 0);
	uc_err e = uc_emu_start(uc, CAL_CODE, CAL_CODE + 8, 0, 0);
	if (e != UC_ERR_OK && !c->err[0])
		snprintf(c->err, sizeof(c->err), "calibration run failed: %s", uc_strerror(e));
	if (!c->ok && !c->err[0])
		snprintf(c->err, sizeof(c->err), "calibration did not complete");
	uc_context_free(s.ctx);
	uc_close(uc);
	if (c->ok && !getenv("RMMEMU_VCPU_BLOCK_HOOK")) {
		calibrate_stop(c);
		if (!c->no_exit_off)
			emu_log("time slices use a per-block hook (slower): %s", c->stop_note);
	} else if (c->ok) {
		snprintf(c->stop_note, sizeof(c->stop_note), "RMMEMU_VCPU_BLOCK_HOOK is set");
	}
}

const struct emu_calib *emu_calibrate(void)
{
	pthread_once(&calib_once, calibrate_once);
	return &calib;
}

/* ---- engine creation ---- */

/* Physical accesses that land outside DRAM (a host mapped an unprotected IPA to a non-memory PA):
 * read as zero, writes ignored. */
static uint64_t hole_read(uc_engine *uc, uint64_t offset, unsigned size, void *user)
{
	(void)uc;
	(void)size;
	(void)user;
	(void)offset;
	return 0;
}

static void hole_write(uc_engine *uc, uint64_t offset, unsigned size, uint64_t value, void *user)
{
	(void)uc;
	(void)offset;
	(void)size;
	(void)value;
	(void)user;
}

static int cmp_range(const void *a, const void *b)
{
	const struct dram_region *x = *(const struct dram_region *const *)a;
	const struct dram_region *y = *(const struct dram_region *const *)b;
	return x->base < y->base ? -1 : x->base > y->base;
}

/* Placeholder region over [base, end) (end 0 = 2^64): passes Unicorn's check of the virtual
 * address against its memory map (docs/vcpu.md, quirk 2). */
static bool map_hole(uc_engine *uc, uint64_t base, uint64_t end)
{
	size_t size = (size_t)(end - base);
	if (size == 0)
		return true;
	if (uc_mmio_map(uc, base, size, hole_read, NULL, hole_write, NULL) != UC_ERR_OK)
		return false;
	return uc_mem_protect(uc, base, size, UC_PROT_ALL) == UC_ERR_OK;
}

static bool map_memory(struct emu_machine *m, struct rmm *rmm)
{
	const struct dram_region *r[RMMEMU_MAX_RANGES];
	unsigned n = rmm->ndram;
	for (unsigned i = 0; i < n; i++)
		r[i] = &rmm->dram[i];
	qsort(r, n, sizeof(r[0]), cmp_range);
	uint64_t cur = 0;
	for (unsigned i = 0; i < n; i++) {
		if (!map_hole(m->uc, cur, r[i]->base))
			return false;
		if (uc_mem_map_ptr(m->uc, r[i]->base, (size_t)r[i]->size, UC_PROT_ALL, r[i]->mem) != UC_ERR_OK)
			return false;
		cur = r[i]->base + r[i]->size;
	}
	return map_hole(m->uc, cur, 0);
}

static uint64_t vtcr_for(const struct s2tt_ctx *s2)
{
	/* 4 KiB granule: SL0 = 2 - start level. */
	uint64_t sl0 = (uint64_t)(2 - s2->start_level);
	return VTCR_RES1 | (uint64_t)(64 - s2->ipa_bits) | (sl0 << VTCR_SL0_SHIFT) | VTCR_IRGN0_WBWA |
	       VTCR_ORGN0_WBWA | VTCR_SH0_INNER | (VTCR_PS_44BIT << VTCR_PS_SHIFT);
}

#define HCR_REALM (HCR_RW | HCR_VM | HCR_IMO | HCR_FMO | HCR_AMO | HCR_TWI | HCR_TWE)

struct emu_machine *emu_machine_create(struct emu_backend *be, struct rmm *rmm, const struct rd *rd)
{
	struct emu_machine *m = calloc(1, sizeof(*m));
	if (!m)
		return NULL;
	m->be = be;
	m->s2 = &rd->s2;
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	m->ipa_bits = rd->s2.ipa_bits;
	if (emu_engine_open(&m->uc) != UC_ERR_OK) {
		free(m);
		return NULL;
	}
	if (!map_memory(m, rmm) || uc_ctl_exits_enable(m->uc) != UC_ERR_OK) {
		emu_log("cannot set up the Unicorn engine of a realm");
		emu_machine_free(m);
		return NULL;
	}
	/* The machine around the realm: EL3 non-secure with AArch64 below, EL2 with stage 2 on the
	 * realm's RTTs, EL1 timers and counters accessible, virtual counter offset 0. */
	emu_cp_write(m->uc, CP_SCR_EL3, emu_cp_read(m->uc, CP_SCR_EL3) | SCR_NS | SCR_RW);
	emu_cp_write(m->uc, CP_VTCR_EL2, vtcr_for(&rd->s2));
	emu_cp_write(m->uc, CP_VTTBR_EL2, rd->s2.rtt_base.val);
	emu_cp_write(m->uc, CP_CNTHCTL_EL2, CNTHCTL_EL1PCTEN | CNTHCTL_EL1PCEN);
	emu_cp_write(m->uc, CP_CNTVOFF_EL2, 0);
	emu_cp_write(m->uc, CP_HCR_EL2, HCR_REALM);
	m->hcr = HCR_REALM;
	m->cntfrq = emu_cp_read(m->uc, 3, 3, 14, 0, 0);
	if (m->cntfrq == 0)
		m->cntfrq = 62500000;
	if (uc_context_alloc(m->uc, &m->init_ctx) != UC_ERR_OK) {
		emu_machine_free(m);
		return NULL;
	}
	uc_context_save(m->uc, m->init_ctx);
	m->no_exit_off = emu_calibrate()->no_exit_off;
	emu_install_hooks(m);
	return m;
}

void emu_machine_free(struct emu_machine *m)
{
	if (!m)
		return;
	if (m->init_ctx)
		uc_context_free(m->init_ctx);
	if (m->uc)
		uc_close(m->uc);
	free(m->wfe_sites);
	free(m->stale_pa);
	pthread_cond_destroy(&m->cv);
	pthread_mutex_destroy(&m->mu);
	free(m);
}

struct emu_vcpu *emu_vcpu_create(struct emu_machine *m, struct rec *rec)
{
	struct emu_vcpu *v = calloc(1, sizeof(*v));
	if (!v)
		return NULL;
	v->m = m;
	v->be = m->be;
	v->rec = rec;
	v->uc = m->uc;
	m->nvcpus++;
	if (uc_context_alloc(m->uc, &v->ctx) != UC_ERR_OK || uc_context_alloc(m->uc, &v->state) != UC_ERR_OK) {
		emu_vcpu_free(v);
		return NULL;
	}
	return v;
}

void emu_vcpu_free(struct emu_vcpu *v)
{
	if (!v)
		return;
	if (v->m->cur == v)
		v->m->cur = NULL;
	v->m->nvcpus--;
	if (v->ctx)
		uc_context_free(v->ctx);
	if (v->state)
		uc_context_free(v->state);
	free(v);
}

void emu_machine_switch(struct emu_machine *m, struct emu_vcpu *v)
{
	if (m->cur == v)
		return;
	if (m->cur) {
		uc_context_save(m->uc, m->cur->state);
		m->cur->has_state = true;
	}
	/* The whole CPU state, QEMU's cached translation flags included. */
	uc_context_restore(m->uc, v->has_state ? v->state : m->init_ctx);
	pthread_mutex_lock(&m->mu);      /* other engines' IC hooks look at m->cur */
	m->cur = v;
	pthread_mutex_unlock(&m->mu);
	/* QEMU's pending-interrupt state follows HCR_EL2.VI only through a real HCR write; its TLB
	 * is not tagged by REC (stage 1 differs). */
	uint64_t hcr = emu_cp_read(m->uc, CP_HCR_EL2);
	m->hcr = ~hcr;
	emu_set_hcr(v, hcr);
	emu_cp_write(m->uc, CP_TLBI_ALLE1, 0);
}

/* ---- state transfer ---- */

static const int gpr_ids[31] = {
	UC_ARM64_REG_X0, UC_ARM64_REG_X1, UC_ARM64_REG_X2, UC_ARM64_REG_X3, UC_ARM64_REG_X4,
	UC_ARM64_REG_X5, UC_ARM64_REG_X6, UC_ARM64_REG_X7, UC_ARM64_REG_X8, UC_ARM64_REG_X9,
	UC_ARM64_REG_X10, UC_ARM64_REG_X11, UC_ARM64_REG_X12, UC_ARM64_REG_X13, UC_ARM64_REG_X14,
	UC_ARM64_REG_X15, UC_ARM64_REG_X16, UC_ARM64_REG_X17, UC_ARM64_REG_X18, UC_ARM64_REG_X19,
	UC_ARM64_REG_X20, UC_ARM64_REG_X21, UC_ARM64_REG_X22, UC_ARM64_REG_X23, UC_ARM64_REG_X24,
	UC_ARM64_REG_X25, UC_ARM64_REG_X26, UC_ARM64_REG_X27, UC_ARM64_REG_X28, UC_ARM64_REG_X29,
	UC_ARM64_REG_X30,
};

void emu_read_gprs(uc_engine *uc, uint64_t regs[31])
{
	void *vals[31];
	for (unsigned i = 0; i < 31; i++)
		vals[i] = &regs[i];
	uc_reg_read_batch(uc, (int *)gpr_ids, vals, 31);
}

void emu_write_gpr(uc_engine *uc, unsigned n, uint64_t val)
{
	if (n < 31)
		emu_reg_write(uc, gpr_ids[n], val);
}

uint64_t emu_read_gpr(uc_engine *uc, unsigned n)
{
	return n < 31 ? emu_reg_read(uc, gpr_ids[n]) : 0;
}

unsigned emu_gpr_index(uc_arm64_reg reg)
{
	for (unsigned i = 0; i < 31; i++)
		if (gpr_ids[i] == (int)reg)
			return i;
	return 31;
}

static void read_simd(uc_engine *uc, struct emu_arch_shadow *s)
{
	for (unsigned i = 0; i < 32; i++)
		uc_reg_read(uc, UC_ARM64_REG_V0 + (int)i, s->simd.v[i]);
	uint32_t fpsr = 0, fpcr = 0;
	uc_reg_read(uc, UC_ARM64_REG_FPSR, &fpsr);
	uc_reg_read(uc, UC_ARM64_REG_FPCR, &fpcr);
	s->simd.fpsr = fpsr;
	s->simd.fpcr = fpcr;
}

static void write_simd(uc_engine *uc, const struct emu_arch_shadow *s)
{
	for (unsigned i = 0; i < 32; i++)
		uc_reg_write(uc, UC_ARM64_REG_V0 + (int)i, s->simd.v[i]);
	uint32_t fpsr = (uint32_t)s->simd.fpsr, fpcr = (uint32_t)s->simd.fpcr;
	uc_reg_write(uc, UC_ARM64_REG_FPSR, &fpsr);
	uc_reg_write(uc, UC_ARM64_REG_FPCR, &fpcr);
}

/* The REC's state as the engine would hold it. */
static void rec_to_shadow(const struct rec *rec, struct emu_arch_shadow *s)
{
	memcpy(s->regs, rec->regs, sizeof(s->regs));
	s->pc = rec->pc;
	s->pstate = rec->pstate;
	s->sp_el0 = rec->sp_el0;
	s->sp_el1 = rec->sp_el1;
	memcpy(&s->sysregs, &rec->sysregs, sizeof(s->sysregs));
	memcpy(&s->simd, &rec->simd, sizeof(s->simd));
}

void emu_load_state(struct emu_vcpu *v)
{
	struct emu_arch_shadow want, *old = &v->shadow;
	bool first = !v->synced;
	bool need_sync = first;

	rec_to_shadow(v->rec, &want);
	for (unsigned i = 0; i < 31; i++)
		if (first || want.regs[i] != old->regs[i])
			emu_reg_write(v->uc, gpr_ids[i], want.regs[i]);
	bool wrote = false;
	for (unsigned i = 0; i < NSYSREGS; i++) {
		const struct sysreg_desc *d = &sysregs[i];
		uint64_t nv = *sysreg_ptr(&want.sysregs, d);
		if (!first && nv == *sysreg_ptr(&old->sysregs, d))
			continue;
		if (d->hflags)
			need_sync = true;
		if (!d->read_only) {
			emu_cp_write(v->uc, d->op0, d->op1, d->crn, d->crm, d->op2, nv);
			wrote = true;
		}
	}
	/* API writes of SCTLR/TCR/TTBRx are raw: QEMU's TLB would keep the old translations. */
	if (wrote)
		emu_cp_write(v->uc, CP_TLBI_ALLE1, 0);
	if (first || memcmp(&want.simd, &old->simd, sizeof(want.simd)) != 0)
		write_simd(v->uc, &want);

	uint64_t cur = emu_reg_read(v->uc, UC_ARM64_REG_PSTATE);
	const uint64_t mode = PSR_MODE_MASK | PSR_NRW;
	if ((cur & mode) != (want.pstate & mode))
		need_sync = true;

	if (need_sync) {
		if (PSR_EL(want.pstate) != 1 || (want.pstate & PSR_NRW))
			emu_log("REC state with PSTATE %#" PRIx64 " cannot be loaded (only EL1 entry is "
				"supported after a change of translation regime); entering EL1h", want.pstate);
		/* QEMU's cached translation flags are rebuilt by an exception entry it performs
		 * itself; the REC's PC/PSTATE/SP are set once the CPU is at EL1 (docs/vcpu.md). */
		v->el_change.resume = true;
		v->el_change.resume_pc = want.pc;
		v->el_change.resume_pstate = (want.pstate & ~(PSR_MODE_MASK | PSR_NRW)) |
					     (PSR_EL(want.pstate) == 1 ? (want.pstate & PSR_MODE_MASK) : PSR_MODE_EL1H);
		v->el_change.resume_sp_el0 = want.sp_el0;
		v->el_change.resume_sp_el1 = want.sp_el1;
		emu_el_change_start(v);
	} else {
		if (first || want.sp_el0 != old->sp_el0)
			emu_set_sp(v, 0, want.sp_el0);
		if (first || want.sp_el1 != old->sp_el1)
			emu_set_sp(v, 1, want.sp_el1);
		if (want.pstate != cur)
			emu_reg_write(v->uc, UC_ARM64_REG_PSTATE, want.pstate);
	}
	v->synced = true;
	*old = want;
}

void emu_save_state(struct emu_vcpu *v)
{
	struct rec *rec = v->rec;
	struct emu_arch_shadow *s = &v->shadow;

	emu_read_gprs(v->uc, s->regs);
	s->pc = emu_reg_read(v->uc, UC_ARM64_REG_PC);
	s->pstate = emu_reg_read(v->uc, UC_ARM64_REG_PSTATE);
	s->sp_el0 = emu_get_sp(v, 0);
	s->sp_el1 = emu_get_sp(v, 1);
	/* Registers only an MSR can change are read back only when the realm executed one. */
	for (unsigned i = 0; i < NSYSREGS; i++) {
		const struct sysreg_desc *d = &sysregs[i];
		if (d->volatile_ || v->msr_seen)
			*sysreg_ptr(&s->sysregs, d) = emu_cp_read(v->uc, d->op0, d->op1, d->crn, d->crm, d->op2);
	}
	v->msr_seen = false;
	/* The timers' ISTATUS as of now (QEMU only recomputes it when its timer callbacks run). */
	s->sysregs.cntv_ctl = emu_timer_ctl(v, s->sysregs.cntv_ctl, s->sysregs.cntv_cval);
	s->sysregs.cntp_ctl = emu_timer_ctl(v, s->sysregs.cntp_ctl, s->sysregs.cntp_cval);
	read_simd(v->uc, s);
	if (v->have_exit_pc)
		s->pc = v->exit_pc;

	memcpy(rec->regs, s->regs, sizeof(rec->regs));
	rec->pc = s->pc;
	rec->pstate = s->pstate;
	rec->sp_el0 = s->sp_el0;
	rec->sp_el1 = s->sp_el1;
	memcpy(&rec->sysregs, &s->sysregs, sizeof(rec->sysregs));
	memcpy(&rec->simd, &s->simd, sizeof(rec->simd));
	/* The PC the engine holds may differ (exit PC applied above): the next entry writes it. */
}

void emu_log(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("rmmemu vcpu: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}

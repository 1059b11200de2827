/*
 * The reference host's run loop (rmmemu_vm_run) against a scripted fake vCPU: the test plays the
 * realm (MMIO accesses, faults on unpopulated RAM, RSI and PSCI calls) exactly where a real vCPU
 * would produce REC exits; the host loop, the RMM and the RSI are the real ones.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <errno.h>
#include <string.h>

#include "rmm/esr.h"
#include "rmm/realm.h"
#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"
#include "rmmemu/host.h"
#include "rsi/rsi.h"

#define UART      0x01000000ULL
#define SHARED    (1ULL << 32)   /* 33-bit IPA */
#define RAM       0x80000000ULL

enum op { UART_PUT, MMIO_READ, CHECK_REG, TOUCH, SMC, CHECK_SMC_RESULT, END };
struct step {
	enum op op;
	uint64_t a, b, c, d;
};

struct script {
	const struct step *steps[2];
	unsigned pos[2];
	unsigned runs;
	char failure[160];
};

static struct rmmemu *emu;
static struct script *cur;

static void put64(struct rec_exit_image *x, unsigned off, uint64_t v) { rec_exit_put64(x, off, v); }

/* What the RMM reports for a data abort (as emu/ would): ESR with ISV, HPFAR, FAR low bits. */
static void data_abort(struct rec *rec, struct rec_exit_image *x, uint64_t ipa, bool isv, bool write, unsigned srt)
{
	uint64_t esr = ESR_EC_VAL(ESR_EC_DABT_LOW) | ESR_IL | 0x07;
	if (isv)
		esr |= ESR_ISV | ((uint64_t)srt << ESR_SRT_SHIFT) | (3ULL << ESR_SAS_SHIFT) | ESR_SF;
	if (write)
		esr |= ESR_WNR;
	rec->last_run_info.esr = esr;
	rec->last_run_info.hpfar = HPFAR_FROM_IPA(ipa);
	put64(x, RMI_REC_EXIT_REASON, RMI_EXIT_SYNC);
	put64(x, RMI_REC_EXIT_ESR, esr);
	put64(x, RMI_REC_EXIT_FAR, ipa & 0xFFF);
	put64(x, RMI_REC_EXIT_HPFAR, HPFAR_FROM_IPA(ipa));
	if (write)
		put64(x, RMI_REC_EXIT_GPRS, rec->regs[srt]);
}

static void fake_run(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa, struct rec_exit_image *x)
{
	struct script *s = ctx;
	unsigned v = (unsigned)rec->rec_idx;
	s->runs++;
	for (;;) {
		const struct step *st = &s->steps[v][s->pos[v]];
		s->pos[v]++;
		switch (st->op) {
		case UART_PUT:
			rec->regs[1] = st->a;
			data_abort(rec, x, SHARED | UART, true, true, 1);
			return;
		case MMIO_READ:
			data_abort(rec, x, SHARED | st->a, true, false, (unsigned)st->b);
			return;
		case CHECK_REG:
			if (rec->regs[st->a] != st->b && !s->failure[0])
				snprintf(s->failure, sizeof(s->failure), "vCPU %u x%llu = 0x%llx, expected 0x%llx", v,
					 (unsigned long long)st->a, (unsigned long long)rec->regs[st->a],
					 (unsigned long long)st->b);
			break;
		case TOUCH:
			data_abort(rec, x, st->a, false, false, 0);
			return;
		case SMC:
			rec->regs[0] = st->a;
			rec->regs[1] = st->b;
			rec->regs[2] = st->c;
			rec->regs[3] = st->d;
			rec->regs[4] = 0;
			if (rsi_handle_smc(rmm, rec, x))
				return;
			break;
		case CHECK_SMC_RESULT:
			if ((rec->regs[0] != st->a || rec->regs[1] != st->b || rec->regs[2] != st->c) && !s->failure[0])
				snprintf(s->failure, sizeof(s->failure), "vCPU %u result x0..x2 = 0x%llx 0x%llx 0x%llx", v,
					 (unsigned long long)rec->regs[0], (unsigned long long)rec->regs[1],
					 (unsigned long long)rec->regs[2]);
			break;
		case END:
			s->pos[v]--;
			put64(x, RMI_REC_EXIT_REASON, RMI_EXIT_IRQ);
			return;
		}
	}
	(void)rec_pa;
}

static const struct rmm_vcpu_ops fake_ops = { .run = fake_run };

static char uart_buf[256];
static FILE *uart;

static struct rmmemu_vm *make_vm(unsigned vcpus)
{
	struct rmmemu_vm *vm;
	struct rmmemu_vm_params p = { .ipa_bits = 33, .nr_vcpus = vcpus, .uart_base = UART };
	memset(uart_buf, 0, sizeof(uart_buf));
	uart = fmemopen(uart_buf, sizeof(uart_buf), "w");
	p.uart_out = uart;
	uint8_t page[4096] = { 0 };
	CU_ASSERT_FATAL(rmmemu_vm_create(emu, &p, &vm) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_create_realm(vm) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_init_ripas(vm, RAM, 4ULL << 20) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_populate(vm, RAM, page, sizeof(page), true) == 0);
	for (unsigned i = 0; i < vcpus; i++)
		CU_ASSERT_FATAL(rmmemu_vm_finalize_vcpu(vm, i, RAM, NULL) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_activate(vm) == 0);
	return vm;
}

static void host_call_add_one(void *ctx, unsigned vcpu, uint16_t imm, uint64_t gprs[31])
{
	(void)ctx;
	(void)vcpu;
	gprs[0] += 1 + imm;
}

static bool reject_all(void *ctx, unsigned vcpu, uint64_t base, uint64_t top, unsigned ripas)
{
	(void)ctx; (void)vcpu; (void)base; (void)top; (void)ripas;
	return false;
}

static void test_full_run(void)
{
	static const struct step v0[] = {
		{ .op = UART_PUT, .a = 'h' }, { .op = UART_PUT, .a = 'i' }, { .op = UART_PUT, .a = '\n' },
		{ .op = MMIO_READ, .a = UART + 0x18, .b = 2 }, { .op = CHECK_REG, .a = 2, .b = 0x90 },           /* PL011 FR: TXFE | RXFE */
		{ .op = MMIO_READ, .a = 0x0A000000, .b = 3 }, { .op = CHECK_REG, .a = 3, .b = 0 },               /* no device: reads 0 */
		{ .op = TOUCH, .a = RAM + 0x100000 },                                        /* unpopulated RAM */
		{ .op = SMC, .a = 0xC4000197ULL, .b = RAM + 0x200000, .c = RAM + 0x400000, .d = RMI_EMPTY }, /* IPA_STATE_SET */
		{ .op = CHECK_SMC_RESULT, .a = 0, .b = RAM + 0x400000, .c = 0 },                      /* accepted */
		{ .op = SMC, .a = 0xC4000199ULL, .b = RAM + 0x100 },                              /* HOST_CALL */
		{ .op = CHECK_SMC_RESULT, .a = 0, .b = RAM + 0x100, .c = 0 },
		{ .op = SMC, .a = 0xC4000003ULL, .b = 1, .c = RAM + 0x40, .d = 0x1234 },                    /* CPU_ON vCPU 1 */
		{ .op = CHECK_SMC_RESULT, .a = 0, .b = 0, .c = 0 },
		{ .op = SMC, .a = 0x84000008ULL },                                           /* SYSTEM_OFF */
		{ .op = END },
	};
	static const struct step v1[] = {
		{ .op = CHECK_REG, .a = 0, .b = 0x1234 },                                         /* context id */
		{ .op = UART_PUT, .a = 'B' },
		{ .op = SMC, .a = 0x84000002ULL },                                           /* CPU_OFF */
		{ .op = END },
	};
	struct script s = { .steps = { v0, v1 } };
	struct rmmemu_vm *vm = make_vm(2);
	rmm_set_vcpu_ops(rmmemu_core(emu), &fake_ops, &s);
	/* The realm's RsiHostCall at RAM + 0x100: imm = 2, X0 = 40. */
	struct rmmemu_vm_handlers h = { .host_call = host_call_add_one };
	struct rmmemu_vm_run_result r;
	/* Put the host call structure in place through the realm's own memory. */
	uint64_t rd = rmmemu_vm_rd(vm);
	struct rmm *core = rmmemu_core(emu);
	struct rmmemu_smc_result e;
	CU_ASSERT_EQUAL_FATAL(rmmemu_smc6(emu, SMC_RMI_RTT_READ_ENTRY, rd, RAM, 3, 0, 0, 0, &e), RMI_SUCCESS);
	uint8_t *page = granule_mem(core, PA(e.x[3]));
	uint16_t imm = 2;
	uint64_t x0 = 40;
	memcpy(page + 0x100, &imm, 2);
	memcpy(page + 0x108, &x0, 8);

	CU_ASSERT_EQUAL(rmmemu_vm_run(vm, &h, 1000, &r), 0);
	fflush(uart);
	CU_ASSERT_EQUAL(r.stop, RMMEMU_VM_SYSTEM_OFF);
	if (s.failure[0])
		fprintf(stderr, "%s\n", s.failure);
	CU_ASSERT_STRING_EQUAL(s.failure, "");
	CU_ASSERT_STRING_EQUAL(uart_buf, "hi\nB");
	CU_ASSERT_EQUAL(r.mmio, 6);
	CU_ASSERT_EQUAL(r.lazy_pages, 1);
	CU_ASSERT_EQUAL(r.exits[RMI_EXIT_PSCI], 2); /* CPU_ON, SYSTEM_OFF (vCPU 1 never reaches its CPU_OFF) */
	CU_ASSERT_EQUAL(r.exits[RMI_EXIT_RIPAS_CHANGE], 1);
	CU_ASSERT_EQUAL(r.exits[RMI_EXIT_HOST_CALL], 1);
	memcpy(&x0, page + 0x108, 8);
	CU_ASSERT_EQUAL(x0, 43);                 /* the host's answer reached the realm */
	/* Lazily populated page, RIPAS EMPTY after the accepted change */
	CU_ASSERT_EQUAL(rmmemu_smc6(emu, SMC_RMI_RTT_READ_ENTRY, rd, RAM + 0x100000, 3, 0, 0, 0, &e), RMI_SUCCESS);
	CU_ASSERT_EQUAL(e.x[2], RMI_ASSIGNED);
	CU_ASSERT_EQUAL(rmmemu_smc6(emu, SMC_RMI_RTT_READ_ENTRY, rd, RAM + 0x200000, 2, 0, 0, 0, &e), RMI_SUCCESS);
	CU_ASSERT_EQUAL(e.x[4], RMI_EMPTY);
	char msg[256];
	CU_ASSERT_EQUAL(rmmemu_check_invariants(emu, msg, sizeof(msg)), 0);
	rmm_set_vcpu_ops(core, NULL, NULL);
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(vm), 0);
	fclose(uart);
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	CU_ASSERT_EQUAL(counts[RMMEMU_GRANULE_UNDELEGATED], rmmemu_get_platform(emu)->dram[0].size / 4096);
}

static void test_reject_and_limits(void)
{
	static const struct step v0[] = {
		/* A change to RAM can be rejected (RMM 1.0 reports REJECT only for RAM requests). */
		{ .op = SMC, .a = 0xC4000197ULL, .b = RAM + 0x400000, .c = RAM + 0x600000, .d = RMI_RAM },
		{ .op = CHECK_SMC_RESULT, .a = 0, .b = RAM + 0x400000, .c = 1 },                      /* rejected: base unchanged */
		{ .op = TOUCH, .a = 0x40000000 },                                            /* protected, not RAM */
		{ .op = END },
	};
	struct script s = { .steps = { v0 } };
	struct rmmemu_vm *vm = make_vm(1);
	rmm_set_vcpu_ops(rmmemu_core(emu), &fake_ops, &s);
	struct rmmemu_vm_handlers h = { .ripas_change = reject_all };
	struct rmmemu_vm_run_result r;
	CU_ASSERT_NOT_EQUAL(rmmemu_vm_run(vm, &h, 1000, &r), 0);
	CU_ASSERT_EQUAL(r.stop, RMMEMU_VM_ERROR);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.error, "outside RAM"));
	if (s.failure[0])
		fprintf(stderr, "%s\n", s.failure);
	CU_ASSERT_STRING_EQUAL(s.failure, "");

	/* The exit budget */
	static const struct step spin[] = { { .op = END } };
	struct script s2 = { .steps = { spin } };
	rmm_set_vcpu_ops(rmmemu_core(emu), &fake_ops, &s2);
	CU_ASSERT_EQUAL(rmmemu_vm_run(vm, NULL, 50, &r), 0);
	CU_ASSERT_EQUAL(r.stop, RMMEMU_VM_MAX_EXITS);
	CU_ASSERT_EQUAL(r.exits[RMI_EXIT_IRQ], 50);
	rmm_set_vcpu_ops(rmmemu_core(emu), NULL, NULL);
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(vm), 0);
	fclose(uart);
}

/* The v12 uAPI profile: memslots, POPULATE from a user buffer in 2 MiB chunks, registers; RECs and
 * activation on the first run. Same RMI sequence as the v10 flow, so the same RIM. */
static void test_v12_profile(void)
{
	static uint8_t image[(2 << 20) + 3 * 4096];
	for (size_t i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 7 + (i >> 12));
	uint64_t x[8] = { RAM + 0x100000, 1, 2 };
	struct rmmemu_vm_params p = { .ipa_bits = 33, .nr_vcpus = 2 };
	uint8_t rpv[64] = "v12 profile";
	uint8_t rim10[64], rim12[64];

	/* Reference: the explicit v10 calls. */
	struct rmmemu_vm *a;
	CU_ASSERT_FATAL(rmmemu_vm_create(emu, &p, &a) == 0);
	CU_ASSERT_EQUAL(rmmemu_vm_configure(a, RMMEMU_HASH_SHA512, rpv), 0);
	CU_ASSERT_FATAL(rmmemu_vm_create_realm(a) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_init_ripas(a, RAM, 8ULL << 20) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_populate(a, RAM + 0x100000, image, sizeof(image), true) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_finalize_vcpu(a, 0, RAM, x) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_finalize_vcpu(a, 1, 0, NULL) == 0);
	CU_ASSERT_FATAL(rmmemu_vm_activate(a) == 0);
	CU_ASSERT_EQUAL(rmmemu_vm_measurement(a, 0, rim10), 64);
	CU_ASSERT_EQUAL(rmmemu_vm_add_memslot(a, RAM, 4096), -EPERM);   /* one profile per VM */
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(a), 0);

	struct rmmemu_vm *b;
	CU_ASSERT_FATAL(rmmemu_vm_create(emu, &p, &b) == 0);
	CU_ASSERT_EQUAL(rmmemu_vm_configure(b, RMMEMU_HASH_SHA512, rpv), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_add_memslot(b, RAM + 1, 4096), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_add_memslot(b, 1ULL << 32, 4096), -EINVAL);           /* shared half */
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_add_memslot(b, RAM, 8ULL << 20), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_add_memslot(b, RAM + 4096, 4096), -EEXIST);
	CU_ASSERT_EQUAL(rmmemu_vm_rmi_populate(b, RAM, 4096, image, 2), -EINVAL);          /* unknown flag */
	CU_ASSERT_EQUAL(rmmemu_vm_rmi_populate(b, RAM + (8ULL << 20), 4096, image, 1), -EINVAL); /* no memslot */
	CU_ASSERT_EQUAL(rmmemu_vm_create_realm(b), -EPERM);                              /* v10 call */
	uint64_t ipa = RAM + 0x100000, left = sizeof(image), calls = 0;
	while (left) {
		int64_t n = rmmemu_vm_rmi_populate(b, ipa, left, image + (ipa - RAM - 0x100000),
						   RMMEMU_RMI_POPULATE_MEASURE);
		CU_ASSERT_FATAL(n > 0);
		if (calls == 0)
			CU_ASSERT_EQUAL(n, 0x100000);   /* up to the next 2 MiB boundary */
		ipa += (uint64_t)n;
		left -= (uint64_t)n;
		calls++;
	}
	CU_ASSERT_EQUAL(calls, 2);   /* 1 MiB, then the remaining 1 MiB + 12 KiB */
	CU_ASSERT_EQUAL(rmmemu_vm_add_memslot(b, RAM + (16ULL << 20), 4096), -EBUSY);     /* RIPAS already set */
	CU_ASSERT_EQUAL(rmmemu_vm_set_vcpu_regs(b, 2, RAM, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_set_vcpu_regs(b, 0, RAM, x), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_set_vcpu_regs(b, 1, 0, NULL), 0);

	static const struct step v0[] = {
		{ .op = CHECK_REG, .a = 0, .b = RAM + 0x100000 }, { .op = CHECK_REG, .a = 2, .b = 2 },
		{ .op = SMC, .a = 0x84000008ULL },                                           /* SYSTEM_OFF */
		{ .op = END },
	};
	struct script s = { .steps = { v0 } };
	rmm_set_vcpu_ops(rmmemu_core(emu), &fake_ops, &s);
	struct rmmemu_vm_run_result r;
	CU_ASSERT_EQUAL(rmmemu_vm_run(b, NULL, 100, &r), 0);
	rmm_set_vcpu_ops(rmmemu_core(emu), NULL, NULL);
	CU_ASSERT_EQUAL(r.stop, RMMEMU_VM_SYSTEM_OFF);
	if (r.stop == RMMEMU_VM_ERROR)
		fprintf(stderr, "%s\n", r.error);
	CU_ASSERT_STRING_EQUAL(s.failure, "");
	CU_ASSERT_EQUAL(rmmemu_vm_measurement(b, 0, rim12), 64);
	CU_ASSERT_EQUAL(memcmp(rim10, rim12, 64), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_rmi_populate(b, RAM, 4096, image, 0), -EPERM);          /* after the first run */
	CU_ASSERT_EQUAL(rmmemu_vm_set_vcpu_regs(b, 0, RAM, NULL), -EPERM);
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(b), 0);
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	CU_ASSERT_EQUAL(counts[RMMEMU_GRANULE_DELEGATED] + counts[RMMEMU_GRANULE_RD] + counts[RMMEMU_GRANULE_DATA], 0);
}

static int setup(void)
{
	struct rmmemu_platform_config cfg;
	rmmemu_platform_default(&cfg);
	cfg.dram[0].size = 128ULL << 20;
	emu = rmmemu_create(&cfg, NULL, 0);
	(void)cur;
	return emu ? 0 : -1;
}

static int teardown(void)
{
	rmmemu_destroy(emu);
	return 0;
}

static const struct th_test tests[] = {
	{ "run loop: console, MMIO, lazy RAM, RIPAS, host call, CPU_ON/OFF, SYSTEM_OFF", test_full_run },
	{ "run loop: rejected RIPAS change, abort outside RAM, exit budget", test_reject_and_limits },
	{ "v12 uAPI profile: implicit realm, chunked populate, activation on first run", test_v12_profile },
};

int main(void)
{
	return TH_RUN("host_run", setup, teardown, tests);
}

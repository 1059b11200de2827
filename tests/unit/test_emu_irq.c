/*
 * vCPU backend (emu/): interrupts, timers and WFI. The host fills list registers (RmiRecEnter),
 * reads them back from RmiRecExit, follows the virtual timer through exit.cntv_ctl, and traps WFI
 * on request.
 */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "realm_host.h"

static unsigned injected;

static void host_call(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	out[0] = 0;
	if (imm == 0x50) {
		for (unsigned i = 0; i < 16; i++) {
			if (r->lrs[rec][i] >> 62)
				continue;
			r->lrs[rec][i] = (1ULL << 62) | (1ULL << 60) | ((in[2] & 0xFF) << 48) | (in[1] & 0xFFFFFFFF);
			injected++;
			return;
		}
		out[0] = 1;
	} else if (imm == 0x51) {
		r->trap_wfi = in[1] != 0;
	} else if (imm == 0x52) {
		r->trap_wfe = in[1] != 0;
	}
}

static void test_irq_timer_wfi(void)
{
	struct rh_realm r;
	CU_ASSERT_FATAL(rh_realm_setup(&rh_suite, &r, "irq", 33, 1));
	r.deliver_timer = true;
	r.on_host_call = host_call;
	CU_ASSERT(rh_run(&r, 1000000));
	rh_suite_show(&r);
	CU_ASSERT(rh_payload_passed(&r));
	CU_ASSERT(rh_uart_has(&r, "PASS timer irq (busy loop)\n"));
	CU_ASSERT_EQUAL(injected, 2);
	CU_ASSERT_EQUAL(r.st.timer_irqs, 2);
	/* The SGI: ICC_SGI1R_EL1 (op0 3, op1 0, CRn 12, CRm 11, op2 5) written from X?, value 5 << 24 | 1 */
	CU_ASSERT_EQUAL(r.st.sysreg_traps, 1);
	CU_ASSERT_EQUAL((r.st.last_sysreg_esr >> 26) & 0x3F, 0x18);
	CU_ASSERT_EQUAL(r.st.last_sysreg_esr & 0x3FFC1E, (3u << 20) | (5u << 17) | (0u << 14) | (12u << 10) | (11u << 1));
	CU_ASSERT_EQUAL(r.st.last_sysreg_value, (5ULL << 24) | 1);
	CU_ASSERT(r.st.wfi_traps >= 3);
	/* Three WFEs ran untrapped (no exit), three trapped: one exit each, ESR EC 0x01 with TI = WFE
	 * (TF-RMM reports EC and TI only). */
	CU_ASSERT_EQUAL(r.st.wfe_traps, 3);
	CU_ASSERT_EQUAL(r.st.last_wfx_esr, (0x01ULL << 26) | 1);
	CU_ASSERT(rh_uart_has(&r, "PASS wfe untrapped and trapped\n"));
	/* Untrapped WFI with nothing pending ended runs with IRQ exits. */
	CU_ASSERT(r.st.exits[RMI_EXIT_IRQ] >= 1);
	/* Every list register came back inactive. */
	for (unsigned i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(r.lrs[0][i] >> 62, 0);
	CU_ASSERT(rh_realm_destroy(&r));
}

/* A realm whose very first instruction is a WFE (the first block an engine runs is not reported
 * by Unicorn's new-block hook): trapped on the first entry, then PSCI SYSTEM_OFF. */
static void test_wfe_first_block(void)
{
	static const uint32_t image[] = {
		0xD503205FU,   /* wfe */
		0xD2800100U,   /* movz x0, #0x8 */
		0xF2B08000U,   /* movk x0, #0x8400, lsl #16: PSCI SYSTEM_OFF */
		0xD4000003U,   /* smc #0 */
		0x14000000U,   /* b . */
	};
	char path[] = "/tmp/rmmemu-wfe-XXXXXX";
	int fd = mkstemp(path);
	CU_ASSERT_FATAL(fd >= 0);
	CU_ASSERT_FATAL(write(fd, image, sizeof(image)) == (ssize_t)sizeof(image));
	close(fd);
	struct rh_realm r;
	bool ok = rh_realm_create(&rh_suite, &r, 33) && rh_realm_load(&r, path, 1);
	unlink(path);
	CU_ASSERT_FATAL(ok);
	r.trap_wfe = true;
	CU_ASSERT(rh_run(&r, 100));
	rh_suite_show(&r);
	CU_ASSERT(r.system_off);
	CU_ASSERT_EQUAL(r.st.wfe_traps, 1);
	CU_ASSERT_EQUAL(r.st.last_wfx_esr, (0x01ULL << 26) | 1);
	CU_ASSERT(rh_realm_destroy(&r));
}

static const struct th_test tests[] = {
	{ "irq_timer_wfi", test_irq_timer_wfi },
	{ "wfe_first_block", test_wfe_first_block },
};

int main(void)
{
	return TH_RUN("emu_irq", rh_suite_init, rh_suite_fini, tests);
}

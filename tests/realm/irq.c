/*
 * Interrupts through the GICv3 virtual CPU interface: list registers filled by the host (through a
 * host call, and for the virtual timer when an exit reports it asserted), acknowledge / priority
 * drop / deactivate with ICC_IAR1 / ICC_EOIR1, PMR masking, the timer waking WFI and a busy loop,
 * SGI generation (a system register exit), and WFI and WFE trapped by the host.
 */
#include "rt.h"

#define ICC_PMR_EL1     "S3_0_C4_C6_0"
#define ICC_IAR1_EL1    "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1   "S3_0_C12_C12_1"
#define ICC_HPPIR1_EL1  "S3_0_C12_C12_2"
#define ICC_BPR1_EL1    "S3_0_C12_C12_3"
#define ICC_CTLR_EL1    "S3_0_C12_C12_4"
#define ICC_SRE_EL1     "S3_0_C12_C12_5"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_RPR_EL1     "S3_0_C12_C11_3"
#define ICC_SGI1R_EL1   "S3_0_C12_C11_5"
#define RD(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " r : "=r"(__v) : : "memory"); __v; })
#define WR(r, v) __asm__ volatile("msr " r ", %0" : : "r"((uint64_t)(v)) : "memory")

#define HC_INJECT   0x50   /* host: put vINTID x1 with priority x2 in a list register */
#define HC_TRAP_WFI 0x51   /* host: x1 = trap WFI from now on */
#define HC_TRAP_WFE 0x52   /* host: x1 = trap WFE from now on */

static volatile unsigned irq_count;
static volatile uint64_t irq_ids[8], irq_rpr[8];
static struct rt_host_call hc;

static bool on_exception(unsigned kind, struct rt_frame *f)
{
	(void)f;
	if (!RT_KIND_IRQ(kind))
		return false;
	uint64_t id = RD(ICC_IAR1_EL1);
	unsigned n = irq_count;
	irq_ids[n & 7] = id;
	irq_rpr[n & 7] = RD(ICC_RPR_EL1);
	if (id == 27)
		write_sysreg(cntv_ctl_el0, 0);   /* the timer stops asserting */
	WR(ICC_EOIR1_EL1, id);
	irq_count = n + 1;
	return true;
}

static void irq_on(void) { __asm__ volatile("msr daifclr, #2\n isb" ::: "memory"); }
static void irq_off(void) { __asm__ volatile("msr daifset, #2\n isb" ::: "memory"); }

void main(void)
{
	rt_set_handler(on_exception);
	CHECK_EQ("icc_sre", RD(ICC_SRE_EL1), 7);
	CHECK_EQ("icc_ctlr pribits", (RD(ICC_CTLR_EL1) >> 8) & 7, 4);
	WR(ICC_PMR_EL1, 0xF0);
	CHECK_EQ("icc_pmr", RD(ICC_PMR_EL1), 0xF0);
	WR(ICC_BPR1_EL1, 3);
	CHECK_EQ("icc_bpr1", RD(ICC_BPR1_EL1), 3);
	WR(ICC_IGRPEN1_EL1, 1);
	CHECK_EQ("idle rpr", RD(ICC_RPR_EL1), 0xFF);
	CHECK_EQ("nothing pending", RD(ICC_HPPIR1_EL1), 1023);

	/* A host-injected interrupt: visible while masked, taken when PSTATE.I is cleared. */
	rt_host_call(HC_INJECT, 40, 0x80, &hc);
	CHECK_EQ("hppir shows 40", RD(ICC_HPPIR1_EL1), 40);
	CHECK_EQ("masked: not taken", irq_count, 0);
	irq_on();
	irq_off();
	rt_check(irq_count == 1 && irq_ids[0] == 40 && irq_rpr[0] == 0x80, "irq 40 taken",
		 "count %u id %lu rpr %#lx", irq_count, (unsigned long)irq_ids[0], (unsigned long)irq_rpr[0]);
	CHECK_EQ("rpr after eoi", RD(ICC_RPR_EL1), 0xFF);

	/* PMR: a priority 0xA0 interrupt waits while PMR is 0x80. */
	WR(ICC_PMR_EL1, 0x80);
	rt_host_call(HC_INJECT, 41, 0xA0, &hc);
	irq_on();
	for (volatile int i = 0; i < 1000; i++)
		;
	CHECK_EQ("pmr masks", irq_count, 1);
	WR(ICC_PMR_EL1, 0xF0);
	isb();
	for (volatile int i = 0; i < 100; i++)
		;
	irq_off();
	rt_check(irq_count == 2 && irq_ids[1] == 41, "irq 41 after pmr", "count %u id %lu", irq_count,
		 (unsigned long)irq_ids[1]);

	/* Virtual timer, waited for with WFI: each untrapped WFI with nothing pending ends the run
	 * (IRQ exit); the exit that shows the timer asserted makes the host inject vINTID 27. */
	write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + 2000);
	write_sysreg(cntv_ctl_el0, 1);
	irq_on();
	while (irq_count < 3)
		__asm__ volatile("wfi");
	irq_off();
	rt_check(irq_ids[2] == 27, "timer irq (wfi)", "id %lu", (unsigned long)irq_ids[2]);

	/* Again with a busy loop: nothing exits until the timer's deadline stops the run. */
	write_sysreg(cntv_tval_el0, 2000);
	write_sysreg(cntv_ctl_el0, 1);
	irq_on();
	while (irq_count < 4)
		;
	irq_off();
	rt_check(irq_ids[3] == 27, "timer irq (busy loop)", "id %lu", (unsigned long)irq_ids[3]);
	uint64_t ctl = read_sysreg(cntv_ctl_el0);
	CHECK_EQ("timer off", ctl & 1, 0);

	/* SGI 5 to CPU 0 of affinity 0.0.0: a system register exit for the host. */
	WR(ICC_SGI1R_EL1, (5UL << 24) | 1);
	rt_check(true, "sgi sent", "%s", "");

	/* WFI trapped by the host (RMI_REC_ENTER_FLAG_TRAP_WFI). */
	rt_host_call(HC_TRAP_WFI, 1, 0, &hc);
	for (int i = 0; i < 3; i++)
		__asm__ volatile("wfi");
	rt_host_call(HC_TRAP_WFI, 0, 0, &hc);
	rt_check(true, "wfi trapped", "%s", "");

	/* WFE between two additions: completes at once when not trapped; trapped on request
	 * (RMI_REC_ENTER_FLAG_TRAP_WFE), the REC exits with PC past it. Either way the code around it
	 * runs exactly once. */
	uint64_t cnt = 0;
	for (int i = 0; i < 3; i++)
		__asm__ volatile("add %0, %0, #1\n wfe\n add %0, %0, #16" : "+r"(cnt));
	rt_host_call(HC_TRAP_WFE, 1, 0, &hc);
	for (int i = 0; i < 3; i++)
		__asm__ volatile("add %0, %0, #1\n wfe\n add %0, %0, #16" : "+r"(cnt));
	rt_host_call(HC_TRAP_WFE, 0, 0, &hc);
	CHECK_EQ("wfe untrapped and trapped", cnt, 6 * 17);
}

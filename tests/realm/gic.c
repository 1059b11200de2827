/*
 * Interrupts the KVM way (tests/cli/run_gic.sh, tests/cli/gic.yaml): the realm programs the host's
 * virtual GICv3 over MMIO at the unprotected alias (distributor at 0x08000000, redistributors at
 * 0x080A0000, PL011 at 0x01000000 with SPI 1 = INTID 33), then takes the virtual timer PPI 27 after
 * a WFI (the host sleeps the vCPU until the deadline), ticks the timer five times, takes the
 * physical timer PPI 30, sends itself SGI 3 through ICC_SGI1R_EL1 (a REC exit the host turns into a
 * pending SGI), and reads the bytes the host feeds into the PL011 RX FIFO from its console input,
 * with the RX interrupt. Every count here is the payload's own; nothing depends on speed.
 */
#include "rt.h"

#define GICD        0x08000000UL
#define GICR        0x080A0000UL
#define GICR_SGI    (GICR + 0x10000UL)
#define UART        RT_UART_OFFSET
#define UART_INTID  33U

#define ICC_PMR_EL1     "S3_0_C4_C6_0"
#define ICC_IAR1_EL1    "S3_0_C12_C12_0"
#define ICC_EOIR1_EL1   "S3_0_C12_C12_1"
#define ICC_IGRPEN1_EL1 "S3_0_C12_C12_7"
#define ICC_SGI1R_EL1   "S3_0_C12_C11_5"
#define RD(r) ({ uint64_t __v; __asm__ volatile("mrs %0, " r : "=r"(__v) : : "memory"); __v; })
#define WR(r, v) __asm__ volatile("msr " r ", %0" : : "r"((uint64_t)(v)) : "memory")

static volatile uint32_t *reg32(uint64_t off) { return rt_mmio(off); }
static volatile uint64_t *reg64(uint64_t off) { return rt_mmio(off); }

#define TICK        (62500000UL / 500)     /* 2 ms of the 62.5 MHz counter */
#define TICKS       5

static volatile unsigned n_irq, n_vtimer, n_ptimer, n_sgi, n_uart, n_spurious;
static volatile uint64_t vtimer_late, ptimer_late;   /* counter >= CVAL when taken (1: yes) */
static volatile uint64_t vcval, pcval;
static volatile char rx[16];
static volatile unsigned rx_len;
static volatile bool input_phase, input_timeout;

static bool on_irq(unsigned kind, struct rt_frame *f)
{
	(void)f;
	if (!RT_KIND_IRQ(kind))
		return false;
	uint64_t id = RD(ICC_IAR1_EL1);
	n_irq++;
	switch (id) {
	case 27: {
		if (input_phase) {
			input_timeout = 1;             /* no (more) input within a second */
			write_sysreg(cntv_ctl_el0, 3);
			isb();
			break;
		}
		uint64_t now = read_sysreg(cntvct_el0);
		vtimer_late = now >= vcval;
		n_vtimer++;
		if (n_vtimer < TICKS) {
			vcval = now + TICK;            /* periodic: the next tick from now */
			write_sysreg(cntv_cval_el0, vcval);
		} else {
			write_sysreg(cntv_ctl_el0, 3); /* masked: the line drops */
		}
		isb();
		break;
	}
	case 30:
		ptimer_late = read_sysreg(cntpct_el0) >= pcval;
		n_ptimer++;
		write_sysreg(cntp_ctl_el0, 0);
		isb();
		break;
	case 3:
		n_sgi++;
		break;
	case UART_INTID:
		/* Drain the RX FIFO: the line (RX / RX timeout) drops when it is empty. */
		while (!(*reg32(UART + 0x18) & (1U << 4))) {
			uint32_t c = *reg32(UART + 0x00);
			if (rx_len < sizeof(rx) - 1)
				rx[rx_len++] = (char)c;
		}
		n_uart++;
		break;
	case 1023:
		n_spurious++;
		return true;
	default:
		break;
	}
	WR(ICC_EOIR1_EL1, id);
	return true;
}

static void irq_on(void) { __asm__ volatile("msr daifclr, #2\n isb" ::: "memory"); }
static void irq_off(void) { __asm__ volatile("msr daifset, #2\n isb" ::: "memory"); }
static void wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

void main(void)
{
	rt_set_handler(on_irq);

	/* Identification. */
	CHECK_EQ("GICD_PIDR2 ArchRev 3", (*reg32(GICD + 0xFFE8) >> 4) & 0xF, 3);
	CHECK_EQ("GICR_PIDR2 ArchRev 3", (*reg32(GICR + 0xFFE8) >> 4) & 0xF, 3);
	uint32_t typer = *reg32(GICD + 0x4);
	rt_check((typer & 0x1F) >= 1 && ((typer >> 19) & 0x1F) == 15, "GICD_TYPER", "%#x", typer);
	uint64_t rtyper = *reg64(GICR + 0x8);
	rt_check((rtyper >> 32) == 0 && (rtyper & (1U << 4)) && ((rtyper >> 8) & 0xFFFF) == 0, "GICR_TYPER",
		 "%#lx", (unsigned long)rtyper);
	CHECK_EQ("GICD_CTLR ARE|DS", *reg32(GICD + 0x0) & 0x50, 0x50);

	/* Wake the redistributor, as Linux does. */
	*reg32(GICR + 0x14) = 0;
	unsigned spins = 0;
	while ((*reg32(GICR + 0x14) & 4) && spins < 100)
		spins++;
	CHECK_EQ("GICR_WAKER awake", *reg32(GICR + 0x14), 0);

	/* Private interrupts: priorities, then enable timers 27/30 and SGI 3. */
	*reg32(GICR_SGI + 0x400 + 0) = 0x80808080;       /* SGIs 0-3 */
	*reg32(GICR_SGI + 0x400 + 24) = 0xA0A0A0A0;      /* PPIs 24-27 */
	*reg32(GICR_SGI + 0x400 + 28) = 0xA0A0A0A0;      /* PPIs 28-31 */
	CHECK_EQ("GICR_IPRIORITYR6", *reg32(GICR_SGI + 0x418), 0xA0A0A0A0);
	*reg32(GICR_SGI + 0x100) = (1U << 27) | (1U << 30) | (1U << 3);
	CHECK_EQ("GICR_ISENABLER0", *reg32(GICR_SGI + 0x100), (1U << 27) | (1U << 30) | (1U << 3));
	/* The PL011's SPI, routed to this vCPU. */
	*reg32(GICD + 0x400 + 32) = 0x90909090;
	*reg64(GICD + 0x6000 + 8 * UART_INTID) = 0;
	*reg32(GICD + 0x104) = 1U << (UART_INTID - 32);
	CHECK_EQ("GICD_ISENABLER1", *reg32(GICD + 0x104), 1U << (UART_INTID - 32));
	*reg32(GICD + 0x0) = 2;                          /* EnableGrp1 */
	WR(ICC_PMR_EL1, 0xF0);
	WR(ICC_IGRPEN1_EL1, 1);
	isb();

	/* 1. The virtual timer: one WFI per tick, five ticks of 2 ms. */
	uint64_t start = read_sysreg(cntvct_el0);
	vcval = start + TICK;
	write_sysreg(cntv_cval_el0, vcval);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	irq_on();
	unsigned wfis = 0;
	while (n_vtimer < TICKS && wfis < 100000) {
		wfi();
		wfis++;
	}
	uint64_t elapsed = read_sysreg(cntvct_el0) - start;
	CHECK_EQ("virtual timer ticks", n_vtimer, TICKS);
	CHECK_EQ("virtual timer never early", vtimer_late, 1);
	rt_check(elapsed >= TICKS * TICK, "ticks took their time", "%lu counts", (unsigned long)elapsed);
	rt_check(wfis >= 1, "WFI slept between ticks", "%u", wfis);

	/* 2. The physical timer. */
	pcval = read_sysreg(cntpct_el0) + TICK;
	write_sysreg(cntp_cval_el0, pcval);
	write_sysreg(cntp_ctl_el0, 1);
	isb();
	for (wfis = 0; !n_ptimer && wfis < 100000; wfis++)
		wfi();
	CHECK_EQ("physical timer PPI 30", n_ptimer, 1);
	CHECK_EQ("physical timer never early", ptimer_late, 1);

	/* 3. An SGI to itself: Aff3.Aff2.Aff1 = 0, TargetList bit 0, INTID 3. */
	WR(ICC_SGI1R_EL1, (3UL << 24) | 1);
	isb();
	for (wfis = 0; !n_sgi && wfis < 100000; wfis++)
		wfi();
	CHECK_EQ("SGI 3 taken", n_sgi, 1);

	/* 4. Console input: RX and RX timeout interrupts, FIFO on. The host feeds what it reads. */
	*reg32(UART + 0x2C) = 0x70;                  /* LCR_H: 8 bits, FIFO */
	*reg32(UART + 0x38) = (1U << 4) | (1U << 6); /* IMSC: RXIM, RTIM */
	/* The wait is bounded by the virtual timer (1 s): without input the realm still finishes. */
	input_phase = true;
	write_sysreg(cntv_cval_el0, read_sysreg(cntvct_el0) + 62500000UL);
	write_sysreg(cntv_ctl_el0, 1);
	isb();
	while (rx_len < 3 && !input_timeout)
		wfi();
	write_sysreg(cntv_ctl_el0, 0);
	irq_off();
	rx[rx_len] = 0;
	rt_check(rx_len >= 3 && rx[0] == 'g' && rx[1] == 'i' && rx[2] == 'c', "PL011 RX with its interrupt",
		 "%u bytes '%s'", rx_len, (const char *)rx);
	rt_check(n_uart >= 1, "PL011 interrupt taken", "%u", n_uart);
	CHECK_EQ("UARTFR RX empty", *reg32(UART + 0x18) & (1U << 4), 1U << 4);
	CHECK_EQ("UARTMIS quiet", *reg32(UART + 0x40) & 0x50, 0);
	CHECK_EQ("PL011 PeriphID0", *reg32(UART + 0xFE0), 0x11);
	CHECK_EQ("PL011 PCellID3", *reg32(UART + 0xFFC), 0xB1);
	CHECK_EQ("no spurious acknowledge", n_spurious, 0);
	rt_printf("gic: %u interrupts (vtimer %u, ptimer %u, sgi %u, uart %u), input '%s'\n", n_irq, n_vtimer,
		  n_ptimer, n_sgi, n_uart, (const char *)rx);

	/* 5. With input: every further byte is reported until a '.' (no time limit: a terminal session
	 * ends with the host's escape key instead). */
	if (input_timeout)
		return;
	unsigned seen = 3;
	irq_on();
	for (;;) {
		while (rx_len == seen)
			wfi();
		char c = rx[seen];
		rt_printf("rx %#x\n", (unsigned)(uint8_t)c);
		if (c == '.')
			break;
		if (++seen == sizeof(rx) - 1) {
			irq_off();
			rx_len = seen = 3;
			irq_on();
		}
	}
	irq_off();
}

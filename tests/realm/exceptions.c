/*
 * Exceptions taken by the realm's own vectors and returned from: SVC, undefined instruction,
 * HVC (undefined in a realm), BRK, stage-1 data and instruction aborts with the
 * MMU on, and EL0 code (SVC, UNDEF, SMC) returning to EL1. FP/SIMD registers survive REC exits.
 */
#include "rt.h"

#define EC_UNKNOWN 0x00
#define EC_SVC     0x15
#define EC_IABT_CUR 0x21
#define EC_DABT_CUR 0x25
#define EC_BRK     0x3C

static volatile unsigned count;
static volatile unsigned last_kind;
static volatile uint64_t last_esr, last_far, last_elr, last_spsr;
static volatile int skip;          /* -1: return to x30, else skip the faulting instruction */
static uint64_t el0_stack[512] __attribute__((aligned(16)));
static uint64_t l1[512] __attribute__((aligned(4096)));
static uint8_t zva_buf[256] __attribute__((aligned(64)));
static uint8_t fresh_code[4096] __attribute__((aligned(4096), section(".untouched")));
extern char el0_code[], el0_code_end[];

static bool on_exception(unsigned kind, struct rt_frame *f)
{
	if (!RT_KIND_SYNC(kind))
		return false;
	count++;
	last_kind = kind;
	last_esr = f->esr;
	last_far = f->far;
	last_elr = f->elr;
	last_spsr = f->spsr;
	if (kind == 8 && ESR_EC(f->esr) == EC_SVC && (f->esr & 0xFFFF) == 0xE0) {
		/* EL0 is done: return to EL1, to the instruction after rt_eret_to's call. */
		f->elr = f->x[30];
		f->spsr = 0x3C5;
		return true;
	}
	if (skip == -1)
		f->elr = f->x[30];
	else if (ESR_EC(f->esr) != EC_SVC)   /* SVC's ELR is already the next instruction */
		f->elr += 4;
	return true;
}

static void expect(const char *name, unsigned kind, uint64_t ec, uint64_t iss, uint64_t elr)
{
	rt_check(last_kind == kind && ESR_EC(last_esr) == ec && (last_esr & 0x3FFFFFF) == iss && last_elr == elr,
		 name, "kind %u esr %#lx elr %#lx (want kind %u ec %#lx iss %#lx elr %#lx)", last_kind,
		 (unsigned long)last_esr, (unsigned long)last_elr, kind, (unsigned long)ec, (unsigned long)iss,
		 (unsigned long)elr);
}

static uint64_t here(void)
{
	return (uint64_t)__builtin_return_address(0);
}

/* The instruction addresses are taken with adr around the exception-raising instruction. */
#define RAISE(insn) ({ uint64_t __a; __asm__ volatile("adr %0, 1f\n1: " insn : "=&r"(__a) : : "memory"); __a; })

static void mmu_on(void)
{
	l1[2] = 0x80000000UL | (1UL << 10) | (3UL << 8) | (1UL << 2) | 1;               /* RAM, normal WB */
	l1[4] = 0x100000000UL | (1UL << 10) | (3UL << 53) | (0UL << 2) | 1;             /* shared alias, device */
	write_sysreg(mair_el1, 0xFF00UL);
	write_sysreg(tcr_el1, 25UL | (1UL << 8) | (1UL << 10) | (3UL << 12) | (1UL << 23) | (1UL << 32));
	write_sysreg(ttbr0_el1, (uint64_t)l1);
	isb();
	__asm__ volatile("tlbi vmalle1\n dsb sy\n isb" ::: "memory");
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) | 1 | (1 << 2) | (1 << 12));
	isb();
}

static void mmu_off(void)
{
	write_sysreg(sctlr_el1, read_sysreg(sctlr_el1) & ~(uint64_t)(1 | (1 << 2) | (1 << 12)));
	isb();
}

static void el0_done(void);

void main(void)
{
	uint64_t pc;
	rt_set_handler(on_exception);
	rt_check((read_sysreg(CurrentEL) >> 2) == 1, "runs at EL1", "CurrentEL %#lx", (unsigned long)read_sysreg(CurrentEL));

	skip = 0;
	pc = RAISE("svc #0x42");
	expect("svc", 4, EC_SVC, (1UL << 25) | 0x42, pc + 4);
	rt_check((last_spsr & 0xF) == 5, "svc spsr EL1h", "%#lx", (unsigned long)last_spsr);

	skip = 4;
	pc = RAISE(".inst 0x00001234");
	expect("udf", 4, EC_UNKNOWN, 1UL << 25, pc);
	pc = RAISE("hvc #0");
	expect("hvc is undefined", 4, EC_UNKNOWN, 1UL << 25, pc);
	pc = RAISE("brk #7");
	expect("brk", 4, EC_BRK, (1UL << 25) | 7, pc);

	/* FP/SIMD (Unicorn 2.0.1 never traps FP accesses: CPACR_EL1.FPEN is not enforced, see
	 * docs/vcpu.md): V7 survives dozens of REC exits. */
	write_sysreg(cpacr_el1, 3UL << 20);
	isb();
	uint64_t pattern = 0x0123456789ABCDEFUL, back = 0;
	__asm__ volatile("fmov d7, %0" : : "r"(pattern));
	rt_printf("fp state across exits\n");       /* dozens of MMIO exits */
	__asm__ volatile("fmov %0, d7" : "=r"(back));
	CHECK_EQ("fp regs preserved", back, pattern);

	/* Instruction fetch from protected RAM not populated yet: a stage-2 instruction abort the host
	 * answers with a zeroed granule, then the zeros are an undefined instruction. */
	skip = -1;
	__asm__ volatile("blr %0" : : "r"(fresh_code) : "x30", "memory");
	rt_check(ESR_EC(last_esr) == EC_UNKNOWN && last_elr == (uint64_t)fresh_code, "fetch from new ram",
		 "esr %#lx elr %#lx", (unsigned long)last_esr, (unsigned long)last_elr);
	/* Instruction fetch from the unprotected half: an SEA, instruction abort flavour. */
	__asm__ volatile("blr %0" : : "r"(rt_mmio(RT_TESTDEV_OFFSET)) : "x30", "memory");
	rt_check(ESR_EC(last_esr) == EC_IABT_CUR && (last_esr & 0x3F) == 0x10 && (last_esr & (1UL << 9)) &&
		 last_far == (uint64_t)rt_mmio(RT_TESTDEV_OFFSET), "fetch from unprotected -> SEA",
		 "esr %#lx far %#lx", (unsigned long)last_esr, (unsigned long)last_far);
	skip = 4;

	/* Stage-1 faults with the MMU on (identity map of RAM and the shared alias only). */
	mmu_on();
	rt_check(1, "mmu on", "%s", "");
	unsigned before = count;
	__asm__ volatile("adr %0, 1f\n1: ldr x1, [%1]" : "=&r"(pc) : "r"(0x40000000UL) : "x1", "memory");
	rt_check(count == before + 1 && ESR_EC(last_esr) == EC_DABT_CUR && (last_esr & 0x3F) == 0x05 &&
		 last_far == 0x40000000UL && last_elr == pc, "stage-1 data abort",
		 "esr %#lx far %#lx elr %#lx", (unsigned long)last_esr, (unsigned long)last_far, (unsigned long)last_elr);
	skip = -1;
	__asm__ volatile("blr %0" : : "r"(0x40001000UL) : "x30", "memory");
	rt_check(ESR_EC(last_esr) == EC_IABT_CUR && (last_esr & 0x3F) == 0x05 && last_far == 0x40001000UL &&
		 last_elr == 0x40001000UL, "stage-1 instruction abort", "esr %#lx far %#lx",
		 (unsigned long)last_esr, (unsigned long)last_far);
	skip = 4;
	for (unsigned i = 0; i < sizeof(zva_buf); i++)
		zva_buf[i] = 0xEE;
	__asm__ volatile("dc zva, %0" : : "r"(zva_buf + 64) : "memory");
	rt_check(zva_buf[63] == 0xEE && zva_buf[64] == 0 && zva_buf[127] == 0 && zva_buf[128] == 0xEE, "dc zva",
		 "%x %x %x %x", zva_buf[63], zva_buf[64], zva_buf[127], zva_buf[128]);
	mmu_off();

	/* EL0: SVC, UNDEF and SMC (undefined at EL0) taken from the lower EL, a WFE (the host traps
	 * WFE for this payload: an EL2 trap, nothing seen here), then back to EL1. Twice: the second
	 * time with SCTLR_EL1.nTWE = 0, where the EL1 trap would come first and the WFE completes
	 * instead (the host counts one WFE trap). */
	uint64_t sctlr = read_sysreg(sctlr_el1);
	for (unsigned pass = 0; pass < 2; pass++) {
		write_sysreg(sctlr_el1, pass ? sctlr & ~(1UL << 18) : sctlr | (1UL << 18));
		__asm__ volatile("isb");
		count = 0;
		rt_eret_to((uint64_t)el0_code, 0 /* EL0t, interrupts unmasked */, (uint64_t)(el0_stack + 512));
		el0_done();
	}
	write_sysreg(sctlr_el1, sctlr);
	__asm__ volatile("isb");
	(void)here;
}

static void el0_done(void)
{
	rt_check(count == 4, "el0 exceptions", "count %u", count);
	rt_check((read_sysreg(CurrentEL) >> 2) == 1, "back at EL1", "%#lx", (unsigned long)read_sysreg(CurrentEL));
}

/* EL0 code: svc #0x10, an undefined instruction, smc, wfe, then svc #0xE0 back to EL1. */
__asm__(
	".text\n"
	".balign 4\n"
	".global el0_code\n"
	"el0_code:\n"
	"	svc #0x10\n"
	"	.inst 0x00000000\n"
	"	smc #0\n"
	"	wfe\n"
	"	svc #0xE0\n"
	".global el0_code_end\n"
	"el0_code_end:\n");

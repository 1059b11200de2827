/*
 * A chaotic realm: a pseudo-random sequence of RSI calls (every command and unimplemented FIDs,
 * arguments and buffers at random IPAs of every kind), PSCI calls (all but SYSTEM_OFF / RESET, and
 * CPU_OFF on the boot CPU), MMIO loads and stores at unprotected IPAs (with and without a syndrome),
 * accesses to its scratch RAM whatever its RIPAS, and host calls; then PSCI SYSTEM_OFF.
 * tests/cli/realm_chaos.sh runs it under `rmmemu run` with several seeds.
 *
 * The seed is the Realm Personalization Value (`realm: rpv:` in the configuration), read with
 * RSI_REALM_CONFIG, so one payload gives as many runs as there are RPVs. The realm is hostile but
 * not self-destructive: it never writes its own image, stacks or the UART, changes the RIPAS only
 * of its scratch RAM (CHAOS_SCRATCH, up to the end of a 64 MiB RAM) and starts secondary CPUs only
 * at their proper entry point. Everything else it may do, it does: a correct RMM and host answer
 * with an error, an exit they complete, or a synchronous external abort the realm counts and skips.
 */
#include "rt.h"

#define CHAOS_STEPS       300U
#define CHAOS_SEC_STEPS   60U
#define CHAOS_RAM_BASE    0x80000000UL
#define CHAOS_RAM_SIZE    (64UL << 20)          /* the test's memory.size */
#define CHAOS_SCRATCH     (CHAOS_RAM_BASE + (32UL << 20))
#define CHAOS_SCRATCH_END (CHAOS_RAM_BASE + CHAOS_RAM_SIZE)
#define CHAOS_MAX_CPUS    4U
#define HOSTCALL_TOKEN    0xA77EU               /* the token hand-over `rmmemu run` verifies: not ours */

static uint8_t config[4096] __attribute__((aligned(4096)));
static uint8_t bufs[CHAOS_MAX_CPUS][4096] __attribute__((aligned(4096)));
static struct rt_host_call hcs[CHAOS_MAX_CPUS];
static uint64_t seed;
static volatile unsigned counts[8];
enum { N_RSI, N_PSCI, N_MMIO, N_MEM, N_HOST, N_CPU_ON, N_EXITS_OK, N_SMC_ERR };

struct rng {
	uint64_t s;
};

static uint64_t next(struct rng *r)
{
	uint64_t x = r->s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	r->s = x;
	return x;
}

static uint64_t below(struct rng *r, uint64_t n)
{
	return next(r) % n;
}

static uint64_t scratch_page(struct rng *r)
{
	return CHAOS_SCRATCH + below(r, (CHAOS_SCRATCH_END - CHAOS_SCRATCH) / 4096) * 4096;
}

/* An unprotected IPA that is not the UART's page, for MMIO. */
static uint64_t mmio_addr(struct rng *r, unsigned size)
{
	uint64_t off;
	do
		off = below(r, 0x20000000UL);
	while ((off & ~0xFFFUL) == RT_UART_OFFSET);
	return rt_shared_bit | (off & ~(uint64_t)(size - 1));
}

/* An IPA of any kind, as an RSI argument. `own` is a buffer the realm may have written. */
static uint64_t any_ipa(struct rng *r, uint8_t *own)
{
	uint64_t ipa_top = 2 * rt_shared_bit;
	switch (below(r, 12)) {
	case 0:
	case 1:
		return (uint64_t)own;                              /* its own buffer: protected RAM */
	case 2:
		return (uint64_t)own + (below(r, 2) ? 0xFF8 : 1 + below(r, 0xFFF));   /* unaligned, crossing */
	case 3:
	case 4:
		return scratch_page(r);                            /* RAM or EMPTY, populated or not */
	case 5:
		return below(r, CHAOS_RAM_BASE) & ~0xFFFUL;        /* protected, outside RAM: EMPTY */
	case 6:
		return rt_shared_bit | scratch_page(r);            /* the unprotected alias of RAM */
	case 7:
		return mmio_addr(r, 8);                            /* unprotected, no memory */
	case 8:
		return ipa_top + (below(r, 4) << 12);              /* beyond the IPA space */
	case 9:
		return rt_shared_bit - 4096;                       /* the last protected granule */
	case 10:
		return next(r);
	default:
		return (uint64_t)-4096;
	}
}

static uint64_t any_value(struct rng *r, uint8_t *own)
{
	switch (below(r, 4)) {
	case 0:
		return below(r, 8);
	case 1:
		return any_ipa(r, own);
	case 2:
		return (uint64_t)-1 - below(r, 4);
	default:
		return next(r);
	}
}

static void smc(struct rt_smc *c)
{
	rt_smc_call(c);
	if (c->x[0] == (uint64_t)-1)
		counts[N_SMC_ERR]++;
}

/* A buffer-or-range RSI call with random arguments; the range ones stay in scratch RAM when
 * they are valid (the RIPAS of the realm's own image must not change). */
static void chaos_rsi(struct rng *r, unsigned cpu)
{
	struct rt_smc c = { { 0 } };
	uint8_t *own = bufs[cpu];
	unsigned which = (unsigned)below(r, 14);
	for (unsigned i = 1; i < 11; i++)
		c.x[i] = any_value(r, own);
	switch (which) {
	case 10:   /* unimplemented FIDs of the RSI range, and the SMC32 forms */
		c.x[0] = (below(r, 2) ? 0xC4000190UL : 0x84000190UL) + below(r, 0x20);
		break;
	case 11:   /* IPA_STATE_SET over scratch RAM, to EMPTY or RAM, with and without CHANGE_DESTROYED */
		c.x[0] = RSI_IPA_STATE_SET;
		c.x[1] = scratch_page(r);
		c.x[2] = c.x[1] + 4096 * (1 + below(r, 64));
		if (c.x[2] > CHAOS_SCRATCH_END)
			c.x[2] = CHAOS_SCRATCH_END;
		c.x[3] = below(r, 4) ? below(r, 2) : below(r, 4);
		c.x[4] = below(r, 3);
		break;
	case 12:   /* IPA_STATE_SET that the RMM must refuse: unaligned, empty, reversed, beyond the PAR */
		c.x[0] = RSI_IPA_STATE_SET;
		c.x[1] = below(r, 2) ? scratch_page(r) + 8 : rt_shared_bit - 4096;
		c.x[2] = below(r, 2) ? c.x[1] : c.x[1] + 0x2000;
		c.x[3] = below(r, 3);
		break;
	case 13:   /* IPA_STATE_GET anywhere */
		c.x[0] = RSI_IPA_STATE_GET;
		c.x[1] = below(r, 2) ? scratch_page(r) : any_ipa(r, own);
		c.x[2] = c.x[1] + 4096 * below(r, 600);
		break;
	default:
		c.x[0] = 0xC4000190UL + which;
		break;
	}
	if (c.x[0] == RSI_IPA_STATE_SET && which < 10)
		c.x[0] = RSI_VERSION;             /* a random-range IPA_STATE_SET could take the realm's image */
	if (c.x[0] == RSI_HOST_CALL) {            /* only through its own RsiHostCall: never the token's imm */
		hcs[cpu].imm = (uint16_t)next(r);
		if (hcs[cpu].imm == HOSTCALL_TOKEN)
			hcs[cpu].imm++;
		for (unsigned i = 0; i < 31; i++)
			hcs[cpu].gprs[i] = next(r);
		uint64_t k = below(r, 4);
		c.x[1] = k == 0 ? (uint64_t)&hcs[cpu] + 0x10 : k == 1 ? mmio_addr(r, 256) : (uint64_t)&hcs[cpu];
		counts[N_HOST]++;
	}
	if (c.x[0] == RSI_ATTEST_TOKEN_CONTINUE && below(r, 2)) {
		c.x[1] = below(r, 2) ? (uint64_t)own : scratch_page(r);
		c.x[2] = below(r, 4) ? 0 : below(r, 4096);
		c.x[3] = 4096 - c.x[2] - below(r, 2);
	}
	if (c.x[0] == RSI_MEASUREMENT_READ || c.x[0] == RSI_MEASUREMENT_EXTEND) {
		c.x[1] = below(r, 7);
		c.x[2] = below(r, 70);
	}
	counts[N_RSI]++;
	smc(&c);
}

static void chaos_psci(struct rng *r, unsigned cpu)
{
	static const uint64_t targets[] = { 0, 1, 2, 3, 0x11, 0x10, 0x80000001UL, 0x100, 0x10000000001UL, 0x1000000001UL };
	struct rt_smc c = { { 0 } };
	uint64_t t = targets[below(r, sizeof(targets) / sizeof(targets[0]))];
	switch (below(r, 9)) {
	case 0:
		c.x[0] = PSCI_VERSION;
		break;
	case 1:
		c.x[0] = PSCI_FEATURES;
		c.x[1] = below(r, 2) ? 0x84000000UL + below(r, 0x20) : next(r);
		break;
	case 2:
	case 3:   /* CPU_ON: the proper entry with the CPU's own index as context, or an entry outside the PAR */
		c.x[0] = below(r, 2) ? PSCI_CPU_ON : 0x84000003UL;
		c.x[1] = t;
		if (below(r, 4)) {
			c.x[2] = (uint64_t)rt_secondary_entry;
			c.x[3] = t & 0xF;
		} else {
			c.x[2] = below(r, 2) ? 2 * rt_shared_bit + 0x1000 : rt_shared_bit | CHAOS_RAM_BASE;
		}
		counts[N_CPU_ON]++;
		break;
	case 4:
		c.x[0] = below(r, 2) ? PSCI_AFFINITY_INFO : 0x84000004UL;
		c.x[1] = t;
		c.x[2] = below(r, 4) ? 0 : below(r, 4);
		break;
	case 5:   /* CPU_SUSPEND: returns like a WFI */
		c.x[0] = below(r, 2) ? 0xC4000001UL : 0x84000001UL;
		c.x[1] = next(r) & 0xFFFF;
		c.x[2] = (uint64_t)rt_secondary_entry;
		break;
	case 6:   /* functions of the PSCI range it does not implement (MIGRATE, ...) */
		c.x[0] = below(r, 2) ? 0x84000005UL + below(r, 3) : 0xC400000BUL + below(r, 10);
		c.x[1] = next(r);
		break;
	case 7:
		c.x[0] = 0x80000000UL + below(r, 3);   /* SMCCC_VERSION, ARCH_FEATURES, ... */
		c.x[1] = next(r);
		break;
	default:  /* an SMC outside every service the RMM implements */
		c.x[0] = next(r) & 0xFFFFFFFFUL;
		if ((c.x[0] & 0xFF000000UL) == 0x84000000UL || (c.x[0] & 0xFF000000UL) == 0xC4000000UL)
			c.x[0] |= 0x00F00000UL;
		break;
	}
	(void)cpu;
	counts[N_PSCI]++;
	smc(&c);
}

#define LDR(sz, addr) ({ uint64_t __v; __asm__ volatile("ldr" sz " %w0, [%1]" : "=r"(__v) : "r"(addr) : "memory"); __v; })

static void chaos_mmio(struct rng *r)
{
	unsigned size = 1U << below(r, 4);
	uint64_t a = below(r, 5) ? mmio_addr(r, size) : rt_shared_bit | (scratch_page(r) + (below(r, 512) * 8));
	uint64_t v = next(r);
	counts[N_MMIO]++;
	switch (below(r, 6)) {
	case 0:
		*(volatile uint8_t *)a = (uint8_t)v;
		break;
	case 1:
		*(volatile uint32_t *)(a & ~3UL) = (uint32_t)v;
		break;
	case 2:
		*(volatile uint64_t *)(a & ~7UL) = v;
		break;
	case 3:
		(void)LDR("b", a);
		(void)LDR("h", a & ~1UL);
		break;
	case 4:
		(void)*(volatile uint64_t *)(a & ~7UL);
		break;
	default: { /* no syndrome (ISV = 0): the host cannot emulate it and injects an SEA */
		uint64_t x = 0, y = 0;
		__asm__ volatile("ldp %0, %1, [%2]" : "+r"(x), "+r"(y) : "r"(a & ~15UL) : "memory");
		break;
	}
	}
}

/* Scratch RAM whatever its RIPAS: populated on demand when RAM, an SEA when EMPTY. */
static void chaos_mem(struct rng *r)
{
	volatile uint64_t *p = (volatile uint64_t *)(scratch_page(r) + below(r, 512) * 8);
	counts[N_MEM]++;
	if (below(r, 2))
		*p = next(r);
	else
		(void)*p;
}

static void chaos_steps(struct rng *r, unsigned cpu, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		switch (below(r, 10)) {
		case 0:
		case 1:
		case 2:
		case 3:
			chaos_rsi(r, cpu);
			break;
		case 4:
		case 5:
			chaos_psci(r, cpu);
			break;
		case 6:
		case 7:
			chaos_mmio(r);
			break;
		default:
			chaos_mem(r);
			break;
		}
	}
}

void secondary_main(unsigned cpu)
{
	struct rng r = { seed ^ (0x9E3779B97F4A7C15UL * (cpu + 1)) };
	if (!r.s)
		r.s = 1;
	if (cpu < CHAOS_MAX_CPUS)
		chaos_steps(&r, cpu, CHAOS_SEC_STEPS);
}

void main(void)
{
	struct rt_smc c;
	rt_set_handler(rt_skip_sea);
	CHECK_EQ("realm config", rt_smc6(RSI_REALM_CONFIG, (uint64_t)config, 0, 0, 0, 0, &c), RSI_SUCCESS);
	/* FNV-1a of the RPV */
	seed = 0xCBF29CE484222325UL;
	for (unsigned i = 0; i < 64; i++)
		seed = (seed ^ config[0x200 + i]) * 0x100000001B3UL;
	rt_printf("chaos: seed %#lx, %u steps\n", (unsigned long)seed, CHAOS_STEPS);
	struct rng r = { seed ? seed : 1 };
	chaos_steps(&r, 0, CHAOS_STEPS);
	/* The realm still works: its services answer, its own memory is intact. */
	CHECK_EQ("rsi version after chaos", rt_smc6(RSI_VERSION, RSI_ABI_1_0, 0, 0, 0, 0, NULL), RSI_SUCCESS);
	CHECK_EQ("realm config after chaos", rt_smc6(RSI_REALM_CONFIG, (uint64_t)config, 0, 0, 0, 0, NULL), RSI_SUCCESS);
	CHECK_EQ("ipa width unchanged", *(volatile uint64_t *)config, rt_ipa_bits);
	/* A target_cpu that is not a valid MPIDR is refused by the RMM, even when its affinity fields
	 * alone would name CPU 1 (DEN0137: PSCI_INVALID_PARAMETERS; it used to reach the host). */
	CHECK_EQ("cpu_on invalid mpidr", rt_smc6(PSCI_CPU_ON, 0x11, (uint64_t)rt_secondary_entry, 1, 0, 0, NULL), (uint64_t)-2);
	CHECK_EQ("affinity_info invalid mpidr", rt_smc6(PSCI_AFFINITY_INFO, 0x10000000001UL, 0, 0, 0, 0, NULL), (uint64_t)-2);
	rt_printf("chaos: rsi %u psci %u (cpu_on %u) mmio %u mem %u host calls %u; SEAs %u, NOT_SUPPORTED %u\n",
		  counts[N_RSI], counts[N_PSCI], counts[N_CPU_ON], counts[N_MMIO], counts[N_MEM], counts[N_HOST],
		  rt_sea_count, counts[N_SMC_ERR]);
}

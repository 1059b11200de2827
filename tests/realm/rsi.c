/*
 * RSI from a realm: version, features, realm config, measurements, IPA state, host call, PSCI
 * queries, an unknown FID; then a RIPAS change of one page to EMPTY (a RIPAS_CHANGE exit the host
 * completes with RTT_SET_RIPAS), the access that follows taken as a synchronous external abort,
 * and the way back to RAM (the host populates the page again on the next fault, with the same
 * granule: code the realm ran from it before must not run again, the page now holds zeros).
 */
#include "rt.h"

static uint8_t page[4096] __attribute__((aligned(4096)));
static uint8_t page2[4096] __attribute__((aligned(4096)));
static struct rt_host_call hc;

#define CODE_OFF 0x100
static unsigned undef_count;

/* SEAs as rt_skip_sea; an undefined instruction (a zero word) at the code in `page` or `page2`:
 * returns to the caller with x0 = 0xDEAD. */
static bool on_exception(unsigned kind, struct rt_frame *f)
{
	if (rt_skip_sea(kind, f))
		return true;
	if (RT_KIND_SYNC(kind) && ESR_EC(f->esr) == 0 &&
	    (f->elr == (uint64_t)page + CODE_OFF || f->elr == (uint64_t)page2 + CODE_OFF)) {
		undef_count++;
		f->x[0] = 0xDEAD;
		f->elr = f->x[30];
		return true;
	}
	return false;
}

static uint64_t call_at(uint8_t *p)
{
	uint64_t (*fn)(void) = (uint64_t (*)(void))(void *)(p + CODE_OFF);
	return fn();
}

static uint64_t call_page(void)
{
	return call_at(page);
}

/* mov x0, #imm; ret */
static void put_code(uint8_t *p, uint32_t imm)
{
	((volatile uint32_t *)(p + CODE_OFF))[0] = 0xD2800000U | (imm << 5);
	((volatile uint32_t *)(p + CODE_OFF))[1] = 0xD65F03C0U;
	__asm__ volatile("dsb ish\n ic iallu\n dsb ish\n isb" : : : "memory");
}

static void set_ripas(uint8_t *p, uint64_t ripas)
{
	struct rt_smc r;
	rt_smc6(RSI_IPA_STATE_SET, (uint64_t)p, (uint64_t)p + 4096, ripas, 0, 0, &r);
}

void main(void)
{
	struct rt_smc r;
	rt_set_handler(on_exception);

	rt_smc6(RSI_VERSION, RSI_ABI_1_0, 0, 0, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[1] == RSI_ABI_1_0 && r.x[2] == RSI_ABI_1_0, "rsi version",
		 "%lx %lx %lx", (unsigned long)r.x[0], (unsigned long)r.x[1], (unsigned long)r.x[2]);
	rt_smc6(RSI_FEATURES, 0, 0, 0, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[1] == 0, "rsi features", "%lx", (unsigned long)r.x[0]);
	CHECK_EQ("realm config ipa width", rt_ipa_bits, 33);

	/* RIM: non-zero. REM1 extended with 8 bytes: printed for the host to compare. */
	rt_smc6(RSI_MEASUREMENT_READ, 0, 0, 0, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && (r.x[1] | r.x[2] | r.x[3] | r.x[4]) != 0, "rim read", "%lx",
		 (unsigned long)r.x[0]);
	rt_printf("RIM %016lx\n", (unsigned long)r.x[1]);
	CHECK_EQ("extend rem1", rt_smc6(RSI_MEASUREMENT_EXTEND, 1, 8, 0x1122334455667788UL, 0, 0, NULL), RSI_SUCCESS);
	rt_smc6(RSI_MEASUREMENT_READ, 1, 0, 0, 0, 0, &r);
	rt_printf("REM1 %016lx\n", (unsigned long)r.x[1]);
	CHECK_EQ("extend rim refused", rt_smc6(RSI_MEASUREMENT_EXTEND, 0, 8, 1, 0, 0, NULL), RSI_ERROR_INPUT);

	rt_smc6(RSI_IPA_STATE_GET, 0x80000000UL, 0x80001000UL, 0, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[1] == 0x80001000UL && r.x[2] == RIPAS_RAM, "ipa state get ram",
		 "%lx %lx %lx", (unsigned long)r.x[0], (unsigned long)r.x[1], (unsigned long)r.x[2]);

	uint64_t got = rt_host_call(0x77, 5, 7, &hc);
	CHECK_EQ("host call result", got, 12);
	CHECK_EQ("host call x1 kept", hc.gprs[1], 5);

	CHECK_EQ("psci version", rt_smc6(PSCI_VERSION, 0, 0, 0, 0, 0, NULL), 0x10001);
	CHECK_EQ("psci features cpu_on", rt_smc6(PSCI_FEATURES, PSCI_CPU_ON, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ("unknown fid", rt_smc6(0xC4000175UL, 0, 0, 0, 0, 0, NULL), (uint64_t)-1);
	CHECK_EQ("smccc version", rt_smc6(0x80000000UL, 0, 0, 0, 0, 0, NULL), 0x10002);

	/* RIPAS RAM -> EMPTY: the page is populated first (with code, run once), then given up. */
	uint64_t base = (uint64_t)page;
	page[0] = 0x5A;
	put_code(page, 42);
	CHECK_EQ("code in the page runs", call_page(), 42);
	rt_smc6(RSI_IPA_STATE_SET, base, base + 4096, RIPAS_EMPTY, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[1] == base + 4096 && r.x[2] == 0, "ipa state set empty",
		 "%lx %lx %lx", (unsigned long)r.x[0], (unsigned long)r.x[1], (unsigned long)r.x[2]);
	rt_smc6(RSI_IPA_STATE_GET, base, base + 4096, 0, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[2] == RIPAS_EMPTY, "ipa state get empty", "%lx %lx",
		 (unsigned long)r.x[0], (unsigned long)r.x[2]);
	volatile uint8_t v = *(volatile uint8_t *)page;
	(void)v;
	rt_check(rt_sea_count == 1 && rt_sea_far == base && (rt_sea_esr & (1UL << 9)), "empty access -> SEA",
		 "count %u esr %#lx far %#lx", rt_sea_count, (unsigned long)rt_sea_esr, (unsigned long)rt_sea_far);
	*(volatile uint8_t *)(page + 8) = 1;
	CHECK_EQ("empty write -> SEA", rt_sea_count, 2);

	/* EMPTY -> RAM: contents are gone (the host gives a new, zeroed granule). */
	rt_smc6(RSI_IPA_STATE_SET, base, base + 4096, RIPAS_RAM, 0, 0, &r);
	rt_check(r.x[0] == RSI_SUCCESS && r.x[1] == base + 4096, "ipa state set ram", "%lx %lx",
		 (unsigned long)r.x[0], (unsigned long)r.x[1]);
	CHECK_EQ("ram again, zeroed", *(volatile uint8_t *)page, 0);
	CHECK_EQ("no further SEA", rt_sea_count, 2);
	/* The page is read, never written, since it came back: its old code must not run. */
	CHECK_EQ("ram again, old code gone (undefined instruction)", call_page(), 0xDEAD);
	CHECK_EQ("one undefined instruction", undef_count, 1);

	/* Two pages given up, then taken back: the host reuses granules last in, first out, so each
	 * page comes back as the other's old granule, which ran other code at another IPA. */
	put_code(page, 7);
	put_code(page2, 9);
	rt_check(call_at(page) == 7 && call_at(page2) == 9, "code in two pages runs", "%s", "");
	set_ripas(page, RIPAS_EMPTY);
	set_ripas(page2, RIPAS_EMPTY);
	set_ripas(page, RIPAS_RAM);
	set_ripas(page2, RIPAS_RAM);
	(void)*(volatile uint8_t *)page;     /* populated in this order: page gets page2's granule */
	(void)*(volatile uint8_t *)page2;
	rt_check(call_at(page) == 0xDEAD && call_at(page2) == 0xDEAD && undef_count == 3,
		 "granules swapped between pages: no old code runs", "undef %u", undef_count);

	rt_smc6(RSI_IPA_STATE_SET, base, base + 4096, 7, 0, 0, &r);
	CHECK_EQ("ipa state set bad ripas", r.x[0], RSI_ERROR_INPUT);
}

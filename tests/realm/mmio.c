/*
 * MMIO through REC exits: stores and loads of every size and extension to the host's register
 * file at an unprotected IPA, XZR as source and destination, then the accesses the host cannot
 * emulate (no syndrome: LDP, writeback; no device) which come back as synchronous external aborts.
 */
#include "rt.h"

#define LOAD(insn, reg, p) ({ uint64_t __v = 0x5A5A5A5A5A5A5A5AUL; \
	__asm__ volatile(insn " " reg "0, [%1]" : "+r"(__v) : "r"(p) : "memory"); __v; })

void main(void)
{
	volatile uint8_t *d = rt_mmio(RT_TESTDEV_OFFSET);
	rt_set_handler(rt_skip_sea);

	*(volatile uint8_t *)(d + 0x00) = 0x81;
	*(volatile uint16_t *)(d + 0x02) = 0x8382;
	*(volatile uint32_t *)(d + 0x04) = 0x87868584;
	*(volatile uint64_t *)(d + 0x08) = 0x8f8e8d8c8b8a8988UL;
	__asm__ volatile("str xzr, [%0]" : : "r"(d + 0x10) : "memory");
	__asm__ volatile("str wzr, [%0]" : : "r"(d + 0x18) : "memory");
	*(volatile uint64_t *)(d + 0x20) = 0x1122334455667788UL;
	*(volatile uint32_t *)(d + 0x20) = 0xA1A2A3A4; /* partial overwrite */

	CHECK_EQ("ldrb", LOAD("ldrb", "%w", d + 0x00), 0x81);
	CHECK_EQ("ldrh", LOAD("ldrh", "%w", d + 0x02), 0x8382);
	CHECK_EQ("ldr w", LOAD("ldr", "%w", d + 0x04), 0x87868584);
	CHECK_EQ("ldr x", LOAD("ldr", "%x", d + 0x08), 0x8f8e8d8c8b8a8988UL);
	CHECK_EQ("ldrsb w", LOAD("ldrsb", "%w", d + 0x00), 0xFFFFFF81UL);
	CHECK_EQ("ldrsb x", LOAD("ldrsb", "%x", d + 0x00), 0xFFFFFFFFFFFFFF81UL);
	CHECK_EQ("ldrsh w", LOAD("ldrsh", "%w", d + 0x02), 0xFFFF8382UL);
	CHECK_EQ("ldrsh x", LOAD("ldrsh", "%x", d + 0x02), 0xFFFFFFFFFFFF8382UL);
	CHECK_EQ("ldrsw", LOAD("ldrsw", "%x", d + 0x04), 0xFFFFFFFF87868584UL);
	CHECK_EQ("str xzr", LOAD("ldr", "%x", d + 0x10), 0);
	CHECK_EQ("str wzr", LOAD("ldr", "%x", d + 0x18), 0);
	CHECK_EQ("partial store", LOAD("ldr", "%x", d + 0x20), 0x11223344A1A2A3A4UL);
	CHECK_EQ("ldrb offset", LOAD("ldrb", "%w", d + 0x23), 0xA1);
	CHECK_EQ("ldurh", ({ uint64_t v; __asm__ volatile("ldurh %w0, [%1, #-1]" : "=r"(v) : "r"(d + 0x0B) : "memory"); v; }),
		 0x8b8a);
	/* A load into XZR completes without touching any register. */
	__asm__ volatile("ldr xzr, [%0]" : : "r"(d + 0x08) : "memory");
	rt_check(rt_sea_count == 0, "no SEA so far", "%u", rt_sea_count);

	/* LDP: no instruction syndrome (ISV = 0): the host injects an SEA. */
	uint64_t a = 1, b = 2;
	__asm__ volatile("ldp %0, %1, [%2]" : "+r"(a), "+r"(b) : "r"(d + 0x08) : "memory");
	rt_check(rt_sea_count == 1 && (rt_sea_esr & (1UL << 9)) && rt_sea_far == (uint64_t)(d + 0x08), "ldp -> SEA",
		 "count %u esr %#lx far %#lx", rt_sea_count, (unsigned long)rt_sea_esr, (unsigned long)rt_sea_far);
	rt_check(a == 1 && b == 2, "ldp did not load", "%lx %lx", (unsigned long)a, (unsigned long)b);
	/* Pre-index writeback: ISV = 0 architecturally as well. */
	volatile uint8_t *p = d + 0x00;
	uint64_t v = 0;
	__asm__ volatile("ldr %0, [%1, #8]!" : "+r"(v), "+r"(p) : : "memory");
	rt_check(rt_sea_count == 2 && p == d, "writeback -> SEA", "count %u", rt_sea_count);
	/* No device at this address: the host refuses with an SEA too. */
	(void)*(volatile uint32_t *)rt_mmio(0x0B000000UL);
	rt_check(rt_sea_count == 3 && rt_sea_far == (uint64_t)rt_mmio(0x0B000000UL), "no device -> SEA",
		 "count %u far %#lx", rt_sea_count, (unsigned long)rt_sea_far);
}

/*
 * The reference host's virtual GICv3 (host/vgic.c) as pure logic: distributor and redistributor
 * register semantics, list register filling (priority order, level vs edge, underflow), the fold
 * back after an exit, SGI routing from ICC_SGI1R values, and the WFI wake-up computations.
 */
#include <CUnit/Basic.h>
#include <stdlib.h>

#include "host/vgic.h"
#include "host/vm_internal.h"

#define DIST   0x08000000ULL
#define REDIST 0x080A0000ULL
#define SGI    0x10000ULL

static struct vgic *g;
static const uint64_t mpidr4[4] = { 0x0, 0x1, 0x2, 0x100 };  /* vCPU 3 in another cluster */

static uint64_t rd(uint64_t addr, unsigned size)
{
	uint64_t v = 0xDEADBEEF;
	CU_ASSERT_TRUE(vgic_mmio(g, 0, addr, size, false, &v));
	return v;
}

static void wr(uint64_t addr, unsigned size, uint64_t v)
{
	CU_ASSERT_TRUE(vgic_mmio(g, 0, addr, size, true, &v));
}

static uint64_t rframe(unsigned cpu) { return REDIST + cpu * VGIC_REDIST_SIZE; }

static void setup(unsigned nr_lrs)
{
	vgic_destroy(g);
	g = vgic_create(4, 64, nr_lrs, DIST, REDIST, mpidr4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(g);
}

static void test_create_args(void)
{
	CU_ASSERT_PTR_NULL(vgic_create(0, 64, 4, DIST, REDIST, mpidr4));
	CU_ASSERT_PTR_NULL(vgic_create(1, 64, 0, DIST, REDIST, mpidr4));
	CU_ASSERT_PTR_NULL(vgic_create(1, 64, 17, DIST, REDIST, mpidr4));
	struct vgic *x = vgic_create(1, 5000, 16, DIST, REDIST, mpidr4);
	CU_ASSERT_PTR_NOT_NULL_FATAL(x);
	CU_ASSERT_EQUAL(x->nr_spis, VGIC_MAX_SPIS);
	vgic_destroy(x);
	x = vgic_create(1, 33, 16, DIST, REDIST, mpidr4);
	CU_ASSERT_EQUAL(x->nr_spis, 64);
	vgic_destroy(x);
	vgic_destroy(NULL);
}

static void test_dist_ids(void)
{
	setup(16);
	CU_ASSERT_EQUAL(rd(DIST + 0x0, 4), (1U << 4) | (1U << 6));       /* ARE, DS */
	wr(DIST + 0x0, 4, 0x3 | (1U << 31));
	CU_ASSERT_EQUAL(rd(DIST + 0x0, 4), 0x3 | (1U << 4) | (1U << 6));   /* RWP never set */
	uint64_t typer = rd(DIST + 0x4, 4);
	CU_ASSERT_EQUAL(typer & 0x1F, 2);                 /* ITLinesNumber: 96 INTIDs */
	CU_ASSERT_EQUAL((typer >> 19) & 0x1F, 15);        /* 16 ID bits */
	CU_ASSERT_EQUAL((typer >> 5) & 7, 3);             /* 4 CPUs */
	CU_ASSERT_EQUAL(typer & ((1U << 16) | (1U << 17) | (1U << 10)), 0);  /* no LPIs, MBIS, SecurityExtn */
	CU_ASSERT_EQUAL(rd(DIST + 0xFFE8, 4) & 0xF0, 0x30);
	CU_ASSERT_EQUAL(rd(DIST + 0x8, 4) & 0xFFF, 0x43B);
	/* Unknown offsets: RAZ/WI, any size. */
	CU_ASSERT_EQUAL(rd(DIST + 0x5000, 4), 0);
	wr(DIST + 0x5000, 4, ~0ULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x5000, 8), 0);
	CU_ASSERT_EQUAL(rd(DIST + 0xFFFF, 1), 0);
	/* Not ours. */
	uint64_t v = 7;
	CU_ASSERT_FALSE(vgic_mmio(g, 0, DIST - 4, 4, false, &v));
	CU_ASSERT_FALSE(vgic_mmio(g, 0, REDIST + 4 * VGIC_REDIST_SIZE, 4, false, &v));
	CU_ASSERT_EQUAL(v, 7);
}

static void test_dist_spi_regs(void)
{
	setup(16);
	/* SPI 40: ISENABLER1 bit 8. */
	wr(DIST + 0x104, 4, 1U << 8);
	CU_ASSERT_EQUAL(rd(DIST + 0x104, 4), 1U << 8);
	CU_ASSERT_EQUAL(rd(DIST + 0x184, 4), 1U << 8);
	wr(DIST + 0x184, 4, 1U << 8);
	CU_ASSERT_EQUAL(rd(DIST + 0x104, 4), 0);
	/* Pending / active set and clear. */
	wr(DIST + 0x204, 4, 3);
	CU_ASSERT_EQUAL(rd(DIST + 0x204, 4), 3);
	wr(DIST + 0x284, 4, 1);
	CU_ASSERT_EQUAL(rd(DIST + 0x284, 4), 2);
	wr(DIST + 0x304, 4, 4);
	CU_ASSERT_EQUAL(rd(DIST + 0x304, 4), 4);
	wr(DIST + 0x384, 4, 4);
	CU_ASSERT_EQUAL(rd(DIST + 0x304, 4), 0);
	/* Groups: every interrupt starts in group 1. */
	CU_ASSERT_EQUAL(rd(DIST + 0x84, 4), 0xFFFFFFFF);
	wr(DIST + 0x84, 4, 0xFFFFFFFE);
	CU_ASSERT_EQUAL(rd(DIST + 0x84, 4), 0xFFFFFFFE);
	/* Beyond the implemented SPIs: RAZ/WI. */
	wr(DIST + 0x10C, 4, ~0ULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x10C, 4), 0);
	/* Private interrupts are the redistributors' with ARE: RAZ/WI here. */
	wr(DIST + 0x100, 4, ~0ULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x100, 4), 0);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x100, 4), 0);
	wr(DIST + 0x400, 4, 0xA0A0A0A0);
	CU_ASSERT_EQUAL(rd(DIST + 0x400, 4), 0);
	/* Priorities: byte access, 5 implemented bits. */
	wr(DIST + 0x400 + 40, 1, 0xA7);
	CU_ASSERT_EQUAL(rd(DIST + 0x400 + 40, 1), 0xA0);
	wr(DIST + 0x400 + 44, 4, 0x10203047);
	CU_ASSERT_EQUAL(rd(DIST + 0x400 + 44, 4), 0x10203040);
	CU_ASSERT_EQUAL(rd(DIST + 0x400 + 44, 8), 0x10203040);
	/* ICFGR: SPIs default level; edge bit writable. */
	CU_ASSERT_EQUAL(rd(DIST + 0xC08, 4), 0);
	wr(DIST + 0xC08, 4, 2U << 16);   /* INTID 32 + 8 = 40 */
	CU_ASSERT_EQUAL(rd(DIST + 0xC08, 4), 2U << 16);
	CU_ASSERT_EQUAL(rd(DIST + 0xC00, 4), 0);
	/* IROUTER: 64-bit and 32-bit halves; unknown bits dropped. */
	wr(DIST + 0x6000 + 8 * 40, 8, 0x0000000100000102ULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x6000 + 8 * 40, 8), 0x0000000100000102ULL);
	wr(DIST + 0x6000 + 8 * 40 + 4, 4, 0);
	CU_ASSERT_EQUAL(rd(DIST + 0x6000 + 8 * 40, 8), 0x102ULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x6000 + 8 * 40, 4), 0x102ULL);
	CU_ASSERT_EQUAL(vgic_spi_target(g, 0x100), 3);
	CU_ASSERT_EQUAL(vgic_spi_target(g, 0x2), 2);
	CU_ASSERT_EQUAL(vgic_spi_target(g, 0x102), -1);
	CU_ASSERT_EQUAL(vgic_spi_target(g, 1ULL << 31), 0);
	wr(DIST + 0x6000 + 8 * 40, 8, 0xFFFFFFFFFFFFFFFFULL);
	CU_ASSERT_EQUAL(rd(DIST + 0x6000 + 8 * 40, 8), 0xFF80FFFFFFULL);
	/* IROUTER of private INTIDs does not exist. */
	wr(DIST + 0x6000 + 8 * 5, 8, 0x1);
	CU_ASSERT_EQUAL(rd(DIST + 0x6000 + 8 * 5, 8), 0);
}

static void test_redist(void)
{
	setup(16);
	for (unsigned c = 0; c < 4; c++) {
		uint64_t typer = rd(rframe(c) + 0x8, 8);
		CU_ASSERT_EQUAL((typer >> 8) & 0xFFFF, c);
		CU_ASSERT_EQUAL((typer >> 4) & 1, c == 3);
		CU_ASSERT_EQUAL(typer & 1, 0);                     /* no LPIs */
		uint64_t aff = mpidr4[c];
		CU_ASSERT_EQUAL(typer >> 32, (aff & 0xFFFFFF) | ((aff >> 32) & 0xFF) << 24);
		CU_ASSERT_EQUAL(rd(rframe(c) + 0xC, 4), typer >> 32);
		CU_ASSERT_EQUAL(rd(rframe(c) + 0xFFE8, 4) & 0xF0, 0x30);
		CU_ASSERT_EQUAL(rd(rframe(c) + 0x0, 4), 0);        /* CTLR: no RWP */
	}
	/* WAKER: asleep at reset; Linux clears ProcessorSleep and waits for ChildrenAsleep to clear. */
	CU_ASSERT_EQUAL(rd(rframe(1) + 0x14, 4), 6);
	wr(rframe(1) + 0x14, 4, 0);
	CU_ASSERT_EQUAL(rd(rframe(1) + 0x14, 4), 0);
	CU_ASSERT_EQUAL(rd(rframe(2) + 0x14, 4), 6);
	/* SGI_base: per-vCPU state, whichever vCPU accesses the frame. */
	wr(rframe(1) + SGI + 0x100, 4, (1U << 27) | 1);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x100, 4), (1U << 27) | 1);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x100, 4), 0);
	wr(rframe(1) + SGI + 0x180, 4, 1);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x100, 4), 1U << 27);
	wr(rframe(1) + SGI + 0x400 + 27, 1, 0x88);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x418, 4), 0x88U << 24);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x418, 4), 0);
	/* ICFGR0: SGIs edge, read-only; ICFGR1: PPIs level by default, writable. */
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0xC00, 4), 0xAAAAAAAA);
	wr(rframe(1) + SGI + 0xC00, 4, 0);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0xC00, 4), 0xAAAAAAAA);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0xC04, 4), 0);
	wr(rframe(1) + SGI + 0xC04, 4, 2U << 30);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0xC04, 4), 2U << 30);
	/* Beyond the first register of each block: RAZ/WI. */
	wr(rframe(1) + SGI + 0x104, 4, ~0ULL);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x104, 4), 0);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x80, 4), 0xFFFFFFFF);
	CU_ASSERT_EQUAL(rd(rframe(1) + 0x7000, 4), 0);
}

static void enable_dist(void) { wr(DIST, 4, 2); }

static void enable_ppi(unsigned cpu, unsigned intid, uint8_t prio)
{
	wr(rframe(cpu) + SGI + 0x100, 4, 1U << intid);
	wr(rframe(cpu) + SGI + 0x400 + intid, 1, prio);
}

static void enable_spi(unsigned intid, uint8_t prio)
{
	wr(DIST + 0x100 + intid / 32 * 4, 4, 1U << (intid % 32));
	wr(DIST + 0x400 + intid, 1, prio);
}

static unsigned lr_id(uint64_t lr) { return (unsigned)(lr & VGIC_LR_VINTID_MASK); }

static void test_flush_order(void)
{
	uint64_t lrs[VGIC_MAX_LRS], hcr;
	setup(4);
	enable_ppi(0, 27, 0xA0);
	enable_ppi(0, 30, 0x80);
	enable_spi(40, 0xC0);
	enable_spi(41, 0x80);
	vgic_set_level(g, 27, 0, true);
	vgic_set_level(g, 30, 0, true);
	vgic_set_level(g, 40, 0, true);
	vgic_set_level(g, 41, 0, true);
	/* The distributor is off: nothing goes. */
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0], 0);
	CU_ASSERT_EQUAL(hcr, 0);
	enable_dist();
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 0));
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 1));
	vgic_flush(g, 0, lrs, &hcr);
	/* Priority order, INTID breaking ties; level: EOI maintenance; group 1. */
	CU_ASSERT_EQUAL(lr_id(lrs[0]), 30);
	CU_ASSERT_EQUAL(lr_id(lrs[1]), 41);
	CU_ASSERT_EQUAL(lr_id(lrs[2]), 27);
	CU_ASSERT_EQUAL(lr_id(lrs[3]), 40);
	CU_ASSERT_EQUAL(lrs[2], VGIC_LR_PENDING | VGIC_LR_GROUP1 | VGIC_LR_EOI | (0xA0ULL << VGIC_LR_PRIO_SHIFT) | 27);
	CU_ASSERT_EQUAL(lrs[4], 0);
	CU_ASSERT_EQUAL(hcr, 0);
	vgic_sync(g, 0, lrs, 0);
	/* A fifth: it does not fit, the lowest priority waits and underflow is requested. */
	enable_spi(42, 0xF0);
	vgic_set_level(g, 42, 0, true);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(hcr, VGIC_HCR_UIE);
	for (unsigned i = 0; i < 4; i++)
		CU_ASSERT_NOT_EQUAL(lr_id(lrs[i]), 42);
	/* SPIs go where IROUTER says; vCPU 1 gets none of vCPU 0's. */
	vgic_sync(g, 0, lrs, 0);
	wr(DIST + 0x6000 + 8 * 42, 8, 0x1);
	vgic_flush(g, 1, lrs, &hcr);
	CU_ASSERT_EQUAL(lr_id(lrs[0]), 42);
	CU_ASSERT_EQUAL(lrs[1], 0);
	vgic_sync(g, 1, lrs, 0);
	/* Group 0 interrupts need EnableGrp0. */
	wr(DIST + 0x84, 4, ~(1U << 10));   /* INTID 42 to group 0 */
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 1));
	wr(DIST, 4, 3);
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 1));
	vgic_flush(g, 1, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0] & VGIC_LR_GROUP1, 0);
	vgic_sync(g, 1, lrs, 0);
}

static void test_level_flow(void)
{
	uint64_t lrs[VGIC_MAX_LRS], hcr;
	setup(4);
	enable_dist();
	enable_ppi(0, 27, 0xA0);
	vgic_set_level(g, 27, 0, true);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lr_id(lrs[0]), 27);
	CU_ASSERT_EQUAL(lrs[0] & VGIC_LR_STATE_MASK, VGIC_LR_PENDING);
	/* The guest acknowledged it: active. The line is still high: active and pending. */
	lrs[0] = (lrs[0] & ~VGIC_LR_STATE_MASK) | VGIC_LR_ACTIVE;
	vgic_sync(g, 0, lrs, 0);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x300, 4), 1U << 27);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0] & VGIC_LR_STATE_MASK, VGIC_LR_STATE_MASK);
	/* The line dropped (timer masked): active only, no EOI request. */
	lrs[0] = (lrs[0] & ~VGIC_LR_STATE_MASK) | VGIC_LR_ACTIVE;
	vgic_sync(g, 0, lrs, 0);
	vgic_set_level(g, 27, 0, false);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0] & (VGIC_LR_STATE_MASK | VGIC_LR_EOI), VGIC_LR_ACTIVE);
	/* EOI: the LR is invalid, MISR.EOI; nothing left. */
	lrs[0] &= ~VGIC_LR_STATE_MASK;
	vgic_sync(g, 0, lrs, VGIC_MISR_EOI);
	CU_ASSERT_EQUAL(g->eoi_maint, 1);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x300, 4), 0);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0], 0);
	/* A level line that drops before the guest acknowledged it is withdrawn. */
	vgic_set_level(g, 27, 0, true);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lr_id(lrs[0]), 27);
	vgic_sync(g, 0, lrs, 0);
	vgic_set_level(g, 27, 0, false);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0], 0);
	/* ISPENDR on a level interrupt: pending until acknowledged. */
	wr(rframe(0) + SGI + 0x200, 4, 1U << 27);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lr_id(lrs[0]), 27);
	lrs[0] = (lrs[0] & ~VGIC_LR_STATE_MASK) | VGIC_LR_ACTIVE;
	vgic_sync(g, 0, lrs, 0);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x200, 4), 0);
	lrs[0] &= ~VGIC_LR_STATE_MASK;
	vgic_flush(g, 0, lrs, &hcr);
	vgic_sync(g, 0, (uint64_t[VGIC_MAX_LRS]){ 0 }, 0);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));
}

static void test_edge_flow(void)
{
	uint64_t lrs[VGIC_MAX_LRS], hcr;
	setup(4);
	enable_dist();
	enable_spi(40, 0x80);
	wr(DIST + 0xC08, 4, 2U << 16);    /* edge */
	vgic_set_level(g, 40, 0, true);
	vgic_set_level(g, 40, 0, true);   /* no new edge */
	vgic_set_level(g, 40, 0, false);  /* the latch stays */
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 0));
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0], VGIC_LR_PENDING | VGIC_LR_GROUP1 | (0x80ULL << VGIC_LR_PRIO_SHIFT) | 40);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));        /* the edge is the LR's now */
	/* Not acknowledged by the exit: pending again. */
	vgic_sync(g, 0, lrs, 0);
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 0));
	vgic_flush(g, 0, lrs, &hcr);
	/* Acknowledged; a new edge meanwhile: active and pending. */
	lrs[0] = (lrs[0] & ~VGIC_LR_STATE_MASK) | VGIC_LR_ACTIVE;
	vgic_set_level(g, 40, 0, true);
	vgic_sync(g, 0, lrs, 0);
	vgic_flush(g, 0, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0] & VGIC_LR_STATE_MASK, VGIC_LR_STATE_MASK);
	/* Another vCPU does not see an SPI held in vCPU 0's list registers, even if rerouted. */
	wr(DIST + 0x6000 + 8 * 40, 8, 0x1);
	uint64_t lrs1[VGIC_MAX_LRS];
	vgic_flush(g, 1, lrs1, &hcr);
	CU_ASSERT_EQUAL(lrs1[0], 0);
	vgic_sync(g, 1, lrs1, 0);
	lrs[0] &= ~VGIC_LR_STATE_MASK;
	vgic_sync(g, 0, lrs, 0);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 1));
	/* A disabled interrupt latches but is not delivered until enabled. */
	wr(DIST + 0x184, 4, 1U << 8);
	vgic_set_level(g, 40, 0, false);
	vgic_set_level(g, 40, 0, true);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 1));
	CU_ASSERT_EQUAL(rd(DIST + 0x204, 4), 1U << 8);
	wr(DIST + 0x104, 4, 1U << 8);
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 1));
}

static uint64_t sgi1r(unsigned intid, unsigned aff3, unsigned aff2, unsigned aff1, unsigned rs, uint16_t list)
{
	return (uint64_t)list | (uint64_t)aff1 << 16 | (uint64_t)intid << 24 | (uint64_t)aff2 << 32 |
	       (uint64_t)rs << 44 | (uint64_t)aff3 << 48;
}

static void test_sgi(void)
{
	uint64_t lrs[VGIC_MAX_LRS], hcr;
	setup(16);
	enable_dist();
	for (unsigned c = 0; c < 4; c++)
		enable_ppi(c, 5, 0xA0);
	/* Target list: vCPUs 1 and 2 of cluster 0. */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(5, 0, 0, 0, 0, 0x6), false), 2);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 0));
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 1));
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 2));
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 3));
	vgic_flush(g, 1, lrs, &hcr);
	CU_ASSERT_EQUAL(lrs[0], VGIC_LR_PENDING | VGIC_LR_GROUP1 | (0xA0ULL << VGIC_LR_PRIO_SHIFT) | 5);
	vgic_sync(g, 1, (uint64_t[VGIC_MAX_LRS]){ 0 }, 0);
	CU_ASSERT_FALSE(vgic_vcpu_pending(g, 1));
	/* Aff1 = 1: vCPU 3 (MPIDR 0x100). */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(5, 0, 0, 1, 0, 0x1), false), 1);
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 3));
	/* Range selector 1: Aff0 16..31, nobody there. */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(5, 0, 0, 0, 1, 0xFFFF), false), 0);
	/* Aff2 / Aff3 mismatch. */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(5, 0, 1, 0, 0, 0xFFFF), false), 0);
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(5, 1, 0, 0, 0, 0xFFFF), false), 0);
	/* IRM: everyone but the sender. */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 2, sgi1r(5, 0, 0, 0, 0, 0) | (1ULL << 40), false), 3);
	CU_ASSERT_TRUE(vgic_vcpu_pending(g, 0));
	/* SGI0R only reaches group-0 SGIs. */
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(6, 0, 0, 0, 0, 0x2), true), 0);
	wr(rframe(1) + SGI + 0x80, 4, ~(1U << 6));
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(6, 0, 0, 0, 0, 0x2), true), 1);
	CU_ASSERT_EQUAL(vgic_send_sgi(g, 0, sgi1r(6, 0, 0, 0, 0, 0x2), false), 0);
	CU_ASSERT_EQUAL(rd(rframe(1) + SGI + 0x200, 4), (1U << 6) | (1U << 5));   /* 5: the IRM one */
	/* Lines do not apply to SGIs. */
	vgic_set_level(g, 7, 0, true);
	CU_ASSERT_EQUAL(rd(rframe(0) + SGI + 0x200, 4), 1U << 5);
}

static void test_timer_wake(void)
{
	const uint64_t hz = 62500000;
	/* ENABLE = 1, IMASK = 2 */
	CU_ASSERT_FALSE(vgic_timer_line(0, 0, 100));
	CU_ASSERT_FALSE(vgic_timer_line(1, 200, 100));
	CU_ASSERT_TRUE(vgic_timer_line(1, 100, 100));
	CU_ASSERT_TRUE(vgic_timer_line(1 | 4, 50, 100));
	CU_ASSERT_FALSE(vgic_timer_line(3, 50, 100));
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(1, 100, 100, hz), -1);  /* asserted already */
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(3, 200, 100, hz), -1);  /* masked */
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(0, 200, 100, hz), -1);  /* off */
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(1, 100 + 62500000, 100, hz), 1000000000);
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(1, 101, 100, hz), 16);
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(1, 101, 100, 3), 333333334);   /* rounded up */
	CU_ASSERT_EQUAL(vgic_timer_wait_ns(1, UINT64_MAX, 0, hz), INT64_MAX);
}

static uint32_t uart_rd(struct pl011 *u, unsigned off)
{
	uint64_t v = 0xDEAD;
	pl011_access(u, off, 4, false, &v);
	return (uint32_t)v;
}

static void uart_wr(struct pl011 *u, unsigned off, uint32_t val)
{
	uint64_t v = val;
	pl011_access(u, off, 4, true, &v);
}

static void test_pl011(void)
{
	struct pl011 u;
	FILE *out = tmpfile();
	CU_ASSERT_PTR_NOT_NULL_FATAL(out);
	pl011_reset(&u, out);
	/* PrimeCell IDs: PL011 r1p5, B105F00D. */
	static const uint8_t id[8] = { 0x11, 0x10, 0x34, 0x00, 0x0D, 0xF0, 0x05, 0xB1 };
	for (unsigned i = 0; i < 8; i++)
		CU_ASSERT_EQUAL(uart_rd(&u, 0xFE0 + 4 * i), id[i]);
	/* Empty: TXFE and RXFE; TX instant: TXRIS set by a write, cleared by ICR. */
	CU_ASSERT_EQUAL(uart_rd(&u, 0x18), 0x90);
	uart_wr(&u, 0x44, 0x7FF);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x3C), 0);
	uart_wr(&u, 0x00, 'A');
	CU_ASSERT_EQUAL(uart_rd(&u, 0x3C), 1U << 5);
	CU_ASSERT_FALSE(pl011_irq(&u));                  /* TXIM off */
	uart_wr(&u, 0x38, 1U << 5);
	CU_ASSERT_TRUE(pl011_irq(&u));
	CU_ASSERT_EQUAL(uart_rd(&u, 0x40), 1U << 5);
	uart_wr(&u, 0x44, 1U << 5);
	CU_ASSERT_FALSE(pl011_irq(&u));
	fflush(out);
	CU_ASSERT_EQUAL(ftell(out), 1);
	/* Nobody listens yet: the host keeps its input. */
	CU_ASSERT_FALSE(pl011_listening(&u));
	uart_wr(&u, 0x38, (1U << 4) | (1U << 6));        /* RXIM, RTIM */
	CU_ASSERT_TRUE(pl011_listening(&u));
	/* FIFO off: one byte of room; the RX interrupt at once. */
	CU_ASSERT_EQUAL(pl011_rx_room(&u), 1);
	pl011_rx_push(&u, 'x');
	pl011_rx_push(&u, 'y');                          /* no room: dropped */
	CU_ASSERT_EQUAL(uart_rd(&u, 0x18) & 0x50, 0x40); /* RXFF, not RXFE */
	CU_ASSERT_EQUAL(uart_rd(&u, 0x40), (1U << 4) | (1U << 6));
	CU_ASSERT_EQUAL(uart_rd(&u, 0x00), 'x');
	CU_ASSERT_EQUAL(uart_rd(&u, 0x18) & 0x10, 0x10);
	CU_ASSERT_FALSE(pl011_irq(&u));
	/* FIFO on (32), trigger half full: below it only the RX timeout, at it RX too. */
	uart_wr(&u, 0x2C, 0x70);
	uart_wr(&u, 0x34, 2U << 3);
	CU_ASSERT_EQUAL(pl011_rx_room(&u), 32);
	for (unsigned i = 0; i < 15; i++)
		pl011_rx_push(&u, (uint8_t)('a' + i));
	CU_ASSERT_EQUAL(uart_rd(&u, 0x3C) & 0x50, 1U << 6);
	pl011_rx_push(&u, 'p');
	CU_ASSERT_EQUAL(uart_rd(&u, 0x3C) & 0x50, 0x50);
	for (unsigned i = 0; i < 16; i++)
		CU_ASSERT_EQUAL(uart_rd(&u, 0x00), 'a' + i);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x00), 0);           /* empty reads 0 */
	CU_ASSERT_FALSE(pl011_irq(&u));
	for (unsigned i = 0; i < 40; i++)
		pl011_rx_push(&u, 'z');
	CU_ASSERT_EQUAL(pl011_rx_room(&u), 0);
	CU_ASSERT_EQUAL(u.rx_bytes, 1 + 16 + 32);
	/* Registers keep what is written. */
	uart_wr(&u, 0x24, 0x1A);
	uart_wr(&u, 0x28, 0x3);
	uart_wr(&u, 0x30, 0x301);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x24), 0x1A);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x28), 0x3);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x30), 0x301);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x2C), 0x70);
	CU_ASSERT_EQUAL(uart_rd(&u, 0x800), 0);
	fclose(out);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("vgic", NULL, NULL);
	CU_add_test(s, "create arguments", test_create_args);
	CU_add_test(s, "distributor ids and control", test_dist_ids);
	CU_add_test(s, "distributor SPI registers", test_dist_spi_regs);
	CU_add_test(s, "redistributors", test_redist);
	CU_add_test(s, "list register order and underflow", test_flush_order);
	CU_add_test(s, "level-triggered flow", test_level_flow);
	CU_add_test(s, "edge-triggered flow", test_edge_flow);
	CU_add_test(s, "SGI routing", test_sgi);
	CU_add_test(s, "timer lines and WFI wake-up", test_timer_wake);
	CU_add_test(s, "PL011 model", test_pl011);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures();
	vgic_destroy(g);
	CU_cleanup_registry();
	return failed ? 1 : 0;
}

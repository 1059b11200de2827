/*
 * The reference host's virtual GICv3 (host/vgic.h): distributor and redistributors emulated from
 * MMIO exits, as KVM's vgic-v3 does for its guests (single security state: GICD_CTLR.DS = 1,
 * affinity routing always on, no LPIs), and the list registers of REC_ENTER / REC exit.
 */
#include <stdlib.h>
#include <string.h>

#include "host/vgic.h"

/* Distributor registers */
#define GICD_CTLR        0x0000
#define GICD_TYPER       0x0004
#define GICD_IIDR        0x0008
#define GICD_TYPER2      0x000C
#define GICD_IGROUPR     0x0080
#define GICD_ISENABLER   0x0100
#define GICD_ICENABLER   0x0180
#define GICD_ISPENDR     0x0200
#define GICD_ICPENDR     0x0280
#define GICD_ISACTIVER   0x0300
#define GICD_ICACTIVER   0x0380
#define GICD_IPRIORITYR  0x0400
#define GICD_ICFGR       0x0C00
#define GICD_IROUTER     0x6000
#define GIC_PIDR2        0xFFE8

#define CTLR_ENGRP0      (1U << 0)
#define CTLR_ENGRP1      (1U << 1)
#define CTLR_ARE         (1U << 4)
#define CTLR_DS          (1U << 6)

/* Redistributor: RD_base frame, then SGI_base frame at +64 KiB */
#define GICR_CTLR        0x0000
#define GICR_IIDR        0x0004
#define GICR_TYPER       0x0008
#define GICR_WAKER       0x0014
#define GICR_SGI         0x10000
#define WAKER_PS         (1U << 1)
#define WAKER_CA         (1U << 2)

#define IIDR_VALUE       0x0100043BU   /* Arm implementer (0x43B), product 1: rmmemu's vgic */
#define PIDR2_GICV3      0x3BU         /* ArchRev 3 */
#define PRIO_MASK        0xF8U         /* 5 priority bits, as the list registers (RMM) take */
#define IROUTER_IRM      (1ULL << 31)
#define AFF_MASK         0xFF00FFFFFFULL

static void irq_reset(struct vgic_irq *irq, bool edge)
{
	memset(irq, 0, sizeof(*irq));
	irq->group1 = true;   /* KVM's GICv3 guests start with every interrupt in group 1 */
	irq->edge = edge;
	irq->owner = -1;
}

struct vgic *vgic_create(unsigned nr_vcpus, unsigned nr_spis, unsigned nr_lrs, uint64_t dist_base,
			 uint64_t redist_base, const uint64_t *mpidr)
{
	if (nr_vcpus == 0 || nr_lrs == 0 || nr_lrs > VGIC_MAX_LRS || !mpidr)
		return NULL;
	nr_spis = (nr_spis + 31) / 32 * 32;
	if (nr_spis == 0)
		nr_spis = 32;
	if (nr_spis > VGIC_MAX_SPIS)
		nr_spis = VGIC_MAX_SPIS;
	struct vgic *g = calloc(1, sizeof(*g));
	if (!g)
		return NULL;
	g->spis = calloc(nr_spis, sizeof(*g->spis));
	g->cpus = calloc(nr_vcpus, sizeof(*g->cpus));
	if (!g->spis || !g->cpus) {
		vgic_destroy(g);
		return NULL;
	}
	pthread_mutex_init(&g->lock, NULL);
	g->nr_vcpus = nr_vcpus;
	g->nr_spis = nr_spis;
	g->nr_lrs = nr_lrs;
	g->dist_base = dist_base;
	g->redist_base = redist_base;
	for (unsigned i = 0; i < nr_spis; i++)
		irq_reset(&g->spis[i], false);
	for (unsigned c = 0; c < nr_vcpus; c++) {
		struct vgic_cpu *cpu = &g->cpus[c];
		cpu->mpidr = mpidr[c] & AFF_MASK;
		cpu->sleep = true;
		for (unsigned i = 0; i < VGIC_NR_PRIVATE; i++)
			irq_reset(&cpu->priv[i], i < 16);   /* SGIs edge; PPIs level */
		for (unsigned i = 0; i < VGIC_MAX_LRS; i++)
			cpu->lr_intid[i] = ~0ULL;
	}
	return g;
}

void vgic_destroy(struct vgic *g)
{
	if (!g)
		return;
	if (g->spis && g->cpus)
		pthread_mutex_destroy(&g->lock);
	free(g->spis);
	free(g->cpus);
	free(g);
}

static struct vgic_irq *irq_of(struct vgic *g, unsigned cpu, uint64_t intid)
{
	if (intid < VGIC_NR_PRIVATE)
		return cpu < g->nr_vcpus ? &g->cpus[cpu].priv[intid] : NULL;
	if (intid - VGIC_NR_PRIVATE < g->nr_spis)
		return &g->spis[intid - VGIC_NR_PRIVATE];
	return NULL;
}

static bool is_pending(const struct vgic_irq *irq)
{
	return irq->latch || (!irq->edge && irq->level);
}

static bool group_on(const struct vgic *g, const struct vgic_irq *irq)
{
	return (g->ctlr & (irq->group1 ? CTLR_ENGRP1 : CTLR_ENGRP0)) != 0;
}

int vgic_spi_target(const struct vgic *g, uint64_t route)
{
	if (route & IROUTER_IRM)
		return 0;
	for (unsigned c = 0; c < g->nr_vcpus; c++)
		if (g->cpus[c].mpidr == (route & AFF_MASK))
			return (int)c;
	return -1;
}

/* ---- registers ---- */

enum bitop { OP_GROUP, OP_SENABLE, OP_CENABLE, OP_SPEND, OP_CPEND, OP_SACTIVE, OP_CACTIVE };

static uint32_t bits_read(struct vgic *g, unsigned cpu, unsigned first, enum bitop op)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 32; i++) {
		struct vgic_irq *irq = irq_of(g, cpu, first + i);
		if (!irq)
			continue;
		bool b;
		switch (op) {
		case OP_GROUP: b = irq->group1; break;
		case OP_SENABLE: case OP_CENABLE: b = irq->enabled; break;
		case OP_SPEND: case OP_CPEND: b = is_pending(irq); break;
		default: b = irq->active; break;
		}
		if (b)
			v |= 1U << i;
	}
	return v;
}

static void bits_write(struct vgic *g, unsigned cpu, unsigned first, enum bitop op, uint32_t v)
{
	for (unsigned i = 0; i < 32; i++) {
		struct vgic_irq *irq = irq_of(g, cpu, first + i);
		bool b = (v >> i) & 1;
		if (!irq || (!b && op != OP_GROUP))
			continue;
		switch (op) {
		case OP_GROUP: irq->group1 = b; break;
		case OP_SENABLE: irq->enabled = true; break;
		case OP_CENABLE: irq->enabled = false; break;
		case OP_SPEND: irq->latch = true; break;
		case OP_CPEND: irq->latch = false; break;
		case OP_SACTIVE: irq->active = true; break;
		case OP_CACTIVE: irq->active = false; break;
		}
	}
}

static uint32_t cfg_read(struct vgic *g, unsigned cpu, unsigned first)
{
	uint32_t v = 0;
	for (unsigned i = 0; i < 16; i++) {
		struct vgic_irq *irq = irq_of(g, cpu, first + i);
		if (irq && irq->edge)
			v |= 2U << (2 * i);
	}
	return v;
}

static void cfg_write(struct vgic *g, unsigned cpu, unsigned first, uint32_t v)
{
	for (unsigned i = 0; i < 16; i++) {
		struct vgic_irq *irq = irq_of(g, cpu, first + i);
		if (irq && first + i >= 16)      /* SGIs are always edge-triggered */
			irq->edge = (v >> (2 * i + 1)) & 1;
	}
}

/* Bit-per-INTID register blocks shared by GICD (intid_base from the offset) and GICR SGI_base. */
static bool common_reg(struct vgic *g, unsigned cpu, unsigned off, unsigned intid_off, bool write, uint32_t *v)
{
	static const struct { unsigned base; enum bitop op; } blocks[] = {
		{ GICD_IGROUPR, OP_GROUP }, { GICD_ISENABLER, OP_SENABLE }, { GICD_ICENABLER, OP_CENABLE },
		{ GICD_ISPENDR, OP_SPEND }, { GICD_ICPENDR, OP_CPEND }, { GICD_ISACTIVER, OP_SACTIVE },
		{ GICD_ICACTIVER, OP_CACTIVE },
	};
	for (unsigned k = 0; k < sizeof(blocks) / sizeof(blocks[0]); k++) {
		if (off - blocks[k].base < 0x80) {
			unsigned first = (off - blocks[k].base) / 4 * 32 + intid_off;
			if (write)
				bits_write(g, cpu, first, blocks[k].op, *v);
			else
				*v = bits_read(g, cpu, first, blocks[k].op);
			return true;
		}
	}
	if (off - GICD_ICFGR < 0x100) {
		unsigned first = (off - GICD_ICFGR) / 4 * 16 + intid_off;
		if (write)
			cfg_write(g, cpu, first, *v);
		else
			*v = cfg_read(g, cpu, first);
		return true;
	}
	return false;
}

/* Distributor registers of the private interrupts (RAZ/WI with affinity routing). */
static bool dist_private(unsigned off)
{
	if (off >= GICD_IGROUPR && off < GICD_IPRIORITYR)
		return (off & 0x7F) == 0;
	if (off >= GICD_IPRIORITYR && off < GICD_IPRIORITYR + 0x400)
		return off - GICD_IPRIORITYR < VGIC_NR_PRIVATE;
	if (off - GICD_ICFGR < 0x100)
		return off - GICD_ICFGR < 8;
	return false;
}

/* One aligned 32-bit register of the distributor. */
static void dist_reg(struct vgic *g, unsigned cpu, unsigned off, bool write, uint32_t *v)
{
	switch (off) {
	case GICD_CTLR:
		if (write)
			g->ctlr = *v & (CTLR_ENGRP0 | CTLR_ENGRP1);
		else
			*v = g->ctlr | CTLR_ARE | CTLR_DS;
		return;
	case GICD_TYPER:
		if (!write) {
			unsigned cpus = g->nr_vcpus > 8 ? 7 : g->nr_vcpus - 1;
			*v = (g->nr_spis / 32) | (cpus << 5) | (15U << 19);   /* IDbits: 16 */
		}
		return;
	case GICD_IIDR:
		if (!write)
			*v = IIDR_VALUE;
		return;
	case GIC_PIDR2:
		if (!write)
			*v = PIDR2_GICV3;
		return;
	default:
		break;
	}
	if (off >= GICD_IROUTER + 8 * VGIC_NR_PRIVATE && off < GICD_IROUTER + 8 * (VGIC_NR_PRIVATE + g->nr_spis)) {
		struct vgic_irq *irq = &g->spis[(off - GICD_IROUTER) / 8 - VGIC_NR_PRIVATE];
		unsigned shift = (off & 4) ? 32 : 0;
		if (write) {
			uint64_t mask = (0xFFFFFFFFULL << shift) & (AFF_MASK | IROUTER_IRM);
			irq->route = (irq->route & ~mask) | (((uint64_t)*v << shift) & mask);
		} else {
			*v = (uint32_t)(irq->route >> shift);
		}
		return;
	}
	/* With affinity routing, the private interrupts are the redistributors': RAZ/WI here. */
	if (!dist_private(off) && common_reg(g, cpu, off, 0, write, v))
		return;
	if (!write)
		*v = 0;
}

static void redist_reg(struct vgic *g, unsigned cpu, unsigned off, bool write, uint32_t *v)
{
	struct vgic_cpu *c = &g->cpus[cpu];
	switch (off) {
	case GICR_CTLR:
		if (!write)
			*v = 0;
		return;
	case GICR_IIDR:
		if (!write)
			*v = IIDR_VALUE;
		return;
	case GICR_TYPER:
		if (!write)
			*v = (cpu << 8) | (cpu + 1 == g->nr_vcpus ? 1U << 4 : 0);
		return;
	case GICR_TYPER + 4:
		if (!write)
			*v = (uint32_t)((c->mpidr & 0xFFFFFF) | ((c->mpidr >> 32) & 0xFF) << 24);
		return;
	case GICR_WAKER:
		if (write)
			c->sleep = (*v & WAKER_PS) != 0;
		else
			*v = c->sleep ? (WAKER_PS | WAKER_CA) : 0;
		return;
	case GIC_PIDR2:
	case GICR_SGI + GIC_PIDR2:
		if (!write)
			*v = PIDR2_GICV3;
		return;
	default:
		break;
	}
	if (off >= GICR_SGI && (off - GICR_SGI < GICD_IPRIORITYR || off - GICR_SGI >= GICD_ICFGR)) {
		unsigned o = off - GICR_SGI;
		/* Only the first register of each block exists (INTIDs 0..31), ICFGR0/1. */
		if (((o < GICD_IPRIORITYR && (o & 0x7F) == 0) || o == GICD_ICFGR || o == GICD_ICFGR + 4) &&
		    common_reg(g, cpu, o, 0, write, v))
			return;
	}
	if (!write)
		*v = 0;
}

static bool prio_reg(struct vgic *g, unsigned cpu, unsigned off, bool redist, unsigned *first)
{
	if (redist) {
		if (off < GICR_SGI + GICD_IPRIORITYR || off >= GICR_SGI + GICD_IPRIORITYR + VGIC_NR_PRIVATE)
			return false;
		*first = off - GICR_SGI - GICD_IPRIORITYR;
		return true;
	}
	(void)g;
	(void)cpu;
	if (off < GICD_IPRIORITYR || off >= GICD_IPRIORITYR + 0x400)
		return false;
	*first = off - GICD_IPRIORITYR;
	return true;
}

/* Access of `size` bytes at frame offset off: priorities are byte-accessible, the rest is made of
 * 32-bit registers (64-bit accesses are split; other sizes read the covered bytes, writes ignored). */
static void frame_access(struct vgic *g, unsigned cpu, bool redist, unsigned off, unsigned size, bool write,
			 uint64_t *val)
{
	unsigned first;
	uint64_t out = 0;
	if (prio_reg(g, cpu, off, redist, &first)) {
		for (unsigned i = 0; i < size; i++) {
			struct vgic_irq *irq = (redist || first + i >= VGIC_NR_PRIVATE) ? irq_of(g, cpu, first + i) : NULL;
			if (!irq)
				continue;
			if (write)
				irq->prio = (uint8_t)((*val >> (8 * i)) & PRIO_MASK);
			else
				out |= (uint64_t)irq->prio << (8 * i);
		}
		if (!write)
			*val = out;
		return;
	}
	if (size < 4) {
		if (write)
			return;
		uint32_t w = 0;
		unsigned aligned = off & ~3U;
		if (redist)
			redist_reg(g, cpu, aligned, false, &w);
		else
			dist_reg(g, cpu, aligned, false, &w);
		*val = (w >> (8 * (off & 3))) & ((1ULL << (8 * size)) - 1);
		return;
	}
	for (unsigned part = 0; part < size / 4; part++) {
		unsigned o = (off & ~3U) + 4 * part;
		uint32_t w = write ? (uint32_t)(*val >> (32 * part)) : 0;
		if (redist)
			redist_reg(g, cpu, o, write, &w);
		else
			dist_reg(g, cpu, o, write, &w);
		out |= (uint64_t)w << (32 * part);
	}
	if (!write)
		*val = out;
}

bool vgic_mmio(struct vgic *g, unsigned vcpu, uint64_t addr, unsigned size, bool write, uint64_t *val)
{
	bool redist;
	unsigned cpu = vcpu, off;
	if (addr - g->dist_base < VGIC_DIST_SIZE) {
		redist = false;
		off = (unsigned)(addr - g->dist_base);
	} else if (addr - g->redist_base < VGIC_REDIST_SIZE * g->nr_vcpus) {
		redist = true;
		cpu = (unsigned)((addr - g->redist_base) / VGIC_REDIST_SIZE);
		off = (unsigned)((addr - g->redist_base) % VGIC_REDIST_SIZE);
	} else {
		return false;
	}
	if (size != 1 && size != 2 && size != 4 && size != 8)
		size = 4;
	pthread_mutex_lock(&g->lock);
	if (cpu >= g->nr_vcpus)
		cpu = 0;
	frame_access(g, cpu, redist, off, size, write, val);
	pthread_mutex_unlock(&g->lock);
	return true;
}

/* ---- lines, SGIs ---- */

void vgic_set_level(struct vgic *g, unsigned intid, unsigned vcpu, bool level)
{
	pthread_mutex_lock(&g->lock);
	struct vgic_irq *irq = irq_of(g, vcpu, intid);
	if (irq && intid >= 16) {
		if (irq->edge && level && !irq->level)
			irq->latch = true;
		irq->level = level;
	}
	pthread_mutex_unlock(&g->lock);
}

unsigned vgic_send_sgi(struct vgic *g, unsigned vcpu, uint64_t sgir, bool group0)
{
	unsigned intid = (sgir >> 24) & 0xF, n = 0;
	bool irm = (sgir >> 40) & 1;
	uint64_t aff = ((sgir >> 48) & 0xFF) << 32 | ((sgir >> 32) & 0xFF) << 16 | ((sgir >> 16) & 0xFF) << 8;
	unsigned rs = (sgir >> 44) & 0xF;
	pthread_mutex_lock(&g->lock);
	for (unsigned c = 0; c < g->nr_vcpus; c++) {
		uint64_t mp = g->cpus[c].mpidr;
		if (irm) {
			if (c == vcpu)
				continue;
		} else {
			unsigned aff0 = mp & 0xFF;
			if ((mp & ~0xFFULL) != aff || aff0 / 16 != rs || !((sgir >> (aff0 % 16)) & 1))
				continue;
		}
		struct vgic_irq *irq = &g->cpus[c].priv[intid];
		if (irq->group1 == group0)
			continue;
		irq->latch = true;
		n++;
	}
	g->sgis_sent += n;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* ---- list registers ---- */

/* May irq go to vCPU c's list registers (cpu's own private one, or an SPI routed there)? */
static bool for_cpu(const struct vgic *g, const struct vgic_irq *irq, unsigned intid, unsigned c)
{
	if (intid < VGIC_NR_PRIVATE)
		return true;
	if (irq->owner >= 0)
		return irq->owner == (int)c;
	return vgic_spi_target(g, irq->route) == (int)c;
}

static bool wants_lr(const struct vgic *g, const struct vgic_irq *irq)
{
	return irq->active || (is_pending(irq) && irq->enabled && group_on(g, irq));
}

/* Ordering of candidates: active first (they must stay in a list register to be deactivated),
 * then priority, then INTID. */
static bool before(const struct vgic_irq *a, unsigned ia, const struct vgic_irq *b, unsigned ib)
{
	if (a->active != b->active)
		return a->active;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return ia < ib;
}

void vgic_flush(struct vgic *g, unsigned vcpu, uint64_t lrs[VGIC_MAX_LRS], uint64_t *hcr)
{
	unsigned best[VGIC_MAX_LRS], nbest = 0, total = 0;
	memset(lrs, 0, VGIC_MAX_LRS * sizeof(lrs[0]));
	*hcr = 0;
	if (vcpu >= g->nr_vcpus)
		return;
	pthread_mutex_lock(&g->lock);
	struct vgic_cpu *cpu = &g->cpus[vcpu];
	for (unsigned intid = 0; intid < VGIC_NR_PRIVATE + g->nr_spis; intid++) {
		struct vgic_irq *irq = irq_of(g, vcpu, intid);
		if (!wants_lr(g, irq) || !for_cpu(g, irq, intid, vcpu))
			continue;
		total++;
		/* Insert into the sorted best list (at most nr_lrs entries). */
		unsigned pos = nbest;
		while (pos > 0 && before(irq, intid, irq_of(g, vcpu, best[pos - 1]), best[pos - 1]))
			pos--;
		if (pos >= g->nr_lrs)
			continue;
		if (nbest < g->nr_lrs)
			nbest++;
		memmove(&best[pos + 1], &best[pos], (nbest - 1 - pos) * sizeof(best[0]));
		best[pos] = intid;
	}
	for (unsigned i = 0; i < VGIC_MAX_LRS; i++)
		cpu->lr_intid[i] = ~0ULL;
	for (unsigned i = 0; i < nbest; i++) {
		struct vgic_irq *irq = irq_of(g, vcpu, best[i]);
		uint64_t lr = best[i] | ((uint64_t)irq->prio << VGIC_LR_PRIO_SHIFT) | (irq->group1 ? VGIC_LR_GROUP1 : 0);
		if (irq->active)
			lr |= VGIC_LR_ACTIVE;
		if (is_pending(irq) && irq->enabled && group_on(g, irq)) {
			lr |= VGIC_LR_PENDING;
			if (irq->edge)
				irq->latch = false;          /* the edge is now the LR's */
			else
				lr |= VGIC_LR_EOI;           /* re-sample the line after the guest's EOI */
		}
		lrs[i] = lr;
		cpu->lr_intid[i] = best[i];
		if (best[i] >= VGIC_NR_PRIVATE)
			irq->owner = (int)vcpu;
	}
	if (total > nbest)
		*hcr |= VGIC_HCR_UIE;   /* an underflow maintenance interrupt makes room for the rest */
	pthread_mutex_unlock(&g->lock);
}

void vgic_sync(struct vgic *g, unsigned vcpu, const uint64_t lrs[VGIC_MAX_LRS], uint64_t misr)
{
	if (vcpu >= g->nr_vcpus)
		return;
	pthread_mutex_lock(&g->lock);
	struct vgic_cpu *cpu = &g->cpus[vcpu];
	if (misr & VGIC_MISR_EOI)
		g->eoi_maint++;
	for (unsigned i = 0; i < VGIC_MAX_LRS; i++) {
		uint64_t intid = cpu->lr_intid[i];
		if (intid == ~0ULL)
			continue;
		cpu->lr_intid[i] = ~0ULL;
		struct vgic_irq *irq = irq_of(g, vcpu, intid);
		if (!irq)
			continue;
		uint64_t st = lrs[i] & VGIC_LR_STATE_MASK;
		if ((lrs[i] & VGIC_LR_VINTID_MASK) != intid)
			st = 0;                              /* not ours any more: treat as EOIed */
		irq->active = (st & VGIC_LR_ACTIVE) != 0;
		if (st & VGIC_LR_PENDING) {
			if (irq->edge)
				irq->latch = true;           /* not acknowledged yet */
		} else if (!irq->edge) {
			irq->latch = false;                  /* acknowledged: only the line keeps it pending */
		}
		if (intid >= VGIC_NR_PRIVATE)
			irq->owner = irq->active ? (int)vcpu : -1;
	}
	pthread_mutex_unlock(&g->lock);
}

bool vgic_vcpu_pending(struct vgic *g, unsigned vcpu)
{
	if (vcpu >= g->nr_vcpus)
		return false;
	bool any = false;
	pthread_mutex_lock(&g->lock);
	for (unsigned intid = 0; intid < VGIC_NR_PRIVATE + g->nr_spis && !any; intid++) {
		struct vgic_irq *irq = irq_of(g, vcpu, intid);
		any = is_pending(irq) && irq->enabled && group_on(g, irq) && for_cpu(g, irq, intid, vcpu);
	}
	pthread_mutex_unlock(&g->lock);
	return any;
}

/* ---- timers ---- */

#define CNT_ENABLE 1ULL
#define CNT_IMASK  2ULL

bool vgic_timer_line(uint64_t ctl, uint64_t cval, uint64_t now)
{
	return (ctl & (CNT_ENABLE | CNT_IMASK)) == CNT_ENABLE && now >= cval;
}

int64_t vgic_timer_wait_ns(uint64_t ctl, uint64_t cval, uint64_t now, uint64_t hz)
{
	if ((ctl & (CNT_ENABLE | CNT_IMASK)) != CNT_ENABLE || cval <= now || hz == 0)
		return -1;
	uint64_t ticks = cval - now;
	if (ticks > (uint64_t)INT64_MAX / 1000000000ULL)
		return INT64_MAX;
	/* Rounded up: waking before the counter reaches CVAL would find the line still low. */
	return (int64_t)((ticks * 1000000000ULL + hz - 1) / hz);
}

/*
 * The reference host's virtual GICv3 (what KVM's vgic-v3 does for a realm): a distributor and one
 * redistributor per vCPU emulated from MMIO exits, interrupt state per INTID, and the list
 * registers of RmiRecEnter / RmiRecExit as the only way interrupts reach the realm.
 *
 * Locking: every entry point takes vgic->lock, so devices (or vCPU threads, later) may raise lines
 * from any thread; the state of private interrupts (SGIs, PPIs) is per vCPU.
 */
#ifndef HOST_VGIC_H
#define HOST_VGIC_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VGIC_NR_PRIVATE   32U
#define VGIC_MAX_SPIS     988U
#define VGIC_DIST_SIZE    0x10000ULL
#define VGIC_REDIST_SIZE  0x20000ULL      /* RD_base + SGI_base frames, per vCPU */
#define VGIC_MAX_LRS      16U
#define VGIC_SPURIOUS     1023U
#define VGIC_PPI_VTIMER   27U
#define VGIC_PPI_PTIMER   30U
#define VGIC_PPI_MAINT    25U

/* ICH_LR<n>_EL2 / ICH_HCR_EL2 / ICH_MISR_EL2 fields the host uses. */
#define VGIC_LR_STATE_SHIFT  62
#define VGIC_LR_PENDING      (1ULL << 62)
#define VGIC_LR_ACTIVE       (2ULL << 62)
#define VGIC_LR_STATE_MASK   (3ULL << 62)
#define VGIC_LR_GROUP1       (1ULL << 60)
#define VGIC_LR_EOI          (1ULL << 41)
#define VGIC_LR_PRIO_SHIFT   48
#define VGIC_LR_VINTID_MASK  0xFFFFFFFFULL
#define VGIC_HCR_UIE         (1ULL << 1)
#define VGIC_HCR_NPIE        (1ULL << 3)
#define VGIC_HCR_EOICOUNT_SHIFT 27
#define VGIC_HCR_EOICOUNT_MASK  (0x1FULL << 27)
#define VGIC_MISR_EOI        (1ULL << 0)
#define VGIC_MISR_U          (1ULL << 1)

struct vgic_irq {
	bool enabled;
	bool latch;        /* edge (or ISPENDR) pending state */
	bool level;        /* the input line (level-triggered interrupts) */
	bool active;
	bool group1;
	bool edge;         /* ICFGR: 1 = edge-triggered */
	uint8_t prio;      /* implemented bits only (5) */
	uint64_t route;    /* SPIs: GICD_IROUTER (Aff3.Aff2.Aff1.Aff0, IRM) */
	int owner;         /* vCPU whose list registers hold it (-1: none) */
};

struct vgic_cpu {
	struct vgic_irq priv[VGIC_NR_PRIVATE];
	uint64_t mpidr;
	bool sleep;        /* GICR_WAKER.ProcessorSleep */
	uint64_t lr_intid[VGIC_MAX_LRS];   /* INTID in each LR written at the last flush (~0: none) */
};

struct vgic {
	pthread_mutex_t lock;
	unsigned nr_vcpus, nr_spis, nr_lrs;
	uint64_t dist_base, redist_base;
	uint32_t ctlr;                     /* GICD_CTLR: EnableGrp0 / EnableGrp1 (ARE, DS fixed) */
	struct vgic_irq *spis;
	struct vgic_cpu *cpus;
	uint64_t sgis_sent, eoi_maint;     /* statistics */
};

/* nr_spis is rounded up to a multiple of 32 (at least 32, at most 988); nr_lrs 1..16.
 * mpidr[i]: vCPU i's MPIDR_EL1. Returns NULL on bad arguments or no memory. */
struct vgic *vgic_create(unsigned nr_vcpus, unsigned nr_spis, unsigned nr_lrs, uint64_t dist_base,
			 uint64_t redist_base, const uint64_t *mpidr);
void vgic_destroy(struct vgic *g);

/* An MMIO access at addr (no shared bit) by vCPU `vcpu`: true if it is the distributor's or a
 * redistributor's (reads of unknown registers are 0, writes ignored), false if not ours. */
bool vgic_mmio(struct vgic *g, unsigned vcpu, uint64_t addr, unsigned size, bool write, uint64_t *val);

/* A device's interrupt line: intid is an SPI (vcpu ignored) or a PPI of vCPU `vcpu`. Level-triggered
 * interrupts follow the line; edge-triggered ones latch on a rising edge. */
void vgic_set_level(struct vgic *g, unsigned intid, unsigned vcpu, bool level);

/* A write of ICC_SGI1R_EL1 (group 1; also ICC_ASGI1R_EL1) or ICC_SGI0R_EL1 (group0 true) by vCPU
 * `vcpu`: the SGIs go pending at their targets. Returns the number of vCPUs targeted. */
unsigned vgic_send_sgi(struct vgic *g, unsigned vcpu, uint64_t sgir, bool group0);

/* Before REC_ENTER of vcpu: the list registers (nr_lrs of lrs[] written, the others zeroed) and the
 * ICH_HCR bits to request (UIE when not everything fitted). */
void vgic_flush(struct vgic *g, unsigned vcpu, uint64_t lrs[VGIC_MAX_LRS], uint64_t *hcr);
/* After the REC exit: the list registers as the realm left them, folded back into the state. */
void vgic_sync(struct vgic *g, unsigned vcpu, const uint64_t lrs[VGIC_MAX_LRS], uint64_t misr);

/* Something pending (and enabled, with its group enabled) for vcpu: a WFI must not sleep. */
bool vgic_vcpu_pending(struct vgic *g, unsigned vcpu);

/* A generic timer's interrupt output from its CNT*_CTL (ENABLE, IMASK) and CVAL at counter value now,
 * and how long from now until it asserts: -1 when disabled, masked or asserted already. */
bool vgic_timer_line(uint64_t ctl, uint64_t cval, uint64_t now);
int64_t vgic_timer_wait_ns(uint64_t ctl, uint64_t cval, uint64_t now, uint64_t hz);

/* Which vCPU an SPI's IROUTER names (-1: none; IRM = 1: the lowest vCPU, as KVM picks one). */
int vgic_spi_target(const struct vgic *g, uint64_t route);

#endif

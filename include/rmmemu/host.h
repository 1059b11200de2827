/*
 * rmmemu reference host: what Linux KVM (the CCA host series, v10 uAPI) does with RMI for a realm
 * VM, as a library. A VMM prototype drives the same life cycle the KVM user ABI exposes:
 *
 *   configure realm (hash algorithm, RPV)   KVM_CAP_ARM_RME / CONFIG_REALM
 *   create realm                            CREATE_REALM      (RD + root RTTs, REALM_CREATE)
 *   init RIPAS over a range                 INIT_RIPAS_REALM  (RTT_INIT_RIPAS, RTTs on demand)
 *   populate a range from a buffer          POPULATE_REALM    (DATA_CREATE per granule)
 *   finalize each vCPU as a REC             KVM_ARM_VCPU_FINALIZE(REC) (REC_CREATE)
 *   activate                                ACTIVATE_REALM    (REALM_ACTIVATE)
 *   destroy                                 VM teardown: every granule undelegated
 *
 * Every call returns 0 or a negative errno-style code (-EINVAL, -EPERM, -ENOMEM, -ENXIO when an
 * RMI call failed: the RMI status is then in rmmemu_vm_last_rmi()).
 */
#ifndef RMMEMU_HOST_H
#define RMMEMU_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rmmemu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rmmemu_vm;

#define RMMEMU_HASH_SHA256 0
#define RMMEMU_HASH_SHA512 1

struct rmmemu_vm_params {
	unsigned ipa_bits;      /* IPA width incl. the shared bit; 0: 40 */
	unsigned nr_vcpus;      /* 1..64 */
	uint64_t uart_base;     /* PL011 console at this offset in the unprotected half (0: none) */
	FILE *uart_out;         /* where the console's output goes (NULL: stdout) */
	/* Interrupts the KVM way (vgic-v3 emulated by the host, MMIO exits at the shared alias):
	 * 0 keeps the old behaviour (no distributor; the virtual timer PPI goes straight to a list
	 * register). Bases are IPAs without the shared bit. */
	uint64_t gicd_base;     /* GICv3 distributor (64 KiB); 0: no vGIC */
	uint64_t gicr_base;     /* redistributor frames, 128 KiB per vCPU (RD_base + SGI_base) */
	unsigned uart_irq;      /* the PL011's INTID (an SPI: 32 + n, level), 0: none */
	FILE *uart_in;          /* console input into the PL011 RX FIFO (NULL: none); read without
	                         * blocking the realm, EOF just ends input */
};

/* A VM on an instance. Host memory (RD, RTTs, RECs, DATA backing, RMI parameter pages) comes from
 * the instance's first DRAM range, granule by granule, from one pool shared by all VMs of the
 * instance. Destroy the VMs before the instance. */
int rmmemu_vm_create(struct rmmemu *emu, const struct rmmemu_vm_params *p, struct rmmemu_vm **out);
/* Before create_realm: hash algorithm (RMMEMU_HASH_*) and Realm Personalization Value. */
int rmmemu_vm_configure(struct rmmemu_vm *vm, unsigned hash_algo, const uint8_t rpv[64]);
int rmmemu_vm_create_realm(struct rmmemu_vm *vm);
int rmmemu_vm_init_ripas(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size);
/* Copy `size` bytes (granule aligned ipa; size rounded up to granules, zero padded) into the realm. */
int rmmemu_vm_populate(struct rmmemu_vm *vm, uint64_t ipa, const void *src, uint64_t size, bool measure);
/* REC for vCPU `idx` (ascending order; vCPU 0 runnable, others wait for PSCI CPU_ON). */
int rmmemu_vm_finalize_vcpu(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8]);
int rmmemu_vm_activate(struct rmmemu_vm *vm);
/* Tear everything down (KVM's order) and free the VM; all its granules end UNDELEGATED. */
int rmmemu_vm_destroy(struct rmmemu_vm *vm);

/*
 * Second profile: the later KVM uAPI (the v12 series, still RMM 1.0). The VMM declares its private
 * memory (guest_memfd memslots) and the vCPUs' entry registers; KVM creates the realm descriptor
 * when first needed, sets RIPAS RAM over the initial memslots, populates from a user buffer
 * (KVM_ARM_RMI_POPULATE, valid until the first vCPU run) and, on the first rmmemu_vm_run(), creates
 * the RECs and activates the realm. The RMI sequence, and so the RIM, is the one of the v10 flow.
 * A VM uses one profile: the v10 calls above return -EPERM on a VM that used these, and vice versa.
 */
#define RMMEMU_RMI_POPULATE_MEASURE 1U
/* Private RAM (a guest_memfd memslot): granule aligned, in the protected half; before any populate. */
int rmmemu_vm_add_memslot(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size);
/* KVM_ARM_RMI_POPULATE: copy from src into [base, base + size) (granule aligned, inside one memslot),
 * measured with RMMEMU_RMI_POPULATE_MEASURE. Returns the bytes populated (> 0; at most up to the next
 * 2 MiB boundary, so call again for the rest) or a negative error (-EPERM after the first run). */
int64_t rmmemu_vm_rmi_populate(struct rmmemu_vm *vm, uint64_t base, uint64_t size, const void *src, uint32_t flags);
/* KVM_SET_ONE_REG of PC and X0..X7 before the first run (x may be NULL: zeros). */
int rmmemu_vm_set_vcpu_regs(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8]);

/*
 * Running: the REC_ENTER loop of KVM + a VMM. Every REC exit is handled:
 *   SYNC data abort at the unprotected alias of RAM -> shared memory: a host granule is mapped
 *     there with RTT_MAP_UNPROTECTED (KVM maps the shared half of a memslot the same way);
 *   SYNC data abort at another unprotected IPA -> MMIO: the PL011 console, else the mmio handler, else
 *     reads return 0 and writes are dropped; completed with EMULATED_MMIO; no syndrome -> SEA;
 *   SYNC abort at a protected IPA in RAM (a range given to init_ripas) with no DATA -> a granule is
 *     delegated and DATA_CREATE_UNKNOWN maps it (RTTs created as needed), like KVM's fault path;
 *   SYNC WFI/WFE, system register accesses (reads as 0), IRQ, FIQ -> re-enter;
 *   every exit: the list registers are carried to the next entry, and while the exit reports the
 *     virtual timer asserted, vINTID 27 is made pending in a free list register (as KVM's vGIC);
 * With gicd_base set (the vGIC, docs/host.md), instead: the distributor and redistributors are
 *   emulated from MMIO exits; before each entry the timer PPIs (27 virtual, 30 physical: level, from
 *   the last exit's CNT*_CTL/CVAL against rmmemu_realm_counter()) are sampled and the vCPU's best
 *   interrupts fill the list registers (EOI maintenance for level ones, UIE when they do not fit);
 *   after the exit the LRs are folded back; ICC_SGI1R/ASGI1R/SGI0R write exits generate SGIs; WFI
 *   is trapped and a vCPU with nothing pending sleeps until a timer deadline, console input, an SGI
 *   or rmmemu_vm_kick; the PL011 is a full model (RX FIFO fed from uart_in, interrupts on uart_irq);
 *   PSCI -> CPU_ON/AFFINITY_INFO completed with RMI_PSCI_COMPLETE (CPU_ON starts that vCPU),
 *     CPU_OFF stops the vCPU, SYSTEM_OFF/RESET stop the VM;
 *   RIPAS_CHANGE -> accepted (unless the ripas handler says no): RTT_SET_RIPAS over the range,
 *     RTTs created as needed, DATA of a range going EMPTY destroyed and undelegated;
 *   HOST_CALL -> the host_call handler (default: X0..X30 returned unchanged);
 *   SERROR and anything unexpected -> the run stops with an error.
 */
struct rmmemu_vm_handlers {
	/* An MMIO access the console does not claim; addr has the shared bit stripped. Return 0 if
	 * handled (for a read, *val is the value), else the access is ignored (reads return 0). */
	int (*mmio)(void *ctx, unsigned vcpu, uint64_t addr, unsigned size, bool write, uint64_t *val);
	/* RSI_HOST_CALL: imm and X0..X30 of the realm's RsiHostCall; write the results into gprs. */
	void (*host_call)(void *ctx, unsigned vcpu, uint16_t imm, uint64_t gprs[31]);
	/* RSI_IPA_STATE_SET: return false to reject. */
	bool (*ripas_change)(void *ctx, unsigned vcpu, uint64_t base, uint64_t top, unsigned ripas);
	void *ctx;
};

enum rmmemu_vm_stop {
	RMMEMU_VM_SYSTEM_OFF,   /* PSCI SYSTEM_OFF */
	RMMEMU_VM_SYSTEM_RESET, /* PSCI SYSTEM_RESET */
	RMMEMU_VM_ALL_OFF,      /* every vCPU is off (PSCI CPU_OFF) */
	RMMEMU_VM_MAX_EXITS,    /* the exit budget ran out */
	RMMEMU_VM_ERROR,        /* an RMI call failed or an exit could not be handled */
	RMMEMU_VM_KICKED,       /* rmmemu_vm_kick: stopped at a REC exit; rmmemu_vm_run resumes */
};

struct rmmemu_vm_run_result {
	enum rmmemu_vm_stop stop;
	uint64_t exits[7];      /* REC exits by RmiRecExitReason */
	uint64_t mmio, lazy_pages, shared_pages, entries, timer_irqs;
	uint64_t sgis, wfi_waits, console_in;   /* with the vGIC: SGI writes, WFI sleeps, input bytes */
	char error[256];        /* for RMMEMU_VM_ERROR */
};

/* Run the (activated; v12 profile: activated now if not yet) realm's vCPUs round robin until it stops or max_exits REC exits happened. */
int rmmemu_vm_run(struct rmmemu_vm *vm, const struct rmmemu_vm_handlers *h, uint64_t max_exits,
		  struct rmmemu_vm_run_result *out);
/* From any thread (not a signal handler): make rmmemu_vm_run return RMMEMU_VM_KICKED after the REC
 * exit this forces (rmmemu_vcpu_kick); if it is not running, the next call returns after one exit.
 * Like a signal interrupting KVM_RUN. */
void rmmemu_vm_kick(struct rmmemu_vm *vm);

/* Read memory the realm shares with the host (unprotected alias of RAM; the shared bit may be
 * given or not). -EFAULT if part of the range was never shared. */
int rmmemu_vm_read_shared(struct rmmemu_vm *vm, uint64_t ipa, void *buf, size_t len);

/* Facts about the VM. */
uint64_t rmmemu_vm_rd(const struct rmmemu_vm *vm);
uint64_t rmmemu_vm_rec(const struct rmmemu_vm *vm, unsigned idx);
unsigned rmmemu_vm_ipa_bits(const struct rmmemu_vm *vm);
uint64_t rmmemu_vm_last_rmi(const struct rmmemu_vm *vm);  /* X0 of the last failed RMI call */
/* RIM (or REM slot 1..4) through the debug interface: digest bytes, returns the size or <0. */
int rmmemu_vm_measurement(const struct rmmemu_vm *vm, unsigned slot, uint8_t out[64]);

#ifdef __cplusplus
}
#endif
#endif

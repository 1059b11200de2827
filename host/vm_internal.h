/* Internals of the reference host (host/vm.c, host/vm_run.c). */
#ifndef HOST_VM_INTERNAL_H
#define HOST_VM_INTERNAL_H

#include "rmmemu/host.h"
#include "host/vgic.h"

#define GRANULE      4096ULL
#define MAX_VCPUS    64
#define NUM_AUX_MAX  RMI_MAX_REC_AUX_GRANULES

struct rtt_rec {
	uint64_t ipa;
	int level;
	uint64_t pa;
};

struct vcpu {
	uint64_t rec;
	uint64_t aux[NUM_AUX_MAX];
	bool finalized;
	/* run state */
	bool on;                    /* the host may enter it (vCPU 0 after activation; others after CPU_ON) */
	uint64_t run;               /* its RecRun granule (NS) */
	uint64_t enter_flags;
	uint64_t enter_gprs[31];
	uint64_t lrs[RMI_REC_GIC_NUM_LRS];   /* the vGIC list registers this vCPU carries */
	/* With the vGIC: the timers as the last exit reported them, and WFI. */
	uint64_t cntv_ctl, cntv_cval, cntp_ctl, cntp_cval;
	bool waiting;               /* in WFI with nothing pending: not entered until something is */
	bool tline[2];              /* virtual / physical timer PPI lines as last set */
};

/* The PL011 the host emulates with the vGIC (host/pl011.c): instant TX, a 32-byte RX FIFO. */
#define PL011_FIFO 32U
struct pl011 {
	FILE *out;
	uint8_t rx[PL011_FIFO];
	unsigned rx_head, rx_count;
	uint32_t cr, lcr_h, ibrd, fbrd, ifls, imsc, dmacr, ilpr;
	bool tx_int;                /* TXRIS: set by each character written (the FIFO drains at once) */
	bool tx_unflushed;          /* output since the last newline: flushed when the realm idles */
	bool dr_read;               /* the realm has read UARTDR: it polls for input */
	uint64_t rx_bytes, tx_bytes;
};
void pl011_reset(struct pl011 *u, FILE *out);
void pl011_access(struct pl011 *u, unsigned off, unsigned size, bool write, uint64_t *val);
unsigned pl011_rx_room(const struct pl011 *u);
bool pl011_listening(const struct pl011 *u);  /* input is taken only once someone reads it */
void pl011_rx_push(struct pl011 *u, uint8_t c);
bool pl011_irq(const struct pl011 *u);     /* UARTMIS != 0: the interrupt line */
void pl011_flush(struct pl011 *u);         /* a prompt without a newline reaches the terminal */

struct rmmemu_vm {
	struct rmmemu *emu;
	/* Host memory pool: granules of the first DRAM range, a bit per granule in use. */
	uint64_t pool_base, pool_granules, cursor;
	uint64_t *used;
	unsigned ipa_bits;
	int start_level;
	unsigned num_roots;
	unsigned hash;
	uint8_t rpv[64];
	bool realm_created, active;
	uint64_t rd, rtt_base, scratch;
	unsigned num_aux;
	unsigned nr_vcpus;
	struct vcpu vcpus[MAX_VCPUS];
	struct rtt_rec *rtts;
	size_t nrtts, cap_rtts;
	uint64_t last_rmi;
	struct rmmemu_range ram[16];  /* ranges given to init_ripas: protected RAM */
	unsigned nram;
	uint64_t uart_base;
	FILE *uart_out;
	/* Interrupts the KVM way (gicd_base != 0): the vGIC, the PL011 model and console input. */
	struct vgic *vgic;
	struct pl011 uart;
	unsigned uart_irq;
	int uart_in_fd;               /* -1: no (more) input */
	int wake[2];                  /* pipe: rmmemu_vm_kick wakes a WFI wait */
	uint64_t wfi_sleeps;
	bool started;                 /* vCPU 0 was switched on by the first run */
	int kicked;                   /* rmmemu_vm_kick since rmmemu_vm_run last returned KICKED */
	/* The v12 uAPI profile (host/vm_v12.c): memslots and vCPU registers given up front; realm,
	 * RIPAS, RECs and activation happen implicitly. */
	bool implicit, slots_ripas;
	struct rmmemu_range slots[16];
	unsigned nslots;
	struct { uint64_t pc, x[8]; bool set; } regs[MAX_VCPUS];
	/* Shared memory: unprotected-alias pages of RAM mapped to host granules (RTT_MAP_UNPROTECTED). */
	struct shared_page {
		uint64_t ipa, pa;
	} *shared;
	size_t nshared, cap_shared;
};


uint64_t rmi(struct rmmemu_vm *vm, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, uint64_t a5,
	     struct rmmemu_smc_result *r);
uint64_t alloc_granules(struct rmmemu_vm *vm, uint64_t count);
void free_granules(struct rmmemu_vm *vm, uint64_t pa, uint64_t count);
uint64_t alloc_delegated(struct rmmemu_vm *vm);
int undelegate_free(struct rmmemu_vm *vm, uint64_t pa);
uint64_t map_size(int level);
int create_rtt_levels(struct rmmemu_vm *vm, uint64_t ipa, int from, int to);
int find_map_level(const struct rmmemu_vm *vm, uint64_t start, uint64_t end);
/* -EINVAL unless [ipa, ipa + size) is granule aligned, non-empty and in the protected half. */
int check_range(const struct rmmemu_vm *vm, uint64_t ipa, uint64_t size);
int vm_create_realm(struct rmmemu_vm *vm);
int vm_init_ripas(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size);
int vm_populate(struct rmmemu_vm *vm, uint64_t ipa, const void *src, uint64_t size, bool measure);
int vm_finalize_vcpu(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8]);
int vm_activate(struct rmmemu_vm *vm);
int vm_v12_first_run(struct rmmemu_vm *vm);   /* v12 profile: RECs + activation before the first run */

#endif

/* The reference host's REC_ENTER loop: KVM's exit handling plus a VMM's devices (include/rmmemu/host.h). */
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/vm_internal.h"
#include "rmm/esr.h"

#define PSCI_CPU_ON_32        0x84000003ULL
#define PSCI_CPU_ON_64        0xC4000003ULL
#define PSCI_AFFINITY_INFO_32 0x84000004ULL
#define PSCI_AFFINITY_INFO_64 0xC4000004ULL
#define PSCI_CPU_OFF          0x84000002ULL
#define PSCI_SYSTEM_OFF       0x84000008ULL
#define PSCI_SYSTEM_RESET     0x84000009ULL

/* GICv3 list register fields and the virtual timer's PPI. */
#define LR_PENDING      (1ULL << 62)
#define LR_STATE_MASK   (3ULL << 62)
#define LR_GROUP1       (1ULL << 60)
#define LR_PRIORITY_A0  (0xA0ULL << 48)
#define VTIMER_INTID    27ULL
#define CNT_CTL_ENABLE  1ULL
#define CNT_CTL_IMASK   2ULL
#define CNT_CTL_ISTATUS 4ULL

/* PL011 registers the console emulates. */
#define PL011_DR   0x000
#define PL011_FR   0x018
#define PL011_FR_TXFE (1U << 7)
#define PL011_FR_RXFE (1U << 4)

/* ESR ISS of a trapped MSR/MRS (EC 0x18): Op0, Op2, Op1, CRn, CRm; and the ICC SGI registers. */
#define SYSREG_KEY_MASK  ((3ULL << 20) | (7ULL << 17) | (7ULL << 14) | (0xFULL << 10) | (0xFULL << 1))
#define SYSREG_KEY(op0, op1, crn, crm, op2) \
	(((uint64_t)(op0) << 20) | ((uint64_t)(op2) << 17) | ((uint64_t)(op1) << 14) | ((uint64_t)(crn) << 10) | \
	 ((uint64_t)(crm) << 1))
#define ICC_SGI1R_KEY    SYSREG_KEY(3, 0, 12, 11, 5)
#define ICC_ASGI1R_KEY   SYSREG_KEY(3, 0, 12, 11, 6)
#define ICC_SGI0R_KEY    SYSREG_KEY(3, 0, 12, 11, 7)
#define ESR_WFX_TI_MASK  3ULL       /* 0: WFI, 1: WFE, 2: WFIT, 3: WFET */

static int fail(struct rmmemu_vm_run_result *out, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(out->error, sizeof(out->error), fmt, ap);
	va_end(ap);
	out->stop = RMMEMU_VM_ERROR;
	return -EIO;
}

static uint64_t exit64(const uint8_t *run, unsigned off)
{
	uint64_t v;
	memcpy(&v, run + off, sizeof(v));
	return v;
}

static bool in_ram(const struct rmmemu_vm *vm, uint64_t ipa)
{
	for (unsigned i = 0; i < vm->nram; i++)
		if (ipa - vm->ram[i].base < vm->ram[i].size)
			return true;
	return false;
}

/* MMIO: the PL011 console, else the user's handler; reads of anything else are 0. */
/* ---- the vGIC's devices: timers, PL011 with input ---- */

/* The timer PPIs of vCPU idx as its last exit left the timers, at counter value now (KVM's
 * kvm_timer_update_irq; its soft timer for a blocked vCPU is the same comparison later). */
static void update_timer_lines(struct rmmemu_vm *vm, unsigned idx, uint64_t now, struct rmmemu_vm_run_result *out)
{
	struct vcpu *v = &vm->vcpus[idx];
	bool vl = vgic_timer_line(v->cntv_ctl, v->cntv_cval, now), pl = vgic_timer_line(v->cntp_ctl, v->cntp_cval, now);
	if (vl && !v->tline[0])
		out->timer_irqs++;
	if (pl && !v->tline[1])
		out->timer_irqs++;
	v->tline[0] = vl;
	v->tline[1] = pl;
	vgic_set_level(vm->vgic, VGIC_PPI_VTIMER, idx, vl);
	vgic_set_level(vm->vgic, VGIC_PPI_PTIMER, idx, pl);
}

static void update_uart_line(struct rmmemu_vm *vm)
{
	if (vm->uart_irq)
		vgic_set_level(vm->vgic, vm->uart_irq, 0, pl011_irq(&vm->uart));
}

/* Console input into the RX FIFO, without blocking: what the fd has now, as far as the FIFO takes it.
 * End of input (or an error) just ends input. */
static void poll_input(struct rmmemu_vm *vm, struct rmmemu_vm_run_result *out)
{
	unsigned room = pl011_rx_room(&vm->uart);
	if (vm->uart_in_fd < 0 || !room || !pl011_listening(&vm->uart))
		return;
	struct pollfd pfd = { .fd = vm->uart_in_fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) <= 0 || !(pfd.revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)))
		return;
	uint8_t buf[PL011_FIFO];
	ssize_t n = read(vm->uart_in_fd, buf, room);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			vm->uart_in_fd = -1;
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		pl011_rx_push(&vm->uart, buf[i]);
	out->console_in += (uint64_t)n;
	update_uart_line(vm);
}

static void mmio(struct rmmemu_vm *vm, const struct rmmemu_vm_handlers *h, unsigned idx, uint64_t addr,
		 unsigned size, bool write, uint64_t *val)
{
	if (vm->vgic && vgic_mmio(vm->vgic, idx, addr, size, write, val))
		return;
	if (vm->vgic && vm->uart_base && addr - vm->uart_base < 0x1000) {
		pl011_access(&vm->uart, (unsigned)(addr - vm->uart_base), size, write, val);
		update_uart_line(vm);
		return;
	}
	if (vm->uart_base && addr - vm->uart_base < 0x1000) {
		uint64_t off = addr - vm->uart_base;
		if (write && off == PL011_DR) {
			fputc((int)(*val & 0xFF), vm->uart_out);
			if ((*val & 0xFF) == '\n')
				fflush(vm->uart_out);
		} else if (!write) {
			*val = off == PL011_FR ? (PL011_FR_TXFE | PL011_FR_RXFE) : 0;
		}
		return;
	}
	if (h && h->mmio && h->mmio(h->ctx, idx, addr, size, write, val) == 0)
		return;
	if (!write)
		*val = 0;
}

/* A protected IPA with no DATA: map a fresh granule with DATA_CREATE_UNKNOWN (KVM's fault path). */
static int populate_lazily(struct rmmemu_vm *vm, uint64_t ipa)
{
	ipa &= ~(GRANULE - 1);
	uint64_t data = alloc_delegated(vm);
	if (!data)
		return -ENOMEM;
	for (;;) {
		uint64_t x0 = rmi(vm, SMC_RMI_DATA_CREATE_UNKNOWN, vm->rd, data, ipa, 0, 0, NULL);
		if (x0 == RMI_SUCCESS)
			return 0;
		int rc = RMI_RETURN_STATUS(x0) == RMI_ERROR_RTT && RMI_RETURN_INDEX(x0) < 3
				 ? create_rtt_levels(vm, ipa, (int)RMI_RETURN_INDEX(x0), 3)
				 : -ENXIO;
		if (rc) {
			undelegate_free(vm, data);
			return rc;
		}
	}
}

/* The realm touched the unprotected alias of its RAM: back it with a host granule. */
static int map_shared(struct rmmemu_vm *vm, uint64_t ipa)
{
	ipa &= ~(GRANULE - 1);
	if (vm->nshared == vm->cap_shared) {
		size_t cap = vm->cap_shared ? vm->cap_shared * 2 : 16;
		struct shared_page *n = realloc(vm->shared, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		vm->shared = n;
		vm->cap_shared = cap;
	}
	uint64_t pa = alloc_granules(vm, 1);
	uint8_t zero[GRANULE] = { 0 };
	if (!pa || rmmemu_ns_write(vm->emu, pa, zero, sizeof(zero)))
		return -ENOMEM;
	uint64_t desc = pa | RMI_S2TTE_MEMATTR_NORMAL_WB | RMI_S2TTE_AP_RW;
	for (;;) {
		uint64_t x0 = rmi(vm, SMC_RMI_RTT_MAP_UNPROTECTED, vm->rd, ipa, 3, desc, 0, NULL);
		if (x0 == RMI_SUCCESS)
			break;
		if (RMI_RETURN_STATUS(x0) != RMI_ERROR_RTT || RMI_RETURN_INDEX(x0) >= 3 ||
		    create_rtt_levels(vm, ipa, (int)RMI_RETURN_INDEX(x0), 3)) {
			free_granules(vm, pa, 1);
			return -ENXIO;
		}
	}
	vm->shared[vm->nshared++] = (struct shared_page){ ipa, pa };
	return 0;
}

int rmmemu_vm_read_shared(struct rmmemu_vm *vm, uint64_t ipa, void *buf, size_t len)
{
	uint64_t shared_bit = 1ULL << (vm->ipa_bits - 1);
	ipa |= shared_bit;
	for (size_t done = 0; done < len;) {
		uint64_t cur = ipa + done, page = cur & ~(GRANULE - 1);
		size_t off = cur & (GRANULE - 1), n = GRANULE - off;
		if (n > len - done)
			n = len - done;
		size_t i;
		for (i = 0; i < vm->nshared && vm->shared[i].ipa != page; i++)
			;
		if (i == vm->nshared || rmmemu_ns_read(vm->emu, vm->shared[i].pa + off, (uint8_t *)buf + done, n))
			return -EFAULT;
		done += n;
	}
	return 0;
}

/* Accepted RIPAS change: RTT_SET_RIPAS over [base, top) (KVM's kvm_rec_pre_enter). */
static int apply_ripas(struct rmmemu_vm *vm, uint64_t rec, uint64_t base, uint64_t top, unsigned ripas)
{
	struct rmmemu_smc_result r;
	uint64_t start = base;
	while (base < top) {
		uint64_t x0 = rmi(vm, SMC_RMI_RTT_SET_RIPAS, vm->rd, rec, base, top, 0, &r);
		if (x0 == RMI_SUCCESS) {
			base = r.x[1];
			continue;
		}
		if (RMI_RETURN_STATUS(x0) != RMI_ERROR_RTT)
			return -ENXIO;
		int reached = (int)RMI_RETURN_INDEX(x0), want = find_map_level(vm, base, top);
		if (want <= reached)
			want = 3;
		if (reached >= 3 || create_rtt_levels(vm, base, reached, want))
			return -ENXIO;
	}
	/* Memory the realm gave up goes back to the host. */
	if (ripas == RMI_EMPTY) {
		for (uint64_t ipa = start; ipa < top;) {
			uint64_t x0 = rmi(vm, SMC_RMI_DATA_DESTROY, vm->rd, ipa, 0, 0, 0, &r);
			if (x0 == RMI_SUCCESS)
				undelegate_free(vm, r.x[1]);
			ipa = (x0 == RMI_SUCCESS || r.x[2] <= ipa) ? ipa + GRANULE : r.x[2];
		}
	}
	return 0;
}

/* The virtual timer as the exit reports it: while it is asserted, vINTID 27 goes into a free list
 * register (KVM's kvm_realm_timers_update + vGIC flush). */
static void update_timer_irq(struct vcpu *v, const uint8_t *run, struct rmmemu_vm_run_result *out)
{
	uint64_t ctl = exit64(run, RMI_REC_EXIT_CNTV_CTL);
	bool asserted = (ctl & (CNT_CTL_ENABLE | CNT_CTL_IMASK | CNT_CTL_ISTATUS)) == (CNT_CTL_ENABLE | CNT_CTL_ISTATUS);
	int slot = -1;
	for (unsigned i = 0; i < RMI_REC_GIC_NUM_LRS; i++) {
		if ((v->lrs[i] & 0xFFFFFFFFULL) == VTIMER_INTID && (v->lrs[i] & LR_STATE_MASK))
			return; /* already pending or active */
		if (slot < 0 && !(v->lrs[i] & LR_STATE_MASK))
			slot = (int)i;
	}
	if (asserted && slot >= 0) {
		v->lrs[slot] = LR_PENDING | LR_GROUP1 | LR_PRIORITY_A0 | VTIMER_INTID;
		out->timer_irqs++;
	}
}

static int vcpu_by_mpidr(const struct rmmemu_vm *vm, uint64_t mpidr)
{
	/* MPIDR_EL1 layout: Aff0[7:0] (only [3:0] used for RECs), Aff1[15:8], Aff2[23:16], Aff3[39:32]. */
	uint64_t idx = (mpidr & 0xF) | ((mpidr >> 4) & 0xFF0) | ((mpidr >> 4) & 0xFF000) | ((mpidr >> 12) & 0xFF00000);
	return idx < vm->nr_vcpus && vm->vcpus[idx].finalized ? (int)idx : -1;
}

/* Handle one exit of vCPU idx; returns 1 to keep running, 0 when the VM stopped, <0 on error. */
static int handle_exit(struct rmmemu_vm *vm, const struct rmmemu_vm_handlers *h, unsigned idx, const uint8_t *run,
		       struct rmmemu_vm_run_result *out)
{
	struct vcpu *v = &vm->vcpus[idx];
	const uint8_t *x = run; /* RMI_REC_EXIT_* offsets are from the start of RmiRecRun */
	uint64_t reason = exit64(x, RMI_REC_EXIT_REASON);
	uint64_t esr = exit64(x, RMI_REC_EXIT_ESR), hpfar = exit64(x, RMI_REC_EXIT_HPFAR);
	uint64_t shared = 1ULL << (vm->ipa_bits - 1);

	if (reason < 7)
		out->exits[reason]++;
	v->enter_flags = 0;
	switch (reason) {
	case RMI_EXIT_SYNC: {
		uint64_t ec = ESR_EC(esr);
		if (ec == ESR_EC_WFX) {
			if (vm->vgic && (esr & ESR_WFX_TI_MASK) == 0) {
				/* WFI: the vCPU sleeps until something is pending for it (kvm_vcpu_block). */
				poll_input(vm, out);
				update_timer_lines(vm, idx, rmmemu_realm_counter(), out);
				if (!vgic_vcpu_pending(vm->vgic, idx))
					v->waiting = true;
			}
			return 1;
		}
		if (ec == ESR_EC_SYSREG) {
			uint64_t key = esr & SYSREG_KEY_MASK;
			if (vm->vgic && !(esr & ESR_SYSREG_READ) &&
			    (key == ICC_SGI1R_KEY || key == ICC_ASGI1R_KEY || key == ICC_SGI0R_KEY)) {
				vgic_send_sgi(vm->vgic, idx, exit64(x, RMI_REC_EXIT_GPRS), key == ICC_SGI0R_KEY);
				out->sgis++;
			}
			v->enter_gprs[0] = 0;
			return 1;
		}
		if (ec != ESR_EC_DABT_LOW && ec != ESR_EC_IABT_LOW)
			return fail(out, "vCPU %u: unhandled synchronous exit, ESR 0x%llx", idx, (unsigned long long)esr);
		uint64_t ipa = IPA_FROM_HPFAR(hpfar) | (exit64(x, RMI_REC_EXIT_FAR) & (GRANULE - 1));
		if ((ipa & shared) && ec == ESR_EC_DABT_LOW && in_ram(vm, ipa & ~shared)) {
			if (map_shared(vm, ipa))
				return fail(out, "vCPU %u: cannot map shared memory at IPA 0x%llx", idx,
					    (unsigned long long)ipa);
			out->shared_pages++;
			return 1;
		}
		if (ipa & shared) {
			if (ec == ESR_EC_IABT_LOW)
				return fail(out, "vCPU %u: instruction fetch from unprotected IPA 0x%llx", idx,
					    (unsigned long long)ipa);
			if (!(esr & ESR_ISV)) {
				v->enter_flags = RMI_REC_ENTER_FLAG_INJECT_SEA;  /* no syndrome: cannot emulate */
				return 1;
			}
			bool write = esr & ESR_WNR;
			unsigned size = 1U << ((esr >> ESR_SAS_SHIFT) & 3);
			uint64_t val = write ? exit64(x, RMI_REC_EXIT_GPRS) : 0;
			mmio(vm, h, idx, ipa & ~shared, size, write, &val);
			out->mmio++;
			if (!write)
				v->enter_gprs[0] = val;
			v->enter_flags = RMI_REC_ENTER_FLAG_EMUL_MMIO;
			return 1;
		}
		if (!in_ram(vm, ipa))
			return fail(out, "vCPU %u: abort at protected IPA 0x%llx outside RAM (ESR 0x%llx)", idx,
				    (unsigned long long)ipa, (unsigned long long)esr);
		if (populate_lazily(vm, ipa))
			return fail(out, "vCPU %u: cannot populate IPA 0x%llx", idx, (unsigned long long)ipa);
		out->lazy_pages++;
		return 1;
	}
	case RMI_EXIT_IRQ:
	case RMI_EXIT_FIQ:
		if (vm->vgic)
			pl011_flush(&vm->uart);   /* a time slice ended: output without a newline shows too */
		return 1;
	case RMI_EXIT_PSCI: {
		uint64_t fid = exit64(x, RMI_REC_EXIT_GPRS) & 0xFFFFFFFFULL;
		if (fid == PSCI_CPU_ON_32 || fid == PSCI_CPU_ON_64 || fid == PSCI_AFFINITY_INFO_32 ||
		    fid == PSCI_AFFINITY_INFO_64) {
			int t = vcpu_by_mpidr(vm, exit64(x, RMI_REC_EXIT_GPRS + 8));
			if (t < 0)
				return fail(out, "vCPU %u: PSCI for an unknown MPIDR", idx);
			/* The RMM fills the realm's answer; SUCCESS lets it start the target. */
			if (rmi(vm, SMC_RMI_PSCI_COMPLETE, v->rec, vm->vcpus[t].rec, 0, 0, 0, NULL) != RMI_SUCCESS)
				return fail(out, "vCPU %u: RMI_PSCI_COMPLETE failed", idx);
			if (fid == PSCI_CPU_ON_32 || fid == PSCI_CPU_ON_64)
				vm->vcpus[t].on = true;
			return 1;
		}
		if (fid == PSCI_CPU_OFF) {
			v->on = false;
			for (unsigned i = 0; i < vm->nr_vcpus; i++)
				if (vm->vcpus[i].on)
					return 1;
			out->stop = RMMEMU_VM_ALL_OFF;
			return 0;
		}
		if (fid == PSCI_SYSTEM_OFF || fid == PSCI_SYSTEM_RESET) {
			out->stop = fid == PSCI_SYSTEM_OFF ? RMMEMU_VM_SYSTEM_OFF : RMMEMU_VM_SYSTEM_RESET;
			return 0;
		}
		return 1; /* CPU_SUSPEND: nothing to wait for */
	}
	case RMI_EXIT_RIPAS_CHANGE: {
		uint64_t base = exit64(x, RMI_REC_EXIT_RIPAS_BASE), top = exit64(x, RMI_REC_EXIT_RIPAS_TOP);
		unsigned ripas = x[RMI_REC_EXIT_RIPAS_VALUE];
		bool accept = base < top && top <= shared && (!h || !h->ripas_change ||
							       h->ripas_change(h->ctx, idx, base, top, ripas));
		if (!accept) {
			v->enter_flags = RMI_REC_ENTER_FLAG_RIPAS_RESPONSE;
			return 1;
		}
		if (apply_ripas(vm, v->rec, base, top, ripas))
			return fail(out, "vCPU %u: RIPAS change [0x%llx, 0x%llx) failed", idx, (unsigned long long)base,
				    (unsigned long long)top);
		return 1;
	}
	case RMI_EXIT_HOST_CALL: {
		uint64_t gprs[31];
		for (unsigned i = 0; i < 31; i++)
			gprs[i] = exit64(x, RMI_REC_EXIT_GPRS + 8 * i);
		if (h && h->host_call)
			h->host_call(h->ctx, idx, (uint16_t)exit64(x, RMI_REC_EXIT_IMM), gprs);
		memcpy(v->enter_gprs, gprs, sizeof(gprs));
		return 1;
	}
	default:
		return fail(out, "vCPU %u: unhandled exit reason %llu", idx, (unsigned long long)reason);
	}
}

void rmmemu_vm_kick(struct rmmemu_vm *vm)
{
	__atomic_store_n(&vm->kicked, 1, __ATOMIC_RELEASE);
	rmmemu_vcpu_kick(vm->emu);
	if (vm->wake[1] >= 0) {
		char c = 1;
		ssize_t n = write(vm->wake[1], &c, 1);   /* full pipe: a wake-up is pending anyway */
		(void)n;
	}
}

/* Nanoseconds from counter value now until the earliest timer deadline of a waiting vCPU whose
 * timer PPI could wake it; -1: none. */
static int64_t wait_deadline_ns(struct rmmemu_vm *vm, uint64_t now)
{
	int64_t best = -1;
	uint64_t hz = rmmemu_realm_counter_hz();
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = &vm->vcpus[i];
		if (!v->on || !v->waiting)
			continue;
		int64_t ns[2] = { vgic_timer_wait_ns(v->cntv_ctl, v->cntv_cval, now, hz),
				  vgic_timer_wait_ns(v->cntp_ctl, v->cntp_cval, now, hz) };
		for (unsigned k = 0; k < 2; k++)
			if (ns[k] >= 0 && (best < 0 || ns[k] < best))
				best = ns[k];
	}
	return best;
}

/* Every vCPU that is on sleeps in WFI: wait for a timer deadline, console input or a kick. */
static void wait_for_work(struct rmmemu_vm *vm, struct rmmemu_vm_run_result *out)
{
	int64_t ns = wait_deadline_ns(vm, rmmemu_realm_counter());
	int timeout = ns < 0 ? -1 : (int)((ns + 999999) / 1000000 > 1000 ? 1000 : (ns + 999999) / 1000000);
	struct pollfd pfd[2] = { { .fd = vm->wake[0], .events = POLLIN },
				 { .fd = vm->uart_in_fd, .events = POLLIN } };
	nfds_t n = vm->uart_in_fd >= 0 && pl011_rx_room(&vm->uart) && pl011_listening(&vm->uart) ? 2 : 1;
	out->wfi_waits++;
	pl011_flush(&vm->uart);
	if (poll(pfd, n, timeout) > 0 && (pfd[0].revents & POLLIN)) {
		char buf[64];
		while (read(vm->wake[0], buf, sizeof(buf)) > 0)
			;
	}
}

/* A waiting vCPU wakes when something became pending for it. */
static bool still_waiting(struct rmmemu_vm *vm, unsigned idx, struct rmmemu_vm_run_result *out)
{
	struct vcpu *v = &vm->vcpus[idx];
	if (!v->waiting)
		return false;
	poll_input(vm, out);
	update_timer_lines(vm, idx, rmmemu_realm_counter(), out);
	if (vgic_vcpu_pending(vm->vgic, idx))
		v->waiting = false;
	return v->waiting;
}

int rmmemu_vm_run(struct rmmemu_vm *vm, const struct rmmemu_vm_handlers *h, uint64_t max_exits,
		  struct rmmemu_vm_run_result *out)
{
	uint8_t run[GRANULE];
	memset(out, 0, sizeof(*out));
	if (!vm->active && vm->implicit) {
		int rc = vm_v12_first_run(vm);
		if (rc)
			return fail(out, "first run (v12 profile): realm set-up failed (%d, last RMI 0x%llx)", rc,
				    (unsigned long long)vm->last_rmi);
	}
	if (!vm->active)
		return fail(out, "the realm is not active");
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = &vm->vcpus[i];
		if (!v->finalized)
			return fail(out, "vCPU %u has no REC", i);
		if (!v->run && !(v->run = alloc_granules(vm, 1)))
			return fail(out, "out of host memory");
	}
	if (!vm->started) {
		vm->vcpus[0].on = true;
		vm->started = true;
	}
	uint64_t total = 0;
	for (;;) {
		bool any = false, entered = false;
		for (unsigned i = 0; i < vm->nr_vcpus; i++) {
			struct vcpu *v = &vm->vcpus[i];
			if (!v->on)
				continue;
			any = true;
			if (vm->vgic && still_waiting(vm, i, out))
				continue;
			entered = true;
			if (total == max_exits) {
				out->stop = RMMEMU_VM_MAX_EXITS;
				return 0;
			}
			uint64_t flags = v->enter_flags, hcr = 0;
			if (vm->vgic) {
				/* KVM's vgic flush: the timer lines now, then the best interrupts into the LRs. */
				poll_input(vm, out);
				update_timer_lines(vm, i, rmmemu_realm_counter(), out);
				vgic_flush(vm->vgic, i, v->lrs, &hcr);
				flags |= RMI_REC_ENTER_FLAG_TRAP_WFI;
			}
			memset(run, 0, RMI_REC_ENTER_SIZE);
			memcpy(run + RMI_REC_ENTER_FLAGS, &flags, 8);
			memcpy(run + RMI_REC_ENTER_GPRS, v->enter_gprs, sizeof(v->enter_gprs));
			memcpy(run + RMI_REC_ENTER_GICV3_HCR, &hcr, 8);
			memcpy(run + RMI_REC_ENTER_GICV3_LRS, v->lrs, sizeof(v->lrs));
			if (rmmemu_ns_write(vm->emu, v->run, run, RMI_REC_ENTER_SIZE))
				return fail(out, "cannot write the RecRun of vCPU %u", i);
			uint64_t x0 = rmi(vm, SMC_RMI_REC_ENTER, v->rec, v->run, 0, 0, 0, NULL);
			out->entries++;
			if (x0 == RMI_PACK_RETURN(RMI_ERROR_REALM, 1)) {
				/* Raced with PSCI_SYSTEM_OFF from another vCPU. */
				out->stop = RMMEMU_VM_SYSTEM_OFF;
				return 0;
			}
			if (x0 != RMI_SUCCESS) {
				char s[64];
				rmmemu_format_return(x0, s, sizeof(s));
				return fail(out, "RMI_REC_ENTER of vCPU %u failed: %s", i, s);
			}
			if (rmmemu_ns_read(vm->emu, v->run, run, sizeof(run)))
				return fail(out, "cannot read the RecRun of vCPU %u", i);
			total++;
			for (unsigned k = 0; k < RMI_REC_GIC_NUM_LRS; k++)
				v->lrs[k] = exit64(run, RMI_REC_EXIT_GICV3_LRS + 8 * k);
			if (vm->vgic) {
				vgic_sync(vm->vgic, i, v->lrs, exit64(run, RMI_REC_EXIT_GICV3_MISR));
				v->cntv_ctl = exit64(run, RMI_REC_EXIT_CNTV_CTL);
				v->cntv_cval = exit64(run, RMI_REC_EXIT_CNTV_CVAL);
				v->cntp_ctl = exit64(run, RMI_REC_EXIT_CNTP_CTL);
				v->cntp_cval = exit64(run, RMI_REC_EXIT_CNTP_CVAL);
			} else {
				update_timer_irq(v, run, out);
			}
			int rc = handle_exit(vm, h, i, run, out);
			if (rc <= 0)
				return rc;
			if (__atomic_exchange_n(&vm->kicked, 0, __ATOMIC_ACQ_REL)) {
				out->stop = RMMEMU_VM_KICKED;
				return 0;
			}
		}
		if (!any) {
			out->stop = RMMEMU_VM_ALL_OFF;
			return 0;
		}
		if (!entered) {
			wait_for_work(vm, out);
			if (__atomic_exchange_n(&vm->kicked, 0, __ATOMIC_ACQ_REL)) {
				out->stop = RMMEMU_VM_KICKED;
				return 0;
			}
		}
	}
}

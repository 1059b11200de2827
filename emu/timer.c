/*
 * The realm's EL1 virtual and physical timers. QEMU keeps CNTx_CTL/CVAL and derives the counters
 * from the host's monotonic clock (62.5 MHz, CNTVOFF_EL2 = 0), but under Unicorn its timer
 * callbacks never run: ISTATUS is computed here, and the timer "firing" is the watchdog stopping
 * the run at the deadline, which becomes an RMI_EXIT_IRQ reporting the asserted timer (what the
 * physical timer interrupt does on hardware).
 */
#include "emu/arch.h"
#include "emu/vcpu.h"
#include "rmmemu/rmmemu.h"

#define CP_CNTVCT  3, 3, 14, 0, 2
#define CP_CNTV_CTL 3, 3, 14, 3, 1
#define CP_CNTV_CVAL 3, 3, 14, 3, 2
#define CP_CNTP_CTL 3, 3, 14, 2, 1
#define CP_CNTP_CVAL 3, 3, 14, 2, 2

uint64_t emu_counter(struct emu_vcpu *v)
{
	return emu_cp_read(v->uc, CP_CNTVCT);
}

uint64_t emu_timer_ctl(struct emu_vcpu *v, uint64_t ctl, uint64_t cval)
{
	ctl &= CNTCTL_ENABLE | CNTCTL_IMASK;
	if ((ctl & CNTCTL_ENABLE) && emu_counter(v) >= cval)
		ctl |= CNTCTL_ISTATUS;
	return ctl;
}

bool emu_timer_asserted(uint64_t ctl)
{
	return (ctl & (CNTCTL_ENABLE | CNTCTL_IMASK | CNTCTL_ISTATUS)) == (CNTCTL_ENABLE | CNTCTL_ISTATUS);
}

static uint64_t one_deadline(struct emu_vcpu *v, uint64_t ctl, uint64_t cval, uint64_t now_cnt, uint64_t now_ns)
{
	if ((ctl & (CNTCTL_ENABLE | CNTCTL_IMASK)) != CNTCTL_ENABLE)
		return 0;
	if (now_cnt >= cval)
		return 0; /* asserted already: reported by the exit that follows, not a deadline */
	uint64_t ticks = cval - now_cnt;
	uint64_t ns;
	if (ticks > UINT64_MAX / 1000000000ULL)
		return 0;  /* centuries away */
	ns = ticks * 1000000000ULL / v->m->cntfrq;
	return now_ns + ns + 1;
}

uint64_t emu_timer_deadline(struct emu_vcpu *v)
{
	uint64_t now_cnt = emu_counter(v), now_ns = emu_now_ns();
	uint64_t a = one_deadline(v, emu_cp_read(v->uc, CP_CNTV_CTL), emu_cp_read(v->uc, CP_CNTV_CVAL), now_cnt, now_ns);
	uint64_t b = one_deadline(v, emu_cp_read(v->uc, CP_CNTP_CTL), emu_cp_read(v->uc, CP_CNTP_CVAL), now_cnt, now_ns);
	if (!a)
		return b;
	if (!b)
		return a;
	return a < b ? a : b;
}

bool emu_timers_changed(struct emu_vcpu *v)
{
	const struct rec *rec = v->rec;
	uint64_t vctl = emu_timer_ctl(v, rec->sysregs.cntv_ctl, rec->sysregs.cntv_cval);
	uint64_t pctl = emu_timer_ctl(v, rec->sysregs.cntp_ctl, rec->sysregs.cntp_cval);
	return emu_timer_asserted(vctl) != emu_timer_asserted(rec->sysregs.cntv_ctl) ||
	       emu_timer_asserted(pctl) != emu_timer_asserted(rec->sysregs.cntp_ctl);
}

/* QEMU 5's generic timer under Unicorn: QEMU_CLOCK_VIRTUAL (the host's CLOCK_MONOTONIC in ns)
 * divided by the 16 ns period of its fixed 62.5 MHz counter. */
#define QEMU_GTIMER_SCALE_NS 16ULL

uint64_t rmmemu_realm_counter(void)
{
	return emu_now_ns() / QEMU_GTIMER_SCALE_NS;
}

uint64_t rmmemu_realm_counter_hz(void)
{
	return 1000000000ULL / QEMU_GTIMER_SCALE_NS;
}

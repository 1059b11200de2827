/*
 * The vCPU backend registered with the RMM core (struct rmm_vcpu_ops), its public switch
 * (rmmemu_enable_vcpu), the watchdog thread that ends runs at the end of their time slice or when
 * the realm's timer fires, and invalidation across the engines of a realm.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/vcpu.h"
#include "rmmemu/rmmemu.h"

#define DEFAULT_SLICE_US 20000U    /* 20 ms: a host tick */

uint64_t emu_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* ---- watchdog ---- */

/* A stop is repeated until the run ends: one sent just before the engine starts running is lost
 * (quirk 5). Kicks and invalidations are repeated sooner than time-slice ends. */
#define WD_REPEAT_NS      1000000ULL
#define WD_REPEAT_SOON_NS   50000ULL

/* Stop a run from this thread: at once where safe (quirk 6), else at the next block start. */
static void stop_run(struct emu_vcpu *v)
{
	if (v->m->no_exit_off)
		uc_emu_stop(v->uc);
	else
		__atomic_store_n(&v->preempt, 1, __ATOMIC_RELEASE);
}

/* When the watchdog must next act on v (UINT64_MAX: not before its deadline changes). */
static uint64_t wd_due(const struct emu_vcpu *v)
{
	bool soon = v->wd_kicked || v->wd_poke;
	uint64_t due = soon ? 0 : v->wd_deadline;
	uint64_t again = v->wd_stopped_at + (soon ? WD_REPEAT_SOON_NS : WD_REPEAT_NS);
	if (v->wd_stopped_at && due < again)
		due = again;
	return due;
}

static void *wd_thread(void *arg)
{
	struct emu_watchdog *wd = arg;

	pthread_mutex_lock(&wd->mu);
	while (!wd->quit) {
		uint64_t now = emu_now_ns(), next = UINT64_MAX;
		for (unsigned i = 0; i < wd->narmed; i++) {
			struct emu_vcpu *v = wd->armed[i];
			uint64_t due = wd_due(v);
			if (now >= due) {
				/* Repeated while the run lasts: a stop sent just before the engine
				 * enters uc_emu_start is lost (quirk 5). */
				stop_run(v);
				v->wd_stopped_at = now;
				due = wd_due(v);
			}
			if (due < next)
				next = due;
		}
		if (next == UINT64_MAX) {
			wd->wait_until = UINT64_MAX;
			pthread_cond_wait(&wd->cv, &wd->mu);
		} else {
			wd->wait_until = next;
			struct timespec ts = { .tv_sec = (time_t)(next / 1000000000ULL),
					       .tv_nsec = (long)(next % 1000000000ULL) };
			pthread_cond_timedwait(&wd->cv, &wd->mu, &ts);
		}
		wd->wait_until = 0;
	}
	pthread_mutex_unlock(&wd->mu);
	return NULL;
}

static bool wd_init(struct emu_watchdog *wd)
{
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&wd->mu, NULL);
	pthread_cond_init(&wd->cv, &attr);
	pthread_condattr_destroy(&attr);
	return true;
}

static void wd_fini(struct emu_watchdog *wd)
{
	if (wd->started) {
		pthread_mutex_lock(&wd->mu);
		wd->quit = true;
		pthread_cond_signal(&wd->cv);
		pthread_mutex_unlock(&wd->mu);
		pthread_join(wd->thread, NULL);
	}
	free(wd->armed);
	pthread_cond_destroy(&wd->cv);
	pthread_mutex_destroy(&wd->mu);
}

/* v's due time changed: wake the thread if it sleeps past it (caller holds wd->mu). */
static void wd_changed(struct emu_watchdog *wd, const struct emu_vcpu *v)
{
	uint64_t due = wd_due(v);
	if (!wd->started && due != UINT64_MAX) {
		if (pthread_create(&wd->thread, NULL, wd_thread, wd) == 0)
			wd->started = true;
		else
			emu_log("cannot start the watchdog thread: runs are not time-sliced");
	}
	if (due < wd->wait_until)
		pthread_cond_signal(&wd->cv);
}

void emu_wd_arm(struct emu_backend *be, struct emu_vcpu *v, uint64_t deadline_ns)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	if (!v->wd_armed) {
		if (wd->narmed == wd->armed_cap) {
			unsigned cap = wd->armed_cap ? 2 * wd->armed_cap : 8;
			struct emu_vcpu **p = realloc(wd->armed, cap * sizeof(*p));
			if (!p) {
				/* Cannot watch this run: it ends by itself only (as with a slice of 0). */
				pthread_mutex_unlock(&wd->mu);
				emu_log("out of memory: this run is not time-sliced");
				return;
			}
			wd->armed = p;
			wd->armed_cap = cap;
		}
		wd->armed[wd->narmed++] = v;
		v->wd_armed = true;
	}
	v->wd_deadline = deadline_ns;
	v->wd_stopped_at = 0;
	if (wd->kick_next) {
		/* Kicked between the host's last look at its work and this entry. */
		v->wd_kicked = true;
		wd->kick_next = false;
	}
	wd_changed(wd, v);
	pthread_mutex_unlock(&wd->mu);
}

void emu_wd_update(struct emu_backend *be, struct emu_vcpu *v, uint64_t deadline_ns)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	if (v->wd_armed) {
		v->wd_deadline = deadline_ns;
		wd_changed(wd, v);
	}
	pthread_mutex_unlock(&wd->mu);
}

bool emu_wd_disarm(struct emu_backend *be, struct emu_vcpu *v)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	bool kicked = v->wd_kicked;
	for (unsigned i = 0; i < wd->narmed; i++) {
		if (wd->armed[i] == v) {
			wd->armed[i] = wd->armed[--wd->narmed];
			break;
		}
	}
	v->wd_armed = false;
	v->wd_kicked = false;            /* this run ended after the kick: the host sees its exit */
	v->wd_poke = false;
	pthread_mutex_unlock(&wd->mu);
	return kicked;
}

void emu_wd_poke(struct emu_backend *be, struct emu_vcpu *v)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	if (v->wd_armed && !v->wd_poke) {
		v->wd_poke = true;
		stop_run(v);
		v->wd_stopped_at = emu_now_ns();
		wd_changed(wd, v);
	}
	pthread_mutex_unlock(&wd->mu);
}

/* rmmemu_vcpu_kick: every run in progress stops at once, by the kicking thread itself and by the
 * watchdog (repeated until the run ends); with none in progress the next run stops at once. */
static void wd_kick_all(struct emu_watchdog *wd)
{
	pthread_mutex_lock(&wd->mu);
	if (!wd->narmed)
		wd->kick_next = true;
	for (unsigned i = 0; i < wd->narmed; i++) {
		struct emu_vcpu *v = wd->armed[i];
		v->wd_kicked = true;
		stop_run(v);
		v->wd_stopped_at = emu_now_ns();
		wd_changed(wd, v);
	}
	pthread_mutex_unlock(&wd->mu);
}

/* ---- invalidation across the engines of a realm (a TLB shootdown) ---- */

static void set_where(struct emu_machine *m, enum emu_where w)
{
	__atomic_store_n(&m->where, (int)w, __ATOMIC_SEQ_CST);
}

static enum emu_where get_where(struct emu_machine *m)
{
	return (enum emu_where)__atomic_load_n(&m->where, __ATOMIC_SEQ_CST);
}

/* Everything pending is applied (caller holds m->mu). */
static void sync_done(struct emu_machine *m)
{
	m->done_gen = m->req_gen;
	__atomic_store_n(&m->pending, 0, __ATOMIC_SEQ_CST);
	pthread_cond_broadcast(&m->cv);
}

/* A pending TLB flush (caller holds m->mu; also from inside a hook). */
static void apply_tlb(struct emu_machine *m, struct emu_vcpu *v)
{
	if (m->tlb_dirty) {
		emu_tlb_flush(v);
		m->tlb_dirty = false;
	}
}

void emu_machine_sync(struct emu_machine *m, struct emu_vcpu *v)
{
	apply_tlb(m, v);
	emu_drop_stale_code(m);
	sync_done(m);
}

void emu_machine_set_where(struct emu_machine *m, enum emu_where w)
{
	set_where(m, w);
	pthread_cond_broadcast(&m->cv);
}

/* This engine's thread enters a hook that may wait (for the RMM lock, or for other engines): from
 * now on, invalidations do not wait for it, it applies them before realm code runs again. */
static void hook_enter(struct emu_machine *m)
{
	set_where(m, EMU_LOCKING);
	if (__atomic_load_n(&m->waiters, __ATOMIC_SEQ_CST)) {
		/* A shootdown waits for this engine: it need not any more. */
		pthread_mutex_lock(&m->mu);
		pthread_cond_broadcast(&m->cv);
		pthread_mutex_unlock(&m->mu);
	}
}

/* Still inside a hook: the TLB can be flushed here, translated code is dropped only outside a run,
 * so a run with stale code pending is stopped (and resumed once it is dropped). */
static bool hook_apply(struct emu_machine *m, struct emu_vcpu *v)
{
	pthread_mutex_lock(&m->mu);
	apply_tlb(m, v);
	bool code = m->nstale || m->all_code_stale;
	if (!code)
		sync_done(m);
	set_where(m, EMU_GUEST);
	pthread_mutex_unlock(&m->mu);
	return code;
}

/* Back to realm code. The fast path takes no lock: `where` is set before `pending` is looked at,
 * and an invalidating thread sets `pending` before it looks at `where`, so either this thread sees
 * the invalidation or that thread sees EMU_GUEST and stops the run. Returns true if the run must be
 * stopped (by the caller, after it released the RMM lock) to drop translated code. */
static bool hook_leave(struct emu_machine *m, struct emu_vcpu *v)
{
	if (__atomic_load_n(&m->pending, __ATOMIC_SEQ_CST))
		return hook_apply(m, v);
	set_where(m, EMU_GUEST);
	if (__atomic_load_n(&m->pending, __ATOMIC_SEQ_CST))
		return hook_apply(m, v);
	return false;
}

void emu_hook_lock(struct emu_vcpu *v)
{
	hook_enter(v->m);
	pthread_mutex_lock(&v->rmm->lock);
}

void emu_hook_unlock(struct emu_vcpu *v)
{
	bool code = hook_leave(v->m, v);
	pthread_mutex_unlock(&v->rmm->lock);
	if (code)
		emu_wd_poke(v->be, v);
}

void emu_ic_invalidate(struct emu_vcpu *v, uint64_t pa)
{
	struct emu_machine *m = v->m;
	hook_enter(m);
	pthread_mutex_lock(&v->be->mlock);
	emu_realm_invalidate(v->be, m->s2, m, false, pa, true);
	pthread_mutex_unlock(&v->be->mlock);
	if (hook_leave(m, v))
		emu_wd_poke(v->be, v);
}

/* How long a shootdown waits between two stop requests to a running engine. */
#define SHOOT_RETRY_NS 200000L

void emu_realm_invalidate(struct emu_backend *be, const struct s2tt_ctx *s2, struct emu_machine *self,
			  bool tlb, uint64_t pa, bool wait)
{
	for (struct emu_machine *m = be->machines; m; m = m->next) {
		if (m->s2 != s2 || m == self)
			continue;
		pthread_mutex_lock(&m->mu);
		if (tlb)
			m->tlb_dirty = true;
		if (pa == UINT64_MAX)
			m->all_code_stale = m->has_run;
		else if (pa)
			emu_code_stale(m, pa);
		uint64_t gen = ++m->req_gen;
		__atomic_store_n(&m->pending, 1, __ATOMIC_SEQ_CST);
		struct emu_vcpu *v = m->cur;
		if (get_where(m) == EMU_GUEST && v) {
			/* Running realm code: stop it; it applies the invalidation and goes on. (A run
			 * that is not armed yet pokes itself: emu_wd_arm's caller checks `pending`.) */
			emu_wd_poke(be, v);
			__atomic_fetch_add(&m->waiters, 1, __ATOMIC_SEQ_CST);
			while (wait && get_where(m) == EMU_GUEST && m->done_gen < gen) {
				emu_wd_poke(be, v);
				struct timespec ts;
				clock_gettime(CLOCK_MONOTONIC, &ts);
				ts.tv_nsec += SHOOT_RETRY_NS;
				if (ts.tv_nsec >= 1000000000L) {
					ts.tv_sec++;
					ts.tv_nsec -= 1000000000L;
				}
				pthread_cond_timedwait(&m->cv, &m->mu, &ts);
			}
			__atomic_fetch_sub(&m->waiters, 1, __ATOMIC_SEQ_CST);
		}
		/* EMU_LOCKING: its hook applies this before realm code runs again (it needs the RMM
		 * lock, which an RMI caller holds); EMU_OUT: its next run does. */
		pthread_mutex_unlock(&m->mu);
	}
}

/* ---- rmm_vcpu_ops ---- */

/* Caller holds rmm->lock and be->mlock. */
static void unlink_machine(struct emu_backend *be, struct emu_machine *m)
{
	for (struct emu_machine **p = &be->machines; *p; p = &(*p)->next) {
		if (*p == m) {
			*p = m->next;
			return;
		}
	}
}

static void unlink_vcpu(struct emu_backend *be, struct emu_vcpu *v)
{
	for (struct emu_vcpu **p = &be->vcpus; *p; p = &(*p)->next) {
		if (*p == v) {
			*p = v->next;
			return;
		}
	}
}

static void release_vcpu(struct emu_backend *be, struct emu_vcpu *v)
{
	struct emu_machine *m = v->m;
	unlink_vcpu(be, v);
	v->rec->vcpu = NULL;
	emu_vcpu_free(v);
	pthread_mutex_lock(&be->mlock);
	unlink_machine(be, m);
	pthread_mutex_unlock(&be->mlock);
	emu_machine_free(m);
}

static void op_run(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa, struct rec_exit_image *exit)
{
	struct emu_backend *be = ctx;
	struct emu_vcpu *v = rec->vcpu;
	(void)rec_pa;

	if (!v) {
		/* The REC's own engine: RECs run in parallel on the threads that enter them. */
		struct emu_machine *m = emu_machine_create(be, rmm, granule_mem(rmm, rec->rd));
		v = m ? emu_vcpu_create(m, rec) : NULL;
		if (!v) {
			emu_machine_free(m);
			rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_SERROR);
			return;
		}
		pthread_mutex_lock(&be->mlock);
		m->next = be->machines;
		be->machines = m;
		pthread_mutex_unlock(&be->mlock);
		v->next = be->vcpus;
		be->vcpus = v;
		rec->vcpu = v;
	}
	emu_run(v, rmm, exit);
}

/* Called by RMI calls (rmm->lock held): the machines list cannot change meanwhile. */
static void op_data_destroyed(void *ctx, const struct s2tt_ctx *s2, rmm_pa_t pa)
{
	emu_realm_invalidate(ctx, s2, NULL, false, pa.val, false);
}

/* A TLB shootdown: when it returns, no engine of the realm uses the old mapping (the RMM may then
 * scrub the granule, as after TLBI + DSB on hardware). */
static void op_s2_invalidate(void *ctx, const struct s2tt_ctx *s2, uint64_t ipa, uint64_t size)
{
	(void)ipa;
	(void)size;
	emu_realm_invalidate(ctx, s2, NULL, true, 0, true);
}

static void op_rec_destroy(void *ctx, struct rec *rec)
{
	struct emu_backend *be = ctx;
	if (rec->vcpu)
		release_vcpu(be, rec->vcpu);
}

static void backend_free(struct emu_backend *be)
{
	while (be->vcpus)
		release_vcpu(be, be->vcpus);
	wd_fini(&be->wd);
	pthread_mutex_destroy(&be->mlock);
	free(be);
}

/* rmmemu_destroy() with the backend still enabled. */
static void op_fini(void *ctx)
{
	struct emu_backend *be = ctx;
	rmm_set_vcpu_ops(be->rmm, NULL, NULL);
	backend_free(be);
}

static const struct rmm_vcpu_ops emu_ops = {
	.run = op_run,
	.s2_invalidate = op_s2_invalidate,
	.data_destroyed = op_data_destroyed,
	.rec_destroy = op_rec_destroy,
	.fini = op_fini,
};

/* ---- public API ---- */

static unsigned slice_from_env(void)
{
	const char *s = getenv("RMMEMU_VCPU_SLICE_US");
	if (!s || !*s)
		return DEFAULT_SLICE_US;
	char *end;
	unsigned long v = strtoul(s, &end, 0);
	return *end ? DEFAULT_SLICE_US : (unsigned)v;
}

const char *rmmemu_vcpu_engine(void)
{
	static char name[32];
	unsigned major, minor;
	unsigned v = uc_version(&major, &minor);
	snprintf(name, sizeof(name), "Unicorn %u.%u.%u", major, minor, (v >> 8) & 0xffU);
	return name;
}

int rmmemu_enable_vcpu(struct rmmemu *emu)
{
	struct rmm *rmm = rmmemu_core(emu);
	const struct emu_calib *c = emu_calibrate();

	if (uc_version(NULL, NULL) >> 8 != (UC_API_MAJOR << 16 | UC_API_MINOR << 8 | UC_API_PATCH)) {
		emu_log("%s loaded, but rmmemu was built for and measured on Unicorn %u.%u.%u",
			rmmemu_vcpu_engine(), UC_API_MAJOR, UC_API_MINOR, UC_API_PATCH);
		return RMMEMU_E_SYS;
	}
	if (!c->ok) {
		emu_log("Unicorn calibration failed: %s", c->err);
		return RMMEMU_E_SYS;
	}
	for (unsigned i = 0; i < rmm->ndram; i++) {
		if (rmm->dram[i].base + rmm->dram[i].size > (1ULL << EMU_PA_BITS)) {
			emu_log("DRAM at %#llx..%#llx: the vCPU's CPU model reaches physical addresses below "
				"2^%u only", (unsigned long long)rmm->dram[i].base,
				(unsigned long long)(rmm->dram[i].base + rmm->dram[i].size - 1), EMU_PA_BITS);
			return RMMEMU_E_INVAL;
		}
	}
	pthread_mutex_lock(&rmm->lock);
	if (rmm->vcpu_ops == &emu_ops) {
		pthread_mutex_unlock(&rmm->lock);
		return RMMEMU_OK;
	}
	struct emu_backend *be = calloc(1, sizeof(*be));
	if (!be) {
		pthread_mutex_unlock(&rmm->lock);
		return RMMEMU_E_SYS;
	}
	be->rmm = rmm;
	be->slice_ns = (uint64_t)slice_from_env() * 1000ULL;
	wd_init(&be->wd);
	pthread_mutex_init(&be->mlock, NULL);
	rmm_set_vcpu_ops(rmm, &emu_ops, be);
	/* Realms wider than the CPU model's PA range could be created but never run: RMI_FEATURES
	 * offers what the model can translate, as an RMM on an A72 would. */
	rmm_limit_s2sz(rmm, EMU_PA_BITS);
	pthread_mutex_unlock(&rmm->lock);
	return RMMEMU_OK;
}

void rmmemu_disable_vcpu(struct rmmemu *emu)
{
	struct rmm *rmm = rmmemu_core(emu);

	pthread_mutex_lock(&rmm->lock);
	if (rmm->vcpu_ops != &emu_ops) {
		pthread_mutex_unlock(&rmm->lock);
		return;
	}
	struct emu_backend *be = rmm->vcpu_ctx;
	while (be->vcpus)
		release_vcpu(be, be->vcpus);
	rmm_set_vcpu_ops(rmm, NULL, NULL);
	rmm_limit_s2sz(rmm, 0);
	pthread_mutex_unlock(&rmm->lock);
	backend_free(be);
}

void rmmemu_vcpu_kick(struct rmmemu *emu)
{
	struct rmm *rmm = rmmemu_core(emu);
	pthread_mutex_lock(&rmm->ops_lock);
	if (rmm->vcpu_ops == &emu_ops)
		wd_kick_all(&((struct emu_backend *)rmm->vcpu_ctx)->wd);
	pthread_mutex_unlock(&rmm->ops_lock);
}

void rmmemu_vcpu_set_timeslice(struct rmmemu *emu, unsigned us)
{
	struct rmm *rmm = rmmemu_core(emu);
	pthread_mutex_lock(&rmm->lock);
	if (rmm->vcpu_ops == &emu_ops)
		((struct emu_backend *)rmm->vcpu_ctx)->slice_ns = (uint64_t)us * 1000ULL;
	pthread_mutex_unlock(&rmm->lock);
}

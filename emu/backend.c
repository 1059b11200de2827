/*
 * The vCPU backend registered with the RMM core (struct rmm_vcpu_ops), its public switch
 * (rmmemu_enable_vcpu) and the watchdog thread that ends a run at the end of its time slice or
 * when the realm's timer fires.
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

static void *wd_thread(void *arg)
{
	struct emu_watchdog *wd = arg;

	pthread_mutex_lock(&wd->mu);
	while (!wd->quit) {
		uint64_t now = emu_now_ns();
		if (wd->armed && now >= wd->deadline_ns) {
			struct emu_vcpu *v = wd->armed;
			if (v->m->no_exit_off) {
				/* Safe at any time (docs/vcpu.md, quirk 6). A hook that writes PC at the
				 * same moment cancels the stop: try again 1 ms later while the run lasts. */
				uc_emu_stop(v->uc);
				wd->deadline_ns = now + 1000000ULL;
			} else {
				__atomic_store_n(&v->preempt, 1, __ATOMIC_RELEASE);
				wd->armed = NULL;
			}
			continue;
		}
		/* Sleep until the latest deadline armed, even if that run has ended: back-to-back runs
		 * then arm without waking this thread (emu_wd_arm signals only earlier deadlines). */
		if (wd->deadline_ns == UINT64_MAX || now >= wd->deadline_ns) {
			wd->wait_until = UINT64_MAX;
			pthread_cond_wait(&wd->cv, &wd->mu);
		} else {
			wd->wait_until = wd->deadline_ns;
			struct timespec ts = { .tv_sec = (time_t)(wd->deadline_ns / 1000000000ULL),
					       .tv_nsec = (long)(wd->deadline_ns % 1000000000ULL) };
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
	pthread_cond_destroy(&wd->cv);
	pthread_mutex_destroy(&wd->mu);
}

static void wd_set(struct emu_watchdog *wd, uint64_t deadline_ns)
{
	if (wd->kicked && wd->armed)
		deadline_ns = 1;         /* the host kicked: stop the run now, whatever else is due */
	if (!wd->started && deadline_ns != UINT64_MAX) {
		if (pthread_create(&wd->thread, NULL, wd_thread, wd) == 0)
			wd->started = true;
		else
			emu_log("cannot start the watchdog thread: runs are not time-sliced");
	}
	wd->deadline_ns = deadline_ns;
	if (deadline_ns < wd->wait_until)
		pthread_cond_signal(&wd->cv);
}

void emu_wd_arm(struct emu_backend *be, struct emu_vcpu *v, uint64_t deadline_ns)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	wd->armed = v;
	wd_set(wd, deadline_ns);
	pthread_mutex_unlock(&wd->mu);
}

void emu_wd_update(struct emu_backend *be, uint64_t deadline_ns)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	if (wd->armed)
		wd_set(wd, deadline_ns);
	pthread_mutex_unlock(&wd->mu);
}

void emu_wd_disarm(struct emu_backend *be)
{
	struct emu_watchdog *wd = &be->wd;
	pthread_mutex_lock(&wd->mu);
	wd->armed = NULL;
	wd->kicked = false;              /* this run ended after the kick: the host sees its exit */
	pthread_mutex_unlock(&wd->mu);
}

/* rmmemu_vcpu_kick: a run in progress is stopped at once, by the kicking thread itself where that
 * is safe (quirk 6), and by the watchdog thread (the same stop as a time slice's end, repeated
 * until the run ends); otherwise the next run is armed to stop at once (emu_wd_arm). */
static void wd_kick(struct emu_watchdog *wd)
{
	pthread_mutex_lock(&wd->mu);
	wd->kicked = true;
	if (wd->armed) {
		if (wd->armed->m->no_exit_off)
			uc_emu_stop(wd->armed->uc);
		wd_set(wd, 1);
	}
	pthread_mutex_unlock(&wd->mu);
}

/* ---- rmm_vcpu_ops ---- */

static struct emu_machine *machine_for(struct emu_backend *be, struct rmm *rmm, const struct rd *rd)
{
	for (struct emu_machine *m = be->machines; m; m = m->next)
		if (m->s2 == &rd->s2)
			return m;
	struct emu_machine *m = emu_machine_create(be, rmm, rd);
	if (m) {
		m->next = be->machines;
		be->machines = m;
	}
	return m;
}

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
	if (m->nvcpus == 0) {
		unlink_machine(be, m);
		emu_machine_free(m);
	}
}

static void op_run(void *ctx, struct rmm *rmm, struct rec *rec, rmm_pa_t rec_pa, struct rec_exit_image *exit)
{
	struct emu_backend *be = ctx;
	struct emu_vcpu *v = rec->vcpu;
	(void)rec_pa;

	if (!v) {
		struct emu_machine *m = machine_for(be, rmm, granule_mem(rmm, rec->rd));
		v = m ? emu_vcpu_create(m, rec) : NULL;
		if (!v) {
			if (m && m->nvcpus == 0) {
				unlink_machine(be, m);
				emu_machine_free(m);
			}
			rec_exit_put64(exit, RMI_REC_EXIT_REASON, RMI_EXIT_SERROR);
			return;
		}
		v->next = be->vcpus;
		be->vcpus = v;
		rec->vcpu = v;
	}
	emu_run(v, rmm, exit);
}

static void op_data_destroyed(void *ctx, const struct s2tt_ctx *s2, rmm_pa_t pa)
{
	struct emu_backend *be = ctx;
	for (struct emu_machine *m = be->machines; m; m = m->next)
		if (m->s2 == s2)
			emu_code_stale(m, pa.val);
}

static void op_s2_invalidate(void *ctx, const struct s2tt_ctx *s2, uint64_t ipa, uint64_t size)
{
	struct emu_backend *be = ctx;
	(void)ipa;
	(void)size;
	for (struct emu_machine *m = be->machines; m; m = m->next)
		if (m->s2 == s2)
			m->tlb_dirty = true;
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
		wd_kick(&((struct emu_backend *)rmm->vcpu_ctx)->wd);
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

/* The public SMC-level API: instances, SMC dispatch with tracing, normal-world memory access. */
#include <stdlib.h>
#include <string.h>

#include "rmi/rmi.h"
#include "rmm/rmm.h"
#include "rmm/vcpu_ops.h"

struct rmmemu {
	struct rmm rmm;
};

struct rmm *rmmemu_core(struct rmmemu *emu)
{
	return &emu->rmm;
}

struct rmmemu *rmmemu_create(const struct rmmemu_platform_config *cfg, char *err, size_t errlen)
{
	struct rmmemu *emu = calloc(1, sizeof(*emu));
	if (!emu) {
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (rmm_platform_init(&emu->rmm, cfg, err, errlen) != RMMEMU_OK) {
		free(emu);
		return NULL;
	}
	return emu;
}

const struct rmmemu_platform_config *rmmemu_get_platform(const struct rmmemu *emu)
{
	return &emu->rmm.cfg;
}

void rmmemu_destroy(struct rmmemu *emu)
{
	if (!emu)
		return;
	/* A vCPU backend still attached releases its engines before the memory they map goes away. */
	if (emu->rmm.vcpu_ops && emu->rmm.vcpu_ops->fini)
		emu->rmm.vcpu_ops->fini(emu->rmm.vcpu_ctx);
	pthread_mutex_destroy(&emu->rmm.lock);
	pthread_mutex_destroy(&emu->rmm.ops_lock);
	rmm_platform_fini(&emu->rmm);
	free(emu);
}

static void trace_call(struct rmm *rmm, uint64_t fid, const uint64_t a[6], const uint64_t res[5])
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	char ret[64];

	if (!c) {
		rmm_trace(rmm, RMMEMU_TRACE_RMI, "SMC 0x%llx -> SMCCC_NOT_SUPPORTED\n", (unsigned long long)fid);
		return;
	}
	rmm_trace(rmm, RMMEMU_TRACE_RMI, "%s(", c->name);
	for (unsigned i = 0; i < c->nargs; i++)
		rmm_trace(rmm, RMMEMU_TRACE_RMI, "%s%s=0x%llx", i ? ", " : "", c->arg_names[i],
			  (unsigned long long)a[i]);
	rmmemu_format_return(res[0], ret, sizeof(ret));
	rmm_trace(rmm, RMMEMU_TRACE_RMI, ") -> %s", ret);
	if (res[0] == RMI_SUCCESS || fid == SMC_RMI_RTT_DESTROY || fid == SMC_RMI_DATA_DESTROY ||
	    fid == SMC_RMI_RTT_UNMAP_UNPROTECTED || fid == SMC_RMI_VERSION)
		for (unsigned i = 0; i < c->nres; i++)
			rmm_trace(rmm, RMMEMU_TRACE_RMI, " %s=0x%llx", c->res_names[i],
				  (unsigned long long)res[i + 1]);
	rmm_trace(rmm, RMMEMU_TRACE_RMI, "\n");
}

int rmmemu_inject_rmi_error(struct rmmemu *emu, uint64_t fid, uint64_t x0, unsigned skip, unsigned count)
{
	struct rmm *rmm = &emu->rmm;
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	int rc = RMMEMU_E_INVAL;
	if (!c)
		return rc;
	pthread_mutex_lock(&rmm->lock);
	for (unsigned i = 0; i < RMMEMU_MAX_INJECTIONS; i++) {
		if (rmm->inject[i].count && rmm->inject[i].fid == c->fid) {
			rmm->inject[i].count = 0; /* replaced */
		}
	}
	for (unsigned i = 0; count && i < RMMEMU_MAX_INJECTIONS; i++) {
		if (!rmm->inject[i].count) {
			rmm->inject[i].fid = c->fid;
			rmm->inject[i].x0 = x0;
			rmm->inject[i].skip = skip;
			rmm->inject[i].count = count;
			rc = RMMEMU_OK;
			break;
		}
	}
	if (!count)
		rc = RMMEMU_OK;
	pthread_mutex_unlock(&rmm->lock);
	return rc;
}

void rmmemu_inject_irq_exits(struct rmmemu *emu, unsigned skip, unsigned count)
{
	pthread_mutex_lock(&emu->rmm.lock);
	emu->rmm.irq_skip = count ? skip : 0;
	emu->rmm.irq_count = count;
	pthread_mutex_unlock(&emu->rmm.lock);
}

void rmmemu_inject_sea(struct rmmemu *emu, unsigned skip, unsigned count)
{
	pthread_mutex_lock(&emu->rmm.lock);
	emu->rmm.sea_skip = count ? skip : 0;
	emu->rmm.sea_count = count;
	pthread_mutex_unlock(&emu->rmm.lock);
}

/* An injected result for this call, if a rule says so. */
static bool injected(struct rmm *rmm, uint64_t fid, uint64_t r[5])
{
	const struct rmi_cmd_desc *c = rmi_cmd_by_fid(fid);
	for (unsigned i = 0; c && i < RMMEMU_MAX_INJECTIONS; i++) {
		if (!rmm->inject[i].count || rmm->inject[i].fid != c->fid)
			continue;
		if (rmm->inject[i].skip) {
			rmm->inject[i].skip--;
			return false;
		}
		rmm->inject[i].count--;
		r[0] = rmm->inject[i].x0;
		return true;
	}
	return false;
}

void rmmemu_smc(struct rmmemu *emu, uint64_t fid, const uint64_t args[6], struct rmmemu_smc_result *res)
{
	struct rmm *rmm = &emu->rmm;
	uint64_t a[6], r[5] = { 0 };

	memcpy(a, args, sizeof(a));
	pthread_mutex_lock(&rmm->lock);
	/* State changes print (indented) before the call's own line. */
	bool inj = injected(rmm, fid, r);
	if (!inj && !rmi_dispatch(rmm, fid, a, r))
		r[0] = SMCCC_NOT_SUPPORTED;
	if (rmm->trace) {
		if (inj)
			rmm_trace(rmm, RMMEMU_TRACE_RMI, "[injected] ");
		trace_call(rmm, fid, a, r);
	}
	if (rmm->event_fn) {
		struct rmmemu_event ev = { .kind = RMMEMU_EV_RMI, .fid = fid, .injected = inj };
		memcpy(ev.args, a, sizeof(a));
		memcpy(ev.res, r, sizeof(r));
		rmm_event(rmm, &ev);
	}
	pthread_mutex_unlock(&rmm->lock);
	memcpy(res->x, r, sizeof(r));
}

uint64_t rmmemu_smc6(struct rmmemu *emu, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		     uint64_t a5, uint64_t a6, struct rmmemu_smc_result *res)
{
	const uint64_t a[6] = { a1, a2, a3, a4, a5, a6 };
	struct rmmemu_smc_result tmp;
	if (!res)
		res = &tmp;
	rmmemu_smc(emu, fid, a, res);
	return res->x[0];
}

/* Walk [pa, pa+len) granule by granule; every granule must be NS-PAS DRAM. */
static int ns_access(struct rmmemu *emu, uint64_t pa, void *buf, const void *src, size_t len)
{
	struct rmm *rmm = &emu->rmm;
	int rc = RMMEMU_OK;

	if (len && pa + len - 1 < pa)
		return RMMEMU_E_INVAL;
	pthread_mutex_lock(&rmm->lock);
	/* Check everything first so that a refused access changes nothing. */
	for (uint64_t g = pa & ~GRANULE_MASK; len && g <= pa + len - 1; g += GRANULE_SIZE) {
		struct gref ref;
		if (!granule_find(rmm, PA(g), &ref)) {
			rc = RMMEMU_E_NOMEM;
			goto out;
		}
		if (ref.g->pas != RMMEMU_PAS_NONSECURE) {
			rc = RMMEMU_E_GPF;
			goto out;
		}
		if (g + GRANULE_SIZE < g)
			break;
	}
	size_t done = 0;
	while (done < len) {
		uint64_t cur = pa + done;
		struct gref ref;
		granule_find(rmm, PA(cur & ~GRANULE_MASK), &ref);
		size_t off = cur & GRANULE_MASK;
		size_t n = GRANULE_SIZE - off;
		if (n > len - done)
			n = len - done;
		if (buf)
			memcpy((uint8_t *)buf + done, (uint8_t *)ref.mem + off, n);
		else
			memcpy((uint8_t *)ref.mem + off, (const uint8_t *)src + done, n);
		done += n;
	}
out:
	pthread_mutex_unlock(&rmm->lock);
	return rc;
}

int rmmemu_ns_read(struct rmmemu *emu, uint64_t pa, void *buf, size_t len)
{
	return ns_access(emu, pa, buf, NULL, len);
}

int rmmemu_ns_write(struct rmmemu *emu, uint64_t pa, const void *buf, size_t len)
{
	return ns_access(emu, pa, NULL, buf, len);
}

int rmmemu_ns_write64(struct rmmemu *emu, uint64_t pa, uint64_t val)
{
	return rmmemu_ns_write(emu, pa, &val, sizeof(val));
}

int rmmemu_ns_read64(struct rmmemu *emu, uint64_t pa, uint64_t *val)
{
	return rmmemu_ns_read(emu, pa, val, sizeof(*val));
}

int rmmemu_granule_info(struct rmmemu *emu, uint64_t pa, struct rmmemu_granule_info *info)
{
	struct gref ref;
	int rc = RMMEMU_OK;
	pthread_mutex_lock(&emu->rmm.lock);
	if (!granule_find(&emu->rmm, PA(pa & ~GRANULE_MASK), &ref)) {
		rc = RMMEMU_E_NOMEM;
	} else {
		info->state = (enum rmmemu_granule_state)ref.g->state;
		info->pas = (enum rmmemu_pas)ref.g->pas;
		info->refcount = ref.g->refcount;
	}
	pthread_mutex_unlock(&emu->rmm.lock);
	return rc;
}

void rmmemu_granule_census(struct rmmemu *emu, uint64_t counts[RMMEMU_GRANULE_NUM_STATES])
{
	struct rmm *rmm = &emu->rmm;
	memset(counts, 0, sizeof(uint64_t) * RMMEMU_GRANULE_NUM_STATES);
	pthread_mutex_lock(&rmm->lock);
	for (unsigned r = 0; r < rmm->ndram; r++) {
		uint64_t n = rmm->dram[r].size >> GRANULE_SHIFT;
		for (uint64_t i = 0; i < n; i++)
			counts[rmm->dram[r].meta[i].state]++;
	}
	pthread_mutex_unlock(&rmm->lock);
}

void rmmemu_set_event_hook(struct rmmemu *emu, rmmemu_event_fn fn, void *ctx)
{
	pthread_mutex_lock(&emu->rmm.lock);
	emu->rmm.event_fn = fn;
	emu->rmm.event_ctx = ctx;
	pthread_mutex_unlock(&emu->rmm.lock);
}

void rmmemu_set_trace(struct rmmemu *emu, FILE *out, unsigned flags)
{
	pthread_mutex_lock(&emu->rmm.lock);
	emu->rmm.trace = flags ? out : NULL;
	emu->rmm.trace_flags = flags;
	pthread_mutex_unlock(&emu->rmm.lock);
}

/*
 * The reference host's realm life cycle (include/rmmemu/host.h): the RMI sequences Linux KVM's CCA
 * host code issues (see ../shared/notes/host-flow.md §1), with its RTT strategy: tables only as deep
 * as the largest aligned block for RIPAS, level 3 for DATA, RTTs created on RMI_ERROR_RTT.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "host/vm_internal.h"

/* ---- host memory ---- */

/* Host memory is one pool per instance, shared by all its VMs: granules a VM keeps in the normal
 * world (RecRun, parameter and shared pages) must not be handed to another VM. */
struct host_pool {
	const struct rmmemu *emu;
	uint64_t *used;
	unsigned users;
	struct host_pool *next;
};
static struct host_pool *pools;
static pthread_mutex_t pools_lock = PTHREAD_MUTEX_INITIALIZER;

static uint64_t *pool_acquire(const struct rmmemu *emu, uint64_t granules)
{
	pthread_mutex_lock(&pools_lock);
	struct host_pool *p;
	for (p = pools; p && p->emu != emu; p = p->next)
		;
	if (!p && (p = calloc(1, sizeof(*p)))) {
		p->emu = emu;
		p->used = calloc((granules + 63) / 64, sizeof(uint64_t));
		if (!p->used) {
			free(p);
			p = NULL;
		} else {
			p->next = pools;
			pools = p;
		}
	}
	if (p)
		p->users++;
	pthread_mutex_unlock(&pools_lock);
	return p ? p->used : NULL;
}

static void pool_release(const struct rmmemu *emu)
{
	pthread_mutex_lock(&pools_lock);
	for (struct host_pool **pp = &pools; *pp; pp = &(*pp)->next) {
		struct host_pool *p = *pp;
		if (p->emu != emu)
			continue;
		if (--p->users == 0) {
			*pp = p->next;
			free(p->used);
			free(p);
		}
		break;
	}
	pthread_mutex_unlock(&pools_lock);
}

static bool pool_test(const struct rmmemu_vm *vm, uint64_t i) { return vm->used[i / 64] & (1ULL << (i % 64)); }
static void pool_set(struct rmmemu_vm *vm, uint64_t i, bool v)
{
	if (v)
		vm->used[i / 64] |= 1ULL << (i % 64);
	else
		vm->used[i / 64] &= ~(1ULL << (i % 64));
}

/* `count` contiguous free NS granules starting at a multiple of `align` granules; 0 if none. */
static uint64_t alloc_granules_locked(struct rmmemu_vm *vm, uint64_t count, uint64_t align);

static uint64_t alloc_granules_aligned(struct rmmemu_vm *vm, uint64_t count, uint64_t align)
{
	pthread_mutex_lock(&pools_lock);
	uint64_t pa = alloc_granules_locked(vm, count, align);
	pthread_mutex_unlock(&pools_lock);
	return pa;
}

static uint64_t alloc_granules_locked(struct rmmemu_vm *vm, uint64_t count, uint64_t align)
{
	for (uint64_t pass = 0; pass < 2; pass++) {
		uint64_t run = 0;
		for (uint64_t i = pass ? 0 : vm->cursor; i < vm->pool_granules; i++) {
			struct rmmemu_granule_info gi;
			uint64_t pa = vm->pool_base + i * GRANULE;
			if (run == 0 && (pa / GRANULE) % align)
				continue;
			bool free_ns = !pool_test(vm, i) && rmmemu_granule_info(vm->emu, pa, &gi) == 0 &&
				       gi.state == RMMEMU_GRANULE_UNDELEGATED && gi.pas == RMMEMU_PAS_NONSECURE;
			run = free_ns ? run + 1 : 0;
			if (run == count) {
				uint64_t first = i + 1 - count;
				for (uint64_t k = first; k <= i; k++)
					pool_set(vm, k, true);
				vm->cursor = i + 1;
				return vm->pool_base + first * GRANULE;
			}
		}
	}
	return 0;
}

uint64_t alloc_granules(struct rmmemu_vm *vm, uint64_t count)
{
	return alloc_granules_aligned(vm, count, 1);
}

void free_granules(struct rmmemu_vm *vm, uint64_t pa, uint64_t count)
{
	pthread_mutex_lock(&pools_lock);
	for (uint64_t k = 0; k < count; k++)
		pool_set(vm, (pa - vm->pool_base) / GRANULE + k, false);
	pthread_mutex_unlock(&pools_lock);
}

/* ---- RMI helpers ---- */

uint64_t rmi(struct rmmemu_vm *vm, uint64_t fid, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
		    uint64_t a5, struct rmmemu_smc_result *r)
{
	struct rmmemu_smc_result tmp;
	uint64_t x0 = rmmemu_smc6(vm->emu, fid, a1, a2, a3, a4, a5, 0, r ? r : &tmp);
	if (x0 != RMI_SUCCESS)
		vm->last_rmi = x0;
	return x0;
}

static int delegate(struct rmmemu_vm *vm, uint64_t pa)
{
	return rmi(vm, SMC_RMI_GRANULE_DELEGATE, pa, 0, 0, 0, 0, NULL) == RMI_SUCCESS ? 0 : -ENXIO;
}

int undelegate_free(struct rmmemu_vm *vm, uint64_t pa)
{
	if (rmi(vm, SMC_RMI_GRANULE_UNDELEGATE, pa, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
		return -ENXIO; /* as KVM: leak the granule rather than reuse it */
	free_granules(vm, pa, 1);
	return 0;
}

/* A delegated granule from the pool; 0 on failure. */
uint64_t alloc_delegated(struct rmmemu_vm *vm)
{
	uint64_t pa = alloc_granules(vm, 1);
	if (!pa)
		return 0;
	if (delegate(vm, pa)) {
		free_granules(vm, pa, 1);
		return 0;
	}
	return pa;
}

uint64_t map_size(int level)
{
	return 1ULL << (12 + 9 * (3 - level));
}

static int track_rtt(struct rmmemu_vm *vm, uint64_t ipa, int level, uint64_t pa)
{
	if (vm->nrtts == vm->cap_rtts) {
		size_t cap = vm->cap_rtts ? vm->cap_rtts * 2 : 64;
		struct rtt_rec *n = realloc(vm->rtts, cap * sizeof(*n));
		if (!n)
			return -ENOMEM;
		vm->rtts = n;
		vm->cap_rtts = cap;
	}
	vm->rtts[vm->nrtts++] = (struct rtt_rec){ ipa, level, pa };
	return 0;
}

/* Create the RTTs for `ipa` at levels from+1 .. to (KVM's realm_create_rtt_levels). */
int create_rtt_levels(struct rmmemu_vm *vm, uint64_t ipa, int from, int to)
{
	for (int l = from + 1; l <= to; l++) {
		uint64_t base = ipa & ~(map_size(l - 1) - 1);
		uint64_t rtt = alloc_delegated(vm);
		if (!rtt)
			return -ENOMEM;
		uint64_t x0 = rmi(vm, SMC_RMI_RTT_CREATE, vm->rd, rtt, base, (uint64_t)l, 0, NULL);
		if (x0 == RMI_PACK_RETURN(RMI_ERROR_RTT, l - 1)) {
			undelegate_free(vm, rtt); /* already there */
			continue;
		}
		if (x0 != RMI_SUCCESS) {
			undelegate_free(vm, rtt);
			return -ENXIO;
		}
		if (track_rtt(vm, base, l, rtt))
			return -ENOMEM;
	}
	return 0;
}

/* The level whose entries are the largest block that starts at `start` and ends by `end`. */
int find_map_level(const struct rmmemu_vm *vm, uint64_t start, uint64_t end)
{
	int level = 3;
	while (level > vm->start_level) {
		uint64_t parent = map_size(level - 1);
		if ((start & (parent - 1)) || start + parent > end)
			break;
		level--;
	}
	return level;
}

/* ---- the life cycle ---- */

static uint64_t rec_mpidr(unsigned idx);

/* The vGIC, PL011 model and console input of a VM with gicd_base set (host/vgic.h). */
static int vm_setup_vgic(struct rmmemu_vm *vm, const struct rmmemu_vm_params *p)
{
	uint64_t shared = 1ULL << (vm->ipa_bits - 1);
	uint64_t dist = p->gicd_base, redist = p->gicr_base, rsize = VGIC_REDIST_SIZE * p->nr_vcpus;
	if ((dist | redist) & (VGIC_DIST_SIZE - 1) || !redist || dist + VGIC_DIST_SIZE > shared ||
	    redist + rsize > shared || (dist < redist + rsize && redist < dist + VGIC_DIST_SIZE) ||
	    (p->uart_irq && (p->uart_irq < 32 || p->uart_irq >= 32 + VGIC_MAX_SPIS)))
		return -EINVAL;
	struct rmmemu_smc_result r;
	if (rmi(vm, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, &r) != RMI_SUCCESS)
		return -ENXIO;
	unsigned nr_lrs = (unsigned)((r.x[1] >> RMI_FEAT0_GICV3_NUM_LRS_SHIFT) & 0xF) + 1;
	unsigned nr_spis = 256;
	if (p->uart_irq >= 32 + nr_spis)
		nr_spis = p->uart_irq - 31;
	uint64_t mpidr[MAX_VCPUS];
	for (unsigned i = 0; i < p->nr_vcpus; i++)
		mpidr[i] = rec_mpidr(i);
	vm->vgic = vgic_create(p->nr_vcpus, nr_spis, nr_lrs, dist, redist, mpidr);
	if (!vm->vgic)
		return -ENOMEM;
	if (pipe(vm->wake)) {
		vgic_destroy(vm->vgic);
		vm->vgic = NULL;
		return -errno;
	}
	for (unsigned i = 0; i < 2; i++) {
		fcntl(vm->wake[i], F_SETFL, fcntl(vm->wake[i], F_GETFL) | O_NONBLOCK);
		fcntl(vm->wake[i], F_SETFD, FD_CLOEXEC);
	}
	pl011_reset(&vm->uart, vm->uart_out);
	vm->uart_irq = p->uart_irq;
	vm->uart_in_fd = p->uart_in && vm->uart_base ? fileno(p->uart_in) : -1;
	return 0;
}

int rmmemu_vm_create(struct rmmemu *emu, const struct rmmemu_vm_params *p, struct rmmemu_vm **out)
{
	unsigned ipa_bits = p->ipa_bits ? p->ipa_bits : 40;
	if (!emu || !out || ipa_bits < 32 || ipa_bits > 48 || p->nr_vcpus == 0 || p->nr_vcpus > MAX_VCPUS)
		return -EINVAL;
	struct rmmemu_vm *vm = calloc(1, sizeof(*vm));
	if (!vm)
		return -ENOMEM;
	vm->emu = emu;
	vm->ipa_bits = ipa_bits;
	/* KVM: levels = (ia_bits - 8) / 9 resolved by (possibly concatenated) tables. */
	unsigned levels = (ipa_bits - 8) / 9;
	vm->start_level = 4 - (int)levels;
	unsigned resolved = 12 + 9 * levels;
	vm->num_roots = ipa_bits > resolved ? 1U << (ipa_bits - resolved) : 1U;
	vm->nr_vcpus = p->nr_vcpus;
	vm->hash = RMMEMU_HASH_SHA256;
	vm->uart_base = p->uart_base;
	vm->uart_out = p->uart_out ? p->uart_out : stdout;
	vm->uart_in_fd = -1;
	vm->wake[0] = vm->wake[1] = -1;

	/* The pool: the platform's first DRAM range. */
	const struct rmmemu_platform_config *plat = rmmemu_get_platform(emu);
	uint64_t base = plat->dram[0].base, n = plat->dram[0].size / GRANULE;
	vm->pool_base = base;
	vm->pool_granules = n;
	vm->used = pool_acquire(emu, n);
	if (!vm->used) {
		free(vm);
		return -ENOMEM;
	}
	if (p->gicd_base) {
		int rc = vm_setup_vgic(vm, p);
		if (rc) {
			pool_release(emu);
			free(vm);
			return rc;
		}
	}
	*out = vm;
	return 0;
}

int rmmemu_vm_configure(struct rmmemu_vm *vm, unsigned hash_algo, const uint8_t rpv[64])
{
	if (vm->realm_created)
		return -EBUSY;
	if (hash_algo != RMMEMU_HASH_SHA256 && hash_algo != RMMEMU_HASH_SHA512)
		return -EINVAL;
	vm->hash = hash_algo;
	if (rpv)
		memcpy(vm->rpv, rpv, 64);
	return 0;
}

int vm_create_realm(struct rmmemu_vm *vm)
{
	struct rmmemu_smc_result r;
	uint8_t params[GRANULE] = { 0 };
	int rc = -ENXIO;

	if (vm->realm_created)
		return -EEXIST;
	/* Host capabilities from RmiFeatureRegister0 (KVM fills num_bps/num_wps from the vCPU ID regs). */
	if (rmi(vm, SMC_RMI_FEATURES, 0, 0, 0, 0, 0, &r) != RMI_SUCCESS)
		return -ENXIO;
	uint64_t feat = r.x[1];
	if (vm->ipa_bits > (feat & 0xFF))
		return -EINVAL;
	if (!vm->scratch)
		vm->scratch = alloc_granules(vm, 1);
	vm->rd = alloc_delegated(vm);
	/* Concatenated starting-level tables are one translation table: aligned to their total size,
	 * as VTTBR_EL2.BADDR requires (KVM allocates its PGD the same way). */
	vm->rtt_base = alloc_granules_aligned(vm, vm->num_roots, vm->num_roots);
	if (!vm->scratch || !vm->rd || !vm->rtt_base)
		return -ENOMEM; /* what was taken is released by rmmemu_vm_destroy */
	for (unsigned i = 0; i < vm->num_roots; i++)
		if (delegate(vm, vm->rtt_base + i * GRANULE))
			return -ENXIO;
	params[RMI_REALM_PARAMS_S2SZ] = (uint8_t)vm->ipa_bits;
	params[RMI_REALM_PARAMS_NUM_BPS] = (uint8_t)((feat >> RMI_FEAT0_NUM_BPS_SHIFT) & 0x3F);
	params[RMI_REALM_PARAMS_NUM_WPS] = (uint8_t)((feat >> RMI_FEAT0_NUM_WPS_SHIFT) & 0x3F);
	params[RMI_REALM_PARAMS_HASH_ALGO] = (uint8_t)vm->hash;
	memcpy(params + RMI_REALM_PARAMS_RPV, vm->rpv, 64);
	uint64_t v = vm->rtt_base;
	memcpy(params + RMI_REALM_PARAMS_RTT_BASE, &v, 8);
	int64_t sl = vm->start_level;
	memcpy(params + RMI_REALM_PARAMS_RTT_LEVEL_START, &sl, 8);
	uint32_t nroots = vm->num_roots;
	memcpy(params + RMI_REALM_PARAMS_RTT_NUM_START, &nroots, 4);
	/* VMID: the RD's granule index keeps realms on one instance distinct. */
	uint16_t vmid = (uint16_t)(1 + ((vm->rd - vm->pool_base) / GRANULE) % 0xFFFE);
	memcpy(params + RMI_REALM_PARAMS_VMID, &vmid, 2);
	if (rmmemu_ns_write(vm->emu, vm->scratch, params, sizeof(params)))
		return -EFAULT;
	if (rmi(vm, SMC_RMI_REALM_CREATE, vm->rd, vm->scratch, 0, 0, 0, NULL) != RMI_SUCCESS) {
		uint64_t failed = vm->last_rmi;
		undelegate_free(vm, vm->rd);
		for (unsigned i = 0; i < vm->num_roots; i++)
			undelegate_free(vm, vm->rtt_base + i * GRANULE);
		vm->last_rmi = failed;
		vm->rd = 0;
		return rc;
	}
	vm->realm_created = true;
	if (rmi(vm, SMC_RMI_REC_AUX_COUNT, vm->rd, 0, 0, 0, 0, &r) != RMI_SUCCESS || r.x[1] > NUM_AUX_MAX)
		return -ENXIO;
	vm->num_aux = (unsigned)r.x[1];
	return 0;
}

int check_range(const struct rmmemu_vm *vm, uint64_t ipa, uint64_t size)
{
	uint64_t par = 1ULL << (vm->ipa_bits - 1);
	if ((ipa | size) & (GRANULE - 1) || size == 0 || ipa + size < ipa || ipa + size > par)
		return -EINVAL;
	return 0;
}

int vm_init_ripas(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size)
{
	struct rmmemu_smc_result r;
	if (!vm->realm_created || vm->active)
		return -EPERM;
	if (check_range(vm, ipa, size))
		return -EINVAL;
	uint64_t end = ipa + size;
	if (vm->nram < sizeof(vm->ram) / sizeof(vm->ram[0]))
		vm->ram[vm->nram++] = (struct rmmemu_range){ ipa, size };
	while (ipa < end) {
		uint64_t x0 = rmi(vm, SMC_RMI_RTT_INIT_RIPAS, vm->rd, ipa, end, 0, 0, &r);
		if (x0 == RMI_SUCCESS) {
			ipa = r.x[1];
			continue;
		}
		if (RMI_RETURN_STATUS(x0) != RMI_ERROR_RTT)
			return -ENXIO;
		int reached = (int)RMI_RETURN_INDEX(x0), want = find_map_level(vm, ipa, end);
		if (reached >= want)
			return -ENXIO;
		int rc = create_rtt_levels(vm, ipa, reached, want);
		if (rc)
			return rc;
	}
	return 0;
}

int vm_populate(struct rmmemu_vm *vm, uint64_t ipa, const void *src, uint64_t size, bool measure)
{
	uint64_t rounded = (size + GRANULE - 1) & ~(GRANULE - 1);
	if (!vm->realm_created || vm->active)
		return -EPERM;
	if (check_range(vm, ipa, rounded))
		return -EINVAL;
	for (uint64_t off = 0; off < rounded; off += GRANULE) {
		uint8_t page[GRANULE] = { 0 };
		uint64_t n = size - off < GRANULE ? size - off : GRANULE;
		memcpy(page, (const uint8_t *)src + off, n);
		if (rmmemu_ns_write(vm->emu, vm->scratch, page, GRANULE))
			return -EFAULT;
		uint64_t data = alloc_delegated(vm);
		if (!data)
			return -ENOMEM;
		for (;;) {
			uint64_t x0 = rmi(vm, SMC_RMI_DATA_CREATE, vm->rd, data, ipa + off, vm->scratch,
					  measure ? RMI_MEASURE_CONTENT : RMI_NO_MEASURE_CONTENT, NULL);
			if (x0 == RMI_SUCCESS)
				break;
			int rc = RMI_RETURN_STATUS(x0) == RMI_ERROR_RTT && RMI_RETURN_INDEX(x0) < 3
					 ? create_rtt_levels(vm, ipa + off, (int)RMI_RETURN_INDEX(x0), 3)
					 : -ENXIO;
			if (rc) {
				undelegate_free(vm, data);
				return rc;
			}
		}
	}
	return 0;
}

/* Inverse of RmiRecMpidr -> REC index: Aff0[3:0], Aff1[15:8], Aff2[23:16], Aff3[31:24]. */
static uint64_t rec_mpidr(unsigned idx)
{
	uint64_t i = idx;
	return (i & 0xF) | ((i >> 4 & 0xFF) << 8) | ((i >> 12 & 0xFF) << 16) | ((i >> 20 & 0xFF) << 24);
}

int vm_finalize_vcpu(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8])
{
	uint8_t params[GRANULE] = { 0 };
	if (!vm->realm_created || vm->active)
		return -ENOENT;
	if (idx >= vm->nr_vcpus)
		return -EINVAL;
	struct vcpu *v = &vm->vcpus[idx];
	if (v->finalized)
		return -EBUSY;
	/* RECs are created in ascending MPIDR order. */
	if (idx > 0 && !vm->vcpus[idx - 1].finalized)
		return -EINVAL;
	v->rec = alloc_delegated(vm);
	if (!v->rec)
		return -ENOMEM;
	for (unsigned i = 0; i < vm->num_aux; i++) {
		v->aux[i] = alloc_delegated(vm);
		if (!v->aux[i])
			return -ENOMEM;
	}
	uint64_t val = idx == 0 ? RMI_REC_PARAMS_FLAG_RUNNABLE : 0;
	memcpy(params + RMI_REC_PARAMS_FLAGS, &val, 8);
	val = rec_mpidr(idx);
	memcpy(params + RMI_REC_PARAMS_MPIDR, &val, 8);
	memcpy(params + RMI_REC_PARAMS_PC, &pc, 8);
	if (x)
		memcpy(params + RMI_REC_PARAMS_GPRS, x, 64);
	val = vm->num_aux;
	memcpy(params + RMI_REC_PARAMS_NUM_AUX, &val, 8);
	memcpy(params + RMI_REC_PARAMS_AUX, v->aux, 8 * vm->num_aux);
	if (rmmemu_ns_write(vm->emu, vm->scratch, params, sizeof(params)))
		return -EFAULT;
	if (rmi(vm, SMC_RMI_REC_CREATE, vm->rd, v->rec, vm->scratch, 0, 0, NULL) != RMI_SUCCESS)
		return -ENXIO;
	v->finalized = true;
	return 0;
}

int vm_activate(struct rmmemu_vm *vm)
{
	if (!vm->realm_created || vm->active)
		return -EINVAL;
	if (rmi(vm, SMC_RMI_REALM_ACTIVATE, vm->rd, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
		return -ENXIO;
	vm->active = true;
	return 0;
}

static int cmp_rtt_deepest_first(const void *a, const void *b)
{
	const struct rtt_rec *x = a, *y = b;
	return y->level - x->level;
}


/* The explicit (v10 uAPI) calls; a VM on the implicit v12 profile (host/vm_v12.c) refuses them. */
int rmmemu_vm_create_realm(struct rmmemu_vm *vm)
{
	return vm->implicit ? -EPERM : vm_create_realm(vm);
}

int rmmemu_vm_init_ripas(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size)
{
	return vm->implicit ? -EPERM : vm_init_ripas(vm, ipa, size);
}

int rmmemu_vm_populate(struct rmmemu_vm *vm, uint64_t ipa, const void *src, uint64_t size, bool measure)
{
	return vm->implicit ? -EPERM : vm_populate(vm, ipa, src, size, measure);
}

int rmmemu_vm_finalize_vcpu(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8])
{
	return vm->implicit ? -EPERM : vm_finalize_vcpu(vm, idx, pc, x);
}

int rmmemu_vm_activate(struct rmmemu_vm *vm)
{
	return vm->implicit ? -EPERM : vm_activate(vm);
}

int rmmemu_vm_destroy(struct rmmemu_vm *vm)
{
	struct rmmemu_smc_result r;
	int rc = 0;
	if (!vm)
		return 0;
	if (vm->realm_created) {
		/* 1. Shared memory: unmap the unprotected alias pages, give the granules back. */
		for (size_t i = 0; i < vm->nshared; i++) {
			if (rmi(vm, SMC_RMI_RTT_UNMAP_UNPROTECTED, vm->rd, vm->shared[i].ipa, 3, 0, 0, &r) != RMI_SUCCESS)
				rc = -ENXIO;
			free_granules(vm, vm->shared[i].pa, 1);
		}
		/* Every DATA granule of the protected half: DATA_DESTROY, skipping by the returned top. */
		uint64_t par = 1ULL << (vm->ipa_bits - 1);
		for (uint64_t ipa = 0; ipa < par;) {
			uint64_t x0 = rmi(vm, SMC_RMI_DATA_DESTROY, vm->rd, ipa, 0, 0, 0, &r);
			if (x0 == RMI_SUCCESS) {
				if (undelegate_free(vm, r.x[1]))
					rc = -ENXIO;
			} else if (RMI_RETURN_STATUS(x0) == RMI_ERROR_RTT && r.x[2] == ipa) {
				/* A live block: split it with a level-3 table, then retry. */
				int l = (int)RMI_RETURN_INDEX(x0);
				if (l >= 3 || create_rtt_levels(vm, ipa, l, 3)) {
					rc = -ENXIO;
					ipa += GRANULE;
				}
				continue;
			} else if (RMI_RETURN_STATUS(x0) != RMI_ERROR_RTT) {
				rc = -ENXIO;
				break;
			}
			ipa = r.x[2] > ipa ? r.x[2] : ipa + GRANULE;
		}
		/* 2. Non-root RTTs, deepest first. */
		if (vm->nrtts)
			qsort(vm->rtts, vm->nrtts, sizeof(vm->rtts[0]), cmp_rtt_deepest_first);
		for (size_t i = 0; i < vm->nrtts; i++) {
			if (rmi(vm, SMC_RMI_RTT_DESTROY, vm->rd, vm->rtts[i].ipa, (uint64_t)vm->rtts[i].level, 0, 0, &r) !=
			    RMI_SUCCESS || r.x[1] != vm->rtts[i].pa || undelegate_free(vm, vm->rtts[i].pa))
				rc = -ENXIO;
		}
		/* 3. RECs and their auxiliary granules. */
		for (unsigned i = 0; i < vm->nr_vcpus; i++) {
			struct vcpu *v = &vm->vcpus[i];
			if (!v->finalized)
				continue;
			if (rmi(vm, SMC_RMI_REC_DESTROY, v->rec, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
				rc = -ENXIO;
			for (unsigned k = 0; k < vm->num_aux; k++)
				if (undelegate_free(vm, v->aux[k]))
					rc = -ENXIO;
			if (undelegate_free(vm, v->rec))
				rc = -ENXIO;
		}
		/* 4. The realm, then the RD and the root RTTs. */
		if (rmi(vm, SMC_RMI_REALM_DESTROY, vm->rd, 0, 0, 0, 0, NULL) != RMI_SUCCESS)
			rc = -ENXIO;
		if (undelegate_free(vm, vm->rd))
			rc = -ENXIO;
		for (unsigned i = 0; i < vm->num_roots; i++)
			if (undelegate_free(vm, vm->rtt_base + i * GRANULE))
				rc = -ENXIO;
	} else {
		/* A failed create_realm: give back what it had delegated. */
		if (vm->rd && undelegate_free(vm, vm->rd))
			rc = -ENXIO;
		for (unsigned i = 0; vm->rtt_base && i < vm->num_roots; i++) {
			struct rmmemu_granule_info gi;
			uint64_t pa = vm->rtt_base + i * GRANULE;
			if (rmmemu_granule_info(vm->emu, pa, &gi) == 0 && gi.state == RMMEMU_GRANULE_DELEGATED &&
			    undelegate_free(vm, pa))
				rc = -ENXIO;
		}
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i].run)
			free_granules(vm, vm->vcpus[i].run, 1);
	free(vm->shared);
	free(vm->rtts);
	vgic_destroy(vm->vgic);
	for (unsigned i = 0; i < 2; i++)
		if (vm->wake[i] >= 0)
			close(vm->wake[i]);
	pool_release(vm->emu);
	free(vm);
	return rc;
}

uint64_t rmmemu_vm_rd(const struct rmmemu_vm *vm) { return vm->rd; }
uint64_t rmmemu_vm_rec(const struct rmmemu_vm *vm, unsigned idx) { return idx < vm->nr_vcpus ? vm->vcpus[idx].rec : 0; }
unsigned rmmemu_vm_ipa_bits(const struct rmmemu_vm *vm) { return vm->ipa_bits; }
uint64_t rmmemu_vm_last_rmi(const struct rmmemu_vm *vm) { return vm->last_rmi; }

int rmmemu_vm_measurement(const struct rmmemu_vm *vm, unsigned slot, uint8_t out[64])
{
	size_t len;
	if (!vm->realm_created || rmmemu_debug_measurement(vm->emu, vm->rd, slot, out, &len))
		return -EINVAL;
	return (int)len;
}

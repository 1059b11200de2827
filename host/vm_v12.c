/* The reference host's second profile: the KVM CCA v12 uAPI flow (include/rmmemu/host.h). */
#include <errno.h>
#include <string.h>

#include "host/vm_internal.h"

#define POPULATE_CHUNK (2ULL << 20)   /* KVM processes POPULATE in 2 MiB chunks */

static int implicit_ok(struct rmmemu_vm *vm)
{
	if (!vm)
		return -EINVAL;
	/* A VM driven through the explicit v10 calls stays on them. */
	if (!vm->implicit && (vm->realm_created || vm->active))
		return -EPERM;
	vm->implicit = true;
	return 0;
}

int rmmemu_vm_add_memslot(struct rmmemu_vm *vm, uint64_t ipa, uint64_t size)
{
	int rc = implicit_ok(vm);
	if (rc)
		return rc;
	if (vm->slots_ripas || vm->active)
		return -EBUSY;
	if (check_range(vm, ipa, size))
		return -EINVAL;
	for (unsigned i = 0; i < vm->nslots; i++)
		if (ipa < vm->slots[i].base + vm->slots[i].size && vm->slots[i].base < ipa + size)
			return -EEXIST;
	if (vm->nslots >= sizeof(vm->slots) / sizeof(vm->slots[0]))
		return -ENOSPC;
	vm->slots[vm->nslots++] = (struct rmmemu_range){ ipa, size };
	return 0;
}

/* "Create the realm descriptor" and "Set RIPAS of initial memslots", on first need. */
static int ensure_realm(struct rmmemu_vm *vm)
{
	int rc;
	if (!vm->realm_created && (rc = vm_create_realm(vm)))
		return rc;
	if (!vm->slots_ripas) {
		for (unsigned i = 0; i < vm->nslots; i++)
			if ((rc = vm_init_ripas(vm, vm->slots[i].base, vm->slots[i].size)))
				return rc;
		vm->slots_ripas = true;
	}
	return 0;
}

int64_t rmmemu_vm_rmi_populate(struct rmmemu_vm *vm, uint64_t base, uint64_t size, const void *src, uint32_t flags)
{
	int rc = implicit_ok(vm);
	if (rc)
		return rc;
	if (vm->active)
		return -EPERM;
	if (!src || (flags & ~RMMEMU_RMI_POPULATE_MEASURE) || check_range(vm, base, size))
		return -EINVAL;
	bool inside = false;
	for (unsigned i = 0; i < vm->nslots; i++)
		inside |= base >= vm->slots[i].base && base + size <= vm->slots[i].base + vm->slots[i].size;
	if (!inside)
		return -EINVAL;
	if ((rc = ensure_realm(vm)))
		return rc;
	uint64_t n = POPULATE_CHUNK - (base & (POPULATE_CHUNK - 1));
	if (n > size)
		n = size;
	rc = vm_populate(vm, base, src, n, flags & RMMEMU_RMI_POPULATE_MEASURE);
	return rc ? rc : (int64_t)n;
}

int rmmemu_vm_set_vcpu_regs(struct rmmemu_vm *vm, unsigned idx, uint64_t pc, const uint64_t x[8])
{
	int rc = implicit_ok(vm);
	if (rc)
		return rc;
	if (vm->active)
		return -EPERM;
	if (idx >= vm->nr_vcpus)
		return -EINVAL;
	vm->regs[idx].pc = pc;
	if (x)
		memcpy(vm->regs[idx].x, x, sizeof(vm->regs[idx].x));
	else
		memset(vm->regs[idx].x, 0, sizeof(vm->regs[idx].x));
	vm->regs[idx].set = true;
	return 0;
}

/* "Activate realm on first VCPU run": RECs in ascending MPIDR order, then REALM_ACTIVATE. */
int vm_v12_first_run(struct rmmemu_vm *vm)
{
	int rc;
	if ((rc = ensure_realm(vm)))
		return rc;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].finalized &&
		    (rc = vm_finalize_vcpu(vm, i, vm->regs[i].pc, vm->regs[i].x)))
			return rc;
	return vm_activate(vm);
}

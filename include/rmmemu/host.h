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

#include "rmmemu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct rmmemu_vm;

#define RMMEMU_HASH_SHA256 0
#define RMMEMU_HASH_SHA512 1

struct rmmemu_vm_params {
	unsigned ipa_bits;      /* IPA width incl. the shared bit; 0: kvmtool's rule from the RAM end */
	unsigned nr_vcpus;      /* 1..(max RECs) */
};

/* A VM on an instance. Host memory (RD, RTTs, RECs, DATA backing, RMI parameter pages) comes from
 * the instance's DRAM, allocated granule by granule. */
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

/*
 * An out-of-tree program built against an installed rmmemu (tests/cli/install.sh): what a
 * hypervisor team's host-side test looks like. It builds a one-vCPU realm through the reference
 * host (include/rmmemu/host.h), populates four AArch64 instructions that call PSCI SYSTEM_OFF,
 * activates it, runs it on the vCPU, prints the RIM and checks that every granule ends UNDELEGATED.
 */
#include <stdio.h>
#include <string.h>

#include <rmmemu/host.h>
#include <rmmemu/rmmemu.h>

#define RAM_IPA 0x80000000ULL

int main(void)
{
	/* movz w0, #0x0008; movk w0, #0x8400, lsl #16; smc #0; b . */
	static const unsigned insns[4] = { 0x52800100, 0x72b08000, 0xd4000003, 0x14000000 };
	char err[256];
	struct rmmemu_platform_config pc;
	rmmemu_platform_default(&pc);
	struct rmmemu *emu = rmmemu_create(&pc, err, sizeof(err));
	if (!emu) {
		fprintf(stderr, "example: rmmemu_create: %s\n", err);
		return 1;
	}
	int rc = rmmemu_enable_vcpu(emu);
	struct rmmemu_vm *vm = NULL;
	struct rmmemu_vm_params p = { .ipa_bits = 33, .nr_vcpus = 1 };
	rc = rc ?: rmmemu_vm_create(emu, &p, &vm);
	rc = rc ?: rmmemu_vm_create_realm(vm);
	rc = rc ?: rmmemu_vm_init_ripas(vm, RAM_IPA, 0x200000);
	rc = rc ?: rmmemu_vm_populate(vm, RAM_IPA, insns, sizeof(insns), true);
	rc = rc ?: rmmemu_vm_finalize_vcpu(vm, 0, RAM_IPA, NULL);
	rc = rc ?: rmmemu_vm_activate(vm);
	if (rc) {
		fprintf(stderr, "example: building the realm failed (%d, last RMI 0x%llx)\n", rc,
			vm ? (unsigned long long)rmmemu_vm_last_rmi(vm) : 0ULL);
		return 1;
	}
	uint8_t rim[64];
	int n = rmmemu_vm_measurement(vm, 0, rim);
	printf("engine %s\nRIM ", rmmemu_vcpu_engine());
	for (int i = 0; i < n; i++)
		printf("%02x", rim[i]);
	printf("\n");
	struct rmmemu_vm_run_result r;
	rmmemu_vm_run(vm, NULL, 1000, &r);
	printf("stop %s after %llu REC entries\n", r.stop == RMMEMU_VM_SYSTEM_OFF ? "SYSTEM_OFF" : "other",
	       (unsigned long long)r.entries);
	if (rmmemu_vm_destroy(vm))
		return 1;
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	uint64_t total = 0;
	for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
		total += counts[s];
	printf("granules %llu, undelegated %llu\n", (unsigned long long)total,
	       (unsigned long long)counts[RMMEMU_GRANULE_UNDELEGATED]);
	int ok = r.stop == RMMEMU_VM_SYSTEM_OFF && counts[RMMEMU_GRANULE_UNDELEGATED] == total;
	rmmemu_disable_vcpu(emu);
	rmmemu_destroy(emu);
	printf("%s\n", ok ? "example: OK" : "example: FAILED");
	return ok ? 0 : 1;
}

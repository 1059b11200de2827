/* The reference host's realm life cycle (include/rmmemu/host.h) against the RMM. */
#include <CUnit/Basic.h>

#include "helpers/th.h"
#include <errno.h>
#include <string.h>

#include "rmmemu/host.h"
#include "rmmemu/rmmemu.h"

static struct rmmemu *emu;

static int setup(void)
{
	struct rmmemu_platform_config cfg;
	rmmemu_platform_default(&cfg);
	cfg.dram[0].size = 256ULL << 20;
	emu = rmmemu_create(&cfg, NULL, 0);
	return emu ? 0 : -1;
}

static int teardown(void)
{
	rmmemu_destroy(emu);
	return 0;
}

static void assert_invariants(void)
{
	char msg[256] = "";
	int rc = rmmemu_check_invariants(emu, msg, sizeof(msg));
	if (rc)
		fprintf(stderr, "invariant: %s\n", msg);
	CU_ASSERT_EQUAL(rc, 0);
}

static void assert_all_undelegated(void)
{
	uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
	rmmemu_granule_census(emu, counts);
	for (unsigned s = 1; s < RMMEMU_GRANULE_NUM_STATES; s++)
		CU_ASSERT_EQUAL(counts[s], 0);
}

static uint64_t read_entry(struct rmmemu_vm *vm, uint64_t ipa, unsigned level, struct rmmemu_smc_result *r)
{
	return rmmemu_smc6(emu, SMC_RMI_RTT_READ_ENTRY, rmmemu_vm_rd(vm), ipa, level, 0, 0, 0, r);
}

static void test_lifecycle(void)
{
	struct rmmemu_vm *vm;
	struct rmmemu_vm_params p = { .ipa_bits = 33, .nr_vcpus = 2 };
	uint8_t rpv[64] = "reference host";
	uint8_t image[3 * 4096 + 100];
	struct rmmemu_smc_result r;

	for (unsigned i = 0; i < sizeof(image); i++)
		image[i] = (uint8_t)(i * 13);
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &vm), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_configure(vm, RMMEMU_HASH_SHA512, rpv), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_populate(vm, 0x80000000, image, 4096, true), -EPERM); /* no realm yet */
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create_realm(vm), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_create_realm(vm), -EEXIST);
	CU_ASSERT_EQUAL(rmmemu_vm_configure(vm, RMMEMU_HASH_SHA256, NULL), -EBUSY);
	assert_invariants();

	/* RIPAS over 4 MiB + 64 KiB: two 2 MiB blocks at level 2, then 16 pages at level 3. */
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_init_ripas(vm, 0x80000000, 0x410000), 0);
	CU_ASSERT_EQUAL(read_entry(vm, 0x80200000, 2, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[1], 2);
	CU_ASSERT_EQUAL(r.x[4], RMI_RAM);
	CU_ASSERT_EQUAL(read_entry(vm, 0x8040F000, 3, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[1], 3);
	CU_ASSERT_EQUAL(r.x[4], RMI_RAM);
	CU_ASSERT_EQUAL(read_entry(vm, 0x80410000, 3, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[4], RMI_EMPTY);
	assert_invariants();

	/* Populate 3 pages + 100 bytes (rounded up, zero padded) at level 3. */
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_populate(vm, 0x80000000, image, sizeof(image), true), 0);
	CU_ASSERT_EQUAL(read_entry(vm, 0x80003000, 3, &r), RMI_SUCCESS);
	CU_ASSERT_EQUAL(r.x[2], RMI_ASSIGNED);
	uint8_t back[4096];
	CU_ASSERT_EQUAL(rmmemu_debug_realm_read(emu, rmmemu_vm_rd(vm), 0x80003000, back, sizeof(back)), 0);
	CU_ASSERT_EQUAL(memcmp(back, image + 3 * 4096, 100), 0);
	CU_ASSERT_EQUAL(back[100], 0);
	CU_ASSERT_EQUAL(rmmemu_vm_populate(vm, 0x80000001, image, 4096, true), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_populate(vm, 1ULL << 32, image, 4096, true), -EINVAL); /* shared half */
	/* Populating twice is an RMI error (the entry is ASSIGNED). */
	CU_ASSERT_EQUAL(rmmemu_vm_populate(vm, 0x80000000, image, 4096, true), -ENXIO);
	CU_ASSERT_EQUAL(rmmemu_vm_last_rmi(vm), RMI_PACK_RETURN(RMI_ERROR_RTT, 3));
	assert_invariants();

	uint64_t x[8] = { 0x80000000 };
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(vm, 1, 0x80000000, x), -EINVAL); /* out of order */
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_finalize_vcpu(vm, 0, 0x80000000, x), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(vm, 0, 0x80000000, x), -EBUSY);
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_finalize_vcpu(vm, 1, 0x80000000, x), 0);
	uint8_t rim[64];
	CU_ASSERT_EQUAL(rmmemu_vm_measurement(vm, 0, rim), 64);
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_activate(vm), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_activate(vm), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_populate(vm, 0x80100000, image, 4096, true), -EPERM);
	assert_invariants();

	/* Non-runnable vCPU 1, runnable vCPU 0. */
	uint64_t run = 0x80000000ULL + (200ULL << 20);
	uint8_t zero[4096] = { 0 };
	rmmemu_ns_write(emu, run, zero, sizeof(zero));
	CU_ASSERT_EQUAL(rmmemu_smc6(emu, SMC_RMI_REC_ENTER, rmmemu_vm_rec(vm, 0), run, 0, 0, 0, 0, NULL), RMI_SUCCESS);
	CU_ASSERT_EQUAL(rmmemu_smc6(emu, SMC_RMI_REC_ENTER, rmmemu_vm_rec(vm, 1), run, 0, 0, 0, 0, NULL), RMI_ERROR_REC);

	CU_ASSERT_EQUAL(rmmemu_vm_destroy(vm), 0);
	assert_invariants();
	assert_all_undelegated();
}

static void test_two_realms_and_ipa_sizes(void)
{
	static const unsigned sizes[] = { 32, 33, 34, 35, 39, 40, 41, 43, 44, 48 };
	for (unsigned i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		struct rmmemu_vm *a, *b;
		struct rmmemu_vm_params p = { .ipa_bits = sizes[i], .nr_vcpus = 1 };
		uint8_t page[4096] = { 1 };
		CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &a), 0);
		CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &b), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_create_realm(a), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_create_realm(b), 0);
		/* A page, then 1 GiB: blocks as large as the start level allows (all within 2 GiB). */
		CU_ASSERT_EQUAL(rmmemu_vm_init_ripas(a, 0x3FFFF000, 0x40001000), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_populate(a, 0x40000000, page, sizeof(page), false), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_populate(a, 0x3FFFF000, page, sizeof(page), true), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_populate(b, 0x1000, page, sizeof(page), true), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(a, 0, 0x40000000, NULL), 0);
		assert_invariants();
		CU_ASSERT_EQUAL(rmmemu_vm_destroy(a), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_destroy(b), 0);
		assert_all_undelegated();
	}
}

/* Two VMs on one instance take host memory from one pool: their normal-world pages never overlap. */
static void test_shared_pool(void)
{
	struct rmmemu_vm *a, *b;
	struct rmmemu_vm_params p = { .ipa_bits = 33, .nr_vcpus = 1 };
	uint8_t page[4096] = { 0 };
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &a), 0);
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &b), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_create_realm(a), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_create_realm(b), 0);
	/* Each keeps an NS parameter page; B's realm objects must not land on A's pages and
	 * vice versa: interleave their work and check both realms stay consistent. */
	for (unsigned i = 0; i < 8; i++) {
		CU_ASSERT_EQUAL(rmmemu_vm_populate(a, 0x80000000 + i * 4096ULL, page, sizeof(page), true), 0);
		CU_ASSERT_EQUAL(rmmemu_vm_populate(b, 0x80000000 + i * 4096ULL, page, sizeof(page), true), 0);
	}
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(a, 0, 0x80000000, NULL), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(b, 0, 0x80000000, NULL), 0);
	CU_ASSERT_NOT_EQUAL(rmmemu_vm_rd(a), rmmemu_vm_rd(b));
	assert_invariants();
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(a), 0);
	/* B still works after A gave its pages back, and the same RIM as A would have had. */
	CU_ASSERT_EQUAL(rmmemu_vm_activate(b), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(b), 0);
	assert_all_undelegated();
}

static void test_bad_params(void)
{
	struct rmmemu_vm *vm;
	struct rmmemu_vm_params p = { .ipa_bits = 31, .nr_vcpus = 1 };
	CU_ASSERT_EQUAL(rmmemu_vm_create(emu, &p, &vm), -EINVAL);
	p.ipa_bits = 40;
	p.nr_vcpus = 0;
	CU_ASSERT_EQUAL(rmmemu_vm_create(emu, &p, &vm), -EINVAL);
	p.nr_vcpus = 1;
	CU_ASSERT_EQUAL_FATAL(rmmemu_vm_create(emu, &p, &vm), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_configure(vm, 7, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_init_ripas(vm, 0, 4096), -EPERM);
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(vm, 0, 0, NULL), -ENOENT);
	CU_ASSERT_EQUAL(rmmemu_vm_create_realm(vm), 0);
	CU_ASSERT_EQUAL(rmmemu_vm_init_ripas(vm, 0, 0), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_init_ripas(vm, 0x800, 4096), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_finalize_vcpu(vm, 1, 0, NULL), -EINVAL);
	CU_ASSERT_EQUAL(rmmemu_vm_destroy(vm), 0);
	assert_all_undelegated();
}

static const struct th_test tests[] = {
	{ "realm life cycle through the reference host", test_lifecycle },
	{ "two realms per instance, IPA widths 32..48", test_two_realms_and_ipa_sizes },
	{ "one host memory pool per instance", test_shared_pool },
	{ "bad parameters and wrong order", test_bad_params },
};

int main(void)
{
	return TH_RUN("host_vm", setup, teardown, tests);
}

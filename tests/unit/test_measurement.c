/*
 * RIM measurement hooks (attest/measurement.c): known-answer tests for SHA-256 and SHA-512.
 *
 * The expected values were computed independently with Python hashlib, building the
 * RmiRealmParams / RmiRecParams images and the 256-byte measurement descriptors byte by byte
 * (see docs/measurement.md).
 */
#include <stdio.h>
#include <string.h>

#include <CUnit/Basic.h>

#include "helpers/th.h"

#include "attest/measurement.h"
#include "rmm/measure_hooks.h"
#include "rmm/realm.h"
#include "rmmemu/rmi_defs.h"

/* One known answer per algorithm. */
struct kat {
	const char *sha256;
	const char *sha512;
};

static const struct kat kat_realm_params = {
	"cc2f0393a97b71f487ab40c42407ce19ec8943010dc0ba40fce9c5601c93f221",
	"2ca23540f2bbd97f2a62486b866dd25a5b373d6d5c0ccf577f8b9eb3b6a9a089"
	"3e56b14f4d02e6f5a76c0bf1a6c3ef49020940fb0056d9c60fdf7724677c9737",
};
static const struct kat kat_data_measured = {
	"759d1749f2edbac56c92d080ea711eeccee4406df576ace7f15d8c4080127ab0",
	"f009e1887c8b833d62dc5a848501d877854e711f96e25e47d8df7682bebaf93d"
	"ebe2537a202032c3814f307c743eb15a070bdc4666ffd1dd414b4e6fbfa5670e",
};
static const struct kat kat_data_unmeasured = {
	"ce27fdfbcc9b1c05d835034389c796613d17c58b153f374ad9e93185f2b0b8be",
	"517433a4fc5f3bdf4ab7ec8e1041b6451b67da793872ecd2162e0d2c5cec145a"
	"364d5a2aceea0c4f37d25bb76e176701c9b3438ae094de36359497d3ed129241",
};
static const struct kat kat_ripas = {
	"58c29061daabcb0536cebb14300870ea2c5333843383dcbbc3b62e85fb8cb1db",
	"e14818b5299311089a0190730f8e0c8ce9f6d4f20a98f23ff690add656dc69ef"
	"dd2cba3f7ec4371327dfb57b8df66ba9adefc7793fce555c263e88405c9613bf",
};
static const struct kat kat_rec = {
	"88457c9da33d55735636364ff2bec9c1a4e286499b9f185d54cf2c856f181bc7",
	"f7c92ec5725023e9236fed4deb54f948820675073555db573bff6bf71fd6ff15"
	"29617656898694311b2b5dc4c41ac3db178ed1b6beb82f9102133d513610d3f3",
};
static const struct kat kat_extend = {
	"06d6f04cde06c9c2e56a17c91e18a8a003784cdecb7e464493b695116cdfa8d6",
	"7a2e446cf32a0f045d763feeaf4109dbc888d42d0b0ae8f3303623d199ff8b60"
	"7839d730f516194a62f0bfaf9dced787c4779a2ec826f6db752882e825c52cbd",
};
static const struct kat kat_chain = {
	"db3a46553281e2f58d605e1a9379f95cc5c05864b12384e6a42d26c2409719ca",
	"5576a93c0875746270d9a4de17213be432c809d9971db10760e30229860ab7d7"
	"009cc0d96be0d09aaaddc8b87097bf3e5a3ad5c65b4a89ee002e4261ae90e687",
};

static const enum hash_algo algos[] = { HASH_SHA_256, HASH_SHA_512 };

static uint8_t data_granule[GRANULE_SIZE];
static uint8_t data_granule_reversed[GRANULE_SIZE];

/* ---- helpers ---- */

static void put_u64(uint8_t *p, uint64_t v)
{
	for (unsigned i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t digest_size(enum hash_algo algo)
{
	return algo == HASH_SHA_256 ? 32 : 64;
}

/* The 64-byte slot must hold the expected digest followed by zeros. */
static void check_measurement(const uint8_t m[MAX_MEASUREMENT_SIZE], const struct kat *k,
			      enum hash_algo algo)
{
	const char *hex = algo == HASH_SHA_256 ? k->sha256 : k->sha512;
	uint8_t expected[MAX_MEASUREMENT_SIZE] = { 0 };

	CU_ASSERT_EQUAL_FATAL(strlen(hex), 2 * digest_size(algo));
	for (size_t i = 0; i < digest_size(algo); i++) {
		unsigned byte;

		CU_ASSERT_FATAL(sscanf(hex + 2 * i, "%2x", &byte) == 1);
		expected[i] = (uint8_t)byte;
	}
	if (memcmp(m, expected, MAX_MEASUREMENT_SIZE) != 0) {
		printf("\n  got      ");
		for (size_t i = 0; i < MAX_MEASUREMENT_SIZE; i++)
			printf("%02x", m[i]);
		printf("\n  expected %s (zero-extended)\n", hex);
	}
	CU_ASSERT(memcmp(m, expected, MAX_MEASUREMENT_SIZE) == 0);
}

static void rd_init(struct rd *rd, enum hash_algo algo)
{
	memset(rd, 0, sizeof(*rd));
	rd->algorithm = (uint8_t)algo;
}

/* A known, non-trivial RIM to extend from: bytes 0x10, 0x11, ... zero-extended. */
static void rd_init_with_rim(struct rd *rd, enum hash_algo algo)
{
	rd_init(rd, algo);
	for (size_t i = 0; i < digest_size(algo); i++)
		rd->measurement[RIM_MEASUREMENT_SLOT][i] = (uint8_t)(0x10 + i);
}

/*
 * RmiRealmParams: SVE|PMU, s2sz 40, sve_vl 3, 6 BPs, 4 WPs, 8 PMU counters; the unmeasured
 * fields (a reserved byte, rpv, vmid, rtt_base, rtt_level_start, rtt_num_start) are non-zero.
 */
static void realm_params_image(uint8_t p[GRANULE_SIZE], enum hash_algo algo)
{
	memset(p, 0, GRANULE_SIZE);
	put_u64(p + RMI_REALM_PARAMS_FLAGS, RMI_REALM_FLAGS_SVE | RMI_REALM_FLAGS_PMU);
	p[RMI_REALM_PARAMS_S2SZ] = 40;
	p[RMI_REALM_PARAMS_SVE_VL] = 3;
	p[RMI_REALM_PARAMS_NUM_BPS] = 6;
	p[RMI_REALM_PARAMS_NUM_WPS] = 4;
	p[RMI_REALM_PARAMS_PMU_NUM_CTRS] = 8;
	p[RMI_REALM_PARAMS_HASH_ALGO] = (uint8_t)algo;
	p[0x200] = 0xEE;
	for (unsigned i = 0; i < RMI_RPV_SIZE; i++)
		p[RMI_REALM_PARAMS_RPV + i] = (uint8_t)(0xA0 + i);
	p[RMI_REALM_PARAMS_VMID] = 7;
	put_u64(p + RMI_REALM_PARAMS_RTT_BASE, 0x88000000);
	put_u64(p + RMI_REALM_PARAMS_RTT_LEVEL_START, 1);
	p[RMI_REALM_PARAMS_RTT_NUM_START] = 2;
}

/*
 * RmiRecParams: RUNNABLE, pc 0x80000000, x0 = 0x8fe00000, xN = N * 0x1111111111111111; the
 * unmeasured fields (a reserved byte, mpidr, num_aux, aux[0..1]) are non-zero.
 */
static void rec_params_image(uint8_t p[GRANULE_SIZE])
{
	memset(p, 0, GRANULE_SIZE);
	put_u64(p + RMI_REC_PARAMS_FLAGS, RMI_REC_PARAMS_FLAG_RUNNABLE);
	p[0x80] = 0x55;
	put_u64(p + RMI_REC_PARAMS_MPIDR, 0x0102);
	put_u64(p + RMI_REC_PARAMS_PC, 0x80000000);
	put_u64(p + RMI_REC_PARAMS_GPRS, 0x8FE00000);
	for (unsigned i = 1; i < RMI_REC_CREATE_NR_GPRS; i++)
		put_u64(p + RMI_REC_PARAMS_GPRS + 8 * i, 0x1111111111111111ULL * i);
	put_u64(p + RMI_REC_PARAMS_NUM_AUX, 2);
	put_u64(p + RMI_REC_PARAMS_AUX, 0x88100000);
	put_u64(p + RMI_REC_PARAMS_AUX + 8, 0x88101000);
}

/* ---- tests ---- */

static void test_realm_params(void)
{
	static uint8_t params[GRANULE_SIZE], measured_only[GRANULE_SIZE];
	struct rd rd, rd_clean;

	for (size_t a = 0; a < 2; a++) {
		rd_init(&rd, algos[a]);
		memset(rd.measurement[RIM_MEASUREMENT_SLOT], 0xFF, MAX_MEASUREMENT_SIZE);
		realm_params_image(params, algos[a]);
		measurement_realm_params_measure(&rd, params);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_realm_params, algos[a]);

		/* The same image with every unmeasured field cleared gives the same RIM. */
		memset(measured_only, 0, sizeof(measured_only));
		memcpy(measured_only, params, RMI_REALM_PARAMS_HASH_ALGO + 1);
		rd_init(&rd_clean, algos[a]);
		measurement_realm_params_measure(&rd_clean, measured_only);
		CU_ASSERT(memcmp(rd.measurement, rd_clean.measurement, sizeof(rd.measurement)) == 0);
	}
}

static void test_data_measured(void)
{
	struct rd rd;

	for (size_t a = 0; a < 2; a++) {
		rd_init_with_rim(&rd, algos[a]);
		measurement_data_granule_measure(&rd, data_granule, 0x80000000, RMI_MEASURE_CONTENT);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_data_measured, algos[a]);
	}
}

static void test_data_unmeasured(void)
{
	struct rd rd;

	for (size_t a = 0; a < 2; a++) {
		rd_init_with_rim(&rd, algos[a]);
		measurement_data_granule_measure(&rd, data_granule, 0x80001000,
						 RMI_NO_MEASURE_CONTENT);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_data_unmeasured,
				  algos[a]);

		/* Content is not read: other content, or none at all, gives the same RIM. */
		rd_init_with_rim(&rd, algos[a]);
		measurement_data_granule_measure(&rd, data_granule_reversed, 0x80001000,
						 RMI_NO_MEASURE_CONTENT);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_data_unmeasured,
				  algos[a]);
		rd_init_with_rim(&rd, algos[a]);
		measurement_data_granule_measure(&rd, NULL, 0x80001000, RMI_NO_MEASURE_CONTENT);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_data_unmeasured,
				  algos[a]);
	}
}

static void test_init_ripas(void)
{
	struct rd rd;

	for (size_t a = 0; a < 2; a++) {
		rd_init_with_rim(&rd, algos[a]);
		measurement_init_ripas_measure(&rd, 0x80000000, 0x80200000);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_ripas, algos[a]);
	}
}

static void test_rec_params(void)
{
	static uint8_t params[GRANULE_SIZE];
	struct rd rd;

	for (size_t a = 0; a < 2; a++) {
		rd_init_with_rim(&rd, algos[a]);
		rec_params_image(params);
		measurement_rec_params_measure(&rd, params);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_rec, algos[a]);

		/* mpidr and the auxiliary granules are not measured. */
		put_u64(params + RMI_REC_PARAMS_MPIDR, 0x01000300);
		put_u64(params + RMI_REC_PARAMS_NUM_AUX, 0);
		memset(params + RMI_REC_PARAMS_AUX, 0, 8 * RMI_MAX_REC_AUX_GRANULES);
		rd_init_with_rim(&rd, algos[a]);
		measurement_rec_params_measure(&rd, params);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_rec, algos[a]);
	}
}

static void test_extend(void)
{
	uint8_t data[64];
	struct rd rd;

	for (unsigned i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i + 1);
	for (size_t a = 0; a < 2; a++) {
		/* In place, as RSI_MEASUREMENT_EXTEND updates a REM slot. */
		rd_init_with_rim(&rd, algos[a]);
		measurement_extend(algos[a], rd.measurement[0], data, sizeof(data), rd.measurement[0]);
		check_measurement(rd.measurement[0], &kat_extend, algos[a]);
		CU_ASSERT_EQUAL(measurement_size(algos[a]), digest_size(algos[a]));
	}
}

/* REALM_CREATE, INIT_RIPAS x2, DATA_CREATE measured x2, REC_CREATE, DATA_CREATE unmeasured. */
static void test_chain(void)
{
	static uint8_t realm_params[GRANULE_SIZE], rec_params[GRANULE_SIZE];
	struct rd rd;

	rec_params_image(rec_params);
	for (size_t a = 0; a < 2; a++) {
		rd_init(&rd, algos[a]);
		realm_params_image(realm_params, algos[a]);
		measurement_realm_params_measure(&rd, realm_params);
		measurement_init_ripas_measure(&rd, 0x80000000, 0x80200000);
		measurement_init_ripas_measure(&rd, 0x80200000, 0x80400000);
		measurement_data_granule_measure(&rd, data_granule, 0x80000000, RMI_MEASURE_CONTENT);
		measurement_data_granule_measure(&rd, data_granule_reversed, 0x80001000,
						 RMI_MEASURE_CONTENT);
		measurement_rec_params_measure(&rd, rec_params);
		measurement_data_granule_measure(&rd, NULL, 0x80002000, RMI_NO_MEASURE_CONTENT);
		check_measurement(rd.measurement[RIM_MEASUREMENT_SLOT], &kat_chain, algos[a]);

		/* Only the RIM slot is touched. */
		for (unsigned s = 1; s < MEASUREMENT_SLOT_NR; s++)
			for (unsigned i = 0; i < MAX_MEASUREMENT_SIZE; i++)
				CU_ASSERT_EQUAL(rd.measurement[s][i], 0);
	}
}

static const struct th_test tests[] = {
	{ "realm params (unmeasured fields ignored)", test_realm_params },
	{ "DATA descriptor, measured", test_data_measured },
	{ "DATA descriptor, unmeasured", test_data_unmeasured },
	{ "RIPAS descriptor", test_init_ripas },
	{ "REC descriptor (mpidr, aux ignored)", test_rec_params },
	{ "measurement_extend", test_extend },
	{ "chained RIM", test_chain },
};

int main(void)
{
	for (unsigned i = 0; i < GRANULE_SIZE; i++) {
		data_granule[i] = (uint8_t)(i * 7 + 3);
		data_granule_reversed[GRANULE_SIZE - 1 - i] = data_granule[i];
	}
	return TH_RUN("measurement", NULL, NULL, tests);
}

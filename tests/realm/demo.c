/*
 * The default demo realm (`rmmemu run` with no configuration): what a realm's own software sees of
 * CCA. It prints over the UART, reads its configuration, reads and extends its measurements, gets
 * an attestation token bound to a challenge, and hands the token to the host through a page it
 * shares (RIPAS EMPTY, used through the unprotected alias), as a realm guest does with its
 * verifier. The host side is the reference host's run loop (host/vm_run.c) and the CLI (host/cli.c).
 */
#include "rt.h"

#define DEMO_HOSTCALL_TOKEN 0xA77E   /* RsiHostCall imm: X1 = shared IPA of the token, X2 = length */

static uint8_t config[4096] __attribute__((aligned(4096)));
static uint8_t token[4096] __attribute__((aligned(4096)));
static uint8_t shared[4096] __attribute__((aligned(4096)));
static struct rt_host_call hc;

static void print_measurement(const char *name, unsigned slot, unsigned bytes)
{
	struct rt_smc r;
	rt_smc6(RSI_MEASUREMENT_READ, slot, 0, 0, 0, 0, &r);
	rt_printf("  %s: ", name);
	for (unsigned i = 0; i < bytes / 8; i++) {
		uint64_t w = r.x[1 + i];
		for (unsigned b = 0; b < 8; b++)
			rt_printf("%02x", (unsigned)((w >> (8 * b)) & 0xFF));
	}
	rt_printf("\n");
}

void main(void)
{
	struct rt_smc r;

	rt_printf("Hello from inside a realm (vCPU %u).\n", rt_cpu());
	rt_smc6(RSI_VERSION, RSI_ABI_1_0, 0, 0, 0, 0, &r);
	rt_printf("RSI ABI %lu.%lu\n", (unsigned long)(r.x[1] >> 16), (unsigned long)(r.x[1] & 0xFFFF));

	/* RsiRealmConfig: IPA width, hash algorithm, personalization value. */
	rt_smc6(RSI_REALM_CONFIG, (uint64_t)config, 0, 0, 0, 0, &r);
	unsigned algo = config[8];
	rt_printf("realm config: %lu-bit IPA space, %s measurements, RPV \"%s\"\n",
		  (unsigned long)*(uint64_t *)config, algo ? "SHA-512" : "SHA-256", (const char *)config + 0x200);
	unsigned digest = algo ? 64 : 32;

	rt_printf("measurements:\n");
	print_measurement("RIM ", 0, digest);
	/* Extend REM0 with what this realm has loaded (here: a name). */
	const uint64_t what = 0x6f6d65642d6d6d72UL; /* "rmm-demo" */
	rt_smc6(RSI_MEASUREMENT_EXTEND, 1, 8, what, 0, 0, &r);
	print_measurement("REM0", 1, digest);

	/* Attestation: a 64-byte challenge from the verifier in X1..X8, the token copied granule-wise
	 * into this realm's own (protected) page. */
	struct rt_smc s = { .x = { RSI_ATTEST_TOKEN_INIT } };
	for (unsigned i = 0; i < 8; i++)
		s.x[1 + i] = 0x0101010101010101UL * (i + 1);
	rt_smc_call(&s);
	uint64_t len = 0;
	for (;;) {
		rt_smc6(RSI_ATTEST_TOKEN_CONTINUE, (uint64_t)token, len, sizeof(token) - len, 0, 0, &r);
		len += r.x[1];
		if (r.x[0] != 3 /* RSI_INCOMPLETE */)
			break;
	}
	rt_printf("attestation token: %lu bytes (status %lu)\n", (unsigned long)len, (unsigned long)r.x[0]);

	/* Share one page with the host: RIPAS EMPTY, then use it through the unprotected alias. */
	uint64_t ipa = (uint64_t)shared;
	rt_smc6(RSI_IPA_STATE_SET, ipa, ipa + sizeof(shared), RIPAS_EMPTY, 0, 0, &r);
	volatile uint8_t *alias = (volatile uint8_t *)(rt_shared_bit | ipa);
	for (uint64_t i = 0; i < len; i++)
		alias[i] = token[i];
	rt_printf("token handed to the host through the shared page at IPA %#lx\n", (unsigned long)(rt_shared_bit | ipa));
	rt_host_call(DEMO_HOSTCALL_TOKEN, rt_shared_bit | ipa, len, &hc);
	rt_printf("Goodbye.\n");
}

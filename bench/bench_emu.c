/*
 * vCPU backend benchmark: guest instructions per second of a counted loop running in a realm under
 * rmmemu (Unicorn), against the same loop under qemu-system-aarch64 -M virt (printed as a ratio;
 * skipped with a message when QEMU is not installed), the round trip of an emulated MMIO access
 * (REC exit, host emulation, REC_ENTER with EMULATED_MMIO), an RSI call handled without leaving the
 * realm, and a host call round trip.
 *
 *   bench_emu [--iterations N] [--mmio K] [--rsi K] [--hostcalls K] [--no-qemu]
 */
#include <errno.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <unicorn/unicorn.h>

#include "realm_host.h"

extern char **environ;

static struct {
	uint64_t n, kmmio, krsi, khc;
	uint64_t t[16];
} B = { 300000000ULL, 20000, 200000, 20000, { 0 } };

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void host_call(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	(void)r;
	(void)rec;
	if (imm == 0xB0) {
		out[0] = B.n;
		out[1] = B.kmmio;
		out[2] = B.krsi;
		out[3] = B.khc;
	} else if (imm == 0xB1 && in[1] < 16) {
		B.t[in[1]] = now_ns();
	}
}

/* Wall time of one qemu-system-aarch64 run of the loop with n iterations, or a negative value. */
static double qemu_run(const char *qemu, uint64_t n)
{
	char elf[512], loader[128];
	snprintf(elf, sizeof(elf), "%s/qemu_loop.elf", RMMEMU_REALM_DIR);
	snprintf(loader, sizeof(loader), "loader,addr=0x44000000,data=%" PRIu64 ",data-len=8", n);
	char *argv[] = { (char *)qemu, "-M", "virt", "-cpu", "cortex-a72", "-m", "256", "-nographic",
			 "-monitor", "none", "-serial", "none", "-nodefaults", "-kernel", elf, "-device", loader, NULL };
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 1, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", 1, 0);
	pid_t pid;
	uint64_t t0 = now_ns();
	int rc = posix_spawn(&pid, qemu, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (double)(now_ns() - t0) / 1e9;
}

static const char *find_qemu(void)
{
	static char path[512];
	const char *p = getenv("PATH");
	if (!p)
		p = "/usr/bin:/bin";
	while (*p) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		snprintf(path, sizeof(path), "%.*s/qemu-system-aarch64", (int)len, p);
		if (access(path, X_OK) == 0)
			return path;
		p += len + (e ? 1 : 0);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	bool no_qemu = false;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--iterations") && i + 1 < argc)
			B.n = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--mmio") && i + 1 < argc)
			B.kmmio = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--rsi") && i + 1 < argc)
			B.krsi = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--hostcalls") && i + 1 < argc)
			B.khc = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--no-qemu"))
			no_qemu = true;
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--mmio K] [--rsi K] [--hostcalls K] [--no-qemu]\n", argv[0]);
			return 2;
		}
	}

	struct rh_env env;
	struct rh_realm *r = calloc(1, sizeof(*r));
	if (!r || !rh_env_init(&env, 64)) {
		fprintf(stderr, "cannot create the rmmemu instance\n");
		return 1;
	}
	if (!rh_realm_setup(&env, r, "loop", 33, 1)) {
		fprintf(stderr, "realm setup: %s\n", r->err);
		return 1;
	}
	r->on_host_call = host_call;
	uint64_t t0 = now_ns();
	bool ok = rh_run(r, 100000000);
	double total = (double)(now_ns() - t0) / 1e9;
	if (!ok || !r->system_off || !B.t[5]) {
		fprintf(stderr, "benchmark realm failed: %s\n%s", r->err, r->uart);
		return 1;
	}
	unsigned maj, min;
	uc_version(&maj, &min);
	double best = 0, worst = 0;
	for (unsigned i = 0; i < 3; i++) {
		double s = (double)(B.t[11 + i] - B.t[10 + i]) / 1e9;
		if (i == 0 || s < best)
			best = s;
		if (s > worst)
			worst = s;
	}
	double loop_s = best;
	double ips = 2.0 * (double)B.n / loop_s;
	printf("rmmemu vCPU benchmark (Unicorn %u.%u, one REC, 20 ms time slice)\n", maj, min);
	printf("  guest loop: %" PRIu64 " instructions in %.3f s: %.1f M instructions/s (best of 3; slowest %.1f M/s)\n",
	       2 * B.n, loop_s, ips / 1e6, 2.0 * (double)B.n / worst / 1e6);
	printf("  loop with one store per iteration: %.1f M instructions/s, %.1f ns per store\n",
	       3.0 * (double)(B.n / 10) / ((double)(B.t[15] - B.t[13]) / 1e9) / 1e6,
	       (double)(B.t[15] - B.t[13]) / (double)(B.n / 10));
	printf("  MMIO exit round trip (exit + host emulation + REC_ENTER): %.2f us (%" PRIu64 " reads)\n",
	       (double)(B.t[3] - B.t[2]) / 1e3 / (double)B.kmmio, B.kmmio);
	printf("  RSI call without exit (RSI_VERSION): %.3f us (%" PRIu64 " calls)\n",
	       (double)(B.t[4] - B.t[3]) / 1e3 / (double)B.krsi, B.krsi);
	printf("  host call round trip (RSI_HOST_CALL exit + REC_ENTER): %.2f us (%" PRIu64 " calls)\n",
	       (double)(B.t[5] - B.t[4]) / 1e3 / (double)B.khc, B.khc);
	printf("  whole run: %.3f s, %u REC entries\n", total, r->st.entries);

	const char *qemu = no_qemu ? NULL : find_qemu();
	if (!qemu) {
		printf("  qemu-system-aarch64: %s; ratio skipped (Debian package qemu-system-arm)\n",
		       no_qemu ? "not requested" : "not found");
	} else {
		/* Two runs: the slope removes QEMU's start-up and exit time. */
		uint64_t n1 = 1000000, n2 = B.n;
		double t1 = qemu_run(qemu, n1), t2 = qemu_run(qemu, n2);
		if (t1 < 0 || t2 < 0 || t2 <= t1) {
			printf("  qemu-system-aarch64: run failed; ratio skipped\n");
		} else {
			double qips = 2.0 * (double)(n2 - n1) / (t2 - t1);
			printf("  qemu-system-aarch64 -M virt -cpu cortex-a72 (TCG, EL1, no RMM): %.1f M instructions/s "
			       "(start-up %.3f s)\n", qips / 1e6, t1);
			printf("  ratio rmmemu / qemu: %.2f\n", ips / qips);
		}
	}
	rh_realm_destroy(r);
	rh_env_fini(&env);
	free(r);
	return 0;
}

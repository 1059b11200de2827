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
#include <pthread.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <unicorn/unicorn.h>

#include "emu/vcpu.h"
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

/* Wall time of one qemu-system-aarch64 run of the loop (kind 0: plain, 1: with a store) with n
 * iterations, or a negative value. */
static double qemu_run1(const char *qemu, uint64_t n, unsigned kind)
{
	char elf[512], loader[128], loader2[128];
	snprintf(elf, sizeof(elf), "%s/qemu_loop.elf", RMMEMU_REALM_DIR);
	snprintf(loader, sizeof(loader), "loader,addr=0x44000000,data=%" PRIu64 ",data-len=8", n);
	snprintf(loader2, sizeof(loader2), "loader,addr=0x44000008,data=%u,data-len=8", kind);
	char *argv[] = { (char *)qemu, "-M", "virt", "-cpu", "cortex-a72", "-m", "256", "-nographic",
			 "-monitor", "none", "-serial", "none", "-nodefaults", "-kernel", elf, "-device", loader,
			 "-device", loader2, NULL };
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

/* Best of QEMU_ROUNDS separate processes (QEMU's speed on such loops varies from one process to
 * the next between two modes, as rmmemu's does between rounds: docs/vcpu.md, quirk 18); the
 * slowest goes to *worst if given. */
#define QEMU_ROUNDS 7
static double qemu_run(const char *qemu, uint64_t n, unsigned kind, double *worst)
{
	double best = -1, slow = -1;
	for (unsigned i = 0; i < QEMU_ROUNDS; i++) {
		double t = qemu_run1(qemu, n, kind);
		if (t < 0)
			return -1;
		if (best < 0 || t < best)
			best = t;
		if (t > slow)
			slow = t;
	}
	if (worst)
		*worst = slow;
	return best;
}

/* One realm running the loop payload; fills B.t. slice_us: the vCPU time slice. */
static bool run_realm(unsigned slice_us, unsigned *entries, double *total)
{
	struct rh_env env;
	struct rh_realm *r = calloc(1, sizeof(*r));
	if (!r || !rh_env_init(&env, 64)) {
		fprintf(stderr, "cannot create the rmmemu instance\n");
		free(r);
		return false;
	}
	rmmemu_vcpu_set_timeslice(env.emu, slice_us);
	bool ok = rh_realm_setup(&env, r, "loop", 33, 1);
	if (ok) {
		r->on_host_call = host_call;
		memset(B.t, 0, sizeof(B.t));
		uint64_t t0 = now_ns();
		ok = rh_run(r, 100000000) && r->system_off && B.t[5];
		*total = (double)(now_ns() - t0) / 1e9;
		*entries = r->st.entries;
	}
	if (!ok)
		fprintf(stderr, "benchmark realm failed: %s\n%s", r->err, r->uart);
	rh_realm_destroy(r);
	rh_env_fini(&env);
	free(r);
	return ok;
}

/* Kick latency: a REC in a long loop (no time slice), kicked from another thread; the time from
 * rmmemu_vcpu_kick to the end of its REC_ENTER. Median of `rounds`, in microseconds (< 0: failed). */
static volatile uint64_t kick_at;

static void kick_params(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	(void)r;
	(void)rec;
	(void)in;
	if (imm == 0xB0) {
		out[0] = 1ULL << 40;   /* hours: only kicks end the runs */
		out[1] = out[2] = out[3] = 0;
	}
}

static void *kicker(void *arg)
{
	struct timespec ts = { 0, 5 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	kick_at = now_ns();
	rmmemu_vcpu_kick(arg);
	return NULL;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double kick_latency(unsigned rounds)
{
	struct rh_env env;
	struct rh_realm *r = calloc(1, sizeof(*r));
	double lat[64], result = -1;
	if (!r || rounds > 64 || !rh_env_init(&env, 64)) {
		free(r);
		return -1;
	}
	rmmemu_vcpu_set_timeslice(env.emu, 0);
	if (rh_realm_setup(&env, r, "loop", 33, 1)) {
		r->on_host_call = kick_params;
		/* Up to the second host call (the first mark): the loop comes next. */
		while (r->st.host_calls < 2 && rh_enter(r, 0) >= 0)
			;
		unsigned n = 0;
		for (; n < rounds; n++) {
			pthread_t t;
			if (pthread_create(&t, NULL, kicker, env.emu) != 0)
				break;
			int reason = rh_enter(r, 0);
			uint64_t end = now_ns();
			pthread_join(t, NULL);
			if (reason != RMI_EXIT_IRQ)
				break;
			lat[n] = (double)(end - kick_at) / 1e3;
		}
		if (n == rounds) {
			qsort(lat, n, sizeof(lat[0]), cmp_double);
			result = lat[n / 2];
		}
	}
	rh_realm_destroy(r);
	rh_env_fini(&env);
	free(r);
	return result;
}

static double loop_best(double *worst)
{
	double best = 0;
	*worst = 0;
	for (unsigned i = 0; i < 3; i++) {
		double s = (double)(B.t[11 + i] - B.t[10 + i]) / 1e9;
		if (i == 0 || s < best)
			best = s;
		if (s > *worst)
			*worst = s;
	}
	return best;
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
	setvbuf(stdout, NULL, _IOLBF, 0);
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

	unsigned maj, min, entries;
	double total, worst;
	uc_version(&maj, &min);
	printf("rmmemu vCPU benchmark (Unicorn %u.%u, one REC)\n", maj, min);

	/* Without time slice first (no per-block preemption hook), then with the default slice. */
	if (!run_realm(0, &entries, &total))
		return 1;
	double ips0 = 2.0 * (double)B.n / loop_best(&worst);
	printf("  guest loop, no time slice: %.1f M instructions/s (best of 3; slowest %.1f)\n", ips0 / 1e6,
	       2.0 * (double)B.n / worst / 1e6);
	if (!run_realm(20000, &entries, &total))
		return 1;
	double ips = 2.0 * (double)B.n / loop_best(&worst);
	double store_s = (double)(B.t[15] - B.t[13]) / 1e9;
	printf("  guest loop, 20 ms time slice: %.1f M instructions/s (best of 3; slowest %.1f)\n", ips / 1e6,
	       2.0 * (double)B.n / worst / 1e6);
	const struct emu_calib *cal = emu_calibrate();
	if (cal->no_exit_off)
		printf("    (runs stopped by the watchdog thread; docs/vcpu.md quirk 6)\n");
	else
		printf("    (runs stopped by a per-block hook: %s)\n", cal->stop_note);
	printf("  loop with one store per iteration: %.1f M instructions/s, %.1f ns per iteration\n",
	       3.0 * (double)(B.n / 10) / store_s / 1e6, store_s * 1e9 / (double)(B.n / 10));
	printf("  MMIO exit round trip (exit + host emulation + REC_ENTER): %.2f us (%" PRIu64 " reads)\n",
	       (double)(B.t[3] - B.t[2]) / 1e3 / (double)B.kmmio, B.kmmio);
	printf("  RSI call without exit (RSI_VERSION): %.3f us (%" PRIu64 " calls)\n",
	       (double)(B.t[4] - B.t[3]) / 1e3 / (double)B.krsi, B.krsi);
	printf("  host call round trip (RSI_HOST_CALL exit + REC_ENTER): %.2f us (%" PRIu64 " calls)\n",
	       (double)(B.t[5] - B.t[4]) / 1e3 / (double)B.khc, B.khc);
	printf("  whole run: %.3f s, %u REC entries\n", total, entries);
	double kl = kick_latency(21);
	if (kl < 0)
		printf("  kick latency: measurement failed\n");
	else
		printf("  kick latency (rmmemu_vcpu_kick from another thread to the end of REC_ENTER): %.1f us "
		       "(median of 21)\n", kl);

	const char *qemu = no_qemu ? NULL : find_qemu();
	if (!qemu) {
		printf("  qemu-system-aarch64: %s; ratio skipped (Debian package qemu-system-arm)\n",
		       no_qemu ? "not requested" : "not found");
	} else {
		/* Two runs: the slope removes QEMU's start-up and exit time. */
		uint64_t n1 = 1000000, n2 = B.n;
		double t2_worst;
		double t1 = qemu_run(qemu, n1, 0, NULL), t2 = qemu_run(qemu, n2, 0, &t2_worst);
		double s1 = qemu_run(qemu, n1 / 10, 1, NULL), s2 = qemu_run(qemu, n2 / 10, 1, NULL);
		if (t1 < 0 || t2 < 0 || t2 <= t1 || s1 < 0 || s2 <= s1) {
			printf("  qemu-system-aarch64: run failed; ratio skipped\n");
		} else {
			double qips = 2.0 * (double)(n2 - n1) / (t2 - t1);
			double qsips = 3.0 * (double)(n2 / 10 - n1 / 10) / (s2 - s1);
			printf("  qemu-system-aarch64 -M virt -cpu cortex-a72 (TCG, EL1, no RMM; best of %u processes, "
			       "start-up %.3f s subtracted):\n", QEMU_ROUNDS, t1);
			printf("    guest loop %.1f M instructions/s (slowest %.1f), loop with a store %.1f M "
			       "instructions/s\n", qips / 1e6, 2.0 * (double)(n2 - n1) / (t2_worst - t1) / 1e6,
			       qsips / 1e6);
			printf("  ratio rmmemu / qemu, guest loop: %.2f without time slice, %.2f with\n", ips0 / qips,
			       ips / qips);
			printf("  ratio rmmemu / qemu, loop with a store: %.3f\n",
			       3.0 * (double)(B.n / 10) / store_s / qsips);
		}
	}
	return 0;
}

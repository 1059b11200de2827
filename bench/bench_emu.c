/*
 * vCPU backend benchmark (issue 9): every figure measured in one run, printed with its reference,
 * ratio and target, then a summary table.
 *   1. guest loop (subs/b.ne), default 20 ms time slice, against the same loop under
 *      qemu-system-aarch64 -M virt: >= 0.9x QEMU (also printed without a time slice);
 *   2. the loop with one store per iteration, against QEMU's: >= 0.6x QEMU;
 *   3. Debian's arm64 kernel to the root-fs panic: `rmmemu run configs/linux-debian.yaml` as a child
 *      process against QEMU's bare boot of the same kernel (same command line, earlycon moved to
 *      the virt board's PL011), wall time to exit: <= 1.3x QEMU (skipped without the kernel);
 *   4. the same compute on both vCPUs of a 2-REC realm (tests/realm/smp.c, rh_run_parallel) against
 *      both shares on one vCPU: <= 0.6x the 1-vCPU wall time;
 *   5. emulated MMIO round trip (REC exit, host emulation, REC_ENTER with EMULATED_MMIO) <= 3 us,
 *      RSI call handled without exit <= 0.3 us, kick (rmmemu_vcpu_kick from another thread) to the
 *      end of the REC_ENTER it ends <= 50 us; host call round trip for information.
 * Figures are the best of several rounds (the host is shared; loop speeds are bimodal per process,
 * docs/vcpu.md quirk 18); the range over the rounds is printed beside them.
 *
 *   bench_emu [--iterations N] [--mmio K] [--rsi K] [--hostcalls K] [--rounds R] [--smp-units U]
 *             [--linux-config FILE] [--rmmemu PATH] [--no-qemu] [--no-linux] [--no-smp]
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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

/* Best and worst of a series of rounds. */
struct range {
	double best, worst;
	unsigned n;
};

static void range_add(struct range *r, double v, bool higher_better)
{
	if (r->n == 0) {
		r->best = r->worst = v;
	} else if (higher_better) {
		r->best = v > r->best ? v : r->best;
		r->worst = v < r->worst ? v : r->worst;
	} else {
		r->best = v < r->best ? v : r->best;
		r->worst = v > r->worst ? v : r->worst;
	}
	r->n++;
}

/* The host's load average over the last minute (the machine may be shared), or -1. */
static double loadavg(void)
{
	double l = -1;
	FILE *f = fopen("/proc/loadavg", "r");
	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

/* ---- the loop payload (tests/realm/loop.c) ------------------------------------------------- */

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

/* What one realm running the loop payload measured. */
struct loop_run {
	double loop_best, loop_worst;   /* M instructions/s over its three rounds */
	double store;                   /* M instructions/s, loop with a store */
	double mmio, rsi, hc;           /* microseconds per operation */
	double total;                   /* seconds, the whole run */
	unsigned entries;
};

/* One realm running the loop payload in a fresh engine; slice_us: the vCPU time slice. */
static bool run_realm(unsigned slice_us, struct loop_run *lr)
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
		lr->total = (double)(now_ns() - t0) / 1e9;
		lr->entries = r->st.entries;
	}
	if (ok) {
		for (unsigned i = 0; i < 3; i++) {
			double ips = 2.0 * (double)B.n / ((double)(B.t[11 + i] - B.t[10 + i]) / 1e9) / 1e6;
			if (i == 0 || ips > lr->loop_best)
				lr->loop_best = ips;
			if (i == 0 || ips < lr->loop_worst)
				lr->loop_worst = ips;
		}
		lr->store = 3.0 * (double)(B.n / 10) / ((double)(B.t[15] - B.t[13]) / 1e9) / 1e6;
		lr->mmio = (double)(B.t[3] - B.t[2]) / 1e3 / (double)B.kmmio;
		lr->rsi = (double)(B.t[4] - B.t[3]) / 1e3 / (double)B.krsi;
		lr->hc = (double)(B.t[5] - B.t[4]) / 1e3 / (double)B.khc;
	} else {
		fprintf(stderr, "benchmark realm failed: %s\n%s", r->err, r->uart);
	}
	rh_realm_destroy(r);
	rh_env_fini(&env);
	free(r);
	return ok;
}

/* ---- kick latency -------------------------------------------------------------------------- */

/* A REC in a long loop (no time slice), kicked from another thread; the time from rmmemu_vcpu_kick
 * to the end of its REC_ENTER. Median of `rounds`, in microseconds (< 0: failed). */
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

/* ---- two vCPUs (tests/realm/smp.c) ---------------------------------------------------------- */

#define SMP_HC 0x71
static uint64_t smp_units, smp_cpus;

static void smp_host_call(struct rh_realm *r, unsigned rec, unsigned imm, const uint64_t *in, uint64_t *out)
{
	(void)r;
	(void)rec;
	(void)in;
	if (imm == SMP_HC) {
		out[0] = smp_units;
		out[1] = smp_cpus;
	}
}

static double cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Per-thread scheduler figures of the threads a run starts (the REC threads of rh_run_parallel):
 * a sampler reads /proc/self/task/TID/schedstat (time on a CPU, time waiting for one, in ns) every
 * 2 ms; threads alive when sampling starts are left out. */
#define SAMPLE_MAX 32
static struct {
	pthread_t thread;
	volatile bool stop;
	long skip[SAMPLE_MAX];
	unsigned nskip;
	struct { long tid; uint64_t run, wait; } th[SAMPLE_MAX];
	unsigned n;
} S;

static void sample_tasks(bool initial)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *de;
	if (!d)
		return;
	while ((de = readdir(d))) {
		long tid = strtol(de->d_name, NULL, 10);
		if (tid <= 0)
			continue;
		if (initial) {
			if (S.nskip < SAMPLE_MAX)
				S.skip[S.nskip++] = tid;
			continue;
		}
		bool skip = false;
		for (unsigned i = 0; i < S.nskip; i++)
			skip = skip || S.skip[i] == tid;
		char path[64];
		unsigned long long run, wait;
		snprintf(path, sizeof(path), "/proc/self/task/%ld/schedstat", tid);
		FILE *f = skip ? NULL : fopen(path, "r");
		if (!f)
			continue;
		if (fscanf(f, "%llu %llu", &run, &wait) == 2) {
			unsigned i = 0;
			while (i < S.n && S.th[i].tid != tid)
				i++;
			if (i == S.n && S.n < SAMPLE_MAX)
				S.th[S.n++].tid = tid;
			if (i < S.n) {
				S.th[i].run = run;
				S.th[i].wait = wait;
			}
		}
		fclose(f);
	}
	closedir(d);
}

static void *sampler(void *arg)
{
	(void)arg;
	S.skip[S.nskip < SAMPLE_MAX ? S.nskip++ : SAMPLE_MAX - 1] = syscall(SYS_gettid);
	while (!S.stop) {
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		sample_tasks(false);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

static bool sample_start(void)
{
	memset(&S, 0, sizeof(S));
	sample_tasks(true);
	return pthread_create(&S.thread, NULL, sampler, NULL) == 0;
}

/* The two threads with the most time on a CPU: run and wait times in seconds. */
static void sample_stop(double run[2], double wait[2])
{
	S.stop = true;
	pthread_join(S.thread, NULL);
	run[0] = run[1] = wait[0] = wait[1] = 0;
	for (unsigned k = 0; k < 2; k++) {
		unsigned best = SAMPLE_MAX;
		for (unsigned i = 0; i < S.n; i++)
			if (S.th[i].tid && (best == SAMPLE_MAX || S.th[i].run > S.th[best].run))
				best = i;
		if (best == SAMPLE_MAX)
			break;
		run[k] = (double)S.th[best].run / 1e9;
		wait[k] = (double)S.th[best].wait / 1e9;
		S.th[best].tid = 0;
	}
}

struct smp_res {
	double wall, cpu;               /* seconds of rh_run_parallel; CPU time of the process meanwhile */
	double run[2], wait[2];         /* the two REC threads: on a CPU, waiting for one */
};

/* rh_run_parallel (one host thread per REC) of the 2-REC smp payload with `units` of work on each
 * of `cpus` CPUs (cpus 1: CPU 0 does both shares); realm set-up and teardown are not timed. Default
 * 20 ms time slice. False on failure. */
static bool smp_run(uint64_t units, unsigned cpus, struct smp_res *res)
{
	struct rh_env env;
	struct rh_realm *r = calloc(1, sizeof(*r));
	bool ok = false;
	if (!r || !rh_env_init(&env, 64)) {
		free(r);
		return false;
	}
	if (rh_realm_setup(&env, r, "smp", 33, 2)) {
		r->on_host_call = smp_host_call;
		smp_units = units;
		smp_cpus = cpus;
		bool sampling = sample_start();
		double c0 = cpu_seconds();
		uint64_t t0 = now_ns();
		ok = rh_run_parallel(r, 1000000);
		uint64_t t1 = now_ns();
		res->cpu = cpu_seconds() - c0;
		res->wall = (double)(t1 - t0) / 1e9;
		if (sampling)
			sample_stop(res->run, res->wait);
		ok = ok && rh_payload_passed(r);
		if (!ok)
			fprintf(stderr, "smp realm (units %" PRIu64 ", cpus %u) failed: %s\n%s", units, cpus, r->err,
				r->uart);
	}
	rh_realm_destroy(r);
	rh_env_fini(&env);
	free(r);
	return ok;
}

/* ---- child processes (QEMU, rmmemu run) ----------------------------------------------------- */

/* Wall time from spawn to exit of argv (stdin /dev/null, stdout and stderr to the files `out` and
 * `err` or /dev/null), or < 0 if it could not run or did not exit with 0. With `mark`, the parent
 * looks at `out` every 2 ms while it waits (the child writes to a file either way: a pipe would
 * cost QEMU, which writes its console byte by byte, a wake-up of the reader per byte) and
 * *mark_at is when the text first appeared there (< 0: never). */
static double run_child(char *const argv[], const char *out, const char *err, const char *mark, double *mark_at)
{
	static char seen[1 << 20];
	size_t nseen = 0;
	FILE *in = NULL;
	if (mark_at)
		*mark_at = -1;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	posix_spawn_file_actions_addopen(&fa, 2, err ? err : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	pid_t pid;
	uint64_t t0 = now_ns();
	int rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0)
		return -1;
	int status;
	pid_t w;
	uint64_t t1;
	for (;;) {
		w = waitpid(pid, &status, mark_at && *mark_at < 0 ? WNOHANG : 0);
		t1 = now_ns();
		if (w != 0)
			break;
		if (!in)
			in = fopen(out, "rb");
		size_t n = in ? fread(seen + nseen, 1, sizeof(seen) - 1 - nseen, in) : 0;
		for (size_t i = 0; i < n; i++)   /* the console may carry NULs */
			seen[nseen + i] = seen[nseen + i] ? seen[nseen + i] : ' ';
		nseen += n;
		seen[nseen] = 0;
		clearerr(in ? in : stdin);
		if (n && strstr(seen, mark))
			*mark_at = (double)(t1 - t0) / 1e9;
		else if (nseen == sizeof(seen) - 1)
			mark_at = NULL;          /* too much output: give up looking */
		struct timespec ts = { 0, 2 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	if (in)
		fclose(in);
	if (w < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return (double)(t1 - t0) / 1e9;
}

/* The file contains s. */
static bool file_has(const char *path, const char *s)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	static char buf[1 << 20];
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	for (size_t i = 0; i < n; i++)   /* the console may carry NULs */
		if (!buf[i])
			buf[i] = ' ';
	return strstr(buf, s) != NULL;
}

static const char *find_in_path(const char *name)
{
	static char path[PATH_MAX];
	const char *p = getenv("PATH");
	if (!p)
		p = "/usr/bin:/bin";
	while (*p) {
		const char *e = strchr(p, ':');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		snprintf(path, sizeof(path), "%.*s/%s", (int)len, p, name);
		if (access(path, X_OK) == 0)
			return path;
		p += len + (e ? 1 : 0);
	}
	return NULL;
}

/* ---- QEMU loops ----------------------------------------------------------------------------- */

/* Wall time of one qemu-system-aarch64 run of tests/realm/qemu/loop.S (kind 0: plain, 1: with a
 * store) with n iterations, or a negative value. */
static double qemu_loop1(const char *qemu, uint64_t n, unsigned kind)
{
	char elf[PATH_MAX], loader[128], loader2[128];
	snprintf(elf, sizeof(elf), "%s/qemu_loop.elf", RMMEMU_REALM_DIR);
	snprintf(loader, sizeof(loader), "loader,addr=0x44000000,data=%" PRIu64 ",data-len=8", n);
	snprintf(loader2, sizeof(loader2), "loader,addr=0x44000008,data=%u,data-len=8", kind);
	char *argv[] = { (char *)qemu, "-M", "virt", "-cpu", "cortex-a72", "-m", "256", "-nographic",
			 "-monitor", "none", "-serial", "none", "-nodefaults", "-kernel", elf, "-device", loader,
			 "-device", loader2, NULL };
	return run_child(argv, NULL, NULL, NULL, NULL);
}

/* Speed of QEMU's loop in M instructions/s: best and slowest of `procs` processes of n2 iterations,
 * each with the best start-up (a run of n1 iterations, best of `procs`) subtracted. */
static bool qemu_loop(const char *qemu, unsigned kind, uint64_t n1, uint64_t n2, unsigned procs,
		      struct range *mips, double *startup)
{
	double t1 = -1;
	unsigned per_iter = kind ? 3 : 2;
	double t2[32];
	for (unsigned i = 0; i < procs && i < 32; i++) {
		double a = qemu_loop1(qemu, n1, kind), b = qemu_loop1(qemu, n2, kind);
		if (a < 0 || b < 0)
			return false;
		if (t1 < 0 || a < t1)
			t1 = a;
		t2[i] = b;
	}
	memset(mips, 0, sizeof(*mips));
	for (unsigned i = 0; i < procs && i < 32; i++) {
		if (t2[i] <= t1)
			return false;
		range_add(mips, (double)per_iter * (double)(n2 - n1) / (t2[i] - t1) / 1e6, true);
	}
	*startup = t1;
	return true;
}

/* ---- Linux boot ----------------------------------------------------------------------------- */

struct linux_cfg {
	char config[PATH_MAX], kernel[PATH_MAX], cmdline[512], qemu_cmdline[600], mem[32];
	unsigned vcpus;
};

/* The value of the first "key:" line of a simple YAML file (quotes and comments removed). */
static bool yaml_value(const char *path, const char *key, char *out, size_t outlen)
{
	FILE *f = fopen(path, "r");
	char line[1024];
	size_t kl = strlen(key);
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, key, kl) || p[kl] != ':')
			continue;
		p += kl + 1;
		while (*p == ' ')
			p++;
		char *end;
		if (*p == '"' && (end = strchr(p + 1, '"'))) {
			p++;
		} else {
			end = p + strcspn(p, "#\r\n");
			while (end > p && end[-1] == ' ')
				end--;
		}
		snprintf(out, outlen, "%.*s", (int)(end - p), p);
		found = true;
	}
	fclose(f);
	return found;
}

/* The source tree: CMAKE_HOME_DIRECTORY in the CMakeCache.txt beside this executable. */
static bool source_dir(const char *exe_dir, char *out, size_t outlen)
{
	char path[PATH_MAX], line[PATH_MAX + 64];
	snprintf(path, sizeof(path), "%s/CMakeCache.txt", exe_dir);
	FILE *f = fopen(path, "r");
	bool found = false;
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f)) {
		const char *k = "CMAKE_HOME_DIRECTORY:INTERNAL=";
		if (!strncmp(line, k, strlen(k))) {
			line[strcspn(line, "\r\n")] = 0;
			found = snprintf(out, outlen, "%s", line + strlen(k)) < (int)outlen;
		}
	}
	fclose(f);
	return found;
}

/* Kernel, command line, memory and vCPUs of the rmmemu configuration, and the command line for
 * QEMU's virt board: the same, with earlycon=pl011,<realm UART> moved to the board's PL011. */
static bool linux_config(struct linux_cfg *lc)
{
	char kernel[PATH_MAX], vcpus[16] = "1";
	if (!yaml_value(lc->config, "kernel", kernel, sizeof(kernel)) ||
	    !yaml_value(lc->config, "cmdline", lc->cmdline, sizeof(lc->cmdline)) ||
	    !yaml_value(lc->config, "size", lc->mem, sizeof(lc->mem)))
		return false;
	yaml_value(lc->config, "vcpus", vcpus, sizeof(vcpus));
	lc->vcpus = (unsigned)strtoul(vcpus, NULL, 0);
	if (kernel[0] == '/') {
		snprintf(lc->kernel, sizeof(lc->kernel), "%s", kernel);
	} else {
		const char *slash = strrchr(lc->config, '/');
		int dl = slash ? (int)(slash - lc->config) : 1;
		if (snprintf(lc->kernel, sizeof(lc->kernel), "%.*s/%s", dl, slash ? lc->config : ".", kernel) >=
		    (int)sizeof(lc->kernel))
			return false;
	}
	const char *ec = strstr(lc->cmdline, "earlycon=pl011,");
	if (ec) {
		const char *rest = ec + strcspn(ec, " ");
		snprintf(lc->qemu_cmdline, sizeof(lc->qemu_cmdline), "%.*searlycon=pl011,0x9000000%s",
			 (int)(ec - lc->cmdline), lc->cmdline, rest);
	} else {
		snprintf(lc->qemu_cmdline, sizeof(lc->qemu_cmdline), "%s", lc->cmdline);
	}
	return true;
}

/* The kernel's first console line. */
#define LINUX_FIRST_LINE "Booting Linux"

/* rmmemu run CONFIG: seconds to exit, < 0 if it failed or did not reach the root-fs panic;
 * *first: when the kernel's first console line arrived. */
static double linux_rmmemu(const char *rmmemu, const struct linux_cfg *lc, const char *out, const char *err,
			   double *first)
{
	char *argv[] = { (char *)rmmemu, "run", (char *)lc->config, NULL };
	double t = run_child(argv, out, err, LINUX_FIRST_LINE, first);
	if (t < 0 || !file_has(out, "VFS: Unable to mount root fs") || !file_has(err, "PSCI SYSTEM_RESET"))
		return -1;
	return t;
}

/* QEMU's bare boot of the same kernel until the panic reboots it (-no-reboot: QEMU exits). */
static double linux_qemu(const char *qemu, const struct linux_cfg *lc, const char *out, const char *err,
			 double *first)
{
	char smp[16], mem[40];
	snprintf(smp, sizeof(smp), "%u", lc->vcpus ? lc->vcpus : 1);
	snprintf(mem, sizeof(mem), "%s", lc->mem);
	char *argv[] = { (char *)qemu, "-M", "virt", "-cpu", "cortex-a72", "-smp", smp, "-m", mem,
			 "-nographic", "-no-reboot", "-net", "none", "-kernel", (char *)lc->kernel, "-append",
			 (char *)lc->qemu_cmdline, NULL };
	double t = run_child(argv, out, err, LINUX_FIRST_LINE, first);
	if (t < 0 || !file_has(out, "VFS: Unable to mount root fs"))
		return -1;
	return t;
}

/* ---- summary -------------------------------------------------------------------------------- */

struct row {
	const char *name, *unit, *target;
	struct range rg, ref;           /* the figure and its reference (ref.n 0: none) over the rounds */
	bool measured, met;
	const char *note;               /* why skipped */
};

/* A figure with three significant digits or more, without an exponent. */
static const char *num(char *buf, size_t len, double v)
{
	double a = v < 0 ? -v : v;
	snprintf(buf, len, "%.*f", a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3, v);
	return buf;
}

/* "best unit [low-high]" */
static const char *range_str(char *buf, size_t len, const struct range *r, const char *unit)
{
	char a[24], b[24], c[24];
	double lo = r->best < r->worst ? r->best : r->worst, hi = r->best < r->worst ? r->worst : r->best;
	snprintf(buf, len, "%s %s [%s-%s]", num(a, sizeof(a), r->best), unit, num(b, sizeof(b), lo),
		 num(c, sizeof(c), hi));
	return buf;
}

#define ROW_FMT "  %-35s %-25s %-25s %-5s %-14s %s\n"

static void row_print(const struct row *r)
{
	char v[80], ref[80], ratio[16];
	if (!r->measured) {
		printf("  %-35s %-25s %s\n", r->name, "skipped", r->note ? r->note : "");
		return;
	}
	range_str(v, sizeof(v), &r->rg, r->unit);
	if (r->ref.n) {
		range_str(ref, sizeof(ref), &r->ref, r->unit);
		snprintf(ratio, sizeof(ratio), "%.2f", r->rg.best / r->ref.best);
	} else {
		snprintf(ref, sizeof(ref), "-");
		snprintf(ratio, sizeof(ratio), "-");
	}
	printf(ROW_FMT, r->name, v, ref, ratio, r->target, r->met ? "met" : "NOT met");
}

static const char *met(bool ok)
{
	return ok ? "met" : "NOT met";
}

int main(int argc, char **argv)
{
	bool no_qemu = false, no_linux = false, no_smp = false;
	unsigned rounds = 3;
	uint64_t units = 0;
	char config[PATH_MAX] = "", rmmemu[PATH_MAX] = "";
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
		else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
			rounds = (unsigned)strtoul(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--smp-units") && i + 1 < argc)
			units = strtoull(argv[++i], NULL, 0);
		else if (!strcmp(argv[i], "--linux-config") && i + 1 < argc)
			snprintf(config, sizeof(config), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--rmmemu") && i + 1 < argc)
			snprintf(rmmemu, sizeof(rmmemu), "%s", argv[++i]);
		else if (!strcmp(argv[i], "--no-qemu"))
			no_qemu = true;
		else if (!strcmp(argv[i], "--no-linux"))
			no_linux = true;
		else if (!strcmp(argv[i], "--no-smp"))
			no_smp = true;
		else {
			fprintf(stderr, "usage: %s [--iterations N] [--mmio K] [--rsi K] [--hostcalls K] [--rounds R] "
				"[--smp-units U] [--linux-config FILE] [--rmmemu PATH] [--no-qemu] [--no-linux] "
				"[--no-smp]\n", argv[0]);
			return 2;
		}
	}
	if (rounds < 1 || rounds > 32 || B.n < 10 || !B.kmmio || !B.krsi || !B.khc) {
		fprintf(stderr, "bench_emu: --rounds 1..32, --iterations >= 10, counts >= 1\n");
		return 2;
	}

	printf("engine: %s\n", rmmemu_vcpu_engine());
	const char *qemu = no_qemu ? NULL : find_in_path("qemu-system-aarch64");
	char qemu_path[PATH_MAX] = "";
	if (qemu)
		snprintf(qemu_path, sizeof(qemu_path), "%s", qemu);
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	printf("rmmemu vCPU benchmark (issue 9): best of %u rounds per figure, [range over the rounds]; "
	       "host: %ld CPUs, load average %.2f\n", rounds, ncpu, loadavg());

	/* 1, 2, 5: the loop payload, each round in a fresh engine (loop speed is bimodal per engine),
	 * with the default 20 ms time slice and without one, interleaved. */
	struct range loop20 = { 0 }, loop0 = { 0 }, store = { 0 }, mmio = { 0 }, rsi = { 0 }, hc = { 0 };
	double loop20_slow = 0;
	for (unsigned i = 0; i < rounds; i++) {
		struct loop_run a = { 0 }, b = { 0 };
		if (!run_realm(20000, &a) || !run_realm(0, &b))
			return 1;
		range_add(&loop20, a.loop_best, true);
		range_add(&loop0, b.loop_best, true);
		loop20_slow = i == 0 || a.loop_worst < loop20_slow ? a.loop_worst : loop20_slow;
		range_add(&store, a.store, true);
		range_add(&store, b.store, true);
		range_add(&mmio, a.mmio, false);
		range_add(&mmio, b.mmio, false);
		range_add(&rsi, a.rsi, false);
		range_add(&rsi, b.rsi, false);
		range_add(&hc, a.hc, false);
		range_add(&hc, b.hc, false);
		printf("  round %u: loop %.0f / %.0f M instr/s (20 ms slice / none), store loop %.0f / %.0f, "
		       "MMIO %.2f us, RSI %.3f us, host call %.2f us; %.2f s, %u REC entries\n",
		       i + 1, a.loop_best, b.loop_best, a.store, b.store, a.mmio, a.rsi, a.hc, a.total, a.entries);
	}
	const struct emu_calib *cal = emu_calibrate();
	printf("  guest loop (subs/b.ne), 20 ms time slice: %.1f M instructions/s [%.1f-%.1f; slowest single "
	       "round %.1f]\n", loop20.best, loop20.worst, loop20.best, loop20_slow);
	printf("    runs stopped by %s\n", cal->no_exit_off ? "the watchdog thread (docs/vcpu.md quirk 6)" :
	       "a per-block hook (calibration did not find the stop flag)");
	printf("  guest loop, no time slice: %.1f M instructions/s [%.1f-%.1f]\n", loop0.best, loop0.worst, loop0.best);
	printf("  loop with one store per iteration (str/subs/b.ne): %.1f M instructions/s, %.2f ns per iteration "
	       "[%.1f-%.1f M/s]\n", store.best, 3e3 / store.best, store.worst, store.best);
	printf("  MMIO exit round trip (exit + host emulation + REC_ENTER): %.2f us [%.2f-%.2f] (target <= 3 us: %s)\n",
	       mmio.best, mmio.best, mmio.worst, met(mmio.best <= 3.0));
	printf("  RSI call without exit (RSI_VERSION): %.3f us [%.3f-%.3f] (target <= 0.3 us: %s)\n", rsi.best,
	       rsi.best, rsi.worst, met(rsi.best <= 0.3));
	printf("  host call round trip (RSI_HOST_CALL exit + REC_ENTER): %.2f us [%.2f-%.2f] (information)\n",
	       hc.best, hc.best, hc.worst);

	/* 5: kick latency, median of 21 kicks per round. */
	struct range kick = { 0 };
	for (unsigned i = 0; i < rounds; i++) {
		double kl = kick_latency(21);
		if (kl >= 0)
			range_add(&kick, kl, false);
	}
	if (kick.n)
		printf("  kick latency (rmmemu_vcpu_kick from another thread to the end of REC_ENTER): %.1f us "
		       "[%.1f-%.1f] (median of 21 per round; target <= 50 us: %s)\n", kick.best, kick.best,
		       kick.worst, met(kick.best <= 50.0));
	else
		printf("  kick latency: measurement failed\n");

	/* 4: two vCPUs against one, same work. */
	struct range smp1 = { 0 }, smp2 = { 0 }, smp0 = { 0 };
	struct smp_res best1 = { 0 }, best2 = { 0 };
	if (!no_smp) {
		if (!units)
			units = 200000;
		printf("  2-REC realm (smp.c, a thread per REC, 20 ms slice), %" PRIu64 " work units per share, "
		       "2 shares; per round: wall s (REC threads' time on a host CPU / waiting for one, s)\n", units);
		for (unsigned i = 0; i < rounds; i++) {
			struct smp_res a = { 0 }, b = { 0 }, c = { 0 };
			if (!smp_run(units, 1, &a) || !smp_run(units, 2, &b) || !smp_run(0, 2, &c))
				return 1;
			if (!smp1.n || a.wall < smp1.best)
				best1 = a;
			if (!smp2.n || b.wall < smp2.best)
				best2 = b;
			range_add(&smp1, a.wall, false);
			range_add(&smp2, b.wall, false);
			range_add(&smp0, c.wall, false);
			printf("    round %u: 1 vCPU %.3f (%.2f+%.2f / %.2f+%.2f), 2 vCPUs %.3f (%.2f+%.2f / %.2f+%.2f), "
			       "units 0 %.3f\n", i + 1, a.wall, a.run[0], a.run[1], a.wait[0], a.wait[1], b.wall, b.run[0],
			       b.run[1], b.wait[0], b.wait[1], c.wall);
		}
		printf("    on 1 vCPU %.3f s [%.3f-%.3f], on 2 vCPUs %.3f s [%.3f-%.3f]; set-up inside the run "
		       "(units 0) %.3f s [%.3f-%.3f]\n", smp1.best, smp1.best, smp1.worst, smp2.best, smp2.best,
		       smp2.worst, smp0.best, smp0.best, smp0.worst);
		printf("    process CPU time in the best runs: %.3f s on 1 vCPU, %.3f s on 2 vCPUs\n", best1.cpu, best2.cpu);
		printf("    ratio 2 vCPUs / 1 vCPU: %.2f (nothing subtracted; target <= 0.6: %s); with the set-up "
		       "subtracted %.2f\n", smp2.best / smp1.best, met(smp2.best / smp1.best <= 0.6),
		       (smp2.best - smp0.best) / (smp1.best - smp0.best));
	}

	/* 1, 2: QEMU's loops. */
	struct range qloop = { 0 }, qstore = { 0 };
	bool have_qemu = false;
	if (!qemu) {
		printf("  qemu-system-aarch64: %s; ratios skipped (Debian package qemu-system-arm)\n",
		       no_qemu ? "not requested" : "not found");
	} else {
		double st1 = 0, st2 = 0;
		unsigned procs = 2 * rounds + 1;
		uint64_t n1 = B.n / 100 < 1000000 ? B.n / 100 : 1000000;   /* start-up run */
		have_qemu = qemu_loop(qemu_path, 0, n1, B.n, procs, &qloop, &st1) &&
			    qemu_loop(qemu_path, 1, n1 / 10, B.n / 10, procs, &qstore, &st2);
		if (!have_qemu) {
			printf("  qemu-system-aarch64: run failed; ratios skipped\n");
		} else {
			printf("  qemu-system-aarch64 -M virt -cpu cortex-a72 (TCG, EL1, no RMM), tests/realm/qemu/loop.S, "
			       "best of %u processes, start-up %.3f s subtracted:\n", procs, st1);
			printf("    guest loop %.1f M instructions/s [%.1f-%.1f], loop with a store %.1f M instructions/s "
			       "[%.1f-%.1f]\n", qloop.best, qloop.worst, qloop.best, qstore.best, qstore.worst,
			       qstore.best);
			printf("  ratio rmmemu / QEMU, guest loop: %.2f with the 20 ms slice (target >= 0.9: %s), %.2f "
			       "without; slowest / slowest %.2f\n", loop20.best / qloop.best,
			       met(loop20.best / qloop.best >= 0.9), loop0.best / qloop.best, loop20.worst / qloop.worst);
			printf("  ratio rmmemu / QEMU, loop with a store: %.2f (target >= 0.6: %s)\n",
			       store.best / qstore.best, met(store.best / qstore.best >= 0.6));
		}
	}

	/* 3: Linux boot. */
	struct range lx_rmm = { 0 }, lx_qemu = { 0 };
	struct linux_cfg lc = { 0 };
	const char *lx_skip = NULL;
	char exe_dir[PATH_MAX] = ".";
	ssize_t el = readlink("/proc/self/exe", exe_dir, sizeof(exe_dir) - 1);
	if (el > 0) {
		exe_dir[el] = 0;
		char *s = strrchr(exe_dir, '/');
		if (s)
			*s = 0;
	}
	if (!rmmemu[0] && snprintf(rmmemu, sizeof(rmmemu), "%s/rmmemu", exe_dir) >= (int)sizeof(rmmemu))
		snprintf(rmmemu, sizeof(rmmemu), "rmmemu");
	if (!config[0]) {
		char src[PATH_MAX];
		if (!source_dir(exe_dir, src, sizeof(src)) ||
		    snprintf(config, sizeof(config), "%s/configs/linux-debian.yaml", src) >= (int)sizeof(config))
			snprintf(config, sizeof(config), "configs/linux-debian.yaml");
	}
	snprintf(lc.config, sizeof(lc.config), "%s", config);
	if (no_linux)
		lx_skip = "not requested";
	else if (!linux_config(&lc))
		lx_skip = "cannot read the configuration";
	else if (access(lc.kernel, R_OK) != 0)
		lx_skip = "no kernel (bash scripts/fetch-kernel.sh fetches it into .cache/linux)";
	else if (access(rmmemu, X_OK) != 0)
		lx_skip = "no rmmemu executable beside bench_emu (--rmmemu PATH)";
	else if (!have_qemu)
		lx_skip = "no QEMU reference";
	if (lx_skip) {
		printf("  Linux boot: skipped: %s\n", lx_skip);
	} else {
		char dir[] = "/tmp/bench_emu.XXXXXX", o1[PATH_MAX], e1[PATH_MAX], o2[PATH_MAX], e2[PATH_MAX];
		if (!mkdtemp(dir))
			return 1;
		snprintf(o1, sizeof(o1), "%s/rmmemu.out", dir);
		snprintf(e1, sizeof(e1), "%s/rmmemu.err", dir);
		snprintf(o2, sizeof(o2), "%s/qemu.out", dir);
		snprintf(e2, sizeof(e2), "%s/qemu.err", dir);
		printf("  Linux boot to the root-fs panic (%s, %s RAM, %u vCPU):\n", lc.kernel, lc.mem, lc.vcpus);
		printf("    rmmemu run %s (command line \"%s\"%s)\n", lc.config, lc.cmdline,
		       getenv("RMMEMU_VCPU_SLICE_US") ? ", $RMMEMU_VCPU_SLICE_US set" : ", default 20 ms slice");
		printf("    qemu-system-aarch64 -M virt -cpu cortex-a72 -no-reboot -net none, command line \"%s\"\n",
		       lc.qemu_cmdline);
		struct range first_rmm = { 0 }, first_qemu = { 0 };
		for (unsigned i = 0; i < rounds; i++) {   /* interleaved: the host's other load hits both */
			double fa, fb;
			double a = linux_rmmemu(rmmemu, &lc, o1, e1, &fa), b = linux_qemu(qemu_path, &lc, o2, e2, &fb);
			if (a < 0 || b < 0) {
				printf("    %s failed to reach the panic (output kept in %s)\n", a < 0 ? "rmmemu" : "QEMU", dir);
				lx_skip = "a boot failed";
				break;
			}
			range_add(&lx_rmm, a, false);
			range_add(&lx_qemu, b, false);
			range_add(&first_rmm, fa, false);
			range_add(&first_qemu, fb, false);
			printf("    round %u: rmmemu %.2f s (first console line at %.2f s), QEMU %.2f s (at %.2f s)\n", i + 1,
			       a, fa, b, fb);
		}
		if (!lx_skip) {
			printf("    rmmemu %.2f s [%.2f-%.2f], QEMU %.2f s [%.2f-%.2f]; ratio %.2f (target <= 1.3: %s)\n",
			       lx_rmm.best, lx_rmm.best, lx_rmm.worst, lx_qemu.best, lx_qemu.best, lx_qemu.worst,
			       lx_rmm.best / lx_qemu.best, met(lx_rmm.best / lx_qemu.best <= 1.3));
			printf("    from the first console line (\"%s\") to the exit: rmmemu %.2f s, QEMU %.2f s (best "
			       "rounds); before it (start-up, realm build / kernel load, early boot): %.2f s, %.2f s\n",
			       LINUX_FIRST_LINE, lx_rmm.best - first_rmm.best, lx_qemu.best - first_qemu.best,
			       first_rmm.best, first_qemu.best);
			unlink(o1);
			unlink(e1);
			unlink(o2);
			unlink(e2);
			rmdir(dir);
		}
	}

	/* The summary. */
	struct row rows[7];
	memset(rows, 0, sizeof(rows));
	struct range none = { 0 };
	rows[0] = (struct row){ "1 guest loop, 20 ms slice", "M/s", ">= 0.9x QEMU", loop20, have_qemu ? qloop : none,
				have_qemu, have_qemu && loop20.best / qloop.best >= 0.9, "no QEMU" };
	rows[1] = (struct row){ "2 loop with one store", "M/s", ">= 0.6x QEMU", store, have_qemu ? qstore : none,
				have_qemu, have_qemu && store.best / qstore.best >= 0.6, "no QEMU" };
	rows[2] = (struct row){ "3 Linux boot to root-fs panic", "s", "<= 1.3x QEMU", lx_rmm, lx_qemu, !lx_skip,
				!lx_skip && lx_rmm.best / lx_qemu.best <= 1.3, lx_skip };
	rows[3] = (struct row){ "4 same work, 2 vCPUs (ref: 1 vCPU)", "s", "<= 0.6x 1 vCPU", smp2, smp1, !no_smp,
				smp1.n && smp2.best / smp1.best <= 0.6, "not requested" };
	rows[4] = (struct row){ "5 MMIO exit round trip", "us", "<= 3 us", mmio, none, true, mmio.best <= 3.0, NULL };
	rows[5] = (struct row){ "5 RSI call without exit", "us", "<= 0.3 us", rsi, none, true, rsi.best <= 0.3, NULL };
	rows[6] = (struct row){ "5 kick to exit (median of 21)", "us", "<= 50 us", kick, none, kick.n > 0,
				kick.n && kick.best <= 50.0, "failed" };
	printf("\nsummary (%s; best of %u rounds, [range]; load average now %.2f on %ld CPUs):\n",
	       rmmemu_vcpu_engine(), rounds, loadavg(), ncpu);
	printf(ROW_FMT, "figure", "rmmemu [range]", "reference [range]", "ratio", "target", "");
	unsigned not_met = 0;
	for (unsigned i = 0; i < 7; i++) {
		row_print(&rows[i]);
		if (rows[i].measured && !rows[i].met)
			not_met++;
	}
	printf("  %u of 7 targets not met\n", not_met);
	return 0;
}

/*
 * rmmemu command line.
 *
 *   rmmemu run [options] [CONFIG]      the embedded demo realm, or a configured realm, run
 *   rmmemu tour [options]              the RMI walkthrough (a realm life cycle, every call printed)
 *   rmmemu console [options] [FILE...] RMI console: FILEs in order, or stdin ('-' = stdin)
 *   rmmemu scenario [-v] FILE...     RMI scenarios (docs/scenarios.md)
 *   rmmemu measure CONFIG            RIM of a realm configuration (docs/config.md)
 *   rmmemu token show|verify FILE    CCA attestation tokens (docs/attestation.md)
 *   rmmemu version | --help
 *
 * Exit codes: 0 success; 1 a command or expectation failed; 2 usage or configuration error.
 */
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <getopt.h>
#include <termios.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "attest/token.h"
#include "host/cli.h"
#include "host/console.h"
#include "host/demo.h"
#include "host/platform_opts.h"
#include "host/realm_config.h"
#include "host/report.h"
#include "host/token_tool.h"
#include "host/scenario.h"
#include "rmmemu/rmmemu.h"

#define RMMEMU_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rmmemu <command> [options]\n"
		"\n"
		"commands:\n"
		"  run [CONFIG]        no CONFIG: the embedded demo realm (built, measured, run: it prints,\n"
		"                      reads its config, extends a REM, hands the host an attestation token);\n"
		"                      CONFIG: build the realm of a YAML configuration and run it (console\n"
		"                      output of the realm on stdout, rmmemu's report on stderr)\n"
		"  tour                the RMI walkthrough: a whole realm life cycle, every call printed\n"
		"  console [FILE...]   RMI console: read RMI calls and helper commands from FILEs or stdin\n"
		"                      (type 'help' inside for the command list)\n"
		"  scenario [-v] FILE...  run RMI scenario files (YAML: calls and expected results)\n"
		"  measure CONFIG      build the realm of a YAML configuration (no run) and print its RIM\n"
		"  token show FILE     decode a CCA attestation token to JSON (claims named as in the spec)\n"
		"  token verify FILE [--cpak PEM | --seed HEX]  check both signatures, the RAK binding and\n"
		"                      the claims (CPAK: default seed's, a PEM file's or HEX seed's)\n"
		"  version             print the version and the RMI ABI implemented\n"
		"\n"
		"options (run, tour, console):\n"
		"  --trace             log every RMI call with decoded arguments and state changes (stderr)\n"
		"  --quiet             print only 'echo' lines and errors\n"
		"  --stop-on-error     stop a script at its first failing line\n"
		"  --dram BASE:SIZE    a DRAM range (repeatable; replaces the default 0x80000000:2G)\n"
		"  --device BASE:SIZE  a device (MMIO) range (repeatable; default 0:1G)\n"
		"  --secure BASE:SIZE  a DRAM range in the secure PAS (delegation fails)\n"
		"  --root BASE:SIZE    a DRAM range in the root PAS\n"
		"  --pa-bits N         physical address width: 32 36 40 42 44 48 52 (default 48)\n"
		"  --trace-json FILE   one JSON object per event (RMI call, realm SMC, REC exit, state change);\n"
		"                      '-' = stderr\n"
		"  --report FILE.html  a picture of the run: sequence diagram (host/RMM/realm) and granule map\n"
		"  --attest-seed HEX   derive the platform's attestation keys from these 32 bytes (64 hex digits)\n"
		"  --rak-pem FILE --cpak-pem FILE  attestation keys from PEM files (P-384 private keys)\n"
		"  --inject CALL:STATUS[:COUNT[:SKIP]]  fault injection: the next COUNT (1) calls of CALL after\n"
		"                      SKIP (0) return STATUS, e.g. --inject DATA_CREATE:ERROR_RTT(2):1:3\n"
		"  --inject-irq COUNT[:SKIP]  the next COUNT REC entries after SKIP exit at once with RMI_EXIT_IRQ\n"
		"  --inject-sea COUNT[:SKIP]  the next COUNT REC entries after SKIP deliver an SEA to the realm\n"
		"  --no-input          run CONFIG: do not read stdin (by default stdin feeds the realm's PL011:\n"
		"                      a terminal is put in raw mode, Ctrl-C goes to the realm and Ctrl-A x\n"
		"                      quits (Ctrl-A Ctrl-A sends Ctrl-A); a pipe or file is read as it comes,\n"
		"                      its end just ends input)\n"
		"\n"
		"exit status: 0 success, 1 a command or expectation failed, 2 usage or configuration error\n");
}

static int parse_range(const char *opt, const char *arg, struct rmmemu_platform_config *cfg, bool *given)
{
	char err[200];
	if (platform_add_range(cfg, opt + 2, arg, given, err, sizeof(err))) {
		fprintf(stderr, "rmmemu: %s: %s\n", opt, err);
		return -1;
	}
	return 0;
}

struct cli_opts {
	struct rmmemu_platform_config cfg;
	bool trace, quiet, stop_on_error;
	/* Machine layout options given on the command line (they replace a configuration's). */
	bool dram_given, device_given, secure_given, root_given, pa_bits_given;
	const char *inject[RMMEMU_MAX_INJECTIONS];
	unsigned ninject;
	const char *trace_json, *report, *inject_irq, *inject_sea;
	bool no_input;
	struct report_sinks sinks;
};

/* --trace-json FILE ('-' = stderr) and --report FILE.html: attach the event consumers. */
static int attach_sinks(struct cli_opts *o, struct rmmemu *emu)
{
	if (o->trace_json) {
		o->sinks.json = strcmp(o->trace_json, "-") ? fopen(o->trace_json, "w") : stderr;
		if (!o->sinks.json) {
			fprintf(stderr, "rmmemu: --trace-json: cannot write '%s': %s\n", o->trace_json, strerror(errno));
			return -1;
		}
	}
	if (o->report && !(o->sinks.report = report_new()))
		return -1;
	if (o->sinks.json || o->sinks.report)
		rmmemu_set_event_hook(emu, report_and_json_hook, &o->sinks);
	return 0;
}

/* Write the report (if asked) and close the sinks. Returns -1 if the report could not be written. */
static int finish_sinks(struct cli_opts *o, struct rmmemu *emu, const char *title)
{
	int rc = 0;
	rmmemu_set_event_hook(emu, NULL, NULL);
	if (o->sinks.report) {
		if (report_write_html(o->sinks.report, emu, o->report, title)) {
			fprintf(stderr, "rmmemu: --report: cannot write '%s': %s\n", o->report, strerror(errno));
			rc = -1;
		}
		report_free(o->sinks.report);
	}
	if (o->sinks.json && o->sinks.json != stderr)
		fclose(o->sinks.json);
	o->sinks.json = NULL;
	o->sinks.report = NULL;
	return rc;
}

/* --inject CALL:STATUS[:COUNT[:SKIP]] becomes the console line "inject CALL STATUS COUNT SKIP",
 * --inject-irq COUNT[:SKIP] the line "inject_irq COUNT SKIP". */
static int apply_injections(const struct cli_opts *o, struct console *c)
{
	const char *const specs[2] = { o->inject_irq, o->inject_sea };
	for (unsigned k = 0; k < 2; k++) {
		const char *opt = k ? "--inject-sea" : "--inject-irq";
		char line[128];
		if (!specs[k])
			continue;
		snprintf(line, sizeof(line), "%s %s", k ? "inject_sea" : "inject_irq", specs[k]);
		for (char *p = line; *p; p++)
			if (*p == ':')
				*p = ' ';
		if (strlen(specs[k]) > 64 || console_exec_line(c, line, opt)) {
			fprintf(stderr, "rmmemu: %s expects COUNT[:SKIP], got '%s'\n", opt, specs[k]);
			return -1;
		}
	}
	for (unsigned i = 0; i < o->ninject; i++) {
		char line[256];
		size_t k = 0;
		k += (size_t)snprintf(line, sizeof(line), "inject ");
		for (const char *p = o->inject[i]; *p && k + 1 < sizeof(line); p++)
			line[k++] = *p == ':' ? ' ' : *p;
		line[k] = '\0';
		if (console_exec_line(c, line, "--inject")) {
			fprintf(stderr, "rmmemu: --inject expects CALL:STATUS[:COUNT[:SKIP]], got '%s'\n", o->inject[i]);
			return -1;
		}
	}
	return 0;
}

/* Parse options after the subcommand; returns index of the first operand or -1. */
static int parse_opts(int argc, char **argv, struct cli_opts *o)
{
	enum { O_TRACE = 256, O_QUIET, O_STOP, O_DRAM, O_DEVICE, O_SECURE, O_ROOT, O_PABITS, O_HELP, O_INJECT,
	       O_TRACE_JSON, O_REPORT, O_SEED, O_RAK, O_CPAK, O_INJECT_IRQ, O_INJECT_SEA, O_NO_INPUT };
	static const struct option longopts[] = {
		{ "trace", no_argument, NULL, O_TRACE },     { "quiet", no_argument, NULL, O_QUIET },
		{ "stop-on-error", no_argument, NULL, O_STOP }, { "dram", required_argument, NULL, O_DRAM },
		{ "device", required_argument, NULL, O_DEVICE }, { "secure", required_argument, NULL, O_SECURE },
		{ "root", required_argument, NULL, O_ROOT }, { "pa-bits", required_argument, NULL, O_PABITS },
		{ "help", no_argument, NULL, O_HELP },       { "inject", required_argument, NULL, O_INJECT },
		{ "trace-json", required_argument, NULL, O_TRACE_JSON }, { "report", required_argument, NULL, O_REPORT },
		{ "attest-seed", required_argument, NULL, O_SEED }, { "rak-pem", required_argument, NULL, O_RAK },
		{ "cpak-pem", required_argument, NULL, O_CPAK }, { "inject-irq", required_argument, NULL, O_INJECT_IRQ },
		{ "inject-sea", required_argument, NULL, O_INJECT_SEA },
		{ "no-input", no_argument, NULL, O_NO_INPUT },
		{ NULL, 0, NULL, 0 },
	};
	rmmemu_platform_default(&o->cfg);
	optind = 1;
	opterr = 0;
	int ch;
	while ((ch = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (ch) {
		case O_TRACE: o->trace = true; break;
		case O_QUIET: o->quiet = true; break;
		case O_STOP: o->stop_on_error = true; break;
		case O_NO_INPUT: o->no_input = true; break;
		case O_DRAM:
			if (parse_range("--dram", optarg, &o->cfg, &o->dram_given))
				return -1;
			break;
		case O_DEVICE:
			if (parse_range("--device", optarg, &o->cfg, &o->device_given))
				return -1;
			break;
		case O_SECURE:
			if (parse_range("--secure", optarg, &o->cfg, NULL))
				return -1;
			o->secure_given = true;
			break;
		case O_ROOT:
			if (parse_range("--root", optarg, &o->cfg, NULL))
				return -1;
			o->root_given = true;
			break;
		case O_PABITS: {
			o->pa_bits_given = true;
			uint64_t v;
			if (parse_size(optarg, &v) || v > 64) {
				fprintf(stderr, "rmmemu: --pa-bits: bad value '%s'\n", optarg);
				return -1;
			}
			o->cfg.pa_bits = (unsigned)v;
			break;
		}
		case O_SEED:
			if (parse_hex_bytes(optarg, o->cfg.attest_seed, sizeof(o->cfg.attest_seed))) {
				fprintf(stderr, "rmmemu: --attest-seed expects 64 hex digits\n");
				return -1;
			}
			o->cfg.attest_seed_set = true;
			break;
		case O_RAK:
		case O_CPAK: {
			char *dst = ch == O_RAK ? o->cfg.rak_pem : o->cfg.cpak_pem;
			if (strlen(optarg) >= sizeof(o->cfg.rak_pem)) {
				fprintf(stderr, "rmmemu: PEM path too long\n");
				return -1;
			}
			strcpy(dst, optarg);
			break;
		}
		case O_INJECT_IRQ:
		case O_INJECT_SEA: {
			const char **dst = ch == O_INJECT_IRQ ? &o->inject_irq : &o->inject_sea;
			if (*dst) {
				fprintf(stderr, "rmmemu: %s given twice\n", ch == O_INJECT_IRQ ? "--inject-irq" : "--inject-sea");
				return -1;
			}
			*dst = optarg;
			break;
		}
		case O_TRACE_JSON:
			o->trace_json = optarg;
			break;
		case O_REPORT:
			o->report = optarg;
			break;
		case O_INJECT:
			if (o->ninject == RMMEMU_MAX_INJECTIONS) {
				fprintf(stderr, "rmmemu: at most %d --inject options\n", RMMEMU_MAX_INJECTIONS);
				return -1;
			}
			o->inject[o->ninject++] = optarg;
			break;
		case 'h':
		case O_HELP:
			usage(stdout);
			exit(0);
		default:
			fprintf(stderr, "rmmemu: unknown or incomplete option '%s'\n", argv[optind - 1]);
			return -1;
		}
	}
	return optind;
}

static struct rmmemu *make_instance(const struct cli_opts *o)
{
	char err[256];
	if (!o->cfg.rak_pem[0] != !o->cfg.cpak_pem[0]) {
		fprintf(stderr, "rmmemu: --rak-pem and --cpak-pem go together\n");
		return NULL;
	}
	struct rmmemu *emu = rmmemu_create(&o->cfg, err, sizeof(err));
	if (!emu) {
		fprintf(stderr, "rmmemu: platform configuration: %s\n", err);
		return NULL;
	}
	if (o->trace)
		rmmemu_set_trace(emu, stderr, RMMEMU_TRACE_RMI | RMMEMU_TRACE_STATE);
	return emu;
}

static const char *stop_name(enum rmmemu_vm_stop s)
{
	static const char *const n[] = { "PSCI SYSTEM_OFF", "PSCI SYSTEM_RESET", "all vCPUs off (PSCI CPU_OFF)",
					 "exit budget used up (run.max_exits)", "error", "interrupted (SIGINT/SIGTERM/SIGHUP)" };
	return (unsigned)s < sizeof(n) / sizeof(n[0]) ? n[s] : "?";
}

/* Host side of the token hand-over (RSI_HOST_CALL imm DEMO_HOSTCALL_TOKEN, X1 = shared IPA of the
 * token, X2 = its length): the host decodes the token and verifies it with the platform's CPAK. */
struct demo_host {
	struct rmmemu_vm *vm;
	FILE *out;
	const char *tag;
	uint8_t cpak[ATTEST_EC_POINT_SIZE];
	enum { TOKEN_NONE, TOKEN_VERIFIED, TOKEN_FAILED } token;   /* the last hand-over */
};

static void put_hex(FILE *f, const uint8_t *p, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static void demo_host_call(void *ctx, unsigned vcpu, uint16_t imm, uint64_t gprs[31])
{
	struct demo_host *d = ctx;
	uint8_t tok[4096];
	char err[256];
	(void)vcpu;
	if (imm != DEMO_HOSTCALL_TOKEN)
		return;
	uint64_t len = gprs[2];
	fflush(stdout);
	gprs[0] = 1;
	d->token = TOKEN_FAILED;
	if (len > sizeof(tok) || rmmemu_vm_read_shared(d->vm, gprs[1], tok, len)) {
		fprintf(d->out, "%s the realm's token is not in shared memory\n", d->tag);
		return;
	}
	fprintf(d->out, "%s the realm shared its attestation token (%llu bytes); decoded:\n", d->tag,
		(unsigned long long)len);
	if (token_show_json(d->out, tok, len, err, sizeof(err)) ||
	    token_verify_with_cpak(tok, len, d->cpak, NULL, err, sizeof(err))) {
		fprintf(d->out, "%s token check FAILED: %s\n", d->tag, err);
		return;
	}
	fprintf(d->out, "%s token verified: platform and realm signatures, RAK binding, claims\n", d->tag);
	d->token = TOKEN_VERIFIED;
	gprs[0] = 0;
}

/* run.ripas_change: reject: the host answers every RIPAS change request with REJECT. */
static bool reject_ripas(void *ctx, unsigned vcpu, uint64_t base, uint64_t top, unsigned ripas)
{
	struct demo_host *d = ctx;
	fprintf(d->out, "%s RIPAS change [0x%llx, 0x%llx) to %s on vCPU %u rejected (run.ripas_change)\n", d->tag,
		(unsigned long long)base, (unsigned long long)top, ripas ? "RAM" : "EMPTY", vcpu);
	return false;
}

/* The CPAK public key of a platform configuration (seed-derived or from the PEM file). */
static int platform_cpak(const struct rmmemu_platform_config *p, uint8_t cpak[ATTEST_EC_POINT_SIZE])
{
	char err[256];
	if (p->cpak_pem[0]) {
		if (token_cpak_from_pem(p->cpak_pem, cpak, err, sizeof(err))) {
			fprintf(stderr, "rmmemu run: CPAK: %s\n", err);
			return -1;
		}
		return 0;
	}
	return token_cpak_from_seed(p->attest_seed_set ? p->attest_seed : attest_default_seed, cpak);
}

/*
 * Console input of `run CONFIG`: stdin feeds the realm's PL011 (rmmemu_vm_params.uart_in). A pipe or
 * file is handed over as it is. A terminal (in the foreground) is put in raw mode — no echo, no line
 * editing, no signals from keys, so Ctrl-C reaches the realm — and read by a thread that watches for
 * the escape Ctrl-A: Ctrl-A x quits (the run stops as if interrupted), Ctrl-A Ctrl-A sends one Ctrl-A,
 * Ctrl-A h prints the keys; the rest goes to the realm through a pipe. The terminal is restored on
 * every way out: the end of the run, errors, a second SIGINT/SIGTERM/SIGHUP, exit().
 */
#define ESCAPE_KEY 0x01   /* Ctrl-A */

static struct termios term_saved;
static volatile sig_atomic_t term_raw;

static void term_restore(void)
{
	if (term_raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &term_saved);
		term_raw = 0;
	}
}

static bool term_make_raw(void)
{
	static bool registered;
	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) != getpgrp() || tcgetattr(STDIN_FILENO, &term_saved))
		return false;
	struct termios t = term_saved;
	t.c_iflag &= ~(tcflag_t)(IXON | ICRNL | INLCR | IGNCR | BRKINT | ISTRIP | PARMRK);
	t.c_lflag &= ~(tcflag_t)(ICANON | ECHO | ECHONL | ISIG | IEXTEN);
	t.c_cc[VMIN] = 1;
	t.c_cc[VTIME] = 0;
	if (!registered) {
		atexit(term_restore);
		registered = true;
	}
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t))
		return false;
	term_raw = 1;
	return true;
}

struct console_input {
	FILE *in;                 /* what the VM reads (NULL: no input) */
	bool tty;
	int pipe[2], stop[2];     /* terminal reader -> VM; end of the reader */
	pthread_t thread;
	bool started;
	struct rmmemu_vm *vm;
	volatile int quit;        /* Ctrl-A x */
};

static void input_forward(struct console_input *ci, const uint8_t *b, size_t n)
{
	/* The VM reads as its FIFO empties; what does not fit in the pipe is dropped, not waited for. */
	if (n && write(ci->pipe[1], b, n) < 0) {
		/* full: dropped */
	}
}

static void *input_main(void *arg)
{
	struct console_input *ci = arg;
	bool esc = false;
	for (;;) {
		struct pollfd p[2] = { { .fd = STDIN_FILENO, .events = POLLIN }, { .fd = ci->stop[0], .events = POLLIN } };
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			break;
		uint8_t in[256], out[256];
		ssize_t n = read(STDIN_FILENO, in, sizeof(in));
		if (n <= 0)
			break;                   /* the terminal went away: end of input */
		size_t k = 0;
		for (ssize_t i = 0; i < n; i++) {
			if (!esc && in[i] == ESCAPE_KEY) {
				esc = true;
				continue;
			}
			if (!esc) {
				out[k++] = in[i];
				continue;
			}
			esc = false;
			if (in[i] == 'x' || in[i] == 'X') {
				static const char msg[] = "\r\nrmmemu run: Ctrl-A x: stopping the realm\r\n";
				if (write(STDERR_FILENO, msg, sizeof(msg) - 1) < 0) {
					/* nothing to do */
				}
				ci->quit = 1;
				rmmemu_vm_kick(ci->vm);
				input_forward(ci, out, k);
				return NULL;
			}
			if (in[i] == 'h' || in[i] == 'H' || in[i] == '?') {
				static const char help[] = "\r\nrmmemu run: Ctrl-A x quit, Ctrl-A Ctrl-A send Ctrl-A, "
							   "Ctrl-A h this help\r\n";
				if (write(STDERR_FILENO, help, sizeof(help) - 1) < 0) {
					/* nothing to do */
				}
				continue;
			}
			if (in[i] != ESCAPE_KEY)
				out[k++] = ESCAPE_KEY;
			out[k++] = in[i];
		}
		input_forward(ci, out, k);
	}
	close(ci->pipe[1]);
	ci->pipe[1] = -1;
	return NULL;
}

/* Before the build: what the VM will read. */
static void input_open(struct console_input *ci, bool enabled)
{
	memset(ci, 0, sizeof(*ci));
	ci->pipe[0] = ci->pipe[1] = ci->stop[0] = ci->stop[1] = -1;
	if (!enabled)
		return;
	if (!isatty(STDIN_FILENO)) {
		ci->in = stdin;
		return;
	}
	if (pipe(ci->pipe) || pipe(ci->stop)) {
		fprintf(stderr, "rmmemu run: no console input: %s\n", strerror(errno));
		return;
	}
	for (unsigned i = 0; i < 2; i++) {
		fcntl(ci->pipe[i], F_SETFD, FD_CLOEXEC);
		fcntl(ci->stop[i], F_SETFD, FD_CLOEXEC);
	}
	fcntl(ci->pipe[1], F_SETFL, fcntl(ci->pipe[1], F_GETFL) | O_NONBLOCK);
	ci->in = fdopen(ci->pipe[0], "r");
	if (ci->in)
		ci->tty = true;
}

/* After the build: the terminal in raw mode and its reader running. */
static void input_start(struct console_input *ci, struct rmmemu_vm *vm)
{
	ci->vm = vm;
	if (!ci->tty)
		return;
	if (!term_make_raw()) {
		close(ci->pipe[1]);   /* a terminal we may not take (background job): no input */
		ci->pipe[1] = -1;
		return;
	}
	fprintf(stderr, "rmmemu run: console input from this terminal (Ctrl-A x quits, Ctrl-A h for help)\r\n");
	ci->started = pthread_create(&ci->thread, NULL, input_main, ci) == 0;
}

static void input_close(struct console_input *ci)
{
	if (ci->started) {
		char c = 1;
		if (write(ci->stop[1], &c, 1) < 0) {
			/* the reader ends at the next key anyway */
		}
		pthread_join(ci->thread, NULL);
		ci->started = false;
	}
	term_restore();
	if (ci->tty && ci->in)
		fclose(ci->in);   /* the pipe's read end */
	for (unsigned i = 0; i < 2; i++) {
		if (i == 1 && ci->pipe[1] >= 0)
			close(ci->pipe[1]);
		if (ci->stop[i] >= 0)
			close(ci->stop[i]);
	}
	if (ci->tty && !ci->in && ci->pipe[0] >= 0)
		close(ci->pipe[0]);
	ci->in = NULL;
}

/*
 * Ctrl-C / SIGTERM / SIGHUP during `run`: the signals are blocked in every thread but one, which waits for
 * them and kicks the VM (rmmemu_vm_kick is not async-signal-safe, a thread may call it). The run
 * then stops at a REC exit and the realm is reported and torn down as usual; a second signal ends
 * the process at once. SIGUSR1 ends the waiting thread when the run is over.
 */
struct interrupter {
	pthread_t thread;
	sigset_t set, old;
	struct rmmemu_vm *vm;
	volatile int signal;             /* the first SIGINT/SIGTERM received, 0 if none */
	bool started;
};

static void *interrupter_main(void *arg)
{
	struct interrupter *it = arg;
	int sig;
	while (sigwait(&it->set, &sig) == 0 && sig != SIGUSR1) {
		if (it->signal) {
			term_restore();
			_exit(128 + sig);
		}
		it->signal = sig;
		static const char msg[] = "rmmemu run: interrupted: stopping the realm (again to quit at once)\n";
		if (write(2, msg, sizeof(msg) - 1) < 0) {
			/* nothing to do: the run stops anyway */
		}
		rmmemu_vm_kick(it->vm);
	}
	return NULL;
}

static void interrupter_start(struct interrupter *it, struct rmmemu_vm *vm)
{
	memset(it, 0, sizeof(*it));
	it->vm = vm;
	sigemptyset(&it->set);
	sigaddset(&it->set, SIGINT);
	sigaddset(&it->set, SIGTERM);
	sigaddset(&it->set, SIGHUP);
	sigaddset(&it->set, SIGUSR1);
	if (pthread_sigmask(SIG_BLOCK, &it->set, &it->old) != 0)
		return;
	it->started = pthread_create(&it->thread, NULL, interrupter_main, it) == 0;
	if (!it->started)
		pthread_sigmask(SIG_SETMASK, &it->old, NULL);
}

static void interrupter_stop(struct interrupter *it)
{
	if (!it->started)
		return;
	pthread_kill(it->thread, SIGUSR1);
	pthread_join(it->thread, NULL);
	pthread_sigmask(SIG_SETMASK, &it->old, NULL);
}

static void take_ranges(struct rmmemu_range dst[RMMEMU_MAX_RANGES], unsigned *ndst,
			const struct rmmemu_range src[RMMEMU_MAX_RANGES], unsigned nsrc)
{
	memcpy(dst, src, RMMEMU_MAX_RANGES * sizeof(*src));
	*ndst = nsrc;
}

/* Build a configured realm as KVM + kvmtool do and run it on the vCPU; the realm's console goes to
 * stdout, rmmemu's own report to stderr. */
static int run_realm(struct cli_opts *o, struct realm_config *cfg, bool demo)
{
	struct realm_build b;
	char err[512];
	struct console_input ci;
	/* What the command line gives of the machine layout and attestation keys replaces the file's. */
	struct rmmemu_platform_config *p = &cfg->platform;
	if (o->dram_given)
		take_ranges(p->dram, &p->num_dram, o->cfg.dram, o->cfg.num_dram);
	if (o->device_given)
		take_ranges(p->device, &p->num_device, o->cfg.device, o->cfg.num_device);
	if (o->secure_given)
		take_ranges(p->secure, &p->num_secure, o->cfg.secure, o->cfg.num_secure);
	if (o->root_given)
		take_ranges(p->root, &p->num_root, o->cfg.root, o->cfg.num_root);
	if (o->pa_bits_given)
		p->pa_bits = o->cfg.pa_bits;
	if (o->cfg.attest_seed_set) {
		memcpy(cfg->platform.attest_seed, o->cfg.attest_seed, sizeof(cfg->platform.attest_seed));
		cfg->platform.attest_seed_set = true;
	}
	if (o->cfg.rak_pem[0]) {
		memcpy(cfg->platform.rak_pem, o->cfg.rak_pem, sizeof(cfg->platform.rak_pem));
		memcpy(cfg->platform.cpak_pem, o->cfg.cpak_pem, sizeof(cfg->platform.cpak_pem));
	}
	o->cfg = cfg->platform;
	struct rmmemu *emu = make_instance(o);
	if (!emu)
		return 2;
	struct console_opts co = { .quiet = true };
	struct console *c = console_new(emu, stderr, &co);
	if (!c || apply_injections(o, c) || attach_sinks(o, emu) || rmmemu_enable_vcpu(emu)) {
		finish_sinks(o, emu, "");
		console_free(c);
		rmmemu_destroy(emu);
		return 2;
	}
	/* Console input: stdin into the PL011, for a configured realm with a UART. */
	input_open(&ci, !demo && !o->no_input && cfg->uart_base);
	cfg->uart_in = ci.in;
	if (realm_build(emu, cfg, &b, err, sizeof(err))) {
		input_close(&ci);
		fprintf(stderr, "rmmemu run: %s\n", err);
		finish_sinks(o, emu, "");
		console_free(c);
		rmmemu_disable_vcpu(emu);
		rmmemu_destroy(emu);
		return 2;
	}
	/* From here on, Ctrl-C stops the realm and everything below still runs (report, teardown). */
	struct interrupter intr;
	interrupter_start(&intr, b.vm);
	input_start(&ci, b.vm);
	uint8_t rim[64];
	int n = rmmemu_vm_measurement(b.vm, 0, rim);
	FILE *rep = demo ? stdout : stderr;
	const char *tag = demo ? "[host]" : "rmmemu:";
	if (cfg->uapi == 12) {
		fprintf(rep, "%s realm %s: %u-bit IPA, %u vCPU(s), memslot populated (KVM v12 uAPI: RECs and "
			     "activation on the first run); running it:\n", tag, cfg->path, rmmemu_vm_ipa_bits(b.vm),
			cfg->vcpus);
	} else {
		fprintf(rep, "%s realm %s: %u-bit IPA, %u vCPU(s), built and measured (RIM ", tag, cfg->path,
			rmmemu_vm_ipa_bits(b.vm), cfg->vcpus);
		put_hex(rep, rim, n);
		fprintf(rep, "), activated; running it:\n");
	}
	fflush(rep);
	struct demo_host d = { .vm = b.vm, .out = rep, .tag = tag };
	struct rmmemu_vm_handlers h = { .host_call = demo_host_call, .ripas_change = cfg->reject_ripas ? reject_ripas : NULL,
					.ctx = &d };
	struct rmmemu_vm_run_result r;
	if (platform_cpak(&cfg->platform, d.cpak))
		memset(d.cpak, 0, sizeof(d.cpak));   /* no valid key: every token check fails */
	rmmemu_vm_run(b.vm, &h, cfg->max_exits, &r);
	interrupter_stop(&intr);
	fflush(stdout);
	bool quit = ci.quit;
	input_close(&ci);
	fprintf(rep, "%s the realm stopped: %s%s%s; %llu REC entries, %llu MMIO, %llu pages populated on demand, "
		     "%llu shared; exits: sync %llu, irq %llu, psci %llu, ripas %llu, host call %llu\n",
		tag, quit && r.stop == RMMEMU_VM_KICKED ? "quit from the console (Ctrl-A x)" : stop_name(r.stop),
		r.stop == RMMEMU_VM_ERROR ? ": " : "",
		r.stop == RMMEMU_VM_ERROR ? r.error : "", (unsigned long long)r.entries, (unsigned long long)r.mmio,
		(unsigned long long)r.lazy_pages, (unsigned long long)r.shared_pages,
		(unsigned long long)r.exits[RMI_EXIT_SYNC], (unsigned long long)r.exits[RMI_EXIT_IRQ],
		(unsigned long long)r.exits[RMI_EXIT_PSCI], (unsigned long long)r.exits[RMI_EXIT_RIPAS_CHANGE],
		(unsigned long long)r.exits[RMI_EXIT_HOST_CALL]);
	if (r.timer_irqs || r.sgis || r.wfi_waits || r.console_in)
		fprintf(rep, "%s interrupts: %llu timer, %llu SGI writes; %llu WFI sleeps; %llu console input bytes\n", tag,
			(unsigned long long)r.timer_irqs, (unsigned long long)r.sgis, (unsigned long long)r.wfi_waits,
			(unsigned long long)r.console_in);
	if (cfg->uapi == 12 && (n = rmmemu_vm_measurement(b.vm, 0, rim)) > 0) {
		fprintf(rep, "%s RIM (measured up to the activation on the first run) ", tag);
		put_hex(rep, rim, n);
		fprintf(rep, "\n");
	}
	int rc = (r.stop == RMMEMU_VM_ERROR || r.stop == RMMEMU_VM_MAX_EXITS || d.token == TOKEN_FAILED ||
		  (demo && d.token != TOKEN_VERIFIED)) ? 1 : 0;
	if (r.stop == RMMEMU_VM_KICKED)
		rc = quit && !intr.signal ? 0 : 128 + intr.signal;   /* the shell's convention for a signal */
	if (rmmemu_vm_destroy(b.vm)) {
		fprintf(stderr, "rmmemu run: teardown failed\n");
		rc = 1;
	} else if (demo) {
		uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
		rmmemu_granule_census(emu, counts);
		printf("[host] torn down: %llu of %llu granules UNDELEGATED\n",
		       (unsigned long long)counts[RMMEMU_GRANULE_UNDELEGATED],
		       (unsigned long long)(cfg->platform.dram[0].size / 4096));
	}
	if (finish_sinks(o, emu, cfg->path))
		rc = 1;
	console_free(c);
	rmmemu_disable_vcpu(emu);
	rmmemu_destroy(emu);
	return rc;
}

/* rmmemu run CONFIG */
static int run_config(struct cli_opts *o, int argc, char **argv)
{
	struct realm_config cfg;
	char err[512];
	if (argc != 1) {
		fprintf(stderr, "usage: rmmemu run [options] [CONFIG.yaml]\n");
		return 2;
	}
	if (realm_config_load(argv[0], &cfg, err, sizeof(err))) {
		fprintf(stderr, "rmmemu run: %s\n", err);
		return 2;
	}
	return run_realm(o, &cfg, false);
}

/* rmmemu run: the embedded demo realm. */
static int run_demo(struct cli_opts *o)
{
	struct realm_config cfg;
	char err[512];
	if (realm_config_parse_string(rmmemu_demo_config, "demo", &cfg, err, sizeof(err))) {
		fprintf(stderr, "rmmemu run: %s\n", err);
		return 2;
	}
	cfg.kernel_data = rmmemu_demo_payload;
	cfg.kernel_size = rmmemu_demo_payload_len;
	return run_realm(o, &cfg, true);
}

static int cmd_run(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	int first = parse_opts(argc, argv, &o);
	if (first < 0)
		return 2;
	if (first < argc)
		return run_config(&o, argc - first, argv + first);
	return run_demo(&o);
}

/* rmmemu tour: the RMI walkthrough, every call printed. */
static int cmd_tour(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	int first = parse_opts(argc, argv, &o);
	if (first < 0)
		return 2;
	if (first < argc) {
		fprintf(stderr, "rmmemu tour: no arguments expected (got '%s')\n", argv[first]);
		return 2;
	}
	struct rmmemu *emu = make_instance(&o);
	if (!emu)
		return 2;
	struct console_opts co = { .echo_input = false, .stop_on_error = true, .quiet = o.quiet };
	struct console *c = console_new(emu, stdout, &co);
	if (!c || apply_injections(&o, c) || attach_sinks(&o, emu)) {
		finish_sinks(&o, emu, "");
		console_free(c);
		rmmemu_destroy(emu);
		return 2;
	}
	int failures = console_run_string(c, rmmemu_demo_script, "tour");
	if (finish_sinks(&o, emu, "rmmemu tour: a realm life cycle through RMI"))
		failures++;
	console_free(c);
	rmmemu_destroy(emu);
	return failures ? 1 : 0;
}

static int cmd_console(int argc, char **argv)
{
	struct cli_opts o = { 0 };
	int first = parse_opts(argc, argv, &o);
	if (first < 0)
		return 2;
	struct rmmemu *emu = make_instance(&o);
	if (!emu)
		return 2;
	bool interactive = first == argc && isatty(STDIN_FILENO);
	struct console_opts co = { .echo_input = !interactive && !o.quiet, .stop_on_error = o.stop_on_error,
				   .quiet = o.quiet };
	struct console *c = console_new(emu, stdout, &co);
	int failures = 0, rc = 0;
	if (!c || apply_injections(&o, c) || attach_sinks(&o, emu)) {
		finish_sinks(&o, emu, "");
		console_free(c);
		rmmemu_destroy(emu);
		return c ? 2 : 1;
	}
	if (first == argc) {
		if (interactive)
			printf("rmmemu RMI console (RMM %u.%u). Type 'help' for commands, 'quit' to leave.\n",
			       RMI_ABI_VERSION_MAJOR, RMI_ABI_VERSION_MINOR);
		failures = console_run_stream(c, stdin, "stdin");
	}
	for (int i = first; i < argc && !console_done(c); i++) {
		if (!strcmp(argv[i], "-")) {
			failures += console_run_stream(c, stdin, "stdin");
			continue;
		}
		FILE *f = fopen(argv[i], "r");
		if (!f) {
			fprintf(stderr, "rmmemu console: cannot open '%s': %s\n", argv[i], strerror(errno));
			rc = 2;
			break;
		}
		failures += console_run_stream(c, f, argv[i]);
		fclose(f);
		if (failures && o.stop_on_error)
			break;
	}
	if (finish_sinks(&o, emu, "rmmemu console session"))
		failures++;
	console_free(c);
	rmmemu_destroy(emu);
	if (rc)
		return rc;
	return failures ? 1 : 0;
}

/* Build the realm of a configuration up to ACTIVATE and print its RIM (nothing runs). */
static int cmd_measure(int argc, char **argv)
{
	struct realm_config cfg;
	struct realm_build b;
	char err[512];
	if (argc != 2 || argv[1][0] == '-') {
		fprintf(stderr, "usage: rmmemu measure CONFIG.yaml\n");
		return 2;
	}
	if (realm_config_load(argv[1], &cfg, err, sizeof(err))) {
		fprintf(stderr, "rmmemu measure: %s\n", err);
		return 2;
	}
	/* The v12 flow issues the same RMI calls in the same order (so the same RIM) but activates only
	 * on the first run: measure with the explicit v10 flow. */
	cfg.uapi = 10;
	struct rmmemu *emu = rmmemu_create(&cfg.platform, err, sizeof(err));
	if (!emu) {
		fprintf(stderr, "rmmemu measure: %s: platform: %s\n", argv[1], err);
		return 2;
	}
	if (realm_build(emu, &cfg, &b, err, sizeof(err))) {
		fprintf(stderr, "rmmemu measure: %s\n", err);
		rmmemu_destroy(emu);
		return 2;
	}
	uint8_t rim[64];
	int n = rmmemu_vm_measurement(b.vm, 0, rim);
	printf("realm: %s, %u-bit IPA, %u vCPU(s), RAM [0x%llx, 0x%llx), entry 0x%llx, x0 (DTB) 0x%llx\n",
	       cfg.hash == RMMEMU_HASH_SHA256 ? "sha256" : "sha512", rmmemu_vm_ipa_bits(b.vm), cfg.vcpus,
	       (unsigned long long)cfg.ram_base, (unsigned long long)(cfg.ram_base + cfg.ram_size),
	       (unsigned long long)b.entry, (unsigned long long)b.dtb_ipa);
	for (unsigned i = 0; i < b.nregions; i++)
		printf("  %-7s [0x%llx, 0x%llx) %s\n", b.regions[i].what, (unsigned long long)b.regions[i].ipa,
		       (unsigned long long)(b.regions[i].ipa + b.regions[i].size),
		       b.regions[i].measured ? "measured" : "not measured");
	printf("RIM: ");
	put_hex(stdout, rim, n);
	printf("\n");
	int rc = rmmemu_vm_destroy(b.vm) ? 1 : 0;
	rmmemu_destroy(emu);
	return rc;
}

/* rmmemu token show|verify FILE [--cpak PEM | --seed HEX] */
static int cmd_token(int argc, char **argv)
{
	const char *cpak = NULL, *seed = NULL;
	uint8_t *tok, pub[ATTEST_EC_POINT_SIZE], seed_bytes[ATTEST_SEED_SIZE];
	if (argc == 5 && !strcmp(argv[3], "--cpak")) {
		cpak = argv[4];
		argc = 3;
	} else if (argc == 5 && !strcmp(argv[3], "--seed")) {
		seed = argv[4];
		argc = 3;
		if (parse_hex_bytes(seed, seed_bytes, sizeof(seed_bytes))) {
			fprintf(stderr, "rmmemu token: --seed expects 64 hex digits\n");
			return 2;
		}
	}
	if (argc != 3 || (strcmp(argv[1], "show") && strcmp(argv[1], "verify"))) {
		fprintf(stderr, "usage: rmmemu token show FILE | rmmemu token verify FILE [--cpak PEM | --seed HEX]\n");
		return 2;
	}
	size_t len;
	char err[256];
	if (token_read_file(argv[2], &tok, &len, err, sizeof(err))) {
		fprintf(stderr, "rmmemu token: %s\n", err);
		return 2;
	}
	int rc;
	if (!strcmp(argv[1], "show")) {
		rc = token_show_json(stdout, tok, len, err, sizeof(err));
	} else if (cpak && token_cpak_from_pem(cpak, pub, err, sizeof(err))) {
		free(tok);
		fprintf(stderr, "rmmemu token: %s\n", err);
		return 2;
	} else {
		if (seed)
			token_cpak_from_seed(seed_bytes, pub);
		rc = token_verify_with_cpak(tok, len, cpak || seed ? pub : NULL, stdout, err, sizeof(err));
		if (!rc)
			printf("token OK\n");
	}
	free(tok);
	if (rc) {
		fprintf(stderr, "rmmemu token %s: %s: %s\n", argv[1], argv[2], err);
		return 1;
	}
	return 0;
}

static int cmd_scenario(int argc, char **argv)
{
	bool verbose = false;
	int first = 1, passed = 0, failed = 0, broken = 0;
	if (argc > 1 && (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--verbose"))) {
		verbose = true;
		first = 2;
	}
	if (first >= argc) {
		fprintf(stderr, "usage: rmmemu scenario [-v] FILE...\n");
		return 2;
	}
	for (int i = first; i < argc; i++) {
		int rc = scenario_run_file(argv[i], stdout, verbose);
		if (rc == 0)
			passed++;
		else if (rc > 0)
			failed++;
		else
			broken++;
	}
	printf("%d passed, %d failed\n", passed, failed + broken);
	if (broken)
		return 2;
	return failed ? 1 : 0;
}

int rmmemu_cli_main(int argc, char **argv)
{
	if (argc < 2) {
		/* No subcommand: the main job is the demo realm. */
		char *args[] = { argv[0], NULL };
		return cmd_run(1, args);
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("rmmemu %s (RMI ABI %u.%u, RMM specification 1.0-rel0; engine %s)\n", RMMEMU_VERSION,
		       RMI_ABI_VERSION_MAJOR, RMI_ABI_VERSION_MINOR, rmmemu_vcpu_engine());
		return 0;
	}
	if (!strcmp(cmd, "run"))
		return cmd_run(argc - 1, argv + 1);
	if (!strcmp(cmd, "console"))
		return cmd_console(argc - 1, argv + 1);
	if (!strcmp(cmd, "tour"))
		return cmd_tour(argc - 1, argv + 1);
	if (!strcmp(cmd, "scenario"))
		return cmd_scenario(argc - 1, argv + 1);
	if (!strcmp(cmd, "measure"))
		return cmd_measure(argc - 1, argv + 1);
	if (!strcmp(cmd, "token"))
		return cmd_token(argc - 1, argv + 1);
	fprintf(stderr, "rmmemu: unknown command '%s'\n\n", cmd);
	usage(stderr);
	return 2;
}

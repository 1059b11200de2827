/* The RMI console. Grammar and commands: docs/console.md (and `help`). */
#include "host/console.h"

#include "host/token_tool.h"
#include "rmm/esr.h"
#include "rmm/vcpu_ops.h"   /* rmm_debug_realm_smc / _realm_access / _rec_regs: the realm-side commands */

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_VARS   256
#define MAX_TOKENS 32
#define MAX_RUNS   64
#define GRANULE    4096ULL

struct var {
	char name[32];
	uint64_t value;
};

struct console {
	struct rmmemu *emu;
	FILE *out;
	struct console_opts opts;
	struct var vars[MAX_VARS];
	unsigned nvars;
	struct rmmemu_smc_result last;
	uint64_t last_fid;
	bool have_last;
	bool done;
	const char *where;
	/* The RecRun of each REC's last successful REC_ENTER from this console: where the realm-side
	 * debug commands write the exits they produce. */
	struct { uint64_t rec, run; } runs[MAX_RUNS];
	unsigned nruns;
};

static const char *const help_text =
	"RMI calls:   NAME|FID [ARG...]      e.g. GRANULE_DELEGATE 0x80000000, RMI_RTT_CREATE $rd $rtt 0 1\n"
	"             results go to $x0..$x4; arguments: numbers (0x.., decimal, -1), $var, sums\n"
	"             and differences of those ($rd+0x1000, $a+$b); `echo` expands $var\n"
	"set NAME VALUE                      define $NAME\n"
	"realm_params PA key=value...        write an RmiRealmParams granule (zeroed first): flags lpa2 sve pmu s2sz\n"
	"                                    sve_vl num_bps num_wps pmu_num_ctrs hash=sha256|sha512|N rpv=TEXT vmid\n"
	"                                    rtt_base rtt_level_start rtt_num_start\n"
	"rec_params PA key=value...          write an RmiRecParams granule: runnable flags mpidr pc x0..x7\n"
	"                                    num_aux aux=ADDR (num_aux consecutive granules) or aux=A,B,C\n"
	"rec_run PA key=value...             write RmiRecEnter: flags emul_mmio inject_sea trap_wfi trap_wfe\n"
	"                                    ripas_reject x0..x30 gicv3_hcr lr0..lr15\n"
	"                                    (a flag is NAME or NAME=1 to set it, NAME=0 to clear it)\n"
	"exit PA                             decode the RmiRecExit of a RecRun granule\n"
	"write64|write8 PA VALUE, read64 PA, fill PA LEN BYTE, dump PA LEN   normal-world memory\n"
	"delegate|undelegate PA [COUNT]      GRANULE_(UN)DELEGATE of COUNT consecutive granules\n"
	"probe PA                            try a normal-world read (shows a protection fault, never fails)\n"
	"granule PA                          state, PAS and refcount of a granule\n"
	"census                              number of granules in each state\n"
	"invariants                          check the RMM's global invariants\n"
	"expect STATUS                       last result, e.g. SUCCESS, ERROR_INPUT, ERROR_REALM(1), NOT_SUPPORTED\n"
	"                                    (no index means index 0; ERROR_RTT alone matches any level)\n"
	"expect_x N VALUE                    last result register XN equals VALUE\n"
	"trace on|off                        show granule and realm state changes\n"
	"inject CALL STATUS [COUNT] [SKIP]   make the next COUNT calls of CALL (after SKIP) fail with STATUS\n"
	"inject_irq COUNT [SKIP]             the next COUNT REC entries (after SKIP) exit with RMI_EXIT_IRQ\n"
	"inject_sea COUNT [SKIP]             the next COUNT REC entries (after SKIP) deliver an SEA to the realm\n"
	"echo TEXT                           print TEXT\n"
	"debug (acting as the realm; no real host can do this):\n"
	"rim RD, measurement RD SLOT         print the RIM / REM (slot 1..4 = REM0..3)\n"
	"realm_smc REC FID|NAME [X1..X11]    the REC issues an SMC (RSI_*, PSCI_*): results in $r0..$r11\n"
	"realm_access REC IPA read|write SIZE [VALUE] [rt=N]\n"
	"                                    the REC loads/stores SIZE (1,2,4,8) bytes at IPA (stage 1 off) with\n"
	"                                    register Xrt (default X0): done through stage 2 (read -> $val), or\n"
	"                                    the RMM's REC exit for the stage-2 fault, or an SEA (RIPAS EMPTY)\n"
	"realm_regs REC                      the REC's PC, PSTATE, ESR/FAR/ELR/SPSR/VBAR_EL1, X0..X30\n"
	"                                    (-> $pc, $pstate, $esr_el1, ..., $r0..$r30)\n"
	"realm_read RD IPA LEN               dump realm memory mapped at a protected IPA\n"
	"token RD IPA LEN [FILE]             decode (JSON) and verify a CCA token in realm memory; save it\n"
	"help, quit                          \n";

struct console *console_new(struct rmmemu *emu, FILE *out, const struct console_opts *opts)
{
	struct console *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->emu = emu;
	c->out = out;
	if (opts)
		c->opts = *opts;
	return c;
}

void console_free(struct console *c)
{
	free(c);
}

bool console_done(const struct console *c)
{
	return c->done;
}

bool console_last_result(const struct console *c, uint64_t *fid, struct rmmemu_smc_result *res)
{
	if (!c->have_last)
		return false;
	*fid = c->last_fid;
	*res = c->last;
	return true;
}

static int error(struct console *c, const char *fmt, ...)
{
	va_list ap;
	fprintf(c->out, "error: %s: ", c->where ? c->where : "console");
	va_start(ap, fmt);
	vfprintf(c->out, fmt, ap);
	va_end(ap);
	fputc('\n', c->out);
	return -1;
}

static struct var *find_var(struct console *c, const char *name, size_t len)
{
	for (unsigned i = 0; i < c->nvars; i++)
		if (strlen(c->vars[i].name) == len && !strncmp(c->vars[i].name, name, len))
			return &c->vars[i];
	return NULL;
}

static int set_var(struct console *c, const char *name, uint64_t v)
{
	size_t len = strlen(name);
	if (len == 0 || len >= sizeof(c->vars[0].name))
		return error(c, "bad variable name '%s'", name);
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)name[i]) && name[i] != '_')
			return error(c, "bad variable name '%s'", name);
	struct var *var = find_var(c, name, len);
	if (!var) {
		if (c->nvars == MAX_VARS)
			return error(c, "too many variables");
		var = &c->vars[c->nvars++];
		memcpy(var->name, name, len + 1);
	}
	var->value = v;
	return 0;
}

int console_set_var(struct console *c, const char *name, uint64_t value)
{
	return set_var(c, name, value);
}


/* One term: NUMBER (0x.., decimal) or $var. */
static int parse_term(struct console *c, const char *s, size_t len, const char *whole, uint64_t *out)
{
	char buf[64];
	if (len == 0 || len >= sizeof(buf))
		return error(c, "bad value '%s'", whole);
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (buf[0] == '$') {
		struct var *v = find_var(c, buf + 1, len - 1);
		if (!v)
			return error(c, "unknown variable '%s'", buf + 1);
		*out = v->value;
		return 0;
	}
	if (!isdigit((unsigned char)buf[0]))
		return error(c, "bad number '%s'", whole);
	errno = 0;
	char *end;
	*out = strtoull(buf, &end, 0);
	if (errno || *end != '\0')
		return error(c, "bad number '%s'", whole);
	return 0;
}

/* TERM { (+|-) TERM }, with an optional leading minus: 0x10, -1, $rd, $rd+0x1000, $a+$b-4. */
static int parse_value(struct console *c, const char *s, uint64_t *out)
{
	const char *p = s;
	bool neg = false;
	uint64_t acc = 0;
	if (*p == '-') {
		neg = true;
		p++;
	}
	for (;;) {
		size_t len = strcspn(p, "+-");
		uint64_t v = 0;
		if (parse_term(c, p, len, s, &v))
			return -1;
		acc = neg ? acc - v : acc + v;
		p += len;
		if (!*p)
			break;
		neg = *p == '-';
		p++;
	}
	*out = acc;
	return 0;
}

/* Replace $name by the variable's value (hex) in text for `echo`; unknown names stay as they are. */
static void echo_expand(struct console *c, const char *text)
{
	for (const char *p = text; *p;) {
		if (*p == '$') {
			const char *n = p + 1, *e = n;
			while (isalnum((unsigned char)*e) || *e == '_')
				e++;
			struct var *v = e > n ? find_var(c, n, (size_t)(e - n)) : NULL;
			if (v) {
				fprintf(c->out, "0x%llx", (unsigned long long)v->value);
				p = e;
				continue;
			}
		}
		fputc(*p++, c->out);
	}
}

static int tokenize(char *line, char **tok, int max)
{
	int n = 0;
	char *p = line;
	while (*p) {
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (n == max)
			return -1;
		tok[n++] = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p)
			*p++ = '\0';
	}
	return n;
}

static const char *mem_err(int rc)
{
	switch (rc) {
	case RMMEMU_E_GPF: return "granule protection fault (granule not in the non-secure PAS)";
	case RMMEMU_E_NOMEM: return "address is not DRAM";
	default: return "invalid access";
	}
}

static int write_mem(struct console *c, uint64_t pa, const void *buf, size_t len)
{
	int rc = rmmemu_ns_write(c->emu, pa, buf, len);
	if (rc)
		return error(c, "write at 0x%llx: %s", (unsigned long long)pa, mem_err(rc));
	return 0;
}

/* Parse "key=value" against a key; returns 1 if matched (value in *v), 0 if not, -1 on error. */
static int kv(struct console *c, const char *tok, const char *key, uint64_t *v)
{
	size_t k = strlen(key);
	if (strncmp(tok, key, k) || tok[k] != '=')
		return 0;
	return parse_value(c, tok + k + 1, v) ? -1 : 1;
}

/*
 * A flag: "name" or "name=1" sets it, "name=0" clears it. Returns 1 if tok is that flag (its value in
 * *on), 0 if not, -1 on a value other than 0 or 1.
 */
static int flag(struct console *c, const char *tok, const char *name, bool *on)
{
	size_t k = strlen(name);
	uint64_t v = 1;
	if (strncmp(tok, name, k) || (tok[k] != '\0' && tok[k] != '='))
		return 0;
	if (tok[k] == '=' && (parse_value(c, tok + k + 1, &v) || v > 1)) {
		error(c, "%s: 0 or 1", name);
		return -1;
	}
	*on = v != 0;
	return 1;
}

/* The flags of the bits named on a line, whatever the order: (flags=N | set) & ~cleared. */
struct flag_bits {
	uint64_t set, cleared;
};

static int flag_bit(struct console *c, const char *tok, const char *name, uint64_t bit, struct flag_bits *fb)
{
	bool on;
	int m = flag(c, tok, name, &on);
	if (m == 1) {
		fb->set = on ? fb->set | bit : fb->set & ~bit;
		fb->cleared = on ? fb->cleared & ~bit : fb->cleared | bit;
	}
	return m;
}

static void put64(uint8_t *img, unsigned off, uint64_t v)
{
	memcpy(img + off, &v, 8);
}

static int cmd_realm_params(struct console *c, int n, char **t)
{
	uint8_t img[GRANULE] = { 0 };
	uint64_t pa, v;
	if (n < 2 || parse_value(c, t[1], &pa))
		return n < 2 ? error(c, "usage: realm_params PA key=value...") : -1;
	uint64_t flags = 0;
	struct flag_bits fb = { 0, 0 };
	for (int i = 2; i < n; i++) {
		static const struct { const char *key; unsigned off, size; } f[] = {
			{ "flags", RMI_REALM_PARAMS_FLAGS, 8 }, { "s2sz", RMI_REALM_PARAMS_S2SZ, 1 },
			{ "sve_vl", RMI_REALM_PARAMS_SVE_VL, 1 }, { "num_bps", RMI_REALM_PARAMS_NUM_BPS, 1 },
			{ "num_wps", RMI_REALM_PARAMS_NUM_WPS, 1 }, { "pmu_num_ctrs", RMI_REALM_PARAMS_PMU_NUM_CTRS, 1 },
			{ "vmid", RMI_REALM_PARAMS_VMID, 2 }, { "rtt_base", RMI_REALM_PARAMS_RTT_BASE, 8 },
			{ "rtt_level_start", RMI_REALM_PARAMS_RTT_LEVEL_START, 8 },
			{ "rtt_num_start", RMI_REALM_PARAMS_RTT_NUM_START, 4 },
		};
		int matched = 0;
		for (unsigned k = 0; k < sizeof(f) / sizeof(f[0]) && !matched; k++) {
			matched = kv(c, t[i], f[k].key, &v);
			if (matched < 0)
				return -1;
			if (matched) {
				if (f[k].size < 8 && (v >> (8 * f[k].size)) && !(f[k].size == 8))
					return error(c, "%s: value 0x%llx does not fit in %u byte(s)", f[k].key,
						     (unsigned long long)v, f[k].size);
				if (f[k].off == RMI_REALM_PARAMS_FLAGS)
					flags |= v;
				else
					memcpy(img + f[k].off, &v, f[k].size);
			}
		}
		if (matched)
			continue;
		int m;
		if ((m = flag_bit(c, t[i], "lpa2", RMI_REALM_FLAGS_LPA2, &fb)) ||
		    (m = flag_bit(c, t[i], "sve", RMI_REALM_FLAGS_SVE, &fb)) ||
		    (m = flag_bit(c, t[i], "pmu", RMI_REALM_FLAGS_PMU, &fb))) {
			if (m < 0)
				return -1;
		} else if (!strncmp(t[i], "hash=", 5)) {
			const char *h = t[i] + 5;
			if (!strcasecmp(h, "sha256"))
				img[RMI_REALM_PARAMS_HASH_ALGO] = RMI_HASH_SHA_256;
			else if (!strcasecmp(h, "sha512"))
				img[RMI_REALM_PARAMS_HASH_ALGO] = RMI_HASH_SHA_512;
			else if (parse_value(c, h, &v) == 0 && v <= 0xFF)
				img[RMI_REALM_PARAMS_HASH_ALGO] = (uint8_t)v;
			else
				return error(c, "hash: expected sha256, sha512 or a byte value");
		} else if (!strncmp(t[i], "rpv=", 4)) {
			size_t len = strlen(t[i] + 4);
			if (len > RMI_RPV_SIZE)
				return error(c, "rpv: at most %d bytes", RMI_RPV_SIZE);
			memcpy(img + RMI_REALM_PARAMS_RPV, t[i] + 4, len);
		} else {
			return error(c, "realm_params: unknown key '%s'", t[i]);
		}
	}
	put64(img, RMI_REALM_PARAMS_FLAGS, (flags | fb.set) & ~fb.cleared);
	return write_mem(c, pa, img, sizeof(img));
}

static int cmd_rec_params(struct console *c, int n, char **t)
{
	uint8_t img[GRANULE] = { 0 };
	uint64_t pa, v, flags = 0, num_aux = 0, aux[RMI_MAX_REC_AUX_GRANULES] = { 0 };
	unsigned aux_listed = 0;
	bool aux_range = false;
	struct flag_bits fb = { 0, 0 };
	if (n < 2 || parse_value(c, t[1], &pa))
		return n < 2 ? error(c, "usage: rec_params PA key=value...") : -1;
	for (int i = 2; i < n; i++) {
		int m;
		if ((m = flag_bit(c, t[i], "runnable", RMI_REC_PARAMS_FLAG_RUNNABLE, &fb))) {
			if (m < 0)
				return -1;
		} else if ((m = kv(c, t[i], "flags", &v))) {
			if (m < 0)
				return -1;
			flags = v;
		} else if ((m = kv(c, t[i], "mpidr", &v))) {
			if (m < 0)
				return -1;
			put64(img, RMI_REC_PARAMS_MPIDR, v);
		} else if ((m = kv(c, t[i], "pc", &v))) {
			if (m < 0)
				return -1;
			put64(img, RMI_REC_PARAMS_PC, v);
		} else if ((m = kv(c, t[i], "num_aux", &v))) {
			if (m < 0)
				return -1;
			num_aux = v;
		} else if (t[i][0] == 'x' && isdigit((unsigned char)t[i][1]) && t[i][2] == '=') {
			unsigned r = (unsigned)(t[i][1] - '0');
			if (r >= RMI_REC_CREATE_NR_GPRS || parse_value(c, t[i] + 3, &v))
				return error(c, "rec_params: registers x0..x7 only");
			put64(img, RMI_REC_PARAMS_GPRS + 8 * r, v);
		} else if (!strncmp(t[i], "aux=", 4)) {
			char *list = t[i] + 4, *save = NULL;
			for (char *item = strtok_r(list, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
				if (aux_listed == RMI_MAX_REC_AUX_GRANULES)
					return error(c, "rec_params: at most %d aux granules", RMI_MAX_REC_AUX_GRANULES);
				if (parse_value(c, item, &aux[aux_listed]))
					return -1;
				aux_listed++;
			}
			aux_range = aux_listed == 1;
		} else {
			return error(c, "rec_params: unknown key '%s'", t[i]);
		}
	}
	if (aux_range && num_aux > 1) {
		if (num_aux > RMI_MAX_REC_AUX_GRANULES)
			return error(c, "rec_params: num_aux > %d with a single aux base", RMI_MAX_REC_AUX_GRANULES);
		for (unsigned k = 1; k < num_aux; k++)
			aux[k] = aux[0] + k * GRANULE;
		aux_listed = (unsigned)num_aux;
	}
	if (!num_aux)
		num_aux = aux_listed;
	put64(img, RMI_REC_PARAMS_FLAGS, (flags | fb.set) & ~fb.cleared);
	put64(img, RMI_REC_PARAMS_NUM_AUX, num_aux);
	for (unsigned k = 0; k < aux_listed; k++)
		put64(img, RMI_REC_PARAMS_AUX + 8 * k, aux[k]);
	return write_mem(c, pa, img, sizeof(img));
}

static int cmd_rec_run(struct console *c, int n, char **t)
{
	uint8_t img[RMI_REC_ENTER_SIZE] = { 0 };
	uint64_t pa, v, flags = 0;
	struct flag_bits fb = { 0, 0 };
	if (n < 2 || parse_value(c, t[1], &pa))
		return n < 2 ? error(c, "usage: rec_run PA key=value...") : -1;
	for (int i = 2; i < n; i++) {
		static const struct { const char *name; uint64_t bit; } fl[] = {
			{ "emul_mmio", RMI_REC_ENTER_FLAG_EMUL_MMIO }, { "inject_sea", RMI_REC_ENTER_FLAG_INJECT_SEA },
			{ "trap_wfi", RMI_REC_ENTER_FLAG_TRAP_WFI }, { "trap_wfe", RMI_REC_ENTER_FLAG_TRAP_WFE },
			{ "ripas_reject", RMI_REC_ENTER_FLAG_RIPAS_RESPONSE },
		};
		int m = 0;
		for (unsigned k = 0; k < sizeof(fl) / sizeof(fl[0]) && !m; k++)
			m = flag_bit(c, t[i], fl[k].name, fl[k].bit, &fb);
		if (m < 0)
			return -1;
		if (m)
			continue;
		unsigned r;
		char *eq = strchr(t[i], '=');
		if ((m = kv(c, t[i], "flags", &v))) {
			if (m < 0)
				return -1;
			flags |= v;
		} else if ((m = kv(c, t[i], "gicv3_hcr", &v))) {
			if (m < 0)
				return -1;
			put64(img, RMI_REC_ENTER_GICV3_HCR, v);
		} else if (eq && t[i][0] == 'x' && sscanf(t[i], "x%u=", &r) == 1 && r < RMI_REC_NR_GPRS) {
			if (parse_value(c, eq + 1, &v))
				return -1;
			put64(img, RMI_REC_ENTER_GPRS + 8 * r, v);
		} else if (eq && !strncmp(t[i], "lr", 2) && sscanf(t[i], "lr%u=", &r) == 1 && r < RMI_REC_GIC_NUM_LRS) {
			if (parse_value(c, eq + 1, &v))
				return -1;
			put64(img, RMI_REC_ENTER_GICV3_LRS + 8 * r, v);
		} else {
			return error(c, "rec_run: unknown key '%s'", t[i]);
		}
	}
	put64(img, RMI_REC_ENTER_FLAGS, (flags | fb.set) & ~fb.cleared);
	return write_mem(c, pa, img, sizeof(img));
}

static int cmd_exit(struct console *c, int n, char **t)
{
	uint8_t img[RMI_REC_EXIT_SIZE];
	uint64_t pa;
	if (n != 2 || parse_value(c, t[1], &pa))
		return n != 2 ? error(c, "usage: exit PA") : -1;
	int rc = rmmemu_ns_read(c->emu, pa + RMI_REC_EXIT_BASE, img, sizeof(img));
	if (rc)
		return error(c, "read at 0x%llx: %s", (unsigned long long)pa, mem_err(rc));
	/* Offsets into img are RecRun offsets minus RMI_REC_EXIT_BASE: indices, computed first. */
	uint64_t f[8];
	memcpy(&f[0], &img[RMI_REC_EXIT_REASON - RMI_REC_EXIT_BASE], 8);
	memcpy(&f[1], &img[RMI_REC_EXIT_ESR - RMI_REC_EXIT_BASE], 24);        /* ESR, FAR, HPFAR */
	memcpy(&f[4], &img[RMI_REC_EXIT_CNTV_CTL - RMI_REC_EXIT_BASE], 16);   /* CNTV_CTL, CNTV_CVAL */
	memcpy(&f[6], &img[RMI_REC_EXIT_RIPAS_BASE - RMI_REC_EXIT_BASE], 16); /* RIPAS base, top */
	fprintf(c->out, "  exit_reason=%llu (%s) esr=0x%llx far=0x%llx hpfar=0x%llx cntv_ctl=0x%llx "
		"cntv_cval=0x%llx ripas=[0x%llx, 0x%llx)\n",
		(unsigned long long)f[0], rmmemu_exit_reason_name((unsigned)f[0]), (unsigned long long)f[1],
		(unsigned long long)f[2], (unsigned long long)f[3], (unsigned long long)f[4],
		(unsigned long long)f[5], (unsigned long long)f[6], (unsigned long long)f[7]);
	set_var(c, "exit_reason", f[0]);
	return 0;
}

/* "SUCCESS", "RMI_ERROR_RTT", "ERROR_RTT(2)", "ERROR_RTT:2", "NOT_SUPPORTED", or a number. */
static int parse_status(struct console *c, const char *s, uint64_t *out)
{
	char name[64];
	unsigned idx = 0;
	bool has_idx = false;
	size_t len = strcspn(s, "(:");
	if (len >= sizeof(name))
		return error(c, "bad status '%s'", s);
	memcpy(name, s, len);
	name[len] = '\0';
	if (s[len]) {
		char *end;
		unsigned long v = strtoul(s + len + 1, &end, 0);
		if (end == s + len + 1 || v > 255 || (s[len] == '(' ? strcmp(end, ")") : *end != '\0'))
			return error(c, "bad status index in '%s'", s);
		idx = (unsigned)v;
		has_idx = true;
	}
	const char *n = name;
	if (!strncasecmp(n, "RMI_", 4))
		n += 4;
	if (!strcasecmp(n, "NOT_SUPPORTED") || !strcasecmp(n, "SMCCC_NOT_SUPPORTED")) {
		*out = SMCCC_NOT_SUPPORTED;
		return 0;
	}
	for (unsigned st = 0; st < 5; st++)
		if (!strcasecmp(n, rmmemu_rmi_status_name(st) + 4)) {
			*out = RMI_PACK_RETURN(st, has_idx ? idx : 0);
			return has_idx || st != RMI_ERROR_RTT ? 0 : 1; /* 1: any RTT level */
		}
	return parse_value(c, s, out);
}

/* REC_ENTER(rec, run) succeeded: run holds rec's exit. run = 0: the REC was destroyed. */
static void remember_run(struct console *c, uint64_t rec, uint64_t run)
{
	unsigned i = 0;
	while (i < c->nruns && c->runs[i].rec != rec)
		i++;
	if (!run) {
		if (i < c->nruns)
			c->runs[i] = c->runs[--c->nruns];
		return;
	}
	if (i == c->nruns) {
		if (c->nruns == MAX_RUNS)
			i = 0;   /* forget the oldest entry's REC */
		else
			c->nruns++;
	}
	c->runs[i].rec = rec;
	c->runs[i].run = run;
}

static bool find_run(const struct console *c, uint64_t rec, uint64_t *run)
{
	for (unsigned i = 0; i < c->nruns; i++)
		if (c->runs[i].rec == rec) {
			*run = c->runs[i].run;
			return true;
		}
	return false;
}

/*
 * Write an exit the realm-side commands produced into the REC's RecRun, as REC_ENTER writes it
 * (rmi/rec_enter.c: the whole RmiRecExit). The GIC and timer fields are kept as the REC's last
 * REC_ENTER wrote them: a realm SMC does not change that state. Prints where it went.
 */
static int write_exit(struct console *c, uint64_t rec, const struct rec_exit_image *x)
{
	uint64_t run;
	if (!find_run(c, rec, &run)) {
		if (!c->opts.quiet)
			fprintf(c->out, "  (no RecRun known for this REC: no REC_ENTER of it succeeded from this console; "
				"the exit is not written)\n");
		return 0;
	}
	struct rec_exit_image img = *x, old;
	const unsigned gic = RMI_REC_EXIT_GICV3_HCR - RMI_REC_EXIT_BASE;
	const unsigned timers_end = RMI_REC_EXIT_CNTV_CVAL + 8 - RMI_REC_EXIT_BASE;
	int rc = rmmemu_ns_read(c->emu, run + RMI_REC_EXIT_BASE, old.bytes, sizeof(old.bytes));
	if (!rc) {
		memcpy(&img.bytes[gic], &old.bytes[gic], timers_end - gic);
		rc = rmmemu_ns_write(c->emu, run + RMI_REC_EXIT_BASE, img.bytes, sizeof(img.bytes));
	}
	if (rc)
		return error(c, "writing the exit into RecRun 0x%llx: %s", (unsigned long long)run, mem_err(rc));
	if (!c->opts.quiet)
		fprintf(c->out, "  (exit written to RecRun 0x%llx)\n", (unsigned long long)run);
	return 0;
}

static void print_call(struct console *c, uint64_t fid, const uint64_t a[6], unsigned nargs)
{
	char ret[64];
	const char *name = rmmemu_rmi_name(fid);
	rmmemu_format_return(c->last.x[0], ret, sizeof(ret));
	if (name)
		fprintf(c->out, "%s(", name);
	else
		fprintf(c->out, "SMC 0x%llx(", (unsigned long long)fid);
	for (unsigned i = 0; i < nargs; i++)
		fprintf(c->out, "%s0x%llx", i ? ", " : "", (unsigned long long)a[i]);
	fprintf(c->out, ") -> %s", ret);
	unsigned nres = rmmemu_rmi_nresults(fid);
	for (unsigned i = 0; i < nres && name; i++)
		fprintf(c->out, " x%u=0x%llx", i + 1, (unsigned long long)c->last.x[i + 1]);
	fputc('\n', c->out);
}

static int cmd_smc(struct console *c, uint64_t fid, int n, char **t)
{
	uint64_t a[6] = { 0 };
	if (n - 1 > 6)
		return error(c, "at most 6 arguments (X1..X6)");
	for (int i = 1; i < n; i++)
		if (parse_value(c, t[i], &a[i - 1]))
			return -1;
	unsigned want = rmmemu_rmi_nargs(fid);
	if (rmmemu_rmi_name(fid) && (unsigned)(n - 1) < want)
		return error(c, "%s takes %u argument(s), %d given", rmmemu_rmi_name(fid), want, n - 1);
	rmmemu_smc(c->emu, fid, a, &c->last);
	c->last_fid = fid;
	c->have_last = true;
	if (c->last.x[0] == RMI_SUCCESS && (fid == SMC_RMI_REC_ENTER || fid == SMC_RMI_REC_DESTROY))
		remember_run(c, a[0], fid == SMC_RMI_REC_ENTER ? a[1] : 0);
	for (unsigned i = 0; i < 5; i++) {
		char v[4] = { 'x', (char)('0' + i), 0, 0 };
		set_var(c, v, c->last.x[i]);
	}
	if (!c->opts.quiet)
		print_call(c, fid, a, rmmemu_rmi_name(fid) ? want : (unsigned)(n - 1));
	return 0;
}

static int cmd_expect(struct console *c, int n, char **t)
{
	uint64_t want;
	if (n != 2)
		return error(c, "usage: expect STATUS");
	if (!c->have_last)
		return error(c, "expect: no RMI call yet");
	int r = parse_status(c, t[1], &want);
	if (r < 0)
		return -1;
	uint64_t got = c->last.x[0];
	bool ok = r == 1 ? RMI_RETURN_STATUS(got) == RMI_ERROR_RTT && (got >> 16) == 0 : got == want;
	if (!ok) {
		char g[64], w[64];
		rmmemu_format_return(got, g, sizeof(g));
		rmmemu_format_return(want, w, sizeof(w));
		return error(c, "expected %s, got %s", r == 1 ? "RMI_ERROR_RTT" : w, g);
	}
	return 0;
}

/* "LDR W0", "STRB W3", "LDR XZR": the instruction realm_access plays. */
static void access_insn(char *buf, size_t len, bool write, unsigned size, unsigned rt)
{
	const char *sfx = size == 1 ? "B" : size == 2 ? "H" : "";
	char reg[8];
	if (rt == 31)
		snprintf(reg, sizeof(reg), "%s", size == 8 ? "XZR" : "WZR");
	else
		snprintf(reg, sizeof(reg), "%c%u", size == 8 ? 'X' : 'W', rt);
	snprintf(buf, len, "%s%s %s", write ? "STR" : "LDR", sfx, reg);
}

static int cmd_realm_access(struct console *c, int n, char **t)
{
	struct rmm_debug_access a = { 0 };
	uint64_t rec, size, v;
	int nargs = n;
	if (n > 1 && !strncmp(t[n - 1], "rt=", 3)) {
		if (parse_value(c, t[n - 1] + 3, &v))
			return -1;
		if (v > 31)
			return error(c, "realm_access: rt=%llu: registers are 0..31 (31 = XZR/WZR)", (unsigned long long)v);
		a.rt = (unsigned)v;
		nargs--;
	}
	if (nargs < 5 || nargs > 6 || (strcmp(t[3], "read") && strcmp(t[3], "write")))
		return error(c, "usage: realm_access REC IPA read|write SIZE [VALUE] [rt=N]");
	if (parse_value(c, t[1], &rec) || parse_value(c, t[2], &a.ipa) || parse_value(c, t[4], &size))
		return -1;
	a.write = t[3][0] == 'w';
	if (size != 1 && size != 2 && size != 4 && size != 8)
		return error(c, "realm_access: SIZE must be 1, 2, 4 or 8 (got %llu)", (unsigned long long)size);
	a.size = (unsigned)size;
	if (a.write != (nargs == 6))
		return error(c, a.write ? "realm_access: a write needs a VALUE" : "realm_access: a read takes no VALUE");
	if (a.write) {
		if (parse_value(c, t[5], &a.value))
			return -1;
		if (size < 8 && (a.value >> (size * 8)))
			return error(c, "realm_access: value 0x%llx does not fit in %llu byte(s)",
				     (unsigned long long)a.value, (unsigned long long)size);
		if (a.rt == 31 && a.value)
			return error(c, "realm_access: a store of %s writes 0", size == 8 ? "XZR" : "WZR");
	}

	char insn[24];
	access_insn(insn, sizeof(insn), a.write, a.size, a.rt);
	struct rec_exit_image exit;
	int rc = rmm_debug_realm_access(rmmemu_core(c->emu), rec, &a, &exit);
	switch (rc) {
	case RMM_ACCESS_OK:
		break;
	case RMM_ACCESS_E_NOT_RUNNABLE:
		return error(c, "REC 0x%llx cannot run: REC_ENTER would refuse it (realm not active, REC not runnable, "
			     "or a PSCI request pending)", (unsigned long long)rec);
	case RMM_ACCESS_E_EXITED:
		return error(c, "REC 0x%llx has exited to the host with a synchronous exception that no REC_ENTER "
			     "has resumed yet: REC_ENTER it first", (unsigned long long)rec);
	case RMM_ACCESS_E_IPA_RANGE:
		return error(c, "IPA 0x%llx is outside the realm's IPA space", (unsigned long long)a.ipa);
	case RMM_ACCESS_E_ALIGN:
		return error(c, "IPA 0x%llx is not aligned to %llu bytes (with its stage-1 MMU off the realm would "
			     "take an alignment fault at EL1)", (unsigned long long)a.ipa, (unsigned long long)size);
	case RMM_ACCESS_E_GPF:
		return error(c, "unprotected IPA 0x%llx maps PA 0x%llx, which is not non-secure DRAM: the access "
			     "would take a granule protection fault (not modelled)", (unsigned long long)a.ipa,
			     (unsigned long long)a.pa);
	default:
		return error(c, "0x%llx is not a REC that can run now", (unsigned long long)rec);
	}

	bool quiet = c->opts.quiet;
	if (a.outcome == RMM_ACCESS_DONE) {
		if (!a.write)
			set_var(c, "val", a.value);
		if (!quiet)
			fprintf(c->out, "realm: %s, [0x%llx] -> %s 0x%llx (%s PA 0x%llx)\n", insn, (unsigned long long)a.ipa,
				a.write ? "wrote" : "read", (unsigned long long)a.value, a.ns ? "non-secure" : "DATA",
				(unsigned long long)a.pa);
		return 0;
	}
	if (a.outcome == RMM_ACCESS_SEA) {
		struct rmm_debug_rec_state st;
		rmm_debug_rec_state(rmmemu_core(c->emu), rec, &st);
		if (!quiet)
			fprintf(c->out, "realm: %s, [0x%llx] -> stage-2 fault at RIPAS EMPTY: the RMM injects a synchronous "
				"external abort, no REC exit (ESR_EL1=0x%llx FAR_EL1=0x%llx ELR_EL1=0x%llx, PC=0x%llx)\n",
				insn, (unsigned long long)a.ipa, (unsigned long long)st.esr_el1,
				(unsigned long long)st.far_el1, (unsigned long long)st.elr_el1, (unsigned long long)st.pc);
		return 0;
	}
	uint64_t esr, far, hpfar, gpr0;
	memcpy(&esr, &exit.bytes[RMI_REC_EXIT_ESR - RMI_REC_EXIT_BASE], 8);
	memcpy(&far, &exit.bytes[RMI_REC_EXIT_FAR - RMI_REC_EXIT_BASE], 8);
	memcpy(&hpfar, &exit.bytes[RMI_REC_EXIT_HPFAR - RMI_REC_EXIT_BASE], 8);
	memcpy(&gpr0, &exit.bytes[RMI_REC_EXIT_GPRS - RMI_REC_EXIT_BASE], 8);
	if (!quiet) {
		fprintf(c->out, "realm: %s, [0x%llx] -> stage-2 fault  [REC exit to host: RMI_EXIT_SYNC esr=0x%llx "
			"far=0x%llx hpfar=0x%llx", insn, (unsigned long long)a.ipa, (unsigned long long)esr,
			(unsigned long long)far, (unsigned long long)hpfar);
		if (a.write && (esr & ESR_ISV))
			fprintf(c->out, " gprs[0]=0x%llx", (unsigned long long)gpr0);
		fprintf(c->out, "]\n");
	}
	return write_exit(c, rec, &exit);
}

static int cmd_realm_regs(struct console *c, int n, char **t)
{
	struct rmm_debug_rec_state st;
	uint64_t rec;
	if (n != 2 || parse_value(c, t[1], &rec))
		return error(c, "usage: realm_regs REC");
	if (rmm_debug_rec_state(rmmemu_core(c->emu), rec, &st))
		return error(c, "0x%llx is not a REC that can run now", (unsigned long long)rec);
	const struct { const char *name; uint64_t v; } named[] = {
		{ "pc", st.pc }, { "pstate", st.pstate }, { "esr_el1", st.esr_el1 }, { "far_el1", st.far_el1 },
		{ "elr_el1", st.elr_el1 }, { "spsr_el1", st.spsr_el1 }, { "vbar_el1", st.vbar_el1 },
	};
	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		set_var(c, named[i].name, named[i].v);
	for (unsigned i = 0; i < 31; i++) {
		char name[4];
		snprintf(name, sizeof(name), "r%u", i);
		set_var(c, name, st.regs[i]);
	}
	if (c->opts.quiet)
		return 0;
	for (unsigned i = 0; i < sizeof(named) / sizeof(named[0]); i++)
		fprintf(c->out, "%s%s=0x%llx", i ? " " : "  ", named[i].name, (unsigned long long)named[i].v);
	fputc('\n', c->out);
	for (unsigned i = 0; i < 31; i++)
		fprintf(c->out, "%sx%u=0x%llx%s", i % 4 ? " " : "  ", i, (unsigned long long)st.regs[i],
			(i % 4 == 3 || i == 30) ? "\n" : "");
	return 0;
}

static int console_exec_tokens(struct console *c, int n, char **t)
{
	uint64_t v, pa, len;
	const char *cmd = t[0];

	if (!strcmp(cmd, "help")) {
		fputs(help_text, c->out);
		return 0;
	}
	if (!strcmp(cmd, "quit") || (!strcmp(cmd, "exit") && n == 1)) {
		c->done = true;
		return 0;
	}
	if (!strcmp(cmd, "echo")) {
		for (int i = 1; i < n; i++) {
			if (i > 1)
				fputc(' ', c->out);
			echo_expand(c, t[i]);
		}
		fputc('\n', c->out);
		return 0;
	}
	if (!strcmp(cmd, "set")) {
		if (n != 3)
			return error(c, "usage: set NAME VALUE");
		if (parse_value(c, t[2], &v))
			return -1;
		return set_var(c, t[1], v);
	}
	if (!strcmp(cmd, "realm_params"))
		return cmd_realm_params(c, n, t);
	if (!strcmp(cmd, "rec_params"))
		return cmd_rec_params(c, n, t);
	if (!strcmp(cmd, "rec_run"))
		return cmd_rec_run(c, n, t);
	if (!strcmp(cmd, "exit"))
		return cmd_exit(c, n, t);
	if (!strcmp(cmd, "expect"))
		return cmd_expect(c, n, t);
	if (!strcmp(cmd, "expect_x")) {
		uint64_t r;
		if (n != 3 || parse_value(c, t[1], &r) || r > 4 || parse_value(c, t[2], &v))
			return error(c, "usage: expect_x N(1..4) VALUE");
		if (!c->have_last)
			return error(c, "expect_x: no RMI call yet");
		if (c->last.x[r] != v)
			return error(c, "expected x%llu=0x%llx, got 0x%llx", (unsigned long long)r,
				     (unsigned long long)v, (unsigned long long)c->last.x[r]);
		return 0;
	}
	if (!strcmp(cmd, "write64") || !strcmp(cmd, "write8")) {
		if (n != 3 || parse_value(c, t[1], &pa) || parse_value(c, t[2], &v))
			return error(c, "usage: %s PA VALUE", cmd);
		if (cmd[5] == '8') {
			if (v > 0xFF)
				return error(c, "write8: value 0x%llx does not fit in a byte", (unsigned long long)v);
			uint8_t b = (uint8_t)v;
			return write_mem(c, pa, &b, 1);
		}
		return write_mem(c, pa, &v, 8);
	}
	if (!strcmp(cmd, "read64")) {
		if (n != 2 || parse_value(c, t[1], &pa))
			return error(c, "usage: read64 PA");
		int rc = rmmemu_ns_read64(c->emu, pa, &v);
		if (rc)
			return error(c, "read at 0x%llx: %s", (unsigned long long)pa, mem_err(rc));
		fprintf(c->out, "  [0x%llx] = 0x%llx\n", (unsigned long long)pa, (unsigned long long)v);
		return set_var(c, "val", v);
	}
	if (!strcmp(cmd, "fill") || !strcmp(cmd, "dump")) {
		bool fill = cmd[0] == 'f';
		if (n != (fill ? 4 : 3) || parse_value(c, t[1], &pa) || parse_value(c, t[2], &len) ||
		    (fill && parse_value(c, t[3], &v)) || len > (1 << 20) || (fill && v > 0xFF))
			return error(c, fill ? "usage: fill PA LEN(<=1MiB) BYTE" : "usage: dump PA LEN(<=1MiB)");
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			return error(c, "out of memory");
		int rc;
		if (fill) {
			memset(buf, (int)v, len);
			rc = rmmemu_ns_write(c->emu, pa, buf, len);
		} else {
			rc = rmmemu_ns_read(c->emu, pa, buf, len);
			for (uint64_t i = 0; !rc && i < len; i++)
				fprintf(c->out, "%s%02x%s", i % 16 ? "" : "  ", buf[i],
					(i % 16 == 15 || i + 1 == len) ? "\n" : " ");
		}
		free(buf);
		if (rc)
			return error(c, "%s at 0x%llx: %s", cmd, (unsigned long long)pa, mem_err(rc));
		return 0;
	}
	if (!strcmp(cmd, "probe")) {
		if (n != 2 || parse_value(c, t[1], &pa))
			return error(c, "usage: probe PA");
		int rc = rmmemu_ns_read64(c->emu, pa, &v);
		if (rc)
			fprintf(c->out, "  normal-world read of 0x%llx refused: %s\n", (unsigned long long)pa, mem_err(rc));
		else
			fprintf(c->out, "  normal-world read of 0x%llx = 0x%llx\n", (unsigned long long)pa,
				(unsigned long long)v);
		return 0;
	}
	if (!strcmp(cmd, "granule")) {
		struct rmmemu_granule_info gi;
		if (n != 2 || parse_value(c, t[1], &pa))
			return error(c, "usage: granule PA");
		if (rmmemu_granule_info(c->emu, pa, &gi))
			return error(c, "0x%llx is not DRAM", (unsigned long long)pa);
		fprintf(c->out, "  granule 0x%llx: %s, PAS %s, refcount %u\n", (unsigned long long)(pa & ~(GRANULE - 1)),
			rmmemu_granule_state_name(gi.state), rmmemu_pas_name(gi.pas), gi.refcount);
		return 0;
	}
	if (!strcmp(cmd, "census")) {
		uint64_t counts[RMMEMU_GRANULE_NUM_STATES];
		rmmemu_granule_census(c->emu, counts);
		fprintf(c->out, "  granules:");
		for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
			fprintf(c->out, " %s=%llu", rmmemu_granule_state_name((enum rmmemu_granule_state)s),
				(unsigned long long)counts[s]);
		fputc('\n', c->out);
		return 0;
	}
	if (!strcmp(cmd, "invariants")) {
		char msg[256];
		if (rmmemu_check_invariants(c->emu, msg, sizeof(msg)))
			return error(c, "invariant violated: %s", msg);
		if (!c->opts.quiet)
			fprintf(c->out, "  invariants hold\n");
		return 0;
	}
	if (!strcmp(cmd, "delegate") || !strcmp(cmd, "undelegate")) {
		uint64_t count = 1;
		if ((n != 2 && n != 3) || parse_value(c, t[1], &pa) || (n == 3 && parse_value(c, t[2], &count)) ||
		    count == 0 || count > 65536)
			return error(c, "usage: %s PA [COUNT(1..65536)]", cmd);
		uint64_t fid = cmd[0] == 'd' ? SMC_RMI_GRANULE_DELEGATE : SMC_RMI_GRANULE_UNDELEGATE;
		for (uint64_t i = 0; i < count; i++) {
			const uint64_t a[6] = { pa + i * GRANULE };
			rmmemu_smc(c->emu, fid, a, &c->last);
			c->last_fid = fid;
			c->have_last = true;
			if (c->last.x[0] != RMI_SUCCESS || count == 1) {
				if (!c->opts.quiet)
					print_call(c, fid, a, 1);
				if (c->last.x[0] != RMI_SUCCESS)
					return 0; /* `expect` can check it */
			}
		}
		if (count > 1 && !c->opts.quiet)
			fprintf(c->out, "%s x%llu [0x%llx..0x%llx] -> RMI_SUCCESS\n", rmmemu_rmi_name(fid),
				(unsigned long long)count, (unsigned long long)pa,
				(unsigned long long)(pa + (count - 1) * GRANULE));
		return 0;
	}
	if (!strcmp(cmd, "inject")) {
		uint64_t fid, x0, count = 1, skip = 0;
		if (n < 3 || n > 5)
			return error(c, "usage: inject CALL STATUS [COUNT] [SKIP]");
		fid = rmmemu_rmi_fid(t[1]);
		if ((!fid && parse_value(c, t[1], &fid)) || parse_status(c, t[2], &x0) < 0 ||
		    (n > 3 && parse_value(c, t[3], &count)) || (n > 4 && parse_value(c, t[4], &skip)) ||
		    count > 1000000 || skip > 1000000)
			return error(c, "usage: inject CALL STATUS [COUNT] [SKIP]");
		if (rmmemu_inject_rmi_error(c->emu, fid, x0, (unsigned)skip, (unsigned)count))
			return error(c, "inject: '%s' is not an RMI command, or too many rules", t[1]);
		return 0;
	}
	if (!strcmp(cmd, "inject_irq") || !strcmp(cmd, "inject_sea")) {
		uint64_t count, skip = 0;
		if ((n != 2 && n != 3) || parse_value(c, t[1], &count) || (n == 3 && parse_value(c, t[2], &skip)) ||
		    count > 1000000 || skip > 1000000)
			return error(c, "usage: %s COUNT [SKIP]", cmd);
		if (cmd[7] == 'i')
			rmmemu_inject_irq_exits(c->emu, (unsigned)skip, (unsigned)count);
		else
			rmmemu_inject_sea(c->emu, (unsigned)skip, (unsigned)count);
		return 0;
	}
	if (!strcmp(cmd, "rim") || !strcmp(cmd, "measurement")) {
		uint64_t rd, slot = 0;
		bool rim = cmd[0] == 'r';
		if (n != (rim ? 2 : 3) || parse_value(c, t[1], &rd) || (!rim && parse_value(c, t[2], &slot)) || slot > 4)
			return error(c, rim ? "usage: rim RD" : "usage: measurement RD SLOT(0..4)");
		uint8_t m[64];
		size_t mlen;
		if (rmmemu_debug_measurement(c->emu, rd, (unsigned)slot, m, &mlen))
			return error(c, "0x%llx is not a realm descriptor", (unsigned long long)rd);
		fprintf(c->out, "  %s = ", slot ? "REM" : "RIM");
		if (slot)
			fprintf(c->out, "%llu: ", (unsigned long long)slot - 1);
		for (size_t i = 0; i < mlen; i++)
			fprintf(c->out, "%02x", m[i]);
		fputc('\n', c->out);
		return 0;
	}
	if (!strcmp(cmd, "realm_smc")) {
		uint64_t rec, x[RMMEMU_REALM_SMC_REGS] = { 0 };
		int reason;
		if (n < 3 || n > 2 + RMMEMU_REALM_SMC_REGS || parse_value(c, t[1], &rec))
			return error(c, "usage: realm_smc REC FID [X1..X11]");
		for (int i = 2; i < n; i++) {
			uint64_t fid = i == 2 ? rmmemu_realm_smc_fid(t[i]) : 0;
			if (fid)
				x[0] = fid;
			else if (parse_value(c, t[i], &x[i - 2]))
				return -1;
		}
		uint64_t fid = x[0];
		struct rec_exit_image exit;
		if (rmm_debug_realm_smc(rmmemu_core(c->emu), rec, x, &exit, &reason))
			return error(c, "0x%llx is not a REC that can run now", (unsigned long long)rec);
		for (unsigned i = 0; i < RMMEMU_REALM_SMC_REGS; i++) {
			char name[4];
			snprintf(name, sizeof(name), "r%u", i);
			set_var(c, name, x[i]);
		}
		if (!c->opts.quiet) {
			const char *name = rmmemu_realm_smc_name(fid);
			fprintf(c->out, "realm: %s%s -> x0=0x%llx x1=0x%llx x2=0x%llx", name ? name : "SMC ",
				name ? "" : t[2], (unsigned long long)x[0], (unsigned long long)x[1],
				(unsigned long long)x[2]);
			if (reason >= 0)
				fprintf(c->out, "  [REC exit to host: %s]", rmmemu_exit_reason_name((unsigned)reason));
			fputc('\n', c->out);
		}
		return reason >= 0 ? write_exit(c, rec, &exit) : 0;
	}
	if (!strcmp(cmd, "realm_access"))
		return cmd_realm_access(c, n, t);
	if (!strcmp(cmd, "realm_regs"))
		return cmd_realm_regs(c, n, t);
	if (!strcmp(cmd, "token")) {
		uint64_t rd;
		if ((n != 4 && n != 5) || parse_value(c, t[1], &rd) || parse_value(c, t[2], &pa) ||
		    parse_value(c, t[3], &len) || len == 0 || len > 65536)
			return error(c, "usage: token RD IPA LEN [FILE]");
		if (n == 5 && c->opts.no_file_writes)
			return error(c, "token: writing files is disabled here");
		uint8_t *buf = malloc(len);
		char e[256];
		if (!buf)
			return error(c, "out of memory");
		int rc = rmmemu_debug_realm_read(c->emu, rd, pa, buf, len);
		if (rc) {
			free(buf);
			return error(c, "IPA range [0x%llx, +0x%llx) is not mapped to realm DATA", (unsigned long long)pa,
				     (unsigned long long)len);
		}
		if (n == 5) {
			FILE *f = fopen(t[4], "wb");
			if (!f || fwrite(buf, 1, len, f) != len) {
				if (f)
					fclose(f);
				free(buf);
				return error(c, "cannot write '%s'", t[4]);
			}
			fclose(f);
		}
		rc = token_show_json(c->out, buf, len, e, sizeof(e));
		if (!rc)
			rc = token_verify(buf, len, NULL, e, sizeof(e));
		free(buf);
		if (rc)
			return error(c, "token: %s", e);
		if (!c->opts.quiet)
			fprintf(c->out, "  token verified: both signatures, the RAK binding and every claim type\n");
		return 0;
	}
	if (!strcmp(cmd, "realm_read")) {
		uint64_t rd;
		if (n != 4 || parse_value(c, t[1], &rd) || parse_value(c, t[2], &pa) || parse_value(c, t[3], &len) ||
		    len > (1 << 20))
			return error(c, "usage: realm_read RD IPA LEN(<=1MiB)");
		uint8_t *buf = malloc(len ? len : 1);
		if (!buf)
			return error(c, "out of memory");
		int rc = rmmemu_debug_realm_read(c->emu, rd, pa, buf, len);
		for (uint64_t i = 0; !rc && i < len; i++)
			fprintf(c->out, "%s%02x%s", i % 32 ? "" : "  ", buf[i], (i % 32 == 31 || i + 1 == len) ? "\n" : "");
		free(buf);
		if (rc)
			return error(c, "IPA range [0x%llx, +0x%llx) is not mapped to realm DATA", (unsigned long long)pa,
				     (unsigned long long)len);
		return 0;
	}
	if (!strcmp(cmd, "trace")) {
		if (n != 2 || (strcmp(t[1], "on") && strcmp(t[1], "off")))
			return error(c, "usage: trace on|off");
		rmmemu_set_trace(c->emu, c->out, strcmp(t[1], "on") ? 0 : RMMEMU_TRACE_STATE);
		return 0;
	}

	/* An RMI call by name or by FID. */
	uint64_t fid = rmmemu_rmi_fid(cmd);
	if (!fid) {
		if (!isdigit((unsigned char)cmd[0]))
			return error(c, "unknown command '%s' (try 'help')", cmd);
		if (parse_value(c, cmd, &fid))
			return -1;
	}
	return cmd_smc(c, fid, n, t);
}

int console_exec_line(struct console *c, const char *line, const char *where)
{
	char buf[1024];
	char *tok[MAX_TOKENS];
	size_t len = strlen(line);
	c->where = where;
	if (len >= sizeof(buf))
		return error(c, "line too long");
	memcpy(buf, line, len + 1);
	int n = tokenize(buf, tok, MAX_TOKENS);
	if (n < 0)
		return error(c, "too many words on a line");
	if (n == 0)
		return 0;
	if (c->opts.echo_input && !c->opts.quiet)
		fprintf(c->out, "> %s", line);
	if (c->opts.echo_input && !c->opts.quiet && (len == 0 || line[len - 1] != '\n'))
		fputc('\n', c->out);
	return console_exec_tokens(c, n, tok);
}

int console_run_stream(struct console *c, FILE *in, const char *name)
{
	char line[1024], where[300];
	unsigned lineno = 0;
	int failures = 0;
	while (!c->done && fgets(line, sizeof(line), in)) {
		lineno++;
		snprintf(where, sizeof(where), "%s:%u", name, lineno);
		if (!strchr(line, '\n') && !feof(in)) {
			error(c, "line too long");
			failures++;
			int ch;
			while ((ch = fgetc(in)) != EOF && ch != '\n')
				;
		} else if (console_exec_line(c, line, where)) {
			failures++;
		}
		if (failures && c->opts.stop_on_error)
			break;
	}
	fflush(c->out);
	return failures;
}

int console_run_string(struct console *c, const char *script, const char *name)
{
	FILE *in = fmemopen((void *)script, strlen(script), "r");
	if (!in)
		return error(c, "cannot read script");
	int r = console_run_stream(c, in, name);
	fclose(in);
	return r;
}

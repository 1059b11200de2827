/*
 * RMI scenarios: YAML files listing RMI calls (with symbolic granule and IPA names) and the
 * expected result of each, run against a fresh rmmemu instance. Format: docs/scenarios.md.
 */
#include "host/scenario.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "host/console.h"
#include "host/platform_opts.h"

#define MAX_LINE 1024

struct scen {
	const char *file;
	FILE *out;
	bool verbose;
	bool no_file_writes;
	const struct rmmemu_platform_config *platform;
	yaml_document_t doc;
	struct rmmemu_platform_config cfg;
	struct console *con;
	struct rmmemu *emu;
	char title[256];
	unsigned steps, failed;
	int setup_error;
};

static void serr(struct scen *s, const yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;
	fprintf(s->out, "%s:%lu: ", s->file, n ? (unsigned long)n->start_mark.line + 1 : 0UL);
	va_start(ap, fmt);
	vfprintf(s->out, fmt, ap);
	va_end(ap);
	fputc('\n', s->out);
	s->setup_error = 1;
}

static yaml_node_t *node(struct scen *s, int id)
{
	return yaml_document_get_node(&s->doc, id);
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

static bool is_ident(const char *v)
{
	if (!isalpha((unsigned char)*v) && *v != '_')
		return false;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && *v != '_')
			return false;
	return true;
}

/* A YAML scalar as a console value: numbers stay, names become $name, name+N / name-N too. */
static int to_value(struct scen *s, const yaml_node_t *n, char *buf, size_t len)
{
	const char *v = scalar(n);
	if (!v || !*v) {
		serr(s, n, "expected a number or a symbol");
		return -1;
	}
	if (isdigit((unsigned char)v[0]) || v[0] == '-' || v[0] == '$') {
		snprintf(buf, len, "%s", v);
		return 0;
	}
	size_t ident = strcspn(v, "+-");
	char name[64];
	if (ident >= sizeof(name)) {
		serr(s, n, "symbol too long: '%s'", v);
		return -1;
	}
	memcpy(name, v, ident);
	name[ident] = '\0';
	if (!is_ident(name)) {
		serr(s, n, "bad value '%s' (a number, a symbol, or symbol+N)", v);
		return -1;
	}
	snprintf(buf, len, "$%s", v);
	return 0;
}

static int parse_platform(struct scen *s, yaml_node_t *map)
{
	if (map->type != YAML_MAPPING_NODE) {
		serr(s, map, "'platform' must be a mapping");
		return -1;
	}
	bool dram_given = false, dev_given = false;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(s, p->key), *v = node(s, p->value);
		const char *key = scalar(k);
		char err[200];
		if (key && !strcmp(key, "pa_bits")) {
			const char *x = scalar(v);
			char *end;
			unsigned long b = x ? strtoul(x, &end, 0) : 0;
			if (!x || *end || b > 64) {
				serr(s, v, "pa_bits: expected a number");
				return -1;
			}
			s->cfg.pa_bits = (unsigned)b;
			continue;
		}
		if (!key || (strcmp(key, "dram") && strcmp(key, "device") && strcmp(key, "secure") && strcmp(key, "root"))) {
			serr(s, k, "platform: unknown key '%s' (dram, device, secure, root, pa_bits)", key ? key : "?");
			return -1;
		}
		if (v->type != YAML_SEQUENCE_NODE) {
			serr(s, v, "platform.%s: expected a list of \"BASE:SIZE\"", key);
			return -1;
		}
		bool *given = !strcmp(key, "dram") ? &dram_given : !strcmp(key, "device") ? &dev_given : NULL;
		for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++) {
			const char *r = scalar(node(s, *it));
			if (!r || platform_add_range(&s->cfg, key, r, given, err, sizeof(err))) {
				serr(s, node(s, *it), "platform.%s: %s", key, r ? err : "expected \"BASE:SIZE\"");
				return -1;
			}
		}
	}
	return 0;
}

static int exec(struct scen *s, const yaml_node_t *n, const char *line)
{
	char where[300];
	snprintf(where, sizeof(where), "%s:%lu", s->file, (unsigned long)n->start_mark.line + 1);
	return console_exec_line(s->con, line, where);
}

/*
 * Append to a console line being built: -1 (line untouched past *pos) if it would not fit, so a
 * long call: or expect: is refused instead of truncated (or written past the buffer).
 */
static int __attribute__((format(printf, 4, 5))) append(char *line, size_t cap, size_t *pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line + *pos, cap - *pos, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= cap - *pos)
		return -1;
	*pos += (size_t)n;
	return 0;
}

/* One step: {call, args, expect, results} or {console}. */
static void run_step(struct scen *s, yaml_node_t *step, unsigned idx)
{
	char line[MAX_LINE];
	const char *call = NULL, *expect = NULL, *cline = NULL;
	yaml_node_t *args = NULL, *results = NULL;

	s->steps++;
	if (step->type != YAML_MAPPING_NODE) {
		serr(s, step, "step %u: expected a mapping (call/args/expect/results or console)", idx);
		s->failed++;
		return;
	}
	for (yaml_node_pair_t *p = step->data.mapping.pairs.start; p < step->data.mapping.pairs.top; p++) {
		const char *key = scalar(node(s, p->key));
		yaml_node_t *v = node(s, p->value);
		if (key && !strcmp(key, "call"))
			call = scalar(v);
		else if (key && !strcmp(key, "expect"))
			expect = scalar(v);
		else if (key && !strcmp(key, "console"))
			cline = scalar(v);
		else if (key && !strcmp(key, "args") && v->type == YAML_SEQUENCE_NODE)
			args = v;
		else if (key && !strcmp(key, "results") && v->type == YAML_MAPPING_NODE)
			results = v;
		else if (key && !strcmp(key, "note"))
			continue;
		else {
			serr(s, node(s, p->key), "step %u: unknown key or wrong type '%s' "
			     "(call, args: [list], expect, results: {x1: ..}, console, note)", idx, key ? key : "?");
			s->failed++;
			return;
		}
	}
	if (!!call + !!cline != 1 || (cline && (args || expect || results))) {
		serr(s, step, "step %u: needs exactly one of 'call' or 'console' ('console' takes no args/expect)", idx);
		s->failed++;
		return;
	}
	if (cline) {
		if (exec(s, step, cline))
			s->failed++;
		return;
	}
	size_t pos = 0;
	if (append(line, sizeof(line), &pos, "%s", call)) {
		serr(s, step, "step %u: the call line does not fit in %d characters", idx, MAX_LINE - 1);
		s->failed++;
		return;
	}
	for (yaml_node_item_t *it = args ? args->data.sequence.items.start : NULL; args && it < args->data.sequence.items.top; it++) {
		char val[128];
		if (to_value(s, node(s, *it), val, sizeof(val))) {
			s->failed++;
			return;
		}
		if (append(line, sizeof(line), &pos, " %s", val)) {
			serr(s, step, "step %u: the call line does not fit in %d characters", idx, MAX_LINE - 1);
			s->failed++;
			return;
		}
	}
	if (exec(s, step, line)) {
		s->failed++;
		return;
	}
	bool ok = true;
	if (expect) {
		pos = 0;
		if (append(line, sizeof(line), &pos, "expect %s", expect)) {
			serr(s, step, "step %u: the expect line does not fit in %d characters", idx, MAX_LINE - 1);
			s->failed++;
			return;
		}
		ok = exec(s, step, line) == 0;
	}
	for (yaml_node_pair_t *p = results ? results->data.mapping.pairs.start : NULL; ok && results && p < results->data.mapping.pairs.top; p++) {
		const char *key = scalar(node(s, p->key));
		char val[128];
		if (!key || key[0] != 'x' || key[1] < '1' || key[1] > '4' || key[2]) {
			serr(s, node(s, p->key), "results: keys are x1..x4");
			ok = false;
			break;
		}
		if (to_value(s, node(s, p->value), val, sizeof(val))) {
			ok = false;
			break;
		}
		snprintf(line, sizeof(line), "expect_x %c %s", key[1], val);
		ok = exec(s, node(s, p->value), line) == 0;
	}
	if (!ok)
		s->failed++;
}

static int run_doc(struct scen *s)
{
	yaml_node_t *root = yaml_document_get_root_node(&s->doc);
	yaml_node_t *steps = NULL, *symbols = NULL, *granules = NULL, *platform = NULL;

	if (!root || root->type != YAML_MAPPING_NODE) {
		serr(s, root, "a scenario is a mapping with 'scenario' and 'steps'");
		return -1;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(s, p->key), *v = node(s, p->value);
		const char *key = scalar(k);
		if (key && !strcmp(key, "scenario") && scalar(v))
			snprintf(s->title, sizeof(s->title), "%s", scalar(v));
		else if (key && (!strcmp(key, "description") || !strcmp(key, "spec")) && scalar(v))
			continue;
		else if (key && !strcmp(key, "steps") && v->type == YAML_SEQUENCE_NODE)
			steps = v;
		else if (key && !strcmp(key, "symbols") && v->type == YAML_MAPPING_NODE)
			symbols = v;
		else if (key && !strcmp(key, "granules") && v->type == YAML_SEQUENCE_NODE)
			granules = v;
		else if (key && !strcmp(key, "platform"))
			platform = v;
		else {
			serr(s, k, "unknown key or wrong type '%s' (scenario, description, spec, platform: {..}, "
			     "symbols: {..}, granules: [..], steps: [..])", key ? key : "?");
			return -1;
		}
	}
	if (!s->title[0] || !steps) {
		serr(s, root, "'scenario' (a title) and 'steps' (a list) are required");
		return -1;
	}
	if (s->platform)
		s->cfg = *s->platform;
	else
		rmmemu_platform_default(&s->cfg);
	if (platform && parse_platform(s, platform))
		return -1;
	char err[256];
	s->emu = rmmemu_create(&s->cfg, err, sizeof(err));
	if (!s->emu) {
		serr(s, platform, "platform: %s", err);
		return -1;
	}
	struct console_opts co = { .quiet = !s->verbose, .echo_input = s->verbose, .no_file_writes = s->no_file_writes };
	s->con = console_new(s->emu, s->out, &co);
	if (!s->con)
		return -1;
	for (yaml_node_pair_t *p = symbols ? symbols->data.mapping.pairs.start : NULL; symbols && p < symbols->data.mapping.pairs.top; p++) {
		const char *name = scalar(node(s, p->key)), *v = scalar(node(s, p->value));
		char *end;
		errno = 0;
		unsigned long long val = v ? strtoull(v, &end, 0) : 0;
		if (!name || !is_ident(name) || !v || errno || *end) {
			serr(s, node(s, p->key), "symbols: NAME: NUMBER expected");
			return -1;
		}
		console_set_var(s->con, name, val);
	}
	/* Granule names: distinct free granules from the upper half of the first DRAM range. */
	uint64_t next = s->cfg.dram[0].base + s->cfg.dram[0].size / 2;
	for (yaml_node_item_t *it = granules ? granules->data.sequence.items.start : NULL; granules && it < granules->data.sequence.items.top; it++) {
		const char *name = scalar(node(s, *it));
		char *star = name ? strchr(name, '*') : NULL;
		unsigned long count = 1;
		char base[64];
		if (name && star) {
			count = strtoul(star + 1, NULL, 0);
			snprintf(base, sizeof(base), "%.*s", (int)(star - name), name);
			name = base;
		}
		if (!name || !is_ident(name) || count == 0 || count > 4096) {
			serr(s, node(s, *it), "granules: NAME or NAME*COUNT expected");
			return -1;
		}
		console_set_var(s->con, name, next);
		next += count * 4096ULL;
	}
	unsigned idx = 0;
	for (yaml_node_item_t *it = steps->data.sequence.items.start; it < steps->data.sequence.items.top; it++)
		run_step(s, node(s, *it), ++idx);
	return 0;
}

/* Load and run the document the parser reads; the caller set its input. */
static int run_parser(struct scen *s, yaml_parser_t *parser, const struct scenario_opts *opts)
{
	int rc;
	if (!yaml_parser_load(parser, &s->doc)) {
		fprintf(s->out, "%s:%lu: YAML error: %s\n", s->file, (unsigned long)parser->problem_mark.line + 1,
			parser->problem ? parser->problem : "malformed document");
		return -1;
	}
	rc = run_doc(s);
	if (rc == 0 && !s->setup_error)
		fprintf(s->out, "%s %s: %s (%u steps%s)\n", s->failed ? "FAIL" : "PASS", s->file, s->title, s->steps,
			s->failed ? ", failures above" : "");
	if (s->emu && opts && opts->after_run)
		opts->after_run(s->emu, opts->arg);
	console_free(s->con);
	rmmemu_destroy(s->emu);
	yaml_document_delete(&s->doc);
	if (rc || s->setup_error)
		return -1;
	return s->failed ? 1 : 0;
}

int scenario_run_file(const char *path, FILE *out, bool verbose)
{
	struct scen s = { .file = path, .out = out, .verbose = verbose };
	yaml_parser_t parser;
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(out, "%s: cannot open: %s\n", path, strerror(errno));
		return -1;
	}
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_file(&parser, f);
	int rc = run_parser(&s, &parser, NULL);
	yaml_parser_delete(&parser);
	fclose(f);
	return rc;
}

int scenario_run_text(const char *name, const void *text, size_t len, FILE *out, const struct scenario_opts *opts)
{
	struct scen s = { .file = name, .out = out, .verbose = opts && opts->verbose,
			  .no_file_writes = opts && opts->no_file_writes, .platform = opts ? opts->platform : NULL };
	yaml_parser_t parser;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, text, len);
	int rc = run_parser(&s, &parser, opts);
	yaml_parser_delete(&parser);
	return rc;
}

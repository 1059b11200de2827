/*
 * Event consumers: a JSON-lines trace (one object per event) and an HTML report of a run (a
 * sequence diagram with host / RMM / realm lanes, and the granule map by state).
 */
#include "host/report.h"

#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#define MAX_EVENTS   100000   /* kept for the report; more are counted only */
#define DIAGRAM_ROWS 600      /* rows drawn in the sequence diagram */

#define MAX_TOUCHED  65536
#define HASH_SLOTS   (2 * MAX_TOUCHED)

struct report {
	struct rmmemu_event *ev;
	size_t n, cap, dropped;
	/* Granules the run delegated, in first-delegation order, with their current state and their
	 * state when the most granules were in use (the peak snapshot). */
	uint64_t touched[MAX_TOUCHED];
	uint8_t state[MAX_TOUCHED], peak_state[MAX_TOUCHED];
	int32_t slot[HASH_SLOTS];     /* address -> index + 1 */
	size_t ntouched, in_use, peak_in_use;
	uint64_t peak[RMMEMU_GRANULE_NUM_STATES], now[RMMEMU_GRANULE_NUM_STATES];
};

static size_t touched_index(struct report *r, uint64_t addr, bool add)
{
	size_t h = (size_t)((addr >> 12) * 0x9E3779B97F4A7C15ULL >> 47) % HASH_SLOTS;
	for (;; h = (h + 1) % HASH_SLOTS) {
		if (r->slot[h] == 0) {
			if (!add || r->ntouched == MAX_TOUCHED)
				return SIZE_MAX;
			r->touched[r->ntouched] = addr;
			r->state[r->ntouched] = RMMEMU_GRANULE_UNDELEGATED;
			r->peak_state[r->ntouched] = RMMEMU_GRANULE_UNDELEGATED;
			r->slot[h] = (int32_t)++r->ntouched;
			return r->ntouched - 1;
		}
		if (r->touched[r->slot[h] - 1] == addr)
			return (size_t)r->slot[h] - 1;
	}
}

static const char *state_name(unsigned s) { return rmmemu_granule_state_name((enum rmmemu_granule_state)s); }

static void json_hex(FILE *f, const char *key, uint64_t v, bool comma)
{
	fprintf(f, "%s\"%s\":\"0x%llx\"", comma ? "," : "", key, (unsigned long long)v);
}

void json_trace_hook(void *ctx, const struct rmmemu_event *ev)
{
	FILE *f = ctx;
	const char *name;
	unsigned n = 0;
	switch (ev->kind) {
	case RMMEMU_EV_RMI:
		name = rmmemu_rmi_name(ev->fid);
		n = rmmemu_rmi_nargs(ev->fid);
		fprintf(f, "{\"event\":\"rmi\",\"name\":\"%s\"", name ? name : "unknown");
		json_hex(f, "fid", ev->fid, true);
		fprintf(f, ",\"args\":[");
		for (unsigned i = 0; i < n && i < 6; i++)
			fprintf(f, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)ev->args[i]);
		char ret[64];
		rmmemu_format_return(ev->res[0], ret, sizeof(ret));
		fprintf(f, "],\"status\":\"%s\"", ret);
		fprintf(f, ",\"results\":[");
		for (unsigned i = 0; i < 5; i++)
			fprintf(f, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)ev->res[i]);
		fprintf(f, "]%s}\n", ev->injected ? ",\"injected\":true" : "");
		break;
	case RMMEMU_EV_REALM_SMC:
		name = rmmemu_realm_smc_name(ev->fid);
		fprintf(f, "{\"event\":\"realm_smc\",\"name\":\"%s\"", name ? name : "unknown");
		json_hex(f, "rec", ev->addr, true);
		json_hex(f, "fid", ev->fid, true);
		fprintf(f, ",\"args\":[");
		for (unsigned i = 0; i < 7; i++)
			fprintf(f, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)ev->args[i]);
		fprintf(f, "],\"results\":[");
		for (unsigned i = 0; i < 5; i++)
			fprintf(f, "%s\"0x%llx\"", i ? "," : "", (unsigned long long)ev->res[i]);
		fprintf(f, "]}\n");
		break;
	case RMMEMU_EV_REC_EXIT:
		fprintf(f, "{\"event\":\"rec_exit\"");
		json_hex(f, "rec", ev->addr, true);
		fprintf(f, ",\"reason\":\"%s\"}\n", rmmemu_exit_reason_name(ev->to));
		break;
	case RMMEMU_EV_GRANULE:
		fprintf(f, "{\"event\":\"granule\"");
		json_hex(f, "addr", ev->addr, true);
		fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\"}\n", state_name(ev->from), state_name(ev->to));
		break;
	case RMMEMU_EV_REC_RUN:
		fprintf(f, "{\"event\":\"rec_run\"");
		json_hex(f, "rec", ev->addr, true);
		fprintf(f, "}\n");
		break;
	case RMMEMU_EV_REALM_STATE: {
		static const char *const rs[] = { "NEW", "ACTIVE", "SYSTEM_OFF" };
		fprintf(f, "{\"event\":\"realm\"");
		json_hex(f, "rd", ev->addr, true);
		fprintf(f, ",\"from\":\"%s\",\"to\":\"%s\"}\n", ev->from < 3 ? rs[ev->from] : "?", ev->to < 3 ? rs[ev->to] : "?");
		break;
	}
	}
	fflush(f);
}

struct report *report_new(void)
{
	return calloc(1, sizeof(struct report));
}

void report_free(struct report *r)
{
	if (!r)
		return;
	free(r->ev);
	free(r);
}

void report_hook(void *ctx, const struct rmmemu_event *ev)
{
	struct report *r = ctx;
	if (ev->kind == RMMEMU_EV_GRANULE) {
		size_t i = touched_index(r, ev->addr, ev->from == RMMEMU_GRANULE_UNDELEGATED);
		if (i != SIZE_MAX) {
			r->state[i] = (uint8_t)ev->to;
			r->in_use += ev->to != RMMEMU_GRANULE_UNDELEGATED && ev->from == RMMEMU_GRANULE_UNDELEGATED;
			r->in_use -= ev->to == RMMEMU_GRANULE_UNDELEGATED && ev->from != RMMEMU_GRANULE_UNDELEGATED;
			/* Snapshot at each new peak (cheap enough for the small runs reports are for). */
			if (r->in_use > r->peak_in_use && r->ntouched <= 8192) {
				r->peak_in_use = r->in_use;
				memcpy(r->peak_state, r->state, r->ntouched);
			}
		}
		if (ev->from < RMMEMU_GRANULE_NUM_STATES && r->now[ev->from])
			r->now[ev->from]--;
		if (ev->to < RMMEMU_GRANULE_NUM_STATES && ++r->now[ev->to] > r->peak[ev->to])
			r->peak[ev->to] = r->now[ev->to];
	}
	if (r->n == r->cap) {
		if (r->cap >= MAX_EVENTS) {
			r->dropped++;
			return;
		}
		size_t cap = r->cap ? r->cap * 2 : 1024;
		struct rmmemu_event *e = realloc(r->ev, cap * sizeof(*e));
		if (!e) {
			r->dropped++;
			return;
		}
		r->ev = e;
		r->cap = cap;
	}
	r->ev[r->n++] = *ev;
}

static void esc(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else if (*s == '"')
			fputs("&quot;", f);
		else
			fputc(*s, f);
	}
}

static const char *state_color(unsigned s)
{
	static const char *const c[] = { "#e8e8e8", "#9ecae1", "#fd8d3c", "#74c476", "#c7e9c0", "#6baed6", "#9e9ac8" };
	return s < RMMEMU_GRANULE_NUM_STATES ? c[s] : "#000";
}

/* One row of the sequence diagram: an arrow between lanes with a label. */
static void arrow(FILE *f, int y, int x1, int x2, const char *color, const char *label, bool dashed)
{
	fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\"%s marker-end=\"url(#head)\"/>\n",
		x1, y, x2, y, color, dashed ? " stroke-dasharray=\"4 3\"" : "");
	fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"11\" fill=\"%s\">", (x1 < x2 ? x1 : x2) + 6, y - 3, color);
	esc(f, label);
	fputs("</text>\n", f);
}

int report_write_html(struct report *r, struct rmmemu *emu, const char *path, const char *title)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	size_t rmi = 0, rmi_err = 0, smc = 0, exits = 0;
	for (size_t i = 0; i < r->n; i++) {
		rmi += r->ev[i].kind == RMMEMU_EV_RMI;
		rmi_err += r->ev[i].kind == RMMEMU_EV_RMI && r->ev[i].res[0] != RMI_SUCCESS;
		smc += r->ev[i].kind == RMMEMU_EV_REALM_SMC;
		exits += r->ev[i].kind == RMMEMU_EV_REC_EXIT;
	}
	fputs("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\"><head><meta charset=\"utf-8\"/><title>", f);
	esc(f, title);
	fputs("</title><style>body{font-family:sans-serif;margin:20px}td,th{padding:2px 8px;text-align:left}"
	      ".lane{font-weight:bold;font-size:14px}</style></head><body>\n<h1>", f);
	esc(f, title);
	fprintf(f, "</h1>\n<p>%zu RMI calls (%zu failed), %zu realm SMCs, %zu REC exits%s.</p>\n", rmi, rmi_err, smc,
		exits, r->dropped ? " (some events beyond the first 100000 not kept)" : "");

	/* Sequence diagram: host (x=140), RMM (x=520), realm (x=900). Consecutive identical RMI calls
	 * (same command and result) are drawn once with a count. */
	struct row {
		const struct rmmemu_event *e;
		unsigned count;
	} *rowv = calloc(r->n ? r->n : 1, sizeof(*rowv));
	size_t rows = 0;
	for (size_t i = 0; rowv && i < r->n; i++) {
		const struct rmmemu_event *e = &r->ev[i];
		if (e->kind == RMMEMU_EV_GRANULE || e->kind == RMMEMU_EV_REALM_STATE)
			continue;
		/* A successful REC_ENTER was drawn when the REC started running. */
		if (e->kind == RMMEMU_EV_RMI && e->fid == SMC_RMI_REC_ENTER && e->res[0] == RMI_SUCCESS)
			continue;
		if (rows && e->kind == RMMEMU_EV_RMI && rowv[rows - 1].e->kind == RMMEMU_EV_RMI &&
		    rowv[rows - 1].e->fid == e->fid && rowv[rows - 1].e->res[0] == e->res[0] &&
		    rowv[rows - 1].e->injected == e->injected) {
			rowv[rows - 1].count++;
			continue;
		}
		rowv[rows++] = (struct row){ e, 1 };
	}
	size_t shown = rows < DIAGRAM_ROWS ? rows : DIAGRAM_ROWS;
	int h = 60 + (int)shown * 22 + 20;
	fprintf(f, "<h2>Sequence</h2>\n<p>Host (normal world) calls the RMM with RMI; the realm calls it with RSI/PSCI "
		   "SMCs; REC exits hand control back to the host.%s</p>\n",
		rows > shown ? " Only the first rows are drawn." : "");
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"1100\" height=\"%d\">\n"
		   "<defs><marker id=\"head\" markerWidth=\"8\" markerHeight=\"8\" refX=\"7\" refY=\"4\" orient=\"auto\">"
		   "<path d=\"M0,0 L8,4 L0,8 z\" fill=\"#555\"/></marker></defs>\n", h);
	const int xs[3] = { 140, 520, 900 };
	const char *lanes[3] = { "Host (NS-EL2)", "RMM (R-EL2)", "Realm (R-EL1)" };
	for (int l = 0; l < 3; l++) {
		fprintf(f, "<text class=\"lane\" x=\"%d\" y=\"30\" text-anchor=\"middle\">%s</text>\n", xs[l], lanes[l]);
		fprintf(f, "<line x1=\"%d\" y1=\"40\" x2=\"%d\" y2=\"%d\" stroke=\"#bbb\" stroke-width=\"2\"/>\n", xs[l], xs[l], h - 10);
	}
	int y = 60;
	char label[256], ret[64], times[32];
	for (size_t i = 0; i < shown; i++, y += 22) {
		const struct rmmemu_event *e = rowv[i].e;
		if (rowv[i].count > 1)
			snprintf(times, sizeof(times), " x%u", rowv[i].count);
		else
			times[0] = '\0';
		if (e->kind == RMMEMU_EV_RMI) {
			const char *name = rmmemu_rmi_name(e->fid);
			rmmemu_format_return(e->res[0], ret, sizeof(ret));
			snprintf(label, sizeof(label), "%s%s%s -> %s", e->injected ? "[injected] " : "",
				 name ? name + 4 : "unknown SMC", times, ret);
			arrow(f, y, xs[0], xs[1], e->res[0] == RMI_SUCCESS ? "#2b6cb0" : "#c53030", label, false);
		} else if (e->kind == RMMEMU_EV_REC_RUN) {
			snprintf(label, sizeof(label), "REC_ENTER 0x%llx", (unsigned long long)e->addr);
			arrow(f, y, xs[0], xs[1], "#2b6cb0", label, false);
			arrow(f, y, xs[1], xs[2], "#805ad5", "run", true);
		} else if (e->kind == RMMEMU_EV_REALM_SMC) {
			const char *name = rmmemu_realm_smc_name(e->fid);
			snprintf(label, sizeof(label), "%s -> x0=0x%llx", name ? name : "SMC", (unsigned long long)e->res[0]);
			arrow(f, y, xs[2], xs[1], "#2f855a", label, false);
		} else {
			snprintf(label, sizeof(label), "REC exit: %s", rmmemu_exit_reason_name(e->to));
			arrow(f, y, xs[1], xs[0], "#805ad5", label, true);
		}
	}
	free(rowv);
	fputs("</svg>\n", f);

	/* Granule maps: every granule the run delegated, coloured by state at the peak and at the end. */
	fputs("<h2>Granules</h2>\n<table><tr><th>state</th><th>at peak use</th><th>at the end</th>"
	      "<th>most at once</th></tr>\n", f);
	uint64_t at_peak[RMMEMU_GRANULE_NUM_STATES] = { 0 }, final[RMMEMU_GRANULE_NUM_STATES] = { 0 };
	for (size_t i = 0; i < r->ntouched; i++) {
		struct rmmemu_granule_info gi;
		r->state[i] = rmmemu_granule_info(emu, r->touched[i], &gi) == 0 ? (uint8_t)gi.state : r->state[i];
		final[r->state[i]]++;
		at_peak[r->peak_state[i]]++;
	}
	for (unsigned st = 0; st < RMMEMU_GRANULE_NUM_STATES; st++)
		fprintf(f, "<tr><td><span style=\"background:%s\">&#160;&#160;&#160;&#160;</span> %s</td><td>%llu</td>"
			   "<td>%llu</td><td>%llu</td></tr>\n", state_color(st), state_name(st),
			(unsigned long long)at_peak[st], (unsigned long long)final[st],
			(unsigned long long)(st ? r->peak[st] : 0));
	fputs("</table>\n", f);
	const int per_row = 64, cell = 12;
	int grows = (int)((r->ntouched + per_row - 1) / per_row);
	for (int map = 0; map < 2; map++) {
		const uint8_t *st = map ? r->state : r->peak_state;
		fprintf(f, "<h3>%s</h3>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n",
			map ? "At the end" : "At peak use", per_row * cell + 2, grows * cell + 2);
		for (size_t i = 0; i < r->ntouched; i++)
			fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>0x%llx %s</title></rect>\n",
				(int)(i % per_row) * cell, (int)(i / per_row) * cell, cell, cell, state_color(st[i]),
				(unsigned long long)r->touched[i], state_name(st[i]));
		fputs("</svg>\n", f);
	}
	fputs("<p>Each square is one granule the run delegated, in the order first delegated; hover for its "
	      "address and state.</p>\n</body></html>\n", f);
	return fclose(f) ? -1 : 0;
}

/* Both consumers at once. */
void report_and_json_hook(void *ctx, const struct rmmemu_event *ev)
{
	struct report_sinks *s = ctx;
	if (s->json)
		json_trace_hook(s->json, ev);
	if (s->report)
		report_hook(s->report, ev);
}

/*
 * Event consumers: a JSON-lines trace (one object per event) and an HTML report of a run (a
 * sequence diagram with host / RMM / realm lanes, and the granule map by state).
 */
#include "host/report.h"

#include <stdlib.h>
#include <string.h>

#define MAX_EVENTS   100000   /* kept for the report; more are counted only */
#define DIAGRAM_ROWS 600      /* rows drawn in the sequence diagram */

struct report {
	struct rmmemu_event *ev;
	size_t n, cap, dropped;
	uint64_t *touched;        /* granules that changed state, in first-touch order */
	size_t ntouched, cap_touched;
	uint64_t peak[RMMEMU_GRANULE_NUM_STATES], now[RMMEMU_GRANULE_NUM_STATES];
};

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
	free(r->touched);
	free(r);
}

void report_hook(void *ctx, const struct rmmemu_event *ev)
{
	struct report *r = ctx;
	if (ev->kind == RMMEMU_EV_GRANULE) {
		if (ev->from == RMMEMU_GRANULE_UNDELEGATED && ev->to == RMMEMU_GRANULE_DELEGATED) {
			bool seen = false;
			for (size_t i = r->ntouched; i-- > 0 && i + 4096 > r->ntouched;)
				if (r->touched[i] == ev->addr) {
					seen = true;
					break;
				}
			if (!seen && r->ntouched < 65536) {
				if (r->ntouched == r->cap_touched) {
					size_t cap = r->cap_touched ? r->cap_touched * 2 : 256;
					uint64_t *t = realloc(r->touched, cap * sizeof(*t));
					if (t) {
						r->touched = t;
						r->cap_touched = cap;
					}
				}
				if (r->ntouched < r->cap_touched)
					r->touched[r->ntouched++] = ev->addr;
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

	/* Sequence diagram: host (x=140), RMM (x=520), realm (x=900). */
	size_t rows = 0;
	for (size_t i = 0; i < r->n; i++)
		rows += r->ev[i].kind != RMMEMU_EV_GRANULE && r->ev[i].kind != RMMEMU_EV_REALM_STATE;
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
	size_t drawn = 0;
	char label[256], ret[64];
	for (size_t i = 0; i < r->n && drawn < shown; i++) {
		const struct rmmemu_event *e = &r->ev[i];
		if (e->kind == RMMEMU_EV_RMI) {
			const char *name = rmmemu_rmi_name(e->fid);
			rmmemu_format_return(e->res[0], ret, sizeof(ret));
			snprintf(label, sizeof(label), "%s%s -> %s", e->injected ? "[injected] " : "",
				 name ? name + 4 : "unknown SMC", ret);
			arrow(f, y, xs[0], xs[1], e->res[0] == RMI_SUCCESS ? "#2b6cb0" : "#c53030", label, false);
		} else if (e->kind == RMMEMU_EV_REALM_SMC) {
			const char *name = rmmemu_realm_smc_name(e->fid);
			snprintf(label, sizeof(label), "%s -> x0=0x%llx", name ? name : "SMC", (unsigned long long)e->res[0]);
			arrow(f, y, xs[2], xs[1], "#2f855a", label, false);
		} else if (e->kind == RMMEMU_EV_REC_EXIT) {
			snprintf(label, sizeof(label), "REC exit: %s", rmmemu_exit_reason_name(e->to));
			arrow(f, y, xs[1], xs[0], "#805ad5", label, true);
		} else {
			continue;
		}
		y += 22;
		drawn++;
	}
	fputs("</svg>\n", f);

	/* Granule map: every granule the run delegated, coloured by its state now. */
	fputs("<h2>Granules</h2>\n<table><tr><th>state</th><th>now (touched granules)</th><th>peak</th></tr>\n", f);
	uint64_t final[RMMEMU_GRANULE_NUM_STATES] = { 0 };
	for (size_t i = 0; i < r->ntouched; i++) {
		struct rmmemu_granule_info gi;
		if (rmmemu_granule_info(emu, r->touched[i], &gi) == 0)
			final[gi.state]++;
	}
	for (unsigned s = 0; s < RMMEMU_GRANULE_NUM_STATES; s++)
		fprintf(f, "<tr><td><span style=\"background:%s\">&#160;&#160;&#160;&#160;</span> %s</td><td>%llu</td>"
			   "<td>%llu</td></tr>\n", state_color(s), state_name(s), (unsigned long long)final[s],
			(unsigned long long)(s ? r->peak[s] : 0));
	fputs("</table>\n", f);
	const int per_row = 64, cell = 12;
	int grows = (int)((r->ntouched + per_row - 1) / per_row);
	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\">\n", per_row * cell + 2,
		grows * cell + 2);
	for (size_t i = 0; i < r->ntouched; i++) {
		struct rmmemu_granule_info gi = { 0 };
		rmmemu_granule_info(emu, r->touched[i], &gi);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"%s\" stroke=\"#fff\"><title>0x%llx %s</title></rect>\n",
			(int)(i % per_row) * cell, (int)(i / per_row) * cell, cell, cell, state_color(gi.state),
			(unsigned long long)r->touched[i], state_name(gi.state));
	}
	fputs("</svg>\n<p>Each square is one granule the run delegated, in the order first delegated; hover for its "
	      "address.</p>\n</body></html>\n", f);
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

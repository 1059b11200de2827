/* Event consumers: JSON-lines trace and the HTML report of a run. */
#ifndef HOST_REPORT_H
#define HOST_REPORT_H

#include <stdio.h>

#include "rmmemu/rmmemu.h"

struct report;

/* ctx: a FILE * receiving one JSON object per line. */
void json_trace_hook(void *ctx, const struct rmmemu_event *ev);

struct report *report_new(void);
void report_free(struct report *r);
/* ctx: a struct report *. */
void report_hook(void *ctx, const struct rmmemu_event *ev);
/* Sequence diagram (host / RMM / realm lanes) and granule map, as a well-formed XHTML file. */
int report_write_html(struct report *r, struct rmmemu *emu, const char *path, const char *title);

/* Feed a JSON trace and a report from one hook. */
struct report_sinks {
	FILE *json;
	struct report *report;
};
void report_and_json_hook(void *ctx, const struct rmmemu_event *ev);

#endif

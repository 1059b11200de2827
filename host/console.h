/*
 * The RMI console: reads RMI calls (by name or FID, with arguments) and helper commands line by
 * line, issues them against an rmmemu instance and prints the results. See docs/console.md.
 */
#ifndef HOST_CONSOLE_H
#define HOST_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "rmmemu/rmmemu.h"

struct console_opts {
	bool echo_input;        /* print each command before its result (scripts) */
	bool stop_on_error;     /* stop at the first failed `expect` or bad line */
	bool quiet;             /* only print `echo` lines and failures */
	bool no_file_writes;    /* refuse commands that write files (`token ... FILE`): fuzzing */
};

struct console;

struct console *console_new(struct rmmemu *emu, FILE *out, const struct console_opts *opts);
void console_free(struct console *c);
/* Execute one line. Returns 0 on success, -1 on a bad line or failed expectation. */
int console_exec_line(struct console *c, const char *line, const char *where);
/* Run a whole stream / string. Returns the number of failed lines (0 = all good). */
int console_run_stream(struct console *c, FILE *in, const char *name);
int console_run_string(struct console *c, const char *script, const char *name);
/* Define $name (as `set`). 0 on success. */
int console_set_var(struct console *c, const char *name, uint64_t value);
/* The last SMC issued (false if none yet). */
bool console_last_result(const struct console *c, uint64_t *fid, struct rmmemu_smc_result *res);
/* True once a `quit` line was read. */
bool console_done(const struct console *c);

#endif

/* RMI scenario files (docs/scenarios.md). */
#ifndef HOST_SCENARIO_H
#define HOST_SCENARIO_H

#include <stdbool.h>
#include <stdio.h>

/* Run one scenario file, reporting to `out`. 0 = passed, 1 = a step failed, -1 = the file is
 * unreadable or malformed (reason printed with file:line). */
int scenario_run_file(const char *path, FILE *out, bool verbose);

#endif

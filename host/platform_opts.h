/* Platform description from text: "BASE:SIZE" ranges (CLI options, scenario and config files). */
#ifndef HOST_PLATFORM_OPTS_H
#define HOST_PLATFORM_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rmmemu/rmmemu.h"

/* A number with an optional K/M/G/T suffix. 0 on success. */
int parse_size(const char *s, uint64_t *out);

/* Exactly 2 * n hex digits into n bytes (seeds, IDs, SHA-256 values). 0 on success. */
int parse_hex_bytes(const char *s, uint8_t *out, size_t n);

/* Add a range of `kind` ("dram", "device", "secure", "root") to cfg. For dram and device the first
 * range given replaces the defaults: pass a flag that starts false (may be NULL for other kinds).
 * 0 on success, else -1 with a reason in err. */
int platform_add_range(struct rmmemu_platform_config *cfg, const char *kind, const char *text,
		       bool *defaults_replaced, char *err, size_t errlen);

#endif

#include "host/platform_opts.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	uint64_t v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -1;
	uint64_t mul = 1;
	switch (*end) {
	case 'K': case 'k': mul = 1ULL << 10; end++; break;
	case 'M': case 'm': mul = 1ULL << 20; end++; break;
	case 'G': case 'g': mul = 1ULL << 30; end++; break;
	case 'T': case 't': mul = 1ULL << 40; end++; break;
	default: break;
	}
	if (*end || (v && mul > UINT64_MAX / v))
		return -1;
	*out = v * mul;
	return 0;
}

int parse_hex_bytes(const char *s, uint8_t *out, size_t n)
{
	if (strlen(s) != 2 * n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned b;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
		    sscanf(s + 2 * i, "%2x", &b) != 1)
			return -1;
		out[i] = (uint8_t)b;
	}
	return 0;
}

int platform_add_range(struct rmmemu_platform_config *cfg, const char *kind, const char *text,
		       bool *defaults_replaced, char *err, size_t errlen)
{
	struct rmmemu_range *r;
	unsigned *n;
	if (!strcmp(kind, "dram")) {
		r = cfg->dram; n = &cfg->num_dram;
	} else if (!strcmp(kind, "device")) {
		r = cfg->device; n = &cfg->num_device;
	} else if (!strcmp(kind, "secure")) {
		r = cfg->secure; n = &cfg->num_secure;
	} else if (!strcmp(kind, "root")) {
		r = cfg->root; n = &cfg->num_root;
	} else {
		snprintf(err, errlen, "unknown range kind '%s'", kind);
		return -1;
	}
	if (defaults_replaced && !*defaults_replaced) {
		*n = 0;
		*defaults_replaced = true;
	}
	char buf[128];
	const char *colon = strchr(text, ':');
	if (!colon || (size_t)(colon - text) >= sizeof(buf)) {
		snprintf(err, errlen, "expected BASE:SIZE, got '%s'", text);
		return -1;
	}
	if (*n >= RMMEMU_MAX_RANGES) {
		snprintf(err, errlen, "at most %d %s ranges", RMMEMU_MAX_RANGES, kind);
		return -1;
	}
	memcpy(buf, text, (size_t)(colon - text));
	buf[colon - text] = '\0';
	if (parse_size(buf, &r[*n].base) || parse_size(colon + 1, &r[*n].size)) {
		snprintf(err, errlen, "bad BASE:SIZE '%s' (numbers, optional K/M/G/T suffix)", text);
		return -1;
	}
	(*n)++;
	return 0;
}

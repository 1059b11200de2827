/*
 * CCA attestation token decoding (JSON) and verification.
 *
 * Decoding is a small cursor decoder over the encoded bytes: the input is first checked to be
 * well-formed CBOR with definite lengths and bounded nesting, then items are read in place.
 * (libcbor 0.8, used by attest/token.c to encode, cannot decode tags 6..20 — it refuses the
 * COSE_Sign1 tag 18 — so it is not used here; bookworm packages no other C CBOR decoder, tinycbor
 * is only in forky and sid.) The COSE Sig_structure is rebuilt here byte by byte, independently
 * of the encoder. Crypto (ES384 verify, hashes) comes from attest/keys.c.
 *
 * Work is linear in the input (issue 11, finding 2): containers are only walked in order with a
 * struct iter, never indexed (finding the i-th element rescanned the i - 1 before it), so a walk
 * reads each head twice per enclosing level (at most WF_MAX_DEPTH + 1 levels), and verification
 * walks each claims map once per claim it looks up; duplicate claim keys are found by sorting.
 * The only allocation is that sort's arrays (linear in the map).
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "attest/keys.h"
#include "attest/token.h"
#include "host/token_tool.h"
#include "host/token_tool_internal.h"

#define WF_MAX_DEPTH   16
#define READ_MAX_SIZE  (1024 * 1024)
#define LEGACY_PLATFORM_PROFILE "http://arm.com/CCA-SSD/1.0.0"

enum { MT_UINT = 0, MT_NEGINT, MT_BYTES, MT_TEXT, MT_ARRAY, MT_MAP, MT_TAG, MT_SIMPLE };

/* Work done by this thread's decoding (token_tool_internal.h). */
static _Thread_local uint64_t decode_steps;

uint64_t token_decode_steps(void)
{
	return decode_steps;
}

/* ------------------------------------------------------------------------------------------ */
/* Well-formedness: every item definite-length, within the buffer, nesting <= WF_MAX_DEPTH.   */

static bool wf_head(const uint8_t *b, size_t n, size_t *pos, unsigned *major, uint64_t *val,
		    unsigned *ai)
{
	size_t extra;

	decode_steps++;
	if (*pos >= n)
		return false;
	*major = b[*pos] >> 5;
	*ai = b[*pos] & 0x1f;
	(*pos)++;
	if (*ai < 24) {
		*val = *ai;
		return true;
	}
	if (*ai > 27)          /* 28..30 reserved, 31 indefinite length / break: refused */
		return false;
	extra = (size_t)1 << (*ai - 24);
	if (n - *pos < extra)
		return false;
	*val = 0;
	for (size_t i = 0; i < extra; i++)
		*val = (*val << 8) | b[(*pos)++];
	return true;
}

static bool wf_item(const uint8_t *b, size_t n, size_t *pos, unsigned depth)
{
	unsigned major, ai;
	uint64_t val;

	if (depth > WF_MAX_DEPTH || !wf_head(b, n, pos, &major, &val, &ai))
		return false;
	switch (major) {
	case MT_UINT:
	case MT_NEGINT:
		return true;
	case MT_BYTES:
	case MT_TEXT:
		if (val > n - *pos)
			return false;
		*pos += (size_t)val;
		return true;
	case MT_ARRAY:
	case MT_MAP:
		/* Each item takes at least one byte: a count beyond the rest cannot be valid. */
		if (val > n - *pos || (major == MT_MAP && val > (n - *pos) / 2))
			return false;
		for (uint64_t i = 0; i < (major == MT_MAP ? 2 * val : val); i++)
			if (!wf_item(b, n, pos, depth + 1))
				return false;
		return true;
	case MT_TAG:
		return wf_item(b, n, pos, depth + 1);
	default: /* simple values and floats: the head holds them; 1-byte simple values < 32 are invalid */
		return ai != 24 || val >= 32;
	}
}

/* ------------------------------------------------------------------------------------------ */
/* Items: a view of one encoded, well-formed item.                                             */

struct item {
	const uint8_t *p;   /* first byte of the item */
	size_t len;         /* encoded length, head included */
	size_t hlen;        /* head length */
	unsigned major, ai;
	uint64_t val;       /* argument: integer, length, count or tag number */
};

/* The item starting at b (n bytes available). The caller guarantees well-formedness. */
static bool item_at(const uint8_t *b, size_t n, struct item *it)
{
	size_t pos = 0;

	memset(it, 0, sizeof(*it));
	if (!wf_head(b, n, &pos, &it->major, &it->val, &it->ai))
		return false;
	it->p = b;
	it->hlen = pos;
	pos = 0;
	if (!wf_item(b, n, &pos, 0))
		return false;
	it->len = pos;
	return true;
}

/* Exactly one well-formed item filling b[0..n). */
static bool decode_exact(const uint8_t *b, size_t n, struct item *it)
{
	size_t pos = 0;

	if (!b || n == 0 || !wf_item(b, n, &pos, 0) || pos != n)
		return false;
	return item_at(b, n, it);
}

/*
 * The elements of an array, or the keys and values of a map (key, value, key, ...), in order.
 * Containers are walked only this way: each step reads the next item where the last one ended.
 */
struct iter {
	const uint8_t *p, *end;
	uint64_t left;
};

static void iter_init(struct iter *i, const struct item *it)
{
	i->p = it->p + it->hlen;
	i->end = it->p + it->len;
	i->left = it->major == MT_ARRAY ? it->val : it->major == MT_MAP ? 2 * it->val : 0;
}

static bool iter_next(struct iter *i, struct item *out)
{
	if (!i->left || !item_at(i->p, (size_t)(i->end - i->p), out))
		return false;
	i->p += out->len;
	i->left--;
	return true;
}

/* The next key and value of a map. */
static bool iter_pair(struct iter *i, struct item *key, struct item *val)
{
	return iter_next(i, key) && iter_next(i, val);
}

static bool tag_content(const struct item *it, struct item *out)
{
	return it->major == MT_TAG && item_at(it->p + it->hlen, it->len - it->hlen, out);
}

static bool get_int(const struct item *it, int64_t *v)
{
	if (!it || (it->major != MT_UINT && it->major != MT_NEGINT) || it->val > (uint64_t)INT64_MAX)
		return false;
	*v = it->major == MT_UINT ? (int64_t)it->val : -1 - (int64_t)it->val;
	return true;
}

static bool get_bytes(const struct item *it, const uint8_t **p, size_t *n)
{
	if (!it || it->major != MT_BYTES)
		return false;
	*p = it->p + it->hlen;
	*n = (size_t)it->val;
	return true;
}

static bool get_text(const struct item *it, const char **p, size_t *n)
{
	if (!it || it->major != MT_TEXT)
		return false;
	*p = (const char *)(it->p + it->hlen);
	*n = (size_t)it->val;
	return true;
}

/* Copy a text item into a NUL-terminated buffer (truncated). */
static void text_copy(const struct item *it, char *buf, size_t cap)
{
	const char *p;
	size_t n;

	buf[0] = 0;
	if (!get_text(it, &p, &n))
		return;
	if (n >= cap)
		n = cap - 1;
	if (n)
		memcpy(buf, p, n);
	buf[n] = 0;
}

/* Value of integer key `key` in map (first occurrence). */
static bool map_get(const struct item *map, int64_t key, struct item *val)
{
	struct iter i;
	struct item k, v;
	int64_t kv;

	if (!map || map->major != MT_MAP)
		return false;
	iter_init(&i, map);
	while (iter_pair(&i, &k, &v))
		if (get_int(&k, &kv) && kv == key) {
			*val = v;
			return true;
		}
	return false;
}

/* ------------------------------------------------------------------------------------------ */
/* Token structure                                                                             */

struct cose {
	struct item prot;             /* decoded protected header (a map) */
	struct item unprot;           /* unprotected header map */
	struct item claims;           /* decoded payload */
	bool has_prot;
	const uint8_t *prot_raw, *payload, *sig;
	size_t prot_len, payload_len, sig_len;
};

struct token {
	struct cose platform, realm;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* Parse a COSE_Sign1_Tagged. Returns NULL on success, else the reason. */
static const char *cose_parse(const uint8_t *raw, size_t len, struct cose *c)
{
	struct item root, arr, el;
	struct iter i;

	memset(c, 0, sizeof(*c));
	if (!decode_exact(raw, len, &root))
		return "not well-formed CBOR (or indefinite lengths, or trailing bytes)";
	if (root.major != MT_TAG || root.val != COSE_SIGN1_TAG)
		return "not a COSE_Sign1_Tagged (tag 18)";
	if (!tag_content(&root, &arr) || arr.major != MT_ARRAY || arr.val != 4)
		return "COSE_Sign1 is not an array of 4";
	iter_init(&i, &arr);
	if (!iter_next(&i, &el) || !get_bytes(&el, &c->prot_raw, &c->prot_len))
		return "protected header is not a byte string";
	if (!iter_next(&i, &c->unprot) || c->unprot.major != MT_MAP)
		return "unprotected header is not a map";
	if (!iter_next(&i, &el) || !get_bytes(&el, &c->payload, &c->payload_len))
		return "payload is not a byte string (detached payloads are not allowed)";
	if (!iter_next(&i, &el) || !get_bytes(&el, &c->sig, &c->sig_len))
		return "signature is not a byte string";
	if (c->prot_len) {
		if (!decode_exact(c->prot_raw, c->prot_len, &c->prot) || c->prot.major != MT_MAP)
			return "protected header is not a CBOR map";
		c->has_prot = true;
	}
	if (!decode_exact(c->payload, c->payload_len, &c->claims))
		return "payload is not well-formed CBOR";
	if (c->claims.major != MT_MAP)
		return "payload is not a claims map";
	return NULL;
}

static int token_parse(const uint8_t *tok, size_t len, struct token *t, char *err, size_t errlen)
{
	struct item top, map, k, v;
	struct iter it;
	const uint8_t *plat = NULL, *realm = NULL;
	size_t plat_len = 0, realm_len = 0;
	const char *why;
	int64_t key;

	memset(t, 0, sizeof(*t));
	if (!decode_exact(tok, len, &top)) {
		set_err(err, errlen, "token is not well-formed CBOR (or uses indefinite lengths, or has trailing bytes)");
		return -1;
	}
	if (top.major != MT_TAG || top.val != CCA_TOKEN_COLLECTION_TAG) {
		set_err(err, errlen, "token is not a CBOR tag %d collection", CCA_TOKEN_COLLECTION_TAG);
		return -1;
	}
	if (!tag_content(&top, &map) || map.major != MT_MAP) {
		set_err(err, errlen, "token collection is not a map");
		return -1;
	}
	iter_init(&it, &map);
	for (size_t i = 0; i < map.val; i++) {
		const uint8_t *p;
		size_t n;

		if (!iter_pair(&it, &k, &v) || !get_int(&k, &key) ||
		    (key != CCA_PLATFORM_TOKEN_LABEL && key != CCA_REALM_DELEGATED_TOKEN_LABEL)) {
			set_err(err, errlen, "token collection has an unknown key");
			return -1;
		}
		if (!get_bytes(&v, &p, &n)) {
			set_err(err, errlen, "token collection entry %lld is not a byte string", (long long)key);
			return -1;
		}
		if ((key == CCA_PLATFORM_TOKEN_LABEL && plat) || (key == CCA_REALM_DELEGATED_TOKEN_LABEL && realm)) {
			set_err(err, errlen, "token collection has key %lld twice", (long long)key);
			return -1;
		}
		if (key == CCA_PLATFORM_TOKEN_LABEL) {
			plat = p;
			plat_len = n;
		} else {
			realm = p;
			realm_len = n;
		}
	}
	if (!plat || !realm) {
		set_err(err, errlen, "token collection lacks the %s token", plat ? "realm" : "platform");
		return -1;
	}
	why = cose_parse(plat, plat_len, &t->platform);
	if (why) {
		set_err(err, errlen, "platform token: %s", why);
		return -1;
	}
	why = cose_parse(realm, realm_len, &t->realm);
	if (why) {
		set_err(err, errlen, "realm token: %s", why);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* JSON                                                                                        */

struct name {
	int64_t key;
	const char *name;
};

static const struct name realm_names[] = {
	{ CCA_REALM_CHALLENGE, "cca-realm-challenge" },
	{ CCA_REALM_PROFILE, "cca-realm-profile" },
	{ CCA_REALM_PERSONALIZATION_VALUE, "cca-realm-personalization-value" },
	{ CCA_REALM_HASH_ALGO_ID, "cca-realm-hash-algo-id" },
	{ CCA_REALM_PUB_KEY, "cca-realm-public-key" },
	{ CCA_REALM_INITIAL_MEASUREMENT, "cca-realm-initial-measurement" },
	{ CCA_REALM_EXTENSIBLE_MEASUREMENTS, "cca-realm-extensible-measurements" },
	{ CCA_REALM_PUB_KEY_HASH_ALGO_ID, "cca-realm-public-key-hash-algo-id" },
	{ 0, NULL },
};

static const struct name platform_names[] = {
	{ CCA_PLATFORM_PROFILE, "cca-platform-profile" },
	{ CCA_PLATFORM_CHALLENGE, "cca-platform-challenge" },
	{ CCA_PLATFORM_IMPLEMENTATION_ID, "cca-platform-implementation-id" },
	{ CCA_PLATFORM_INSTANCE_ID, "cca-platform-instance-id" },
	{ CCA_PLATFORM_CONFIG, "cca-platform-config" },
	{ CCA_PLATFORM_LIFECYCLE, "cca-platform-lifecycle" },
	{ CCA_PLATFORM_SW_COMPONENTS, "cca-platform-sw-components" },
	{ CCA_PLATFORM_VERIFICATION_SERVICE, "cca-platform-verification-service" },
	{ CCA_PLATFORM_HASH_ALGO_ID, "cca-platform-hash-algo-id" },
	{ 0, NULL },
};

static const struct name sw_names[] = {
	{ CCA_SW_COMP_TYPE, "component-type" },
	{ CCA_SW_COMP_MEASUREMENT_VALUE, "measurement-value" },
	{ CCA_SW_COMP_VERSION, "version" },
	{ CCA_SW_COMP_SIGNER_ID, "signer-id" },
	{ CCA_SW_COMP_HASH_ALGO_ID, "hash-algo-id" },
	{ 0, NULL },
};

static const struct name cose_header_names[] = {
	{ 1, "alg" }, { 2, "crit" }, { 3, "content-type" }, { 4, "kid" }, { 0, NULL },
};

static const struct name cose_key_names[] = {
	{ COSE_KEY_KTY, "kty" }, { 2, "kid" }, { 3, "alg" }, { 4, "key_ops" },
	{ COSE_KEY_CRV, "crv" }, { COSE_KEY_X, "x" }, { COSE_KEY_Y, "y" }, { 0, NULL },
};

static const char *name_of(const struct name *t, int64_t key)
{
	for (; t && t->name; t++)
		if (t->key == key)
			return t->name;
	return NULL;
}

/* Length of a valid UTF-8 sequence at p (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if ((p[0] & 0xe0) == 0xc0) {
		len = 2;
		cp = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3;
		cp = p[0] & 0x0f;
	} else if ((p[0] & 0xf8) == 0xf0) {
		len = 4;
		cp = p[0] & 0x07;
	} else {
		return 0;
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (p[i] & 0x3f);
	}
	if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

static void json_string(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	for (size_t i = 0; i < n;) {
		size_t l;

		if (p[i] == '"' || p[i] == '\\') {
			fprintf(out, "\\%c", p[i]);
			i++;
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(out, "\\u%04x", p[i]);
			i++;
		} else if ((l = utf8_seq(p + i, n - i)) != 0) {
			fwrite(p + i, 1, l, out);
			i += l;
		} else {
			fputs("\\ufffd", out);  /* invalid UTF-8 byte */
			i++;
		}
	}
	fputc('"', out);
}

static void json_hex(FILE *out, const uint8_t *p, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "%02x", p[i]);
	fputc('"', out);
}

static void json_indent(FILE *out, unsigned level)
{
	for (unsigned i = 0; i < level; i++)
		fputs("  ", out);
}

static void json_key(FILE *out, const struct item *key, const struct name *names)
{
	int64_t k;
	const char *nm, *p;
	size_t n;
	char buf[32];

	if (get_int(key, &k)) {
		nm = name_of(names, k);
		if (nm) {
			json_string(out, nm, strlen(nm));
		} else {
			snprintf(buf, sizeof(buf), "%lld", (long long)k);
			json_string(out, buf, strlen(buf));
		}
	} else if (get_text(key, &p, &n)) {
		json_string(out, p, n);
	} else {
		/* A key that is neither an integer nor a text string: show its encoding. */
		fputs("\"cbor:", out);
		for (size_t i = 0; i < key->len; i++)
			fprintf(out, "%02x", key->p[i]);
		fputc('"', out);
	}
}

/* IEEE 754 half precision to double. */
static double half_to_double(uint16_t h)
{
	unsigned e = (h >> 10) & 0x1f, m = h & 0x3ffu;
	double v;

	if (e == 0)
		v = m / 16777216.0;                                   /* m * 2^-24 */
	else if (e == 31)
		v = m == 0 ? INFINITY : NAN;
	else if (e >= 25)
		v = (double)(1024 + m) * (double)(1u << (e - 25));    /* (1024 + m) * 2^(e-25) */
	else
		v = (double)(1024 + m) / (double)(1u << (25 - e));
	return (h & 0x8000) ? -v : v;
}

static void json_simple(FILE *out, const struct item *it)
{
	double d;

	switch (it->ai) {
	case 20:
		fputs("false", out);
		return;
	case 21:
		fputs("true", out);
		return;
	case 22:
	case 23:
		fputs("null", out);
		return;
	case 25:
		d = half_to_double((uint16_t)it->val);
		break;
	case 26: {
		uint32_t u = (uint32_t)it->val;
		float f;

		memcpy(&f, &u, sizeof(f));
		d = f;
		break;
	}
	case 27: {
		uint64_t u = it->val;

		memcpy(&d, &u, sizeof(d));
		break;
	}
	default:
		fprintf(out, "{\"simple\": %llu}", (unsigned long long)it->val);
		return;
	}
	if (isfinite(d))
		fprintf(out, "%.17g", d);
	else
		fputs("null", out);   /* JSON has no NaN / infinity */
}

/*
 * Any item as JSON. Map keys are named from `names`, which also applies to maps inside arrays
 * (the software components). Values inside the platform claim 2399 are named from sw_names.
 */
static void json_item(FILE *out, const struct item *it, const struct name *names, unsigned level)
{
	struct item a, b;
	struct iter i;
	const uint8_t *bp = NULL;
	const char *s = NULL;
	size_t n = 0;
	int64_t v;

	switch (it->major) {
	case MT_UINT:
		fprintf(out, "%llu", (unsigned long long)it->val);
		break;
	case MT_NEGINT:
		if (it->val == UINT64_MAX)
			fputs("-18446744073709551616", out);
		else
			fprintf(out, "-%llu", (unsigned long long)(it->val + 1));
		break;
	case MT_BYTES:
		get_bytes(it, &bp, &n);
		json_hex(out, bp, n);
		break;
	case MT_TEXT:
		get_text(it, &s, &n);
		json_string(out, s, n);
		break;
	case MT_ARRAY:
		fputs("[", out);
		iter_init(&i, it);
		for (bool first = true; iter_next(&i, &a); first = false) {
			fputs(first ? "\n" : ",\n", out);
			json_indent(out, level + 1);
			json_item(out, &a, names, level + 1);
		}
		if (it->val) {
			fputc('\n', out);
			json_indent(out, level);
		}
		fputs("]", out);
		break;
	case MT_MAP:
		fputs("{", out);
		iter_init(&i, it);
		for (bool first = true; iter_pair(&i, &a, &b); first = false) {
			bool sw = names == platform_names && get_int(&a, &v) && v == CCA_PLATFORM_SW_COMPONENTS;

			fputs(first ? "\n" : ",\n", out);
			json_indent(out, level + 1);
			json_key(out, &a, names);
			fputs(": ", out);
			json_item(out, &b, sw ? sw_names : NULL, level + 1);
		}
		if (it->val) {
			fputc('\n', out);
			json_indent(out, level);
		}
		fputs("}", out);
		break;
	case MT_TAG:
		fprintf(out, "{\"tag\": %llu, \"value\": ", (unsigned long long)it->val);
		if (tag_content(it, &a))
			json_item(out, &a, NULL, level + 1);
		else
			fputs("null", out);
		fputs("}", out);
		break;
	default:
		json_simple(out, it);
		break;
	}
}

static void json_cose(FILE *out, const struct cose *c, const struct name *claim_names,
		      const char *name, bool last)
{
	fprintf(out, "  \"%s\": {\n", name);
	fputs("    \"protected-header\": ", out);
	if (c->has_prot)
		json_item(out, &c->prot, cose_header_names, 2);
	else
		fputs("{}", out);
	fputs(",\n    \"unprotected-header\": ", out);
	json_item(out, &c->unprot, cose_header_names, 2);
	fputs(",\n    \"claims\": ", out);
	json_item(out, &c->claims, claim_names, 2);
	if (claim_names == realm_names) {
		/* The realm public key claim is a bstr holding a COSE_Key: show it decoded too. */
		struct item kc, key;
		const uint8_t *k;
		size_t kn;

		if (map_get(&c->claims, CCA_REALM_PUB_KEY, &kc) && get_bytes(&kc, &k, &kn) &&
		    decode_exact(k, kn, &key) && key.major == MT_MAP) {
			fputs(",\n    \"cca-realm-public-key-cose-key\": ", out);
			json_item(out, &key, cose_key_names, 2);
		}
	}
	fputs(",\n    \"signature\": ", out);
	json_hex(out, c->sig, c->sig_len);
	fprintf(out, "\n  }%s\n", last ? "" : ",");
}

int token_show_json(FILE *out, const uint8_t *tok, size_t len, char *err, size_t errlen)
{
	struct token t;

	if (!out || !tok) {
		set_err(err, errlen, "no token");
		return -1;
	}
	if (token_parse(tok, len, &t, err, errlen) != 0)
		return -1;
	fputs("{\n", out);
	json_cose(out, &t.platform, platform_names, "cca-platform-token", false);
	json_cose(out, &t.realm, realm_names, "cca-realm-delegated-token", true);
	fputs("}\n", out);
	if (ferror(out)) {
		set_err(err, errlen, "write error");
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Verification                                                                                */

struct vctx {
	FILE *report;
	char *err;
	size_t errlen;
	unsigned failures;
};

static void vlog(struct vctx *v, bool ok, const char *fmt, ...)
{
	va_list ap;
	char msg[256];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!ok) {
		if (v->failures == 0)
			set_err(v->err, v->errlen, "%s", msg);
		v->failures++;
	}
	if (v->report)
		fprintf(v->report, "%-5s %s\n", ok ? "ok" : "FAIL", msg);
}

static void vnote(struct vctx *v, const char *fmt, ...)
{
	va_list ap;

	if (!v->report)
		return;
	va_start(ap, fmt);
	fputs("note  ", v->report);
	vfprintf(v->report, fmt, ap);
	fputc('\n', v->report);
	va_end(ap);
}

/* Digest size for a hash algorithm name (the ones the CCA token allows), or 0. */
static size_t hash_size_by_name(const char *name)
{
	if (strcmp(name, "sha-256") == 0)
		return 32;
	if (strcmp(name, "sha-384") == 0)
		return 48;
	if (strcmp(name, "sha-512") == 0)
		return 64;
	return 0;
}

static bool is_hash_size(size_t n)
{
	return n == 32 || n == 48 || n == 64;
}

/* A bstr claim of an exact size (ANY_SIZE: any; HASH_SIZE: a cca-hash-type, 32, 48 or 64). */
#define ANY_SIZE   ((size_t)0)
#define HASH_SIZE  ((size_t)-1)
static const uint8_t *check_bstr(struct vctx *v, const struct item *claims, int64_t key,
				 const char *name, size_t size, bool mandatory, size_t *len)
{
	struct item it;
	const uint8_t *p;
	size_t n;

	if (!map_get(claims, key, &it)) {
		if (mandatory)
			vlog(v, false, "%s (%lld): missing", name, (long long)key);
		return NULL;
	}
	if (!get_bytes(&it, &p, &n)) {
		vlog(v, false, "%s (%lld): not a byte string", name, (long long)key);
		return NULL;
	}
	if ((size == HASH_SIZE && !is_hash_size(n)) || (size != HASH_SIZE && size != ANY_SIZE && n != size)) {
		if (size == HASH_SIZE)
			vlog(v, false, "%s (%lld): %zu bytes, expected 32, 48 or 64", name, (long long)key, n);
		else
			vlog(v, false, "%s (%lld): %zu bytes, expected %zu", name, (long long)key, n, size);
		return NULL;
	}
	vlog(v, true, "%s (%lld): byte string of %zu bytes", name, (long long)key, n);
	if (len)
		*len = n;
	return p;
}

/* A text claim, copied into buf. */
static bool check_text(struct vctx *v, const struct item *claims, int64_t key, const char *name,
		       bool mandatory, char *buf, size_t cap)
{
	struct item it;

	buf[0] = 0;
	if (!map_get(claims, key, &it)) {
		if (mandatory)
			vlog(v, false, "%s (%lld): missing", name, (long long)key);
		return false;
	}
	if (it.major != MT_TEXT) {
		vlog(v, false, "%s (%lld): not a text string", name, (long long)key);
		return false;
	}
	text_copy(&it, buf, cap);
	vlog(v, true, "%s (%lld): \"%s\"", name, (long long)key, buf);
	return true;
}

/* An integer claim key and its place in the claims map. */
struct key_pos {
	int64_t key;
	size_t pos;
};

static int key_pos_cmp(const void *a, const void *b)
{
	const struct key_pos *x = a, *y = b;

	decode_steps++;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/*
 * Every key of the claims map is present once; unknown claims are reported (EAT: ignored).
 * Repeated keys are found by sorting the integer keys with their positions (n log n; comparing
 * each key with every later one made large maps cubic). A repeated key is reported once, at its
 * first occurrence, in map order as before.
 */
static void check_keys(struct vctx *v, const struct item *claims, const struct name *names,
		       const char *what)
{
	struct key_pos *keys;
	size_t *times;      /* times[i]: occurrences of the key at i if i is its first of several */
	size_t nkeys = 0, npairs = (size_t)claims->val, i, j;
	struct iter it;
	struct item a, b;
	int64_t k;

	/* npairs <= half the map's bytes (checked by wf_item): both arrays are linear in the input. */
	keys = calloc(npairs ? npairs : 1, sizeof(*keys));
	times = calloc(npairs ? npairs : 1, sizeof(*times));
	if (!keys || !times) {
		vlog(v, false, "%s: out of memory checking the claim keys", what);
		goto out;
	}
	iter_init(&it, claims);
	for (i = 0; i < npairs && iter_pair(&it, &a, &b); i++)
		if (get_int(&a, &k))
			keys[nkeys++] = (struct key_pos){ k, i };
	qsort(keys, nkeys, sizeof(*keys), key_pos_cmp);
	for (i = 0; i < nkeys; i = j) {
		for (j = i + 1; j < nkeys && keys[j].key == keys[i].key; j++)
			;
		if (j - i > 1)
			times[keys[i].pos] = j - i;
	}

	iter_init(&it, claims);
	for (i = 0; i < npairs && iter_pair(&it, &a, &b); i++) {
		if (!get_int(&a, &k)) {
			vnote(v, "%s: claim with a non-integer key ignored", what);
			continue;
		}
		if (times[i] == 2)
			vlog(v, false, "%s: claim %lld appears twice", what, (long long)k);
		else if (times[i])
			vlog(v, false, "%s: claim %lld appears %zu times", what, (long long)k, times[i]);
		if (!name_of(names, k))
			vnote(v, "%s: unknown claim %lld ignored", what, (long long)k);
	}
out:
	free(keys);
	free(times);
}

/* Protected header {1: -35}; returns true if the algorithm is ES384. */
static bool check_cose_header(struct vctx *v, const struct cose *c, const char *what)
{
	struct item a;
	int64_t alg;

	if (!c->has_prot || !map_get(&c->prot, COSE_HEADER_ALG, &a) || !get_int(&a, &alg)) {
		vlog(v, false, "%s: protected header has no algorithm", what);
		return false;
	}
	if (map_get(&c->prot, 2, &a))
		vlog(v, false, "%s: protected header has critical parameters (unsupported)", what);
	if (alg != COSE_ALG_ES384) {
		vlog(v, false, "%s: algorithm %lld, expected ES384 (-35)", what, (long long)alg);
		return false;
	}
	vlog(v, true, "%s: COSE_Sign1 tag 18, protected header alg ES384 (-35)", what);
	return true;
}

static size_t cbor_head(uint8_t *out, unsigned major, uint64_t val)
{
	size_t n;

	if (val < 24) {
		out[0] = (uint8_t)(major << 5 | val);
		return 1;
	}
	n = val <= 0xff ? 1 : val <= 0xffff ? 2 : val <= 0xffffffffULL ? 4 : 8;
	out[0] = (uint8_t)(major << 5 | (n == 1 ? 24 : n == 2 ? 25 : n == 4 ? 26 : 27));
	for (size_t i = 0; i < n; i++)
		out[1 + i] = (uint8_t)(val >> (8 * (n - 1 - i)));
	return 1 + n;
}

/* Sig_structure = ["Signature1", protected, h'', payload], then ES384 verification. */
static bool cose_verify(const struct cose *c, const uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	static const char ctx[] = "Signature1";
	uint8_t *tbs;
	size_t n = 0, cap;
	bool ok;

	if (c->sig_len != ATTEST_ES384_SIG_SIZE)
		return false;
	cap = 32 + sizeof(ctx) + c->prot_len + c->payload_len;
	tbs = malloc(cap);
	if (!tbs)
		return false;
	n += cbor_head(tbs + n, MT_ARRAY, 4);
	n += cbor_head(tbs + n, MT_TEXT, sizeof(ctx) - 1);
	memcpy(tbs + n, ctx, sizeof(ctx) - 1);
	n += sizeof(ctx) - 1;
	n += cbor_head(tbs + n, MT_BYTES, c->prot_len);
	if (c->prot_len)
		memcpy(tbs + n, c->prot_raw, c->prot_len);
	n += c->prot_len;
	n += cbor_head(tbs + n, MT_BYTES, 0);
	n += cbor_head(tbs + n, MT_BYTES, c->payload_len);
	memcpy(tbs + n, c->payload, c->payload_len);
	n += c->payload_len;
	ok = attest_es384_verify(pub, tbs, n, c->sig) == ATTEST_OK;
	free(tbs);
	return ok;
}

/* The RAK from the realm public key claim: a COSE_Key (or, legacy, a raw 97-byte point). */
static bool realm_key(struct vctx *v, const uint8_t *claim, size_t n, bool legacy,
		      uint8_t pub[ATTEST_EC_POINT_SIZE])
{
	struct item key, a;
	int64_t kty, crv;
	const uint8_t *x, *y;
	size_t xn, yn;
	bool ok;

	if (legacy && n == ATTEST_EC_POINT_SIZE) {
		memcpy(pub, claim, n);
		ok = attest_pub_check(pub) == ATTEST_OK;
		vlog(v, ok, "cca-realm-public-key: raw SEC1 point (legacy, no realm profile)%s",
		     ok ? ", on P-384" : ", not a valid P-384 point");
		return ok;
	}
	if (!decode_exact(claim, n, &key) || key.major != MT_MAP) {
		vlog(v, false, "cca-realm-public-key: not a CBOR-encoded COSE_Key map");
		return false;
	}
	if (!map_get(&key, COSE_KEY_KTY, &a) || !get_int(&a, &kty) || kty != COSE_KTY_EC2 ||
	    !map_get(&key, COSE_KEY_CRV, &a) || !get_int(&a, &crv) || crv != COSE_CRV_P384) {
		vlog(v, false, "cca-realm-public-key: COSE_Key is not kty EC2 (2) / crv P-384 (2)");
		return false;
	}
	if (!map_get(&key, COSE_KEY_X, &a) || !get_bytes(&a, &x, &xn) || xn != ATTEST_EC_COORD_SIZE ||
	    !map_get(&key, COSE_KEY_Y, &a) || !get_bytes(&a, &y, &yn) || yn != ATTEST_EC_COORD_SIZE) {
		vlog(v, false, "cca-realm-public-key: COSE_Key x / y are not 48-byte byte strings");
		return false;
	}
	pub[0] = 0x04;
	memcpy(pub + 1, x, ATTEST_EC_COORD_SIZE);
	memcpy(pub + 1 + ATTEST_EC_COORD_SIZE, y, ATTEST_EC_COORD_SIZE);
	ok = attest_pub_check(pub) == ATTEST_OK;
	vlog(v, ok, "cca-realm-public-key: COSE_Key EC2 P-384%s",
	     ok ? ", point on the curve" : ", point not on the curve");
	return ok;
}

static void verify_realm(struct vctx *v, const struct cose *c, const uint8_t **rak_claim,
			 size_t *rak_claim_len, char *rak_hash, size_t rak_hash_cap)
{
	const struct item *cl = &c->claims;
	char algo[32], profile[64];
	uint8_t rak[ATTEST_EC_POINT_SIZE];
	size_t msize = 0, n;
	bool legacy = false, have_rak = false, alg_ok;
	struct item rems, el;

	check_keys(v, cl, realm_names, "realm");
	alg_ok = check_cose_header(v, c, "realm token");
	check_bstr(v, cl, CCA_REALM_CHALLENGE, "cca-realm-challenge", ATTEST_REALM_CHALLENGE_SIZE, true, NULL);
	if (map_get(cl, CCA_REALM_PROFILE, &el)) {
		if (check_text(v, cl, CCA_REALM_PROFILE, "cca-realm-profile", false, profile, sizeof(profile)) &&
		    strcmp(profile, CCA_REALM_PROFILE_STR) != 0)
			vlog(v, false, "cca-realm-profile: expected \"%s\"", CCA_REALM_PROFILE_STR);
	} else {
		legacy = true;
		vnote(v, "cca-realm-profile (265): absent (optional; legacy realm token)");
	}
	check_bstr(v, cl, CCA_REALM_PERSONALIZATION_VALUE, "cca-realm-personalization-value",
		   ATTEST_RPV_SIZE, true, NULL);
	if (check_text(v, cl, CCA_REALM_HASH_ALGO_ID, "cca-realm-hash-algo-id", true, algo, sizeof(algo))) {
		msize = hash_size_by_name(algo);
		if (!msize)
			vlog(v, false, "cca-realm-hash-algo-id: \"%s\" is not sha-256, sha-384 or sha-512", algo);
	}
	check_bstr(v, cl, CCA_REALM_INITIAL_MEASUREMENT, "cca-realm-initial-measurement",
		   msize ? msize : HASH_SIZE, true, NULL);
	if (!map_get(cl, CCA_REALM_EXTENSIBLE_MEASUREMENTS, &rems)) {
		vlog(v, false, "cca-realm-extensible-measurements (44239): missing");
	} else if (rems.major != MT_ARRAY || rems.val != CCA_REALM_NUM_REMS) {
		vlog(v, false, "cca-realm-extensible-measurements (44239): not an array of 4");
	} else {
		bool ok = true;
		const uint8_t *p;
		struct iter it;

		iter_init(&it, &rems);
		for (unsigned i = 0; i < CCA_REALM_NUM_REMS; i++)
			if (!iter_next(&it, &el) || !get_bytes(&el, &p, &n) ||
			    (msize ? n != msize : !is_hash_size(n)))
				ok = false;
		if (msize)
			vlog(v, ok, "cca-realm-extensible-measurements (44239): 4 byte strings of %zu bytes%s",
			     msize, ok ? "" : " expected");
		else
			vlog(v, ok, "cca-realm-extensible-measurements (44239): 4 byte strings of 32, 48 or 64 bytes%s",
			     ok ? "" : " expected");
	}
	*rak_claim = check_bstr(v, cl, CCA_REALM_PUB_KEY, "cca-realm-public-key", ANY_SIZE, true, rak_claim_len);
	if (*rak_claim)
		have_rak = realm_key(v, *rak_claim, *rak_claim_len, legacy, rak);
	if (check_text(v, cl, CCA_REALM_PUB_KEY_HASH_ALGO_ID, "cca-realm-public-key-hash-algo-id", true,
		       rak_hash, rak_hash_cap) && !hash_size_by_name(rak_hash)) {
		vlog(v, false, "cca-realm-public-key-hash-algo-id: \"%s\" is not sha-256, sha-384 or sha-512",
		     rak_hash);
		rak_hash[0] = 0;
	}
	if (c->sig_len != ATTEST_ES384_SIG_SIZE)
		vlog(v, false, "realm token: signature is %zu bytes, expected 96 (ES384 r || s)", c->sig_len);
	else if (have_rak && alg_ok)
		vlog(v, cose_verify(c, rak), "realm token: ES384 signature with the RAK (cca-realm-public-key)");
	else
		vlog(v, false, "realm token: signature not checked (no usable RAK or algorithm)");
}

static bool lifecycle_ok(int64_t lc)
{
	int64_t state = lc >> 8;

	return lc >= 0 && lc <= 0x60ff && (state == 0x00 || state == 0x10 || state == 0x20 ||
					   state == 0x30 || state == 0x40 || state == 0x50 || state == 0x60);
}

static void verify_sw_components(struct vctx *v, const struct item *cl)
{
	struct item sw, comp, a, b;
	struct iter sw_it, comp_it;
	size_t bad = 0, n;

	if (!map_get(cl, CCA_PLATFORM_SW_COMPONENTS, &sw)) {
		vlog(v, false, "cca-platform-sw-components (2399): missing");
		return;
	}
	if (sw.major != MT_ARRAY || sw.val == 0) {
		vlog(v, false, "cca-platform-sw-components (2399): not a non-empty array");
		return;
	}
	iter_init(&sw_it, &sw);
	for (size_t i = 0; i < sw.val && iter_next(&sw_it, &comp); i++) {
		const uint8_t *p;
		int64_t k;

		if (comp.major != MT_MAP) {
			vlog(v, false, "cca-platform-sw-components[%zu]: not a map", i);
			bad++;
			continue;
		}
		if (!map_get(&comp, CCA_SW_COMP_MEASUREMENT_VALUE, &a) || !get_bytes(&a, &p, &n) ||
		    !is_hash_size(n) || !map_get(&comp, CCA_SW_COMP_SIGNER_ID, &a) ||
		    !get_bytes(&a, &p, &n) || !is_hash_size(n)) {
			vlog(v, false, "cca-platform-sw-components[%zu]: measurement value (2) and signer id (5) "
				       "must be byte strings of 32, 48 or 64 bytes", i);
			bad++;
			continue;
		}
		iter_init(&comp_it, &comp);
		while (iter_pair(&comp_it, &a, &b)) {
			if (!get_int(&a, &k) || !name_of(sw_names, k)) {
				vlog(v, false, "cca-platform-sw-components[%zu]: unknown key", i);
				bad++;
				break;
			}
			if ((k == CCA_SW_COMP_TYPE || k == CCA_SW_COMP_VERSION || k == CCA_SW_COMP_HASH_ALGO_ID) &&
			    b.major != MT_TEXT) {
				vlog(v, false, "cca-platform-sw-components[%zu]: %s is not a text string", i,
				     name_of(sw_names, k));
				bad++;
				break;
			}
		}
	}
	if (!bad)
		vlog(v, true, "cca-platform-sw-components (2399): %zu components, each with a measurement "
			      "value and a signer id", (size_t)sw.val);
}

static void verify_platform(struct vctx *v, const struct cose *c, const uint8_t cpak[ATTEST_EC_POINT_SIZE],
			    const uint8_t **challenge, size_t *challenge_len)
{
	const struct item *cl = &c->claims;
	struct item a;
	char text[128];
	const uint8_t *inst;
	int64_t lc;
	bool alg_ok;

	check_keys(v, cl, platform_names, "platform");
	alg_ok = check_cose_header(v, c, "platform token");
	if (check_text(v, cl, CCA_PLATFORM_PROFILE, "cca-platform-profile", true, text, sizeof(text)) &&
	    strcmp(text, CCA_PLATFORM_PROFILE_STR) != 0)
		vlog(v, false, "cca-platform-profile: expected \"%s\"%s", CCA_PLATFORM_PROFILE_STR,
		     strcmp(text, LEGACY_PLATFORM_PROFILE) == 0 ? " (this is the pre-1.0 profile)" : "");
	*challenge = check_bstr(v, cl, CCA_PLATFORM_CHALLENGE, "cca-platform-challenge", HASH_SIZE, true,
				challenge_len);
	check_bstr(v, cl, CCA_PLATFORM_IMPLEMENTATION_ID, "cca-platform-implementation-id",
		   CCA_PLATFORM_IMPL_ID_SIZE, true, NULL);
	inst = check_bstr(v, cl, CCA_PLATFORM_INSTANCE_ID, "cca-platform-instance-id",
			  CCA_PLATFORM_INST_ID_SIZE, true, NULL);
	if (inst && inst[0] != 0x01)
		vlog(v, false, "cca-platform-instance-id: first byte 0x%02x, expected 0x01", inst[0]);
	check_bstr(v, cl, CCA_PLATFORM_CONFIG, "cca-platform-config", ANY_SIZE, true, NULL);
	if (!map_get(cl, CCA_PLATFORM_LIFECYCLE, &a))
		vlog(v, false, "cca-platform-lifecycle (2395): missing");
	else if (!get_int(&a, &lc) || !lifecycle_ok(lc))
		vlog(v, false, "cca-platform-lifecycle (2395): not an integer in a lifecycle range");
	else
		vlog(v, true, "cca-platform-lifecycle (2395): 0x%04llx", (long long)lc);
	verify_sw_components(v, cl);
	check_text(v, cl, CCA_PLATFORM_VERIFICATION_SERVICE, "cca-platform-verification-service", false,
		   text, sizeof(text));
	check_text(v, cl, CCA_PLATFORM_HASH_ALGO_ID, "cca-platform-hash-algo-id", true, text, sizeof(text));

	if (c->sig_len != ATTEST_ES384_SIG_SIZE)
		vlog(v, false, "platform token: signature is %zu bytes, expected 96 (ES384 r || s)", c->sig_len);
	else if (alg_ok)
		vlog(v, cose_verify(c, cpak), "platform token: ES384 signature with the CPAK");
	else
		vlog(v, false, "platform token: signature not checked (algorithm)");
	if (inst) {
		uint8_t h[ATTEST_MAX_HASH_SIZE];

		attest_hash_by_name("sha-256", cpak, ATTEST_EC_POINT_SIZE, h);
		vnote(v, "cca-platform-instance-id %s 0x01 || sha-256(CPAK) (rmmemu's convention)",
		      memcmp(inst + 1, h, 32) == 0 ? "==" : "!=");
	}
}

int token_verify_with_cpak(const uint8_t *tok, size_t len, const uint8_t cpak_pub[ATTEST_EC_POINT_SIZE],
			   FILE *report, char *err, size_t errlen)
{
	struct vctx v = { report, err, errlen, 0 };
	struct token t;
	uint8_t cpak[ATTEST_EC_POINT_SIZE], h[ATTEST_MAX_HASH_SIZE];
	const uint8_t *rak_claim = NULL, *challenge = NULL;
	size_t rak_claim_len = 0, challenge_len = 0, hn;
	char rak_hash[32] = "";
	char perr[160];

	if (err && errlen)
		err[0] = 0;
	if (!tok) {
		set_err(err, errlen, "no token");
		return 1;
	}
	if (cpak_pub) {
		memcpy(cpak, cpak_pub, sizeof(cpak));
	} else if (token_cpak_from_seed(attest_default_seed, cpak) != 0) {
		set_err(err, errlen, "cannot derive the default CPAK");
		return 1;
	}
	if (token_parse(tok, len, &t, perr, sizeof(perr)) != 0) {
		vlog(&v, false, "%s", perr);
		if (report)
			fprintf(report, "result: FAIL\n");
		return 1;
	}
	vlog(&v, true, "CCA token: tag 399 collection with a platform (44234) and a realm (44241) token");

	verify_realm(&v, &t.realm, &rak_claim, &rak_claim_len, rak_hash, sizeof(rak_hash));
	verify_platform(&v, &t.platform, cpak, &challenge, &challenge_len);

	if (!rak_claim || !challenge || !rak_hash[0]) {
		vlog(&v, false, "binding: not checked (claims missing)");
	} else {
		hn = attest_hash_by_name(rak_hash, rak_claim, rak_claim_len, h);
		vlog(&v, hn == challenge_len && memcmp(h, challenge, hn) == 0,
		     "binding: cca-platform-challenge == %s(cca-realm-public-key)", rak_hash);
	}
	if (report)
		fprintf(report, "result: %s\n", v.failures ? "FAIL" : "PASS");
	return v.failures ? 1 : 0;
}

int token_verify(const uint8_t *tok, size_t len, FILE *report, char *err, size_t errlen)
{
	return token_verify_with_cpak(tok, len, NULL, report, err, errlen);
}

int token_cpak_from_seed(const uint8_t seed[ATTEST_SEED_SIZE], uint8_t cpak_pub[ATTEST_EC_POINT_SIZE])
{
	struct attest_key k;
	int ret = attest_key_derive(&k, seed, "CPAK");

	if (ret == ATTEST_OK)
		memcpy(cpak_pub, k.pub, ATTEST_EC_POINT_SIZE);
	attest_key_wipe(&k);
	return ret == ATTEST_OK ? 0 : -1;
}

int token_cpak_from_pem(const char *path, uint8_t cpak_pub[ATTEST_EC_POINT_SIZE], char *err,
			size_t errlen)
{
	return attest_pub_load_pem(cpak_pub, path, err, errlen) == ATTEST_OK ? 0 : -1;
}

int token_read_file(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
	FILE *f;
	uint8_t *b;
	size_t n;
	int c;

	*buf = NULL;
	*len = 0;
	f = fopen(path, "rb");
	if (!f) {
		set_err(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	b = malloc(READ_MAX_SIZE);
	if (!b) {
		fclose(f);
		set_err(err, errlen, "out of memory");
		return -1;
	}
	n = fread(b, 1, READ_MAX_SIZE, f);
	c = fgetc(f);
	if (ferror(f) || c != EOF) {
		set_err(err, errlen, "%s: %s", path, c != EOF ? "larger than 1 MiB" : "read error");
		fclose(f);
		free(b);
		return -1;
	}
	fclose(f);
	*buf = b;
	*len = n;
	return 0;
}

/*
 * json.h — declarative validation of JSON request bodies and query parameters (jansson).
 *
 * Each getter looks up `key` in `obj` and returns:
 *   SP_OK       present and valid; *out set (strings point into obj: valid while obj lives)
 *   SP_NOTFOUND absent (or null with SP_NULLABLE) and not SP_REQUIRED; *out untouched
 *   SP_INVALID  wrong type, out of bounds, missing while required; `e` names the field
 */
#ifndef SP_JSON_H
#define SP_JSON_H

#include <jansson.h>
#include <stdint.h>

#include "util/common.h"

enum { SP_OPTIONAL = 0, SP_REQUIRED = 1, SP_NULLABLE = 2 };

int sp_json_string(const json_t *obj, const char *key, int flags, size_t minlen, size_t maxlen,
                   const char **out, struct sp_err *e);
int sp_json_int(const json_t *obj, const char *key, int flags, int64_t min, int64_t max,
                int64_t *out, struct sp_err *e);
int sp_json_bool(const json_t *obj, const char *key, int flags, int *out, struct sp_err *e);
/* values: NULL-terminated list of accepted strings. */
int sp_json_enum(const json_t *obj, const char *key, int flags, const char *const *values,
                 const char **out, struct sp_err *e);
/* An object or array member (type checked); *out is borrowed. */
int sp_json_object(const json_t *obj, const char *key, int flags, json_t **out, struct sp_err *e);
int sp_json_array(const json_t *obj, const char *key, int flags, json_t **out, struct sp_err *e);

/* Parse a decimal integer query parameter (whole string, no sign tricks) within [min,max].
 * Returns SP_OK or SP_INVALID (with e naming `field`). NULL s → SP_NOTFOUND. */
int sp_parse_int(const char *s, const char *field, int64_t min, int64_t max, int64_t *out,
                 struct sp_err *e);

/* 1 when s is valid UTF-8 of n bytes, no NUL inside. */
int sp_utf8_valid(const char *s, size_t n);

/* json_dumps into a heap string with compact output (never NULL). */
char *sp_json_dump(const json_t *j, size_t *len);

#endif

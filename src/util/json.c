#include "util/json.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int absent(const json_t *v, int flags, const char *key, struct sp_err *e)
{
    if (flags & SP_REQUIRED) {
        sp_err_set(e, key, "%s is required", key);
        return SP_INVALID;
    }
    SP_UNUSED(v);
    return SP_NOTFOUND;
}

static const json_t *lookup(const json_t *obj, const char *key, int flags, int *rc,
                            struct sp_err *e)
{
    const json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    if (!v || (json_is_null(v) && (flags & SP_NULLABLE))) {
        *rc = absent(v, flags, key, e);
        return NULL;
    }
    *rc = SP_OK;
    return v;
}

int sp_json_string(const json_t *obj, const char *key, int flags, size_t minlen, size_t maxlen,
                   const char **out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (!json_is_string(v)) {
        sp_err_set(e, key, "%s must be a string", key);
        return SP_INVALID;
    }
    const char *s = json_string_value(v);
    size_t n = json_string_length(v);
    if (strlen(s) != n) {
        sp_err_set(e, key, "%s must not contain NUL characters", key);
        return SP_INVALID;
    }
    if (n < minlen) {
        if (minlen == 1)
            sp_err_set(e, key, "%s must not be empty", key);
        else
            sp_err_set(e, key, "%s must be at least %zu characters", key, minlen);
        return SP_INVALID;
    }
    if (maxlen && n > maxlen) {
        sp_err_set(e, key, "%s must be at most %zu characters", key, maxlen);
        return SP_INVALID;
    }
    *out = s;
    return SP_OK;
}

int sp_json_int(const json_t *obj, const char *key, int flags, int64_t min, int64_t max,
                int64_t *out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (!json_is_integer(v)) {
        sp_err_set(e, key, "%s must be an integer", key);
        return SP_INVALID;
    }
    json_int_t x = json_integer_value(v);
    if (x < min || x > max) {
        sp_err_set(e, key, "%s must be between %lld and %lld", key, (long long)min,
                   (long long)max);
        return SP_INVALID;
    }
    *out = x;
    return SP_OK;
}

int sp_json_bool(const json_t *obj, const char *key, int flags, int *out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (!json_is_boolean(v)) {
        sp_err_set(e, key, "%s must be true or false", key);
        return SP_INVALID;
    }
    *out = json_is_true(v);
    return SP_OK;
}

int sp_json_enum(const json_t *obj, const char *key, int flags, const char *const *values,
                 const char **out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (json_is_string(v)) {
        for (const char *const *p = values; *p; p++) {
            if (strcmp(*p, json_string_value(v)) == 0) {
                *out = *p;
                return SP_OK;
            }
        }
    }
    char list[160] = "";
    size_t used = 0;
    for (const char *const *p = values; *p && used < sizeof list - 1; p++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", p == values ? "" : ", ", *p);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    sp_err_set(e, key, "%s must be one of: %s", key, list);
    return SP_INVALID;
}

int sp_json_object(const json_t *obj, const char *key, int flags, json_t **out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (!json_is_object(v)) {
        sp_err_set(e, key, "%s must be an object", key);
        return SP_INVALID;
    }
    *out = (json_t *)v;
    return SP_OK;
}

int sp_json_array(const json_t *obj, const char *key, int flags, json_t **out, struct sp_err *e)
{
    int rc;
    const json_t *v = lookup(obj, key, flags, &rc, e);
    if (!v)
        return rc;
    if (!json_is_array(v)) {
        sp_err_set(e, key, "%s must be an array", key);
        return SP_INVALID;
    }
    *out = (json_t *)v;
    return SP_OK;
}

int sp_parse_int(const char *s, const char *field, int64_t min, int64_t max, int64_t *out,
                 struct sp_err *e)
{
    if (!s)
        return SP_NOTFOUND;
    const char *p = s;
    if (*p == '-')
        p++;
    if (!*p || strlen(p) > 18)
        goto bad;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9')
            goto bad;
    errno = 0;
    long long v = strtoll(s, NULL, 10);
    if (errno || v < min || v > max)
        goto bad;
    *out = v;
    return SP_OK;
bad:
    sp_err_set(e, field, "%s must be an integer between %lld and %lld", field, (long long)min,
               (long long)max);
    return SP_INVALID;
}

int sp_utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char c = s[i];
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        }
        size_t len;
        unsigned int cp;
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        if (i + len > n)
            return 0;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return 0;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
        i += len;
    }
    return 1;
}

char *sp_json_dump(const json_t *j, size_t *len)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        s = sp_strdup("null");
    if (len)
        *len = strlen(s);
    return s;
}

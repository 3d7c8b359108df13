#include "util/alloc.h"
#include "util/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sp_err_set(struct sp_err *e, const char *field, const char *fmt, ...)
{
    if (!e)
        return;
    snprintf(e->field, sizeof e->field, "%s", field ? field : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

static _Noreturn void oom(size_t n)
{
    fprintf(stderr, "{\"level\":\"fatal\",\"msg\":\"out of memory\",\"bytes\":%zu}\n", n);
    abort();
}

void *sp_malloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *sp_calloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *sp_realloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

void *sp_mallocarray(size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    return sp_malloc(n * size);
}

void *sp_reallocarray(void *p, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    return sp_realloc(p, n * size);
}

char *sp_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sp_malloc(n);
    memcpy(d, s, n);
    return d;
}

char *sp_strndup(const char *s, size_t n)
{
    size_t len = strnlen(s, n);
    char *d = sp_malloc(len + 1);
    memcpy(d, s, len);
    d[len] = '\0';
    return d;
}

char *sp_asprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *out = NULL;
    int n = vasprintf(&out, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    return out;
}

void sp_free(void *p)
{
    free(p);
}

const char *sp_rc_name(int rc)
{
    switch (rc) {
    case SP_OK: return "ok";
    case SP_NOTFOUND: return "not_found";
    case SP_CONFLICT: return "conflict";
    case SP_INVALID: return "invalid";
    case SP_AGAIN: return "again";
    case SP_ERR: return "error";
    case SP_FORBIDDEN: return "forbidden";
    default: return "unknown";
    }
}

/*
 * router.c — compiled route patterns, bucketed by segment count and ordered by specificity.
 *
 * Matching splits the path once into segments, then walks the bucket with the same segment
 * count comparing literal segments by length + memcmp. With the ~80 routes of the API this is a
 * few hundred nanoseconds and touches no heap.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "util/alloc.h"

#define MAX_SEGS 16

enum { M_GET = 0, M_POST, M_PUT, M_PATCH, M_DELETE, M_COUNT };
static const char *const method_names[M_COUNT] = {"GET", "POST", "PUT", "PATCH", "DELETE"};

struct seg {
    const char *text; /* literal text or parameter name (both point into the pattern copy) */
    size_t len;
    int is_param;
};

struct croute {
    const struct sp_route *route;
    int method;
    int nseg;
    int nparams;
    int order;  /* position in the tables, for stable ordering */
    char *copy; /* pattern copy, segments point into it */
    struct seg segs[MAX_SEGS];
};

struct sp_router {
    struct croute *routes;
    size_t nroutes;
    /* bucket[n] = [first, first+count) in routes, all with n segments, most specific first */
    size_t first[MAX_SEGS + 1];
    size_t count[MAX_SEGS + 1];
};

static int method_index(const char *m)
{
    switch (m[0]) {
    case 'G':
        return strcmp(m, "GET") == 0 ? M_GET : -1;
    case 'H':
        return strcmp(m, "HEAD") == 0 ? M_GET : -1;
    case 'P':
        if (strcmp(m, "POST") == 0)
            return M_POST;
        if (strcmp(m, "PUT") == 0)
            return M_PUT;
        return strcmp(m, "PATCH") == 0 ? M_PATCH : -1;
    case 'D':
        return strcmp(m, "DELETE") == 0 ? M_DELETE : -1;
    default:
        return -1;
    }
}

static int valid_param_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
              (i > 0 && c >= '0' && c <= '9')))
            return 0;
    }
    return 1;
}

/* Split a pattern copy in place into segments; 0 or -1 with e filled. */
static int compile(struct croute *c, const struct sp_route *r, struct sp_err *e)
{
    const char *pat = r->pattern;
    if (!pat || pat[0] != '/') {
        sp_err_set(e, "pattern", "route %s %s: pattern must start with '/'", r->method,
                   pat ? pat : "(null)");
        return -1;
    }
    c->copy = sp_strdup(pat);
    char *p = c->copy + 1;
    if (*p == '\0')
        return 0; /* "/" */
    for (;;) {
        char *slash = strchr(p, '/');
        size_t len = slash ? (size_t)(slash - p) : strlen(p);
        if (len == 0) {
            sp_err_set(e, "pattern", "route %s %s: empty segment", r->method, pat);
            return -1;
        }
        if (c->nseg == MAX_SEGS) {
            sp_err_set(e, "pattern", "route %s %s: more than %d segments", r->method, pat,
                       MAX_SEGS);
            return -1;
        }
        struct seg *s = &c->segs[c->nseg++];
        if (p[0] == '{') {
            if (p[len - 1] != '}' || !valid_param_name(p + 1, len - 2)) {
                sp_err_set(e, "pattern", "route %s %s: bad parameter segment", r->method, pat);
                return -1;
            }
            if (c->nparams == SP_MAX_PARAMS) {
                sp_err_set(e, "pattern", "route %s %s: more than %d parameters", r->method, pat,
                           SP_MAX_PARAMS);
                return -1;
            }
            p[len - 1] = '\0';
            s->text = p + 1;
            s->len = len - 2;
            s->is_param = 1;
            c->nparams++;
        } else {
            if (memchr(p, '{', len) || memchr(p, '}', len)) {
                sp_err_set(e, "pattern", "route %s %s: braces inside a literal segment", r->method,
                           pat);
                return -1;
            }
            s->text = p;
            s->len = len;
        }
        if (!slash)
            break;
        *slash = '\0';
        p = slash + 1;
    }
    return 0;
}

/* Same segment count: literal before parameter at the first difference, then table order. */
static int cmp_routes(const void *a, const void *b)
{
    const struct croute *x = a, *y = b;
    if (x->nseg != y->nseg)
        return x->nseg - y->nseg;
    for (int i = 0; i < x->nseg; i++)
        if (x->segs[i].is_param != y->segs[i].is_param)
            return x->segs[i].is_param - y->segs[i].is_param;
    return x->order - y->order;
}

static int same_shape(const struct croute *x, const struct croute *y)
{
    if (x->nseg != y->nseg)
        return 0;
    for (int i = 0; i < x->nseg; i++) {
        if (x->segs[i].is_param != y->segs[i].is_param)
            return 0;
        if (!x->segs[i].is_param && (x->segs[i].len != y->segs[i].len ||
                                     memcmp(x->segs[i].text, y->segs[i].text, x->segs[i].len) != 0))
            return 0;
    }
    return 1;
}

struct sp_router *sp_router_new(const struct sp_route *const *tables, struct sp_err *e)
{
    size_t n = 0;
    for (const struct sp_route *const *t = tables; t && *t; t++)
        for (const struct sp_route *r = *t; r->method; r++)
            n++;
    struct sp_router *rt = sp_calloc(1, sizeof *rt);
    rt->routes = sp_calloc(n ? n : 1, sizeof *rt->routes);
    for (const struct sp_route *const *t = tables; t && *t; t++) {
        for (const struct sp_route *r = *t; r->method; r++) {
            struct croute *c = &rt->routes[rt->nroutes++];
            c->route = r;
            c->order = (int)rt->nroutes;
            c->method = method_index(r->method);
            if (c->method < 0 || strcmp(r->method, "HEAD") == 0) {
                sp_err_set(e, "method", "route %s %s: unsupported method", r->method,
                           r->pattern ? r->pattern : "(null)");
                goto fail;
            }
            if (!r->handler) {
                sp_err_set(e, "handler", "route %s %s: no handler", r->method,
                           r->pattern ? r->pattern : "(null)");
                goto fail;
            }
            if (compile(c, r, e) != 0)
                goto fail;
            for (size_t i = 0; i + 1 < rt->nroutes; i++) {
                if (rt->routes[i].method == c->method && same_shape(&rt->routes[i], c)) {
                    sp_err_set(e, "pattern", "route %s %s: declared twice (as %s)", r->method,
                               r->pattern, rt->routes[i].route->pattern);
                    goto fail;
                }
            }
        }
    }
    qsort(rt->routes, rt->nroutes, sizeof *rt->routes, cmp_routes);
    for (size_t i = 0; i < rt->nroutes; i++) {
        int k = rt->routes[i].nseg;
        if (rt->count[k] == 0)
            rt->first[k] = i;
        rt->count[k]++;
    }
    return rt;
fail:
    sp_router_free(rt);
    return NULL;
}

void sp_router_free(struct sp_router *rt)
{
    if (!rt)
        return;
    for (size_t i = 0; i < rt->nroutes; i++)
        sp_free(rt->routes[i].copy);
    sp_free(rt->routes);
    sp_free(rt);
}

static void allow_string(unsigned mask, char *out, size_t outlen)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < M_COUNT; i++) {
        if (!(mask & (1u << i)))
            continue;
        int w = snprintf(out + used, outlen - used, "%s%s%s", used ? ", " : "", method_names[i],
                         i == M_GET ? ", HEAD" : "");
        if (w < 0 || (size_t)w >= outlen - used)
            return;
        used += (size_t)w;
    }
}

int sp_router_match(const struct sp_router *rt, const char *method, const char *path, char *scratch,
                    size_t scratch_len, struct sp_route_match *m)
{
    m->route = NULL;
    m->nparams = 0;
    m->allow[0] = '\0';
    if (!path || path[0] != '/')
        return SP_MATCH_NOT_FOUND;

    /* split the path into segments: [start, len) pairs */
    const char *seg_start[MAX_SEGS];
    size_t seg_len[MAX_SEGS];
    int nseg = 0;
    size_t plen = strlen(path);
    if (plen > 2 && path[plen - 1] == '/' && path[plen - 2] != '/')
        plen--; /* "/api/x/" is "/api/x"; "//" stays an empty segment */
    size_t i = 1;
    while (i < plen) {
        size_t j = i;
        while (j < plen && path[j] != '/')
            j++;
        if (j == i || nseg == MAX_SEGS)
            return SP_MATCH_NOT_FOUND; /* "//" or too deep */
        seg_start[nseg] = path + i;
        seg_len[nseg] = j - i;
        nseg++;
        i = j + 1;
    }

    int want = method_index(method);
    unsigned allow = 0;
    const struct croute *found = NULL;
    const struct croute *c = rt->routes + rt->first[nseg];
    for (size_t k = 0; k < rt->count[nseg]; k++, c++) {
        int ok = 1;
        for (int s = 0; s < nseg; s++) {
            const struct seg *sg = &c->segs[s];
            if (!sg->is_param &&
                (sg->len != seg_len[s] || memcmp(sg->text, seg_start[s], seg_len[s]) != 0)) {
                ok = 0;
                break;
            }
        }
        if (!ok)
            continue;
        if (c->method == want) {
            found = c;
            break;
        }
        allow |= 1u << c->method;
    }
    if (!found) {
        if (!allow)
            return SP_MATCH_NOT_FOUND;
        allow_string(allow, m->allow, sizeof m->allow);
        return SP_MATCH_BAD_METHOD;
    }

    size_t used = 0;
    for (int s = 0; s < nseg; s++) {
        if (!found->segs[s].is_param)
            continue;
        if (used + seg_len[s] + 1 > scratch_len)
            return SP_MATCH_NOT_FOUND;
        memcpy(scratch + used, seg_start[s], seg_len[s]);
        scratch[used + seg_len[s]] = '\0';
        m->params[m->nparams].name = found->segs[s].text;
        m->params[m->nparams].value = scratch + used;
        m->nparams++;
        used += seg_len[s] + 1;
    }
    m->route = found->route;
    return SP_MATCH_FOUND;
}

static struct sp_router *global_router;

int sp_router_init(struct sp_err *e)
{
    if (global_router)
        return SP_OK;
    global_router = sp_router_new(sp_api_tables, e);
    return global_router ? SP_OK : SP_ERR;
}

const struct sp_router *sp_router_global(void)
{
    return global_router;
}

void sp_router_shutdown(void)
{
    sp_router_free(global_router);
    global_router = NULL;
}

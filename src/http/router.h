/*
 * router.h — (method, path) → route, with {name} path parameters.
 *
 * Patterns are compiled once (sp_router_new); matching allocates nothing. Among the routes whose
 * pattern matches a path, the most specific one wins: at the first segment where two patterns
 * differ, a literal beats a {param} (so "/api/rules/scenerules" wins over "/api/rules/{id}");
 * ties keep table order. HEAD is matched as GET. One trailing slash is ignored ("/api/x/").
 */
#ifndef SP_ROUTER_H
#define SP_ROUTER_H

#include <stddef.h>

#include "http/http.h"
#include "util/common.h"

struct sp_router;

enum sp_match_result {
    SP_MATCH_FOUND = 0,      /* m->route is the route, params filled */
    SP_MATCH_NOT_FOUND = 1,  /* no pattern matches the path */
    SP_MATCH_BAD_METHOD = 2, /* some pattern matches but not for this method; m->allow lists them */
};

struct sp_route_match {
    const struct sp_route *route; /* NULL unless SP_MATCH_FOUND */
    int nparams;
    struct {
        const char *name;  /* the pattern's {name} (static) */
        const char *value; /* points into the caller's scratch buffer */
    } params[SP_MAX_PARAMS];
    char allow[96]; /* BAD_METHOD only: every method serving the path, "GET, HEAD, PUT" */
};

/* Compile every route of `tables` (NULL-terminated list of tables, each ending with a row whose
 * method is NULL). Returns NULL with e filled when a pattern is malformed (no leading '/', empty
 * segment, bad {name}, more than SP_MAX_PARAMS params), a method is unknown, a handler is NULL or
 * the same method+pattern appears twice. The tables must outlive the router. */
struct sp_router *sp_router_new(const struct sp_route *const *tables, struct sp_err *e);
void sp_router_free(struct sp_router *rt);

/* Match `method` + decoded `path` (no query string). Parameter values are copied, NUL-terminated,
 * into `scratch` (strlen(path) + 1 bytes are always enough). Returns an sp_match_result.
 * Thread-safe: the router is read-only after sp_router_new. */
int sp_router_match(const struct sp_router *rt, const char *method, const char *path, char *scratch,
                    size_t scratch_len, struct sp_route_match *m);

/* The process router, compiled from sp_api_tables (api/routes.c). sp_router_init is called by
 * sp_server_start; SP_OK or SP_ERR (a malformed table: e says which route). */
int sp_router_init(struct sp_err *e);
const struct sp_router *sp_router_global(void);
void sp_router_shutdown(void);

#endif

/*
 * api.h — the route tables, one per resource file. Each table ends with {0}.
 * api/routes.c lists the tables the router serves.
 */
#ifndef SP_API_H
#define SP_API_H

#include "http/http.h"

/* NULL-terminated list of route tables. */
extern const struct sp_route *const sp_api_tables[];

/* http/static.c: GET / (UI), GET /{file} (top-level UI assets), GET /api/openapi.yaml */
extern const struct sp_route sp_routes_static[];

/* api/auth.c: /api/auth/{login,refresh,logout,me} */
extern const struct sp_route sp_routes_auth[];
/* api/permissions.c: GET /api/permissions */
extern const struct sp_route sp_routes_permissions[];

/* api/metrics.c: GET /metrics (Prometheus text) */
extern const struct sp_route sp_routes_metrics[];

#endif

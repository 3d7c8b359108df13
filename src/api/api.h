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

/* api/releases.c: GET /api/releases, GET/PUT/DELETE /api/releases/{id} */
extern const struct sp_route sp_routes_releases[];
/* api/wizard.c: POST /api/wizard/create (alias /draft), GET /api/wizard/rules */
extern const struct sp_route sp_routes_wizard[];
/* api/rules.c: /api/rules CRUD, GET /api/rules/{id}/spec */
extern const struct sp_route sp_routes_rules[];
/* api/dashboard.c: GET /api/dashboard/stats */
extern const struct sp_route sp_routes_dashboard[];
/* api/groups.c: GET /api/groups */
extern const struct sp_route sp_routes_groups[];
/* api/health.c: GET /api/health, GET /api/health/ready */
extern const struct sp_route sp_routes_health[];
/* api/users.c: /api/users CRUD (+ self-service password/note) */
extern const struct sp_route sp_routes_users[];
/* api/roles.c: /api/roles CRUD */
extern const struct sp_route sp_routes_roles[];
/* api/configs.c: /api/config CRUD, GET /api/config/key/{key} */
extern const struct sp_route sp_routes_configs[];
/* api/audit.c: GET /api/audit */
extern const struct sp_route sp_routes_audit[];
/* api/jobs.c: GET /api/jobs, GET /api/jobs/{id}, .../logs, .../status, PUT .../cancel */
extern const struct sp_route sp_routes_jobs[];
/* api/wizard_steps.c: wizard steps 4-9 (/api/wizard/{id}/...) */
extern const struct sp_route sp_routes_wizard_steps[];
/* api/release_actions.c: release files, NFO, actions (/api/releases/{id}/...) */
extern const struct sp_route sp_routes_release_actions[];
/* "METHOD pattern" of the routes whose multipart bodies are streamed to disk (http/upload.c);
 * NULL-terminated (api/wizard_steps.c). */
extern const char *const sp_api_upload_routes[];

#endif

/* routes.c — every route table the server serves. Add one line per resource file. */
#include "api/api.h"

const struct sp_route *const sp_api_tables[] = {
    sp_routes_auth,
    sp_routes_permissions,
    sp_routes_metrics,
    sp_routes_releases,
    sp_routes_wizard,
    sp_routes_rules,
    sp_routes_dashboard,
    sp_routes_groups,
    sp_routes_health,
    sp_routes_users,
    sp_routes_roles,
    sp_routes_configs,
    sp_routes_audit,
    sp_routes_jobs,
    sp_routes_wizard_steps,
    sp_routes_release_actions,
    sp_routes_static,
    NULL,
};

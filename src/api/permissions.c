/*
 * permissions.c — GET /api/permissions: every permission row, for role editors.
 */
#include "api/api.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"

/* GET /api/permissions → 200 {permissions: [{id, resource, action, name, description}]}. */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    SP_UNUSED(r);
    struct sp_permission *ps = NULL;
    int n = 0;
    struct sp_db *db = sp_db_thread();
    int rc = db ? sp_store_permissions_list(db, &ps, &n) : SP_ERR;
    if (rc != SP_OK) {
        struct sp_err e;
        sp_err_set(&e, "",
                   rc == SP_AGAIN ? "database busy, try again" : "could not list permissions");
        sp_resp_rc(resp, rc == SP_AGAIN ? SP_AGAIN : SP_ERR, &e);
        return SP_OK;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, sp_permission_json(&ps[i]));
    sp_free(ps);
    sp_resp_json(resp, 200, json_pack("{s:o}", "permissions", arr));
    return SP_OK;
}

const struct sp_route sp_routes_permissions[] = {
    {"GET", "/api/permissions", h_list, SP_AUTH_USER, -1, -1},
    {0},
};

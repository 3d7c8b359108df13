/*
 * permissions.c — GET /api/permissions: every permission row, for role editors.
 */
#include "api/api.h"
#include "api/common.h"
#include "store/db.h"
#include "store/users.h"
#include "util/alloc.h"

/* GET /api/permissions[?page=&per_page=] → 200 {permissions: [{id, resource, action, name,
 * description}], pagination}. The catalogue is small and fixed (7 resources × 4 actions), so
 * per_page defaults to the maximum (100) and one page holds it all; page/per_page are still
 * honoured and validated like every other list. */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    int64_t page = 1, per_page = SP_API_PER_PAGE_MAX;
    if (sp_api_query_int(r, resp, "page", 1, SP_API_PAGE_MAX, &page) == SP_INVALID ||
        sp_api_query_int(r, resp, "per_page", 1, SP_API_PER_PAGE_MAX, &per_page) == SP_INVALID)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_permission *ps = NULL;
    int n = 0;
    int rc = sp_store_permissions_list(db, &ps, &n);
    if (rc != SP_OK) {
        struct sp_err e;
        sp_err_set(&e, "",
                   rc == SP_AGAIN ? "the database is busy, try again"
                                  : "could not list permissions");
        sp_resp_rc(resp, rc == SP_AGAIN ? SP_AGAIN : SP_ERR, &e);
        return SP_OK;
    }
    json_t *arr = json_array();
    int64_t first = (page - 1) * per_page;
    for (int64_t i = first; i < n && i < first + per_page; i++)
        json_array_append_new(arr, sp_permission_json(&ps[i]));
    sp_free(ps);
    sp_resp_json(resp, 200,
                 json_pack("{s:o, s:o}", "permissions", arr, "pagination",
                           sp_api_pagination(page, per_page, n)));
    return SP_OK;
}

const struct sp_route sp_routes_permissions[] = {
    {"GET", "/api/permissions", h_list, SP_AUTH_USER, -1, -1},
    {0},
};

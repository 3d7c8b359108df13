/*
 * groups.c — GET /api/groups: release groups with their number of releases.
 */
#include "api/api.h"
#include "api/common.h"
#include "auth/permissions.h"
#include "store/groups.h"

/* GET /api/groups?search= → 200 {groups: [{id, name, release_count, created_at}], pagination}
 * ordered by name. */
static int h_list(struct sp_request *req, struct sp_response *resp)
{
    int64_t page, per_page;
    const char *search = NULL;
    if (sp_api_page(req, resp, &page, &per_page) != SP_OK ||
        sp_api_query_text(req, resp, "search", 200, &search) == SP_INVALID)
        return SP_OK;
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_group_list list;
    int rc = sp_store_group_list(db, search, page, per_page, &list);
    if (rc != SP_OK) {
        sp_resp_rc(resp, rc, NULL);
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.n; i++) {
        const struct sp_group *g = &list.items[i];
        json_array_append_new(items, json_pack("{s:I, s:o, s:I, s:o}", "id", (json_int_t)g->id,
                                               "name", sp_api_str_or_null(g->name), "release_count",
                                               (json_int_t)g->release_count, "created_at",
                                               sp_api_time(g->created_at)));
    }
    json_t *body = json_pack("{s:o, s:o}", "groups", items, "pagination",
                             sp_api_pagination(page, per_page, list.total));
    sp_group_list_free(&list);
    sp_resp_json(resp, 200, body);
    return SP_OK;
}

const struct sp_route sp_routes_groups[] = {
    {"GET", "/api/groups", h_list, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_READ},
    {0},
};

/*
 * releases.c — GET /api/releases (list), GET/PUT/DELETE /api/releases/{id}.
 *
 * Reading needs releases:read (or owning the release); changing someone else's release needs
 * releases:mod, deleting it releases:delete or releases:mod. Owners have full rights on their
 * own releases.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "store/releases.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

static const char *const sort_orders[] = {"desc", "asc", NULL};

/* First pages of lists without search are cached (they are what the UI and the load plan
 * ask for); deeper pages and searches go to the database every time. */
#define LIST_CACHE_PAGES 5
#define SEARCH_MAX 200

/* GET /api/releases → 200 {releases: [Release], pagination}. */
static int h_list(struct sp_request *req, struct sp_response *resp)
{
    struct sp_release_query q = {0};
    const char *sort_by = sp_release_sorts[SP_RSORT_CREATED], *order = "desc";
    bool mine = false;
    if (sp_api_page(req, resp, &q.page, &q.per_page) != SP_OK ||
        sp_api_query_enum(req, resp, "release_type", sp_release_types, &q.release_type) ==
            SP_INVALID ||
        sp_api_query_enum(req, resp, "status", sp_release_statuses, &q.status) == SP_INVALID ||
        sp_api_query_int(req, resp, "user_id", 1, INT64_MAX, &q.user_id) == SP_INVALID ||
        sp_api_query_int(req, resp, "group_id", 1, INT64_MAX, &q.group_id) == SP_INVALID ||
        sp_api_query_bool(req, resp, "mine", &mine) == SP_INVALID ||
        sp_api_query_text(req, resp, "search", SEARCH_MAX, &q.search) == SP_INVALID ||
        sp_api_query_enum(req, resp, "sort_by", sp_release_sorts, &sort_by) == SP_INVALID ||
        sp_api_query_enum(req, resp, "sort_order", sort_orders, &order) == SP_INVALID)
        return SP_OK;
    for (int i = 0; sp_release_sorts[i]; i++)
        if (sp_release_sorts[i] == sort_by)
            q.sort = i;
    q.desc = order == sort_orders[0];

    if (mine) {
        if (q.user_id && q.user_id != req->principal.user_id) {
            /* mine=1 and someone else's user_id: nothing can match both. */
            json_t *body = json_pack("{s:[], s:o}", "releases", "pagination",
                                     sp_api_pagination(q.page, q.per_page, 0));
            sp_resp_json(resp, 200, body);
            return SP_OK;
        }
        q.user_id = req->principal.user_id;
    }

    /* The body depends only on the query (mine=1 is the same as user_id=<caller>), never on
     * who asks, so one entry serves every caller. */
    char key[200];
    bool cacheable = !q.search && q.page <= LIST_CACHE_PAGES;
    if (cacheable) {
        snprintf(key, sizeof key, "releases:%llu:%s:%s:%lld:%lld:%d%c:%lld:%lld",
                 (unsigned long long)sp_api_gen(req, SP_GEN_RELEASES),
                 q.release_type ? q.release_type : "", q.status ? q.status : "",
                 (long long)q.user_id, (long long)q.group_id, q.sort, q.desc ? 'd' : 'a',
                 (long long)q.page, (long long)q.per_page);
        if (sp_api_cache_serve(req, resp, key))
            return SP_OK;
    }

    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_release_list list;
    int rc = sp_store_release_list(db, &q, &list);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "releases");
        return SP_OK;
    }
    /* Written straight as text (see sp_api_release_write): no jansson tree per row. */
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, 160 + list.n * 700);
    sp_buf_puts(&b, "{\"releases\":[");
    for (size_t i = 0; i < list.n; i++) {
        if (i)
            sp_buf_putc(&b, ',');
        sp_api_release_write(&b, &list.items[i]);
    }
    sp_buf_puts(&b, "],\"pagination\":");
    sp_api_pagination_write(&b, q.page, q.per_page, list.total);
    if (list.total_is_estimate) { /* searches with many matches: see sp_store_release_list */
        b.len--; /* reopen the pagination object */
        sp_buf_puts(&b, ",\"total_is_estimate\":true}");
    }
    sp_buf_putc(&b, '}');
    sp_release_list_free(&list);
    if (cacheable) {
        struct sp_shared_bytes *bytes = sp_api_cache_put(req, key, b.data, b.len);
        sp_buf_free(&b);
        sp_resp_shared(resp, 200, bytes);
        sp_shared_unref(bytes);
    } else {
        size_t len = b.len;
        sp_resp_take(resp, 200, "application/json", sp_buf_steal(&b), len);
    }
    return SP_OK;
}

/* Load release {id} into r, answering 404/503 when it cannot. SP_OK or the failure. */
static int load(struct sp_request *req, struct sp_response *resp, struct sp_db **db,
                struct sp_release *r)
{
    return sp_api_release_load(req, resp, -1, NULL, db, r);
}

/* GET /api/releases/{id} → 200 Release. */
static int h_get(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r;
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    if (!sp_api_owner_or(req, r.user_id, SP_RES_RELEASES, SP_ACT_READ)) {
        sp_api_forbidden(resp, "read this release");
    } else {
        struct sp_buf b = SP_BUF_INIT;
        sp_buf_reserve(&b, 1024);
        sp_api_release_write(&b, &r);
        size_t len = b.len;
        sp_resp_take(resp, 200, "application/json", sp_buf_steal(&b), len);
    }
    sp_release_clear(&r);
    return SP_OK;
}

/*
 * PUT /api/releases/{id} {release_metadata?, config?, status?, rule_id?} → 200 Release.
 * release_metadata is merged field by field (null removes a field); config (validated, see
 * sp_api_release_config_check) replaces the stored options. `status` may only repeat the
 * current one: a release is queued by POST /api/wizard/{id}/finalize (or an action), which
 * creates its packaging job in the same transaction, and only that job moves it on; a release
 * a PUT had queued would wait for a job nobody created. Any other status → 409.
 */
static int h_update(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r, updated;
    struct sp_release_patch p = {0};
    json_t *meta_patch = NULL, *stored_meta = NULL, *meta = NULL, *config = NULL, *rule;
    struct sp_err e = {{0}, {0}};
    int rc;
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    if (!sp_api_owner_or(req, r.user_id, SP_RES_RELEASES, SP_ACT_MOD)) {
        sp_api_forbidden(resp, "change another user's release");
        goto out;
    }

    if (sp_json_object(req->json, "release_metadata", SP_OPTIONAL, &meta, &e) == SP_INVALID ||
        sp_json_object(req->json, "config", SP_OPTIONAL, &config, &e) == SP_INVALID ||
        sp_json_enum(req->json, "status", SP_OPTIONAL, sp_release_statuses, &p.status, &e) ==
            SP_INVALID)
        goto invalid;
    rule = json_object_get(req->json, "rule_id");
    if (rule) {
        p.set_rule = true;
        if (!json_is_null(rule) &&
            sp_json_int(req->json, "rule_id", SP_REQUIRED, 1, INT64_MAX, &p.rule_id, &e) != SP_OK)
            goto invalid;
    }
    if (meta) {
        meta_patch = json_deep_copy(meta);
        stored_meta = sp_api_json_object_text(r.release_metadata);
        if (sp_api_release_metadata_check(meta_patch, stored_meta, "release_metadata", &e) != SP_OK)
            goto invalid;
        p.metadata = meta_patch;
    }
    if (config) {
        if (sp_api_release_config_check(config, &e) != SP_OK)
            goto invalid;
        p.config = config;
    }

    if (p.status && strcmp(p.status, r.status) != 0) {
        sp_err_set(&e, "status",
                   "release %lld is %s: its status is changed by its packaging job, not by PUT; "
                   "to package a draft use POST /api/wizard/%lld/finalize",
                   (long long)r.id, r.status, (long long)r.id);
        sp_api_fail(resp, SP_CONFLICT, &e, "release");
        goto out;
    }

    rc = sp_store_release_update(db, r.id, &p, sp_time_now(), &updated, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        goto out;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200, sp_api_release_json(&updated));
    sp_release_clear(&updated);
    goto out;
invalid:
    sp_resp_rc(resp, SP_INVALID, &e);
out:
    json_decref(meta_patch);
    json_decref(stored_meta);
    sp_release_clear(&r);
    return SP_OK;
}

/* DELETE /api/releases/{id} → 200 {message}; 409 while one of its jobs runs. */
static int h_delete(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_release r, old;
    struct sp_err e = {{0}, {0}};
    if (load(req, resp, &db, &r) != SP_OK)
        return SP_OK;
    if (!sp_api_owner_or(req, r.user_id, SP_RES_RELEASES, SP_ACT_DELETE) &&
        !sp_api_can(req, SP_RES_RELEASES, SP_ACT_MOD)) {
        sp_api_forbidden(resp, "delete another user's release");
        sp_release_clear(&r);
        return SP_OK;
    }
    int rc = sp_store_release_delete(db, r.id, &old, &e);
    sp_release_clear(&r);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        return SP_OK;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    /* The row is gone; leftover files are logged, never a failure of the request. */
    (void)sp_store_release_remove_files(req->app ? req->app->cfg.data_dir : NULL, &old);
    char msg[320];
    snprintf(msg, sizeof msg, "release %lld deleted", (long long)old.id);
    sp_release_clear(&old);
    sp_resp_json(resp, 200, json_pack("{s:s}", "message", msg));
    return SP_OK;
}

const struct sp_route sp_routes_releases[] = {
    {"GET", "/api/releases", h_list, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_READ},
    {"GET", "/api/releases/{id}", h_get, SP_AUTH_USER, -1, -1},
    {"PUT", "/api/releases/{id}", h_update, SP_AUTH_USER, -1, -1},
    {"DELETE", "/api/releases/{id}", h_delete, SP_AUTH_USER, -1, -1},
    {0},
};

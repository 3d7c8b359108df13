/*
 * dashboard.c — GET /api/dashboard/stats.
 *
 * The global figures (from the trigger-kept counter tables) are serialised once per
 * generation of releases and jobs and cached as bytes; the caller's own figures are appended
 * and the whole body is cached under a key naming the caller (and both generations), so a
 * repeated request costs no query and no serialisation. Per-user bodies are never shared.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "cache/cache.h"
#include "store/dashboard.h"
#include "store/releases.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"

/* The global part as a JSON object text without its closing brace:
 * {"total_releases":…,"total_jobs":…,"jobs_running":…,"releases_by_status":{…},
 *  "releases_by_type":{…},"recent_releases":[…]   (heap string). */
static char *global_fragment(const struct sp_dash_global *g, size_t *len)
{
    json_t *by_status = json_object();
    for (int i = 0; i < SP_RELEASE_NSTATUS; i++)
        json_object_set_new(by_status, sp_release_statuses[i], json_integer(g->by_status[i]));
    json_t *by_type = json_object();
    for (int i = 0; i < g->ntypes; i++)
        json_object_set_new(by_type, g->by_type[i].type, json_integer(g->by_type[i].n));
    json_t *recent = json_array();
    for (int i = 0; i < g->nrecent; i++) {
        const struct sp_dash_recent *r = &g->recent[i];
        json_t *o = json_object();
        json_object_set_new(o, "id", json_integer(r->id));
        json_object_set_new(o, "name", r->has_name ? sp_api_str_or_null(r->name) : json_null());
        json_object_set_new(o, "group", sp_api_str_or_null(r->group));
        json_object_set_new(o, "status", sp_api_str_or_null(r->status));
        json_object_set_new(o, "release_type", sp_api_str_or_null(r->release_type));
        json_object_set_new(o, "created_at", sp_api_time(r->created_at));
        json_array_append_new(recent, o);
    }
    json_t *body = json_pack("{s:I, s:I, s:I, s:o, s:o, s:o}", "total_releases",
                             (json_int_t)g->total_releases, "total_jobs", (json_int_t)g->total_jobs,
                             "jobs_running", (json_int_t)g->jobs_running, "releases_by_status",
                             by_status, "releases_by_type", by_type, "recent_releases", recent);
    char *text = sp_json_dump(body, len);
    json_decref(body);
    if (*len && text[*len - 1] == '}')
        text[--*len] = '\0';
    return text;
}

/* GET /api/dashboard/stats → 200 {total_releases, total_jobs, jobs_running,
 * releases_by_status, releases_by_type, recent_releases, user_releases, user_jobs, user}. */
static int h_stats(struct sp_request *req, struct sp_response *resp)
{
    unsigned long long gen_releases = sp_api_gen(req, SP_GEN_RELEASES);
    unsigned long long gen_jobs = sp_api_gen(req, SP_GEN_JOBS);
    /* The whole body for this caller: the user's own figures change only with the same two
     * generations, and the username is in the key (it is in the body). */
    char ukey[160];
    snprintf(ukey, sizeof ukey, "dashboard:%llu:%llu:u%lld:%.64s", gen_releases, gen_jobs,
             (long long)req->principal.user_id, req->principal.username);
    if (sp_api_cache_serve(req, resp, ukey))
        return SP_OK;
    char key[96];
    snprintf(key, sizeof key, "dashboard:%llu:%llu", gen_releases, gen_jobs);
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_shared_bytes *global = sp_api_cache_get(req, key);
    if (!global) {
        struct sp_dash_global *g = sp_malloc(sizeof *g);
        int rc = sp_store_dashboard_global(db, g);
        if (rc != SP_OK) {
            sp_free(g);
            sp_resp_rc(resp, rc, NULL);
            return SP_OK;
        }
        size_t len;
        char *text = global_fragment(g, &len);
        sp_free(g);
        global = sp_api_cache_put(req, key, text, len);
        sp_free(text);
    }

    int64_t user_releases = 0, user_jobs = 0;
    int rc = sp_store_dashboard_user(db, req->principal.user_id, &user_releases, &user_jobs);
    if (rc != SP_OK) {
        sp_shared_unref(global);
        sp_resp_rc(resp, rc, NULL);
        return SP_OK;
    }
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_reserve(&b, global->len + 160);
    sp_buf_append(&b, global->data, global->len);
    sp_shared_unref(global);
    sp_buf_printf(&b, ",\"user_releases\":%lld,\"user_jobs\":%lld,\"user\":{\"id\":%lld,",
                  (long long)user_releases, (long long)user_jobs,
                  (long long)req->principal.user_id);
    sp_buf_puts(&b, "\"username\":");
    sp_buf_json_str(&b, req->principal.username);
    sp_buf_puts(&b, "}}");
    struct sp_shared_bytes *body = sp_api_cache_put(req, ukey, b.data, b.len);
    sp_buf_free(&b);
    sp_resp_shared(resp, 200, body);
    sp_shared_unref(body);
    return SP_OK;
}

const struct sp_route sp_routes_dashboard[] = {
    {"GET", "/api/dashboard/stats", h_stats, SP_AUTH_USER, -1, -1},
    {0},
};

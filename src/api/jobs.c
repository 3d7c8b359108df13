/*
 * jobs.c — the packaging jobs of API.md:
 *   GET /api/jobs                  own jobs (everyone's with jobs:mod); filters status, job_type,
 *                                  release_id; newest first, paginated
 *   GET /api/jobs/{id}             one job (its owner, or jobs:read)
 *   GET /api/jobs/{id}/logs        its log lines after ?since=<line>
 *   GET /api/jobs/{id}/status      {job_id, status, progress, step, updated_at} for polling
 *   PUT /api/jobs/{id}/cancel      pending/running → cancelled (its owner, or jobs:mod); a job
 *                                  already completed, failed or cancelled → 409
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "jobs/runner.h"
#include "store/jobs.h"
#include "util/json.h"
#include "util/time.h"

static json_t *job_json(const struct sp_job *j)
{
    json_t *params = j->params ? json_loads(j->params, 0, NULL) : NULL;
    if (!json_is_object(params)) {
        json_decref(params);
        params = json_object();
    }
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "release_id", sp_api_id_or_null(j->release_id));
    json_object_set_new(o, "user_id", json_integer(j->user_id));
    json_object_set_new(o, "job_type", json_string(j->job_type));
    json_object_set_new(o, "status", json_string(j->status));
    json_object_set_new(o, "progress", json_integer(j->progress));
    json_object_set_new(o, "step", json_string(j->step));
    json_object_set_new(o, "params", params);
    json_object_set_new(o, "error", sp_api_str_or_null(j->error));
    json_object_set_new(o, "attempts", json_integer(j->attempts));
    json_object_set_new(o, "created_at", sp_api_time(j->created_at));
    json_object_set_new(o, "updated_at", sp_api_time(j->updated_at));
    json_object_set_new(o, "started_at", j->started_at ? sp_api_time(j->started_at) : json_null());
    json_object_set_new(o, "finished_at",
                        j->finished_at ? sp_api_time(j->finished_at) : json_null());
    return o;
}

/* GET /api/jobs → 200 {jobs: [Job], pagination}. */
static int h_list(struct sp_request *req, struct sp_response *resp)
{
    struct sp_job_query q = {0};
    if (sp_api_page(req, resp, &q.page, &q.per_page) != SP_OK ||
        sp_api_query_enum(req, resp, "status", sp_job_statuses, &q.status) == SP_INVALID ||
        sp_api_query_enum(req, resp, "job_type", sp_job_types, &q.job_type) == SP_INVALID ||
        sp_api_query_int(req, resp, "release_id", 1, INT64_MAX, &q.release_id) == SP_INVALID)
        return SP_OK;
    if (!sp_api_can(req, SP_RES_JOBS, SP_ACT_MOD))
        q.user_id = req->principal.user_id;
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_job_list list;
    int rc = sp_store_job_list(db, &q, &list);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "job");
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, job_json(&list.items[i]));
    json_t *body = json_pack("{s:o, s:o}", "jobs", items, "pagination",
                             sp_api_pagination(q.page, q.per_page, list.total));
    sp_job_list_free(&list);
    sp_resp_json(resp, 200, body);
    return SP_OK;
}

/* Load job {id} readable by the caller (owner, or resource:action); answers 404/403/503 else. */
static int load(struct sp_request *req, struct sp_response *resp, int action, struct sp_db **db,
                struct sp_job *j)
{
    int64_t id;
    if (sp_api_param_id(req, resp, "id", "job", &id) != SP_OK)
        return SP_NOTFOUND;
    *db = sp_api_db(req, resp);
    if (!*db)
        return SP_AGAIN;
    int rc = sp_store_job_get(*db, id, j);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "job");
        return rc;
    }
    if (!sp_api_owner_or(req, j->user_id, SP_RES_JOBS, action)) {
        sp_api_forbidden(resp, action == SP_ACT_READ ? "see another user's job"
                                                     : "cancel another user's job");
        sp_job_clear(j);
        return SP_FORBIDDEN;
    }
    return SP_OK;
}

/* GET /api/jobs/{id} → 200 Job. */
static int h_get(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_job j;
    if (load(req, resp, SP_ACT_READ, &db, &j) != SP_OK)
        return SP_OK;
    sp_resp_json(resp, 200, job_json(&j));
    sp_job_clear(&j);
    return SP_OK;
}

/* GET /api/jobs/{id}/status → 200 {job_id, status, progress, step, updated_at}. */
static int h_status(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_job j;
    if (load(req, resp, SP_ACT_READ, &db, &j) != SP_OK)
        return SP_OK;
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:s, s:i, s:s, s:o}", "job_id", (json_int_t)j.id, "status",
                           j.status, "progress", j.progress, "step", j.step, "updated_at",
                           sp_api_time(j.updated_at)));
    sp_job_clear(&j);
    return SP_OK;
}

/* GET /api/jobs/{id}/logs?since=<line> → 200 {job_id, logs: [{line, level, message,
 * created_at}], pagination}; lines in order, those numbered above `since` (default 0). */
static int h_logs(struct sp_request *req, struct sp_response *resp)
{
    int64_t page, per_page, since = 0;
    if (sp_api_page(req, resp, &page, &per_page) != SP_OK ||
        sp_api_query_int(req, resp, "since", 0, INT64_MAX, &since) == SP_INVALID)
        return SP_OK;
    struct sp_db *db;
    struct sp_job j;
    if (load(req, resp, SP_ACT_READ, &db, &j) != SP_OK)
        return SP_OK;
    struct sp_job_log_list logs;
    int rc = sp_store_job_logs(db, j.id, since, page, per_page, &logs);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "job");
        sp_job_clear(&j);
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < logs.n; i++)
        json_array_append_new(
            items, json_pack("{s:I, s:s, s:s, s:o}", "line", (json_int_t)logs.items[i].line,
                             "level", logs.items[i].level, "message", logs.items[i].message,
                             "created_at", sp_api_time(logs.items[i].created_at)));
    sp_resp_json(resp, 200,
                 json_pack("{s:I, s:o, s:o}", "job_id", (json_int_t)j.id, "logs", items,
                           "pagination", sp_api_pagination(page, per_page, logs.total)));
    sp_job_log_list_free(&logs);
    sp_job_clear(&j);
    return SP_OK;
}

/* PUT /api/jobs/{id}/cancel → 200 Job (cancelled); 409 when already final. */
static int h_cancel(struct sp_request *req, struct sp_response *resp)
{
    struct sp_db *db;
    struct sp_job j, after;
    struct sp_err e = {{0}, {0}};
    if (load(req, resp, SP_ACT_MOD, &db, &j) != SP_OK)
        return SP_OK;
    int64_t now = sp_time_now();
    int rc = sp_store_job_cancel(db, j.id, now, &after, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "job");
        sp_job_clear(&j);
        return SP_OK;
    }
    /* the worker of this process (if it runs the job) stops at once */
    sp_jobs_cancel_local(req->app, j.id);
    char msg[160];
    snprintf(msg, sizeof msg, "cancel requested by %s", req->principal.username);
    (void)sp_store_job_log(db, j.id, "warn", msg, now);
    sp_api_bump(req, SP_GEN_JOBS);
    sp_api_bump(req, SP_GEN_RELEASES);
    sp_resp_json(resp, 200, job_json(&after));
    sp_job_clear(&after);
    sp_job_clear(&j);
    return SP_OK;
}

const struct sp_route sp_routes_jobs[] = {
    {"GET", "/api/jobs", h_list, SP_AUTH_USER, -1, -1},
    {"GET", "/api/jobs/{id}", h_get, SP_AUTH_USER, -1, -1},
    {"GET", "/api/jobs/{id}/logs", h_logs, SP_AUTH_USER, -1, -1},
    {"GET", "/api/jobs/{id}/status", h_status, SP_AUTH_USER, -1, -1},
    {"PUT", "/api/jobs/{id}/cancel", h_cancel, SP_AUTH_USER, -1, -1},
    {0},
};

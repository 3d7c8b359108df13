/*
 * audit.c — GET /api/audit: the audit trail (who did what, when, from where). Admins and
 * holders of audit:read. Read-only: the rows are written by the middleware (every successful
 * write), api/auth.c (logins, failed logins, logouts) and handlers that name their action;
 * no route updates or deletes them.
 */
#include "api/api.h"
#include "api/common.h"
#include "auth/permissions.h"
#include "store/audit.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/time.h"

#include <stdio.h>
#include <string.h>

static json_t *entry_json(const struct sp_audit_entry *a)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(a->id));
    json_object_set_new(j, "user_id", sp_api_id_or_null(a->user_id));
    json_object_set_new(j, "username", a->username[0] ? json_string(a->username) : json_null());
    json_object_set_new(j, "action", json_string(a->action));
    json_object_set_new(j, "resource", json_string(a->resource));
    json_object_set_new(j, "resource_id", sp_api_id_or_null(a->resource_id));
    json_object_set_new(j, "ip", a->ip[0] ? json_string(a->ip) : json_null());
    json_object_set_new(j, "request_id",
                        a->request_id[0] ? json_string(a->request_id) : json_null());
    json_object_set_new(j, "summary", json_string(a->summary));
    json_object_set_new(j, "created_at", sp_api_time(a->created_at));
    return j;
}

/* A time bound from the query: RFC 3339 or YYYY-MM-DD (for `until`, a date means the end of
 * that day). SP_OK / SP_NOTFOUND / SP_INVALID (400 in resp). */
static int query_time(struct sp_request *r, struct sp_response *resp, const char *key,
                      bool end_of_day, int64_t *out)
{
    const char *s = NULL;
    int rc = sp_api_query_text(r, resp, key, 64, &s);
    if (rc != SP_OK)
        return rc;
    if (sp_time_parse(s, out) != 0 || *out < 0) {
        struct sp_err e;
        sp_err_set(&e, key, "%s must be a date (YYYY-MM-DD) or an RFC 3339 time", key);
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_INVALID;
    }
    if (end_of_day && strlen(s) == 10)
        *out += 86399;
    if (*out == 0)
        *out = 1; /* 0 means "no bound" to the store */
    return SP_OK;
}

/* GET /api/audit?user_id=&username=&action=&resource=&resource_id=&since=&until= */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    int64_t page, per_page;
    struct sp_audit_filter f;
    memset(&f, 0, sizeof f);
    if (sp_api_page(r, resp, &page, &per_page) != SP_OK ||
        sp_api_query_int(r, resp, "user_id", 1, INT64_MAX, &f.user_id) == SP_INVALID ||
        sp_api_query_text(r, resp, "username", 64, &f.username) == SP_INVALID ||
        sp_api_query_text(r, resp, "action", SP_AUDIT_ACTION_MAX, &f.action) == SP_INVALID ||
        sp_api_query_text(r, resp, "resource", SP_AUDIT_RESOURCE_MAX, &f.resource) == SP_INVALID ||
        sp_api_query_int(r, resp, "resource_id", 1, INT64_MAX, &f.resource_id) == SP_INVALID ||
        query_time(r, resp, "since", false, &f.since) == SP_INVALID ||
        query_time(r, resp, "until", true, &f.until) == SP_INVALID)
        return SP_OK;
    if (f.since && f.until && f.since > f.until) {
        struct sp_err e;
        sp_err_set(&e, "until", "until must not be before since");
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_OK;
    }
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_audit_entry *rows = NULL;
    int n = 0;
    int64_t total = 0;
    int rc = sp_store_audit_list(db, &f, page, per_page, &rows, &n, &total);
    if (rc != SP_OK) {
        struct sp_err e;
        sp_err_set(&e, "",
                   rc == SP_AGAIN ? "the database is busy, try again"
                                  : "could not read the audit log");
        sp_resp_rc(resp, rc == SP_AGAIN ? SP_AGAIN : SP_ERR, &e);
        return SP_OK;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++)
        json_array_append_new(arr, entry_json(&rows[i]));
    sp_free(rows);
    sp_resp_json(resp, 200,
                 json_pack("{s:o, s:o}", "entries", arr, "pagination",
                           sp_api_pagination(page, per_page, total)));
    return SP_OK;
}

const struct sp_route sp_routes_audit[] = {
    {"GET", "/api/audit", h_list, SP_AUTH_USER, SP_RES_AUDIT, SP_ACT_READ},
    {0},
};

/*
 * rules.c — scene rules: GET/POST /api/rules, GET/PUT/DELETE /api/rules/{id},
 * GET /api/rules/{id}/spec. Reads need rules:read, writes rules:write, deleting rules:delete.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "domain/rule_parser.h"
#include "store/rules.h"
#include "util/alloc.h"
#include "util/json.h"
#include "util/time.h"

#define NAME_MAX_LEN 200
#define LABEL_MAX_LEN 64
#define CONTENT_MAX_LEN (512 * 1024)
#define YEAR_MIN 1970
#define YEAR_MAX 2100
#define LIST_CACHE_PAGES 5

/* GET /api/rules?scene=&section=&year=&search= → 200 {rules: [Rule without content],
 * pagination}, newest first. */
static int h_list(struct sp_request *req, struct sp_response *resp)
{
    struct sp_rule_query q = {0};
    if (sp_api_page(req, resp, &q.page, &q.per_page) != SP_OK ||
        sp_api_query_text(req, resp, "scene", LABEL_MAX_LEN, &q.scene) == SP_INVALID ||
        sp_api_query_text(req, resp, "section", LABEL_MAX_LEN, &q.section) == SP_INVALID ||
        sp_api_query_int(req, resp, "year", YEAR_MIN, YEAR_MAX, &q.year) == SP_INVALID ||
        sp_api_query_text(req, resp, "search", 200, &q.search) == SP_INVALID)
        return SP_OK;

    char key[256];
    bool cacheable = !q.search && q.page <= LIST_CACHE_PAGES;
    if (cacheable) {
        /* Lengths first, so no two filter combinations can produce the same key. */
        snprintf(key, sizeof key, "rules:%llu:%zu:%s:%zu:%s:%lld:%lld:%lld",
                 (unsigned long long)sp_api_gen(req, SP_GEN_RULES), q.scene ? strlen(q.scene) : 0,
                 q.scene ? q.scene : "", q.section ? strlen(q.section) : 0,
                 q.section ? q.section : "", (long long)q.year, (long long)q.page,
                 (long long)q.per_page);
        if (sp_api_cache_serve(req, resp, key))
            return SP_OK;
    }
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_rule_list list;
    int rc = sp_store_rule_list(db, &q, &list);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "rule");
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, sp_api_rule_json(&list.items[i]));
    json_t *body = json_pack("{s:o, s:o}", "rules", items, "pagination",
                             sp_api_pagination(q.page, q.per_page, list.total));
    sp_rule_list_free(&list);
    if (cacheable)
        sp_api_cache_reply(req, resp, key, 200, body);
    else
        sp_resp_json(resp, 200, body);
    return SP_OK;
}

/* Answer 200/201 with rule `id` (with content). */
static void reply_rule(struct sp_response *resp, struct sp_db *db, int64_t id, int status)
{
    struct sp_rule r;
    int rc = sp_store_rule_get(db, id, &r);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "rule");
        return;
    }
    sp_resp_json(resp, status, sp_api_rule_json(&r));
    sp_rule_clear(&r);
}

/* GET /api/rules/{id} → 200 Rule (with content). */
static int h_get(struct sp_request *req, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(req, resp, "id", "rule", &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(req, resp);
    if (db)
        reply_rule(resp, db, id, 200);
    return SP_OK;
}

/* GET /api/rules/{id}/spec → 200 {rule_id, spec} (spec {} while the rule has none parsed). */
static int h_spec(struct sp_request *req, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(req, resp, "id", "rule", &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    char *spec = NULL;
    int rc = sp_store_rule_spec(db, id, &spec);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "rule");
        return SP_OK;
    }
    json_t *body =
        json_pack("{s:I, s:o}", "rule_id", (json_int_t)id, "spec", sp_api_json_object_text(spec));
    sp_free(spec);
    sp_resp_json(resp, 200, body);
    return SP_OK;
}

/* One string field: SP_OK (present: *any set, or absent) or SP_INVALID. */
static int text_field(const json_t *body, const char *key, int flags, size_t maxlen,
                      const char **out, bool *any, struct sp_err *e)
{
    int rc = sp_json_string(body, key, flags, 1, maxlen, out, e);
    if (rc == SP_OK)
        *any = true;
    return rc == SP_INVALID ? SP_INVALID : SP_OK;
}

/* Read the rule fields of the body. SP_OK, or SP_INVALID with e filled. `creating` makes
 * name and content required. A null year means none. *any says whether a field was given. */
static int read_input(const json_t *body, bool creating, struct sp_rule_input *in, bool *any,
                      struct sp_err *e)
{
    int req = creating ? SP_REQUIRED : SP_OPTIONAL;
    *any = false;
    memset(in, 0, sizeof *in);
    if (text_field(body, "name", req, NAME_MAX_LEN, &in->name, any, e) != SP_OK ||
        text_field(body, "content", req, CONTENT_MAX_LEN, &in->content, any, e) != SP_OK ||
        text_field(body, "scene", SP_OPTIONAL, LABEL_MAX_LEN, &in->scene, any, e) != SP_OK ||
        text_field(body, "section", SP_OPTIONAL, LABEL_MAX_LEN, &in->section, any, e) != SP_OK)
        return SP_INVALID;
    const json_t *year = json_object_get(body, "year");
    if (year && json_is_null(year)) {
        in->set_year = true; /* null clears the year */
        *any = true;
    } else if (year) {
        if (sp_json_int(body, "year", SP_REQUIRED, YEAR_MIN, YEAR_MAX, &in->year, e) != SP_OK)
            return SP_INVALID;
        in->set_year = true;
        *any = true;
    }
    return SP_OK;
}

/* POST /api/rules {name, content, scene?, section?, year?} → 201 Rule. */
static int h_create(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    struct sp_rule_input in;
    bool any;
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    if (read_input(req->json, true, &in, &any, &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_OK;
    }
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    int64_t id = 0;
    int rc = sp_store_rule_create(db, &in, req->principal.user_id, sp_time_now(), &id);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "rule");
        return SP_OK;
    }
    char *spec = sp_rule_spec_text(in.content); /* the constraints the text states */
    (void)sp_store_rule_set_spec(db, id, spec);
    sp_free(spec);
    sp_api_bump(req, SP_GEN_RULES);
    reply_rule(resp, db, id, 201);
    return SP_OK;
}

/* PUT /api/rules/{id} {name?, content?, scene?, section?, year?} → 200 Rule. A new content
 * drops the stored parsed spec (it described the old text). */
static int h_update(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    struct sp_rule_input in;
    bool any;
    int64_t id;
    if (sp_api_param_id(req, resp, "id", "rule", &id) != SP_OK)
        return SP_OK;
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    if (read_input(req->json, false, &in, &any, &e) != SP_OK) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_OK;
    }
    if (!any) {
        sp_err_set(&e, "body", "give at least one of name, content, scene, section, year");
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_OK;
    }
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    int rc = sp_store_rule_update(db, id, &in, sp_time_now());
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "rule");
        return SP_OK;
    }
    if (in.content) { /* a new text: its constraints */
        char *spec = sp_rule_spec_text(in.content);
        (void)sp_store_rule_set_spec(db, id, spec);
        sp_free(spec);
    }
    sp_api_bump(req, SP_GEN_RULES);
    reply_rule(resp, db, id, 200);
    return SP_OK;
}

/* DELETE /api/rules/{id} → 200 {message}; the built-in rule → 409. Releases that used the
 * rule keep existing with rule_id null. */
static int h_delete(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    int64_t id;
    if (sp_api_param_id(req, resp, "id", "rule", &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    int rc = sp_store_rule_delete(db, id, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "rule");
        return SP_OK;
    }
    sp_api_bump(req, SP_GEN_RULES);
    sp_api_bump(req, SP_GEN_RELEASES); /* releases may have lost their rule_id */
    char msg[64];
    snprintf(msg, sizeof msg, "rule %lld deleted", (long long)id);
    sp_resp_json(resp, 200, json_pack("{s:s}", "message", msg));
    return SP_OK;
}

const struct sp_route sp_routes_rules[] = {
    {"GET", "/api/rules", h_list, SP_AUTH_USER, SP_RES_RULES, SP_ACT_READ},
    {"POST", "/api/rules", h_create, SP_AUTH_USER, SP_RES_RULES, SP_ACT_WRITE},
    {"GET", "/api/rules/{id}", h_get, SP_AUTH_USER, SP_RES_RULES, SP_ACT_READ},
    {"PUT", "/api/rules/{id}", h_update, SP_AUTH_USER, SP_RES_RULES, SP_ACT_WRITE},
    {"DELETE", "/api/rules/{id}", h_delete, SP_AUTH_USER, SP_RES_RULES, SP_ACT_DELETE},
    {"GET", "/api/rules/{id}/spec", h_spec, SP_AUTH_USER, SP_RES_RULES, SP_ACT_READ},
    {0},
};

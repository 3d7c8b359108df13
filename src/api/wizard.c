/*
 * wizard.c — the wizard's first steps: POST /api/wizard/create (alias /api/wizard/draft)
 * creates a draft release; GET /api/wizard/rules lists the rules usable for a release type.
 */
#include <stdio.h>
#include <string.h>

#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "cache/cache.h"
#include "store/groups.h"
#include "store/releases.h"
#include "store/rules.h"
#include "util/json.h"
#include "util/time.h"

/* The rule section that serves each creatable release type. */
static const char *section_for(const char *release_type)
{
    return strcmp(release_type, "EBOOK") == 0 ? "eBOOK" : release_type;
}

/* release_type known but not produced yet → 400 naming it. SP_OK when supported. */
static int check_supported(struct sp_response *resp, const char *type)
{
    if (sp_release_type_supported(type))
        return SP_OK;
    struct sp_err e = {{0}, {0}};
    sp_err_set(&e, "release_type",
               "release_type %s is not supported yet; only EBOOK releases can be created", type);
    sp_resp_rc(resp, SP_INVALID, &e);
    return SP_INVALID;
}

/* POST /api/wizard/create {group, release_type, rule_id?} → 201 {release_id, message}. */
static int h_create(struct sp_request *req, struct sp_response *resp)
{
    struct sp_err e = {{0}, {0}};
    const char *group = NULL, *type = NULL;
    int64_t rule_id = 0;
    if (sp_req_json_object(req, resp) != SP_OK)
        return SP_OK;
    if (sp_json_string(req->json, "group", SP_REQUIRED, SP_GROUP_NAME_MIN, SP_GROUP_NAME_MAX,
                       &group, &e) != SP_OK)
        goto invalid;
    if (!sp_group_name_valid(group)) {
        sp_err_set(&e, "group",
                   "group must be 2-30 letters, digits, '_' or '-', starting and "
                   "ending with a letter or digit");
        goto invalid;
    }
    const json_t *tv = json_object_get(req->json, "release_type");
    if (tv && !json_is_string(tv)) {
        sp_err_set(&e, "release_type", "release_type must be a string such as \"EBOOK\"");
        goto invalid;
    }
    if (sp_json_enum(req->json, "release_type", SP_REQUIRED, sp_release_types, &type, &e) != SP_OK)
        goto invalid;
    if (check_supported(resp, type) != SP_OK)
        return SP_OK;
    if (sp_json_int(req->json, "rule_id", SP_OPTIONAL | SP_NULLABLE, 1, INT64_MAX, &rule_id, &e) ==
        SP_INVALID)
        goto invalid;

    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_release_draft d = {group, type, rule_id, req->principal.user_id};
    int64_t release_id = 0;
    bool group_created = false;
    int rc = sp_store_release_create_draft(db, &d, sp_time_now(), &release_id, &group_created, &e);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, "release");
        return SP_OK;
    }
    sp_api_bump(req, SP_GEN_RELEASES);
    if (group_created)
        sp_api_bump(req, SP_GEN_GROUPS);
    sp_resp_json(resp, 201,
                 json_pack("{s:I, s:s}", "release_id", (json_int_t)release_id, "message",
                           "draft release created"));
    return SP_OK;
invalid:
    sp_resp_rc(resp, SP_INVALID, &e);
    return SP_OK;
}

/* GET /api/wizard/rules?release_type=EBOOK → 200 {rules: [Rule without content], pagination}
 * newest first. release_type defaults to EBOOK. */
static int h_rules(struct sp_request *req, struct sp_response *resp)
{
    const char *type = sp_release_types[0];
    struct sp_rule_query q = {0};
    if (sp_api_page(req, resp, &q.page, &q.per_page) != SP_OK ||
        sp_api_query_enum(req, resp, "release_type", sp_release_types, &type) == SP_INVALID ||
        check_supported(resp, type) != SP_OK)
        return SP_OK;
    q.section = section_for(type);

    char key[128];
    snprintf(key, sizeof key, "wizard-rules:%llu:%s:%lld:%lld",
             (unsigned long long)sp_api_gen(req, SP_GEN_RULES), type, (long long)q.page,
             (long long)q.per_page);
    if (sp_api_cache_serve(req, resp, key))
        return SP_OK;
    struct sp_db *db = sp_api_db(req, resp);
    if (!db)
        return SP_OK;
    struct sp_rule_list list;
    int rc = sp_store_rule_list(db, &q, &list);
    if (rc != SP_OK) {
        sp_resp_rc(resp, rc, NULL);
        return SP_OK;
    }
    json_t *items = json_array();
    for (size_t i = 0; i < list.n; i++)
        json_array_append_new(items, sp_api_rule_json(&list.items[i]));
    json_t *body = json_pack("{s:o, s:o}", "rules", items, "pagination",
                             sp_api_pagination(q.page, q.per_page, list.total));
    sp_rule_list_free(&list);
    sp_api_cache_reply(req, resp, key, 200, body);
    return SP_OK;
}

const struct sp_route sp_routes_wizard[] = {
    {"POST", "/api/wizard/create", h_create, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"POST", "/api/wizard/draft", h_create, SP_AUTH_USER, SP_RES_RELEASES, SP_ACT_WRITE},
    {"GET", "/api/wizard/rules", h_rules, SP_AUTH_USER, SP_RES_RULES, SP_ACT_READ},
    {0},
};

/*
 * configs.c — /api/config: runtime configuration entries.
 *
 *   GET    /api/config               config:read    list (category, key prefix search)
 *   POST   /api/config               config:write   {key, value, secret?, category?, description?}
 *   GET    /api/config/{id}          config:read
 *   GET    /api/config/key/{key}     config:read
 *   PUT    /api/config/{id}          config:write   only the fields given change
 *   DELETE /api/config/{id}          config:delete
 *
 * Keys are `^[A-Z][A-Z0-9_]*$` (at most 64). A `secret: true` value is sealed with libsodium
 * secretbox under app->secret_key before it reaches the store (auth/secrets.c) and is never
 * returned: every answer shows SP_SECRET_MASK instead, and a PUT that sends the mask back
 * leaves the secret as it is. Making a secret plain again needs a new value (the old one is
 * never revealed). Neither values nor secrets go into logs or audit rows: those name the key.
 */
#include "api/api.h"
#include "api/common.h"
#include "app.h"
#include "auth/permissions.h"
#include "auth/secrets.h"
#include "cache/cache.h"
#include "store/configs.h"
#include "store/db.h"
#include "util/alloc.h"
#include "util/json.h"

#include <stdio.h>
#include <string.h>

/* What a 404 names. */
#define NOUN "configuration entry"

/* ^[A-Z][A-Z0-9_]*$, 1..64 characters. */
static bool key_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > SP_CONFIG_KEY_MAX || !(s[0] >= 'A' && s[0] <= 'Z'))
        return false;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static bool category_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > SP_CONFIG_CATEGORY_MAX)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* The API object of an entry; a secret shows only the mask. */
static json_t *entry_json(const struct sp_config_entry *c)
{
    json_t *j = json_object();
    json_object_set_new(j, "id", json_integer(c->id));
    json_object_set_new(j, "key", json_string(c->key));
    json_object_set_new(j, "value",
                        json_string(c->secret ? SP_SECRET_MASK : (c->value ? c->value : "")));
    json_object_set_new(j, "secret", json_boolean(c->secret));
    json_object_set_new(j, "category", json_string(c->category));
    json_object_set_new(j, "description", json_string(c->description));
    json_object_set_new(j, "created_at", sp_api_time(c->created_at));
    json_object_set_new(j, "updated_at", sp_api_time(c->updated_at));
    return j;
}

struct config_input {
    const char *key;
    const char *value;
    bool has_secret;
    bool secret;
    const char *category;
    const char *description;
};

/* Parse and validate; SP_OK or SP_INVALID with the 400 in resp. */
static int parse_input(struct sp_request *r, struct sp_response *resp, bool creating,
                       struct config_input *in)
{
    memset(in, 0, sizeof *in);
    if (sp_req_json_object(r, resp) != SP_OK)
        return SP_INVALID;
    static const char *const known[] = {"key", "value", "secret", "category", "description", NULL};
    static const char *const read_only[] = {"id", "created_at", "updated_at", NULL};
    if (sp_api_known_keys(r->json, resp, known, read_only) != SP_OK)
        return SP_INVALID;
    struct sp_err e = {{0}, {0}};
    int secret = 0;
    int rc = SP_OK;
    if (sp_json_string(r->json, "key", creating ? SP_REQUIRED : SP_OPTIONAL, 1,
                       SP_CONFIG_KEY_MAX + 64, &in->key, &e) == SP_INVALID ||
        sp_json_string(r->json, "value", creating ? SP_REQUIRED : SP_OPTIONAL, 0,
                       SP_CONFIG_VALUE_MAX, &in->value, &e) == SP_INVALID ||
        (rc = sp_json_bool(r->json, "secret", SP_OPTIONAL, &secret, &e)) == SP_INVALID ||
        sp_json_string(r->json, "category", SP_OPTIONAL, 1, SP_CONFIG_CATEGORY_MAX + 64,
                       &in->category, &e) == SP_INVALID ||
        sp_json_string(r->json, "description", SP_OPTIONAL, 0, SP_CONFIG_DESCRIPTION_MAX,
                       &in->description, &e) == SP_INVALID) {
        sp_resp_rc(resp, SP_INVALID, &e);
        return SP_INVALID;
    }
    in->has_secret = rc == SP_OK;
    in->secret = secret != 0;
    if (in->key && !key_ok(in->key)) {
        sp_api_bad_request(resp, "key",
                           "key must be 1-64 characters: an upper-case letter, then A-Z 0-9 _");
        return SP_INVALID;
    }
    if (in->category && !category_ok(in->category)) {
        sp_api_bad_request(resp, "category",
                           "category must be 1-32 characters of A-Z a-z 0-9 _ - .");
        return SP_INVALID;
    }
    return SP_OK;
}

/* Reload entry id and answer `status` with it. */
static void answer_entry(struct sp_response *resp, struct sp_db *db, int64_t id, int status)
{
    struct sp_config_entry c;
    int rc = sp_store_config_get(db, id, &c);
    if (rc == SP_OK)
        sp_resp_json(resp, status, entry_json(&c));
    else
        sp_api_fail(resp, rc, NULL, NOUN);
    sp_config_entry_free(&c);
}

static void audit_key(struct sp_request *r, const char *verb, const char *key, bool secret)
{
    char s[160];
    snprintf(s, sizeof s, "%s configuration %s%s", verb, key, secret ? " (secret)" : "");
    r->audit_summary = sp_req_strdup(r, s);
}

/* GET /api/config?category=&search=&page=&per_page= */
static int h_list(struct sp_request *r, struct sp_response *resp)
{
    int64_t page, per_page;
    const char *category = NULL, *search = NULL;
    if (sp_api_page(r, resp, &page, &per_page) != SP_OK ||
        sp_api_query_text(r, resp, "category", SP_CONFIG_CATEGORY_MAX, &category) == SP_INVALID ||
        sp_api_query_text(r, resp, "search", SP_CONFIG_KEY_MAX, &search) == SP_INVALID)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_config_entry *rows = NULL;
    int n = 0;
    int64_t total = 0;
    int rc = sp_store_config_list(db, category, search, page, per_page, &rows, &n, &total);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, NOUN);
        return SP_OK;
    }
    json_t *arr = json_array();
    for (int i = 0; i < n; i++) {
        json_array_append_new(arr, entry_json(&rows[i]));
        sp_config_entry_free(&rows[i]);
    }
    sp_free(rows);
    sp_resp_json(resp, 200,
                 json_pack("{s:o, s:o}", "configs", arr, "pagination",
                           sp_api_pagination(page, per_page, total)));
    return SP_OK;
}

/* GET /api/config/{id} */
static int h_get(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", NOUN, &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (db)
        answer_entry(resp, db, id, 200);
    return SP_OK;
}

/* GET /api/config/key/{key} */
static int h_get_key(struct sp_request *r, struct sp_response *resp)
{
    const char *key = sp_req_param(r, "key");
    if (!key || !key_ok(key)) {
        sp_api_fail(resp, SP_NOTFOUND, NULL, NOUN);
        return SP_OK;
    }
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_config_entry c;
    int rc = sp_store_config_get_by_key(db, key, &c);
    if (rc == SP_OK)
        sp_resp_json(resp, 200, entry_json(&c));
    else
        sp_api_fail(resp, rc, NULL, NOUN);
    sp_config_entry_free(&c);
    return SP_OK;
}

/* POST /api/config */
static int h_create(struct sp_request *r, struct sp_response *resp)
{
    struct config_input in;
    if (parse_input(r, resp, true, &in) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    if (in.secret)
        sp_secret_seal(r->app->secret_key, in.value, strlen(in.value), &blob, &bloblen);
    struct sp_config_input ci = {
        .key = in.key,
        .value = in.secret ? NULL : in.value,
        .blob = blob,
        .bloblen = bloblen,
        .secret = in.secret,
        .category = in.category,
        .description = in.description,
    };
    struct sp_err e = {{0}, {0}};
    int64_t id = 0;
    int rc = sp_store_config_create(db, &ci, &id, &e);
    sp_free(blob);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, NOUN);
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_CONFIG);
    audit_key(r, "created", in.key, in.secret);
    r->audit_resource_id = id;
    answer_entry(resp, db, id, 201);
    return SP_OK;
}

/* PUT /api/config/{id} */
static int h_update(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", NOUN, &id) != SP_OK)
        return SP_OK;
    struct config_input in;
    if (parse_input(r, resp, false, &in) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_config_entry cur;
    int rc = sp_store_config_get(db, id, &cur);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, NOUN);
        return SP_OK;
    }
    bool secret = in.has_secret ? in.secret : cur.secret;
    /* the mask sent back for a secret means "no new value" */
    if (cur.secret && in.value && !strcmp(in.value, SP_SECRET_MASK))
        in.value = NULL;
    if (cur.secret && !secret && !in.value) {
        sp_config_entry_free(&cur);
        return sp_api_bad_request(resp, "value",
                                  "give a new value to make a secret entry plain: a secret is "
                                  "never revealed");
    }
    struct sp_config_patch p = {
        .key = in.key,
        .category = in.category,
        .description = in.description,
    };
    unsigned char *blob = NULL;
    size_t bloblen = 0;
    const char *plain = in.value;
    if (!plain && !cur.secret && secret)
        plain = cur.value; /* plain → secret: seal the value it had */
    if (plain) {
        p.has_value = true;
        p.secret = secret;
        if (secret)
            sp_secret_seal(r->app->secret_key, plain, strlen(plain), &blob, &bloblen);
        else
            p.value = plain;
        p.blob = blob;
        p.bloblen = bloblen;
    }
    struct sp_err e = {{0}, {0}};
    rc = sp_store_config_update(db, id, &p, &e);
    sp_free(blob);
    char key[SP_CONFIG_KEY_MAX + 1];
    snprintf(key, sizeof key, "%s", in.key ? in.key : cur.key);
    sp_config_entry_free(&cur);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, &e, NOUN);
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_CONFIG);
    audit_key(r, "updated", key, secret);
    answer_entry(resp, db, id, 200);
    return SP_OK;
}

/* DELETE /api/config/{id} */
static int h_delete(struct sp_request *r, struct sp_response *resp)
{
    int64_t id;
    if (sp_api_param_id(r, resp, "id", NOUN, &id) != SP_OK)
        return SP_OK;
    struct sp_db *db = sp_api_db(r, resp);
    if (!db)
        return SP_OK;
    struct sp_config_entry cur;
    int rc = sp_store_config_get(db, id, &cur);
    if (rc == SP_OK)
        rc = sp_store_config_delete(db, id);
    if (rc != SP_OK) {
        sp_config_entry_free(&cur);
        sp_api_fail(resp, rc, NULL, NOUN);
        return SP_OK;
    }
    sp_api_bump(r, SP_GEN_CONFIG);
    audit_key(r, "deleted", cur.key, cur.secret);
    char msg[128];
    snprintf(msg, sizeof msg, "Configuration %s deleted", cur.key);
    sp_config_entry_free(&cur);
    sp_resp_json(resp, 200, json_pack("{s:s}", "message", msg));
    return SP_OK;
}

const struct sp_route sp_routes_configs[] = {
    {"GET", "/api/config", h_list, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_READ},
    {"POST", "/api/config", h_create, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_WRITE},
    {"GET", "/api/config/{id}", h_get, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_READ},
    {"PUT", "/api/config/{id}", h_update, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_WRITE},
    {"DELETE", "/api/config/{id}", h_delete, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_DELETE},
    {"GET", "/api/config/key/{key}", h_get_key, SP_AUTH_USER, SP_RES_CONFIG, SP_ACT_READ},
    {0},
};

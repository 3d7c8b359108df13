/* common.c — helpers shared by the API handlers (see common.h). */
#include "api/common.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "app.h"
#include "auth/permissions.h"
#include "domain/package.h"
#include "cache/cache.h"
#include "store/db.h"
#include "store/releases.h"
#include "store/rules.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/log.h"
#include "util/time.h"

/* ---- query string ---- */

static const char *query(struct sp_request *req, const char *key)
{
    const char *s = sp_req_query(req, key);
    return (s && *s) ? s : NULL;
}

static int invalid(struct sp_response *resp, const struct sp_err *e)
{
    sp_resp_rc(resp, SP_INVALID, e);
    return SP_INVALID;
}

int sp_api_query_int(struct sp_request *req, struct sp_response *resp, const char *key, int64_t min,
                     int64_t max, int64_t *out)
{
    const char *s = query(req, key);
    if (!s)
        return SP_NOTFOUND;
    struct sp_err e = {{0}, {0}};
    if (sp_parse_int(s, key, min, max, out, &e) != SP_OK)
        return invalid(resp, &e);
    return SP_OK;
}

int sp_api_page(struct sp_request *req, struct sp_response *resp, int64_t *page, int64_t *per_page)
{
    *page = 1;
    *per_page = SP_API_PER_PAGE_DEFAULT;
    if (sp_api_query_int(req, resp, "page", 1, SP_API_PAGE_MAX, page) == SP_INVALID)
        return SP_INVALID;
    if (sp_api_query_int(req, resp, "per_page", 1, SP_API_PER_PAGE_MAX, per_page) == SP_INVALID)
        return SP_INVALID;
    return SP_OK;
}

json_t *sp_api_pagination(int64_t page, int64_t per_page, int64_t total)
{
    int64_t pages = per_page > 0 ? (total + per_page - 1) / per_page : 0;
    return json_pack("{s:I, s:I, s:I, s:I}", "page", (json_int_t)page, "per_page",
                     (json_int_t)per_page, "total", (json_int_t)total, "pages", (json_int_t)pages);
}

int sp_api_query_enum(struct sp_request *req, struct sp_response *resp, const char *key,
                      const char *const *values, const char **out)
{
    const char *s = query(req, key);
    if (!s)
        return SP_NOTFOUND;
    for (const char *const *p = values; *p; p++) {
        if (strcmp(*p, s) == 0) {
            *out = *p;
            return SP_OK;
        }
    }
    /* Reuse the JSON enum checker for one consistent message ("x must be one of: a, b"). */
    json_t *o = json_pack("{s:s}", key, "");
    struct sp_err e = {{0}, {0}};
    const char *ignored;
    sp_json_enum(o, key, SP_REQUIRED, values, &ignored, &e);
    json_decref(o);
    return invalid(resp, &e);
}

int sp_api_query_text(struct sp_request *req, struct sp_response *resp, const char *key,
                      size_t maxlen, const char **out)
{
    const char *s = query(req, key);
    if (!s)
        return SP_NOTFOUND;
    struct sp_err e = {{0}, {0}};
    size_t n = strlen(s);
    if (!sp_utf8_valid(s, n)) {
        sp_err_set(&e, key, "%s must be valid UTF-8 text", key);
        return invalid(resp, &e);
    }
    if (n > maxlen) {
        sp_err_set(&e, key, "%s must be at most %zu bytes", key, maxlen);
        return invalid(resp, &e);
    }
    *out = s;
    return SP_OK;
}

int sp_api_query_bool(struct sp_request *req, struct sp_response *resp, const char *key, bool *out)
{
    static const char *const yes[] = {"1", "true", "yes", "on"};
    static const char *const no[] = {"0", "false", "no", "off"};
    const char *s = query(req, key);
    if (!s)
        return SP_NOTFOUND;
    for (size_t i = 0; i < SP_ARRAY_LEN(yes); i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return SP_OK;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return SP_OK;
        }
    }
    struct sp_err e = {{0}, {0}};
    sp_err_set(&e, key, "%s must be 1 or 0 (true or false)", key);
    return invalid(resp, &e);
}

/* ---- JSON shaping ---- */

json_t *sp_api_time(int64_t epoch_s)
{
    char buf[40];
    sp_time_rfc3339(epoch_s, buf, sizeof buf);
    return json_string(buf);
}

json_t *sp_api_id_or_null(int64_t v)
{
    return v > 0 ? json_integer(v) : json_null();
}

json_t *sp_api_str_or_null(const char *s)
{
    json_t *j = s ? json_string(s) : NULL;
    return j ? j : json_null(); /* json_string refuses invalid UTF-8: show null, never crash */
}

json_t *sp_api_json_object_text(const char *text)
{
    if (!text || !*text)
        return json_object();
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);
    if (!json_is_object(j)) {
        sp_warn("stored JSON is not an object", "%s", err.text);
        json_decref(j);
        return json_object();
    }
    return j;
}

json_t *sp_api_release_json(const struct sp_release *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", sp_api_str_or_null(r->name));
    json_object_set_new(o, "user_id", json_integer(r->user_id));
    json_object_set_new(o, "group_id", json_integer(r->group_id));
    json_object_set_new(o, "group", sp_api_str_or_null(r->group));
    json_object_set_new(o, "release_type", sp_api_str_or_null(r->release_type));
    json_object_set_new(o, "status", sp_api_str_or_null(r->status));
    json_object_set_new(o, "release_metadata", sp_api_json_object_text(r->release_metadata));
    json_object_set_new(o, "config", sp_api_json_object_text(r->config));
    json_object_set_new(o, "file_path", sp_api_str_or_null(r->file_path));
    json_object_set_new(o, "file_size", json_integer(r->file_size > 0 ? r->file_size : 0));
    json_object_set_new(o, "rule_id", sp_api_id_or_null(r->rule_id));
    json_object_set_new(o, "parent_id", sp_api_id_or_null(r->parent_id));
    json_object_set_new(o, "created_at", sp_api_time(r->created_at));
    json_object_set_new(o, "updated_at", sp_api_time(r->updated_at));
    return o;
}

int sp_api_release_load(struct sp_request *req, struct sp_response *resp, int action,
                        const char *what, struct sp_db **db, struct sp_release *r)
{
    int64_t id;
    memset(r, 0, sizeof *r);
    if (sp_api_param_id(req, resp, "id", "release", &id) != SP_OK)
        return SP_NOTFOUND;
    *db = sp_api_db(req, resp);
    if (!*db)
        return SP_AGAIN;
    int rc = sp_store_release_get(*db, id, r);
    if (rc != SP_OK) {
        sp_api_fail(resp, rc, NULL, "release");
        return rc;
    }
    if (action >= 0 && !sp_api_owner_or(req, r->user_id, SP_RES_RELEASES, action)) {
        sp_api_forbidden(resp, what);
        sp_release_clear(r);
        return SP_FORBIDDEN;
    }
    return SP_OK;
}

/* ---- release JSON written straight into a buffer ----
 * A page of 20 releases through jansson cost ~3.7 million instructions (callgrind): each row's
 * stored metadata and config were parsed into trees, the whole page built as a tree, dumped, and
 * every node freed again — hundreds of mallocs per row. The writer below emits the same object
 * (same keys, same order, same values) with no tree: stored JSON text is checked (syntax and
 * UTF-8, no allocation) and copied as it is. */

/* JSON syntax check of one value starting at p (whitespace skipped); the end or NULL. */
static const char *json_ws(const char *p)
{
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
        p++;
    return p;
}

static const char *json_check(const char *p, int depth);

static const char *json_check_string(const char *p)
{
    for (p++;; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"')
            return p + 1;
        if (c < 0x20) /* control characters (and the end of the text) are not allowed raw */
            return NULL;
        if (c == '\\') {
            p++;
            if (*p == 'u') {
                for (int i = 1; i <= 4; i++) {
                    char h = p[i];
                    if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') ||
                          (h >= 'A' && h <= 'F')))
                        return NULL;
                }
                p += 4;
            } else if (!*p || !strchr("\"\\/bfnrt", *p)) {
                return NULL;
            }
        }
    }
}

static const char *json_check_number(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (*p >= '0' && *p <= '9')
            p++;
    else
        return NULL;
    if (*p == '.') {
        p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!(*p >= '0' && *p <= '9'))
            return NULL;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return p;
}

static const char *json_check(const char *p, int depth)
{
    p = json_ws(p);
    if (depth > 64)
        return NULL;
    switch (*p) {
    case '"':
        return json_check_string(p);
    case '{':
    case '[': {
        char close = *p == '{' ? '}' : ']';
        p = json_ws(p + 1);
        if (*p == close)
            return p + 1;
        for (;;) {
            if (close == '}') {
                if (*p != '"' || !(p = json_check_string(p)))
                    return NULL;
                p = json_ws(p);
                if (*p++ != ':')
                    return NULL;
            }
            if (!(p = json_check(p, depth + 1)))
                return NULL;
            p = json_ws(p);
            if (*p == close)
                return p + 1;
            if (*p != ',')
                return NULL;
            p = json_ws(p + 1);
        }
    }
    case 't':
        return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f':
        return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n':
        return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    default:
        return json_check_number(p);
    }
}

/* Stored JSON object text as it is, or {} when it is not one valid JSON object. */
static void put_object_text(struct sp_buf *b, const char *text)
{
    const char *p = text ? json_ws(text) : NULL;
    const char *end = p && *p == '{' ? json_check(p, 0) : NULL;
    if (end && !*json_ws(end) && sp_utf8_valid(p, strlen(p))) {
        sp_buf_append(b, p, (size_t)(end - p));
        return;
    }
    if (text && *text)
        sp_warn("stored JSON is not an object", "%.80s", text);
    sp_buf_append(b, "{}", 2);
}

static void put_i64(struct sp_buf *b, int64_t v)
{
    char tmp[24], *p = tmp + sizeof tmp;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    sp_buf_append(b, p, (size_t)(tmp + sizeof tmp - p));
}

/* A JSON string, or null for NULL or text that is not valid UTF-8 (as sp_api_str_or_null). */
static void put_str_or_null(struct sp_buf *b, const char *s)
{
    if (s && sp_utf8_valid(s, strlen(s)))
        sp_buf_json_str(b, s);
    else
        sp_buf_append(b, "null", 4);
}

/* "YYYY-MM-DDThh:mm:ssZ" (as sp_api_time) without gmtime_r and its lock: days to civil date
 * (H. Hinnant's algorithm). */
static void put_time(struct sp_buf *b, int64_t t)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    if (y < 1000 || y > 9999) { /* outside what the fixed layout holds: the slow path */
        char buf[40];
        sp_time_rfc3339(t, buf, sizeof buf);
        sp_buf_json_str(b, buf);
        return;
    }
    char o[22] = "\"0000-00-00T00:00:00Z";
    int v[6] = {(int)y, (int)m, (int)d, (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60)};
    o[1] = (char)('0' + v[0] / 1000);
    o[2] = (char)('0' + v[0] / 100 % 10);
    o[3] = (char)('0' + v[0] / 10 % 10);
    o[4] = (char)('0' + v[0] % 10);
    static const int at[5] = {6, 9, 12, 15, 18};
    for (int i = 0; i < 5; i++) {
        o[at[i]] = (char)('0' + v[i + 1] / 10);
        o[at[i] + 1] = (char)('0' + v[i + 1] % 10);
    }
    sp_buf_append(b, o, 21);
    sp_buf_putc(b, '"');
}

void sp_api_release_write(struct sp_buf *b, const struct sp_release *r)
{
    sp_buf_puts(b, "{\"id\":");
    put_i64(b, r->id);
    sp_buf_puts(b, ",\"name\":");
    put_str_or_null(b, r->name);
    sp_buf_puts(b, ",\"user_id\":");
    put_i64(b, r->user_id);
    sp_buf_puts(b, ",\"group_id\":");
    put_i64(b, r->group_id);
    sp_buf_puts(b, ",\"group\":");
    put_str_or_null(b, r->group);
    sp_buf_puts(b, ",\"release_type\":");
    put_str_or_null(b, r->release_type);
    sp_buf_puts(b, ",\"status\":");
    put_str_or_null(b, r->status);
    sp_buf_puts(b, ",\"release_metadata\":");
    put_object_text(b, r->release_metadata);
    sp_buf_puts(b, ",\"config\":");
    put_object_text(b, r->config);
    sp_buf_puts(b, ",\"file_path\":");
    put_str_or_null(b, r->file_path);
    sp_buf_puts(b, ",\"file_size\":");
    put_i64(b, r->file_size > 0 ? r->file_size : 0);
    sp_buf_puts(b, ",\"rule_id\":");
    if (r->rule_id > 0)
        put_i64(b, r->rule_id);
    else
        sp_buf_append(b, "null", 4);
    sp_buf_puts(b, ",\"parent_id\":");
    if (r->parent_id > 0)
        put_i64(b, r->parent_id);
    else
        sp_buf_append(b, "null", 4);
    sp_buf_puts(b, ",\"created_at\":");
    put_time(b, r->created_at);
    sp_buf_puts(b, ",\"updated_at\":");
    put_time(b, r->updated_at);
    sp_buf_putc(b, '}');
}

void sp_api_pagination_write(struct sp_buf *b, int64_t page, int64_t per_page, int64_t total)
{
    int64_t pages = per_page > 0 ? (total + per_page - 1) / per_page : 0;
    sp_buf_puts(b, "{\"page\":");
    put_i64(b, page);
    sp_buf_puts(b, ",\"per_page\":");
    put_i64(b, per_page);
    sp_buf_puts(b, ",\"total\":");
    put_i64(b, total);
    sp_buf_puts(b, ",\"pages\":");
    put_i64(b, pages);
    sp_buf_putc(b, '}');
}

json_t *sp_api_rule_json(const struct sp_rule *r)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "name", sp_api_str_or_null(r->name));
    json_object_set_new(o, "scene", sp_api_str_or_null(r->scene));
    json_object_set_new(o, "section", sp_api_str_or_null(r->section));
    json_object_set_new(o, "year", sp_api_id_or_null(r->year));
    if (r->content)
        json_object_set_new(o, "content", sp_api_str_or_null(r->content));
    json_object_set_new(o, "builtin", json_boolean(r->builtin));
    json_object_set_new(o, "user_id", sp_api_id_or_null(r->user_id));
    json_object_set_new(o, "created_at", sp_api_time(r->created_at));
    json_object_set_new(o, "updated_at", sp_api_time(r->updated_at));
    return o;
}

/* ---- database, permissions ---- */

struct sp_db *sp_api_db(struct sp_request *req, struct sp_response *resp)
{
    SP_UNUSED(req);
    struct sp_db *db = sp_db_thread();
    if (!db) {
        struct sp_err e = {{0}, {0}};
        sp_err_set(&e, "", "the database is unavailable, retry shortly");
        sp_resp_rc(resp, SP_AGAIN, &e);
    }
    return db;
}

bool sp_api_can(const struct sp_request *req, int resource, int action)
{
    return req->principal.is_admin || sp_perms_has(req->principal.perms, resource, action);
}

bool sp_api_owner_or(const struct sp_request *req, int64_t owner_id, int resource, int action)
{
    return (owner_id > 0 && req->principal.user_id == owner_id) ||
           sp_api_can(req, resource, action);
}

int sp_api_forbidden(struct sp_response *resp, const char *what)
{
    struct sp_err e = {{0}, {0}};
    sp_err_set(&e, "", "you do not have permission to %s", what);
    sp_resp_rc(resp, SP_FORBIDDEN, &e);
    return SP_OK;
}

/* ---- answers ---- */

void sp_api_fail(struct sp_response *resp, int rc, const struct sp_err *e, const char *noun)
{
    struct sp_err d = {{0}, {0}};
    if (!e || !e->message[0]) {
        if (rc == SP_NOTFOUND)
            sp_err_set(&d, "", "%s not found", noun);
        else if (rc == SP_AGAIN)
            sp_err_set(&d, "", "the database is busy, retry shortly");
        e = &d;
    }
    sp_resp_rc(resp, rc, e);
}

int sp_api_param_id(struct sp_request *req, struct sp_response *resp, const char *name,
                    const char *noun, int64_t *id)
{
    if (sp_req_param_id(req, name, id) == SP_OK)
        return SP_OK;
    sp_api_fail(resp, SP_NOTFOUND, NULL, noun);
    return SP_NOTFOUND;
}

/* Answer rc (SP_INVALID or SP_CONFLICT) with a printf-style message naming field. */
static int answer_v(struct sp_response *resp, int rc, const char *field, const char *fmt,
                    va_list ap)
{
    struct sp_err e = {{0}, {0}};
    snprintf(e.field, sizeof e.field, "%s", field ? field : "");
    vsnprintf(e.message, sizeof e.message, fmt, ap);
    sp_resp_rc(resp, rc, &e);
    return SP_OK;
}

int sp_api_bad_request(struct sp_response *resp, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    answer_v(resp, SP_INVALID, field, fmt, ap);
    va_end(ap);
    return SP_OK;
}

int sp_api_conflict(struct sp_response *resp, const char *field, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    answer_v(resp, SP_CONFLICT, field, fmt, ap);
    va_end(ap);
    return SP_OK;
}

static bool listed(const char *const *list, const char *k)
{
    for (; list && *list; list++)
        if (!strcmp(*list, k))
            return true;
    return false;
}

int sp_api_known_keys(const json_t *body, struct sp_response *resp, const char *const *known,
                      const char *const *read_only)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)body, k, v)
    {
        if (!listed(known, k) && !listed(read_only, k)) {
            sp_api_bad_request(resp, k, "unknown field '%.64s'", k);
            return SP_INVALID;
        }
    }
    return SP_OK;
}

/* ---- response cache ---- */

static struct sp_cache *cache_of(struct sp_request *req)
{
    return req->app ? req->app->cache : NULL;
}

static int cache_ttl(struct sp_request *req)
{
    int ttl = req->app ? req->app->cfg.cache_ttl : 0;
    return ttl > 0 ? ttl : 0;
}

bool sp_api_cache_serve(struct sp_request *req, struct sp_response *resp, const char *key)
{
    struct sp_shared_bytes *b = sp_api_cache_get(req, key);
    if (!b)
        return false;
    sp_resp_shared(resp, 200, b);
    sp_shared_unref(b);
    return true;
}

struct sp_shared_bytes *sp_api_cache_get(struct sp_request *req, const char *key)
{
    struct sp_cache *c = cache_of(req);
    return (c && cache_ttl(req) > 0) ? sp_cache_get(c, key) : NULL;
}

struct sp_shared_bytes *sp_api_cache_put(struct sp_request *req, const char *key, const char *data,
                                         size_t len)
{
    struct sp_shared_bytes *b = sp_shared_new("application/json", data, len);
    struct sp_cache *c = cache_of(req);
    int ttl = cache_ttl(req);
    if (c && ttl > 0)
        sp_cache_put(c, key, b, ttl);
    return b;
}

void sp_api_cache_reply(struct sp_request *req, struct sp_response *resp, const char *key,
                        int status, json_t *body)
{
    size_t len;
    char *text = sp_json_dump(body, &len);
    json_decref(body);
    struct sp_shared_bytes *b = sp_api_cache_put(req, key, text, len);
    sp_free(text);
    sp_resp_shared(resp, status, b);
    sp_shared_unref(b);
}

uint64_t sp_api_gen(struct sp_request *req, int gen)
{
    struct sp_cache *c = cache_of(req);
    return c ? sp_cache_gen(c, gen) : 0;
}

void sp_api_bump(struct sp_request *req, int gen)
{
    struct sp_cache *c = cache_of(req);
    if (c)
        sp_cache_bump(c, gen);
}

/* ---- release metadata ---- */

enum meta_kind {
    MK_TEXT,     /* non-empty string up to maxlen */
    MK_YEAR,     /* integer */
    MK_ENUM,     /* one of values */
    MK_DATE,     /* YYYY-MM-DD */
    MK_PUBDATE,  /* YYYY, YYYY-MM or YYYY-MM-DD */
    MK_ISBN,     /* 10 or 13 digits (X last for ISBN-10), hyphens/spaces allowed */
    MK_URL,      /* http:// or https:// */
    MK_TEXT_INT, /* non-empty string, or a non-negative integer */
};

static const char *const sources[] = {"RETAiL", "SCAN", "HYBRiD", NULL};
static const char *const book_kinds[] = {"fiction", "technical", "magazine", "comic",
                                         "manga",   "newspaper", NULL};

static const struct meta_field {
    const char *key;
    enum meta_kind kind;
    size_t maxlen;
    const char *const *values;
} meta_fields[] = {
    {"title", MK_TEXT, 500, NULL},         {"author", MK_TEXT, 500, NULL},
    {"publisher", MK_TEXT, 255, NULL},     {"year", MK_YEAR, 0, NULL},
    {"language", MK_TEXT, 64, NULL},       {"source", MK_ENUM, 0, sources},
    {"isbn", MK_ISBN, 32, NULL},           {"genre", MK_TEXT, 128, NULL},
    {"release_date", MK_DATE, 10, NULL},   {"publish_date", MK_PUBDATE, 10, NULL},
    {"url", MK_URL, 2048, NULL},           {"edition", MK_TEXT, 64, NULL},
    {"volume", MK_TEXT_INT, 32, NULL},     {"issue", MK_TEXT_INT, 32, NULL},
    {"book_kind", MK_ENUM, 0, book_kinds},
};

static bool isbn_ok(const char *s)
{
    char digits[16];
    size_t n = 0;
    for (const char *p = s; *p; p++) {
        if (*p == '-' || *p == ' ')
            continue;
        if (n == sizeof digits - 1)
            return false;
        digits[n++] = *p;
    }
    if (n != 10 && n != 13)
        return false;
    for (size_t i = 0; i < n; i++) {
        bool last_x = n == 10 && i == 9 && (digits[i] == 'X' || digits[i] == 'x');
        if (!last_x && (digits[i] < '0' || digits[i] > '9'))
            return false;
    }
    return true;
}

static bool pubdate_ok(const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || ((i == 4 || i == 7) && s[i] == '-')))
            return false;
    if (n == 4)
        return true;
    if (n == 7 && s[4] == '-') {
        int m = (s[5] - '0') * 10 + (s[6] - '0');
        return m >= 1 && m <= 12;
    }
    return n == 10 && sp_time_valid_date(s);
}

/* Check one known field; SP_OK or SP_INVALID with e naming the bare key. */
static int check_field(const json_t *patch, const struct meta_field *f, struct sp_err *e)
{
    const char *s = NULL;
    int64_t iv;
    const json_t *v = json_object_get(patch, f->key);
    switch (f->kind) {
    case MK_YEAR:
        return sp_json_int(patch, f->key, SP_OPTIONAL, 1, 9999, &iv, e) == SP_INVALID ? SP_INVALID
                                                                                      : SP_OK;
    case MK_ENUM:
        return sp_json_enum(patch, f->key, SP_OPTIONAL, f->values, &s, e) == SP_INVALID ? SP_INVALID
                                                                                        : SP_OK;
    case MK_TEXT_INT:
        if (json_is_integer(v))
            return sp_json_int(patch, f->key, SP_OPTIONAL, 0, 1000000, &iv, e) == SP_INVALID
                       ? SP_INVALID
                       : SP_OK;
        if (!json_is_string(v)) {
            sp_err_set(e, f->key, "%s must be a string or a non-negative integer", f->key);
            return SP_INVALID;
        }
        break;
    default:
        break;
    }
    if (sp_json_string(patch, f->key, SP_OPTIONAL, 1, f->maxlen, &s, e) == SP_INVALID)
        return SP_INVALID;
    if (!s)
        return SP_OK;
    switch (f->kind) {
    case MK_DATE:
        if (strlen(s) != 10 || !sp_time_valid_date(s)) {
            sp_err_set(e, f->key, "%s must be a date YYYY-MM-DD", f->key);
            return SP_INVALID;
        }
        break;
    case MK_PUBDATE:
        if (!pubdate_ok(s)) {
            sp_err_set(e, f->key, "%s must be YYYY, YYYY-MM or YYYY-MM-DD", f->key);
            return SP_INVALID;
        }
        break;
    case MK_ISBN:
        if (!isbn_ok(s)) {
            sp_err_set(e, f->key, "%s must be an ISBN-10 or ISBN-13 (digits, hyphens allowed)",
                       f->key);
            return SP_INVALID;
        }
        break;
    case MK_URL:
        if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
            sp_err_set(e, f->key, "%s must be an http:// or https:// URL", f->key);
            return SP_INVALID;
        }
        for (const char *p = s; *p; p++) {
            if ((unsigned char)*p <= ' ') {
                sp_err_set(e, f->key, "%s must not contain spaces or control characters", f->key);
                return SP_INVALID;
            }
        }
        break;
    default:
        break;
    }
    return SP_OK;
}

static void prefix_err(struct sp_err *e, const char *prefix)
{
    if (!prefix || !*prefix)
        return;
    char field[sizeof e->field], msg[sizeof e->message];
    /* Over-long names are cut (the result stays NUL-terminated). */
    if (snprintf(field, sizeof field, "%s.%s", prefix, e->field) >= (int)sizeof field)
        field[sizeof field - 1] = '\0';
    if (snprintf(msg, sizeof msg, "%s.%s", prefix, e->message) >= (int)sizeof msg)
        msg[sizeof msg - 1] = '\0';
    memcpy(e->field, field, sizeof field);
    memcpy(e->message, msg, sizeof msg);
}

int sp_api_release_metadata_check(json_t *patch, const json_t *current, const char *prefix,
                                  struct sp_err *e)
{
    if (!json_is_object(patch)) {
        sp_err_set(e, prefix ? prefix : "release_metadata", "%s must be an object",
                   prefix ? prefix : "release_metadata");
        return SP_INVALID;
    }
    const char *key;
    json_t *v;
    void *tmp;
    json_object_foreach_safe(patch, tmp, key, v)
    {
        const struct meta_field *f = NULL;
        for (size_t i = 0; i < SP_ARRAY_LEN(meta_fields); i++)
            if (strcmp(meta_fields[i].key, key) == 0)
                f = &meta_fields[i];
        if (!f) {
            const json_t *old = json_is_object(current) ? json_object_get(current, key) : NULL;
            if (old && json_equal((json_t *)old, v)) {
                json_object_del(patch, key); /* sent back unchanged: nothing to do */
                continue;
            }
            sp_err_set(e, key, "%s is not a known metadata field", key);
            prefix_err(e, prefix);
            return SP_INVALID;
        }
        if (json_is_null(v))
            continue; /* removes the field */
        if (check_field(patch, f, e) != SP_OK) {
            prefix_err(e, prefix);
            return SP_INVALID;
        }
    }
    return SP_OK;
}

/* ---- release config ---- */

int sp_api_release_config_check(json_t *config, struct sp_err *e)
{
    int b;
    int64_t iv;
    const char *s;
    if (!json_is_object(config)) {
        sp_err_set(e, "config", "config must be an object");
        return SP_INVALID;
    }
    json_t *zs = json_object_get(config, "zip_size");
    if (zs && !json_is_null(zs)) {
        int64_t bytes = 0;
        bool ok = false;
        if (json_is_integer(zs))
            ok = sp_zip_size_valid(json_integer_value(zs));
        else if (json_is_string(zs))
            ok = sp_zip_size_parse(json_string_value(zs), &bytes, NULL) == SP_OK;
        if (!ok) {
            sp_zip_size_parse(NULL, NULL, e); /* the message listing the allowed sizes */
            prefix_err(e, "config");
            return SP_INVALID;
        }
        if (bytes)
            json_object_set_new(config, "zip_size", json_integer(bytes));
    }
    if (sp_json_bool(config, "create_sfv", SP_NULLABLE, &b, e) == SP_INVALID ||
        sp_json_bool(config, "include_extras", SP_NULLABLE, &b, e) == SP_INVALID ||
        sp_json_string(config, "template", SP_NULLABLE, 1, 65536, &s, e) == SP_INVALID)
        goto bad;
    json_t *tid = json_object_get(config, "template_id");
    if (tid && json_is_integer(tid)) {
        if (sp_json_int(config, "template_id", SP_REQUIRED, 1, INT64_MAX, &iv, e) != SP_OK)
            goto bad;
    } else if (tid && !json_is_null(tid) &&
               sp_json_string(config, "template_id", SP_REQUIRED, 1, 64, &s, e) != SP_OK) {
        sp_err_set(e, "template_id", "template_id must be a template id or name");
        goto bad;
    }
    return SP_OK;
bad:
    prefix_err(e, "config");
    return SP_INVALID;
}

/*
 * fuzz_json.c — JSON request bodies, the way the server handles them: sp_req_parse_body (UTF-8
 * check, jansson with duplicate keys refused) and sp_req_json_object, then the declarative
 * getters of util/json.c and the API validators that run on bodies without a server
 * (sp_api_release_metadata_check, sp_api_release_config_check); and the other direction, the
 * hand-written release serializer sp_api_release_write with the input as the stored
 * release_metadata text (its own JSON checker decides whether to copy it through).
 *
 * Input: the request body. The Content-Type is picked from the input's length (JSON, a JSON
 * suffix type, text/plain or multipart). Invariants: a refused body gets a 4xx error response;
 * an accepted value dumps (sp_json_dump) to text that parses back equal; a getter that returns
 * SP_INVALID names the field; the serialized release is valid JSON whose release_metadata is
 * the stored object (or {} when the checker refused the text) and whose timestamps read as
 * sp_time_rfc3339 writes them.
 */
#include "fuzz_common.h"

#include "api/common.h"
#include "http/http.h"
#include "http/server.h"
#include "store/releases.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/time.h"

static const char *const content_types[] = {
    "application/json",
    "application/merge-patch+json; charset=utf-8",
    "text/plain",
    "multipart/form-data; boundary=x",
};

/* Keys the API's handlers read, plus a few that only a fuzzer would send. */
static const char *const keys[] = {
    "name",
    "title",
    "username",
    "password",
    "page",
    "per_page",
    "year",
    "active",
    "role",
    "status",
    "id",
    "group_id",
    "rule_id",
    "zip_size",
    "config",
    "content",
    "items",
    "",
    "release_metadata",
    "template_id",
};

static const char *const kinds[] = {"fiction", "technical", "magazine", "comic", NULL};

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

static void expect_field(int rc, const struct sp_err *e, const char *what)
{
    if (rc == SP_INVALID && !e->field[0] && !e->message[0])
        fz_fail("%s returned SP_INVALID without naming the field", what);
}

static void getters(const json_t *obj, struct fz_rng *r)
{
    for (size_t i = 0; i < SP_ARRAY_LEN(keys); i++) {
        const char *k = keys[i];
        int flags = (int)fz_rng_below(r, 4);
        struct sp_err e = {{0}, {0}};
        const char *s = NULL;
        int64_t iv = 0;
        int b = 0;
        json_t *j = NULL;
        size_t minlen = fz_rng_below(r, 3), maxlen = fz_rng_below(r, 300);
        int rc = sp_json_string(obj, k, flags, minlen, maxlen, &s, &e);
        expect_field(rc, &e, "sp_json_string");
        if (rc == SP_OK && (strlen(s) < minlen || (maxlen && strlen(s) > maxlen)))
            fz_fail("sp_json_string(%s) returned a string outside [%zu,%zu]", k, minlen, maxlen);
        rc = sp_json_int(obj, k, flags, -5, 1000000, &iv, &e);
        expect_field(rc, &e, "sp_json_int");
        if (rc == SP_OK && (iv < -5 || iv > 1000000))
            fz_fail("sp_json_int(%s) returned %lld outside its bounds", k, (long long)iv);
        expect_field(sp_json_bool(obj, k, flags, &b, &e), &e, "sp_json_bool");
        expect_field(sp_json_enum(obj, k, flags, kinds, &s, &e), &e, "sp_json_enum");
        expect_field(sp_json_object(obj, k, flags, &j, &e), &e, "sp_json_object");
        expect_field(sp_json_array(obj, k, flags, &j, &e), &e, "sp_json_array");
    }
}

static void validators(json_t *obj)
{
    struct sp_err e = {{0}, {0}};
    json_t *copy = json_deep_copy(obj);
    expect_field(sp_api_release_metadata_check(copy, NULL, NULL, &e), &e, "metadata_check");
    json_decref(copy);

    json_t *rm = json_object_get(obj, "release_metadata");
    if (rm) {
        copy = json_deep_copy(rm);
        memset(&e, 0, sizeof e);
        expect_field(sp_api_release_metadata_check(copy, json_object_get(obj, "current"),
                                                   "release_metadata", &e),
                     &e, "metadata_check");
        json_decref(copy);
    }
    json_t *cfg = json_object_get(obj, "config");
    copy = json_deep_copy(cfg ? cfg : obj);
    memset(&e, 0, sizeof e);
    expect_field(sp_api_release_config_check(copy, &e), &e, "config_check");
    json_decref(copy);
}

static void round_trip(const json_t *j)
{
    size_t n = 0;
    char *text = sp_json_dump(j, &n);
    json_error_t err;
    json_t *back = json_loadb(text, n, JSON_DECODE_ANY, &err);
    if (!back || !json_equal((json_t *)j, back))
        fz_fail("sp_json_dump output does not parse back equal: %s (%s)", text, err.text);
    json_decref(back);
    sp_free(text);
}

/* jansson refuses some text the JSON grammar allows (numbers it cannot hold, lone surrogate
 * escapes, \u0000 in keys): those refusals say nothing about the serializer. */
static int jansson_limit(const json_error_t *err)
{
    return strstr(err->text, "overflow") || strstr(err->text, "too big") ||
           strstr(err->text, "Unicode") || strstr(err->text, "surrogate") ||
           strstr(err->text, "NUL byte");
}

static void check_time(const json_t *o, const char *key, int64_t t)
{
    char want[64];
    sp_time_rfc3339(t, want, sizeof want);
    const char *got = json_string_value(json_object_get(o, key));
    if (!got || strcmp(got, want) != 0)
        fz_fail("%s for %lld is \"%s\", sp_time_rfc3339 says \"%s\"", key, (long long)t,
                got ? got : "(none)", want);
}

static void serializer(const char *text, struct fz_rng *r)
{
    struct sp_release rel;
    memset(&rel, 0, sizeof rel);
    rel.id = 1;
    rel.name = "A.B.2020.RETAiL.eBOOK-GRP";
    rel.status = "draft";
    rel.release_metadata = (char *)text;
    rel.config = "{\"zip_size\":5000000}";
    /* timestamps: ±2^40 s around the epoch (years -32000..36000), and near now */
    rel.created_at = (int64_t)(fz_rng_next(r) % (UINT64_C(1) << 41)) - (INT64_C(1) << 40);
    rel.updated_at = 1700000000 + (int64_t)(fz_rng_next(r) % 2000000000) - 1000000000;
    struct sp_buf b = SP_BUF_INIT;
    sp_api_release_write(&b, &rel);
    json_error_t err;
    json_t *out = json_loadb(b.data, b.len, JSON_ALLOW_NUL, &err);
    if (!out) {
        if (!jansson_limit(&err))
            fz_fail("sp_api_release_write wrote invalid JSON (%s): %.300s", err.text, b.data);
    } else {
        const json_t *meta = json_object_get(out, "release_metadata");
        if (!json_is_object(meta))
            fz_fail("release_metadata is not an object: %.300s", b.data);
        if (json_object_size(meta) > 0) {
            json_t *in = json_loads(text, JSON_ALLOW_NUL, &err);
            if (!json_equal(meta, in))
                fz_fail("release_metadata differs from the stored text \"%.200s\"", text);
            json_decref(in);
        }
        check_time(out, "created_at", rel.created_at);
        check_time(out, "updated_at", rel.updated_at);
        json_decref(out);
    }
    sp_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 64 * 1024)
        return 0;
    char *body = fz_cstr(data, size);
    char arena[2048];
    struct sp_req_priv priv;
    sp_req_priv_init(&priv, arena, sizeof arena);
    struct sp_request req;
    memset(&req, 0, sizeof req);
    req.method = "POST";
    req.path = "/api/fuzz";
    req.priv = &priv;
    req.body = body;
    req.body_len = size;
    sp_req_parse_body(&req, content_types[size % SP_ARRAY_LEN(content_types)]);

    struct sp_response resp;
    sp_resp_init(&resp);
    int rc = sp_req_json_object(&req, &resp);
    if (rc != SP_OK && (resp.status < 400 || resp.status > 499 || !resp.body))
        fz_fail("a refused body got status %d", resp.status);
    if (rc == SP_OK && !json_is_object(req.json))
        fz_fail("sp_req_json_object accepted a non-object");
    sp_resp_free(&resp);

    if (req.json) {
        round_trip(req.json);
        if (json_is_object(req.json)) {
            struct fz_rng r;
            fz_rng_seed(&r, data, size);
            getters(req.json, &r);
            validators(req.json);
        }
        json_decref(req.json);
    }
    struct fz_rng r;
    fz_rng_seed(&r, data, size);
    serializer(body, &r);
    /* query parameters go through sp_parse_int */
    if (size <= 32) {
        int64_t v = 0;
        struct sp_err e = {{0}, {0}};
        if (sp_parse_int(body, "page", 1, 100000000, &v, &e) == SP_OK && (v < 1 || v > 100000000))
            fz_fail("sp_parse_int(\"%s\") returned %lld outside its bounds", body, (long long)v);
    }
    sp_req_priv_release(&priv);
    sp_free(body);
    return 0;
}

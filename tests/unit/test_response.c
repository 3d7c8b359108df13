/* test_response.c — http/response.c (error body shape, return code → status mapping, bodies,
 * headers, shared bytes, the headers every response carries) and the request-side helpers the
 * server builds on (body parsing, sp_req_json_object, the arena, request ids, client IP). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "http/http.h"
#include "http/middleware.h"
#include "http/server.h"

/* Parse the response body as a JSON object (new reference). */
static json_t *body_json(const struct sp_response *r)
{
    assert_non_null(r->body);
    json_error_t err;
    json_t *j = json_loadb(r->body, r->body_len, 0, &err);
    assert_non_null(j);
    assert_true(json_is_object(j));
    return j;
}

static void assert_error_body(const struct sp_response *r, int status, const char *code,
                              const char *field)
{
    assert_int_equal(r->status, status);
    assert_string_equal(r->content_type, "application/json");
    json_t *j = body_json(r);
    assert_string_equal(json_string_value(json_object_get(j, "code")), code);
    assert_true(json_is_string(json_object_get(j, "message")));
    assert_true(strlen(json_string_value(json_object_get(j, "message"))) > 0);
    if (field)
        assert_string_equal(json_string_value(json_object_get(j, "field")), field);
    else
        assert_null(json_object_get(j, "field"));
    assert_int_equal(json_object_size(j), field ? 3 : 2);
    json_decref(j);
}

static void test_error_body_shape(void **state)
{
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_error(&r, 400, "validation_error", "title", "title must be at most %d characters", 200);
    assert_error_body(&r, 400, "validation_error", "title");
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "message")),
                        "title must be at most 200 characters");
    json_decref(j);

    /* no field → no "field" key; an empty field is the same */
    sp_resp_error(&r, 404, "not_found", NULL, "no such release");
    assert_error_body(&r, 404, "not_found", NULL);
    sp_resp_error(&r, 404, "not_found", "", "no such release");
    assert_error_body(&r, 404, "not_found", NULL);

    /* quotes, control characters and non-UTF-8 bytes never break the JSON */
    sp_resp_error(&r, 400, "validation_error", "na\"me", "bad \"%s\"\n\t", "x\\y");
    assert_error_body(&r, 400, "validation_error", "na\"me");
    sp_resp_error(&r, 400, "validation_error", "f", "bad %s", "caf\xe9");
    assert_error_body(&r, 400, "validation_error", "f");
    sp_resp_free(&r);
}

static void test_rc_mapping(void **state)
{
    static const struct {
        int rc;
        int status;
        const char *code;
    } cases[] = {
        {SP_INVALID, 400, "validation_error"},
        {SP_NOTFOUND, 404, "not_found"},
        {SP_CONFLICT, 409, "conflict"},
        {SP_FORBIDDEN, 403, "forbidden"},
        {SP_AGAIN, 503, "unavailable"},
        {SP_ERR, 500, "internal"},
        {99, 500, "internal"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sp_response r;
        sp_resp_init(&r);
        sp_resp_rc(&r, cases[i].rc, NULL);
        assert_error_body(&r, cases[i].status, cases[i].code, NULL);
        if (cases[i].status == 503)
            assert_string_equal(sp_resp_header_get(&r, "Retry-After"), "1");
        else
            assert_null(sp_resp_header_get(&r, "Retry-After"));
        sp_resp_free(&r);
    }
}

static void test_rc_mapping_uses_err(void **state)
{
    struct sp_response r;
    sp_resp_init(&r);
    struct sp_err e = {{0}, {0}};
    sp_err_set(&e, "per_page", "per_page must be between 1 and 100");
    sp_resp_rc(&r, SP_INVALID, &e);
    assert_error_body(&r, 400, "validation_error", "per_page");
    json_t *j = body_json(&r);
    assert_string_equal(json_string_value(json_object_get(j, "message")), e.message);
    json_decref(j);

    sp_err_set(&e, "name", "a release named X already exists");
    sp_resp_rc(&r, SP_CONFLICT, &e);
    assert_error_body(&r, 409, "conflict", "name");

    /* internal details are never sent */
    sp_err_set(&e, "", "sqlite: disk I/O error at /secret/path");
    sp_resp_rc(&r, SP_ERR, &e);
    assert_error_body(&r, 500, "internal", NULL);
    assert_null(strstr(r.body, "secret"));

    /* a handler's own Retry-After is kept */
    sp_resp_free(&r);
    sp_resp_header(&r, "Retry-After", "30");
    sp_resp_rc(&r, SP_AGAIN, NULL);
    assert_string_equal(sp_resp_header_get(&r, "Retry-After"), "30");
    sp_resp_free(&r);
}

static void test_json_and_bytes(void **state)
{
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_json(&r, 201, json_pack("{s:i}", "release_id", 7));
    assert_int_equal(r.status, 201);
    assert_string_equal(r.content_type, "application/json");
    assert_memory_equal(r.body, "{\"release_id\":7}", r.body_len);

    /* a later body replaces the former (no leak: ASan checks) */
    sp_resp_copy(&r, 200, "text/plain", "hello", 5);
    assert_int_equal(r.body_len, 5);
    assert_memory_equal(r.body, "hello", 5);
    sp_resp_take(&r, 200, "text/plain", strdup("owned"), 5);
    assert_memory_equal(r.body, "owned", 5);

    /* a NULL document becomes an internal error, not a crash */
    sp_resp_json(&r, 200, NULL);
    assert_error_body(&r, 500, "internal", NULL);

    sp_resp_rc(&r, SP_OK, NULL);
    assert_int_equal(r.status, 200);
    sp_resp_free(&r);
    assert_int_equal(r.status, 0);
    assert_int_equal(r.fd, -1);
    assert_null(r.body);
}

static void test_headers(void **state)
{
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_header(&r, "Location", "/api/releases/1");
    sp_resp_header(&r, "location", "/api/releases/2"); /* same header, replaced */
    assert_int_equal(r.nheaders, 1);
    assert_string_equal(sp_resp_header_get(&r, "LOCATION"), "/api/releases/2");
    assert_null(sp_resp_header_get(&r, "Allow"));
    char name[32];
    for (int i = 0; i < SP_MAX_RESP_HEADERS + 5; i++) {
        snprintf(name, sizeof name, "X-H%d", i);
        sp_resp_header(&r, name, "v");
    }
    assert_int_equal(r.nheaders, SP_MAX_RESP_HEADERS);
    sp_resp_free(&r);
    assert_int_equal(r.nheaders, 0);
}

static void test_shared_bytes(void **state)
{
    struct sp_shared_bytes *b = sp_shared_new("application/json", "{\"a\":1}", 7);
    assert_int_equal(b->refs, 1);
    assert_int_equal(b->len, 7);
    assert_string_equal(b->ctype, "application/json");
    assert_memory_equal(b->data, "{\"a\":1}", 7);

    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_shared(&r, 200, b); /* the response takes its own reference */
    assert_int_equal(b->refs, 2);
    assert_ptr_equal(r.shared, b);
    assert_string_equal(r.content_type, "application/json");
    sp_resp_copy(&r, 200, "text/plain", "x", 1); /* replacing the body drops it */
    assert_int_equal(b->refs, 1);
    assert_null(r.shared);
    sp_resp_shared(&r, 200, b);
    sp_resp_free(&r);
    assert_int_equal(b->refs, 1);
    sp_shared_unref(b);
}

static void test_file_body_is_owned(void **state)
{
    int fd = open("/dev/null", O_RDONLY);
    assert_true(fd >= 0);
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_file(&r, 200, "application/zip", fd, 0, 0);
    assert_int_equal(r.fd, fd);
    sp_resp_error(&r, 500, "internal", NULL, "failed"); /* replacing it closes the fd */
    assert_int_equal(r.fd, -1);
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    sp_resp_free(&r);
}

/* ---- common headers ---- */

static const char *hdr(struct sp_hdr *h, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcasecmp(h[i].name, name) == 0)
            return h[i].value;
    return NULL;
}

static void test_common_headers(void **state)
{
    struct sp_config *cfg = calloc(1, sizeof *cfg);
    struct sp_err e = {{0}, {0}};
    assert_int_equal(sp_resp_configure(cfg, &e), SP_OK);

    struct sp_request req;
    memset(&req, 0, sizeof req);
    snprintf(req.request_id, sizeof req.request_id, "abc-123");
    req.path = "/api/releases";
    struct sp_response r;
    sp_resp_init(&r);
    sp_resp_copy(&r, 200, "application/json", "{}", 2);

    struct sp_hdr h[SP_COMMON_HEADERS_MAX];
    int n = sp_resp_common_headers(&req, &r, 0, h);
    assert_true(n <= SP_COMMON_HEADERS_MAX);
    assert_string_equal(hdr(h, n, "X-Request-Id"), "abc-123");
    assert_string_equal(hdr(h, n, "X-Content-Type-Options"), "nosniff");
    assert_string_equal(hdr(h, n, "X-Frame-Options"), "DENY");
    assert_string_equal(hdr(h, n, "Referrer-Policy"), "no-referrer");
    assert_string_equal(hdr(h, n, "Cache-Control"), "no-store");
    assert_non_null(hdr(h, n, "Content-Security-Policy"));
    assert_null(hdr(h, n, "Strict-Transport-Security"));
    assert_null(hdr(h, n, "Connection"));
    assert_null(hdr(h, n, "Access-Control-Allow-Origin"));

    /* the UI: a strict CSP, no forced no-store; a response's own Cache-Control wins */
    req.path = "/";
    sp_resp_copy(&r, 200, "text/html; charset=utf-8", "<p>", 3);
    n = sp_resp_common_headers(&req, &r, 1, h);
    assert_null(hdr(h, n, "Cache-Control"));
    const char *csp = hdr(h, n, "Content-Security-Policy");
    assert_non_null(strstr(csp, "default-src 'none'"));
    assert_non_null(strstr(csp, "script-src 'self'"));
    assert_non_null(strstr(csp, "frame-ancestors 'none'"));
    assert_null(strstr(csp, "unsafe-inline"));
    assert_string_equal(hdr(h, n, "Connection"), "close");
    req.path = "/api/x";
    sp_resp_header(&r, "Cache-Control", "no-cache");
    n = sp_resp_common_headers(&req, &r, 0, h);
    assert_null(hdr(h, n, "Cache-Control")); /* the response's own header is the one sent */

    cfg->hsts = true;
    snprintf(cfg->cors_origins, sizeof cfg->cors_origins,
             "https://ui.example.org, http://localhost:3000");
    assert_int_equal(sp_resp_configure(cfg, &e), SP_OK);
    n = sp_resp_common_headers(&req, &r, 0, h);
    assert_non_null(strstr(hdr(h, n, "Strict-Transport-Security"), "max-age="));
    assert_string_equal(hdr(h, n, "Vary"), "Origin");
    assert_null(hdr(h, n, "Access-Control-Allow-Origin")); /* no Origin header sent */

    /* malformed origins are refused at start */
    const char *bad[] = {"ui.example.org", "https://x.org/", "ftp://x.org", "https://"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg->cors_origins, sizeof cfg->cors_origins, "%s", bad[i]);
        memset(&e, 0, sizeof e);
        assert_int_equal(sp_resp_configure(cfg, &e), SP_INVALID);
        assert_string_equal(e.field, "cors_origins");
    }
    memset(cfg, 0, sizeof *cfg);
    assert_int_equal(sp_resp_configure(cfg, &e), SP_OK);
    sp_resp_free(&r);
    free(cfg);
}

static void test_html_csp_with_hashes(void **state)
{
    char csp[1024];
    sp_resp_csp_html("'sha256-AAAA'", csp, sizeof csp);
    assert_non_null(strstr(csp, "style-src 'self' 'sha256-AAAA';"));
    sp_resp_csp_html(NULL, csp, sizeof csp);
    assert_non_null(strstr(csp, "style-src 'self';"));
}

/* ---- request body parsing and sp_req_json_object ---- */

struct fake_req {
    struct sp_req_priv priv;
    struct sp_request req;
    char arena[512];
};

static void fake_init(struct fake_req *f, const char *body)
{
    memset(f, 0, sizeof *f);
    sp_req_priv_init(&f->priv, f->arena, sizeof f->arena);
    f->req.priv = &f->priv;
    f->req.body = body;
    f->req.body_len = body ? strlen(body) : 0;
}

static void fake_done(struct fake_req *f)
{
    json_decref(f->req.json);
    sp_req_priv_release(&f->priv);
}

static void test_json_object_body(void **state)
{
    struct fake_req f;
    struct sp_response r;
    sp_resp_init(&r);

    fake_init(&f, "{\"group\":\"AAA\"}");
    sp_req_parse_body(&f.req, "application/json; charset=utf-8");
    assert_int_equal(sp_req_json_object(&f.req, &r), SP_OK);
    assert_string_equal(json_string_value(json_object_get(f.req.json, "group")), "AAA");
    assert_int_equal(r.status, 0);
    fake_done(&f);

    /* clients that forget the header still work */
    fake_init(&f, "{}");
    sp_req_parse_body(&f.req, NULL);
    assert_int_equal(sp_req_json_object(&f.req, &r), SP_OK);
    fake_done(&f);

    struct {
        const char *body;
        const char *ctype;
        int status;
        const char *in_message;
    } bad[] = {
        {NULL, "application/json", 400, "required"},
        {"null", "application/json", 400, "not null"},
        {"[1,2]", "application/json", 400, "JSON object"},
        {"\"text\"", "application/json", 400, "JSON object"},
        {"{\"a\":1,}", "application/json", 400, "line 1, column"},
        {"{\n  \"a\": tru\n}", "application/json", 400, "line 2"},
        {"{\"a\":1,\"a\":2}", "application/json", 400, "malformed"},
        {"{\"a\":\"caf\xe9\"}", "application/json", 400, "UTF-8"},
        {"{\"a\":\"x\\u0000y\"}", "application/json", 400, "malformed"},
        {"--b\r\nContent-Disposition: form-data", "multipart/form-data; boundary=b", 415,
         "application/json"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fake_init(&f, bad[i].body);
        sp_req_parse_body(&f.req, bad[i].ctype);
        assert_int_equal(sp_req_json_object(&f.req, &r), SP_INVALID);
        assert_error_body(&r, bad[i].status,
                          bad[i].status == 415 ? "unsupported_media_type" : "validation_error",
                          "body");
        if (!strstr(r.body, bad[i].in_message))
            fail_msg("case %zu: '%s' not in %s", i, bad[i].in_message, r.body);
        fake_done(&f);
    }
    sp_resp_free(&r);
}

static int cleaned;
static void on_cleanup(void *arg)
{
    cleaned = cleaned * 10 + (int)(intptr_t)arg;
}

static void test_arena_and_cleanups(void **state)
{
    struct fake_req f;
    fake_init(&f, NULL);
    char *small = sp_req_alloc(&f.req, 100);
    for (int i = 0; i < 100; i++)
        assert_int_equal(small[i], 0);
    assert_int_equal((uintptr_t)small % 16, 0);
    char *big = sp_req_alloc(&f.req, 100000); /* beyond the inline block: heap */
    big[99999] = 'x';
    for (int i = 0; i < 200; i++) /* many small ones spill into new blocks */
        memset(sp_req_alloc(&f.req, 300), 'a', 300);
    assert_string_equal(sp_req_strdup(&f.req, "hello"), "hello");
    cleaned = 0;
    sp_req_on_cleanup(&f.req, on_cleanup, (void *)(intptr_t)1);
    sp_req_on_cleanup(&f.req, on_cleanup, (void *)(intptr_t)2);
    sp_req_priv_release(&f.priv);
    assert_int_equal(cleaned, 21); /* last registered runs first */
    /* no headers without a connection */
    assert_null(sp_req_header(&f.req, "Host"));
    assert_null(sp_req_query(&f.req, "page"));
}

/* ---- request ids and client addresses ---- */

static void test_request_id_validation(void **state)
{
    assert_true(sp_mw_request_id_ok("abc-123_X.y"));
    char max[65];
    memset(max, 'a', 64);
    max[64] = '\0';
    assert_true(sp_mw_request_id_ok(max));
    char over[66];
    memset(over, 'a', 65);
    over[65] = '\0';
    assert_false(sp_mw_request_id_ok(over));
    assert_false(sp_mw_request_id_ok(""));
    assert_false(sp_mw_request_id_ok("has space"));
    assert_false(sp_mw_request_id_ok("a\"b"));
    assert_false(sp_mw_request_id_ok("a\nb"));
    assert_false(sp_mw_request_id_ok("caf\xc3\xa9"));
}

static struct sockaddr_in v4(const char *ip)
{
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    return sa;
}

static void test_client_ip(void **state)
{
    struct sp_config *cfg = calloc(1, sizeof *cfg);
    struct sp_err e = {{0}, {0}};
    char out[64];

    /* no trusted proxies: X-Forwarded-For is ignored */
    assert_int_equal(sp_mw_init(cfg, &e), SP_OK);
    struct sockaddr_in peer = v4("10.1.2.3");
    sp_mw_client_ip((struct sockaddr *)&peer, "203.0.113.9", out, sizeof out);
    assert_string_equal(out, "10.1.2.3");

    snprintf(cfg->trusted_proxies, sizeof cfg->trusted_proxies, "10.0.0.0/8, 127.0.0.1,::1");
    assert_int_equal(sp_mw_init(cfg, &e), SP_OK);
    sp_mw_client_ip((struct sockaddr *)&peer, "203.0.113.9", out, sizeof out);
    assert_string_equal(out, "203.0.113.9");
    /* the right-most hop that is not a proxy is the client; spoofed left entries are ignored */
    sp_mw_client_ip((struct sockaddr *)&peer, "1.1.1.1, 203.0.113.9, 10.9.9.9", out, sizeof out);
    assert_string_equal(out, "203.0.113.9");
    /* garbage stops the walk at the last trusted hop */
    sp_mw_client_ip((struct sockaddr *)&peer, "203.0.113.9, not-an-ip", out, sizeof out);
    assert_string_equal(out, "10.1.2.3");
    sp_mw_client_ip((struct sockaddr *)&peer, NULL, out, sizeof out);
    assert_string_equal(out, "10.1.2.3");
    /* an untrusted peer's header is not believed */
    struct sockaddr_in other = v4("192.0.2.1");
    sp_mw_client_ip((struct sockaddr *)&other, "203.0.113.9", out, sizeof out);
    assert_string_equal(out, "192.0.2.1");

    /* IPv4-mapped IPv6 peers read as IPv4 */
    struct sockaddr_in6 s6;
    memset(&s6, 0, sizeof s6);
    s6.sin6_family = AF_INET6;
    inet_pton(AF_INET6, "::ffff:127.0.0.1", &s6.sin6_addr);
    sp_mw_client_ip((struct sockaddr *)&s6, "198.51.100.4", out, sizeof out);
    assert_string_equal(out, "198.51.100.4");
    inet_pton(AF_INET6, "2001:db8::1", &s6.sin6_addr);
    sp_mw_client_ip((struct sockaddr *)&s6, "198.51.100.4", out, sizeof out);
    assert_string_equal(out, "2001:db8::1");

    const char *bad[] = {"10.0.0.0/33", "example.org", "1.2.3.4/", "::1/129"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cfg->trusted_proxies, sizeof cfg->trusted_proxies, "%s", bad[i]);
        assert_int_equal(sp_mw_init(cfg, &e), SP_INVALID);
        assert_string_equal(e.field, "trusted_proxies");
    }
    cfg->trusted_proxies[0] = '\0';
    assert_int_equal(sp_mw_init(cfg, &e), SP_OK);
    free(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_body_shape),
        cmocka_unit_test(test_rc_mapping),
        cmocka_unit_test(test_rc_mapping_uses_err),
        cmocka_unit_test(test_json_and_bytes),
        cmocka_unit_test(test_headers),
        cmocka_unit_test(test_shared_bytes),
        cmocka_unit_test(test_file_body_is_owned),
        cmocka_unit_test(test_common_headers),
        cmocka_unit_test(test_html_csp_with_hashes),
        cmocka_unit_test(test_json_object_body),
        cmocka_unit_test(test_arena_and_cleanups),
        cmocka_unit_test(test_request_id_validation),
        cmocka_unit_test(test_client_ip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

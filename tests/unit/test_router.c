/* test_router.c — route matching: literals, {params}, specificity, 404/405 with Allow, bad tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"
#include "http/router.h"
#include "http/server.h"

static int h_list(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_create(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_get(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_put(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_del(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_scene(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_logs(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_root(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}
static int h_two(struct sp_request *r, struct sp_response *w)
{
    return SP_OK;
}

/* {id} is declared before the literal "scenerules" on purpose: the literal must still win */
static const struct sp_route releases[] = {
    {"GET", "/api/releases", h_list, SP_AUTH_USER, 0, 0},
    {"POST", "/api/releases", h_create, SP_AUTH_USER, 0, 1},
    {"GET", "/api/releases/{id}", h_get, SP_AUTH_USER, 0, 0},
    {"PUT", "/api/releases/{id}", h_put, SP_AUTH_USER, 0, 1},
    {"DELETE", "/api/releases/{id}", h_del, SP_AUTH_USER, 0, 3},
    {0},
};
static const struct sp_route rules[] = {
    {"GET", "/api/rules/{id}", h_get, SP_AUTH_USER, 1, 0},
    {"DELETE", "/api/rules/{id}", h_del, SP_AUTH_USER, 1, 3},
    {"GET", "/api/rules/scenerules", h_scene, SP_AUTH_USER, 1, 0},
    {"GET", "/api/jobs/{id}/logs", h_logs, SP_AUTH_USER, 5, 0},
    {"GET", "/api/a/{x}/b/{y}", h_two, SP_AUTH_NONE, -1, -1},
    {"GET", "/", h_root, SP_AUTH_NONE, -1, -1},
    {0},
};
static const struct sp_route *const tables[] = {releases, rules, NULL};

static struct sp_router *rt;
static char scratch[256];

static int setup(void **state)
{
    struct sp_err e = {{0}, {0}};
    rt = sp_router_new(tables, &e);
    assert_non_null(rt);
    return 0;
}

static int teardown(void **state)
{
    sp_router_free(rt);
    return 0;
}

static int match(const char *method, const char *path, struct sp_route_match *m)
{
    return sp_router_match(rt, method, path, scratch, sizeof scratch, m);
}

static void test_literal_routes(void **state)
{
    struct sp_route_match m;
    assert_int_equal(match("GET", "/api/releases", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_list);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match("POST", "/api/releases", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_create);
    assert_int_equal(match("GET", "/", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_root);
}

static void test_params_are_extracted(void **state)
{
    struct sp_route_match m;
    assert_int_equal(match("GET", "/api/releases/42", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_get);
    assert_int_equal(m.nparams, 1);
    assert_string_equal(m.params[0].name, "id");
    assert_string_equal(m.params[0].value, "42");

    assert_int_equal(match("GET", "/api/a/one/b/two", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_two);
    assert_int_equal(m.nparams, 2);
    assert_string_equal(m.params[0].name, "x");
    assert_string_equal(m.params[0].value, "one");
    assert_string_equal(m.params[1].name, "y");
    assert_string_equal(m.params[1].value, "two");

    assert_int_equal(match("GET", "/api/jobs/7/logs", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_logs);
    assert_string_equal(m.params[0].value, "7");
}

static void test_literal_beats_param(void **state)
{
    struct sp_route_match m;
    assert_int_equal(match("GET", "/api/rules/scenerules", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_scene);
    assert_int_equal(m.nparams, 0);
    assert_int_equal(match("GET", "/api/rules/12", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_get);
    /* the literal has no DELETE: the {id} route serves it (and will say 404 for that id) */
    assert_int_equal(match("DELETE", "/api/rules/scenerules", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_del);
}

static void test_head_is_get_and_trailing_slash(void **state)
{
    struct sp_route_match m;
    assert_int_equal(match("HEAD", "/api/releases/3", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_get);
    assert_int_equal(match("GET", "/api/releases/", &m), SP_MATCH_FOUND);
    assert_ptr_equal(m.route->handler, h_list);
    assert_int_equal(match("GET", "/api/releases/9/", &m), SP_MATCH_FOUND);
    assert_string_equal(m.params[0].value, "9");
}

static void test_wrong_method_is_405_with_allow(void **state)
{
    struct sp_route_match m;
    assert_int_equal(match("PATCH", "/api/releases/1", &m), SP_MATCH_BAD_METHOD);
    assert_null(m.route);
    assert_string_equal(m.allow, "GET, HEAD, PUT, DELETE");
    assert_int_equal(match("DELETE", "/api/releases", &m), SP_MATCH_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    /* unknown methods and OPTIONS (answered by the CORS code) also get the list */
    assert_int_equal(match("OPTIONS", "/api/releases", &m), SP_MATCH_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD, POST");
    assert_int_equal(match("BREW", "/", &m), SP_MATCH_BAD_METHOD);
    assert_string_equal(m.allow, "GET, HEAD");
}

static void test_unknown_paths_are_404(void **state)
{
    struct sp_route_match m;
    const char *paths[] = {"/api",
                           "/api/release",
                           "/api/releases/1/2",
                           "/api//releases",
                           "//",
                           "",
                           "api/releases",
                           "/api/jobs/1/log",
                           "/a/b/c/d/e/f/g/h/i/j/k/l/m/n/o/p/q/r/s/t"};
    for (size_t i = 0; i < sizeof paths / sizeof paths[0]; i++) {
        assert_int_equal(match("GET", paths[i], &m), SP_MATCH_NOT_FOUND);
        assert_null(m.route);
    }
    assert_int_equal(sp_router_match(rt, "GET", NULL, scratch, sizeof scratch, &m),
                     SP_MATCH_NOT_FOUND);
}

static void test_param_values_need_scratch(void **state)
{
    struct sp_route_match m;
    char small[3];
    assert_int_equal(sp_router_match(rt, "GET", "/api/releases/123456", small, sizeof small, &m),
                     SP_MATCH_NOT_FOUND);
    assert_int_equal(sp_router_match(rt, "GET", "/api/releases/12", small, sizeof small, &m),
                     SP_MATCH_FOUND);
    assert_string_equal(m.params[0].value, "12");
}

static void assert_table_rejected(const struct sp_route *t, const char *field)
{
    const struct sp_route *const list[] = {t, NULL};
    struct sp_err e = {{0}, {0}};
    struct sp_router *r = sp_router_new(list, &e);
    assert_null(r);
    assert_string_equal(e.field, field);
    assert_true(strlen(e.message) > 0);
}

static void test_bad_tables_are_rejected(void **state)
{
    const struct sp_route no_slash[] = {{"GET", "api/x", h_get, 0, -1, -1}, {0}};
    const struct sp_route empty_seg[] = {{"GET", "/api//x", h_get, 0, -1, -1}, {0}};
    const struct sp_route bad_param[] = {{"GET", "/api/{1x}", h_get, 0, -1, -1}, {0}};
    const struct sp_route open_param[] = {{"GET", "/api/{id", h_get, 0, -1, -1}, {0}};
    const struct sp_route brace[] = {{"GET", "/api/a{id}", h_get, 0, -1, -1}, {0}};
    const struct sp_route too_many[] = {{"GET", "/{a}/{b}/{c}/{d}/{e}", h_get, 0, -1, -1}, {0}};
    const struct sp_route dup[] = {
        {"GET", "/api/{id}", h_get, 0, -1, -1}, {"GET", "/api/{name}", h_put, 0, -1, -1}, {0}};
    const struct sp_route method[] = {{"FETCH", "/api", h_get, 0, -1, -1}, {0}};
    const struct sp_route head[] = {{"HEAD", "/api", h_get, 0, -1, -1}, {0}};
    const struct sp_route nohandler[] = {{"GET", "/api", NULL, 0, -1, -1}, {0}};
    assert_table_rejected(no_slash, "pattern");
    assert_table_rejected(empty_seg, "pattern");
    assert_table_rejected(bad_param, "pattern");
    assert_table_rejected(open_param, "pattern");
    assert_table_rejected(brace, "pattern");
    assert_table_rejected(too_many, "pattern");
    assert_table_rejected(dup, "pattern");
    assert_table_rejected(method, "method");
    assert_table_rejected(head, "method");
    assert_table_rejected(nohandler, "handler");
}

static void test_empty_router(void **state)
{
    const struct sp_route *const none[] = {NULL};
    struct sp_err e = {{0}, {0}};
    struct sp_router *r = sp_router_new(none, &e);
    assert_non_null(r);
    struct sp_route_match m;
    assert_int_equal(sp_router_match(r, "GET", "/", scratch, sizeof scratch, &m),
                     SP_MATCH_NOT_FOUND);
    sp_router_free(r);
}

/* sp_req_param / sp_req_param_id read what the router matched */
static void test_request_params(void **state)
{
    struct sp_request req;
    memset(&req, 0, sizeof req);
    req.nparams = 2;
    req.params[0].name = "id";
    req.params[0].value = "42";
    req.params[1].name = "key";
    req.params[1].value = "site.name";
    assert_string_equal(sp_req_param(&req, "key"), "site.name");
    assert_null(sp_req_param(&req, "nope"));
    int64_t id = 0;
    assert_int_equal(sp_req_param_id(&req, "id", &id), SP_OK);
    assert_int_equal(id, 42);

    const char *bad[] = {"0",   "-1", "+1", "1e3", "abc", "", "007", "9999999999999999999",
                         "12 ", " 12"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        req.params[0].value = bad[i];
        id = -5;
        assert_int_equal(sp_req_param_id(&req, "id", &id), SP_NOTFOUND);
        assert_int_equal(id, -5);
    }
    req.params[0].value = "999999999999999999";
    assert_int_equal(sp_req_param_id(&req, "id", &id), SP_OK);
    assert_int_equal(id, 999999999999999999LL);
    assert_int_equal(sp_req_param_id(&req, "missing", &id), SP_NOTFOUND);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_routes),
        cmocka_unit_test(test_params_are_extracted),
        cmocka_unit_test(test_literal_beats_param),
        cmocka_unit_test(test_head_is_get_and_trailing_slash),
        cmocka_unit_test(test_wrong_method_is_405_with_allow),
        cmocka_unit_test(test_unknown_paths_are_404),
        cmocka_unit_test(test_param_values_need_scratch),
        cmocka_unit_test(test_bad_tables_are_rejected),
        cmocka_unit_test(test_empty_router),
        cmocka_unit_test(test_request_params),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

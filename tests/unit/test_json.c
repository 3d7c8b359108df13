/* test_json.c — util/json.c: body getters (types, bounds, required/nullable), sp_parse_int,
 * sp_utf8_valid, sp_json_dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/json.h"

static json_t *obj;

static int setup(void **state)
{
    json_error_t err;
    obj = json_loads("{\"name\":\"Dune\",\"empty\":\"\",\"n\":42,\"neg\":-3,\"f\":1.5,"
                     "\"yes\":true,\"no\":false,\"nul\":null,\"kind\":\"EBOOK\","
                     "\"o\":{\"a\":1},\"arr\":[1,2]}",
                     0, &err);
    assert_non_null(obj);
    return 0;
}

static int teardown(void **state)
{
    json_decref(obj);
    return 0;
}

static void test_string(void **state)
{
    struct sp_err e = {{0}, {0}};
    const char *s = NULL;
    assert_int_equal(sp_json_string(obj, "name", SP_REQUIRED, 1, 10, &s, &e), SP_OK);
    assert_string_equal(s, "Dune");

    s = "untouched";
    assert_int_equal(sp_json_string(obj, "missing", SP_OPTIONAL, 1, 10, &s, &e), SP_NOTFOUND);
    assert_string_equal(s, "untouched");

    assert_int_equal(sp_json_string(obj, "missing", SP_REQUIRED, 1, 10, &s, &e), SP_INVALID);
    assert_string_equal(e.field, "missing");
    assert_non_null(strstr(e.message, "required"));

    assert_int_equal(sp_json_string(obj, "n", SP_REQUIRED, 0, 10, &s, &e), SP_INVALID);
    assert_string_equal(e.field, "n");
    assert_non_null(strstr(e.message, "string"));

    assert_int_equal(sp_json_string(obj, "empty", SP_REQUIRED, 1, 10, &s, &e), SP_INVALID);
    assert_string_equal(e.field, "empty");
    assert_int_equal(sp_json_string(obj, "name", SP_REQUIRED, 5, 10, &s, &e), SP_INVALID);
    assert_int_equal(sp_json_string(obj, "name", SP_REQUIRED, 1, 3, &s, &e), SP_INVALID);
    assert_non_null(strstr(e.message, "at most 3"));

    /* null: absent when nullable, a type error otherwise */
    assert_int_equal(sp_json_string(obj, "nul", SP_NULLABLE, 0, 10, &s, &e), SP_NOTFOUND);
    assert_int_equal(sp_json_string(obj, "nul", SP_OPTIONAL, 0, 10, &s, &e), SP_INVALID);
    assert_int_equal(sp_json_string(obj, "nul", SP_REQUIRED | SP_NULLABLE, 0, 10, &s, &e),
                     SP_INVALID);

    /* an embedded NUL (\u0000) is refused */
    json_t *z = json_pack("{s:s%}", "z", "a\0b", (size_t)3);
    assert_non_null(z);
    assert_int_equal(sp_json_string(z, "z", SP_REQUIRED, 0, 10, &s, &e), SP_INVALID);
    assert_string_equal(e.field, "z");
    json_decref(z);

    /* not an object at all */
    json_t *arr = json_array();
    assert_int_equal(sp_json_string(arr, "name", SP_REQUIRED, 0, 10, &s, &e), SP_INVALID);
    assert_int_equal(sp_json_string(NULL, "name", SP_OPTIONAL, 0, 10, &s, &e), SP_NOTFOUND);
    json_decref(arr);
}

static void test_int(void **state)
{
    struct sp_err e = {{0}, {0}};
    int64_t v = 0;
    assert_int_equal(sp_json_int(obj, "n", SP_REQUIRED, 0, 100, &v, &e), SP_OK);
    assert_int_equal(v, 42);
    assert_int_equal(sp_json_int(obj, "neg", SP_REQUIRED, -5, 5, &v, &e), SP_OK);
    assert_int_equal(v, -3);
    assert_int_equal(sp_json_int(obj, "n", SP_REQUIRED, 0, 41, &v, &e), SP_INVALID);
    assert_string_equal(e.field, "n");
    assert_non_null(strstr(e.message, "between 0 and 41"));
    assert_int_equal(sp_json_int(obj, "f", SP_REQUIRED, 0, 10, &v, &e), SP_INVALID);
    assert_int_equal(sp_json_int(obj, "name", SP_REQUIRED, 0, 10, &v, &e), SP_INVALID);
    assert_int_equal(sp_json_int(obj, "yes", SP_REQUIRED, 0, 10, &v, &e), SP_INVALID);
    v = 7;
    assert_int_equal(sp_json_int(obj, "missing", SP_OPTIONAL, 0, 10, &v, &e), SP_NOTFOUND);
    assert_int_equal(v, 7);
}

static void test_bool_enum_object_array(void **state)
{
    struct sp_err e = {{0}, {0}};
    int b = -1;
    assert_int_equal(sp_json_bool(obj, "yes", SP_REQUIRED, &b, &e), SP_OK);
    assert_int_equal(b, 1);
    assert_int_equal(sp_json_bool(obj, "no", SP_REQUIRED, &b, &e), SP_OK);
    assert_int_equal(b, 0);
    assert_int_equal(sp_json_bool(obj, "n", SP_REQUIRED, &b, &e), SP_INVALID);
    assert_string_equal(e.field, "n");

    static const char *const kinds[] = {"EBOOK", "COMIC", NULL};
    const char *k = NULL;
    assert_int_equal(sp_json_enum(obj, "kind", SP_REQUIRED, kinds, &k, &e), SP_OK);
    assert_ptr_equal(k, kinds[0]); /* the table's own string */
    assert_int_equal(sp_json_enum(obj, "name", SP_REQUIRED, kinds, &k, &e), SP_INVALID);
    assert_string_equal(e.field, "name");
    assert_non_null(strstr(e.message, "EBOOK, COMIC"));
    assert_int_equal(sp_json_enum(obj, "n", SP_REQUIRED, kinds, &k, &e), SP_INVALID);

    json_t *o = NULL, *a = NULL;
    assert_int_equal(sp_json_object(obj, "o", SP_REQUIRED, &o, &e), SP_OK);
    assert_true(json_is_object(o));
    assert_int_equal(sp_json_object(obj, "arr", SP_REQUIRED, &o, &e), SP_INVALID);
    assert_int_equal(sp_json_array(obj, "arr", SP_REQUIRED, &a, &e), SP_OK);
    assert_int_equal(json_array_size(a), 2);
    assert_int_equal(sp_json_array(obj, "o", SP_REQUIRED, &a, &e), SP_INVALID);
    assert_string_equal(e.field, "o");
    assert_int_equal(sp_json_array(obj, "nul", SP_NULLABLE, &a, &e), SP_NOTFOUND);
}

static void test_parse_int(void **state)
{
    struct sp_err e = {{0}, {0}};
    int64_t v = 0;
    assert_int_equal(sp_parse_int("12", "page", 1, 100, &v, &e), SP_OK);
    assert_int_equal(v, 12);
    assert_int_equal(sp_parse_int("-4", "delta", -10, 10, &v, &e), SP_OK);
    assert_int_equal(v, -4);
    assert_int_equal(sp_parse_int(NULL, "page", 1, 100, &v, &e), SP_NOTFOUND);

    const char *bad[] = {"",     "-",  "abc",  "1.5", "1e3", " 1",
                         "1 ",   "+1", "0x10", "101", "0",   "9999999999999999999999",
                         "12abc"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&e, 0, sizeof e);
        v = -99;
        assert_int_equal(sp_parse_int(bad[i], "page", 1, 100, &v, &e), SP_INVALID);
        assert_int_equal(v, -99);
        assert_string_equal(e.field, "page");
        assert_non_null(strstr(e.message, "between 1 and 100"));
    }
}

static void test_utf8_valid(void **state)
{
    assert_true(sp_utf8_valid("", 0));
    assert_true(sp_utf8_valid("plain ascii", 11));
    assert_true(sp_utf8_valid("caf\xc3\xa9", 5));       /* é */
    assert_true(sp_utf8_valid("\xe2\x82\xac", 3));      /* € */
    assert_true(sp_utf8_valid("\xf0\x9f\x93\x9a", 4));  /* 📚 */
    assert_true(sp_utf8_valid("\xf4\x8f\xbf\xbf", 4));  /* U+10FFFF */
    assert_false(sp_utf8_valid("a\0b", 3));             /* NUL inside */
    assert_false(sp_utf8_valid("\xff", 1));             /* never valid */
    assert_false(sp_utf8_valid("caf\xe9", 4));          /* Latin-1 é */
    assert_false(sp_utf8_valid("\xc3", 1));             /* truncated */
    assert_false(sp_utf8_valid("\xe2\x82", 2));         /* truncated */
    assert_false(sp_utf8_valid("\xc0\xaf", 2));         /* overlong '/' */
    assert_false(sp_utf8_valid("\xe0\x80\xaf", 3));     /* overlong */
    assert_false(sp_utf8_valid("\xed\xa0\x80", 3));     /* surrogate U+D800 */
    assert_false(sp_utf8_valid("\xf4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(sp_utf8_valid("\x80", 1));             /* lone continuation */
    assert_false(sp_utf8_valid("\xc3\x28", 2));         /* bad continuation */
    /* only n bytes are looked at */
    assert_true(sp_utf8_valid("ok\xff", 2));
}

static void test_dump(void **state)
{
    size_t len = 0;
    json_t *j = json_pack("{s:i, s:s}", "a", 1, "b", "x\"y");
    char *s = sp_json_dump(j, &len);
    assert_string_equal(s, "{\"a\":1,\"b\":\"x\\\"y\"}");
    assert_int_equal(len, strlen(s));
    free(s);
    json_decref(j);
    j = json_null();
    s = sp_json_dump(j, NULL);
    assert_string_equal(s, "null");
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_bool_enum_object_array),
        cmocka_unit_test(test_parse_int),
        cmocka_unit_test(test_utf8_valid),
        cmocka_unit_test(test_dump),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

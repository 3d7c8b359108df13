/*
 * test_api_release_json.c — the release object written straight as text (sp_api_release_write,
 * used by the list and detail endpoints) says exactly what the jansson-built one
 * (sp_api_release_json) says, for ordinary rows and for everything odd a row can hold: missing
 * names, text that is not UTF-8, stored metadata that is not a JSON object or not JSON at all,
 * escapes, nesting, negative sizes, timestamps from year 1 to 9999 and before 1970.
 */
#include "support.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/common.h"
#include "store/releases.h"
#include "util/buf.h"
#include "util/json.h"

static void same(const struct sp_release *r)
{
    struct sp_buf b = SP_BUF_INIT;
    sp_api_release_write(&b, r);
    json_error_t err;
    json_t *got = json_loadb(b.data, b.len, 0, &err);
    if (!got)
        fail_msg("not JSON (%s): %s", err.text, b.data);
    json_t *want = sp_api_release_json(r);
    if (!json_equal(got, want))
        fail_msg("written: %s\nexpected: %s", b.data, sp_json_dump(want, NULL));
    /* same keys in the same order, as clients reading the text see them */
    const char *k1, *k2;
    json_t *v;
    void *it = json_object_iter(want);
    json_object_foreach(got, k1, v)
    {
        k2 = json_object_iter_key(it);
        assert_string_equal(k1, k2);
        it = json_object_iter_next(want, it);
    }
    json_decref(got);
    json_decref(want);
    sp_buf_free(&b);
}

static struct sp_release base(void)
{
    struct sp_release r = {.id = 42,
                           .name = "Author.Title.2024.RETAiL.ePUB.eBOOK-GRP",
                           .user_id = 3,
                           .group_id = 7,
                           .group = "GRP",
                           .release_type = "EBOOK",
                           .status = "completed",
                           .release_metadata = "{\"title\":\"Title\",\"year\":2024}",
                           .config = "{}",
                           .file_path = "uploads/42/book.epub",
                           .file_size = 123456,
                           .rule_id = 9,
                           .parent_id = 4,
                           .wizard_step = 5,
                           .created_at = 1700000000,
                           .updated_at = 1700000123};
    return r;
}

static void test_ordinary_rows(void **state)
{
    SP_UNUSED(state);
    struct sp_release r = base();
    same(&r);
    r.name = NULL;
    r.group = NULL;
    r.file_path = NULL;
    r.rule_id = 0;
    r.parent_id = 0;
    r.file_size = 0;
    same(&r);
    r.file_size = -5;
    r.rule_id = -1;
    same(&r);
}

static void test_strings_that_need_care(void **state)
{
    SP_UNUSED(state);
    struct sp_release r = base();
    r.name = "quote\" backslash\\ tab\t nl\n cr\r ctl\x01 del\x7f slash/ é 日本 🙂";
    r.group = "\xff\xfe not utf-8";
    r.status = "\xc3";
    r.file_path = "";
    same(&r);
}

static void test_stored_json_text(void **state)
{
    SP_UNUSED(state);
    static const char *const texts[] = {
        "{}",
        "  {\"a\" : [1, 2.5, -3e+2, 0, true, false, null, {\"b\": {}}] }  ",
        "{\"t\":\"esc \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude42\"}",
        "{\"u\":\"é 日本\"}",
        "",
        "[1,2]",
        "\"text\"",
        "42",
        "{bad json",
        "{\"a\":1,}",
        "{\"a\":01}",
        "{\"a\":1} trailing",
        "{\"a\":\"raw\ttab\"}",
        "{\"a\":\"\\x41\"}",
        "{\"a\":\"\xff\"}",
        "{\"a\":tru}",
        "{\"a\" 1}",
        "{1:2}",
        NULL,
    };
    struct sp_release r = base();
    for (size_t i = 0; i < SP_ARRAY_LEN(texts); i++) {
        r.release_metadata = (char *)texts[i];
        r.config = (char *)texts[SP_ARRAY_LEN(texts) - 1 - i];
        same(&r);
    }
}

static void test_timestamps(void **state)
{
    SP_UNUSED(state);
    static const int64_t ts[] = {0,           1,           -1,          86399,      86400,
                                 951782400,   951868800,   1700000000,  2147483647, 4102444800,
                                 -62135596800, -2208988800, 253402300799, -86401,   1709164800};
    struct sp_release r = base();
    for (size_t i = 0; i < SP_ARRAY_LEN(ts); i++) {
        r.created_at = ts[i];
        r.updated_at = ts[SP_ARRAY_LEN(ts) - 1 - i];
        same(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ordinary_rows),
        cmocka_unit_test(test_strings_that_need_care),
        cmocka_unit_test(test_stored_json_text),
        cmocka_unit_test(test_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

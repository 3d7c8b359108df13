/* test_rule_parser.c — domain/rule_parser.c: the constraints a rule text states come out as the
 * spec keys (the built-in rule, a differently worded scene-style rule with CP437 art and CRLF),
 * prose that merely resembles a constraint does not, and any input is handled safely. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "domain/rule_parser.h"
#include "store/bootstrap.h"
#include "util/alloc.h"

static json_t *parse(const char *text)
{
    json_t *o = sp_rule_parse(text, strlen(text));
    assert_non_null(o);
    assert_true(json_is_object(o));
    return o;
}

static void assert_int_key(json_t *o, const char *key, json_int_t want)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_integer(v))
        fail_msg("%s: expected %lld, got %s", key, (long long)want, v ? "another type" : "none");
    assert_int_equal(json_integer_value(v), want);
}

static void assert_str_key(json_t *o, const char *key, const char *want)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_string(v))
        fail_msg("%s: expected \"%s\", got none", key, want);
    assert_string_equal(json_string_value(v), want);
}

/* The array `key` holds exactly the strings of `want` (NULL-terminated), in that order. */
static void assert_list(json_t *o, const char *key, const char *const *want)
{
    json_t *a = json_object_get(o, key);
    assert_true(json_is_array(a));
    size_t n = 0;
    while (want[n])
        n++;
    char *got = json_dumps(a, 0);
    if (json_array_size(a) != n)
        fail_msg("%s: expected %zu items, got %s", key, n, got);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(json_string_value(json_array_get(a, i)), want[i]);
    free(got);
}

static void test_builtin_rule(void **state)
{
    (void)state;
    json_t *o = parse(sp_bootstrap_rule_text());
    assert_int_key(o, "year", 2022);
    assert_str_key(o, "section", "eBOOK");
    assert_str_key(o, "scene", "English");
    const char *const formats[] = {"PDF", "EPUB", "CBZ", "AZW", "AZW3", "KF8", "MOBI", "PRC", NULL};
    assert_list(o, "formats", formats);
    assert_str_key(json_object_get(o, "format_tags"), "AZW3", "KF8");
    assert_str_key(json_object_get(o, "format_tags"), "EPUB", "ePUB");
    assert_true(json_is_false(json_object_get(o, "drm_allowed")));
    json_t *sizes = json_object_get(o, "zip_sizes");
    assert_int_equal(json_array_size(sizes), 7);
    assert_int_equal(json_integer_value(json_array_get(sizes, 0)), 5000000);
    assert_int_equal(json_integer_value(json_array_get(sizes, 6)), 250000000);
    assert_int_key(o, "max_files_per_zip", 99);
    assert_true(json_is_true(json_object_get(o, "zip_names_8_3")));
    assert_int_key(o, "payload_name_max", 140);
    assert_int_key(o, "name_max_length", 243);
    assert_str_key(o, "name_allowed_chars", "A-Za-z0-9._-");
    const char *const sources[] = {"RETAiL", "SCAN", "HYBRiD", NULL};
    assert_list(o, "sources", sources);
    const char *const tags[] = {"READNFO", "NFOFiX", "DiRFiX", "iNTERNAL",
                                "PROPER",  "REPACK", NULL};
    assert_list(o, "extra_tags", tags);
    assert_str_key(json_object_get(o, "type_tags"), "magazine", "MAGAZiNE");
    assert_int_key(o, "nfo_max_width", 80);
    assert_str_key(o, "nfo_encoding", "CP437");
    assert_str_key(o, "nfo_line_end", "CRLF");
    assert_int_key(o, "diz_max_width", 44);
    assert_int_key(o, "diz_max_lines", 30);
    assert_true(json_is_true(json_object_get(o, "sfv_required")));
    const char *const mandatory[] = {"release_date", "publish_date",        "language",
                                     "source",       "author_or_publisher", NULL};
    assert_list(o, "mandatory_fields", mandatory);
    assert_true(json_is_true(json_object_get(o, "retail_requires_url")));
    json_decref(o);
}

/* Written like a scene .nfo: CP437 block art, CRLF, bracketed headers, other wording. */
static const char scene_style[] =
    "\xdc\xdc\xdc\xdb\xdb\xdb\xdf\xdf\r\n"
    "        THE GERMAN EBOOK SCENE RULES  [2021]\r\n"
    "\r\n"
    " [ 1 ] FORMATS\r\n"
    "   Allowed formats are EPUB, PDF and MOBI. CBR is not allowed.\r\n"
    "   Releases with DRM must not be released, strip it first.\r\n"
    "\r\n"
    " [ 2 ] ARCHIVES\r\n"
    "   Archive size must be 5.000.000 or 10.000.000 or 20.000.000 bytes.\r\n"
    "   Max. 50 files per archive; archive names follow the 8.3 scheme.\r\n"
    "\r\n"
    " [ 3 ] DIRNAME\r\n"
    "   The release name may be up to 200 chars long.\r\n"
    "   Valid characters: a-z A-Z 0-9 . _ -\r\n"
    "\r\n"
    " [ 4 ] NFO\r\n"
    "   The NFO must not be wider than 76 chars and must use CP437.\r\n"
    "   A FILE_ID.DIZ of max 45x25 is required. An SFV is mandatory.\r\n"
    "\r\n"
    " [ 5 ] TAGS\r\n"
    "   Use RETAiL or SCAN as source tag. Fixes are tagged PROPER or NFOFiX.\r\n"
    "\xb0\xb1\xb2\r\n";

static void test_scene_style_rule(void **state)
{
    (void)state;
    json_t *o = parse(scene_style);
    assert_int_key(o, "year", 2021);
    assert_str_key(o, "section", "eBOOK");
    assert_str_key(o, "scene", "German");
    const char *const formats[] = {"PDF", "EPUB", "MOBI", NULL}; /* CBR is refused */
    assert_list(o, "formats", formats);
    assert_true(json_is_false(json_object_get(o, "drm_allowed")));
    json_t *sizes = json_object_get(o, "zip_sizes");
    assert_int_equal(json_array_size(sizes), 3);
    assert_int_equal(json_integer_value(json_array_get(sizes, 0)), 5000000);
    assert_int_equal(json_integer_value(json_array_get(sizes, 2)), 20000000);
    assert_int_key(o, "max_files_per_zip", 50);
    assert_true(json_is_true(json_object_get(o, "zip_names_8_3")));
    assert_int_key(o, "name_max_length", 200);
    assert_str_key(o, "name_allowed_chars", "a-zA-Z0-9._-");
    assert_int_key(o, "nfo_max_width", 76);
    assert_str_key(o, "nfo_encoding", "CP437");
    assert_int_key(o, "diz_max_width", 45);
    assert_int_key(o, "diz_max_lines", 25);
    assert_true(json_is_true(json_object_get(o, "sfv_required")));
    const char *const sources[] = {"RETAiL", "SCAN", NULL};
    assert_list(o, "sources", sources);
    const char *const tags[] = {"NFOFiX", "PROPER", NULL};
    assert_list(o, "extra_tags", tags);
    /* "An SFV is mandatory" names no metadata field */
    assert_null(json_object_get(o, "mandatory_fields"));
    json_decref(o);
}

static void test_megabyte_sizes_and_allowed_drm(void **state)
{
    (void)state;
    json_t *o = parse("Volume sizes: 5 MB, 15MB or 50 MB per ZIP.\n\n"
                      "Books with DRM are allowed here.\n\n"
                      "SFV files are not required.\n");
    json_t *sizes = json_object_get(o, "zip_sizes");
    assert_int_equal(json_array_size(sizes), 3);
    assert_int_equal(json_integer_value(json_array_get(sizes, 1)), 15000000);
    assert_true(json_is_true(json_object_get(o, "drm_allowed")));
    assert_true(json_is_false(json_object_get(o, "sfv_required")));
    json_decref(o);
}

static void test_prose_is_not_a_constraint(void **state)
{
    (void)state;
    json_t *o = parse("Please scan the book properly; proper names keep their capitals.\n"
                      "The document may be a doc or a txt, we read it all.\n"
                      "Call 555 1234 for 3 days.\n");
    assert_null(json_object_get(o, "sources"));
    assert_null(json_object_get(o, "extra_tags"));
    assert_null(json_object_get(o, "formats"));
    assert_null(json_object_get(o, "zip_sizes"));
    assert_null(json_object_get(o, "year"));
    json_decref(o);
}

static void test_any_input_is_safe(void **state)
{
    (void)state;
    json_t *o = sp_rule_parse(NULL, 0);
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);
    o = sp_rule_parse("", 0);
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);
    /* random bytes, NULs included, and absurd numbers */
    size_t n = 200000;
    char *junk = sp_malloc(n);
    uint32_t x = 12345;
    for (size_t i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        junk[i] = (char)(x >> 16);
    }
    o = sp_rule_parse(junk, n);
    assert_true(json_is_object(o));
    json_decref(o);
    sp_free(junk);
    o = parse("ZIP size: 99999999999999999999999 MB, 123456 MB or 7 GB\n"
              "NFO 999999999999999999999 columns\n");
    json_t *sizes = json_object_get(o, "zip_sizes");
    assert_int_equal(json_array_size(sizes), 1);
    assert_int_equal(json_integer_value(json_array_get(sizes, 0)), INT64_C(7000000000));
    assert_null(json_object_get(o, "nfo_max_width"));
    json_decref(o);
    /* the JSON text form */
    char *t = sp_rule_spec_text("NFO: at most 70 columns.");
    assert_string_equal(t, "{\"nfo_max_width\":70}");
    sp_free(t);
}

/* A rule body of `total` bytes: `unit` repeated, then `tail` (neither empty). Heap; sp_free. */
static char *repeated(const char *unit, const char *tail, size_t total, size_t *len)
{
    size_t ul = strlen(unit), tl = strlen(tail), n = 0;
    char *b = sp_malloc(total + 1);
    while (n + ul + tl <= total) {
        memcpy(b + n, unit, ul);
        n += ul;
    }
    memcpy(b + n, tail, tl);
    n += tl;
    b[n] = '\0';
    *len = n;
    return b;
}

static json_t *parse_repeated(const char *unit, const char *tail)
{
    size_t n;
    char *b = repeated(unit, tail, 512 * 1024, &n); /* the body limit of POST /api/rules */
    json_t *o = sp_rule_parse(b, n);
    sp_free(b);
    assert_non_null(o);
    assert_true(json_is_object(o));
    return o;
}

/* A subject word repeated over a whole 512 KiB body, alone or with numbers, units and
 * sentences between (fuzz finding rule_parser-1: each repetition once rescanned the rest of the
 * paragraph, minutes of work on a request thread). The constraint the text states still comes out,
 * wherever it stands after the repetitions. */
static void test_long_repetitive_bodies(void **state)
{
    (void)state;
    json_t *o = parse_repeated("nfo ", "nfo");
    assert_int_equal(json_object_size(o), 0);
    json_decref(o);

    /* one sentence: every "NFO" reaches the width stated at its end */
    o = parse_repeated("NFO ", "NFO at most 80 columns.");
    assert_int_key(o, "nfo_max_width", 80);
    json_decref(o);
    /* widths out of range and numbers without a unit before the real one */
    o = parse_repeated("nfo 12 columns, 5.6 or 1,234 and 7 ", "nfo: 76 chars wide.");
    assert_int_key(o, "nfo_max_width", 76);
    json_decref(o);
    /* "diz" stops the NFO width: the number after it belongs to the DIZ */
    o = parse_repeated("NFO diz 50 columns ", "end");
    assert_null(json_object_get(o, "nfo_max_width"));
    assert_int_key(o, "diz_max_width", 50);
    json_decref(o);
    /* many sentences: the width of the first NFO sentence that states one */
    o = parse_repeated("The NFO is art. ", "The NFO has 70 columns. The NFO has 60 columns.");
    assert_int_key(o, "nfo_max_width", 70);
    json_decref(o);

    o = parse_repeated("FILE_ID.DIZ 5 lines ", "diz");
    assert_int_key(o, "diz_max_lines", 5);
    assert_null(json_object_get(o, "diz_max_width"));
    json_decref(o);

    /* a name length may stand anywhere in the paragraph, but not after "payload" */
    o = parse_repeated("directory name 7 chars, dirname ", "release names: at most 243 chars");
    assert_int_key(o, "name_max_length", 243);
    json_decref(o);
    o = parse_repeated("dirname ", "payload 100 chars");
    assert_null(json_object_get(o, "name_max_length"));
    assert_int_key(o, "payload_name_max", 100);
    json_decref(o);

    /* a format refused in each sentence, then allowed in the last one */
    o = parse_repeated("Format PDF is never allowed. ", "Formats: PDF and EPUB.");
    const char *const formats[] = {"PDF", "EPUB", NULL};
    assert_list(o, "formats", formats);
    json_decref(o);
    o = parse_repeated("Format PDF is never allowed, PDF ", "format.");
    assert_null(json_object_get(o, "formats"));
    json_decref(o);

    /* one paragraph per line, each with its subject */
    o = parse_repeated("- NFO\n", "- NFO lines up to 78 columns\n");
    assert_int_key(o, "nfo_max_width", 78);
    json_decref(o);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builtin_rule),
        cmocka_unit_test(test_scene_style_rule),
        cmocka_unit_test(test_megabyte_sizes_and_allowed_drm),
        cmocka_unit_test(test_prose_is_not_a_constraint),
        cmocka_unit_test(test_any_input_is_safe),
        cmocka_unit_test(test_long_repetitive_bodies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

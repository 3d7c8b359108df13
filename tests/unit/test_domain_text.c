/*
 * test_domain_text.c — UTF-8 decoding that never trusts its input, the transliteration table
 * (é→e, ß→ss, œ→oe, Cyrillic, typographic punctuation), ASCII folding and Windows-1252.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/text.h"
#include "util/alloc.h"

static void utf8_decoding_is_strict(void **state)
{
    const char *cases[] = {"\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80",
                           "\xc3",     "\xff",         "\x80"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        size_t i = 0, n = strlen(cases[k]);
        uint32_t cp;
        assert_int_equal(sp_utf8_next(cases[k], n, &i, &cp), 0); /* overlong/surrogate/... */
        assert_int_equal(cp, 0xFFFD);
        assert_int_equal(i, 1);
    }
    size_t i = 0;
    uint32_t cp;
    assert_int_equal(sp_utf8_next("\xf0\x9f\x93\x9a", 4, &i, &cp), 1);
    assert_int_equal(cp, 0x1F4DA);
    assert_int_equal(i, 4);
    struct sp_buf b = SP_BUF_INIT;
    sp_utf8_put(&b, 0x1F4DA);
    sp_utf8_put(&b, 0xE9);
    sp_utf8_put(&b, 'A');
    assert_string_equal(b.data, "\xf0\x9f\x93\x9a\xc3\xa9"
                                "A");
    sp_buf_free(&b);
    assert_int_equal(sp_utf8_len("aé€📚"), 4);
}

static void transliteration_table(void **state)
{
    assert_string_equal(sp_translit(0xE9), "e");   /* é */
    assert_string_equal(sp_translit(0xDF), "ss");  /* ß */
    assert_string_equal(sp_translit(0x153), "oe"); /* œ */
    assert_string_equal(sp_translit(0x141), "L");  /* Ł */
    assert_string_equal(sp_translit(0x416), "Zh"); /* Ж */
    assert_string_equal(sp_translit(0x2019), "'");
    assert_string_equal(sp_translit(0x2026), "...");
    assert_string_equal(sp_translit(0x20AC), "EUR");
    assert_string_equal(sp_translit(0xFEFF), "");
    assert_null(sp_translit(0x4E09)); /* 三: dropped */
    assert_null(sp_translit('a'));
}

static void ascii_folding(void **state)
{
    char *s = sp_text_ascii("  Crème\tbrûlée —\x01 “Straße” 三体  ");
    assert_string_equal(s, "Creme brulee - \"Strasse\"");
    sp_free(s);
    s = sp_text_ascii("");
    assert_string_equal(s, "");
    sp_free(s);
    s = sp_text_ascii("三体");
    assert_string_equal(s, "");
    sp_free(s);
}

static void windows_1252_and_cleaning(void **state)
{
    const unsigned char in[] = {'C', 0xE9, 's', 'a', 'r', ' ', 0x93, 'x', 0x94, ' ', 0x80, 0x81, 0};
    char *s = sp_text_cp1252_to_utf8(in, sizeof in);
    assert_string_equal(s, "César “x” €");
    sp_free(s);
    const char *dirty = "a\x01"
                        "b\xff"
                        "c\nd\te\x7f";
    char *c = sp_text_clean_utf8(dirty, strlen(dirty));
    assert_string_equal(c, "a b"
                           "c\nd\te ");
    sp_free(c);
    char sq[] = "  a  \n b\t\tc  ";
    assert_string_equal(sp_text_squash(sq), "a b c");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(utf8_decoding_is_strict),
        cmocka_unit_test(transliteration_table),
        cmocka_unit_test(ascii_folding),
        cmocka_unit_test(windows_1252_and_cleaning),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

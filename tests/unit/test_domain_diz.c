/*
 * test_domain_diz.c — FILE_ID.DIZ (PACKAGING.md §5): plain ASCII, at most 44 columns and 30
 * lines whatever the title (long, accented, other scripts), with the group and the disk
 * counter; and the checker on DIZ files made elsewhere.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/diz.h"
#include "domain/meta.h"
#include "util/alloc.h"

static void assert_diz_limits(const struct sp_buf *b)
{
    size_t lines = 0, col = 0;
    for (size_t i = 0; i < b->len; i++) {
        unsigned char c = (unsigned char)b->data[i];
        assert_true(c < 0x80);
        if (c == '\r') {
            assert_int_equal(b->data[i + 1], '\n');
            continue;
        }
        if (c == '\n') {
            lines++;
            col = 0;
            continue;
        }
        assert_true(c >= 0x20);
        assert_true(++col <= SP_DIZ_WIDTH);
    }
    assert_true(lines <= SP_DIZ_LINES);
}

static void renders_within_limits(void **state)
{
    struct sp_meta m;
    sp_meta_init(&m);
    sp_meta_put(&m, SP_META_AUTHOR, "Émile Zola");
    sp_meta_put(&m, SP_META_TITLE, "L'Assommoir");
    sp_meta_put(&m, SP_META_LANGUAGE, "French");
    sp_meta_put(&m, SP_META_SOURCE, "RETAiL");
    sp_meta_put(&m, SP_META_YEAR, "1877");
    struct sp_buf b = SP_BUF_INIT;
    sp_diz_render(&m, "EPUB", "GRP", 1, 1, &b);
    assert_diz_limits(&b);
    assert_non_null(strstr(b.data, "DISK: [01/01]"));
    assert_non_null(strstr(b.data, "GRP"));
    assert_non_null(strstr(b.data, "Emile Zola"));
    assert_non_null(strstr(b.data, "L'Assommoir"));
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_diz_check((unsigned char *)b.data, b.len, "GRP", 1, 1, "x", &p), 0);
    sp_buf_reset(&b);

    /* an enormous title is wrapped and cut, never over the limits */
    char title[4000] = "";
    for (int i = 0; i < 200; i++)
        strcat(title, "Extraordinairement ");
    sp_meta_put(&m, SP_META_TITLE, title);
    char author[1000] = "";
    for (int i = 0; i < 30; i++)
        strcat(author, "Ævar Þórsson ");
    sp_meta_put(&m, SP_META_AUTHOR, author);
    sp_meta_put(&m, SP_META_VOLUME, "12");
    sp_diz_render(&m, "EPUB", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123", 3, 7, &b);
    assert_diz_limits(&b);
    assert_non_null(strstr(b.data, "DISK: [03/07]"));
    assert_non_null(strstr(b.data, "..."));
    assert_int_equal(sp_diz_check((unsigned char *)b.data, b.len, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123",
                                  3, 7, "x", &p),
                     0);
    sp_buf_free(&b);
    sp_meta_free(&m);
}

static int mentions(const struct sp_problems *p, const char *needle)
{
    for (size_t i = 0; i < p->n; i++)
        if (strstr(p->items[i].message, needle))
            return 1;
    return 0;
}

static void checker_finds_violations(void **state)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    const char *ok = "GRP presents\r\nA Title\r\nDISK: [02/05]\r\n";
    assert_int_equal(sp_diz_check((const unsigned char *)ok, strlen(ok), "grp", 2, 5, "d", &p), 0);
    /* wrong counter, missing group */
    assert_true(sp_diz_check((const unsigned char *)ok, strlen(ok), "GRP", 1, 5, "d", &p) > 0);
    assert_true(mentions(&p, "volume 01 of 05"));
    sp_problems_free(&p);
    assert_true(sp_diz_check((const unsigned char *)ok, strlen(ok), "OTHER", 2, 5, "d", &p) > 0);
    assert_true(mentions(&p, "does not name the group"));
    sp_problems_free(&p);
    /* no counter, non-ASCII, too wide, too long */
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, "GRP caf\xc3\xa9\r\n");
    for (int i = 0; i < 45; i++)
        sp_buf_putc(&b, 'w');
    sp_buf_puts(&b, "\r\n");
    for (int i = 0; i < 30; i++)
        sp_buf_puts(&b, "line\r\n");
    assert_true(sp_diz_check((unsigned char *)b.data, b.len, "GRP", 1, 1, "d", &p) >= 4);
    assert_true(mentions(&p, "plain ASCII"));
    assert_true(mentions(&p, "45 columns"));
    assert_true(mentions(&p, "32 lines"));
    assert_true(mentions(&p, "DISK: [xx/yy]"));
    assert_string_equal(p.items[0].field, "diz");
    assert_string_equal(p.items[0].file, "d");
    sp_problems_free(&p);
    sp_buf_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_within_limits),
        cmocka_unit_test(checker_finds_violations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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

/* A title (or author) may hold the counter's words, even a whole counter: the DIZ we render
 * still passes our own check, which reads the counter where the DIZ puts it, last (fuzz
 * findings release_files-1 and -2). */
static void title_holding_the_counter_words(void **state)
{
    static const struct {
        int field;
        const char *value;
        int disk, disks;
    } cases[] = {
        {SP_META_TITLE, "Disk: [1/2]", 1, 1},
        {SP_META_TITLE, "DISK: [02/05]", 1, 1},
        {SP_META_TITLE, "Notes on DISK: [03/09] and DISK: [", 3, 9},
        {SP_META_AUTHOR, "DISK: [07/07] Collective", 2, 4},
        {SP_META_TITLE, "disk: [", 12, 40},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sp_meta m;
        sp_meta_init(&m);
        sp_meta_put(&m, SP_META_TITLE, "A Title");
        sp_meta_put(&m, SP_META_AUTHOR, "An Author");
        sp_meta_put(&m, cases[i].field, cases[i].value);
        struct sp_buf b = SP_BUF_INIT;
        sp_diz_render(&m, "EPUB", "GRP", cases[i].disk, cases[i].disks, &b);
        assert_diz_limits(&b);
        struct sp_problems p = SP_PROBLEMS_INIT;
        size_t n = sp_diz_check((unsigned char *)b.data, b.len, "GRP", cases[i].disk,
                                cases[i].disks, "x", &p);
        if (n)
            fail_msg("\"%s\": %s\n%s", cases[i].value, p.items[0].message, b.data);
        /* and the check still sees a counter that does not match */
        assert_true(sp_diz_check((unsigned char *)b.data, b.len, "GRP", cases[i].disk % 99 + 1,
                                 cases[i].disks + 1, "x", &p) > 0);
        assert_true(mentions(&p, "but this is volume"));
        sp_problems_free(&p);
        sp_buf_free(&b);
        sp_meta_free(&m);
    }
}

/* DIZ files made elsewhere: the last well-formed counter counts; text that only looks like one
 * is no counter. */
static void checker_reads_the_last_counter(void **state)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    const char *two = "GRP\r\nDISK: [01/01] the title\r\nDISK: [02/05]\r\n";
    assert_int_equal(sp_diz_check((const unsigned char *)two, strlen(two), "GRP", 2, 5, "d", &p),
                     0);
    assert_true(sp_diz_check((const unsigned char *)two, strlen(two), "GRP", 1, 1, "d", &p) > 0);
    assert_true(mentions(&p, "says DISK: [02/05] but this is volume 01 of 01"));
    sp_problems_free(&p);
    /* a counter in the title is still the counter when the DIZ has no other */
    const char *title_only = "GRP\r\nDisk: [03/04] stories\r\n";
    assert_int_equal(
        sp_diz_check((const unsigned char *)title_only, strlen(title_only), "GRP", 3, 4, "d", &p),
        0);
    /* a malformed marker after the counter does not hide it */
    const char *after = "GRP\r\nDISK: [02/05]\r\ndisk: [2/5]\r\n";
    assert_int_equal(
        sp_diz_check((const unsigned char *)after, strlen(after), "GRP", 2, 5, "d", &p), 0);
    /* no well-formed counter anywhere */
    static const char *const bad[] = {
        "GRP\r\nDISK: [2/5]\r\n",   "GRP\r\nDISK: [02/5]\r\n",  "GRP\r\nDISK: [02-05]\r\n",
        "GRP\r\nDISK: [02/05\r\n",  "GRP\r\nDISK [02/05]\r\n",  "GRP\r\nDISK: [",
        "GRP\r\nDISK:[02/05]\r\n",  "GRP\r\nDISK: [0a/05]\r\n", "GRP\r\nDISK: [02/05",
        "GRP\r\nDIZK: [02/05]\r\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_true(
            sp_diz_check((const unsigned char *)bad[i], strlen(bad[i]), "GRP", 2, 5, "d", &p) > 0);
        if (!mentions(&p, "lacks the disk counter"))
            fail_msg("no counter expected in \"%s\"", bad[i]);
        sp_problems_free(&p);
    }
    /* the counter may end the file, and it is read from the bytes given, NULs included */
    const char *end = "GRP DISK: [02/05]";
    assert_int_equal(sp_diz_check((const unsigned char *)end, strlen(end), "GRP", 2, 5, "d", &p),
                     0);
    assert_true(sp_diz_check((const unsigned char *)end, strlen(end) - 1, "GRP", 2, 5, "d", &p) >
                0);
    assert_true(mentions(&p, "lacks the disk counter"));
    sp_problems_free(&p);
    const char nul[] = "GRP\0DISK: [02/05]";
    assert_int_equal(sp_diz_check((const unsigned char *)nul, sizeof nul - 1, "GRP", 2, 5, "d", &p),
                     1);
    assert_true(mentions(&p, "plain ASCII"));
    sp_problems_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(renders_within_limits),
        cmocka_unit_test(checker_finds_violations),
        cmocka_unit_test(title_holding_the_counter_words),
        cmocka_unit_test(checker_reads_the_last_counter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_domain_nfo.c — NFO rendering (PACKAGING.md §6): CP437 bytes with CRLF, at most 80
 * columns with long values wrapped (and recoverable), the CP437 mapping and our fallback for
 * characters CP437 lacks, `{{#if}}` sections, template errors with their line number, and the
 * check that an NFO shows every mandatory field.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "domain/meta.h"
#include "domain/nfo.h"
#include "util/alloc.h"

static void vars_full(struct sp_nfo_vars *v, struct sp_meta *m)
{
    sp_meta_init(m);
    struct sp_err e;
    const char *kv[][2] = {
        {"title", "Les Misérables, ou l'histoire extraordinairement longue d'un forçat qui "
                  "traverse le dix-neuvième siècle et ses révolutions — édition intégrale"},
        {"author", "Victor Hugo"},
        {"publisher", "Éditions Œuvres Complètes & Fils"},
        {"language", "French"},
        {"source", "RETAiL"},
        {"release_date", "2024-05-01"},
        {"publish_date", "1862-04-03"},
        {"isbn", "9780306406157"},
        {"genre", "Fiction, Classics, Historical, Romance, Adventure, Politics, Philosophy"},
        {"url", "https://www.example-bookshop.com/catalogue/books/victor-hugo/les-miserables/"
                "edition-integrale-illustree/9780306406157?utm_source=nfo&utm_medium=text"},
        {"notes", "First line of notes.\nA second, much longer line of notes that certainly "
                  "goes beyond the eighty columns an NFO allows, so it must wrap."},
    };
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        assert_int_equal(sp_meta_set(m, kv[i][0], kv[i][1], &e), SP_OK);
    memset(v, 0, sizeof *v);
    for (int i = 0; i < SP_META_COUNT; i++)
        v->value[i] = sp_meta_get(m, i);
    v->value[SP_NFO_RELEASE] = "Victor.Hugo.Les.Miserables.ou.lhistoire.extraordinairement."
                               "longue.dun.forcat.qui.traverse.le.dix-neuvieme.siecle.1862."
                               "FRENCH.RETAiL.ePUB.eBOOK-GRP";
    v->value[SP_NFO_GROUP] = "GRP";
    v->value[SP_NFO_FORMAT] = "EPUB";
    v->value[SP_NFO_DISKS] = "1 x 5MB";
    v->value[SP_NFO_SIZE] = "1.23 MB (1,234,567 bytes)";
    v->value[SP_NFO_PACKER] = "scenepacker test";
}

/* Every line ≤ 80 columns, every LF preceded by CR, no lone CR. */
static void assert_nfo_shape(const struct sp_buf *b)
{
    size_t col = 0, lines = 0;
    assert_true(b->len > 0);
    for (size_t i = 0; i < b->len; i++) {
        char c = b->data[i];
        if (c == '\r') {
            assert_true(i + 1 < b->len && b->data[i + 1] == '\n');
            continue;
        }
        if (c == '\n') {
            assert_true(i > 0 && b->data[i - 1] == '\r');
            lines++;
            col = 0;
            continue;
        }
        col++;
        if (col > SP_NFO_WIDTH)
            fail_msg("line %zu is wider than 80 columns", lines + 1);
    }
    assert_int_equal(col, 0); /* ends with CRLF */
}

/* The text with line breaks and the indentation of continuation lines removed. */
static char *joined(const struct sp_buf *b)
{
    char *out = sp_malloc(b->len + 1);
    size_t w = 0;
    for (size_t i = 0; i < b->len; i++) {
        if (b->data[i] == '\r' || b->data[i] == '\n')
            continue;
        if (b->data[i] == ' ' && w > 0 && out[w - 1] == ' ')
            continue;
        out[w++] = b->data[i];
    }
    out[w] = '\0';
    return out;
}

static void builtin_templates_fit_80_columns(void **state)
{
    struct sp_nfo_vars v;
    struct sp_meta m;
    vars_full(&v, &m);
    for (const char *const *n = sp_nfo_template_names(); *n; n++) {
        struct sp_buf out = SP_BUF_INIT;
        struct sp_err e = {"", ""};
        unsigned char rendered[SP_NFO_COUNT];
        int rc = sp_nfo_render(sp_nfo_template(*n), &v, &out, rendered, &e);
        if (rc != SP_OK)
            fail_msg("template %s: %s", *n, e.message);
        assert_nfo_shape(&out);
        /* long values wrapped, not cut: the URL and the release name can be read back whole
         * (wrapping at a '/' or '.' leaves no blank inside them) */
        char *all = joined(&out);
        char *nospace = sp_strdup(all);
        size_t w = 0;
        for (size_t i = 0; nospace[i]; i++)
            if (nospace[i] != ' ')
                nospace[w++] = nospace[i];
        nospace[w] = '\0';
        assert_non_null(strstr(nospace, "https://www.example-bookshop.com/catalogue/books/"
                                        "victor-hugo/les-miserables/edition-integrale-illustree/"
                                        "9780306406157?utm_source=nfo&utm_medium=text"));
        assert_non_null(strstr(nospace, v.value[SP_NFO_RELEASE]));
        assert_non_null(strstr(all, "Victor Hugo"));
        assert_non_null(strstr(all, "First line of notes."));
        /* every mandatory field was shown */
        struct sp_meta req;
        sp_meta_init(&req);
        sp_meta_put(&req, SP_META_SOURCE, "RETAiL");
        assert_int_equal(sp_nfo_check_required(rendered, &req, &e), SP_OK);
        for (int f = 0; f < SP_NFO_COUNT; f++)
            if (v.value[f] && f != SP_NFO_PAYLOAD)
                if (!rendered[f])
                    fail_msg("template %s does not show {{%s}}", *n, sp_nfo_var_name(f));
        sp_meta_free(&req);
        sp_free(all);
        sp_free(nospace);
        sp_buf_free(&out);
    }
    /* the full (unshortened) title is in the NFO */
    struct sp_buf out = SP_BUF_INIT;
    struct sp_err e;
    assert_int_equal(sp_nfo_render(sp_nfo_template("plain"), &v, &out, NULL, &e), SP_OK);
    char *all = joined(&out);
    assert_non_null(strstr(all, "ses r\x82volutions")); /* é in CP437 */
    assert_non_null(strstr(all, "dix-neuvi\x8ame si\x8a"
                                "cle")); /* è */
    sp_free(all);
    sp_buf_free(&out);
    sp_meta_free(&m);
}

static void render_str(const char *tmpl, const struct sp_nfo_vars *v, struct sp_buf *out)
{
    struct sp_err e = {"", ""};
    if (sp_nfo_render(tmpl, v, out, NULL, &e) != SP_OK)
        fail_msg("render failed: %s", e.message);
}

static void cp437_mapping_and_crlf(void **state)
{
    struct sp_buf out = SP_BUF_INIT;
    render_str("é ü ß Ç ½ ░ █ ╔═╗ ►◄ ∙\nœ € “q” … — 三 ¶ §\n", NULL, &out);
    const char want[] = "\x82 \x81 \xe1 \x80 \xab \xb0 \xdb \xc9\xcd\xbb \x10\x11 \xf9\r\n"
                        "oe EUR \"q\" ... - ? \x14 \x15\r\n";
    assert_int_equal(out.len, sizeof want - 1);
    assert_memory_equal(out.data, want, sizeof want - 1);
    sp_buf_free(&out);

    /* decoding for display gives the characters back */
    struct sp_buf u = SP_BUF_INIT;
    const unsigned char raw[] = {0x82, 0xb0, 0xdb, 0x10, '\r', '\n'};
    sp_cp437_decode(raw, sizeof raw, &u);
    assert_string_equal(u.data, "é░█►\r\n");
    sp_buf_free(&u);

    /* LF, CRLF and CR templates all come out CRLF; tabs expand to 8-column stops */
    struct sp_buf a = SP_BUF_INIT, b = SP_BUF_INIT, c = SP_BUF_INIT;
    render_str("x\ny\n", NULL, &a);
    render_str("x\r\ny\r\n", NULL, &b);
    render_str("x\ry", NULL, &c);
    assert_string_equal(a.data, "x\r\ny\r\n");
    assert_string_equal(b.data, "x\r\ny\r\n");
    assert_string_equal(c.data, "x\r\ny\r\n");
    sp_buf_reset(&a);
    render_str("a\tb\n", NULL, &a);
    assert_string_equal(a.data, "a       b\r\n");
    sp_buf_free(&a);
    sp_buf_free(&b);
    sp_buf_free(&c);
}

static void columns_are_exact(void **state)
{
    /* 76 accented letters + "x: " prefix fit in 80: one CP437 byte per character */
    char val[400] = "";
    for (int i = 0; i < 77; i++)
        strcat(val, "é");
    struct sp_nfo_vars v = {0};
    v.value[SP_META_TITLE] = val;
    struct sp_buf out = SP_BUF_INIT;
    render_str("x: {{title}}\n", &v, &out);
    assert_int_equal(out.len, 80 + 2);
    sp_buf_reset(&out);
    /* one more and it wraps, hanging under the value */
    strcat(val, "é");
    render_str("x: {{title}}\n", &v, &out);
    assert_int_equal(out.len, 80 + 2 + 3 + 1 + 2);
    assert_memory_equal(out.data + 82, "   \x82\r\n", 6);
    sp_buf_free(&out);
}

static void expect_error(const char *tmpl, const struct sp_nfo_vars *v, const char *line,
                         const char *needle)
{
    struct sp_buf out = SP_BUF_INIT;
    struct sp_err e = {"", ""};
    assert_int_equal(sp_nfo_render(tmpl, v, &out, NULL, &e), SP_INVALID);
    assert_string_equal(e.field, "template");
    if (strncmp(e.message, line, strlen(line)) || !strstr(e.message, needle))
        fail_msg("expected '%s...%s', got '%s'", line, needle, e.message);
    sp_buf_free(&out);
}

static void template_errors_name_the_line(void **state)
{
    expect_error("Title: {{title}}\nOops: {{titel}}\n", NULL, "line 2:", "{{titel}}");
    expect_error("a\n{{#if isbn}}\nb\n", NULL, "line 2:", "never closed");
    expect_error("a\nb\n{{/if}}\n", NULL, "line 3:", "without an open");
    expect_error("a\n{{#if nope}}x{{/if}}\n", NULL, "line 2:", "nope");
    expect_error("x\ny\nz {{title\n", NULL, "line 3:", "closing");
    char wide[200];
    memset(wide, '=', 81);
    wide[81] = '\0';
    char t[300];
    snprintf(t, sizeof t, "1\n2\n3\n%s\n", wide);
    expect_error(t, NULL, "line 4:", "81 columns");
    /* 80 box-drawing characters are 80 columns, 81 are not */
    char box[400] = "";
    for (int i = 0; i < 81; i++)
        strcat(box, "═");
    strcat(box, "\n");
    expect_error(box, NULL, "line 1:", "81 columns");
    expect_error("ok\n\xff\xfe bad\n", NULL, "line 2:", "UTF-8");
    expect_error("ok\nbell\x07\n", NULL, "line 2:", "control character");
    /* two long values on one line cannot both wrap */
    char longv[200];
    memset(longv, 'w', 150);
    longv[150] = '\0';
    struct sp_nfo_vars v = {0};
    v.value[SP_META_TITLE] = longv;
    v.value[SP_META_AUTHOR] = longv;
    expect_error("\n{{author}} {{title}}\n", &v, "line 2:", "columns");
}

static void sections(void **state)
{
    const char *t = "A\n{{#if isbn}}\nISBN: {{isbn}}\n{{/if}}\nB {{#if genre}}({{genre}}){{/if}}\n"
                    "{{#if isbn}}{{#if genre}}both{{/if}}{{/if}}\nC\n";
    struct sp_nfo_vars v = {0};
    struct sp_buf out = SP_BUF_INIT;
    render_str(t, &v, &out);
    assert_string_equal(out.data, "A\r\nB\r\nC\r\n");
    sp_buf_reset(&out);
    v.value[SP_META_ISBN] = "123";
    render_str(t, &v, &out);
    assert_string_equal(out.data, "A\r\nISBN: 123\r\nB\r\nC\r\n");
    sp_buf_reset(&out);
    v.value[SP_META_GENRE] = "SF";
    render_str(t, &v, &out);
    assert_string_equal(out.data, "A\r\nISBN: 123\r\nB (SF)\r\nboth\r\nC\r\n");
    sp_buf_free(&out);
}

static void multiline_values_wrap_each_line(void **state)
{
    struct sp_nfo_vars v = {0};
    v.value[SP_META_NOTES] = "one\ntwo two two two two two two two two two two two two two two "
                             "two two two two two two two two";
    struct sp_buf out = SP_BUF_INIT;
    render_str("Notes: {{notes}}\n", &v, &out);
    assert_string_equal(out.data, "Notes: one\r\n"
                                  "       two two two two two two two two two two two two two "
                                  "two two two two two\r\n"
                                  "       two two two two two\r\n");
    sp_buf_free(&out);
}

static void mandatory_fields_are_checked(void **state)
{
    struct sp_meta m;
    sp_meta_init(&m);
    sp_meta_put(&m, SP_META_SOURCE, "RETAiL");
    struct sp_nfo_vars v = {0};
    const char *all[] = {"x"};
    for (int i = 0; i < SP_NFO_COUNT; i++)
        v.value[i] = all[0];
    unsigned char r[SP_NFO_COUNT];
    struct sp_buf out = SP_BUF_INIT;
    struct sp_err e = {"", ""};
    const char *base = "{{release}} {{release_date}} {{publish_date}} {{language}} {{source}} "
                       "{{disks}} {{size}} {{author}}\n";
    assert_int_equal(sp_nfo_render(base, &v, &out, r, &e), SP_OK);
    assert_int_equal(sp_nfo_check_required(r, &m, &e), SP_INVALID); /* RETAiL: url */
    assert_non_null(strstr(e.message, "{{url}}"));
    char t[512];
    snprintf(t, sizeof t, "%s{{url}}\n", base);
    assert_int_equal(sp_nfo_render(t, &v, &out, r, &e), SP_OK);
    assert_int_equal(sp_nfo_check_required(r, &m, &e), SP_OK);
    sp_meta_put(&m, SP_META_TAGS, "PROPER");
    assert_int_equal(sp_nfo_check_required(r, &m, &e), SP_INVALID);
    assert_non_null(strstr(e.message, "{{fixes}}"));
    sp_meta_put(&m, SP_META_TAGS, NULL);
    sp_meta_put(&m, SP_META_BOOK_KIND, "magazine");
    assert_int_equal(sp_nfo_check_required(r, &m, &e), SP_INVALID);
    assert_non_null(strstr(e.message, "{{issue}}"));
    /* an empty value does not count as shown */
    v.value[SP_META_LANGUAGE] = NULL;
    sp_meta_put(&m, SP_META_BOOK_KIND, NULL);
    assert_int_equal(sp_nfo_render(t, &v, &out, r, &e), SP_OK);
    assert_int_equal(sp_nfo_check_required(r, &m, &e), SP_INVALID);
    assert_non_null(strstr(e.message, "{{language}}"));
    sp_buf_free(&out);
    sp_meta_free(&m);
}

static void template_field_names(void **state)
{
    assert_int_equal(sp_nfo_var_index("title"), SP_META_TITLE);
    assert_int_equal(sp_nfo_var_index("release"), SP_NFO_RELEASE);
    assert_int_equal(sp_nfo_var_index("disks"), SP_NFO_DISKS);
    assert_int_equal(sp_nfo_var_index("nope"), -1);
    assert_null(sp_nfo_template("nope"));
    assert_non_null(sp_nfo_template(NULL)); /* the default */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(builtin_templates_fit_80_columns),
        cmocka_unit_test(cp437_mapping_and_crlf),
        cmocka_unit_test(columns_are_exact),
        cmocka_unit_test(template_errors_name_the_line),
        cmocka_unit_test(sections),
        cmocka_unit_test(multiline_values_wrap_each_line),
        cmocka_unit_test(mandatory_fields_are_checked),
        cmocka_unit_test(template_field_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

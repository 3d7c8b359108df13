/*
 * test_domain_meta.c — release metadata (PACKAGING.md §2): setting fields from outside input,
 * normalisation (RETAiL, languages, ISO dates, ISBN digits), and validation that lists every
 * broken rule with its field: mandatory fields, RETAiL needs a URL, kinds that need an issue or
 * volume, fixes for PROPER/REPACK, check digits.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "domain/meta.h"
#include "util/alloc.h"

static int has_problem(const struct sp_problems *p, const char *field)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->items[i].field, field))
            return 1;
    return 0;
}

static void setting_fields(void **state)
{
    struct sp_meta m;
    sp_meta_init(&m);
    struct sp_err e = {"", ""};
    assert_int_equal(sp_meta_set(&m, "title", "  The \t Hobbit\n ", &e), SP_OK);
    assert_string_equal(sp_meta_get(&m, SP_META_TITLE), "The Hobbit");
    assert_int_equal(sp_meta_set(&m, "titel", "x", &e), SP_INVALID);
    assert_string_equal(e.field, "meta");
    assert_int_equal(sp_meta_set(&m, "author", "bad \xff utf8", &e), SP_INVALID);
    assert_string_equal(e.field, "author");
    char big[2000];
    memset(big, 'x', 1500);
    big[1500] = '\0';
    assert_int_equal(sp_meta_set(&m, "title", big, &e), SP_INVALID);
    assert_string_equal(e.field, "title");
    assert_int_equal(sp_meta_set(&m, "title", "", &e), SP_OK); /* empty unsets */
    assert_null(sp_meta_get(&m, SP_META_TITLE));
    assert_int_equal(sp_meta_set(&m, "notes", "line one  \n\n  line two\n\n", &e), SP_OK);
    assert_string_equal(sp_meta_get(&m, SP_META_NOTES), "line one\n\n  line two");
    assert_int_equal(sp_meta_field_lookup("release_date"), SP_META_RELEASE_DATE);
    assert_string_equal(sp_meta_field_name(SP_META_PUBLISH_DATE), "publish_date");

    struct sp_meta c, d;
    sp_meta_init(&c);
    sp_meta_init(&d);
    sp_meta_put(&c, SP_META_AUTHOR, "A");
    sp_meta_put(&c, SP_META_TITLE, "T1");
    sp_meta_put(&d, SP_META_TITLE, "T2");
    sp_meta_merge(&c, &d);
    assert_string_equal(sp_meta_get(&c, SP_META_TITLE), "T2");
    assert_string_equal(sp_meta_get(&c, SP_META_AUTHOR), "A");
    sp_meta_copy(&d, &c);
    assert_string_equal(sp_meta_get(&d, SP_META_AUTHOR), "A");
    sp_meta_free(&c);
    sp_meta_free(&d);
    sp_meta_free(&m);
}

static void normalisation(void **state)
{
    struct sp_meta m;
    sp_meta_init(&m);
    sp_meta_put(&m, SP_META_SOURCE, "retail");
    sp_meta_put(&m, SP_META_LANGUAGE, "fr-CA");
    sp_meta_put(&m, SP_META_BOOK_KIND, "Novel");
    sp_meta_put(&m, SP_META_TAGS, "proper, internal");
    sp_meta_put(&m, SP_META_PUBLISH_DATE, "2007-03-14T10:00:00+01:00");
    sp_meta_put(&m, SP_META_RELEASE_DATE, "2024-05-01T00:00:00Z");
    sp_meta_put(&m, SP_META_ISBN, "978-0-306-40615-7");
    sp_meta_put(&m, SP_META_ISSN, "03178471");
    sp_meta_put(&m, SP_META_MONTH, "dec");
    sp_meta_normalize(&m);
    assert_string_equal(sp_meta_get(&m, SP_META_SOURCE), "RETAiL");
    assert_string_equal(sp_meta_get(&m, SP_META_LANGUAGE), "French");
    assert_string_equal(sp_meta_get(&m, SP_META_BOOK_KIND), "fiction");
    assert_string_equal(sp_meta_get(&m, SP_META_TAGS), "iNTERNAL,PROPER");
    assert_string_equal(sp_meta_get(&m, SP_META_PUBLISH_DATE), "2007-03-14");
    assert_string_equal(sp_meta_get(&m, SP_META_RELEASE_DATE), "2024-05-01");
    assert_string_equal(sp_meta_get(&m, SP_META_ISBN), "9780306406157");
    assert_string_equal(sp_meta_get(&m, SP_META_ISSN), "0317-8471");
    assert_string_equal(sp_meta_get(&m, SP_META_MONTH), "12");
    assert_string_equal(sp_meta_get(&m, SP_META_YEAR), "2007");
    assert_int_equal(sp_meta_year(&m), 2007);
    assert_int_equal(sp_meta_tags(&m), SP_TAG_INTERNAL | SP_TAG_PROPER);
    sp_meta_put(&m, SP_META_PUBLISH_DATE, "1999-07");
    sp_meta_normalize(&m);
    assert_string_equal(sp_meta_get(&m, SP_META_PUBLISH_DATE), "1999");
    sp_meta_free(&m);
}

static void languages(void **state)
{
    char tag[32];
    const struct sp_language *l = sp_language_find("sv");
    assert_non_null(l);
    sp_language_tag(l, tag, sizeof tag);
    assert_string_equal(tag, "SWEDiSH");
    assert_ptr_equal(sp_language_find("swe"), l);
    assert_ptr_equal(sp_language_find("Swedish"), l);
    assert_ptr_equal(sp_language_by_tag("SWEDiSH"), l);
    assert_null(sp_language_by_tag("SWEDISH"));
    assert_ptr_equal(sp_language_by_tag_ci("SWEDISH"), l);
    assert_string_equal(sp_language_find("ger")->name, "German");
    assert_string_equal(sp_language_find("pt_BR")->name, "Portuguese");
    sp_language_tag(sp_language_find("it"), tag, sizeof tag);
    assert_string_equal(tag, "iTALiAN");
    assert_null(sp_language_find("xx"));
    assert_null(sp_language_find("Klingon"));
    assert_null(sp_language_find(""));
}

static void identifiers(void **state)
{
    assert_true(sp_isbn_valid("9780306406157"));
    assert_true(sp_isbn_valid("978-0-306-40615-7"));
    assert_true(sp_isbn_valid("0-306-40615-2"));
    assert_true(sp_isbn_valid("080442957X"));
    assert_false(sp_isbn_valid("9780306406158"));
    assert_false(sp_isbn_valid("0306406153"));
    assert_false(sp_isbn_valid("X803064061"));
    assert_false(sp_isbn_valid("1234567890123")); /* not 978/979 */
    assert_false(sp_isbn_valid("978030640615a"));
    assert_true(sp_issn_valid("0317-8471"));
    assert_true(sp_issn_valid("2434-561X"));
    assert_false(sp_issn_valid("0317-8472"));
}

static void valid_metadata(struct sp_meta *m)
{
    sp_meta_init(m);
    sp_meta_put(m, SP_META_TITLE, "Pillars");
    sp_meta_put(m, SP_META_AUTHOR, "Ken Follett");
    sp_meta_put(m, SP_META_LANGUAGE, "en");
    sp_meta_put(m, SP_META_SOURCE, "RETAiL");
    sp_meta_put(m, SP_META_RELEASE_DATE, "2024-05-01");
    sp_meta_put(m, SP_META_PUBLISH_DATE, "1989");
    sp_meta_put(m, SP_META_URL, "https://shop.example.com/p");
    sp_meta_normalize(m);
}

static void validation_lists_every_problem(void **state)
{
    struct sp_meta m;
    sp_meta_init(&m);
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_true(sp_meta_validate(&m, &p) >= 5);
    const char *required[] = {"title",  "author",       "language",
                              "source", "release_date", "publish_date"};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!has_problem(&p, required[i]))
            fail_msg("no problem reported for missing %s", required[i]);
    sp_problems_free(&p);
    sp_meta_free(&m);

    valid_metadata(&m);
    assert_int_equal(sp_meta_validate(&m, &p), 0);
    struct sp_err e;
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);

    /* RETAiL needs a proof URL; SCAN does not */
    sp_meta_put(&m, SP_META_URL, NULL);
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "url");
    sp_meta_put(&m, SP_META_SOURCE, "SCAN");
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);
    sp_meta_put(&m, SP_META_URL, "ftp://x");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "url");
    sp_meta_put(&m, SP_META_URL, "https://ok.example/x y");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    sp_meta_put(&m, SP_META_URL, NULL);

    /* author or publisher */
    sp_meta_put(&m, SP_META_AUTHOR, NULL);
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "author");
    sp_meta_put(&m, SP_META_PUBLISHER, "Macmillan");
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);

    /* dates */
    sp_meta_put(&m, SP_META_RELEASE_DATE, "2024-02-30");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "release_date");
    sp_meta_put(&m, SP_META_RELEASE_DATE, "2024-02-29");
    sp_meta_put(&m, SP_META_PUBLISH_DATE, "March 1989");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "publish_date");
    sp_meta_put(&m, SP_META_PUBLISH_DATE, "1989-03-01");

    /* kinds */
    sp_meta_put(&m, SP_META_BOOK_KIND, "magazine");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "issue");
    sp_meta_put(&m, SP_META_ISSUE, "3");
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);
    sp_meta_put(&m, SP_META_ISSUE, NULL);
    sp_meta_put(&m, SP_META_BOOK_KIND, "comic");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "volume");
    sp_meta_put(&m, SP_META_VOLUME, "1");
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);
    sp_meta_put(&m, SP_META_BOOK_KIND, "newspaper");
    sp_meta_put(&m, SP_META_PUBLISH_DATE, "1989");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "publish_date");
    sp_meta_put(&m, SP_META_BOOK_KIND, "poetry");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "book_kind");
    sp_meta_put(&m, SP_META_BOOK_KIND, NULL);

    /* PROPER/REPACK/NFOFiX/DiRFiX must name the release they fix */
    sp_meta_put(&m, SP_META_TAGS, "REPACK");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "fixes");
    sp_meta_put(&m, SP_META_FIXES, "Ken.Follett.Pillars.1989.RETAiL.eBOOK-OLD");
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);
    sp_meta_put(&m, SP_META_FIXES, "not a dirname");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    sp_meta_put(&m, SP_META_TAGS, "READNFO");
    sp_meta_put(&m, SP_META_FIXES, NULL);
    assert_int_equal(sp_meta_check(&m, &e), SP_OK);
    sp_meta_put(&m, SP_META_TAGS, "FINAL");
    assert_int_equal(sp_meta_check(&m, &e), SP_INVALID);
    assert_string_equal(e.field, "tags");
    sp_meta_put(&m, SP_META_TAGS, NULL);

    /* identifiers and numbers */
    sp_meta_put(&m, SP_META_ISBN, "9780306406158");
    sp_meta_put(&m, SP_META_PAGES, "-3");
    sp_meta_put(&m, SP_META_LANGUAGE, "Klingon");
    sp_meta_put(&m, SP_META_SOURCE, "WEB");
    p.n = 0;
    sp_meta_validate(&m, &p);
    assert_true(has_problem(&p, "isbn"));
    assert_true(has_problem(&p, "pages"));
    assert_true(has_problem(&p, "language"));
    assert_true(has_problem(&p, "source"));
    sp_problems_free(&p);
    sp_meta_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(setting_fields),
        cmocka_unit_test(normalisation),
        cmocka_unit_test(languages),
        cmocka_unit_test(identifiers),
        cmocka_unit_test(validation_lists_every_problem),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

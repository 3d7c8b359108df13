/*
 * test_domain_release_name.c — dirnames of every book kind (PACKAGING.md §3): tag order,
 * LANGUAGE only when not English, FORMAT only when not PDF, extra tags, the type tag omitted
 * when the title already says it, transliteration of accents and other scripts, the 243-
 * character limit met by shortening the title only; the validator on names made elsewhere;
 * 8.3 base names and their uniqueness through the store's callback; payload names.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "domain/meta.h"
#include "domain/metadata.h"
#include "domain/release_name.h"
#include "util/alloc.h"

static void setm(struct sp_meta *m, const char *k, const char *v)
{
    struct sp_err e;
    assert_int_equal(sp_meta_set(m, k, v, &e), SP_OK);
}

/* Metadata from "key=value" pairs, with the mandatory fields defaulted. */
static void meta_of(struct sp_meta *m, const char *const *kv)
{
    sp_meta_init(m);
    setm(m, "release_date", "2024-05-01");
    setm(m, "source", "retail");
    setm(m, "url", "https://shop.example.com/book");
    setm(m, "language", "en");
    for (; *kv; kv++) {
        const char *eq = strchr(*kv, '=');
        char key[64];
        snprintf(key, sizeof key, "%.*s", (int)(eq - *kv), *kv);
        setm(m, key, eq + 1);
    }
    sp_meta_normalize(m);
}

static int build(const char *const *kv, int format, const char *group, char *out, struct sp_err *e)
{
    struct sp_meta m;
    meta_of(&m, kv);
    int rc = sp_dirname_build(&m, format, group, out, SP_DIRNAME_MAX + 1, e);
    sp_meta_free(&m);
    return rc;
}

static void expect_name(const char *const *kv, int format, const char *want)
{
    char out[SP_DIRNAME_MAX + 1];
    struct sp_err e = {"", ""};
    int rc = build(kv, format, "GRP", out, &e);
    if (rc != SP_OK)
        fail_msg("build failed: %s: %s", e.field, e.message);
    assert_string_equal(out, want);
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_dirname_validate(out, NULL, NULL, &p), 0);
    sp_problems_free(&p);
}

static void fiction_spec_example(void **state)
{
    const char *kv[] = {"author=Ken Follet", "title=Pillars", "edition=6th Edition",
                        "publish_date=2007", "language=fr",   NULL};
    expect_name(kv, SP_FMT_PDF, "Ken.Follet.Pillars.6th.Edition.2007.FRENCH.RETAiL.eBOOK-GRP");
}

static void fiction_edition_forms(void **state)
{
    const char *a[] = {"author=Ken Follet", "title=Pillars", "edition=6", "year=2007", NULL};
    expect_name(a, SP_FMT_PDF, "Ken.Follet.Pillars.6th.Edition.2007.RETAiL.eBOOK-GRP");
    const char *b[] = {"author=A B", "title=T", "edition=2", "year=2001", NULL};
    expect_name(b, SP_FMT_PDF, "A.B.T.2nd.Edition.2001.RETAiL.eBOOK-GRP");
    const char *c[] = {"author=A B", "title=T", "edition=11", "year=2001", NULL};
    expect_name(c, SP_FMT_PDF, "A.B.T.11th.Edition.2001.RETAiL.eBOOK-GRP");
    const char *d[] = {"author=A B", "title=T", "edition=Revised", "year=2001", NULL};
    expect_name(d, SP_FMT_PDF, "A.B.T.Revised.Edition.2001.RETAiL.eBOOK-GRP");
}

static void technical_spec_example(void **state)
{
    const char *kv[] = {"book_kind=technical",
                        "publisher=Wiley",
                        "author=John Smith",
                        "title=Tools & Computing",
                        "year=2008",
                        "language=German",
                        NULL};
    expect_name(kv, SP_FMT_PDF, "Wiley.Tools.and.Computing.2008.GERMAN.RETAiL.eBOOK-GRP");
    /* no publisher: the author leads */
    const char *kv2[] = {"book_kind=technical", "author=John Smith", "title=Tools", "year=2008",
                         NULL};
    expect_name(kv2, SP_FMT_EPUB, "John.Smith.Tools.2008.RETAiL.ePUB.eBOOK-GRP");
}

static void magazine(void **state)
{
    const char *kv[] = {"book_kind=magazine", "title=PC World", "issue=3", "year=2008",
                        "language=fr",        "publisher=IDG",  NULL};
    expect_name(kv, SP_FMT_PDF, "PC.World.No.3.2008.FRENCH.RETAiL.MAGAZiNE.eBOOK-GRP");
    /* "the type tag is omitted when the word is already part of the title" */
    const char *kv2[] = {"book_kind=magazine", "title=PC Magazine", "issue=NR03", "year=2008",
                         "language=fr",        "publisher=IDG",     NULL};
    expect_name(kv2, SP_FMT_PDF, "PC.Magazine.NR03.2008.FRENCH.RETAiL.eBOOK-GRP");
}

static void comic_and_manga(void **state)
{
    const char *kv[] = {
        "book_kind=comic", "title=The Fixture Saga", "volume=2", "issue=7", "month=11",
        "year=2019",       "author=Jean Dupont",     NULL};
    expect_name(kv, SP_FMT_CBZ,
                "The.Fixture.Saga.Vol.2.No.7.November.2019.RETAiL.COMiC.CBZ.eBOOK-GRP");
    const char *kv2[] = {
        "book_kind=manga", "title=One Piece",    "volume=98", "publish_date=2021-03-04",
        "language=ja",     "publisher=Shueisha", NULL};
    expect_name(kv2, SP_FMT_CBZ, "One.Piece.Vol.98.March.2021.JAPANESE.RETAiL.MANGA.CBZ.eBOOK-GRP");
    const char *kv3[] = {"book_kind=manga", "title=Manga Dogs",   "issue=1",
                         "year=2015",       "publisher=Kodansha", NULL};
    expect_name(kv3, SP_FMT_CBZ, "Manga.Dogs.No.1.2015.RETAiL.CBZ.eBOOK-GRP");
}

static void newspaper(void **state)
{
    const char *kv[] = {"book_kind=newspaper", "title=Le Monde",        "publish_date=2008-12-23",
                        "language=fr",         "publisher=Le Monde SA", NULL};
    expect_name(kv, SP_FMT_PDF, "Le.Monde.23.December.2008.FRENCH.RETAiL.eBOOK-GRP");
}

static void format_and_language_tags(void **state)
{
    const char *kv[] = {"author=A B", "title=T", "year=2020", NULL};
    expect_name(kv, SP_FMT_PDF, "A.B.T.2020.RETAiL.eBOOK-GRP");
    expect_name(kv, SP_FMT_EPUB, "A.B.T.2020.RETAiL.ePUB.eBOOK-GRP");
    expect_name(kv, SP_FMT_KF8, "A.B.T.2020.RETAiL.KF8.eBOOK-GRP");
    expect_name(kv, SP_FMT_AZW, "A.B.T.2020.RETAiL.AZW.eBOOK-GRP");
    expect_name(kv, SP_FMT_MOBI, "A.B.T.2020.RETAiL.MOBI.eBOOK-GRP");
    expect_name(kv, SP_FMT_PRC, "A.B.T.2020.RETAiL.PRC.eBOOK-GRP");
    expect_name(kv, SP_FMT_CBZ, "A.B.T.2020.RETAiL.CBZ.eBOOK-GRP");
    const char *sv[] = {"author=A B", "title=T", "year=2020", "language=sv", NULL};
    expect_name(sv, SP_FMT_PDF, "A.B.T.2020.SWEDiSH.RETAiL.eBOOK-GRP");
    const char *it[] = {"author=A B", "title=T", "year=2020", "language=ita", NULL};
    expect_name(it, SP_FMT_PDF, "A.B.T.2020.iTALiAN.RETAiL.eBOOK-GRP");
    const char *en[] = {"author=A B", "title=T", "year=2020", "language=en-GB", NULL};
    expect_name(en, SP_FMT_PDF, "A.B.T.2020.RETAiL.eBOOK-GRP");
    const char *scan[] = {"author=A B", "title=T", "year=2020", "source=scan", NULL};
    expect_name(scan, SP_FMT_PDF, "A.B.T.2020.SCAN.eBOOK-GRP");
    const char *hyb[] = {"author=A B", "title=T", "year=2020", "source=Hybrid", NULL};
    expect_name(hyb, SP_FMT_PDF, "A.B.T.2020.HYBRiD.eBOOK-GRP");
}

static void extra_tags_in_order(void **state)
{
    const char *kv[] = {"author=A B",
                        "title=T",
                        "year=2020",
                        "language=de",
                        "tags=repack proper internal readnfo nfofix dirfix",
                        "fixes=A.B.T.2020.GERMAN.RETAiL.ePUB.eBOOK-GRP",
                        NULL};
    expect_name(kv, SP_FMT_EPUB,
                "A.B.T.2020.GERMAN.RETAiL.READNFO.NFOFiX.DiRFiX.iNTERNAL."
                "PROPER.REPACK.ePUB.eBOOK-GRP");
    const char *mag[] = {"book_kind=magazine",
                         "title=Chip",
                         "issue=5",
                         "year=2020",
                         "publisher=P",
                         "tags=PROPER",
                         "fixes=Chip.No.5.2020.RETAiL.MAGAZiNE.eBOOK-X",
                         NULL};
    expect_name(mag, SP_FMT_PDF, "Chip.No.5.2020.RETAiL.PROPER.MAGAZiNE.eBOOK-GRP");
}

static void transliteration(void **state)
{
    const char *kv[] = {"author=Émile Zola", "title=L'Assommoir: Édition spéciale — Straße",
                        "year=1877", "language=fr", NULL};
    expect_name(kv, SP_FMT_EPUB,
                "Emile.Zola.LAssommoir.Edition.speciale.Strasse.1877.FRENCH.RETAiL.ePUB.eBOOK-GRP");
    const char *ru[] = {"author=Лев Толстой", "title=Война и мир", "year=1869", "language=ru",
                        NULL};
    expect_name(ru, SP_FMT_EPUB, "Lev.Tolstoy.Voyna.i.mir.1869.RUSSiAN.RETAiL.ePUB.eBOOK-GRP");
    const char *dots[] = {"author=...J. R. R. Tolkien", "title=The Hobbit!!! (or There & Back)",
                          "year=1937", NULL};
    expect_name(dots, SP_FMT_PDF,
                "J.R.R.Tolkien.The.Hobbit.or.There.and.Back.1937.RETAiL.eBOOK-GRP");
    const char *lig[] = {"author=Œdipe Ærø", "title=Łódź Ångström", "year=2000", NULL};
    expect_name(lig, SP_FMT_PDF, "OEdipe.AEro.Lodz.Angstrom.2000.RETAiL.eBOOK-GRP");

    char *w = sp_dirname_words("  Spider-Man__2 ... vs. C++  ");
    assert_string_equal(w, "Spider-Man_2.vs.C");
    sp_free(w);

    /* a title with nothing a dirname can hold is refused, naming the field */
    const char *cjk[] = {"author=Liu Cixin", "title=三体", "year=2008", NULL};
    char out[SP_DIRNAME_MAX + 1];
    struct sp_err e = {"", ""};
    assert_int_equal(build(cjk, SP_FMT_EPUB, "GRP", out, &e), SP_INVALID);
    assert_string_equal(e.field, "title");
}

static void long_titles_shortened_tags_intact(void **state)
{
    char title[2000] = "";
    for (int i = 0; i < 60; i++)
        strcat(title, i ? " Chronicle" : "Chronicle");
    char t[2100];
    snprintf(t, sizeof t, "title=%s", title);
    const char *kv[] = {
        "author=Ken Follett",          t,   "edition=3", "year=2007", "language=fr", "tags=proper",
        "fixes=X.2007.RETAiL.eBOOK-Y", NULL};
    char out[SP_DIRNAME_MAX + 1];
    struct sp_err e = {"", ""};
    assert_int_equal(build(kv, SP_FMT_EPUB, "GRP", out, &e), SP_OK);
    assert_true(strlen(out) <= SP_DIRNAME_MAX);
    assert_true(strlen(out) > SP_DIRNAME_MAX - 12); /* used the room it had */
    const char *tail = ".3rd.Edition.2007.FRENCH.RETAiL.PROPER.ePUB.eBOOK-GRP";
    assert_string_equal(out + strlen(out) - strlen(tail), tail);
    assert_memory_equal(out, "Ken.Follett.Chronicle.Chronicle.", 32);
    /* cut between words: the title part is whole "Chronicle" words */
    size_t tl = strlen(out) - strlen(tail) - strlen("Ken.Follett.");
    for (size_t i = 0; i < tl; i += 10)
        assert_memory_equal(out + 12 + i, "Chronicle", 9);
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_dirname_validate(out, NULL, NULL, &p), 0);
    sp_problems_free(&p);

    /* one enormous word: cut hard, still within the limit, tags whole */
    char big[400];
    memset(big, 'x', 300);
    big[300] = '\0';
    char t2[420];
    snprintf(t2, sizeof t2, "title=%s", big);
    const char *kv2[] = {"author=A", t2, "year=2007", NULL};
    assert_int_equal(build(kv2, SP_FMT_PDF, "GRP", out, &e), SP_OK);
    assert_int_equal(strlen(out), SP_DIRNAME_MAX);
    assert_string_equal(out + strlen(out) - strlen(".2007.RETAiL.eBOOK-GRP"),
                        ".2007.RETAiL.eBOOK-GRP");

    /* when the author alone leaves no room for a title, the packer says so */
    char author[400];
    memset(author, 'a', 260);
    author[260] = '\0';
    char a2[420];
    snprintf(a2, sizeof a2, "author=%s", author);
    const char *kv3[] = {a2, "title=T", "year=2007", NULL};
    assert_int_equal(build(kv3, SP_FMT_PDF, "GRP", out, &e), SP_INVALID);
    assert_string_equal(e.field, "author");
}

static void bad_group_refused(void **state)
{
    const char *kv[] = {"author=A", "title=T", "year=2007", NULL};
    char out[SP_DIRNAME_MAX + 1];
    struct sp_err e = {"", ""};
    assert_int_equal(build(kv, SP_FMT_PDF, "G", out, &e), SP_INVALID);
    assert_string_equal(e.field, "group");
    assert_int_equal(build(kv, SP_FMT_PDF, "my group", out, &e), SP_INVALID);
    assert_int_equal(build(kv, SP_FMT_PDF, "-GRP", out, &e), SP_INVALID);
    assert_int_equal(build(kv, SP_FMT_PDF, "GRP_2-x", out, &e), SP_OK);
    assert_true(sp_group_valid("AB"));
    assert_false(sp_group_valid("ABCDEFGHIJKLMNOPQRSTUVWXYZ01234"));
}

/* Each bad name yields (at least) the violation whose text contains `needle`. */
static void expect_violation(const char *name, const char *needle)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    size_t n = sp_dirname_validate(name, NULL, NULL, &p);
    int found = 0;
    for (size_t i = 0; i < p.n; i++) {
        assert_string_equal(p.items[i].field, "dirname");
        if (strstr(p.items[i].message, needle))
            found = 1;
    }
    if (!found) {
        for (size_t i = 0; i < p.n; i++)
            print_message("  got: %s\n", p.items[i].message);
        fail_msg("%s: expected a violation mentioning '%s' (%zu found)", name, needle, n);
    }
    sp_problems_free(&p);
}

static void validator_lists_violations(void **state)
{
    expect_violation("Ken.Follet.Pillars.2007.French.RETAiL.eBOOK-GRP", "must be spelt 'FRENCH'");
    expect_violation("Ken.Follet.Pillars.2007.FRENCH.Retail.eBOOK-GRP", "must be spelt 'RETAiL'");
    expect_violation("Title.2007.ENGLiSH.RETAiL.eBOOK-GRP", "no LANGUAGE tag for English");
    expect_violation("Title.2007.RETAiL.FRENCH.eBOOK-GRP", "out of order");
    expect_violation("Title.2007.RETAiL.ePUB.PROPER.eBOOK-GRP", "out of order");
    expect_violation("Title.RETAiL.eBOOK-GRP", "year");
    expect_violation("Title.2007.eBOOK-GRP", "SOURCE tag");
    expect_violation("Title 2007 RETAiL eBOOK-GRP", "space");
    expect_violation("Title..2007.RETAiL.eBOOK-GRP", "repeats separators");
    expect_violation("Title.2007.RETAiL.EBOOK-GRP", "eBOOK");
    expect_violation("Title.2007.RETAiL", "must end with .eBOOK-<GROUP>");
    expect_violation("Titl\xc3\xa9.2007.RETAiL.eBOOK-GRP", "non-ASCII");
    expect_violation(".Title.2007.RETAiL.eBOOK-GRP", "start or end");
    expect_violation("Title.2007.RETAiL.RETAiL.eBOOK-GRP", "more than one SOURCE");
    expect_violation("Title.2007.RETAiL.ePUB.MOBI.eBOOK-GRP", "more than one FORMAT");
    expect_violation("Title.2007.RETAiL.eBOOK-G", "not a valid group");
    expect_violation("2007.RETAiL.eBOOK-GRP", "no name parts");
    expect_violation("Title.RETAiL.2007.SCAN.eBOOK-GRP", "stands among the name parts");
    char longname[300];
    memset(longname, 'a', 250);
    strcpy(longname + 250, ".2007.RETAiL.eBOOK-GRP");
    expect_violation(longname, "at most 243");

    /* what a valid name says */
    struct sp_dirname_info info;
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(sp_dirname_validate("George.Orwell.1984.1949.SWEDiSH.SCAN.iNTERNAL.KF8."
                                         "eBOOK-GRP",
                                         NULL, &info, &p),
                     0);
    assert_int_equal(info.year, 1949);
    assert_string_equal(info.language, "SWEDiSH");
    assert_string_equal(info.source, "SCAN");
    assert_int_equal(info.tags, SP_TAG_INTERNAL);
    assert_string_equal(info.format_tag, "KF8");
    assert_int_equal(info.format, SP_FMT_KF8);
    assert_string_equal(info.group, "GRP");
    assert_string_equal(info.parts, "George.Orwell.1984");
    sp_problems_free(&p);
}

struct taken {
    int calls, refuse_first, fail;
    int year_seen;
    char seen[64][8];
};

static int taken_cb(void *ctx, const char *base, int year)
{
    struct taken *t = ctx;
    t->year_seen = year;
    if (t->fail)
        return -1;
    if (t->calls < 64)
        snprintf(t->seen[t->calls], 8, "%s", base);
    return t->calls++ < t->refuse_first ? 1 : 0;
}

static void short_names_83(void **state)
{
    const char *dn = "Ken.Follet.Pillars.6th.Edition.2007.FRENCH.RETAiL.eBOOK-GRP";
    char base[SP_BASE_LEN + 1];
    struct sp_err e;
    assert_int_equal(sp_short_base(dn, 2007, NULL, NULL, base, &e), SP_OK);
    assert_int_equal(strlen(base), 6);
    for (int i = 0; i < 6; i++)
        assert_true(islower((unsigned char)base[i]) || isdigit((unsigned char)base[i]));
    assert_memory_equal(base, "kfp6e", 5); /* the initials lead */

    /* taken names are skipped: every candidate offered is distinct and the answer is free */
    struct taken t = {.refuse_first = 40};
    char chosen[SP_BASE_LEN + 1];
    assert_int_equal(sp_short_base(dn, 2007, taken_cb, &t, chosen, &e), SP_OK);
    assert_int_equal(t.calls, 41);
    assert_int_equal(t.year_seen, 2007);
    assert_string_equal(chosen, t.seen[40]);
    for (int i = 0; i < 41; i++) {
        assert_int_equal(strlen(t.seen[i]), 6);
        for (int k = 0; k < i; k++)
            assert_string_not_equal(t.seen[i], t.seen[k]);
    }
    assert_string_equal(t.seen[0], base);

    /* short names pad with the year */
    assert_int_equal(sp_short_base("Dune.1965.RETAiL.eBOOK-GRP", 1965, NULL, NULL, base, &e),
                     SP_OK);
    assert_string_equal(base, "dune65");

    struct taken all = {.refuse_first = 1 << 30};
    assert_int_equal(sp_short_base(dn, 2007, taken_cb, &all, chosen, &e), SP_CONFLICT);
    struct taken bad = {.fail = 1};
    assert_int_equal(sp_short_base(dn, 2007, taken_cb, &bad, chosen, &e), SP_ERR);
}

static void payload_names(void **state)
{
    char out[SP_PAYLOAD_NAME_MAX + 1];
    sp_payload_name("Ken.Follet.Pillars.2007.FRENCH.RETAiL.ePUB.eBOOK-GRP", "epub", out,
                    sizeof out);
    assert_string_equal(out, "Ken.Follet.Pillars.2007.epub");
    char dn[300] = "";
    for (int i = 0; i < 20; i++)
        strcat(dn, "Chronicle.");
    strcat(dn, "2007.RETAiL.KF8.eBOOK-GRP");
    sp_payload_name(dn, "azw3", out, sizeof out);
    assert_true(strlen(out) <= SP_PAYLOAD_NAME_MAX);
    assert_null(strchr(out, ' '));
    assert_string_equal(out + strlen(out) - 5, ".azw3");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fiction_spec_example),
        cmocka_unit_test(fiction_edition_forms),
        cmocka_unit_test(technical_spec_example),
        cmocka_unit_test(magazine),
        cmocka_unit_test(comic_and_manga),
        cmocka_unit_test(newspaper),
        cmocka_unit_test(format_and_language_tags),
        cmocka_unit_test(extra_tags_in_order),
        cmocka_unit_test(transliteration),
        cmocka_unit_test(long_titles_shortened_tags_intact),
        cmocka_unit_test(bad_group_refused),
        cmocka_unit_test(validator_lists_violations),
        cmocka_unit_test(short_names_83),
        cmocka_unit_test(payload_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

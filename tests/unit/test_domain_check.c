/*
 * test_domain_check.c — `check` on release directories of any origin: a packed release is
 * clean; each tampering is reported as its own violation (NFO line ends and width, stray files
 * and directories, SFV CRCs and listings, 8.3 and lowercase ZIP names, FILE_ID.DIZ, spaces,
 * members that fail their CRC, FORMAT tag against the payload, dirname rules), and several
 * violations are all listed at once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/meta.h"
#include "domain/package.h"
#include "domain/release_check.h"
#include "domain/sfv.h"
#include "domain/zip_volume.h"
#include "fixtures_books.h"
#include "util/alloc.h"

static char dir[512];
static char epub_release[700], pdf_release[700];

/* Pack the two fixtures once; each test works on a copy. */
static int setup(void **state)
{
    fx_tmpdir(dir, "check");
    char src[700], out[700];
    snprintf(out, sizeof out, "%s/packed", dir);
    mkdir(out, 0755);
    struct sp_meta m;
    sp_meta_init(&m);
    struct sp_err e;
    sp_meta_set(&m, "source", "SCAN", &e);
    sp_meta_set(&m, "release_date", "2024-05-01", &e);
    sp_meta_set(&m, "language", "en", &e);
    snprintf(src, sizeof src, "%s/book.epub", dir);
    struct fx_epub_opts eo = {
        .title = "Check Me", .author = "Ann Author", .language = "en", .date = "2001"};
    fx_epub(src, &eo);
    struct sp_pack_request rq = {.input = src, .out_dir = out, .group = "TEAM", .meta = &m};
    struct sp_pack_result res;
    if (sp_pack(&rq, &res, NULL, &e) != SP_OK)
        return -1;
    snprintf(epub_release, sizeof epub_release, "%s", res.path);
    sp_pack_result_free(&res);
    snprintf(src, sizeof src, "%s/book.pdf", dir);
    struct fx_pdf_opts po = {.title = "Plain Pages", .author = "Ann Author", .date = "20010101"};
    fx_pdf(src, &po);
    if (sp_pack(&rq, &res, NULL, &e) != SP_OK)
        return -1;
    snprintf(pdf_release, sizeof pdf_release, "%s", res.path);
    sp_pack_result_free(&res);
    sp_meta_free(&m);
    return 0;
}

static int teardown(void **state)
{
    fx_sh("rm -rf '%s'", dir);
    return 0;
}

/* A copy of a packed release under a (possibly different) dirname. */
static void copy_release(const char *from, const char *dirname, char *out)
{
    snprintf(out, 800, "%s/work/%s", dir, dirname);
    assert_int_equal(
        fx_sh("rm -rf '%s/work' && mkdir -p '%s/work' && cp -r '%s' '%s'", dir, dir, from, out), 0);
}

static const char *base_of(const char *path)
{
    return strrchr(path, '/') + 1;
}

static size_t check(const char *path, int flags, struct sp_problems *p)
{
    struct sp_err e = {"", ""};
    sp_problems_free(p);
    assert_int_equal(sp_release_check(path, NULL, flags, p, &e), SP_OK);
    return p->n;
}

static void expect(const struct sp_problems *p, const char *field, const char *needle)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->items[i].field, field) && strstr(p->items[i].message, needle))
            return;
    for (size_t i = 0; i < p->n; i++)
        print_message("  got [%s] %s: %s\n", p->items[i].field, p->items[i].file,
                      p->items[i].message);
    fail_msg("expected a [%s] violation mentioning '%s'", field, needle);
}

static void packed_releases_are_clean(void **state)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    assert_int_equal(check(epub_release, 0, &p), 0);
    assert_int_equal(check(pdf_release, 0, &p), 0);
    assert_int_equal(check(epub_release, SP_CHECK_QUICK, &p), 0);
    sp_problems_free(&p);
}

static void nfo_line_ends_and_width(void **state)
{
    char r[800];
    copy_release(epub_release, base_of(epub_release), r);
    struct sp_problems p = SP_PROBLEMS_INIT;
    /* LF line ends (the copy in the ZIP then differs too) */
    assert_int_equal(
        fx_sh("cd '%s' && for f in *.nfo; do tr -d '\\r' < $f > t && mv t $f; done", r), 0);
    check(r, 0, &p);
    expect(&p, "nfo", "LF instead of CRLF");
    expect(&p, "nfo", "differs from the release's NFO");
    /* a line of 81 columns */
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && for f in *.nfo; do printf '%%081d\\r\\n' 0 >> $f; done", r),
                     0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "nfo", "wider than 80 columns");
    sp_problems_free(&p);
}

static void layout_and_sfv(void **state)
{
    char r[800];
    struct sp_problems p = SP_PROBLEMS_INIT;
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && touch readme.txt 'with space.nfo' && mkdir Sample", r), 0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "layout", "unexpected file");
    expect(&p, "layout", "unexpected directory");
    expect(&p, "layout", "must not contain spaces");
    expect(&p, "layout", "more than one NFO");
    /* links and pipes are reported, never opened (a pipe would block, /dev/zero never ends) */
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && ln -s /dev/zero zero.zip && mkfifo pipe.nfo && "
                           "for f in *.sfv; do printf 'zero.zip 00000000\\r\\n' >> $f; done",
                           r),
                     0);
    check(r, 0, &p);
    expect(&p, "layout", "not a regular file");
    expect(&p, "sfv", "zero.zip, which is not in the release");

    /* a wrong CRC in the SFV: found by a full check only */
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && sed -i 's/ [0-9A-F]\\{8\\}\\r$/ 00000000\\r/' *.sfv", r), 0);
    assert_int_equal(check(r, SP_CHECK_QUICK, &p), 0);
    check(r, 0, &p);
    expect(&p, "sfv", "but the SFV says 00000000");
    assert_int_equal(fx_sh("cd '%s' && ! cksfv -q -f *.sfv >/dev/null 2>&1", r), 0);

    /* an SFV listing a file that is not there, or missing a volume */
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && for f in *.sfv; do printf 'ghost.zip 12345678\\r\\n' >> "
                           "$f; done && cp *01.zip extra.zip",
                           r),
                     0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "sfv", "ghost.zip, which is not in the release");
    expect(&p, "sfv", "extra.zip is not listed");
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && rm *.sfv", r), 0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "layout", "the SFV is missing");
    sp_problems_free(&p);
}

static void zip_names_and_members(void **state)
{
    char r[800];
    struct sp_problems p = SP_PROBLEMS_INIT;
    /* upper-case and over-long ZIP names */
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && z=$(ls *.zip) && mv $z ABCDEF01.zip && "
                           "sed -i \"s/$z/ABCDEF01.zip/\" *.sfv",
                           r),
                     0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "zip", "8.3 and lowercase");
    copy_release(epub_release, base_of(epub_release), r);
    assert_int_equal(fx_sh("cd '%s' && z=$(ls *.zip) && mv $z waytoolongname01.zip && "
                           "sed -i \"s/$z/waytoolongname01.zip/\" *.sfv",
                           r),
                     0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "zip", "8.3");

    /* a payload byte changed inside the ZIP: its CRC fails (like unzip -t would say) */
    copy_release(epub_release, base_of(epub_release), r);
    char zip[900];
    snprintf(zip, sizeof zip, "%s/", r);
    assert_int_equal(fx_sh("cd '%s' && z=$(ls *.zip) && s=$(stat -c %%s $z) && "
                           "printf 'X' | dd of=$z bs=1 seek=$((s - 400)) conv=notrunc 2>/dev/null",
                           r),
                     0);
    check(r, 0, &p);
    expect(&p, "zip", "fails to extract");
    sp_problems_free(&p);
}

/* Build a release by hand from members; returns its path in out. */
static void hand_release(const char *dirname, const char *volname, struct sp_zip_member *m,
                         size_t n, char *out)
{
    snprintf(out, 800, "%s/work/%s", dir, dirname);
    fx_sh("rm -rf '%s/work' && mkdir -p '%s'", dir, out);
    char path[1000];
    snprintf(path, sizeof path, "%s/%s", out, volname);
    uint32_t crc;
    int64_t size;
    struct sp_err e;
    assert_int_equal(sp_zip_write(path, m, n, NULL, &crc, &size, &e), SP_OK);
    snprintf(path, sizeof path, "%s/team-hand.nfo", out);
    fx_write(path, "hello\r\n", 7);
    char sfv[200];
    int k = snprintf(sfv, sizeof sfv, "%s %08X\r\n", volname, crc);
    snprintf(path, sizeof path, "%s/team-hand.sfv", out);
    fx_write(path, sfv, (size_t)k);
}

static void diz_and_member_rules(void **state)
{
    char pdf[800], r[800];
    snprintf(pdf, sizeof pdf, "%s/book.pdf", dir);
    struct sp_problems p = SP_PROBLEMS_INIT;
    const char *diz = "TEAM\r\nDISK: [01/01]\r\n";
    struct sp_zip_member ok[3] = {{"FILE_ID.DIZ", NULL, diz, strlen(diz), 0},
                                  {"team-hand.nfo", NULL, "hello\r\n", 7, 0},
                                  {"Hand.Made.2001.pdf", pdf, NULL, 0, 0}};
    hand_release("Hand.Made.2001.SCAN.eBOOK-TEAM", "handmd01.zip", ok, 3, r);
    assert_int_equal(check(r, 0, &p), 0);

    /* no DIZ, a name with a space, a path, a wrong disk counter */
    struct sp_zip_member bad[3] = {{"team-hand.nfo", NULL, "hello\r\n", 7, 0},
                                   {"Hand Made.pdf", pdf, NULL, 0, 0},
                                   {"sub/../x.txt", NULL, "x", 1, 0}};
    hand_release("Hand.Made.2001.SCAN.eBOOK-TEAM", "handmd01.zip", bad, 3, r);
    check(r, 0, &p);
    expect(&p, "diz", "no FILE_ID.DIZ");
    expect(&p, "zip", "contains a space");
    expect(&p, "zip", "not a plain file name");
    const char *diz2 = "OTHER\r\nDISK: [02/03]\r\n";
    struct sp_zip_member wrong[3] = {{"FILE_ID.DIZ", NULL, diz2, strlen(diz2), 0},
                                     {"team-hand.nfo", NULL, "hello\r\n", 7, 0},
                                     {"Hand.Made.2001.pdf", pdf, NULL, 0, 0}};
    hand_release("Hand.Made.2001.SCAN.eBOOK-TEAM", "handmd01.zip", wrong, 3, r);
    check(r, 0, &p);
    expect(&p, "diz", "volume 01 of 01");
    expect(&p, "diz", "does not name the group TEAM");

    /* more than 99 files in a ZIP */
    struct sp_zip_member many[103];
    char names[103][16];
    many[0] = ok[0];
    many[1] = ok[1];
    many[2] = ok[2];
    for (int i = 3; i < 103; i++) {
        snprintf(names[i], sizeof names[i], "f%03d.txt", i);
        many[i] = (struct sp_zip_member){names[i], NULL, "x", 1, 0};
    }
    hand_release("Hand.Made.2001.SCAN.eBOOK-TEAM", "handmd01.zip", many, 103, r);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "zip", "103 files in one ZIP");

    /* the payload's format decides the FORMAT tag */
    hand_release("Hand.Made.2001.SCAN.ePUB.eBOOK-TEAM", "handmd01.zip", ok, 3, r);
    check(r, 0, &p);
    expect(&p, "dirname", "a PDF release takes no FORMAT tag");
    sp_problems_free(&p);
}

static void format_tag_and_dirname(void **state)
{
    char r[800], name[400];
    struct sp_problems p = SP_PROBLEMS_INIT;
    /* an EPUB release renamed to claim MOBI, or to drop its tag */
    snprintf(name, sizeof name, "%s", base_of(epub_release));
    char *t = strstr(name, ".ePUB.");
    assert_non_null(t);
    memcpy(t, ".MOBI.", 6);
    copy_release(epub_release, name, r);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "dirname", "does not match the payload");
    memmove(t, t + 5, strlen(t + 5) + 1);
    copy_release(epub_release, name, r);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "dirname", "needs the FORMAT tag 'ePUB'");

    /* several dirname rules at once, all listed */
    copy_release(pdf_release, "Ann Author.Plain.Pages.2001.English.Scan.eBOOK-TEAM", r);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "dirname", "space");
    expect(&p, "dirname", "must be spelt 'SCAN'");
    expect(&p, "dirname", "no LANGUAGE tag for English");
    /* the NFO is named after the group */
    copy_release(pdf_release, base_of(pdf_release), r);
    assert_int_equal(fx_sh("cd '%s' && mv *.nfo other-name.nfo", r), 0);
    check(r, SP_CHECK_QUICK, &p);
    expect(&p, "nfo", "should start with 'TEAM-'");
    sp_problems_free(&p);
}

static void volumes_numbering(void **state)
{
    char pdf[800], r[800];
    snprintf(pdf, sizeof pdf, "%s/book.pdf", dir);
    const char *d1 = "TEAM DISK: [01/03]\r\n", *d3 = "TEAM DISK: [03/03]\r\n";
    struct sp_zip_member v1[3] = {{"FILE_ID.DIZ", NULL, d1, strlen(d1), 0},
                                  {"team-hand.nfo", NULL, "hello\r\n", 7, 0},
                                  {"Hand.Made.2001.pdf", pdf, NULL, 0, 0}};
    hand_release("Hand.Made.2001.SCAN.eBOOK-TEAM", "handmd01.zip", v1, 3, r);
    struct sp_zip_member v3[3] = {{"FILE_ID.DIZ", NULL, d3, strlen(d3), 0},
                                  {"team-hand.nfo", NULL, "hello\r\n", 7, 0},
                                  {"Hand.Made.2001.part3", NULL, "zzz", 3, 0}};
    char path[1000];
    snprintf(path, sizeof path, "%s/handmd03.zip", r);
    uint32_t crc;
    int64_t size;
    struct sp_err e;
    assert_int_equal(sp_zip_write(path, v3, 3, NULL, &crc, &size, &e), SP_OK);
    fx_sh("cd '%s' && printf 'handmd03.zip %%08X\\r\\n' %u >> team-hand.sfv", r, crc);
    struct sp_problems p = SP_PROBLEMS_INIT;
    check(r, 0, &p);
    expect(&p, "zip", "volume 02 of 02 is missing");
    sp_problems_free(&p);
}

static void not_a_release_dir(void **state)
{
    struct sp_problems p = SP_PROBLEMS_INIT;
    struct sp_err e = {"", ""};
    char missing[700], file[700];
    snprintf(missing, sizeof missing, "%s/nope", dir);
    assert_int_equal(sp_release_check(missing, NULL, 0, &p, &e), SP_NOTFOUND);
    snprintf(file, sizeof file, "%s/book.pdf", dir);
    assert_int_equal(sp_release_check(file, NULL, 0, &p, &e), SP_INVALID);
    /* an empty directory: every missing piece is named */
    char empty[700];
    snprintf(empty, sizeof empty, "%s/Empty.2001.SCAN.eBOOK-TEAM", dir);
    mkdir(empty, 0755);
    check(empty, 0, &p);
    expect(&p, "layout", "the NFO is missing");
    expect(&p, "layout", "the SFV is missing");
    expect(&p, "layout", "no ZIP volume");
    sp_problems_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(packed_releases_are_clean),
        cmocka_unit_test(nfo_line_ends_and_width),
        cmocka_unit_test(layout_and_sfv),
        cmocka_unit_test(zip_names_and_members),
        cmocka_unit_test(diz_and_member_rules),
        cmocka_unit_test(format_tag_and_dirname),
        cmocka_unit_test(volumes_numbering),
        cmocka_unit_test(not_a_release_dir),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

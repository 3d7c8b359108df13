/*
 * test_domain_metadata.c — format detection from bytes (PDF, EPUB, CBZ, MOBI, AZW, KF8, PRC),
 * extensions that lie, DRM in each format (EPUB rights.xml / encryption.xml but not font
 * obfuscation, PDF /Encrypt with and without a user password, the MOBI encryption field and a
 * KF8 part's), the metadata each format carries, and hostile input: damaged, truncated and
 * randomly mutated files must be refused or read, never crash (this runs under ASan+UBSan).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <qpdf/qpdf-c.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "domain/metadata.h"
#include "fixtures_books.h"
#include "util/alloc.h"

static char dir[512];

static int setup(void **state)
{
    fx_tmpdir(dir, "metadata");
    return 0;
}

static int teardown(void **state)
{
    fx_sh("rm -rf '%s'", dir);
    return 0;
}

static const char *path_of(const char *name)
{
    static char p[8][700];
    static int k;
    k = (k + 1) % 8;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void analyze_ok(const char *path, const char *name, struct sp_book *b)
{
    struct sp_err e = {"", ""};
    int rc = sp_book_analyze(path, name, 0, b, &e);
    if (rc != SP_OK)
        fail_msg("%s: %s", path, e.message);
}

static void epub_detection_and_metadata(void **state)
{
    struct fx_epub_opts o = {.title = "Les Misérables",
                             .author = "Victor Hugo",
                             .publisher = "Hetzel",
                             .date = "1862-04-03",
                             .language = "fr",
                             .isbn = "978-0-306-40615-7",
                             .subject = "Fiction"};
    fx_epub(path_of("book.epub"), &o);
    struct sp_book b;
    analyze_ok(path_of("book.epub"), NULL, &b);
    assert_int_equal(b.format, SP_FMT_EPUB);
    assert_int_equal(b.family, SP_FAM_EPUB);
    assert_true(b.ext_ok);
    assert_false(b.drm);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "Les Misérables");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_AUTHOR), "Victor Hugo"); /* not the editor */
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISHER), "Hetzel");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISH_DATE), "1862-04-03");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_LANGUAGE), "fr");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_ISBN), "978-0-306-40615-7");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_GENRE), "Fiction, Adventure");
    struct sp_err e;
    assert_int_equal(sp_book_acceptable(&b, &e), SP_OK);
    sp_book_free(&b);
}

static void epub_drm(void **state)
{
    struct fx_epub_opts o = {.title = "T", .drm = FX_DRM_RIGHTS};
    struct sp_book b;
    struct sp_err e = {"", ""};
    fx_epub(path_of("rights.epub"), &o);
    analyze_ok(path_of("rights.epub"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "rights.xml"));
    assert_int_equal(sp_book_acceptable(&b, &e), SP_INVALID);
    assert_string_equal(e.field, "file");
    assert_non_null(strstr(e.message, "DRM"));
    sp_book_free(&b);

    o.drm = FX_DRM_ENCRYPTION;
    fx_epub(path_of("enc.epub"), &o);
    analyze_ok(path_of("enc.epub"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "OEBPS/ch1.xhtml"));
    sp_book_free(&b);

    /* font obfuscation is not DRM */
    o.drm = FX_FONT_OBFUSCATION;
    fx_epub(path_of("font.epub"), &o);
    analyze_ok(path_of("font.epub"), NULL, &b);
    assert_false(b.drm);
    sp_book_free(&b);
}

static void pdf_detection_metadata_and_drm(void **state)
{
    struct fx_pdf_opts o = {.title = "The Pillars of the Earth",
                            .author = "Ken Follett",
                            .pages = 3,
                            .date = "19890101"};
    fx_pdf(path_of("book.pdf"), &o);
    struct sp_book b;
    analyze_ok(path_of("book.pdf"), NULL, &b);
    assert_int_equal(b.format, SP_FMT_PDF);
    assert_false(b.drm);
    assert_int_equal(b.pages, 3);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "The Pillars of the Earth");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_AUTHOR), "Ken Follett");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISH_DATE), "1989-01-01");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PAGES), "3");
    int producer = 0;
    for (size_t i = 0; i < b.nextra; i++)
        producer |= !strcmp(b.extra[i].key, "producer") && !strcmp(b.extra[i].value, "fixture 1.0");
    assert_true(producer);
    sp_book_free(&b);

    /* /Encrypt in the trailer, user password unknown */
    o.encrypted = 1;
    fx_pdf(path_of("enc.pdf"), &o);
    analyze_ok(path_of("enc.pdf"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "/Encrypt"));
    sp_book_free(&b);

    /* /Encrypt with an empty user password (opens, but is still encrypted) */
    qpdf_data q = qpdf_init();
    qpdf_silence_errors(q);
    assert_int_equal(qpdf_read(q, path_of("book.pdf"), "") & QPDF_ERRORS, 0);
    assert_int_equal(qpdf_init_write(q, path_of("perm.pdf")) & QPDF_ERRORS, 0);
    qpdf_set_r4_encryption_parameters_insecure(q, "", "owner", 1, 0, 0, 0, 0, 0, qpdf_r3p_none, 1,
                                               1);
    assert_int_equal(qpdf_write(q) & QPDF_ERRORS, 0);
    qpdf_cleanup(&q);
    analyze_ok(path_of("perm.pdf"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "/Encrypt"));
    sp_book_free(&b);
}

static void cbz_detection_and_comicinfo(void **state)
{
    fx_cbz(path_of("comic.cbz"), 5, 1, 0);
    struct sp_book b;
    analyze_ok(path_of("comic.cbz"), NULL, &b);
    assert_int_equal(b.format, SP_FMT_CBZ);
    assert_int_equal(b.images, 5);
    assert_false(b.drm);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "The Fixture Saga");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_VOLUME), "2");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_ISSUE), "7");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISH_DATE), "2019");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_MONTH), "11");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_AUTHOR), "Jean Dupont");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISHER), "Planche Éditions");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_LANGUAGE), "fr");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_BOOK_KIND), "comic");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PAGES), "5");
    sp_book_free(&b);
    fx_cbz(path_of("manga.cbz"), 2, 1, 1);
    analyze_ok(path_of("manga.cbz"), NULL, &b);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_BOOK_KIND), "manga");
    sp_book_free(&b);
    fx_cbz(path_of("bare.cbz"), 2, 0, 0);
    analyze_ok(path_of("bare.cbz"), NULL, &b);
    assert_int_equal(b.format, SP_FMT_CBZ);
    assert_null(sp_meta_get(&b.meta, SP_META_TITLE));
    sp_book_free(&b);
}

static void mobi_family(void **state)
{
    struct fx_mobi_opts o = {.title = "Dune",
                             .author = "Frank Herbert",
                             .publisher = "Chilton",
                             .isbn = "9780441013593",
                             .date = "1965-08-01",
                             .language = "en"};
    struct sp_book b;
    fx_mobi(path_of("book.mobi"), &o);
    analyze_ok(path_of("book.mobi"), NULL, &b);
    assert_int_equal(b.format, SP_FMT_MOBI);
    assert_false(b.drm);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "Dune");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_AUTHOR), "Frank Herbert");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISHER), "Chilton");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_ISBN), "9780441013593");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_PUBLISH_DATE), "1965-08-01");
    assert_string_equal(sp_meta_get(&b.meta, SP_META_LANGUAGE), "en");
    sp_book_free(&b);
    /* the same bytes named .azw / .prc are AZW / PRC; .azw3 claims KF8 it does not hold */
    analyze_ok(path_of("book.mobi"), "Dune.azw", &b);
    assert_int_equal(b.format, SP_FMT_AZW);
    assert_true(b.ext_ok);
    sp_book_free(&b);
    analyze_ok(path_of("book.mobi"), "Dune.prc", &b);
    assert_int_equal(b.format, SP_FMT_PRC);
    sp_book_free(&b);
    analyze_ok(path_of("book.mobi"), "Dune.azw3", &b);
    assert_false(b.ext_ok);
    sp_book_free(&b);

    /* the encryption field */
    o.encryption = 2;
    fx_mobi(path_of("drm.mobi"), &o);
    analyze_ok(path_of("drm.mobi"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "encryption field is 2"));
    sp_book_free(&b);
    o.encryption = 1;
    fx_mobi(path_of("drm1.azw"), &o);
    analyze_ok(path_of("drm1.azw"), NULL, &b);
    assert_true(b.drm);
    sp_book_free(&b);
    o.encryption = 0;

    /* KF8: version 8 alone, and a combined file whose KF8 part may carry DRM */
    o.kf8 = FX_MOBI_KF8;
    fx_mobi(path_of("book.azw3"), &o);
    analyze_ok(path_of("book.azw3"), NULL, &b);
    assert_int_equal(b.family, SP_FAM_KF8);
    assert_int_equal(b.format, SP_FMT_KF8);
    sp_book_free(&b);
    analyze_ok(path_of("book.azw3"), "Dune.mobi", &b);
    assert_false(b.ext_ok);
    sp_book_free(&b);
    o.kf8 = FX_MOBI_COMBO;
    fx_mobi(path_of("combo.azw3"), &o);
    analyze_ok(path_of("combo.azw3"), NULL, &b);
    assert_int_equal(b.family, SP_FAM_KF8_COMBO);
    assert_int_equal(b.format, SP_FMT_KF8);
    assert_false(b.drm);
    sp_book_free(&b);
    analyze_ok(path_of("combo.azw3"), "x.mobi", &b);
    assert_int_equal(b.format, SP_FMT_MOBI);
    sp_book_free(&b);
    o.kf8_encryption = 2;
    fx_mobi(path_of("combo_drm.azw3"), &o);
    analyze_ok(path_of("combo_drm.azw3"), NULL, &b);
    assert_true(b.drm);
    assert_non_null(strstr(b.drm_reason, "KF8"));
    sp_book_free(&b);
}

static void mobi_cp1252_and_palmdoc(void **state)
{
    struct fx_mobi_opts o = {.title = "Dune", .author = "Frank Herbert", .language = "en"};
    fx_mobi(path_of("cp.mobi"), &o);
    size_t n = 0;
    unsigned char *buf = fx_read(path_of("cp.mobi"), &n);
    uint32_t r0 = (uint32_t)buf[78] << 24 | (uint32_t)buf[79] << 16 | buf[80] << 8 | buf[81];
    fx_be32(buf + r0 + 28, 1252);
    unsigned char *t = (unsigned char *)memmem(buf + r0 + 248, n - r0 - 248, "Dune", 4);
    assert_non_null(t);
    t[1] = 0xFC; /* ü in Windows-1252 */
    fx_write(path_of("cp.mobi"), buf, n);
    free(buf);
    struct sp_book b;
    analyze_ok(path_of("cp.mobi"), NULL, &b);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "Düne");
    sp_book_free(&b);

    unsigned char pdb[200] = "My_Old_Book";
    memcpy(pdb + 60, "TEXtREAd", 8);
    fx_be16(pdb + 76, 1);
    fx_be32(pdb + 78, 88);
    fx_be16(pdb + 88, 1);
    fx_be32(pdb + 92, 100);
    fx_write(path_of("old.prc"), pdb, sizeof pdb);
    analyze_ok(path_of("old.prc"), NULL, &b);
    assert_int_equal(b.family, SP_FAM_PALMDOC);
    assert_int_equal(b.format, SP_FMT_PRC);
    assert_string_equal(sp_meta_get(&b.meta, SP_META_TITLE), "My Old Book");
    sp_book_free(&b);
    analyze_ok(path_of("old.prc"), "old.mobi", &b);
    assert_false(b.ext_ok);
    sp_book_free(&b);
}

static void lying_extensions(void **state)
{
    struct fx_epub_opts eo = {.title = "T"};
    fx_epub(path_of("epub.pdf"), &eo);
    struct fx_pdf_opts po = {.title = "T"};
    fx_pdf(path_of("pdf.epub"), &po);
    fx_cbz(path_of("cbz.epub"), 2, 0, 0);
    struct fx_mobi_opts mo = {.title = "T"};
    fx_mobi(path_of("mobi.pdf"), &mo);
    fx_pdf(path_of("pdf.txt"), &po);
    const struct {
        const char *file;
        int format;
    } cases[] = {{"epub.pdf", SP_FMT_EPUB},
                 {"pdf.epub", SP_FMT_PDF},
                 {"cbz.epub", SP_FMT_CBZ},
                 {"mobi.pdf", SP_FMT_MOBI},
                 {"pdf.txt", SP_FMT_PDF}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct sp_book b;
        struct sp_err e = {"", ""};
        analyze_ok(path_of(cases[i].file), NULL, &b);
        assert_int_equal(b.format, cases[i].format); /* the bytes decide */
        assert_false(b.ext_ok);
        assert_int_equal(sp_book_acceptable(&b, &e), SP_INVALID);
        assert_string_equal(e.field, "file");
        assert_non_null(strstr(e.message, "lies"));
        sp_book_free(&b);
    }
    /* the user-facing name is what counts; no extension at all is fine */
    struct sp_book b;
    analyze_ok(path_of("pdf.epub"), "upload.pdf", &b);
    assert_true(b.ext_ok);
    sp_book_free(&b);
    analyze_ok(path_of("pdf.epub"), "upload", &b);
    assert_true(b.ext_ok);
    sp_book_free(&b);
    analyze_ok(path_of("pdf.epub"), "Some.Book.PDF", &b);
    assert_true(b.ext_ok);
    sp_book_free(&b);
}

static void expect_refused(const char *path, int want)
{
    struct sp_book b;
    struct sp_err e = {"", ""};
    assert_int_equal(sp_book_analyze(path, NULL, 0, &b, &e), want);
    assert_true(e.message[0] != '\0');
    sp_book_free(&b);
}

static void not_books(void **state)
{
    unsigned char junk[4096];
    uint32_t x = 99;
    for (size_t i = 0; i < sizeof junk; i++) {
        x ^= x << 13, x ^= x >> 17, x ^= x << 5;
        junk[i] = (unsigned char)x;
    }
    fx_write(path_of("junk.pdf"), junk, sizeof junk);
    expect_refused(path_of("junk.pdf"), SP_INVALID);
    fx_write(path_of("empty.epub"), "", 0);
    expect_refused(path_of("empty.epub"), SP_INVALID);
    expect_refused(path_of("missing.epub"), SP_NOTFOUND);
    expect_refused(dir, SP_INVALID);
    assert_int_equal(fx_sh("mkfifo '%s'", path_of("pipe.epub")), 0);
    expect_refused(path_of("pipe.epub"), SP_INVALID); /* refused, not blocked on */

    /* a ZIP that is neither EPUB nor CBZ */
    int err = 0;
    zip_t *za = zip_open(path_of("notes.zip"), ZIP_CREATE | ZIP_TRUNCATE, &err);
    fx_zip_add(za, "readme.txt", "hello", 5, 0);
    zip_close(za);
    expect_refused(path_of("notes.zip"), SP_INVALID);

    /* truncated EPUB and PDF */
    struct fx_epub_opts eo = {.title = "T", .filler = 20000};
    fx_epub(path_of("full.epub"), &eo);
    size_t n = 0;
    unsigned char *buf = fx_read(path_of("full.epub"), &n);
    fx_write(path_of("cut.epub"), buf, n / 2);
    free(buf);
    expect_refused(path_of("cut.epub"), SP_INVALID);
    fx_write(path_of("cut.pdf"), "%PDF-1.4\n1 0 obj\n<< /Type /Cat", 30);
    expect_refused(path_of("cut.pdf"), SP_INVALID);

    /* an OPF with entity declarations (billion laughs) is refused, not expanded */
    za = zip_open(path_of("laughs.epub"), ZIP_CREATE | ZIP_TRUNCATE, &err);
    fx_zip_add(za, "mimetype", "application/epub+zip", 20, 1);
    const char *container = "<container xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">"
                            "<rootfiles><rootfile full-path=\"c.opf\"/></rootfiles></container>";
    fx_zip_add(za, "META-INF/container.xml", container, strlen(container), 0);
    const char *opf = "<?xml version=\"1.0\"?><!DOCTYPE p [<!ENTITY a \"aaaaaaaaaa\">"
                      "<!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">"
                      "<!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">]>"
                      "<package><metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\">"
                      "<dc:title>&c;</dc:title></metadata></package>";
    fx_zip_add(za, "c.opf", opf, strlen(opf), 0);
    zip_close(za);
    expect_refused(path_of("laughs.epub"), SP_INVALID);

    /* an EPUB whose container names a missing package */
    za = zip_open(path_of("nopkg.epub"), ZIP_CREATE | ZIP_TRUNCATE, &err);
    fx_zip_add(za, "mimetype", "application/epub+zip", 20, 1);
    fx_zip_add(za, "META-INF/container.xml", container, strlen(container), 0);
    zip_close(za);
    expect_refused(path_of("nopkg.epub"), SP_INVALID);
}

static void hostile_mobi_headers(void **state)
{
    struct fx_mobi_opts o = {.title = "Dune", .author = "Frank Herbert"};
    fx_mobi(path_of("base.mobi"), &o);
    size_t n = 0;
    unsigned char *orig = fx_read(path_of("base.mobi"), &n);
    uint32_t r0 = (uint32_t)orig[78] << 24 | (uint32_t)orig[79] << 16 | orig[80] << 8 | orig[81];
    struct {
        size_t off;
        uint32_t v;
        int width;
    } edits[] = {
        {76, 0xFFFF, 2},      /* record count far beyond the file */
        {78, 0xFFFFFFF0u, 4}, /* record 0 offset beyond the file */
        {78, 10, 4},          /* record 0 inside the header */
        {86, 5, 4},           /* record 1 before record 0 */
        {0, 20, 4},           /* MOBI header length beyond record 0 (patched below) */
        {0, 0xFFFFFFFFu, 4},  /* EXTH length absurd */
        {0, 0x7FFFFFFFu, 4},  /* EXTH record count absurd */
        {0, 0xFFFFFFF8u, 4},  /* first EXTH record length absurd */
        {0, 0xFFFFFFFFu, 4},  /* full name offset absurd */
    };
    size_t rel[] = {0, 0, 0, 0, 20, 16 + 232 + 4, 16 + 232 + 8, 16 + 232 + 16, 84};
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        unsigned char *buf = malloc(n);
        memcpy(buf, orig, n);
        size_t at = edits[i].off ? edits[i].off : r0 + rel[i];
        if (i == 4)
            edits[i].v = 0x7FFFFFF0u;
        if (edits[i].width == 2)
            fx_be16(buf + at, edits[i].v);
        else
            fx_be32(buf + at, edits[i].v);
        fx_write(path_of("hostile.mobi"), buf, n);
        free(buf);
        struct sp_book b;
        struct sp_err e;
        int rc = sp_book_analyze(path_of("hostile.mobi"), NULL, 0, &b, &e);
        assert_true(rc == SP_OK || rc == SP_INVALID);
        sp_book_free(&b);
    }
    free(orig);
}

/* Random byte changes and truncations of every fixture: refused or read, never a crash. */
static void mutation_fuzz(void **state)
{
    struct fx_epub_opts eo = {.title = "T", .author = "A", .drm = FX_FONT_OBFUSCATION};
    fx_epub(path_of("f.epub"), &eo);
    struct fx_pdf_opts po = {.title = "T", .pages = 2};
    fx_pdf(path_of("f.pdf"), &po);
    fx_cbz(path_of("f.cbz"), 3, 1, 0);
    struct fx_mobi_opts mo = {.title = "T", .author = "A", .kf8 = FX_MOBI_COMBO};
    fx_mobi(path_of("f.mobi"), &mo);
    const char *files[] = {"f.epub", "f.pdf", "f.cbz", "f.mobi"};
    uint32_t x = 2024;
    int ok = 0, refused = 0;
    for (size_t f = 0; f < 4; f++) {
        size_t n = 0;
        unsigned char *orig = fx_read(path_of(files[f]), &n);
        for (int it = 0; it < 150; it++) {
            unsigned char *buf = malloc(n);
            memcpy(buf, orig, n);
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            int flips = 1 + (int)(x % 8);
            for (int k = 0; k < flips; k++) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                size_t at = x % n;
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                buf[at] = (unsigned char)x;
            }
            size_t len = n;
            if (it % 5 == 0) {
                x ^= x << 13, x ^= x >> 17, x ^= x << 5;
                len = 1 + x % n;
            }
            fx_write(path_of("mutant"), buf, len);
            free(buf);
            struct sp_book b;
            struct sp_err e;
            int rc = sp_book_analyze(path_of("mutant"), files[f], 0, &b, &e);
            assert_true(rc == SP_OK || rc == SP_INVALID);
            if (rc == SP_OK) {
                ok++;
                assert_true(b.format > SP_FMT_UNKNOWN && b.format <= SP_FMT_PRC);
            } else {
                refused++;
            }
            sp_book_free(&b);
        }
        free(orig);
    }
    assert_true(ok > 0 && refused > 0);
}

static void sniffing_prefixes_and_sha256(void **state)
{
    unsigned char buf[64] = "garbage before the header %PDF-1.7\n";
    assert_int_equal(sp_family_sniff(buf, sizeof buf), SP_FAM_PDF);
    assert_int_equal(sp_family_sniff((const unsigned char *)"PK\x03\x04", 4), SP_FAM_ZIP);
    assert_int_equal(sp_family_sniff((const unsigned char *)"", 0), SP_FAM_UNKNOWN);
    assert_int_equal(sp_format_for(SP_FAM_PDF, "pdf"), SP_FMT_PDF);
    assert_int_equal(sp_format_for(SP_FAM_PDF, "epub"), SP_FMT_UNKNOWN);
    assert_int_equal(sp_format_by_tag("ePUB"), SP_FMT_EPUB);
    assert_int_equal(sp_format_by_tag("EPUB"), SP_FMT_UNKNOWN);
    assert_null(sp_format_tag(SP_FMT_PDF));
    assert_string_equal(sp_format_ext(SP_FMT_KF8), "azw3");

    struct fx_pdf_opts po = {.title = "T"};
    fx_pdf(path_of("h.pdf"), &po);
    struct sp_book b;
    struct sp_err e;
    assert_int_equal(sp_book_analyze(path_of("h.pdf"), NULL, SP_ANALYZE_SHA256, &b, &e), SP_OK);
    char cmd[800], want[80] = "";
    snprintf(cmd, sizeof cmd, "sha256sum '%s'", path_of("h.pdf"));
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    assert_non_null(fgets(want, 65, p));
    pclose(p);
    assert_string_equal(b.sha256, want);
    sp_book_free(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(epub_detection_and_metadata),
        cmocka_unit_test(epub_drm),
        cmocka_unit_test(pdf_detection_metadata_and_drm),
        cmocka_unit_test(cbz_detection_and_comicinfo),
        cmocka_unit_test(mobi_family),
        cmocka_unit_test(mobi_cp1252_and_palmdoc),
        cmocka_unit_test(lying_extensions),
        cmocka_unit_test(not_books),
        cmocka_unit_test(hostile_mobi_headers),
        cmocka_unit_test(mutation_fuzz),
        cmocka_unit_test(sniffing_prefixes_and_sha256),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}

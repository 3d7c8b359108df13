/*
 * make_corpus.c — writes the seed corpora of the fuzz drivers: fuzz_make_corpus OUTDIR creates
 * OUTDIR/<parser>/<seed> for every driver, each seed in that driver's input format (see the
 * comment at the top of each fuzz_<parser>.c). Books come from the unit tests' fixture builders
 * (tests/unit/fixtures_books.h) so the seeds are the files the tests already trust; the rest is
 * written here. Output is deterministic (ZIP member times are pinned), so re-running
 * fuzz/make-corpus changes nothing unless this file did.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zip.h>

#include "fixtures_books.h"
#include "fuzz_common.h"

#include "auth/auth.h"
#include "domain/diz.h"
#include "domain/meta.h"
#include "domain/nfo.h"
#include "store/bootstrap.h"
#include "util/buf.h"

static const char *outdir;

static void mkdirs(const char *parser)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", outdir, parser);
    if (mkdir(outdir, 0755) < 0 && errno != EEXIST) {
        perror(outdir);
        exit(1);
    }
    if (mkdir(path, 0755) < 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
}

static void seed(const char *parser, const char *name, const void *data, size_t n)
{
    mkdirs(parser);
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", outdir, parser, name);
    fx_write(path, data, n);
}

static void seed_str(const char *parser, const char *name, const char *s)
{
    seed(parser, name, s, strlen(s));
}

/* A seed given as pieces joined by NUL bytes (the drivers' field separator), after an optional
 * leading mode byte (-1: none). Pieces end at a NULL. */
static void seed_fields(const char *parser, const char *name, int mode, ...)
{
    struct sp_buf b = SP_BUF_INIT;
    if (mode >= 0)
        sp_buf_putc(&b, (char)mode);
    va_list ap;
    va_start(ap, mode);
    int first = 1;
    for (const char *s = va_arg(ap, const char *); s; s = va_arg(ap, const char *)) {
        if (!first)
            sp_buf_putc(&b, '\0');
        sp_buf_append(&b, s, strlen(s));
        first = 0;
    }
    va_end(ap);
    seed(parser, name, b.data ? b.data : "", b.len);
    sp_buf_free(&b);
}

/* Pin every member's time so the archive's bytes do not depend on the clock. */
static void pin_zip_times(const char *path)
{
    int err = 0;
    zip_t *za = zip_open(path, 0, &err);
    if (!za)
        abort();
    zip_int64_t n = zip_get_num_entries(za, 0);
    for (zip_int64_t i = 0; i < n; i++)
        zip_file_set_mtime(za, (zip_uint64_t)i, 946684800 /* 2000-01-01 */, 0);
    if (zip_close(za) < 0)
        abort();
}

static void book_path(const char *parser, const char *name, char *out, size_t outlen)
{
    mkdirs(parser);
    snprintf(out, outlen, "%s/%s/%s", outdir, parser, name);
}

/* ---- books (metadata, mobi) ---- */

static void books(void)
{
    char p[1024];
    book_path("metadata", "epub-default", p, sizeof p);
    fx_default_epub(p);
    pin_zip_times(p);
    struct fx_epub_opts drm = {.title = "Locked", .drm = FX_DRM_ENCRYPTION};
    book_path("metadata", "epub-encryption", p, sizeof p);
    fx_epub(p, &drm);
    pin_zip_times(p);
    struct fx_epub_opts font = {.title = "Fonts", .author = "A & B", .drm = FX_FONT_OBFUSCATION};
    book_path("metadata", "epub-font-obfuscation", p, sizeof p);
    fx_epub(p, &font);
    pin_zip_times(p);
    struct fx_epub_opts rights = {.title = "Rights", .drm = FX_DRM_RIGHTS};
    book_path("metadata", "epub-rights", p, sizeof p);
    fx_epub(p, &rights);
    pin_zip_times(p);

    struct fx_pdf_opts pdf = {
        .title = "Der Prozess", .author = "Franz Kafka", .date = "19250426", .pages = 3};
    book_path("metadata", "pdf-3-pages", p, sizeof p);
    fx_pdf(p, &pdf);
    struct fx_pdf_opts enc = {.title = "Secret", .encrypted = 1};
    book_path("metadata", "pdf-encrypted", p, sizeof p);
    fx_pdf(p, &enc);

    book_path("metadata", "cbz-comicinfo", p, sizeof p);
    fx_cbz(p, 3, 1, 0);
    pin_zip_times(p);
    book_path("metadata", "cbz-manga", p, sizeof p);
    fx_cbz(p, 2, 1, 1);
    pin_zip_times(p);

    struct fx_mobi_opts mo = {.title = "The Time Machine",
                              .author = "H. G. Wells",
                              .publisher = "Heinemann",
                              .isbn = "9780306406157",
                              .date = "1895-05-07",
                              .language = "en"};
    const char *dirs[] = {"metadata", "mobi"};
    for (size_t d = 0; d < 2; d++) {
        book_path(dirs[d], "mobi-plain", p, sizeof p);
        fx_mobi(p, &mo);
        struct fx_mobi_opts kf8 = mo;
        kf8.kf8 = FX_MOBI_KF8;
        book_path(dirs[d], "mobi-kf8", p, sizeof p);
        fx_mobi(p, &kf8);
        struct fx_mobi_opts combo = mo;
        combo.kf8 = FX_MOBI_COMBO;
        combo.kf8_encryption = 2;
        book_path(dirs[d], "mobi-combo-drm", p, sizeof p);
        fx_mobi(p, &combo);
    }
    struct fx_mobi_opts enc1 = {.title = "Old DRM", .encryption = 1};
    book_path("mobi", "mobi-encrypted", p, sizeof p);
    fx_mobi(p, &enc1);
    /* PalmDOC: a PDB header with TEXtREAd, one record */
    unsigned char pdb[160];
    memset(pdb, 0, sizeof pdb);
    memcpy(pdb, "A_Palm_Book", 11);
    memcpy(pdb + 60, "TEXtREAd", 8);
    fx_be16(pdb + 76, 1);
    fx_be32(pdb + 78, 88);
    fx_be16(pdb + 88, 1);
    memcpy(pdb + 104, "Once upon a time.", 17);
    seed("mobi", "palmdoc", pdb, sizeof pdb);
    seed("metadata", "palmdoc", pdb, sizeof pdb);
}

/* ---- structured EPUB/CBZ (fuzz_epub) ---- */

static const char container_xml[] =
    "<?xml version=\"1.0\"?>\n"
    "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
    "  <rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
    "media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n";

static const char opf_xml[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\" unique-identifier=\"id\">\n"
    " <metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
    "xmlns:opf=\"http://www.idpf.org/2007/opf\">\n"
    "  <dc:title>Les Misérables</dc:title>\n"
    "  <dc:creator opf:role=\"aut\">Victor Hugo</dc:creator>\n"
    "  <dc:creator opf:role=\"edt\">Some Editor</dc:creator>\n"
    "  <dc:publisher>A. Lacroix</dc:publisher>\n"
    "  <dc:date opf:event=\"modification\">2020-01-01</dc:date>\n"
    "  <dc:date>1862-04-03</dc:date>\n"
    "  <dc:language>fr</dc:language>\n"
    "  <dc:identifier id=\"id\" opf:scheme=\"ISBN\">urn:isbn:9780306406157</dc:identifier>\n"
    "  <dc:subject>Fiction</dc:subject>\n  <dc:subject>History</dc:subject>\n"
    "  <dc:description>A novel.</dc:description>\n"
    " </metadata>\n"
    " <manifest><item id=\"c1\" href=\"ch1.xhtml\" media-type=\"application/xhtml+xml\"/>"
    "</manifest>\n <spine><itemref idref=\"c1\"/></spine>\n</package>\n";

static const char encryption_xml[] =
    "<encryption xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" "
    "xmlns:enc=\"http://www.w3.org/2001/04/xmlenc#\">\n"
    " <enc:EncryptedData><enc:EncryptionMethod Algorithm=\"http://www.idpf.org/2008/embedding\"/>\n"
    "  <enc:CipherData><enc:CipherReference URI=\"OEBPS/fonts/serif.otf\"/></enc:CipherData>\n"
    " </enc:EncryptedData>\n</encryption>\n";

static const char comicinfo_xml[] =
    "<?xml version=\"1.0\"?>\n<ComicInfo>\n  <Series>The Fixture Saga</Series>\n"
    "  <Title>Part Two</Title>\n  <Volume>2</Volume>\n  <Number>7</Number>\n"
    "  <Year>2019</Year>\n  <Month>11</Month>\n  <Day>5</Day>\n"
    "  <Writer>Jean Dupont</Writer>\n  <Publisher>Planche Éditions</Publisher>\n"
    "  <LanguageISO>fr</LanguageISO>\n  <Genre>Adventure</Genre>\n"
    "  <GTIN>9780306406157</GTIN>\n  <Web>https://example.org/saga</Web>\n"
    "  <Manga>YesAndRightToLeft</Manga>\n</ComicInfo>\n";

static void epub_seeds(void)
{
    seed_fields("epub", "epub-full", 0x07, container_xml, opf_xml, "", "", "", NULL);
    seed_fields("epub", "epub-font-obfuscation", 0x0f, container_xml, opf_xml, encryption_xml, "",
                "", NULL);
    seed_fields("epub", "epub-rights", 0x27, container_xml, opf_xml, "", "", "", NULL);
    seed_fields("epub", "epub-no-mimetype", 0x06, container_xml, opf_xml, "", "", "", NULL);
    seed_fields("epub", "epub-opf-elsewhere", 0x07,
                "<container><rootfiles><rootfile full-path=\"book.opf\"/></rootfiles></container>",
                opf_xml, "", "", "book.opf", NULL);
    seed_fields("epub", "epub-encrypted-opf", 0x87, container_xml, opf_xml, "", "", "", NULL);
    seed_fields("epub", "cbz-comicinfo", 0x50, "", "", "", comicinfo_xml, "", NULL);
    seed_fields("epub", "cbz-plain", 0x40, "", "", "", "", "", NULL);
}

/* ---- JSON request bodies ---- */

static void json_seeds(void)
{
    seed_str("json", "login", "{\"username\":\"admin\",\"password\":\"correct horse battery\"}");
    seed_str("json", "release-create",
             "{\"name\":\"Hugo.Les.Miserables.1862.FRENCH.RETAiL.ePUB.eBOOK-GRP\","
             "\"group_id\":1,\"rule_id\":1,\"release_type\":\"ebook\","
             "\"release_metadata\":{\"title\":\"Les Misérables\",\"author\":\"Victor Hugo\","
             "\"year\":1862,\"language\":\"French\",\"source\":\"RETAiL\","
             "\"isbn\":\"978-0-306-40615-7\",\"publish_date\":\"1862-04\","
             "\"release_date\":\"2024-02-29\",\"url\":\"https://example.org/b\","
             "\"volume\":2,\"issue\":\"7\",\"book_kind\":\"fiction\",\"genre\":null},"
             "\"config\":{\"zip_size\":\"5MB\",\"create_sfv\":true,\"include_extras\":false,"
             "\"template_id\":\"classic\",\"template\":\"{{release}}\"}}");
    seed_str("json", "metadata-patch",
             "{\"release_metadata\":{\"title\":\"T\",\"extra\":1},\"current\":{\"extra\":1}}");
    seed_str("json", "config", "{\"zip_size\":5000000,\"create_sfv\":null,\"template_id\":3}");
    seed_str("json", "user",
             "{\"username\":\"alice\",\"email\":\"a@example.org\",\"password\":\"pw\","
             "\"roles\":[\"admin\",\"packer\"],\"active\":true,\"page\":2,\"per_page\":100}");
    seed_str("json", "unicode",
             "{\"title\":\"\\u00e9\\ud83d\\ude00 \\u0000x\",\"\":[1e308,-0,"
             "1.5e-7,9223372036854775807,-9223372036854775808]}");
    seed_str("json", "duplicate-keys", "{\"a\":1,\"a\":2}");
    seed_str("json", "scalars", "[null,true,false,\"s\",{\"k\":{\"k\":[[]]}}]");
    seed_str("json", "query-int", "12345");
}

/* ---- multipart bodies ---- */

static void multipart_seeds(void)
{
    seed_str("multipart", "upload",
             "multipart/form-data; boundary=----WebKitFormBoundary7MA4YWxkTrZu0gW\n"
             "------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
             "Content-Disposition: form-data; name=\"file\"; filename=\"book.epub\"\r\n"
             "Content-Type: application/epub+zip\r\n\r\n"
             "PK\x03\x04 not really a zip\r\n--\r\n-----\r"
             "\r\n------WebKitFormBoundary7MA4YWxkTrZu0gW\r\n"
             "Content-Disposition: form-data; name=\"title\"\r\n\r\n"
             "Les Mis\xc3\xa9rables\r\n"
             "------WebKitFormBoundary7MA4YWxkTrZu0gW--\r\nepilogue");
    seed_str("multipart", "rfc5987",
             "multipart/form-data; charset=utf-8; boundary=\"quoted boundary:1\"\n"
             "preamble\r\n--quoted boundary:1\r\n"
             "content-disposition: form-data; name=\"file\"; filename=\"fallback.pdf\"; "
             "filename*=UTF-8''%C3%A9t%C3%A9.pdf\r\n\r\n%PDF-1.4\r\n"
             "--quoted boundary:1\r\n"
             "Content-Disposition: form-data; name=\"f2\"; filename*=iso-8859-1'fr'%E9t%E9.txt\r\n"
             "\r\n\r\n--quoted boundary:1--");
    seed_str("multipart", "truncated",
             "multipart/form-data;boundary=abc\n--abc\r\nContent-Disposition: form-data; "
             "name=\"file\"; filename=\"\"\r\n\r\nno closing boundary\r\n--ab");
    seed_str("multipart", "bad-headers",
             "multipart/form-data; boundary=b\n--b\r\nContent-Type: text/plain\r\n\r\nx\r\n--b--");
    /* one part larger than the parser's 64 KiB output buffer */
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_puts(&b, "multipart/form-data; boundary=big\n--big\r\nContent-Disposition: form-data; "
                    "name=\"file\"; filename=\"big.bin\"\r\n\r\n");
    for (int i = 0; i < 70000; i++)
        sp_buf_putc(&b, (char)("\r\n-big"[i % 5]));
    sp_buf_puts(&b, "\r\n--big--\r\n");
    seed("multipart", "large-part", b.data, b.len);
    sp_buf_free(&b);
}

/* ---- NFO templates ---- */

static void nfo_seeds(void)
{
    /* values in field order: the metadata fields, then release, group, format, disks, size,
     * payload, packer */
    const char *vals[SP_NFO_COUNT] = {0};
    vals[SP_META_TITLE] = "Les Misérables — Tome 1 “Fantine”";
    vals[SP_META_AUTHOR] = "Victor Hugo";
    vals[SP_META_PUBLISHER] = "A. Lacroix, Verboeckhoven & Cie";
    vals[SP_META_YEAR] = "1862";
    vals[SP_META_LANGUAGE] = "French";
    vals[SP_META_SOURCE] = "RETAiL";
    vals[SP_META_ISBN] = "9780306406157";
    vals[SP_META_GENRE] = "Fiction, History";
    vals[SP_META_RELEASE_DATE] = "2024-02-29";
    vals[SP_META_PUBLISH_DATE] = "1862-04-03";
    vals[SP_META_URL] = "https://example.org/a/very/long/path/that/wraps/at/slashes/and-dashes/"
                        "because-it-is-longer-than-the-line.html";
    vals[SP_META_NOTES] = "Line one\nline two\twith a tab ♥ ☺ ►";
    vals[SP_NFO_RELEASE] = "Victor.Hugo.Les.Miserables.1862.FRENCH.RETAiL.ePUB.eBOOK-GRP";
    vals[SP_NFO_GROUP] = "GRP";
    vals[SP_NFO_FORMAT] = "EPUB";
    vals[SP_NFO_DISKS] = "1 x 5MB";
    vals[SP_NFO_SIZE] = "4.21 MB";
    vals[SP_NFO_PAYLOAD] = "vhlm18.zip";
    vals[SP_NFO_PACKER] = "scenepacker 0.1.0";
    const char *const *names = sp_nfo_template_names();
    for (size_t t = 0; names[t]; t++) {
        struct sp_buf b = SP_BUF_INIT;
        sp_buf_puts(&b, sp_nfo_template(names[t]));
        for (int i = 0; i < SP_NFO_COUNT; i++) {
            sp_buf_putc(&b, '\0');
            sp_buf_puts(&b, vals[i] ? vals[i] : "");
        }
        char name[64];
        snprintf(name, sizeof name, "builtin-%s", names[t]);
        seed("nfo", name, b.data, b.len);
        sp_buf_free(&b);
    }
    seed_fields("nfo", "sections", -1,
                "{{#if author}}by {{author}}{{/if}}\r\n{{#if publisher}}\n  {{#if year}}"
                "{{publisher}} ({{year}}){{/if}}\n{{/if}}\n{{title}} {{release}}\r"
                "{{ title }}{{#if}}{{/if}}{{unknown}}",
                "Title", "Author", "", "2020", NULL);
    seed_fields("nfo", "unbalanced", -1, "{{#if title}}\n{{title}}\n", "x", NULL);
    seed_fields("nfo", "wide", -1,
                "0123456789012345678901234567890123456789012345678901234567890123456789012345"
                "67890",
                NULL);
    seed_fields("nfo", "builtin-values-only", -1, "",
                "A title that is rather long and will "
                "have to wrap somewhere in the middle of the line, or two",
                NULL);
}

/* ---- rules ---- */

static const char scene_style_rule[] =
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

static void rule_seeds(void)
{
    seed_str("rule_parser", "builtin", sp_bootstrap_rule_text());
    seed_str("rule_parser", "scene-style", scene_style_rule);
    seed_str("rule_parser", "numbers",
             "1. ZIP volumes of 5MB, 10 MB, 15.000.000 bytes or 50 millions.\n"
             "2) Directory names up to 243 characters; payload name max 140 chars.\n"
             "- NFO max 80 columns, CRLF line ends, encoding CP437.\n"
             "* FILE_ID.DIZ 44 columns by 30 lines.\n"
             "+ Mandatory fields: release date, language, source, author or publisher.\n"
             "RETAiL releases require a url. DRM is not allowed. 99 files per zip max.\n");
}

/* ---- release names ---- */

static void release_name_seeds(void)
{
    static const char *const names[] = {
        "Ken.Follet.Pillars.6th.Edition.2007.FRENCH.RETAiL.eBOOK-GRP",
        "The.Fixture.Saga.Vol.2.No.7.November.2019.RETAiL.COMiC.CBZ.eBOOK-GRP",
        "A.B.T.2020.GERMAN.RETAiL.READNFO.PROPER.REPACK.ePUB.eBOOK-GRP",
        "Chip.No.5.2020.RETAiL.PROPER.MAGAZiNE.eBOOK-GRP",
        "bad name..2020.retail.Epub.ebook-g",
        "Only.eBOOK-",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(names); i++) {
        char name[32];
        snprintf(name, sizeof name, "dirname-%zu", i);
        seed_fields("release_name", name, (int)(3 * i) % 256, names[i], NULL);
    }
    seed_fields("release_name", "words", 1,
                "Émile Zola: L'Assommoir & “Straße” — Édition spéciale… Ωμέγα Чехов ﬁ ½", NULL);
    seed_fields("release_name", "group", 4, "Group_Name-01", NULL);
    /* mode 2 + format (mode/3 % 8): fields name, value, ..., group; each passes sp_meta_check
     * so sp_dirname_build runs to the end */
    seed_fields("release_name", "build-epub", 2 + 3 * 2, "title", "Les Misérables", "author",
                "Victor Hugo", "language", "fr", "source", "retail", "publish_date", "1862-04-03",
                "release_date", "2024-02-29", "isbn", "978-0-306-40615-7", "url",
                "https://example.org/b", "edition", "2", "GRP", NULL);
    seed_fields("release_name", "build-comic", 2 + 3 * 3, "title", "The Fixture Saga", "volume",
                "2", "issue", "7", "month", "11", "year", "2019", "book_kind", "comic", "language",
                "English", "source", "SCAN", "tags", "PROPER REPACK", "fixes",
                "Old.Release.2019.SCAN.CBZ.eBOOK-X", "release_date", "2024-01-01", "publish_date",
                "2019-11", "publisher", "Planche", "GRP-2", NULL);
    seed_fields("release_name", "build-newspaper", 2, "title", "Le Monde", "publish_date",
                "2008-12-23", "book_kind", "newspaper", "language", "French", "source", "HYBRiD",
                "edition", "3", "release_date", "2008-12-24", "publisher", "Le Monde SA", "NEWS",
                NULL);
    seed_fields("release_name", "build-technical", 2 + 3 * 4, "title",
                "A Very Long Title About Tools And Computing That Goes On And On Until The Name "
                "Would Be Longer Than The Scene Allows For A Directory Name Which Is Two Hundred "
                "And Forty Three Characters In All So It Has To Be Cut At A Word",
                "publisher", "Wiley & Sons", "author", "John Smith", "book_kind", "technical",
                "language", "de", "source", "SCAN", "publish_date", "2008", "release_date",
                "2009-01-31", "edition", "revised", "tags", "iNTERNAL", "GRP", NULL);
}

/* ---- tokens ---- */

static void jwt_seeds(void)
{
    static const unsigned char key[32] = FZ_JWT_KEY;
    json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:I}", "sub", "42", "jti",
                          "0123456789abcdef0123456789abcdef", "type", "access", "iat",
                          (json_int_t)1699999000, "nbf", (json_int_t)1699999000, "exp",
                          (json_int_t)1800000000, "te", (json_int_t)0);
    char *tok = sp_jwt_sign(key, sizeof key, c);
    json_decref(c);
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_putc(&b, 0);
    sp_buf_puts(&b, tok);
    seed("jwt", "valid", b.data, b.len);
    sp_buf_free(&b);
    sp_free(tok);
    seed_fields("jwt", "alg-none", 0,
                "eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
                NULL);
    seed_fields("jwt", "signed-claims", 1, "",
                "{\"sub\":\"1\",\"jti\":\"j\",\"type\":\"refresh\",\"iat\":1,\"exp\":1800000000}",
                NULL);
    seed_fields("jwt", "signed-header", 1, "{\"typ\":\"JWT\",\"alg\":\"HS256\"}",
                "{\"sub\":\"1\",\"jti\":\"j\",\"type\":\"access\",\"iat\":1,\"exp\":1800000000,"
                "\"nbf\":1700000004}",
                NULL);
    seed_fields("jwt", "crit-header", 1, "{\"alg\":\"HS256\",\"crit\":[\"x\"]}", "{}", NULL);
}

/* ---- timestamps ---- */

static void time_seeds(void)
{
    static const char *const t[] = {
        "2026-11-27T11:41:06Z",
        "2024-02-29",
        "1999-12-31t23:59:60.123456z",
        "2000-01-01 00:00:00+14:00",
        "9999-12-31T23:59:59-23:59",
        "1000-01-01T00:00:00+00:01",
        "2023-02-29",
        "2023-13-01T00:00:00Z",
    };
    for (size_t i = 0; i < SP_ARRAY_LEN(t); i++) {
        char name[32];
        snprintf(name, sizeof name, "time-%zu", i);
        seed_str("time", name, t[i]);
    }
}

/* ---- release files (SFV, DIZ, NFO bytes) ---- */

static void release_files_seeds(void)
{
    seed_fields("release_files", "sfv", 0,
                "; generated by scenepacker\r\nvhlm18.zip 0A1B2C3D\r\nvhlm18.z01 ffffffff\r\n"
                "file with spaces.nfo\t00000000\r\nbroken line\r\n;comment only\n\n",
                NULL);
    struct sp_meta m;
    sp_meta_init(&m);
    sp_meta_put(&m, SP_META_TITLE, "Les Misérables");
    sp_meta_put(&m, SP_META_AUTHOR, "Victor Hugo");
    sp_meta_put(&m, SP_META_YEAR, "1862");
    sp_meta_put(&m, SP_META_LANGUAGE, "French");
    sp_meta_put(&m, SP_META_SOURCE, "RETAiL");
    struct sp_buf diz = SP_BUF_INIT;
    sp_diz_render(&m, "ePUB", "GRP", 1, 3, &diz);
    sp_meta_free(&m);
    /* mode 1 with disks = 1 + (mode>>2)%20 = 3 and disk = 1 + (mode>>4)%3 = 1: mode 0x09 */
    struct sp_buf b = SP_BUF_INIT;
    sp_buf_putc(&b, 0x09);
    sp_buf_append(&b, diz.data, diz.len);
    seed("release_files", "diz", b.data, b.len);
    sp_buf_free(&b);
    sp_buf_free(&diz);
    const char *nfo = "\xdc\xdb\xdf \x01\x02\x03\x04\x05\x06\x07\x08\t\r\n\x0e\x0f\x10\x1a\x1b"
                      "\x7f\x80\x81\x82\xb0\xb1\xb2\xe1\xf9\xfe\xff\r\n";
    seed_fields("release_files", "nfo-bytes", 2, nfo, NULL);
    seed_fields("release_files", "diz-render", 3,
                "Les Misérables — a very long title that will "
                "need wrapping over several lines of the box, more than once, to be sure",
                "Victor Hugo & Friends", "2", "7", "Édition", "French", "RETAiL", "1862", "", "GRP",
                NULL);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
        return 2;
    }
    outdir = argv[1];
    books();
    epub_seeds();
    json_seeds();
    multipart_seeds();
    nfo_seeds();
    rule_seeds();
    release_name_seeds();
    jwt_seeds();
    time_seeds();
    release_files_seeds();
    return 0;
}

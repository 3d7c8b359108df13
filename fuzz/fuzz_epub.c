/*
 * fuzz_epub.c — domain/metadata_zip.c's XML side: EPUB (container.xml, the OPF package,
 * encryption.xml, rights.xml) and CBZ (images, ComicInfo.xml). Random bytes rarely make a valid
 * ZIP, so this driver builds one in memory with libzip from fuzzed members and analyses it
 * through sp_book_analyze (fuzz_metadata covers damaged ZIP containers).
 *
 * Input: a flags byte, then NUL-separated fields:
 *   0 META-INF/container.xml   1 the package document   2 META-INF/encryption.xml
 *   3 ComicInfo.xml            4 the package document's member name ("" = OEBPS/content.opf)
 * Flags: 0x01 a stored "mimetype" member first, 0x02 container.xml, 0x04 the package document,
 * 0x08 encryption.xml, 0x10 ComicInfo.xml, 0x20 META-INF/rights.xml, 0x40 two images,
 * 0x80 the package document password-encrypted (traditional PKWARE).
 * Invariants: see fuzz_book.h; a rights.xml or an encrypted member makes an analysed book DRM.
 */
#include "fuzz_book.h"

#include <zip.h>

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
    fz_quiet();
    return 0;
}

static zip_int64_t add(zip_t *za, const char *name, const void *data, size_t n)
{
    zip_source_t *s = zip_source_buffer(za, data, n, 0);
    if (!s)
        return -1;
    zip_int64_t i = zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8 | ZIP_FL_OVERWRITE);
    if (i < 0) {
        zip_source_free(s);
        return -1;
    }
    zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_STORE, 0);
    return i;
}

/* The archive's bytes (heap, *n), or NULL when libzip refuses the members (odd names). */
static unsigned char *build(unsigned flags, char **f, size_t *n)
{
    static const unsigned char png[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0};
    static const char rights[] = "<rights xmlns=\"http://ns.adobe.com/adept\"><licenseToken/>"
                                 "</rights>";
    static const char mimetype[] = "application/epub+zip";
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    if (!src)
        fz_fail("zip_source_buffer_create: %s", zip_error_strerror(&ze));
    zip_source_keep(src);
    zip_t *za = zip_open_from_source(src, ZIP_TRUNCATE, &ze);
    if (!za)
        fz_fail("zip_open_from_source: %s", zip_error_strerror(&ze));
    unsigned char *out = NULL;
    const char *opfname = *f[4] ? f[4] : "OEBPS/content.opf";
    int ok = 1;
    if (flags & 0x01)
        ok &= add(za, "mimetype", mimetype, sizeof mimetype - 1) >= 0;
    if (flags & 0x02)
        ok &= add(za, "META-INF/container.xml", f[0], strlen(f[0])) >= 0;
    if (flags & 0x04) {
        zip_int64_t i = add(za, opfname, f[1], strlen(f[1]));
        ok &= i >= 0;
        if (i >= 0 && (flags & 0x80))
            zip_file_set_encryption(za, (zip_uint64_t)i, ZIP_EM_TRAD_PKWARE, "secret");
    }
    if (flags & 0x08)
        ok &= add(za, "META-INF/encryption.xml", f[2], strlen(f[2])) >= 0;
    if (flags & 0x10)
        ok &= add(za, "ComicInfo.xml", f[3], strlen(f[3])) >= 0;
    if (flags & 0x20)
        ok &= add(za, "META-INF/rights.xml", rights, sizeof rights - 1) >= 0;
    if (flags & 0x40) {
        ok &= add(za, "pages/page001.png", png, sizeof png) >= 0;
        ok &= add(za, "pages/page002.jpg", png, sizeof png) >= 0;
    }
    if (!ok || zip_close(za) < 0) {
        zip_discard(za);
        zip_source_free(src);
        return NULL;
    }
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_source_stat(src, &st) < 0 || !(st.valid & ZIP_STAT_SIZE) || zip_source_open(src) < 0) {
        zip_source_free(src);
        return NULL;
    }
    out = sp_malloc(st.size ? (size_t)st.size : 1);
    zip_int64_t got = zip_source_read(src, out, st.size);
    zip_source_close(src);
    zip_source_free(src);
    if (got < 0 || (zip_uint64_t)got != st.size) {
        sp_free(out);
        return NULL;
    }
    *n = (size_t)got;
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 256 * 1024)
        return 0;
    unsigned flags = data[0];
    char *f[5], *buf;
    fz_fields(data + 1, size - 1, f, 5, &buf);
    size_t n = 0;
    unsigned char *zipbytes = build(flags, f, &n);
    if (zipbytes) {
        const char *path = fz_memfile(zipbytes, n);
        struct sp_book b;
        struct sp_err e = {{0}, {0}};
        int rc = sp_book_analyze(path, (flags & 0x40) ? "book.cbz" : "book.epub", 0, &b, &e);
        fz_check_book(rc, &b, &e);
        if (rc == SP_OK && b.family == SP_FAM_EPUB && (flags & 0x20) && !b.drm)
            fz_fail("an EPUB with META-INF/rights.xml is not DRM");
        if (rc == SP_OK && (flags & 0x84) == 0x84 && !b.drm)
            fz_fail("a book with a password-encrypted member is not DRM");
        sp_book_free(&b);
        sp_free(zipbytes);
    }
    sp_free(buf);
    return 0;
}

/*
 * fixtures_books.h — e-book fixtures generated in code for the domain tests (header-only:
 * every test file is its own executable). Each builder writes one file:
 *   fx_epub  zip with a stored first "mimetype", META-INF/container.xml and an OPF; DRM variants
 *   fx_pdf   hand-written PDF text with a correct xref table; optionally /Encrypt in the trailer
 *   fx_cbz   zip of images plus ComicInfo.xml
 *   fx_mobi  PalmDB header + PalmDOC header + MOBI header + EXTH; encryption field; KF8 variants
 */
#ifndef SP_TEST_FIXTURES_BOOKS_H
#define SP_TEST_FIXTURES_BOOKS_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include "support.h"

/* A fresh directory under $SP_TEST_TMP (or /tmp); out holds 512 bytes. Aborts on failure. */
static inline void fx_tmpdir(char *out, const char *tag)
{
    if (ts_tmpdir(out, 512, tag) != 0)
        abort();
}

static inline void fx_write(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

/* Whole file into a heap buffer (NUL-terminated); *n its size. */
static inline unsigned char *fx_read(const char *path, size_t *n)
{
    if (n)
        *n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = 0;
    if (n)
        *n = got;
    return buf;
}

/* Run a shell command; returns its exit status (-1 when it could not run). */
static inline int fx_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#include <stdarg.h>
#include <sys/wait.h>
static inline int fx_sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static inline void fx_zip_add(zip_t *za, const char *name, const void *data, size_t n, int store)
{
    void *copy = malloc(n ? n : 1);
    memcpy(copy, data, n);
    zip_source_t *s = zip_source_buffer(za, copy, n, 1);
    zip_int64_t i = zip_file_add(za, name, s, ZIP_FL_ENC_UTF_8);
    if (i < 0)
        abort();
    if (store)
        zip_set_file_compression(za, (zip_uint64_t)i, ZIP_CM_STORE, 0);
}

enum { FX_DRM_NONE = 0, FX_DRM_RIGHTS, FX_DRM_ENCRYPTION, FX_FONT_OBFUSCATION };

struct fx_epub_opts {
    const char *title, *author, *publisher, *date, *language, *isbn, *subject;
    int drm;
    size_t filler; /* bytes of incompressible chapter data to add */
};

static inline void fx_epub(const char *path, const struct fx_epub_opts *o)
{
    int err = 0;
    unlink(path);
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        abort();
    const char *mt = "application/epub+zip";
    fx_zip_add(za, "mimetype", mt, strlen(mt), 1);
    const char *container =
        "<?xml version=\"1.0\"?>\n"
        "<container version=\"1.0\" xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\">\n"
        "  <rootfiles><rootfile full-path=\"OEBPS/content.opf\" "
        "media-type=\"application/oebps-package+xml\"/></rootfiles>\n</container>\n";
    fx_zip_add(za, "META-INF/container.xml", container, strlen(container), 0);
    char opf[4096];
    snprintf(opf, sizeof opf,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<package xmlns=\"http://www.idpf.org/2007/opf\" version=\"2.0\" "
             "unique-identifier=\"id\">\n"
             " <metadata xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
             "xmlns:opf=\"http://www.idpf.org/2007/opf\">\n"
             "  <dc:title>%s</dc:title>\n"
             "  <dc:creator opf:role=\"aut\">%s</dc:creator>\n"
             "  <dc:creator opf:role=\"edt\">Some Editor</dc:creator>\n"
             "  <dc:publisher>%s</dc:publisher>\n"
             "  <dc:date opf:event=\"modification\">2020-01-01</dc:date>\n"
             "  <dc:date>%s</dc:date>\n"
             "  <dc:language>%s</dc:language>\n"
             "  <dc:identifier id=\"uuid\">urn:uuid:12345678-1234-1234-1234-123456789abc"
             "</dc:identifier>\n"
             "  <dc:identifier id=\"id\" opf:scheme=\"ISBN\">%s</dc:identifier>\n"
             "  <dc:subject>%s</dc:subject>\n  <dc:subject>Adventure</dc:subject>\n"
             " </metadata>\n"
             " <manifest><item id=\"c1\" href=\"ch1.xhtml\" "
             "media-type=\"application/xhtml+xml\"/></manifest>\n"
             " <spine><itemref idref=\"c1\"/></spine>\n</package>\n",
             o->title ? o->title : "Untitled", o->author ? o->author : "Anonymous",
             o->publisher ? o->publisher : "Fixture Press", o->date ? o->date : "2007-03-14",
             o->language ? o->language : "en", o->isbn ? o->isbn : "9780306406157",
             o->subject ? o->subject : "Fiction");
    fx_zip_add(za, "OEBPS/content.opf", opf, strlen(opf), 0);
    const char *ch = "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Once upon a "
                     "time.</p></body></html>";
    fx_zip_add(za, "OEBPS/ch1.xhtml", ch, strlen(ch), 0);
    if (o->filler) {
        unsigned char *junk = malloc(o->filler);
        uint32_t x = 2463534242u;
        for (size_t i = 0; i < o->filler; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            junk[i] = (unsigned char)x;
        }
        fx_zip_add(za, "OEBPS/images/cover.jpg", junk, o->filler, 1);
        free(junk);
    }
    if (o->drm == FX_DRM_RIGHTS) {
        const char *r = "<rights xmlns=\"http://ns.adobe.com/adept\"><licenseToken/></rights>";
        fx_zip_add(za, "META-INF/rights.xml", r, strlen(r), 0);
    }
    if (o->drm == FX_DRM_ENCRYPTION || o->drm == FX_FONT_OBFUSCATION) {
        char enc[1024];
        int font = o->drm == FX_FONT_OBFUSCATION;
        snprintf(enc, sizeof enc,
                 "<encryption xmlns=\"urn:oasis:names:tc:opendocument:xmlns:container\" "
                 "xmlns:enc=\"http://www.w3.org/2001/04/xmlenc#\">\n"
                 " <enc:EncryptedData><enc:EncryptionMethod Algorithm=\"%s\"/>\n"
                 "  <enc:CipherData><enc:CipherReference URI=\"%s\"/></enc:CipherData>\n"
                 " </enc:EncryptedData>\n</encryption>\n",
                 font ? "http://www.idpf.org/2008/embedding"
                      : "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
                 font ? "OEBPS/fonts/serif.otf" : "OEBPS/ch1.xhtml");
        fx_zip_add(za, "META-INF/encryption.xml", enc, strlen(enc), 0);
    }
    if (zip_close(za) < 0)
        abort();
}

struct fx_pdf_opts {
    const char *title, *author, *date;
    int pages;
    int encrypted;
    size_t filler; /* extra stream bytes per page */
};

static inline void fx_pdf(const char *path, const struct fx_pdf_opts *o)
{
    int pages = o->pages > 0 ? o->pages : 1;
    size_t filler = o->filler;
    int nobj = 3 + 2 * pages + (o->encrypted ? 1 : 0); /* catalog, pages, info, page+content */
    size_t cap = 4096 + (size_t)pages * (512 + filler);
    char *buf = malloc(cap);
    long *off = calloc((size_t)nobj + 1, sizeof *off);
    size_t n = 0;
#define PUT(...) n += (size_t)snprintf(buf + n, cap - n, __VA_ARGS__)
    PUT("%%PDF-1.4\n%%\xe2\xe3\xcf\xd3\n");
    off[1] = (long)n;
    PUT("1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n");
    off[2] = (long)n;
    PUT("2 0 obj\n<< /Type /Pages /Count %d /Kids [", pages);
    for (int p = 0; p < pages; p++)
        PUT(" %d 0 R", 4 + 2 * p);
    PUT(" ] >>\nendobj\n");
    off[3] = (long)n;
    PUT("3 0 obj\n<< /Title (%s) /Author (%s) /Producer (fixture 1.0) /CreationDate "
        "(D:%s120000Z) >>\nendobj\n",
        o->title ? o->title : "Untitled", o->author ? o->author : "Anonymous",
        o->date ? o->date : "20070314");
    for (int p = 0; p < pages; p++) {
        int po = 4 + 2 * p, co = 5 + 2 * p;
        off[po] = (long)n;
        PUT("%d 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents %d 0 R "
            ">>\nendobj\n",
            po, co);
        char text[64];
        int tl = snprintf(text, sizeof text, "BT /F1 12 Tf 72 720 Td (Page %d) Tj ET\n", p + 1);
        off[co] = (long)n;
        PUT("%d 0 obj\n<< /Length %zu >>\nstream\n%s", co, (size_t)tl + filler, text);
        uint32_t x = 88172645u + (uint32_t)p;
        for (size_t i = 0; i < filler; i++) {
            x ^= x << 13, x ^= x >> 17, x ^= x << 5;
            buf[n++] = (char)('!' + x % 90);
        }
        PUT("\nendstream\nendobj\n");
    }
    int enc = 0;
    if (o->encrypted) {
        enc = nobj;
        off[enc] = (long)n;
        PUT("%d 0 obj\n<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O "
            "<0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef> /U "
            "<fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210> >>\nendobj\n",
            enc);
    }
    long xref = (long)n;
    PUT("xref\n0 %d\n0000000000 65535 f \n", nobj + 1);
    for (int i = 1; i <= nobj; i++)
        PUT("%010ld 00000 n \n", off[i]);
    PUT("trailer\n<< /Size %d /Root 1 0 R /Info 3 0 R", nobj + 1);
    if (enc)
        PUT(" /Encrypt %d 0 R /ID [<00112233445566778899aabbccddeeff>"
            "<00112233445566778899aabbccddeeff>]",
            enc);
    PUT(" >>\nstartxref\n%ld\n%%%%EOF\n", xref);
#undef PUT
    fx_write(path, buf, n);
    free(buf);
    free(off);
}

static inline void fx_cbz(const char *path, int images, int comicinfo, int manga)
{
    int err = 0;
    unlink(path);
    zip_t *za = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, &err);
    if (!za)
        abort();
    for (int i = 0; i < images; i++) {
        unsigned char png[256] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
        for (size_t k = 8; k < sizeof png; k++)
            png[k] = (unsigned char)(k * 31 + (size_t)i * 7);
        char name[64];
        snprintf(name, sizeof name, "page%03d.png", i + 1);
        fx_zip_add(za, name, png, sizeof png, 1);
    }
    if (comicinfo) {
        char ci[1024];
        snprintf(ci, sizeof ci,
                 "<?xml version=\"1.0\"?>\n<ComicInfo xmlns:xsd=\"http://www.w3.org/2001/"
                 "XMLSchema\">\n  <Series>The Fixture Saga</Series>\n  <Volume>2</Volume>\n"
                 "  <Number>7</Number>\n  <Year>2019</Year>\n  <Month>11</Month>\n"
                 "  <Writer>Jean Dupont</Writer>\n  <Publisher>Planche Éditions</Publisher>\n"
                 "  <LanguageISO>fr</LanguageISO>\n  <Genre>Adventure</Genre>\n"
                 "  <Manga>%s</Manga>\n</ComicInfo>\n",
                 manga ? "YesAndRightToLeft" : "No");
        fx_zip_add(za, "ComicInfo.xml", ci, strlen(ci), 0);
    }
    if (zip_close(za) < 0)
        abort();
}

enum { FX_MOBI_PLAIN = 0, FX_MOBI_KF8 = 1, FX_MOBI_COMBO = 2 };

struct fx_mobi_opts {
    const char *title, *author, *publisher, *isbn, *date, *language;
    int encryption;     /* the MOBI header's encryption field */
    int kf8;            /* FX_MOBI_* */
    int kf8_encryption; /* the KF8 part's encryption field (combo) */
};

static inline void fx_be16(unsigned char *p, unsigned v)
{
    p[0] = (unsigned char)(v >> 8), p[1] = (unsigned char)v;
}

static inline void fx_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}

/* Record 0: PalmDOC header, MOBI header (232 bytes), EXTH, full name. Returns its length. */
static inline size_t fx_mobi_rec0(unsigned char *r, const struct fx_mobi_opts *o, int version,
                                  int encryption, int32_t kf8_index)
{
    memset(r, 0, 2048);
    fx_be16(r + 0, 1);  /* no compression */
    fx_be32(r + 4, 64); /* text length */
    fx_be16(r + 8, 1);  /* text records */
    fx_be16(r + 10, 4096);
    fx_be16(r + 12, (unsigned)encryption);
    unsigned char *m = r + 16;
    memcpy(m, "MOBI", 4);
    fx_be32(m + 4, 232);
    fx_be32(m + 8, 2);
    fx_be32(m + 12, 65001);
    fx_be32(m + 16, 0x1234);
    fx_be32(m + 20, (uint32_t)version);
    for (int k = 24; k < 64; k += 4)
        fx_be32(m + k, 0xFFFFFFFFu);
    fx_be32(m + 76, 9); /* locale: English */
    fx_be32(m + 112, 0x40);
    size_t p = 16 + 232;
    unsigned char *ex = r + p;
    memcpy(ex, "EXTH", 4);
    size_t q = 12;
    uint32_t count = 0;
    struct {
        uint32_t type;
        const char *v;
    } recs[] = {{100, o->author}, {101, o->publisher}, {104, o->isbn},
                {106, o->date},   {503, o->title},     {524, o->language}};
    for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++) {
        if (!recs[i].v)
            continue;
        size_t len = strlen(recs[i].v);
        fx_be32(ex + q, recs[i].type);
        fx_be32(ex + q + 4, (uint32_t)(8 + len));
        memcpy(ex + q + 8, recs[i].v, len);
        q += 8 + len;
        count++;
    }
    if (kf8_index >= 0) {
        fx_be32(ex + q, 121);
        fx_be32(ex + q + 4, 12);
        fx_be32(ex + q + 8, (uint32_t)kf8_index);
        q += 12;
        count++;
    }
    while (q % 4)
        q++;
    fx_be32(ex + 4, (uint32_t)q);
    fx_be32(ex + 8, count);
    p += q;
    const char *full = o->title ? o->title : "Untitled";
    fx_be32(m + 68, (uint32_t)p);
    fx_be32(m + 72, (uint32_t)strlen(full));
    memcpy(r + p, full, strlen(full));
    p += strlen(full) + 2;
    while (p % 4)
        p++;
    return p;
}

static inline void fx_mobi(const char *path, const struct fx_mobi_opts *o)
{
    unsigned char rec[5][2048];
    size_t len[5];
    int nrec;
    const char *text = "<html><body><p>Once upon a time in a PalmDB.</p></body></html>";
    if (o->kf8 == FX_MOBI_COMBO) {
        nrec = 5;
        len[0] = fx_mobi_rec0(rec[0], o, 6, o->encryption, 3);
        memset(rec[1], 0, 64), memcpy(rec[1], text, strlen(text)), len[1] = 64;
        memcpy(rec[2], "BOUNDARY", 8), len[2] = 8;
        len[3] = fx_mobi_rec0(rec[3], o, 8, o->kf8_encryption, -1);
        memset(rec[4], 0, 64), memcpy(rec[4], text, strlen(text)), len[4] = 64;
    } else {
        nrec = 2;
        len[0] = fx_mobi_rec0(rec[0], o, o->kf8 == FX_MOBI_KF8 ? 8 : 6, o->encryption, -1);
        memset(rec[1], 0, 64), memcpy(rec[1], text, strlen(text)), len[1] = 64;
    }
    unsigned char out[16384];
    memset(out, 0, sizeof out);
    snprintf((char *)out, 32, "%.31s", o->title ? o->title : "Untitled");
    for (int i = 0; i < 31 && out[i]; i++)
        if (out[i] == ' ')
            out[i] = '_';
    memcpy(out + 60, "BOOKMOBI", 8);
    fx_be16(out + 76, (unsigned)nrec);
    size_t at = 78 + 8 * (size_t)nrec + 2;
    for (int i = 0; i < nrec; i++) {
        fx_be32(out + 78 + 8 * i, (uint32_t)at);
        fx_be32(out + 78 + 8 * i + 4, (uint32_t)(2 * i));
        memcpy(out + at, rec[i], len[i]);
        at += len[i];
    }
    fx_write(path, out, at);
}

/* A valid book of each format, written into dir; names[i] receives the paths (512 bytes). */
static inline void fx_default_epub(const char *path)
{
    struct fx_epub_opts o = {
        .title = "Les Misérables", .author = "Victor Hugo", .language = "fr", .date = "1862-04-03"};
    fx_epub(path, &o);
}

#endif
